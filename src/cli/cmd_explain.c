/*
 * `kpi drivers KEY --from P1 --to P2` and `kpi correlate KEY`: explaining a KPI's movements.
 * drivers splits the change of a measured KPI between two periods into the contributions of the
 * values of one dimension (kpi/drivers.h: the contributions add up to the total change exactly).
 * correlate compares the KPI's period series with every other non-archived KPI of the same
 * granularity at lags -L..+L (kpi/correlate.h, on first differences) and lists the significant
 * pairs by strength. It reports association and timing only, never a cause.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "json/json.h"
#include "kpi/correlate.h"
#include "kpi/dims.h"
#include "kpi/drivers.h"
#include "kpi/format.h"
#include "kpi/series.h"
#include "kpi/time.h"
#include "store/evaluate.h"

#define NO_SEGMENT "(none)"

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
static int parse_period(struct cli *c, const struct kpi_def *d, const char *text, struct kpi_period *ret)
{
    int64_t day;
    if (kpi_date_parse(text, strlen(text), &day) == 0)
        return kpi_period_of_day(&c->cal, d->granularity, day, ret);
    return kpi_period_parse(&c->cal, text, strlen(text), ret);
}

int cmd_drivers(struct cli *c, int argc, char **argv)
{
    enum { OPT_FROM = OPT_FIRST_COMMAND_OPTION, OPT_TO, OPT_DIM };
    static const struct option opts[] = {{"from", required_argument, NULL, OPT_FROM},
                                         {"to", required_argument, NULL, OPT_TO},
                                         {"dim", required_argument, NULL, OPT_DIM},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    const char *from = NULL, *to = NULL, *dim = NULL;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_FROM)
            from = optarg;
        else if (opt == OPT_TO)
            to = optarg;
        else if (opt == OPT_DIM)
            dim = optarg;
    }
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    if (!from || !to)
        return cli_usage(c, "--from and --to are required");
    if (dim && !kpi_dim_key_valid(dim, strlen(dim)))
        return cli_usage(c, "dim: '%s' is not a dimension name", dim);
    const char *key = argv[optind];
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def d;
    kpi_def_init(&d);
    struct scan s = {0};
    struct kpi_driver_input *in = NULL;
    struct kpi_driver_result *res = NULL;
    int r = kpi_store_kpi_get(c->store, key, &d);
    if (r == -ENOENT) {
        rc = cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", key);
        goto out;
    }
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot read KPI '%s': %s", key, kpi_strerror(r));
        goto out;
    }
    struct kpi_period p[2];
    if (parse_period(c, &d, from, &p[0]) < 0) {
        rc = cli_usage(c, "from: '%s' is not a period (2026-03, 2026-Q1, 2026-W05) or a date", from);
        goto out;
    }
    if (parse_period(c, &d, to, &p[1]) < 0) {
        rc = cli_usage(c, "to: '%s' is not a period (2026-03, 2026-Q1, 2026-W05) or a date", to);
        goto out;
    }
    if (p[0].first_day > p[1].first_day) {
        rc = cli_usage(c, "from (%s) is after to (%s)", from, to);
        goto out;
    }
    if (d.formula) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s is derived (a formula); driver analysis needs a measured KPI with dims", d.key);
        goto out;
    }
    struct kpi_point_query q[2];
    for (int i = 0; i < 2; i++)
        q[i] = (struct kpi_point_query){d.id, kpi_period_start_ms(&c->cal, &p[i]), kpi_period_end_ms(&c->cal, &p[i]), NULL};
    if (!dim) {
        for (int i = 0; i < 2 && r >= 0; i++)
            r = kpi_store_points_scan(c->store, &q[i], find_dim_cb, &s);
        if (r < 0) {
            rc = cli_fail(c, EXIT_RUNTIME, "cannot read points: %s", kpi_strerror(r));
            goto out;
        }
        if (!s.first_dim[0]) {
            rc = cli_fail(c, EXIT_RUNTIME, "the points of %s in these periods carry no dims to explain the change by", d.key);
            goto out;
        }
        dim = s.first_dim;
    }
    s.dim = dim;
    for (int i = 0; i < 2 && r >= 0; i++) {
        s.side = i;
        r = kpi_store_points_scan(c->store, &q[i], group_cb, &s);
    }
    if (r < 0 || s.error < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot read points: %s", kpi_strerror(s.error < 0 ? s.error : r));
        goto out;
    }
    in = calloc(s.n ? s.n : 1, sizeof(*in));
    if (!in) {
        rc = cli_fail(c, EXIT_RUNTIME, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s.n; i++) {
        in[i].segment = s.segs[i].label;
        in[i].has_before = kpi_agg_value(&s.segs[i].agg[0], d.aggregation, &in[i].before) && s.segs[i].agg[0].n > 0;
        in[i].has_after = kpi_agg_value(&s.segs[i].agg[1], d.aggregation, &in[i].after) && s.segs[i].agg[1].n > 0;
        if (!in[i].has_before)
            in[i].before = 0;
        if (!in[i].has_after)
            in[i].after = 0;
        in[i].weight_before = (double)s.segs[i].agg[0].n;
        in[i].weight_after = (double)s.segs[i].agg[1].n;
    }
    struct kpi_driver_options dopt = {d.aggregation, true};
    r = kpi_drivers_compute(in, s.n, &dopt, &res);
    if (r == -EOPNOTSUPP) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s aggregates with %s, which does not split into segments (sum, count and avg do)", d.key,
                      kpi_enum_aggregation.names[d.aggregation]);
        goto out;
    }
    if (r == -ENODATA) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s has no data in one of the periods", d.key);
        goto out;
    }
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot compute the drivers: %s", kpi_strerror(r));
        goto out;
    }
    char la[KPI_PERIOD_LABEL_MAX], lb[KPI_PERIOD_LABEL_MAX];
    kpi_period_format(&c->cal, &p[0], la, sizeof(la));
    kpi_period_format(&c->cal, &p[1], lb, sizeof(lb));
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_drivers(&b, d.key, dim, la, lb, kpi_enum_aggregation.names[d.aggregation], res, KPI_JSON_PRETTY);
        rc = r < 0 ? cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r)) : cli_print_buf(c, &b);
        goto out;
    }
    char tb[64], ta[64], tc[64];
    kpi_value_format(&d, res->total_before, tb, sizeof(tb));
    kpi_value_format(&d, res->total_after, ta, sizeof(ta));
    kpi_value_format(&d, res->total_change, tc, sizeof(tc));
    printf("%s by %s: %s in %s -> %s in %s, change %s%s\n\n", d.key, dim, tb, la, ta, lb, res->total_change > 0 ? "+" : "", tc);
    printf("%-24s %16s %16s %16s %8s\n", "SEGMENT", "BEFORE", "AFTER", "CONTRIBUTION", "SHARE");
    for (size_t i = 0; i < res->n_items; i++) {
        const struct kpi_driver *dr = &res->items[i];
        char bv[64] = "-", av[64] = "-", cv[64], share[24] = "-";
        if (dr->has_before)
            kpi_value_format(&d, dr->before, bv, sizeof(bv));
        if (dr->has_after)
            kpi_value_format(&d, dr->after, av, sizeof(av));
        kpi_value_format(&d, dr->contribution, cv, sizeof(cv));
        if (dr->has_share)
            snprintf(share, sizeof(share), "%.1f%%", dr->share_pct);
        printf("%-24.24s %16s %16s %s%15s %8s\n", dr->segment, bv, av, dr->contribution > 0 ? "+" : " ", cv, share);
    }
    printf("\nThe contributions sum to the total change (%s%s)%s.\n", res->total_change > 0 ? "+" : "", tc,
           d.aggregation == KPI_AGG_AVG ? "; each is the segment's own change plus its change of share (mix)" : "");
out:
    kpi_driver_result_free(res);
    free(in);
    scan_free(&s);
    kpi_def_clear(&d);
    return rc;
}

/* ---- correlate */

struct pair {
    const struct kpi_def *other;
    struct kpi_correlate_result r;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
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

static const char *leader_of(const struct kpi_def *a, const struct pair *p)
{
    switch (p->r.leader) {
    case KPI_CORRELATE_A_LEADS:
        return a->key;
    case KPI_CORRELATE_B_LEADS:
        return p->other->key;
    default:
        return "together";
    }
}

int cmd_correlate(struct cli *c, int argc, char **argv)
{
    enum { OPT_WITH = OPT_FIRST_COMMAND_OPTION, OPT_MAX_LAG };
    static const struct option opts[] = {
        {"with", required_argument, NULL, OPT_WITH}, {"max-lag", required_argument, NULL, OPT_MAX_LAG}, CLI_COMMON_OPTIONS, {0}};
    const char *with = NULL;
    int max_lag = KPI_CORRELATE_DEFAULT_LAG;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_WITH) {
            with = optarg;
        } else if (opt == OPT_MAX_LAG) {
            char *end = NULL;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 0 || v > KPI_CORRELATE_MAX_LAG)
                return cli_usage(c, "max-lag: '%s' is not a number of periods from 0 to %d", optarg, KPI_CORRELATE_MAX_LAG);
            max_lag = (int)v;
        }
    }
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    const char *key = argv[optind];
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def *defs = NULL;
    size_t n_defs = 0;
    int r = kpi_store_kpi_list(c->store, true, &defs, &n_defs);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list KPIs: %s", kpi_strerror(r));
    struct kpi_eval *ev = NULL;
    struct pair *pairs = NULL;
    struct kpi_json_pair *jp = NULL;
    double *av = NULL, *bv = NULL;
    bool *ah = NULL, *bh = NULL;
    struct kpi_diag diag = {""};
    r = kpi_eval_new(c->store, &c->cal, defs, n_defs, KPI_DAY_MAX, &ev);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", kpi_strerror(r));
        goto out;
    }
    const struct kpi_def *d = kpi_eval_find(ev, key);
    if (!d) {
        rc = cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", key);
        goto out;
    }
    const struct kpi_def *only = NULL;
    if (with) {
        only = kpi_eval_find(ev, with);
        if (!only || only == d) {
            rc = cli_fail(c, EXIT_RUNTIME, only ? "--with names the KPI itself" : "no KPI with key '%s'", with);
            goto out;
        }
    }
    enum kpi_granularity g = d->granularity;
    int64_t first = 0, last = 0;
    r = kpi_eval_span(ev, d, &first, &last);
    if (r == -ENOENT) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s has no data", d->key);
        goto out;
    }
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot read points: %s", kpi_strerror(r));
        goto out;
    }
    struct kpi_period pf, pl;
    if (kpi_period_of_day(&c->cal, g, first, &pf) < 0 || kpi_period_of_day(&c->cal, g, last, &pl) < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "the data of %s lies outside the calendar", d->key);
        goto out;
    }
    struct kpi_series_row *rows = NULL;
    size_t n = 0;
    r = kpi_eval_series(ev, d, g, first, last, NULL, &rows, &n, NULL, &diag);
    free(rows);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        goto out;
    }
    if (n > KPI_CORRELATE_MAX_POINTS) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s spans more than %d periods", d->key, KPI_CORRELATE_MAX_POINTS);
        goto out;
    }
    size_t nn = n ? n : 1;
    av = calloc(nn, sizeof(*av));
    bv = calloc(nn, sizeof(*bv));
    ah = calloc(nn, sizeof(*ah));
    bh = calloc(nn, sizeof(*bh));
    pairs = calloc(n_defs ? n_defs : 1, sizeof(*pairs));
    jp = calloc(n_defs ? n_defs : 1, sizeof(*jp));
    if (!av || !bv || !ah || !bh || !pairs || !jp) {
        rc = cli_fail(c, EXIT_RUNTIME, "out of memory");
        goto out;
    }
    r = load_series(ev, d, g, first, last, av, ah, n, &diag);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        goto out;
    }
    struct kpi_correlate_options copt;
    kpi_correlate_options_init(&copt);
    copt.max_lag = max_lag;
    size_t compared = 0, n_sig = 0;
    for (size_t i = 0; i < n_defs; i++) {
        const struct kpi_def *o = &defs[i];
        if (o == d || (only && o != only) || (!only && (o->archived || o->granularity != g)))
            continue;
        diag.msg[0] = '\0';
        r = load_series(ev, o, g, first, last, bv, bh, n, &diag);
        if (r < 0) {
            if (only) {
                rc = cli_fail(c, EXIT_RUNTIME, "%s: %s", o->key, diag.msg[0] ? diag.msg : kpi_strerror(r));
                goto out;
            }
            continue;
        }
        compared++;
        struct kpi_correlate_result cr;
        r = kpi_correlate_compute(av, ah, bv, bh, n, &copt, &cr);
        if (r < 0 || !cr.has_best)
            continue;
        pairs[n_sig++] = (struct pair){o, cr};
    }
    qsort(pairs, n_sig, sizeof(*pairs), pair_cmp);
    for (size_t i = 0; i < n_sig; i++)
        jp[i] = (struct kpi_json_pair){pairs[i].other->key, pairs[i].r.best_lag, pairs[i].r.best_r, pairs[i].r.best_n_pairs,
                                       leader_of(d, &pairs[i])};
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_correlate(&b, d->key, kpi_granularity_to_string(g), max_lag, compared, jp, n_sig, KPI_JSON_PRETTY);
        rc = r < 0 ? cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r)) : cli_print_buf(c, &b);
        goto out;
    }
    printf("%s: %zu significant pair%s among %zu %s KPI%s compared (period-to-period changes, lags -%d..+%d)\n\n", d->key, n_sig,
           n_sig == 1 ? "" : "s", compared, kpi_granularity_to_string(g), compared == 1 ? "" : "s", max_lag, max_lag);
    if (n_sig) {
        printf("%-28s %7s %5s %6s  %s\n", "KPI", "R", "LAG", "PAIRS", "MOVES FIRST");
        for (size_t i = 0; i < n_sig; i++) {
            const char *lead = jp[i].leader;
            char moves[96];
            if (strcmp(lead, "together") == 0)
                snprintf(moves, sizeof(moves), "together (same period)");
            else
                snprintf(moves, sizeof(moves), "%s, by %d period%s", lead, abs(jp[i].lag), abs(jp[i].lag) == 1 ? "" : "s");
            printf("%-28.28s %+7.3f %+5d %6zu  %s\n", jp[i].other, jp[i].r, jp[i].lag, jp[i].n_pairs, moves);
        }
        printf("\n");
    }
    printf("Lag k > 0: %s's changes come k periods before the other KPI's.\n", d->key);
    printf("correlation is not causation\n");
out:
    free(av);
    free(bv);
    free(ah);
    free(bh);
    free(pairs);
    free(jp);
    kpi_eval_free(ev);
    kpi_store_kpi_list_free(defs, n_defs);
    return rc;
}
