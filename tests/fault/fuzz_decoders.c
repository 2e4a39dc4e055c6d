/* libFuzzer target over every decoder a peer's bytes reach:
 *
 *   - a client request: qc_json_parse_object, then qc_job_spec_from_json on
 *     "job", on each of "jobs", and on the object itself (the CLI's
 *     `enqueue JSON` / job file);
 *   - a worker RESULT body: qc_result_from_json on the same object;
 *   - a worker message: qc_wmsg_decode (every message of the worker
 *     protocol, both ways) over frames cut from the input at each 0xFF byte
 *     (never valid inside UTF-8 JSON, so nothing is lost), then the
 *     RESULT/job decoders on its body; a message the codec accepts as valid
 *     is encoded again (qc_wmsg_encode) and must decode to the same fields.
 *
 * Besides crashes, leaks and undefined behaviour, it checks what the broker
 * relies on: an accepted job or result is within the documented limits, a
 * result the broker accepts survives the worker's encoder (qc_result_to_json)
 * unchanged, a parsed request prints back to text that parses again, the
 * texts of an accepted result (stored, then served by `get`) and every error
 * message (which the broker puts into a JSON reply) are valid UTF-8. A violated check aborts with a
 * message, like a crash.
 *
 * Built by f04_fuzz_decoders.sh with clang -fsanitize=fuzzer,address,undefined
 * against the sources in common/. */
#include "queuectl/job.h"
#include "queuectl/parse.h"
#include "queuectl/proto.h"
#include "queuectl/protocol.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CHECK(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_decoders: check failed: %s: ", #cond);                           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Error messages go into JSON replies and logs: they must be UTF-8 text. */
static void s_check_err(const char *where, const char *err)
{
    S_CHECK(err[0] != '\0', "%s: failed without a message", where);
    S_CHECK(qc_utf8_valid(err, strlen(err)), "%s: error message is not valid UTF-8: \"%s\"", where,
            err);
}

static void s_job(const cJSON *obj)
{
    qc_job_spec_t spec;
    char err[256];
    err[0] = '\0';
    if (qc_job_spec_from_json(obj, &spec, err, sizeof err) != 0) {
        s_check_err("qc_job_spec_from_json", err);
        S_CHECK(spec.command == NULL, "a refused job still owns its command");
        return;
    }
    S_CHECK(spec.command != NULL, "accepted job without a command");
    size_t len = strlen(spec.command);
    S_CHECK(len > 0 && len <= QC_MAX_COMMAND_BYTES, "command length %zu", len);
    S_CHECK(qc_utf8_valid(spec.command, len), "command is not UTF-8");
    S_CHECK(spec.id[0] == '\0' || qc_job_id_valid(spec.id), "accepted invalid id \"%s\"", spec.id);
    S_CHECK(spec.max_retries == -1 ||
                (spec.max_retries >= 0 && spec.max_retries <= QC_MAX_RETRIES_LIMIT),
            "max_retries %d", spec.max_retries);
    S_CHECK(spec.priority >= -QC_MAX_PRIORITY && spec.priority <= QC_MAX_PRIORITY, "priority %d",
            spec.priority);
    S_CHECK(spec.timeout_s == 0 || (spec.timeout_s >= 1 && spec.timeout_s <= QC_MAX_TIMEOUT_S),
            "timeout_s %d", spec.timeout_s);
    S_CHECK(spec.delay_ms >= 0 && spec.delay_ms <= (int64_t)QC_MAX_TIMEOUT_S * 1000,
            "delay_ms %lld", (long long)spec.delay_ms);
    qc_job_spec_clear(&spec);
}

static void s_result(const cJSON *obj)
{
    qc_result_t r;
    char err[128];
    err[0] = '\0';
    if (qc_result_from_json(obj, &r, err, sizeof err) != 0) {
        s_check_err("qc_result_from_json", err);
        qc_result_clear(&r);
        return;
    }
    S_CHECK(qc_job_id_valid(r.id), "accepted invalid id \"%s\"", r.id);
    S_CHECK(r.attempt >= 1, "attempt %d", r.attempt);
    S_CHECK(r.outcome >= 0 && r.outcome < QC_OUTCOME_COUNT && r.outcome != QC_OUTCOME_WORKER_LOST,
            "outcome %d", (int)r.outcome);
    S_CHECK(r.exit_code >= -1 && r.exit_code <= 255, "exit_code %d", r.exit_code);
    S_CHECK(r.signal >= 0 && r.signal <= 128, "signal %d", r.signal);
    S_CHECK(!r.stdout_tail || strlen(r.stdout_tail) <= QC_OUTPUT_TAIL_BYTES, "stdout_tail %zu",
            strlen(r.stdout_tail));
    S_CHECK(!r.stderr_tail || strlen(r.stderr_tail) <= QC_OUTPUT_TAIL_BYTES, "stderr_tail %zu",
            strlen(r.stderr_tail));
    /* The broker stores these and serves them in `get` replies. */
    S_CHECK(qc_utf8_valid(r.error, strlen(r.error)), "error is not valid UTF-8 after decoding");
    S_CHECK(!r.stdout_tail || qc_utf8_valid(r.stdout_tail, strlen(r.stdout_tail)),
            "stdout_tail is not valid UTF-8 after decoding");
    S_CHECK(!r.stderr_tail || qc_utf8_valid(r.stderr_tail, strlen(r.stderr_tail)),
            "stderr_tail is not valid UTF-8 after decoding");

    /* What the worker encodes, the broker decodes to the same values. */
    cJSON *encoded = qc_result_to_json(&r);
    char *text = cJSON_PrintUnformatted(encoded);
    S_CHECK(text != NULL, "qc_result_to_json printed nothing");
    char err2[128] = "";
    cJSON *again = qc_json_parse_object(text, strlen(text), err2, sizeof err2);
    S_CHECK(again != NULL, "an accepted result, re-encoded, does not parse: %s: %.200s", err2,
            text);
    qc_result_t r2;
    S_CHECK(qc_result_from_json(again, &r2, err2, sizeof err2) == 0,
            "an accepted result, re-encoded, is refused: %s", err2);
    S_CHECK(strcmp(r.id, r2.id) == 0 && r.attempt == r2.attempt && r.outcome == r2.outcome &&
                r.exit_code == r2.exit_code && r.signal == r2.signal &&
                r.started_at_ms == r2.started_at_ms && r.finished_at_ms == r2.finished_at_ms &&
                r.cpu_ms == r2.cpu_ms && r.max_rss_kb == r2.max_rss_kb &&
                strcmp(r.error, r2.error) == 0,
            "a result changed through the worker's encoder: %.300s", text);
    qc_result_clear(&r2);
    cJSON_Delete(again);
    cJSON_free(text);
    cJSON_Delete(encoded);
    qc_result_clear(&r);
}

static int s_same_run(const qc_wmsg_run_t *a, const qc_wmsg_run_t *b)
{
    return (!a->id && !b->id) ||
           (a->id && b->id && strcmp(a->id, b->id) == 0 && a->attempt == b->attempt);
}

static int s_same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A valid message, encoded again by the codec, decodes to the same fields:
 * what one side accepts, the other side's encoder can say. */
static void s_wmsg_again(const qc_wmsg_t *m)
{
    char err[256] = "";
    zmsg_t *frames = qc_wmsg_encode(m);
    S_CHECK(frames != NULL, "a valid %s does not encode", qc_wmsg_command(m->type));
    qc_wmsg_t m2;
    S_CHECK(qc_wmsg_decode(frames, &m2, err, sizeof err) == 0, "re-encoded %s refused: %s",
            qc_wmsg_command(m->type), err);
    S_CHECK(m2.type == m->type && m2.valid, "re-encoded %s: type %d valid %d (%s)",
            qc_wmsg_command(m->type), (int)m2.type, m2.valid, m2.error);
    S_CHECK(s_same_run(&m->run, &m2.run), "%s: run changed", qc_wmsg_command(m->type));
    switch (m->type) {
    case QC_WMSG_HELLO: {
        const qc_wmsg_hello_t *a = &m->hello, *b = &m2.hello;
        S_CHECK(strcmp(a->worker_id, b->worker_id) == 0 && strcmp(a->instance, b->instance) == 0 &&
                    strcmp(a->host, b->host) == 0 && a->pid == b->pid && a->slots == b->slots &&
                    a->stopping == b->stopping && a->running_count == b->running_count &&
                    a->finished_count == b->finished_count,
                "HELLO changed through the encoder");
        for (int i = 0; i < a->running_count; i++)
            S_CHECK(s_same_run(&a->running[i], &b->running[i]), "HELLO running[%d] changed", i);
        for (int i = 0; i < a->finished_count; i++)
            S_CHECK(s_same_run(&a->finished[i], &b->finished[i]), "HELLO finished[%d] changed", i);
        break;
    }
    case QC_WMSG_STARTED:
        S_CHECK(m->started.started_at_ms == m2.started.started_at_ms, "STARTED time changed");
        break;
    case QC_WMSG_OUTPUT:
        S_CHECK(strcmp(m->output.stream, m2.output.stream) == 0 &&
                    strcmp(m->output.data, m2.output.data) == 0,
                "OUTPUT changed");
        break;
    case QC_WMSG_JOB:
        S_CHECK(strcmp(m->job.command, m2.job.command) == 0 && m->job.timeout_s == m2.job.timeout_s,
                "JOB changed");
        break;
    case QC_WMSG_WELCOME:
        /* Only what the broker always sends: absent timing encodes as 0. */
        S_CHECK(s_same_str(m->welcome.worker_id, m2.welcome.worker_id) || !m->welcome.worker_id,
                "WELCOME worker_id changed");
        break;
    case QC_WMSG_RESULT:
        S_CHECK(strcmp(m->result.id, m2.result.id) == 0 && m->result.attempt == m2.result.attempt &&
                    m->result.outcome == m2.result.outcome,
                "RESULT changed");
        break;
    default:
        break;
    }
    qc_wmsg_clear(&m2);
    zmsg_destroy(&frames);
}

/* Every decoder that takes a JSON object from a peer. */
static void s_object(const cJSON *obj)
{
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(obj, "job");
    const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(obj, "jobs");
    if (job)
        s_job(job);
    if (cJSON_IsArray(jobs)) {
        int n = 0;
        for (const cJSON *item = jobs->child; item && n < QC_MAX_BATCH_JOBS; item = item->next, n++)
            s_job(item);
    }
    s_job(obj);
    s_result(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];

    /* 1. The whole input as a client request (or a RESULT body). */
    err[0] = '\0';
    cJSON *obj = qc_json_parse_object((const char *)data, size, err, sizeof err);
    if (obj) {
        s_object(obj);
        /* Replies and logs echo parsed values: the printed form parses again. */
        char *text = cJSON_PrintUnformatted(obj);
        S_CHECK(text != NULL, "a parsed request does not print");
        char err2[256] = "";
        cJSON *again = qc_json_parse_object(text, strlen(text), err2, sizeof err2);
        S_CHECK(again != NULL, "a parsed request prints to text that does not parse: %s", err2);
        cJSON_Delete(again);
        cJSON_free(text);
        cJSON_Delete(obj);
    } else {
        s_check_err("qc_json_parse_object", err);
    }

    /* 2. The input as a worker message, frames separated by 0xFF. */
    zmsg_t *msg = zmsg_new();
    size_t start = 0;
    for (size_t i = 0; i <= size && zmsg_size(msg) < 8; i++) {
        if (i == size || data[i] == 0xFF) {
            zmsg_addmem(msg, data + start, i - start);
            start = i + 1;
        }
    }
    qc_wmsg_t wmsg;
    err[0] = '\0';
    int rc = qc_wmsg_decode(msg, &wmsg, err, sizeof err);
    if (rc == 0) {
        S_CHECK(qc_wmsg_command(wmsg.type) != NULL, "decoded without a command");
        S_CHECK(wmsg.valid || wmsg.error[0], "invalid without a reason");
        S_CHECK(qc_utf8_valid(wmsg.error, strlen(wmsg.error)), "error is not UTF-8");
        if (wmsg.body)
            s_object(wmsg.body);
        if (wmsg.valid)
            s_wmsg_again(&wmsg);
    } else {
        S_CHECK(rc == -2 && wmsg.body == NULL, "rc %d with a body", rc);
        s_check_err("qc_wmsg_decode", err);
    }
    qc_wmsg_clear(&wmsg);
    zmsg_destroy(&msg);
    return 0;
}
