/* The CLI's commands: parse flags, build one request, print the reply. */
#include "ctl.h"
#include "queuectl/client.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/job.h"
#include "queuectl/parse.h"
#include "queuectl/paths.h"
#include "queuectl/protocol.h"
#include "queuectl/proto.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int s_unknown_flag(const char *command, const char *arg)
{
    return qc_ctl_usage_error("%s: unknown option \"%s\" (see queuectl --help)", command, arg);
}

static cJSON *s_request(const char *op)
{
    cJSON *request = cJSON_CreateObject();
    cJSON_AddStringToObject(request, "op", op);
    return request;
}

/* ---- enqueue ------------------------------------------------------------ */

static int s_ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static char *s_read_file(const char *path, size_t max, size_t *len_out)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    char *buf = malloc(max + 1);
    size_t len = buf ? fread(buf, 1, max + 1, file) : 0;
    fclose(file);
    if (!buf || len > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

/* enqueue --wait: like running the command, through the queue: its output
 * at the end, and its exit code as ours. */
static int s_enqueue_wait(qc_ctl_t *ctl, const char *id)
{
    fprintf(stderr, "queuectl: enqueued %s, waiting for it\n", id);
    const char *ids[] = {id};
    int dead = 0;
    int rc = qc_wait_for(ctl, ids, 1, 0, &dead);
    if (rc != QC_CTL_OK)
        return rc;
    cJSON *request = s_request("get");
    cJSON_AddStringToObject(request, "id", id);
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(reply, "job");
    if (ctl->json) {
        qc_out_json(job);
    } else {
        const char *out = qc_json_string(job, "stdout_tail");
        const char *err = qc_json_string(job, "stderr_tail");
        fputs(out ? out : "", stdout);
        fputs(err ? err : "", stderr);
    }
    int64_t exit_code = 1;
    const char *state = qc_json_string(job, "state");
    if (state && strcmp(state, "completed") == 0)
        exit_code = 0;
    else if (qc_json_int(job, "exit_code", &exit_code) != 0 || exit_code == 0)
        exit_code = 1; /* killed, timed out, canceled: no exit code of its own */
    if (exit_code != 0)
        fprintf(stderr, "queuectl: job %s ended %s%s%s\n", id, state ? state : "?",
                qc_json_string(job, "last_error") ? ": " : "",
                qc_json_string(job, "last_error") ? qc_json_string(job, "last_error") : "");
    cJSON_Delete(reply);
    return (int)exit_code;
}

/* Adds the flag overrides shared by every job of a file. */
static void s_apply_file_flags(cJSON *job, int64_t max_retries, int priority, int have_priority,
                               int64_t timeout_s)
{
    if (max_retries >= 0) {
        cJSON_DeleteItemFromObject(job, "max_retries");
        cJSON_AddNumberToObject(job, "max_retries", (double)max_retries);
    }
    if (have_priority) {
        cJSON_DeleteItemFromObject(job, "priority");
        cJSON_AddNumberToObject(job, "priority", priority);
    }
    if (timeout_s > 0) {
        cJSON_DeleteItemFromObject(job, "timeout_s");
        cJSON_AddNumberToObject(job, "timeout_s", (double)timeout_s);
    }
}

/* Sends one batch; returns an exit code. */
static int s_send_batch(qc_ctl_t *ctl, cJSON **batch, int64_t *stored)
{
    cJSON *request = s_request("enqueue");
    int n = cJSON_GetArraySize(*batch);
    cJSON_AddItemToObject(request, "jobs", *batch);
    *batch = cJSON_CreateArray();
    cJSON *reply;
    int rc = qc_ctl_call(ctl, request, &reply);
    if (rc != QC_CTL_OK)
        return rc;
    if (ctl->json) {
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItem(reply, "ids"))
            printf("%s\n", item->valuestring);
    }
    cJSON_Delete(reply);
    *stored += n;
    return QC_CTL_OK;
}

/* enqueue --file: one JSON job per line, sent in atomic batches of 1,000.
 * Every line of a batch is checked before it is sent, so a bad line stores
 * nothing of its batch. */
static int s_enqueue_file(qc_ctl_t *ctl, const char *path, const char *max_retries_text,
                          const char *priority_text, const char *timeout_text)
{
    int64_t max_retries = -1, timeout_ms = 0;
    int priority = 0;
    if (max_retries_text &&
        qc_parse_int(max_retries_text, 0, QC_MAX_RETRIES_LIMIT, &max_retries) != 0)
        return qc_ctl_usage_error("enqueue: invalid --max-retries \"%s\"", max_retries_text);
    if (priority_text && qc_parse_priority(priority_text, &priority) != 0)
        return qc_ctl_usage_error("enqueue: invalid --priority \"%s\"", priority_text);
    if (timeout_text && (qc_parse_duration_ms(timeout_text, &timeout_ms) != 0 ||
                         timeout_ms < 1000 || timeout_ms % 1000 != 0))
        return qc_ctl_usage_error("enqueue: invalid --timeout \"%s\"", timeout_text);
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in)
        return qc_ctl_usage_error("enqueue: cannot read %s: %s", path, strerror(errno));
    ctl->autostart = 1;
    int progress = isatty(STDERR_FILENO) && !ctl->json;
    cJSON *batch = cJSON_CreateArray();
    int64_t line_no = 0, stored = 0;
    int rc = QC_CTL_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (rc == QC_CTL_OK && (len = getline(&line, &cap, in)) >= 0) {
        line_no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (strspn(line, " \t") == (size_t)len)
            continue; /* blank */
        char err[256];
        cJSON *job = qc_json_parse_object(line, (size_t)len, err, sizeof err);
        qc_job_spec_t spec;
        if (job) {
            s_apply_file_flags(job, max_retries, priority, priority_text != NULL,
                               timeout_ms / 1000);
            if (qc_job_spec_from_json(job, &spec, err, sizeof err) == 0)
                qc_job_spec_clear(&spec);
            else {
                cJSON_Delete(job);
                job = NULL;
            }
        }
        if (!job) {
            fprintf(stderr,
                    "queuectl: %s line %lld: %s; nothing of its batch (lines %lld-%lld) was "
                    "stored, %lld job%s before it were\n",
                    path, (long long)line_no, err, (long long)(stored + 1), (long long)line_no,
                    (long long)stored, stored == 1 ? "" : "s");
            rc = QC_CTL_USAGE;
            break;
        }
        cJSON_AddItemToArray(batch, job);
        if (cJSON_GetArraySize(batch) == 1000) {
            rc = s_send_batch(ctl, &batch, &stored);
            if (progress)
                fprintf(stderr, "\r%lld jobs enqueued", (long long)stored);
        }
    }
    free(line);
    if (in != stdin)
        fclose(in);
    if (rc == QC_CTL_OK && cJSON_GetArraySize(batch) > 0)
        rc = s_send_batch(ctl, &batch, &stored);
    cJSON_Delete(batch);
    if (progress)
        fprintf(stderr, "\r");
    if (rc == QC_CTL_OK && !ctl->json)
        printf("%lld job%s enqueued\n", (long long)stored, stored == 1 ? "" : "s");
    return rc;
}

int qc_cmd_enqueue(qc_ctl_t *ctl, int argc, char **argv)
{
    const char *id = NULL, *max_retries = NULL, *priority = NULL, *delay = NULL, *run_at = NULL,
               *timeout = NULL, *value, *file = NULL;
    int rc, first_word = -1, json_arg = -1, wait = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            first_word = i + 1;
            break;
        }
        if (argv[i][0] != '-' || argv[i][1] == '\0') {
            /* A JSON object or .json file may be followed by more flags;
             * plain words are the command and end the flags. */
            if (json_arg < 0 && (argv[i][0] == '{' || s_ends_with(argv[i], ".json"))) {
                json_arg = i;
                continue;
            }
            first_word = i;
            break;
        }
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        if (strcmp(argv[i], "--wait") == 0) {
            wait = 1;
            continue;
        }
        const char **target = NULL;
        const char *name = argv[i];
        if (qc_ctl_flag_value(argc, argv, &i, "--file", &value))
            target = &file;
        else if (qc_ctl_flag_value(argc, argv, &i, "--id", &value))
            target = &id;
        else if (qc_ctl_flag_value(argc, argv, &i, "--max-retries", &value))
            target = &max_retries;
        else if (qc_ctl_flag_value(argc, argv, &i, "--priority", &value))
            target = &priority;
        else if (qc_ctl_flag_value(argc, argv, &i, "--delay", &value))
            target = &delay;
        else if (qc_ctl_flag_value(argc, argv, &i, "--run-at", &value))
            target = &run_at;
        else if (qc_ctl_flag_value(argc, argv, &i, "--timeout", &value))
            target = &timeout;
        else
            return s_unknown_flag("enqueue", argv[i]);
        if (!value)
            return qc_ctl_usage_error("enqueue: %s needs a value", name);
        *target = value;
    }
    if (json_arg >= 0 && first_word >= 0 && first_word < argc)
        return qc_ctl_usage_error("enqueue: give either a JSON job or a command, not both");
    if (file) {
        if (json_arg >= 0 || (first_word >= 0 && first_word < argc) || id || wait)
            return qc_ctl_usage_error("enqueue: --file takes its jobs from the file only");
        return s_enqueue_file(ctl, file, max_retries, priority, timeout);
    }

    /* Build the job object from JSON (argument or file) or from words. */
    cJSON *job = NULL;
    char err[256];
    if (json_arg >= 0) {
        const char *text = argv[json_arg];
        char *file_text = NULL;
        size_t len = strlen(text);
        if (text[0] != '{') {
            file_text = s_read_file(text, QC_MAX_COMMAND_BYTES * 2, &len);
            if (!file_text)
                return qc_ctl_usage_error("enqueue: cannot read %s: %s", text, strerror(errno));
            text = file_text;
        }
        job = qc_json_parse_object(text, len, err, sizeof err);
        free(file_text);
        if (!job)
            return qc_ctl_usage_error("enqueue: invalid job JSON: %s", err);
    } else {
        if (first_word < 0 || first_word >= argc)
            return qc_ctl_usage_error("enqueue: nothing to enqueue: give a command, a JSON job "
                                      "or a .json file (see queuectl --help)");
        size_t total = 1;
        for (int w = first_word; w < argc; w++)
            total += strlen(argv[w]) + 1;
        char *command = calloc(1, total);
        if (!command)
            return QC_CTL_REFUSED;
        for (int w = first_word; w < argc; w++) {
            if (w > first_word)
                strcat(command, " ");
            strcat(command, argv[w]);
        }
        job = cJSON_CreateObject();
        cJSON_AddStringToObject(job, "command", command);
        free(command);
    }

    /* Flags override the JSON's fields. */
    if (id) {
        cJSON_DeleteItemFromObject(job, "id");
        cJSON_AddStringToObject(job, "id", id);
    }
    int64_t number;
    if (max_retries) {
        if (qc_parse_int(max_retries, 0, QC_MAX_RETRIES_LIMIT, &number) != 0) {
            cJSON_Delete(job);
            return qc_ctl_usage_error("enqueue: invalid --max-retries \"%s\": use 0 to %d",
                                      max_retries, QC_MAX_RETRIES_LIMIT);
        }
        cJSON_DeleteItemFromObject(job, "max_retries");
        cJSON_AddNumberToObject(job, "max_retries", (double)number);
    }
    if (priority) {
        int p;
        if (qc_parse_priority(priority, &p) != 0) {
            cJSON_Delete(job);
            return qc_ctl_usage_error("enqueue: invalid --priority \"%s\": use high, medium, low "
                                      "or an integer from -%d to %d",
                                      priority, QC_MAX_PRIORITY, QC_MAX_PRIORITY);
        }
        cJSON_DeleteItemFromObject(job, "priority");
        cJSON_AddNumberToObject(job, "priority", p);
    }
    if (delay) {
        int64_t ms;
        if (qc_parse_duration_ms(delay, &ms) != 0 || ms > (int64_t)QC_MAX_TIMEOUT_S * 1000) {
            cJSON_Delete(job);
            return qc_ctl_usage_error("enqueue: invalid --delay \"%s\": use a duration such as "
                                      "10s, 5m or 2h",
                                      delay);
        }
        cJSON_DeleteItemFromObject(job, "delay_s");
        cJSON_AddNumberToObject(job, "delay_s", (double)ms / 1000.0);
    }
    if (run_at) {
        int64_t ms;
        if (qc_clock_parse_iso(run_at, &ms) != 0) {
            cJSON_Delete(job);
            return qc_ctl_usage_error("enqueue: invalid --run-at \"%s\": use ISO-8601 such as "
                                      "2026-11-23T12:00:00Z",
                                      run_at);
        }
        cJSON_DeleteItemFromObject(job, "run_at");
        cJSON_AddStringToObject(job, "run_at", run_at);
    }
    if (timeout) {
        int64_t ms;
        if (qc_parse_duration_ms(timeout, &ms) != 0 || ms < 1000 || ms % 1000 != 0 ||
            ms > (int64_t)QC_MAX_TIMEOUT_S * 1000) {
            cJSON_Delete(job);
            return qc_ctl_usage_error("enqueue: invalid --timeout \"%s\": use whole seconds "
                                      "such as 30s or 5m",
                                      timeout);
        }
        cJSON_DeleteItemFromObject(job, "timeout_s");
        cJSON_AddNumberToObject(job, "timeout_s", (double)(ms / 1000));
    }

    /* Validate here too, so bad input never needs a broker to be refused. */
    qc_job_spec_t spec;
    if (qc_job_spec_from_json(job, &spec, err, sizeof err) != 0) {
        cJSON_Delete(job);
        return qc_ctl_usage_error("enqueue: invalid job: %s", err);
    }
    qc_job_spec_clear(&spec);

    ctl->autostart = 1;
    cJSON *request = s_request("enqueue");
    cJSON_AddItemToObject(request, "job", job);
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    if (wait) {
        char job_id[QC_MAX_ID_BYTES + 1];
        snprintf(job_id, sizeof job_id, "%s", qc_json_string(reply, "id"));
        cJSON_Delete(reply);
        return s_enqueue_wait(ctl, job_id);
    }
    if (ctl->json)
        qc_out_json(reply);
    else
        printf("%s\n", qc_json_string(reply, "id"));
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* ---- status, list, show ------------------------------------------------- */

static int s_no_args(qc_ctl_t *ctl, const char *command, int argc, char **argv)
{
    int rc;
    for (int i = 1; i < argc; i++) {
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        return argv[i][0] == '-'
                   ? s_unknown_flag(command, argv[i])
                   : qc_ctl_usage_error("%s: unexpected argument \"%s\"", command, argv[i]);
    }
    return 0;
}

int qc_cmd_status(qc_ctl_t *ctl, int argc, char **argv)
{
    int rc = s_no_args(ctl, "status", argc, argv);
    if (rc)
        return rc;
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, s_request("status"), &reply)) != QC_CTL_OK)
        return rc;
    if (ctl->json) {
        cJSON_DeleteItemFromObject(reply, "ok");
        qc_out_json(reply);
    } else {
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(reply, "counts");
        printf("Jobs\n");
        const cJSON *item;
        cJSON_ArrayForEach(item, counts)
        {
            printf("  %s%-11s%s %lld\n", qc_out_state_color(item->string), item->string,
                   qc_out_reset(), (long long)item->valuedouble);
        }
        int64_t workers = 0, busy = 0;
        qc_json_int(reply, "workers", &workers);
        qc_json_int(reply, "busy", &busy);
        printf("Workers      %lld connected, %lld job%s running\n", (long long)workers,
               (long long)busy, busy == 1 ? "" : "s");
        const cJSON *age = cJSON_GetObjectItemCaseSensitive(reply, "oldest_pending_age_s");
        if (cJSON_IsNumber(age))
            printf("Oldest pending job waited %.1fs\n", age->valuedouble);
    }
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* Prints jobs (an array) as a table, or JSON. */
static void s_print_jobs(qc_ctl_t *ctl, const cJSON *jobs)
{
    if (ctl->json) {
        qc_out_json(jobs);
        return;
    }
    int rows = cJSON_GetArraySize(jobs);
    if (rows == 0) {
        printf("no jobs\n");
        return;
    }
    static const char *const header[] = {"ID",       "STATE",   "ATTEMPTS",
                                         "PRIORITY", "UPDATED", "COMMAND"};
    enum { COLUMNS = 6 };
    char(*text)[3][48] = calloc((size_t)rows, sizeof *text);
    const char **cells = calloc((size_t)rows * COLUMNS, sizeof *cells);
    int r = 0;
    const cJSON *job;
    cJSON_ArrayForEach(job, jobs)
    {
        int64_t attempts = 0, max_retries = 0, priority = 0;
        qc_json_int(job, "attempts", &attempts);
        qc_json_int(job, "max_retries", &max_retries);
        qc_json_int(job, "priority", &priority);
        snprintf(text[r][0], sizeof text[r][0], "%lld/%lld", (long long)attempts,
                 (long long)max_retries + 1);
        snprintf(text[r][1], sizeof text[r][1], "%lld", (long long)priority);
        const char *updated = qc_json_string(job, "updated_at");
        qc_out_ago(updated ? updated : "", text[r][2], sizeof text[r][2]);
        cells[r * COLUMNS + 0] = qc_json_string(job, "id");
        cells[r * COLUMNS + 1] = qc_json_string(job, "state");
        cells[r * COLUMNS + 2] = text[r][0];
        cells[r * COLUMNS + 3] = text[r][1];
        cells[r * COLUMNS + 4] = text[r][2];
        cells[r * COLUMNS + 5] = qc_json_string(job, "command");
        r++;
    }
    qc_out_table(header, COLUMNS, cells, rows);
    free(cells);
    free(text);
}

static int s_list_common(qc_ctl_t *ctl, const char *op, const char *command, int argc, char **argv,
                         int allow_state)
{
    const char *state = NULL, *limit = NULL, *value;
    int rc;
    for (int i = 1; i < argc; i++) {
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc)
                return rc;
        } else if (allow_state && qc_ctl_flag_value(argc, argv, &i, "--state", &value)) {
            if (!value || qc_state_parse(value) < 0)
                return qc_ctl_usage_error("%s: --state must be pending, processing, completed, "
                                          "failed, dead or canceled",
                                          command);
            state = value;
        } else if (qc_ctl_flag_value(argc, argv, &i, "--limit", &value)) {
            int64_t n;
            if (!value || qc_parse_int(value, 1, 1000, &n) != 0)
                return qc_ctl_usage_error("%s: --limit must be an integer from 1 to 1000", command);
            limit = value;
        } else {
            return argv[i][0] == '-'
                       ? s_unknown_flag(command, argv[i])
                       : qc_ctl_usage_error("%s: unexpected argument \"%s\"", command, argv[i]);
        }
    }
    cJSON *request = s_request(op);
    if (state)
        cJSON_AddStringToObject(request, "state", state);
    if (limit)
        cJSON_AddNumberToObject(request, "limit", atoi(limit));
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    s_print_jobs(ctl, cJSON_GetObjectItemCaseSensitive(reply, "jobs"));
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

int qc_cmd_list(qc_ctl_t *ctl, int argc, char **argv)
{
    return s_list_common(ctl, "list", "list", argc, argv, 1);
}

static const char *s_text_or(const cJSON *obj, const char *key, const char *fallback)
{
    const char *s = qc_json_string(obj, key);
    return s ? s : fallback;
}

static void s_print_tail(const char *label, const char *tail)
{
    if (!tail || !*tail)
        return;
    printf("    %s:\n", label);
    const char *line = tail;
    while (*line) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        printf("      | %.*s\n", len, line);
        line += len + (end ? 1 : 0);
    }
}

static int s_id_arg(const char *command, int argc, char **argv, qc_ctl_t *ctl, const char **id)
{
    int rc;
    *id = NULL;
    for (int i = 1; i < argc; i++) {
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc)
                return rc;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return s_unknown_flag(command, argv[i]);
        } else if (*id) {
            return qc_ctl_usage_error("%s: one job id, please (got \"%s\" and \"%s\")", command,
                                      *id, argv[i]);
        } else {
            *id = argv[i];
        }
    }
    if (!*id)
        return qc_ctl_usage_error("%s: which job? give its id", command);
    if (!qc_job_id_valid(*id))
        return qc_ctl_usage_error("%s: \"%s\" is not a valid job id", command, *id);
    return 0;
}

/* Commands of one job id: parses it, sends {op, id}; on success *reply is
 * the broker's (caller owns) and *id_out the id. Returns an exit code. */
static int s_id_request(qc_ctl_t *ctl, const char *command, const char *op, int argc, char **argv,
                        const char **id_out, cJSON **reply)
{
    int rc = s_id_arg(command, argc, argv, ctl, id_out);
    if (rc)
        return rc;
    cJSON *request = s_request(op);
    cJSON_AddStringToObject(request, "id", *id_out);
    return qc_ctl_call(ctl, request, reply);
}

int qc_cmd_show(qc_ctl_t *ctl, int argc, char **argv)
{
    const char *id;
    cJSON *reply;
    int rc = s_id_request(ctl, "show", "get", argc, argv, &id, &reply);
    if (rc != QC_CTL_OK)
        return rc;
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(reply, "job");
    if (ctl->json) {
        qc_out_json(job);
        cJSON_Delete(reply);
        return QC_CTL_OK;
    }
    int64_t attempts = 0, max_retries = 0, priority = 0, timeout_s = 0, exit_code;
    qc_json_int(job, "attempts", &attempts);
    qc_json_int(job, "max_retries", &max_retries);
    qc_json_int(job, "priority", &priority);
    qc_json_int(job, "timeout_s", &timeout_s);
    const char *state = s_text_or(job, "state", "?");
    printf("Job %s\n", s_text_or(job, "id", "?"));
    printf("  command     %s\n", s_text_or(job, "command", ""));
    printf("  state       %s%s%s\n", qc_out_state_color(state), state, qc_out_reset());
    printf("  attempts    %lld of at most %lld\n", (long long)attempts, (long long)max_retries + 1);
    printf("  priority    %lld\n", (long long)priority);
    printf("  timeout     %llds\n", (long long)timeout_s);
    printf("  created     %s\n", s_text_or(job, "created_at", "-"));
    printf("  run at      %s\n", s_text_or(job, "run_at", "-"));
    printf("  updated     %s\n", s_text_or(job, "updated_at", "-"));
    if (qc_json_int(job, "exit_code", &exit_code) == 0)
        printf("  exit code   %lld\n", (long long)exit_code);
    if (qc_json_string(job, "last_error"))
        printf("  last error  %s\n", qc_json_string(job, "last_error"));
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(job, "attempts_log");
    const cJSON *a;
    cJSON_ArrayForEach(a, log)
    {
        int64_t n = 0, pid = 0, cpu = 0, rss = 0;
        qc_json_int(a, "attempt", &n);
        qc_json_int(a, "worker_pid", &pid);
        const char *outcome = s_text_or(a, "outcome", "running");
        printf("\n  Attempt %lld: %s%s%s\n", (long long)n,
               qc_out_state_color(strcmp(outcome, "succeeded") == 0 ? "completed"
                                  : strcmp(outcome, "running") == 0 ? "processing"
                                                                    : "failed"),
               outcome, qc_out_reset());
        printf("    worker    %s (host %s, pid %lld)\n", s_text_or(a, "worker_id", "?"),
               s_text_or(a, "worker_host", "?"), (long long)pid);
        printf("    started   %s\n", s_text_or(a, "started_at", "-"));
        printf("    finished  %s\n", s_text_or(a, "finished_at", "-"));
        if (qc_json_int(a, "exit_code", &exit_code) == 0)
            printf("    exit code %lld\n", (long long)exit_code);
        int64_t sig = 0;
        if (qc_json_int(a, "signal", &sig) == 0 && sig > 0)
            printf("    signal    %lld (%s)\n", (long long)sig, strsignal((int)sig));
        if (qc_json_int(a, "cpu_ms", &cpu) == 0 && qc_json_int(a, "max_rss_kb", &rss) == 0)
            printf("    resources %lld ms CPU, %lld KiB peak memory\n", (long long)cpu,
                   (long long)rss);
        if (qc_json_string(a, "error"))
            printf("    error     %s\n", qc_json_string(a, "error"));
        s_print_tail("stdout", qc_json_string(a, "stdout_tail"));
        s_print_tail("stderr", qc_json_string(a, "stderr_tail"));
    }
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* ---- dlq, config ------------------------------------------------------- */

/* dlq purge and prune: [--older-than D] and, for prune, which states. */
static int s_purge(qc_ctl_t *ctl, const char *command, int argc, char **argv, int dlq)
{
    const char *value;
    int64_t older_ms = 0;
    int rc;
    cJSON *states = cJSON_CreateArray();
    for (int i = 1; i < argc; i++) {
        const char *state = NULL;
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc) {
                cJSON_Delete(states);
                return rc;
            }
        } else if (qc_ctl_flag_value(argc, argv, &i, "--older-than", &value)) {
            if (!value || qc_parse_duration_ms(value, &older_ms) != 0) {
                cJSON_Delete(states);
                return qc_ctl_usage_error("%s: --older-than takes a duration such as 7d or 12h",
                                          command);
            }
        } else if (!dlq && strcmp(argv[i], "--completed") == 0) {
            state = "completed";
        } else if (!dlq && strcmp(argv[i], "--dead") == 0) {
            state = "dead";
        } else if (!dlq && strcmp(argv[i], "--canceled") == 0) {
            state = "canceled";
        } else {
            cJSON_Delete(states);
            return s_unknown_flag(command, argv[i]);
        }
        if (state)
            cJSON_AddItemToArray(states, cJSON_CreateString(state));
    }
    if (!dlq && cJSON_GetArraySize(states) == 0) {
        cJSON_Delete(states);
        return qc_ctl_usage_error("prune: say what to delete: --completed, --dead and/or "
                                  "--canceled (with --older-than D)");
    }
    cJSON *request = s_request(dlq ? "dlq.purge" : "prune");
    if (dlq)
        cJSON_Delete(states);
    else
        cJSON_AddItemToObject(request, "states", states);
    cJSON_AddNumberToObject(request, "older_than_s", (double)(older_ms / 1000));
    /* The broker deletes in bounded steps; ask until it says there is no more. */
    int64_t deleted = 0, step;
    int more = 1;
    for (int round = 0; more && round < 100000; round++) {
        cJSON *reply;
        if ((rc = qc_ctl_call(ctl, cJSON_Duplicate(request, 1), &reply)) != QC_CTL_OK) {
            cJSON_Delete(request);
            return rc;
        }
        step = 0;
        qc_json_int(reply, "deleted", &step);
        deleted += step;
        more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "more"));
        cJSON_Delete(reply);
    }
    cJSON_Delete(request);
    if (ctl->json)
        printf("{\"deleted\": %lld}\n", (long long)deleted);
    else
        printf("deleted %lld job%s\n", (long long)deleted, deleted == 1 ? "" : "s");
    return QC_CTL_OK;
}

int qc_cmd_prune(qc_ctl_t *ctl, int argc, char **argv)
{
    return s_purge(ctl, "prune", argc, argv, 0);
}

int qc_cmd_cancel(qc_ctl_t *ctl, int argc, char **argv)
{
    const char *id;
    cJSON *reply;
    int rc = s_id_request(ctl, "cancel", "cancel", argc, argv, &id, &reply);
    if (rc != QC_CTL_OK)
        return rc;
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(reply, "job");
    if (ctl->json)
        qc_out_json(job);
    else if (strcmp(s_text_or(job, "state", ""), "canceled") == 0)
        printf("%s canceled\n", id);
    else
        printf("%s is running: its worker is stopping it; it will end canceled\n", id);
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

int qc_cmd_dlq(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2)
        return qc_ctl_usage_error("dlq: use 'dlq list' or 'dlq retry ID'");
    if (strcmp(argv[1], "list") == 0)
        return s_list_common(ctl, "dlq.list", "dlq list", argc - 1, argv + 1, 0);
    if (strcmp(argv[1], "purge") == 0)
        return s_purge(ctl, "dlq purge", argc - 1, argv + 1, 1);
    if (strcmp(argv[1], "retry") != 0)
        return qc_ctl_usage_error("dlq: unknown subcommand \"%s\" (use list, retry or purge)",
                                  argv[1]);
    const char *id;
    cJSON *reply;
    int rc = s_id_request(ctl, "dlq retry", "dlq.retry", argc - 1, argv + 1, &id, &reply);
    if (rc != QC_CTL_OK)
        return rc;
    if (ctl->json)
        qc_out_json(cJSON_GetObjectItemCaseSensitive(reply, "job"));
    else
        printf("%s is pending again (attempts reset, history kept)\n", id);
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

int qc_cmd_config(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2)
        return qc_ctl_usage_error("config: use 'config get [KEY|all]' or 'config set KEY VALUE'");
    const char *positional[3] = {NULL, NULL, NULL};
    int count = 0, rc;
    for (int i = 2; i < argc; i++) {
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc)
                return rc;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return s_unknown_flag("config", argv[i]);
        } else if (count < 3) {
            positional[count++] = argv[i];
        } else {
            return qc_ctl_usage_error("config: too many arguments");
        }
    }
    cJSON *request;
    int is_set = strcmp(argv[1], "set") == 0;
    if (strcmp(argv[1], "get") == 0) {
        if (count > 1)
            return qc_ctl_usage_error("config get: one key at most");
        request = s_request("config.get");
        if (count == 1 && strcmp(positional[0], "all") != 0)
            cJSON_AddStringToObject(request, "key", positional[0]);
    } else if (is_set) {
        if (count != 2)
            return qc_ctl_usage_error("config set: needs KEY and VALUE, e.g. config set "
                                      "max-retries 5");
        request = s_request("config.set");
        cJSON_AddStringToObject(request, "key", positional[0]);
        cJSON_AddStringToObject(request, "value", positional[1]);
    } else {
        return qc_ctl_usage_error("config: unknown subcommand \"%s\" (use get or set)", argv[1]);
    }
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(reply, "config");
    if (ctl->json) {
        qc_out_json(config);
    } else {
        const cJSON *item;
        cJSON_ArrayForEach(item, config)
        {
            char name[32];
            snprintf(name, sizeof name, "%s", item->string);
            for (char *p = name; *p; p++)
                *p = *p == '_' ? '-' : *p;
            printf("%-13s %lld\n", name, (long long)item->valuedouble);
        }
    }
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* ---- worker ------------------------------------------------------------ */

static int s_worker_list(qc_ctl_t *ctl, cJSON **workers_out)
{
    cJSON *reply;
    int rc = qc_ctl_call(ctl, s_request("workers.list"), &reply);
    if (rc != QC_CTL_OK)
        return rc;
    *workers_out = cJSON_DetachItemFromObject(reply, "workers");
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* How many of pids[] are registered with the broker (-1 on error). */
static int s_registered(qc_ctl_t *ctl, const int *pids, int count)
{
    cJSON *workers;
    if (s_worker_list(ctl, &workers) != QC_CTL_OK)
        return -1;
    int found = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, workers)
    {
        int64_t pid;
        if (qc_json_int(w, "pid", &pid) != 0)
            continue;
        for (int i = 0; i < count; i++)
            if (pids[i] == pid)
                found++;
    }
    cJSON_Delete(workers);
    return found;
}

static volatile sig_atomic_t s_forward_signal = 0;
static void s_on_forward(int signo)
{
    s_forward_signal = signo;
}

static int s_worker_start(qc_ctl_t *ctl, int argc, char **argv)
{
    const char *value;
    int64_t count = 1, concurrency = 1;
    int foreground = 0, rc;
    for (int i = 2; i < argc; i++) {
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc)
                return rc;
        } else if (qc_ctl_flag_value(argc, argv, &i, "--count", &value)) {
            if (!value || qc_parse_int(value, 1, 64, &count) != 0)
                return qc_ctl_usage_error("worker start: --count must be from 1 to 64");
        } else if (qc_ctl_flag_value(argc, argv, &i, "--concurrency", &value)) {
            if (!value || qc_parse_int(value, 1, QC_MAX_SLOTS, &concurrency) != 0)
                return qc_ctl_usage_error("worker start: --concurrency must be from 1 to %d",
                                          QC_MAX_SLOTS);
        } else if (strcmp(argv[i], "--foreground") == 0) {
            foreground = 1;
        } else {
            return argv[i][0] == '-'
                       ? s_unknown_flag("worker start", argv[i])
                       : qc_ctl_usage_error("worker start: unexpected \"%s\"", argv[i]);
        }
    }
    ctl->autostart = 1;
    if ((rc = qc_ctl_ensure_broker(ctl)) != QC_CTL_OK)
        return rc;
    /* Workers connect to the broker's worker endpoint, which it reports. */
    char worker_endpoint[1024];
    if ((rc = qc_ctl_broker_endpoint(ctl, "worker_endpoint", worker_endpoint,
                                     sizeof worker_endpoint)) != QC_CTL_OK)
        return rc;

    char program[4096], concurrency_text[16], log_path[4096];
    if (qc_spawn_program_path("queuectl-worker", program, sizeof program) != 0)
        return qc_ctl_usage_error("cannot find queuectl-worker next to queuectl or on PATH");
    snprintf(concurrency_text, sizeof concurrency_text, "%d", (int)concurrency);
    char *child_argv[] = {program,         "--broker",       worker_endpoint,
                          "--concurrency", concurrency_text, NULL};
    int pids[64];
    if (foreground) {
        /* Supervisor mode: children in our process group, signals forwarded. */
        struct sigaction action = {0};
        action.sa_handler = s_on_forward;
        sigaction(SIGTERM, &action, NULL);
        sigaction(SIGINT, &action, NULL);
        int alive = 0, status, worst = 0;
        for (int i = 0; i < count; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                execv(program, child_argv);
                _exit(127);
            }
            if (pids[i] < 0) {
                fprintf(stderr, "queuectl: cannot start worker %d: %s\n", i + 1, strerror(errno));
                worst = 1;
            } else {
                alive++;
            }
        }
        while (alive > 0) {
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0 && errno == EINTR && s_forward_signal) {
                for (int i = 0; i < count; i++)
                    if (pids[i] > 0) /* never kill(-1) or a reaped pid */
                        kill(pids[i], s_forward_signal);
                s_forward_signal = 0;
                continue;
            }
            if (pid < 0)
                break;
            for (int i = 0; i < count; i++)
                if (pids[i] == pid)
                    pids[i] = 0;
            alive--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                worst = 1;
        }
        return worst;
    }
    if (qc_home_path(log_path, sizeof log_path, "logs") != 0)
        return QC_CTL_USAGE;
    mkdir(log_path, 0700);
    for (int i = 0; i < count; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/worker-%lld-%d.log", log_path,
                 (long long)qc_clock_wall_ms(), i);
        pids[i] = qc_spawn_detached(child_argv, path);
        if (pids[i] < 0)
            return qc_ctl_usage_error("cannot start queuectl-worker: %s", strerror(errno));
    }
    /* Return once every one has registered (or died trying). */
    int64_t deadline = qc_clock_mono_ms() + 10000;
    int registered = 0;
    while (qc_clock_mono_ms() < deadline) {
        registered = s_registered(ctl, pids, (int)count);
        if (registered == count)
            break;
        int dead = 0;
        for (int i = 0; i < count; i++)
            dead += !qc_spawn_alive(pids[i]);
        if (dead) {
            fprintf(stderr, "queuectl: %d worker%s exited during start-up; see %s\n", dead,
                    dead == 1 ? "" : "s", log_path);
            return QC_CTL_REFUSED;
        }
        usleep(20000);
    }
    if (registered != count) {
        fprintf(stderr, "queuectl: only %d of %lld workers registered within 10s; see %s\n",
                registered, (long long)count, log_path);
        return QC_CTL_REFUSED;
    }
    if (ctl->json) {
        cJSON *out = cJSON_CreateObject();
        cJSON *list = cJSON_AddArrayToObject(out, "pids");
        for (int i = 0; i < count; i++)
            cJSON_AddItemToArray(list, cJSON_CreateNumber(pids[i]));
        qc_out_json(out);
        cJSON_Delete(out);
    } else {
        printf("started %lld worker%s (pid", (long long)count, count == 1 ? "" : "s");
        for (int i = 0; i < count; i++)
            printf(" %d", pids[i]);
        printf("), logs in %s\n", log_path);
    }
    return QC_CTL_OK;
}

static int s_worker_stop(qc_ctl_t *ctl, int argc, char **argv)
{
    const char *value, *only = NULL;
    int wait = 0, rc;
    for (int i = 2; i < argc; i++) {
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc)
                return rc;
        } else if (qc_ctl_flag_value(argc, argv, &i, "--id", &value)) {
            if (!value)
                return qc_ctl_usage_error("worker stop: --id needs a worker id");
            only = value;
        } else if (strcmp(argv[i], "--wait") == 0) {
            wait = 1;
        } else {
            return s_unknown_flag("worker stop", argv[i]);
        }
    }
    cJSON *request = s_request("workers.stop");
    if (only)
        cJSON_AddStringToObject(request, "worker_id", only);
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    int64_t stopped = 0;
    qc_json_int(reply, "stopped", &stopped);
    cJSON_Delete(reply);
    if (!ctl->json)
        printf("asked %lld worker%s to stop: %s\n", (long long)stopped, stopped == 1 ? "" : "s",
               wait ? "waiting for their running jobs" : "each finishes its running jobs first");
    /* --wait: until none of the stopping workers is connected. */
    while (wait && stopped > 0) {
        cJSON *workers;
        if ((rc = s_worker_list(ctl, &workers)) != QC_CTL_OK)
            return rc;
        int left = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, workers) left += cJSON_IsTrue(cJSON_GetObjectItem(w, "stopping"));
        cJSON_Delete(workers);
        if (left == 0)
            break;
        usleep(100000);
    }
    if (ctl->json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddNumberToObject(out, "stopped", (double)stopped);
        qc_out_json(out);
        cJSON_Delete(out);
    }
    return QC_CTL_OK;
}

static int s_worker_list_cmd(qc_ctl_t *ctl, int argc, char **argv)
{
    int rc = s_no_args(ctl, "worker list", argc - 1, argv + 1);
    if (rc)
        return rc;
    cJSON *workers;
    if ((rc = s_worker_list(ctl, &workers)) != QC_CTL_OK)
        return rc;
    if (ctl->json) {
        qc_out_json(workers);
        cJSON_Delete(workers);
        return QC_CTL_OK;
    }
    int rows = cJSON_GetArraySize(workers);
    if (rows == 0) {
        printf("no workers connected\n");
        cJSON_Delete(workers);
        return QC_CTL_OK;
    }
    static const char *const header[] = {"WORKER", "HOST", "PID",      "SLOTS",
                                         "BUSY",   "DONE", "LAST SEEN"};
    enum { COLUMNS = 7 };
    char(*text)[5][40] = calloc((size_t)rows, sizeof *text);
    const char **cells = calloc((size_t)rows * COLUMNS, sizeof *cells);
    int r = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, workers)
    {
        static const char *const numeric[] = {"pid", "slots", "busy", "jobs_done"};
        for (int k = 0; k < 4; k++) {
            int64_t v = 0;
            qc_json_int(w, numeric[k], &v);
            snprintf(text[r][k], sizeof text[r][k], "%lld", (long long)v);
            cells[r * COLUMNS + 2 + k] = text[r][k];
        }
        cells[r * COLUMNS + 0] = qc_json_string(w, "worker_id");
        cells[r * COLUMNS + 1] = qc_json_string(w, "host");
        cells[r * COLUMNS + 6] =
            qc_out_ago(s_text_or(w, "last_seen", ""), text[r][4], sizeof text[r][4]);
        r++;
    }
    qc_out_table(header, COLUMNS, cells, rows);
    free(cells);
    free(text);
    cJSON_Delete(workers);
    return QC_CTL_OK;
}

int qc_cmd_worker(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "start") == 0)
        return s_worker_start(ctl, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "stop") == 0)
        return s_worker_stop(ctl, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return s_worker_list_cmd(ctl, argc, argv);
    return qc_ctl_usage_error("worker: use 'worker start', 'worker stop' or 'worker list'");
}

/* ---- broker ------------------------------------------------------------ */

int qc_cmd_broker(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2)
        return qc_ctl_usage_error("broker: use 'broker start', 'broker stop' or 'broker status'");
    int rc = s_no_args(ctl, "broker", argc - 1, argv + 1);
    if (rc)
        return rc;
    char pid_path[4096];
    if (qc_home_path(pid_path, sizeof pid_path, "broker.pid") != 0)
        return QC_CTL_USAGE;
    if (strcmp(argv[1], "start") == 0) {
        if (ctl->endpoint_flag || getenv("QUEUECTL_BROKER"))
            return qc_ctl_usage_error("broker start: starts the local broker only; run "
                                      "queuectl-broker on the remote machine instead");
        int pid = qc_spawn_read_pid(pid_path);
        if (pid) {
            printf("broker already running (pid %d)\n", pid);
            return QC_CTL_OK;
        }
        ctl->autostart = 1;
        return qc_ctl_ensure_broker(ctl);
    }
    if (strcmp(argv[1], "stop") == 0) {
        int pid = qc_spawn_read_pid(pid_path);
        if (!pid) {
            printf("no broker running\n");
            return QC_CTL_OK;
        }
        if (kill(pid, SIGTERM) != 0)
            return qc_ctl_usage_error("cannot signal broker pid %d: %s", pid, strerror(errno));
        int64_t deadline = qc_clock_mono_ms() + 10000;
        while (qc_spawn_alive(pid) && qc_clock_mono_ms() < deadline)
            usleep(20000);
        if (qc_spawn_alive(pid)) {
            fprintf(stderr, "queuectl: broker pid %d did not stop within 10s\n", pid);
            return QC_CTL_REFUSED;
        }
        printf("broker stopped (pid %d)\n", pid);
        return QC_CTL_OK;
    }
    if (strcmp(argv[1], "status") == 0) {
        cJSON *reply;
        if ((rc = qc_ctl_call(ctl, s_request("ping"), &reply)) != QC_CTL_OK)
            return rc;
        if (ctl->json) {
            cJSON_DeleteItemFromObject(reply, "ok");
            qc_out_json(reply);
        } else {
            int64_t pid = 0;
            qc_json_int(reply, "pid", &pid);
            printf("broker %s running (pid %lld) at %s\n", s_text_or(reply, "version", "?"),
                   (long long)pid, ctl->endpoint);
        }
        cJSON_Delete(reply);
        return QC_CTL_OK;
    }
    return qc_ctl_usage_error("broker: unknown subcommand \"%s\" (use start, stop or status)",
                              argv[1]);
}

/* ---- keygen ------------------------------------------------------------ */

int qc_cmd_keygen(qc_ctl_t *ctl, int argc, char **argv)
{
    const char *name = NULL, *role = "client", *dir = NULL, *value;
    int rc;
    for (int i = 1; i < argc; i++) {
        if (qc_ctl_common_flag(ctl, argc, argv, &i, &rc)) {
            if (rc)
                return rc;
        } else if (qc_ctl_flag_value(argc, argv, &i, "--role", &value)) {
            if (!value || (strcmp(value, "worker") != 0 && strcmp(value, "client") != 0))
                return qc_ctl_usage_error("keygen: --role must be worker or client");
            role = value;
        } else if (qc_ctl_flag_value(argc, argv, &i, "--dir", &value)) {
            if (!value)
                return qc_ctl_usage_error("keygen: --dir needs a directory");
            dir = value;
        } else if (argv[i][0] == '-') {
            return s_unknown_flag("keygen", argv[i]);
        } else if (name) {
            return qc_ctl_usage_error("keygen: one NAME, please");
        } else {
            name = argv[i];
        }
    }
    if (!name || !qc_job_id_valid(name))
        return qc_ctl_usage_error("keygen: give a NAME of A-Z a-z 0-9 . _ : @ - (e.g. worker)");
    char keys[4096], err[512];
    if (!dir) {
        if (qc_home_path(keys, sizeof keys, "keys") != 0)
            return QC_CTL_USAGE;
        dir = keys;
    }
    if (qc_curve_keygen(dir, name, role, err, sizeof err) != 0) {
        fprintf(stderr, "queuectl: keygen: %s\n", err);
        return QC_CTL_REFUSED;
    }
    if (ctl->json) {
        cJSON *out = cJSON_CreateObject();
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.cert", dir, name);
        cJSON_AddStringToObject(out, "public", path);
        strcat(path, "_secret");
        cJSON_AddStringToObject(out, "secret", path);
        qc_out_json(out);
        cJSON_Delete(out);
    } else {
        printf("wrote %s/%s.cert (public) and %s/%s.cert_secret (secret, keep it here)\n"
               "next: copy %s.cert to the broker's $QUEUECTL_HOME/authorized/%ss/, and the\n"
               "broker's keys/broker.cert to this machine's $QUEUECTL_HOME/keys/broker.cert\n",
               dir, name, dir, name, name, role);
    }
    return QC_CTL_OK;
}
