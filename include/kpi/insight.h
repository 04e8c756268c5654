/*
 * Insights: short, deterministic sentences about a KPI or a scorecard, built only from numbers the
 * system already computed (status, trend, forecast), so the same data always gives the same words:
 *
 *   "Net revenue retention fell 3 months in a row; at this pace the 2026-12-31 target of 110% will
 *    be missed (p = 0.18)."
 *
 * Rules, in order (a sentence is made of the first clause that applies, then the forecast clause):
 * - no data: "<name> has no data yet."
 * - a streak of 2 or more periods moving the bad way: "<name> fell|rose N <periods> in a row" (fell
 *   for up KPIs, rose for down KPIs; "moved away from its range" for range KPIs);
 * - else by status: on track "<name> is on track", at risk "<name> is at risk", off track "<name> is
 *   off track", each followed by " (<value> against <expected> expected for <period>)" when known;
 *   no target: "<name> is <value> in <period> and has no target";
 * - then, with a forecast probability p of meeting the target: "; at this pace the <date> target of
 *   <value> will be met (p = 0.82)" when p >= 0.5, else "will be missed (p = 0.18)";
 * - then " Data is stale: the last complete <period> has no data." when stale.
 * Values are formatted with the KPI's format, unit and decimals; p with two decimals.
 */
#ifndef KPI_INSIGHT_H
#define KPI_INSIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "kpi/model.h"
#include "kpi/period.h"
#include "kpi/status.h"

#define KPI_INSIGHT_MAX 512

struct kpi_insight_input {
    const struct kpi_calendar *cal;
    const struct kpi_def *def;
    const struct kpi_status_result *status;
    /* Optional: the probability of meeting `target` at its date (from a forecast). */
    const struct kpi_target *target;
    bool has_p;
    double p;
};

/* Writes the sentence for one KPI into buf (truncated to size, always terminated). */
int kpi_insight_kpi(const struct kpi_insight_input *in, char *buf, size_t size);

/* One line for a scorecard: "12 KPIs: 7 on track, 2 at risk (a, b), 3 off track (c, d, e), 1 without
 * target." Lists at most 5 keys per status, then "and N more". */
int kpi_insight_scorecard(const struct kpi_def *const *defs, const enum kpi_status *statuses, size_t n, char *buf, size_t size);

#endif
