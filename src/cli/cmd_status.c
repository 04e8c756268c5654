/*
 * `kpi status` (the scorecard, or one KPI) and `kpi tree` (the cascade with health), both as of a
 * day. The terminal scorecard has one row per KPI: colour-coded status, value with its unit and
 * format, target, progress, a trend arrow with the change, a sparkline of the last 12 periods and
 * markers for stale data and reviews that are due. Colours only when standard output is a terminal
 * and NO_COLOR is not set.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/str.h"
#include "cli/cli.h"
#include "json/json.h"
#include "kpi/format.h"
#include "kpi/time.h"
#include "store/scorecard.h"

struct view {
    bool color;
};

static const char *status_color(enum kpi_status s)
{
    switch (s) {
    case KPI_STATUS_ON_TRACK:
        return "\033[32m";
    case KPI_STATUS_AT_RISK:
        return "\033[33m";
    case KPI_STATUS_OFF_TRACK:
        return "\033[31m";
    default:
        return "\033[2m";
    }
}

static const char *status_label(enum kpi_status s)
{
    static const char *const labels[] = {"on track", "at risk", "off track", "no target", "no data"};
    return (unsigned)s < KPI_STATUS__COUNT ? labels[s] : "?";
}

/* Eight block heights scaled between the minimum and maximum of the shown periods; a period
 * without data is a space. */
static void sparkline(const struct kpi_scorecard_entry *e, char *buf, size_t size)
{
    static const char *const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < e->n_spark; i++) {
        if (e->spark[i].has) {
            lo = fmin(lo, e->spark[i].v);
            hi = fmax(hi, e->spark[i].v);
        }
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->n_spark; i++) {
        const char *glyph = " ";
        if (e->spark[i].has) {
            int level = hi > lo ? (int)((e->spark[i].v - lo) / (hi - lo) * 7.0 + 0.5) : 3;
            glyph = blocks[level < 0 ? 0 : (level > 7 ? 7 : level)];
        }
        int n = snprintf(buf + used, size - used, "%s", glyph);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static void trend(const struct kpi_scorecard_entry *e, const struct view *v, char *buf, size_t size)
{
    const struct kpi_status_result *st = &e->status;
    if (!st->change_abs.has) {
        snprintf(buf, size, " ");
        return;
    }
    const char *arrow = st->change_abs.v > 0 ? "↑" : (st->change_abs.v < 0 ? "↓" : "→");
    const char *color = !v->color || st->improving < 0 ? "" : (st->improving ? "\033[32m" : "\033[31m");
    char pct[32] = "";
    if (st->change_pct.has)
        snprintf(pct, sizeof(pct), " %+.1f%%", st->change_pct.v);
    snprintf(buf, size, "%s%s%s%s", color, arrow, pct, v->color && *color ? "\033[0m" : "");
}

/* Pads a string to width terminal columns: UTF-8 continuation bytes and ANSI colour sequences take
 * no column (every glyph used here is one column wide). */
static void print_padded(const char *s, int width)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == 0x1b) {
            while (p[1] && *p != 'm')
                p++;
            continue;
        }
        if ((*p & 0xc0) != 0x80)
            cols++;
    }
    fputs(s, stdout);
    for (; cols < width; cols++)
        fputc(' ', stdout);
}

static void print_row(const struct kpi_calendar *cal, const struct kpi_scorecard_entry *e, const struct view *v)
{
    const struct kpi_status_result *st = &e->status;
    char label[KPI_PERIOD_LABEL_MAX] = "-", value[64] = "-", target[140] = "-", progress[16] = "-", tr[64], spark[64], stat[48];
    if (st->has_period)
        kpi_period_format(cal, &st->period, label, sizeof(label));
    if (st->value.has)
        kpi_value_format(e->def, st->value.v, value, sizeof(value));
    if (st->target.has) {
        kpi_value_format(e->def, st->target.v, target, sizeof(target));
    } else if (st->low.has && st->high.has) {
        char lo[64], hi[64];
        kpi_value_format(e->def, st->low.v, lo, sizeof(lo));
        kpi_value_format(e->def, st->high.v, hi, sizeof(hi));
        snprintf(target, sizeof(target), "%s..%s", lo, hi);
    }
    if (st->progress.has)
        snprintf(progress, sizeof(progress), "%.0f%%", st->progress.v);
    trend(e, v, tr, sizeof(tr));
    sparkline(e, spark, sizeof(spark));
    snprintf(stat, sizeof(stat), "%s● %s%s", v->color ? status_color(st->status) : "", status_label(st->status),
             v->color ? "\033[0m" : "");
    print_padded(stat, 12);
    printf("%-24.24s %-10s %16s %16s %8s  ", e->def->key, label, value, target, progress);
    print_padded(tr, 10);
    print_padded(spark, 13);
    if (e->error[0])
        printf("error: %s", e->error);
    printf("%s%s\n", st->stale ? " stale" : "", e->due_for_review ? " review due" : "");
}

struct filters {
    const char *team, *owner;
    int tier;
    int status;
    const char *as_of;
    bool no_color;
};

static int parse_filters(struct cli *c, int argc, char **argv, struct filters *f)
{
    enum { OPT_TEAM = OPT_FIRST_COMMAND_OPTION, OPT_TIER, OPT_OWNER, OPT_STATUS, OPT_AS_OF, OPT_NO_COLOR };
    static const struct option opts[] = {{"team", required_argument, NULL, OPT_TEAM},
                                         {"tier", required_argument, NULL, OPT_TIER},
                                         {"owner", required_argument, NULL, OPT_OWNER},
                                         {"status", required_argument, NULL, OPT_STATUS},
                                         {"as-of", required_argument, NULL, OPT_AS_OF},
                                         {"no-color", no_argument, NULL, OPT_NO_COLOR},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    *f = (struct filters){NULL, NULL, -1, -1, NULL, false};
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        struct kpi_diag diag = {""};
        switch (opt) {
        case OPT_TEAM:
            f->team = optarg;
            break;
        case OPT_OWNER:
            f->owner = optarg;
            break;
        case OPT_TIER:
            if (kpi_enum_parse(&kpi_enum_tier, optarg, &f->tier, &diag) < 0)
                return cli_usage(c, "%s", diag.msg);
            break;
        case OPT_STATUS: {
            f->status = -1;
            for (int s = 0; s < KPI_STATUS__COUNT; s++)
                if (strcmp(optarg, kpi_status_name((enum kpi_status)s)) == 0)
                    f->status = s;
            if (f->status < 0)
                return cli_usage(c, "status: unknown value '%s' (expected on_track, at_risk, off_track, no_target or no_data)",
                                 optarg);
            break;
        }
        case OPT_AS_OF:
            f->as_of = optarg;
            break;
        case OPT_NO_COLOR:
            f->no_color = true;
            break;
        }
    }
    return -1;
}

/* Opens the database, resolves --as-of and builds the scorecard. Returns an exit code or -1. */
static int build(struct cli *c, const struct filters *f, struct kpi_scorecard **ret_sc)
{
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    int64_t as_of = cli_today(c);
    if (f->as_of && kpi_date_parse(f->as_of, strlen(f->as_of), &as_of) < 0)
        return cli_usage(c, "as-of: '%s' is not a date (YYYY-MM-DD)", f->as_of);
    struct kpi_diag diag = {""};
    int r = kpi_scorecard_build(c->store, &c->cal, as_of, ret_sc, &diag);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
    return -1;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
    struct filters f;
    int rc = parse_filters(c, argc, argv, &f);
    if (rc >= 0)
        return rc;
    int first_key = optind, n_keys = argc - optind;
    struct kpi_scorecard *sc = NULL;
    rc = build(c, &f, &sc);
    if (rc >= 0)
        return rc;
    bool *include = calloc(sc->n_defs ? sc->n_defs : 1, sizeof(bool));
    if (!include) {
        kpi_scorecard_free(sc);
        return cli_fail(c, EXIT_RUNTIME, "out of memory");
    }
    size_t shown = 0;
    for (size_t i = 0; i < sc->n_defs; i++) {
        const struct kpi_def *d = &sc->defs[i];
        bool keep = (!f.team || kpi_streq(d->team, f.team)) && (!f.owner || kpi_streq(d->owner, f.owner)) &&
                    (f.tier < 0 || (int)d->tier == f.tier) && (f.status < 0 || (int)sc->entries[i].status.status == f.status);
        if (n_keys > 0) {
            keep = false;
            for (int k = 0; k < n_keys; k++)
                keep = keep || strcmp(argv[first_key + k], d->key) == 0;
        }
        include[i] = keep;
        shown += keep;
    }
    for (int k = 0; k < n_keys; k++) {
        bool found = false;
        for (size_t i = 0; i < sc->n_defs && !found; i++)
            found = strcmp(argv[first_key + k], sc->defs[i].key) == 0;
        if (!found) {
            free(include);
            kpi_scorecard_free(sc);
            return cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s' (archived KPIs are not judged)", argv[first_key + k]);
        }
    }
    rc = EXIT_OK;
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 256u << 20);
        int r = 0;
        if (n_keys == 1) {
            for (size_t i = 0; i < sc->n_defs; i++)
                if (include[i])
                    r = kpi_json_status(&b, &c->cal, &sc->entries[i], KPI_JSON_PRETTY);
        } else {
            r = kpi_json_scorecard(&b, &c->cal, sc, include, KPI_JSON_PRETTY);
        }
        if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "cannot write JSON: %s", kpi_strerror(r));
        else
            cli_print_buf(c, &b);
    } else {
        struct view v = {!f.no_color && isatty(STDOUT_FILENO) && !getenv("NO_COLOR")};
        char day[16];
        kpi_date_format(sc->as_of_day, day, sizeof(day));
        printf("Scorecard as of %s — %zu KPI%s\n\n", day, shown, shown == 1 ? "" : "s");
        printf("%-12s%-24s %-10s %16s %16s %8s  %-10s%-13s%s\n", "STATUS", "KPI", "PERIOD", "VALUE", "TARGET", "PROGRESS", "TREND",
               "LAST 12", "NOTES");
        for (size_t i = 0; i < sc->n_defs; i++)
            if (include[i])
                print_row(&c->cal, &sc->entries[i], &v);
        if (n_keys == 0 && sc->n_teams) {
            printf("\nTeam health:");
            for (size_t t = 0; t < sc->n_teams; t++) {
                if (f.team && strcmp(f.team, sc->teams[t].team) != 0)
                    continue;
                if (sc->teams[t].health.has)
                    printf("  %s %.0f", sc->teams[t].team, sc->teams[t].health.v);
                else
                    printf("  %s -", sc->teams[t].team);
            }
            printf("\n");
        }
    }
    free(include);
    kpi_scorecard_free(sc);
    return rc;
}

static void print_tree(const struct kpi_calendar *cal, const struct kpi_scorecard *sc, size_t node, int depth, const struct view *v,
                       unsigned *budget)
{
    if (*budget == 0 || depth > 64)
        return;
    (*budget)--;
    const struct kpi_scorecard_entry *e = &sc->entries[node];
    char value[64] = "-", health[16] = "-", stat[48];
    if (e->status.value.has)
        kpi_value_format(e->def, e->status.value.v, value, sizeof(value));
    if (e->health.has)
        snprintf(health, sizeof(health), "%.0f", e->health.v);
    snprintf(stat, sizeof(stat), "%s● %s%s", v->color ? status_color(e->status.status) : "", status_label(e->status.status),
             v->color ? "\033[0m" : "");
    char name[128];
    snprintf(name, sizeof(name), "%*s%s%s", depth * 2, "", depth ? "└ " : "", e->def->key);
    print_padded(name, 32);
    print_padded(stat, 12);
    printf(" health %-4s %16s  weight %g\n", health, value, e->def->weight);
    (void)cal;
    for (size_t i = 0; i < sc->n_defs; i++)
        if (sc->defs[i].parent && strcmp(sc->defs[i].parent, e->def->key) == 0)
            print_tree(cal, sc, i, depth + 1, v, budget);
}

int cmd_tree(struct cli *c, int argc, char **argv)
{
    struct filters f;
    int rc = parse_filters(c, argc, argv, &f);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    struct kpi_scorecard *sc = NULL;
    rc = build(c, &f, &sc);
    if (rc >= 0)
        return rc;
    struct view v = {!f.no_color && isatty(STDOUT_FILENO) && !getenv("NO_COLOR")};
    unsigned budget = (unsigned)sc->n_defs;
    for (size_t i = 0; i < sc->n_defs; i++) {
        const struct kpi_def *d = &sc->defs[i];
        /* Roots: no parent, or a parent that is archived (not listed). */
        bool root = !d->parent;
        if (!root) {
            root = true;
            for (size_t k = 0; k < sc->n_defs && root; k++)
                root = strcmp(sc->defs[k].key, d->parent) != 0;
        }
        if (root && (!f.team || kpi_streq(d->team, f.team)))
            print_tree(&c->cal, sc, i, 0, &v, &budget);
    }
    kpi_scorecard_free(sc);
    return EXIT_OK;
}
