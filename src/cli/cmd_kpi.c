/*
 * KPI definition commands: init, org, add, edit, show, list, archive.
 *
 * `add` and `edit` take one option per field of DESIGN.md section 3 (--name, --unit, --review-cadence
 * ...), generated from kpi_def_fields so that the CLI can never fall behind the model. An empty
 * value clears an optional field (--unit "").
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "cli/cli.h"
#include "json/json.h"
#include "kpi/format.h"
#include "kpi/series.h"
#include "kpi/time.h"
#include "kpi/tz.h"

#define N_FIELDS 20

/* Long options for every settable field (minus "key"), plus the common ones. */
struct field_options {
    struct option opts[N_FIELDS + 8];
    char names[N_FIELDS][32];
};

static void field_options_build(struct field_options *fo, const struct option *extra, size_t n_extra)
{
    size_t n = 0;
    for (int i = 0; kpi_def_fields[i]; i++) {
        if (strcmp(kpi_def_fields[i], "key") == 0 || strcmp(kpi_def_fields[i], "archived") == 0)
            continue;
        snprintf(fo->names[n], sizeof(fo->names[n]), "%s", kpi_def_fields[i]);
        for (char *p = fo->names[n]; *p; p++)
            if (*p == '_')
                *p = '-';
        fo->opts[n] = (struct option){fo->names[n], required_argument, NULL, OPT_FIRST_COMMAND_OPTION + 100 + i};
        n++;
    }
    for (size_t i = 0; i < n_extra; i++)
        fo->opts[n++] = extra[i];
    fo->opts[n++] = (struct option){"db", required_argument, NULL, OPT_DB};
    fo->opts[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
    fo->opts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    fo->opts[n] = (struct option){0};
}

/* Collected "field=value" settings, applied after the database is open. */
struct settings {
    const char *field[N_FIELDS + 1];
    const char *value[N_FIELDS + 1];
    size_t n;
};

/* Parses add/edit arguments. Returns -1 to continue, or an exit code. */
static int parse_field_args(struct cli *c, int argc, char **argv, struct settings *set, const char **ret_key)
{
    struct field_options fo;
    field_options_build(&fo, NULL, 0);
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, fo.opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (set->n >= N_FIELDS)
            return cli_usage(c, "too many options");
        set->field[set->n] = kpi_def_fields[opt - OPT_FIRST_COMMAND_OPTION - 100];
        set->value[set->n] = optarg;
        set->n++;
    }
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    *ret_key = argv[optind];
    return -1;
}

static int apply_settings(struct cli *c, struct kpi_def *d, const struct settings *set)
{
    for (size_t i = 0; i < set->n; i++) {
        struct kpi_diag diag = {""};
        if (kpi_def_set_field(d, set->field[i], set->value[i], &diag) < 0)
            return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg);
    }
    return EXIT_OK;
}

int cmd_add(struct cli *c, int argc, char **argv)
{
    struct settings set = {0};
    const char *key;
    int rc = parse_field_args(c, argc, argv, &set, &key);
    if (rc >= 0)
        return rc;
    struct kpi_def d;
    kpi_def_init(&d);
    struct kpi_diag diag = {""};
    if (kpi_def_set_key(&d, key, &diag) < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg);
    rc = apply_settings(c, &d, &set);
    if (rc == EXIT_OK)
        rc = cli_open(c);
    if (rc == EXIT_OK) {
        int r = kpi_store_kpi_insert(c->store, &d, &diag);
        if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        else if (c->json) {
            struct kpi_buf b;
            kpi_buf_init(&b, 1 << 20);
            kpi_json_def(&b, &d, KPI_JSON_PRETTY);
            cli_print_buf(c, &b);
        } else
            printf("added %s\n", d.key);
    }
    kpi_def_clear(&d);
    return rc;
}

int cmd_edit(struct cli *c, int argc, char **argv)
{
    struct settings set = {0};
    const char *key;
    int rc = parse_field_args(c, argc, argv, &set, &key);
    if (rc >= 0)
        return rc;
    if (set.n == 0)
        return cli_usage(c, "nothing to change: give at least one field option such as --name");
    rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def d;
    int r = kpi_store_kpi_get(c->store, key, &d);
    if (r == -ENOENT)
        return cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", key);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot read KPI '%s': %s", key, kpi_strerror(r));
    rc = apply_settings(c, &d, &set);
    if (rc == EXIT_OK) {
        struct kpi_diag diag = {""};
        r = kpi_store_kpi_update(c->store, &d, &diag);
        if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        else if (!c->json)
            printf("updated %s\n", d.key);
        else {
            struct kpi_buf b;
            kpi_buf_init(&b, 1 << 20);
            kpi_json_def(&b, &d, KPI_JSON_PRETTY);
            cli_print_buf(c, &b);
        }
    }
    kpi_def_clear(&d);
    return rc;
}

/* Parses a command that takes only the common options and `want` positional arguments. */
static int simple_args(struct cli *c, int argc, char **argv, int want, const char *what)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
    int stop;
    /* The only options are the common ones, which cli_next_option handles. */
    int opt = cli_next_option(c, argc, argv, opts, &stop);
    if (opt == CLI_OPTS_EXIT)
        return stop;
    if (argc - optind < want)
        return cli_usage(c, "missing %s", what);
    if (argc - optind > want)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + want]);
    return -1;
}

static void print_field(const char *name, const char *value)
{
    printf("  %-15s %s\n", name, value && *value ? value : "-");
}

int cmd_show(struct cli *c, int argc, char **argv)
{
    int rc = simple_args(c, argc, argv, 1, "KPI key");
    if (rc >= 0)
        return rc;
    const char *key = argv[optind];
    rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def d;
    int r = kpi_store_kpi_get(c->store, key, &d);
    if (r == -ENOENT)
        return cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", key);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot read KPI '%s': %s", key, kpi_strerror(r));
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 1 << 20);
        kpi_json_def(&b, &d, KPI_JSON_PRETTY);
        cli_print_buf(c, &b);
        kpi_def_clear(&d);
        return EXIT_OK;
    }
    printf("%s%s\n", d.key, d.archived ? " (archived)" : "");
    struct kpi_buf text;
    kpi_buf_init(&text, KPI_DESCRIPTION_MAX + 1);
    for (int i = 0; kpi_def_fields[i]; i++) {
        const char *field = kpi_def_fields[i];
        if (strcmp(field, "key") == 0 || strcmp(field, "archived") == 0)
            continue;
        enum kpi_field_kind kind;
        kpi_buf_reset(&text);
        kpi_def_field_text(&d, field, &text, &kind);
        print_field(field, kpi_buf_str(&text));
    }
    kpi_buf_free(&text);
    char num[32];
    int64_t n = 0;
    if (kpi_store_points_count(c->store, d.id, &n) == 0) {
        snprintf(num, sizeof(num), "%lld", (long long)n);
        print_field("points", num);
    }
    kpi_def_clear(&d);
    return EXIT_OK;
}

/* The value of each KPI's latest period with data (the period of its latest point). Derived KPIs
 * have no points of their own and show no value. */
static int print_latest(struct cli *c, const struct kpi_def *defs, size_t n)
{
    struct kpi_series_row *latest = calloc(n ? n : 1, sizeof(*latest));
    if (!latest)
        return cli_fail(c, EXIT_RUNTIME, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct kpi_point_query q = {defs[i].id, INT64_MIN, INT64_MAX, NULL};
        struct kpi_point *pts;
        size_t n_pts;
        int64_t min_at, max_at;
        int r = kpi_store_points_load(c->store, &q, &pts, &n_pts, &min_at, &max_at);
        if (r < 0) {
            free(latest);
            return cli_fail(c, EXIT_RUNTIME, "cannot read points of '%s': %s", defs[i].key, kpi_strerror(r));
        }
        if (n_pts) {
            int64_t day = kpi_calendar_day_of(&c->cal, max_at);
            struct kpi_series_row *rows;
            size_t n_rows;
            if (kpi_series_compute(&c->cal, defs[i].granularity, defs[i].aggregation, pts, n_pts, day, day, &rows, &n_rows) == 0) {
                latest[i] = rows[0];
                free(rows);
            }
        }
        free(pts);
    }
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 64 << 20);
        kpi_json_latest(&b, &c->cal, defs, latest, n, KPI_JSON_PRETTY);
        cli_print_buf(c, &b);
    } else {
        printf("%-24s %-36s %-17s %-10s %18s\n", "KEY", "NAME", "TEAM", "PERIOD", "LATEST");
        for (size_t i = 0; i < n; i++) {
            char label[KPI_PERIOD_LABEL_MAX] = "-", value[64] = "-";
            if (latest[i].n_points) {
                kpi_period_format(&c->cal, &latest[i].period, label, sizeof(label));
                if (latest[i].has_value)
                    kpi_value_format(&defs[i], latest[i].value, value, sizeof(value));
            }
            printf("%-24s %-36.36s %-17.17s %-10s %18s\n", defs[i].key, defs[i].name ? defs[i].name : "",
                   defs[i].team ? defs[i].team : "-", label, value);
        }
    }
    free(latest);
    return EXIT_OK;
}

int cmd_list(struct cli *c, int argc, char **argv)
{
    enum { OPT_ALL = OPT_FIRST_COMMAND_OPTION, OPT_TEAM, OPT_TIER, OPT_OWNER, OPT_LATEST };
    static const struct option opts[] = {{"all", no_argument, NULL, OPT_ALL},
                                         {"latest", no_argument, NULL, OPT_LATEST},
                                         {"team", required_argument, NULL, OPT_TEAM},
                                         {"tier", required_argument, NULL, OPT_TIER},
                                         {"owner", required_argument, NULL, OPT_OWNER},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    bool all = false, latest = false;
    const char *team = NULL, *owner = NULL;
    int tier = -1;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        struct kpi_diag diag = {""};
        switch (opt) {
        case OPT_ALL:
            all = true;
            break;
        case OPT_LATEST:
            latest = true;
            break;
        case OPT_TEAM:
            team = optarg;
            break;
        case OPT_OWNER:
            owner = optarg;
            break;
        case OPT_TIER:
            if (kpi_enum_parse(&kpi_enum_tier, optarg, &tier, &diag) < 0)
                return cli_usage(c, "%s", diag.msg);
            break;
        default:
            return cli_usage(c, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def *defs;
    size_t n;
    int r = kpi_store_kpi_list(c->store, all, &defs, &n);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list KPIs: %s", kpi_strerror(r));
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool keep = (!team || kpi_streq(defs[i].team, team)) && (!owner || kpi_streq(defs[i].owner, owner)) &&
                    (tier < 0 || (int)defs[i].tier == tier);
        if (keep) {
            if (kept != i) {
                struct kpi_def tmp = defs[kept];
                defs[kept] = defs[i];
                defs[i] = tmp;
            }
            kept++;
        }
    }
    if (latest) {
        rc = print_latest(c, defs, kept);
        kpi_store_kpi_list_free(defs, n);
        return rc;
    }
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 64 << 20);
        kpi_json_defs(&b, defs, kept, KPI_JSON_PRETTY);
        cli_print_buf(c, &b);
    } else if (kept == 0) {
        printf("no KPIs%s\n", n ? " match" : " yet: add one with 'kpi add KEY --name NAME'");
    } else {
        printf("%-28s %-40s %-11s %-8s %-12s %s\n", "KEY", "NAME", "TIER", "GRAIN", "TEAM", "OWNER");
        for (size_t i = 0; i < kept; i++) {
            const struct kpi_def *d = &defs[i];
            printf("%-28s %-40.40s %-11s %-8s %-12.12s %s%s\n", d->key, d->name ? d->name : "",
                   kpi_enum_name(&kpi_enum_tier, (int)d->tier), kpi_enum_name(&kpi_enum_granularity, (int)d->granularity),
                   d->team ? d->team : "-", d->owner ? d->owner : "-", d->archived ? " (archived)" : "");
        }
    }
    kpi_store_kpi_list_free(defs, n);
    return EXIT_OK;
}

int cmd_archive(struct cli *c, int argc, char **argv)
{
    enum { OPT_RESTORE = OPT_FIRST_COMMAND_OPTION };
    static const struct option opts[] = {{"restore", no_argument, NULL, OPT_RESTORE}, CLI_COMMON_OPTIONS, {0}};
    bool restore = false;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_RESTORE)
            restore = true;
        else
            return cli_usage(c, "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return cli_usage(c, "missing KPI key");
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    for (int i = optind; i < argc; i++) {
        struct kpi_def d;
        int r = kpi_store_kpi_get(c->store, argv[i], &d);
        if (r == -ENOENT)
            return cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", argv[i]);
        if (r < 0)
            return cli_fail(c, EXIT_RUNTIME, "cannot read KPI '%s': %s", argv[i], kpi_strerror(r));
        d.archived = !restore;
        struct kpi_diag diag = {""};
        r = kpi_store_kpi_update(c->store, &d, &diag);
        kpi_def_clear(&d);
        if (r < 0)
            return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        printf("%s %s\n", restore ? "restored" : "archived", argv[i]);
    }
    return EXIT_OK;
}

/* `init` and `org` share their options: --timezone, --fiscal-year-start and --name. Everything is
 * validated before the database is opened, so a typo in `init` leaves no half-made file behind. */
static int org_command(struct cli *c, int argc, char **argv, bool create)
{
    enum { OPT_TZ = OPT_FIRST_COMMAND_OPTION, OPT_FYS, OPT_NAME };
    static const struct option opts[] = {{"timezone", required_argument, NULL, OPT_TZ},
                                         {"fiscal-year-start", required_argument, NULL, OPT_FYS},
                                         {"name", required_argument, NULL, OPT_NAME},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    const char *tz = NULL, *fys = NULL, *name = NULL;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_TZ)
            tz = optarg;
        else if (opt == OPT_FYS)
            fys = optarg;
        else if (opt == OPT_NAME)
            name = optarg;
        else
            return cli_usage(c, "unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    if (tz) {
        struct kpi_tz *z;
        if (strlen(tz) > KPI_TZ_NAME_MAX || kpi_tz_load(tz, &z) < 0)
            return cli_fail(c, EXIT_RUNTIME, "timezone: unknown time zone '%s' (use an IANA name such as Europe/Paris)", tz);
        kpi_tz_free(z);
    }
    int64_t month = 1;
    if (fys && kpi_parse_int64(fys, strlen(fys), 1, 12, &month) < 0)
        return cli_fail(c, EXIT_RUNTIME, "fiscal-year-start: expected a month number from 1 to 12, got '%s'", fys);
    if (name && strlen(name) > KPI_ORG_NAME_MAX)
        return cli_fail(c, EXIT_RUNTIME, "name: must be at most %d bytes", KPI_ORG_NAME_MAX);

    int rc = create ? cli_open_create(c) : cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_org org;
    int r = kpi_store_org_get(c->store, &org);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot read the organisation settings: %s", kpi_strerror(r));
    if (tz)
        kpi_strlcpy(org.timezone, tz, sizeof(org.timezone));
    if (fys)
        org.fiscal_year_start = (int)month;
    if (name)
        kpi_strlcpy(org.name, name, sizeof(org.name));
    if (tz || fys || name) {
        r = kpi_store_org_set(c->store, &org);
        if (r < 0)
            return cli_fail(c, EXIT_RUNTIME, "cannot save the organisation settings: %s", kpi_strerror(r));
    }
    if (create) {
        int version = 0;
        kpi_store_schema_version(c->store, &version);
        printf("initialised %s (schema version %d, time zone %s, fiscal year starts in month %d)\n", c->db_path, version,
               org.timezone, org.fiscal_year_start);
        return EXIT_OK;
    }
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 1 << 16);
        kpi_json_org(&b, &org, KPI_JSON_PRETTY);
        return cli_print_buf(c, &b);
    }
    printf("name               %s\ntimezone           %s\nfiscal_year_start  %d\n", org.name, org.timezone, org.fiscal_year_start);
    return EXIT_OK;
}

int cmd_init(struct cli *c, int argc, char **argv)
{
    return org_command(c, argc, argv, true);
}

int cmd_org(struct cli *c, int argc, char **argv)
{
    return org_command(c, argc, argv, false);
}
