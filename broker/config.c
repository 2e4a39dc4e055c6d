#include "config.h"
#include "queuectl/parse.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int min, max;
    int is_duration; /* accepts 10s, 5m ... and stores seconds */
    size_t offset;
    int list; /* 1: an exit list of codes, 2: of codes and words (char[] field) */
} s_key_t;

static const s_key_t s_keys[QC_CONFIG_KEY_COUNT] = {
    {"max_retries", 0, 1000, 0, offsetof(qc_config_t, max_retries), 0},
    {"backoff_base", 1, 10, 0, offsetof(qc_config_t, backoff_base), 0},
    {"backoff_max", 1, 86400, 1, offsetof(qc_config_t, backoff_max_s), 0},
    {"job_timeout", 1, 2592000, 1, offsetof(qc_config_t, job_timeout_s), 0},
    {"retention", 0, 31536000, 1, offsetof(qc_config_t, retention_s), 0},
    {"retry_on_exit", 0, 0, 0, offsetof(qc_config_t, retry_on_exit), 1},
    {"no_retry_on_exit", 0, 0, 0, offsetof(qc_config_t, no_retry_on_exit), 2},
};
#define S_KNOWN_KEYS                                                                               \
    "max-retries, backoff-base, backoff-max, job-timeout, retention, retry-on-exit, "              \
    "no-retry-on-exit"

void qc_config_defaults(qc_config_t *config)
{
    config->max_retries = 3;
    config->backoff_base = 2;
    config->backoff_max_s = 300;
    config->job_timeout_s = 300;
    config->retention_s = 0;
    config->retry_on_exit[0] = '\0';
    config->no_retry_on_exit[0] = '\0';
}

static const s_key_t *s_find(const char *key)
{
    if (!key)
        return NULL;
    char canonical[32];
    size_t len = strlen(key);
    if (len >= sizeof canonical)
        return NULL;
    for (size_t i = 0; i <= len; i++)
        canonical[i] = key[i] == '-' ? '_' : key[i];
    for (int i = 0; i < QC_CONFIG_KEY_COUNT; i++)
        if (strcmp(canonical, s_keys[i].name) == 0)
            return &s_keys[i];
    return NULL;
}

const char *qc_config_key_canonical(const char *key)
{
    const s_key_t *k = s_find(key);
    return k ? k->name : NULL;
}

const char *qc_config_key_at(int i)
{
    return s_keys[i].name;
}

static int *s_field(qc_config_t *config, const s_key_t *k)
{
    return (int *)((char *)config + k->offset);
}

int qc_config_set(qc_config_t *config, const char *key, const char *text, char *err, size_t errlen)
{
    const s_key_t *k = s_find(key);
    if (!k) {
        snprintf(err, errlen, "unknown config key \"%.40s\" (known: " S_KNOWN_KEYS ")",
                 key ? key : "");
        return -1;
    }
    if (k->list) {
        char list[QC_EXIT_LIST_BYTES], why[128];
        if (!text || qc_parse_exit_list(text, k->list == 2, list, sizeof list, why, sizeof why)) {
            snprintf(err, errlen, "invalid value for %s: %s", k->name, text ? why : "missing");
            return -1;
        }
        snprintf((char *)config + k->offset, QC_EXIT_LIST_BYTES, "%s", list);
        return 0;
    }
    int64_t value;
    int ok;
    if (k->offset == offsetof(qc_config_t, retention_s) && text && strcmp(text, "0") != 0 &&
        strcmp(text, "never") != 0) {
        /* retention: 0/never, or at least a minute (the sweep's period) */
        int64_t ms;
        ok = qc_parse_duration_ms(text, &ms) == 0 && ms % 1000 == 0 && ms >= 60000 &&
             ms / 1000 <= k->max;
        value = ok ? ms / 1000 : 0;
    } else if (k->offset == offsetof(qc_config_t, retention_s)) {
        ok = 1;
        value = 0;
    } else if (k->is_duration) {
        int64_t ms;
        ok = qc_parse_duration_ms(text, &ms) == 0 && ms % 1000 == 0;
        value = ok ? ms / 1000 : 0;
        ok = ok && value >= k->min && value <= k->max;
    } else {
        ok = qc_parse_int(text, k->min, k->max, &value) == 0;
    }
    if (!ok) {
        snprintf(err, errlen, "invalid value \"%.40s\" for %s: expected %s between %d and %d",
                 text ? text : "", k->name,
                 k->is_duration ? "whole seconds (or 5m, 2h)" : "an integer", k->min, k->max);
        return -1;
    }
    *s_field(config, k) = (int)value;
    return 0;
}

void qc_config_format(const qc_config_t *config, const char *key, char *buf, size_t len)
{
    const s_key_t *k = s_find(key);
    if (k && k->list)
        snprintf(buf, len, "%s", (const char *)config + k->offset);
    else
        snprintf(buf, len, "%d", k ? *s_field((qc_config_t *)config, k) : 0);
}

cJSON *qc_config_to_json(const qc_config_t *config, const char *key)
{
    cJSON *obj = cJSON_CreateObject();
    for (int i = 0; i < QC_CONFIG_KEY_COUNT; i++)
        if (s_keys[i].list && (!key || strcmp(key, s_keys[i].name) == 0))
            cJSON_AddStringToObject(obj, s_keys[i].name, (const char *)config + s_keys[i].offset);
        else if (!key || strcmp(key, s_keys[i].name) == 0)
            cJSON_AddNumberToObject(obj, s_keys[i].name,
                                    *s_field((qc_config_t *)config, &s_keys[i]));
    return obj;
}
