/*
 * Tests for src/core/formula.c. The language cases live in tests/data/formula.test (evaluation on
 * small series, parse errors with their columns, canonical text; see the comment at its top), and
 * every formula there that parses is also checked for print -> parse -> print giving the same
 * text. The code below adds what a line of that file cannot hold: empty and multi-line text, the
 * length, depth, node and work limits, non-finite inputs and the evaluation API's edges, the
 * inputs and lookback of a formula, and the dependency-cycle check.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "kpi/formula.h"

#define MAX_LINES 4096
#define MAX_INPUTS 16
#define MAX_PERIODS 32
#define MAX_TOKENS 40

/* ---------------------------------------------------------------- helpers */

/* Parses text or fails the test with the diagnostic. */
static struct kpi_formula *parse_ok(const char *text)
{
    struct kpi_formula *f = NULL;
    struct kpi_diag diag = {{0}};
    int r = kpi_formula_parse(text, &f, &diag);
    cr_assert_eq(r, 0, "parse '%s' failed: %s", text, diag.msg);
    cr_assert_not_null(f);
    return f;
}

/* The canonical text of f (caller frees). */
static char *print_text(const struct kpi_formula *f)
{
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 16);
    cr_assert_eq(kpi_formula_print(f, &out), 0);
    char *s = kpi_buf_take(&out);
    cr_assert_not_null(s);
    return s;
}

/* Parses text, expecting failure with code and exactly message. */
static void expect_fail(const char *text, int code, const char *message)
{
    struct kpi_formula *f = (struct kpi_formula *)&f; /* must stay untouched */
    struct kpi_formula *const sentinel = f;
    struct kpi_diag diag = {{0}};
    int r = kpi_formula_parse(text, &f, &diag);
    cr_assert_eq(r, code, "parse '%.60s...' gave %d (%s), expected %d", text, r, diag.msg, code);
    cr_assert_eq(f, sentinel, "ret_formula written on failure");
    cr_assert_str_eq(diag.msg, message, "parse '%.60s...'", text);
}

static bool same_number(double got, double want)
{
    double scale = fabs(want) > 1 ? fabs(want) : 1;
    return fabs(got - want) <= 1e-12 * scale;
}

/* Splits line in place on blanks. Returns the number of tokens. */
static size_t split(char *line, char *tokens[], size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        cr_assert_lt(n, max, "too many tokens");
        tokens[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p == '\0')
            break;
        *p++ = '\0';
    }
    return n;
}

/* ---------------------------------------------------------------- the data file */

struct series {
    char key[80];
    double values[MAX_PERIODS];
    bool has[MAX_PERIODS];
    size_t n;
};

struct group {
    const char *file;
    int line;     /* of the formula */
    char **lines; /* the group's non-comment lines */
    int *line_nos;
    size_t n_lines;
};

struct run {
    int cases;
    int failures;
    int round_trips;
};

static char labels_buf[MAX_PERIODS][32];

static const char *label_of(void *ctx, size_t i)
{
    size_t n = *(size_t *)ctx;
    return i < n ? labels_buf[i] : NULL;
}

static void fail_case(struct run *run, const struct group *g, const char *formula, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_case(struct run *run, const struct group *g, const char *formula, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: formula '%s': ", g->file, g->line, formula);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    run->failures++;
}

/* print -> parse -> print must give the same text, and the same inputs and lookback. */
static void check_round_trip(struct run *run, const struct group *g, const char *formula, const struct kpi_formula *f)
{
    char *first = print_text(f);
    struct kpi_formula *again = NULL;
    struct kpi_diag diag = {{0}};
    if (kpi_formula_parse(first, &again, &diag) < 0) {
        fail_case(run, g, formula, "canonical text '%s' does not parse: %s", first, diag.msg);
        free(first);
        return;
    }
    char *second = print_text(again);
    if (strcmp(first, second) != 0)
        fail_case(run, g, formula, "printed '%s', then '%s'", first, second);
    const char *const *k1, *const *k2;
    const int *c1, *c2;
    size_t n1 = kpi_formula_inputs(f, &k1, &c1), n2 = kpi_formula_inputs(again, &k2, &c2);
    if (n1 != n2)
        fail_case(run, g, formula, "%zu inputs, %zu after printing", n1, n2);
    for (size_t i = 0; i < n1 && i < n2; i++)
        if (strcmp(k1[i], k2[i]) != 0)
            fail_case(run, g, formula, "input %zu is '%s', '%s' after printing", i, k1[i], k2[i]);
    if (kpi_formula_lookback(f) != kpi_formula_lookback(again))
        fail_case(run, g, formula, "lookback %zu, %zu after printing", kpi_formula_lookback(f), kpi_formula_lookback(again));
    run->round_trips++;
    free(first);
    free(second);
    kpi_formula_free(again);
}

static void run_fail(struct run *run, const struct group *g)
{
    cr_assert_eq(g->n_lines, 3, "%s:%d: %%%%FAIL takes a formula and a message", g->file, g->line);
    const char *formula = g->lines[1], *want = g->lines[2];
    struct kpi_formula *f = NULL;
    struct kpi_diag diag = {{0}};
    int r = kpi_formula_parse(formula, &f, &diag);
    run->cases++;
    if (r == 0) {
        fail_case(run, g, formula, "parsed, expected error '%s'", want);
        kpi_formula_free(f);
        return;
    }
    if (strcmp(diag.msg, want) != 0)
        fail_case(run, g, formula, "error '%s', expected '%s'", diag.msg, want);
}

static void run_print(struct run *run, const struct group *g)
{
    cr_assert_eq(g->n_lines, 3, "%s:%d: %%%%PRINT takes a formula and its canonical text", g->file, g->line);
    const char *formula = g->lines[1], *want = g->lines[2];
    struct kpi_formula *f = NULL;
    struct kpi_diag diag = {{0}};
    run->cases++;
    if (kpi_formula_parse(formula, &f, &diag) < 0) {
        fail_case(run, g, formula, "does not parse: %s", diag.msg);
        return;
    }
    char *got = print_text(f);
    if (strcmp(got, want) != 0)
        fail_case(run, g, formula, "printed '%s', expected '%s'", got, want);
    free(got);
    check_round_trip(run, g, formula, f);
    kpi_formula_free(f);
}

/* Checks one expectation: want is a number, "none" or "none: REASON". */
static void check_result(struct run *run, const struct group *g, const char *formula, size_t i, int r, double got, const char *why,
                         const char *want)
{
    run->cases++;
    if (strncmp(want, "none", 4) == 0) {
        const char *reason = want[4] == ':' ? want + 5 : "";
        while (*reason == ' ')
            reason++;
        if (r != 1)
            fail_case(run, g, formula, "period %zu: got %s%.17g, expected no value (%s)", i, r == 0 ? "" : "error ",
                      r == 0 ? got : (double)r, reason);
        else if (!strstr(why, reason))
            fail_case(run, g, formula, "period %zu: reason '%s', expected one containing '%s'", i, why, reason);
        return;
    }
    double v;
    cr_assert_eq(kpi_parse_double(want, strlen(want), &v), 0, "%s:%d: bad expected value '%s'", g->file, g->line, want);
    if (r != 0)
        fail_case(run, g, formula, "period %zu: got %s (%s), expected %.17g", i, r == 1 ? "no value" : "an error", why, v);
    else if (!same_number(got, v))
        fail_case(run, g, formula, "period %zu: got %.17g, expected %.17g", i, got, v);
}

static void run_eval(struct run *run, const struct group *g)
{
    const char *formula = g->lines[0];
    struct series series[MAX_INPUTS];
    size_t n_series = 0, n_periods = 1, n_labels = 0;
    bool periods_given = false;
    /* First pass: inputs, period count and labels; expectations need the period count. */
    for (size_t l = 1; l < g->n_lines; l++) {
        char copy[1024];
        kpi_strlcpy(copy, g->lines[l], sizeof(copy));
        char *t[MAX_TOKENS];
        size_t n = split(copy, t, MAX_TOKENS);
        if (n == 0 || t[0][0] == '@')
            continue;
        if (strcmp(t[0], "%periods") == 0) {
            cr_assert_eq(n, 2, "%s:%d: %%periods N", g->file, g->line_nos[l]);
            int64_t v;
            cr_assert_eq(kpi_parse_int64(t[1], strlen(t[1]), 1, MAX_PERIODS, &v), 0);
            n_periods = (size_t)v;
            periods_given = true;
        } else if (strcmp(t[0], "%labels") == 0) {
            for (size_t k = 1; k < n && k - 1 < MAX_PERIODS; k++)
                kpi_strlcpy(labels_buf[k - 1], t[k], sizeof(labels_buf[0]));
            n_labels = n - 1;
        } else {
            cr_assert(n >= 3 && strcmp(t[1], "=") == 0, "%s:%d: expected KEY = VALUES", g->file, g->line_nos[l]);
            cr_assert_lt(n_series, MAX_INPUTS);
            struct series *s = &series[n_series++];
            kpi_strlcpy(s->key, t[0], sizeof(s->key));
            s->n = n - 2;
            cr_assert_leq(s->n, MAX_PERIODS);
            for (size_t k = 0; k < s->n; k++) {
                s->has[k] = strcmp(t[k + 2], "-") != 0;
                s->values[k] = 0;
                if (s->has[k])
                    cr_assert_eq(kpi_parse_double(t[k + 2], strlen(t[k + 2]), &s->values[k]), 0, "%s:%d: bad value '%s'", g->file,
                                 g->line_nos[l], t[k + 2]);
            }
            if (n_series == 1 && !periods_given)
                n_periods = s->n;
            cr_assert_eq(s->n, n_periods, "%s:%d: inputs of different lengths", g->file, g->line_nos[l]);
        }
    }
    struct kpi_formula_input inputs[MAX_INPUTS];
    for (size_t k = 0; k < n_series; k++)
        inputs[k] = (struct kpi_formula_input){series[k].key, series[k].values, series[k].has};

    struct kpi_formula *f = NULL;
    struct kpi_diag diag = {{0}};
    if (kpi_formula_parse(formula, &f, &diag) < 0) {
        fail_case(run, g, formula, "does not parse: %s", diag.msg);
        return;
    }
    check_round_trip(run, g, formula, f);
    size_t expectations = 0;
    for (size_t l = 1; l < g->n_lines; l++) {
        const char *line = g->lines[l];
        if (line[0] != '@')
            continue;
        const char *arrow = strstr(line, " => ");
        cr_assert_not_null(arrow, "%s:%d: expected @I => RESULT", g->file, g->line_nos[l]);
        const char *want = arrow + 4;
        size_t first = 0, last = n_periods;
        bool all = strncmp(line, "@all ", 5) == 0;
        char copy[1024];
        char *t[MAX_TOKENS];
        size_t n_want = 1;
        if (all) {
            kpi_strlcpy(copy, want, sizeof(copy));
            n_want = split(copy, t, MAX_TOKENS);
            cr_assert_eq(n_want, n_periods, "%s:%d: @all needs %zu results", g->file, g->line_nos[l], n_periods);
        } else {
            int64_t v;
            cr_assert_eq(kpi_parse_int64(line + 1, (size_t)(arrow - line - 1), 0, (int64_t)n_periods - 1, &v), 0,
                         "%s:%d: bad period index", g->file, g->line_nos[l]);
            first = (size_t)v;
            last = first + 1;
        }
        for (size_t i = first; i < last; i++) {
            double got = NAN;
            struct kpi_diag why = {{0}};
            int r = kpi_formula_eval(f, inputs, n_series, n_periods, i, n_labels ? label_of : NULL, &n_labels, &got, &why);
            if (r == 0 && !isfinite(got))
                fail_case(run, g, formula, "period %zu: non-finite result %g", i, got);
            check_result(run, g, formula, i, r, got, why.msg, all ? t[i] : want);
        }
        expectations++;
    }
    cr_assert_gt(expectations, 0, "%s:%d: no expectation", g->file, g->line);
    kpi_formula_free(f);
}

Test(formula, data_file)
{
    const char *dir = getenv("KPI_TEST_DATA");
    cr_assert_not_null(dir, "KPI_TEST_DATA is not set");
    char path[4096];
    snprintf(path, sizeof(path), "%s/formula.test", dir);
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp, "cannot open %s", path);
    char *lines[MAX_LINES];
    int line_nos[MAX_LINES];
    size_t n_lines = 0;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    struct run run = {0};
    int groups = 0;
    bool eof = false;
    while (!eof) {
        eof = getline(&line, &cap, fp) < 0;
        lineno++;
        if (!eof) {
            size_t len = strlen(line);
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            if (line[0] == '#')
                continue;
            bool blank = strspn(line, " \t") == len;
            if (!blank) {
                cr_assert_lt(n_lines, MAX_LINES);
                lines[n_lines] = strdup(line);
                line_nos[n_lines] = lineno;
                n_lines++;
                continue;
            }
        }
        if (n_lines == 0)
            continue;
        struct group g = {"formula.test", line_nos[0], lines, line_nos, n_lines};
        if (strcmp(lines[0], "%%FAIL") == 0) {
            g.line = line_nos[1];
            run_fail(&run, &g);
        } else if (strcmp(lines[0], "%%PRINT") == 0) {
            g.line = line_nos[1];
            run_print(&run, &g);
        } else {
            run_eval(&run, &g);
        }
        groups++;
        for (size_t k = 0; k < n_lines; k++)
            free(lines[k]);
        n_lines = 0;
    }
    free(line);
    fclose(fp);
    fprintf(stderr, "formula.test: %d groups, %d cases, %d round trips, %d failures\n", groups, run.cases, run.round_trips,
            run.failures);
    cr_assert_eq(run.failures, 0, "%d of %d cases failed (see above)", run.failures, run.cases);
    cr_assert_gt(run.cases, 250, "only %d cases read", run.cases);
}

/* ---------------------------------------------------------------- text, limits */

Test(formula, empty_text)
{
    expect_fail("", -EINVAL, "column 1: empty formula");
    expect_fail(" \t\n ", -EINVAL, "column 1: empty formula");
}

Test(formula, newlines_are_blanks)
{
    struct kpi_formula *f = parse_ok("(promoters\n  - detractors)\r\n\t/ responses\n* 100\n");
    char *s = print_text(f);
    cr_assert_str_eq(s, "(promoters - detractors) / responses * 100");
    free(s);
    kpi_formula_free(f);
    /* Columns count bytes from the start of the text, newlines included. */
    expect_fail("a +\n* b", -EINVAL, "column 5: expected an operand");
}

Test(formula, bad_arguments)
{
    struct kpi_formula *f = NULL;
    cr_assert_eq(kpi_formula_parse(NULL, &f, NULL), -EINVAL);
    cr_assert_eq(kpi_formula_parse("a", NULL, NULL), -EINVAL);
    cr_assert_null(kpi_formula_free(NULL));
    cr_assert_eq(kpi_formula_lookback(NULL), 0);
    cr_assert_eq(kpi_formula_inputs(NULL, NULL, NULL), 0);
    /* A NULL diag is allowed everywhere. */
    cr_assert_eq(kpi_formula_parse("1 +", &f, NULL), -EINVAL);
}

/* Appends s to buf n times. */
static void repeat(char *buf, size_t size, const char *s, int n)
{
    cr_assert_lt(strlen(buf) + (size_t)n * strlen(s), size);
    for (int i = 0; i < n; i++)
        memcpy(buf + strlen(buf), s, strlen(s) + 1);
}

Test(formula, length_limit)
{
    static char text[8192];
    /* 307 terms of 13 bytes and a last one of 9: exactly 4000 bytes, already canonical. */
    text[0] = '\0';
    repeat(text, sizeof(text), "aaaaaaaaaa + ", 307);
    repeat(text, sizeof(text), "b", 9);
    cr_assert_eq(strlen(text), KPI_FORMULA_TEXT_MAX);
    struct kpi_formula *f = parse_ok(text);
    char *s = print_text(f);
    cr_assert_str_eq(s, text);
    free(s);
    kpi_formula_free(f);
    memcpy(text + strlen(text), "b", 2);
    expect_fail(text, -E2BIG, "formula is longer than 4000 bytes");
}

Test(formula, canonical_length_limit)
{
    /* 65 keys of 60 bytes joined by '+' is 3964 bytes, but 4156 with the canonical spaces: a
     * formula whose printed form could not be parsed again is rejected. */
    static char text[8192];
    char key[61];
    memset(key, 'k', 60);
    key[60] = '\0';
    text[0] = '\0';
    for (int i = 0; i < 65; i++) {
        if (i > 0)
            repeat(text, sizeof(text), "+", 1);
        repeat(text, sizeof(text), key, 1);
    }
    cr_assert_leq(strlen(text), KPI_FORMULA_TEXT_MAX);
    expect_fail(text, -E2BIG, "formula is longer than 4000 bytes in canonical form");
}

Test(formula, depth_limit)
{
    static char text[8192];
    const char *opens[] = {"(", "abs(", "-", "2^"};
    const char *closes[] = {")", ")", "", ""};
    for (size_t k = 0; k < sizeof(opens) / sizeof(opens[0]); k++) {
        text[0] = '\0';
        repeat(text, sizeof(text), opens[k], KPI_FORMULA_DEPTH_MAX);
        repeat(text, sizeof(text), "x", 1);
        repeat(text, sizeof(text), closes[k], KPI_FORMULA_DEPTH_MAX);
        struct kpi_formula *f = parse_ok(text);
        char *s = print_text(f);
        struct kpi_formula *again = parse_ok(s);
        free(s);
        kpi_formula_free(again);
        kpi_formula_free(f);

        text[0] = '\0';
        repeat(text, sizeof(text), opens[k], KPI_FORMULA_DEPTH_MAX + 1);
        repeat(text, sizeof(text), "x", 1);
        repeat(text, sizeof(text), closes[k], KPI_FORMULA_DEPTH_MAX + 1);
        struct kpi_formula *bad = NULL;
        struct kpi_diag diag = {{0}};
        cr_assert_eq(kpi_formula_parse(text, &bad, &diag), -E2BIG, "%s x 65", opens[k]);
        cr_assert(strstr(diag.msg, "nesting deeper than 64 levels"), "%s", diag.msg);
        cr_assert_eq(strncmp(diag.msg, "column ", 7), 0, "%s", diag.msg);
    }
    /* The column is that of the first operand too deep. */
    text[0] = '\0';
    repeat(text, sizeof(text), "(", 65);
    repeat(text, sizeof(text), "x", 1);
    expect_fail(text, -E2BIG, "column 66: nesting deeper than 64 levels");
    /* The limit stops the recursion long before the stack: 4000 opening parentheses. */
    text[0] = '\0';
    repeat(text, sizeof(text), "(", KPI_FORMULA_TEXT_MAX);
    expect_fail(text, -E2BIG, "column 66: nesting deeper than 64 levels");
}

Test(formula, node_limit)
{
    static char text[8192];
    /* "a+a+...": n terms are 2n - 1 nodes. */
    text[0] = '\0';
    repeat(text, sizeof(text), "a+", 499);
    repeat(text, sizeof(text), "a", 1);
    struct kpi_formula *f = parse_ok(text);
    kpi_formula_free(f);
    text[0] = '\0';
    repeat(text, sizeof(text), "a+", 500);
    repeat(text, sizeof(text), "a", 1);
    expect_fail(text, -E2BIG, "column 1000: more than 1000 operands and operators");
}

Test(formula, work_limit)
{
    static char text[8192];
    /* growth evaluates its argument twice: 18 nested growths read x 2^18 times, 19 too often. */
    for (int depth = 18; depth <= 19; depth++) {
        text[0] = '\0';
        repeat(text, sizeof(text), "growth(", depth);
        repeat(text, sizeof(text), "x", 1);
        repeat(text, sizeof(text), ")", depth);
        struct kpi_formula *f = NULL;
        struct kpi_diag diag = {{0}};
        int r = kpi_formula_parse(text, &f, &diag);
        if (depth == 18) {
            cr_assert_eq(r, 0, "%s", diag.msg);
            cr_assert_eq(kpi_formula_lookback(f), 18);
            kpi_formula_free(f);
        } else {
            cr_assert_eq(r, -E2BIG);
            cr_assert_str_eq(diag.msg,
                             "column 1: too much work: more than 1000000 evaluations per period (nested windows multiply)");
        }
    }
    /* Windows side by side add up rather than multiply. */
    text[0] = '\0';
    repeat(text, sizeof(text), "sum_last(x, 1000) + ", 99);
    repeat(text, sizeof(text), "x", 1);
    kpi_formula_free(parse_ok(text));
}

/* ---------------------------------------------------------------- inputs and lookback */

Test(formula, inputs_in_order_of_appearance)
{
    struct kpi_formula *f = parse_ok("b + a * b + prev(c) - a");
    const char *const *keys;
    const int *columns;
    cr_assert_eq(kpi_formula_inputs(f, &keys, &columns), 3);
    cr_assert_str_eq(keys[0], "b");
    cr_assert_str_eq(keys[1], "a");
    cr_assert_str_eq(keys[2], "c");
    cr_assert_eq(columns[0], 1);
    cr_assert_eq(columns[1], 5);
    cr_assert_eq(columns[2], 18);
    kpi_formula_free(f);

    /* Function names are not inputs; a key may share a function's name. */
    f = parse_ok("abs + abs(x)");
    cr_assert_eq(kpi_formula_inputs(f, &keys, &columns), 2);
    cr_assert_str_eq(keys[0], "abs");
    cr_assert_str_eq(keys[1], "x");
    cr_assert_eq(columns[1], 11);
    kpi_formula_free(f);

    f = parse_ok("round(2.5, 0) * 3");
    cr_assert_eq(kpi_formula_inputs(f, &keys, &columns), 0);
    kpi_formula_free(f);

    /* Columns point at the text as given, blanks and newlines included. */
    f = parse_ok("\n  revenu\n+ cost");
    cr_assert_eq(kpi_formula_inputs(f, &keys, &columns), 2);
    cr_assert_str_eq(keys[0], "revenu");
    cr_assert_eq(columns[0], 4);
    cr_assert_eq(columns[1], 13);
    kpi_formula_free(f);
}

Test(formula, lookback)
{
    static const struct {
        const char *text;
        size_t lookback;
    } cases[] = {
        {"5", 0},
        {"x + y", 0},
        {"prev(x)", 1},
        {"lag(x, 3)", 3},
        {"sum_last(x, 3)", 2},
        {"avg_last(x, 1)", 0},
        {"growth(x)", 1},
        {"prev(prev(x))", 2},
        {"lag(sum_last(x, 4), 2) + prev(y)", 5},
        {"avg_last(growth(x), 12)", 12},
        {"if(a, prev(b), lag(c, 5))", 5},
        {"coalesce(prev(x), 0)", 1},
        {"lag(x, 1000)", 1000},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct kpi_formula *f = parse_ok(cases[k].text);
        cr_assert_eq(kpi_formula_lookback(f), cases[k].lookback, "%s: lookback %zu", cases[k].text, kpi_formula_lookback(f));
        kpi_formula_free(f);
    }
}

/* ---------------------------------------------------------------- evaluation API */

Test(formula, eval_edges)
{
    struct kpi_formula *f = parse_ok("x / y");
    double xs[] = {1, INFINITY, 6, NAN};
    double ys[] = {2, 2, 3, 1};
    struct kpi_formula_input in[] = {{"y", ys, NULL}, {"x", xs, NULL}}; /* has NULL: all present */
    double v = 0;
    struct kpi_diag why = {{0}};
    cr_assert_eq(kpi_formula_eval(f, in, 2, 4, 0, NULL, NULL, &v, &why), 0);
    cr_assert_float_eq(v, 0.5, 1e-15);
    cr_assert_eq(kpi_formula_eval(f, in, 2, 4, 2, NULL, NULL, &v, &why), 0);
    cr_assert_float_eq(v, 2, 1e-15);

    /* Non-finite inputs count as no value; ret_value stays untouched. */
    v = 42;
    cr_assert_eq(kpi_formula_eval(f, in, 2, 4, 1, NULL, NULL, &v, &why), 1);
    cr_assert_str_eq(why.msg, "not a finite number: 'x' in period 1");
    cr_assert_eq(kpi_formula_eval(f, in, 2, 4, 3, NULL, NULL, &v, &why), 1);
    cr_assert_eq(v, 42);

    /* Out of range index, missing input. */
    cr_assert_eq(kpi_formula_eval(f, in, 2, 4, 4, NULL, NULL, &v, &why), -EINVAL);
    cr_assert_eq(kpi_formula_eval(f, in, 1, 4, 0, NULL, NULL, &v, &why), -ENOENT);
    cr_assert_str_eq(why.msg, "formula: no input for 'x'");
    cr_assert_eq(kpi_formula_eval(f, NULL, 0, 4, 0, NULL, NULL, &v, NULL), -ENOENT);
    cr_assert_eq(v, 42);
    kpi_formula_free(f);

    /* A formula without inputs needs none. */
    f = parse_ok("-0 * 5");
    cr_assert_eq(kpi_formula_eval(f, NULL, 0, 1, 0, NULL, NULL, &v, NULL), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(signbit(v), 0, "no negative zero");
    kpi_formula_free(f);
}

static const char *sometimes_label(void *ctx, size_t i)
{
    return i == 1 ? "2026-W02" : NULL;
}

Test(formula, eval_labels)
{
    struct kpi_formula *f = parse_ok("x + 1");
    double xs[] = {0, 0, 0};
    bool has[] = {false, false, false};
    struct kpi_formula_input in[] = {{"x", xs, has}};
    double v;
    struct kpi_diag why = {{0}};
    cr_assert_eq(kpi_formula_eval(f, in, 1, 3, 1, sometimes_label, NULL, &v, &why), 1);
    cr_assert_str_eq(why.msg, "no value for 'x' in 2026-W02");
    cr_assert_eq(kpi_formula_eval(f, in, 1, 3, 2, sometimes_label, NULL, &v, &why), 1);
    cr_assert_str_eq(why.msg, "no value for 'x' in period 2");
    kpi_formula_free(f);
}

Test(formula, eval_deep_windows)
{
    /* The largest nesting the work limit allows still evaluates, and nested shifts add up. */
    struct kpi_formula *f = parse_ok("sum_last(sum_last(x, 1000), 900)");
    cr_assert_eq(kpi_formula_lookback(f), 999 + 899);
    enum { N = 2000 };
    static double xs[N];
    for (size_t i = 0; i < N; i++)
        xs[i] = 1;
    struct kpi_formula_input in[] = {{"x", xs, NULL}};
    double v;
    struct kpi_diag why = {{0}};
    cr_assert_eq(kpi_formula_eval(f, in, 1, N, N - 1, NULL, NULL, &v, &why), 0, "%s", why.msg);
    cr_assert_eq(v, 900000);
    cr_assert_eq(kpi_formula_eval(f, in, 1, N, 999 + 898, NULL, NULL, &v, &why), 1);
    cr_assert_eq(kpi_formula_eval(f, in, 1, N, 999 + 899, NULL, NULL, &v, &why), 0);
    kpi_formula_free(f);
}

/* ---------------------------------------------------------------- cycles */

Test(formula, cycle_self_loop)
{
    const char *keys[] = {"a", "b"};
    const char *a_deps[] = {"b", "a"};
    const char *const *deps[] = {a_deps, NULL};
    size_t n_deps[] = {2, 0};
    struct kpi_diag diag = {{0}};
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, 2, 0, &diag), -ELOOP);
    cr_assert_str_eq(diag.msg, "formula: cycle: a -> a");
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, 2, 1, &diag), 0);
}

Test(formula, cycle_of_three)
{
    const char *keys[] = {"m", "a", "b", "c"};
    const char *a_deps[] = {"m", "b"}, *b_deps[] = {"c"}, *c_deps[] = {"m", "unknown", "a"};
    const char *const *deps[] = {NULL, a_deps, b_deps, c_deps};
    size_t n_deps[] = {0, 2, 1, 3};
    struct kpi_diag diag = {{0}};
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, 4, 1, &diag), -ELOOP);
    cr_assert_str_eq(diag.msg, "formula: cycle: a -> b -> c -> a");
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, 4, 3, &diag), -ELOOP);
    cr_assert_str_eq(diag.msg, "formula: cycle: c -> a -> b -> c");
    /* A measured KPI is on no cycle. */
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, 4, 0, &diag), 0);
}

Test(formula, diamond_is_no_cycle)
{
    /* top reads left and right, both read base: base is reached twice, which is not a cycle. */
    const char *keys[] = {"top", "left", "right", "base"};
    const char *top_deps[] = {"left", "right"}, *left_deps[] = {"base"}, *right_deps[] = {"base", "left"};
    const char *const *deps[] = {top_deps, left_deps, right_deps, NULL};
    size_t n_deps[] = {2, 1, 2, 0};
    for (size_t start = 0; start < 4; start++)
        cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, 4, start, NULL), 0, "start %zu", start);
}

Test(formula, cycle_not_through_start)
{
    /* Only cycles through start are reported: start is the KPI being defined, and every other KPI
     * was checked when it was defined. */
    const char *keys[] = {"s", "x", "y"};
    const char *s_deps[] = {"x"}, *x_deps[] = {"y"}, *y_deps[] = {"x"};
    const char *const *deps[] = {s_deps, x_deps, y_deps};
    size_t n_deps[] = {1, 1, 1};
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, 3, 0, NULL), 0);
    struct kpi_diag diag = {{0}};
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, 3, 1, &diag), -ELOOP);
    cr_assert_str_eq(diag.msg, "formula: cycle: x -> y -> x");
}

Test(formula, long_cycle_is_shortened)
{
    enum { N = 200 };
    static char names[N][16];
    static const char *keys[N];
    static const char *dep_lists[N][1];
    static const char *const *deps[N];
    static size_t n_deps[N];
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "kpi_%zu", i);
        keys[i] = names[i];
    }
    for (size_t i = 0; i < N; i++) {
        dep_lists[i][0] = names[(i + 1) % N];
        deps[i] = dep_lists[i];
        n_deps[i] = 1;
    }
    struct kpi_diag diag = {{0}};
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, N, 0, &diag), -ELOOP);
    cr_assert_eq(strncmp(diag.msg, "formula: cycle: kpi_0 -> kpi_1 -> ", 34), 0, "%s", diag.msg);
    size_t len = strlen(diag.msg);
    cr_assert(strstr(diag.msg, " -> ... -> kpi_0"), "%s", diag.msg);
    cr_assert_str_eq(diag.msg + len - strlen(" -> kpi_0"), " -> kpi_0");
    cr_assert_eq(kpi_formula_find_cycle(keys, deps, n_deps, N, N, &diag), -EINVAL);
}
