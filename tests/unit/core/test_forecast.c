/*
 * Tests for src/core/forecast.c (ETS forecasting): the likelihood on a series small enough to do by
 * hand, model choice and fitted parameters on synthetic series of known structure (level, trend,
 * additive season m = 4 and m = 12, multiplicative season), exact forecasts of a noiseless line,
 * nested intervals that widen with the horizon, the naive and mean fallbacks, p_target, determinism
 * and series with zeros. Synthetic noise comes from a seeded generator below, so every run sees the
 * same series.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpi/forecast.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_state;

static double unif(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * 0x1.0p-53;
}

static double gauss(void)
{
    double u1 = unif(), u2 = unif();
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static struct kpi_forecast *fit(const double *y, size_t n, int season, int horizon)
{
    struct kpi_forecast_options o = {season, horizon, 42};
    struct kpi_forecast *f = NULL;
    int r = kpi_forecast_fit(y, n, &o, &f);
    cr_assert_eq(r, 0, "fit failed: %d", r);
    cr_assert_not_null(f);
    return f;
}

static char trend_of(const struct kpi_forecast *f)
{
    return f->model[1] == 'A' && f->model[2] == 'd' ? 'D' : f->model[1];
}

static char season_of(const struct kpi_forecast *f)
{
    return f->model[strlen(f->model) - 1];
}

static void check_finite_nested(const struct kpi_forecast *f)
{
    for (size_t i = 0; i < f->h; i++) {
        cr_assert(isfinite(f->mean[i]) && isfinite(f->lo80[i]) && isfinite(f->hi80[i]) && isfinite(f->lo95[i]) &&
                  isfinite(f->hi95[i]));
        cr_expect(f->lo95[i] <= f->lo80[i] && f->lo80[i] <= f->mean[i] && f->mean[i] <= f->hi80[i] && f->hi80[i] <= f->hi95[i],
                  "step %zu: %g %g %g %g %g", i + 1, f->lo95[i], f->lo80[i], f->mean[i], f->hi80[i], f->hi95[i]);
    }
    for (size_t t = 0; t < f->n; t++)
        cr_assert(isfinite(f->fitted[t]) && isfinite(f->residuals[t]));
    cr_assert(isfinite(f->alpha) && isfinite(f->beta) && isfinite(f->gamma) && isfinite(f->phi));
    cr_assert(isfinite(f->loglik) && isfinite(f->aicc) && isfinite(f->sigma2));
}

static void check_params(const struct kpi_forecast *f)
{
    cr_expect(f->alpha > 0 && f->alpha < 1, "alpha %g", f->alpha);
    if (trend_of(f) != 'N')
        cr_expect(f->beta > 0 && f->beta < f->alpha, "beta %g alpha %g", f->beta, f->alpha);
    if (season_of(f) != 'N')
        cr_expect(f->gamma > 0 && f->gamma < 1 - f->alpha, "gamma %g alpha %g", f->gamma, f->alpha);
    if (trend_of(f) == 'D')
        cr_expect(f->phi >= 0.8 && f->phi <= 0.98, "phi %g", f->phi);
}

/* ---------------------------------------------------------------- likelihood */

/*
 * y = 1, 2, 3, ANN, alpha = 0.5. Initial level: the mean of the first min(max(10, 2), 3) = 3
 * values, l0 = 2.
 *   t=1: yhat = 2,    e = 1 - 2 = -1,       l = 2 + 0.5 * -1 = 1.5
 *   t=2: yhat = 1.5,  e = 2 - 1.5 = 0.5,    l = 1.5 + 0.5 * 0.5 = 1.75
 *   t=3: yhat = 1.75, e = 3 - 1.75 = 1.25
 *   sum e^2 = 1 + 0.25 + 1.5625 = 2.8125;  lik = 3 * log(2.8125) = 3.1022213025916154
 * MNN, same states (the level update is the same), relative errors:
 *   e = -1/2, 0.5/1.5 = 1/3, 1.25/1.75 = 5/7;  sum e^2 = 1/4 + 1/9 + 25/49 = 0.8713151927437641
 *   lik = 3 * log(0.8713151927437641) + 2 * log(2 * 1.5 * 1.75) = 2.9032016741226423
 */
Test(forecast, likelihood_by_hand)
{
    const double y[] = {1, 2, 3};
    double lik = 0;
    cr_assert_eq(kpi_forecast_lik(y, 3, "ANN", 1, 0.5, 0, 0, 0, &lik), 0);
    cr_expect(fabs(lik - 3.1022213025916154) < 1e-12, "ANN lik %.17g", lik);
    cr_assert_eq(kpi_forecast_lik(y, 3, "MNN", 1, 0.5, 0, 0, 0, &lik), 0);
    cr_expect(fabs(lik - 2.9032016741226423) < 1e-12, "MNN lik %.17g", lik);
}

Test(forecast, likelihood_rejects_bad_arguments)
{
    const double y[] = {1, 2, 3, 4, 5, 6, 7, 8};
    double lik = 0;
    cr_expect_eq(kpi_forecast_lik(y, 8, "XNN", 1, 0.5, 0, 0, 0, &lik), -EINVAL);
    cr_expect_eq(kpi_forecast_lik(y, 8, "ANN", 1, 1.5, 0, 0, 0, &lik), -EINVAL);
    cr_expect_eq(kpi_forecast_lik(y, 8, "AAN", 1, 0.5, 0.6, 0, 0, &lik), -EINVAL);
    cr_expect_eq(kpi_forecast_lik(y, 8, "AAdN", 1, 0.5, 0.1, 0, 0.5, &lik), -EINVAL);
    cr_expect_eq(kpi_forecast_lik(y, 8, "ANA", 4, 0.5, 0, 0.1, 0, &lik), 0);
    cr_expect_eq(kpi_forecast_lik(y, 8, "ANA", 5, 0.5, 0, 0.1, 0, &lik), -EINVAL);
    cr_expect_eq(kpi_forecast_lik(y, 8, "AAdN", 1, 0.5, 0.1, 0, 0.9, &lik), 0);
}

/* ---------------------------------------------------------------- model choice */

Test(forecast, level_plus_noise)
{
    double y[60];
    rng_state = 1;
    for (size_t t = 0; t < 60; t++)
        y[t] = 100 + 5 * gauss();
    struct kpi_forecast *f = fit(y, 60, 12, 12);
    cr_expect_str_eq(f->method, "ets");
    cr_expect_eq(trend_of(f), 'N', "model %s", f->model);
    cr_expect_eq(season_of(f), 'N', "model %s", f->model);
    cr_expect(f->alpha < 0.3, "alpha %g", f->alpha);
    check_params(f);
    check_finite_nested(f);
    cr_expect(fabs(f->mean[0] - 100) < 3, "mean %g", f->mean[0]);
    kpi_forecast_free(f);
}

Test(forecast, linear_trend_plus_noise)
{
    double y[60];
    rng_state = 2;
    for (size_t t = 0; t < 60; t++)
        y[t] = 10 + 2.0 * (double)t + gauss();
    struct kpi_forecast *f = fit(y, 60, 1, 6);
    cr_expect_neq(trend_of(f), 'N', "model %s", f->model);
    cr_expect_eq(season_of(f), 'N', "model %s", f->model);
    check_params(f);
    check_finite_nested(f);
    cr_expect(fabs(f->mean[5] - (10 + 2.0 * 65)) < 4, "mean %g", f->mean[5]);
    kpi_forecast_free(f);
}

static void additive_season(size_t m, size_t n, uint64_t seed)
{
    double y[96];
    double pattern[12];
    rng_state = seed;
    for (size_t i = 0; i < m; i++)
        pattern[i] = 10 * sin(2 * M_PI * (double)i / (double)m) + (i % 2 ? 3 : -3);
    for (size_t t = 0; t < n; t++)
        y[t] = 2 + pattern[t % m] + 0.5 * gauss(); /* crosses zero: no multiplicative model */
    struct kpi_forecast *f = fit(y, n, (int)m, (int)(2 * m));
    cr_expect_eq(f->model[0], 'A', "model %s", f->model);
    cr_expect_eq(season_of(f), 'A', "m=%zu model %s", m, f->model);
    check_params(f);
    check_finite_nested(f);
    for (size_t i = 0; i < m; i++)
        cr_expect(fabs(f->mean[i] - (2 + pattern[(n + i) % m])) < 1.5, "m=%zu step %zu: %g vs %g", m, i + 1, f->mean[i],
                  2 + pattern[(n + i) % m]);
    kpi_forecast_free(f);
}

Test(forecast, additive_season_m4)
{
    additive_season(4, 40, 3);
}

Test(forecast, additive_season_m12)
{
    additive_season(12, 72, 4);
}

Test(forecast, multiplicative_season)
{
    double y[96];
    rng_state = 5;
    for (size_t t = 0; t < 96; t++)
        y[t] = (100 + 3.0 * (double)t) * (1 + 0.4 * sin(2 * M_PI * (double)t / 12)) * (1 + 0.02 * gauss());
    struct kpi_forecast *f = fit(y, 96, 12, 24);
    cr_expect_eq(season_of(f), 'M', "model %s", f->model);
    cr_expect_neq(trend_of(f), 'N', "model %s", f->model);
    cr_expect(f->simulated);
    check_params(f);
    check_finite_nested(f);
    /* wider one season later, at the same point of the season */
    cr_expect(f->hi95[12] - f->lo95[12] > f->hi95[0] - f->lo95[0]);
    cr_expect(f->hi95[23] - f->lo95[23] > f->hi95[11] - f->lo95[11]);
    kpi_forecast_free(f);
}

/* ---------------------------------------------------------------- forecasts and intervals */

Test(forecast, noiseless_line_is_exact)
{
    double y[30];
    for (size_t t = 0; t < 30; t++)
        y[t] = 5 + 3.0 * (double)(t + 1);
    struct kpi_forecast *f = fit(y, 30, 1, 10);
    cr_expect_eq(trend_of(f), 'A', "model %s", f->model);
    for (size_t i = 0; i < 10; i++)
        cr_expect(fabs(f->mean[i] - (5 + 3.0 * (double)(31 + i))) < 1e-6, "step %zu: %.12g", i + 1, f->mean[i]);
    check_finite_nested(f);
    kpi_forecast_free(f);
}

Test(forecast, intervals_widen_and_nest)
{
    double y[48];
    rng_state = 6;
    for (size_t t = 0; t < 48; t++)
        y[t] = 20 + 0.5 * (double)t + 2 * gauss() - 30 * (t == 7); /* a negative value: analytic */
    struct kpi_forecast *f = fit(y, 48, 1, 24);
    cr_expect_not(f->simulated, "model %s", f->model);
    check_finite_nested(f);
    for (size_t i = 1; i < 24; i++) {
        cr_expect(f->hi95[i] - f->lo95[i] >= f->hi95[i - 1] - f->lo95[i - 1] - 1e-12);
        cr_expect(f->hi80[i] - f->lo80[i] >= f->hi80[i - 1] - f->lo80[i - 1] - 1e-12);
    }
    cr_expect(f->hi95[23] - f->lo95[23] > f->hi95[0] - f->lo95[0]);
    kpi_forecast_free(f);
}

/* ---------------------------------------------------------------- fallbacks */

Test(forecast, fallback_one_value)
{
    const double y[] = {7};
    struct kpi_forecast *f = fit(y, 1, 12, 3);
    cr_expect_str_eq(f->method, "naive");
    cr_expect_neq(f->note[0], '\0');
    for (size_t i = 0; i < 3; i++) {
        cr_expect_eq(f->mean[i], 7);
        cr_expect_eq(f->lo95[i], 7);
        cr_expect_eq(f->hi95[i], 7);
    }
    kpi_forecast_free(f);
}

Test(forecast, fallback_two_values)
{
    const double y[] = {7, 9};
    struct kpi_forecast *f = fit(y, 2, 1, 3);
    cr_expect_str_eq(f->method, "naive");
    cr_expect(strstr(f->note, "naive") != NULL, "note %s", f->note);
    cr_expect_eq(f->mean[2], 9);
    cr_expect(f->hi95[2] - f->lo95[2] > f->hi95[0] - f->lo95[0]);
    check_finite_nested(f);
    kpi_forecast_free(f);
}

Test(forecast, fallback_constant)
{
    double y[20];
    for (size_t t = 0; t < 20; t++)
        y[t] = 4.5;
    struct kpi_forecast *f = fit(y, 20, 4, 5);
    cr_expect_str_eq(f->method, "mean");
    cr_expect(strstr(f->note, "constant") != NULL, "note %s", f->note);
    for (size_t i = 0; i < 5; i++) {
        cr_expect_eq(f->mean[i], 4.5);
        cr_expect_eq(f->lo95[i], 4.5);
        cr_expect_eq(f->hi95[i], 4.5);
    }
    double p = -1;
    cr_assert_eq(kpi_forecast_p_target(f, 5, 4.0, true, &p), 0);
    cr_expect_eq(p, 1.0);
    cr_assert_eq(kpi_forecast_p_target(f, 5, 5.0, true, &p), 0);
    cr_expect_eq(p, 0.0);
    kpi_forecast_free(f);
}

Test(forecast, short_series_is_ann)
{
    const double y[] = {3, 5, 4, 6};
    struct kpi_forecast *f = fit(y, 4, 1, 3);
    cr_expect_str_eq(f->method, "ets");
    cr_expect_str_eq(f->model, "ANN");
    cr_expect_neq(f->note[0], '\0');
    check_finite_nested(f);
    kpi_forecast_free(f);
}

Test(forecast, rejects_bad_arguments)
{
    const double y[] = {1, 2, NAN};
    struct kpi_forecast_options o = {1, 3, 0};
    struct kpi_forecast *f = NULL;
    cr_expect_eq(kpi_forecast_fit(y, 3, &o, &f), -EINVAL);
    cr_expect_eq(kpi_forecast_fit(y, 0, &o, &f), -EINVAL);
    cr_expect_eq(kpi_forecast_fit(NULL, 2, &o, &f), -EINVAL);
    o.horizon = 0;
    cr_expect_eq(kpi_forecast_fit(y, 2, &o, &f), -EINVAL);
    o.horizon = KPI_FORECAST_MAX_HORIZON + 1;
    cr_expect_eq(kpi_forecast_fit(y, 2, &o, &f), -EINVAL);
    cr_expect_null(f);
    cr_expect_null(kpi_forecast_free(NULL));
}

/* ---------------------------------------------------------------- p_target */

static void check_p_target(const struct kpi_forecast *f, size_t step, double tol)
{
    double p = -1, prev = 2;
    double mu = f->mean[step - 1];
    double w = f->hi95[step - 1] - f->lo95[step - 1];
    cr_assert_eq(kpi_forecast_p_target(f, step, mu, true, &p), 0);
    cr_expect(fabs(p - 0.5) < tol, "p(up, mean) = %g", p);
    cr_assert_eq(kpi_forecast_p_target(f, step, mu, false, &p), 0);
    cr_expect(fabs(p - 0.5) < tol, "p(down, mean) = %g", p);
    for (int i = -10; i <= 10; i++) {
        cr_assert_eq(kpi_forecast_p_target(f, step, mu + w * i / 5.0, true, &p), 0);
        cr_expect(p <= prev && p >= 0 && p <= 1, "p %g after %g", p, prev);
        prev = p;
    }
    cr_expect(prev < 0.01);
    cr_assert_eq(kpi_forecast_p_target(f, step, mu - 2 * w, true, &p), 0);
    cr_expect(p > 0.99);
    cr_expect_eq(kpi_forecast_p_target(f, 0, mu, true, &p), -EINVAL);
    cr_expect_eq(kpi_forecast_p_target(f, f->h + 1, mu, true, &p), -EINVAL);
}

Test(forecast, p_target_analytic)
{
    double y[40];
    rng_state = 7;
    for (size_t t = 0; t < 40; t++)
        y[t] = 50 + 10 * gauss() - 100 * (t == 3);
    struct kpi_forecast *f = fit(y, 40, 1, 8);
    cr_expect_not(f->simulated);
    check_p_target(f, 8, 1e-9);
    kpi_forecast_free(f);
}

Test(forecast, p_target_simulated)
{
    double y[96];
    rng_state = 8;
    for (size_t t = 0; t < 96; t++)
        y[t] = (100 + 3.0 * (double)t) * (1 + 0.4 * sin(2 * M_PI * (double)t / 12)) * (1 + 0.03 * gauss());
    struct kpi_forecast *f = fit(y, 96, 12, 12);
    cr_expect(f->simulated, "model %s", f->model);
    check_p_target(f, 12, 0.06);
    kpi_forecast_free(f);
}

/* ---------------------------------------------------------------- determinism, zeros */

Test(forecast, deterministic)
{
    double y[60];
    rng_state = 9;
    for (size_t t = 0; t < 60; t++)
        y[t] = (50 + (double)t) * (1 + 0.2 * cos(2 * M_PI * (double)t / 12)) * (1 + 0.05 * gauss());
    struct kpi_forecast *a = fit(y, 60, 12, 12);
    struct kpi_forecast *b = fit(y, 60, 12, 12);
    cr_expect_str_eq(a->model, b->model);
    cr_expect_eq(memcmp(a->mean, b->mean, 12 * sizeof(double)), 0);
    cr_expect_eq(memcmp(a->lo95, b->lo95, 12 * sizeof(double)), 0);
    cr_expect_eq(memcmp(a->hi80, b->hi80, 12 * sizeof(double)), 0);
    cr_expect_eq(memcmp(a->fitted, b->fitted, 60 * sizeof(double)), 0);
    cr_expect_eq(a->alpha, b->alpha);
    cr_expect_eq(a->aicc, b->aicc);
    double pa = 0, pb = 0;
    cr_assert_eq(kpi_forecast_p_target(a, 6, a->mean[5] * 1.05, true, &pa), 0);
    cr_assert_eq(kpi_forecast_p_target(b, 6, a->mean[5] * 1.05, true, &pb), 0);
    cr_expect_eq(pa, pb);
    kpi_forecast_free(a);
    kpi_forecast_free(b);
}

Test(forecast, zeros_exclude_multiplicative)
{
    double y[48];
    rng_state = 10;
    for (size_t t = 0; t < 48; t++) {
        double v = 3 + 2 * sin(2 * M_PI * (double)t / 12) + gauss();
        y[t] = t % 5 == 0 || v < 0 ? 0 : round(v);
    }
    struct kpi_forecast *f = fit(y, 48, 12, 24);
    cr_expect_eq(f->model[0], 'A', "model %s", f->model);
    cr_expect_neq(season_of(f), 'M', "model %s", f->model);
    check_finite_nested(f);
    kpi_forecast_free(f);

    double z[24] = {0};
    z[23] = 1; /* almost all zeros */
    f = fit(z, 24, 4, 8);
    check_finite_nested(f);
    kpi_forecast_free(f);
}
