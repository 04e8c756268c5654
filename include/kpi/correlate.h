/*
 * Lagged cross-correlation between two KPIs' period series (DESIGN.md section 3 and issue 4,
 * "Correlation"): how strongly, and at which lag, one series moves with the other. It measures
 * association only; nothing here says, or is named as if, one KPI causes the other.
 *
 * Rules:
 * - Inputs: two series a and b of n aligned periods with has-value flags (NULL flags: every value
 *   present). A present value must be finite.
 * - differences (default on): each series is replaced by its first differences x[t] - x[t-1],
 *   present when both periods are (none at t = 0), so that two series that merely share a trend
 *   do not look correlated. Off: the levels are used. Differencing suits persistent, trending
 *   series (most KPIs), whose differences are close to white noise; on a series that is already
 *   white noise it makes neighbouring values negatively correlated, and the bound below is then
 *   too loose (Bartlett: the variance of r grows to about 1.5 / n_pairs).
 * - Lag k in -L..+L (0 <= L <= KPI_CORRELATE_MAX_LAG) pairs a[t] with b[t + k] for every t where
 *   both are present; r is Pearson's correlation over those n_pairs pairs (has_r false when
 *   n_pairs < 3 or either side is constant; r is then 0).
 * - significant: n_pairs >= 8 and |r| > 2 / sqrt(n_pairs) (the usual approximate 95% bound for
 *   white noise). Each lag is tested on its own: with 2L + 1 lags a few spurious flags are
 *   expected among unrelated series, so callers should prefer small L.
 * - Best lag: among significant lags, the largest |r|, ties (within 1e-12) to the smallest |lag|,
 *   then to the positive lag. Leader: best lag k > 0 means a's movements come k periods before b's
 *   (KPI_CORRELATE_A_LEADS); k < 0, b's come first; k = 0, together. No significant lag: has_best
 *   false, leader KPI_CORRELATE_NONE.
 */
#ifndef KPI_CORRELATE_H
#define KPI_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>

#define KPI_CORRELATE_MAX_LAG 24
#define KPI_CORRELATE_DEFAULT_LAG 12
#define KPI_CORRELATE_MIN_PAIRS 8
#define KPI_CORRELATE_MAX_POINTS 100000

enum kpi_correlate_leader {
    KPI_CORRELATE_NONE,     /* no significant lag */
    KPI_CORRELATE_TOGETHER, /* best lag 0 */
    KPI_CORRELATE_A_LEADS,  /* best lag > 0 */
    KPI_CORRELATE_B_LEADS,  /* best lag < 0 */
};

struct kpi_correlate_options {
    int max_lag;      /* L */
    bool differences; /* correlate first differences */
};

/* {KPI_CORRELATE_DEFAULT_LAG, true} */
void kpi_correlate_options_init(struct kpi_correlate_options *options);

struct kpi_correlate_lag {
    int lag;
    bool has_r;
    double r;
    size_t n_pairs;
    bool significant;
};

struct kpi_correlate_result {
    struct kpi_correlate_lag lags[2 * KPI_CORRELATE_MAX_LAG + 1]; /* lag -L..+L in order */
    size_t n_lags;                                                /* 2L + 1 */
    bool has_best;
    int best_lag;
    double best_r;
    size_t best_n_pairs;
    enum kpi_correlate_leader leader;
};

/* options NULL means the defaults. Returns 0 and fills *ret_result; -EINVAL for NULL series with
 * n > 0, a non-finite present value, max_lag outside 0..KPI_CORRELATE_MAX_LAG; -E2BIG above
 * KPI_CORRELATE_MAX_POINTS; -ENOMEM. */
int kpi_correlate_compute(const double *a, const bool *a_has, const double *b, const bool *b_has, size_t n,
                          const struct kpi_correlate_options *options, struct kpi_correlate_result *ret_result);

#endif
