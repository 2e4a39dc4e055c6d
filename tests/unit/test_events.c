/* Unit tests: who listens to events (the XPUB subscription set), and the
 * libzmq behaviour it relies on: a prefix is reported when its first
 * subscriber comes and when its last one goes, disconnecting included. */
#include "check.h"
#include "events.h"

#include <czmq.h>
#include <string.h>

static void s_apply(qc_events_subs_t *subs, int on, const char *prefix)
{
    char msg[256];
    msg[0] = (char)on;
    memcpy(msg + 1, prefix, strlen(prefix));
    qc_events_subs_apply(subs, msg, strlen(prefix) + 1);
}

/* Reads every subscription message the XPUB has into subs; the count read. */
static int s_drain(zsock_t *xpub, qc_events_subs_t *subs, int timeout_ms)
{
    int got = 0;
    zmq_pollitem_t item = {zsock_resolve(xpub), 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&item, 1, got ? 0 : timeout_ms) > 0) {
        zframe_t *frame = zframe_recv(xpub);
        if (!frame)
            break;
        qc_events_subs_apply(subs, zframe_data(frame), zframe_size(frame));
        zframe_destroy(&frame);
        got++;
    }
    return got;
}

int main(void)
{
    qc_events_subs_t *subs = qc_events_subs_new();
    CHECK(subs);
    CHECK(!qc_events_subs_match(subs, "job.pending")); /* nobody */
    s_apply(subs, 1, "job.completed");
    CHECK(qc_events_subs_match(subs, "job.completed"));
    CHECK(!qc_events_subs_match(subs, "job.pending"));
    CHECK(!qc_events_subs_match(subs, "job.")); /* a prefix of the topic, not of the subscription */
    s_apply(subs, 1, "job.");
    CHECK(qc_events_subs_match(subs, "job.pending"));
    CHECK(!qc_events_subs_match(subs, "worker.joined"));
    s_apply(subs, 1, "job."); /* counted: one unsubscribe leaves one */
    s_apply(subs, 0, "job.");
    CHECK(qc_events_subs_match(subs, "job.pending"));
    s_apply(subs, 0, "job.");
    CHECK(!qc_events_subs_match(subs, "job.pending"));
    CHECK(qc_events_subs_match(subs, "job.completed"));
    s_apply(subs, 0, "job.completed");
    s_apply(subs, 0, "job.completed"); /* more unsubscribes than subscribes: ignored */
    CHECK(qc_events_subs_size(subs) == 0);
    s_apply(subs, 1, ""); /* everything */
    CHECK(qc_events_subs_match(subs, "output.j-1"));
    s_apply(subs, 0, "");
    CHECK(!qc_events_subs_match(subs, "output.j-1"));
    qc_events_subs_apply(subs, "\x02job.", 5); /* not a subscription */
    qc_events_subs_apply(subs, "", 0);
    qc_events_subs_apply(subs, "\x01jo\0b", 5); /* a NUL: matches no topic, not kept */
    CHECK(qc_events_subs_size(subs) == 0);
    char longer[400];
    memset(longer, 'x', sizeof longer);
    longer[0] = 1;
    qc_events_subs_apply(subs, longer, sizeof longer); /* longer than any topic */
    CHECK(qc_events_subs_size(subs) == 0);

    /* What libzmq's XPUB reports, as the broker reads it. */
    zsock_t *xpub = zsock_new(ZMQ_XPUB);
    CHECK(xpub && zsock_bind(xpub, "inproc://events-test") == 0);
    zsock_t *sub1 = zsock_new(ZMQ_SUB), *sub2 = zsock_new(ZMQ_SUB);
    CHECK(sub1 && sub2);
    zsock_set_subscribe(sub1, "job.");
    zsock_set_subscribe(sub1, "output.j-1");
    CHECK(zsock_connect(sub1, "inproc://events-test") == 0);
    CHECK(s_drain(xpub, subs, 2000) == 2);
    CHECK(qc_events_subs_match(subs, "job.dead") && qc_events_subs_match(subs, "output.j-1"));
    CHECK(!qc_events_subs_match(subs, "worker.lost"));
    zsock_set_subscribe(sub2, "job.");
    CHECK(zsock_connect(sub2, "inproc://events-test") == 0);
    s_drain(xpub, subs, 200); /* a second "job." is not reported again */
    zsock_destroy(&sub1);     /* its prefixes go, except the one sub2 still holds */
    s_drain(xpub, subs, 2000);
    CHECK(qc_events_subs_match(subs, "job.dead"));
    CHECK(!qc_events_subs_match(subs, "output.j-1"));
    zsock_destroy(&sub2);
    s_drain(xpub, subs, 2000);
    CHECK(!qc_events_subs_match(subs, "job.dead"));
    CHECK(qc_events_subs_size(subs) == 0);
    zsock_destroy(&xpub);
    qc_events_subs_destroy(&subs);
    CHECK(subs == NULL);
    qc_events_subs_destroy(NULL);
    printf("events: ok\n");
    return 0;
}
