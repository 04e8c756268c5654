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
#include "store/store.h"

/* Formatting of whole documents: pretty (indented) for people, compact for machines. */
enum kpi_json_style { KPI_JSON_PRETTY, KPI_JSON_COMPACT };

int kpi_json_def(struct kpi_buf *out, const struct kpi_def *d, enum kpi_json_style style);
int kpi_json_defs(struct kpi_buf *out, const struct kpi_def *defs, size_t n, enum kpi_json_style style);
/* The targets of a KPI as an array (the "targets" field of kpi_json_def). */
int kpi_json_targets(struct kpi_buf *out, const struct kpi_def *d, enum kpi_json_style style);
int kpi_json_org(struct kpi_buf *out, const struct kpi_org *org, enum kpi_json_style style);
/* Series rows: [{period, start, end, value, points}], value null for an empty period. */
int kpi_json_series(struct kpi_buf *out, const struct kpi_calendar *cal, const char *key, const char *granularity,
                    const struct kpi_series_row *rows, size_t n, enum kpi_json_style style);
/* The latest period value of each KPI: [{kpi, name, period, value, points}], period and value null
 * for a KPI without data. rows[i] belongs to defs[i]; has_value false means no data. */
int kpi_json_latest(struct kpi_buf *out, const struct kpi_calendar *cal, const struct kpi_def *defs,
                    const struct kpi_series_row *rows, size_t n, enum kpi_json_style style);

/* Reviews, action items and annotations as arrays, dates as YYYY-MM-DD. */
int kpi_json_reviews(struct kpi_buf *out, const struct kpi_review *r, size_t n, enum kpi_json_style style);
int kpi_json_actions(struct kpi_buf *out, const struct kpi_action *a, size_t n, enum kpi_json_style style);
int kpi_json_annotations(struct kpi_buf *out, const struct kpi_annotation *a, size_t n, enum kpi_json_style style);

/* One point as a compact object {"kpi","at","value","dims"} (for export, one per line). */
int kpi_json_point(struct kpi_buf *out, const char *key, const char *at, double value, const char *dims_canon);

#endif
