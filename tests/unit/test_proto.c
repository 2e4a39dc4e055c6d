/* Unit test of the worker-protocol codec (common/proto.c): every message
 * both ways survives encode then decode with the same fields; malformed
 * frames are refused (-2); a known command with a bad body decodes with
 * valid = 0 and the reason. */
#include "check.h"
#include "queuectl/proto.h"

#include <stdarg.h>
#include <string.h>

/* Encodes msg, checks the framing, decodes it back into out. */
static void s_round_trip(const qc_wmsg_t *msg, qc_wmsg_t *out)
{
    char err[256];
    zmsg_t *frames = qc_wmsg_encode(msg);
    CHECK(frames != NULL);
    CHECK(zframe_streq(zmsg_first(frames), QC_WORKER_HEADER));
    CHECK(zframe_streq(zmsg_next(frames), qc_wmsg_command(msg->type)));
    CHECK(qc_wmsg_decode(frames, out, err, sizeof err) == 0);
    CHECK(out->type == msg->type);
    if (!out->valid)
        fprintf(stderr, "%s: %s\n", qc_wmsg_command(msg->type), out->error);
    CHECK(out->valid);
    zmsg_destroy(&frames);
}

static void s_check_run(const qc_wmsg_run_t *a, const qc_wmsg_run_t *b)
{
    CHECK(a->id && b->id && strcmp(a->id, b->id) == 0 && a->attempt == b->attempt);
}

static void test_bare(void)
{
    qc_wmsg_type_t bare[] = {QC_WMSG_STOPPING, QC_WMSG_BYE, QC_WMSG_HEARTBEAT, QC_WMSG_STOP,
                             QC_WMSG_RESET};
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        qc_wmsg_t out;
        zmsg_t *frames = qc_wmsg_encode(&(qc_wmsg_t){.type = bare[i]});
        CHECK(zmsg_size(frames) == 2); /* no body frame */
        zmsg_destroy(&frames);
        s_round_trip(&(qc_wmsg_t){.type = bare[i]}, &out);
        CHECK(out.body == NULL);
        qc_wmsg_clear(&out);
    }
}

static void test_hello(void)
{
    qc_wmsg_run_t running[] = {{"a", 1}, {"b", 7}};
    qc_wmsg_run_t finished[] = {{"c", 3}};
    qc_wmsg_t in = {.type = QC_WMSG_HELLO,
                    .hello = {.worker_id = "w1",
                              .instance = "0123456789abcdef0123456789abcdef",
                              .host = "h",
                              .version = "9.9",
                              .pid = 42,
                              .slots = 2,
                              .stopping = 1,
                              .running = running,
                              .running_count = 2,
                              .finished = finished,
                              .finished_count = 1}};
    qc_wmsg_t out;
    s_round_trip(&in, &out);
    CHECK(strcmp(out.hello.worker_id, "w1") == 0);
    CHECK(strcmp(out.hello.instance, in.hello.instance) == 0);
    CHECK(strcmp(out.hello.host, "h") == 0 && strcmp(out.hello.version, "9.9") == 0);
    CHECK(out.hello.pid == 42 && out.hello.slots == 2 && out.hello.stopping == 1);
    CHECK(out.hello.running_count == 2 && out.hello.finished_count == 1);
    s_check_run(&out.hello.running[0], &running[0]);
    s_check_run(&out.hello.running[1], &running[1]);
    s_check_run(&out.hello.finished[0], &finished[0]);
    qc_wmsg_clear(&out);
    CHECK(out.body == NULL && out.type == QC_WMSG_UNKNOWN);

    /* Not stopping, no runs: the lists are empty arrays, stopping absent. */
    in.hello.stopping = 0;
    in.hello.running_count = in.hello.finished_count = 0;
    s_round_trip(&in, &out);
    CHECK(!out.hello.stopping && out.hello.running_count == 0 && out.hello.finished_count == 0);
    CHECK(cJSON_GetObjectItem(out.body, "stopping") == NULL);
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(out.body, "running")));
    qc_wmsg_clear(&out);

    /* More running than slots is refused, with the reason. */
    in.hello.slots = 1;
    in.hello.running_count = 2;
    zmsg_t *frames = qc_wmsg_encode(&in);
    char err[128];
    CHECK(qc_wmsg_decode(frames, &out, err, sizeof err) == 0);
    CHECK(!out.valid && strcmp(out.error, "running lists more jobs than slots") == 0);
    qc_wmsg_clear(&out);
    zmsg_destroy(&frames);

    /* The queues a worker serves, in order; a bad list is refused. */
    in.hello.slots = 2;
    in.hello.running_count = 0;
    in.hello.queues = "urgent,default";
    s_round_trip(&in, &out);
    CHECK(out.hello.queues && strcmp(out.hello.queues, "urgent,default") == 0);
    qc_wmsg_clear(&out);
    in.hello.queues = NULL;
    s_round_trip(&in, &out);
    CHECK(out.hello.queues == NULL);
    qc_wmsg_clear(&out);
    in.hello.queues = "a,a";
    frames = qc_wmsg_encode(&in);
    CHECK(qc_wmsg_decode(frames, &out, err, sizeof err) == 0);
    CHECK(!out.valid && strstr(out.error, "listed twice"));
    qc_wmsg_clear(&out);
    zmsg_destroy(&frames);
}

static void test_runs(void)
{
    qc_wmsg_t out;
    s_round_trip(&(qc_wmsg_t){.type = QC_WMSG_STARTED, .run = {"j", 2}, .started = {1234567}},
                 &out);
    s_check_run(&out.run, &(qc_wmsg_run_t){"j", 2});
    CHECK(out.started.started_at_ms == 1234567);
    qc_wmsg_clear(&out);

    s_round_trip(&(qc_wmsg_t){.type = QC_WMSG_OUTPUT,
                              .run = {"j", 2},
                              .output = {.stream = "stderr", .data = "oops\n"}},
                 &out);
    s_check_run(&out.run, &(qc_wmsg_run_t){"j", 2});
    CHECK(strcmp(out.output.stream, "stderr") == 0 && strcmp(out.output.data, "oops\n") == 0);
    qc_wmsg_clear(&out);

    s_round_trip(&(qc_wmsg_t){.type = QC_WMSG_JOB,
                              .run = {"j", 3},
                              .job = {.command = "echo hi", .timeout_s = 30}},
                 &out);
    s_check_run(&out.run, &(qc_wmsg_run_t){"j", 3});
    CHECK(strcmp(out.job.command, "echo hi") == 0 && out.job.timeout_s == 30);
    CHECK(!out.job.env && !out.job.cwd && !out.job.queue && !out.job.refusal);
    qc_wmsg_clear(&out);

    /* env, cwd, queue; a bad one refuses the run (refusal), not the message */
    cJSON *env = cJSON_Parse("{\"A\":\"1\"}");
    s_round_trip(
        &(qc_wmsg_t){
            .type = QC_WMSG_JOB,
            .run = {"j", 4},
            .job = {.command = "x", .timeout_s = 5, .env = env, .cwd = "/tmp", .queue = "mail"}},
        &out);
    CHECK(strcmp(qc_json_string(out.job.env, "A"), "1") == 0);
    CHECK(strcmp(out.job.cwd, "/tmp") == 0 && strcmp(out.job.queue, "mail") == 0);
    CHECK(!out.job.refusal);
    qc_wmsg_clear(&out);
    cJSON_Delete(env);
    env = cJSON_Parse("{\"QUEUECTL_JOB_ID\":\"x\"}");
    s_round_trip(&(qc_wmsg_t){.type = QC_WMSG_JOB,
                              .run = {"j", 5},
                              .job = {.command = "x", .timeout_s = 5, .env = env}},
                 &out);
    CHECK(out.job.refusal && strcmp(out.job.refusal, "invalid JOB: bad env") == 0);
    qc_wmsg_clear(&out);
    cJSON_Delete(env);
    s_round_trip(&(qc_wmsg_t){.type = QC_WMSG_JOB,
                              .run = {"j", 6},
                              .job = {.command = "x", .timeout_s = 5, .cwd = "relative"}},
                 &out);
    CHECK(out.job.refusal && strcmp(out.job.refusal, "invalid JOB: bad cwd") == 0);
    qc_wmsg_clear(&out);

    qc_wmsg_type_t plain[] = {QC_WMSG_ACK, QC_WMSG_CANCEL};
    for (int i = 0; i < 2; i++) {
        s_round_trip(&(qc_wmsg_t){.type = plain[i], .run = {"k", 9}}, &out);
        s_check_run(&out.run, &(qc_wmsg_run_t){"k", 9});
        qc_wmsg_clear(&out);
    }

    s_round_trip(
        &(qc_wmsg_t){.type = QC_WMSG_WELCOME,
                     .welcome = {.worker_id = "w1.2", .heartbeat_ms = 1000, .liveness_ms = 3000}},
        &out);
    CHECK(strcmp(out.welcome.worker_id, "w1.2") == 0);
    CHECK(out.welcome.has_heartbeat_ms && out.welcome.heartbeat_ms == 1000);
    CHECK(out.welcome.has_liveness_ms && out.welcome.liveness_ms == 3000);
    qc_wmsg_clear(&out);
}

static void test_result(void)
{
    qc_result_t result;
    qc_result_init(&result);
    strcpy(result.id, "job1");
    result.attempt = 2;
    result.outcome = QC_OUTCOME_TIMED_OUT;
    result.signal = 15;
    result.started_at_ms = 100;
    result.finished_at_ms = 250;
    result.cpu_ms = 7;
    result.max_rss_kb = 1024;
    strcpy(result.error, "timed out after 1s");
    result.stdout_tail = strdup("out");
    qc_wmsg_t out;
    s_round_trip(&(qc_wmsg_t){.type = QC_WMSG_RESULT, .result = result}, &out);
    const qc_result_t *r = &out.result;
    CHECK(strcmp(r->id, "job1") == 0 && r->attempt == 2);
    CHECK(r->outcome == QC_OUTCOME_TIMED_OUT && r->signal == 15 && r->exit_code == -1);
    CHECK(r->started_at_ms == 100 && r->finished_at_ms == 250 && r->cpu_ms == 7 &&
          r->max_rss_kb == 1024);
    CHECK(strcmp(r->error, "timed out after 1s") == 0);
    CHECK(strcmp(r->stdout_tail, "out") == 0 && strcmp(r->stderr_tail, "") == 0);
    qc_wmsg_clear(&out);
    qc_result_clear(&result);
}

/* Frames from strings (NULL ends the list). */
static zmsg_t *s_frames(const char *first, ...)
{
    zmsg_t *frames = zmsg_new();
    va_list args;
    va_start(args, first);
    for (const char *s = first; s; s = va_arg(args, const char *))
        zmsg_addstr(frames, s);
    va_end(args);
    return frames;
}

static void test_malformed(void)
{
    char err[256];
    qc_wmsg_t out;
    zmsg_t *bad[] = {
        s_frames("QCW9", QC_W_HEARTBEAT, NULL),                     /* wrong header */
        s_frames(QC_WORKER_HEADER, NULL),                           /* one frame */
        s_frames(QC_WORKER_HEADER, "FROB", NULL),                   /* unknown command */
        s_frames(QC_WORKER_HEADER, QC_W_RESULT, "{not json", NULL), /* body not JSON */
        s_frames(QC_WORKER_HEADER, QC_W_RESULT, "[1]", NULL),       /* body not an object */
        s_frames(QC_WORKER_HEADER, QC_W_BYE, "{}", "{}", NULL),     /* four frames */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(qc_wmsg_decode(bad[i], &out, err, sizeof err) == -2);
        CHECK(err[0] != '\0' && out.body == NULL);
        qc_wmsg_clear(&out);
        zmsg_destroy(&bad[i]);
    }

    /* Known commands with bodies that lack what they need: decoded, not valid. */
    struct {
        const char *command, *body, *error;
    } invalid[] = {
        {QC_W_HELLO, "{\"worker_id\":\"w1\"}", "instance must be"},
        {QC_W_RESULT, "{\"id\":\"j\",\"attempt\":0,\"outcome\":\"failed\"}", "attempt"},
        {QC_B_JOB, "{\"id\":\"j\",\"attempt\":1,\"command\":\"\",\"timeout_s\":5}", "bad command"},
        {QC_B_JOB, "{\"id\":\"j\",\"attempt\":1,\"command\":\"x\"}", "bad timeout_s"},
        {QC_B_ACK, "{\"id\":\"-bad\",\"attempt\":1}", "id or attempt"},
        {QC_W_OUTPUT, "{\"id\":\"j\",\"attempt\":1,\"stream\":\"stdin\",\"data\":\"\"}", "stream"},
        {QC_W_STARTED, "{\"id\":\"j\",\"attempt\":1}", "started_at_ms"},
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        zmsg_t *frames = s_frames(QC_WORKER_HEADER, invalid[i].command, invalid[i].body, NULL);
        CHECK(qc_wmsg_decode(frames, &out, err, sizeof err) == 0);
        if (out.valid || !strstr(out.error, invalid[i].error))
            fprintf(stderr, "%s %s: valid %d, error \"%s\"\n", invalid[i].command, invalid[i].body,
                    out.valid, out.error);
        CHECK(!out.valid && strstr(out.error, invalid[i].error));
        qc_wmsg_clear(&out);
        zmsg_destroy(&frames);
    }
    /* A JOB whose command is bad still names its run (the worker answers it). */
    zmsg_t *frames =
        s_frames(QC_WORKER_HEADER, QC_B_JOB,
                 "{\"id\":\"j\",\"attempt\":4,\"command\":\"\",\"timeout_s\":5}", NULL);
    CHECK(qc_wmsg_decode(frames, &out, err, sizeof err) == 0);
    CHECK(!out.valid && out.run.id && strcmp(out.run.id, "j") == 0 && out.run.attempt == 4);
    qc_wmsg_clear(&out);
    zmsg_destroy(&frames);
    /* A body-less RESULT: "no body". */
    frames = s_frames(QC_WORKER_HEADER, QC_W_RESULT, NULL);
    CHECK(qc_wmsg_decode(frames, &out, err, sizeof err) == 0);
    CHECK(!out.valid && strcmp(out.error, "no body") == 0);
    qc_wmsg_clear(&out);
    zmsg_destroy(&frames);
}

int main(void)
{
    test_bare();
    test_hello();
    test_runs();
    test_result();
    test_malformed();
    printf("test_proto: all passed\n");
    return 0;
}
