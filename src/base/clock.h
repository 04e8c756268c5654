/*
 * The two clocks kpi reads: wall time in milliseconds since the Unix epoch (creation times, "now"
 * for points and reviews) and a monotonic clock in nanoseconds (durations). Inline, so that each
 * caller needs no helper of its own.
 */
#ifndef KPI_BASE_CLOCK_H
#define KPI_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t kpi_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t kpi_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
