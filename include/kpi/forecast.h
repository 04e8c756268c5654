/*
 * Forecasting a KPI's period values with exponential-smoothing state-space models (DESIGN.md
 * section 3, "Forecast, anomalies, insights"): the ETS family of Hyndman et al. (2008), as R's
 * forecast::ets implements it. Pure computation: no I/O, no logging.
 *
 * Models: error A or M, trend N, A or Ad (damped), season N, A or M, named like forecast::ets
 * ("ANN", "AAdN", "MAM"). The state is the level l, the trend b and the m seasonal indexes.
 * Candidates, tried in a fixed order (additive error first):
 * - seasonal models only when options->season = m > 1 and n >= 2m;
 * - multiplicative error or season only when every value is strictly positive; a multiplicative
 *   season only with multiplicative error (forecast::ets's default "restrict");
 * - a model only when n >= k + 2, k its number of estimated quantities (below), so that its AICc is
 *   finite; when this leaves only ANN (or nothing) the note says so ("too short for trend").
 * Initial states: the classical heuristic of forecast::ets: a classical decomposition (centred
 * moving average of order m) gives the seasonal indexes (normalised to sum 0, or mean 1), and a
 * least-squares line through the first min(max(10, 2m), n) seasonally adjusted values gives l0 and
 * b0 (for trendless models l0 is their mean). The smoothing parameters and l0, b0 are then fitted by
 * maximum likelihood with a Nelder-Mead simplex (restarted from its best point until it stops
 * improving), within 1e-4 < alpha < 0.9999, 0 < beta < alpha, 0 < gamma < 1 - alpha,
 * 0.8 < phi < 0.98 (a logistic transform keeps every trial point admissible).
 * Criterion (forecast::ets's "lik", -2 log-likelihood up to a constant), e the innovations:
 *   additive error: n * log(sum e^2); multiplicative error: n * log(sum e^2) + 2 * sum log|yhat|,
 * with sum e^2 floored at n * (1e-10 * max|y|)^2 so that a noiseless series gives a finite value.
 * k = number of smoothing parameters + number of initial states (1 + trend + (m - 1) if seasonal)
 * + 1 (the variance); AICc = lik + 2k + 2k(k + 1) / (n - k - 1); the lowest AICc wins, ties going
 * to the earlier (simpler) candidate. sigma2 = sum e^2 / (n - k).
 *
 * Forecasts: the point forecast is the model's deterministic recursion (innovations 0). Intervals:
 * analytic normal for the additive-error, additive-season models ANN AAN AAdN ANA AAA AAdA
 * (var_h = sigma2 * (1 + sum_{j<h} c_j^2), c_j = alpha + beta * (j or phi + .. + phi^j) + gamma
 * [j mod m = 0], Hyndman et al. 2008 ch. 6); otherwise 2000 simulated sample paths (splitmix64 +
 * polar Box-Muller, seeded with options->seed) and their empirical 2.5/10/90/97.5% quantiles (R's type
 * 7). Intervals are then widened if needed so that lo95 <= lo80 <= mean <= hi80 <= hi95 always.
 *
 * Fallbacks (method and note say which and why):
 * - n < 3: method "naive": the last value; intervals of a random walk with sigma = |y1 - y0| (zero
 *   width when n = 1);
 * - a constant series: method "mean": the value, with zero-width intervals.
 * Every output is finite; non-finite input values are rejected with -EINVAL.
 */
#ifndef KPI_FORECAST_H
#define KPI_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KPI_FORECAST_MAX_N 100000
#define KPI_FORECAST_MAX_HORIZON 1000
#define KPI_FORECAST_MAX_SEASON 400
#define KPI_FORECAST_SIM_PATHS 2000

struct kpi_forecast_options {
    int season;    /* season length m: 7 daily, 52 weekly, 12 monthly, 4 quarterly, 1 (or 0) none */
    int horizon;   /* h, 1..KPI_FORECAST_MAX_HORIZON */
    uint64_t seed; /* seed of the simulation (same input and seed: same output) */
};

/* Private: what p_target needs to redo the forecast distribution. */
struct kpi_forecast_state;

struct kpi_forecast {
    char model[8];                  /* "AAdN", "MAM", ...; "" for the fallbacks */
    char method[32];                /* "ets" | "naive" | "mean" */
    char note[128];                 /* why a fallback or a restriction applied; "" otherwise */
    double alpha, beta, gamma, phi; /* 0 when not in the model (phi 1 without damping) */
    double loglik, aicc, sigma2;    /* loglik = -lik / 2 (see above); aicc 0 for the fallbacks */
    bool simulated;                 /* intervals from sample paths rather than the normal formula */
    size_t h;
    double *mean, *lo80, *hi80, *lo95, *hi95; /* h values each; index i is step i + 1 */
    size_t n;
    /* n values each: one-step fitted values, and the innovations: y - fitted for additive error and
     * the fallbacks, (y - fitted) / fitted for multiplicative error (model[0] == 'M'). */
    double *fitted, *residuals;
    struct kpi_forecast_state *state;
};

/* Fits the best model to y[0..n-1] (1 <= n <= KPI_FORECAST_MAX_N, every value finite) and
 * forecasts options->horizon steps. -EINVAL on bad arguments, -ENOMEM. */
int kpi_forecast_fit(const double *y, size_t n, const struct kpi_forecast_options *options, struct kpi_forecast **ret);

struct kpi_forecast *kpi_forecast_free(struct kpi_forecast *f);

/* The probability that the value at horizon step `step` (1..f->h) is >= target (up) or <= target
 * (!up): the normal distribution with the forecast's sd for analytic models and the fallbacks (a
 * step function when the sd is 0), the fraction of the same simulated paths otherwise. */
int kpi_forecast_p_target(const struct kpi_forecast *f, size_t step, double target, bool up, double *ret_p);

/* The criterion above for one model ("ANN", ..., at most 4 chars) at fixed parameters, with the
 * heuristic initial states (l0, b0 not optimised); season is m (ignored for non-seasonal models).
 * Parameters not in the model are ignored. For tests and diagnostics. -EINVAL on a bad model,
 * parameters outside their ranges, n too small (n < 2m for seasonal models, n < 2 otherwise) or
 * when the model cannot be evaluated (a non-positive yhat in a multiplicative model). */
int kpi_forecast_lik(const double *y, size_t n, const char *model, int season, double alpha, double beta, double gamma, double phi,
                     double *ret_lik);

#endif
