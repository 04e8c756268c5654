/*
 * JSON output of the model (see json.h), built with jansson: objects keep DESIGN.md's field order,
 * numbers are written with the shortest round-trip form, and every document is bounded by the
 * caller's buffer maximum.
 */
#include "json/json.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "base/str.h"
#include "kpi/anomaly.h"
#include "kpi/drivers.h"
#include "kpi/forecast.h"
#include "kpi/dims.h"
#include "kpi/status.h"
#include "kpi/time.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *date_string(int64_t day)
{
    char text[16];
    kpi_date_format(day, text, sizeof(text));
    return json_string(text);
}

/* Targets as DESIGN.md spells them: {baseline, baseline_date, value, date, at_risk_pct}, with low and
 * high instead of value for range KPIs. */
static json_t *targets_array(const struct kpi_def *d)
{
    json_t *a = json_array();
    for (size_t i = 0; i < d->n_targets; i++) {
        const struct kpi_target *t = &d->targets[i];
        json_t *o = json_object();
        json_object_set_new(o, "baseline", json_real(t->baseline));
        json_object_set_new(o, "baseline_date", date_string(t->baseline_day));
        if (d->direction == KPI_DIR_RANGE) {
            json_object_set_new(o, "low", json_real(t->low));
            json_object_set_new(o, "high", json_real(t->high));
        } else {
            json_object_set_new(o, "value", json_real(t->value));
        }
        json_object_set_new(o, "date", date_string(t->day));
        json_object_set_new(o, "at_risk_pct", json_real(t->at_risk_pct));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *def_object(const struct kpi_def *d)
{
    json_t *o = json_object();
    json_t *tags = json_array();
    for (size_t i = 0; i < d->n_tags; i++)
        json_array_append_new(tags, json_string(d->tags[i]));
    json_object_set_new(o, "key", json_string(d->key));
    json_object_set_new(o, "name", str_or_null(d->name));
    json_object_set_new(o, "description", str_or_null(d->description));
    json_object_set_new(o, "unit", str_or_null(d->unit));
    json_object_set_new(o, "format", json_string(kpi_enum_name(&kpi_enum_format, (int)d->format)));
    json_object_set_new(o, "decimals", json_integer(d->decimals));
    json_object_set_new(o, "direction", json_string(kpi_enum_name(&kpi_enum_direction, (int)d->direction)));
    json_object_set_new(o, "aggregation", json_string(kpi_enum_name(&kpi_enum_aggregation, (int)d->aggregation)));
    json_object_set_new(o, "granularity", json_string(kpi_enum_name(&kpi_enum_granularity, (int)d->granularity)));
    json_object_set_new(o, "formula", str_or_null(d->formula));
    json_object_set_new(o, "tier", json_string(kpi_enum_name(&kpi_enum_tier, (int)d->tier)));
    json_object_set_new(o, "indicator", json_string(kpi_enum_name(&kpi_enum_indicator, (int)d->indicator)));
    json_object_set_new(o, "owner", str_or_null(d->owner));
    json_object_set_new(o, "team", str_or_null(d->team));
    json_object_set_new(o, "parent", str_or_null(d->parent));
    json_object_set_new(o, "weight", json_real(d->weight));
    json_object_set_new(o, "review_cadence", json_string(kpi_enum_name(&kpi_enum_cadence, (int)d->review_cadence)));
    json_object_set_new(o, "visibility", json_string(kpi_enum_name(&kpi_enum_visibility, (int)d->visibility)));
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "archived", json_boolean(d->archived));
    json_object_set_new(o, "targets", targets_array(d));
    char created[40], updated[40];
    kpi_instant_format(d->created_ms, created, sizeof(created));
    kpi_instant_format(d->updated_ms, updated, sizeof(updated));
    json_object_set_new(o, "created_at", json_string(created));
    json_object_set_new(o, "updated_at", json_string(updated));
    return o;
}

/* jansson prints reals with 17 significant digits (0.1 -> 0.10000000000000001), so documents are
 * serialised here instead: reals take the shortest text that reads back as the same double. */
static int emit(struct kpi_buf *out, const json_t *v, int indent, int depth);

static int emit_string(struct kpi_buf *out, const char *s, size_t len)
{
    int r = kpi_buf_addc(out, '"');
    for (size_t i = 0; r == 0 && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            r = kpi_buf_adds(out, "\\\"");
            break;
        case '\\':
            r = kpi_buf_adds(out, "\\\\");
            break;
        case '\n':
            r = kpi_buf_adds(out, "\\n");
            break;
        case '\t':
            r = kpi_buf_adds(out, "\\t");
            break;
        case '\r':
            r = kpi_buf_adds(out, "\\r");
            break;
        default:
            r = c < 0x20 ? kpi_buf_printf(out, "\\u%04x", c) : kpi_buf_addc(out, (char)c);
        }
    }
    return r < 0 ? r : kpi_buf_addc(out, '"');
}

static int newline(struct kpi_buf *out, int indent, int depth)
{
    if (!indent)
        return 0;
    int r = kpi_buf_addc(out, '\n');
    for (int i = 0; r == 0 && i < indent * depth; i++)
        r = kpi_buf_addc(out, ' ');
    return r;
}

static int emit(struct kpi_buf *out, const json_t *v, int indent, int depth)
{
    int r = 0;
    char num[40];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *item;
        bool first = true;
        r = kpi_buf_addc(out, '{');
        json_object_foreach((json_t *)v, k, item)
        {
            if (r == 0 && !first)
                r = kpi_buf_addc(out, ',');
            if (r == 0)
                r = newline(out, indent, depth + 1);
            if (r == 0)
                r = emit_string(out, k, strlen(k));
            if (r == 0)
                r = kpi_buf_adds(out, indent ? ": " : ":");
            if (r == 0)
                r = emit(out, item, indent, depth + 1);
            first = false;
        }
        if (r == 0 && !first)
            r = newline(out, indent, depth);
        return r < 0 ? r : kpi_buf_addc(out, '}');
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        r = kpi_buf_addc(out, '[');
        json_array_foreach(v, i, item)
        {
            if (r == 0 && i)
                r = kpi_buf_addc(out, ',');
            if (r == 0)
                r = newline(out, indent, depth + 1);
            if (r == 0)
                r = emit(out, item, indent, depth + 1);
        }
        if (r == 0 && json_array_size(v))
            r = newline(out, indent, depth);
        return r < 0 ? r : kpi_buf_addc(out, ']');
    }
    case JSON_STRING:
        return emit_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return kpi_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        kpi_format_double(json_real_value(v), num, sizeof(num));
        return kpi_buf_adds(out, num);
    case JSON_TRUE:
        return kpi_buf_adds(out, "true");
    case JSON_FALSE:
        return kpi_buf_adds(out, "false");
    default:
        return kpi_buf_adds(out, "null");
    }
}

static int dump(struct kpi_buf *out, json_t *v, enum kpi_json_style style)
{
    if (!v)
        return -ENOMEM;
    int r = emit(out, v, style == KPI_JSON_PRETTY ? 2 : 0, 0);
    json_decref(v);
    return r;
}

int kpi_json_def(struct kpi_buf *out, const struct kpi_def *d, enum kpi_json_style style)
{
    return dump(out, def_object(d), style);
}

int kpi_json_defs(struct kpi_buf *out, const struct kpi_def *defs, size_t n, enum kpi_json_style style)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, def_object(&defs[i]));
    return dump(out, a, style);
}

int kpi_json_targets(struct kpi_buf *out, const struct kpi_def *d, enum kpi_json_style style)
{
    return dump(out, targets_array(d), style);
}

int kpi_json_org(struct kpi_buf *out, const struct kpi_org *org, enum kpi_json_style style)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(org->name));
    json_object_set_new(o, "timezone", json_string(org->timezone));
    json_object_set_new(o, "fiscal_year_start", json_integer(org->fiscal_year_start));
    return dump(out, o, style);
}

int kpi_json_series(struct kpi_buf *out, const struct kpi_calendar *cal, const char *key, const char *granularity,
                    const struct kpi_series_row *rows, size_t n, const char (*reasons)[KPI_EVAL_REASON_MAX],
                    enum kpi_json_style style)
{
    json_t *o = json_object();
    json_t *a = json_array();
    json_object_set_new(o, "kpi", json_string(key));
    json_object_set_new(o, "granularity", json_string(granularity));
    for (size_t i = 0; i < n; i++) {
        char label[KPI_PERIOD_LABEL_MAX], start[16], end[16];
        kpi_period_format(cal, &rows[i].period, label, sizeof(label));
        kpi_date_format(rows[i].period.first_day, start, sizeof(start));
        kpi_date_format(rows[i].period.last_day, end, sizeof(end));
        json_t *row = json_object();
        json_object_set_new(row, "period", json_string(label));
        json_object_set_new(row, "start", json_string(start));
        json_object_set_new(row, "end", json_string(end));
        json_object_set_new(row, "value", rows[i].has_value ? json_real(rows[i].value) : json_null());
        json_object_set_new(row, "points", json_integer((json_int_t)rows[i].n_points));
        if (reasons && reasons[i][0])
            json_object_set_new(row, "reason", json_string(reasons[i]));
        json_array_append_new(a, row);
    }
    json_object_set_new(o, "rows", a);
    return dump(out, o, style);
}

int kpi_json_latest(struct kpi_buf *out, const struct kpi_calendar *cal, const struct kpi_def *defs,
                    const struct kpi_series_row *rows, size_t n, enum kpi_json_style style)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "kpi", json_string(defs[i].key));
        json_object_set_new(o, "name", str_or_null(defs[i].name));
        if (rows[i].n_points) {
            char label[KPI_PERIOD_LABEL_MAX];
            kpi_period_format(cal, &rows[i].period, label, sizeof(label));
            json_object_set_new(o, "period", json_string(label));
        } else {
            json_object_set_new(o, "period", json_null());
        }
        json_object_set_new(o, "value", rows[i].has_value && rows[i].n_points ? json_real(rows[i].value) : json_null());
        json_object_set_new(o, "points", json_integer((json_int_t)rows[i].n_points));
        json_array_append_new(a, o);
    }
    return dump(out, a, style);
}

static json_t *instant_string(int64_t ms)
{
    char text[40];
    kpi_instant_format(ms, text, sizeof(text));
    return json_string(text);
}

int kpi_json_reviews(struct kpi_buf *out, const struct kpi_review *r, size_t n, enum kpi_json_style style)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(r[i].id));
        json_object_set_new(o, "kpi", r[i].kpi[0] ? json_string(r[i].kpi) : json_null());
        json_object_set_new(o, "team", str_or_null(r[i].team));
        json_object_set_new(o, "date", date_string(r[i].day));
        json_object_set_new(o, "note", str_or_null(r[i].note));
        json_object_set_new(o, "author", str_or_null(r[i].author));
        json_object_set_new(o, "created_at", instant_string(r[i].created_ms));
        json_array_append_new(a, o);
    }
    return dump(out, a, style);
}

int kpi_json_actions(struct kpi_buf *out, const struct kpi_action *act, size_t n, enum kpi_json_style style)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(act[i].id));
        json_object_set_new(o, "review", json_integer(act[i].review_id));
        json_object_set_new(o, "kpi", act[i].kpi[0] ? json_string(act[i].kpi) : json_null());
        json_object_set_new(o, "text", str_or_null(act[i].text));
        json_object_set_new(o, "owner", str_or_null(act[i].owner));
        json_object_set_new(o, "due", act[i].due_day == INT64_MIN ? json_null() : date_string(act[i].due_day));
        json_object_set_new(o, "done", json_boolean(act[i].done_ms != 0));
        json_object_set_new(o, "done_at", act[i].done_ms ? instant_string(act[i].done_ms) : json_null());
        json_object_set_new(o, "created_at", instant_string(act[i].created_ms));
        json_array_append_new(a, o);
    }
    return dump(out, a, style);
}

int kpi_json_annotations(struct kpi_buf *out, const struct kpi_annotation *an, size_t n, enum kpi_json_style style)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(an[i].id));
        json_object_set_new(o, "kpi", an[i].kpi[0] ? json_string(an[i].kpi) : json_null());
        json_object_set_new(o, "date", date_string(an[i].day));
        json_object_set_new(o, "text", str_or_null(an[i].text));
        json_array_append_new(a, o);
    }
    return dump(out, a, style);
}

static json_t *opt_number(struct kpi_opt o)
{
    return o.has ? json_real(o.v) : json_null();
}

static json_t *status_object(const struct kpi_calendar *cal, const struct kpi_scorecard_entry *e)
{
    const struct kpi_status_result *st = &e->status;
    json_t *o = json_object();
    json_object_set_new(o, "kpi", json_string(e->def->key));
    if (st->has_period) {
        char label[KPI_PERIOD_LABEL_MAX];
        kpi_period_format(cal, &st->period, label, sizeof(label));
        json_object_set_new(o, "period", json_string(label));
    } else {
        json_object_set_new(o, "period", json_null());
    }
    json_object_set_new(o, "value", opt_number(st->value));
    json_object_set_new(o, "expected", opt_number(st->expected));
    json_object_set_new(o, "target", opt_number(st->target));
    json_object_set_new(o, "progress", opt_number(st->progress));
    json_object_set_new(o, "status", json_string(kpi_status_name(st->status)));
    json_object_set_new(o, "stale", json_boolean(st->stale));
    json_object_set_new(o, "change_abs", opt_number(st->change_abs));
    json_object_set_new(o, "change_pct", opt_number(st->change_pct));
    json_object_set_new(o, "yoy_pct", opt_number(st->yoy_pct));
    json_object_set_new(o, "improving", st->improving < 0 ? json_null() : json_boolean(st->improving));
    json_object_set_new(o, "streak", json_integer(st->streak));
    json_object_set_new(o, "name", str_or_null(e->def->name));
    json_object_set_new(o, "team", str_or_null(e->def->team));
    json_object_set_new(o, "owner", str_or_null(e->def->owner));
    json_object_set_new(o, "tier", json_string(kpi_enum_name(&kpi_enum_tier, (int)e->def->tier)));
    json_object_set_new(o, "low", opt_number(st->low));
    json_object_set_new(o, "high", opt_number(st->high));
    json_object_set_new(o, "paced", json_boolean(st->paced));
    json_object_set_new(o, "health", opt_number(e->health));
    json_t *spark = json_array();
    for (size_t i = 0; i < e->n_spark; i++)
        json_array_append_new(spark, opt_number(e->spark[i]));
    json_object_set_new(o, "sparkline", spark);
    json_object_set_new(o, "last_review", e->last_review_day == INT64_MIN ? json_null() : date_string(e->last_review_day));
    json_object_set_new(o, "due_for_review", json_boolean(e->due_for_review));
    json_object_set_new(o, "error", e->error[0] ? json_string(e->error) : json_null());
    return o;
}

int kpi_json_status(struct kpi_buf *out, const struct kpi_calendar *cal, const struct kpi_scorecard_entry *e,
                    enum kpi_json_style style)
{
    return dump(out, status_object(cal, e), style);
}

int kpi_json_scorecard(struct kpi_buf *out, const struct kpi_calendar *cal, const struct kpi_scorecard *sc, const bool *include,
                       enum kpi_json_style style)
{
    json_t *o = json_object();
    json_object_set_new(o, "as_of", date_string(sc->as_of_day));
    json_t *kpis = json_array();
    for (size_t i = 0; i < sc->n_defs; i++)
        if (!include || include[i])
            json_array_append_new(kpis, status_object(cal, &sc->entries[i]));
    json_object_set_new(o, "kpis", kpis);
    json_t *teams = json_array();
    for (size_t t = 0; t < sc->n_teams; t++) {
        json_t *to = json_object();
        json_object_set_new(to, "team", json_string(sc->teams[t].team));
        json_object_set_new(to, "health", opt_number(sc->teams[t].health));
        json_object_set_new(to, "kpis", json_integer((json_int_t)sc->teams[t].n_kpis));
        json_array_append_new(teams, to);
    }
    json_object_set_new(o, "teams", teams);
    return dump(out, o, style);
}

int kpi_json_insights(struct kpi_buf *out, int64_t as_of_day, const char *summary, const struct kpi_json_insight *items, size_t n,
                      enum kpi_json_style style)
{
    json_t *o = json_object();
    json_object_set_new(o, "as_of", date_string(as_of_day));
    json_object_set_new(o, "summary", json_string(summary));
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_object();
        json_object_set_new(it, "kpi", json_string(items[i].kpi));
        json_object_set_new(it, "status", json_string(kpi_status_name(items[i].status)));
        json_object_set_new(it, "text", json_string(items[i].text));
        json_object_set_new(it, "p_target", items[i].has_p ? json_real(items[i].p) : json_null());
        json_array_append_new(a, it);
    }
    json_object_set_new(o, "kpis", a);
    return dump(out, o, style);
}

int kpi_json_point(struct kpi_buf *out, const char *key, const char *at, double value, const char *dims_canon)
{
    json_t *o = json_object();
    json_object_set_new(o, "kpi", json_string(key));
    json_object_set_new(o, "at", json_string(at));
    json_object_set_new(o, "value", json_real(value));
    json_t *dims = json_object();
    struct kpi_dim d[KPI_DIMS_MAX];
    int nd = kpi_dims_split(dims_canon ? dims_canon : "", d, KPI_DIMS_MAX);
    for (int i = 0; i < nd; i++) {
        char k[65];
        memcpy(k, d[i].key, d[i].key_len);
        k[d[i].key_len] = '\0';
        json_object_set_new(dims, k, json_stringn(d[i].value, d[i].value_len));
    }
    json_object_set_new(o, "dims", dims);
    return dump(out, o, KPI_JSON_COMPACT);
}

static json_t *finite_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void set_period(json_t *o, const struct kpi_calendar *cal, const struct kpi_period *p)
{
    char label[KPI_PERIOD_LABEL_MAX];
    kpi_period_format(cal, p, label, sizeof(label));
    json_object_set_new(o, "period", json_string(label));
    json_object_set_new(o, "start", date_string(p->first_day));
    json_object_set_new(o, "end", date_string(p->last_day));
}

int kpi_json_forecast(struct kpi_buf *out, const struct kpi_calendar *cal, const char *key, const struct kpi_forecast *f,
                      const struct kpi_period *periods, const struct kpi_json_p_target *p_target, enum kpi_json_style style)
{
    json_t *o = json_object();
    json_object_set_new(o, "kpi", json_string(key));
    json_object_set_new(o, "model", f->model[0] ? json_string(f->model) : json_null());
    json_object_set_new(o, "method", json_string(f->method));
    json_object_set_new(o, "note", json_string(f->note));
    json_object_set_new(o, "alpha", finite_or_null(f->alpha));
    json_object_set_new(o, "beta", finite_or_null(f->beta));
    json_object_set_new(o, "gamma", finite_or_null(f->gamma));
    json_object_set_new(o, "phi", finite_or_null(f->phi));
    json_object_set_new(o, "aicc", finite_or_null(f->aicc));
    json_object_set_new(o, "sigma2", finite_or_null(f->sigma2));
    json_object_set_new(o, "simulated", json_boolean(f->simulated));
    json_t *a = json_array();
    for (size_t i = 0; i < f->h; i++) {
        json_t *row = json_object();
        set_period(row, cal, &periods[i]);
        json_object_set_new(row, "mean", finite_or_null(f->mean[i]));
        json_object_set_new(row, "lo80", finite_or_null(f->lo80[i]));
        json_object_set_new(row, "hi80", finite_or_null(f->hi80[i]));
        json_object_set_new(row, "lo95", finite_or_null(f->lo95[i]));
        json_object_set_new(row, "hi95", finite_or_null(f->hi95[i]));
        json_array_append_new(a, row);
    }
    json_object_set_new(o, "rows", a);
    if (p_target) {
        json_t *pt = json_object();
        json_object_set_new(pt, "value", finite_or_null(p_target->value));
        json_object_set_new(pt, "date", date_string(p_target->day));
        json_object_set_new(pt, "probability", finite_or_null(p_target->probability));
        json_object_set_new(o, "p_target", pt);
    } else {
        json_object_set_new(o, "p_target", json_null());
    }
    return dump(out, o, style);
}

int kpi_json_anomalies(struct kpi_buf *out, const struct kpi_calendar *cal, const char *key, const struct kpi_forecast *f,
                       const struct kpi_period *periods, const double *y, const struct kpi_anomaly_result *res,
                       enum kpi_json_style style)
{
    json_t *o = json_object();
    json_object_set_new(o, "kpi", json_string(key));
    json_object_set_new(o, "model", f->model[0] ? json_string(f->model) : json_null());
    json_object_set_new(o, "method", json_string(f->method));
    json_object_set_new(o, "sensitivity", finite_or_null(res->sensitivity));
    json_object_set_new(o, "centre", finite_or_null(res->centre));
    json_object_set_new(o, "scale", finite_or_null(res->scale));
    json_object_set_new(o, "lower", finite_or_null(res->lower));
    json_object_set_new(o, "upper", finite_or_null(res->upper));
    json_object_set_new(o, "points", json_integer((json_int_t)res->n_used));
    json_t *a = json_array();
    for (size_t i = 0; i < res->n_items; i++) {
        const struct kpi_anomaly *an = &res->items[i];
        json_t *row = json_object();
        set_period(row, cal, &periods[an->index]);
        json_object_set_new(row, "value", finite_or_null(y[an->index]));
        json_object_set_new(row, "expected", finite_or_null(f->fitted[an->index]));
        json_object_set_new(row, "residual", finite_or_null(an->residual));
        json_object_set_new(row, "z", finite_or_null(an->z));
        json_object_set_new(row, "direction", json_string(an->direction == KPI_ANOMALY_SPIKE ? "spike" : "dip"));
        json_array_append_new(a, row);
    }
    json_object_set_new(o, "anomalies", a);
    return dump(out, o, style);
}

int kpi_json_drivers(struct kpi_buf *out, const char *key, const char *dim, const char *from, const char *to,
                     const char *aggregation, const struct kpi_driver_result *res, enum kpi_json_style style)
{
    json_t *o = json_object();
    json_object_set_new(o, "kpi", json_string(key));
    json_object_set_new(o, "dim", json_string(dim));
    json_object_set_new(o, "from", json_string(from));
    json_object_set_new(o, "to", json_string(to));
    json_object_set_new(o, "aggregation", json_string(aggregation));
    json_object_set_new(o, "total_before", finite_or_null(res->total_before));
    json_object_set_new(o, "total_after", finite_or_null(res->total_after));
    json_object_set_new(o, "total_change", finite_or_null(res->total_change));
    json_object_set_new(o, "sum_error", finite_or_null(res->sum_error));
    json_object_set_new(o, "contributions_sum_to_change", json_true());
    json_t *a = json_array();
    for (size_t i = 0; i < res->n_items; i++) {
        const struct kpi_driver *dr = &res->items[i];
        json_t *row = json_object();
        json_object_set_new(row, "segment", json_string(dr->segment));
        json_object_set_new(row, "before", dr->has_before ? finite_or_null(dr->before) : json_null());
        json_object_set_new(row, "after", dr->has_after ? finite_or_null(dr->after) : json_null());
        json_object_set_new(row, "contribution", finite_or_null(dr->contribution));
        json_object_set_new(row, "rate_effect", finite_or_null(dr->rate_effect));
        json_object_set_new(row, "mix_effect", finite_or_null(dr->mix_effect));
        json_object_set_new(row, "share_pct", dr->has_share ? finite_or_null(dr->share_pct) : json_null());
        json_array_append_new(a, row);
    }
    json_object_set_new(o, "segments", a);
    return dump(out, o, style);
}

int kpi_json_correlate(struct kpi_buf *out, const char *key, const char *granularity, int max_lag, size_t compared,
                       const struct kpi_json_pair *pairs, size_t n, enum kpi_json_style style)
{
    json_t *o = json_object();
    json_object_set_new(o, "kpi", json_string(key));
    json_object_set_new(o, "granularity", json_string(granularity));
    json_object_set_new(o, "max_lag", json_integer(max_lag));
    json_object_set_new(o, "compared", json_integer((json_int_t)compared));
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_object();
        json_object_set_new(row, "kpi", json_string(pairs[i].other));
        json_object_set_new(row, "lag", json_integer(pairs[i].lag));
        json_object_set_new(row, "r", finite_or_null(pairs[i].r));
        json_object_set_new(row, "n_pairs", json_integer((json_int_t)pairs[i].n_pairs));
        json_object_set_new(row, "leader", json_string(pairs[i].leader));
        json_array_append_new(a, row);
    }
    json_object_set_new(o, "pairs", a);
    json_object_set_new(o, "note", json_string("correlation is not causation"));
    return dump(out, o, style);
}
