/*
 * Driver analysis (DESIGN.md section 3, "Forecast, anomalies, insights"): which segments (dim
 * values) explain a KPI's change between two periods. Pure computation over per-segment period
 * values; the caller groups the points by segment and period.
 *
 * Rules:
 * - A segment absent from a period (has_before / has_after false) counts as 0 there (sum, count)
 *   or with weight 0 (avg). At least one segment must be present in each period for avg.
 * - sum, count: total = sum of the segment values; a segment's contribution is its delta
 *   after - before.
 * - avg: the KPI value is the weighted mean M = sum(w_i v_i) / sum(w_i), w_i the segment's point
 *   count in that period (weights given, > 0 for every present side) or 1 per present segment
 *   when the caller has no counts (`weighted` false: an approximation of the KPI's value). With
 *   shares s_i = w_i / W, M1 - M0 = sum(s1_i v1_i - s0_i v0_i), split exactly per segment as
 *     rate_i = (s0_i + s1_i) / 2 * (v1_i - v0_i)   (the segment's own value moved)
 *     mix_i  = (vbar_i - Mbar) * (s1_i - s0_i)      (the segment's share moved)
 *   with vbar_i = (v0_i + v1_i) / 2 (the present value on both sides for a segment present in one
 *   period only, whose rate is then 0) and Mbar = (M0 + M1) / 2; subtracting Mbar changes no sum
 *   (the share changes add up to 0) but makes mix read naturally: gaining share in an
 *   above-average segment raises the mean. contribution_i = rate_i + mix_i.
 * - min, max, first, last: not decomposable, -EOPNOTSUPP.
 * - The contributions must add up to total_after - total_before within 1e-9 relative to the
 *   largest of |total_before|, |total_after| and the sum of |contribution| (compensated sums are
 *   used); otherwise -ERANGE (an internal error, never expected). `sum_error` reports the gap.
 * - share_pct = contribution / total change * 100; when the total change is 0, share_pct is 0 and
 *   has_share false. Items are sorted by |contribution| descending, ties by segment label (bytes).
 */
#ifndef KPI_DRIVERS_H
#define KPI_DRIVERS_H

#include <stdbool.h>
#include <stddef.h>

#include "kpi/model.h"

#define KPI_DRIVERS_MAX_SEGMENTS 100000
#define KPI_DRIVERS_MAX_LABEL 1024

struct kpi_driver_input {
    const char *segment; /* label, unique, non-empty, at most KPI_DRIVERS_MAX_LABEL bytes */
    bool has_before;
    double before;
    bool has_after;
    double after;
    double weight_before; /* point counts, avg with `weighted` only */
    double weight_after;
};

struct kpi_driver_options {
    enum kpi_aggregation aggregation;
    bool weighted; /* avg: use weight_before / weight_after */
};

struct kpi_driver {
    char *segment; /* owned copy */
    bool has_before;
    double before;
    bool has_after;
    double after;
    double contribution;
    double rate_effect; /* avg only; sum/count: the contribution */
    double mix_effect;  /* avg only; sum/count: 0 */
    bool has_share;
    double share_pct;
};

struct kpi_driver_result {
    struct kpi_driver *items;
    size_t n_items;
    double total_before; /* the KPI value of each period under its aggregation */
    double total_after;
    double total_change;
    double sum_error; /* |sum(contribution) - total_change| */
};

/* Returns 0 and *ret_result (free with kpi_driver_result_free); -EINVAL for NULL arguments, an
 * empty, too long or duplicate label, a non-finite value, a bad weight, an unknown aggregation;
 * -ENODATA for avg when a period has no segment; -EOPNOTSUPP for min/max/first/last; -E2BIG above
 * KPI_DRIVERS_MAX_SEGMENTS; -ERANGE when totals overflow or the sum check fails; -ENOMEM. */
int kpi_drivers_compute(const struct kpi_driver_input *segments, size_t n, const struct kpi_driver_options *options,
                        struct kpi_driver_result **ret_result);

/* NULL-safe; returns NULL. */
struct kpi_driver_result *kpi_driver_result_free(struct kpi_driver_result *result);

#endif
