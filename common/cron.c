#include "queuectl/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
    const char *name;
    int min, max;
    const char *const *names; /* names for min.. (months, weekdays), or NULL */
} s_field_t;

static const char *const s_month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                            "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const s_day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const s_field_t s_fields[5] = {{"minute", 0, 59, NULL},
                                      {"hour", 0, 23, NULL},
                                      {"day of month", 1, 31, NULL},
                                      {"month", 1, 12, s_month_names},
                                      {"day of week", 0, 7, s_day_names}};

/* A number or a name of the field; -1 if neither. Advances *p. */
static int s_value(const s_field_t *field, const char **p)
{
    if (isdigit((unsigned char)**p)) {
        long v = 0;
        while (isdigit((unsigned char)**p) && v < 1000)
            v = v * 10 + (*(*p)++ - '0');
        return (int)v;
    }
    for (int i = 0; field->names && field->names[i]; i++)
        if (strncasecmp(*p, field->names[i], 3) == 0 && !isalpha((unsigned char)(*p)[3])) {
            *p += 3;
            return field->min + i;
        }
    return -1;
}

/* One field ("*", "1-5", "*\/15", "mon,wed") into bits. 0 or -1. */
static int s_parse_field(const s_field_t *field, const char *text, uint64_t *bits, char *err,
                         size_t errlen)
{
    *bits = 0;
    const char *p = text;
    for (;;) {
        int lo, hi, step = 1;
        if (*p == '*') {
            lo = field->min;
            hi = field->max;
            p++;
        } else {
            lo = s_value(field, &p);
            hi = lo;
            if (lo >= 0 && *p == '-') {
                p++;
                hi = s_value(field, &p);
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p))
                goto bad;
            step = atoi(p);
            while (isdigit((unsigned char)*p))
                p++;
            if (lo == hi && text[0] != '*')
                hi = field->max; /* "5/15": from 5 on */
        }
        if (lo < field->min || hi > field->max || lo > hi || step < 1 || step > field->max)
            goto bad;
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << v;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0')
            return 0;
        goto bad;
    }
bad:
    snprintf(err, errlen, "%s field \"%.32s\" is invalid (%d-%d%s, *, a-b, lists, /step)",
             field->name, text, field->min, field->max,
             field->names == s_month_names ? " or jan-dec"
             : field->names                ? " or sun-sat"
                                           : "");
    return -1;
}

static const struct {
    const char *name;
    const char *expr;
} s_macros[] = {{"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
                {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
                {"@annually", "0 0 1 1 *"}};

int qc_cron_parse(const char *expr, qc_cron_t *cron, char *err, size_t errlen)
{
    memset(cron, 0, sizeof *cron);
    if (expr[0] == '@') {
        for (size_t i = 0; i < sizeof s_macros / sizeof s_macros[0]; i++)
            if (strcasecmp(expr, s_macros[i].name) == 0)
                return qc_cron_parse(s_macros[i].expr, cron, err, errlen);
        snprintf(err, errlen,
                 "unknown \"%.32s\" (use @hourly, @daily, @weekly, @monthly or @yearly)", expr);
        return -1;
    }
    char copy[256];
    if (strlen(expr) >= sizeof copy) {
        snprintf(err, errlen, "cron expression too long");
        return -1;
    }
    snprintf(copy, sizeof copy, "%s", expr);
    char *fields[6] = {0}, *save = NULL;
    int count = 0;
    for (char *f = strtok_r(copy, " \t", &save); f; f = strtok_r(NULL, " \t", &save))
        if (count < 6)
            fields[count++] = f;
        else
            count++;
    if (count != 5) {
        snprintf(err, errlen,
                 "a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
                 "not %d",
                 count);
        return -1;
    }
    uint64_t bits[5];
    for (int i = 0; i < 5; i++)
        if (s_parse_field(&s_fields[i], fields[i], &bits[i], err, errlen) != 0)
            return -1;
    cron->minutes = bits[0];
    cron->hours = (uint32_t)bits[1];
    cron->days = (uint32_t)bits[2];
    cron->months = (uint16_t)bits[3];
    cron->weekdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday too */
    cron->days_any = fields[2][0] == '*';
    cron->weekdays_any = fields[4][0] == '*';
    return 0;
}

int qc_tz_valid(const char *zone)
{
    if (!zone || !*zone || zone[0] == '/' || strstr(zone, "..") || strlen(zone) > 64)
        return 0;
    for (const char *p = zone; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
            return 0;
    char path[128];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* TZ set to zone for a computation, and back. */
typedef struct {
    char *saved;
    int had;
} s_tz_t;

static void s_tz_enter(s_tz_t *tz, const char *zone)
{
    const char *old = getenv("TZ");
    tz->had = old != NULL;
    tz->saved = old ? strdup(old) : NULL;
    setenv("TZ", zone && *zone ? zone : "UTC", 1);
    tzset();
}

static void s_tz_leave(s_tz_t *tz)
{
    if (tz->had && tz->saved)
        setenv("TZ", tz->saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(tz->saved);
}

/* Does the calendar day (y, m 1-12, d, weekday) match? Vixie cron: with both
 * day fields restricted, either may match. */
static int s_day_matches(const qc_cron_t *cron, int month, int mday, int wday)
{
    if (!(cron->months & (1u << month)))
        return 0;
    int dom = (cron->days >> mday) & 1, dow = (cron->weekdays >> wday) & 1;
    if (cron->days_any && cron->weekdays_any)
        return 1;
    if (cron->days_any)
        return dow;
    if (cron->weekdays_any)
        return dom;
    return dom || dow;
}

#define S_SCAN_DAYS (5 * 366)

/* Scans days from the local date of from_ms, forward (dir 1) or backward
 * (-1), for the first day with a tick beyond from_ms that way. */
static int64_t s_scan(const qc_cron_t *cron, const char *zone, int64_t from_ms, int dir)
{
    s_tz_t tz;
    s_tz_enter(&tz, zone);
    time_t from_s = (time_t)(from_ms / 1000);
    struct tm local;
    localtime_r(&from_s, &local);
    int64_t found = -1;
    for (int d = 0; d < S_SCAN_DAYS && found < 0; d++) {
        /* The calendar date d days away (date arithmetic in UTC: no DST). */
        struct tm day = {.tm_year = local.tm_year,
                         .tm_mon = local.tm_mon,
                         .tm_mday = local.tm_mday + dir * d,
                         .tm_hour = 12};
        time_t noon = timegm(&day);
        gmtime_r(&noon, &day);
        if (!s_day_matches(cron, day.tm_mon + 1, day.tm_mday, day.tm_wday))
            continue;
        for (int h = 0; h < 24; h++) {
            if (!(cron->hours & (1u << h)))
                continue;
            for (int m = 0; m < 60; m++) {
                if (!(cron->minutes & (1ULL << m)))
                    continue;
                struct tm when = {.tm_year = day.tm_year,
                                  .tm_mon = day.tm_mon,
                                  .tm_mday = day.tm_mday,
                                  .tm_hour = h,
                                  .tm_min = m,
                                  .tm_isdst = -1};
                time_t t = mktime(&when);
                if (t == (time_t)-1)
                    continue;
                int64_t ms = (int64_t)t * 1000;
                if (dir > 0 ? ms > from_ms && (found < 0 || ms < found)
                            : ms <= from_ms && (found < 0 || ms > found))
                    found = ms;
            }
        }
    }
    s_tz_leave(&tz);
    return found;
}

int64_t qc_cron_next(const qc_cron_t *cron, const char *zone, int64_t after_ms)
{
    return s_scan(cron, zone, after_ms, 1);
}

int64_t qc_cron_prev(const qc_cron_t *cron, const char *zone, int64_t at_ms)
{
    return s_scan(cron, zone, at_ms, -1);
}
