/*
 * Tests for src/core/drivers.c: sum and count contributions are the segment deltas and add up to
 * the total change; segments that appear or disappear count with 0 on the missing side; avg with
 * weights splits the change of the weighted mean exactly into rate and mix; sorting, shares, the
 * zero-change case and argument checks.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kpi/drivers.h"

static const struct kpi_driver *find(const struct kpi_driver_result *res, const char *segment)
{
    for (size_t i = 0; i < res->n_items; i++) {
        if (strcmp(res->items[i].segment, segment) == 0)
            return &res->items[i];
    }
    cr_assert_fail("segment %s not in result", segment);
    return NULL;
}

static double sum_contributions(const struct kpi_driver_result *res)
{
    double s = 0.0;
    for (size_t i = 0; i < res->n_items; i++)
        s += res->items[i].contribution;
    return s;
}

static void check_sorted(const struct kpi_driver_result *res)
{
    for (size_t i = 1; i < res->n_items; i++) {
        double a = fabs(res->items[i - 1].contribution);
        double b = fabs(res->items[i].contribution);
        cr_assert_geq(a, b);
        if (a == b)
            cr_assert_lt(strcmp(res->items[i - 1].segment, res->items[i].segment), 0);
    }
}

Test(drivers, sum_exact)
{
    struct kpi_driver_input in[] = {
        {"paid", true, 120.0, true, 150.0, 0, 0},
        {"organic", true, 300.0, true, 280.0, 0, 0},
        {"referral", true, 50.0, true, 95.0, 0, 0},
        {"email", true, 10.0, true, 10.0, 0, 0},
    };
    struct kpi_driver_options opt = {KPI_AGG_SUM, false};
    struct kpi_driver_result *res = NULL;
    cr_assert_eq(kpi_drivers_compute(in, 4, &opt, &res), 0);
    cr_assert_eq(res->n_items, 4);
    cr_assert_eq(res->total_before, 480.0);
    cr_assert_eq(res->total_after, 535.0);
    cr_assert_eq(res->total_change, 55.0);
    cr_assert_eq(sum_contributions(res), 55.0);
    cr_assert_eq(res->sum_error, 0.0);
    check_sorted(res);
    cr_assert_str_eq(res->items[0].segment, "referral");
    cr_assert_str_eq(res->items[1].segment, "paid");
    cr_assert_str_eq(res->items[2].segment, "organic");
    cr_assert_str_eq(res->items[3].segment, "email");
    cr_assert_eq(res->items[0].contribution, 45.0);
    cr_assert_float_eq(res->items[0].share_pct, 45.0 / 55.0 * 100.0, 1e-12);
    cr_assert_float_eq(res->items[2].share_pct, -20.0 / 55.0 * 100.0, 1e-12);
    cr_assert(res->items[3].has_share);
    cr_assert_eq(res->items[3].share_pct, 0.0);
    double shares = 0.0;
    for (size_t i = 0; i < res->n_items; i++)
        shares += res->items[i].share_pct;
    cr_assert_float_eq(shares, 100.0, 1e-9);
    kpi_driver_result_free(res);
}

Test(drivers, sum_many_segments_sum_exactly)
{
    enum { NSEG = 500 };
    static struct kpi_driver_input in[NSEG];
    static char labels[NSEG][16];
    double before = 0.0;
    double after = 0.0;
    for (int i = 0; i < NSEG; i++) {
        snprintf(labels[i], sizeof(labels[i]), "s%03d", i);
        in[i].segment = labels[i];
        in[i].has_before = i % 7 != 0;
        in[i].before = 1000.0 / (i + 3) + 0.1 * i;
        in[i].has_after = i % 11 != 0;
        in[i].after = 1000.0 / (i + 2) + 0.13 * i;
        if (in[i].has_before)
            before += in[i].before;
        if (in[i].has_after)
            after += in[i].after;
    }
    struct kpi_driver_options opt = {KPI_AGG_COUNT, false};
    struct kpi_driver_result *res = NULL;
    cr_assert_eq(kpi_drivers_compute(in, NSEG, &opt, &res), 0);
    cr_assert_float_eq(res->total_change, after - before, 1e-9 * fabs(after));
    cr_assert_leq(fabs(sum_contributions(res) - res->total_change), 1e-9 * fabs(after));
    cr_assert_leq(res->sum_error, 1e-9 * fabs(after));
    check_sorted(res);
    kpi_driver_result_free(res);
}

Test(drivers, appearing_and_disappearing)
{
    struct kpi_driver_input in[] = {
        {"eu", true, 100.0, true, 110.0, 0, 0},
        {"apac", false, 0.0, true, 40.0, 0, 0},  /* new */
        {"latam", true, 25.0, false, 0.0, 0, 0}, /* gone */
    };
    struct kpi_driver_options opt = {KPI_AGG_SUM, false};
    struct kpi_driver_result *res = NULL;
    cr_assert_eq(kpi_drivers_compute(in, 3, &opt, &res), 0);
    cr_assert_eq(res->total_before, 125.0);
    cr_assert_eq(res->total_after, 150.0);
    cr_assert_eq(res->total_change, 25.0);
    cr_assert_eq(find(res, "apac")->contribution, 40.0);
    cr_assert(!find(res, "apac")->has_before);
    cr_assert_eq(find(res, "latam")->contribution, -25.0);
    cr_assert(!find(res, "latam")->has_after);
    cr_assert_eq(find(res, "eu")->contribution, 10.0);
    cr_assert_eq(sum_contributions(res), 25.0);
    cr_assert_str_eq(res->items[0].segment, "apac");
    cr_assert_str_eq(res->items[1].segment, "latam");
    cr_assert_float_eq(res->items[0].share_pct, 160.0, 1e-12);
    kpi_driver_result_free(res);
}

Test(drivers, avg_weighted)
{
    /* conversion rate per channel, weights = points */
    struct kpi_driver_input in[] = {
        {"paid", true, 0.10, true, 0.12, 100, 300},
        {"organic", true, 0.30, true, 0.30, 300, 100},
        {"partner", false, 0.0, true, 0.50, 0, 50},
        {"print", true, 0.05, false, 0.0, 20, 0},
    };
    double W0 = 100 + 300 + 20;
    double W1 = 300 + 100 + 50;
    double M0 = (100 * 0.10 + 300 * 0.30 + 20 * 0.05) / W0;
    double M1 = (300 * 0.12 + 100 * 0.30 + 50 * 0.50) / W1;
    struct kpi_driver_options opt = {KPI_AGG_AVG, true};
    struct kpi_driver_result *res = NULL;
    cr_assert_eq(kpi_drivers_compute(in, 4, &opt, &res), 0);
    cr_assert_float_eq(res->total_before, M0, 1e-15);
    cr_assert_float_eq(res->total_after, M1, 1e-15);
    cr_assert_float_eq(res->total_change, M1 - M0, 1e-15);
    cr_assert_leq(fabs(sum_contributions(res) - (M1 - M0)), 1e-12);
    check_sorted(res);
    for (size_t i = 0; i < res->n_items; i++)
        cr_assert_float_eq(res->items[i].contribution, res->items[i].rate_effect + res->items[i].mix_effect, 1e-15);
    /* organic kept its rate: pure mix, and it lost share while above average: negative */
    const struct kpi_driver *org = find(res, "organic");
    cr_assert_eq(org->rate_effect, 0.0);
    cr_assert_lt(org->mix_effect, 0.0);
    /* paid improved its rate: positive rate effect = mean share * 0.02 */
    const struct kpi_driver *paid = find(res, "paid");
    cr_assert_float_eq(paid->rate_effect, (100 / W0 + 300 / W1) / 2 * 0.02, 1e-15);
    /* a segment in one period only has no rate effect */
    cr_assert_eq(find(res, "partner")->rate_effect, 0.0);
    cr_assert_gt(find(res, "partner")->contribution, 0.0);
    cr_assert_eq(find(res, "print")->rate_effect, 0.0);
    kpi_driver_result_free(res);
}

Test(drivers, avg_unweighted_and_mix_only)
{
    /* same rates, shifted mix: the whole change is mix */
    struct kpi_driver_input in[] = {
        {"a", true, 1.0, true, 1.0, 1, 3},
        {"b", true, 3.0, true, 3.0, 3, 1},
    };
    struct kpi_driver_options opt = {KPI_AGG_AVG, true};
    struct kpi_driver_result *res = NULL;
    cr_assert_eq(kpi_drivers_compute(in, 2, &opt, &res), 0);
    cr_assert_float_eq(res->total_change, 1.5 - 2.5, 1e-15);
    cr_assert_float_eq(sum_contributions(res), -1.0, 1e-15);
    cr_assert_eq(find(res, "a")->rate_effect, 0.0);
    cr_assert_float_eq(find(res, "a")->share_pct, 50.0, 1e-12);
    res = kpi_driver_result_free(res);

    /* unweighted: plain mean of the segment values, no mix change */
    opt.weighted = false;
    cr_assert_eq(kpi_drivers_compute(in, 2, &opt, &res), 0);
    cr_assert_eq(res->total_change, 0.0);
    cr_assert(!res->items[0].has_share);
    cr_assert_eq(res->items[0].share_pct, 0.0);
    kpi_driver_result_free(res);
}

Test(drivers, errors)
{
    struct kpi_driver_input in[] = {
        {"a", true, 1.0, true, 2.0, 1, 1},
        {"a", true, 1.0, true, 2.0, 1, 1},
    };
    struct kpi_driver_options opt = {KPI_AGG_SUM, false};
    struct kpi_driver_result *res = NULL;
    cr_assert_eq(kpi_drivers_compute(in, 2, &opt, &res), -EINVAL); /* duplicate */
    in[1].segment = "";
    cr_assert_eq(kpi_drivers_compute(in, 2, &opt, &res), -EINVAL);
    in[1].segment = "b";
    in[1].after = NAN;
    cr_assert_eq(kpi_drivers_compute(in, 2, &opt, &res), -EINVAL);
    in[1].after = 2.0;
    opt.aggregation = KPI_AGG_MAX;
    cr_assert_eq(kpi_drivers_compute(in, 2, &opt, &res), -EOPNOTSUPP);
    opt.aggregation = KPI_AGG_AVG;
    opt.weighted = true;
    in[0].weight_after = 0.0;
    cr_assert_eq(kpi_drivers_compute(in, 2, &opt, &res), -EINVAL);
    in[0].weight_after = 1.0;
    in[0].has_before = false;
    in[1].has_before = false;
    cr_assert_eq(kpi_drivers_compute(in, 2, &opt, &res), -ENODATA);
    cr_assert_eq(kpi_drivers_compute(in, 2, NULL, &res), -EINVAL);
    cr_assert_eq(kpi_drivers_compute(NULL, 2, &opt, &res), -EINVAL);
    cr_assert_eq(kpi_drivers_compute(in, KPI_DRIVERS_MAX_SEGMENTS + 1, &opt, &res), -E2BIG);
    cr_assert_null(res);
    cr_assert_null(kpi_driver_result_free(NULL));

    opt.aggregation = KPI_AGG_SUM;
    cr_assert_eq(kpi_drivers_compute(NULL, 0, &opt, &res), 0);
    cr_assert_eq(res->n_items, 0);
    cr_assert_eq(res->total_change, 0.0);
    kpi_driver_result_free(res);
}
