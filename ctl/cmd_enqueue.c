/* enqueue: one job from JSON, a .json file or a command's words; many from
 * a JSON-lines file; --wait runs it "through the queue". */
#include "ctl.h"
#include "queuectl/clock.h"
#include "queuectl/job.h"
#include "queuectl/parse.h"
#include "queuectl/json.h"
#include "queuectl/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int s_enqueue(qc_ctl_t *ctl, const qc_flags_t *flags);
static int s_apply_exit_policy(cJSON *job, const qc_flags_t *flags);
static int s_apply_env_cwd(cJSON *job, const qc_flags_t *flags);

const qc_flag_t qc_job_flag_table[] = {{"max-retries", 0, 1},
                                       {"priority", 0, 1},
                                       {"timeout", 0, 1},
                                       {"env", 0, 1},
                                       {"cwd", 0, 1},
                                       {"retry-on-exit", 0, 1},
                                       {"no-retry-on-exit", 0, 1},
                                       {"unique-key", 0, 1},
                                       {"queue", 0, 1},
                                       {NULL, 0, 0}};

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
    cJSON *request = qc_ctl_request("get");
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
static int s_send_batch(qc_ctl_t *ctl, cJSON **batch, int64_t *stored, int64_t *duplicates)
{
    cJSON *request = qc_ctl_request("enqueue");
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
    const cJSON *item;
    int dups = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(reply, "duplicate_of")) dups +=
        cJSON_IsString(item);
    cJSON_Delete(reply);
    *stored += n;
    *duplicates += dups;
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
    int progress = isatty(STDERR_FILENO) && !ctl->json;
    cJSON *batch = cJSON_CreateArray();
    int64_t line_no = 0, stored = 0, duplicates = 0;
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
            rc = s_send_batch(ctl, &batch, &stored, &duplicates);
            if (progress)
                fprintf(stderr, "\r%lld jobs enqueued", (long long)stored);
        }
    }
    free(line);
    if (in != stdin)
        fclose(in);
    if (rc == QC_CTL_OK && cJSON_GetArraySize(batch) > 0)
        rc = s_send_batch(ctl, &batch, &stored, &duplicates);
    cJSON_Delete(batch);
    if (progress)
        fprintf(stderr, "\r");
    if (rc == QC_CTL_OK && !ctl->json)
        printf("%lld job%s enqueued", (long long)(stored - duplicates),
               stored - duplicates == 1 ? "" : "s");
    if (rc == QC_CTL_OK && !ctl->json && duplicates)
        printf(", %lld not added (an unfinished job has its unique key)", (long long)duplicates);
    if (rc == QC_CTL_OK && !ctl->json)
        printf("\n");
    return rc;
}

/* The flags a job takes from enqueue and schedule add alike, over the
 * JSON's fields: --queue, --unique-key, --max-retries, --priority, --timeout,
 * --env, --cwd, --retry-on-exit, --no-retry-on-exit. */
int qc_job_flags_apply(cJSON *job, const qc_flags_t *flags)
{
    const char *max_retries = qc_flags_value(flags, "max-retries"),
               *priority = qc_flags_value(flags, "priority"),
               *timeout = qc_flags_value(flags, "timeout");
    int rc;
    const char *queue = qc_flags_value(flags, "queue");
    if (queue) {
        if (!qc_job_id_valid(queue)) {
            return qc_ctl_usage_error("enqueue: invalid --queue \"%s\": use 1-%d characters of "
                                      "A-Z a-z 0-9 . _ : @ - (not starting with -)",
                                      queue, QC_MAX_ID_BYTES);
        }
        cJSON_DeleteItemFromObject(job, "queue");
        cJSON_AddStringToObject(job, "queue", queue);
    }
    const char *unique_key = qc_flags_value(flags, "unique-key");
    if (unique_key) {
        if (!qc_job_id_valid(unique_key)) {
            return qc_ctl_usage_error("enqueue: invalid --unique-key \"%s\": use 1-%d characters "
                                      "of A-Z a-z 0-9 . _ : @ - (not starting with -)",
                                      unique_key, QC_MAX_ID_BYTES);
        }
        cJSON_DeleteItemFromObject(job, "unique_key");
        cJSON_AddStringToObject(job, "unique_key", unique_key);
    }
    int64_t number;
    if (max_retries) {
        if (qc_parse_int(max_retries, 0, QC_MAX_RETRIES_LIMIT, &number) != 0) {
            return qc_ctl_usage_error("enqueue: invalid --max-retries \"%s\": use 0 to %d",
                                      max_retries, QC_MAX_RETRIES_LIMIT);
        }
        cJSON_DeleteItemFromObject(job, "max_retries");
        cJSON_AddNumberToObject(job, "max_retries", (double)number);
    }
    if (priority) {
        int p;
        if (qc_parse_priority(priority, &p) != 0) {
            return qc_ctl_usage_error("enqueue: invalid --priority \"%s\": use high, medium, low "
                                      "or an integer from -%d to %d",
                                      priority, QC_MAX_PRIORITY, QC_MAX_PRIORITY);
        }
        cJSON_DeleteItemFromObject(job, "priority");
        cJSON_AddNumberToObject(job, "priority", p);
    }
    if (timeout) {
        int64_t ms;
        if (qc_parse_duration_ms(timeout, &ms) != 0 || ms < 1000 || ms % 1000 != 0 ||
            ms > (int64_t)QC_MAX_TIMEOUT_S * 1000) {
            return qc_ctl_usage_error("enqueue: invalid --timeout \"%s\": use whole seconds "
                                      "such as 30s or 5m",
                                      timeout);
        }
        cJSON_DeleteItemFromObject(job, "timeout_s");
        cJSON_AddNumberToObject(job, "timeout_s", (double)(ms / 1000));
    }

    if ((rc = s_apply_env_cwd(job, flags)) != QC_CTL_OK ||
        (rc = s_apply_exit_policy(job, flags)) != QC_CTL_OK)
        return rc;
    return QC_CTL_OK;
}

/* The first argument that is neither a JSON object nor a .json file ends
 * the flags: it and the words after it are the command. */
static int s_ends_flags(const char *arg)
{
    return !(arg[0] == '{' || s_ends_with(arg, ".json"));
}

static const qc_flag_t s_enqueue_flags[] = {
    {"file", 0, 1},       {"id", 0, 1},     {"max-retries", 0, 1},   {"priority", 0, 1},
    {"delay", 0, 1},      {"run-at", 0, 1}, {"timeout", 0, 1},       {"wait", 0, 0},
    {"env", 0, 1},        {"cwd", 0, 1},    {"retry-on-exit", 0, 1}, {"no-retry-on-exit", 0, 1},
    {"unique-key", 0, 1}, {"queue", 0, 1},  {"after", 0, 1},         {NULL, 0, 0}};

/* --retry-on-exit LIST and --no-retry-on-exit LIST ("none": an empty list,
 * so the config's default doesn't apply to this job). */
static int s_apply_exit_policy(cJSON *job, const qc_flags_t *flags)
{
    static const char *names[] = {"retry-on-exit", "no-retry-on-exit"};
    static const char *fields[] = {"retry_on_exit", "no_retry_on_exit"};
    for (int i = 0; i < 2; i++) {
        const char *text = qc_flags_value(flags, names[i]);
        if (!text)
            continue;
        char list[QC_EXIT_LIST_BYTES], why[128];
        if (qc_parse_exit_list(text, i == 1, list, sizeof list, why, sizeof why) != 0)
            return qc_ctl_usage_error("enqueue: invalid --%s \"%s\": %s", names[i], text, why);
        cJSON_DeleteItemFromObject(job, fields[i]);
        cJSON_AddItemToObject(job, fields[i], qc_exit_list_to_json(list));
    }
    return QC_CTL_OK;
}

/* --env NAME=VALUE (repeatable; a later one wins, over the JSON's env too)
 * and --cwd DIR (a relative DIR is made absolute against ours: the worker
 * has no idea where we were). Returns QC_CTL_OK or a usage error. */
static int s_apply_env_cwd(cJSON *job, const qc_flags_t *flags)
{
    char why[256];
    const char *text;
    for (int i = 0; (text = qc_flags_value_at(flags, "env", i)) != NULL; i++) {
        const char *eq = strchr(text, '=');
        if (!eq || eq == text)
            return qc_ctl_usage_error("enqueue: invalid --env \"%s\": use NAME=VALUE", text);
        char name[QC_MAX_ENV_NAME_BYTES + 2];
        snprintf(name, sizeof name, "%.*s", (int)(eq - text), text);
        if ((size_t)(eq - text) > QC_MAX_ENV_NAME_BYTES ||
            !qc_job_env_name_valid(name, why, sizeof why))
            return qc_ctl_usage_error("enqueue: invalid --env \"%s\": %s", text, why);
        cJSON *env = cJSON_GetObjectItemCaseSensitive(job, "env");
        if (!cJSON_IsObject(env)) {
            cJSON_DeleteItemFromObject(job, "env");
            env = cJSON_AddObjectToObject(job, "env");
        }
        cJSON_DeleteItemFromObjectCaseSensitive(env, name);
        cJSON_AddStringToObject(env, name, eq + 1);
    }
    const char *cwd = qc_flags_value(flags, "cwd");
    if (cwd) {
        if (!*cwd)
            return qc_ctl_usage_error("enqueue: invalid --cwd \"\": give a directory");
        char *path = NULL;
        char here[QC_MAX_CWD_BYTES];
        if (cwd[0] == '/')
            path = strdup(cwd);
        else if (getcwd(here, sizeof here) && asprintf(&path, "%s/%s", here, cwd) < 0)
            path = NULL;
        if (!path)
            return qc_ctl_usage_error("enqueue: invalid --cwd \"%s\": cannot make it absolute",
                                      cwd);
        cJSON_DeleteItemFromObject(job, "cwd");
        cJSON_AddStringToObject(job, "cwd", path);
        free(path);
    }
    return QC_CTL_OK;
}

int qc_cmd_enqueue(qc_ctl_t *ctl, int argc, char **argv)
{
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, s_enqueue_flags, argc, argv, s_ends_flags, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    rc = s_enqueue(ctl, flags);
    qc_flags_destroy(&flags);
    return rc;
}

/* enqueue with its flags parsed. */
static int s_enqueue(qc_ctl_t *ctl, const qc_flags_t *flags)
{
    const char *id = qc_flags_value(flags, "id"),
               *max_retries = qc_flags_value(flags, "max-retries"),
               *priority = qc_flags_value(flags, "priority"),
               *delay = qc_flags_value(flags, "delay"), *run_at = qc_flags_value(flags, "run-at"),
               *timeout = qc_flags_value(flags, "timeout"), *file = qc_flags_value(flags, "file");
    int rc, wait = qc_flags_count(flags, "wait") > 0;
    int argc = qc_flags_argc(flags);
    char **argv = qc_flags_args(flags);
    const char *json_text = argc > 0 && !s_ends_flags(argv[0]) ? argv[0] : NULL;
    int first_word = json_text ? 1 : 0;
    if (json_text && argc > 1)
        return qc_ctl_usage_error("enqueue: give either a JSON job or a command, not both");
    if (file) {
        if (argc > 0 || id || wait)
            return qc_ctl_usage_error("enqueue: --file takes its jobs from the file only");
        if (qc_flags_count(flags, "env") || qc_flags_value(flags, "cwd"))
            return qc_ctl_usage_error("enqueue: --env and --cwd are for one job; with --file, "
                                      "give each line its \"env\" and \"cwd\"");
        if (qc_flags_count(flags, "after"))
            return qc_ctl_usage_error("enqueue: --after is for one job; with --file, give each "
                                      "line its \"after\" (earlier lines may be named)");
        if (qc_flags_value(flags, "unique-key"))
            return qc_ctl_usage_error("enqueue: --unique-key is for one job; with --file, give "
                                      "each line its \"unique_key\"");
        if (qc_flags_value(flags, "retry-on-exit") || qc_flags_value(flags, "no-retry-on-exit"))
            return qc_ctl_usage_error("enqueue: --retry-on-exit and --no-retry-on-exit are for "
                                      "one job; with --file, give each line its lists (or set "
                                      "the config defaults)");
        return s_enqueue_file(ctl, file, max_retries, priority, timeout);
    }

    /* Build the job object from JSON (argument or file) or from words. */
    cJSON *job = NULL;
    char err[256];
    if (json_text) {
        const char *text = json_text;
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
        if (first_word >= argc)
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
    /* --after A,B (repeatable): over the JSON's "after". */
    if (qc_flags_count(flags, "after")) {
        cJSON *after = cJSON_CreateArray();
        const char *text;
        for (int i = 0; (text = qc_flags_value_at(flags, "after", i)) != NULL; i++) {
            for (const char *p = text;; p++) {
                size_t len = strcspn(p, ",");
                char dep[QC_MAX_ID_BYTES + 2];
                snprintf(dep, sizeof dep, "%.*s",
                         (int)(len < sizeof dep - 1 ? len : sizeof dep - 1), p);
                if (len == 0 || len > QC_MAX_ID_BYTES || !qc_job_id_valid(dep)) {
                    cJSON_Delete(after);
                    cJSON_Delete(job);
                    return qc_ctl_usage_error("enqueue: invalid --after \"%s\": give job ids "
                                              "separated by commas",
                                              text);
                }
                cJSON_AddItemToArray(after, cJSON_CreateString(dep));
                p += len;
                if (!*p)
                    break;
            }
        }
        cJSON_DeleteItemFromObject(job, "after");
        cJSON_AddItemToObject(job, "after", after);
    }
    if (id) {
        cJSON_DeleteItemFromObject(job, "id");
        cJSON_AddStringToObject(job, "id", id);
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
    if ((rc = qc_job_flags_apply(job, flags)) != QC_CTL_OK) {
        cJSON_Delete(job);
        return rc;
    }

    /* Validate here too, so bad input never needs a broker to be refused. */
    qc_job_spec_t spec;
    if (qc_job_spec_from_json(job, &spec, err, sizeof err) != 0) {
        cJSON_Delete(job);
        return qc_ctl_usage_error("enqueue: invalid job: %s", err);
    }
    qc_job_spec_clear(&spec);

    cJSON *request = qc_ctl_request("enqueue");
    cJSON_AddItemToObject(request, "job", job);
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    /* A unique key held by an unfinished job: that job's id, and success. */
    const char *duplicate_of = qc_json_string(reply, "duplicate_of");
    if (duplicate_of && !ctl->json)
        fprintf(stderr, "queuectl: not added: unfinished job %s has this unique key\n",
                duplicate_of);
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
