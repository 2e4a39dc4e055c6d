/* Commands about the queue as a whole: status, config, keygen. */
#include "ctl.h"
#include "queuectl/curve.h"
#include "queuectl/job.h"
#include "queuectl/paths.h"
#include "queuectl/json.h"

#include <string.h>

int qc_cmd_status(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"queue", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *queue = qc_flags_value(flags, "queue");
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("status: unexpected argument \"%s\"", qc_flags_arg(flags, 0));
    else if (queue && !qc_job_id_valid(queue))
        rc = qc_ctl_usage_error("status: invalid --queue \"%s\": use a queue name (A-Z a-z 0-9 "
                                ". _ : @ -)",
                                queue);
    cJSON *request = qc_ctl_request("status");
    if (queue)
        cJSON_AddStringToObject(request, "queue", queue);
    qc_flags_destroy(&flags);
    if (rc != QC_CTL_OK) {
        cJSON_Delete(request);
        return rc;
    }
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    if (!ctl->json && qc_json_string(reply, "queue")) {
        /* One queue: its counts and the workers that serve it. */
        printf("Queue %s\n", qc_json_string(reply, "queue"));
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(reply, "counts"))
        {
            printf("  %s%-11s%s %lld\n", qc_out_state_color(item->string), item->string,
                   qc_out_reset(), (long long)item->valuedouble);
        }
        int64_t workers = 0;
        qc_json_int(reply, "workers", &workers);
        printf("Workers      %lld serve it\n", (long long)workers);
        cJSON_Delete(reply);
        return QC_CTL_OK;
    }
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

int qc_cmd_config(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return qc_ctl_usage_error("config: use 'config get [KEY|all]' or 'config set KEY VALUE'");
    qc_flags_t *flags;
    ctl->command = strcmp(argv[1], "set") == 0 ? "config set" : "config get";
    int rc = qc_ctl_parse(ctl, NULL, argc - 1, argv + 1, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *positional[2] = {qc_flags_arg(flags, 0), qc_flags_arg(flags, 1)};
    int count = qc_flags_argc(flags);
    qc_flags_destroy(&flags); /* the strings point into argv */
    if (count > 2)
        return qc_ctl_usage_error("config: too many arguments");
    cJSON *request;
    int is_set = strcmp(argv[1], "set") == 0;
    if (strcmp(argv[1], "get") == 0) {
        if (count > 1)
            return qc_ctl_usage_error("config get: one key at most");
        request = qc_ctl_request("config.get");
        if (count == 1 && strcmp(positional[0], "all") != 0)
            cJSON_AddStringToObject(request, "key", positional[0]);
    } else if (is_set) {
        if (count != 2)
            return qc_ctl_usage_error("config set: needs KEY and VALUE, e.g. config set "
                                      "max-retries 5");
        request = qc_ctl_request("config.set");
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
            if (cJSON_IsString(item))
                printf("%-16s %s\n", name, item->valuestring[0] ? item->valuestring : "none");
            else
                printf("%-16s %lld\n", name, (long long)item->valuedouble);
        }
    }
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

/* ---- keygen ------------------------------------------------------------ */

int qc_cmd_keygen(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"role", 0, 1}, {"dir", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    /* The strings point into argv, which outlives flags. */
    const char *name = qc_flags_arg(flags, 0), *dir = qc_flags_value(flags, "dir");
    const char *role = qc_flags_value(flags, "role") ? qc_flags_value(flags, "role") : "client";
    int names = qc_flags_argc(flags);
    qc_flags_destroy(&flags);
    if (strcmp(role, "worker") != 0 && strcmp(role, "client") != 0)
        return qc_ctl_usage_error("keygen: --role must be worker or client");
    if (dir && !*dir)
        return qc_ctl_usage_error("keygen: --dir needs a directory");
    if (names > 1)
        return qc_ctl_usage_error("keygen: one NAME, please");
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
