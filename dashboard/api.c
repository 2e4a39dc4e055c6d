/* The dashboard's REST API under /api: each handler decodes the HTTP
 * request, makes one broker call (a few for PUT /api/config and retry-all) on its
 * thread's client and encodes the answer. docs/API.md describes every route. */
#include "api.h"
#include "metrics.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/parse.h"
#include "queuectl/json.h"
#include "queuectl/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_LIMIT 50
#define S_MAX_QUERY_BYTES 256          /* longest search text */
#define S_RETRY_ALL_PAGE 1000          /* jobs the broker revives per dlq.retry all */
#define S_RETRY_ALL_MAX 10000          /* jobs one retry-all revives at most */
#define S_STATES_MAX_IDS 1000          /* ids one GET /api/states asks for */
#define S_STATES_MAX_BYTES (24 * 1024) /* of ids text: the URL must fit the server's 32 KiB */
#define S_CONFIG_MAX_KEYS 16           /* keys one PUT /api/config may set */

struct _qc_api_t {
    qc_upstream_t *upstream;
    qc_hub_t *hub;
};

/* A request as the handlers see it. */
typedef struct {
    qc_api_t *api;
    const char *method;
    qc_api_query_fn *query;
    void *query_cls;
    const char *body;
    size_t len;
    qc_reply_t *reply;
} s_req_t;

qc_api_t *qc_api_new(qc_upstream_t *upstream, qc_hub_t *hub)
{
    qc_api_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->upstream = upstream;
    self->hub = hub;
    return self;
}

void qc_api_destroy(qc_api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

/* Calls the broker with request (taken). See qc_upstream_call. */
static cJSON *s_broker_call(s_req_t *r, cJSON *request, int *no_answer)
{
    cJSON *reply = qc_upstream_call(r->api->upstream, request, no_answer);
    cJSON_Delete(request);
    return reply;
}

/* The HTTP status for a broker error code (docs/API.md "Status codes"). */
static int s_status_for(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } table[] = {
        {QC_E_BAD_REQUEST, 400}, {QC_E_INVALID_JOB, 400}, {QC_E_INVALID_CONFIG, 400},
        {QC_E_TOO_LARGE, 400},   {QC_E_NOT_FOUND, 404},   {QC_E_DUPLICATE, 409},
        {QC_E_CONFLICT, 409},    {QC_E_FORBIDDEN, 403},   {QC_E_STORAGE, 500},
        {QC_E_UNKNOWN_OP, 501},
    };
    for (size_t i = 0; code && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(code, table[i].code) == 0)
            return table[i].status;
    return 502;
}

/* Calls the broker. Returns its successful reply (caller owns), or NULL with
 * the HTTP error already in r->reply. */
static cJSON *s_call(s_req_t *r, cJSON *request)
{
    char op[32];
    snprintf(op, sizeof op, "%s",
             qc_json_string(request, "op") ? qc_json_string(request, "op") : "");
    int no_answer = 0;
    cJSON *reply = s_broker_call(r, request, &no_answer);
    if (!reply) {
        if (no_answer)
            qc_reply_error(r->reply, 503, "unavailable", "the broker did not answer");
        else
            qc_reply_error(r->reply, 502, "bad_gateway", "the broker sent a malformed reply");
        return NULL;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(reply, "ok");
        return reply;
    }
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(reply, "error");
    const char *code = qc_json_string(error, "code");
    const char *message = qc_json_string(error, "message");
    int status = s_status_for(code);
    if (status == 501)
        qc_reply_error(r->reply, 501, QC_E_UNKNOWN_OP,
                       "this broker does not support \"%s\" (it is older than this "
                       "dashboard)",
                       op);
    else
        qc_reply_error(r->reply, status, code ? code : "bad_gateway", "%s",
                       message ? message : "the broker refused the request");
    cJSON_Delete(reply);
    return NULL;
}

static cJSON *s_request(const char *op)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", op);
    return request;
}

/* Calls op and answers with its reply (without "ok") and status. */
static void s_forward(s_req_t *r, cJSON *request, int status)
{
    cJSON *reply = s_call(r, request);
    if (reply)
        qc_reply_json(r->reply, status, reply);
}

/* The request body as a JSON object; an empty body is {}. NULL (with the
 * error answered) if it is not a JSON object. */
static cJSON *s_body(s_req_t *r)
{
    if (!r->body || r->len == 0)
        return cJSON_CreateObject();
    char err[128];
    cJSON *obj = qc_json_parse_object(r->body, r->len, err, sizeof err);
    if (!obj)
        qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST, "the body must be a JSON object: %s", err);
    return obj;
}

/* ?limit= as 1..1000 (default S_DEFAULT_LIMIT); -1 with the error answered. */
static int s_limit(s_req_t *r)
{
    const char *text = r->query(r->query_cls, "limit");
    int64_t limit = S_DEFAULT_LIMIT;
    if (text && *text && qc_parse_int(text, 1, 1000, &limit) != 0) {
        qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                       "limit must be an integer from 1 to 1000, not \"%.32s\"", text);
        return -1;
    }
    return (int)limit;
}

static int s_state_valid(const char *state)
{
    static const char *states[] = {"pending", "processing", "completed", "failed",
                                   "dead",    "canceled",   "waiting"};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(state, states[i]) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- status */

static void s_get_status(s_req_t *r)
{
    cJSON *reply = s_call(r, s_request("status"));
    if (!reply)
        return;
    cJSON_AddStringToObject(reply, "live", qc_hub_polling(r->api->hub) ? "polling" : "events");
    qc_reply_json(r->reply, 200, reply);
}

static void s_get_throughput(s_req_t *r)
{
    qc_reply_json(r->reply, 200, qc_hub_throughput(r->api->hub, qc_clock_wall_ms() / 1000));
}

/* ---------------------------------------------------------------- jobs */

static cJSON *s_list_request(const char *state, int limit, const char *cursor)
{
    cJSON *request = s_request("list");
    if (state)
        cJSON_AddStringToObject(request, "state", state);
    cJSON_AddNumberToObject(request, "limit", limit);
    if (cursor && *cursor)
        cJSON_AddStringToObject(request, "cursor", cursor);
    return request;
}

static void s_get_jobs(s_req_t *r)
{
    const char *state = r->query(r->query_cls, "state");
    const char *cursor = r->query(r->query_cls, "cursor");
    const char *q = r->query(r->query_cls, "q");
    const char *queue = r->query(r->query_cls, "queue");
    if (queue && !*queue)
        queue = NULL;
    if (queue && !qc_job_id_valid(queue)) {
        qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                       "queue must be a queue name (1-128 of A-Z a-z 0-9 . _ : @ -), not "
                       "\"%.32s\"",
                       queue);
        return;
    }
    if (queue && q && *q) {
        qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                       "search (q) and queue cannot be combined: choose one");
        return;
    }
    if (state && (!*state || strcmp(state, "all") == 0))
        state = NULL;
    if (state && !s_state_valid(state)) {
        qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                       "state must be one of pending, processing, completed, failed, dead, "
                       "canceled, waiting, not \"%.32s\"",
                       state);
        return;
    }
    int limit = s_limit(r);
    if (limit < 0)
        return;
    if (cursor && !*cursor)
        cursor = NULL;
    cJSON *request = s_list_request(state, limit, cursor);
    if (queue)
        cJSON_AddStringToObject(request, "queue", queue);
    if (q && *q) {
        /* The broker searches (list with q), a bounded number of jobs per call. */
        if (strlen(q) > S_MAX_QUERY_BYTES || !qc_utf8_valid(q, strlen(q))) {
            cJSON_Delete(request);
            qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                           "q must be UTF-8 text of at most %d bytes", S_MAX_QUERY_BYTES);
            return;
        }
        cJSON_AddStringToObject(request, "q", q);
    }
    cJSON *reply = s_call(r, request);
    if (!reply)
        return;
    if (q && *q && !cJSON_GetObjectItemCaseSensitive(reply, "scanned")) {
        cJSON_Delete(reply); /* an older broker ignored q: don't pass its list off as matches */
        qc_reply_error(r->reply, 501, QC_E_UNKNOWN_OP,
                       "this broker cannot search (it is older than this dashboard)");
        return;
    }
    if (q && *q) {
        int found = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reply, "jobs"));
        cJSON_AddBoolToObject(reply, "partial",
                              found < limit && qc_json_string(reply, "next_cursor") != NULL);
    }
    qc_reply_json(r->reply, 200, reply);
}

static void s_post_jobs(s_req_t *r)
{
    cJSON *body = s_body(r);
    if (!body)
        return;
    cJSON *request = s_request("enqueue");
    cJSON *jobs = cJSON_DetachItemFromObjectCaseSensitive(body, "jobs");
    if (jobs && cJSON_GetArraySize(body) == 0) {
        cJSON_AddItemToObject(request, "jobs", jobs);
        cJSON_Delete(body);
    } else {
        if (jobs) /* "jobs" next to other fields: let the validation name it */
            cJSON_AddItemToObject(body, "jobs", jobs);
        cJSON_AddItemToObject(request, "job", body);
    }
    s_forward(r, request, 201);
}

static void s_get_job(s_req_t *r, const char *id)
{
    cJSON *request = s_request("get");
    cJSON_AddStringToObject(request, "id", id);
    s_forward(r, request, 200);
}

static void s_post_job_op(s_req_t *r, const char *op, const char *id)
{
    cJSON *body = s_body(r); /* ignored, but must be JSON if present */
    if (!body)
        return;
    cJSON_Delete(body);
    cJSON *request = s_request(op);
    cJSON_AddStringToObject(request, "id", id);
    s_forward(r, request, 200);
}

/* ---------------------------------------------------------------- dlq */

static void s_get_dlq(s_req_t *r)
{
    const char *cursor = r->query(r->query_cls, "cursor");
    int limit = s_limit(r);
    if (limit < 0)
        return;
    cJSON *request = s_request("dlq.list");
    cJSON_AddNumberToObject(request, "limit", limit);
    if (cursor && *cursor)
        cJSON_AddStringToObject(request, "cursor", cursor);
    s_forward(r, request, 200);
}

/* POST /api/dlq/retry-all [{ids}]: the broker revives the given jobs, or
 * every dead job, S_RETRY_ALL_PAGE per call, walking down from the newest
 * with its cursor so a job that dies again at once is not revived twice. */
static void s_post_dlq_retry_all(s_req_t *r)
{
    cJSON *body = s_body(r);
    if (!body)
        return;
    cJSON *ids = cJSON_DetachItemFromObjectCaseSensitive(body, "ids");
    int extra = cJSON_GetArraySize(body);
    cJSON_Delete(body);
    if (extra) {
        cJSON_Delete(ids);
        qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST, "the body may hold only \"ids\"");
        return;
    }
    if (ids) {
        cJSON *request = s_request("dlq.retry");
        cJSON_AddItemToObject(request, "ids", ids);
        s_forward(r, request, 200);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON *retried = cJSON_AddArrayToObject(out, "retried");
    cJSON_AddArrayToObject(out, "failed");
    char cursor[32] = "";
    int more = 1;
    for (int calls = 0; more && calls < S_RETRY_ALL_MAX / S_RETRY_ALL_PAGE; calls++) {
        cJSON *request = s_request("dlq.retry");
        cJSON_AddBoolToObject(request, "all", 1);
        if (cursor[0])
            cJSON_AddStringToObject(request, "cursor", cursor);
        cJSON *reply = s_call(r, request);
        if (!reply) {
            cJSON_Delete(out);
            return;
        }
        cJSON *page = cJSON_GetObjectItemCaseSensitive(reply, "retried");
        while (page && page->child)
            cJSON_AddItemToArray(retried, cJSON_DetachItemViaPointer(page, page->child));
        const char *next = qc_json_string(reply, "next_cursor");
        more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "more")) && next &&
               strlen(next) < sizeof cursor;
        if (more)
            snprintf(cursor, sizeof cursor, "%s", next);
        cJSON_Delete(reply);
    }
    cJSON_AddBoolToObject(out, "more", more);
    qc_reply_json(r->reply, 200, out);
}

/* GET /api/states?ids=a,b,c: each job's state, no output (the broker's states op). */
static void s_get_states(s_req_t *r)
{
    const char *text = r->query(r->query_cls, "ids");
    if (!text || !*text || strlen(text) > S_STATES_MAX_BYTES) {
        qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                       "ids must be 1 to %d job ids separated by commas, at most %d bytes",
                       S_STATES_MAX_IDS, S_STATES_MAX_BYTES);
        return;
    }
    char *copy = strdup(text);
    cJSON *ids = cJSON_CreateArray();
    int count = 0;
    for (char *save = NULL, *id = copy ? strtok_r(copy, ",", &save) : NULL; id;
         id = strtok_r(NULL, ",", &save), count++) {
        if (!qc_job_id_valid(id) || count >= S_STATES_MAX_IDS) {
            qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                           "ids must be 1 to %d job ids separated by commas", S_STATES_MAX_IDS);
            cJSON_Delete(ids);
            free(copy);
            return;
        }
        cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    }
    free(copy);
    cJSON *request = s_request("states");
    cJSON_AddItemToObject(request, "ids", ids);
    s_forward(r, request, 200);
}

/* POST /api/dlq/purge {older_than_s?} and POST /api/prune {states, older_than_s}:
 * the body is passed on as the op's arguments. */
static void s_post_passthrough(s_req_t *r, const char *op)
{
    cJSON *body = s_body(r);
    if (!body)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(body, "op");
    cJSON_AddStringToObject(body, "op", op);
    s_forward(r, body, 200);
}

/* ---------------------------------------------------------------- workers */

static void s_post_workers_stop(s_req_t *r)
{
    cJSON *body = s_body(r);
    if (!body)
        return;
    const cJSON *worker_id = cJSON_GetObjectItemCaseSensitive(body, "worker_id");
    cJSON *request = s_request("workers.stop");
    if (worker_id && !cJSON_IsNull(worker_id)) {
        if (!cJSON_IsString(worker_id) || !worker_id->valuestring[0]) {
            cJSON_Delete(body);
            cJSON_Delete(request);
            qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                           "worker_id must be a non-empty string (or absent: all workers)");
            return;
        }
        cJSON_AddStringToObject(request, "worker_id", worker_id->valuestring);
    }
    for (const cJSON *item = body->child; item; item = item->next)
        if (strcmp(item->string, "worker_id") != 0) {
            qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                           "unknown field \"%.64s\" (only worker_id)", item->string);
            cJSON_Delete(body);
            cJSON_Delete(request);
            return;
        }
    cJSON_Delete(body);
    s_forward(r, request, 200);
}

/* ---------------------------------------------------------------- queues */

/* POST /api/queues/{name}/pause|resume: queue.pause or queue.resume. */
static void s_post_queue_op(s_req_t *r, const char *op, const char *name)
{
    cJSON *body = s_body(r); /* ignored, but must be JSON if present */
    if (!body)
        return;
    cJSON_Delete(body);
    cJSON *request = s_request(op);
    cJSON_AddStringToObject(request, "queue", name);
    s_forward(r, request, 200);
}

/* ---------------------------------------------------------------- config */

/* One config.set; 0, or -1 with the error answered (naming the key). */
static int s_config_set(s_req_t *r, const char *key, const cJSON *value, const cJSON *applied)
{
    if (!cJSON_IsString(value) && !cJSON_IsNumber(value)) {
        qc_reply_error(r->reply, 400, QC_E_INVALID_CONFIG,
                       "%.64s: the value must be a string or a number", key);
        return -1;
    }
    cJSON *request = s_request("config.set");
    cJSON_AddStringToObject(request, "key", key);
    cJSON_AddItemToObject(request, "value", cJSON_Duplicate(value, 0));
    cJSON *reply = s_call(r, request);
    if (!reply) {
        /* prefix the key and list what was already applied */
        cJSON *error = r->reply->body ? cJSON_Parse(r->reply->body) : NULL;
        cJSON *err = cJSON_GetObjectItemCaseSensitive(error, "error");
        const char *message = qc_json_string(err, "message");
        if (err && message) {
            char text[600];
            snprintf(text, sizeof text, "%.64s: %s", key, message);
            cJSON_ReplaceItemInObjectCaseSensitive(err, "message", cJSON_CreateString(text));
            cJSON_AddItemToObject(err, "applied", cJSON_Duplicate(applied, 1));
            qc_reply_json(r->reply, r->reply->status, error);
        } else {
            cJSON_Delete(error);
        }
        return -1;
    }
    cJSON_Delete(reply);
    return 0;
}

static void s_put_config(s_req_t *r)
{
    cJSON *body = s_body(r);
    if (!body)
        return;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(body, "key");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, "value");
    cJSON *applied = cJSON_CreateArray();
    int count = cJSON_GetArraySize(body), rc = 0;
    if (count == 0 || count > S_CONFIG_MAX_KEYS) {
        qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                       "the body must be {\"key\": K, \"value\": V} or an object of 1 to %d "
                       "keys",
                       S_CONFIG_MAX_KEYS);
        rc = -1;
    } else if (key && value && count == 2) {
        if (!cJSON_IsString(key)) {
            qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST, "key must be a string");
            rc = -1;
        } else {
            rc = s_config_set(r, key->valuestring, value, applied);
        }
    } else {
        for (const cJSON *item = body->child; item && rc == 0; item = item->next) {
            rc = s_config_set(r, item->string, item, applied);
            if (rc == 0)
                cJSON_AddItemToArray(applied, cJSON_CreateString(item->string));
        }
    }
    cJSON_Delete(applied);
    cJSON_Delete(body);
    if (rc == 0)
        s_forward(r, s_request("config.get"), 200);
}

/* ---------------------------------------------------------------- routing */

/* Splits path into at most max segments (in buf). Returns the count, or -1
 * if there are more. */
static int s_split(const char *path, char *buf, size_t len, char **segments, int max)
{
    snprintf(buf, len, "%s", path);
    int n = 0;
    for (char *save = NULL, *part = strtok_r(buf, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        if (n == max)
            return -1;
        segments[n++] = part;
    }
    return n;
}

static int s_method_is(s_req_t *r, const char *allowed)
{
    if (strcmp(r->method, allowed) == 0 ||
        (strcmp(allowed, "GET") == 0 && strcmp(r->method, "HEAD") == 0))
        return 1;
    qc_reply_error(r->reply, 405, "method_not_allowed", "%s is not allowed here (use %s)",
                   r->method, allowed);
    r->reply->allow = allowed;
    return 0;
}

/* A job id from the path; 0, or -1 with 400 answered. */
static int s_path_id(s_req_t *r, const char *id)
{
    if (qc_job_id_valid(id))
        return 0;
    qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                   "\"%.140s\" is not a job id (1-128 of A-Z a-z 0-9 . _ : @ -)", id);
    return -1;
}

/* A queue name from the path (the same rules as job ids); 0, or -1 with 400. */
static int s_path_queue(s_req_t *r, const char *name)
{
    if (qc_job_id_valid(name))
        return 0;
    qc_reply_error(r->reply, 400, QC_E_BAD_REQUEST,
                   "\"%.140s\" is not a queue name (1-128 of A-Z a-z 0-9 . _ : @ -)", name);
    return -1;
}

void qc_api_handle(qc_api_t *self, const qc_api_request_t *request, qc_reply_t *reply)
{
    const char *method = request->method, *path = request->path;
    s_req_t r = {self,          method,       request->query, request->query_cls,
                 request->body, request->len, reply};
    char buf[512];
    char *seg[5];
    int n = strlen(path) < sizeof buf ? s_split(path, buf, sizeof buf, seg, 5) : -1;
    if (n == 1 && strcmp(seg[0], "metrics") == 0) {
        if (s_method_is(&r, "GET"))
            qc_metrics_render(self->upstream, reply);
        return;
    }
    if (n < 2 || strcmp(seg[0], "api") != 0) {
        qc_reply_error(reply, 404, QC_E_NOT_FOUND, "no such API path");
        return;
    }
    const char *what = seg[1];
    if (n == 2 && strcmp(what, "status") == 0) {
        if (s_method_is(&r, "GET"))
            s_get_status(&r);
    } else if (n == 2 && strcmp(what, "states") == 0) {
        if (s_method_is(&r, "GET"))
            s_get_states(&r);
    } else if (n == 2 && strcmp(what, "throughput") == 0) {
        if (s_method_is(&r, "GET"))
            s_get_throughput(&r);
    } else if (n == 2 && strcmp(what, "jobs") == 0) {
        if (strcmp(method, "POST") == 0)
            s_post_jobs(&r);
        else if (s_method_is(&r, "GET"))
            s_get_jobs(&r);
        else
            reply->allow = "GET, POST";
    } else if (n == 3 && strcmp(what, "jobs") == 0) {
        if (s_path_id(&r, seg[2]) == 0 && s_method_is(&r, "GET"))
            s_get_job(&r, seg[2]);
    } else if (n == 4 && strcmp(what, "jobs") == 0 && strcmp(seg[3], "cancel") == 0) {
        if (s_path_id(&r, seg[2]) == 0 && s_method_is(&r, "POST"))
            s_post_job_op(&r, "cancel", seg[2]);
    } else if (n == 2 && strcmp(what, "dlq") == 0) {
        if (s_method_is(&r, "GET"))
            s_get_dlq(&r);
    } else if (n == 3 && strcmp(what, "dlq") == 0 && strcmp(seg[2], "retry-all") == 0) {
        if (s_method_is(&r, "POST"))
            s_post_dlq_retry_all(&r);
    } else if (n == 3 && strcmp(what, "dlq") == 0 && strcmp(seg[2], "purge") == 0) {
        if (s_method_is(&r, "POST"))
            s_post_passthrough(&r, "dlq.purge");
    } else if (n == 4 && strcmp(what, "dlq") == 0 && strcmp(seg[3], "retry") == 0) {
        if (s_path_id(&r, seg[2]) == 0 && s_method_is(&r, "POST"))
            s_post_job_op(&r, "dlq.retry", seg[2]);
    } else if (n == 2 && strcmp(what, "prune") == 0) {
        if (s_method_is(&r, "POST"))
            s_post_passthrough(&r, "prune");
    } else if (n == 2 && strcmp(what, "workers") == 0) {
        if (s_method_is(&r, "GET"))
            s_forward(&r, s_request("workers.list"), 200);
    } else if (n == 3 && strcmp(what, "workers") == 0 && strcmp(seg[2], "stop") == 0) {
        if (s_method_is(&r, "POST"))
            s_post_workers_stop(&r);
    } else if (n == 2 && strcmp(what, "queues") == 0) {
        if (s_method_is(&r, "GET"))
            s_forward(&r, s_request("queue.list"), 200);
    } else if (n == 4 && strcmp(what, "queues") == 0 &&
               (strcmp(seg[3], "pause") == 0 || strcmp(seg[3], "resume") == 0)) {
        if (s_path_queue(&r, seg[2]) == 0 && s_method_is(&r, "POST"))
            s_post_queue_op(&r, strcmp(seg[3], "pause") == 0 ? "queue.pause" : "queue.resume",
                            seg[2]);
    } else if (n == 2 && strcmp(what, "config") == 0) {
        if (strcmp(method, "PUT") == 0)
            s_put_config(&r);
        else if (s_method_is(&r, "GET"))
            s_forward(&r, s_request("config.get"), 200);
        else
            reply->allow = "GET, PUT";
    } else {
        qc_reply_error(reply, 404, QC_E_NOT_FOUND, "no such API path");
    }
}
