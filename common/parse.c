#include "queuectl/parse.h"
#include "queuectl/protocol.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int qc_parse_int(const char *text, int64_t min, int64_t max, int64_t *value)
{
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return -1;
    *value = v;
    return 0;
}

int qc_parse_duration_ms(const char *text, int64_t *ms)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !isfinite(v) || v < 0)
        return -1;
    double scale;
    if (*end == '\0' || strcmp(end, "s") == 0)
        scale = 1000;
    else if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "m") == 0)
        scale = 60e3;
    else if (strcmp(end, "h") == 0)
        scale = 3600e3;
    else if (strcmp(end, "d") == 0)
        scale = 86400e3;
    else
        return -1;
    double result = v * scale;
    if (result > 1e15) /* about 30,000 years: anything larger is a typo */
        return -1;
    *ms = (int64_t)result;
    return 0;
}

int qc_parse_priority(const char *text, int *priority)
{
    if (!text)
        return -1;
    if (strcmp(text, "high") == 0)
        *priority = 10;
    else if (strcmp(text, "medium") == 0 || strcmp(text, "normal") == 0)
        *priority = 0;
    else if (strcmp(text, "low") == 0)
        *priority = -10;
    else {
        int64_t v;
        if (qc_parse_int(text, -QC_MAX_PRIORITY, QC_MAX_PRIORITY, &v) != 0)
            return -1;
        *priority = (int)v;
    }
    return 0;
}

/* Length of the valid UTF-8 sequence at s (at most avail bytes), or 0. */
static size_t s_utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c >= 0x01 && c < 0x80)
        return 1;
    size_t n;
    unsigned int min;
    unsigned int cp;
    if ((c & 0xE0) == 0xC0) {
        n = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0; /* NUL, stray continuation byte or invalid lead */
    }
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void qc_utf8_sanitize(char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = s_utf8_seq((unsigned char *)buf + i, len - i);
        if (n == 0) {
            buf[i] = '?';
            n = 1;
        }
        i += n;
    }
}

int qc_utf8_prefix(const char *s, int max)
{
    size_t n = strnlen(s, (size_t)max);
    if (n < (size_t)max)
        return (int)n;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

int qc_utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = s_utf8_seq((const unsigned char *)s + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

int qc_parse_exit_list(const char *text, int allow_words, char *out, size_t outlen, char *err,
                       size_t errlen)
{
    char seen[256] = {0};
    int timeout = 0, lost = 0, count = 0;
    if (strcmp(text, "none") == 0)
        text = "";
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        char item[16];
        if (len == 0 || len >= sizeof item) {
            snprintf(err, errlen, "\"%.*s\" is not an exit code (use 1-255%s, comma-separated)",
                     (int)(len < 40 ? len : 40), p, allow_words ? ", timeout or lost" : "");
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        int64_t code;
        if (allow_words && strcmp(item, "timeout") == 0) {
            timeout = 1;
        } else if (allow_words && strcmp(item, "lost") == 0) {
            lost = 1;
        } else if (qc_parse_int(item, 1, 255, &code) == 0) {
            if (!seen[code] && ++count > QC_MAX_EXIT_CODES) {
                snprintf(err, errlen, "more than %d exit codes", QC_MAX_EXIT_CODES);
                return -1;
            }
            seen[code] = 1;
        } else {
            snprintf(err, errlen, "\"%s\" is not an exit code (use 1-255%s, comma-separated)", item,
                     allow_words ? ", timeout or lost" : "");
            return -1;
        }
        p += len;
        if (*p == ',') {
            p++;
            if (!*p) {
                snprintf(err, errlen, "a list must not end with a comma");
                return -1;
            }
        }
    }
    size_t used = 0;
    out[0] = '\0';
    for (int code = 1; code < 256; code++)
        if (seen[code])
            used += (size_t)snprintf(out + used, outlen - used, "%s%d", used ? "," : "", code);
    if (timeout)
        used += (size_t)snprintf(out + used, outlen - used, "%stimeout", used ? "," : "");
    if (lost)
        used += (size_t)snprintf(out + used, outlen - used, "%slost", used ? "," : "");
    return 0;
}

int qc_exit_list_has(const char *list, const char *item)
{
    size_t len = strlen(item);
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, item, len) == 0)
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

void qc_hide_db_password(char *arg)
{
    char *uri = strstr(arg, "://");
    if (!uri || !(strncmp(arg, "postgres", 8) == 0 || strncmp(arg, "--db=", 5) == 0))
        return;
    char *authority = uri + 3, *at = strchr(authority, '@'), *slash = strchr(authority, '/');
    if (at && (!slash || at < slash)) {
        char *colon = memchr(authority, ':', (size_t)(at - authority));
        for (char *c = colon ? colon + 1 : at; c < at; c++)
            *c = '*';
    }
    for (char *p = strstr(arg, "password="); p; p = strstr(p + 1, "password="))
        for (char *c = p + 9; *c && *c != '&'; c++)
            *c = '*';
}
