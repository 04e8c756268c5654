/*
 * Tests for src/core/correlate.c: a series and its copy shifted by 2 periods give best lag 2 with
 * r close to 1 and the right leader (both orders); independent random walks (fixed-seed generator) are
 * not significant at lag 0 and hardly elsewhere; too few pairs are never significant; missing values
 * are skipped; differencing removes a shared trend; argument checks.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kpi/correlate.h"

#define N 80

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

static const struct kpi_correlate_lag *at_lag(const struct kpi_correlate_result *res, int lag)
{
    for (size_t i = 0; i < res->n_lags; i++) {
        if (res->lags[i].lag == lag)
            return &res->lags[i];
    }
    cr_assert_fail("lag %d missing", lag);
    return NULL;
}

/* a random walk x and y[t] = x[t - 2]: y's present values trail x's by 2 periods */
static void shifted_pair(double *x, bool *xh, double *y, bool *yh)
{
    rng_state = 12345;
    double level = 100.0;
    for (int t = 0; t < N; t++) {
        level += normal01();
        x[t] = level;
        xh[t] = true;
    }
    for (int t = 0; t < N; t++) {
        yh[t] = t >= 2;
        y[t] = t >= 2 ? x[t - 2] : 0.0;
    }
}

Test(correlate, shifted_copy)
{
    double x[N];
    double y[N];
    bool xh[N];
    bool yh[N];
    shifted_pair(x, xh, y, yh);

    struct kpi_correlate_result res;
    cr_assert_eq(kpi_correlate_compute(x, xh, y, yh, N, NULL, &res), 0);
    cr_assert_eq(res.n_lags, 2 * KPI_CORRELATE_DEFAULT_LAG + 1);
    cr_assert_eq(res.lags[0].lag, -KPI_CORRELATE_DEFAULT_LAG);
    cr_assert(res.has_best);
    cr_assert_eq(res.best_lag, 2);
    cr_assert_float_eq(res.best_r, 1.0, 1e-12);
    cr_assert_eq(res.leader, KPI_CORRELATE_A_LEADS);
    /* differences: x diffs at t = 1..N-1; y diffs at t = 3..N-1 */
    cr_assert_eq(res.best_n_pairs, (size_t)(N - 3));
    cr_assert_eq(at_lag(&res, 2)->n_pairs, (size_t)(N - 3));

    /* swapped: b leads, lag -2 */
    cr_assert_eq(kpi_correlate_compute(y, yh, x, xh, N, NULL, &res), 0);
    cr_assert(res.has_best);
    cr_assert_eq(res.best_lag, -2);
    cr_assert_float_eq(res.best_r, 1.0, 1e-12);
    cr_assert_eq(res.leader, KPI_CORRELATE_B_LEADS);

    /* levels too */
    struct kpi_correlate_options opt;
    kpi_correlate_options_init(&opt);
    opt.differences = false;
    opt.max_lag = 4;
    cr_assert_eq(kpi_correlate_compute(x, xh, y, yh, N, &opt, &res), 0);
    cr_assert_eq(res.n_lags, 9);
    cr_assert_eq(res.best_lag, 2);
    cr_assert_float_eq(res.best_r, 1.0, 1e-12);
    cr_assert_eq(at_lag(&res, 2)->n_pairs, (size_t)(N - 2));
}

Test(correlate, together_and_negative)
{
    double x[N];
    double y[N];
    rng_state = 99;
    for (int t = 0; t < N; t++) {
        x[t] = normal01();
        y[t] = -3.0 * x[t] + 7.0;
    }
    struct kpi_correlate_options opt = {3, false};
    struct kpi_correlate_result res;
    cr_assert_eq(kpi_correlate_compute(x, NULL, y, NULL, N, &opt, &res), 0);
    cr_assert(res.has_best);
    cr_assert_eq(res.best_lag, 0);
    cr_assert_float_eq(res.best_r, -1.0, 1e-12);
    cr_assert_eq(res.leader, KPI_CORRELATE_TOGETHER);
}

Test(correlate, independent_noise)
{
    double x[N];
    double y[N];
    int spurious = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        rng_state = 0x9e3779b97f4a7c15ULL * seed;
        /* independent random walks: persistent like real KPIs, so their differences are white */
        double lx = 0.0;
        double ly = 0.0;
        for (int t = 0; t < N; t++) {
            lx += normal01();
            ly += normal01();
            x[t] = lx;
            y[t] = ly;
        }
        struct kpi_correlate_result res;
        cr_assert_eq(kpi_correlate_compute(x, NULL, y, NULL, N, NULL, &res), 0);
        cr_assert(!at_lag(&res, 0)->significant, "seed %llu r %g", (unsigned long long)seed, at_lag(&res, 0)->r);
        for (size_t i = 0; i < res.n_lags; i++) {
            cr_assert(res.lags[i].has_r);
            cr_assert_lt(fabs(res.lags[i].r), 0.5);
            spurious += res.lags[i].significant;
        }
    }
    /* 100 independent-ish tests at about 5%: a handful at most */
    cr_assert_leq(spurious, 12, "spurious %d", spurious);
}

Test(correlate, too_few_pairs)
{
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    double y[8] = {2, 4, 6, 8, 10, 12, 14, 16};
    struct kpi_correlate_options opt = {2, false};
    struct kpi_correlate_result res;
    /* 7 pairs at lag 0 after dropping one: perfectly correlated but not significant */
    bool yh[8] = {true, true, true, false, true, true, true, true};
    cr_assert_eq(kpi_correlate_compute(x, NULL, y, yh, 8, &opt, &res), 0);
    const struct kpi_correlate_lag *l0 = at_lag(&res, 0);
    cr_assert_eq(l0->n_pairs, 7);
    cr_assert(l0->has_r);
    cr_assert_float_eq(l0->r, 1.0, 1e-12);
    cr_assert(!l0->significant);
    cr_assert(!res.has_best);
    cr_assert_eq(res.leader, KPI_CORRELATE_NONE);

    /* 8 pairs: significant */
    cr_assert_eq(kpi_correlate_compute(x, NULL, y, NULL, 8, &opt, &res), 0);
    cr_assert(at_lag(&res, 0)->significant);
    cr_assert_eq(res.best_lag, 0);

    /* fewer than 3 pairs: no r */
    cr_assert_eq(kpi_correlate_compute(x, NULL, y, NULL, 2, &opt, &res), 0);
    cr_assert(!at_lag(&res, 0)->has_r);
    cr_assert_eq(at_lag(&res, 0)->r, 0.0);
    cr_assert_eq(at_lag(&res, 2)->n_pairs, 0);
}

Test(correlate, missing_values_skipped)
{
    double x[N];
    double y[N];
    bool xh[N];
    bool yh[N];
    shifted_pair(x, xh, y, yh);
    /* punch holes, with garbage behind the flags */
    for (int t = 5; t < N; t += 9) {
        xh[t] = false;
        x[t] = NAN;
    }
    for (int t = 11; t < N; t += 13) {
        yh[t] = false;
        y[t] = INFINITY;
    }
    struct kpi_correlate_options opt = {6, true};
    struct kpi_correlate_result res;
    cr_assert_eq(kpi_correlate_compute(x, xh, y, yh, N, &opt, &res), 0);
    cr_assert(res.has_best);
    cr_assert_eq(res.best_lag, 2);
    cr_assert_float_eq(res.best_r, 1.0, 1e-12);
    cr_assert_lt(res.best_n_pairs, (size_t)(N - 3));
    cr_assert_geq(res.best_n_pairs, 40);
    for (size_t i = 0; i < res.n_lags; i++)
        cr_assert(isfinite(res.lags[i].r));
}

Test(correlate, differences_remove_shared_trend)
{
    double x[N];
    double y[N];
    rng_state = 2024;
    double lx = 0.0;
    double ly = 0.0;
    for (int t = 0; t < N; t++) {
        lx += 2.0 + normal01();
        ly += 5.0 + normal01();
        x[t] = lx;
        y[t] = ly;
    }
    struct kpi_correlate_options opt = {0, false};
    struct kpi_correlate_result res;
    cr_assert_eq(kpi_correlate_compute(x, NULL, y, NULL, N, &opt, &res), 0);
    cr_assert(res.lags[0].significant);
    cr_assert_gt(res.lags[0].r, 0.99);
    opt.differences = true;
    cr_assert_eq(kpi_correlate_compute(x, NULL, y, NULL, N, &opt, &res), 0);
    cr_assert(!res.lags[0].significant, "r %g", res.lags[0].r);
    cr_assert_eq(res.lags[0].n_pairs, (size_t)(N - 1));
}

Test(correlate, arguments)
{
    double x[3] = {1, 2, 3};
    double bad[3] = {1, NAN, 3};
    struct kpi_correlate_result res;
    struct kpi_correlate_options opt = {KPI_CORRELATE_MAX_LAG + 1, true};
    cr_assert_eq(kpi_correlate_compute(x, NULL, x, NULL, 3, &opt, &res), -EINVAL);
    opt.max_lag = -1;
    cr_assert_eq(kpi_correlate_compute(x, NULL, x, NULL, 3, &opt, &res), -EINVAL);
    cr_assert_eq(kpi_correlate_compute(x, NULL, bad, NULL, 3, NULL, &res), -EINVAL);
    cr_assert_eq(kpi_correlate_compute(NULL, NULL, x, NULL, 3, NULL, &res), -EINVAL);
    cr_assert_eq(kpi_correlate_compute(x, NULL, x, NULL, 3, NULL, NULL), -EINVAL);
    cr_assert_eq(kpi_correlate_compute(x, NULL, x, NULL, KPI_CORRELATE_MAX_POINTS + 1, NULL, &res), -E2BIG);
    opt.max_lag = KPI_CORRELATE_MAX_LAG;
    cr_assert_eq(kpi_correlate_compute(x, NULL, x, NULL, 3, &opt, &res), 0);
    cr_assert_eq(res.n_lags, 2 * KPI_CORRELATE_MAX_LAG + 1);
    cr_assert(!res.has_best);
    cr_assert_eq(kpi_correlate_compute(NULL, NULL, NULL, NULL, 0, NULL, &res), 0);
}
