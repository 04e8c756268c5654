/*
 * Analysis of KPIs as of a day: forecasts with their probability of meeting the next target,
 * anomalies, drivers of a change between two periods, correlations with other KPIs, and the
 * scorecard in sentences (insights). Backend-independent composition of the evaluator (evaluate.h),
 * the scorecard (scorecard.h) and the pure computations of the core (kpi/forecast.h,
 * kpi/anomaly.h, kpi/drivers.h, kpi/correlate.h, kpi/insight.h), shared by the CLI (`kpi forecast`,
 * `anomalies`, `drivers`, `correlate`, `insights`) and the HTTP API, which render the results
 * (text, or the JSON of json/json.h).
 *
 * History of forecasts and anomalies: a KPI's period values at its granularity up to the as-of
 * day; trailing periods without data are dropped, so is an unfinished last period of a measured sum
 * or count KPI (its partial total would read as a collapse); gaps inside the history are filled by
 * linear interpolation (n_filled says how many).
 *
 * Errors: 0 or a negative code with diag filled: -ENOENT for an unknown KPI; -EINVAL for a bad
 * parameter, the message naming it ("horizon: ...", "from: ...", "with: ..."); -ENODATA when the
 * KPI has no data to analyse; -EOPNOTSUPP when the KPI cannot be analysed that way (drivers of a
 * derived KPI or of a min/max aggregation); -E2BIG past a limit; -EDOM when a computation rejects
 * the KPI's own data (never -EINVAL, which is kept for the caller's parameters); else the store's
 * or the allocator's code. Results are freed with their *_free function (NULL-safe, returns NULL).
 */
#ifndef KPI_STORE_ANALYSIS_H
#define KPI_STORE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi/anomaly.h"
#include "kpi/drivers.h"
#include "kpi/forecast.h"
#include "kpi/insight.h"
#include "kpi/period.h"
#include "kpi/status.h"
#include "store/evaluate.h"
#include "store/scorecard.h"

#define KPI_ANALYSIS_DEFAULT_HORIZON 12
/* Seed of the simulated forecast intervals: the same data gives the same answer. */
#define KPI_ANALYSIS_SEED UINT64_C(20261123)

/* A KPI's prepared history (see the file comment). */
struct kpi_analysis_history {
    const struct kpi_def *def;
    int64_t as_of_day;
    struct kpi_period *periods; /* n */
    double *y;                  /* n, gaps filled */
    size_t n;
    size_t n_filled;   /* interior periods without data, interpolated */
    bool dropped_last; /* the unfinished last sum/count period is left out */
};

/* ---- forecast */

struct kpi_analysis_p_target {
    double value; /* the target */
    int64_t day;  /* its date */
    double probability;
};

struct kpi_forecast_report {
    struct kpi_analysis_history history;
    int season;                    /* season length the models were fitted with (1: none) */
    struct kpi_forecast *forecast; /* forecast->h steps */
    struct kpi_period *periods;    /* forecast->h: periods[i] is step i + 1 */
    bool has_p_target;             /* the latest up/down target due within the horizon */
    struct kpi_analysis_p_target p_target;
    /* owned by the report */
    struct kpi_def *defs;
    size_t n_defs;
    struct kpi_eval *ev;
};

/* Forecast of KPI key for horizon periods (1..KPI_FORECAST_MAX_HORIZON) after its history as of
 * as_of_day. */
int kpi_analysis_forecast(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, int horizon, int64_t as_of_day,
                          struct kpi_forecast_report **ret_report, struct kpi_diag *diag);
struct kpi_forecast_report *kpi_forecast_report_free(struct kpi_forecast_report *r);

/* ---- anomalies */

struct kpi_anomalies_report {
    struct kpi_analysis_history history;
    int season;
    struct kpi_forecast *model;        /* the fitted model: model->fitted[i] per history period */
    struct kpi_anomaly_result *result; /* items index history.periods / history.y */
    /* owned by the report */
    struct kpi_def *defs;
    size_t n_defs;
    struct kpi_eval *ev;
};

/* The periods of KPI key's history as of as_of_day whose residual from the model's one-step fits
 * lies beyond the robust bound; sensitivity (finite, > 0) is the bound in scale units
 * (KPI_ANOMALY_DEFAULT_SENSITIVITY). */
int kpi_analysis_anomalies(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, double sensitivity,
                           int64_t as_of_day, struct kpi_anomalies_report **ret_report, struct kpi_diag *diag);
struct kpi_anomalies_report *kpi_anomalies_report_free(struct kpi_anomalies_report *r);

/* ---- drivers */

struct kpi_drivers_report {
    struct kpi_def def;
    char dim[KPI_KEY_MAX + 1];       /* the dimension the change is split by */
    struct kpi_period periods[2];    /* before, after */
    char from[KPI_PERIOD_LABEL_MAX]; /* their labels */
    char to[KPI_PERIOD_LABEL_MAX];
    const char *aggregation;          /* the KPI's aggregation by name */
    struct kpi_driver_result *result; /* one item per value of dim ("(none)" for points without it) */
};

/* Splits the change of measured KPI key between the periods from and to (labels such as 2026-03,
 * 2026-Q1, 2026-W05, or dates: the KPI's period holding that day; from not after to) into the
 * contributions of the values of dimension dim (NULL: the first dim name, in byte order, the
 * points of these periods carry). */
int kpi_analysis_drivers(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, const char *from, const char *to,
                         const char *dim, struct kpi_drivers_report **ret_report, struct kpi_diag *diag);
struct kpi_drivers_report *kpi_drivers_report_free(struct kpi_drivers_report *r);

/* ---- correlate */

struct kpi_analysis_pair {
    const struct kpi_def *other;
    int lag; /* > 0: the KPI's changes come lag periods before the other's */
    double r;
    size_t n_pairs;
    const char *leader; /* the KPI's key, the other's key, or "together" */
};

struct kpi_correlate_report {
    const struct kpi_def *def;
    enum kpi_granularity granularity;
    int max_lag;
    size_t compared;                 /* KPIs compared */
    struct kpi_analysis_pair *pairs; /* the significant ones, strongest first (ties by key) */
    size_t n_pairs;
    /* owned by the report */
    struct kpi_def *defs;
    size_t n_defs;
    struct kpi_eval *ev;
};

/* Compares the period-to-period changes of KPI key with those of KPI with (NULL: every other
 * non-archived KPI of the same granularity) at lags -max_lag..+max_lag (0..KPI_CORRELATE_MAX_LAG),
 * over the periods of key's data as of as_of_day (KPI_DAY_MAX: all of it). An unknown with or
 * with naming key itself is -EINVAL. */
int kpi_analysis_correlate(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, const char *with, int max_lag,
                           int64_t as_of_day, struct kpi_correlate_report **ret_report, struct kpi_diag *diag);
struct kpi_correlate_report *kpi_correlate_report_free(struct kpi_correlate_report *r);

/* ---- insights */

struct kpi_analysis_insight {
    const struct kpi_def *def;
    enum kpi_status status;
    char text[KPI_INSIGHT_MAX];
    bool has_p; /* p: the probability of meeting the next target, from its forecast */
    double p;
};

struct kpi_insights_report {
    int64_t as_of_day;
    char summary[KPI_INSIGHT_MAX];      /* the scorecard in one sentence */
    struct kpi_analysis_insight *items; /* most urgent first: off track, at risk, on track, the rest; by key */
    size_t n_items;
    struct kpi_scorecard *scorecard; /* owned by the report */
};

/* One sentence per non-archived KPI (of team, NULL: all) as of as_of_day. */
int kpi_analysis_insights(struct kpi_store *s, const struct kpi_calendar *cal, const char *team, int64_t as_of_day,
                          struct kpi_insights_report **ret_report, struct kpi_diag *diag);
struct kpi_insights_report *kpi_insights_report_free(struct kpi_insights_report *r);

#endif
