/*
 * Period values of any KPI, measured or derived, as of a day: the bridge between stored points and
 * the pure judging code of the core. Backend-independent (it speaks only the storage interface),
 * shared by the CLI and, later, the HTTP API.
 *
 * "As of" cuts history: only points whose instant falls on or before the as-of day (in the
 * organisation's time zone) are read, so a past scorecard can be reproduced exactly. Definitions and
 * targets are read as they are now (they are not versioned).
 *
 * A derived KPI's period values are its formula evaluated per period on its inputs' period values
 * at the derived KPI's granularity (each input aggregated with its own aggregation), recursively
 * for derived inputs. A period without a value carries the formula's reason.
 */
#ifndef KPI_STORE_EVALUATE_H
#define KPI_STORE_EVALUATE_H

#include "kpi/model.h"
#include "kpi/series.h"
#include "store/store.h"

#define KPI_EVAL_REASON_MAX 160

struct kpi_eval;

/* defs: every KPI (the evaluator looks formula inputs up by key); kept by reference. as_of_day
 * KPI_DAY_MAX reads every point. */
int kpi_eval_new(struct kpi_store *s, const struct kpi_calendar *cal, const struct kpi_def *defs, size_t n_defs, int64_t as_of_day,
                 struct kpi_eval **ret_eval);
struct kpi_eval *kpi_eval_free(struct kpi_eval *ev);

const struct kpi_def *kpi_eval_find(const struct kpi_eval *ev, const char *key);

/* Rows of d at granularity g for every period from the one containing from_day to the one
 * containing to_day (to_day is capped at the as-of day). dims filters measured KPIs' points (a
 * canonical form, NULL for all). ret_reasons (optional) receives one string per row, non-empty for
 * derived periods without a value; free with kpi_eval_reasons_free. */
int kpi_eval_series(struct kpi_eval *ev, const struct kpi_def *d, enum kpi_granularity g, int64_t from_day, int64_t to_day,
                    const char *dims, struct kpi_series_row **ret_rows, size_t *ret_n, char (**ret_reasons)[KPI_EVAL_REASON_MAX],
                    struct kpi_diag *diag);

/* Rows of d at its own granularity from its first data to the as-of day (no rows without data):
 * what judging a KPI needs. Measured KPIs are read in one pass. */
int kpi_eval_history(struct kpi_eval *ev, const struct kpi_def *d, struct kpi_series_row **ret_rows, size_t *ret_n,
                     struct kpi_diag *diag);

/* The first and last days with data of a KPI as of the evaluator's day (for derived KPIs: the
 * earliest and latest of their inputs'); -ENOENT when there is none. */
int kpi_eval_span(struct kpi_eval *ev, const struct kpi_def *d, int64_t *ret_first_day, int64_t *ret_last_day);

#endif
