/*
 * Series of measured and derived KPIs as of a day (see evaluate.h).
 */
#include "store/evaluate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/strmap.h"
#include "kpi/formula.h"
#include "kpi/time.h"

/* Derived KPIs may read derived KPIs; the store refuses cycles, this bounds the recursion anyway. */
#define EVAL_DEPTH_MAX 32

struct kpi_eval {
    struct kpi_store *store;
    const struct kpi_calendar *cal;
    const struct kpi_def *defs;
    size_t n_defs;
    struct kpi_strmap index;
    int64_t as_of_day;
    int64_t as_of_end_ms; /* first instant after the as-of day */
    int depth;
};

int kpi_eval_new(struct kpi_store *s, const struct kpi_calendar *cal, const struct kpi_def *defs, size_t n_defs, int64_t as_of_day,
                 struct kpi_eval **ret_eval)
{
    struct kpi_eval *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return -ENOMEM;
    int64_t end_ms = as_of_day >= KPI_DAY_MAX ? INT64_MAX : kpi_calendar_day_start(cal, as_of_day + 1);
    *ev = (struct kpi_eval){s, cal, defs, n_defs, {0}, as_of_day, end_ms, 0};
    kpi_strmap_init(&ev->index, n_defs + 1);
    for (size_t i = 0; i < n_defs; i++) {
        int r = kpi_strmap_put(&ev->index, defs[i].key, strlen(defs[i].key), (int64_t)i);
        if (r < 0) {
            kpi_eval_free(ev);
            return r;
        }
    }
    *ret_eval = ev;
    return 0;
}

struct kpi_eval *kpi_eval_free(struct kpi_eval *ev)
{
    if (ev) {
        kpi_strmap_free(&ev->index);
        free(ev);
    }
    return NULL;
}

const struct kpi_def *kpi_eval_find(const struct kpi_eval *ev, const char *key)
{
    int64_t i;
    if (!kpi_strmap_get(&ev->index, key, strlen(key), &i))
        return NULL;
    return &ev->defs[i];
}

int kpi_eval_span(struct kpi_eval *ev, const struct kpi_def *d, int64_t *ret_first_day, int64_t *ret_last_day)
{
    if (!d->formula) {
        int64_t first, last;
        int r = kpi_store_points_span(ev->store, d->id, &first, &last);
        if (r < 0)
            return r;
        if (first >= ev->as_of_end_ms)
            return -ENOENT;
        *ret_first_day = kpi_calendar_day_of(ev->cal, first);
        /* The last point may lie after the as-of day: the span ends there then. */
        *ret_last_day = last >= ev->as_of_end_ms ? ev->as_of_day : kpi_calendar_day_of(ev->cal, last);
        return 0;
    }
    if (ev->depth >= EVAL_DEPTH_MAX)
        return -ELOOP;
    struct kpi_formula *f;
    if (kpi_formula_parse(d->formula, &f, NULL) < 0)
        return -EINVAL;
    const char *const *keys;
    const int *cols;
    size_t n = kpi_formula_inputs(f, &keys, &cols);
    int64_t first = INT64_MAX, last = INT64_MIN;
    int r = 0;
    ev->depth++;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct kpi_def *in = kpi_eval_find(ev, keys[i]);
        int64_t a, b;
        if (!in)
            continue;
        int rr = kpi_eval_span(ev, in, &a, &b);
        if (rr == 0) {
            first = a < first ? a : first;
            last = b > last ? b : last;
        } else if (rr != -ENOENT) {
            r = rr;
        }
    }
    ev->depth--;
    kpi_formula_free(f);
    if (r < 0)
        return r;
    if (first == INT64_MAX)
        return -ENOENT;
    *ret_first_day = first;
    *ret_last_day = last;
    return 0;
}

static int measured_series(struct kpi_eval *ev, const struct kpi_def *d, enum kpi_granularity g, int64_t from_day, int64_t to_day,
                           const char *dims, struct kpi_series_row **ret_rows, size_t *ret_n)
{
    struct kpi_period first, last;
    int r = kpi_period_of_day(ev->cal, g, from_day, &first);
    if (r == 0)
        r = kpi_period_of_day(ev->cal, g, to_day, &last);
    if (r < 0)
        return r;
    int64_t to_ms = kpi_period_end_ms(ev->cal, &last);
    struct kpi_point_query q = {d->id, kpi_period_start_ms(ev->cal, &first), to_ms < ev->as_of_end_ms ? to_ms : ev->as_of_end_ms,
                                dims};
    struct kpi_point *pts = NULL;
    size_t n = 0;
    int64_t min_at, max_at;
    r = kpi_store_points_load(ev->store, &q, &pts, &n, &min_at, &max_at);
    if (r < 0)
        return r;
    r = kpi_series_compute(ev->cal, g, d->aggregation, pts, n, from_day, to_day, ret_rows, ret_n);
    free(pts);
    return r;
}

struct label_ctx {
    const struct kpi_calendar *cal;
    const struct kpi_series_row *rows;
    char buf[KPI_PERIOD_LABEL_MAX];
};

static const char *label_of(void *ctx, size_t i)
{
    struct label_ctx *l = ctx;
    kpi_period_format(l->cal, &l->rows[i].period, l->buf, sizeof(l->buf));
    return l->buf;
}

struct input_rows {
    struct kpi_series_row *rows;
    size_t n;
    double *values;
    bool *has;
};

static int derived_series(struct kpi_eval *ev, const struct kpi_def *d, enum kpi_granularity g, int64_t from_day, int64_t to_day,
                          struct kpi_series_row **ret_rows, size_t *ret_n, char (**ret_reasons)[KPI_EVAL_REASON_MAX],
                          struct kpi_diag *diag)
{
    struct kpi_formula *f = NULL;
    int r = kpi_formula_parse(d->formula, &f, diag);
    if (r < 0) {
        kpi_diag_prefix(diag, "%s: formula: ", d->key);
        return r;
    }
    const char *const *keys;
    const int *cols;
    size_t n_in = kpi_formula_inputs(f, &keys, &cols);
    struct kpi_period first;
    r = kpi_period_of_day(ev->cal, g, from_day, &first);
    size_t lookback = kpi_formula_lookback(f);
    if (r == 0 && lookback)
        r = kpi_period_shift(ev->cal, &first, -(int64_t)lookback, &first);
    struct input_rows *in = calloc(n_in ? n_in : 1, sizeof(*in));
    struct kpi_formula_input *inputs = calloc(n_in ? n_in : 1, sizeof(*inputs));
    struct kpi_series_row *rows = NULL;
    char(*reasons)[KPI_EVAL_REASON_MAX] = NULL;
    size_t n_ext = 0;
    if (!in || !inputs)
        r = -ENOMEM;
    ev->depth++;
    for (size_t k = 0; r == 0 && k < n_in; k++) {
        const struct kpi_def *idef = kpi_eval_find(ev, keys[k]);
        if (!idef) {
            r = kpi_diag_set(diag, -EINVAL, "%s: formula: column %d: unknown KPI '%s'", d->key, cols[k], keys[k]);
            break;
        }
        if (ev->depth > EVAL_DEPTH_MAX) {
            r = kpi_diag_set(diag, -ELOOP, "%s: formula: derived KPIs nested deeper than %d", d->key, EVAL_DEPTH_MAX);
            break;
        }
        r = kpi_eval_series(ev, idef, g, first.first_day, to_day, NULL, &in[k].rows, &in[k].n, NULL, diag);
        if (r < 0)
            break;
        in[k].values = calloc(in[k].n ? in[k].n : 1, sizeof(double));
        in[k].has = calloc(in[k].n ? in[k].n : 1, sizeof(bool));
        if (!in[k].values || !in[k].has) {
            r = -ENOMEM;
            break;
        }
        for (size_t i = 0; i < in[k].n; i++) {
            in[k].values[i] = in[k].rows[i].value;
            in[k].has[i] = in[k].rows[i].has_value;
        }
        inputs[k] = (struct kpi_formula_input){keys[k], in[k].values, in[k].has};
        n_ext = in[k].n;
    }
    ev->depth--;
    if (r == 0 && n_in == 0) {
        /* A formula of constants: still one row per period. */
        r = kpi_series_compute(ev->cal, g, KPI_AGG_SUM, NULL, 0, first.first_day, to_day, &in[0].rows, &n_ext);
        in[0].n = n_ext;
    }
    if (r == 0) {
        rows = calloc(n_ext ? n_ext : 1, sizeof(*rows));
        reasons = calloc(n_ext ? n_ext : 1, sizeof(*reasons));
        if (!rows || !reasons)
            r = -ENOMEM;
    }
    size_t n_out = 0;
    if (r == 0) {
        struct label_ctx lc = {ev->cal, in[0].rows, ""};
        for (size_t i = lookback; i < n_ext; i++, n_out++) {
            struct kpi_series_row *row = &rows[n_out];
            row->period = in[0].rows[i].period;
            struct kpi_diag why = {""};
            double v;
            int e = kpi_formula_eval(f, inputs, n_in, n_ext, i, label_of, &lc, &v, &why);
            if (e < 0) {
                r = kpi_diag_set(diag, e, "%s: formula: cannot evaluate: %s", d->key, kpi_strerror(e));
                break;
            }
            row->has_value = e == 0;
            row->value = e == 0 ? v : 0;
            row->n_points = e == 0 ? 1 : 0;
            if (e > 0)
                kpi_strlcpy(reasons[n_out], why.msg, KPI_EVAL_REASON_MAX); /* a long reason is cut, not lost */
        }
    }
    for (size_t k = 0; in && k < n_in + (n_in == 0); k++) {
        free(in[k].rows);
        free(in[k].values);
        free(in[k].has);
    }
    free(in);
    free(inputs);
    kpi_formula_free(f);
    if (r < 0) {
        free(rows);
        free(reasons);
        return r;
    }
    *ret_rows = rows;
    *ret_n = n_out;
    if (ret_reasons)
        *ret_reasons = reasons;
    else
        free(reasons);
    return 0;
}

int kpi_eval_series(struct kpi_eval *ev, const struct kpi_def *d, enum kpi_granularity g, int64_t from_day, int64_t to_day,
                    const char *dims, struct kpi_series_row **ret_rows, size_t *ret_n, char (**ret_reasons)[KPI_EVAL_REASON_MAX],
                    struct kpi_diag *diag)
{
    if (to_day > ev->as_of_day)
        to_day = ev->as_of_day;
    if (from_day > to_day) {
        *ret_rows = NULL;
        *ret_n = 0;
        if (ret_reasons)
            *ret_reasons = NULL;
        return 0;
    }
    if (d->formula)
        return derived_series(ev, d, g, from_day, to_day, ret_rows, ret_n, ret_reasons, diag);
    int r = measured_series(ev, d, g, from_day, to_day, dims, ret_rows, ret_n);
    if (r < 0)
        return kpi_diag_set(diag, r, "%s: cannot compute the series: %s", d->key, kpi_strerror(r));
    if (ret_reasons) {
        *ret_reasons = calloc(*ret_n ? *ret_n : 1, KPI_EVAL_REASON_MAX);
        if (!*ret_reasons) {
            free(*ret_rows);
            return -ENOMEM;
        }
    }
    return 0;
}

int kpi_eval_history(struct kpi_eval *ev, const struct kpi_def *d, struct kpi_series_row **ret_rows, size_t *ret_n,
                     struct kpi_diag *diag)
{
    *ret_rows = NULL;
    *ret_n = 0;
    if (d->formula) {
        int64_t first, last;
        int r = kpi_eval_span(ev, d, &first, &last);
        if (r == -ENOENT)
            return 0;
        if (r < 0)
            return kpi_diag_set(diag, r, "%s: cannot read points: %s", d->key, kpi_strerror(r));
        return kpi_eval_series(ev, d, d->granularity, first, ev->as_of_day, NULL, ret_rows, ret_n, NULL, diag);
    }
    /* One read gives both the points and the first day. */
    struct kpi_point_query q = {d->id, INT64_MIN, ev->as_of_end_ms, NULL};
    struct kpi_point *pts = NULL;
    size_t n = 0;
    int64_t min_at, max_at;
    int r = kpi_store_points_load(ev->store, &q, &pts, &n, &min_at, &max_at);
    if (r == 0 && n > 0)
        r = kpi_series_compute(ev->cal, d->granularity, d->aggregation, pts, n, kpi_calendar_day_of(ev->cal, min_at), ev->as_of_day,
                               ret_rows, ret_n);
    free(pts);
    if (r < 0)
        return kpi_diag_set(diag, r, "%s: cannot compute the series: %s", d->key, kpi_strerror(r));
    return 0;
}
