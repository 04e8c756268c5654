/*
 * Tests for src/core/status.c and src/core/health.c. The judging cases live in
 * tests/data/status.txt (one block per case, format at its top, expected numbers worked out by hand
 * in its comments); the code below runs them through kpi_series_compute and kpi_status_compute, and
 * adds direct tests of target validation and choice, argument checks, and the health roll-up.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "kpi/period.h"
#include "kpi/series.h"
#include "kpi/status.h"
#include "kpi/time.h"

#define MAX_TOKENS 64
#define MAX_TARGETS 8
#define MAX_POINTS 64

static int64_t day_of(const char *text)
{
    int64_t day;
    cr_assert_eq(kpi_date_parse(text, strlen(text), &day), 0, "bad test date %s", text);
    return day;
}

/* Splits line in place on blanks; a '#' starts a comment. Returns the number of tokens. */
static size_t split(char *line, char *tokens[MAX_TOKENS])
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p == '\0' || *p == '#')
            break;
        cr_assert_lt(n, MAX_TOKENS, "too many tokens");
        tokens[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        if (*p == '\0')
            break;
        *p++ = '\0';
    }
    return n;
}

static double number_of(const char *where, const char *text)
{
    double v;
    cr_assert_eq(kpi_parse_double(text, strlen(text), &v), 0, "%s: bad number %s", where, text);
    return v;
}

/* The expected fields of a case, as text ("null" for absent). */
enum field {
    F_STATUS,
    F_PERIOD,
    F_VALUE,
    F_EXPECTED,
    F_TARGET,
    F_LOW,
    F_HIGH,
    F_PROGRESS,
    F_STALE,
    F_CHANGE_ABS,
    F_CHANGE_PCT,
    F_YOY_PCT,
    F_IMPROVING,
    F_STREAK,
    F_PACED,
    F__COUNT
};

static const char *const field_names[F__COUNT] = {
    "status", "period",     "value",      "expected", "target",    "low",    "high",  "progress",
    "stale",  "change_abs", "change_pct", "yoy_pct",  "improving", "streak", "paced",
};

struct test_case {
    char where[96];
    struct kpi_def def;
    int fiscal;
    struct kpi_target targets[MAX_TARGETS];
    size_t n_targets;
    struct kpi_point points[MAX_POINTS];
    int64_t point_days[MAX_POINTS];
    size_t n_points;
    bool has_as_of;
    int64_t as_of;
    char want[F__COUNT][48];
    bool given[F__COUNT];
};

static void parse_kpi(struct test_case *tc, char **t, size_t n)
{
    cr_assert(n == 4 || n == 5, "%s: kpi DIRECTION AGGREGATION GRANULARITY [fiscal=M]", tc->where);
    int v;
    cr_assert_eq(kpi_enum_parse(&kpi_enum_direction, t[1], &v, NULL), 0, "%s: direction %s", tc->where, t[1]);
    tc->def.direction = (enum kpi_direction)v;
    cr_assert_eq(kpi_enum_parse(&kpi_enum_aggregation, t[2], &v, NULL), 0, "%s: aggregation %s", tc->where, t[2]);
    tc->def.aggregation = (enum kpi_aggregation)v;
    cr_assert_eq(kpi_granularity_from_string(t[3], &tc->def.granularity), 0, "%s: granularity %s", tc->where, t[3]);
    if (n == 5) {
        int64_t fs;
        cr_assert(strncmp(t[4], "fiscal=", 7) == 0, "%s: %s", tc->where, t[4]);
        cr_assert_eq(kpi_parse_int64(t[4] + 7, strlen(t[4] + 7), 1, 12, &fs), 0, "%s: fiscal", tc->where);
        tc->fiscal = (int)fs;
    }
}

static void parse_target(struct test_case *tc, char **t, size_t n)
{
    cr_assert_lt(tc->n_targets, MAX_TARGETS, "%s: too many targets", tc->where);
    struct kpi_target *tg = &tc->targets[tc->n_targets++];
    *tg = (struct kpi_target){.id = (int64_t)tc->n_targets, .at_risk_pct = KPI_AT_RISK_PCT_DEFAULT};
    for (size_t i = 1; i < n; i++) {
        char *eq = strchr(t[i], '=');
        cr_assert_not_null(eq, "%s: %s is not KEY=VALUE", tc->where, t[i]);
        *eq = '\0';
        const char *key = t[i], *val = eq + 1;
        if (strcmp(key, "baseline") == 0)
            tg->baseline = number_of(tc->where, val);
        else if (strcmp(key, "baseline_date") == 0)
            tg->baseline_day = day_of(val);
        else if (strcmp(key, "value") == 0)
            tg->value = number_of(tc->where, val);
        else if (strcmp(key, "date") == 0)
            tg->day = day_of(val);
        else if (strcmp(key, "low") == 0)
            tg->low = number_of(tc->where, val);
        else if (strcmp(key, "high") == 0)
            tg->high = number_of(tc->where, val);
        else if (strcmp(key, "at_risk_pct") == 0)
            tg->at_risk_pct = number_of(tc->where, val);
        else
            cr_assert_fail("%s: unknown target field %s", tc->where, key);
    }
    struct kpi_diag diag = {{0}};
    cr_assert_eq(kpi_target_validate(tg, tc->def.direction, &diag), 0, "%s: invalid target: %s", tc->where, diag.msg);
}

static void parse_points(struct test_case *tc, char **t, size_t n)
{
    cr_assert(n % 2 == 1, "%s: points come as DATE VALUE pairs", tc->where);
    for (size_t i = 1; i + 1 < n; i += 2) {
        cr_assert_lt(tc->n_points, MAX_POINTS, "%s: too many points", tc->where);
        int64_t day = day_of(t[i]);
        tc->point_days[tc->n_points] = day;
        tc->points[tc->n_points] = (struct kpi_point){.at_ms = day * KPI_MS_PER_DAY, .value = number_of(tc->where, t[i + 1])};
        tc->n_points++;
    }
}

static void parse_expect(struct test_case *tc, char **t, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        char *eq = strchr(t[i], '=');
        cr_assert_not_null(eq, "%s: %s is not FIELD=VALUE", tc->where, t[i]);
        *eq = '\0';
        int f = 0;
        while (f < F__COUNT && strcmp(field_names[f], t[i]) != 0)
            f++;
        cr_assert_lt(f, F__COUNT, "%s: unknown field %s", tc->where, t[i]);
        cr_assert(!tc->given[f], "%s: %s given twice", tc->where, t[i]);
        cr_assert_eq(kpi_strlcpy(tc->want[f], eq + 1, sizeof(tc->want[f])), 0, "%s: value too long", tc->where);
        tc->given[f] = true;
    }
}

static void expect_opt(const struct test_case *tc, enum field f, struct kpi_opt got)
{
    const char *want = tc->want[f];
    if (strcmp(want, "null") == 0) {
        cr_expect(!got.has, "%s: %s: want null, got %.17g", tc->where, field_names[f], got.v);
        return;
    }
    double w = number_of(tc->where, want);
    cr_expect(got.has, "%s: %s: want %s, got null", tc->where, field_names[f], want);
    if (!got.has)
        return;
    double scale = fmax(1.0, fabs(w));
    cr_expect(fabs(got.v - w) <= 1e-9 * scale, "%s: %s: want %s, got %.17g", tc->where, field_names[f], want, got.v);
}

static void expect_bool(const struct test_case *tc, enum field f, bool got)
{
    const char *want = tc->want[f];
    cr_assert(strcmp(want, "true") == 0 || strcmp(want, "false") == 0, "%s: %s must be true or false", tc->where, field_names[f]);
    cr_expect_eq(got, strcmp(want, "true") == 0, "%s: %s: want %s, got %s", tc->where, field_names[f], want,
                 got ? "true" : "false");
}

static void run_case(struct test_case *tc)
{
    static const char *const defaults[F__COUNT] = {[F_LOW] = "null", [F_HIGH] = "null", [F_PACED] = "false"};
    cr_assert(tc->has_as_of, "%s: no asof line", tc->where);
    for (int f = 0; f < F__COUNT; f++) {
        if (tc->given[f])
            continue;
        cr_assert_not_null(defaults[f], "%s: expected field %s missing", tc->where, field_names[f]);
        kpi_strlcpy(tc->want[f], defaults[f], sizeof(tc->want[f]));
    }

    struct kpi_calendar cal = {NULL, tc->fiscal};
    /* The store's view as of the day: later points are not there. */
    struct kpi_point kept[MAX_POINTS];
    size_t n_kept = 0;
    int64_t from_day = INT64_MAX;
    for (size_t i = 0; i < tc->n_points; i++) {
        if (tc->point_days[i] > tc->as_of)
            continue;
        kept[n_kept++] = tc->points[i];
        if (tc->point_days[i] < from_day)
            from_day = tc->point_days[i];
    }
    struct kpi_series_row *rows = NULL;
    size_t n_rows = 0;
    if (n_kept > 0)
        cr_assert_eq(
            kpi_series_compute(&cal, tc->def.granularity, tc->def.aggregation, kept, n_kept, from_day, tc->as_of, &rows, &n_rows),
            0, "%s: series", tc->where);

    struct kpi_status_result res;
    int r = kpi_status_compute(&cal, &tc->def, tc->targets, tc->n_targets, rows, n_rows, tc->as_of, &res);
    cr_assert_eq(r, 0, "%s: kpi_status_compute returned %d", tc->where, r);

    cr_expect_str_eq(kpi_status_name(res.status), tc->want[F_STATUS], "%s: status: want %s, got %s", tc->where, tc->want[F_STATUS],
                     kpi_status_name(res.status));
    if (strcmp(tc->want[F_PERIOD], "null") == 0) {
        cr_expect(!res.has_period, "%s: period: want null", tc->where);
    } else {
        char label[KPI_PERIOD_LABEL_MAX] = "(none)";
        if (res.has_period)
            cr_assert_eq(kpi_period_format(&cal, &res.period, label, sizeof(label)), 0, "%s: label", tc->where);
        cr_expect_str_eq(label, tc->want[F_PERIOD], "%s: period: want %s, got %s", tc->where, tc->want[F_PERIOD], label);
    }
    expect_opt(tc, F_VALUE, res.value);
    expect_opt(tc, F_EXPECTED, res.expected);
    expect_opt(tc, F_TARGET, res.target);
    expect_opt(tc, F_LOW, res.low);
    expect_opt(tc, F_HIGH, res.high);
    expect_opt(tc, F_PROGRESS, res.progress);
    expect_bool(tc, F_STALE, res.stale);
    expect_opt(tc, F_CHANGE_ABS, res.change_abs);
    expect_opt(tc, F_CHANGE_PCT, res.change_pct);
    expect_opt(tc, F_YOY_PCT, res.yoy_pct);
    expect_bool(tc, F_PACED, res.paced);

    const char *imp = tc->want[F_IMPROVING];
    int want_imp = strcmp(imp, "null") == 0 ? -1 : strcmp(imp, "true") == 0 ? 1 : 0;
    cr_assert(want_imp != 0 || strcmp(imp, "false") == 0, "%s: improving must be true, false or null", tc->where);
    cr_expect_eq(res.improving, want_imp, "%s: improving: want %s, got %d", tc->where, imp, res.improving);

    int64_t streak;
    cr_assert_eq(kpi_parse_int64(tc->want[F_STREAK], strlen(tc->want[F_STREAK]), 0, 1000000, &streak), 0, "%s: streak", tc->where);
    cr_expect_eq(res.streak, (int)streak, "%s: streak: want %d, got %d", tc->where, (int)streak, res.streak);

    /* Score and applied target follow from the status. */
    static const double scores[] = {[KPI_STATUS_ON_TRACK] = 100, [KPI_STATUS_AT_RISK] = 50, [KPI_STATUS_OFF_TRACK] = 0};
    if (res.status <= KPI_STATUS_OFF_TRACK) {
        cr_expect(res.score.has && res.score.v == scores[res.status], "%s: score", tc->where);
        cr_expect_not_null(res.applied, "%s: applied target", tc->where);
    } else {
        cr_expect(!res.score.has, "%s: score for %s", tc->where, kpi_status_name(res.status));
        cr_expect_null(res.applied, "%s: applied target", tc->where);
    }
    free(rows);
}

Test(status, data_file)
{
    const char *dir = getenv("KPI_TEST_DATA");
    cr_assert_not_null(dir, "KPI_TEST_DATA is not set");
    char path[4096];
    snprintf(path, sizeof(path), "%s/status.txt", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, cases = 0;
    struct test_case *tc = NULL;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *t[MAX_TOKENS];
        size_t n = split(line, t);
        if (n == 0)
            continue;
        if (strcmp(t[0], "case") == 0) {
            cr_assert_null(tc, "status.txt:%d: case inside a case", lineno);
            cr_assert_eq(n, 2, "status.txt:%d: case NAME", lineno);
            tc = calloc(1, sizeof(*tc));
            cr_assert_not_null(tc);
            snprintf(tc->where, sizeof(tc->where), "status.txt:%d %s", lineno, t[1]);
            tc->fiscal = 1;
            tc->def.granularity = KPI_GRAN_MONTH;
            continue;
        }
        cr_assert_not_null(tc, "status.txt:%d: %s outside a case", lineno, t[0]);
        if (strcmp(t[0], "kpi") == 0) {
            parse_kpi(tc, t, n);
        } else if (strcmp(t[0], "target") == 0) {
            parse_target(tc, t, n);
        } else if (strcmp(t[0], "points") == 0) {
            parse_points(tc, t, n);
        } else if (strcmp(t[0], "asof") == 0) {
            cr_assert_eq(n, 2, "%s: asof DATE", tc->where);
            tc->as_of = day_of(t[1]);
            tc->has_as_of = true;
        } else if (strcmp(t[0], "expect") == 0) {
            parse_expect(tc, t, n);
        } else if (strcmp(t[0], "end") == 0) {
            run_case(tc);
            free(tc);
            tc = NULL;
            cases++;
        } else {
            cr_assert_fail("status.txt:%d: unknown line %s", lineno, t[0]);
        }
    }
    free(line);
    fclose(f);
    cr_assert_null(tc, "status.txt: last case has no end");
    cr_assert_geq(cases, 40, "only %d cases read", cases);
}

Test(status, names)
{
    cr_expect_str_eq(kpi_status_name(KPI_STATUS_ON_TRACK), "on_track");
    cr_expect_str_eq(kpi_status_name(KPI_STATUS_AT_RISK), "at_risk");
    cr_expect_str_eq(kpi_status_name(KPI_STATUS_OFF_TRACK), "off_track");
    cr_expect_str_eq(kpi_status_name(KPI_STATUS_NO_TARGET), "no_target");
    cr_expect_str_eq(kpi_status_name(KPI_STATUS_NO_DATA), "no_data");
    cr_expect_null(kpi_status_name(KPI_STATUS__COUNT));
    cr_expect_null(kpi_status_name((enum kpi_status) - 1));
}

static struct kpi_target up_target(void)
{
    return (struct kpi_target){
        .baseline = 100, .baseline_day = day_of("2026-01-01"), .value = 200, .day = day_of("2026-12-31"), .at_risk_pct = 10};
}

static void expect_invalid(const struct kpi_target *t, enum kpi_direction dir, const char *msg)
{
    struct kpi_diag diag = {{0}};
    cr_expect_eq(kpi_target_validate(t, dir, &diag), -EINVAL, "accepted, want '%s'", msg);
    cr_expect_str_eq(diag.msg, msg);
    cr_expect_eq(kpi_target_validate(t, dir, NULL), -EINVAL, "NULL diag");
}

Test(status, target_validate)
{
    struct kpi_diag diag = {{0}};
    struct kpi_target t = up_target();
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR_UP, &diag), 0, "%s", diag.msg);
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR_DOWN, &diag), 0, "%s", diag.msg);

    t.day = t.baseline_day;
    expect_invalid(&t, KPI_DIR_UP, "date: must be after baseline_date (2026-01-01)");
    t.day = t.baseline_day - 1;
    expect_invalid(&t, KPI_DIR_UP, "date: must be after baseline_date (2026-01-01)");
    t.day = t.baseline_day + 1; /* one day is enough */
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR_UP, NULL), 0);

    t = up_target();
    t.value = NAN;
    expect_invalid(&t, KPI_DIR_UP, "value: must be a finite number");
    t.value = INFINITY;
    expect_invalid(&t, KPI_DIR_DOWN, "value: must be a finite number");
    t = up_target();
    t.baseline = -INFINITY;
    expect_invalid(&t, KPI_DIR_UP, "baseline: must be a finite number");
    t = up_target();
    t.day = KPI_DAY_MAX + 1;
    expect_invalid(&t, KPI_DIR_UP, "date: must be from 0001-01-01 to 9999-12-31");
    t = up_target();
    t.baseline_day = KPI_DAY_MIN - 1;
    expect_invalid(&t, KPI_DIR_UP, "baseline_date: must be from 0001-01-01 to 9999-12-31");

    t = up_target();
    t.at_risk_pct = 0;
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR_UP, NULL), 0);
    t.at_risk_pct = 1000;
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR_UP, NULL), 0);
    t.at_risk_pct = 1000.5;
    expect_invalid(&t, KPI_DIR_UP, "at_risk_pct: must be from 0 to 1000");
    t.at_risk_pct = -0.1;
    expect_invalid(&t, KPI_DIR_UP, "at_risk_pct: must be from 0 to 1000");
    t.at_risk_pct = NAN;
    expect_invalid(&t, KPI_DIR_UP, "at_risk_pct: must be from 0 to 1000");

    /* Range: low and high are used, value is ignored. */
    t = up_target();
    t.value = NAN;
    t.low = 40;
    t.high = 60;
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR_RANGE, &diag), 0, "%s", diag.msg);
    t.high = 40;
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR_RANGE, &diag), 0, "low == high: %s", diag.msg);
    t.high = 39.5;
    expect_invalid(&t, KPI_DIR_RANGE, "low: must not be greater than high");
    t.high = 60;
    t.low = NAN;
    expect_invalid(&t, KPI_DIR_RANGE, "low: must be a finite number");
    t.low = 40;
    t.high = INFINITY;
    expect_invalid(&t, KPI_DIR_RANGE, "high: must be a finite number");
    /* For up/down, low and high are ignored. */
    t = up_target();
    t.low = 10;
    t.high = NAN;
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR_UP, NULL), 0);

    cr_expect_eq(kpi_target_validate(NULL, KPI_DIR_UP, NULL), -EINVAL);
    cr_expect_eq(kpi_target_validate(&t, KPI_DIR__COUNT, NULL), -EINVAL);
}

static struct kpi_target span(const char *from, const char *to)
{
    return (struct kpi_target){.baseline_day = day_of(from), .day = day_of(to), .at_risk_pct = 10};
}

Test(status, target_choose)
{
    cr_expect_null(kpi_target_choose(NULL, 0, 0));
    struct kpi_target one = span("2026-01-01", "2026-06-30");
    cr_expect_null(kpi_target_choose(&one, 0, 0));

    struct kpi_target ts[] = {
        span("2026-01-01", "2026-03-31"), /* 0: Q1 */
        span("2026-01-01", "2026-12-31"), /* 1: the year */
        span("2026-07-01", "2026-09-30"), /* 2: Q3 */
        span("2027-01-01", "2027-12-31"), /* 3: next year */
    };
    size_t n = sizeof(ts) / sizeof(ts[0]);
    /* Covered by 0 and 1 (same baseline_date): the one ending first. */
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2026-02-28")), &ts[0]);
    /* Bounds are inclusive. */
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2026-01-01")), &ts[0]);
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2026-03-31")), &ts[0]);
    /* Only the year covers April. */
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2026-04-30")), &ts[1]);
    /* Covered by 1 and 2: the latest baseline_date. */
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2026-08-31")), &ts[2]);
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2026-09-30")), &ts[2]);
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2026-12-31")), &ts[1]);
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2027-06-30")), &ts[3]);
    /* After all: the latest past one. */
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2028-01-31")), &ts[3]);
    /* Before all: the earliest (by baseline_date, then the one ending first). */
    cr_expect_eq(kpi_target_choose(ts, n, day_of("2025-12-31")), &ts[0]);
    /* A gap between targets: the latest past one, not the next. */
    struct kpi_target gap[] = {span("2027-01-01", "2027-03-31"), span("2026-01-01", "2026-03-31"),
                               span("2026-04-10", "2026-06-30")};
    cr_expect_eq(kpi_target_choose(gap, 3, day_of("2026-04-05")), &gap[1]);
    cr_expect_eq(kpi_target_choose(gap, 3, day_of("2026-10-31")), &gap[2]);
    cr_expect_eq(kpi_target_choose(gap, 3, day_of("2025-10-31")), &gap[1]);
}

/* Rows of a monthly last-value KPI over the given points. */
static size_t monthly_rows(const struct kpi_calendar *cal, const char *const *dates, const double *values, size_t n,
                           const char *from, const char *to, struct kpi_series_row **ret_rows)
{
    struct kpi_point pts[16];
    cr_assert_leq(n, 16);
    for (size_t i = 0; i < n; i++)
        pts[i] = (struct kpi_point){.at_ms = day_of(dates[i]) * KPI_MS_PER_DAY, .value = values[i]};
    size_t n_rows = 0;
    cr_assert_eq(kpi_series_compute(cal, KPI_GRAN_MONTH, KPI_AGG_LAST, pts, n, day_of(from), day_of(to), ret_rows, &n_rows), 0);
    return n_rows;
}

Test(status, as_of_before_all_rows)
{
    struct kpi_calendar cal = {NULL, 1};
    struct kpi_def d = {.direction = KPI_DIR_UP, .aggregation = KPI_AGG_LAST, .granularity = KPI_GRAN_MONTH};
    static const char *const dates[] = {"2026-03-10", "2026-04-10"};
    static const double values[] = {1, 2};
    struct kpi_series_row *rows = NULL;
    size_t n = monthly_rows(&cal, dates, values, 2, "2026-03-01", "2026-04-30", &rows);
    struct kpi_target t = up_target();
    struct kpi_status_result res;
    cr_assert_eq(kpi_status_compute(&cal, &d, &t, 1, rows, n, day_of("2026-02-15"), &res), 0);
    cr_expect_eq(res.status, KPI_STATUS_NO_DATA);
    cr_expect(!res.has_period && !res.value.has && !res.target.has && res.stale && res.improving == -1 && res.streak == 0);
    /* Rows beyond the current period are ignored: as of March only March counts. */
    cr_assert_eq(kpi_status_compute(&cal, &d, &t, 1, rows, n, day_of("2026-03-15"), &res), 0);
    cr_expect_eq(res.status, KPI_STATUS_OFF_TRACK);
    cr_expect(res.value.has && res.value.v == 1 && !res.change_abs.has);
    free(rows);
}

Test(status, invalid_arguments)
{
    struct kpi_calendar cal = {NULL, 1};
    struct kpi_def d = {.direction = KPI_DIR_UP, .aggregation = KPI_AGG_LAST, .granularity = KPI_GRAN_MONTH};
    static const char *const dates[] = {"2026-01-10", "2026-02-10"};
    static const double values[] = {1, 2};
    struct kpi_series_row *rows = NULL;
    size_t n = monthly_rows(&cal, dates, values, 2, "2026-01-01", "2026-02-28", &rows);
    int64_t as_of = day_of("2026-02-15");
    struct kpi_status_result res = {.streak = 777};
    cr_expect_eq(kpi_status_compute(NULL, &d, NULL, 0, rows, n, as_of, &res), -EINVAL);
    cr_expect_eq(kpi_status_compute(&cal, NULL, NULL, 0, rows, n, as_of, &res), -EINVAL);
    cr_expect_eq(kpi_status_compute(&cal, &d, NULL, 0, rows, n, as_of, NULL), -EINVAL);
    cr_expect_eq(kpi_status_compute(&cal, &d, NULL, 0, NULL, n, as_of, &res), -EINVAL);
    cr_expect_eq(kpi_status_compute(&cal, &d, NULL, 1, rows, n, as_of, &res), -EINVAL);
    /* Rows out of order or of another granularity. */
    struct kpi_series_row swapped[2] = {rows[1], rows[0]};
    cr_expect_eq(kpi_status_compute(&cal, &d, NULL, 0, swapped, 2, as_of, &res), -EINVAL);
    d.granularity = KPI_GRAN_WEEK;
    cr_expect_eq(kpi_status_compute(&cal, &d, NULL, 0, rows, n, as_of, &res), -EINVAL);
    d.granularity = KPI_GRAN_MONTH;
    d.direction = KPI_DIR__COUNT;
    cr_expect_eq(kpi_status_compute(&cal, &d, NULL, 0, rows, n, as_of, &res), -EINVAL);
    d.direction = KPI_DIR_UP;
    cr_expect_eq(kpi_status_compute(&cal, &d, NULL, 0, rows, n, KPI_DAY_MAX + 1, &res), -ERANGE);
    cr_expect_eq(res.streak, 777, "output written on failure");
    /* Empty rows are fine: no data. */
    cr_expect_eq(kpi_status_compute(&cal, &d, NULL, 0, NULL, 0, as_of, &res), 0);
    cr_expect_eq(res.status, KPI_STATUS_NO_DATA);
    free(rows);
}

static struct kpi_opt score(double v)
{
    return (struct kpi_opt){.has = true, .v = v};
}

static const struct kpi_opt NONE = {0};

Test(health, leaves)
{
    struct kpi_health_node nodes[] = {
        {.score = score(100), .weight = 1, .parent = -1},
        {.score = score(50), .weight = 3, .parent = -1},
        {.score = NONE, .weight = 1, .parent = -1},
    };
    cr_assert_eq(kpi_health_rollup(nodes, 3), 0);
    cr_expect(nodes[0].health.has && nodes[0].health.v == 100);
    cr_expect(nodes[1].health.has && nodes[1].health.v == 50);
    cr_expect(!nodes[2].health.has);
    cr_expect_eq(kpi_health_rollup(NULL, 0), 0);
    cr_expect_eq(kpi_health_rollup(NULL, 1), -EINVAL);
}

Test(health, weighted_parent)
{
    /* Parent 0 (own 100) with children 1 (50, weight 1) and 2 (0, weight 2):
     * (100*1 + 50*1 + 0*2) / (1 + 1 + 2) = 150 / 4 = 37.5. Child 3 has no score: left out.
     * Node 4, a second root, has no score of its own but a child 5 (100, weight 2): health 100. */
    struct kpi_health_node nodes[] = {
        {.score = score(100), .weight = 1, .parent = -1}, {.score = score(50), .weight = 1, .parent = 0},
        {.score = score(0), .weight = 2, .parent = 0},    {.score = NONE, .weight = 5, .parent = 0},
        {.score = NONE, .weight = 1, .parent = -1},       {.score = score(100), .weight = 2, .parent = 4},
    };
    cr_assert_eq(kpi_health_rollup(nodes, 6), 0);
    cr_expect(nodes[0].health.has && nodes[0].health.v == 37.5, "got %g", nodes[0].health.v);
    cr_expect(nodes[1].health.has && nodes[1].health.v == 50);
    cr_expect(nodes[2].health.has && nodes[2].health.v == 0);
    cr_expect(!nodes[3].health.has);
    cr_expect(nodes[4].health.has && nodes[4].health.v == 100);

    /* Three levels: grandchild 2 (20) under child 1 (no score, weight 3) under root 0 (80):
     * child = 20; root = (80*1 + 20*3) / (1 + 3) = 140 / 4 = 35. A weight-0 child 3 (0) adds nothing. */
    struct kpi_health_node tree[] = {
        {.score = score(80), .weight = 1, .parent = -1},
        {.score = NONE, .weight = 3, .parent = 0},
        {.score = score(20), .weight = 1, .parent = 1},
        {.score = score(0), .weight = 0, .parent = 0},
    };
    cr_assert_eq(kpi_health_rollup(tree, 4), 0);
    cr_expect(tree[1].health.has && tree[1].health.v == 20);
    cr_expect(tree[0].health.has && tree[0].health.v == 35, "got %g", tree[0].health.v);
    cr_expect(tree[3].health.has && tree[3].health.v == 0);
}

Test(health, deep_chain)
{
    /* 200000 nodes, each the parent of the next; only the deepest has a score: all get it. The
     * order of nodes is reversed from the natural one to make sure no order is assumed. */
    size_t n = 200000;
    struct kpi_health_node *nodes = calloc(n, sizeof(*nodes));
    cr_assert_not_null(nodes);
    for (size_t i = 0; i < n; i++) {
        nodes[i].weight = 1;
        nodes[i].parent = i + 1 < n ? (ptrdiff_t)(i + 1) : -1;
    }
    nodes[0].score = score(50);
    cr_assert_eq(kpi_health_rollup(nodes, n), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert(nodes[i].health.has && nodes[i].health.v == 50, "node %zu", i);
    free(nodes);
}

Test(health, defensive_cycles)
{
    /* 0 -> 1 -> 2 -> 0 is a cycle; the walk from node 0 closes it at 2 -> 0, which is cut, so 2 is
     * the root: health 0 = 100, 1 = (50 + 100) / 2 = 75, 2 = (0 + 75) / 2 = 37.5. Node 3 is its own
     * parent and node 4 names a parent out of range: both are roots. */
    struct kpi_health_node nodes[] = {
        {.score = score(100), .weight = 1, .parent = 1}, {.score = score(50), .weight = 1, .parent = 2},
        {.score = score(0), .weight = 1, .parent = 0},   {.score = score(60), .weight = 1, .parent = 3},
        {.score = score(70), .weight = 1, .parent = 99},
    };
    cr_assert_eq(kpi_health_rollup(nodes, 5), 0);
    cr_expect(nodes[0].health.has && nodes[0].health.v == 100);
    cr_expect(nodes[1].health.has && nodes[1].health.v == 75);
    cr_expect(nodes[2].health.has && nodes[2].health.v == 37.5);
    cr_expect(nodes[3].health.has && nodes[3].health.v == 60);
    cr_expect(nodes[4].health.has && nodes[4].health.v == 70);

    /* 1 <-> 2 with 3 under 2: the walk from node 1 closes the cycle at 2 -> 1, which is cut: 2 is a
     * root with children 1 (20) and 3 (40): (30 + 20 + 40) / 3 = 30. */
    struct kpi_health_node hang[] = {
        {.score = score(10), .weight = 1, .parent = -1},
        {.score = score(20), .weight = 1, .parent = 2},
        {.score = score(30), .weight = 1, .parent = 1},
        {.score = score(40), .weight = 1, .parent = 2},
    };
    cr_assert_eq(kpi_health_rollup(hang, 4), 0);
    cr_expect(hang[0].health.has && hang[0].health.v == 10);
    cr_expect(hang[1].health.has && hang[1].health.v == 20);
    cr_expect(hang[2].health.has && hang[2].health.v == 30);
    cr_expect(hang[3].health.has && hang[3].health.v == 40);
}
