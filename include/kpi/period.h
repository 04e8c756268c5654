/*
 * The organisation calendar: periods of a granularity (day, ISO week, month, quarter, year), their
 * labels, and which period a day or an instant falls in.
 *
 * A calendar is an IANA time zone (deciding the local day of an instant) and the month the fiscal
 * year starts in. Weeks are ISO-8601 (Monday first, labelled by ISO week-year: "2026-W47") and
 * ignore the fiscal year; months are calendar months ("2026-11"); quarters ("2026-Q4") and years
 * ("2026") start on the fiscal start month and are labelled by the calendar year in which the
 * fiscal year *starts* (fiscal_year_start = 4: 2026 is April 2026 to March 2027, 2026-Q1 is
 * April-June 2026). Pure computation; the zone is loaded by the caller.
 */
#ifndef KPI_PERIOD_H
#define KPI_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi/tz.h"

enum kpi_granularity {
    KPI_GRAN_DAY,
    KPI_GRAN_WEEK,
    KPI_GRAN_MONTH,
    KPI_GRAN_QUARTER,
    KPI_GRAN_YEAR,
    KPI_GRAN__COUNT,
};

struct kpi_calendar {
    const struct kpi_tz *tz; /* NULL means UTC */
    int fiscal_year_start;   /* 1..12; 1 = calendar year */
};

/* Longest label ("-2026-W47" fits easily) plus NUL. */
#define KPI_PERIOD_LABEL_MAX 16

struct kpi_period {
    enum kpi_granularity gran;
    int64_t first_day; /* local day number (days since 1970-01-01) of the first day */
    int64_t last_day;  /* inclusive */
};

const char *kpi_granularity_to_string(enum kpi_granularity g);
int kpi_granularity_from_string(const char *s, enum kpi_granularity *ret_g);

/* The local day (in the calendar's zone) on which the instant ms falls. */
int64_t kpi_calendar_day_of(const struct kpi_calendar *cal, int64_t ms);
/* The instant of local midnight starting `day` (first valid instant of the day across a DST gap). */
int64_t kpi_calendar_day_start(const struct kpi_calendar *cal, int64_t day);

/* The period of granularity g that contains the local day. -ERANGE outside years 1..9999. */
int kpi_period_of_day(const struct kpi_calendar *cal, enum kpi_granularity g, int64_t day, struct kpi_period *ret_p);
int kpi_period_of_instant(const struct kpi_calendar *cal, enum kpi_granularity g, int64_t ms, struct kpi_period *ret_p);
/* The period n steps after (n > 0) or before (n < 0) p. */
int kpi_period_shift(const struct kpi_calendar *cal, const struct kpi_period *p, int64_t n, struct kpi_period *ret_p);
/* Number of days in p. */
int64_t kpi_period_days(const struct kpi_period *p);
/* [start, end) as instants: local midnight of first_day to local midnight after last_day. */
int64_t kpi_period_start_ms(const struct kpi_calendar *cal, const struct kpi_period *p);
int64_t kpi_period_end_ms(const struct kpi_calendar *cal, const struct kpi_period *p);

/* Label of p ("2026-11-23", "2026-W47", "2026-11", "2026-Q4", "2026"). size >= KPI_PERIOD_LABEL_MAX. */
int kpi_period_format(const struct kpi_calendar *cal, const struct kpi_period *p, char *buf, size_t size);
/* Parses a label of any granularity back into a period (granularity from the label's shape).
 * 'w' and 'q' are accepted in lower case. Returns 0 or -EINVAL. */
int kpi_period_parse(const struct kpi_calendar *cal, const char *s, size_t len, struct kpi_period *ret_p);

#endif
