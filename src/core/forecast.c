/*
 * ETS forecasting (include/kpi/forecast.h states every rule): the state-space recursion and its
 * likelihood, the classical initial states, a Nelder-Mead fit of the parameters, model selection by
 * AICc, point forecasts, analytic or simulated prediction intervals, p_target, and the naive and
 * mean fallbacks. Pure computation: no I/O. The likelihood loop (ets_filter) allocates nothing and
 * is called a few hundred times per candidate model, so it is kept branch-light.
 */
#include "kpi/forecast.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ERR_ADD, ERR_MUL };
enum { TREND_NONE, TREND_ADD, TREND_DAMPED };
enum { SEASON_NONE, SEASON_ADD, SEASON_MUL };

#define LO_SMOOTH 1e-4
#define HI_SMOOTH 0.9999
#define LO_PHI 0.8
#define HI_PHI 0.98
#define PENALTY 1e100
#define MAX_DIM 6
#ifndef NM_FTOL
#define NM_FTOL 1e-7
#endif
#ifndef NM_RESTARTS
#define NM_RESTARTS 2
#endif
#define Z80 1.2815515655446004
#define Z95 1.959963984540054

struct spec {
    int err, trend, season;
    size_t m; /* 1 without season */
};

struct par {
    double alpha, beta, gamma, phi;
};

struct kpi_forecast_state {
    struct spec sp;
    struct par p;
    double sigma2;
    double l, b;
    size_t next; /* seasonal slot of step 1 */
    uint64_t seed;
    double *sd; /* h standard deviations (analytic models and fallbacks) */
    double *s;  /* m seasonal indexes */
};

/* What one run of the recursion leaves behind. */
struct filter_out {
    double l, b, sse;
    size_t next;
};

/* Everything the objective needs for one candidate model. */
struct fitctx {
    const double *y;
    size_t n;
    struct spec sp;
    double l0, b0;         /* heuristic initial level and trend */
    double lscale, bscale; /* scales of their optimisation coordinates */
    double *s0;            /* m heuristic seasonal indexes */
    double *sbuf;          /* m, work */
    double sse_floor;
};

/* ------------------------------------------------------------------ recursion */

/* Runs the model over y from the initial states; returns the criterion (PENALTY when a
 * multiplicative model meets a non-positive value). fitted/resid/out may be NULL. */
static inline __attribute__((always_inline)) double ets_filter_impl(const int err, const int trend, const int season,
                                                                    const struct spec *sp, const struct par *p, const double *y,
                                                                    size_t n, double l, double b, const double *s0, double *s,
                                                                    double sse_floor, double *fitted, double *resid,
                                                                    struct filter_out *out)
{
    const size_t m = sp->m;
    const double alpha = p->alpha, beta = p->beta, gamma = p->gamma;
    const double phi = trend == TREND_DAMPED ? p->phi : 1.0;
    double sse = 0.0, logsum = 0.0, prod = 1.0;
    size_t j = 0;

    if (season != SEASON_NONE)
        memcpy(s, s0, m * sizeof(*s));
    if (trend == TREND_NONE)
        b = 0.0;
    for (size_t t = 0; t < n; t++) {
        const double phib = phi * b;
        const double q = l + phib;
        const double sv = season == SEASON_NONE ? 0.0 : s[j];
        const double yhat = season == SEASON_MUL ? q * sv : q + sv;
        double e = 0.0, pp = 0.0;

        if (err == ERR_MUL) {
            if (!(yhat > 0.0))
                return PENALTY;
            e = (y[t] - yhat) / yhat;
            prod *= yhat;
            if (prod > 1e100 || prod < 1e-100) {
                logsum += log(prod);
                prod = 1.0;
            }
        } else {
            e = y[t] - yhat;
        }
        sse += e * e;
        if (fitted)
            fitted[t] = yhat;
        if (resid)
            resid[t] = e;
        if (season == SEASON_MUL) {
            if (!(q > 0.0))
                return PENALTY;
            pp = y[t] / sv;
        } else {
            pp = y[t] - sv;
        }
        l = q + alpha * (pp - q);
        b = phib + beta * (pp - q);
        if (season == SEASON_ADD) {
            s[j] = sv + gamma * (y[t] - q - sv);
        } else if (season == SEASON_MUL) {
            s[j] = sv + gamma * (y[t] / q - sv);
        }
        j++;
        if (j == m)
            j = 0;
    }
    if (trend == TREND_NONE)
        b = 0.0;
    if (out) {
        out->l = l;
        out->b = b;
        out->sse = sse;
        out->next = j;
    }
    double lik = (double)n * log(sse > sse_floor ? sse : sse_floor);
    if (err == ERR_MUL)
        lik += 2.0 * (logsum + log(prod));
    return isfinite(lik) ? lik : PENALTY;
}

static double ets_filter(const struct spec *sp, const struct par *p, const double *y, size_t n, double l, double b,
                         const double *s0, double *s, double sse_floor, double *fitted, double *resid, struct filter_out *out)
{
    return ets_filter_impl(sp->err, sp->trend, sp->season, sp, p, y, n, l, b, s0, s, sse_floor, fitted, resid, out);
}

/* The likelihood alone, with the model's branches resolved at compile time (the hot path). */
#define FAST_CASE(E, T, S)                                                                                                         \
    case (E)*9 + (T)*3 + (S):                                                                                                      \
        return ets_filter_impl(E, T, S, sp, p, y, n, l, b, s0, s, sse_floor, NULL, NULL, NULL)
#define FAST_CASES(E, S)                                                                                                           \
    FAST_CASE(E, TREND_NONE, S);                                                                                                   \
    FAST_CASE(E, TREND_ADD, S);                                                                                                    \
    FAST_CASE(E, TREND_DAMPED, S)

static double ets_lik_fast(const struct spec *sp, const struct par *p, const double *y, size_t n, double l, double b,
                           const double *s0, double *s, double sse_floor)
{
    switch (sp->err * 9 + sp->trend * 3 + sp->season) {
        FAST_CASES(ERR_ADD, SEASON_NONE);
        FAST_CASES(ERR_ADD, SEASON_ADD);
        FAST_CASES(ERR_MUL, SEASON_NONE);
        FAST_CASES(ERR_MUL, SEASON_ADD);
        FAST_CASES(ERR_MUL, SEASON_MUL);
    default:
        return ets_filter(sp, p, y, n, l, b, s0, s, sse_floor, NULL, NULL, NULL);
    }
}

/* ------------------------------------------------------------------ initial states */

/* Classical heuristic: decomposition for the seasonal indexes, then a line (or the mean) through
 * the first min(max(10, 2m), n) seasonally adjusted values. work holds n doubles. */
static void init_states(const double *y, size_t n, const struct spec *sp, double *s0, double *work, double *ret_l0, double *ret_b0)
{
    const size_t m = sp->m;
    double *ysa = work;

    if (sp->season != SEASON_NONE) {
        const size_t half = m / 2;
        const bool mul = sp->season == SEASON_MUL;
        double sum[KPI_FORECAST_MAX_SEASON];
        size_t cnt[KPI_FORECAST_MAX_SEASON];

        for (size_t i = 0; i < m; i++) {
            sum[i] = 0.0;
            cnt[i] = 0;
        }
        for (size_t t = half; t + half < n; t++) {
            double tr = 0.0;
            if (m % 2 == 0) {
                tr = 0.5 * (y[t - half] + y[t + half]);
                for (size_t k = t - half + 1; k < t + half; k++)
                    tr += y[k];
            } else {
                for (size_t k = t - half; k <= t + half; k++)
                    tr += y[k];
            }
            tr /= (double)m;
            if (mul && !(tr > 0.0))
                continue;
            sum[t % m] += mul ? y[t] / tr : y[t] - tr;
            cnt[t % m]++;
        }
        double avg = 0.0;
        for (size_t i = 0; i < m; i++) {
            s0[i] = cnt[i] ? sum[i] / (double)cnt[i] : (mul ? 1.0 : 0.0);
            avg += s0[i];
        }
        avg /= (double)m;
        for (size_t i = 0; i < m; i++) {
            if (mul) {
                s0[i] = avg > 0.0 ? s0[i] / avg : 1.0;
                if (s0[i] < 1e-2)
                    s0[i] = 1e-2;
            } else {
                s0[i] -= avg;
            }
        }
        for (size_t t = 0; t < n; t++)
            ysa[t] = mul ? y[t] / s0[t % m] : y[t] - s0[t % m];
    } else {
        for (size_t t = 0; t < n; t++)
            ysa[t] = y[t];
    }

    size_t maxn = 2 * m > 10 ? 2 * m : 10;
    if (maxn > n)
        maxn = n;
    double mx = 0.0, my = 0.0;
    for (size_t t = 0; t < maxn; t++) {
        mx += (double)(t + 1);
        my += ysa[t];
    }
    mx /= (double)maxn;
    my /= (double)maxn;
    if (sp->trend == TREND_NONE || maxn < 2) {
        *ret_l0 = my;
        *ret_b0 = 0.0;
        return;
    }
    double sxy = 0.0, sxx = 0.0;
    for (size_t t = 0; t < maxn; t++) {
        double dx = (double)(t + 1) - mx;
        sxy += dx * (ysa[t] - my);
        sxx += dx * dx;
    }
    double b0 = sxy / sxx;
    double l0 = my - b0 * mx;
    if (sp->err == ERR_MUL && fabs(l0 + b0) < 1e-8) {
        l0 *= 1 + 1e-3;
        b0 *= 1 + 1e-3;
    }
    *ret_l0 = l0;
    *ret_b0 = b0;
}

/* ------------------------------------------------------------------ parameters */

/* Coordinates of the optimiser: alpha, then beta/alpha, gamma/(1-alpha), phi through logistic maps
 * onto their ranges, then l0 and b0 as offsets from the heuristic in units of lscale/bscale. */
struct layout {
    int beta, gamma, phi, l0, b0, d;
};

static struct layout layout_of(const struct spec *sp)
{
    struct layout lo = {-1, -1, -1, -1, -1, 1};
    if (sp->trend != TREND_NONE)
        lo.beta = lo.d++;
    if (sp->season != SEASON_NONE)
        lo.gamma = lo.d++;
    if (sp->trend == TREND_DAMPED)
        lo.phi = lo.d++;
    lo.l0 = lo.d++;
    if (sp->trend != TREND_NONE)
        lo.b0 = lo.d++;
    return lo;
}

static double squash(double u, double lo, double hi)
{
    if (u > 30.0)
        u = 30.0;
    if (u < -30.0)
        u = -30.0;
    return lo + (hi - lo) / (1.0 + exp(-u));
}

static double unsquash(double v, double lo, double hi)
{
    double f = (v - lo) / (hi - lo);
    if (f < 1e-9)
        f = 1e-9;
    if (f > 1.0 - 1e-9)
        f = 1.0 - 1e-9;
    return log(f / (1.0 - f));
}

static void unpack(const struct fitctx *c, const struct layout *lo, const double *x, struct par *p, double *l0, double *b0)
{
    p->alpha = squash(x[0], LO_SMOOTH, HI_SMOOTH);
    p->beta = lo->beta >= 0 ? p->alpha * squash(x[lo->beta], LO_SMOOTH, HI_SMOOTH) : 0.0;
    p->gamma = lo->gamma >= 0 ? (1.0 - p->alpha) * squash(x[lo->gamma], LO_SMOOTH, HI_SMOOTH) : 0.0;
    p->phi = lo->phi >= 0 ? squash(x[lo->phi], LO_PHI, HI_PHI) : 1.0;
    *l0 = c->l0 + c->lscale * x[lo->l0];
    *b0 = lo->b0 >= 0 ? c->b0 + c->bscale * x[lo->b0] : 0.0;
}

static double objective(const struct fitctx *c, const struct layout *lo, const double *x)
{
    struct par p;
    double l0 = 0.0, b0 = 0.0;
    unpack(c, lo, x, &p, &l0, &b0);
    return ets_lik_fast(&c->sp, &p, c->y, c->n, l0, b0, c->s0, c->sbuf, c->sse_floor);
}

/* One Nelder-Mead run from x (updated to the best point); returns its value. */
static double nelder_mead(const struct fitctx *c, const struct layout *lo, double *x, int max_evals)
{
    const int d = lo->d;
    double sim[MAX_DIM + 1][MAX_DIM];
    double fv[MAX_DIM + 1];
    double cen[MAX_DIM], xr[MAX_DIM], xe[MAX_DIM];
    int evals = 0;

    for (int i = 0; i <= d; i++) {
        for (int k = 0; k < d; k++)
            sim[i][k] = x[k];
        if (i > 0)
            sim[i][i - 1] += sim[i][i - 1] > 2.0 ? -1.0 : 1.0;
        fv[i] = objective(c, lo, sim[i]);
        evals++;
    }
    for (;;) {
        /* order: best at 0, worst at d (insertion sort, d <= 6) */
        for (int i = 1; i <= d; i++) {
            for (int k = i; k > 0 && fv[k] < fv[k - 1]; k--) {
                double tf = fv[k];
                fv[k] = fv[k - 1];
                fv[k - 1] = tf;
                for (int q = 0; q < d; q++) {
                    double tv = sim[k][q];
                    sim[k][q] = sim[k - 1][q];
                    sim[k - 1][q] = tv;
                }
            }
        }
        if (evals >= max_evals || fv[d] - fv[0] <= NM_FTOL * (fabs(fv[0]) + 1.0))
            break;
        for (int k = 0; k < d; k++) {
            double sum = 0.0;
            for (int i = 0; i < d; i++)
                sum += sim[i][k];
            cen[k] = sum / d;
        }
        for (int k = 0; k < d; k++)
            xr[k] = cen[k] + (cen[k] - sim[d][k]);
        double fr = objective(c, lo, xr);
        evals++;
        if (fr < fv[0]) {
            for (int k = 0; k < d; k++)
                xe[k] = cen[k] + 2.0 * (cen[k] - sim[d][k]);
            double fe = objective(c, lo, xe);
            evals++;
            if (fe < fr) {
                memcpy(sim[d], xe, sizeof(double) * (size_t)d);
                fv[d] = fe;
            } else {
                memcpy(sim[d], xr, sizeof(double) * (size_t)d);
                fv[d] = fr;
            }
            continue;
        }
        if (fr < fv[d - 1]) {
            memcpy(sim[d], xr, sizeof(double) * (size_t)d);
            fv[d] = fr;
            continue;
        }
        bool outside = fr < fv[d];
        for (int k = 0; k < d; k++)
            xe[k] = outside ? cen[k] + 0.5 * (xr[k] - cen[k]) : cen[k] + 0.5 * (sim[d][k] - cen[k]);
        double fc = objective(c, lo, xe);
        evals++;
        if (outside ? fc <= fr : fc < fv[d]) {
            memcpy(sim[d], xe, sizeof(double) * (size_t)d);
            fv[d] = fc;
            continue;
        }
        for (int i = 1; i <= d; i++) {
            for (int k = 0; k < d; k++)
                sim[i][k] = sim[0][k] + 0.5 * (sim[i][k] - sim[0][k]);
            fv[i] = objective(c, lo, sim[i]);
            evals++;
        }
    }
    memcpy(x, sim[0], sizeof(double) * (size_t)d);
    return fv[0];
}

/* Fits one candidate: the parameters and initial states of the lowest criterion. */
static double fit_model(struct fitctx *c, size_t m_series, struct par *ret_p, double *ret_l0, double *ret_b0)
{
    const struct layout lo = layout_of(&c->sp);
    double x[MAX_DIM] = {0};
    double alpha0 = LO_SMOOTH + 0.2 * (HI_SMOOTH - LO_SMOOTH) / (double)m_series;

    x[0] = unsquash(alpha0, LO_SMOOTH, HI_SMOOTH);
    if (lo.beta >= 0)
        x[lo.beta] = unsquash(0.1, LO_SMOOTH, HI_SMOOTH);
    if (lo.gamma >= 0)
        x[lo.gamma] = unsquash(0.05, LO_SMOOTH, HI_SMOOTH);
    if (lo.phi >= 0)
        x[lo.phi] = unsquash(LO_PHI + 0.99 * (HI_PHI - LO_PHI), LO_PHI, HI_PHI);
    double best = nelder_mead(c, &lo, x, 150 * lo.d);
    for (int r = 0; r < NM_RESTARTS; r++) {
        double f = nelder_mead(c, &lo, x, 100 * lo.d);
        bool done = best - f <= 1e-7 * (fabs(best) + 1.0);
        if (f < best)
            best = f;
        if (done)
            break;
    }
    unpack(c, &lo, x, ret_p, ret_l0, ret_b0);
    return best;
}

/* ------------------------------------------------------------------ names and counts */

static void model_name(const struct spec *sp, char out[8])
{
    static const char *const trends[] = {"N", "A", "Ad"};
    static const char *const seasons[] = {"N", "A", "M"};
    snprintf(out, 8, "%s%s%s", sp->err == ERR_MUL ? "M" : "A", trends[sp->trend], seasons[sp->season]);
}

static int parse_model(const char *s, struct spec *sp)
{
    size_t i = 0;
    if (!s)
        return -EINVAL;
    if (s[i] != 'A' && s[i] != 'M')
        return -EINVAL;
    sp->err = s[i++] == 'M' ? ERR_MUL : ERR_ADD;
    if (s[i] == 'N') {
        sp->trend = TREND_NONE;
        i++;
    } else if (s[i] == 'A' && s[i + 1] == 'd') {
        sp->trend = TREND_DAMPED;
        i += 2;
    } else if (s[i] == 'A') {
        sp->trend = TREND_ADD;
        i++;
    } else {
        return -EINVAL;
    }
    if (s[i] == 'N')
        sp->season = SEASON_NONE;
    else if (s[i] == 'A')
        sp->season = SEASON_ADD;
    else if (s[i] == 'M')
        sp->season = SEASON_MUL;
    else
        return -EINVAL;
    if (s[i + 1] != '\0')
        return -EINVAL;
    return 0;
}

/* Estimated quantities: smoothing parameters + initial states + the variance. */
static size_t n_estimated(const struct spec *sp)
{
    size_t k = 1 + 1 + 1; /* alpha, l0, sigma2 */
    if (sp->trend != TREND_NONE)
        k += 2;
    if (sp->trend == TREND_DAMPED)
        k += 1;
    if (sp->season != SEASON_NONE)
        k += 1 + (sp->m - 1);
    return k;
}

/* ------------------------------------------------------------------ forecasts */

struct rng {
    uint64_t s;
    double spare;
    bool has_spare;
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Box-Muller in Marsaglia's polar form (no trigonometry): two normals per accepted pair. */
static double rng_normal(struct rng *r)
{
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    double u = 0.0, v = 0.0, q = 0.0;
    do {
        u = (double)(splitmix64(&r->s) >> 11) * 0x1.0p-52 - 1.0;
        v = (double)(splitmix64(&r->s) >> 11) * 0x1.0p-52 - 1.0;
        q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    double k = sqrt(-2.0 * log(q) / q);
    r->spare = v * k;
    r->has_spare = true;
    return u * k;
}

/* The deterministic forecast of step (1-based) from the final state. */
static double point_forecast(const struct kpi_forecast_state *st, size_t step)
{
    double tr = st->l;
    if (st->sp.trend == TREND_ADD) {
        tr += (double)step * st->b;
    } else if (st->sp.trend == TREND_DAMPED) {
        double acc = 0.0, pw = 1.0;
        for (size_t i = 0; i < step; i++) {
            pw *= st->p.phi;
            acc += pw;
        }
        tr += acc * st->b;
    }
    if (st->sp.season == SEASON_NONE)
        return tr;
    double sv = st->s[(st->next + step - 1) % st->sp.m];
    return st->sp.season == SEASON_MUL ? tr * sv : tr + sv;
}

/* Simulates KPI_FORECAST_SIM_PATHS paths step by step; after each step calls back with the
 * values of all paths (in vals, which the callback may reorder). Returns 0 or -ENOMEM. */
static int simulate(const struct kpi_forecast_state *st, size_t upto, void (*visit)(void *ud, size_t step, double *vals, size_t np),
                    void *ud)
{
    const size_t np = KPI_FORECAST_SIM_PATHS;
    const size_t m = st->sp.m;
    const bool seasonal = st->sp.season != SEASON_NONE;
    const double sd = sqrt(st->sigma2);
    const double phi = st->sp.trend == TREND_DAMPED ? st->p.phi : 1.0;
    double *L = malloc(np * sizeof(double));
    double *B = malloc(np * sizeof(double));
    double *V = malloc(np * sizeof(double));
    double *S = seasonal ? malloc(np * m * sizeof(double)) : NULL;
    struct rng r = {st->seed, 0.0, false};
    size_t j = st->next;
    int ret = -ENOMEM;

    if (!L || !B || !V || (seasonal && !S))
        goto out;
    for (size_t i = 0; i < np; i++) {
        L[i] = st->l;
        B[i] = st->sp.trend == TREND_NONE ? 0.0 : st->b;
        for (size_t k = 0; seasonal && k < m; k++)
            S[k * np + i] = st->s[k];
    }
    for (size_t step = 1; step <= upto; step++) {
        for (size_t i = 0; i < np; i++) {
            double phib = phi * B[i];
            double q = L[i] + phib;
            double sv = seasonal ? S[j * np + i] : 0.0;
            double yhat = st->sp.season == SEASON_MUL ? q * sv : q + sv;
            double e = sd * rng_normal(&r);
            double y = st->sp.err == ERR_MUL ? yhat * (1.0 + e) : yhat + e;
            if (!isfinite(y))
                y = yhat;
            V[i] = y;
            if (st->sp.season == SEASON_MUL && !(q > 0.0 && sv > 0.0))
                continue; /* a degenerate path keeps its state */
            double pp = st->sp.season == SEASON_MUL ? y / sv : y - sv;
            double nl = q + st->p.alpha * (pp - q);
            double nb = phib + st->p.beta * (pp - q);
            double ns = sv;
            if (st->sp.season == SEASON_ADD)
                ns = sv + st->p.gamma * (y - q - sv);
            else if (st->sp.season == SEASON_MUL)
                ns = sv + st->p.gamma * (y / q - sv);
            if (!isfinite(nl) || !isfinite(nb) || !isfinite(ns))
                continue;
            L[i] = nl;
            B[i] = st->sp.trend == TREND_NONE ? 0.0 : nb;
            if (seasonal)
                S[j * np + i] = ns;
        }
        visit(ud, step, V, np);
        j = j + 1 == m ? 0 : j + 1;
    }
    ret = 0;
out:
    free(L);
    free(B);
    free(V);
    free(S);
    return ret;
}

/* Moves the values of a[lo..hi) that satisfy below(x, pivot) to the front; returns where the rest
 * start. Branch-free (the data are random, so branches would mispredict half the time). */
static size_t partition_lt(double *a, size_t lo, size_t hi, double pivot, bool or_equal)
{
    size_t store = lo;
    for (size_t i = lo; i < hi; i++) {
        double x = a[i];
        a[i] = a[store];
        a[store] = x;
        store += or_equal ? x <= pivot : x < pivot;
    }
    return store;
}

static double median3(double x, double y, double z)
{
    return fmax(fmin(x, y), fmin(fmax(x, y), z));
}

/* The k-th smallest of a[0..n-1]; reorders a so that a[0..k] are the k + 1 smallest. */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        double pivot = median3(a[lo], a[lo + (hi - lo) / 2], a[hi - 1]);
        size_t lt = partition_lt(a, lo, hi, pivot, false);
        if (k < lt) {
            hi = lt;
            continue;
        }
        size_t le = partition_lt(a, lt, hi, pivot, true); /* the pivot is in [lt, hi): le > lt */
        if (k < le)
            return pivot;
        lo = le;
    }
    return a[k];
}

/* R's type 7 quantile. */
static double quantile7(double *a, size_t n, double prob)
{
    double h = (double)(n - 1) * prob;
    size_t k = (size_t)floor(h);
    double lo = select_kth(a, n, k);
    if (k + 1 >= n)
        return lo;
    double hi = a[k + 1];
    for (size_t i = k + 2; i < n; i++)
        if (a[i] < hi)
            hi = a[i];
    return lo + (h - (double)k) * (hi - lo);
}

static void visit_intervals(void *ud, size_t step, double *vals, size_t np)
{
    struct kpi_forecast *f = ud;
    size_t i = step - 1;
    /* The 90% quantile first; the selection leaves the k90 + 1 smallest values in front, and the
     * other quantiles are taken within the part that holds them (same type-7 positions). */
    size_t k90 = (size_t)floor((double)(np - 1) * 0.90);
    size_t up = np - k90 - 1;
    f->hi80[i] = quantile7(vals, np, 0.90);
    f->hi95[i] =
        up >= 2 ? quantile7(vals + k90 + 1, up, (0.975 * (double)(np - 1) - (double)(k90 + 1)) / (double)(up - 1)) : f->hi80[i];
    f->lo80[i] = quantile7(vals, k90 + 1, 0.10 * (double)(np - 1) / (double)k90); /* leaves k10 + 1 in front */
    size_t k10 = (size_t)floor((double)(np - 1) * 0.10);
    f->lo95[i] = quantile7(vals, k10 + 1, 0.025 * (double)(np - 1) / (double)k10);
}

struct p_count {
    size_t step, hits;
    double target;
    bool up;
};

static void visit_p(void *ud, size_t step, double *vals, size_t np)
{
    struct p_count *pc = ud;
    if (step != pc->step)
        return;
    for (size_t i = 0; i < np; i++)
        if (pc->up ? vals[i] >= pc->target : vals[i] <= pc->target)
            pc->hits++;
}

/* Forecast sd of each step for the additive-error class-1 models. */
static void analytic_sd(const struct kpi_forecast_state *st, size_t h, double *sd)
{
    double acc = 1.0, phij = 0.0, pw = 1.0;
    for (size_t step = 1; step <= h; step++) {
        sd[step - 1] = sqrt(st->sigma2 * acc);
        size_t j = step; /* c_j for the next step */
        double cj = st->p.alpha;
        if (st->sp.trend == TREND_ADD) {
            cj += st->p.beta * (double)j;
        } else if (st->sp.trend == TREND_DAMPED) {
            pw *= st->p.phi;
            phij += pw;
            cj += st->p.beta * phij;
        }
        if (st->sp.season == SEASON_ADD && j % st->sp.m == 0)
            cj += st->p.gamma;
        acc += cj * cj;
    }
}

static double finite_or(double v, double dflt)
{
    return isfinite(v) ? v : dflt;
}

/* Makes every output finite and the intervals nested around the mean. */
static void tidy_outputs(struct kpi_forecast *f, double dflt)
{
    for (size_t i = 0; i < f->h; i++) {
        double mu = finite_or(f->mean[i], dflt);
        f->mean[i] = mu;
        f->lo80[i] = fmin(finite_or(f->lo80[i], mu), mu);
        f->hi80[i] = fmax(finite_or(f->hi80[i], mu), mu);
        f->lo95[i] = fmin(finite_or(f->lo95[i], f->lo80[i]), f->lo80[i]);
        f->hi95[i] = fmax(finite_or(f->hi95[i], f->hi80[i]), f->hi80[i]);
    }
    for (size_t t = 0; t < f->n; t++) {
        f->fitted[t] = finite_or(f->fitted[t], dflt);
        f->residuals[t] = finite_or(f->residuals[t], 0.0);
    }
    f->alpha = finite_or(f->alpha, 0.0);
    f->beta = finite_or(f->beta, 0.0);
    f->gamma = finite_or(f->gamma, 0.0);
    f->phi = finite_or(f->phi, 1.0);
    f->loglik = finite_or(f->loglik, 0.0);
    f->aicc = finite_or(f->aicc, 0.0);
    f->sigma2 = finite_or(f->sigma2, 0.0);
}

/* ------------------------------------------------------------------ API */

struct kpi_forecast *kpi_forecast_free(struct kpi_forecast *f)
{
    if (!f)
        return NULL;
    free(f->mean);
    free(f->lo80);
    free(f->hi80);
    free(f->lo95);
    free(f->hi95);
    free(f->fitted);
    free(f->residuals);
    if (f->state) {
        free(f->state->sd);
        free(f->state->s);
        free(f->state);
    }
    free(f);
    return NULL;
}

static struct kpi_forecast *forecast_alloc(size_t n, size_t h, size_t m)
{
    struct kpi_forecast *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->n = n;
    f->h = h;
    f->mean = calloc(h, sizeof(double));
    f->lo80 = calloc(h, sizeof(double));
    f->hi80 = calloc(h, sizeof(double));
    f->lo95 = calloc(h, sizeof(double));
    f->hi95 = calloc(h, sizeof(double));
    f->fitted = calloc(n, sizeof(double));
    f->residuals = calloc(n, sizeof(double));
    f->state = calloc(1, sizeof(*f->state));
    if (f->state) {
        f->state->sd = calloc(h, sizeof(double));
        f->state->s = calloc(m, sizeof(double));
    }
    if (!f->mean || !f->lo80 || !f->hi80 || !f->lo95 || !f->hi95 || !f->fitted || !f->residuals || !f->state || !f->state->sd ||
        !f->state->s)
        return kpi_forecast_free(f);
    f->phi = 1.0;
    return f;
}

/* Normal intervals from the mean and the sd of each step. */
static void normal_intervals(struct kpi_forecast *f)
{
    for (size_t i = 0; i < f->h; i++) {
        double sd = f->state->sd[i];
        f->lo80[i] = f->mean[i] - Z80 * sd;
        f->hi80[i] = f->mean[i] + Z80 * sd;
        f->lo95[i] = f->mean[i] - Z95 * sd;
        f->hi95[i] = f->mean[i] + Z95 * sd;
    }
}

/* Naive (n < 3) and mean (constant series) fallbacks. */
static void fallback(struct kpi_forecast *f, const double *y, size_t n, bool naive)
{
    double last = y[n - 1];
    double sigma = naive && n == 2 ? fabs(y[1] - y[0]) : 0.0;

    snprintf(f->method, sizeof(f->method), "%s", naive ? "naive" : "mean");
    if (naive)
        snprintf(f->note, sizeof(f->note), "%s",
                 n == 1 ? "one value: naive forecast (last value), no interval"
                        : "fewer than 3 values: naive forecast (last value)");
    else
        snprintf(f->note, sizeof(f->note), "constant series: mean forecast, zero-width intervals");
    f->sigma2 = sigma * sigma;
    f->state->sigma2 = f->sigma2;
    for (size_t t = 0; t < n; t++) {
        f->fitted[t] = naive ? (t > 0 ? y[t - 1] : y[0]) : last;
        f->residuals[t] = y[t] - f->fitted[t];
    }
    for (size_t i = 0; i < f->h; i++) {
        f->mean[i] = last;
        f->state->sd[i] = sigma * sqrt((double)(i + 1));
    }
    normal_intervals(f);
}

/* A candidate's fit. */
struct cand {
    struct spec sp;
    struct par p;
    double l0, b0, lik, aicc;
    size_t k;
};

int kpi_forecast_fit(const double *y, size_t n, const struct kpi_forecast_options *o, struct kpi_forecast **ret)
{
    struct kpi_forecast *f = NULL;
    double *work = NULL;
    int r = -EINVAL;

    if (!y || !o || !ret || n < 1 || n > KPI_FORECAST_MAX_N || o->horizon < 1 || o->horizon > KPI_FORECAST_MAX_HORIZON ||
        o->season < 0 || o->season > KPI_FORECAST_MAX_SEASON)
        return -EINVAL;
    double ymin = y[0], ymax = y[0], amax = 0.0;
    for (size_t t = 0; t < n; t++) {
        if (!isfinite(y[t]))
            return -EINVAL;
        ymin = fmin(ymin, y[t]);
        ymax = fmax(ymax, y[t]);
        amax = fmax(amax, fabs(y[t]));
    }
    size_t m_series = o->season > 1 ? (size_t)o->season : 1;
    size_t h = (size_t)o->horizon;
    f = forecast_alloc(n, h, m_series);
    if (!f)
        return -ENOMEM;
    f->state->seed = o->seed;
    f->state->sp = (struct spec){ERR_ADD, TREND_NONE, SEASON_NONE, 1};
    f->state->p.phi = 1.0;

    if (n < 3 || ymax - ymin <= 1e-12 * fmax(1.0, amax)) {
        fallback(f, y, n, n < 3);
        goto done;
    }

    work = malloc((n + 2 * m_series) * sizeof(double));
    if (!work) {
        r = -ENOMEM;
        goto fail;
    }
    double mean = 0.0, var = 0.0;
    for (size_t t = 0; t < n; t++)
        mean += y[t];
    mean /= (double)n;
    for (size_t t = 0; t < n; t++)
        var += (y[t] - mean) * (y[t] - mean);
    double sd = sqrt(var / (double)n);

    struct fitctx c = {
        .y = y,
        .n = n,
        .lscale = fmax(sd, 1e-10 * fmax(1.0, amax)),
        .bscale = fmax(sd, 1e-10 * fmax(1.0, amax)) / 10.0,
        .s0 = work + n,
        .sbuf = work + n + m_series,
        .sse_floor = (double)n * (1e-10 * fmax(amax, 1e-300)) * (1e-10 * fmax(amax, 1e-300)),
    };
    bool positive = ymin > 0.0;
    bool seasonal_ok = m_series > 1 && n >= 2 * m_series;
    struct cand best = {.aicc = INFINITY};
    bool any = false, trend_dropped = false;
    for (int err = ERR_ADD; err <= ERR_MUL; err++) {
        for (int season = SEASON_NONE; season <= SEASON_MUL; season++) {
            for (int trend = TREND_NONE; trend <= TREND_DAMPED; trend++) {
                struct spec sp = {err, trend, season, season == SEASON_NONE ? 1 : m_series};
                if (err == ERR_MUL && !positive)
                    continue;
                if (season != SEASON_NONE && !seasonal_ok)
                    continue;
                if (season == SEASON_MUL && err != ERR_MUL)
                    continue;
                size_t k = n_estimated(&sp);
                bool ann = err == ERR_ADD && trend == TREND_NONE && season == SEASON_NONE;
                if (n < k + 2 && !ann) {
                    if (trend != TREND_NONE && season == SEASON_NONE)
                        trend_dropped = true;
                    continue;
                }
                c.sp = sp;
                init_states(y, n, &sp, c.s0, work, &c.l0, &c.b0);
                struct cand cd = {.sp = sp, .k = k};
                cd.lik = fit_model(&c, m_series, &cd.p, &cd.l0, &cd.b0);
                if (cd.lik >= PENALTY)
                    continue;
                double kk = (double)k;
                cd.aicc = n > k + 1 ? cd.lik + 2.0 * kk + 2.0 * kk * (kk + 1.0) / ((double)n - kk - 1.0) : cd.lik + 2.0 * kk;
                if (!any || cd.aicc < best.aicc) {
                    best = cd;
                    any = true;
                }
            }
        }
    }
    if (!any) {
        /* cannot happen (ANN always evaluates), but never leave without an answer */
        fallback(f, y, n, true);
        goto done;
    }

    /* final run of the chosen model: fitted values, residuals, final state */
    struct kpi_forecast_state *st = f->state;
    struct filter_out fo = {0};
    c.sp = best.sp;
    double l0h = 0.0, b0h = 0.0;
    init_states(y, n, &best.sp, c.s0, work, &l0h, &b0h);
    double lik = ets_filter(&best.sp, &best.p, y, n, best.l0, best.b0, c.s0, st->s, c.sse_floor, f->fitted, f->residuals, &fo);
    st->sp = best.sp;
    st->p = best.p;
    st->l = fo.l;
    st->b = fo.b;
    st->next = fo.next;
    st->sigma2 = fo.sse / (double)(n > best.k ? n - best.k : n);

    model_name(&best.sp, f->model);
    snprintf(f->method, sizeof(f->method), "ets");
    if (n < best.k + 2)
        snprintf(f->note, sizeof(f->note), "too short for model selection: simple exponential smoothing (ANN), AIC");
    else if (trend_dropped)
        snprintf(f->note, sizeof(f->note), "too short for trend: non-trended models only");
    else if (m_series > 1 && !seasonal_ok)
        snprintf(f->note, sizeof(f->note), "fewer than 2 full seasons: non-seasonal models only");
    f->alpha = best.p.alpha;
    f->beta = best.sp.trend != TREND_NONE ? best.p.beta : 0.0;
    f->gamma = best.sp.season != SEASON_NONE ? best.p.gamma : 0.0;
    f->phi = best.sp.trend == TREND_DAMPED ? best.p.phi : 1.0;
    f->loglik = -0.5 * lik;
    f->aicc = best.aicc;
    f->sigma2 = st->sigma2;
    for (size_t i = 0; i < h; i++)
        f->mean[i] = point_forecast(st, i + 1);
    if (best.sp.err == ERR_ADD && best.sp.season != SEASON_MUL) {
        analytic_sd(st, h, st->sd);
        normal_intervals(f);
    } else {
        f->simulated = true;
        r = simulate(st, h, visit_intervals, f);
        if (r < 0)
            goto fail;
    }

done:
    tidy_outputs(f, y[n - 1]);
    free(work);
    *ret = f;
    return 0;
fail:
    free(work);
    kpi_forecast_free(f);
    return r;
}

int kpi_forecast_p_target(const struct kpi_forecast *f, size_t step, double target, bool up, double *ret_p)
{
    if (!f || !ret_p || !f->state || step < 1 || step > f->h || !isfinite(target))
        return -EINVAL;
    double p = 0.0;
    if (f->simulated) {
        struct p_count pc = {step, 0, target, up};
        int r = simulate(f->state, step, visit_p, &pc);
        if (r < 0)
            return r;
        p = (double)pc.hits / (double)KPI_FORECAST_SIM_PATHS;
    } else {
        double mu = f->mean[step - 1];
        double sd = f->state->sd[step - 1];
        if (!(sd > 0.0)) {
            p = (up ? mu >= target : mu <= target) ? 1.0 : 0.0;
        } else {
            double z = (target - mu) / sd;
            /* up: P(Y >= target) = Q(z); down: P(Y <= target) = Phi(z) */
            p = up ? 0.5 * erfc(z / M_SQRT2) : 0.5 * erfc(-z / M_SQRT2);
        }
    }
    *ret_p = fmin(1.0, fmax(0.0, p));
    return 0;
}

int kpi_forecast_lik(const double *y, size_t n, const char *model, int season, double alpha, double beta, double gamma, double phi,
                     double *ret_lik)
{
    struct spec sp = {0};
    if (!y || !ret_lik || n < 2 || n > KPI_FORECAST_MAX_N || parse_model(model, &sp) < 0)
        return -EINVAL;
    sp.m = sp.season != SEASON_NONE ? (size_t)(season > 1 ? season : 0) : 1;
    if (sp.m < 1 || sp.m > KPI_FORECAST_MAX_SEASON || (sp.season != SEASON_NONE && (sp.m < 2 || n < 2 * sp.m)))
        return -EINVAL;
    if (!(alpha > 0.0 && alpha < 1.0))
        return -EINVAL;
    if (sp.trend != TREND_NONE && !(beta > 0.0 && beta < alpha))
        return -EINVAL;
    if (sp.season != SEASON_NONE && !(gamma > 0.0 && gamma < 1.0 - alpha))
        return -EINVAL;
    if (sp.trend == TREND_DAMPED && !(phi >= LO_PHI && phi <= HI_PHI))
        return -EINVAL;
    for (size_t t = 0; t < n; t++)
        if (!isfinite(y[t]))
            return -EINVAL;
    double *work = malloc((n + 2 * sp.m) * sizeof(double));
    if (!work)
        return -ENOMEM;
    double l0 = 0.0, b0 = 0.0, amax = 0.0;
    for (size_t t = 0; t < n; t++)
        amax = fmax(amax, fabs(y[t]));
    init_states(y, n, &sp, work + n, work, &l0, &b0);
    struct par p = {alpha, beta, gamma, phi};
    double fl = (1e-10 * fmax(amax, 1e-300));
    double lik = ets_filter(&sp, &p, y, n, l0, b0, work + n, work + n + sp.m, (double)n * fl * fl, NULL, NULL, NULL);
    free(work);
    if (lik >= PENALTY)
        return -EINVAL;
    *ret_lik = lik;
    return 0;
}
