#include "queuectl/proto.h"
#include "queuectl/parse.h"
#include "queuectl/job.h"

#include <assert.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest integer a peer may send in a number field: 15 digits, which
 * cJSON prints back exactly (it prints 15 significant digits when they
 * read back as the same double). */
#define S_MAX_EXACT 999999999999999LL

static const char *s_state_names[QC_STATE_COUNT] = {"pending", "processing", "completed", "failed",
                                                    "dead",    "canceled",   "waiting"};
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
    qc_json_add_int(obj, "attempt", r->attempt);
    cJSON_AddStringToObject(obj, "outcome", qc_outcome_name(r->outcome));
    qc_json_add_int(obj, "exit_code", r->exit_code);
    qc_json_add_int(obj, "signal", r->signal);
    qc_json_add_int(obj, "started_at_ms", r->started_at_ms);
    qc_json_add_int(obj, "finished_at_ms", r->finished_at_ms);
    qc_json_add_int(obj, "cpu_ms", r->cpu_ms);
    qc_json_add_int(obj, "max_rss_kb", r->max_rss_kb);
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
    /* Counters and times beyond 15 digits are nonsense from a worker, and
     * cJSON would not print them back exactly: left at 0. */
    if (qc_json_int(obj, "started_at_ms", &v) == 0 && v >= 0 && v <= S_MAX_EXACT)
        r->started_at_ms = v;
    if (qc_json_int(obj, "finished_at_ms", &v) == 0 && v >= 0 && v <= S_MAX_EXACT)
        r->finished_at_ms = v;
    if (qc_json_int(obj, "cpu_ms", &v) == 0 && v >= 0 && v <= S_MAX_EXACT)
        r->cpu_ms = v;
    if (qc_json_int(obj, "max_rss_kb", &v) == 0 && v >= 0 && v <= S_MAX_EXACT)
        r->max_rss_kb = v;
    const char *error = qc_json_string(obj, "error");
    if (error)
        snprintf(r->error, sizeof r->error, "%.*s", qc_utf8_prefix(error, sizeof r->error - 1),
                 error);
    r->stdout_tail = s_tail_dup(obj, "stdout_tail");
    r->stderr_tail = s_tail_dup(obj, "stderr_tail");
    return 0;
}

/* The worker-protocol codec. */

static const char *s_commands[QC_WMSG_COUNT] = {[QC_WMSG_HELLO] = QC_W_HELLO,
                                                [QC_WMSG_STARTED] = QC_W_STARTED,
                                                [QC_WMSG_RESULT] = QC_W_RESULT,
                                                [QC_WMSG_OUTPUT] = QC_W_OUTPUT,
                                                [QC_WMSG_STOPPING] = QC_W_STOPPING,
                                                [QC_WMSG_BYE] = QC_W_BYE,
                                                [QC_WMSG_HEARTBEAT] = QC_W_HEARTBEAT,
                                                [QC_WMSG_WELCOME] = QC_B_WELCOME,
                                                [QC_WMSG_JOB] = QC_B_JOB,
                                                [QC_WMSG_ACK] = QC_B_ACK,
                                                [QC_WMSG_CANCEL] = QC_B_CANCEL,
                                                [QC_WMSG_STOP] = QC_B_STOP,
                                                [QC_WMSG_RESET] = QC_B_RESET,
                                                [QC_WMSG_ENROLL] = QC_W_ENROLL,
                                                [QC_WMSG_ENROLLED] = QC_B_ENROLLED,
                                                [QC_WMSG_DENIED] = QC_B_DENIED};

const char *qc_wmsg_command(qc_wmsg_type_t type)
{
    return type > QC_WMSG_UNKNOWN && type < QC_WMSG_COUNT ? s_commands[type] : NULL;
}

static void s_add_run(cJSON *obj, const qc_wmsg_run_t *run)
{
    cJSON_AddStringToObject(obj, "id", run->id);
    qc_json_add_int(obj, "attempt", run->attempt);
}

static cJSON *s_runs(const qc_wmsg_run_t *runs, int count)
{
    cJSON *array = cJSON_CreateArray();
    for (int i = 0; array && i < count; i++) {
        cJSON *item = cJSON_CreateObject();
        s_add_run(item, &runs[i]);
        cJSON_AddItemToArray(array, item);
    }
    return array;
}

/* The body of msg, or NULL for a type without one. */
static cJSON *s_body(const qc_wmsg_t *msg)
{
    cJSON *body = NULL;
    switch (msg->type) {
    case QC_WMSG_HELLO: {
        const qc_wmsg_hello_t *h = &msg->hello;
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "worker_id", h->worker_id);
        cJSON_AddStringToObject(body, "instance", h->instance);
        cJSON_AddStringToObject(body, "host", h->host);
        qc_json_add_int(body, "pid", h->pid);
        qc_json_add_int(body, "slots", h->slots);
        cJSON_AddStringToObject(body, "version", h->version ? h->version : QC_VERSION);
        cJSON_AddItemToObject(body, "running", s_runs(h->running, h->running_count));
        cJSON_AddItemToObject(body, "finished", s_runs(h->finished, h->finished_count));
        if (h->stopping)
            cJSON_AddBoolToObject(body, "stopping", 1);
        if (h->queues) {
            cJSON *queues = cJSON_AddArrayToObject(body, "queues");
            for (const char *p = h->queues; *p;) {
                size_t n = strcspn(p, ",");
                char name[QC_MAX_ID_BYTES + 1];
                snprintf(name, sizeof name, "%.*s",
                         (int)(n < QC_MAX_ID_BYTES ? n : QC_MAX_ID_BYTES), p);
                cJSON_AddItemToArray(queues, cJSON_CreateString(name));
                p += n + (p[n] == ',');
            }
        }
        break;
    }
    case QC_WMSG_STARTED:
        body = cJSON_CreateObject();
        s_add_run(body, &msg->run);
        qc_json_add_int(body, "started_at_ms", msg->started.started_at_ms);
        break;
    case QC_WMSG_RESULT:
        body = qc_result_to_json(&msg->result);
        break;
    case QC_WMSG_OUTPUT:
        body = cJSON_CreateObject();
        s_add_run(body, &msg->run);
        cJSON_AddStringToObject(body, "stream", msg->output.stream);
        cJSON_AddStringToObject(body, "data", msg->output.data);
        break;
    case QC_WMSG_WELCOME:
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "worker_id", msg->welcome.worker_id);
        qc_json_add_int(body, "heartbeat_ms", msg->welcome.heartbeat_ms);
        qc_json_add_int(body, "liveness_ms", msg->welcome.liveness_ms);
        break;
    case QC_WMSG_JOB:
        body = cJSON_CreateObject();
        s_add_run(body, &msg->run);
        cJSON_AddStringToObject(body, "command", msg->job.command);
        qc_json_add_int(body, "timeout_s", msg->job.timeout_s);
        if (msg->job.env)
            cJSON_AddItemToObject(body, "env", cJSON_Duplicate(msg->job.env, 1));
        if (msg->job.cwd)
            cJSON_AddStringToObject(body, "cwd", msg->job.cwd);
        if (msg->job.queue)
            cJSON_AddStringToObject(body, "queue", msg->job.queue);
        break;
    case QC_WMSG_ACK:
    case QC_WMSG_CANCEL:
        body = cJSON_CreateObject();
        s_add_run(body, &msg->run);
        break;
    case QC_WMSG_ENROLL:
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "invite", msg->enroll.invite);
        cJSON_AddStringToObject(body, "secret", msg->enroll.secret);
        if (msg->enroll.name)
            cJSON_AddStringToObject(body, "name", msg->enroll.name);
        if (msg->enroll.host)
            cJSON_AddStringToObject(body, "host", msg->enroll.host);
        break;
    case QC_WMSG_ENROLLED:
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "name", msg->enrolled.name);
        cJSON_AddStringToObject(body, "role", msg->enrolled.role);
        cJSON_AddStringToObject(body, "key", msg->enrolled.key);
        if (msg->enrolled.already)
            cJSON_AddBoolToObject(body, "already", 1);
        break;
    case QC_WMSG_DENIED:
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "code", msg->denied.code);
        cJSON_AddStringToObject(body, "message", msg->denied.message);
        break;
    default: /* STOPPING, BYE, HEARTBEAT, STOP, RESET: no body */
        break;
    }
    return body;
}

static int s_has_body(qc_wmsg_type_t type)
{
    return type != QC_WMSG_STOPPING && type != QC_WMSG_BYE && type != QC_WMSG_HEARTBEAT &&
           type != QC_WMSG_STOP && type != QC_WMSG_RESET;
}

zmsg_t *qc_wmsg_encode(const qc_wmsg_t *msg)
{
    const char *command = qc_wmsg_command(msg->type);
    assert(command); /* a message of no type is a programmer's error */
    zmsg_t *frames = zmsg_new();
    if (!frames)
        return NULL;
    zmsg_addstr(frames, QC_WORKER_HEADER);
    zmsg_addstr(frames, command);
    if (s_has_body(msg->type)) {
        cJSON *body = s_body(msg);
        char *text = body ? cJSON_PrintUnformatted(body) : NULL;
        cJSON_Delete(body);
        if (!text) {
            zmsg_destroy(&frames);
            return NULL;
        }
        zmsg_addmem(frames, text, strlen(text));
        cJSON_free(text);
    }
    return frames;
}

int qc_wmsg_send(void *sock, const qc_wmsg_t *msg)
{
    zmsg_t *frames = qc_wmsg_encode(msg);
    if (!frames)
        return -1;
    return zmsg_send(&frames, sock);
}

/* Reads {id, attempt} of a run: 0, or -1 if either is missing or invalid. */
static int s_run(const cJSON *obj, qc_wmsg_run_t *run)
{
    int64_t attempt;
    const char *id = qc_json_string(obj, "id");
    if (!id || !qc_job_id_valid(id) || qc_json_int(obj, "attempt", &attempt) != 0 || attempt < 1 ||
        attempt > INT32_MAX)
        return -1;
    run->id = id;
    run->attempt = (int)attempt;
    return 0;
}

static int s_instance_valid(const char *instance)
{
    if (!instance || strlen(instance) != QC_INSTANCE_HEX)
        return 0;
    for (const char *p = instance; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* The valid runs of a HELLO list (entries that are not runs are left out).
 * Returns 0, or -1 if out of memory. */
static int s_run_list(const cJSON *array, const qc_wmsg_run_t **runs_out, int *count_out)
{
    *runs_out = NULL;
    *count_out = 0;
    int size = array ? cJSON_GetArraySize(array) : 0;
    if (size == 0)
        return 0;
    qc_wmsg_run_t *runs = calloc((size_t)size, sizeof *runs);
    if (!runs)
        return -1;
    int count = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, array)
    {
        if (s_run(entry, &runs[count]) == 0)
            count++;
    }
    *runs_out = runs;
    *count_out = count;
    return 0;
}

#define S_INVALID(msg, ...)                                                                        \
    do {                                                                                           \
        snprintf((msg)->error, sizeof(msg)->error, __VA_ARGS__);                                   \
        return;                                                                                    \
    } while (0)

static void s_decode_hello(qc_wmsg_t *msg)
{
    const cJSON *body = msg->body;
    qc_wmsg_hello_t *h = &msg->hello;
    int64_t v;
    h->worker_id = qc_json_string(body, "worker_id");
    h->instance = qc_json_string(body, "instance");
    h->host = qc_json_string(body, "host");
    h->version = qc_json_string(body, "version");
    h->stopping = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stopping"));
    const cJSON *running = cJSON_GetObjectItemCaseSensitive(body, "running");
    const cJSON *finished = cJSON_GetObjectItemCaseSensitive(body, "finished");
    if (!h->worker_id || !qc_job_id_valid(h->worker_id))
        S_INVALID(msg, "worker_id missing or invalid");
    if (!s_instance_valid(h->instance))
        S_INVALID(msg, "instance must be %d lowercase hex digits", QC_INSTANCE_HEX);
    if (!h->host || strlen(h->host) > 255)
        S_INVALID(msg, "host missing or too long");
    if (qc_json_int(body, "pid", &v) != 0 || v < 0 || v > INT32_MAX)
        S_INVALID(msg, "pid missing or invalid");
    h->pid = (int)v;
    if (qc_json_int(body, "slots", &v) != 0 || v < 1 || v > QC_MAX_SLOTS)
        S_INVALID(msg, "slots must be 1 to %d", QC_MAX_SLOTS);
    h->slots = (int)v;
    if (running && !cJSON_IsArray(running))
        S_INVALID(msg, "running must be an array");
    if (running && cJSON_GetArraySize(running) > h->slots)
        S_INVALID(msg, "running lists more jobs than slots");
    if (finished && !cJSON_IsArray(finished))
        S_INVALID(msg, "finished must be an array");
    if (finished && cJSON_GetArraySize(finished) > QC_MAX_UNACKED)
        S_INVALID(msg, "finished lists more than %d results", QC_MAX_UNACKED);
    /* queues: ["a", "b"], in preference order; absent or null: every queue. */
    const cJSON *queues = cJSON_GetObjectItemCaseSensitive(body, "queues");
    if (queues && !cJSON_IsNull(queues)) {
        char text[QC_QUEUE_LIST_BYTES + QC_MAX_ID_BYTES] = "", why[160];
        size_t used = 0;
        const cJSON *name;
        if (!cJSON_IsArray(queues) || cJSON_GetArraySize(queues) < 1 ||
            cJSON_GetArraySize(queues) > QC_MAX_WORKER_QUEUES)
            S_INVALID(msg, "queues must be an array of 1 to %d names", QC_MAX_WORKER_QUEUES);
        cJSON_ArrayForEach(name, queues)
        {
            if (!cJSON_IsString(name) || strlen(name->valuestring) > QC_MAX_ID_BYTES ||
                strchr(name->valuestring, ','))
                S_INVALID(msg, "queues must hold queue names");
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%s", used ? "," : "",
                                     name->valuestring);
        }
        if (qc_queue_list_parse(text, h->queues_text, sizeof h->queues_text, why, sizeof why) != 0)
            S_INVALID(msg, "queues: %.100s", why);
        h->queues = h->queues_text;
    }
    if (s_run_list(running, &h->running, &h->running_count) != 0 ||
        s_run_list(finished, &h->finished, &h->finished_count) != 0)
        S_INVALID(msg, "out of memory");
    msg->valid = 1;
}

/* JOB's env, cwd and queue: a bad one refuses the run, not the message. */
static void s_decode_job_extras(qc_wmsg_t *msg)
{
    const cJSON *body = msg->body;
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(body, "env");
    const cJSON *cwd = cJSON_GetObjectItemCaseSensitive(body, "cwd");
    const char *queue = qc_json_string(body, "queue");
    char why[200];
    if (env && !cJSON_IsNull(env)) {
        int ok = cJSON_IsObject(env) && cJSON_GetArraySize(env) <= QC_MAX_ENV_VARS;
        for (const cJSON *var = ok ? env->child : NULL; var && ok; var = var->next)
            ok = cJSON_IsString(var) && var->string &&
                 qc_job_env_name_valid(var->string, why, sizeof why);
        if (!ok)
            msg->job.refusal = "invalid JOB: bad env";
        else
            msg->job.env = env;
    }
    if (cwd && !cJSON_IsNull(cwd)) {
        if (!cJSON_IsString(cwd) || cwd->valuestring[0] != '/' ||
            strlen(cwd->valuestring) > QC_MAX_CWD_BYTES)
            msg->job.refusal = "invalid JOB: bad cwd";
        else
            msg->job.cwd = cwd->valuestring;
    }
    if (queue) {
        if (!qc_job_id_valid(queue))
            msg->job.refusal = "invalid JOB: bad queue";
        else
            msg->job.queue = queue;
    }
}

static void s_decode_body(qc_wmsg_t *msg)
{
    const cJSON *body = msg->body;
    int64_t v;
    if (!s_has_body(msg->type)) {
        msg->valid = 1; /* a body it should not have is ignored, as before */
        return;
    }
    if (!body)
        S_INVALID(msg, "no body");
    switch (msg->type) {
    case QC_WMSG_HELLO:
        s_decode_hello(msg);
        return;
    case QC_WMSG_RESULT:
        msg->valid = qc_result_from_json(body, &msg->result, msg->error, sizeof msg->error) == 0;
        return;
    case QC_WMSG_ENROLL:
        /* What the values may be is the enrollment's business (enroll.c). */
        msg->enroll.invite = qc_json_string(body, "invite");
        msg->enroll.secret = qc_json_string(body, "secret");
        msg->enroll.name = qc_json_string(body, "name");
        msg->enroll.host = qc_json_string(body, "host");
        if (!msg->enroll.invite || !msg->enroll.secret)
            S_INVALID(msg, "invite or secret missing");
        msg->valid = 1;
        return;
    case QC_WMSG_ENROLLED:
        msg->enrolled.name = qc_json_string(body, "name");
        msg->enrolled.role = qc_json_string(body, "role");
        msg->enrolled.key = qc_json_string(body, "key");
        msg->enrolled.already = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "already"));
        if (!msg->enrolled.name)
            S_INVALID(msg, "name missing");
        msg->valid = 1;
        return;
    case QC_WMSG_DENIED:
        msg->denied.code = qc_json_string(body, "code");
        msg->denied.message = qc_json_string(body, "message");
        msg->valid = 1; /* a refusal stands even without its reason */
        return;
    case QC_WMSG_WELCOME: {
        const char *name = qc_json_string(body, "worker_id");
        msg->welcome.worker_id = name && qc_job_id_valid(name) ? name : NULL;
        msg->welcome.has_heartbeat_ms =
            qc_json_int(body, "heartbeat_ms", &msg->welcome.heartbeat_ms) == 0 &&
            msg->welcome.heartbeat_ms >= 0 && msg->welcome.heartbeat_ms <= S_MAX_EXACT;
        msg->welcome.has_liveness_ms =
            qc_json_int(body, "liveness_ms", &msg->welcome.liveness_ms) == 0 &&
            msg->welcome.liveness_ms >= 0 && msg->welcome.liveness_ms <= S_MAX_EXACT;
        msg->valid = 1; /* every field is optional: the worker keeps its own */
        return;
    }
    default:
        break;
    }
    /* The rest name a run. */
    if (s_run(body, &msg->run) != 0)
        S_INVALID(msg, "id or attempt missing or invalid");
    switch (msg->type) {
    case QC_WMSG_STARTED:
        if (qc_json_int(body, "started_at_ms", &msg->started.started_at_ms) != 0 ||
            msg->started.started_at_ms < 0 || msg->started.started_at_ms > S_MAX_EXACT)
            S_INVALID(msg, "started_at_ms missing or invalid");
        break;
    case QC_WMSG_OUTPUT:
        msg->output.stream = qc_json_string(body, "stream");
        msg->output.data = qc_json_string(body, "data");
        if (!msg->output.data || !msg->output.stream ||
            (strcmp(msg->output.stream, "stdout") != 0 &&
             strcmp(msg->output.stream, "stderr") != 0))
            S_INVALID(msg, "stream or data missing or invalid");
        break;
    case QC_WMSG_JOB: {
        const char *command = qc_json_string(body, "command");
        if (command && *command && strlen(command) <= QC_MAX_COMMAND_BYTES)
            msg->job.command = command;
        if (qc_json_int(body, "timeout_s", &v) == 0 && v >= 1 && v <= QC_MAX_TIMEOUT_S)
            msg->job.timeout_s = v;
        if (!msg->job.command)
            S_INVALID(msg, "bad command");
        if (!msg->job.timeout_s)
            S_INVALID(msg, "bad timeout_s");
        s_decode_job_extras(msg);
        break;
    }
    default: /* ACK, CANCEL: the run is all */
        break;
    }
    msg->valid = 1;
}

int qc_wmsg_decode(zmsg_t *frames, qc_wmsg_t *msg, char *err, size_t errlen)
{
    memset(msg, 0, sizeof *msg);
    size_t count = zmsg_size(frames);
    if (count < 2 || count > 3) {
        snprintf(err, errlen, "expected 2 or 3 frames, got %zu", count);
        return -2;
    }
    zframe_t *header = zmsg_first(frames);
    if (zframe_size(header) != strlen(QC_WORKER_HEADER) ||
        memcmp(zframe_data(header), QC_WORKER_HEADER, zframe_size(header)) != 0) {
        snprintf(err, errlen, "wrong protocol header (expected %s)", QC_WORKER_HEADER);
        return -2;
    }
    zframe_t *command = zmsg_next(frames);
    for (int type = QC_WMSG_UNKNOWN + 1; type < QC_WMSG_COUNT; type++) {
        if (zframe_size(command) == strlen(s_commands[type]) &&
            memcmp(zframe_data(command), s_commands[type], zframe_size(command)) == 0) {
            msg->type = (qc_wmsg_type_t)type;
            break;
        }
    }
    if (msg->type == QC_WMSG_UNKNOWN) {
        snprintf(err, errlen, "unknown command");
        return -2;
    }
    zframe_t *payload = zmsg_next(frames);
    if (payload) {
        msg->body = qc_json_parse_object((const char *)zframe_data(payload), zframe_size(payload),
                                         err, errlen);
        if (!msg->body)
            return -2;
    }
    s_decode_body(msg);
    return 0;
}

void qc_wmsg_clear(qc_wmsg_t *msg)
{
    if (msg->type == QC_WMSG_HELLO) {
        free((void *)msg->hello.running);
        free((void *)msg->hello.finished);
    } else if (msg->type == QC_WMSG_RESULT) {
        qc_result_clear(&msg->result);
    }
    cJSON_Delete(msg->body);
    memset(msg, 0, sizeof *msg);
}
