/*
 * Civil-calendar arithmetic and the `at` of a point.
 *
 * Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian calendar; instants are
 * milliseconds since the Unix epoch, UTC. Everything here is pure arithmetic: no time zone database,
 * no libc time functions (gmtime/localtime are banned in kpi).
 */
#ifndef KPI_TIME_H
#define KPI_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KPI_MS_PER_DAY INT64_C(86400000)
/* Dates outside [0001-01-01, 9999-12-31] are rejected everywhere. */
#define KPI_DAY_MIN INT64_C(-719162)
#define KPI_DAY_MAX INT64_C(2932896)

int64_t kpi_days_from_civil(int y, int m, int d);
void kpi_civil_from_days(int64_t days, int *ret_y, int *ret_m, int *ret_d);
bool kpi_is_leap_year(int y);
int kpi_days_in_month(int y, int m);
/* ISO weekday: 1 = Monday ... 7 = Sunday. */
int kpi_weekday(int64_t days);
/* Floor division helpers that are correct for negative numerators. */
int64_t kpi_floor_div(int64_t a, int64_t b);
int64_t kpi_floor_mod(int64_t a, int64_t b);

/* The `at` of a point: either a calendar date (the day it names, in the organisation's calendar)
 * or an instant. */
struct kpi_at {
    bool is_date;
    int64_t day; /* valid when is_date */
    int64_t ms;  /* valid when !is_date: UTC milliseconds */
};

/* Parses "YYYY-MM-DD" or an RFC 3339 instant "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]" (a space is
 * accepted for 'T', 't'/'z' in lower case too). Fractions beyond milliseconds are rejected rather
 * than silently rounded. Returns 0 or -EINVAL. */
int kpi_at_parse(const char *s, size_t len, struct kpi_at *ret_at);
/* Parses only "YYYY-MM-DD". */
int kpi_date_parse(const char *s, size_t len, int64_t *ret_day);

/* "YYYY-MM-DD" (buf >= 11 bytes). */
void kpi_date_format(int64_t day, char *buf, size_t size);
/* RFC 3339 in UTC with 'Z', milliseconds only when non-zero (buf >= 32 bytes). */
void kpi_instant_format(int64_t ms, char *buf, size_t size);
/* RFC 3339 with the given UTC offset in seconds ("+01:00"), buf >= 40 bytes. */
void kpi_instant_format_offset(int64_t ms, int32_t offset_s, char *buf, size_t size);

#endif
