/*
 * JSON mapping: kpi's model to and from JSON text. The only code that includes jansson.h; callers
 * get text in a bounded buffer and never see a jansson type. Field names are those of DESIGN.md
 * section 3, the same in JSON, YAML and `--json` output.
 */
#ifndef KPI_JSON_H
#define KPI_JSON_H

#include <stddef.h>

#include "base/buf.h"
#include "kpi/model.h"
#include "kpi/series.h"
#include "store/scorecard.h"
#include "store/ingest.h"
#include "store/store.h"

/* Formatting of whole documents: pretty (indented) for people, compact for machines. */
enum kpi_json_style { KPI_JSON_PRETTY, KPI_JSON_COMPACT };

int kpi_json_def(struct kpi_buf *out, const struct kpi_def *d, enum kpi_json_style style);
int kpi_json_defs(struct kpi_buf *out, const struct kpi_def *defs, size_t n, enum kpi_json_style style);
/* The targets of a KPI as an array (the "targets" field of kpi_json_def). */
int kpi_json_targets(struct kpi_buf *out, const struct kpi_def *d, enum kpi_json_style style);
int kpi_json_org(struct kpi_buf *out, const struct kpi_org *org, enum kpi_json_style style);
/* Series rows: [{period, start, end, value, points}], value null for an empty period; with reasons
 * (derived KPIs), a period without a value also carries "reason". */
int kpi_json_series(struct kpi_buf *out, const struct kpi_calendar *cal, const char *key, const char *granularity,
                    const struct kpi_series_row *rows, size_t n, const char (*reasons)[KPI_EVAL_REASON_MAX],
                    enum kpi_json_style style);
/* The latest period value of each KPI: [{kpi, name, period, value, points}], period and value null
 * for a KPI without data. rows[i] belongs to defs[i]; has_value false means no data. */
int kpi_json_latest(struct kpi_buf *out, const struct kpi_calendar *cal, const struct kpi_def *defs,
                    const struct kpi_series_row *rows, size_t n, enum kpi_json_style style);

/* Reviews, action items and annotations as arrays, dates as YYYY-MM-DD. */
int kpi_json_reviews(struct kpi_buf *out, const struct kpi_review *r, size_t n, enum kpi_json_style style);
int kpi_json_actions(struct kpi_buf *out, const struct kpi_action *a, size_t n, enum kpi_json_style style);
int kpi_json_annotations(struct kpi_buf *out, const struct kpi_annotation *a, size_t n, enum kpi_json_style style);

/* One judged KPI: DESIGN.md's status object {kpi, period, value, expected, target, progress, status,
 * stale, change_abs, change_pct, yoy_pct, improving, streak} plus name, team, owner, tier, low,
 * high, paced, health, sparkline, last_review, due_for_review and error. */
int kpi_json_status(struct kpi_buf *out, const struct kpi_calendar *cal, const struct kpi_scorecard_entry *e,
                    enum kpi_json_style style);
/* {as_of, kpis: [status...], teams: [{team, health, kpis}]}; include[i] selects entries. */
int kpi_json_scorecard(struct kpi_buf *out, const struct kpi_calendar *cal, const struct kpi_scorecard *sc, const bool *include,
                       enum kpi_json_style style);

/* One insight of `kpi insights`. */
struct kpi_json_insight {
    const char *kpi;
    enum kpi_status status;
    char text[512];
    bool has_p;
    double p;
};
/* {as_of, summary, kpis: [{kpi, status, text, p_target}]} */
int kpi_json_insights(struct kpi_buf *out, int64_t as_of_day, const char *summary, const struct kpi_json_insight *items, size_t n,
                      enum kpi_json_style style);

/* One point as a compact object {"kpi","at","value","dims"} (for export, one per line). */
int kpi_json_point(struct kpi_buf *out, const char *key, const char *at, double value, const char *dims_canon);

/* Reading points: a JSON array of {"kpi", "at", "value", "dims"} objects (what kpi_json_point
 * writes), streamed through a read function so that the document is never held whole. Each item
 * is at most KPI_JSON_POINT_ITEM_MAX bytes and must have exactly that shape: kpi and at strings,
 * value a number, dims (optional) an object of strings. Errors carry the 1-based item index as
 * their line. kpi_json_points_next is a kpi_ingest_next_fn over the reader. */
#define KPI_JSON_POINT_ITEM_MAX (64 * 1024)
struct kpi_json_points;
int kpi_json_points_new(kpi_csv_read_fn read, void *read_ctx, struct kpi_json_points **ret_reader);
struct kpi_json_points *kpi_json_points_free(struct kpi_json_points *p);
int kpi_json_points_next(void *reader, struct kpi_ingest_row *ret_row, struct kpi_ingest_report *rep);
/* Input bytes consumed so far. */
uint64_t kpi_json_points_offset(const struct kpi_json_points *p);
/* Reads the points of one KPI (POST /api/v1/kpis/{key}/points): items may omit "kpi" (key is
 * used), and an item whose "kpi" is another key is rejected. NULL restores the default. */
void kpi_json_points_set_kpi(struct kpi_json_points *p, const char *key);
/* For tests and benchmarks: items of the ordinary shape are decoded by a hand-written fast path
 * (on by default) that gives the same rows and errors as jansson's; off, every item goes through
 * jansson. kpi_json_points_fast_items counts the items the fast path decoded. */
void kpi_json_points_set_fast(struct kpi_json_points *p, bool on);
uint64_t kpi_json_points_fast_items(const struct kpi_json_points *p);
/* Imports such an array, all or nothing, as kpi_ingest_csv does for CSV. */
int kpi_json_points_import(struct kpi_store *s, const struct kpi_calendar *cal, kpi_csv_read_fn read, void *read_ctx,
                           kpi_ingest_progress_fn progress, void *progress_ctx, struct kpi_ingest_report *ret_report,
                           struct kpi_diag *diag);

/* Forecasts, anomalies, drivers and correlations (issue 4). Periods are given by the caller, one per
 * row; every non-finite number is written as null. */
struct kpi_forecast;
struct kpi_anomaly_result;
struct kpi_driver_result;

/* The probability of meeting a target at its date, for kpi_json_forecast. */
struct kpi_json_p_target {
    double value;
    int64_t day;
    double probability;
};
/* {kpi, model, method, note, alpha, beta, gamma, phi, aicc, sigma2, rows: [{period, start, end, mean,
 * lo80, hi80, lo95, hi95}], p_target: {value, date, probability} or null}; periods[i] is step i + 1. */
int kpi_json_forecast(struct kpi_buf *out, const struct kpi_calendar *cal, const char *key, const struct kpi_forecast *f,
                      const struct kpi_period *periods, const struct kpi_json_p_target *p_target, enum kpi_json_style style);
/* {kpi, model, method, sensitivity, centre, scale, lower, upper, points, anomalies: [{period, start,
 * end, value, expected, residual, z, direction}]}; periods[i], y[i] and fitted[i] per history point. */
int kpi_json_anomalies(struct kpi_buf *out, const struct kpi_calendar *cal, const char *key, const struct kpi_forecast *f,
                       const struct kpi_period *periods, const double *y, const struct kpi_anomaly_result *res,
                       enum kpi_json_style style);
/* {kpi, dim, from, to, aggregation, total_before, total_after, total_change, sum_error,
 * contributions_sum_to_change, segments: [{segment, before, after, contribution, rate_effect,
 * mix_effect, share_pct}]} (before/after null for an absent segment, share_pct null without a share). */
int kpi_json_drivers(struct kpi_buf *out, const char *key, const char *dim, const char *from, const char *to,
                     const char *aggregation, const struct kpi_driver_result *res, enum kpi_json_style style);
/* One correlated pair for kpi_json_correlate. */
struct kpi_json_pair {
    const char *other;
    int lag;
    double r;
    size_t n_pairs;
    const char *leader; /* KEY, the other key, or "together" */
};
/* {kpi, granularity, max_lag, compared, pairs: [{kpi, lag, r, n_pairs, leader}], note}. */
int kpi_json_correlate(struct kpi_buf *out, const char *key, const char *granularity, int max_lag, size_t compared,
                       const struct kpi_json_pair *pairs, size_t n, enum kpi_json_style style);

/* ---- pieces of HTTP API answers (api.c) ---- */

/* Appends s as a JSON string literal; -EINVAL when s is not UTF-8. */
int kpi_json_quote(struct kpi_buf *out, const char *s);
/* An RFC 9457 problem document {type, title, status, detail}; with rep, also errors: [{index,
 * field, reason}] (index the 1-based item or line, null when none applies; field split from a
 * "FIELD: reason" message, else null), error_count and rows. */
int kpi_json_problem(struct kpi_buf *out, int status, const char *detail, const struct kpi_ingest_report *rep);

#endif
