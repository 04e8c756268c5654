/*
 * `kpi forecast KEY` and `kpi anomalies KEY`: the rendering of the forecast and anomaly analyses of
 * store/analysis.h (a KPI's period history up to the as-of day fitted with the ETS engine of
 * kpi/forecast.h). forecast prints the chosen model and why, a terminal chart of the history with
 * the forecast and its 80/95% band, a table of the next periods and, when a target falls due within
 * the horizon, the probability of meeting it. anomalies lists the periods whose residual against
 * the model's one-step fits lies beyond the robust MAD bound of kpi/anomaly.h. The output says
 * when gaps in the history were interpolated or an unfinished last period left out.
 *
 * `kpi insights` prints the scorecard in sentences (kpi/insight.h), with the probability of
 * meeting each KPI's next target from the same forecast.
 *
 * --json prints the documents of json/json.h, the same the HTTP API answers.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "json/json.h"
#include "kpi/anomaly.h"
#include "kpi/forecast.h"
#include "kpi/format.h"
#include "kpi/time.h"
#include "store/analysis.h"

#define CHART_ROWS 16
#define CHART_COLS 80
#define CHART_LABEL 14

/* Reports a failed analysis: the diag's message; "no data" says when an as-of day was given. */
static int analysis_fail(struct cli *c, int r, const struct kpi_diag *diag, const char *as_of)
{
    const char *msg = diag->msg[0] ? diag->msg : kpi_strerror(r);
    return cli_fail(c, EXIT_RUNTIME, "%s%s", msg, r == -ENODATA && as_of ? " as of that day" : "");
}

/* Opens the database and parses the as-of day (today without one). Returns an exit code or -1. */
static int open_as_of(struct cli *c, const char *as_of, int64_t *ret_day)
{
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    int64_t day = cli_today(c);
    if (as_of && kpi_date_parse(as_of, strlen(as_of), &day) < 0)
        return cli_usage(c, "as-of: '%s' is not a date (YYYY-MM-DD)", as_of);
    *ret_day = day;
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

static void print_model(const struct kpi_analysis_history *h, const struct kpi_forecast *f, int season)
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
static void print_chart(const struct cli *c, const struct kpi_analysis_history *h, const struct kpi_forecast *f)
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
            kpi_value_format(h->def, hi - (hi - lo) * r / (CHART_ROWS - 1), label, sizeof(label));
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
    *o = (struct forecast_opts){KPI_ANALYSIS_DEFAULT_HORIZON, NULL, KPI_ANOMALY_DEFAULT_SENSITIVITY};
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

static void print_forecast(const struct cli *c, const struct kpi_forecast_report *rep)
{
    const struct kpi_analysis_history *h = &rep->history;
    const struct kpi_def *d = h->def;
    const struct kpi_forecast *f = rep->forecast;
    char first[KPI_PERIOD_LABEL_MAX];
    kpi_period_format(&c->cal, &rep->periods[0], first, sizeof(first));
    printf("%s%s%s: forecast of %zu %s period%s from %s\n", d->key, d->name ? " — " : "", d->name ? d->name : "", f->h,
           kpi_granularity_to_string(d->granularity), f->h == 1 ? "" : "s", first);
    print_model(h, f, rep->season);
    print_chart(c, h, f);
    printf("%-12s %16s %34s %34s\n", "PERIOD", "MEAN", "80% INTERVAL", "95% INTERVAL");
    for (size_t i = 0; i < f->h; i++) {
        char label[KPI_PERIOD_LABEL_MAX], mean[64], a[64], b[64], lo[64], hi[64], i80[140], i95[140];
        kpi_period_format(&c->cal, &rep->periods[i], label, sizeof(label));
        kpi_value_format(d, f->mean[i], mean, sizeof(mean));
        kpi_value_format(d, f->lo80[i], a, sizeof(a));
        kpi_value_format(d, f->hi80[i], b, sizeof(b));
        kpi_value_format(d, f->lo95[i], lo, sizeof(lo));
        kpi_value_format(d, f->hi95[i], hi, sizeof(hi));
        snprintf(i80, sizeof(i80), "%s .. %s", a, b);
        snprintf(i95, sizeof(i95), "%s .. %s", lo, hi);
        printf("%-12s %16s %34s %34s\n", label, mean, i80, i95);
    }
    if (rep->has_p_target) {
        const struct kpi_analysis_p_target *pt = &rep->p_target;
        char value[64], day[16];
        kpi_value_format(d, pt->value, value, sizeof(value));
        kpi_date_format(pt->day, day, sizeof(day));
        printf("\np_target: %.2f — the probability of %s %s by %s (the target date)\n", pt->probability,
               d->direction == KPI_DIR_UP ? "reaching at least" : "staying at or below", value, day);
    }
}

int cmd_forecast(struct cli *c, int argc, char **argv)
{
    struct forecast_opts o;
    int rc = parse_opts(c, argc, argv, false, &o);
    if (rc >= 0)
        return rc;
    const char *key = argv[optind];
    int64_t as_of_day = 0;
    rc = open_as_of(c, o.as_of, &as_of_day);
    if (rc >= 0)
        return rc;
    struct kpi_forecast_report *rep = NULL;
    struct kpi_diag diag = {""};
    int r = kpi_analysis_forecast(c->store, &c->cal, key, o.horizon, as_of_day, &rep, &diag);
    if (r < 0)
        return analysis_fail(c, r, &diag, o.as_of);
    if (c->json) {
        struct kpi_json_p_target pt = {rep->p_target.value, rep->p_target.day, rep->p_target.probability};
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_forecast(&b, &c->cal, rep->history.def->key, rep->forecast, rep->periods, rep->has_p_target ? &pt : NULL,
                              KPI_JSON_PRETTY);
        if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r));
        else
            rc = cli_print_buf(c, &b);
    } else {
        print_forecast(c, rep);
        rc = EXIT_OK;
    }
    kpi_forecast_report_free(rep);
    return rc;
}

static void print_anomalies(const struct cli *c, const struct kpi_anomalies_report *rep)
{
    const struct kpi_analysis_history *h = &rep->history;
    const struct kpi_def *d = h->def;
    const struct kpi_forecast *f = rep->model;
    const struct kpi_anomaly_result *res = rep->result;
    char label[32];
    model_label(f, label, sizeof(label));
    printf("%s: %zu anomal%s in %zu %s periods (model %s, sensitivity %g", d->key, res->n_items, res->n_items == 1 ? "y" : "ies",
           res->n_used, kpi_granularity_to_string(d->granularity), label, res->sensitivity);
    if (res->scale_kind == KPI_ANOMALY_SCALE_MEAN_AD)
        printf(", scale from the mean absolute deviation as the MAD is 0");
    printf(")\n");
    if (h->n_filled)
        printf("Note: %zu period%s without data filled by interpolation\n", h->n_filled, h->n_filled == 1 ? "" : "s");
    if (res->n_items == 0) {
        printf("No period lies beyond the bound.\n");
        return;
    }
    printf("%-12s %16s %16s %8s  %s\n", "PERIOD", "VALUE", "EXPECTED", "Z", "KIND");
    for (size_t i = 0; i < res->n_items; i++) {
        const struct kpi_anomaly *an = &res->items[i];
        char period[KPI_PERIOD_LABEL_MAX], value[64], expected[64];
        kpi_period_format(&c->cal, &h->periods[an->index], period, sizeof(period));
        kpi_value_format(d, h->y[an->index], value, sizeof(value));
        kpi_value_format(d, f->fitted[an->index], expected, sizeof(expected));
        printf("%-12s %16s %16s %+8.1f  %s\n", period, value, expected, an->z,
               an->direction == KPI_ANOMALY_SPIKE ? "spike" : "dip");
    }
}

int cmd_anomalies(struct cli *c, int argc, char **argv)
{
    struct forecast_opts o;
    int rc = parse_opts(c, argc, argv, true, &o);
    if (rc >= 0)
        return rc;
    const char *key = argv[optind];
    int64_t as_of_day = 0;
    rc = open_as_of(c, o.as_of, &as_of_day);
    if (rc >= 0)
        return rc;
    struct kpi_anomalies_report *rep = NULL;
    struct kpi_diag diag = {""};
    int r = kpi_analysis_anomalies(c->store, &c->cal, key, o.sensitivity, as_of_day, &rep, &diag);
    if (r < 0)
        return analysis_fail(c, r, &diag, o.as_of);
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_anomalies(&b, &c->cal, rep->history.def->key, rep->model, rep->history.periods, rep->history.y, rep->result,
                               KPI_JSON_PRETTY);
        if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r));
        else
            rc = cli_print_buf(c, &b);
    } else {
        print_anomalies(c, rep);
        rc = EXIT_OK;
    }
    kpi_anomalies_report_free(rep);
    return rc;
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
    int64_t as_of_day = 0;
    int rc = open_as_of(c, as_of, &as_of_day);
    if (rc >= 0)
        return rc;
    struct kpi_insights_report *rep = NULL;
    struct kpi_diag diag = {""};
    int r = kpi_analysis_insights(c->store, &c->cal, team, as_of_day, &rep, &diag);
    if (r < 0)
        return analysis_fail(c, r, &diag, NULL);
    if (c->json) {
        struct kpi_json_insight *items = calloc(rep->n_items + 1, sizeof(*items));
        if (!items) {
            kpi_insights_report_free(rep);
            return cli_fail(c, EXIT_RUNTIME, "%s", kpi_strerror(-ENOMEM));
        }
        for (size_t k = 0; k < rep->n_items; k++) {
            const struct kpi_analysis_insight *it = &rep->items[k];
            items[k] = (struct kpi_json_insight){.kpi = it->def->key, .status = it->status, .has_p = it->has_p, .p = it->p};
            snprintf(items[k].text, sizeof(items[k].text), "%s", it->text);
        }
        struct kpi_buf b;
        kpi_buf_init(&b, 64u << 20);
        r = kpi_json_insights(&b, as_of_day, rep->summary, items, rep->n_items, KPI_JSON_PRETTY);
        rc = r < 0 ? cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r)) : cli_print_buf(c, &b);
        free(items);
    } else {
        char day[16];
        kpi_date_format(as_of_day, day, sizeof(day));
        printf("As of %s: %s\n\n", day, rep->summary);
        for (size_t k = 0; k < rep->n_items; k++)
            printf("- %s\n", rep->items[k].text);
        rc = EXIT_OK;
    }
    kpi_insights_report_free(rep);
    return rc;
}
