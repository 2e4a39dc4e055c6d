#include "queuectl/proto.h"
#include "queuectl/parse.h"
#include "queuectl/job.h"

#include <stdio.h>
#include <string.h>

static const char *s_state_names[QC_STATE_COUNT] = {"pending", "processing", "completed",
                                                    "failed",  "dead",       "canceled"};
static const char *s_outcome_names[QC_OUTCOME_COUNT] = {"succeeded", "failed",      "timed_out",
                                                        "killed",    "worker_lost", "spawn_failed",
                                                        "canceled",  "not_started"};

const char *qc_state_name(qc_state_t state)
{
    return (state >= 0 && state < QC_STATE_COUNT) ? s_state_names[state] : NULL;
}

int qc_state_parse(const char *name)
{
    for (int i = 0; name && i < QC_STATE_COUNT; i++)
        if (strcmp(name, s_state_names[i]) == 0)
            return i;
    return -1;
}

const char *qc_outcome_name(qc_outcome_t outcome)
{
    return (outcome >= 0 && outcome < QC_OUTCOME_COUNT) ? s_outcome_names[outcome] : NULL;
}

int qc_outcome_parse(const char *name)
{
    for (int i = 0; name && i < QC_OUTCOME_COUNT; i++)
        if (strcmp(name, s_outcome_names[i]) == 0)
            return i;
    return -1;
}

const char *qc_json_string(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

int qc_json_int(const cJSON *obj, const char *key, int64_t *value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(item))
        return -1;
    double d = item->valuedouble;
    /* Integers only, and within the range a double holds exactly. */
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return -1;
    *value = (int64_t)d;
    return 0;
}

cJSON *qc_json_parse_object(const char *text, size_t len, char *err, size_t errlen)
{
    if (!qc_utf8_valid(text, len)) {
        snprintf(err, errlen, "message is not valid UTF-8 text");
        return NULL;
    }
    for (size_t i = 0; i + 5 < len; i++) {
        if (text[i] != '\\')
            continue;
        if (memcmp(text + i + 1, "u0000", 5) == 0) {
            snprintf(err, errlen, "strings must not contain NUL (\\u0000)");
            return NULL;
        }
        i++; /* skip the escaped character */
    }
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!obj) {
        snprintf(err, errlen, "message is not valid JSON (near byte %zu)",
                 end ? (size_t)(end - text) : (size_t)0);
        return NULL;
    }
    /* Only whitespace may follow the object. */
    for (const char *p = end; p && p < text + len; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            snprintf(err, errlen, "trailing data after the JSON object");
            cJSON_Delete(obj);
            return NULL;
        }
    }
    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "message must be a JSON object");
        cJSON_Delete(obj);
        return NULL;
    }
    if (!qc_json_depth_ok(obj, QC_MAX_JSON_DEPTH)) {
        snprintf(err, errlen, "JSON nests deeper than %d levels", QC_MAX_JSON_DEPTH);
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

void qc_result_init(qc_result_t *result)
{
    memset(result, 0, sizeof *result);
    result->exit_code = -1;
}

void qc_result_clear(qc_result_t *result)
{
    free(result->stdout_tail);
    free(result->stderr_tail);
    qc_result_init(result);
}

cJSON *qc_result_to_json(const qc_result_t *r)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "id", r->id);
    cJSON_AddNumberToObject(obj, "attempt", r->attempt);
    cJSON_AddStringToObject(obj, "outcome", qc_outcome_name(r->outcome));
    cJSON_AddNumberToObject(obj, "exit_code", r->exit_code);
    cJSON_AddNumberToObject(obj, "signal", r->signal);
    cJSON_AddNumberToObject(obj, "started_at_ms", (double)r->started_at_ms);
    cJSON_AddNumberToObject(obj, "finished_at_ms", (double)r->finished_at_ms);
    cJSON_AddNumberToObject(obj, "cpu_ms", (double)r->cpu_ms);
    cJSON_AddNumberToObject(obj, "max_rss_kb", (double)r->max_rss_kb);
    cJSON_AddStringToObject(obj, "error", r->error);
    cJSON_AddStringToObject(obj, "stdout_tail", r->stdout_tail ? r->stdout_tail : "");
    cJSON_AddStringToObject(obj, "stderr_tail", r->stderr_tail ? r->stderr_tail : "");
    return obj;
}

static char *s_tail_dup(const cJSON *obj, const char *key)
{
    const char *s = qc_json_string(obj, key);
    if (!s)
        return NULL;
    size_t len = strnlen(s, QC_OUTPUT_TAIL_BYTES + 1);
    if (len > QC_OUTPUT_TAIL_BYTES) /* keep the end: that is where errors are */
        s += strlen(s) - QC_OUTPUT_TAIL_BYTES;
    char *copy = strdup(s);
    if (copy)
        qc_utf8_sanitize(copy, strlen(copy)); /* the cut may fall inside a character */
    return copy;
}

int qc_result_from_json(const cJSON *obj, qc_result_t *r, char *err, size_t errlen)
{
    qc_result_init(r);
    const char *id = qc_json_string(obj, "id");
    if (!id || !qc_job_id_valid(id)) {
        snprintf(err, errlen, "result: id missing or invalid");
        return -1;
    }
    snprintf(r->id, sizeof r->id, "%s", id);
    int64_t v;
    if (qc_json_int(obj, "attempt", &v) != 0 || v < 1 || v > INT32_MAX) {
        snprintf(err, errlen, "result: attempt missing or out of range");
        return -1;
    }
    r->attempt = (int)v;
    int outcome = qc_outcome_parse(qc_json_string(obj, "outcome"));
    if (outcome < 0 || outcome == QC_OUTCOME_WORKER_LOST) {
        snprintf(err, errlen, "result: outcome missing or unknown");
        return -1;
    }
    r->outcome = outcome;
    if (qc_json_int(obj, "exit_code", &v) == 0 && v >= -1 && v <= 255)
        r->exit_code = (int)v;
    if (qc_json_int(obj, "signal", &v) == 0 && v >= 0 && v <= 128)
        r->signal = (int)v;
    if (qc_json_int(obj, "started_at_ms", &v) == 0 && v >= 0)
        r->started_at_ms = v;
    if (qc_json_int(obj, "finished_at_ms", &v) == 0 && v >= 0)
        r->finished_at_ms = v;
    if (qc_json_int(obj, "cpu_ms", &v) == 0 && v >= 0)
        r->cpu_ms = v;
    if (qc_json_int(obj, "max_rss_kb", &v) == 0 && v >= 0)
        r->max_rss_kb = v;
    const char *error = qc_json_string(obj, "error");
    if (error)
        snprintf(r->error, sizeof r->error, "%.*s", qc_utf8_prefix(error, sizeof r->error - 1),
                 error);
    r->stdout_tail = s_tail_dup(obj, "stdout_tail");
    r->stderr_tail = s_tail_dup(obj, "stderr_tail");
    return 0;
}

zmsg_t *qc_wmsg_new(const char *command, const cJSON *body)
{
    zmsg_t *msg = zmsg_new();
    if (!msg)
        return NULL;
    zmsg_addstr(msg, QC_WORKER_HEADER);
    zmsg_addstr(msg, command);
    if (body) {
        char *text = cJSON_PrintUnformatted(body);
        if (!text) {
            zmsg_destroy(&msg);
            return NULL;
        }
        zmsg_addmem(msg, text, strlen(text));
        cJSON_free(text);
    }
    return msg;
}

int qc_wmsg_send(void *sock, zframe_t *routing_id, const char *command, const cJSON *body)
{
    zmsg_t *msg = qc_wmsg_new(command, body);
    if (!msg)
        return -1;
    if (routing_id)
        zmsg_prepend(msg, &(zframe_t *){zframe_dup(routing_id)});
    return zmsg_send(&msg, sock);
}

static const char *s_commands[] = {QC_W_STARTED,   QC_W_STOPPING, QC_W_OUTPUT,   QC_W_HELLO,
                                   QC_W_HEARTBEAT, QC_W_RESULT,   QC_W_BYE,      QC_B_WELCOME,
                                   QC_B_JOB,       QC_B_ACK,      QC_B_CANCEL,   QC_B_STOP,
                                   QC_B_RESET,     QC_W_ENROLL,   QC_B_ENROLLED, QC_B_DENIED};

int qc_wmsg_decode(zmsg_t *msg, const char **command, cJSON **body, char *err, size_t errlen)
{
    *command = NULL;
    *body = NULL;
    size_t frames = zmsg_size(msg);
    if (frames < 2 || frames > 3) {
        snprintf(err, errlen, "expected 2 or 3 frames, got %zu", frames);
        return -2;
    }
    zframe_t *header = zmsg_first(msg);
    if (zframe_size(header) != strlen(QC_WORKER_HEADER) ||
        memcmp(zframe_data(header), QC_WORKER_HEADER, zframe_size(header)) != 0) {
        snprintf(err, errlen, "wrong protocol header (expected %s)", QC_WORKER_HEADER);
        return -2;
    }
    zframe_t *cmd = zmsg_next(msg);
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++) {
        if (zframe_size(cmd) == strlen(s_commands[i]) &&
            memcmp(zframe_data(cmd), s_commands[i], zframe_size(cmd)) == 0) {
            *command = s_commands[i];
            break;
        }
    }
    if (!*command) {
        snprintf(err, errlen, "unknown command");
        return -2;
    }
    zframe_t *payload = zmsg_next(msg);
    if (payload) {
        *body = qc_json_parse_object((const char *)zframe_data(payload), zframe_size(payload), err,
                                     errlen);
        if (!*body)
            return -2;
    }
    return 0;
}
