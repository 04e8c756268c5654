/*
 * The scorecard: every KPI judged as of a day — status, trend, a sparkline of its last periods,
 * health rolled up the cascade and per team, and whether it is due for review. Backend-independent
 * composition of the evaluator (evaluate.h) and the core's judging code (kpi/status.h), shared by
 * `kpi status`, `kpi tree` and later the HTTP API.
 */
#ifndef KPI_STORE_SCORECARD_H
#define KPI_STORE_SCORECARD_H

#include "kpi/status.h"
#include "store/evaluate.h"

#define KPI_SPARK_PERIODS 12

struct kpi_scorecard_entry {
    const struct kpi_def *def;
    struct kpi_status_result status;
    struct kpi_opt spark[KPI_SPARK_PERIODS]; /* the last periods up to the current one, oldest first */
    size_t n_spark;
    struct kpi_opt health;
    int64_t last_review_day; /* INT64_MIN: never reviewed */
    bool due_for_review;
    char error[KPI_DIAG_MAX]; /* non-empty when the KPI could not be judged (e.g. a bad formula) */
};

struct kpi_team_health {
    char team[KPI_TEAM_MAX + 1];
    struct kpi_opt health;
    size_t n_kpis;
};

struct kpi_scorecard {
    int64_t as_of_day;
    struct kpi_def *defs; /* every KPI, archived ones excluded */
    size_t n_defs;
    struct kpi_scorecard_entry *entries; /* one per def, same order (by key) */
    struct kpi_team_health *teams;
    size_t n_teams;
};

int kpi_scorecard_build(struct kpi_store *s, const struct kpi_calendar *cal, int64_t as_of_day,
                        struct kpi_scorecard **ret_scorecard, struct kpi_diag *diag);
struct kpi_scorecard *kpi_scorecard_free(struct kpi_scorecard *sc);

/* Whether a KPI reviewed last on last_day (INT64_MIN: never) is due for review on day, per its
 * cadence: weekly when the last review is 7 or more days old, monthly when it is a calendar month
 * or more old, quarterly three months. */
bool kpi_review_due(enum kpi_cadence cadence, int64_t last_day, int64_t day);

#endif
