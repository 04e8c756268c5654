/*
 * Lagged cross-correlation of two period series (include/kpi/correlate.h states the rules):
 * optional first differencing, Pearson's r per lag over the pairs present on both sides, a
 * significance flag per lag and the best lag with the series that moves first. No I/O; the words
 * are "leads" and "correlation", never cause.
 */
#include "kpi/correlate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TIE_EPS 1e-12

void kpi_correlate_options_init(struct kpi_correlate_options *options)
{
    if (options == NULL)
        return;
    options->max_lag = KPI_CORRELATE_DEFAULT_LAG;
    options->differences = true;
}

/* Copies x (or its first differences) into out/out_has. */
static void prepare(const double *x, const bool *has, size_t n, bool differences, double *out, bool *out_has)
{
    for (size_t t = 0; t < n; t++) {
        bool here = has == NULL || has[t];
        if (!differences) {
            out_has[t] = here;
            out[t] = here ? x[t] : 0.0;
            continue;
        }
        bool prev = t > 0 && (has == NULL || has[t - 1]);
        out_has[t] = here && prev;
        out[t] = out_has[t] ? x[t] - x[t - 1] : 0.0;
        if (out_has[t] && !isfinite(out[t]))
            out_has[t] = false;
    }
}

static void correlate_lag(const double *a, const bool *a_has, const double *b, const bool *b_has, size_t n, int lag,
                          struct kpi_correlate_lag *out)
{
    size_t start = lag < 0 ? (size_t)(-lag) : 0;
    size_t m = 0;
    double sa = 0.0;
    double sb = 0.0;

    out->lag = lag;
    out->has_r = false;
    out->r = 0.0;
    out->n_pairs = 0;
    out->significant = false;

    for (size_t t = start; t < n; t++) {
        size_t u = (size_t)((long long)t + lag);
        if (u >= n)
            break;
        if (!a_has[t] || !b_has[u])
            continue;
        m++;
        sa += a[t];
        sb += b[u];
    }
    out->n_pairs = m;
    if (m < 3)
        return;
    double ma = sa / (double)m;
    double mb = sb / (double)m;
    double sab = 0.0;
    double saa = 0.0;
    double sbb = 0.0;
    for (size_t t = start; t < n; t++) {
        size_t u = (size_t)((long long)t + lag);
        if (u >= n)
            break;
        if (!a_has[t] || !b_has[u])
            continue;
        double da = a[t] - ma;
        double db = b[u] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (!(saa > 0.0) || !(sbb > 0.0))
        return;
    double r = sab / (sqrt(saa) * sqrt(sbb));
    if (!isfinite(r))
        return;
    if (r > 1.0)
        r = 1.0;
    if (r < -1.0)
        r = -1.0;
    out->has_r = true;
    out->r = r;
    out->significant = m >= KPI_CORRELATE_MIN_PAIRS && fabs(r) > 2.0 / sqrt((double)m);
}

/* true when candidate c beats the current best b. */
static bool better(const struct kpi_correlate_lag *c, const struct kpi_correlate_lag *b)
{
    double ac = fabs(c->r);
    double ab = fabs(b->r);
    if (ac > ab + TIE_EPS)
        return true;
    if (ac < ab - TIE_EPS)
        return false;
    int lc = abs(c->lag);
    int lb = abs(b->lag);
    if (lc != lb)
        return lc < lb;
    return c->lag > b->lag;
}

int kpi_correlate_compute(const double *a, const bool *a_has, const double *b, const bool *b_has, size_t n,
                          const struct kpi_correlate_options *options, struct kpi_correlate_result *ret_result)
{
    struct kpi_correlate_options opts;
    double *xa = NULL;
    double *xb = NULL;
    bool *ha = NULL;
    bool *hb = NULL;
    int r = 0;

    kpi_correlate_options_init(&opts);
    if (options != NULL)
        opts = *options;
    if (ret_result == NULL || (n > 0 && (a == NULL || b == NULL)))
        return -EINVAL;
    if (opts.max_lag < 0 || opts.max_lag > KPI_CORRELATE_MAX_LAG)
        return -EINVAL;
    if (n > KPI_CORRELATE_MAX_POINTS)
        return -E2BIG;
    for (size_t t = 0; t < n; t++) {
        if ((a_has == NULL || a_has[t]) && !isfinite(a[t]))
            return -EINVAL;
        if ((b_has == NULL || b_has[t]) && !isfinite(b[t]))
            return -EINVAL;
    }

    size_t cap = n > 0 ? n : 1;
    xa = malloc(cap * sizeof(*xa));
    xb = malloc(cap * sizeof(*xb));
    ha = malloc(cap * sizeof(*ha));
    hb = malloc(cap * sizeof(*hb));
    if (xa == NULL || xb == NULL || ha == NULL || hb == NULL) {
        r = -ENOMEM;
        goto out;
    }
    prepare(a, a_has, n, opts.differences, xa, ha);
    prepare(b, b_has, n, opts.differences, xb, hb);

    struct kpi_correlate_result res;
    memset(&res, 0, sizeof(res));
    res.leader = KPI_CORRELATE_NONE;
    const struct kpi_correlate_lag *best = NULL;
    for (int k = -opts.max_lag; k <= opts.max_lag; k++) {
        struct kpi_correlate_lag *l = &res.lags[res.n_lags++];
        correlate_lag(xa, ha, xb, hb, n, k, l);
        if (l->significant && (best == NULL || better(l, best)))
            best = l;
    }
    if (best != NULL) {
        res.has_best = true;
        res.best_lag = best->lag;
        res.best_r = best->r;
        res.best_n_pairs = best->n_pairs;
        if (best->lag > 0)
            res.leader = KPI_CORRELATE_A_LEADS;
        else if (best->lag < 0)
            res.leader = KPI_CORRELATE_B_LEADS;
        else
            res.leader = KPI_CORRELATE_TOGETHER;
    }
    *ret_result = res;
out:
    free(xa);
    free(xb);
    free(ha);
    free(hb);
    return r;
}
