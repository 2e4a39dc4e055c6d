/* Unit tests of remote access without sockets (enroll.c): a broker object
 * over a real SQLite store and a temporary authorized/ directory, on a fake
 * clock. Requests go straight to the handlers with a peer as the server
 * would describe it; what the broker would send is read from its outbox.
 * Covers invite (refusals, the token), enroll (a guest, an enrolled key,
 * used up, expired, names made unique), keys.list, keys.revoke (a
 * registered worker dropped at once and told DENIED, its job lost) and the
 * ops kept to the broker's machine. */
#include "broker.h"
#include "check.h"
#include "fake_clock.h"
#include "ctlcmd.h"
#include "enroll.h"
#include "invites.h"
#include "keyring.h"
#include "wrkcmd.h"
#include "queuectl/join.h"
#include "queuectl/proto.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[32], s_authorized[64];

/* A request's reply through the client op table, as from peer. */
static cJSON *s_call(qc_broker_t *broker, const qc_peer_t *peer, const char *text)
{
    return qc_ctlcmd_handle(broker, text, strlen(text), 1, peer);
}

static int s_ok(const cJSON *reply)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
}

static const char *s_code(const cJSON *reply)
{
    return qc_json_string(cJSON_GetObjectItemCaseSensitive(reply, "error"), "code");
}

/* An invite's token, decoded. */
static void s_invite(qc_broker_t *broker, const char *request, qc_token_t *token)
{
    cJSON *reply = s_call(broker, NULL, request);
    CHECK(s_ok(reply));
    char err[256];
    CHECK(qc_token_decode(qc_json_string(reply, "token"), token, err, sizeof err) == 0);
    cJSON_Delete(reply);
}

/* enroll {invite, secret, name} from a key (enrolled or a guest). */
static cJSON *s_enroll(qc_broker_t *broker, const char *role, const char *key, int enrolled,
                       const qc_token_t *token, const char *name)
{
    qc_peer_t peer = {key, "10.0.0.9", enrolled};
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "invite", token->invite);
    cJSON_AddStringToObject(request, "secret", token->secret);
    cJSON_AddStringToObject(request, "name", name);
    cJSON *reply = qc_enroll_handle(broker, role, &peer, request);
    cJSON_Delete(request);
    return reply;
}

static int s_file_exists(const char *role_dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s/%s.cert", s_authorized, role_dir, name);
    return access(path, F_OK) == 0;
}

int main(void)
{
    char path[96], err[256];
    snprintf(s_dir, sizeof s_dir, "/tmp/qc-enroll-XXXXXX");
    CHECK(mkdtemp(s_dir) != NULL);
    snprintf(path, sizeof path, "%s/q.db", s_dir);
    qc_store_t *store = qc_store_open(path, 0, err, sizeof err);
    CHECK(store);
    qc_broker_t *broker = qc_broker_new(store, &s_clock);
    CHECK(broker);
    snprintf(s_authorized, sizeof s_authorized, "%s/authorized", s_dir);
    broker->authorized_dir = s_authorized;
    broker->worker_endpoint = "ipc:///tmp/none/worker.sock";
    broker->client_endpoint = "ipc:///tmp/none/client.sock";

    /* No CURVE, no tcp endpoint: no invite. */
    cJSON *reply = s_call(broker, NULL, "{\"op\":\"invite\",\"role\":\"worker\"}");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_CONFLICT) == 0);
    cJSON_Delete(reply);

    /* A broker with CURVE on a wildcard tcp worker endpoint. */
    zcert_t *broker_cert = zcert_new();
    snprintf(broker->public_key, sizeof broker->public_key, "%s", zcert_public_txt(broker_cert));
    zcert_destroy(&broker_cert);
    snprintf(path, sizeof path, "%s/workers", s_authorized);
    zsys_dir_create("%s", path);
    broker->worker_keys = qc_keyring_new(path);
    snprintf(path, sizeof path, "%s/clients", s_authorized);
    zsys_dir_create("%s", path);
    broker->client_keys = qc_keyring_new(path);
    broker->worker_endpoint = "tcp://0.0.0.0:5556";
    snprintf(path, sizeof path, "%s/invites.json", s_authorized);
    broker->invites = qc_invites_new(path);
    /* Clients stay on ipc: no client invite. */
    reply = s_call(broker, NULL, "{\"op\":\"invite\",\"role\":\"client\"}");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_CONFLICT) == 0);
    cJSON_Delete(reply);
    reply = s_call(broker, NULL, "{\"op\":\"invite\",\"role\":\"worker\",\"uses\":0}");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_BAD_REQUEST) == 0);
    cJSON_Delete(reply);
    reply = s_call(broker, NULL, "{\"op\":\"invite\",\"role\":\"worker\",\"address\":\"a b\"}");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_BAD_REQUEST) == 0);
    cJSON_Delete(reply);

    /* The token: the wildcard replaced by --address, the broker's key. */
    qc_token_t token;
    s_invite(broker,
             "{\"op\":\"invite\",\"role\":\"worker\",\"uses\":2,\"ttl_s\":60,"
             "\"address\":\"q.example\"}",
             &token);
    CHECK(strcmp(token.role, "worker") == 0);
    CHECK(strcmp(token.endpoint, "tcp://q.example:5556") == 0);
    CHECK(strcmp(token.key, broker->public_key) == 0);

    /* Only the broker's machine invites: a CURVE key (even enrolled) may not. */
    zcert_t *a = zcert_new(), *b = zcert_new(), *c = zcert_new();
    const char *key_a = zcert_public_txt(a), *key_b = zcert_public_txt(b);
    const char *key_c = zcert_public_txt(c);
    qc_peer_t remote = {key_a, "10.0.0.9", 1};
    reply = s_call(broker, &remote, "{\"op\":\"invite\",\"role\":\"worker\"}");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_FORBIDDEN) == 0);
    cJSON_Delete(reply);
    /* A guest on the client socket may do nothing but enroll. */
    qc_peer_t guest = {key_a, "10.0.0.9", 0};
    reply = s_call(broker, &guest, "{\"op\":\"status\"}");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_FORBIDDEN) == 0);
    cJSON_Delete(reply);

    /* Two guests enroll under one name: w, then w-2; the keyring knows them. */
    reply = s_enroll(broker, "worker", key_a, 0, &token, "w");
    CHECK(s_ok(reply) && strcmp(qc_json_string(reply, "name"), "w") == 0);
    cJSON_Delete(reply);
    CHECK(qc_keyring_has(broker->worker_keys, key_a));
    reply = s_enroll(broker, "worker", key_b, 0, &token, "w");
    CHECK(s_ok(reply) && strcmp(qc_json_string(reply, "name"), "w-2") == 0);
    cJSON_Delete(reply);
    CHECK(s_file_exists("workers", "w") && s_file_exists("workers", "w-2"));
    /* An enrolled key asking again: ok, already, no use taken. */
    reply = s_enroll(broker, "worker", key_a, 1, &token, "other");
    CHECK(s_ok(reply) && strcmp(qc_json_string(reply, "name"), "w") == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "already")));
    cJSON_Delete(reply);
    /* Used up (two uses); a worker token is no good on the client socket. */
    reply = s_enroll(broker, "worker", key_c, 0, &token, "w");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_INVITE_USED) == 0);
    cJSON_Delete(reply);
    reply = s_enroll(broker, "client", key_c, 0, &token, "w");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_INVITE_INVALID) == 0);
    cJSON_Delete(reply);

    /* Expired: the fake clock passes the ttl. */
    qc_token_t late;
    s_invite(broker, "{\"op\":\"invite\",\"role\":\"worker\",\"ttl_s\":60}", &late);
    s_advance(60 * 1000);
    reply = s_enroll(broker, "worker", key_c, 0, &late, "late");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_INVITE_EXPIRED) == 0);
    cJSON_Delete(reply);
    CHECK(!s_file_exists("workers", "late"));

    /* keys.list: role, name, key, when, which invite. */
    reply = s_call(broker, &remote, "{\"op\":\"keys.list\"}");
    CHECK(s_ok(reply));
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(reply, "keys");
    CHECK(cJSON_GetArraySize(keys) == 2);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, keys)
    {
        CHECK(strcmp(qc_json_string(entry, "role"), "worker") == 0);
        CHECK(strcmp(qc_json_string(entry, "invite"), token.invite) == 0);
        CHECK(strncmp(qc_json_string(entry, "enrolled_at"), "2027-", 5) == 0);
    }
    cJSON_Delete(reply);

    /* keys.revoke: w's registered worker is told DENIED and dropped at once,
     * the job it held lost; the key is gone from the keyring. */
    CHECK(qc_store_begin(store) == 0);
    reply =
        s_call(broker, NULL, "{\"op\":\"enqueue\",\"job\":{\"id\":\"j\",\"command\":\"true\"}}");
    CHECK(s_ok(reply));
    cJSON_Delete(reply);
    CHECK(qc_store_commit(store) == 0);
    zmsg_t *hello = zmsg_new();
    zmsg_addstr(hello, QC_WORKER_HEADER);
    zmsg_addstr(hello, QC_W_HELLO);
    zmsg_addstr(hello, "{\"worker_id\":\"w\",\"instance\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
                       "\"host\":\"h\",\"pid\":1,\"slots\":1,\"running\":[],\"finished\":[]}");
    zframe_t *conn = zframe_new("A", 1);
    CHECK(qc_store_begin(store) == 0);
    qc_wrkcmd_handle(broker, conn, key_a, hello);
    qc_wrkcmd_dispatch(broker, qc_broker_wall_ms(broker));
    CHECK(qc_store_commit(store) == 0);
    zmsg_destroy(&hello);
    /* Its shell started: losing it now is charged (worker_lost). */
    zmsg_t *started = zmsg_new();
    zmsg_addstr(started, QC_WORKER_HEADER);
    zmsg_addstr(started, QC_W_STARTED);
    zmsg_addstrf(started, "{\"id\":\"j\",\"attempt\":1,\"started_at_ms\":%lld}",
                 (long long)s_now.wall_ms);
    CHECK(qc_store_begin(store) == 0);
    qc_wrkcmd_handle(broker, conn, key_a, started);
    CHECK(qc_store_commit(store) == 0);
    zmsg_destroy(&started);
    CHECK(qc_dispatch_size(broker->dispatch) == 1);
    cJSON *job = NULL;
    CHECK(qc_store_job_get(store, "j", 0, &job) == 0);
    CHECK(job && strcmp(qc_json_string(job, "state"), "processing") == 0);
    qc_outbox_purge(broker->outbox);

    reply = s_call(broker, &remote, "{\"op\":\"keys.revoke\",\"name\":\"w\"}");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_FORBIDDEN) == 0); /* not from afar */
    cJSON_Delete(reply);
    CHECK(qc_store_begin(store) == 0);
    reply = s_call(broker, NULL, "{\"op\":\"keys.revoke\",\"name\":\"w\"}");
    CHECK(qc_store_commit(store) == 0);
    CHECK(s_ok(reply));
    int64_t n = -1;
    CHECK(qc_json_int(reply, "workers_dropped", &n) == 0 && n == 1);
    CHECK(strcmp(qc_json_string(reply, "key"), key_a) == 0);
    cJSON_Delete(reply);
    CHECK(qc_dispatch_size(broker->dispatch) == 0);
    CHECK(!s_file_exists("workers", "w") && s_file_exists("workers", "w-2"));
    CHECK(!qc_keyring_has(broker->worker_keys, key_a));
    CHECK(qc_keyring_has(broker->worker_keys, key_b));
    cJSON_Delete(job);
    job = NULL;
    CHECK(qc_store_job_get(store, "j", 1, &job) == 0);
    CHECK(job && strcmp(qc_json_string(job, "state"), "processing") != 0);
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(job, "attempts_log");
    CHECK(strcmp(qc_json_string(cJSON_GetArrayItem(log, 0), "outcome"), "worker_lost") == 0);
    cJSON_Delete(job);
    int denied = 0;
    qc_out_to_t to;
    for (zmsg_t *msg = qc_outbox_first(broker->outbox, &to, NULL); msg;
         msg = qc_outbox_next(broker->outbox, &to, NULL)) {
        zframe_t *routing_id = zmsg_first(msg);
        zmsg_next(msg);
        if (to == QC_OUT_TO_WORKER && zframe_streq(routing_id, "A") &&
            zframe_streq(zmsg_next(msg), QC_B_DENIED))
            denied++;
    }
    CHECK(denied == 1);
    reply = s_call(broker, NULL, "{\"op\":\"keys.revoke\",\"name\":\"w\"}");
    CHECK(!s_ok(reply) && strcmp(s_code(reply), QC_E_NOT_FOUND) == 0);
    cJSON_Delete(reply);

    zframe_destroy(&conn);
    zcert_destroy(&a);
    zcert_destroy(&b);
    zcert_destroy(&c);
    /* The keyrings and the invite book are the loop's, not the broker's. */
    qc_keyring_destroy(&broker->worker_keys);
    qc_keyring_destroy(&broker->client_keys);
    qc_invites_destroy(&broker->invites);
    qc_broker_destroy(&broker);
    qc_store_destroy(&store);
    char command[64];
    snprintf(command, sizeof command, "rm -rf %s", s_dir);
    CHECK(system(command) == 0);
    printf("enroll: ok\n");
    return 0;
}
