/*
 * Tests for src/core/anomaly.c: injected spikes and dips on a smooth series are flagged with the
 * right direction, clean Gaussian noise (fixed-seed generator) gives no flag at the default
 * sensitivity, the MAD = 0 fallback, monotonicity in the sensitivity, short and non-finite inputs,
 * argument checks, and the rolling-median fallback model.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kpi/anomaly.h"

#define N 120

/* xorshift64* with Box-Muller: a deterministic normal generator. */
static uint64_t rng_state;

static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t x = rng_state * 2685821657736338717ULL;
    return ((double)(x >> 11) + 0.5) / 9007199254740992.0;
}

static double normal01(void)
{
    double u1 = uniform01();
    double u2 = uniform01();
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double smooth(size_t i)
{
    return 100.0 + 0.5 * (double)i + 10.0 * sin(2.0 * M_PI * (double)i / 12.0);
}

static bool is_flagged(const struct kpi_anomaly_result *res, size_t index, const struct kpi_anomaly **ret)
{
    for (size_t j = 0; j < res->n_items; j++) {
        if (res->items[j].index == index) {
            if (ret != NULL)
                *ret = &res->items[j];
            return true;
        }
    }
    return false;
}

static void check_finite(const struct kpi_anomaly_result *res)
{
    cr_assert(isfinite(res->centre) && isfinite(res->scale) && isfinite(res->lower) && isfinite(res->upper));
    for (size_t j = 0; j < res->n_items; j++) {
        cr_assert(isfinite(res->items[j].residual));
        cr_assert(isfinite(res->items[j].z));
        if (j > 0)
            cr_assert_lt(res->items[j - 1].index, res->items[j].index);
    }
}

Test(anomaly, injected_spikes_and_dips)
{
    double y[N];
    double fit[N];
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < N; i++) {
        fit[i] = smooth(i);
        y[i] = fit[i] + normal01();
    }
    y[10] += 15.0;
    y[47] -= 12.0;
    y[90] += 20.0;
    y[119] -= 25.0;

    struct kpi_anomaly_result *res = NULL;
    cr_assert_eq(kpi_anomaly_detect(y, fit, N, KPI_ANOMALY_DEFAULT_SENSITIVITY, &res), 0);
    check_finite(res);
    cr_assert_eq(res->scale_kind, KPI_ANOMALY_SCALE_MAD);
    cr_assert_eq(res->n_used, (size_t)N);
    cr_assert_eq(res->n_items, 4, "flagged %zu", res->n_items);
    const struct kpi_anomaly *a = NULL;
    cr_assert(is_flagged(res, 10, &a));
    cr_assert_eq(a->direction, KPI_ANOMALY_SPIKE);
    cr_assert_gt(a->z, 3.5);
    cr_assert(is_flagged(res, 47, &a));
    cr_assert_eq(a->direction, KPI_ANOMALY_DIP);
    cr_assert_lt(a->z, -3.5);
    cr_assert_lt(a->residual, -8.0);
    cr_assert(is_flagged(res, 90, &a));
    cr_assert_eq(a->direction, KPI_ANOMALY_SPIKE);
    cr_assert(is_flagged(res, 119, &a));
    cr_assert_eq(a->direction, KPI_ANOMALY_DIP);
    /* noise sigma is 1: the robust scale estimates it */
    cr_assert(res->scale > 0.7 && res->scale < 1.3, "scale %g", res->scale);
    kpi_anomaly_result_free(res);
}

Test(anomaly, clean_noise_not_flagged)
{
    double y[N];
    double fit[N];
    size_t total = 0;
    /* Gaussian noise, sigma 2, residuals against the true curve. The MAD of 120 points is itself
     * noisy (about +-10%), so a stray flag in a few of many seeds is expected; seed 1 has none, and
     * over 10 seeds (1,200 points) at most a handful. */
    for (uint64_t seed = 1; seed <= 10; seed++) {
        rng_state = 0x2545F4914F6CDD1DULL * seed;
        for (size_t i = 0; i < N; i++) {
            fit[i] = smooth(i);
            y[i] = fit[i] + 2.0 * normal01();
        }
        struct kpi_anomaly_result *res = NULL;
        cr_assert_eq(kpi_anomaly_detect(y, fit, N, 3.5, &res), 0);
        if (seed == 1)
            cr_assert_eq(res->n_items, 0, "seed 1: %zu flagged", res->n_items);
        total += res->n_items;
        kpi_anomaly_result_free(res);
    }
    cr_assert_leq(total, 5, "%zu flagged over 10 seeds", total);
}

Test(anomaly, mad_zero)
{
    double y[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    double fit[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    struct kpi_anomaly_result *res = NULL;

    /* all residuals equal: nothing flagged, no scale */
    cr_assert_eq(kpi_anomaly_detect(y, fit, 10, 3.5, &res), 0);
    cr_assert_eq(res->n_items, 0);
    cr_assert_eq(res->scale_kind, KPI_ANOMALY_SCALE_NONE);
    cr_assert_eq(res->scale, 0.0);
    res = kpi_anomaly_result_free(res);

    /* one residual differs: MAD is 0, mean-AD fallback flags it with a finite z */
    y[6] = 9.0;
    cr_assert_eq(kpi_anomaly_detect(y, fit, 10, 3.5, &res), 0);
    check_finite(res);
    cr_assert_eq(res->scale_kind, KPI_ANOMALY_SCALE_MEAN_AD);
    cr_assert_eq(res->n_items, 1);
    cr_assert_eq(res->items[0].index, 6);
    cr_assert_eq(res->items[0].direction, KPI_ANOMALY_SPIKE);
    cr_assert_float_eq(res->items[0].residual, 4.0, 1e-12);
    /* mean AD = 0.4, scale = 1.2533 * 0.4 */
    cr_assert_float_eq(res->items[0].z, 4.0 / (1.2533 * 0.4), 1e-9);
    res = kpi_anomaly_result_free(res);

    /* rounding noise counts as equal */
    y[6] = 5.0 + 1e-13;
    cr_assert_eq(kpi_anomaly_detect(y, fit, 10, 3.5, &res), 0);
    cr_assert_eq(res->n_items, 0);
    cr_assert_eq(res->scale_kind, KPI_ANOMALY_SCALE_NONE);
    kpi_anomaly_result_free(res);
}

Test(anomaly, sensitivity_monotone)
{
    double y[N];
    double fit[N];
    rng_state = 42;
    for (size_t i = 0; i < N; i++) {
        fit[i] = smooth(i);
        y[i] = fit[i] + normal01() + (i % 17 == 3 ? 4.0 * (double)(i % 5) : 0.0);
    }
    double ks[] = {0.5, 1.0, 2.0, 3.0, 3.5, 5.0, 8.0, 20.0};
    struct kpi_anomaly_result *prev = NULL;
    for (size_t j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
        struct kpi_anomaly_result *res = NULL;
        cr_assert_eq(kpi_anomaly_detect(y, fit, N, ks[j], &res), 0);
        check_finite(res);
        if (prev != NULL) {
            cr_assert_leq(res->n_items, prev->n_items);
            for (size_t q = 0; q < res->n_items; q++)
                cr_assert(is_flagged(prev, res->items[q].index, NULL), "k=%g index %zu", ks[j], res->items[q].index);
        }
        kpi_anomaly_result_free(prev);
        prev = res;
    }
    cr_assert_eq(prev->n_items, 0);
    kpi_anomaly_result_free(prev);
}

Test(anomaly, short_and_nonfinite)
{
    double y[5] = {1, 100, 2, NAN, 3};
    double fit[5] = {1, 1, 2, 4, INFINITY};
    struct kpi_anomaly_result *res = NULL;

    cr_assert_eq(kpi_anomaly_detect(y, fit, 2, 3.5, &res), 0);
    cr_assert_eq(res->n_items, 0);
    cr_assert_eq(res->n_used, 2);
    res = kpi_anomaly_result_free(res);

    /* points 3 and 4 unusable: 3 points remain */
    cr_assert_eq(kpi_anomaly_detect(y, fit, 5, 3.5, &res), 0);
    cr_assert_eq(res->n_used, 3);
    check_finite(res);
    for (size_t j = 0; j < res->n_items; j++)
        cr_assert_lt(res->items[j].index, 3);
    res = kpi_anomaly_result_free(res);

    cr_assert_eq(kpi_anomaly_detect(NULL, NULL, 0, 3.5, &res), 0);
    cr_assert_eq(res->n_items, 0);
    kpi_anomaly_result_free(res);
}

Test(anomaly, arguments)
{
    double y[3] = {1, 2, 3};
    struct kpi_anomaly_result *res = NULL;
    cr_assert_eq(kpi_anomaly_detect(y, y, 3, 0.0, &res), -EINVAL);
    cr_assert_eq(kpi_anomaly_detect(y, y, 3, -1.0, &res), -EINVAL);
    cr_assert_eq(kpi_anomaly_detect(y, y, 3, NAN, &res), -EINVAL);
    cr_assert_eq(kpi_anomaly_detect(y, y, 3, INFINITY, &res), -EINVAL);
    cr_assert_eq(kpi_anomaly_detect(NULL, y, 3, 3.5, &res), -EINVAL);
    cr_assert_eq(kpi_anomaly_detect(y, y, 3, 3.5, NULL), -EINVAL);
    cr_assert_eq(kpi_anomaly_detect(y, y, KPI_ANOMALY_MAX_POINTS + 1, 3.5, &res), -E2BIG);
    cr_assert_null(res);
    cr_assert_null(kpi_anomaly_result_free(NULL));

    double *fit = NULL;
    cr_assert_eq(kpi_anomaly_rolling_median(y, 3, 4, &fit), -EINVAL);
    cr_assert_eq(kpi_anomaly_rolling_median(y, 3, 1, &fit), -EINVAL);
    cr_assert_eq(kpi_anomaly_rolling_median(y, 3, KPI_ANOMALY_MAX_WINDOW + 2, &fit), -EINVAL);
    cr_assert_eq(kpi_anomaly_rolling_median(NULL, 3, 3, &fit), -EINVAL);
    cr_assert_null(fit);
    cr_assert_eq(kpi_anomaly_rolling_median(NULL, 0, 3, &fit), 0);
    cr_assert_null(fit);
}

Test(anomaly, rolling_median)
{
    double y[7] = {1, 2, 100, 4, 5, NAN, 7};
    double *fit = NULL;
    cr_assert_eq(kpi_anomaly_rolling_median(y, 7, 5, &fit), 0);
    /* windows [0,5) [0,5) [0,5) [1,6) [2,7) [2,7) [2,7), each without the point itself and NaN */
    double expect[7] = {4.5, 4.5, 3, 5, 7, 6, 5};
    for (size_t i = 0; i < 7; i++)
        cr_assert_float_eq(fit[i], expect[i], 1e-12, "i=%zu got %g", i, fit[i]);
    free(fit);

    /* window larger than the series: every other point */
    cr_assert_eq(kpi_anomaly_rolling_median(y, 3, 5, &fit), 0);
    cr_assert_float_eq(fit[0], 51.0, 1e-12);
    cr_assert_float_eq(fit[1], 50.5, 1e-12);
    cr_assert_float_eq(fit[2], 1.5, 1e-12);
    free(fit);

    /* no finite neighbour: NaN, which detection skips */
    double lone[3] = {NAN, 5, NAN};
    cr_assert_eq(kpi_anomaly_rolling_median(lone, 3, 3, &fit), 0);
    cr_assert(isnan(fit[1]));
    cr_assert_float_eq(fit[0], 5.0, 1e-12);
    free(fit);
}

Test(anomaly, rolling_median_fallback_flags_spike)
{
    double y[N];
    rng_state = 7;
    for (size_t i = 0; i < N; i++)
        y[i] = 50.0 + 0.2 * (double)i + 0.5 * normal01();
    y[0] += 10.0;
    y[60] -= 8.0;
    double *fit = NULL;
    cr_assert_eq(kpi_anomaly_rolling_median(y, N, 7, &fit), 0);
    struct kpi_anomaly_result *res = NULL;
    cr_assert_eq(kpi_anomaly_detect(y, fit, N, 3.5, &res), 0);
    const struct kpi_anomaly *a = NULL;
    cr_assert(is_flagged(res, 0, &a));
    cr_assert_eq(a->direction, KPI_ANOMALY_SPIKE);
    cr_assert(is_flagged(res, 60, &a));
    cr_assert_eq(a->direction, KPI_ANOMALY_DIP);
    /* the injected points stand far above anything the noise produced (index 35 here is a
     * -3.9 sigma draw, flagged at z = -3.7, which is fine) */
    cr_assert_leq(res->n_items, 3, "flagged %zu", res->n_items);
    for (size_t j = 0; j < res->n_items; j++) {
        if (res->items[j].index != 0 && res->items[j].index != 60)
            cr_assert_lt(fabs(res->items[j].z), 5.0);
        else
            cr_assert_gt(fabs(res->items[j].z), 10.0);
    }
    kpi_anomaly_result_free(res);
    free(fit);
}
