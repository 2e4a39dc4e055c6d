/* Cron expressions and time zones for recurring jobs: the standard five
 * fields (minute hour day-of-month month day-of-week: numbers, *, a-b, lists,
 * /step, month and day names), or @hourly, @daily (@midnight), @weekly,
 * @monthly, @yearly (@annually). Times are wall-clock times in a zone from
 * the system's tzdata (UTC by default). Shared by the CLI (to refuse bad
 * input early) and the broker. */
#ifndef QC_CRON_H
#define QC_CRON_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t minutes; /* bit m: minute m (0-59) */
    uint32_t hours;   /* bit h (0-23) */
    uint32_t days;    /* bit d: day of month d (1-31) */
    uint16_t months;  /* bit m: month m (1-12) */
    uint8_t weekdays; /* bit w: weekday w (0 = Sunday .. 6) */
    int days_any;     /* the day-of-month field was * */
    int weekdays_any; /* the day-of-week field was * */
} qc_cron_t;

/* Parses expr into cron. Returns 0, or -1 with a message naming the field. */
int qc_cron_parse(const char *expr, qc_cron_t *cron, char *err, size_t errlen);

/* True if zone names a zone of the system's tzdata ("Europe/Berlin", "UTC"). */
int qc_tz_valid(const char *zone);

/* The first tick strictly after after_ms (Unix ms), in zone (NULL: UTC), or
 * -1 if there is none within five years (such as 30 February). A wall-clock
 * time that a DST change skips fires at the first instant after the gap;
 * one that happens twice fires once. Sets and restores TZ: call from one
 * thread only. */
int64_t qc_cron_next(const qc_cron_t *cron, const char *zone, int64_t after_ms);

/* The last tick at or before at_ms, or -1 if there is none within five years. */
int64_t qc_cron_prev(const qc_cron_t *cron, const char *zone, int64_t at_ms);

#endif
