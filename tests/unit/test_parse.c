/* Unit tests: durations, priorities, integers, UTF-8, ISO-8601 times. */
#include "check.h"
#include "queuectl/clock.h"
#include "queuectl/parse.h"

#include <string.h>

int main(void)
{
    int64_t ms, v;
    CHECK(qc_parse_duration_ms("10s", &ms) == 0 && ms == 10000);
    CHECK(qc_parse_duration_ms("250ms", &ms) == 0 && ms == 250);
    CHECK(qc_parse_duration_ms("5m", &ms) == 0 && ms == 300000);
    CHECK(qc_parse_duration_ms("2h", &ms) == 0 && ms == 7200000);
    CHECK(qc_parse_duration_ms("1d", &ms) == 0 && ms == 86400000);
    CHECK(qc_parse_duration_ms("1.5", &ms) == 0 && ms == 1500);
    CHECK(qc_parse_duration_ms("-1s", &ms) == -1);
    CHECK(qc_parse_duration_ms("10x", &ms) == -1);
    CHECK(qc_parse_duration_ms("", &ms) == -1);
    CHECK(qc_parse_duration_ms("s", &ms) == -1);

    int p;
    CHECK(qc_parse_priority("high", &p) == 0 && p == 10);
    CHECK(qc_parse_priority("medium", &p) == 0 && p == 0);
    CHECK(qc_parse_priority("low", &p) == 0 && p == -10);
    CHECK(qc_parse_priority("-7", &p) == 0 && p == -7);
    CHECK(qc_parse_priority("1001", &p) == -1);
    CHECK(qc_parse_priority("urgent", &p) == -1);

    CHECK(qc_parse_int("42", 0, 100, &v) == 0 && v == 42);
    CHECK(qc_parse_int("101", 0, 100, &v) == -1);
    CHECK(qc_parse_int("4x", 0, 100, &v) == -1);
    CHECK(qc_parse_int("", 0, 100, &v) == -1);

    CHECK(qc_utf8_valid("h\xc3\xa9llo", 6));
    CHECK(!qc_utf8_valid("\xff", 1));
    CHECK(!qc_utf8_valid("\xc3", 1));         /* truncated */
    CHECK(!qc_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    CHECK(!qc_utf8_valid("\xc0\xaf", 2));     /* overlong */
    CHECK(!qc_utf8_valid("a\0b", 3));         /* NUL */
    char buf[] = "ok\xff\xfe!";
    qc_utf8_sanitize(buf, strlen(buf));
    CHECK(strcmp(buf, "ok?"
                      "?!") == 0);

    CHECK(qc_clock_parse_iso("2026-11-23T12:00:00Z", &ms) == 0 && ms == 1795435200000LL);
    CHECK(qc_clock_parse_iso("2026-11-23T13:00:00+01:00", &v) == 0 && v == ms);
    CHECK(qc_clock_parse_iso("2026-11-23T12:00:00.250Z", &v) == 0 && v == ms + 250);
    CHECK(qc_clock_parse_iso("2026-11-23T12:00", &v) == 0 && v == ms);
    CHECK(qc_clock_parse_iso("2026-13-01T00:00:00Z", &v) == -1);
    CHECK(qc_clock_parse_iso("tomorrow", &v) == -1);
    CHECK(qc_clock_parse_iso("2026-11-23T12:00:00Zjunk", &v) == -1);
    char iso[32];
    CHECK(strcmp(qc_clock_format_iso(ms + 250, iso, sizeof iso), "2026-11-23T12:00:00.250Z") == 0);
    return 0;
}
