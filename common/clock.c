#include "queuectl/clock.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t qc_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t qc_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t s_system_wall_ms(void *arg)
{
    (void)arg;
    return qc_clock_wall_ms();
}

static int64_t s_system_mono_ms(void *arg)
{
    (void)arg;
    return qc_clock_mono_ms();
}

const qc_clock_t qc_clock_system = {s_system_wall_ms, s_system_mono_ms, NULL};

char *qc_clock_format_iso(int64_t wall_ms, char *buf, size_t len)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
    return buf;
}

/* Reads exactly n digits; returns -1 if they are not there. */
static int s_digits(const char **p, int n)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        value = value * 10 + (**p - '0');
        (*p)++;
    }
    return value;
}

int qc_clock_parse_iso(const char *text, int64_t *wall_ms)
{
    const char *p = text;
    struct tm tm = {0};
    int year = s_digits(&p, 4);
    if (year < 1970 || *p++ != '-')
        return -1;
    int month = s_digits(&p, 2);
    if (month < 1 || month > 12 || *p++ != '-')
        return -1;
    int day = s_digits(&p, 2);
    if (day < 1 || day > 31 || (*p != 'T' && *p != ' '))
        return -1;
    p++;
    int hour = s_digits(&p, 2);
    if (hour < 0 || hour > 23 || *p++ != ':')
        return -1;
    int minute = s_digits(&p, 2);
    if (minute < 0 || minute > 59)
        return -1;
    int second = 0, millis = 0;
    if (*p == ':') {
        p++;
        second = s_digits(&p, 2);
        if (second < 0 || second > 60)
            return -1;
        if (*p == '.') {
            p++;
            int scale = 100, ndigits = 0;
            while (isdigit((unsigned char)*p)) {
                millis += (*p - '0') * scale;
                scale /= 10;
                p++;
                ndigits++;
            }
            if (ndigits == 0)
                return -1;
        }
    }
    int offset_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = s_digits(&p, 2);
        if (oh < 0 || oh > 23)
            return -1;
        if (*p == ':')
            p++;
        int om = s_digits(&p, 2);
        if (om < 0 || om > 59)
            return -1;
        offset_min = sign * (oh * 60 + om);
    }
    if (*p != '\0')
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    time_t secs = timegm(&tm);
    if (secs == (time_t)-1)
        return -1;
    *wall_ms = ((int64_t)secs - (int64_t)offset_min * 60) * 1000 + millis;
    return 0;
}
