/* A fake clock for unit tests of time-dependent logic: time moves only when
 * the test moves it (s_advance), so nothing sleeps. s_clock is what
 * qc_broker_new takes; s_now starts at a fixed wall time. Include once, in a
 * test program's one .c file. */
#ifndef QC_FAKE_CLOCK_H
#define QC_FAKE_CLOCK_H

#include <stdint.h>

#include "queuectl/clock.h"

typedef struct {
    int64_t wall_ms;
    int64_t mono_ms;
} s_time_t;

static s_time_t s_now = {1800000000000, 1000000};

static inline int64_t s_wall(void *arg)
{
    return ((s_time_t *)arg)->wall_ms;
}

static inline int64_t s_mono(void *arg)
{
    return ((s_time_t *)arg)->mono_ms;
}

static const qc_clock_t s_clock = {s_wall, s_mono, &s_now};

/* Moves both clocks forward by ms. */
static inline void s_advance(int64_t ms)
{
    s_now.wall_ms += ms;
    s_now.mono_ms += ms;
}

#endif
