/* queue: named queues' counts and settings (list, pause, resume, set). */
#include "ctl.h"
#include "queuectl/job.h"
#include "queuectl/parse.h"
#include "queuectl/proto.h"

#include <stdlib.h>
#include <string.h>

static int s_queue_list(qc_ctl_t *ctl, int argc, char **argv)
{
    cJSON *reply;
    const cJSON *queues;
    int rc = qc_ctl_list(ctl, argc, argv, "queue.list", "queues", &reply, &queues);
    if (rc != QC_CTL_OK || !reply)
        return rc;
    static const char *const header[] = {"QUEUE", "PENDING", "WAITING", "RUNNING", "FAILED",
                                         "DEAD",  "DONE",    "PAUSED",  "LIMIT",   "OLDEST"};
    enum { COLUMNS = 10 };
    int rows = cJSON_GetArraySize(queues);
    char(*text)[COLUMNS][32] = calloc((size_t)rows + 1, sizeof *text);
    const char **cells = calloc((size_t)(rows + 1) * COLUMNS, sizeof *cells);
    if (!text || !cells) {
        free(text);
        free(cells);
        cJSON_Delete(reply);
        return QC_CTL_REFUSED;
    }
    static const char *states[] = {"pending", "waiting", "processing",
                                   "failed",  "dead",    "completed"};
    int r = 0;
    const cJSON *q;
    cJSON_ArrayForEach(q, queues)
    {
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(q, "counts");
        cells[r * COLUMNS] = qc_out_text(q, "name", "?");
        for (int c = 0; c < 6; c++) {
            int64_t n = 0;
            qc_json_int(counts, states[c], &n);
            snprintf(text[r][c + 1], sizeof text[r][c + 1], "%lld", (long long)n);
            cells[r * COLUMNS + c + 1] = text[r][c + 1];
        }
        cells[r * COLUMNS + 7] =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "paused")) ? "yes" : "no";
        int64_t cap = 0;
        if (qc_json_int(q, "max_running", &cap) == 0)
            snprintf(text[r][8], sizeof text[r][8], "%lld", (long long)cap);
        else
            snprintf(text[r][8], sizeof text[r][8], "none");
        cells[r * COLUMNS + 8] = text[r][8];
        const cJSON *age = cJSON_GetObjectItemCaseSensitive(q, "oldest_pending_age_s");
        if (cJSON_IsNumber(age))
            snprintf(text[r][9], sizeof text[r][9], "%.1fs", age->valuedouble);
        else
            snprintf(text[r][9], sizeof text[r][9], "-");
        cells[r * COLUMNS + 9] = text[r][9];
        r++;
    }
    if (rows == 0)
        printf("no queues\n");
    else
        qc_out_table(header, COLUMNS, cells, rows);
    free(text);
    free(cells);
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* Prints a changed queue: one line, or its JSON. */
static void s_print_queue(qc_ctl_t *ctl, const cJSON *reply)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(reply, "queue");
    if (ctl->json) {
        qc_out_json(q);
        return;
    }
    int64_t cap = 0;
    int capped = qc_json_int(q, "max_running", &cap) == 0;
    printf("queue %s: %s, ", qc_out_text(q, "name", "?"),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "paused")) ? "paused" : "running");
    if (capped)
        printf("at most %lld running at once\n", (long long)cap);
    else
        printf("no limit on running jobs\n");
}

/* queue pause|resume|set NAME [--max-running N|none] */
static int s_queue_change(qc_ctl_t *ctl, const char *sub, int argc, char **argv)
{
    static const qc_flag_t set_table[] = {{"max-running", 0, 1}, {NULL, 0, 0}};
    int is_set = strcmp(sub, "set") == 0;
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, is_set ? set_table : NULL, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *name = qc_flags_arg(flags, 0);
    const char *cap_text = is_set ? qc_flags_value(flags, "max-running") : NULL;
    int64_t cap = 0;
    if (!name)
        rc = qc_ctl_usage_error("queue %s: which queue? give its name", sub);
    else if (qc_flags_argc(flags) > 1)
        rc = qc_ctl_usage_error("queue %s: one queue, please (got \"%s\" and \"%s\")", sub, name,
                                qc_flags_arg(flags, 1));
    else if (!qc_job_id_valid(name))
        rc = qc_ctl_usage_error("queue %s: \"%s\" is not a valid queue name (use A-Z a-z 0-9 . "
                                "_ : @ -)",
                                sub, name);
    else if (is_set && !cap_text)
        rc = qc_ctl_usage_error("queue set: say what to set: --max-running N (0 or none: no "
                                "limit)");
    else if (cap_text && strcmp(cap_text, "none") != 0 &&
             qc_parse_int(cap_text, 0, 100000, &cap) != 0)
        rc = qc_ctl_usage_error("queue set: --max-running must be an integer from 0 to 100000, "
                                "or none, not \"%s\"",
                                cap_text);
    cJSON *request = NULL;
    if (rc == QC_CTL_OK) {
        char op[32];
        snprintf(op, sizeof op, "queue.%s", sub);
        request = qc_ctl_request(op);
        cJSON_AddStringToObject(request, "queue", name);
        if (is_set)
            cJSON_AddNumberToObject(request, "max_running", (double)cap);
    }
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    s_print_queue(ctl, reply);
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

int qc_cmd_queue(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return qc_ctl_usage_error("queue: use 'queue list', 'queue pause NAME', 'queue resume "
                                  "NAME' or 'queue set NAME --max-running N'");
    const char *sub = argv[1];
    static const char *names[] = {"list", "pause", "resume", "set"};
    static const char *commands[] = {"queue list", "queue pause", "queue resume", "queue set"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(sub, names[i]) != 0)
            continue;
        ctl->command = commands[i];
        return i == 0 ? s_queue_list(ctl, argc - 1, argv + 1)
                      : s_queue_change(ctl, sub, argc - 1, argv + 1);
    }
    return qc_ctl_usage_error("queue: unknown subcommand \"%s\" (use list, pause, resume or set)",
                              sub);
}
