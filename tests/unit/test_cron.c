/* Unit tests: cron expressions and their ticks, in UTC and across DST
 * changes of a zone that has them (Europe/Berlin, tzdata). */
#include "check.h"
#include "queuectl/clock.h"
#include "queuectl/cron.h"

#include <string.h>

static int64_t s_iso(const char *text)
{
    int64_t ms = 0;
    CHECK(qc_clock_parse_iso(text, &ms) == 0);
    return ms;
}

/* next(after) of expr in zone is want (ISO, or NULL for none). */
static void s_next(const char *expr, const char *zone, const char *after, const char *want)
{
    qc_cron_t cron;
    char err[256];
    CHECK(qc_cron_parse(expr, &cron, err, sizeof err) == 0);
    int64_t got = qc_cron_next(&cron, zone, s_iso(after));
    if (!want) {
        CHECK(got == -1);
        return;
    }
    char iso[32];
    qc_clock_format_iso(got, iso, sizeof iso);
    if (got != s_iso(want))
        fprintf(stderr, "next(%s, %s, %s) = %s, want %s\n", expr, zone ? zone : "UTC", after, iso,
                want);
    CHECK(got == s_iso(want));
}

static void s_bad(const char *expr, const char *needle)
{
    qc_cron_t cron;
    char err[256] = "";
    CHECK(qc_cron_parse(expr, &cron, err, sizeof err) == -1);
    if (!strstr(err, needle))
        fprintf(stderr, "%s: %s\n", expr, err);
    CHECK(strstr(err, needle) != NULL);
}

int main(void)
{
    /* UTC basics */
    s_next("* * * * *", NULL, "2026-11-30T10:00:30Z", "2026-11-30T10:01:00Z");
    s_next("*/15 * * * *", NULL, "2026-11-30T10:00:00Z", "2026-11-30T10:15:00Z");
    s_next("0 9 * * mon-fri", NULL, "2026-11-28T12:00:00Z",
           "2026-11-30T09:00:00Z"); /* Sat -> Mon */
    s_next("30 2 1 jan *", NULL, "2026-11-30T00:00:00Z", "2027-01-01T02:30:00Z");
    s_next("@hourly", NULL, "2026-11-30T10:59:59Z", "2026-11-30T11:00:00Z");
    s_next("@daily", NULL, "2026-11-30T10:00:00Z", "2026-12-01T00:00:00Z");
    s_next("@weekly", NULL, "2026-11-30T10:00:00Z", "2026-12-06T00:00:00Z"); /* Sunday */
    s_next("@monthly", NULL, "2026-11-30T10:00:00Z", "2026-12-01T00:00:00Z");
    s_next("0 0 * * 7", NULL, "2026-11-30T10:00:00Z", "2026-12-06T00:00:00Z"); /* 7 = Sunday */
    /* both day fields restricted: either matches (the 1st, or a Friday) */
    s_next("0 0 1 * fri", NULL, "2026-11-30T10:00:00Z", "2026-12-01T00:00:00Z");
    s_next("0 0 13 * fri", NULL, "2026-12-02T00:00:00Z", "2026-12-04T00:00:00Z");
    s_next("0 0 29 2 *", NULL, "2026-11-30T00:00:00Z", "2028-02-29T00:00:00Z");
    s_next("0 0 30 2 *", NULL, "2026-11-30T00:00:00Z", NULL); /* never */
    s_next("0 12 * * *", "America/New_York", "2026-11-30T10:00:00Z", "2026-11-30T17:00:00Z");
    /* Europe/Berlin: spring forward on 2026-03-29 (02:00 CET -> 03:00 CEST) */
    s_next("30 1 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T00:30:00Z");
    s_next("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
           "2026-03-29T01:30:00Z"); /* 03:30 CEST */
    s_next("30 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:30:00Z");
    s_next("30 2 * * *", "Europe/Berlin", "2026-03-29T01:30:00Z",
           "2026-03-30T00:30:00Z"); /* once */
    s_next("0 * * * *", "Europe/Berlin", "2026-03-29T00:00:00Z",
           "2026-03-29T01:00:00Z"); /* 03:00 */
    /* fall back on 2026-10-25 (03:00 CEST -> 02:00 CET): 02:30 happens twice, fires once */
    qc_cron_t cron;
    char err[256];
    CHECK(qc_cron_parse("30 2 * * *", &cron, err, sizeof err) == 0);
    int64_t first = qc_cron_next(&cron, "Europe/Berlin", s_iso("2026-10-24T12:00:00Z"));
    CHECK(first == s_iso("2026-10-25T00:30:00Z") || first == s_iso("2026-10-25T01:30:00Z"));
    int64_t second = qc_cron_next(&cron, "Europe/Berlin", first);
    CHECK(second == s_iso("2026-10-26T01:30:00Z"));
    s_next("0 12 * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T11:00:00Z"); /* CET */
    /* prev: the last tick at or before */
    CHECK(qc_cron_prev(&cron, NULL, s_iso("2026-11-30T02:30:00Z")) ==
          s_iso("2026-11-30T02:30:00Z"));
    CHECK(qc_cron_prev(&cron, NULL, s_iso("2026-11-30T02:29:59Z")) ==
          s_iso("2026-11-29T02:30:00Z"));
    CHECK(qc_cron_parse("0 * * * *", &cron, err, sizeof err) == 0);
    CHECK(qc_cron_prev(&cron, "Europe/Berlin", s_iso("2026-11-30T10:59:00Z")) ==
          s_iso("2026-11-30T10:00:00Z"));
    /* zones */
    CHECK(qc_tz_valid("Europe/Berlin") && qc_tz_valid("UTC"));
    CHECK(!qc_tz_valid("Mars/Olympus") && !qc_tz_valid("../etc/passwd") && !qc_tz_valid("") &&
          !qc_tz_valid("/etc/localtime") && !qc_tz_valid("Europe"));
    /* bad expressions name the field */
    s_bad("* * * *", "5 fields");
    s_bad("* * * * * *", "5 fields");
    s_bad("60 * * * *", "minute field \"60\"");
    s_bad("* 24 * * *", "hour field");
    s_bad("* * 0 * *", "day of month field");
    s_bad("* * * 13 *", "month field");
    s_bad("* * * * 8", "day of week field");
    s_bad("*/0 * * * *", "minute field");
    s_bad("5-1 * * * *", "minute field");
    s_bad("* * * foo *", "month field");
    s_bad("1,,2 * * * *", "minute field");
    s_bad("@fortnightly", "unknown \"@fortnightly\"");
    printf("test_cron: ok\n");
    return 0;
}
