/* Commands that follow the queue as it moves: events, logs -f, wait, watch.
 * Each subscribes to the broker's events (PROTOCOL.md 4) and, because PUB is
 * best-effort, also re-reads the truth from the broker now and then. */
#include "ctl.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/job.h"
#include "queuectl/parse.h"
#include "queuectl/json.h"
#include "queuectl/protocol.h"

#include <czmq.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t s_interrupted = 0;

static void s_on_interrupt(int signo)
{
    (void)signo;
    s_interrupted = 1;
}

static void s_catch_interrupts(void)
{
    struct sigaction action = {0};
    action.sa_handler = s_on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    zsys_handler_set(NULL);
}

/* A SUB socket on the broker's events endpoint, subscribed to each prefix. */
static int s_subscribe(qc_ctl_t *ctl, const char *const *prefixes, int count, zsock_t **sub_out)
{
    char endpoint[1024], err[512];
    int rc = qc_ctl_broker_endpoint(ctl, "events_endpoint", endpoint, sizeof endpoint);
    if (rc != QC_CTL_OK)
        return rc;
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub)
        return QC_CTL_REFUSED;
    zsock_set_linger(sub, 0);
    if (qc_curve_client_apply(sub, endpoint, ctl->curve_key, ctl->server_key, "client",
                              ctl->insecure, err, sizeof err) != 0) {
        zsock_destroy(&sub);
        return qc_ctl_usage_error("%s", err);
    }
    for (int i = 0; i < count; i++)
        zsock_set_subscribe(sub, prefixes[i]);
    if (zsock_connect(sub, "%s", endpoint) != 0) {
        zsock_destroy(&sub);
        return qc_ctl_usage_error("cannot connect to the events endpoint %s", endpoint);
    }
    *sub_out = sub;
    return QC_CTL_OK;
}

/* Receives one event within timeout_ms: 1 with topic/body set (caller owns
 * both), 0 on timeout or interruption. */
static int s_next_event(zsock_t *sub, int timeout_ms, char **topic, cJSON **body)
{
    zmq_pollitem_t item = {zsock_resolve(sub), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return 0;
    zmsg_t *msg = zmsg_recv(sub);
    if (!msg)
        return 0;
    *topic = zmsg_popstr(msg);
    zframe_t *frame = zmsg_pop(msg);
    char err[128];
    *body = frame ? qc_json_parse_object((const char *)zframe_data(frame), zframe_size(frame), err,
                                         sizeof err)
                  : NULL;
    zframe_destroy(&frame);
    zmsg_destroy(&msg);
    if (!*topic || !*body) {
        free(*topic);
        cJSON_Delete(*body);
        return 0;
    }
    return 1;
}

static int s_terminal_state(const char *state)
{
    return state && (strcmp(state, "completed") == 0 || strcmp(state, "dead") == 0 ||
                     strcmp(state, "canceled") == 0);
}

/* ---- events ------------------------------------------------------------ */

int qc_cmd_events(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"state", 0, 1}, {"workers", 0, 0}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *state = qc_flags_value(flags, "state");
    int workers = qc_flags_count(flags, "workers") > 0;
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("events: unexpected argument \"%s\" (use --state S, --workers, "
                                "--json)",
                                qc_flags_arg(flags, 0));
    else if (state && qc_state_parse(state) < 0)
        rc = qc_ctl_usage_error("events: --state must be pending, processing, completed, "
                                "failed, dead, canceled or waiting");
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "job.%s", state ? state : "");
    const char *prefixes[] = {prefix, "worker."};
    zsock_t *sub;
    rc = s_subscribe(ctl, prefixes, workers ? 2 : 1, &sub);
    if (rc != QC_CTL_OK)
        return rc;
    s_catch_interrupts();
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (!s_interrupted) {
        char *topic;
        cJSON *body;
        if (!s_next_event(sub, 500, &topic, &body))
            continue;
        if (ctl->json) {
            cJSON_AddStringToObject(body, "topic", topic);
            char *text = cJSON_PrintUnformatted(body);
            printf("%s\n", text);
            cJSON_free(text);
        } else if (strncmp(topic, "job.", 4) == 0) {
            int64_t attempt = 0, exit_code = -1;
            qc_json_int(body, "attempt", &attempt);
            qc_json_int(body, "exit_code", &exit_code);
            const char *st = topic + 4;
            printf("%s  %s%-10s%s %s", qc_json_string(body, "at"), qc_out_state_color(st), st,
                   qc_out_reset(), qc_json_string(body, "id"));
            if (attempt > 0)
                printf("  attempt %lld", (long long)attempt);
            if (exit_code >= 0)
                printf("  exit %lld", (long long)exit_code);
            if (qc_json_string(body, "worker_id"))
                printf("  on %s", qc_json_string(body, "worker_id"));
            if (qc_json_string(body, "error") && strcmp(st, "canceled") != 0)
                printf("  (%s)", qc_json_string(body, "error"));
            if (qc_json_string(body, "command"))
                printf("  %s", qc_json_string(body, "command"));
            printf("\n");
        } else {
            printf("%s  %-10s %s (host %s, pid %lld)\n", qc_json_string(body, "at"), topic,
                   qc_json_string(body, "worker_id"), qc_json_string(body, "host"),
                   (long long)cJSON_GetObjectItem(body, "pid")->valuedouble);
        }
        free(topic);
        cJSON_Delete(body);
    }
    zsock_destroy(&sub);
    return QC_CTL_OK;
}

/* ---- logs -------------------------------------------------------------- */

/* The job object from get, or NULL with an exit code in *rc. Caller owns. */
static cJSON *s_get_job(qc_ctl_t *ctl, const char *id, int *rc)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "get");
    cJSON_AddStringToObject(request, "id", id);
    cJSON *reply;
    *rc = qc_ctl_call(ctl, request, &reply);
    if (*rc != QC_CTL_OK)
        return NULL;
    cJSON *job = cJSON_DetachItemFromObject(reply, "job");
    cJSON_Delete(reply);
    return job;
}

int qc_cmd_logs(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"follow", 'f', 0}, {"attempt", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *id = qc_flags_arg(flags, 0), *attempt = qc_flags_value(flags, "attempt");
    int follow = qc_flags_count(flags, "follow") > 0;
    int64_t want_attempt = 0;
    if (qc_flags_argc(flags) > 1)
        rc = qc_ctl_usage_error("logs: one job id, please");
    else if (!id || !qc_job_id_valid(id))
        rc = qc_ctl_usage_error("logs: give a valid job id");
    else if (attempt && qc_parse_int(attempt, 1, 100000, &want_attempt) != 0)
        rc = qc_ctl_usage_error("logs: --attempt must be a positive number");
    qc_flags_destroy(&flags); /* id points into argv */
    if (rc != QC_CTL_OK)
        return rc;
    if (follow && want_attempt)
        return qc_ctl_usage_error("logs: -f follows the running attempt; drop --attempt");

    zsock_t *sub = NULL;
    char output[QC_MAX_ID_BYTES + 16];
    snprintf(output, sizeof output, "output.%s", id);
    if (follow) {
        /* Subscribe before looking, so nothing between the two is missed. */
        const char *prefixes[] = {output, "job."};
        if ((rc = s_subscribe(ctl, prefixes, 2, &sub)) != QC_CTL_OK)
            return rc;
        s_catch_interrupts();
        zclock_sleep(50); /* let the subscription reach the broker */
    }
    cJSON *job = s_get_job(ctl, id, &rc);
    if (!job) {
        zsock_destroy(&sub);
        return rc;
    }
    const char *state = qc_json_string(job, "state");
    if (!follow || s_terminal_state(state)) {
        /* The captured tails of the chosen (default: latest) attempt. */
        const cJSON *log = cJSON_GetObjectItem(job, "attempts_log"), *a, *chosen = NULL;
        cJSON_ArrayForEach(a, log)
        {
            int64_t n = 0;
            qc_json_int(a, "attempt", &n);
            if (!want_attempt || n == want_attempt)
                chosen = a;
        }
        if (!chosen && want_attempt) {
            cJSON_Delete(job);
            zsock_destroy(&sub);
            fprintf(stderr, "queuectl: job %s has no attempt %lld\n", id, (long long)want_attempt);
            return QC_CTL_REFUSED;
        }
        if (chosen) {
            const char *out = qc_json_string(chosen, "stdout_tail");
            const char *err = qc_json_string(chosen, "stderr_tail");
            fputs(out ? out : "", stdout);
            fputs(err ? err : "", stderr);
        }
        cJSON_Delete(job);
        zsock_destroy(&sub);
        return QC_CTL_OK;
    }
    cJSON_Delete(job);
    /* Follow: print output as it comes, until the job is finished for good. */
    setvbuf(stdout, NULL, _IONBF, 0);
    int64_t next_check = qc_clock_mono_ms() + 1000;
    int done = 0;
    while (!done && !s_interrupted) {
        char *topic;
        cJSON *body;
        if (s_next_event(sub, 250, &topic, &body)) {
            const char *event_id = qc_json_string(body, "id");
            /* The subscription is a prefix: "output.build" also brings
             * "output.build-2". Only this job's topic counts. */
            if (strcmp(topic, output) == 0) {
                const char *stream = qc_json_string(body, "stream");
                const char *data = qc_json_string(body, "data");
                fputs(data ? data : "", stream && strcmp(stream, "stderr") == 0 ? stderr : stdout);
            } else if (event_id && strcmp(event_id, id) == 0 && s_terminal_state(topic + 4)) {
                done = 1;
            }
            free(topic);
            cJSON_Delete(body);
        }
        if (!done && qc_clock_mono_ms() >= next_check) {
            cJSON *now = s_get_job(ctl, id, &rc);
            if (!now)
                break;
            done = s_terminal_state(qc_json_string(now, "state"));
            cJSON_Delete(now);
            next_check = qc_clock_mono_ms() + 1000;
        }
    }
    zsock_destroy(&sub);
    return rc == QC_CTL_OK || done ? QC_CTL_OK : rc;
}

/* ---- wait -------------------------------------------------------------- */

static void s_progress(int done, int total, int dead, int64_t started_ms)
{
    double elapsed = (double)(qc_clock_mono_ms() - started_ms) / 1000.0;
    double rate = elapsed > 0 ? done / elapsed : 0;
    int width = 30, filled = total ? done * width / total : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %d/%d done, %d failed, %.1f/s", bar, done, total, dead, rate);
    if (rate > 0 && done < total)
        fprintf(stderr, ", ETA %.0fs ", (total - done) / rate);
    else
        fprintf(stderr, "          ");
}

int qc_wait_for(qc_ctl_t *ctl, const char *const *ids, int count, int show_progress, int *dead)
{
    zsock_t *sub = NULL;
    const char *prefixes[] = {"job."};
    int rc = s_subscribe(ctl, prefixes, 1, &sub);
    if (rc != QC_CTL_OK)
        return rc;
    s_catch_interrupts();
    int progress = show_progress && isatty(STDERR_FILENO);
    zhashx_t *open_ids = zhashx_new(); /* id -> non-NULL, jobs not finished yet */
    for (int i = 0; i < count; i++)
        zhashx_insert(open_ids, ids[i], (void *)1);
    int total = (int)zhashx_size(open_ids);
    *dead = 0;
    int64_t started = qc_clock_mono_ms(), next_check = 0;
    while (zhashx_size(open_ids) > 0 && !s_interrupted) {
        if (qc_clock_mono_ms() >= next_check) {
            /* The truth, for what events may have missed: the states of the
             * open jobs, 10,000 ids a request, no output read. */
            zlistx_t *keys = zhashx_keys(open_ids);
            const char *id = zlistx_first(keys);
            while (id && rc == QC_CTL_OK) {
                cJSON *request = cJSON_CreateObject();
                cJSON_AddStringToObject(request, "op", "states");
                cJSON *list = cJSON_AddArrayToObject(request, "ids");
                for (int n = 0; id && n < 10000; n++, id = zlistx_next(keys))
                    cJSON_AddItemToArray(list, cJSON_CreateString(id));
                cJSON *reply = NULL;
                rc = qc_ctl_call(ctl, request, &reply);
                const cJSON *entry;
                cJSON_ArrayForEach(entry, cJSON_GetObjectItem(reply, "jobs"))
                {
                    const char *job_id = qc_json_string(entry, "id");
                    const char *state = qc_json_string(entry, "state");
                    if (job_id && !state) {
                        fprintf(stderr, "queuectl: no job \"%s\"\n", job_id);
                        rc = QC_CTL_REFUSED;
                    } else if (job_id && s_terminal_state(state)) {
                        *dead += strcmp(state, "completed") != 0;
                        zhashx_delete(open_ids, job_id);
                    }
                }
                cJSON_Delete(reply);
            }
            zlistx_destroy(&keys);
            if (rc != QC_CTL_OK)
                break;
            next_check = qc_clock_mono_ms() + 2000;
        }
        char *topic;
        cJSON *body;
        if (s_next_event(sub, 200, &topic, &body)) {
            const char *id = qc_json_string(body, "id");
            if (id && zhashx_lookup(open_ids, id) && s_terminal_state(topic + 4)) {
                *dead += strcmp(topic, "job.completed") != 0;
                zhashx_delete(open_ids, id);
            }
            free(topic);
            cJSON_Delete(body);
        }
        if (progress)
            s_progress(total - (int)zhashx_size(open_ids), total, *dead, started);
    }
    if (progress)
        fprintf(stderr, "\n");
    int interrupted = zhashx_size(open_ids) > 0;
    zhashx_destroy(&open_ids);
    zsock_destroy(&sub);
    if (rc == QC_CTL_OK && interrupted)
        rc = QC_CTL_REFUSED;
    return rc;
}

int qc_cmd_wait(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"all", 0, 0}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    int all = qc_flags_count(flags, "all") > 0;
    int count = qc_flags_argc(flags);
    const char **ids = calloc((size_t)count + 1, sizeof *ids);
    for (int i = 0; i < count; i++) { /* the strings point into argv */
        ids[i] = qc_flags_arg(flags, i);
        if (!qc_job_id_valid(ids[i]) && rc == QC_CTL_OK)
            rc = qc_ctl_usage_error("wait: \"%s\" is not a job id (use ID..., or --all)", ids[i]);
    }
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK) {
        free(ids);
        return rc;
    }
    if ((count == 0) == !all) {
        free(ids);
        return qc_ctl_usage_error("wait: give job ids, or --all for every unfinished job");
    }
    cJSON *found = NULL;
    if (all) {
        /* Every job not yet finished, page by page. */
        found = cJSON_CreateArray();
        static const char *const waiting[] = {"pending", "processing", "failed"};
        for (int s = 0; s < 3; s++) {
            char cursor[32] = "";
            do {
                cJSON *request = cJSON_CreateObject();
                cJSON_AddStringToObject(request, "op", "list");
                cJSON_AddStringToObject(request, "state", waiting[s]);
                cJSON_AddNumberToObject(request, "limit", 1000);
                if (cursor[0])
                    cJSON_AddStringToObject(request, "cursor", cursor);
                cJSON *reply;
                if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK) {
                    cJSON_Delete(found);
                    free(ids);
                    return rc;
                }
                const cJSON *job;
                cJSON_ArrayForEach(job, cJSON_GetObjectItem(reply, "jobs"))
                    cJSON_AddItemToArray(found, cJSON_CreateString(qc_json_string(job, "id")));
                const char *next = qc_json_string(reply, "next_cursor");
                snprintf(cursor, sizeof cursor, "%s", next ? next : "");
                cJSON_Delete(reply);
            } while (cursor[0]);
        }
        int n = cJSON_GetArraySize(found);
        free(ids);
        ids = calloc((size_t)n + 1, sizeof *ids);
        const cJSON *item;
        cJSON_ArrayForEach(item, found) ids[count++] = item->valuestring;
    }
    int dead = 0;
    rc = qc_wait_for(ctl, ids, count, !ctl->json, &dead);
    if (rc == QC_CTL_OK) {
        if (ctl->json)
            printf("{\"jobs\": %d, \"completed\": %d, \"failed\": %d}\n", count, count - dead,
                   dead);
        else if (dead)
            fprintf(stderr, "queuectl: %d of %d job%s ended dead or canceled\n", dead, count,
                    count == 1 ? "" : "s");
    }
    free(ids);
    cJSON_Delete(found);
    if (rc != QC_CTL_OK)
        return rc;
    return dead ? QC_CTL_REFUSED : QC_CTL_OK;
}

/* ---- watch ------------------------------------------------------------- */

/* Does a worker (from workers.list) serve the queue? "queues" is null (every
 * queue) or the names it serves, separated by commas. */
static int s_worker_serves(const cJSON *worker, const char *queue)
{
    const char *list = qc_json_string(worker, "queues");
    if (!list)
        return 1;
    size_t len = strlen(queue);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, queue, len) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* The metrics for one queue: status (counts) of that queue, with "queues"
 * holding only its entry from queue.list (a queue with no jobs or settings
 * yet: zeros, not paused). NULL if the broker does not answer. Caller owns. */
static cJSON *s_queue_metrics(qc_ctl_t *ctl, const char *queue)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "status");
    cJSON_AddStringToObject(request, "queue", queue);
    cJSON *metrics;
    if (qc_ctl_call(ctl, request, &metrics) != QC_CTL_OK)
        return NULL;
    request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "queue.list");
    cJSON *list = NULL;
    qc_ctl_call(ctl, request, &list);
    cJSON *mine = cJSON_AddArrayToObject(metrics, "queues");
    cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(list, "queues"))
    {
        const char *name = qc_json_string(item, "name");
        if (name && strcmp(name, queue) == 0) {
            cJSON_AddItemToArray(mine, cJSON_Duplicate(item, 1));
            break;
        }
    }
    if (cJSON_GetArraySize(mine) == 0) {
        cJSON *empty = cJSON_CreateObject();
        cJSON_AddStringToObject(empty, "name", queue);
        cJSON_AddItemToObject(empty, "counts",
                              cJSON_Duplicate(cJSON_GetObjectItem(metrics, "counts"), 1));
        cJSON_AddItemToArray(mine, empty);
    }
    cJSON_Delete(list);
    return metrics;
}

static void s_watch_frame(qc_ctl_t *ctl, const char *queue, int64_t *last_done, int64_t *last_ms)
{
    cJSON *request, *metrics;
    if (queue) {
        if (!(metrics = s_queue_metrics(ctl, queue)))
            return;
    } else {
        request = cJSON_CreateObject();
        cJSON_AddStringToObject(request, "op", "metrics");
        if (qc_ctl_call(ctl, request, &metrics) != QC_CTL_OK)
            return;
    }
    request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "workers.list");
    cJSON *workers = NULL;
    qc_ctl_call(ctl, request, &workers);
    request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "list");
    cJSON_AddStringToObject(request, "state", "dead");
    cJSON_AddNumberToObject(request, "limit", 5);
    if (queue)
        cJSON_AddStringToObject(request, "queue", queue);
    cJSON *failures = NULL;
    qc_ctl_call(ctl, request, &failures);

    int64_t now = qc_clock_mono_ms(), done = 0;
    if (queue) /* the queue's completed jobs (pruning can lower it: no negative rate) */
        qc_json_int(cJSON_GetObjectItem(metrics, "counts"), "completed", &done);
    else
        qc_json_int(cJSON_GetObjectItem(metrics, "totals"), "completed", &done);
    double rate = *last_ms && done >= *last_done
                      ? (double)(done - *last_done) * 1000.0 / (double)(now - *last_ms)
                      : 0;
    *last_done = done;
    *last_ms = now;

    printf("\033[H\033[2J"); /* home, clear */
    char stamp[32];
    if (queue)
        printf("queuectl watch  queue %s  %s  (q to quit)\n\n", queue,
               qc_clock_format_iso(qc_clock_wall_ms(), stamp, sizeof stamp));
    else
        printf("queuectl watch  %s  (q to quit)\n\n",
               qc_clock_format_iso(qc_clock_wall_ms(), stamp, sizeof stamp));
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(metrics, "counts"))
        printf("  %s%-11s%s %lld\n", qc_out_state_color(item->string), item->string, qc_out_reset(),
               (long long)item->valuedouble);
    printf("\n  completed/s %.1f   %s %lld\n\n", rate,
           queue ? "completed in this queue" : "total completed", (long long)done);
    /* Per queue (when the broker keeps queues): waiting work, running, settings. */
    const cJSON *queues = cJSON_GetObjectItem(metrics, "queues");
    if (cJSON_GetArraySize(queues) > 0) {
        printf("Queues (%d)\n", cJSON_GetArraySize(queues));
        cJSON_ArrayForEach(item, queues)
        {
            const cJSON *counts = cJSON_GetObjectItem(item, "counts");
            int64_t pending = 0, waiting = 0, running = 0, failed = 0, cap = 0;
            qc_json_int(counts, "pending", &pending);
            qc_json_int(counts, "waiting", &waiting);
            qc_json_int(counts, "processing", &running);
            qc_json_int(counts, "failed", &failed);
            int capped = qc_json_int(item, "max_running", &cap) == 0;
            char limit[32] = "";
            if (capped)
                snprintf(limit, sizeof limit, " (limit %lld)", (long long)cap);
            printf("  %-20s %lld pending  %lld waiting  %lld running%s  %lld failed%s\n",
                   qc_json_string(item, "name") ? qc_json_string(item, "name") : "?",
                   (long long)pending, (long long)waiting, (long long)running, limit,
                   (long long)failed,
                   cJSON_IsTrue(cJSON_GetObjectItem(item, "paused")) ? "  PAUSED" : "");
        }
        printf("\n");
    }
    cJSON *worker_list = workers ? cJSON_GetObjectItem(workers, "workers") : NULL;
    cJSON *failure_list = failures ? cJSON_GetObjectItem(failures, "jobs") : NULL;
    if (queue) { /* only the workers that serve the queue */
        for (cJSON *w = worker_list ? worker_list->child : NULL, *next; w; w = next) {
            next = w->next;
            if (!s_worker_serves(w, queue))
                cJSON_Delete(cJSON_DetachItemViaPointer(worker_list, w));
        }
    }
    printf("Workers (%d)%s\n", cJSON_GetArraySize(worker_list), queue ? " serving this queue" : "");
    cJSON_ArrayForEach(item, worker_list)
    {
        int64_t busy = 0, slots = 0, jobs_done = 0;
        qc_json_int(item, "busy", &busy);
        qc_json_int(item, "slots", &slots);
        qc_json_int(item, "jobs_done", &jobs_done);
        printf("  %-28s %lld/%lld busy  %lld done\n", qc_json_string(item, "worker_id"),
               (long long)busy, (long long)slots, (long long)jobs_done);
    }
    printf("\nLatest dead jobs\n");
    cJSON_ArrayForEach(item, failure_list)
        printf("  %-20s %-40.40s %s\n", qc_json_string(item, "id"), qc_json_string(item, "command"),
               qc_json_string(item, "last_error") ? qc_json_string(item, "last_error") : "");
    fflush(stdout);
    cJSON_Delete(metrics);
    cJSON_Delete(workers);
    cJSON_Delete(failures);
}

int qc_cmd_watch(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"interval", 0, 1}, {"queue", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    int64_t interval_ms = 1000;
    const char *interval = qc_flags_value(flags, "interval");
    const char *queue_flag = qc_flags_value(flags, "queue");
    char queue[QC_MAX_ID_BYTES + 1] = "";
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("watch: unexpected argument \"%s\"", qc_flags_arg(flags, 0));
    else if (interval && (qc_parse_duration_ms(interval, &interval_ms) != 0 || interval_ms < 100))
        rc = qc_ctl_usage_error("watch: --interval must be at least 100ms");
    else if (queue_flag && !qc_job_id_valid(queue_flag))
        rc = qc_ctl_usage_error("watch: invalid --queue \"%s\": use a queue name (A-Z a-z 0-9 "
                                ". _ : @ -)",
                                queue_flag);
    else if (queue_flag)
        snprintf(queue, sizeof queue, "%s", queue_flag);
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", "ping");
    cJSON *reply;
    rc = qc_ctl_call(ctl, request, &reply);
    if (rc != QC_CTL_OK)
        return rc;
    cJSON_Delete(reply);
    s_catch_interrupts();
    int tty = isatty(STDIN_FILENO);
    struct termios saved, raw;
    if (tty) {
        /* Keys without Enter and without echo; restored on the way out. */
        tcgetattr(STDIN_FILENO, &saved);
        raw = saved;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        printf("\033[?25l"); /* hide the cursor */
    }
    int64_t last_done = 0, last_ms = 0;
    while (!s_interrupted) {
        s_watch_frame(ctl, queue[0] ? queue : NULL, &last_done, &last_ms);
        zmq_pollitem_t item = {NULL, STDIN_FILENO, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, tty ? 1 : 0, (long)interval_ms) > 0) {
            char key = 0;
            if (read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q'))
                break;
        }
        if (!tty && !s_interrupted)
            zclock_sleep(0);
    }
    if (tty) {
        printf("\033[?25h\n");
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    }
    return QC_CTL_OK;
}
