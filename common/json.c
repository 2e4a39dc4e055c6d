#include "queuectl/json.h"
#include "queuectl/parse.h"
#include "queuectl/protocol.h"

#include <stdio.h>
#include <string.h>

const char *qc_json_string(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

int qc_json_int(const cJSON *obj, const char *key, int64_t *value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(item))
        return -1;
    double d = item->valuedouble;
    /* Integers only, and within the range a double holds exactly. */
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return -1;
    *value = (int64_t)d;
    return 0;
}

cJSON *qc_json_parse_object(const char *text, size_t len, char *err, size_t errlen)
{
    if (!qc_utf8_valid(text, len)) {
        snprintf(err, errlen, "message is not valid UTF-8 text");
        return NULL;
    }
    for (size_t i = 0; i + 5 < len; i++) {
        if (text[i] != '\\')
            continue;
        if (memcmp(text + i + 1, "u0000", 5) == 0) {
            snprintf(err, errlen, "strings must not contain NUL (\\u0000)");
            return NULL;
        }
        i++; /* skip the escaped character */
    }
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!obj) {
        snprintf(err, errlen, "message is not valid JSON (near byte %zu)",
                 end ? (size_t)(end - text) : (size_t)0);
        return NULL;
    }
    /* Only whitespace may follow the object. */
    for (const char *p = end; p && p < text + len; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            snprintf(err, errlen, "trailing data after the JSON object");
            cJSON_Delete(obj);
            return NULL;
        }
    }
    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "message must be a JSON object");
        cJSON_Delete(obj);
        return NULL;
    }
    if (!qc_json_depth_ok(obj, QC_MAX_JSON_DEPTH)) {
        snprintf(err, errlen, "JSON nests deeper than %d levels", QC_MAX_JSON_DEPTH);
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

int qc_json_depth_ok(const cJSON *item, int max_depth)
{
    if (max_depth < 0)
        return 0;
    for (const cJSON *child = item->child; child; child = child->next)
        if (!qc_json_depth_ok(child, max_depth - 1))
            return 0;
    return 1;
}

cJSON *qc_json_add_int(cJSON *obj, const char *key, int64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)value);
    return cJSON_AddRawToObject(obj, key, text);
}
