/* Views of jobs (list, show, the DLQ) and changes to them (cancel, retry,
 * purge, prune). */
#include "ctl.h"
#include "queuectl/job.h"
#include "queuectl/parse.h"
#include "queuectl/json.h"

#include <stdlib.h>
#include <string.h>

/* ---- list, dlq list ------------------------------------------------------ */

/* Where a listing goes: a table (printed page by page, the header once),
 * one JSON array, or JSON lines. */
typedef struct {
    int format; /* S_TABLE, S_JSON, S_JSONL */
    int all;    /* every page, streamed */
    long rows;  /* printed so far */
    size_t width[7];
} s_listing_t;

enum { S_TABLE, S_JSON, S_JSONL };

static void s_print_table_page(s_listing_t *out, const cJSON *jobs)
{
    int rows = cJSON_GetArraySize(jobs);
    if (rows == 0)
        return;
    static const char *const header[] = {"ID",       "STATE",   "QUEUE",  "ATTEMPTS",
                                         "PRIORITY", "UPDATED", "COMMAND"};
    enum { COLUMNS = 7 };
    char(*text)[3][48] = calloc((size_t)rows, sizeof *text);
    const char **cells = calloc((size_t)rows * COLUMNS, sizeof *cells);
    if (!text || !cells) {
        free(text);
        free(cells);
        return;
    }
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
        qc_out_ago(qc_out_text(job, "updated_at", ""), text[r][2], sizeof text[r][2]);
        cells[r * COLUMNS + 0] = qc_json_string(job, "id");
        cells[r * COLUMNS + 1] = qc_json_string(job, "state");
        cells[r * COLUMNS + 2] = qc_out_text(job, "queue", "default");
        cells[r * COLUMNS + 3] = text[r][0];
        cells[r * COLUMNS + 4] = text[r][1];
        cells[r * COLUMNS + 5] = text[r][2];
        cells[r * COLUMNS + 6] = qc_json_string(job, "command");
        r++;
    }
    qc_out_table_part(header, COLUMNS, cells, rows, out->width, out->rows == 0);
    free(cells);
    free(text);
}

/* Prints one page of jobs as it comes. */
static void s_print_page(s_listing_t *out, const cJSON *jobs)
{
    const cJSON *job;
    if (out->format == S_TABLE) {
        s_print_table_page(out, jobs);
    } else if (out->format == S_JSONL) {
        cJSON_ArrayForEach(job, jobs) qc_out_json_line(job);
    } else if (!out->all) {
        qc_out_json(jobs); /* one page: the array, as it always was */
    } else {
        /* Every page: one array, written a job at a time. */
        cJSON_ArrayForEach(job, jobs)
        {
            char *text = cJSON_PrintUnformatted(job);
            printf("%s\n  %s", out->rows == 0 ? "[" : ",", text ? text : "null");
            cJSON_free(text);
            out->rows++;
        }
        fflush(stdout);
        return;
    }
    out->rows += cJSON_GetArraySize(jobs);
    fflush(stdout);
}

static void s_print_end(const s_listing_t *out)
{
    if (out->format == S_JSON && out->all)
        printf(out->rows ? "\n]\n" : "[]\n");
    else if (out->format == S_TABLE && out->rows == 0)
        printf("no jobs\n");
}

static const qc_flag_t s_list_flags[] = {{"state", 0, 1}, {"limit", 0, 1}, {"cursor", 0, 1},
                                         {"all", 0, 0},   {"jsonl", 0, 0}, {"queue", 0, 1},
                                         {NULL, 0, 0}};

/* list and dlq list: one page (--limit, --cursor; the next page's cursor is
 * named on stderr), or every page from there on (--all), asked for and
 * printed one page at a time. */
static int s_list_common(qc_ctl_t *ctl, const char *op, int argc, char **argv, int allow_state)
{
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, s_list_flags, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *command = ctl->command;
    const char *state = qc_flags_value(flags, "state"), *limit = qc_flags_value(flags, "limit"),
               *cursor_flag = qc_flags_value(flags, "cursor"),
               *queue = qc_flags_value(flags, "queue");
    s_listing_t out = {.format = qc_flags_count(flags, "jsonl") ? S_JSONL
                                 : ctl->json                    ? S_JSON
                                                                : S_TABLE,
                       .all = qc_flags_count(flags, "all") > 0};
    int64_t page = 0;
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("%s: unexpected argument \"%s\"", command, qc_flags_arg(flags, 0));
    else if (state && !allow_state)
        rc = qc_ctl_usage_error("%s: unknown option \"--state\" (see queuectl %s --help)", command,
                                command);
    else if (state && qc_state_parse(state) < 0)
        rc = qc_ctl_usage_error("%s: --state must be pending, processing, completed, failed, "
                                "dead, canceled or waiting",
                                command);
    else if (limit && qc_parse_int(limit, 1, 1000, &page) != 0)
        rc = qc_ctl_usage_error("%s: --limit must be an integer from 1 to 1000%s", command,
                                out.all ? " (with --all: the page size)" : "");
    else if (queue && (!allow_state || !qc_job_id_valid(queue)))
        rc = qc_ctl_usage_error(allow_state ? "%s: invalid --queue \"%s\": use a queue name (A-Z "
                                              "a-z 0-9 . _ : @ -)"
                                            : "%s: unknown option \"--queue\" (%s)",
                                command, queue);
    else if (cursor_flag && !*cursor_flag)
        rc = qc_ctl_usage_error("%s: --cursor needs the value a previous page named", command);
    if (rc != QC_CTL_OK) {
        qc_flags_destroy(&flags);
        return rc;
    }
    if (out.all && !page)
        page = 1000;
    char cursor[64];
    snprintf(cursor, sizeof cursor, "%s", cursor_flag ? cursor_flag : "");
    do {
        cJSON *request = qc_ctl_request(op);
        if (state)
            cJSON_AddStringToObject(request, "state", state);
        if (queue)
            cJSON_AddStringToObject(request, "queue", queue);
        if (page)
            cJSON_AddNumberToObject(request, "limit", (double)page);
        if (cursor[0])
            cJSON_AddStringToObject(request, "cursor", cursor);
        cJSON *reply;
        if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
            break;
        s_print_page(&out, cJSON_GetObjectItemCaseSensitive(reply, "jobs"));
        snprintf(cursor, sizeof cursor, "%s", qc_out_text(reply, "next_cursor", ""));
        cJSON_Delete(reply);
    } while (out.all && cursor[0]);
    if (rc == QC_CTL_OK) {
        s_print_end(&out);
        if (cursor[0])
            fprintf(stderr, "queuectl: more jobs: queuectl %s%s%s%s%s%s%s --cursor %s (or --all)\n",
                    command, state ? " --state " : "", state ? state : "", queue ? " --queue " : "",
                    queue ? queue : "", limit ? " --limit " : "", limit ? limit : "", cursor);
    }
    qc_flags_destroy(&flags);
    return rc;
}

int qc_cmd_list(qc_ctl_t *ctl, int argc, char **argv)
{
    return s_list_common(ctl, "list", argc, argv, 1);
}

/* ---- show, cancel ---------------------------------------------------------- */

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

/* Commands of one job id: parses it, sends {op, id}; on success *reply is
 * the broker's (caller owns) and *id_out the id (it points into argv).
 * Returns an exit code. */
static int s_id_request(qc_ctl_t *ctl, const char *op, int argc, char **argv, const char **id_out,
                        cJSON **reply)
{
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, NULL, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *command = ctl->command;
    const char *id = qc_flags_arg(flags, 0);
    if (qc_flags_argc(flags) > 1)
        rc = qc_ctl_usage_error("%s: one job id, please (got \"%s\" and \"%s\")", command, id,
                                qc_flags_arg(flags, 1));
    else if (!id)
        rc = qc_ctl_usage_error("%s: which job? give its id", command);
    else if (!qc_job_id_valid(id))
        rc = qc_ctl_usage_error("%s: \"%s\" is not a valid job id", command, id);
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;
    *id_out = id;
    cJSON *request = qc_ctl_request(op);
    cJSON_AddStringToObject(request, "id", id);
    return qc_ctl_call(ctl, request, reply);
}

int qc_cmd_show(qc_ctl_t *ctl, int argc, char **argv)
{
    const char *id;
    cJSON *reply;
    int rc = s_id_request(ctl, "get", argc, argv, &id, &reply);
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
    const char *state = qc_out_text(job, "state", "?");
    printf("Job %s\n", qc_out_text(job, "id", "?"));
    printf("  command     %s\n", qc_out_text(job, "command", ""));
    printf("  state       %s%s%s\n", qc_out_state_color(state), state, qc_out_reset());
    printf("  queue       %s\n", qc_out_text(job, "queue", "default"));
    /* Dependencies and dependents, with their states. */
    static const char *links[][2] = {{"after", "after       "}, {"dependents", "dependents  "}};
    for (int l = 0; l < 2; l++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(job, links[l][0]), *dep;
        if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
            continue;
        printf("  %s", links[l][1]);
        const char *sep = "";
        cJSON_ArrayForEach(dep, list)
        {
            const char *dep_state = qc_out_text(dep, "state", "?");
            printf("%s%s (%s%s%s)", sep, qc_out_text(dep, "id", "?"), qc_out_state_color(dep_state),
                   dep_state, qc_out_reset());
            sep = ", ";
        }
        if (l == 1 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(job, "more_dependents")))
            printf(", ...");
        printf("\n");
    }
    printf("  attempts    %lld of at most %lld\n", (long long)attempts, (long long)max_retries + 1);
    printf("  priority    %lld\n", (long long)priority);
    printf("  timeout     %llds\n", (long long)timeout_s);
    if (qc_json_string(job, "unique_key"))
        printf("  unique key  %s\n", qc_json_string(job, "unique_key"));
    if (qc_json_string(job, "cwd"))
        printf("  cwd         %s\n", qc_json_string(job, "cwd"));
    static const char *lists[][2] = {{"retry_on_exit", "retry on  "},
                                     {"no_retry_on_exit", "no retry  "}};
    for (int i = 0; i < 2; i++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(job, lists[i][0]);
        if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
            continue;
        printf("  %s", lists[i][1]);
        const cJSON *e;
        const char *sep = "";
        cJSON_ArrayForEach(e, list)
        {
            if (cJSON_IsNumber(e))
                printf("%s%d", sep, e->valueint);
            else if (cJSON_IsString(e))
                printf("%s%s", sep, e->valuestring);
            sep = ",";
        }
        printf(" (exit codes)\n");
    }
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(job, "env");
    for (const cJSON *var = cJSON_IsObject(env) ? env->child : NULL; var; var = var->next)
        printf("  env         %s=%s\n", var->string, cJSON_IsString(var) ? var->valuestring : "");
    printf("  created     %s\n", qc_out_text(job, "created_at", "-"));
    printf("  run at      %s\n", qc_out_text(job, "run_at", "-"));
    printf("  updated     %s\n", qc_out_text(job, "updated_at", "-"));
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
        const char *outcome = qc_out_text(a, "outcome", "running");
        printf("\n  Attempt %lld: %s%s%s\n", (long long)n,
               qc_out_state_color(strcmp(outcome, "succeeded") == 0 ? "completed"
                                  : strcmp(outcome, "running") == 0 ? "processing"
                                                                    : "failed"),
               outcome, qc_out_reset());
        printf("    worker    %s (host %s, pid %lld)\n", qc_out_text(a, "worker_id", "?"),
               qc_out_text(a, "worker_host", "?"), (long long)pid);
        printf("    started   %s\n", qc_out_text(a, "started_at", "-"));
        printf("    finished  %s\n", qc_out_text(a, "finished_at", "-"));
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

int qc_cmd_cancel(qc_ctl_t *ctl, int argc, char **argv)
{
    const char *id;
    cJSON *reply;
    int rc = s_id_request(ctl, "cancel", argc, argv, &id, &reply);
    if (rc != QC_CTL_OK)
        return rc;
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(reply, "job");
    if (ctl->json)
        qc_out_json(job);
    else if (strcmp(qc_out_text(job, "state", ""), "canceled") == 0)
        printf("%s canceled\n", id);
    else
        printf("%s is running: its worker is stopping it; it will end canceled\n", id);
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* ---- dlq, prune ------------------------------------------------------------ */

static const qc_flag_t s_purge_flags[] = {
    {"older-than", 0, 1}, {"completed", 0, 0}, {"dead", 0, 0}, {"canceled", 0, 0}, {NULL, 0, 0}};

/* dlq purge and prune: [--older-than D] and, for prune, which states. */
static int s_purge(qc_ctl_t *ctl, int argc, char **argv, int dlq)
{
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, s_purge_flags, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *command = ctl->command;
    const char *older = qc_flags_value(flags, "older-than");
    int64_t older_ms = 0;
    cJSON *states = cJSON_CreateArray();
    static const char *const names[] = {"completed", "dead", "canceled"};
    for (int k = 0; k < 3; k++) {
        if (!qc_flags_count(flags, names[k]))
            continue;
        if (dlq && !rc)
            rc = qc_ctl_usage_error("%s: unknown option \"--%s\" (see queuectl %s --help)", command,
                                    names[k], command);
        cJSON_AddItemToArray(states, cJSON_CreateString(names[k]));
    }
    if (rc != QC_CTL_OK)
        ;
    else if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("%s: unexpected argument \"%s\"", command, qc_flags_arg(flags, 0));
    else if (older && qc_parse_duration_ms(older, &older_ms) != 0)
        rc = qc_ctl_usage_error("%s: --older-than takes a duration such as 7d or 12h", command);
    else if (!dlq && cJSON_GetArraySize(states) == 0)
        rc = qc_ctl_usage_error("prune: say what to delete: --completed, --dead and/or "
                                "--canceled (with --older-than D)");
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK) {
        cJSON_Delete(states);
        return rc;
    }
    cJSON *request = qc_ctl_request(dlq ? "dlq.purge" : "prune");
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
    return s_purge(ctl, argc, argv, 0);
}

int qc_cmd_dlq(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return qc_ctl_usage_error("dlq: use 'dlq list', 'dlq retry ID' or 'dlq purge'");
    if (strcmp(argv[1], "list") == 0) {
        ctl->command = "dlq list";
        return s_list_common(ctl, "dlq.list", argc - 1, argv + 1, 0);
    }
    if (strcmp(argv[1], "purge") == 0) {
        ctl->command = "dlq purge";
        return s_purge(ctl, argc - 1, argv + 1, 1);
    }
    if (strcmp(argv[1], "retry") != 0)
        return qc_ctl_usage_error("dlq: unknown subcommand \"%s\" (use list, retry or purge)",
                                  argv[1]);
    ctl->command = "dlq retry";
    const char *id;
    cJSON *reply;
    int rc = s_id_request(ctl, "dlq.retry", argc - 1, argv + 1, &id, &reply);
    if (rc != QC_CTL_OK)
        return rc;
    if (ctl->json)
        qc_out_json(cJSON_GetObjectItemCaseSensitive(reply, "job"));
    else
        printf("%s is pending again (attempts reset, history kept)\n", id);
    cJSON_Delete(reply);
    return QC_CTL_OK;
}
