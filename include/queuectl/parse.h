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

/* Exit-code policy lists ("75,111", "2,64,timeout,lost"): exit codes
 * 1..255 and, when allow_words, the words timeout and lost (a lost worker).
 * "" and "none" are the empty list. The canonical form written to out is
 * the codes ascending, then the words, each once, comma-separated ("" when
 * empty). Returns 0, or -1 with the reason in err. */
#define QC_EXIT_LIST_BYTES 160
#define QC_MAX_EXIT_CODES 32
int qc_parse_exit_list(const char *text, int allow_words, char *out, size_t outlen, char *err,
                       size_t errlen);
/* True if item ("75", "timeout") is in a canonical list. */
int qc_exit_list_has(const char *list, const char *item);

/* Replaces invalid UTF-8 sequences and NUL bytes in buf[0..len) with '?'
 * in place, so any byte string can travel in a JSON string. */
void qc_utf8_sanitize(char *buf, size_t len);

/* True if s is well-formed UTF-8 of exactly len bytes. */
int qc_utf8_valid(const char *s, size_t len);

/* The longest prefix of s, at most max bytes, that does not cut a UTF-8
 * sequence: for printf("%.*s", qc_utf8_prefix(s, 64), s). */
int qc_utf8_prefix(const char *s, int max);

/* Overwrites with '*' the password of a PostgreSQL URI in arg (a program
 * argument: "postgresql://...", "postgres://..." or "--db=..."), user:PASSWORD@
 * and password=PASSWORD alike, in place (ps shows argv). Anything else is
 * left as it is. */
void qc_hide_db_password(char *arg);

#endif
