/*
 * Period aggregation (core/series.c): every aggregation over the same points, empty periods,
 * ties at first/last instants (summed across dims), the time zone deciding the period of an
 * instant, and the period-count limit.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "kpi/series.h"
#include "kpi/time.h"
#include "kpi/tz.h"

static int64_t day(int y, int m, int d)
{
    return kpi_days_from_civil(y, m, d);
}

static int64_t ms(int y, int m, int d, int h)
{
    return day(y, m, d) * KPI_MS_PER_DAY + (int64_t)h * 3600000;
}

/* Points of January-March 2026 (February empty); two share the last instant of March. */
static void fill(struct kpi_point *p)
{
    p[0] = (struct kpi_point){ms(2026, 1, 5, 10), 10};
    p[1] = (struct kpi_point){ms(2026, 1, 20, 10), 30};
    p[2] = (struct kpi_point){ms(2026, 1, 2, 10), 20};
    p[3] = (struct kpi_point){ms(2026, 3, 31, 12), 5};
    p[4] = (struct kpi_point){ms(2026, 3, 31, 12), 7};
}

struct agg_case {
    enum kpi_aggregation how;
    bool jan_has;
    double jan;
    bool feb_has;
    double feb;
    double mar;
};

static const struct agg_case agg_cases[] = {
    {KPI_AGG_SUM, true, 60, false, 0, 12}, {KPI_AGG_AVG, true, 20, false, 0, 6},    {KPI_AGG_MIN, true, 10, false, 0, 5},
    {KPI_AGG_MAX, true, 30, false, 0, 7},  {KPI_AGG_FIRST, true, 20, false, 0, 12}, {KPI_AGG_LAST, true, 30, false, 0, 12},
    {KPI_AGG_COUNT, true, 3, true, 0, 2},
};

Test(series, aggregations_by_month)
{
    struct kpi_point p[5];
    fill(p);
    struct kpi_calendar cal = {NULL, 1};
    for (size_t i = 0; i < sizeof(agg_cases) / sizeof(agg_cases[0]); i++) {
        const struct agg_case *c = &agg_cases[i];
        struct kpi_series_row *rows;
        size_t n;
        cr_assert(eq(int, kpi_series_compute(&cal, KPI_GRAN_MONTH, c->how, p, 5, day(2026, 1, 1), day(2026, 3, 31), &rows, &n), 0));
        cr_assert(eq(sz, n, 3));
        cr_expect(eq(int, rows[0].has_value, c->jan_has), "agg %d", c->how);
        cr_expect(eq(dbl, rows[0].value, c->jan), "agg %d", c->how);
        cr_expect(eq(int, rows[1].has_value, c->feb_has), "agg %d", c->how);
        if (c->feb_has)
            cr_expect(eq(dbl, rows[1].value, c->feb));
        cr_expect(eq(dbl, rows[2].value, c->mar), "agg %d", c->how);
        cr_expect(eq(u64, rows[0].n_points, 3));
        cr_expect(eq(i64, rows[1].period.first_day, day(2026, 2, 1)));
        cr_expect(eq(i64, rows[1].period.last_day, day(2026, 2, 28)));
        free(rows);
    }
}

Test(series, range_bounds_and_points_outside)
{
    struct kpi_point p[5];
    fill(p);
    struct kpi_calendar cal = {NULL, 1};
    struct kpi_series_row *rows;
    size_t n;
    cr_assert(
        eq(int, kpi_series_compute(&cal, KPI_GRAN_MONTH, KPI_AGG_SUM, p, 5, day(2026, 2, 10), day(2026, 3, 1), &rows, &n), 0));
    cr_assert(eq(sz, n, 2));
    cr_expect(not(rows[0].has_value));
    cr_expect(eq(dbl, rows[1].value, 12));
    free(rows);
    cr_expect(
        eq(int, kpi_series_compute(&cal, KPI_GRAN_MONTH, KPI_AGG_SUM, p, 5, day(2026, 3, 1), day(2026, 2, 1), &rows, &n), -EINVAL));
    cr_expect(
        eq(int, kpi_series_compute(&cal, KPI_GRAN_DAY, KPI_AGG_SUM, p, 5, day(1700, 1, 1), day(2026, 1, 1), &rows, &n), -E2BIG));
}

Test(series, time_zone_decides_the_day)
{
    /* 23:30 UTC on 31 January is already 1 February in Berlin. */
    struct kpi_point p[1] = {{ms(2026, 1, 31, 23) + 30 * 60000, 1}};
    struct kpi_tz *tz;
    cr_assert(eq(int, kpi_tz_fixed("UTC+1", 3600, &tz), 0));
    struct kpi_calendar utc = {NULL, 1}, berlin = {tz, 1};
    struct kpi_series_row *rows;
    size_t n;
    cr_assert(
        eq(int, kpi_series_compute(&utc, KPI_GRAN_MONTH, KPI_AGG_SUM, p, 1, day(2026, 1, 1), day(2026, 2, 28), &rows, &n), 0));
    cr_expect(rows[0].has_value);
    cr_expect(not(rows[1].has_value));
    free(rows);
    cr_assert(
        eq(int, kpi_series_compute(&berlin, KPI_GRAN_MONTH, KPI_AGG_SUM, p, 1, day(2026, 1, 1), day(2026, 2, 28), &rows, &n), 0));
    cr_expect(not(rows[0].has_value));
    cr_expect(rows[1].has_value);
    free(rows);
    kpi_tz_free(tz);
}

Test(series, iso_weeks_and_fiscal_quarters)
{
    struct kpi_point p[2] = {{ms(2026, 3, 31, 12), 1}, {ms(2026, 4, 1, 12), 2}};
    struct kpi_calendar fy_april = {NULL, 4};
    struct kpi_series_row *rows;
    size_t n;
    cr_assert(eq(
        int, kpi_series_compute(&fy_april, KPI_GRAN_QUARTER, KPI_AGG_SUM, p, 2, day(2026, 3, 31), day(2026, 4, 1), &rows, &n), 0));
    cr_assert(eq(sz, n, 2));
    cr_expect(eq(i64, rows[0].period.first_day, day(2026, 1, 1)));
    cr_expect(eq(i64, rows[1].period.first_day, day(2026, 4, 1)));
    cr_expect(eq(dbl, rows[1].value, 2));
    free(rows);
    /* Tuesday 31 March and Wednesday 1 April 2026 share ISO week 14. */
    cr_assert(
        eq(int, kpi_series_compute(&fy_april, KPI_GRAN_WEEK, KPI_AGG_SUM, p, 2, day(2026, 3, 31), day(2026, 4, 1), &rows, &n), 0));
    cr_assert(eq(sz, n, 1));
    cr_expect(eq(dbl, rows[0].value, 3));
    free(rows);
}
