/*
 * `kpi target set|list|rm`: the successive targets of a KPI. A target is identified by its date
 * (when it is due): setting a target with the date of an existing one replaces it, so scripts can
 * run `target set` again safely.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "cli/cli.h"
#include "json/json.h"
#include "kpi/format.h"
#include "kpi/status.h"
#include "kpi/time.h"

static int load_kpi(struct cli *c, const char *key, struct kpi_def *ret_def)
{
    int r = kpi_store_kpi_get(c->store, key, ret_def);
    if (r == -ENOENT)
        return cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", key);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot read KPI '%s': %s", key, kpi_strerror(r));
    return EXIT_OK;
}

static int parse_number(struct cli *c, const char *field, const char *text, double *ret)
{
    if (kpi_parse_double(text, strlen(text), ret) < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s: '%s' is not a finite number", field, text);
    return EXIT_OK;
}

static int target_set(struct cli *c, int argc, char **argv)
{
    enum { OPT_BASELINE = OPT_FIRST_COMMAND_OPTION, OPT_BASELINE_DATE, OPT_VALUE, OPT_DATE, OPT_LOW, OPT_HIGH, OPT_RISK };
    static const struct option opts[] = {{"baseline", required_argument, NULL, OPT_BASELINE},
                                         {"baseline-date", required_argument, NULL, OPT_BASELINE_DATE},
                                         {"value", required_argument, NULL, OPT_VALUE},
                                         {"date", required_argument, NULL, OPT_DATE},
                                         {"low", required_argument, NULL, OPT_LOW},
                                         {"high", required_argument, NULL, OPT_HIGH},
                                         {"at-risk-pct", required_argument, NULL, OPT_RISK},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    const char *text[OPT_RISK - OPT_BASELINE + 1] = {0};
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        text[opt - OPT_BASELINE] = optarg;
    }
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    const char *key = argv[optind];
    static const char *const required[] = {"--baseline", "--baseline-date", NULL, "--date"};
    for (int i = 0; i < 4; i++)
        if (required[i] && !text[i])
            return cli_usage(c, "missing %s", required[i]);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def d;
    rc = load_kpi(c, key, &d);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_target t = {.at_risk_pct = KPI_AT_RISK_PCT_DEFAULT};
    bool range = d.direction == KPI_DIR_RANGE;
    if (range && (!text[OPT_LOW - OPT_BASELINE] || !text[OPT_HIGH - OPT_BASELINE]))
        rc = cli_usage(c, "'%s' is a range KPI: give --low and --high", key);
    else if (!range && !text[OPT_VALUE - OPT_BASELINE])
        rc = cli_usage(c, "missing --value (the target value)");
    if (rc == EXIT_OK)
        rc = parse_number(c, "baseline", text[0], &t.baseline);
    if (rc == EXIT_OK)
        rc = cli_date_arg(c, "baseline_date", text[1], &t.baseline_day);
    if (rc == EXIT_OK && text[2])
        rc = parse_number(c, "value", text[2], &t.value);
    if (rc == EXIT_OK)
        rc = cli_date_arg(c, "date", text[3], &t.day);
    if (rc == EXIT_OK && text[4])
        rc = parse_number(c, "low", text[4], &t.low);
    if (rc == EXIT_OK && text[5])
        rc = parse_number(c, "high", text[5], &t.high);
    if (rc == EXIT_OK && text[6])
        rc = parse_number(c, "at_risk_pct", text[6], &t.at_risk_pct);
    struct kpi_diag diag = {""};
    if (rc == EXIT_OK && kpi_def_set_target(&d, &t, &diag) < 0)
        rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg);
    if (rc == EXIT_OK && kpi_store_kpi_update(c->store, &d, &diag) < 0)
        rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg);
    if (rc == EXIT_OK && !c->json)
        printf("target of %s due %s set\n", key, text[3]);
    if (rc == EXIT_OK && c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 1 << 20);
        kpi_json_def(&b, &d, KPI_JSON_PRETTY);
        cli_print_buf(c, &b);
    }
    kpi_def_clear(&d);
    return rc;
}

static int target_list(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
    int stop;
    if (cli_next_option(c, argc, argv, opts, &stop) == CLI_OPTS_EXIT)
        return stop;
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def d;
    rc = load_kpi(c, argv[optind], &d);
    if (rc != EXIT_OK)
        return rc;
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 1 << 20);
        kpi_json_targets(&b, &d, KPI_JSON_PRETTY);
        cli_print_buf(c, &b);
    } else if (d.n_targets == 0) {
        printf("%s has no targets: set one with 'kpi target set %s --baseline B --baseline-date D --value T --date D'\n", d.key,
               d.key);
    } else {
        bool range = d.direction == KPI_DIR_RANGE;
        printf("%-13s %16s   %-10s %33s %9s\n", "BASELINE DATE", "BASELINE", "DATE", range ? "RANGE" : "TARGET", "AT RISK");
        for (size_t i = 0; i < d.n_targets; i++) {
            const struct kpi_target *t = &d.targets[i];
            char b0[16], b1[16], base[64], lo[64], hi[64], goal[140];
            kpi_date_format(t->baseline_day, b0, sizeof(b0));
            kpi_date_format(t->day, b1, sizeof(b1));
            kpi_value_format(&d, t->baseline, base, sizeof(base));
            if (range) {
                kpi_value_format(&d, t->low, lo, sizeof(lo));
                kpi_value_format(&d, t->high, hi, sizeof(hi));
                snprintf(goal, sizeof(goal), "%s .. %s", lo, hi);
            } else {
                kpi_value_format(&d, t->value, goal, sizeof(goal));
            }
            printf("%-13s %16s   %-10s %33s %8g%%\n", b0, base, b1, goal, t->at_risk_pct);
        }
    }
    kpi_def_clear(&d);
    return EXIT_OK;
}

static int target_rm(struct cli *c, int argc, char **argv)
{
    enum { OPT_DATE = OPT_FIRST_COMMAND_OPTION };
    static const struct option opts[] = {{"date", required_argument, NULL, OPT_DATE}, CLI_COMMON_OPTIONS, {0}};
    const char *date = NULL;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        date = optarg;
    }
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    if (!date)
        return cli_usage(c, "missing --date (the date of the target to remove)");
    int64_t day;
    int rc = cli_date_arg(c, "date", date, &day);
    if (rc == EXIT_OK)
        rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def d;
    rc = load_kpi(c, argv[optind], &d);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_diag diag = {""};
    if (kpi_def_remove_target(&d, day) < 0)
        rc = cli_fail(c, EXIT_RUNTIME, "%s has no target due %s", d.key, date);
    else if (kpi_store_kpi_update(c->store, &d, &diag) < 0)
        rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg);
    else
        printf("target of %s due %s removed\n", d.key, date);
    kpi_def_clear(&d);
    return rc;
}

int cmd_target(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(c, "expected set, list or rm");
    if (strcmp(argv[1], "set") == 0)
        return target_set(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return target_list(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "rm") == 0)
        return target_rm(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0)
        return cli_common_option(c, OPT_HELP, NULL) < 0 ? EXIT_OK : EXIT_USAGE;
    return cli_usage(c, "unknown subcommand '%s' (expected set, list or rm)", argv[1]);
}
