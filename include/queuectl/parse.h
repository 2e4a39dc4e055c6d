/* Parsing of user-facing values: durations, priorities, integers. */
#ifndef QC_PARSE_H
#define QC_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "250ms", "10s", "5m", "2h", "1d", or a plain number of seconds.
 * Returns 0 and sets *ms, or -1 if malformed or negative. */
int qc_parse_duration_ms(const char *text, int64_t *ms);

/* "high" (10), "medium" (0), "low" (-10), or an integer in
 * [-QC_MAX_PRIORITY, QC_MAX_PRIORITY]. Returns 0 or -1. */
int qc_parse_priority(const char *text, int *priority);

/* A whole decimal integer in [min, max], nothing else. Returns 0 or -1. */
int qc_parse_int(const char *text, int64_t min, int64_t max, int64_t *value);

/* Replaces invalid UTF-8 sequences and NUL bytes in buf[0..len) with '?'
 * in place, so any byte string can travel in a JSON string. */
void qc_utf8_sanitize(char *buf, size_t len);

/* True if s is well-formed UTF-8 of exactly len bytes. */
int qc_utf8_valid(const char *s, size_t len);

/* The longest prefix of s, at most max bytes, that does not cut a UTF-8
 * sequence: for printf("%.*s", qc_utf8_prefix(s, 64), s). */
int qc_utf8_prefix(const char *s, int max);

#endif
