/*
 * `kpi forecast KEY` and `kpi anomalies KEY`: a KPI's period history (its granularity, up to the
 * as-of day) fitted with the ETS engine of kpi/forecast.h. forecast prints the chosen model and
 * why, a terminal chart of the history with the forecast and its 80/95% band, a table of the next
 * periods and, when a target falls due within the horizon, the probability of meeting it.
 * anomalies flags the periods whose residual against the model's one-step fits lies beyond the
 * robust MAD bound of kpi/anomaly.h.
 *
 * History preparation: trailing periods without data are dropped, so is an unfinished last period
 * of a sum or count KPI (its partial total would read as a collapse); gaps inside the history are
 * filled by linear interpolation (and the output says so).
 *
 * `kpi insights` turns the scorecard into sentences (kpi/insight.h), with the probability of
 * meeting each KPI's next target from the same forecast.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/str.h"
#include "cli/cli.h"
#include "json/json.h"
#include "kpi/anomaly.h"
#include "kpi/forecast.h"
#include "kpi/format.h"
#include "kpi/insight.h"
#include "kpi/status.h"
#include "kpi/time.h"
#include "store/evaluate.h"
#include "store/scorecard.h"

#define FORECAST_DEFAULT_HORIZON 12
#define FORECAST_SEED UINT64_C(20261123)
#define CHART_ROWS 16
#define CHART_COLS 80
#define CHART_LABEL 14

struct history {
    struct kpi_def *defs;
    size_t n_defs;
    struct kpi_eval *ev;
    const struct kpi_def *d;
    int64_t as_of_day;
    struct kpi_period *periods; /* n */
    double *y;                  /* n */
    size_t n;
    size_t n_filled;   /* interior gaps interpolated */
    bool dropped_last; /* unfinished sum/count period left out */
};

static void history_free(struct history *h)
{
    free(h->periods);
    free(h->y);
    kpi_eval_free(h->ev);
    if (h->defs)
        kpi_store_kpi_list_free(h->defs, h->n_defs);
    *h = (struct history){0};
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

static bool row_has_data(const struct kpi_series_row *r)
{
    return r->n_points > 0 && r->has_value && isfinite(r->value);
}

/* Reads the prepared history of h->d from h->ev as of h->as_of_day (see the file comment).
 * Returns 0, -ENOENT without data, or another negative code (diag says what). */
static int history_prepare(struct history *h, struct kpi_diag *diag)
{
    struct kpi_series_row *rows = NULL;
    size_t n_rows = 0;
    int r = kpi_eval_history(h->ev, h->d, &rows, &n_rows, diag);
    if (r < 0)
        return r;
    size_t first = 0, end = n_rows;
    while (first < end && !row_has_data(&rows[first]))
        first++;
    while (end > first && !row_has_data(&rows[end - 1]))
        end--;
    enum kpi_aggregation agg = h->d->aggregation;
    if (end - first > 1 && !h->d->formula && (agg == KPI_AGG_SUM || agg == KPI_AGG_COUNT) &&
        h->as_of_day < rows[end - 1].period.last_day) {
        end--;
        h->dropped_last = true;
        while (end > first && !row_has_data(&rows[end - 1]))
            end--;
    }
    if (end == first) {
        free(rows);
        return -ENOENT;
    }
    h->n = end - first;
    h->periods = malloc(h->n * sizeof(*h->periods));
    h->y = malloc(h->n * sizeof(*h->y));
    if (!h->periods || !h->y) {
        free(rows);
        return -ENOMEM;
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

/* Opens the database, finds the KPI and reads its prepared history. Returns an exit code or -1. */
static int history_load(struct cli *c, const char *key, const char *as_of, struct history *h)
{
    *h = (struct history){0};
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    h->as_of_day = cli_today(c);
    if (as_of && kpi_date_parse(as_of, strlen(as_of), &h->as_of_day) < 0)
        return cli_usage(c, "as-of: '%s' is not a date (YYYY-MM-DD)", as_of);
    int r = kpi_store_kpi_list(c->store, true, &h->defs, &h->n_defs);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list KPIs: %s", kpi_strerror(r));
    r = kpi_eval_new(c->store, &c->cal, h->defs, h->n_defs, h->as_of_day, &h->ev);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", kpi_strerror(r));
    h->d = kpi_eval_find(h->ev, key);
    if (!h->d)
        return cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", key);
    struct kpi_diag diag = {""};
    r = history_prepare(h, &diag);
    if (r == -ENOENT)
        return cli_fail(c, EXIT_RUNTIME, "%s has no data%s", h->d->key, as_of ? " as of that day" : "");
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
    return -1;
}

/* "AAdN" -> "ETS(A,Ad,N)"; the fallbacks by their method. */
static void model_label(const struct kpi_forecast *f, char *buf, size_t size)
{
    if (!f->model[0]) {
        snprintf(buf, size, "%s", f->method);
        return;
    }
    const char *m = f->model;
    bool damped = m[2] == 'd';
    snprintf(buf, size, "ETS(%c,%c%s,%c)", m[0], m[1], damped ? "d" : "", damped ? m[3] : m[2]);
}

static void print_model(const struct history *h, const struct kpi_forecast *f, int season)
{
    char label[32];
    model_label(f, label, sizeof(label));
    printf("Model: %s", label);
    if (strcmp(f->method, "ets") == 0) {
        printf(", chosen by AICc (%.2f) among the ETS models fitted to %zu periods", f->aicc, h->n);
        if (season > 1)
            printf(" (season %d)", season);
        printf("\n  alpha %.4f", f->alpha);
        if (f->model[1] == 'A')
            printf("  beta %.4f", f->beta);
        if (f->model[2] == 'd')
            printf("  phi %.4f", f->phi);
        if (f->gamma > 0)
            printf("  gamma %.4f", f->gamma);
        printf("  sigma2 %.6g  intervals %s", f->sigma2, f->simulated ? "simulated" : "analytic");
    } else {
        printf(" (%zu period%s)", h->n, h->n == 1 ? "" : "s");
    }
    printf("\n");
    if (f->note[0])
        printf("Note: %s\n", f->note);
    if (h->n_filled)
        printf("Note: %zu period%s without data filled by interpolation\n", h->n_filled, h->n_filled == 1 ? "" : "s");
    if (h->dropped_last)
        printf("Note: the unfinished last period is left out of the history\n");
}

static int chart_row(double v, double lo, double hi)
{
    if (!(hi > lo))
        return CHART_ROWS / 2;
    int r = (int)lround((hi - v) / (hi - lo) * (CHART_ROWS - 1));
    return r < 0 ? 0 : (r > CHART_ROWS - 1 ? CHART_ROWS - 1 : r);
}

/* History as '·', the forecast as '*', the 80% band '▒' and the 95% band '░'; one column per
 * period, at most CHART_COLS columns (the latest history, then the first forecast steps). */
static void print_chart(const struct cli *c, const struct history *h, const struct kpi_forecast *f)
{
    size_t fc = f->h < CHART_COLS / 2 ? f->h : CHART_COLS / 2;
    size_t hist = h->n < CHART_COLS - fc ? h->n : CHART_COLS - fc;
    size_t h0 = h->n - hist;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = h0; i < h->n; i++) {
        lo = fmin(lo, h->y[i]);
        hi = fmax(hi, h->y[i]);
    }
    for (size_t i = 0; i < fc; i++) {
        lo = fmin(lo, f->lo95[i]);
        hi = fmax(hi, f->hi95[i]);
    }
    if (!(hi > lo)) {
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    printf("\n");
    for (int r = 0; r < CHART_ROWS; r++) {
        char label[64] = "";
        if (r % 5 == 0 || r == CHART_ROWS - 1)
            kpi_value_format(h->d, hi - (hi - lo) * r / (CHART_ROWS - 1), label, sizeof(label));
        printf("%*.*s ┤", CHART_LABEL, CHART_LABEL, label);
        for (size_t i = h0; i < h->n; i++)
            fputs(chart_row(h->y[i], lo, hi) == r ? "·" : " ", stdout);
        for (size_t i = 0; i < fc; i++) {
            const char *g = " ";
            if (chart_row(f->mean[i], lo, hi) == r)
                g = "*";
            else if (r >= chart_row(f->hi80[i], lo, hi) && r <= chart_row(f->lo80[i], lo, hi))
                g = "▒";
            else if (r >= chart_row(f->hi95[i], lo, hi) && r <= chart_row(f->lo95[i], lo, hi))
                g = "░";
            fputs(g, stdout);
        }
        printf("\n");
    }
    char a[KPI_PERIOD_LABEL_MAX], b[KPI_PERIOD_LABEL_MAX];
    kpi_period_format(&c->cal, &h->periods[h0], a, sizeof(a));
    kpi_period_format(&c->cal, &h->periods[h->n - 1], b, sizeof(b));
    printf("%*s  %s .. %s (history ·)  then %zu period%s of forecast (* mean, ▒ 80%%, ░ 95%%)\n\n", CHART_LABEL, "", a, b, fc,
           fc == 1 ? "" : "s");
}

struct forecast_opts {
    int horizon;
    const char *as_of;
    double sensitivity;
};

/* Parses the options of forecast (sensitivity false) or anomalies. Returns an exit code or -1. */
static int parse_opts(struct cli *c, int argc, char **argv, bool anomalies, struct forecast_opts *o)
{
    enum { OPT_HORIZON = OPT_FIRST_COMMAND_OPTION, OPT_SENS, OPT_AS_OF };
    static const struct option fopts[] = {
        {"horizon", required_argument, NULL, OPT_HORIZON}, {"as-of", required_argument, NULL, OPT_AS_OF}, CLI_COMMON_OPTIONS, {0}};
    static const struct option aopts[] = {
        {"sensitivity", required_argument, NULL, OPT_SENS}, {"as-of", required_argument, NULL, OPT_AS_OF}, CLI_COMMON_OPTIONS, {0}};
    *o = (struct forecast_opts){FORECAST_DEFAULT_HORIZON, NULL, KPI_ANOMALY_DEFAULT_SENSITIVITY};
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, anomalies ? aopts : fopts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        char *end = NULL;
        switch (opt) {
        case OPT_HORIZON: {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 1 || v > KPI_FORECAST_MAX_HORIZON)
                return cli_usage(c, "horizon: '%s' is not a number of periods from 1 to %d", optarg, KPI_FORECAST_MAX_HORIZON);
            o->horizon = (int)v;
            break;
        }
        case OPT_SENS: {
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !isfinite(v) || v <= 0)
                return cli_usage(c, "sensitivity: '%s' is not a positive number", optarg);
            o->sensitivity = v;
            break;
        }
        case OPT_AS_OF:
            o->as_of = optarg;
            break;
        }
    }
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    return -1;
}

/* The latest up/down target whose date falls in a forecast period after the as-of day. */
static bool find_p_target(const struct history *h, const struct kpi_forecast *f, const struct kpi_period *periods,
                          struct kpi_json_p_target *ret)
{
    const struct kpi_def *d = h->d;
    if (d->direction == KPI_DIR_RANGE || d->n_targets == 0)
        return false;
    bool found = false;
    for (size_t i = 0; i < f->h; i++) {
        const struct kpi_target *t = kpi_target_choose(d->targets, d->n_targets, periods[i].last_day);
        if (!t || t->day <= h->as_of_day || t->day < periods[i].first_day || t->day > periods[i].last_day)
            continue;
        double p = 0;
        if (kpi_forecast_p_target(f, i + 1, t->value, d->direction == KPI_DIR_UP, &p) < 0)
            continue;
        *ret = (struct kpi_json_p_target){t->value, t->day, p};
        found = true;
    }
    return found;
}

int cmd_forecast(struct cli *c, int argc, char **argv)
{
    struct forecast_opts o;
    int rc = parse_opts(c, argc, argv, false, &o);
    if (rc >= 0)
        return rc;
    const char *key = argv[optind];
    struct history h;
    struct kpi_forecast *f = NULL;
    struct kpi_period *periods = NULL;
    rc = history_load(c, key, o.as_of, &h);
    if (rc >= 0)
        goto out;
    rc = EXIT_OK;
    int season = season_of(h.d->granularity);
    struct kpi_forecast_options fo = {season, o.horizon, FORECAST_SEED};
    int r = kpi_forecast_fit(h.y, h.n, &fo, &f);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot fit a forecast: %s", kpi_strerror(r));
        goto out;
    }
    periods = malloc(f->h * sizeof(*periods));
    if (!periods) {
        rc = cli_fail(c, EXIT_RUNTIME, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < f->h; i++) {
        r = kpi_period_shift(&c->cal, &h.periods[h.n - 1], (int64_t)i + 1, &periods[i]);
        if (r < 0) {
            rc = cli_fail(c, EXIT_RUNTIME, "the horizon runs past the calendar: %s", kpi_strerror(r));
            goto out;
        }
    }
    struct kpi_json_p_target pt = {0, 0, 0};
    bool has_pt = find_p_target(&h, f, periods, &pt);
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_forecast(&b, &c->cal, h.d->key, f, periods, has_pt ? &pt : NULL, KPI_JSON_PRETTY);
        if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r));
        else
            rc = cli_print_buf(c, &b);
        goto out;
    }
    char first[KPI_PERIOD_LABEL_MAX];
    kpi_period_format(&c->cal, &periods[0], first, sizeof(first));
    printf("%s%s%s: forecast of %zu %s period%s from %s\n", h.d->key, h.d->name ? " — " : "", h.d->name ? h.d->name : "", f->h,
           kpi_granularity_to_string(h.d->granularity), f->h == 1 ? "" : "s", first);
    print_model(&h, f, season);
    print_chart(c, &h, f);
    printf("%-12s %16s %34s %34s\n", "PERIOD", "MEAN", "80% INTERVAL", "95% INTERVAL");
    for (size_t i = 0; i < f->h; i++) {
        char label[KPI_PERIOD_LABEL_MAX], mean[64], a[64], b[64], lo[64], hi[64], i80[140], i95[140];
        kpi_period_format(&c->cal, &periods[i], label, sizeof(label));
        kpi_value_format(h.d, f->mean[i], mean, sizeof(mean));
        kpi_value_format(h.d, f->lo80[i], a, sizeof(a));
        kpi_value_format(h.d, f->hi80[i], b, sizeof(b));
        kpi_value_format(h.d, f->lo95[i], lo, sizeof(lo));
        kpi_value_format(h.d, f->hi95[i], hi, sizeof(hi));
        snprintf(i80, sizeof(i80), "%s .. %s", a, b);
        snprintf(i95, sizeof(i95), "%s .. %s", lo, hi);
        printf("%-12s %16s %34s %34s\n", label, mean, i80, i95);
    }
    if (has_pt) {
        char value[64], day[16];
        kpi_value_format(h.d, pt.value, value, sizeof(value));
        kpi_date_format(pt.day, day, sizeof(day));
        printf("\np_target: %.2f — the probability of %s %s by %s (the target date)\n", pt.probability,
               h.d->direction == KPI_DIR_UP ? "reaching at least" : "staying at or below", value, day);
    }
out:
    free(periods);
    kpi_forecast_free(f);
    history_free(&h);
    return rc;
}

int cmd_anomalies(struct cli *c, int argc, char **argv)
{
    struct forecast_opts o;
    int rc = parse_opts(c, argc, argv, true, &o);
    if (rc >= 0)
        return rc;
    const char *key = argv[optind];
    struct history h;
    struct kpi_forecast *f = NULL;
    struct kpi_anomaly_result *res = NULL;
    rc = history_load(c, key, o.as_of, &h);
    if (rc >= 0)
        goto out;
    rc = EXIT_OK;
    int season = season_of(h.d->granularity);
    struct kpi_forecast_options fo = {season, 1, FORECAST_SEED};
    int r = kpi_forecast_fit(h.y, h.n, &fo, &f);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot fit a model: %s", kpi_strerror(r));
        goto out;
    }
    /* The detector takes observed and fitted values and forms y - fitted itself, whatever the
     * model's own residual scale (multiplicative models keep relative innovations). */
    r = kpi_anomaly_detect(h.y, f->fitted, h.n, o.sensitivity, &res);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot detect anomalies: %s", kpi_strerror(r));
        goto out;
    }
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_anomalies(&b, &c->cal, h.d->key, f, h.periods, h.y, res, KPI_JSON_PRETTY);
        if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r));
        else
            rc = cli_print_buf(c, &b);
        goto out;
    }
    char label[32];
    model_label(f, label, sizeof(label));
    printf("%s: %zu anomal%s in %zu %s periods (model %s, sensitivity %g", h.d->key, res->n_items, res->n_items == 1 ? "y" : "ies",
           res->n_used, kpi_granularity_to_string(h.d->granularity), label, res->sensitivity);
    if (res->scale_kind == KPI_ANOMALY_SCALE_MEAN_AD)
        printf(", scale from the mean absolute deviation as the MAD is 0");
    printf(")\n");
    if (h.n_filled)
        printf("Note: %zu period%s without data filled by interpolation\n", h.n_filled, h.n_filled == 1 ? "" : "s");
    if (res->n_items == 0) {
        printf("No period lies beyond the bound.\n");
        goto out;
    }
    printf("%-12s %16s %16s %8s  %s\n", "PERIOD", "VALUE", "EXPECTED", "Z", "KIND");
    for (size_t i = 0; i < res->n_items; i++) {
        const struct kpi_anomaly *an = &res->items[i];
        char period[KPI_PERIOD_LABEL_MAX], value[64], expected[64];
        kpi_period_format(&c->cal, &h.periods[an->index], period, sizeof(period));
        kpi_value_format(h.d, h.y[an->index], value, sizeof(value));
        kpi_value_format(h.d, f->fitted[an->index], expected, sizeof(expected));
        printf("%-12s %16s %16s %+8.1f  %s\n", period, value, expected, an->z,
               an->direction == KPI_ANOMALY_SPIKE ? "spike" : "dip");
    }
out:
    kpi_anomaly_result_free(res);
    kpi_forecast_free(f);
    history_free(&h);
    return rc;
}

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
    struct history h = {.ev = ev, .d = d, .as_of_day = as_of_day};
    struct kpi_diag diag = {""};
    bool ok = false;
    struct kpi_forecast *f = NULL;
    if (history_prepare(&h, &diag) == 0) {
        /* Steps from the last period of history to the period holding the target date. */
        size_t steps = 0;
        struct kpi_period p = h.periods[h.n - 1];
        while (p.last_day < t->day && steps < 1000 && kpi_period_shift(cal, &p, 1, &p) == 0)
            steps++;
        struct kpi_forecast_options fo = {season_of(d->granularity), (int)(steps ? steps : 1), FORECAST_SEED};
        if (steps > 0 && p.last_day >= t->day && kpi_forecast_fit(h.y, h.n, &fo, &f) == 0)
            ok = kpi_forecast_p_target(f, steps, t->value, d->direction == KPI_DIR_UP, ret_p) == 0;
    }
    kpi_forecast_free(f);
    free(h.periods);
    free(h.y);
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

int cmd_insights(struct cli *c, int argc, char **argv)
{
    enum { OPT_TEAM = OPT_FIRST_COMMAND_OPTION, OPT_AS_OF };
    static const struct option opts[] = {
        {"team", required_argument, NULL, OPT_TEAM}, {"as-of", required_argument, NULL, OPT_AS_OF}, CLI_COMMON_OPTIONS, {0}};
    const char *team = NULL, *as_of = NULL;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_TEAM)
            team = optarg;
        else
            as_of = optarg;
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    int64_t as_of_day = cli_today(c);
    if (as_of && kpi_date_parse(as_of, strlen(as_of), &as_of_day) < 0)
        return cli_usage(c, "as-of: '%s' is not a date (YYYY-MM-DD)", as_of);
    struct kpi_scorecard *sc = NULL;
    struct kpi_eval *ev = NULL;
    struct kpi_diag diag = {""};
    int r = kpi_scorecard_build(c->store, &c->cal, as_of_day, &sc, &diag);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
    size_t n = 0;
    const struct kpi_def **defs = calloc(sc->n_defs + 1, sizeof(*defs));
    enum kpi_status *statuses = calloc(sc->n_defs + 1, sizeof(*statuses));
    struct kpi_json_insight *items = calloc(sc->n_defs + 1, sizeof(*items));
    size_t *order = calloc(sc->n_defs + 1, sizeof(*order));
    r = defs && statuses && items && order ? kpi_eval_new(c->store, &c->cal, sc->defs, sc->n_defs, as_of_day, &ev) : -ENOMEM;
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", kpi_strerror(r));
        goto out;
    }
    /* Most urgent first: off track, at risk, on track, then the rest; by key within a status. */
    for (int level = 0; level <= 5; level++)
        for (size_t i = 0; i < sc->n_defs; i++)
            if (severity(sc->entries[i].status.status) == level && (!team || kpi_streq(sc->defs[i].team, team)))
                order[n++] = i;
    for (size_t k = 0; k < n; k++) {
        const struct kpi_scorecard_entry *e = &sc->entries[order[k]];
        struct kpi_insight_input in = {&c->cal, e->def, &e->status, NULL, false, 0};
        in.has_p = next_target_p(ev, &c->cal, e->def, as_of_day, &in.target, &in.p);
        kpi_insight_kpi(&in, items[k].text, sizeof(items[k].text));
        items[k].kpi = e->def->key;
        items[k].status = e->status.status;
        items[k].has_p = in.has_p;
        items[k].p = in.p;
        defs[k] = e->def;
        statuses[k] = e->status.status;
    }
    char summary[KPI_INSIGHT_MAX];
    kpi_insight_scorecard(defs, statuses, n, summary, sizeof(summary));
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 64u << 20);
        r = kpi_json_insights(&b, as_of_day, summary, items, n, KPI_JSON_PRETTY);
        rc = r < 0 ? cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r)) : cli_print_buf(c, &b);
    } else {
        char day[16];
        kpi_date_format(as_of_day, day, sizeof(day));
        printf("As of %s: %s\n\n", day, summary);
        for (size_t k = 0; k < n; k++)
            printf("- %s\n", items[k].text);
        rc = EXIT_OK;
    }
out:
    kpi_eval_free(ev);
    free(defs);
    free(statuses);
    free(items);
    free(order);
    kpi_scorecard_free(sc);
    return rc;
}
