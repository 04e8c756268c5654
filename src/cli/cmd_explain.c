/*
 * `kpi drivers KEY --from P1 --to P2` and `kpi correlate KEY`: the rendering of the explaining
 * analyses of store/analysis.h. drivers splits the change of a measured KPI between two periods
 * into the contributions of the values of one dimension (kpi/drivers.h: the contributions add up
 * to the total change exactly). correlate compares the KPI's period series with every other
 * non-archived KPI of the same granularity at lags -L..+L (kpi/correlate.h, on first differences)
 * and lists the significant pairs by strength. It reports association and timing only, never a
 * cause. --json prints the documents of json/json.h, the same the HTTP API answers.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "json/json.h"
#include "kpi/correlate.h"
#include "kpi/dims.h"
#include "kpi/format.h"
#include "kpi/time.h"
#include "store/analysis.h"

/* ---- drivers */

static void print_drivers(const struct kpi_drivers_report *rep)
{
    const struct kpi_def *d = &rep->def;
    const struct kpi_driver_result *res = rep->result;
    char tb[64], ta[64], tc[64];
    kpi_value_format(d, res->total_before, tb, sizeof(tb));
    kpi_value_format(d, res->total_after, ta, sizeof(ta));
    kpi_value_format(d, res->total_change, tc, sizeof(tc));
    printf("%s by %s: %s in %s -> %s in %s, change %s%s\n\n", d->key, rep->dim, tb, rep->from, ta, rep->to,
           res->total_change > 0 ? "+" : "", tc);
    printf("%-24s %16s %16s %16s %8s\n", "SEGMENT", "BEFORE", "AFTER", "CONTRIBUTION", "SHARE");
    for (size_t i = 0; i < res->n_items; i++) {
        const struct kpi_driver *dr = &res->items[i];
        char bv[64] = "-", av[64] = "-", cv[64], share[24] = "-";
        if (dr->has_before)
            kpi_value_format(d, dr->before, bv, sizeof(bv));
        if (dr->has_after)
            kpi_value_format(d, dr->after, av, sizeof(av));
        kpi_value_format(d, dr->contribution, cv, sizeof(cv));
        if (dr->has_share)
            snprintf(share, sizeof(share), "%.1f%%", dr->share_pct);
        printf("%-24.24s %16s %16s %s%15s %8s\n", dr->segment, bv, av, dr->contribution > 0 ? "+" : " ", cv, share);
    }
    printf("\nThe contributions sum to the total change (%s%s)%s.\n", res->total_change > 0 ? "+" : "", tc,
           d->aggregation == KPI_AGG_AVG ? "; each is the segment's own change plus its change of share (mix)" : "");
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
    struct kpi_drivers_report *rep = NULL;
    struct kpi_diag diag = {""};
    int r = kpi_analysis_drivers(c->store, &c->cal, key, from, to, dim, &rep, &diag);
    /* -EINVAL: a bad --from or --to (the options are checked above). */
    if (r == -EINVAL)
        return cli_usage(c, "%s", diag.msg);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_drivers(&b, rep->def.key, rep->dim, rep->from, rep->to, rep->aggregation, rep->result, KPI_JSON_PRETTY);
        rc = r < 0 ? cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r)) : cli_print_buf(c, &b);
    } else {
        print_drivers(rep);
        rc = EXIT_OK;
    }
    kpi_drivers_report_free(rep);
    return rc;
}

/* ---- correlate */

static void print_correlate(const struct kpi_correlate_report *rep)
{
    const char *key = rep->def->key;
    const char *gran = kpi_granularity_to_string(rep->granularity);
    size_t n = rep->n_pairs, compared = rep->compared;
    int max_lag = rep->max_lag;
    printf("%s: %zu significant pair%s among %zu %s KPI%s compared (period-to-period changes, lags -%d..+%d)\n\n", key, n,
           n == 1 ? "" : "s", compared, gran, compared == 1 ? "" : "s", max_lag, max_lag);
    if (n) {
        printf("%-28s %7s %5s %6s  %s\n", "KPI", "R", "LAG", "PAIRS", "MOVES FIRST");
        for (size_t i = 0; i < n; i++) {
            const struct kpi_analysis_pair *p = &rep->pairs[i];
            char moves[96];
            if (strcmp(p->leader, "together") == 0)
                snprintf(moves, sizeof(moves), "together (same period)");
            else
                snprintf(moves, sizeof(moves), "%s, by %d period%s", p->leader, abs(p->lag), abs(p->lag) == 1 ? "" : "s");
            printf("%-28.28s %+7.3f %+5d %6zu  %s\n", p->other->key, p->r, p->lag, p->n_pairs, moves);
        }
        printf("\n");
    }
    printf("Lag k > 0: %s's changes come k periods before the other KPI's.\n", key);
    printf("correlation is not causation\n");
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
    struct kpi_correlate_report *rep = NULL;
    struct kpi_diag diag = {""};
    int r = kpi_analysis_correlate(c->store, &c->cal, key, with, max_lag, KPI_DAY_MAX, &rep, &diag);
    /* -EINVAL: --with names an unknown KPI or the KPI itself (--max-lag is checked above). */
    if (r == -EINVAL && with)
        return cli_fail(c, EXIT_RUNTIME, strcmp(with, key) == 0 ? "--with names the KPI itself" : "no KPI with key '%s'", with);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
    if (c->json) {
        struct kpi_json_pair *jp = calloc(rep->n_pairs + 1, sizeof(*jp));
        if (!jp) {
            kpi_correlate_report_free(rep);
            return cli_fail(c, EXIT_RUNTIME, "out of memory");
        }
        for (size_t i = 0; i < rep->n_pairs; i++) {
            const struct kpi_analysis_pair *p = &rep->pairs[i];
            jp[i] = (struct kpi_json_pair){p->other->key, p->lag, p->r, p->n_pairs, p->leader};
        }
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_correlate(&b, rep->def->key, kpi_granularity_to_string(rep->granularity), rep->max_lag, rep->compared, jp,
                               rep->n_pairs, KPI_JSON_PRETTY);
        rc = r < 0 ? cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r)) : cli_print_buf(c, &b);
        free(jp);
    } else {
        print_correlate(rep);
        rc = EXIT_OK;
    }
    kpi_correlate_report_free(rep);
    return rc;
}
