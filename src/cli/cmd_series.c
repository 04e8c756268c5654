/*
 * `kpi series KEY`: a KPI's value per period — its aggregation over the points of each period of the
 * organisation calendar, or for a derived KPI its formula evaluated per period — as of a day.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "json/json.h"
#include "kpi/dims.h"
#include "kpi/format.h"
#include "kpi/time.h"
#include "store/evaluate.h"

int cmd_series(struct cli *c, int argc, char **argv)
{
    enum { OPT_GRAN = OPT_FIRST_COMMAND_OPTION, OPT_FROM, OPT_TO, OPT_DIM, OPT_AS_OF };
    static const struct option opts[] = {{"granularity", required_argument, NULL, OPT_GRAN},
                                         {"from", required_argument, NULL, OPT_FROM},
                                         {"to", required_argument, NULL, OPT_TO},
                                         {"dim", required_argument, NULL, OPT_DIM},
                                         {"as-of", required_argument, NULL, OPT_AS_OF},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    const char *gran_text = NULL, *from = NULL, *to = NULL, *as_of = NULL;
    struct kpi_dim dims[KPI_DIMS_MAX];
    size_t n_dims = 0;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        struct kpi_diag diag = {""};
        switch (opt) {
        case OPT_GRAN:
            gran_text = optarg;
            break;
        case OPT_FROM:
            from = optarg;
            break;
        case OPT_TO:
            to = optarg;
            break;
        case OPT_AS_OF:
            as_of = optarg;
            break;
        case OPT_DIM:
            if (n_dims >= KPI_DIMS_MAX)
                return cli_usage(c, "at most %d --dim options", KPI_DIMS_MAX);
            if (kpi_dim_parse_arg(optarg, &dims[n_dims], &diag) < 0)
                return cli_usage(c, "%s", diag.msg);
            n_dims++;
            break;
        }
    }
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    const char *key = argv[optind];
    int gran = -1;
    struct kpi_diag diag = {""};
    if (gran_text && kpi_enum_parse(&kpi_enum_granularity, gran_text, &gran, &diag) < 0)
        return cli_usage(c, "%s", diag.msg);
    char filter[KPI_DIMS_CANON_MAX + 1] = "";
    if (kpi_dims_canon(dims, n_dims, filter, sizeof(filter), &diag) < 0)
        return cli_usage(c, "%s", diag.msg);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    int64_t as_of_day = KPI_DAY_MAX, from_day = 0, to_day = 0;
    if (as_of && kpi_date_parse(as_of, strlen(as_of), &as_of_day) < 0)
        return cli_usage(c, "as-of: '%s' is not a date (YYYY-MM-DD)", as_of);
    if (from && cli_parse_day(c, from, false, &from_day) < 0)
        return cli_usage(c, "from: '%s' is not a date (YYYY-MM-DD) or a period such as 2026-Q1", from);
    if (to && cli_parse_day(c, to, true, &to_day) < 0)
        return cli_usage(c, "to: '%s' is not a date (YYYY-MM-DD) or a period such as 2026-Q1", to);
    if (from && to && from_day > to_day)
        return cli_usage(c, "from (%s) is after to (%s)", from, to);

    struct kpi_def *defs;
    size_t n_defs;
    int r = kpi_store_kpi_list(c->store, true, &defs, &n_defs);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list KPIs: %s", kpi_strerror(r));
    struct kpi_eval *ev = NULL;
    struct kpi_series_row *rows = NULL;
    char(*reasons)[KPI_EVAL_REASON_MAX] = NULL;
    size_t n_rows = 0;
    r = kpi_eval_new(c->store, &c->cal, defs, n_defs, as_of_day, &ev);
    const struct kpi_def *d = r == 0 ? kpi_eval_find(ev, key) : NULL;
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", kpi_strerror(r));
        goto out;
    }
    if (!d) {
        rc = cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", key);
        goto out;
    }
    enum kpi_granularity g = gran >= 0 ? (enum kpi_granularity)gran : d->granularity;
    /* Without --from/--to the range runs over the KPI's data (its inputs' for a derived KPI). */
    int64_t first, last;
    r = (from && to) ? 0 : kpi_eval_span(ev, d, &first, &last);
    if (r == -ENOENT) {
        r = 0;
        first = last = INT64_MIN;
    }
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot read points: %s", kpi_strerror(r));
        goto out;
    }
    if (!from)
        from_day = first;
    if (!to)
        to_day = last;
    if (from_day != INT64_MIN && to_day != INT64_MIN) {
        r = kpi_eval_series(ev, d, g, from_day, to_day, n_dims ? filter : NULL, &rows, &n_rows, &reasons, &diag);
        if (r == -E2BIG) {
            rc = cli_usage(c, "the range spans more than %d periods; narrow --from/--to or use a coarser --granularity",
                           KPI_SERIES_MAX_PERIODS);
            goto out;
        }
        if (r < 0) {
            rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
            goto out;
        }
    }
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        r = kpi_json_series(&b, &c->cal, d->key, kpi_granularity_to_string(g), rows, n_rows,
                            (const char(*)[KPI_EVAL_REASON_MAX])reasons, KPI_JSON_PRETTY);
        if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r));
        else
            cli_print_buf(c, &b);
    } else if (n_rows == 0) {
        printf("%s has no data%s\n", d->key, n_dims ? " matching the dims" : "");
    } else {
        printf("%-12s %-10s %-10s %18s %8s\n", "PERIOD", "START", "END", "VALUE", d->formula ? "" : "POINTS");
        for (size_t i = 0; i < n_rows; i++) {
            char label[KPI_PERIOD_LABEL_MAX], start[16], end[16], value[64] = "-";
            kpi_period_format(&c->cal, &rows[i].period, label, sizeof(label));
            kpi_date_format(rows[i].period.first_day, start, sizeof(start));
            kpi_date_format(rows[i].period.last_day, end, sizeof(end));
            if (rows[i].has_value)
                kpi_value_format(d, rows[i].value, value, sizeof(value));
            if (d->formula)
                printf("%-12s %-10s %-10s %18s  %s\n", label, start, end, value, reasons ? reasons[i] : "");
            else
                printf("%-12s %-10s %-10s %18s %8llu\n", label, start, end, value, (unsigned long long)rows[i].n_points);
        }
    }
out:
    free(rows);
    free(reasons);
    kpi_eval_free(ev);
    kpi_store_kpi_list_free(defs, n_defs);
    return rc;
}
