/*
 * Period values of a KPI: its aggregation over the points that fall in each period of the
 * organisation calendar (DESIGN.md section 3, "Points and periods").
 *
 * The accumulator is order-independent, so points may arrive in any order (several dims are merged
 * without sorting). `first` and `last` take the points at the earliest / latest instant of the
 * period; when several dims share that instant their values are summed, so a stock split by
 * segment (MRR per region, reported at month end) adds up to the whole. `count` of a period
 * without points is 0; every other aggregation of an empty period has no value.
 */
#ifndef KPI_SERIES_H
#define KPI_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi/model.h"
#include "kpi/period.h"

/* Most periods one series may span (about 274 years of days). */
#define KPI_SERIES_MAX_PERIODS 100000

struct kpi_point {
    int64_t at_ms;
    double value;
};

struct kpi_agg {
    uint64_t n;
    double sum;
    double min, max;
    int64_t first_at, last_at;
    double first_sum, last_sum;
};

void kpi_agg_init(struct kpi_agg *a);
void kpi_agg_add(struct kpi_agg *a, int64_t at_ms, double value);
/* The aggregated value; false when the period has no value. */
bool kpi_agg_value(const struct kpi_agg *a, enum kpi_aggregation how, double *ret_value);

struct kpi_series_row {
    struct kpi_period period;
    bool has_value;
    double value;
    uint64_t n_points;
};

/* Computes one row per period from the period containing from_day to the period containing
 * to_day (inclusive), empty periods included. Points outside that range are ignored. Returns 0,
 * -E2BIG when the range holds more than KPI_SERIES_MAX_PERIODS periods, -ERANGE for days outside
 * the calendar, -ENOMEM. The caller frees *ret_rows. */
int kpi_series_compute(const struct kpi_calendar *cal, enum kpi_granularity g, enum kpi_aggregation how,
                       const struct kpi_point *points, size_t n, int64_t from_day, int64_t to_day, struct kpi_series_row **ret_rows,
                       size_t *ret_n);

#endif
