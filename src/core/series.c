/*
 * Period aggregation (see kpi/series.h). Period boundaries are computed once as instants, then
 * each point finds its period by binary search: no per-point calendar or time-zone arithmetic.
 */
#include "kpi/series.h"

#include <errno.h>
#include <stdlib.h>

void kpi_agg_init(struct kpi_agg *a)
{
    a->n = 0;
    a->sum = 0;
    a->min = 0;
    a->max = 0;
    a->first_at = INT64_MAX;
    a->last_at = INT64_MIN;
    a->first_sum = 0;
    a->last_sum = 0;
}

void kpi_agg_add(struct kpi_agg *a, int64_t at_ms, double value)
{
    if (a->n == 0 || value < a->min)
        a->min = value;
    if (a->n == 0 || value > a->max)
        a->max = value;
    a->n++;
    a->sum += value;
    if (at_ms < a->first_at) {
        a->first_at = at_ms;
        a->first_sum = value;
    } else if (at_ms == a->first_at) {
        a->first_sum += value;
    }
    if (at_ms > a->last_at) {
        a->last_at = at_ms;
        a->last_sum = value;
    } else if (at_ms == a->last_at) {
        a->last_sum += value;
    }
}

bool kpi_agg_value(const struct kpi_agg *a, enum kpi_aggregation how, double *ret_value)
{
    if (how == KPI_AGG_COUNT) {
        *ret_value = (double)a->n;
        return true;
    }
    if (a->n == 0)
        return false;
    switch (how) {
    case KPI_AGG_SUM:
        *ret_value = a->sum;
        return true;
    case KPI_AGG_AVG:
        *ret_value = a->sum / (double)a->n;
        return true;
    case KPI_AGG_MIN:
        *ret_value = a->min;
        return true;
    case KPI_AGG_MAX:
        *ret_value = a->max;
        return true;
    case KPI_AGG_FIRST:
        *ret_value = a->first_sum;
        return true;
    case KPI_AGG_LAST:
        *ret_value = a->last_sum;
        return true;
    default:
        return false;
    }
}

int kpi_series_compute(const struct kpi_calendar *cal, enum kpi_granularity g, enum kpi_aggregation how,
                       const struct kpi_point *points, size_t n, int64_t from_day, int64_t to_day, struct kpi_series_row **ret_rows,
                       size_t *ret_n)
{
    if (from_day > to_day)
        return -EINVAL;
    struct kpi_period first, last;
    int r = kpi_period_of_day(cal, g, from_day, &first);
    if (r < 0)
        return r;
    r = kpi_period_of_day(cal, g, to_day, &last);
    if (r < 0)
        return r;
    /* Days and weeks have a fixed length, so their periods are counted and stepped with plain
     * arithmetic; months, quarters and years (a few hundred at most) go through the calendar. */
    int64_t step = g == KPI_GRAN_DAY ? 1 : (g == KPI_GRAN_WEEK ? 7 : 0);
    size_t count = 0;
    struct kpi_period p = first;
    if (step) {
        int64_t span = (last.first_day - first.first_day) / step + 1;
        if (span > KPI_SERIES_MAX_PERIODS)
            return -E2BIG;
        count = (size_t)span;
    } else {
        while (p.first_day <= last.first_day) {
            if (++count > KPI_SERIES_MAX_PERIODS)
                return -E2BIG;
            r = kpi_period_shift(cal, &p, 1, &p);
            if (r < 0)
                break;
        }
    }
    struct kpi_series_row *rows = calloc(count, sizeof(*rows));
    int64_t *bounds = calloc(count + 1, sizeof(*bounds));
    struct kpi_agg *aggs = calloc(count, sizeof(*aggs));
    if (!rows || !bounds || !aggs) {
        r = -ENOMEM;
        goto out;
    }
    p = first;
    for (size_t i = 0; i < count; i++) {
        rows[i].period = p;
        bounds[i] = kpi_period_start_ms(cal, &p);
        kpi_agg_init(&aggs[i]);
        if (i + 1 == count)
            break;
        if (step) {
            p.first_day += step;
            p.last_day += step;
        } else {
            kpi_period_shift(cal, &p, 1, &p);
        }
    }
    bounds[count] = kpi_period_end_ms(cal, &rows[count - 1].period);

    /* Points usually arrive in time order, so the period of the previous point is tried first. */
    size_t hint = 0;
    for (size_t k = 0; k < n; k++) {
        int64_t at = points[k].at_ms;
        if (at < bounds[0] || at >= bounds[count])
            continue;
        size_t lo;
        if (at >= bounds[hint] && at < bounds[hint + 1]) {
            lo = hint;
        } else if (hint + 2 <= count && at >= bounds[hint + 1] && at < bounds[hint + 2]) {
            lo = hint + 1;
        } else {
            /* Last bound <= at. */
            size_t l = 0, h = count;
            while (h - l > 1) {
                size_t mid = l + (h - l) / 2;
                if (bounds[mid] <= at)
                    l = mid;
                else
                    h = mid;
            }
            lo = l;
        }
        hint = lo;
        kpi_agg_add(&aggs[lo], at, points[k].value);
    }
    for (size_t i = 0; i < count; i++) {
        rows[i].n_points = aggs[i].n;
        rows[i].has_value = kpi_agg_value(&aggs[i], how, &rows[i].value);
    }
    *ret_rows = rows;
    *ret_n = count;
    rows = NULL;
    r = 0;
out:
    free(rows);
    free(bounds);
    free(aggs);
    return r;
}
