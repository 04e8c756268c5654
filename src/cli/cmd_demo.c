/*
 * `kpi demo`: seeds an empty database with the demo organisation of demo.h (Acme Analytics, its
 * teams, owners, KPIs and years of history), so that every other command has something realistic
 * to show. The catalog and the generator live in demo_catalog.c; this file parses the options,
 * refuses to touch a database that already holds KPIs, and writes the organisation settings, the
 * definitions and the points in one transaction: a failure leaves the database as it was.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/str.h"
#include "cli/cli.h"
#include "kpi/status.h"
#include "cli/demo.h"
#include "kpi/dims.h"
#include "kpi/time.h"
#include "store/ingest.h"

/* State of one seeding run, shared with the generator's callback. */
struct seeding {
    struct kpi_store *store;
    const struct kpi_calendar *cal;
    int64_t *kpi_id;  /* per catalog entry */
    int64_t *dims_id; /* per catalog entry x DEMO_COMBOS_MAX */
    uint64_t points;
};

static int put_point(void *ctx, size_t kpi_index, size_t combo, int64_t day, double value)
{
    struct seeding *s = ctx;
    struct kpi_at at = {.is_date = true, .day = day};
    int64_t ms;
    int flags;
    kpi_ingest_at_instant(s->cal, &at, &ms, &flags);
    int r = kpi_store_point_put(s->store, s->kpi_id[kpi_index], s->dims_id[kpi_index * DEMO_COMBOS_MAX + combo], ms, value, flags);
    if (r < 0)
        return r;
    s->points++;
    return 0;
}

/* Builds a definition from (field, text) pairs through kpi_def_set_field, the path `kpi add` takes,
 * so the demo can never hold a definition the CLI would reject. NULL texts are skipped. */
static int def_from_fields(const char *key, const char *const (*fields)[2], size_t n, struct kpi_def *d, struct kpi_diag *diag)
{
    kpi_def_init(d);
    int r = kpi_def_set_key(d, key, diag);
    for (size_t i = 0; r == 0 && i < n; i++)
        if (fields[i][1])
            r = kpi_def_set_field(d, fields[i][0], fields[i][1], diag);
    if (r < 0) {
        kpi_diag_prefix(diag, "demo KPI %s: ", key);
        kpi_def_clear(d);
    }
    return r;
}

static int build_def(const struct demo_kpi *k, struct kpi_def *d, struct kpi_diag *diag)
{
    char decimals[16], weight[32];
    snprintf(decimals, sizeof(decimals), "%d", k->decimals);
    kpi_format_double(k->weight, weight, sizeof(weight));
    const char *fields[][2] = {
        {"name", k->name},
        {"description", k->description},
        {"unit", k->unit},
        {"format", k->format},
        {"decimals", decimals},
        {"direction", k->direction},
        {"aggregation", k->aggregation},
        {"granularity", k->granularity},
        {"tier", k->tier},
        {"indicator", k->indicator},
        {"owner", k->owner},
        {"team", k->team},
        {"parent", k->parent},
        {"weight", weight},
        {"review_cadence", k->review_cadence},
        {"tags", k->tags},
    };
    return def_from_fields(k->key, fields, sizeof(fields) / sizeof(fields[0]), d, diag);
}

/* Defines the derived KPIs (after the measured ones they read). */
static int insert_derived(struct seeding *s, struct kpi_diag *diag)
{
    for (size_t i = 0; i < demo_n_derived; i++) {
        const struct demo_derived *k = &demo_derived[i];
        char decimals[8];
        snprintf(decimals, sizeof(decimals), "%d", k->decimals);
        const char *fields[][2] = {
            {"name", k->name},
            {"description", k->description},
            {"unit", k->unit},
            {"format", k->format},
            {"decimals", decimals},
            {"direction", k->direction},
            {"granularity", k->granularity},
            {"tier", k->tier},
            {"owner", k->owner},
            {"team", k->team},
            {"formula", k->formula},
            {"tags", k->tags},
        };
        struct kpi_def d;
        int r = def_from_fields(k->key, fields, sizeof(fields) / sizeof(fields[0]), &d, diag);
        if (r < 0)
            return r;
        r = kpi_store_kpi_insert(s->store, &d, diag);
        kpi_def_clear(&d);
        if (r < 0) {
            kpi_diag_prefix(diag, "demo KPI %s: ", k->key);
            return r;
        }
    }
    return 0;
}

/* Gives the strategic and north-star KPIs their targets, resolved for --today. */
static int store_targets(struct seeding *s, int64_t today, struct kpi_diag *diag)
{
    for (size_t i = 0; i < demo_n_targets; i++) {
        struct demo_target_value v;
        if (demo_target_resolve(&demo_targets[i], today, &v) < 0)
            continue;
        struct kpi_def d;
        int r = kpi_store_kpi_get(s->store, v.key, &d);
        if (r < 0)
            return kpi_diag_set(diag, r, "demo target of %s: %s", v.key, kpi_strerror(r));
        struct kpi_target t = {.baseline = v.baseline,
                               .baseline_day = v.baseline_day,
                               .value = v.value,
                               .day = v.day,
                               .low = v.low,
                               .high = v.high,
                               .at_risk_pct = v.at_risk_pct};
        r = kpi_def_set_target(&d, &t, diag);
        if (r == 0)
            r = kpi_store_kpi_update(s->store, &d, diag);
        kpi_def_clear(&d);
        if (r < 0) {
            kpi_diag_prefix(diag, "demo target of %s: ", v.key);
            return r;
        }
    }
    return 0;
}

/* Inserts the catalog's KPIs and interns their dimension combinations. */
static int insert_catalog(struct seeding *s, struct kpi_diag *diag)
{
    for (size_t i = 0; i < demo_n_kpis; i++) {
        const struct demo_kpi *k = &demo_kpis[i];
        struct kpi_def d;
        int r = build_def(k, &d, diag);
        if (r < 0)
            return r;
        r = kpi_store_kpi_insert(s->store, &d, diag);
        s->kpi_id[i] = d.id;
        kpi_def_clear(&d);
        if (r < 0)
            return r;
        size_t n = demo_combos(k);
        if (n > DEMO_COMBOS_MAX)
            return kpi_diag_set(diag, -EINVAL, "demo KPI %s: too many dimension combinations", k->key);
        for (size_t c = 0; c < n; c++) {
            struct kpi_dim dims[DEMO_AXES_MAX];
            char canon[KPI_DIMS_CANON_MAX + 1];
            size_t n_dims = demo_combo_dims(k, c, dims);
            r = kpi_dims_canon(dims, n_dims, canon, sizeof(canon), diag);
            if (r == 0)
                r = kpi_store_dims_intern(s->store, canon, &s->dims_id[i * DEMO_COMBOS_MAX + c]);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* The organisation settings of the demo, and the calendar reloaded from them so that date points
 * land on Berlin midnights. */
static int set_org(struct cli *c, struct kpi_diag *diag)
{
    struct kpi_org org;
    int r = kpi_store_org_get(c->store, &org);
    if (r < 0)
        return kpi_diag_set(diag, r, "cannot read the organisation settings: %s", kpi_strerror(r));
    kpi_strlcpy(org.name, DEMO_ORG_NAME, sizeof(org.name));
    kpi_strlcpy(org.timezone, DEMO_TIMEZONE, sizeof(org.timezone));
    org.fiscal_year_start = DEMO_FISCAL_YEAR_START;
    r = kpi_store_org_set(c->store, &org);
    if (r < 0)
        return kpi_diag_set(diag, r, "cannot save the organisation settings: %s", kpi_strerror(r));
    if (c->have_cal)
        kpi_store_calendar_done(&c->cal);
    c->have_cal = false;
    r = kpi_store_calendar(c->store, &c->cal, diag);
    if (r < 0)
        return r;
    c->have_cal = true;
    return 0;
}

/* "98,765": a count for people. */
static void format_count(uint64_t n, char *buf, size_t size)
{
    char digits[32];
    int len = snprintf(digits, sizeof(digits), "%" PRIu64, n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static void json_string(struct kpi_buf *b, const char *s)
{
    kpi_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            kpi_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            kpi_buf_printf(b, "\\u%04x", *p);
        else
            kpi_buf_addc(b, (char)*p);
    }
    kpi_buf_addc(b, '"');
}

static void json_number(struct kpi_buf *b, double v)
{
    char num[32];
    kpi_format_double(v, num, sizeof(num));
    kpi_buf_adds(b, num);
}

static void json_date(struct kpi_buf *b, const char *name, int64_t day, bool comma)
{
    char date[16];
    kpi_date_format(day, date, sizeof(date));
    kpi_buf_printf(b, "\"%s\": \"%s\"%s", name, date, comma ? ", " : "");
}

/* The targets stored, resolved for --today. */
static void json_targets(struct kpi_buf *b, int64_t today)
{
    kpi_buf_adds(b, "  \"targets\": [");
    for (size_t i = 0; i < demo_n_targets; i++) {
        struct demo_target_value t;
        if (demo_target_resolve(&demo_targets[i], today, &t) < 0)
            continue;
        kpi_buf_printf(b, "%s\n    {\"kpi\": \"%s\", \"baseline\": ", i ? "," : "", t.key);
        json_number(b, t.baseline);
        kpi_buf_adds(b, ", ");
        json_date(b, "baseline_date", t.baseline_day, true);
        if (t.range) {
            kpi_buf_adds(b, "\"low\": ");
            json_number(b, t.low);
            kpi_buf_adds(b, ", \"high\": ");
            json_number(b, t.high);
        } else {
            kpi_buf_adds(b, "\"value\": ");
            json_number(b, t.value);
        }
        kpi_buf_adds(b, ", ");
        json_date(b, "date", t.day, true);
        kpi_buf_adds(b, "\"at_risk_pct\": ");
        json_number(b, t.at_risk_pct);
        kpi_buf_adds(b, "}");
    }
    kpi_buf_adds(b, "\n  ]\n");
}

static size_t count_teams(void)
{
    size_t n = 0;
    for (size_t i = 0; i < DEMO_TEAMS; i++)
        for (size_t k = 0; k < demo_n_kpis; k++)
            if (strcmp(demo_kpis[k].team, demo_teams[i]) == 0) {
                n++;
                break;
            }
    return n;
}

static int print_summary(struct cli *c, uint64_t seed, int64_t first, int64_t today, uint64_t points)
{
    struct demo_incidents inc;
    demo_incidents_for(first, today, &inc);
    char from[16], to[16], camp[16], loss[16], outage[16];
    kpi_date_format(first, from, sizeof(from));
    kpi_date_format(today, to, sizeof(to));
    kpi_date_format(inc.campaign, camp, sizeof(camp));
    kpi_date_format(inc.loss, loss, sizeof(loss));
    kpi_date_format(inc.outage, outage, sizeof(outage));
    if (!c->json) {
        char count[40];
        format_count(points, count, sizeof(count));
        printf("Seeded %s: %zu KPIs in %zu teams, %s points from %s to %s into %s\n", DEMO_ORG_NAME, demo_n_kpis + demo_n_derived,
               count_teams(), count, from, to, c->db_path);
        printf("Incidents: paid campaign from %s, biggest customer lost on %s, outage week from %s.\n", camp, loss, outage);
        return EXIT_OK;
    }
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 20);
    kpi_buf_adds(&b, "{\n  \"org\": ");
    json_string(&b, DEMO_ORG_NAME);
    kpi_buf_adds(&b, ",\n  \"db\": ");
    json_string(&b, c->db_path);
    kpi_buf_printf(&b, ",\n  \"seed\": %" PRIu64 ",\n  \"kpis\": %zu,\n  \"teams\": %zu,\n  \"points\": %" PRIu64 ",\n  ", seed,
                   demo_n_kpis + demo_n_derived, count_teams(), points);
    json_date(&b, "from", first, false);
    kpi_buf_adds(&b, ",\n  ");
    json_date(&b, "to", today, false);
    kpi_buf_adds(&b, ",\n  \"incidents\": {");
    json_date(&b, "campaign", inc.campaign, true);
    json_date(&b, "customer_lost", inc.loss, true);
    json_date(&b, "outage", inc.outage, false);
    kpi_buf_adds(&b, "},\n");
    json_targets(&b, today);
    kpi_buf_adds(&b, "}");
    return cli_print_buf(c, &b);
}

/* Everything after the options: one transaction from the emptiness check to the last point. */
static int seed_database(struct cli *c, uint64_t seed, int years, bool have_today, int64_t today)
{
    int rc = cli_open_create(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_diag diag = {""};
    int r = kpi_store_begin(c->store);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot start a transaction: %s", kpi_strerror(r));
    struct seeding s = {.store = c->store};
    s.kpi_id = calloc(demo_n_kpis, sizeof(int64_t));
    s.dims_id = calloc(demo_n_kpis * DEMO_COMBOS_MAX, sizeof(int64_t));
    int64_t first = 0;
    if (!s.kpi_id || !s.dims_id) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", kpi_strerror(-ENOMEM));
        goto out;
    }

    /* Checked inside the transaction, so a concurrent writer cannot slip KPIs in between. */
    struct kpi_def *defs;
    size_t n;
    r = kpi_store_kpi_list(c->store, true, &defs, &n);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot list KPIs: %s", kpi_strerror(r));
        goto out;
    }
    kpi_store_kpi_list_free(defs, n);
    if (n > 0) {
        rc = cli_fail(c, EXIT_RUNTIME,
                      "%s already has %zu KPI%s; the demo only seeds an empty database, so real data is never mixed "
                      "with made-up data (use --db NEW.db)",
                      c->db_path, n, n == 1 ? "" : "s");
        goto out;
    }

    r = set_org(c, &diag);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        goto out;
    }
    s.cal = &c->cal;
    if (!have_today)
        today = cli_today(c);
    first = demo_first_day(today, years);
    if (first < KPI_DAY_MIN) {
        rc = cli_fail(c, EXIT_RUNTIME, "today: too early for %d years of history", years);
        goto out;
    }
    r = insert_catalog(&s, &diag);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        goto out;
    }
    r = insert_derived(&s, &diag);
    if (r == 0)
        r = store_targets(&s, today, &diag);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        goto out;
    }
    r = demo_generate(seed, first, today, put_point, &s);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot write the demo points: %s", kpi_strerror(r));
        goto out;
    }
    r = kpi_store_commit(c->store);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot commit: %s", kpi_strerror(r));
        goto out;
    }
    rc = print_summary(c, seed, first, today, s.points);
    free(s.kpi_id);
    free(s.dims_id);
    return rc;

out:
    kpi_store_rollback(c->store);
    free(s.kpi_id);
    free(s.dims_id);
    return rc;
}

int cmd_demo(struct cli *c, int argc, char **argv)
{
    enum { OPT_SEED = OPT_FIRST_COMMAND_OPTION, OPT_YEARS, OPT_TODAY };
    static const struct option opts[] = {{"seed", required_argument, NULL, OPT_SEED},
                                         {"years", required_argument, NULL, OPT_YEARS},
                                         {"today", required_argument, NULL, OPT_TODAY},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    int64_t seed = 42, years = 3, today = 0;
    bool have_today = false;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        switch (opt) {
        case OPT_SEED:
            if (kpi_parse_int64(optarg, strlen(optarg), 0, INT64_MAX, &seed) < 0)
                return cli_usage(c, "seed: expected a non-negative integer, got '%s'", optarg);
            break;
        case OPT_YEARS:
            if (kpi_parse_int64(optarg, strlen(optarg), 1, DEMO_YEARS_MAX, &years) < 0)
                return cli_usage(c, "years: expected a whole number from 1 to %d, got '%s'", DEMO_YEARS_MAX, optarg);
            break;
        case OPT_TODAY:
            if (kpi_date_parse(optarg, strlen(optarg), &today) < 0)
                return cli_usage(c, "today: expected a date YYYY-MM-DD, got '%s'", optarg);
            have_today = true;
            break;
        default:
            return cli_usage(c, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    return seed_database(c, (uint64_t)seed, (int)years, have_today, today);
}
