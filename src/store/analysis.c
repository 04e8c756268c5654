/*
 * The analyses of analysis.h: each reads what it needs through the store interface and the
 * evaluator, runs the core's computation and hands back a result the caller renders. Error
 * messages are written for people and are the ones the CLI prints.
 */
#include "store/analysis.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "kpi/correlate.h"
#include "kpi/dims.h"
#include "kpi/series.h"
#include "kpi/time.h"

#define NO_SEGMENT "(none)"
#define TARGET_STEPS_MAX 1000 /* most periods a next target may lie ahead (insights) */

/* A computation rejecting data the module prepared is not the caller's bad parameter. */
static int data_code(int r)
{
    return r == -EINVAL ? -EDOM : r;
}

static int season_of(enum kpi_granularity g)
{
    switch (g) {
    case KPI_GRAN_DAY:
        return 7;
    case KPI_GRAN_WEEK:
        return 52;
    case KPI_GRAN_MONTH:
        return 12;
    case KPI_GRAN_QUARTER:
        return 4;
    default:
        return 1;
    }
}

/* ---- history */

static bool row_has_data(const struct kpi_series_row *r)
{
    return r->n_points > 0 && r->has_value && isfinite(r->value);
}

static void history_clear(struct kpi_analysis_history *h)
{
    free(h->periods);
    free(h->y);
    *h = (struct kpi_analysis_history){0};
}

/* Reads the prepared history of d from ev as of as_of_day into h (see analysis.h). Returns 0,
 * -ENODATA without data, or another negative code with diag set. */
static int history_prepare(struct kpi_eval *ev, const struct kpi_def *d, int64_t as_of_day, struct kpi_analysis_history *h,
                           struct kpi_diag *diag)
{
    *h = (struct kpi_analysis_history){.def = d, .as_of_day = as_of_day};
    struct kpi_series_row *rows = NULL;
    size_t n_rows = 0;
    struct kpi_diag ediag = {""};
    int r = kpi_eval_history(ev, d, &rows, &n_rows, &ediag);
    if (r == -ENOENT)
        return kpi_diag_set(diag, -ENODATA, "%s has no data", d->key);
    if (r < 0)
        return kpi_diag_set(diag, data_code(r), "%s", ediag.msg[0] ? ediag.msg : kpi_strerror(r));
    size_t first = 0, end = n_rows;
    while (first < end && !row_has_data(&rows[first]))
        first++;
    while (end > first && !row_has_data(&rows[end - 1]))
        end--;
    enum kpi_aggregation agg = d->aggregation;
    if (end - first > 1 && !d->formula && (agg == KPI_AGG_SUM || agg == KPI_AGG_COUNT) &&
        as_of_day < rows[end - 1].period.last_day) {
        end--;
        h->dropped_last = true;
        while (end > first && !row_has_data(&rows[end - 1]))
            end--;
    }
    if (end == first) {
        free(rows);
        return kpi_diag_set(diag, -ENODATA, "%s has no data", d->key);
    }
    h->n = end - first;
    h->periods = malloc(h->n * sizeof(*h->periods));
    h->y = malloc(h->n * sizeof(*h->y));
    if (!h->periods || !h->y) {
        free(rows);
        history_clear(h);
        return kpi_diag_set(diag, -ENOMEM, "%s", kpi_strerror(-ENOMEM));
    }
    size_t last_known = 0;
    for (size_t i = 0; i < h->n; i++) {
        const struct kpi_series_row *row = &rows[first + i];
        h->periods[i] = row->period;
        if (!row_has_data(row)) {
            h->y[i] = NAN;
            h->n_filled++;
            continue;
        }
        h->y[i] = row->value;
        /* Fill the gap since the previous known value on a straight line. */
        for (size_t k = last_known + 1; k < i; k++)
            h->y[k] = h->y[last_known] + (h->y[i] - h->y[last_known]) * (double)(k - last_known) / (double)(i - last_known);
        last_known = i;
    }
    free(rows);
    return 0;
}

/* Every KPI (archived ones included) and an evaluator over them as of as_of_day, and the one named
 * key. On failure everything is freed. */
static int load_kpi(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, int64_t as_of_day,
                    struct kpi_def **ret_defs, size_t *ret_n_defs, struct kpi_eval **ret_ev, const struct kpi_def **ret_def,
                    struct kpi_diag *diag)
{
    struct kpi_def *defs = NULL;
    size_t n_defs = 0;
    struct kpi_eval *ev = NULL;
    int r = kpi_store_kpi_list(s, true, &defs, &n_defs);
    if (r < 0)
        return kpi_diag_set(diag, data_code(r), "cannot list KPIs: %s", kpi_strerror(r));
    r = kpi_eval_new(s, cal, defs, n_defs, as_of_day, &ev);
    if (r < 0) {
        kpi_store_kpi_list_free(defs, n_defs);
        return kpi_diag_set(diag, data_code(r), "%s", kpi_strerror(r));
    }
    const struct kpi_def *d = kpi_eval_find(ev, key);
    if (!d) {
        kpi_eval_free(ev);
        kpi_store_kpi_list_free(defs, n_defs);
        return kpi_diag_set(diag, -ENOENT, "no KPI with key '%s'", key);
    }
    *ret_defs = defs;
    *ret_n_defs = n_defs;
    *ret_ev = ev;
    *ret_def = d;
    return 0;
}

/* ---- forecast */

struct kpi_forecast_report *kpi_forecast_report_free(struct kpi_forecast_report *r)
{
    if (!r)
        return NULL;
    history_clear(&r->history);
    kpi_forecast_free(r->forecast);
    free(r->periods);
    kpi_eval_free(r->ev);
    if (r->defs)
        kpi_store_kpi_list_free(r->defs, r->n_defs);
    free(r);
    return NULL;
}

/* The latest up/down target whose date falls in a forecast period after the as-of day. */
static bool find_p_target(const struct kpi_forecast_report *rep, struct kpi_analysis_p_target *ret)
{
    const struct kpi_def *d = rep->history.def;
    const struct kpi_forecast *f = rep->forecast;
    if (d->direction == KPI_DIR_RANGE || d->n_targets == 0)
        return false;
    bool found = false;
    for (size_t i = 0; i < f->h; i++) {
        const struct kpi_period *p = &rep->periods[i];
        const struct kpi_target *t = kpi_target_choose(d->targets, d->n_targets, p->last_day);
        if (!t || t->day <= rep->history.as_of_day || t->day < p->first_day || t->day > p->last_day)
            continue;
        double prob = 0;
        if (kpi_forecast_p_target(f, i + 1, t->value, d->direction == KPI_DIR_UP, &prob) < 0)
            continue;
        *ret = (struct kpi_analysis_p_target){t->value, t->day, prob};
        found = true;
    }
    return found;
}

int kpi_analysis_forecast(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, int horizon, int64_t as_of_day,
                          struct kpi_forecast_report **ret_report, struct kpi_diag *diag)
{
    if (horizon < 1 || horizon > KPI_FORECAST_MAX_HORIZON)
        return kpi_diag_set(diag, -EINVAL, "horizon: %d is not a number of periods from 1 to %d", horizon,
                            KPI_FORECAST_MAX_HORIZON);
    struct kpi_forecast_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        return kpi_diag_set(diag, -ENOMEM, "out of memory");
    const struct kpi_def *d = NULL;
    int r = load_kpi(s, cal, key, as_of_day, &rep->defs, &rep->n_defs, &rep->ev, &d, diag);
    if (r < 0)
        goto fail;
    r = history_prepare(rep->ev, d, as_of_day, &rep->history, diag);
    if (r < 0)
        goto fail;
    rep->season = season_of(d->granularity);
    struct kpi_forecast_options fo = {rep->season, horizon, KPI_ANALYSIS_SEED};
    r = kpi_forecast_fit(rep->history.y, rep->history.n, &fo, &rep->forecast);
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "cannot fit a forecast: %s", kpi_strerror(r));
        goto fail;
    }
    const struct kpi_forecast *f = rep->forecast;
    rep->periods = malloc(f->h * sizeof(*rep->periods));
    if (!rep->periods) {
        r = kpi_diag_set(diag, -ENOMEM, "out of memory");
        goto fail;
    }
    const struct kpi_period *last = &rep->history.periods[rep->history.n - 1];
    for (size_t i = 0; i < f->h; i++) {
        r = kpi_period_shift(cal, last, (int64_t)i + 1, &rep->periods[i]);
        if (r < 0) {
            r = kpi_diag_set(diag, data_code(r), "the horizon runs past the calendar: %s", kpi_strerror(r));
            goto fail;
        }
    }
    rep->has_p_target = find_p_target(rep, &rep->p_target);
    *ret_report = rep;
    return 0;
fail:
    kpi_forecast_report_free(rep);
    return r;
}

/* ---- anomalies */

struct kpi_anomalies_report *kpi_anomalies_report_free(struct kpi_anomalies_report *r)
{
    if (!r)
        return NULL;
    history_clear(&r->history);
    kpi_anomaly_result_free(r->result);
    kpi_forecast_free(r->model);
    kpi_eval_free(r->ev);
    if (r->defs)
        kpi_store_kpi_list_free(r->defs, r->n_defs);
    free(r);
    return NULL;
}

int kpi_analysis_anomalies(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, double sensitivity,
                           int64_t as_of_day, struct kpi_anomalies_report **ret_report, struct kpi_diag *diag)
{
    if (!isfinite(sensitivity) || sensitivity <= 0)
        return kpi_diag_set(diag, -EINVAL, "sensitivity: %g is not a positive number", sensitivity);
    struct kpi_anomalies_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        return kpi_diag_set(diag, -ENOMEM, "out of memory");
    const struct kpi_def *d = NULL;
    int r = load_kpi(s, cal, key, as_of_day, &rep->defs, &rep->n_defs, &rep->ev, &d, diag);
    if (r < 0)
        goto fail;
    r = history_prepare(rep->ev, d, as_of_day, &rep->history, diag);
    if (r < 0)
        goto fail;
    rep->season = season_of(d->granularity);
    struct kpi_forecast_options fo = {rep->season, 1, KPI_ANALYSIS_SEED};
    r = kpi_forecast_fit(rep->history.y, rep->history.n, &fo, &rep->model);
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "cannot fit a model: %s", kpi_strerror(r));
        goto fail;
    }
    /* The detector takes observed and fitted values and forms y - fitted itself, whatever the
     * model's own residual scale (multiplicative models keep relative innovations). */
    r = kpi_anomaly_detect(rep->history.y, rep->model->fitted, rep->history.n, sensitivity, &rep->result);
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "cannot detect anomalies: %s", kpi_strerror(r));
        goto fail;
    }
    *ret_report = rep;
    return 0;
fail:
    kpi_anomalies_report_free(rep);
    return r;
}

/* ---- drivers */

struct segment {
    char *label;
    struct kpi_agg agg[2];
};

struct scan {
    const char *dim;    /* NULL: collect the first dim name into first_dim */
    char first_dim[65]; /* the smallest dim name seen */
    int side;           /* 0 before, 1 after */
    struct segment *segs;
    size_t n, cap;
    int error;
};

static int find_dim_cb(void *ctx, const struct kpi_point_row *row)
{
    struct scan *s = ctx;
    struct kpi_dim dims[KPI_DIMS_MAX];
    int n = kpi_dims_split(row->dims ? row->dims : "", dims, KPI_DIMS_MAX);
    for (int i = 0; i < n; i++) {
        if (dims[i].key_len >= sizeof(s->first_dim))
            continue;
        char name[65];
        memcpy(name, dims[i].key, dims[i].key_len);
        name[dims[i].key_len] = '\0';
        if (!s->first_dim[0] || strcmp(name, s->first_dim) < 0)
            memcpy(s->first_dim, name, dims[i].key_len + 1);
    }
    return 0;
}

static struct segment *segment_get(struct scan *s, const char *value, size_t len)
{
    for (size_t i = s->n; i > 0; i--)
        if (strlen(s->segs[i - 1].label) == len && memcmp(s->segs[i - 1].label, value, len) == 0)
            return &s->segs[i - 1];
    if (s->n >= KPI_DRIVERS_MAX_SEGMENTS)
        return NULL;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct segment *segs = realloc(s->segs, cap * sizeof(*segs));
        if (!segs)
            return NULL;
        s->segs = segs;
        s->cap = cap;
    }
    struct segment *g = &s->segs[s->n];
    g->label = malloc(len + 1);
    if (!g->label)
        return NULL;
    memcpy(g->label, value, len);
    g->label[len] = '\0';
    kpi_agg_init(&g->agg[0]);
    kpi_agg_init(&g->agg[1]);
    s->n++;
    return g;
}

static int group_cb(void *ctx, const struct kpi_point_row *row)
{
    struct scan *s = ctx;
    struct kpi_dim dims[KPI_DIMS_MAX];
    int n = kpi_dims_split(row->dims ? row->dims : "", dims, KPI_DIMS_MAX);
    const char *value = NO_SEGMENT;
    size_t len = strlen(NO_SEGMENT);
    for (int i = 0; i < n; i++) {
        if (dims[i].key_len == strlen(s->dim) && memcmp(dims[i].key, s->dim, dims[i].key_len) == 0) {
            value = dims[i].value;
            len = dims[i].value_len;
        }
    }
    struct segment *g = segment_get(s, value, len);
    if (!g) {
        s->error = s->n >= KPI_DRIVERS_MAX_SEGMENTS ? -E2BIG : -ENOMEM;
        return s->error;
    }
    kpi_agg_add(&g->agg[s->side], row->at_ms, row->value);
    return 0;
}

static void scan_free(struct scan *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->segs[i].label);
    free(s->segs);
}

/* A period from a label, or the KPI's period containing a date. */
static int parse_period(const struct kpi_calendar *cal, const struct kpi_def *d, const char *text, struct kpi_period *ret)
{
    int64_t day;
    if (kpi_date_parse(text, strlen(text), &day) == 0)
        return kpi_period_of_day(cal, d->granularity, day, ret);
    return kpi_period_parse(cal, text, strlen(text), ret);
}

struct kpi_drivers_report *kpi_drivers_report_free(struct kpi_drivers_report *r)
{
    if (!r)
        return NULL;
    kpi_driver_result_free(r->result);
    kpi_def_clear(&r->def);
    free(r);
    return NULL;
}

/* Reads the points of both periods grouped by the report's dim (choosing the first dim when it is
 * empty) and computes the drivers. */
static int drivers_compute(struct kpi_store *s, const struct kpi_calendar *cal, struct kpi_drivers_report *rep,
                           struct kpi_diag *diag)
{
    const struct kpi_def *d = &rep->def;
    struct scan sc = {0};
    struct kpi_driver_input *in = NULL;
    struct kpi_point_query q[2];
    for (int i = 0; i < 2; i++)
        q[i] = (struct kpi_point_query){d->id, kpi_period_start_ms(cal, &rep->periods[i]), kpi_period_end_ms(cal, &rep->periods[i]),
                                        NULL};
    int r = 0;
    if (!rep->dim[0]) {
        for (int i = 0; i < 2 && r >= 0; i++)
            r = kpi_store_points_scan(s, &q[i], find_dim_cb, &sc);
        if (r < 0) {
            r = kpi_diag_set(diag, data_code(r), "cannot read points: %s", kpi_strerror(r));
            goto out;
        }
        if (!sc.first_dim[0]) {
            r = kpi_diag_set(diag, -ENODATA, "the points of %s in these periods carry no dims to explain the change by", d->key);
            goto out;
        }
        memcpy(rep->dim, sc.first_dim, sizeof(rep->dim));
    }
    sc.dim = rep->dim;
    for (int i = 0; i < 2 && r >= 0; i++) {
        sc.side = i;
        r = kpi_store_points_scan(s, &q[i], group_cb, &sc);
    }
    if (r < 0 || sc.error < 0) {
        int e = sc.error < 0 ? sc.error : r;
        r = kpi_diag_set(diag, data_code(e), "cannot read points: %s", kpi_strerror(e));
        goto out;
    }
    in = calloc(sc.n ? sc.n : 1, sizeof(*in));
    if (!in) {
        r = kpi_diag_set(diag, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < sc.n; i++) {
        in[i].segment = sc.segs[i].label;
        in[i].has_before = kpi_agg_value(&sc.segs[i].agg[0], d->aggregation, &in[i].before) && sc.segs[i].agg[0].n > 0;
        in[i].has_after = kpi_agg_value(&sc.segs[i].agg[1], d->aggregation, &in[i].after) && sc.segs[i].agg[1].n > 0;
        if (!in[i].has_before)
            in[i].before = 0;
        if (!in[i].has_after)
            in[i].after = 0;
        in[i].weight_before = (double)sc.segs[i].agg[0].n;
        in[i].weight_after = (double)sc.segs[i].agg[1].n;
    }
    struct kpi_driver_options dopt = {d->aggregation, true};
    r = kpi_drivers_compute(in, sc.n, &dopt, &rep->result);
    if (r == -EOPNOTSUPP)
        r = kpi_diag_set(diag, r, "%s aggregates with %s, which does not split into segments (sum, count and avg do)", d->key,
                         rep->aggregation);
    else if (r == -ENODATA)
        r = kpi_diag_set(diag, r, "%s has no data in one of the periods", d->key);
    else if (r < 0)
        r = kpi_diag_set(diag, data_code(r), "cannot compute the drivers: %s", kpi_strerror(r));
out:
    free(in);
    scan_free(&sc);
    return r;
}

int kpi_analysis_drivers(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, const char *from, const char *to,
                         const char *dim, struct kpi_drivers_report **ret_report, struct kpi_diag *diag)
{
    if (!from || !from[0])
        return kpi_diag_set(diag, -EINVAL, "from: a period (2026-03, 2026-Q1, 2026-W05) or a date is required");
    if (!to || !to[0])
        return kpi_diag_set(diag, -EINVAL, "to: a period (2026-03, 2026-Q1, 2026-W05) or a date is required");
    if (dim && !kpi_dim_key_valid(dim, strlen(dim)))
        return kpi_diag_set(diag, -EINVAL, "dim: '%s' is not a dimension name", dim);
    struct kpi_drivers_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        return kpi_diag_set(diag, -ENOMEM, "out of memory");
    kpi_def_init(&rep->def);
    if (dim)
        memcpy(rep->dim, dim, strlen(dim) + 1);
    int r = kpi_store_kpi_get(s, key, &rep->def);
    if (r == -ENOENT) {
        r = kpi_diag_set(diag, r, "no KPI with key '%s'", key);
        goto fail;
    }
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "cannot read KPI '%s': %s", key, kpi_strerror(r));
        goto fail;
    }
    const struct kpi_def *d = &rep->def;
    if (parse_period(cal, d, from, &rep->periods[0]) < 0) {
        r = kpi_diag_set(diag, -EINVAL, "from: '%s' is not a period (2026-03, 2026-Q1, 2026-W05) or a date", from);
        goto fail;
    }
    if (parse_period(cal, d, to, &rep->periods[1]) < 0) {
        r = kpi_diag_set(diag, -EINVAL, "to: '%s' is not a period (2026-03, 2026-Q1, 2026-W05) or a date", to);
        goto fail;
    }
    if (rep->periods[0].first_day > rep->periods[1].first_day) {
        r = kpi_diag_set(diag, -EINVAL, "from (%s) is after to (%s)", from, to);
        goto fail;
    }
    if (d->formula) {
        r = kpi_diag_set(diag, -EOPNOTSUPP, "%s is derived (a formula); driver analysis needs a measured KPI with dims", d->key);
        goto fail;
    }
    rep->aggregation = kpi_enum_aggregation.names[d->aggregation];
    r = drivers_compute(s, cal, rep, diag);
    if (r < 0)
        goto fail;
    kpi_period_format(cal, &rep->periods[0], rep->from, sizeof(rep->from));
    kpi_period_format(cal, &rep->periods[1], rep->to, sizeof(rep->to));
    *ret_report = rep;
    return 0;
fail:
    kpi_drivers_report_free(rep);
    return r;
}

/* ---- correlate */

struct candidate {
    const struct kpi_def *other;
    struct kpi_correlate_result r;
};

static int candidate_cmp(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    double ax = fabs(x->r.best_r), ay = fabs(y->r.best_r);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return strcmp(x->other->key, y->other->key);
}

/* Values and has-flags of d's rows over [from_day, to_day] at granularity g. */
static int load_series(struct kpi_eval *ev, const struct kpi_def *d, enum kpi_granularity g, int64_t from_day, int64_t to_day,
                       double *v, bool *has, size_t n, struct kpi_diag *diag)
{
    struct kpi_series_row *rows = NULL;
    size_t n_rows = 0;
    int r = kpi_eval_series(ev, d, g, from_day, to_day, NULL, &rows, &n_rows, NULL, diag);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        bool ok = i < n_rows && rows[i].n_points > 0 && rows[i].has_value && isfinite(rows[i].value);
        has[i] = ok;
        v[i] = ok ? rows[i].value : 0;
    }
    free(rows);
    return 0;
}

static const char *leader_of(const struct kpi_def *a, const struct candidate *c)
{
    switch (c->r.leader) {
    case KPI_CORRELATE_A_LEADS:
        return a->key;
    case KPI_CORRELATE_B_LEADS:
        return c->other->key;
    default:
        return "together";
    }
}

struct kpi_correlate_report *kpi_correlate_report_free(struct kpi_correlate_report *r)
{
    if (!r)
        return NULL;
    free(r->pairs);
    kpi_eval_free(r->ev);
    if (r->defs)
        kpi_store_kpi_list_free(r->defs, r->n_defs);
    free(r);
    return NULL;
}

/* Compares rep->def with the other KPIs over the periods [first, last] (n of them). */
static int correlate_all(struct kpi_correlate_report *rep, const struct kpi_def *only, int64_t first, int64_t last, size_t n,
                         struct kpi_diag *diag)
{
    const struct kpi_def *d = rep->def;
    enum kpi_granularity g = rep->granularity;
    size_t nn = n ? n : 1;
    double *av = calloc(nn, sizeof(*av));
    double *bv = calloc(nn, sizeof(*bv));
    bool *ah = calloc(nn, sizeof(*ah));
    bool *bh = calloc(nn, sizeof(*bh));
    struct candidate *cands = calloc(rep->n_defs ? rep->n_defs : 1, sizeof(*cands));
    rep->pairs = calloc(rep->n_defs ? rep->n_defs : 1, sizeof(*rep->pairs));
    struct kpi_diag ediag = {""};
    int r = 0;
    if (!av || !bv || !ah || !bh || !cands || !rep->pairs) {
        r = kpi_diag_set(diag, -ENOMEM, "out of memory");
        goto out;
    }
    r = load_series(rep->ev, d, g, first, last, av, ah, n, &ediag);
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "%s", ediag.msg[0] ? ediag.msg : kpi_strerror(r));
        goto out;
    }
    struct kpi_correlate_options copt;
    kpi_correlate_options_init(&copt);
    copt.max_lag = rep->max_lag;
    size_t n_sig = 0;
    for (size_t i = 0; i < rep->n_defs; i++) {
        const struct kpi_def *o = &rep->defs[i];
        if (o == d || (only && o != only) || (!only && (o->archived || o->granularity != g)))
            continue;
        ediag.msg[0] = '\0';
        r = load_series(rep->ev, o, g, first, last, bv, bh, n, &ediag);
        if (r < 0) {
            if (only) {
                r = kpi_diag_set(diag, data_code(r), "%s: %s", o->key, ediag.msg[0] ? ediag.msg : kpi_strerror(r));
                goto out;
            }
            continue;
        }
        rep->compared++;
        struct kpi_correlate_result cr;
        r = kpi_correlate_compute(av, ah, bv, bh, n, &copt, &cr);
        if (r < 0 || !cr.has_best)
            continue;
        cands[n_sig++] = (struct candidate){o, cr};
    }
    r = 0;
    qsort(cands, n_sig, sizeof(*cands), candidate_cmp);
    for (size_t i = 0; i < n_sig; i++)
        rep->pairs[i] = (struct kpi_analysis_pair){cands[i].other, cands[i].r.best_lag, cands[i].r.best_r, cands[i].r.best_n_pairs,
                                                   leader_of(d, &cands[i])};
    rep->n_pairs = n_sig;
out:
    free(av);
    free(bv);
    free(ah);
    free(bh);
    free(cands);
    return r;
}

int kpi_analysis_correlate(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, const char *with, int max_lag,
                           int64_t as_of_day, struct kpi_correlate_report **ret_report, struct kpi_diag *diag)
{
    if (max_lag < 0 || max_lag > KPI_CORRELATE_MAX_LAG)
        return kpi_diag_set(diag, -EINVAL, "max_lag: %d is not a number of periods from 0 to %d", max_lag, KPI_CORRELATE_MAX_LAG);
    struct kpi_correlate_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        return kpi_diag_set(diag, -ENOMEM, "out of memory");
    rep->max_lag = max_lag;
    const struct kpi_def *d = NULL;
    int r = load_kpi(s, cal, key, as_of_day, &rep->defs, &rep->n_defs, &rep->ev, &d, diag);
    if (r < 0)
        goto fail;
    rep->def = d;
    const struct kpi_def *only = NULL;
    if (with) {
        only = kpi_eval_find(rep->ev, with);
        if (!only) {
            r = kpi_diag_set(diag, -EINVAL, "with: no KPI with key '%s'", with);
            goto fail;
        }
        if (only == d) {
            r = kpi_diag_set(diag, -EINVAL, "with: names the KPI itself");
            goto fail;
        }
    }
    enum kpi_granularity g = d->granularity;
    rep->granularity = g;
    int64_t first = 0, last = 0;
    r = kpi_eval_span(rep->ev, d, &first, &last);
    if (r == -ENOENT) {
        r = kpi_diag_set(diag, -ENODATA, "%s has no data", d->key);
        goto fail;
    }
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "cannot read points: %s", kpi_strerror(r));
        goto fail;
    }
    struct kpi_period pf, pl;
    if (kpi_period_of_day(cal, g, first, &pf) < 0 || kpi_period_of_day(cal, g, last, &pl) < 0) {
        r = kpi_diag_set(diag, -EDOM, "the data of %s lies outside the calendar", d->key);
        goto fail;
    }
    struct kpi_series_row *rows = NULL;
    size_t n = 0;
    struct kpi_diag ediag = {""};
    r = kpi_eval_series(rep->ev, d, g, first, last, NULL, &rows, &n, NULL, &ediag);
    free(rows);
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "%s", ediag.msg[0] ? ediag.msg : kpi_strerror(r));
        goto fail;
    }
    if (n > KPI_CORRELATE_MAX_POINTS) {
        r = kpi_diag_set(diag, -E2BIG, "%s spans more than %d periods", d->key, KPI_CORRELATE_MAX_POINTS);
        goto fail;
    }
    r = correlate_all(rep, only, first, last, n, diag);
    if (r < 0)
        goto fail;
    *ret_report = rep;
    return 0;
fail:
    kpi_correlate_report_free(rep);
    return r;
}

/* ---- insights */

/* The probability of meeting d's next target (the first one due after the as-of day), from a
 * forecast of its history up to that target's period. false when there is none to compute. */
static bool next_target_p(struct kpi_eval *ev, const struct kpi_calendar *cal, const struct kpi_def *d, int64_t as_of_day,
                          const struct kpi_target **ret_target, double *ret_p)
{
    if (d->direction == KPI_DIR_RANGE)
        return false;
    const struct kpi_target *t = NULL;
    for (size_t i = 0; i < d->n_targets && !t; i++)
        if (d->targets[i].day > as_of_day)
            t = &d->targets[i];
    if (!t)
        return false;
    struct kpi_analysis_history h;
    struct kpi_diag diag = {""};
    bool ok = false;
    struct kpi_forecast *f = NULL;
    if (history_prepare(ev, d, as_of_day, &h, &diag) == 0) {
        /* Steps from the last period of history to the period holding the target date. */
        size_t steps = 0;
        struct kpi_period p = h.periods[h.n - 1];
        while (p.last_day < t->day && steps < TARGET_STEPS_MAX && kpi_period_shift(cal, &p, 1, &p) == 0)
            steps++;
        struct kpi_forecast_options fo = {season_of(d->granularity), (int)(steps ? steps : 1), KPI_ANALYSIS_SEED};
        if (steps > 0 && p.last_day >= t->day && kpi_forecast_fit(h.y, h.n, &fo, &f) == 0)
            ok = kpi_forecast_p_target(f, steps, t->value, d->direction == KPI_DIR_UP, ret_p) == 0;
    }
    kpi_forecast_free(f);
    history_clear(&h);
    if (ok)
        *ret_target = t;
    return ok;
}

static int severity(enum kpi_status s)
{
    static const int order[] = {[KPI_STATUS_OFF_TRACK] = 0,
                                [KPI_STATUS_AT_RISK] = 1,
                                [KPI_STATUS_ON_TRACK] = 2,
                                [KPI_STATUS_NO_TARGET] = 3,
                                [KPI_STATUS_NO_DATA] = 4};
    return (unsigned)s < KPI_STATUS__COUNT ? order[s] : 5;
}

struct kpi_insights_report *kpi_insights_report_free(struct kpi_insights_report *r)
{
    if (!r)
        return NULL;
    free(r->items);
    kpi_scorecard_free(r->scorecard);
    free(r);
    return NULL;
}

int kpi_analysis_insights(struct kpi_store *s, const struct kpi_calendar *cal, const char *team, int64_t as_of_day,
                          struct kpi_insights_report **ret_report, struct kpi_diag *diag)
{
    struct kpi_insights_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        return kpi_diag_set(diag, -ENOMEM, "out of memory");
    rep->as_of_day = as_of_day;
    struct kpi_eval *ev = NULL;
    const struct kpi_def **defs = NULL;
    enum kpi_status *statuses = NULL;
    size_t *order = NULL;
    struct kpi_diag sdiag = {""};
    int r = kpi_scorecard_build(s, cal, as_of_day, &rep->scorecard, &sdiag);
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "%s", sdiag.msg[0] ? sdiag.msg : kpi_strerror(r));
        goto out;
    }
    const struct kpi_scorecard *sc = rep->scorecard;
    defs = calloc(sc->n_defs + 1, sizeof(*defs));
    statuses = calloc(sc->n_defs + 1, sizeof(*statuses));
    rep->items = calloc(sc->n_defs + 1, sizeof(*rep->items));
    order = calloc(sc->n_defs + 1, sizeof(*order));
    r = defs && statuses && rep->items && order ? kpi_eval_new(s, cal, sc->defs, sc->n_defs, as_of_day, &ev) : -ENOMEM;
    if (r < 0) {
        r = kpi_diag_set(diag, data_code(r), "%s", kpi_strerror(r));
        goto out;
    }
    /* Most urgent first: off track, at risk, on track, then the rest; by key within a status. */
    size_t n = 0;
    for (int level = 0; level <= 5; level++)
        for (size_t i = 0; i < sc->n_defs; i++)
            if (severity(sc->entries[i].status.status) == level && (!team || kpi_streq(sc->defs[i].team, team)))
                order[n++] = i;
    for (size_t k = 0; k < n; k++) {
        const struct kpi_scorecard_entry *e = &sc->entries[order[k]];
        struct kpi_analysis_insight *it = &rep->items[k];
        struct kpi_insight_input in = {cal, e->def, &e->status, NULL, false, 0};
        in.has_p = next_target_p(ev, cal, e->def, as_of_day, &in.target, &in.p);
        kpi_insight_kpi(&in, it->text, sizeof(it->text));
        it->def = e->def;
        it->status = e->status.status;
        it->has_p = in.has_p;
        it->p = in.p;
        defs[k] = e->def;
        statuses[k] = e->status.status;
    }
    rep->n_items = n;
    kpi_insight_scorecard(defs, statuses, n, rep->summary, sizeof(rep->summary));
    r = 0;
out:
    kpi_eval_free(ev);
    free(defs);
    free(statuses);
    free(order);
    if (r < 0) {
        kpi_insights_report_free(rep);
        return r;
    }
    *ret_report = rep;
    return 0;
}
