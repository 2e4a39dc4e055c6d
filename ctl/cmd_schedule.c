/* schedule: recurring jobs (add, list, show, remove, pause, resume). */
#include "ctl.h"
#include "queuectl/cron.h"
#include "queuectl/job.h"
#include "queuectl/proto.h"

#include <stdlib.h>
#include <string.h>

#define S_MAX_NAME_BYTES (QC_MAX_ID_BYTES - 15)

static int s_name_valid(const char *name)
{
    return name && qc_job_id_valid(name) && strlen(name) <= S_MAX_NAME_BYTES;
}

static int s_after_dashdash(const char *arg)
{
    (void)arg;
    return 0;
}

/* schedule add NAME --cron EXPR [--tz ZONE] [--skip-if-running] [job flags] -- COMMAND */
static int s_add(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t own[] = {
        {"cron", 0, 1}, {"tz", 0, 1}, {"skip-if-running", 0, 0}, {NULL, 0, 0}};
    /* Both tables: merge them into one for the parser. */
    qc_flag_t table[32];
    int n = 0;
    for (const qc_flag_t *f = own; f->name; f++)
        table[n++] = *f;
    for (const qc_flag_t *f = qc_job_flag_table; f->name && n < 31; f++)
        table[n++] = *f;
    table[n] = (qc_flag_t){NULL, 0, 0};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, s_after_dashdash, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *name = qc_flags_arg(flags, 0), *expr = qc_flags_value(flags, "cron"),
               *tz = qc_flags_value(flags, "tz");
    qc_cron_t cron;
    char why[256];
    cJSON *job = NULL;
    if (!name)
        rc = qc_ctl_usage_error("schedule add: give a name, --cron and the command: schedule add "
                                "NAME --cron 'EXPR' -- COMMAND");
    else if (!s_name_valid(name))
        rc = qc_ctl_usage_error("schedule add: \"%s\" is not a valid schedule name (1-%d "
                                "characters of A-Z a-z 0-9 . _ : @ -)",
                                name, S_MAX_NAME_BYTES);
    else if (!expr)
        rc = qc_ctl_usage_error("schedule add: --cron is required (5 fields, or @hourly, "
                                "@daily, @weekly, @monthly)");
    else if (qc_cron_parse(expr, &cron, why, sizeof why) != 0)
        rc = qc_ctl_usage_error("schedule add: invalid --cron \"%s\": %s", expr, why);
    else if (tz && !qc_tz_valid(tz))
        rc = qc_ctl_usage_error("schedule add: invalid --tz \"%s\": not a time zone of the "
                                "system's tzdata (such as Europe/Berlin or UTC)",
                                tz);
    else if (qc_flags_argc(flags) < 2)
        rc = qc_ctl_usage_error("schedule add: what should it run? put the command after --");
    if (rc == QC_CTL_OK) {
        size_t total = 1;
        for (int w = 1; w < qc_flags_argc(flags); w++)
            total += strlen(qc_flags_arg(flags, w)) + 1;
        char *command = calloc(1, total);
        for (int w = 1; command && w < qc_flags_argc(flags); w++) {
            if (w > 1)
                strcat(command, " ");
            strcat(command, qc_flags_arg(flags, w));
        }
        job = cJSON_CreateObject();
        cJSON_AddStringToObject(job, "command", command ? command : "");
        free(command);
        rc = qc_job_flags_apply(job, flags);
    }
    qc_job_spec_t spec;
    char err[256];
    if (rc == QC_CTL_OK && qc_job_spec_from_json(job, &spec, err, sizeof err) != 0)
        rc = qc_ctl_usage_error("schedule add: invalid job: %s", err);
    else if (rc == QC_CTL_OK)
        qc_job_spec_clear(&spec);
    cJSON *request = NULL;
    if (rc == QC_CTL_OK) {
        request = qc_ctl_request("schedule.add");
        cJSON_AddStringToObject(request, "name", name);
        cJSON_AddStringToObject(request, "cron", expr);
        if (tz)
            cJSON_AddStringToObject(request, "tz", tz);
        if (qc_flags_count(flags, "skip-if-running"))
            cJSON_AddBoolToObject(request, "skip_if_running", 1);
        cJSON_AddItemToObject(request, "job", job);
        job = NULL;
    }
    cJSON_Delete(job);
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(reply, "schedule");
    if (ctl->json)
        qc_out_json(s);
    else
        printf("schedule %s added: next run %s\n", qc_out_text(s, "name", "?"),
               qc_out_text(s, "next_run", "-"));
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

static int s_list(qc_ctl_t *ctl, int argc, char **argv)
{
    cJSON *reply;
    const cJSON *list;
    int rc = qc_ctl_list(ctl, argc, argv, "schedule.list", "schedules", &reply, &list);
    if (rc != QC_CTL_OK || !reply)
        return rc;
    int rows = cJSON_GetArraySize(list);
    if (rows == 0) {
        printf("no schedules\n");
        cJSON_Delete(reply);
        return QC_CTL_OK;
    }
    static const char *const header[] = {"NAME",     "CRON",  "TZ",     "NEXT RUN",
                                         "LAST JOB", "STATE", "COMMAND"};
    enum { COLUMNS = 7 };
    const char **cells = calloc((size_t)rows * COLUMNS, sizeof *cells);
    if (!cells) {
        cJSON_Delete(reply);
        return QC_CTL_REFUSED;
    }
    int r = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, list)
    {
        int paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "paused"));
        cells[r * COLUMNS + 0] = qc_out_text(s, "name", "?");
        cells[r * COLUMNS + 1] = qc_out_text(s, "cron", "?");
        cells[r * COLUMNS + 2] = qc_out_text(s, "tz", "UTC");
        cells[r * COLUMNS + 3] = paused ? "-" : qc_out_text(s, "next_run", "-");
        cells[r * COLUMNS + 4] = qc_out_text(s, "last_job", "-");
        cells[r * COLUMNS + 5] = paused ? "paused" : "active";
        cells[r * COLUMNS + 6] =
            qc_out_text(cJSON_GetObjectItemCaseSensitive(s, "job"), "command", "");
        r++;
    }
    qc_out_table(header, COLUMNS, cells, rows);
    free(cells);
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* show, remove, pause, resume: one schedule by name. */
static int s_one(qc_ctl_t *ctl, const char *sub, int argc, char **argv)
{
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, NULL, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *name = qc_flags_arg(flags, 0);
    if (!name)
        rc = qc_ctl_usage_error("schedule %s: which schedule? give its name", sub);
    else if (qc_flags_argc(flags) > 1)
        rc = qc_ctl_usage_error("schedule %s: one schedule, please", sub);
    else if (!s_name_valid(name))
        rc = qc_ctl_usage_error("schedule %s: \"%s\" is not a valid schedule name", sub, name);
    cJSON *request = NULL;
    if (rc == QC_CTL_OK) {
        char op[32];
        snprintf(op, sizeof op, "schedule.%s", strcmp(sub, "show") == 0 ? "get" : sub);
        request = qc_ctl_request(op);
        cJSON_AddStringToObject(request, "name", name);
    }
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK)
        return rc;
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(reply, "schedule");
    if (ctl->json) {
        qc_out_json(s ? s : reply);
    } else if (strcmp(sub, "remove") == 0) {
        printf("schedule %s removed (the jobs it enqueued stay)\n",
               qc_out_text(reply, "removed", "?"));
    } else if (strcmp(sub, "show") != 0) {
        printf("schedule %s %s%s%s\n", qc_out_text(s, "name", "?"),
               strcmp(sub, "pause") == 0 ? "paused" : "resumed",
               strcmp(sub, "pause") == 0 ? "" : ": next run ",
               strcmp(sub, "pause") == 0 ? "" : qc_out_text(s, "next_run", "-"));
    } else {
        const cJSON *job = cJSON_GetObjectItemCaseSensitive(s, "job");
        int paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "paused"));
        int64_t runs = 0, skipped = 0;
        qc_json_int(s, "runs", &runs);
        qc_json_int(s, "skipped", &skipped);
        printf("Schedule %s\n", qc_out_text(s, "name", "?"));
        printf("  cron        %s (%s)\n", qc_out_text(s, "cron", "?"), qc_out_text(s, "tz", "UTC"));
        printf("  command     %s\n", qc_out_text(job, "command", ""));
        printf("  state       %s%s\n", paused ? "paused" : "active",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "skip_if_running"))
                   ? ", skips a tick while its last job runs"
                   : "");
        printf("  next run    %s\n", paused ? "-" : qc_out_text(s, "next_run", "-"));
        printf("  runs        %lld enqueued, %lld skipped\n", (long long)runs, (long long)skipped);
        const cJSON *runs_list = cJSON_GetObjectItemCaseSensitive(s, "recent_runs"), *run;
        if (cJSON_GetArraySize(runs_list) > 0)
            printf("  recent runs\n");
        cJSON_ArrayForEach(run, runs_list)
        {
            const char *state = qc_out_text(run, "state", "?");
            printf("    %-40s %s%-10s%s %s\n", qc_out_text(run, "id", "?"),
                   qc_out_state_color(state), state, qc_out_reset(),
                   qc_out_text(run, "run_at", ""));
        }
    }
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

int qc_cmd_schedule(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return qc_ctl_usage_error("schedule: use add, list, show, remove, pause or resume (see "
                                  "queuectl schedule --help)");
    const char *sub = argv[1];
    static const char *subs[] = {"add", "list", "show", "remove", "pause", "resume"};
    static const char *commands[] = {"schedule add",    "schedule list",  "schedule show",
                                     "schedule remove", "schedule pause", "schedule resume"};
    for (int i = 0; i < 6; i++) {
        if (strcmp(sub, subs[i]) != 0)
            continue;
        ctl->command = commands[i];
        if (i == 0)
            return s_add(ctl, argc - 1, argv + 1);
        if (i == 1)
            return s_list(ctl, argc - 1, argv + 1);
        return s_one(ctl, sub, argc - 1, argv + 1);
    }
    return qc_ctl_usage_error("schedule: unknown subcommand \"%s\" (use add, list, show, remove, "
                              "pause or resume)",
                              sub);
}
