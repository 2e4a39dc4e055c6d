/* Wall and monotonic clocks in milliseconds, and ISO-8601 formatting. */
#ifndef QC_CLOCK_H
#define QC_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t qc_clock_wall_ms(void); /* ms since the Unix epoch */
int64_t qc_clock_mono_ms(void); /* ms on CLOCK_MONOTONIC */

/* A clock that can be swapped: code whose decisions depend on time (the
 * broker's liveness, leases, backoff) reads it through one of these, so a
 * unit test can drive time instead of sleeping. */
typedef struct {
    int64_t (*wall_ms)(void *arg); /* ms since the Unix epoch */
    int64_t (*mono_ms)(void *arg); /* ms on a clock that never goes back */
    void *arg;
} qc_clock_t;

/* The system's clocks (qc_clock_wall_ms, qc_clock_mono_ms). */
extern const qc_clock_t qc_clock_system;

/* Writes "2026-11-23T11:49:33.123Z" into buf (at least 32 bytes). Returns buf. */
char *qc_clock_format_iso(int64_t wall_ms, char *buf, size_t len);
/* Parses ISO-8601 "YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM]"; no zone means UTC.
 * Returns 0 and sets *wall_ms, or -1 if malformed. */
int qc_clock_parse_iso(const char *text, int64_t *wall_ms);

#endif
