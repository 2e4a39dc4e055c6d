/* The dashboard's hub without sockets: SSE fan-out to a slow stream that
 * overflows while a message is half sent, throughput, output streams. */
#include "check.h"
#include "hub.h"

#include <string.h>

static void s_publish(qc_hub_t *hub, int i, const char *job_id, int output_only)
{
    cJSON *data = cJSON_CreateObject();
    cJSON_AddNumberToObject(data, "i", i);
    qc_hub_publish(hub, output_only ? "output" : "job", data, job_id, output_only);
    cJSON_Delete(data);
}

/* Reads everything queued (small reads, as a slow client's would be) into
 * out; returns its length. */
static size_t s_drain(qc_hub_stream_t *stream, char *out, size_t cap, size_t chunk)
{
    size_t len = 0;
    for (;;) {
        char buf[65536];
        ssize_t n = qc_hub_stream_read(stream, buf, chunk, 0);
        CHECK(n > 0);
        size_t keepalive = strlen(": keepalive\n\n") < chunk ? strlen(": keepalive\n\n") : chunk;
        if ((size_t)n == keepalive && memcmp(buf, ": keepalive\n\n", keepalive) == 0)
            break; /* nothing queued: an SSE comment (cut to chunk) */
        CHECK(len + (size_t)n < cap);
        memcpy(out + len, buf, (size_t)n);
        len += (size_t)n;
    }
    out[len] = '\0';
    return len;
}

/* Every block of text must be "event: NAME\ndata: JSON-object" (NAME job,
 * resync or hello); counts jobs and resyncs, and the last job's "i".
 * Returns the number of blocks. */
static int s_check_sse(char *text, int *jobs, int *resyncs, int *last_i)
{
    int blocks = 0;
    *jobs = *resyncs = 0;
    for (char *save = NULL, *block = strtok_r(text, "\n", &save); block;
         block = strtok_r(NULL, "\n", &save)) {
        if (strncmp(block, "retry: ", 7) == 0)
            continue;
        CHECK(strncmp(block, "event: ", 7) == 0);
        const char *name = block + 7;
        char *data = strtok_r(NULL, "\n", &save);
        CHECK(data && strncmp(data, "data: {", 7) == 0);
        cJSON *json = cJSON_Parse(data + 6);
        CHECK(json && cJSON_IsObject(json));
        if (strcmp(name, "job") == 0) {
            (*jobs)++;
            const cJSON *i = cJSON_GetObjectItem(json, "i");
            *last_i = i ? i->valueint : -1;
        } else if (strcmp(name, "resync") == 0) {
            (*resyncs)++;
        } else {
            CHECK(strcmp(name, "hello") == 0);
        }
        cJSON_Delete(json);
        blocks++;
    }
    return blocks;
}

static char s_text[64 * 1024 * 1024];

/* A slow stream overflows while the reader is half-way through a message:
 * that message is finished (not resent from its start), a resync follows,
 * and the queue's counters stay right, so later messages flow again. */
static void test_overflow_mid_message(void)
{
    qc_hub_t *hub = qc_hub_new();
    CHECK(hub);
    qc_hub_stream_t *stream = qc_hub_stream_open(hub, NULL);
    CHECK(stream);
    size_t len = s_drain(stream, s_text, sizeof s_text, 4096); /* hello */
    s_publish(hub, 0, NULL, 0);
    char head[16];
    CHECK(qc_hub_stream_read(stream, head, 10, 0) == 10); /* half of message 0 goes out */
    memcpy(s_text + len, head, 10);
    len += 10;
    for (int i = 1; i <= QC_HUB_STREAM_MAX_QUEUED + 10; i++) /* the client stops reading */
        s_publish(hub, i, NULL, 0);
    len += s_drain(stream, s_text + len, sizeof s_text - len, 7);
    int jobs, resyncs, last = -1;
    CHECK(s_check_sse(s_text, &jobs, &resyncs, &last) > 0);
    CHECK(resyncs == 1);
    CHECK(last == QC_HUB_STREAM_MAX_QUEUED + 10);
    /* the stream works normally afterwards: no second resync */
    for (int round = 0; round < 3; round++) {
        s_publish(hub, 100000 + round, NULL, 0);
        len = s_drain(stream, s_text, sizeof s_text, 4096);
        CHECK(s_check_sse(s_text, &jobs, &resyncs, &last) == 1);
        CHECK(jobs == 1 && resyncs == 0 && last == 100000 + round);
    }
    qc_hub_stream_close(&stream);
    CHECK(stream == NULL);
    qc_hub_destroy(&hub);
    CHECK(hub == NULL);
}

/* Overflow by bytes, with nothing half sent, and twice in a row. */
static void test_overflow_by_bytes(void)
{
    qc_hub_t *hub = qc_hub_new();
    qc_hub_stream_t *stream = qc_hub_stream_open(hub, NULL);
    s_drain(stream, s_text, sizeof s_text, 65536);
    cJSON *big = cJSON_CreateObject();
    static char blob[600 * 1024];
    memset(blob, 'x', sizeof blob - 1);
    cJSON_AddStringToObject(big, "blob", blob);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 20; i++) /* 12 MB: over the 4 MiB bound */
            qc_hub_publish(hub, "job", big, NULL, 0);
        s_publish(hub, 7, NULL, 0);
        s_drain(stream, s_text, sizeof s_text, 65536);
        int jobs, resyncs, last = -1;
        s_check_sse(s_text, &jobs, &resyncs, &last);
        CHECK(resyncs >= 1 && last == 7);
    }
    cJSON_Delete(big);
    qc_hub_stream_close(&stream);
    qc_hub_destroy(&hub);
}

/* Output streams get only their job's output; main streams never do. */
static void test_output_streams(void)
{
    qc_hub_t *hub = qc_hub_new();
    qc_hub_stream_t *main_stream = qc_hub_stream_open(hub, NULL);
    qc_hub_stream_t *one = qc_hub_stream_open(hub, "build");
    qc_hub_stream_t *two = qc_hub_stream_open(hub, "build-2");
    CHECK(qc_hub_main_streams(hub) == 1);
    s_drain(main_stream, s_text, sizeof s_text, 4096);
    s_drain(one, s_text, sizeof s_text, 4096);
    s_drain(two, s_text, sizeof s_text, 4096);
    s_publish(hub, 1, "build", 1);
    s_drain(main_stream, s_text, sizeof s_text, 4096);
    CHECK(s_text[0] == '\0');
    s_drain(two, s_text, sizeof s_text, 4096);
    CHECK(s_text[0] == '\0');
    s_drain(one, s_text, sizeof s_text, 4096);
    CHECK(strstr(s_text, "event: output\ndata: {\"i\":1}\n\n") == s_text);
    qc_hub_stream_close(&two);
    qc_hub_stop(hub);
    char buf[64];
    CHECK(qc_hub_stream_read(one, buf, sizeof buf, 0) == -1);
    CHECK(qc_hub_stream_open(hub, NULL) == NULL);
    qc_hub_stream_close(&one);
    qc_hub_stream_close(&main_stream);
    qc_hub_destroy(&hub);
}

/* A running job's output is kept: a stream opened late starts with it. */
static void test_output_tail(void)
{
    qc_hub_t *hub = qc_hub_new();
    qc_hub_output(hub, "long", 1, "stdout", "tick 1\n");
    qc_hub_output(hub, "long", 1, "stderr", "warn\n");
    qc_hub_output(hub, "long", 1, "stdout", "tick 2\n");
    qc_hub_stream_t *late = qc_hub_stream_open(hub, "long");
    qc_hub_output(hub, "long", 1, "stdout", "tick 3\n");
    s_drain(late, s_text, sizeof s_text, 4096);
    const char *out = strstr(s_text, "event: output\ndata: ");
    CHECK(out && strstr(out, "\"data\":\"tick 1\\ntick 2\\n\",\"replay\":true"));
    CHECK(strstr(out, "\"stream\":\"stderr\",\"data\":\"warn\\n\",\"replay\":true"));
    const char *live = strstr(out, "tick 3");
    CHECK(live && !strstr(live, "replay") && !strstr(live + 1, "tick 3")); /* once, live */
    qc_hub_stream_close(&late);
    /* a new attempt starts afresh; a tail keeps only its last 64 KiB */
    qc_hub_output(hub, "long", 2, "stdout", "second run\n");
    static char big[QC_HUB_TAIL_BYTES + 100];
    memset(big, 'y', sizeof big - 1);
    big[0] = 'S';
    qc_hub_output(hub, "long", 2, "stdout", big);
    qc_hub_stream_t *again = qc_hub_stream_open(hub, "long");
    s_drain(again, s_text, sizeof s_text, 1 << 16);
    CHECK(!strstr(s_text, "tick") && !strstr(s_text, "second run") && !strstr(s_text, "S"));
    CHECK(strstr(s_text, "yyyy"));
    qc_hub_stream_close(&again);
    /* a finished job's output is forgotten */
    qc_hub_output_forget(hub, "long");
    again = qc_hub_stream_open(hub, "long");
    s_drain(again, s_text, sizeof s_text, 4096);
    CHECK(!strstr(s_text, "event: output"));
    qc_hub_stream_close(&again);
    /* more jobs than kept: the least recently written goes */
    char id[32];
    for (int i = 0; i <= QC_HUB_TAIL_JOBS; i++) {
        snprintf(id, sizeof id, "job-%d", i);
        qc_hub_output(hub, id, 1, "stdout", id);
    }
    qc_hub_stream_t *first = qc_hub_stream_open(hub, "job-0");
    qc_hub_stream_t *last = qc_hub_stream_open(hub, id);
    s_drain(first, s_text, sizeof s_text, 4096);
    CHECK(!strstr(s_text, "event: output"));
    s_drain(last, s_text, sizeof s_text, 4096);
    CHECK(strstr(s_text, id));
    qc_hub_stream_close(&first);
    qc_hub_stream_close(&last);
    qc_hub_destroy(&hub);
}

static void test_throughput(void)
{
    qc_hub_t *hub = qc_hub_new();
    qc_hub_tp_add(hub, 1000, 3, 1);
    qc_hub_tp_add(hub, 1000, 2, 0);
    int c, f;
    qc_hub_tp_get(hub, 1000, &c, &f);
    CHECK(c == 5 && f == 1);
    qc_hub_tp_add(hub, 1000 + QC_HUB_TP_SECONDS, 1, 0); /* 600 s later: the slot is reused */
    qc_hub_tp_get(hub, 1000, &c, &f);
    CHECK(c == 0 && f == 0);
    qc_hub_tp_add(hub, 1001, 4, 2);
    qc_hub_tp_get(hub, 1001, &c, &f);
    CHECK(c == 4 && f == 2);
    cJSON *tp = qc_hub_throughput(hub, 1001);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(tp, "completed")) == QC_HUB_TP_SECONDS);
    CHECK(
        cJSON_GetArrayItem(cJSON_GetObjectItem(tp, "completed"), QC_HUB_TP_SECONDS - 1)->valueint ==
        4);
    cJSON_Delete(tp);
    qc_hub_destroy(&hub);
}

int main(void)
{
    test_overflow_mid_message();
    test_overflow_by_bytes();
    test_output_streams();
    test_output_tail();
    test_throughput();
    return 0;
}
