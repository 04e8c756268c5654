/*
 * Judging a KPI: targets, expected value, status, progress, trend and health (DESIGN.md section 3,
 * "Targets and status"). Pure computation over period values; the exact rules, including the
 * corners DESIGN.md leaves open, are stated here and in docs/semantics.md, and every one is a case
 * of tests/data/status.txt.
 *
 * Inputs are the KPI's period values at its granularity, from any start up to and including the
 * period that contains the as-of day (the "current" period, possibly unfinished). A period "has
 * data" when it holds at least one point (n_points > 0; derived KPIs set n_points to 1 when the
 * formula gave a value).
 *
 * Rules:
 * - Judged period: the latest period with data (it may be the current one). None: status no_data,
 *   every other field null, stale true.
 * - Target choice: the target whose [baseline_date, date] contains the judged period's last day te
 *   (when several do, the one with the latest baseline_date); else the latest target whose date is
 *   before te; else the earliest target (whose baseline_date is after te). No target: status
 *   no_target, value/period/trend still given.
 * - Expected (up/down): e = b + (T - b) * clamp((te - t0) / (t1 - t0), 0, 1), days as day numbers.
 * - Pacing: when the judged period is the current, unfinished one (as-of day before its last day)
 *   and the aggregation is sum or count, expected = e * elapsed / days_in_period with elapsed = as_of
 *   - first_day + 1 (the as-of day counts as elapsed). The tolerance is not scaled.
 * - Tolerance: tol = at_risk_pct / 100 * |T - b|, or * |T| when T = b.
 * - Status up: on_track if v >= e, at_risk if v >= e - tol, else off_track; down mirrored (v <= e,
 *   v <= e + tol). Range: on_track if low <= v <= high, at_risk if outside by at most
 *   at_risk_pct / 100 * (high - low) (or * |high| when low = high), else off_track; range targets
 *   are not paced and have no expected value or progress.
 * - Progress: (v - b) / (T - b) * 100; null when T = b.
 * - Stale: true when the last complete period (the one before the current period) has no data.
 * - Trend: change_abs = v - v_prev with v_prev the value of the period just before the judged one
 *   (null without one); change_pct = change_abs / |v_prev| * 100 (null when v_prev is 0 or null);
 *   yoy_pct likewise against the period containing the same calendar day one year before the judged
 *   period's first day (29 February -> 28 February); improving: up: change_abs > 0, down:
 *   change_abs < 0, range: the distance to [low, high] shrank (null without a range target);
 *   streak: the number of consecutive period-to-period moves the bad way ending at the judged
 *   period (up: decreases, down: increases, range: distance grows; a period without data ends it).
 * - Score: on_track 100, at_risk 50, off_track 0, none for no_target and no_data.
 *
 * Corners settled by the implementation (each a case of tests/data/status.txt or test_status.c):
 * - Rows starting after the current period are ignored, so an as-of day before every row gives
 *   no_data. A row counts as data only when it also has a finite value. With no_data, improving is
 *   -1, streak 0, score none and applied NULL.
 * - Target choice ties: among covering targets with the same baseline_date, the one ending first;
 *   among past ones with the same date, the latest baseline_date; among future ones, the earliest
 *   baseline_date, then the one ending first; then array order.
 * - Range KPIs: target, expected and progress are null and low/high carry the applied target's
 *   bounds; improving and streak measure distances to that same [low, high] for every period.
 * - Pacing applies only to the current period (a judged older period is complete) and only with an
 *   up/down target; `paced` says whether it did. No target: expected, target and progress null.
 * - Previous period (change, improving, streak): the adjacent row, and only when it has data, so a
 *   count KPI's empty period (value 0, no point) gives no change. improving is -1 without a change.
 * - Stale: when rows start at the current period, the last complete period has no data: stale.
 * - yoy: the day a year before is kpi_days_from_civil(y - 1, m, min(d, days in that month)); for
 *   weeks this can be a different week number (2026-W02 -> 2025-W01); none before year 2.
 * - Validation checks, in order: baseline finite; baseline_date and date within 0001..9999; date
 *   after baseline_date; value finite (up/down) or low, high finite and low <= high (range);
 *   at_risk_pct in [0, 1000].
 * - kpi_status_compute returns -EINVAL for NULL arguments, rows not in increasing order or of
 *   another granularity, an unknown direction or aggregation; -ERANGE for an as-of day outside the
 *   calendar. Nothing is rounded.
 */
#ifndef KPI_STATUS_H
#define KPI_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi/model.h"
#include "kpi/period.h"
#include "kpi/series.h"

#define KPI_AT_RISK_PCT_DEFAULT 10.0

struct kpi_target {
    int64_t id;
    double baseline;
    int64_t baseline_day; /* t0, day number */
    double value;         /* T (up/down) */
    int64_t day;          /* t1, day number; > baseline_day */
    double low, high;     /* range KPIs */
    double at_risk_pct;   /* >= 0 */
};

enum kpi_status {
    KPI_STATUS_ON_TRACK,
    KPI_STATUS_AT_RISK,
    KPI_STATUS_OFF_TRACK,
    KPI_STATUS_NO_TARGET,
    KPI_STATUS_NO_DATA,
    KPI_STATUS__COUNT,
};

const char *kpi_status_name(enum kpi_status s);

/* A double that may be absent (JSON null). */
struct kpi_opt {
    bool has;
    double v;
};

struct kpi_status_result {
    enum kpi_status status;
    bool has_period;
    struct kpi_period period; /* the judged period */
    bool paced;               /* expected was scaled for the unfinished period */
    struct kpi_opt value, expected, target, low, high, progress;
    bool stale;
    struct kpi_opt change_abs, change_pct, yoy_pct;
    int improving; /* -1 unknown (null), 0 false, 1 true */
    int streak;
    struct kpi_opt score;             /* 100, 50, 0 or none */
    const struct kpi_target *applied; /* the target used, NULL without one */
};

/* Validates a target for a KPI of the given direction: date after baseline_date, low <= high for
 * range, at_risk_pct in [0, 1000], finite numbers. The diagnostic names the field. */
int kpi_target_validate(const struct kpi_target *t, enum kpi_direction dir, struct kpi_diag *diag);

/* Chooses the target for a judged period ending on te (rules above); NULL when n == 0. */
const struct kpi_target *kpi_target_choose(const struct kpi_target *targets, size_t n, int64_t te);

/* Judges a KPI as of as_of_day. rows: consecutive periods of the KPI's granularity ending with the
 * period that contains as_of_day (rows may be empty). */
int kpi_status_compute(const struct kpi_calendar *cal, const struct kpi_def *d, const struct kpi_target *targets, size_t n_targets,
                       const struct kpi_series_row *rows, size_t n_rows, int64_t as_of_day, struct kpi_status_result *ret_result);

/* Health roll-up over the cascade. Each node has its own score (or none), a weight in its parent's
 * roll-up, and a parent index (-1 for a root). A node's health is the weighted mean of its own
 * score (weight 1) and its children's health (their weights); nodes without a score or health are
 * left out of the mean; a node with neither has no health. Cycles are impossible (the store
 * refuses them) but are cut defensively: a parent out of range or the node itself makes a root, and
 * a walk up from each node (in index order) that comes back onto itself loses its closing link. A
 * child whose weight is not finite or not > 0, or a score that is not finite, is left out. Iterative
 * (leaves first), so depth costs no stack. -EINVAL for NULL nodes with n > 0, -ENOMEM. */
struct kpi_health_node {
    struct kpi_opt score;
    double weight;
    ptrdiff_t parent;
    struct kpi_opt health; /* output */
};
int kpi_health_rollup(struct kpi_health_node *nodes, size_t n);

#endif
