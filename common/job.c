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

static const char *s_known_fields[] = {"id",     "command", "max_retries", "priority",
                                       "run_at", "delay_s", "timeout_s"};

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
            FAIL("unknown field \"%.*s\" (known: id, command, max_retries, priority, run_at, "
                 "delay_s, timeout_s)",
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
    return obj;
}
