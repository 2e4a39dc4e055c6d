/* GET /metrics: the broker's metrics op in the Prometheus text format 0.0.4
 * (docs/API.md lists every metric). */
#include "metrics.h"
#include "queuectl/job.h"
#include "queuectl/json.h"
#include "queuectl/proto.h"
#include "queuectl/protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

/* Appends printf output to a growing buffer; returns -1 when out of memory. */
typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} s_text_t;

static void s_text_add(s_text_t *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_text_add(s_text_t *text, const char *fmt, ...)
{
    for (int round = 0; round < 2 && !text->failed; round++) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(text->data ? text->data + text->len : NULL,
                          text->data ? text->cap - text->len : 0, fmt, args);
        va_end(args);
        if (n < 0) {
            text->failed = 1;
            return;
        }
        if (text->data && text->len + (size_t)n < text->cap) {
            text->len += (size_t)n;
            return;
        }
        size_t cap = (text->cap ? text->cap : 4096);
        while (cap <= text->len + (size_t)n)
            cap *= 2;
        char *grown = realloc(text->data, cap);
        if (!grown) {
            text->failed = 1;
            return;
        }
        text->data = grown;
        text->cap = cap;
    }
}

static void s_metric_head(s_text_t *text, const char *name, const char *type, const char *help)
{
    s_text_add(text, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static double s_number(const cJSON *obj, const char *key, double otherwise)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(item) ? item->valuedouble : otherwise;
}

/* A label value we write unescaped: a state name. */
static int s_label_ok(const char *value)
{
    if (!value || !*value || strlen(value) > 32)
        return 0;
    for (const char *c = value; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
            return 0;
    return 1;
}

/* A histogram in ms from the metrics op, written in seconds. */
static void s_metric_histogram(s_text_t *text, const cJSON *histogram, const char *name,
                               const char *help)
{
    const cJSON *buckets = cJSON_GetObjectItemCaseSensitive(histogram, "buckets");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(histogram, "counts");
    if (!cJSON_IsArray(buckets) || !cJSON_IsArray(counts))
        return;
    double count = s_number(histogram, "count", 0);
    s_metric_head(text, name, "histogram", help);
    const cJSON *le = buckets->child, *n = counts->child;
    int saw_inf = 0;
    for (; le && n; le = le->next, n = n->next) {
        if (cJSON_IsString(le) && strcmp(le->valuestring, "+Inf") == 0) {
            saw_inf = 1;
            s_text_add(text, "%s_bucket{le=\"+Inf\"} %.17g\n", name, n->valuedouble);
        } else if (cJSON_IsNumber(le)) {
            s_text_add(text, "%s_bucket{le=\"%g\"} %.17g\n", name, le->valuedouble / 1000.0,
                       n->valuedouble);
        }
    }
    if (!saw_inf)
        s_text_add(text, "%s_bucket{le=\"+Inf\"} %.17g\n", name, count);
    s_text_add(text, "%s_sum %.17g\n%s_count %.17g\n", name, s_number(histogram, "sum", 0) / 1000.0,
               name, count);
}

/* GET /metrics: the metrics op in the Prometheus text format (0.0.4). An
 * older broker without it gives the gauges from status only; a silent one
 * gives queuectl_broker_up 0. */
static cJSON *s_ask(qc_upstream_t *upstream, const char *op)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", op);
    int no_answer = 0;
    cJSON *reply = qc_upstream_call(upstream, request, &no_answer);
    cJSON_Delete(request);
    return reply;
}

void qc_metrics_render(qc_upstream_t *upstream, qc_reply_t *out)
{
    cJSON *reply = s_ask(upstream, "metrics");
    const char *code = qc_json_string(cJSON_GetObjectItemCaseSensitive(reply, "error"), "code");
    if (code && strcmp(code, QC_E_UNKNOWN_OP) == 0) {
        cJSON_Delete(reply);
        reply = s_ask(upstream, "status");
    }
    int up = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
    s_text_t text = {0};
    s_metric_head(&text, "queuectl_broker_up", "gauge",
                  "1 if the broker answered the dashboard's last request.");
    s_text_add(&text, "queuectl_broker_up %d\n", up);
    if (up) {
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(reply, "counts");
        s_metric_head(&text, "queuectl_jobs", "gauge", "Jobs per state.");
        for (const cJSON *item = counts ? counts->child : NULL; item; item = item->next)
            if (cJSON_IsNumber(item) && s_label_ok(item->string))
                s_text_add(&text, "queuectl_jobs{state=\"%s\"} %.17g\n", item->string,
                           item->valuedouble);
        const cJSON *totals = cJSON_GetObjectItemCaseSensitive(reply, "totals");
        static const struct {
            const char *key, *name, *help;
        } counters[] = {
            {"enqueued", "queuectl_jobs_enqueued_total", "Jobs enqueued."},
            {"completed", "queuectl_jobs_completed_total", "Jobs completed."},
            {"failed", "queuectl_jobs_failed_total", "Failed attempts."},
            {"dead", "queuectl_jobs_dead_total", "Jobs moved to the dead-letter queue."},
            {"retried", "queuectl_job_retries_total", "Retries scheduled after a failed attempt."},
            {"canceled", "queuectl_jobs_canceled_total", "Jobs canceled."},
        };
        for (size_t i = 0; totals && i < sizeof counters / sizeof counters[0]; i++) {
            const cJSON *value = cJSON_GetObjectItemCaseSensitive(totals, counters[i].key);
            if (!cJSON_IsNumber(value))
                continue;
            s_metric_head(&text, counters[i].name, "counter", counters[i].help);
            s_text_add(&text, "%s %.17g\n", counters[i].name, value->valuedouble);
        }
        /* Per queue: jobs per state, paused, the cap on running jobs. Queue
         * names have the id character set: no quote, backslash or newline. */
        const cJSON *queues = cJSON_GetObjectItemCaseSensitive(reply, "queues"), *q;
        if (cJSON_GetArraySize(queues) > 0) {
            s_metric_head(&text, "queuectl_queue_jobs", "gauge", "Jobs per queue and state.");
            cJSON_ArrayForEach(q, queues)
            {
                const char *name = qc_json_string(q, "name");
                const cJSON *per = cJSON_GetObjectItemCaseSensitive(q, "counts");
                for (const cJSON *item = per ? per->child : NULL; name && item; item = item->next)
                    if (cJSON_IsNumber(item) && s_label_ok(item->string) && qc_job_id_valid(name))
                        s_text_add(&text, "queuectl_queue_jobs{queue=\"%s\",state=\"%s\"} %.17g\n",
                                   name, item->string, item->valuedouble);
            }
            s_metric_head(&text, "queuectl_queue_paused", "gauge", "1 if the queue is paused.");
            cJSON_ArrayForEach(q, queues)
            {
                const char *name = qc_json_string(q, "name");
                if (name && qc_job_id_valid(name))
                    s_text_add(&text, "queuectl_queue_paused{queue=\"%s\"} %d\n", name,
                               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "paused")));
            }
            s_metric_head(&text, "queuectl_queue_max_running", "gauge",
                          "The queue's cap on running jobs (absent: none).");
            cJSON_ArrayForEach(q, queues)
            {
                const char *name = qc_json_string(q, "name");
                const cJSON *cap = cJSON_GetObjectItemCaseSensitive(q, "max_running");
                if (name && qc_job_id_valid(name) && cJSON_IsNumber(cap))
                    s_text_add(&text, "queuectl_queue_max_running{queue=\"%s\"} %.17g\n", name,
                               cap->valuedouble);
            }
        }
        s_metric_head(&text, "queuectl_workers", "gauge", "Workers connected.");
        s_text_add(&text, "queuectl_workers %.17g\n", s_number(reply, "workers", 0));
        s_metric_head(&text, "queuectl_workers_busy_slots", "gauge",
                      "Jobs running on connected workers.");
        s_text_add(&text, "queuectl_workers_busy_slots %.17g\n", s_number(reply, "busy", 0));
        s_metric_head(&text, "queuectl_oldest_pending_age_seconds", "gauge",
                      "Age of the oldest pending job, as status reports it (0 if none).");
        s_text_add(&text, "queuectl_oldest_pending_age_seconds %.17g\n",
                   s_number(reply, "oldest_pending_age_s", 0));
        s_metric_histogram(&text, cJSON_GetObjectItemCaseSensitive(reply, "dispatch_latency_ms"),
                           "queuectl_dispatch_latency_seconds",
                           "Time from a job being due to its dispatch to a worker.");
        s_metric_histogram(&text, cJSON_GetObjectItemCaseSensitive(reply, "run_time_ms"),
                           "queuectl_job_run_seconds", "Run time of finished attempts.");
        /* A database server's cost (PostgreSQL only), since the broker started. */
        static const struct {
            const char *key, *name, *help;
        } store[] = {
            {"store_round_trips", "queuectl_store_round_trips_total",
             "Times the broker waited for the database server."},
            {"store_transactions", "queuectl_store_transactions_total",
             "Database transactions begun."},
        };
        for (size_t i = 0; i < sizeof store / sizeof store[0]; i++) {
            const cJSON *value = cJSON_GetObjectItemCaseSensitive(reply, store[i].key);
            if (!cJSON_IsNumber(value))
                continue;
            s_metric_head(&text, store[i].name, "counter", store[i].help);
            s_text_add(&text, "%s %.17g\n", store[i].name, value->valuedouble);
        }
    }
    cJSON_Delete(reply);
    if (text.failed) {
        free(text.data);
        qc_reply_error(out, 500, "internal", "out of memory");
        return;
    }
    qc_reply_clear(out);
    out->status = 200;
    out->content_type = S_PROMETHEUS;
    out->body = text.data;
    out->len = text.len;
}
