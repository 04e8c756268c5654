/*
 * Tests for src/core/period.c. The cases live in tests/data/periods.txt (period of a day or an
 * instant, parsing, shifting, invalid labels; see the comment at its top); the code below adds the
 * properties a table cannot state: exhaustive format/parse/shift round trips, the W53 rule for every
 * year 1-9999 against a closed formula, and period boundaries as instants across DST.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "kpi/period.h"
#include "kpi/time.h"
#include "kpi/tz.h"

#define MAX_TOKENS 12

static int64_t day_of(const char *text)
{
    int64_t day;
    cr_assert_eq(kpi_date_parse(text, strlen(text), &day), 0, "bad test date %s", text);
    return day;
}

static void format_day(int64_t day, char buf[16])
{
    kpi_date_format(day, buf, 16);
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

static int fiscal_start(const char *tok)
{
    int64_t v;
    cr_assert_eq(kpi_parse_int64(tok, strlen(tok), 1, 12, &v), 0, "bad fiscal start %s", tok);
    return (int)v;
}

static void check_period(const char *where, const struct kpi_period *p, const char *first, const char *last)
{
    char f[16], l[16];
    format_day(p->first_day, f);
    format_day(p->last_day, l);
    cr_expect_str_eq(f, first, "%s: first day", where);
    cr_expect_str_eq(l, last, "%s: last day", where);
}

/* The label of p, and the check that it parses back to p. */
static void check_label(const char *where, const struct kpi_calendar *cal, const struct kpi_period *p, const char *want)
{
    char label[KPI_PERIOD_LABEL_MAX];
    cr_assert_eq(kpi_period_format(cal, p, label, sizeof(label)), 0, "%s: format", where);
    cr_expect_str_eq(label, want, "%s: label", where);
    struct kpi_period back;
    cr_assert_eq(kpi_period_parse(cal, label, strlen(label), &back), 0, "%s: re-parse %s", where, label);
    cr_expect(back.gran == p->gran && back.first_day == p->first_day && back.last_day == p->last_day, "%s: %s round trip", where,
              label);
}

static void run_of(const char *where, char **t, size_t n)
{
    cr_assert(n == 9 && strcmp(t[5], "->") == 0, "%s: malformed 'of' line", where);
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_load(t[2], &tz), 0, "%s: zone %s", where, t[2]);
    struct kpi_calendar cal = {.tz = tz, .fiscal_year_start = fiscal_start(t[1])};
    enum kpi_granularity g;
    cr_assert_eq(kpi_granularity_from_string(t[3], &g), 0, "%s: granularity", where);
    struct kpi_at at;
    cr_assert_eq(kpi_at_parse(t[4], strlen(t[4]), &at), 0, "%s: at", where);
    struct kpi_period p;
    if (at.is_date)
        cr_assert_eq(kpi_period_of_day(&cal, g, at.day, &p), 0, "%s", where);
    else
        cr_assert_eq(kpi_period_of_instant(&cal, g, at.ms, &p), 0, "%s", where);
    cr_expect_eq(p.gran, g, "%s", where);
    check_period(where, &p, t[7], t[8]);
    check_label(where, &cal, &p, t[6]);
    kpi_tz_free(tz);
}

static void run_parse(const char *where, char **t, size_t n)
{
    cr_assert(n == 8 && strcmp(t[3], "->") == 0, "%s: malformed 'parse' line", where);
    struct kpi_calendar cal = {.fiscal_year_start = fiscal_start(t[1])};
    struct kpi_period p;
    cr_assert_eq(kpi_period_parse(&cal, t[2], strlen(t[2]), &p), 0, "%s: parse %s", where, t[2]);
    cr_expect_str_eq(kpi_granularity_to_string(p.gran), t[4], "%s", where);
    check_period(where, &p, t[6], t[7]);
    check_label(where, &cal, &p, t[5]);
}

static void run_shift(const char *where, char **t, size_t n)
{
    cr_assert(n == 6 && strcmp(t[4], "->") == 0, "%s: malformed 'shift' line", where);
    struct kpi_calendar cal = {.fiscal_year_start = fiscal_start(t[1])};
    struct kpi_period p, q = {.first_day = 12345};
    int64_t steps;
    cr_assert_eq(kpi_parse_int64(t[3], strlen(t[3]), INT64_MIN, INT64_MAX, &steps), 0, "%s", where);
    cr_assert_eq(kpi_period_parse(&cal, t[2], strlen(t[2]), &p), 0, "%s: parse %s", where, t[2]);
    int r = kpi_period_shift(&cal, &p, steps, &q);
    if (strcmp(t[5], "ERANGE") == 0) {
        cr_expect_eq(r, -ERANGE, "%s: got %d", where, r);
        cr_expect_eq(q.first_day, 12345, "%s: output written on failure", where);
        return;
    }
    cr_assert_eq(r, 0, "%s: shift %d", where, r);
    check_label(where, &cal, &q, t[5]);
    /* and back again */
    struct kpi_period back;
    cr_assert_eq(kpi_period_shift(&cal, &q, -steps, &back), 0, "%s: shift back", where);
    cr_expect(back.first_day == p.first_day && back.last_day == p.last_day, "%s: shift back", where);
}

static void run_invalid(const char *where, char **t, size_t n)
{
    cr_assert(n == 3, "%s: malformed 'invalid' line", where);
    struct kpi_calendar cal = {.fiscal_year_start = fiscal_start(t[1])};
    struct kpi_period p = {.first_day = 777};
    cr_expect_eq(kpi_period_parse(&cal, t[2], strlen(t[2]), &p), -EINVAL, "%s: accepted %s", where, t[2]);
    cr_expect_eq(p.first_day, 777, "%s: output written on failure", where);
}

Test(period, data_file)
{
    const char *dir = getenv("KPI_TEST_DATA");
    cr_assert_not_null(dir, "KPI_TEST_DATA is not set");
    char path[4096];
    snprintf(path, sizeof(path), "%s/periods.txt", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, cases = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *t[MAX_TOKENS];
        size_t n = split(line, t);
        if (n == 0)
            continue;
        char where[64];
        snprintf(where, sizeof(where), "periods.txt:%d", lineno);
        if (strcmp(t[0], "of") == 0)
            run_of(where, t, n);
        else if (strcmp(t[0], "parse") == 0)
            run_parse(where, t, n);
        else if (strcmp(t[0], "shift") == 0)
            run_shift(where, t, n);
        else if (strcmp(t[0], "invalid") == 0)
            run_invalid(where, t, n);
        else
            cr_assert_fail("%s: unknown case kind %s", where, t[0]);
        cases++;
    }
    free(line);
    fclose(f);
    cr_assert_gt(cases, 150, "only %d cases read", cases);
}

Test(period, granularity_names)
{
    static const char *const names[] = {"day", "week", "month", "quarter", "year"};
    for (int g = 0; g < KPI_GRAN__COUNT; g++) {
        enum kpi_granularity back;
        cr_assert_str_eq(kpi_granularity_to_string((enum kpi_granularity)g), names[g]);
        cr_assert_eq(kpi_granularity_from_string(names[g], &back), 0);
        cr_assert_eq((int)back, g);
    }
    enum kpi_granularity g = KPI_GRAN_MONTH;
    cr_assert_null(kpi_granularity_to_string(KPI_GRAN__COUNT));
    cr_assert_null(kpi_granularity_to_string((enum kpi_granularity) - 1));
    cr_assert_eq(kpi_granularity_from_string("Week", &g), -EINVAL);
    cr_assert_eq(kpi_granularity_from_string("weeks", &g), -EINVAL);
    cr_assert_eq(kpi_granularity_from_string("", &g), -EINVAL);
    cr_assert_eq(kpi_granularity_from_string(NULL, &g), -EINVAL);
    cr_assert_eq(g, KPI_GRAN_MONTH);
}

Test(period, invalid_calendar_and_arguments)
{
    struct kpi_period p;
    char buf[KPI_PERIOD_LABEL_MAX];
    for (int fs = -1; fs <= 13; fs += 14) {
        struct kpi_calendar cal = {.fiscal_year_start = fs};
        cr_assert_eq(kpi_period_of_day(&cal, KPI_GRAN_DAY, 0, &p), -EINVAL);
        cr_assert_eq(kpi_period_parse(&cal, "2026", 4, &p), -EINVAL);
    }
    struct kpi_calendar zero = {0};
    cr_assert_eq(kpi_period_of_day(&zero, KPI_GRAN_YEAR, 0, &p), -EINVAL);
    struct kpi_calendar cal = {.fiscal_year_start = 1};
    cr_assert_eq(kpi_period_of_day(&cal, KPI_GRAN__COUNT, 0, &p), -EINVAL);
    cr_assert_eq(kpi_period_of_day(&cal, KPI_GRAN_DAY, KPI_DAY_MAX + 1, &p), -ERANGE);
    cr_assert_eq(kpi_period_of_day(&cal, KPI_GRAN_DAY, KPI_DAY_MIN - 1, &p), -ERANGE);
    cr_assert_eq(kpi_period_of_day(&cal, KPI_GRAN_WEEK, INT64_MAX, &p), -ERANGE);
    cr_assert_eq(kpi_period_of_instant(&cal, KPI_GRAN_WEEK, INT64_MIN, &p), -ERANGE);
    /* fiscal year 0 would be needed for January of year 1 */
    struct kpi_calendar april = {.fiscal_year_start = 4};
    cr_assert_eq(kpi_period_of_day(&april, KPI_GRAN_YEAR, KPI_DAY_MIN, &p), -ERANGE);
    cr_assert_eq(kpi_period_of_day(&april, KPI_GRAN_MONTH, KPI_DAY_MIN, &p), 0);

    /* A period that is not aligned to its granularity is refused by format and shift. */
    struct kpi_period odd = {.gran = KPI_GRAN_MONTH, .first_day = day_of("2026-11-02"), .last_day = day_of("2026-11-30")};
    cr_assert_eq(kpi_period_format(&cal, &odd, buf, sizeof(buf)), -EINVAL);
    cr_assert_eq(kpi_period_shift(&cal, &odd, 1, &p), -EINVAL);
    struct kpi_period bad_gran = {.gran = KPI_GRAN__COUNT};
    cr_assert_eq(kpi_period_format(&cal, &bad_gran, buf, sizeof(buf)), -EINVAL);
    /* A quarter of one fiscal calendar is not necessarily a quarter of another. */
    struct kpi_calendar february = {.fiscal_year_start = 2};
    cr_assert_eq(kpi_period_parse(&february, "2026-Q1", 7, &p), 0);
    cr_assert_eq(kpi_period_format(&cal, &p, buf, sizeof(buf)), -EINVAL);
    cr_assert_eq(kpi_period_format(&april, &p, buf, sizeof(buf)), -EINVAL);
    cr_assert_eq(kpi_period_parse(&april, "2026-Q1", 7, &p), 0);
    cr_assert_eq(kpi_period_format(&cal, &p, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "2026-Q2");
    cr_assert_eq(kpi_period_format(&april, &p, buf, 8), -EINVAL); /* buffer below KPI_PERIOD_LABEL_MAX */
}

Test(period, parse_uses_length_and_rejects_blanks)
{
    struct kpi_calendar cal = {.fiscal_year_start = 1};
    struct kpi_period p;
    cr_assert_eq(kpi_period_parse(&cal, "2026-11-23xyz", 10, &p), 0);
    cr_assert_eq(p.gran, KPI_GRAN_DAY);
    cr_assert_eq(kpi_period_parse(&cal, "2026-11-23", 7, &p), 0);
    cr_assert_eq(p.gran, KPI_GRAN_MONTH);
    const char *bad[] = {" 2026", "2026 ", "2026\n", "2026-W4 7", "", "2026-\0Q1"};
    size_t lens[] = {5, 5, 5, 9, 0, 7};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        cr_assert_eq(kpi_period_parse(&cal, bad[i], lens[i], &p), -EINVAL, "case %zu", i);
    cr_assert_eq(kpi_period_parse(&cal, NULL, 0, &p), -EINVAL);
}

/* The closed formula for "year y has 53 ISO weeks", independent of period.c's arithmetic. */
static bool long_iso_year(int y)
{
    int p = (y + y / 4 - y / 100 + y / 400) % 7;
    int y1 = y - 1;
    int p1 = (y1 + y1 / 4 - y1 / 100 + y1 / 400) % 7;
    return p == 4 || p1 == 3;
}

Test(period, week53_every_year)
{
    struct kpi_calendar cal = {.fiscal_year_start = 1};
    for (int y = 1; y <= 9999; y++) {
        char label[16];
        struct kpi_period p;
        snprintf(label, sizeof(label), "%04d-W53", y);
        int r = kpi_period_parse(&cal, label, 8, &p);
        if ((r == 0) != long_iso_year(y))
            cr_assert_fail("%s: parse returned %d", label, r);
        snprintf(label, sizeof(label), "%04d-W01", y);
        cr_assert_eq(kpi_period_parse(&cal, label, 8, &p), 0, "%s", label);
        /* Week 1 holds January 4th and starts on a Monday. */
        int64_t jan4 = kpi_days_from_civil(y, 1, 4);
        if (kpi_weekday(p.first_day) != 1 || p.first_day > jan4 || p.last_day < jan4)
            cr_assert_fail("%s: %lld..%lld", label, (long long)p.first_day, (long long)p.last_day);
    }
}

/* For every day of 1990-2060, every granularity and every fiscal start: the period holds the day,
 * its label parses back to it, and its neighbours abut it. */
Test(period, exhaustive_round_trips)
{
    int64_t from = day_of("1990-01-01"), to = day_of("2060-12-31");
    for (int fs = 1; fs <= 12; fs++) {
        struct kpi_calendar cal = {.fiscal_year_start = fs};
        for (int g = 0; g < KPI_GRAN__COUNT; g++) {
            for (int64_t day = from; day <= to; day++) {
                struct kpi_period p, back, next, prev;
                char label[KPI_PERIOD_LABEL_MAX];
                cr_assert_eq(kpi_period_of_day(&cal, (enum kpi_granularity)g, day, &p), 0);
                if (p.first_day > day || p.last_day < day)
                    cr_assert_fail("fs %d gran %d day %lld not in its period", fs, g, (long long)day);
                if (day != p.first_day)
                    continue; /* the rest depends only on the period */
                cr_assert_eq(kpi_period_format(&cal, &p, label, sizeof(label)), 0);
                cr_assert_eq(kpi_period_parse(&cal, label, strlen(label), &back), 0, "%s", label);
                cr_assert_eq(kpi_period_shift(&cal, &p, 1, &next), 0);
                cr_assert_eq(kpi_period_shift(&cal, &p, -1, &prev), 0);
                if (back.first_day != p.first_day || back.last_day != p.last_day || back.gran != p.gran ||
                    next.first_day != p.last_day + 1 || prev.last_day != p.first_day - 1)
                    cr_assert_fail("fs %d %s: round trip or neighbours wrong", fs, label);
                int64_t days = kpi_period_days(&p);
                bool ok = g == KPI_GRAN_DAY       ? days == 1
                          : g == KPI_GRAN_WEEK    ? days == 7
                          : g == KPI_GRAN_MONTH   ? days >= 28 && days <= 31
                          : g == KPI_GRAN_QUARTER ? days >= 89 && days <= 92
                                                  : days == 365 || days == 366;
                if (!ok)
                    cr_assert_fail("fs %d %s: %lld days", fs, label, (long long)days);
            }
        }
    }
}

Test(period, boundaries_as_instants)
{
    struct kpi_tz *paris = NULL, *sao_paulo = NULL;
    cr_assert_eq(kpi_tz_load("Europe/Paris", &paris), 0);
    cr_assert_eq(kpi_tz_load("America/Sao_Paulo", &sao_paulo), 0);
    struct kpi_calendar cal = {.tz = paris, .fiscal_year_start = 1};
    struct kpi_period p;

    /* The spring-forward day has 23 hours, the fall-back day 25. */
    cr_assert_eq(kpi_period_parse(&cal, "2026-03-29", 10, &p), 0);
    cr_assert_eq(kpi_period_start_ms(&cal, &p), INT64_C(1774738800000)); /* 2026-03-28T23:00:00Z */
    cr_assert_eq(kpi_period_end_ms(&cal, &p) - kpi_period_start_ms(&cal, &p), 23 * INT64_C(3600000));
    cr_assert_eq(kpi_period_parse(&cal, "2026-10-25", 10, &p), 0);
    cr_assert_eq(kpi_period_end_ms(&cal, &p) - kpi_period_start_ms(&cal, &p), 25 * INT64_C(3600000));
    cr_assert_eq(kpi_period_parse(&cal, "2026-Q1", 7, &p), 0);
    cr_assert_eq(kpi_period_end_ms(&cal, &p) - kpi_period_start_ms(&cal, &p), (90 * 24 - 1) * INT64_C(3600000));

    /* Brazil's DST began at midnight: 2018-11-04 started at 01:00 local, 03:00 UTC. */
    struct kpi_calendar br = {.tz = sao_paulo, .fiscal_year_start = 1};
    cr_assert_eq(kpi_calendar_day_start(&br, day_of("2018-11-04")), INT64_C(1541300400000));
    cr_assert_eq(kpi_calendar_day_of(&br, INT64_C(1541300400000)), day_of("2018-11-04"));
    cr_assert_eq(kpi_calendar_day_of(&br, INT64_C(1541300399999)), day_of("2018-11-03"));

    /* NULL calendar and NULL zone are UTC. */
    cr_assert_eq(kpi_calendar_day_start(NULL, 1), KPI_MS_PER_DAY);
    cr_assert_eq(kpi_calendar_day_of(NULL, -1), -1);
    struct kpi_calendar utc = {.fiscal_year_start = 1};
    cr_assert_eq(kpi_calendar_day_of(&utc, KPI_MS_PER_DAY - 1), 0);
    cr_assert_eq(kpi_period_of_instant(&utc, KPI_GRAN_DAY, KPI_MS_PER_DAY, &p), 0);
    cr_assert_eq(p.first_day, 1);
    /* day_start at the extremes saturates instead of overflowing */
    (void)kpi_calendar_day_start(&cal, INT64_MAX);
    (void)kpi_calendar_day_start(&cal, INT64_MIN);
    (void)kpi_calendar_day_of(&cal, INT64_MAX);
    (void)kpi_calendar_day_of(&cal, INT64_MIN);

    kpi_tz_free(paris);
    kpi_tz_free(sao_paulo);
}
