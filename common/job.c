#include "queuectl/job.h"
#include "queuectl/clock.h"
#include "queuectl/json.h"
#include "queuectl/parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qc_job_spec_init(qc_job_spec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->max_retries = -1;
}

void qc_job_spec_clear(qc_job_spec_t *spec)
{
    free(spec->command);
    free(spec->env_json);
    free(spec->cwd);
    free(spec->retry_on_exit);
    free(spec->no_retry_on_exit);
    free(spec->after);
    qc_job_spec_init(spec);
}

int qc_job_id_valid(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len > QC_MAX_ID_BYTES || id[0] == '-')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        qc_job_spec_clear(spec);                                                                   \
        return -1;                                                                                 \
    } while (0)

static const char *s_known_fields[] = {
    "id",  "command", "max_retries",   "priority",         "run_at",     "delay_s", "timeout_s",
    "env", "cwd",     "retry_on_exit", "no_retry_on_exit", "unique_key", "queue",   "after"};
#define S_KNOWN_LIST                                                                               \
    "id, command, max_retries, priority, run_at, delay_s, timeout_s, env, cwd, retry_on_exit, "    \
    "no_retry_on_exit, unique_key, queue, after"

cJSON *qc_exit_list_to_json(const char *list)
{
    cJSON *array = cJSON_CreateArray();
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        char item[16];
        snprintf(item, sizeof item, "%.*s", (int)(n < 15 ? n : 15), p);
        if (item[0] >= '0' && item[0] <= '9')
            cJSON_AddItemToArray(array, cJSON_CreateNumber(atoi(item)));
        else
            cJSON_AddItemToArray(array, cJSON_CreateString(item));
        p += n;
        if (*p == ',')
            p++;
    }
    return array;
}

/* An exit list field: an array of exit codes 1-255 (and, when allow_words,
 * "timeout" and "lost"); its canonical text into *out (caller frees). */
static int s_exit_list_parse(const cJSON *item, const char *field, int allow_words, char **out,
                             char *err, size_t errlen)
{
    const char *rule = allow_words ? "an array of exit codes 1-255, \"timeout\" or \"lost\""
                                   : "an array of exit codes 1-255";
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) > QC_MAX_EXIT_CODES + 2) {
        snprintf(err, errlen, "%s must be %s", field, rule);
        return -1;
    }
    char text[QC_MAX_EXIT_CODES * 8 + 32] = "";
    size_t used = 0;
    for (const cJSON *e = item->child; e; e = e->next) {
        double v = e->valuedouble;
        if (cJSON_IsNumber(e) && v >= 1 && v <= 255 && v == (double)(int)v)
            used +=
                (size_t)snprintf(text + used, sizeof text - used, "%s%d", used ? "," : "", (int)v);
        else if (allow_words && cJSON_IsString(e) &&
                 (strcmp(e->valuestring, "timeout") == 0 || strcmp(e->valuestring, "lost") == 0))
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%s", used ? "," : "",
                                     e->valuestring);
        else {
            snprintf(err, errlen, "%s must be %s", field, rule);
            return -1;
        }
    }
    char canonical[QC_EXIT_LIST_BYTES], why[128];
    if (qc_parse_exit_list(text, allow_words, canonical, sizeof canonical, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", field, why);
        return -1;
    }
    *out = strdup(canonical);
    return 0;
}

int qc_queue_list_parse(const char *text, char *out, size_t outlen, char *err, size_t errlen)
{
    size_t used = 0;
    int count = 0;
    out[0] = '\0';
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        char name[QC_MAX_ID_BYTES + 2];
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name - 1 ? len : sizeof name - 1),
                 p);
        if (len == 0 || len > QC_MAX_ID_BYTES || !qc_job_id_valid(name)) {
            snprintf(err, errlen,
                     "queue name \"%.*s\" is invalid: use 1-%d characters of A-Z a-z 0-9 . _ "
                     ": @ - (not starting with -), names separated by commas",
                     (int)(len < 64 ? len : 64), p, QC_MAX_ID_BYTES);
            return -1;
        }
        for (const char *q = out; *q;) { /* each once */
            size_t n = strcspn(q, ",");
            if (n == len && strncmp(q, name, len) == 0) {
                snprintf(err, errlen, "queue %s is listed twice", name);
                return -1;
            }
            q += n + (q[n] == ',');
        }
        if (++count > QC_MAX_WORKER_QUEUES) {
            snprintf(err, errlen, "more than %d queues", QC_MAX_WORKER_QUEUES);
            return -1;
        }
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? "," : "", name);
        p += len;
        if (!*p)
            return 0;
    }
}

int qc_job_env_name_valid(const char *name, char *err, size_t errlen)
{
    size_t len = strlen(name);
    if (len == 0 || len > QC_MAX_ENV_NAME_BYTES) {
        snprintf(err, errlen, "env name must be 1-%d characters", QC_MAX_ENV_NAME_BYTES);
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            snprintf(err, errlen,
                     "env name \"%.*s\" is invalid: use letters, digits and _, not starting "
                     "with a digit",
                     qc_utf8_prefix(name, 64), name);
            return 0;
        }
    }
    if (strncmp(name, "QUEUECTL_", 9) == 0) {
        snprintf(err, errlen,
                 "env name \"%.*s\" is reserved: queuectl sets QUEUECTL_JOB_ID, "
                 "QUEUECTL_ATTEMPT, QUEUECTL_QUEUE and QUEUECTL_WORKER_ID itself",
                 qc_utf8_prefix(name, 64), name);
        return 0;
    }
    return 1;
}

/* env: an object of string values with valid names; its compact text into
 * *out (caller frees). 0, or -1 with the reason in err. */
static int s_env_parse(const cJSON *item, char **out, char *err, size_t errlen)
{
    if (!cJSON_IsObject(item)) {
        snprintf(err, errlen, "env must be an object of \"NAME\": \"value\" strings");
        return -1;
    }
    size_t bytes = 0;
    int count = 0;
    char why[200];
    for (const cJSON *var = item->child; var; var = var->next, count++) {
        if (count >= QC_MAX_ENV_VARS) {
            snprintf(err, errlen, "env has more than %d variables", QC_MAX_ENV_VARS);
            return -1;
        }
        if (!qc_job_env_name_valid(var->string ? var->string : "", why, sizeof why)) {
            snprintf(err, errlen, "%s", why);
            return -1;
        }
        if (!cJSON_IsString(var)) {
            snprintf(err, errlen, "env value of %s must be a string", var->string);
            return -1;
        }
        for (const cJSON *prev = item->child; prev != var; prev = prev->next)
            if (strcmp(prev->string, var->string) == 0) {
                snprintf(err, errlen, "env sets %s twice", var->string);
                return -1;
            }
        bytes += strlen(var->string) + strlen(var->valuestring) + 2;
    }
    if (bytes > QC_MAX_ENV_BYTES) {
        snprintf(err, errlen, "env is %zu bytes, longer than the limit of %d", bytes,
                 QC_MAX_ENV_BYTES);
        return -1;
    }
    *out = count ? cJSON_PrintUnformatted(item) : NULL;
    return 0;
}

int qc_job_spec_from_json(const cJSON *obj, qc_job_spec_t *spec, char *err, size_t errlen)
{
    qc_job_spec_init(spec);
    if (!cJSON_IsObject(obj))
        FAIL("job must be a JSON object");
    for (const cJSON *field = obj->child; field; field = field->next) {
        int known = 0;
        for (size_t i = 0; i < sizeof s_known_fields / sizeof s_known_fields[0]; i++)
            known |= field->string && strcmp(field->string, s_known_fields[i]) == 0;
        if (!known)
            FAIL("unknown field \"%.*s\" (known: " S_KNOWN_LIST ")",
                 qc_utf8_prefix(field->string ? field->string : "", 64),
                 field->string ? field->string : "");
    }

    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, "id");
    if (item && !cJSON_IsNull(item)) {
        if (!cJSON_IsString(item))
            FAIL("id must be a string");
        if (!qc_job_id_valid(item->valuestring))
            FAIL("id \"%.*s\" is invalid: use 1-%d characters of A-Z a-z 0-9 . _ : @ - "
                 "(not starting with -)",
                 qc_utf8_prefix(item->valuestring, 64), item->valuestring, QC_MAX_ID_BYTES);
        snprintf(spec->id, sizeof spec->id, "%s", item->valuestring);
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "command");
    if (!item)
        FAIL("command is missing");
    if (!cJSON_IsString(item))
        FAIL("command must be a string");
    size_t len = strlen(item->valuestring);
    size_t blank = strspn(item->valuestring, " \t\r\n");
    if (len == 0 || blank == len)
        FAIL("command is empty");
    if (len > QC_MAX_COMMAND_BYTES)
        FAIL("command is %zu bytes, longer than the limit of %d", len, QC_MAX_COMMAND_BYTES);
    spec->command = strdup(item->valuestring);

    int64_t v;
    item = cJSON_GetObjectItemCaseSensitive(obj, "max_retries");
    if (item && !cJSON_IsNull(item)) {
        if (qc_json_int(obj, "max_retries", &v) != 0)
            FAIL("max_retries must be an integer");
        if (v < 0 || v > QC_MAX_RETRIES_LIMIT)
            FAIL("max_retries must be between 0 and %d", QC_MAX_RETRIES_LIMIT);
        spec->max_retries = (int)v;
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "priority");
    if (item && !cJSON_IsNull(item)) {
        if (cJSON_IsString(item)) {
            if (qc_parse_priority(item->valuestring, &spec->priority) != 0)
                FAIL("priority must be high, medium, low or an integer in [-%d, %d]",
                     QC_MAX_PRIORITY, QC_MAX_PRIORITY);
        } else if (qc_json_int(obj, "priority", &v) == 0 && v >= -QC_MAX_PRIORITY &&
                   v <= QC_MAX_PRIORITY) {
            spec->priority = (int)v;
        } else {
            FAIL("priority must be high, medium, low or an integer in [-%d, %d]", QC_MAX_PRIORITY,
                 QC_MAX_PRIORITY);
        }
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "run_at");
    if (item && !cJSON_IsNull(item)) {
        if (!cJSON_IsString(item) || qc_clock_parse_iso(item->valuestring, &spec->run_at_ms) != 0)
            FAIL("run_at must be an ISO-8601 time such as 2026-11-23T12:00:00Z");
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "delay_s");
    if (item && !cJSON_IsNull(item)) {
        if (!cJSON_IsNumber(item) || isnan(item->valuedouble) || item->valuedouble < 0 ||
            item->valuedouble > QC_MAX_TIMEOUT_S)
            FAIL("delay_s must be a number of seconds between 0 and %d", QC_MAX_TIMEOUT_S);
        spec->delay_ms = (int64_t)(item->valuedouble * 1000);
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "timeout_s");
    if (item && !cJSON_IsNull(item)) {
        if (qc_json_int(obj, "timeout_s", &v) != 0 || v < 1 || v > QC_MAX_TIMEOUT_S)
            FAIL("timeout_s must be an integer between 1 and %d", QC_MAX_TIMEOUT_S);
        spec->timeout_s = (int)v;
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "env");
    if (item && !cJSON_IsNull(item)) {
        char why[256];
        if (s_env_parse(item, &spec->env_json, why, sizeof why) != 0)
            FAIL("%s", why);
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "cwd");
    if (item && !cJSON_IsNull(item)) {
        if (!cJSON_IsString(item) || item->valuestring[0] != '/')
            FAIL("cwd must be an absolute directory path (starting with /)");
        if (strlen(item->valuestring) > QC_MAX_CWD_BYTES)
            FAIL("cwd is longer than %d bytes", QC_MAX_CWD_BYTES);
        spec->cwd = strdup(item->valuestring);
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "unique_key");
    if (item && !cJSON_IsNull(item)) {
        if (!cJSON_IsString(item) || !qc_job_id_valid(item->valuestring))
            FAIL("unique_key must be 1-%d characters of A-Z a-z 0-9 . _ : @ - (not starting "
                 "with -)",
                 QC_MAX_ID_BYTES);
        snprintf(spec->unique_key, sizeof spec->unique_key, "%s", item->valuestring);
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "queue");
    if (item && !cJSON_IsNull(item)) {
        if (!cJSON_IsString(item) || !qc_job_id_valid(item->valuestring))
            FAIL("queue must be 1-%d characters of A-Z a-z 0-9 . _ : @ - (not starting with -)",
                 QC_MAX_ID_BYTES);
        snprintf(spec->queue, sizeof spec->queue, "%s", item->valuestring);
    }

    item = cJSON_GetObjectItemCaseSensitive(obj, "after");
    if (item && !cJSON_IsNull(item)) {
        int count = cJSON_GetArraySize(item);
        if (!cJSON_IsArray(item) || count > QC_MAX_DEPS)
            FAIL("after must be an array of at most %d job ids", QC_MAX_DEPS);
        spec->after = count ? calloc((size_t)count, sizeof *spec->after) : NULL;
        if (count && !spec->after)
            FAIL("out of memory");
        for (const cJSON *dep = item->child; dep; dep = dep->next) {
            if (!cJSON_IsString(dep) || !qc_job_id_valid(dep->valuestring))
                FAIL("after must hold job ids (1-%d characters of A-Z a-z 0-9 . _ : @ -)",
                     QC_MAX_ID_BYTES);
            if (spec->id[0] && strcmp(dep->valuestring, spec->id) == 0)
                FAIL("after names the job itself (%s)", spec->id);
            for (int i = 0; i < spec->after_count; i++)
                if (strcmp(spec->after[i], dep->valuestring) == 0)
                    FAIL("after names %s twice", dep->valuestring);
            snprintf(spec->after[spec->after_count++], QC_MAX_ID_BYTES + 1, "%s", dep->valuestring);
        }
    }

    static const char *lists[] = {"retry_on_exit", "no_retry_on_exit"};
    for (int i = 0; i < 2; i++) {
        item = cJSON_GetObjectItemCaseSensitive(obj, lists[i]);
        if (!item || cJSON_IsNull(item))
            continue;
        char why[256];
        if (s_exit_list_parse(item, lists[i], i == 1,
                              i == 0 ? &spec->retry_on_exit : &spec->no_retry_on_exit, why,
                              sizeof why) != 0)
            FAIL("%s", why);
    }
    return 0;
}

cJSON *qc_job_spec_to_json(const qc_job_spec_t *spec)
{
    cJSON *obj = cJSON_CreateObject();
    if (spec->id[0])
        cJSON_AddStringToObject(obj, "id", spec->id);
    cJSON_AddStringToObject(obj, "command", spec->command ? spec->command : "");
    if (spec->max_retries >= 0)
        cJSON_AddNumberToObject(obj, "max_retries", spec->max_retries);
    if (spec->priority)
        cJSON_AddNumberToObject(obj, "priority", spec->priority);
    if (spec->run_at_ms) {
        char iso[32];
        cJSON_AddStringToObject(obj, "run_at",
                                qc_clock_format_iso(spec->run_at_ms, iso, sizeof iso));
    }
    if (spec->delay_ms)
        cJSON_AddNumberToObject(obj, "delay_s", (double)spec->delay_ms / 1000.0);
    if (spec->timeout_s)
        cJSON_AddNumberToObject(obj, "timeout_s", spec->timeout_s);
    if (spec->env_json)
        cJSON_AddItemToObject(obj, "env", cJSON_Parse(spec->env_json));
    if (spec->cwd)
        cJSON_AddStringToObject(obj, "cwd", spec->cwd);
    if (spec->unique_key[0])
        cJSON_AddStringToObject(obj, "unique_key", spec->unique_key);
    if (spec->queue[0])
        cJSON_AddStringToObject(obj, "queue", spec->queue);
    if (spec->after_count) {
        cJSON *after = cJSON_AddArrayToObject(obj, "after");
        for (int i = 0; i < spec->after_count; i++)
            cJSON_AddItemToArray(after, cJSON_CreateString(spec->after[i]));
    }
    if (spec->retry_on_exit)
        cJSON_AddItemToObject(obj, "retry_on_exit", qc_exit_list_to_json(spec->retry_on_exit));
    if (spec->no_retry_on_exit)
        cJSON_AddItemToObject(obj, "no_retry_on_exit",
                              qc_exit_list_to_json(spec->no_retry_on_exit));
    return obj;
}
