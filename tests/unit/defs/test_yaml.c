/*
 * Definitions as code (defs/yaml.c, defs/plan.c): table-driven valid and invalid documents with
 * the exact diagnostic (LINE:COLUMN included), the emit -> parse round trip of definitions with
 * every field set and of awkward strings, the limits, targets (their checks, absence versus an
 * empty list), and the plan (creates before updates of children, parents first, idempotency).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs/defs.h"
#include "kpi/status.h"
#include "kpi/time.h"

static int parse(const char *text, struct kpi_def **defs, size_t *n, struct kpi_diag *diag)
{
    return kpi_defs_parse_yaml(text, strlen(text), defs, NULL, n, diag);
}

/* ---- invalid documents: the exact message ---- */

struct bad_case {
    const char *doc;
    const char *error;
};

#define TG "kpis:\n  - key: a\n    name: A\n    targets:\n"

static const struct bad_case bad_cases[] = {
    {"kpis:\n  - key: a\n    name: A\n    granularity: fortnight\n",
     "4:5: granularity: unknown value 'fortnight' (expected day, week, month, quarter or year)"},
    {"kpis:\n  - key: a\n    name: A\n    colour: red\n", "4:5: unknown field 'colour'"},
    {"kpis:\n  - key: a\n    name: A\n    name: B\n", "4:5: duplicate field 'name' (first at 3:5)"},
    /* targets: line 4 is "targets:", the first target's '{' is at 5:9 */
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: 2, date: 2026-12-31}\n"
        "      - {baseline: 1, baseline_date: 2026-06-01, value: 2, date: 2026-05-31}\n",
     "6:9: targets[1]: date: must be after baseline_date (2026-06-01)"},
    {TG "      - {baseline: 40, baseline_date: 2026-01-01, value: 30, date: 2026-12-31}\n    direction: range\n",
     "5:51: targets[0]: value: not used by a range KPI (give low and high)"},
    {TG "      - {baseline: 40, baseline_date: 2026-01-01, low: 30, high: 45, date: 2026-12-31}\n",
     "5:51: targets[0]: low: only for a range KPI (direction: range); give value"},
    {TG "      - {baseline: 40, baseline_date: 2026-01-01, value: 1, high: 45, date: 2026-12-31}\n",
     "5:61: targets[0]: high: only for a range KPI (direction: range); give value"},
    {"kpis:\n  - key: a\n    name: A\n    direction: range\n    targets:\n"
     "      - {baseline: 40, baseline_date: 2026-01-01, high: 45, date: 2026-12-31}\n",
     "6:9: targets[0]: low: is required for a range KPI"},
    {"kpis:\n  - key: a\n    name: A\n    direction: range\n    targets:\n"
     "      - {baseline: 40, baseline_date: 2026-01-01, low: 45, date: 2026-12-31}\n",
     "6:9: targets[0]: high: is required for a range KPI"},
    {"kpis:\n  - key: a\n    name: A\n    direction: range\n    targets:\n"
     "      - {baseline: 40, baseline_date: 2026-01-01, low: 45, high: 30, date: 2026-12-31}\n",
     "6:9: targets[0]: low: must not be greater than high"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, date: 2026-12-31}\n", "5:9: targets[0]: value: is required"},
    {TG "      - {baseline_date: 2026-01-01, value: 2, date: 2026-12-31}\n", "5:9: targets[0]: baseline: is required"},
    {TG "      - {baseline: 1, value: 2, date: 2026-12-31}\n", "5:9: targets[0]: baseline_date: is required"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: 2}\n", "5:9: targets[0]: date: is required"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: 2, date: 2026-12-31, target: 3}\n",
     "5:78: targets[0]: unknown field 'target' (expected baseline, baseline_date, value, low, high, date or at_risk_pct)"},
    {TG "      - {baseline: 1, baseline: 2}\n", "5:23: targets[0]: duplicate field 'baseline' (first at 5:10)"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: 2, date: 2026-12-31}\n"
        "      - {baseline: 3, baseline_date: 2026-02-01, value: 4, date: 2026-12-31}\n",
     "6:60: targets[1]: date: targets[0] (at 5:9) already ends on 2026-12-31"},
    {TG "      - {baseline: 1, baseline_date: 2026-13-01, value: 2, date: 2026-12-31}\n",
     "5:23: targets[0]: baseline_date: '2026-13-01' is not a date (YYYY-MM-DD)"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: 2, date: 31/12/2026}\n",
     "5:60: targets[0]: date: '31/12/2026' is not a date (YYYY-MM-DD)"},
    {TG "      - {baseline: lots, baseline_date: 2026-01-01, value: 2, date: 2026-12-31}\n",
     "5:10: targets[0]: baseline: 'lots' is not a finite number"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: .inf, date: 2026-12-31}\n",
     "5:50: targets[0]: value: '.inf' is not a finite number"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: ~, date: 2026-12-31}\n",
     "5:50: targets[0]: value: expected a number"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: [2], date: 2026-12-31}\n",
     "5:50: targets[0]: value: expected a single value, not a list"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: 2, date: 2026-12-31, at_risk_pct: -1}\n",
     "5:9: targets[0]: at_risk_pct: must be from 0 to 1000"},
    {TG "      - {baseline: 1, baseline_date: 2026-01-01, value: 2, date: 2026-12-31, at_risk_pct: 10%}\n",
     "5:78: targets[0]: at_risk_pct: '10%' is not a finite number"},
    {TG "      - 2026-12-31\n",
     "5:9: targets[0]: expected a target (a mapping such as {baseline: 100, baseline_date: 2026-01-01, value: 150, date: "
     "2026-12-31}), not a single value"},
    {TG "      - {[baseline]: 1}\n", "5:10: targets[0]: expected a field name such as 'date', not a list"},
    {"kpis:\n  - key: a\n    name: A\n    targets:\n",
     "4:5: targets: expected a list of targets ('- {baseline: ..., date: ...}', or [] for none), not a single value"},
    {"kpis:\n  - key: a\n    name: A\n    targets: {baseline: 1}\n",
     "4:5: targets: expected a list of targets ('- {baseline: ..., date: ...}', or [] for none), not a mapping"},
    {"kpis:\n  - key: a\n    name: A\n    targets: []\n    targets: []\n", "5:5: duplicate field 'targets' (first at 4:5)"},
    {"kpis:\n  - key: a\n    name: A\n  - key: b\n    name: B\n  - key: a\n    name: C\n",
     "6:5: key: duplicate KPI 'a' (first at 2:5)"},
    {"kpis:\n  - key: a\n    name: [A]\n", "3:5: name: expected a single value, not a list"},
    {"kpis:\n  - key: a\n    name:\n      en: A\n", "3:5: name: expected a single value, not a mapping"},
    {"kpis:\n  - key: a\n    name: A\n    tags: saas\n", "4:5: tags: expected a list such as [saas, revenue]"},
    {"kpis:\n  - key: a\n    name: A\n    tags: {a: b}\n", "4:5: tags: expected a list such as [saas, revenue], not a mapping"},
    {"kpis:\n  - key: a\n    name: A\n    tags: [x, [y]]\n", "4:15: tags: expected a tag, not a list"},
    {"kpis:\n  - key: a\n    name: A\n    tags: [ok, not ok]\n",
     "4:16: tags: 'not ok' may only hold letters, digits and _ - . : /"},
    {"kpis:\n  - &x {key: a, name: A}\n", "2:5: anchors (&x) are not allowed"},
    {"kpis:\n  - *x\n", "2:5: aliases (*x) are not allowed"},
    {"kpis:\n  - key: a\n    name: !!str A\n", "3:11: explicit YAML types (tag:yaml.org,2002:str) are not allowed"},
    {"kpis: []\n---\nkpis: []\n", "2:1: only one YAML document is allowed"},
    {"", "1:1: the file is empty (expected 'kpis:' and a list of KPIs)"},
    {"# nothing\n", "2:1: the file is empty (expected 'kpis:' and a list of KPIs)"},
    {"- key: a\n", "1:1: expected a mapping with the key 'kpis', not a list"},
    {"kpi: []\n", "1:1: unknown key 'kpi' (expected kpis)"},
    {"{}\n", "1:1: missing key 'kpis'"},
    {"kpis: []\nkpis: []\n", "2:1: duplicate key 'kpis' (first at 1:1)"},
    {"kpis:\n", "1:1: kpis: expected a list of KPIs ('- key: ...', or [] for none), not a single value"},
    {"kpis: [mrr]\n", "1:8: expected a KPI (a mapping such as 'key: mrr'), not a single value"},
    {"kpis:\n  - - key: a\n", "2:5: expected a KPI (a mapping such as 'key: mrr'), not a list"},
    {"kpis:\n  - name: A\n", "2:5: key: is required"},
    {"kpis:\n  - key: a\n", "2:5: name: is required"},
    {"kpis:\n  - key: a\n    name: ''\n", "3:5: name: is required"},
    {"kpis:\n  - key: a\n    name: A\n    parent: a\n", "4:5: parent: a KPI cannot be its own parent"},
    {"kpis:\n  - key: Bad\n    name: A\n",
     "2:5: key: 'Bad' is not a valid key (a lower-case letter, then up to 63 lower-case letters, digits or '_')"},
    {"kpis:\n  - key: a\n    name: A\n    decimals: 11\n", "4:5: decimals: expected a whole number from 0 to 10, got '11'"},
    {"kpis:\n  - key: a\n    name: A\n    weight: -1\n", "4:5: weight: expected a number from 0 to 1000000, got '-1'"},
    {"kpis:\n  - key: a\n    name: A\n    archived: maybe\n", "4:5: archived: expected true or false, got 'maybe'"},
    {"kpis:\n  - key: a\n    name: A\n    format: ~\n",
     "4:5: format: unknown value '' (expected number, percent, currency or duration)"},
    {"kpis:\n  - key: a\n    name: \"A\\0B\"\n", "3:11: name: must not contain NUL characters"},
    {"kpis:\n  - key: a\n    name: \"A\\nB\"\n", "3:5: name: must not contain control characters"},
    {"kpis:\n  - key: a\n    ? [x]\n    : y\n", "3:7: expected a field name such as 'name', not a list"},
    {"kpis:\n  - key: a\n    name: A: B\n", "3:12: invalid YAML: mapping values are not allowed in this context"},
    {"kpis:\n  - key: a\n    name: \"A\n",
     "4:1: invalid YAML: found unexpected end of stream (while scanning a quoted scalar at 3:11)"},
    {"kpis:\n  - key: a\n    name: A\xff\n", "3:12: invalid text: invalid leading UTF-8 octet"},
    {"kpis:\n  - key: a\n    name: A\x01\n", "3:12: invalid text: control characters are not allowed"},
};

Test(yaml, invalid_documents)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct kpi_def *defs = (struct kpi_def *)0x1;
        size_t n = 12345;
        struct kpi_diag diag = {""};
        int r = parse(c->doc, &defs, &n, &diag);
        cr_expect(lt(int, r, 0), "case %zu accepted: %s", i, c->doc);
        cr_expect(eq(str, diag.msg, (char *)c->error), "case %zu:\n%s", i, c->doc);
        cr_expect(eq(ptr, defs, (struct kpi_def *)0x1), "case %zu: ret_defs written on failure", i);
        cr_expect(eq(sz, n, 12345), "case %zu: ret_n written on failure", i);
    }
}

/* ---- valid documents ---- */

Test(yaml, full_example)
{
    const char *doc = "kpis:\n"
                      "  - key: mrr\n"
                      "    name: Monthly recurring revenue\n"
                      "    unit: EUR\n"
                      "    format: currency\n"
                      "    decimals: 0\n"
                      "    direction: up\n"
                      "    aggregation: last\n"
                      "    granularity: month\n"
                      "    tier: north_star\n"
                      "    owner: ana@example.com\n"
                      "    team: finance\n"
                      "    tags: [saas, revenue]\n"
                      "  - key: churn_rate\n"
                      "    name: Churn rate\n"
                      "    description: |\n"
                      "      Customers lost in the month\n"
                      "      over customers at its start.\n"
                      "    unit: '%'\n"
                      "    direction: down\n"
                      "    parent: mrr\n"
                      "    weight: 0.5\n"
                      "    archived: true\n";
    struct kpi_def *defs;
    size_t n;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, parse(doc, &defs, &n, &diag), 0), "%s", diag.msg);
    cr_assert(eq(sz, n, 2));
    cr_expect(eq(str, defs[0].key, "mrr"));
    cr_expect(eq(str, defs[0].name, "Monthly recurring revenue"));
    cr_expect(eq(str, defs[0].unit, "EUR"));
    cr_expect(eq(int, defs[0].format, KPI_FORMAT_CURRENCY));
    cr_expect(eq(int, defs[0].aggregation, KPI_AGG_LAST));
    cr_expect(eq(int, defs[0].tier, KPI_TIER_NORTH_STAR));
    cr_expect(eq(str, defs[0].owner, "ana@example.com"));
    cr_assert(eq(sz, defs[0].n_tags, 2));
    cr_expect(eq(str, defs[0].tags[0], "saas"));
    cr_expect(eq(str, defs[0].tags[1], "revenue"));
    cr_expect(eq(int, defs[0].granularity, KPI_GRAN_MONTH));
    cr_expect(eq(str, defs[1].description, "Customers lost in the month\nover customers at its start.\n"));
    cr_expect(eq(str, defs[1].unit, "%"));
    cr_expect(eq(int, defs[1].direction, KPI_DIR_DOWN));
    cr_expect(eq(str, defs[1].parent, "mrr"));
    cr_expect(eq(dbl, defs[1].weight, 0.5));
    cr_expect(defs[1].archived);
    cr_expect(eq(int, defs[1].tier, KPI_TIER_OPERATIONAL)); /* default */
    kpi_defs_free(defs, n);
}

struct good_case {
    const char *doc;
    size_t n;
};

static const struct good_case good_cases[] = {
    {"kpis: []\n", 0},
    {"kpis: []\n...\n", 0},
    {"---\nkpis:\n- {key: a, name: A}\n- {key: b, name: B, parent: a, tags: []}\n", 2},
    {"%YAML 1.1\n---\nkpis: [{key: a, name: A}]\n", 1},
    {"kpis:\n  - key: a\n    name: A\n    unit: ~\n    owner:\n    tags:\n    formula: null\n", 1},
    {"\xef\xbb\xbfkpis: [{key: a, name: A}]\n", 1},                                              /* UTF-8 byte order mark */
    {"kpis:\r\n  - key: a\r\n    name: A\r\n", 1},                                               /* CRLF */
    {"kpis:\n  - key: a  # comment\n    name: \"Caf\\u00e9\"\n    description: \"a\\tb\"\n", 1}, /* escapes resolve before checks */
};

Test(yaml, valid_documents)
{
    for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        struct kpi_def *defs = NULL;
        size_t n = 99;
        struct kpi_diag diag = {""};
        int r = parse(good_cases[i].doc, &defs, &n, &diag);
        cr_expect(eq(int, r, 0), "case %zu rejected: %s", i, diag.msg);
        if (r == 0) {
            cr_expect(eq(sz, n, good_cases[i].n), "case %zu", i);
            if (n == 0)
                cr_expect(eq(ptr, defs, NULL));
            kpi_defs_free(defs, n);
        }
    }
}

Test(yaml, nulls_and_quoted_null)
{
    struct kpi_def *defs;
    size_t n;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, parse("kpis:\n- {key: a, name: A, unit: ~, team: 'null', owner: \"~\"}\n", &defs, &n, &diag), 0), "%s",
              diag.msg);
    cr_expect(eq(ptr, defs[0].unit, NULL));
    cr_expect(eq(str, defs[0].team, "null"));
    cr_expect(eq(str, defs[0].owner, "~"));
    kpi_defs_free(defs, n);
}

static int64_t day_of(const char *s)
{
    int64_t day = 0;
    cr_assert(eq(int, kpi_date_parse(s, strlen(s), &day), 0), "%s", s);
    return day;
}

Test(yaml, targets)
{
    const char *doc = "kpis:\n"
                      "  - key: mrr\n"
                      "    name: MRR\n"
                      "    targets:\n"
                      "      - {baseline: 150000, baseline_date: 2027-01-01, value: 2e5, date: 2027-12-31}\n"
                      "      - {baseline: 100000, baseline_date: 2026-01-01, value: 150000, date: 2026-12-31, at_risk_pct: 5}\n"
                      "  - key: inventory_days\n"
                      "    name: Inventory days\n"
                      "    targets:\n"
                      "      - baseline: 40\n"
                      "        baseline_date: '2026-01-01'\n"
                      "        low: 30\n"
                      "        high: 45.5\n"
                      "        date: 2026-12-31\n"
                      "    direction: range\n"
                      "  - key: churn\n"
                      "    name: Churn\n"
                      "    targets: []\n"
                      "  - key: nps\n"
                      "    name: NPS\n";
    struct kpi_def *defs;
    bool *given = (bool *)0x1;
    size_t n;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_defs_parse_yaml(doc, strlen(doc), &defs, &given, &n, &diag), 0), "%s", diag.msg);
    cr_assert(eq(sz, n, 4));
    cr_expect(given[0] && given[1] && given[2] && !given[3]);
    /* sorted by date, whatever the file's order */
    cr_assert(eq(sz, defs[0].n_targets, 2));
    const struct kpi_target *t = &defs[0].targets[0];
    cr_expect(eq(dbl, t->baseline, 100000));
    cr_expect(eq(i64, t->baseline_day, day_of("2026-01-01")));
    cr_expect(eq(dbl, t->value, 150000));
    cr_expect(eq(i64, t->day, day_of("2026-12-31")));
    cr_expect(eq(dbl, t->at_risk_pct, 5));
    t = &defs[0].targets[1];
    cr_expect(eq(dbl, t->value, 200000));
    cr_expect(eq(dbl, t->at_risk_pct, KPI_AT_RISK_PCT_DEFAULT));
    cr_expect(eq(i64, t->day, day_of("2027-12-31")));
    /* direction came after the targets */
    cr_expect(eq(int, defs[1].direction, KPI_DIR_RANGE));
    cr_assert(eq(sz, defs[1].n_targets, 1));
    t = &defs[1].targets[0];
    cr_expect(eq(dbl, t->low, 30));
    cr_expect(eq(dbl, t->high, 45.5));
    cr_expect(eq(dbl, t->value, 0));
    cr_expect(eq(i64, t->baseline_day, day_of("2026-01-01")));
    cr_expect(eq(sz, defs[2].n_targets, 0));
    cr_expect(eq(sz, defs[3].n_targets, 0));
    kpi_defs_free(defs, n);
    free(given);

    /* no KPIs: no array */
    given = (bool *)0x1;
    cr_assert(eq(int, kpi_defs_parse_yaml("kpis: []\n", 9, &defs, &given, &n, &diag), 0), "%s", diag.msg);
    cr_expect(eq(ptr, given, NULL));
}

static char *many_targets(size_t count)
{
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 24);
    kpi_buf_adds(&b, "kpis:\n- key: a\n  name: A\n  targets:\n");
    for (size_t i = 0; i < count; i++)
        kpi_buf_printf(&b, "  - {baseline: 1, baseline_date: 2000-01-01, value: %zu, date: %zu-06-30}\n", i, 2001 + i);
    return kpi_buf_take(&b);
}

Test(yaml, at_most_100_targets)
{
    struct kpi_def *defs;
    size_t n;
    struct kpi_diag diag = {""};
    char *doc = many_targets(KPI_TARGETS_MAX);
    cr_expect(eq(int, parse(doc, &defs, &n, &diag), 0), "%s", diag.msg);
    cr_expect(eq(sz, defs[0].n_targets, KPI_TARGETS_MAX));
    kpi_defs_free(defs, n);
    free(doc);
    doc = many_targets(KPI_TARGETS_MAX + 1);
    cr_expect(eq(int, parse(doc, &defs, &n, &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "105:5: targets: at most 100 per KPI"));
    free(doc);
}

/* ---- limits ---- */

Test(yaml, larger_than_16_mib)
{
    size_t len = KPI_DEFS_MAX_BYTES + 1;
    char *big = malloc(len);
    cr_assert(not(eq(ptr, big, NULL)));
    memset(big, ' ', len);
    memcpy(big, "kpis: []", 8);
    struct kpi_def *defs;
    size_t n;
    struct kpi_diag diag = {""};
    cr_expect(eq(int, kpi_defs_parse_yaml(big, len, &defs, NULL, &n, &diag), -E2BIG));
    cr_expect(eq(str, diag.msg, "1:1: the file is larger than 16 MiB"));
    free(big);
}

static char *many_kpis(size_t count)
{
    struct kpi_buf b;
    kpi_buf_init(&b, KPI_DEFS_MAX_BYTES);
    kpi_buf_adds(&b, "kpis:\n");
    for (size_t i = 0; i < count; i++)
        kpi_buf_printf(&b, "- {key: k%zu, name: K}\n", i);
    return kpi_buf_take(&b);
}

Test(yaml, at_most_10000_kpis)
{
    struct kpi_def *defs;
    size_t n;
    struct kpi_diag diag = {""};
    char *doc = many_kpis(KPI_DEFS_MAX_KPIS);
    cr_expect(eq(int, parse(doc, &defs, &n, &diag), 0), "%s", diag.msg);
    cr_expect(eq(sz, n, KPI_DEFS_MAX_KPIS));
    kpi_defs_free(defs, n);
    free(doc);
    doc = many_kpis(KPI_DEFS_MAX_KPIS + 1);
    cr_expect(eq(int, parse(doc, &defs, &n, &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "10002:3: more than 10000 KPIs"));
    free(doc);
}

Test(yaml, deep_nesting_is_refused_early)
{
    /* 100,000 nested lists: refused at the first level the schema does not have. */
    size_t depth = 100000;
    char *doc = malloc(depth * 2 + 32);
    cr_assert(not(eq(ptr, doc, NULL)));
    size_t len = 0;
    len += (size_t)snprintf(doc, 32, "kpis: [{key: a, name: ");
    memset(doc + len, '[', depth);
    len += depth;
    memset(doc + len, ']', depth);
    len += depth;
    struct kpi_def *defs;
    size_t n;
    struct kpi_diag diag = {""};
    cr_expect(eq(int, kpi_defs_parse_yaml(doc, len, &defs, NULL, &n, &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "1:17: name: expected a single value, not a list"));
    free(doc);
}

Test(yaml, billion_laughs_refused)
{
    const char *doc = "kpis:\n"
                      "  - &a [x, x, x, x, x, x, x, x, x]\n"
                      "  - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "  - [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
    struct kpi_def *defs;
    size_t n;
    struct kpi_diag diag = {""};
    cr_expect(eq(int, parse(doc, &defs, &n, &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "2:5: anchors (&a) are not allowed"));
}

/* ---- writing ---- */

static void set(struct kpi_def *d, const char *field, const char *value)
{
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_def_set_field(d, field, value, &diag), 0), "%s=%s: %s", field, value, diag.msg);
}

static void full_def(struct kpi_def *d)
{
    kpi_def_init(d);
    set(d, "key", "net_revenue_retention");
    set(d, "name", "Net revenue retention: \"NRR\" # of 'MRR'");
    set(d, "description", "Line one\n  indented line\n\ttab\n\nlast line ");
    set(d, "unit", "%");
    set(d, "format", "percent");
    set(d, "decimals", "1");
    set(d, "direction", "range");
    set(d, "aggregation", "avg");
    set(d, "granularity", "quarter");
    set(d, "formula", "(mrr_start + expansion - churned) / mrr_start * 100");
    set(d, "tier", "strategic");
    set(d, "indicator", "leading");
    set(d, "owner", "ana@example.com");
    set(d, "team", "finance");
    set(d, "parent", "mrr");
    set(d, "weight", "0.1");
    set(d, "review_cadence", "quarterly");
    set(d, "visibility", "private");
    set(d, "tags", "saas,2026,yes,-x");
    set(d, "archived", "true");
}

static void round_trip(const struct kpi_def *defs, size_t n)
{
    struct kpi_buf out;
    kpi_buf_init(&out, KPI_DEFS_MAX_BYTES);
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, defs, n), 0));
    struct kpi_def *back;
    size_t n_back;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_defs_parse_yaml(kpi_buf_str(&out), out.len, &back, NULL, &n_back, &diag), 0), "%s\n%s", diag.msg,
              kpi_buf_str(&out));
    cr_assert(eq(sz, n_back, n));
    for (size_t i = 0; i < n; i++)
        cr_expect(kpi_def_equal(&defs[i], &back[i]), "KPI %zu differs after the round trip:\n%s", i, kpi_buf_str(&out));
    kpi_defs_free(back, n_back);
    kpi_buf_free(&out);
}

Test(yaml, round_trip_every_field)
{
    struct kpi_def d[2];
    full_def(&d[0]);
    kpi_def_init(&d[1]);
    set(&d[1], "key", "mrr");
    set(&d[1], "name", "MRR");
    round_trip(d, 2);
    kpi_def_clear(&d[0]);
    kpi_def_clear(&d[1]);
}

static void add_target(struct kpi_def *d, const char *base_day, double baseline, double goal, double high, const char *day,
                       double at_risk)
{
    struct kpi_target t = {.baseline = baseline, .baseline_day = day_of(base_day), .day = day_of(day), .at_risk_pct = at_risk};
    if (d->direction == KPI_DIR_RANGE) {
        t.low = goal;
        t.high = high;
    } else {
        t.value = goal;
    }
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_def_set_target(d, &t, &diag), 0), "%s", diag.msg);
}

Test(yaml, round_trip_targets)
{
    struct kpi_def d[3];
    full_def(&d[0]); /* a range KPI */
    add_target(&d[0], "2026-01-01", 40, 30, 45, "2026-12-31", 10);
    add_target(&d[0], "2025-01-01", -0.5, 1e-7, 1e300, "2025-12-31", 2.5);
    kpi_def_init(&d[1]);
    set(&d[1], "key", "mrr");
    set(&d[1], "name", "MRR");
    set(&d[1], "direction", "down");
    add_target(&d[1], "0001-01-01", 0.1, -123456.789, 0, "9999-12-31", 0);
    add_target(&d[1], "2026-02-28", 1, 2, 0, "2026-03-01", 1000);
    kpi_def_init(&d[2]);
    set(&d[2], "key", "none");
    set(&d[2], "name", "No targets");
    round_trip(d, 3);

    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 20);
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, &d[1], 2), 0));
    cr_expect(eq(str, (char *)kpi_buf_str(&out),
                 "kpis:\n"
                 "- key: mrr\n"
                 "  name: MRR\n"
                 "  direction: down\n"
                 "  targets:\n"
                 "  - {baseline: 1, baseline_date: 2026-02-28, value: 2, date: 2026-03-01, at_risk_pct: 1000}\n"
                 "  - {baseline: 0.1, baseline_date: 0001-01-01, value: -123456.789, date: 9999-12-31, at_risk_pct: 0}\n"
                 "- key: none\n"
                 "  name: No targets\n"));
    kpi_buf_reset(&out);
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, &d[0], 1), 0));
    cr_expect(not(eq(ptr,
                     strstr(kpi_buf_str(&out),
                            "  targets:\n"
                            "  - {baseline: -0.5, baseline_date: 2025-01-01, low: 1e-07, high: 1e+300, date: 2025-12-31, "
                            "at_risk_pct: 2.5}\n"
                            "  - {baseline: 40, baseline_date: 2026-01-01, low: 30, high: 45, date: 2026-12-31}\n"),
                     NULL)),
              "%s", kpi_buf_str(&out));
    kpi_buf_free(&out);
    for (int i = 0; i < 3; i++)
        kpi_def_clear(&d[i]);
}

/* Strings that tempt a YAML writer to get quoting wrong. */
static const char *const awkward[] = {
    "null",
    "Null",
    "~",
    "true",
    "no",
    "yes",
    "off",
    "y",
    "N",
    "123",
    "1.5",
    "-1",
    ".inf",
    "0x1F",
    "2026-01-31",
    "12:30",
    "- item",
    "-",
    "? q",
    ": c",
    "a: b",
    "a #b",
    "#c",
    "'quoted'",
    "\"dq\"",
    "[x]",
    "{y}",
    "*alias",
    "&anchor",
    "!tag",
    "%pct",
    "@at",
    "`tick`",
    "|",
    ">",
    " leading",
    "trailing ",
    "a,b",
    "Café ☕",
    "日本語",
    "a\\b",
    "x\u00a0y",
    "\u2028ls",
    "nel\xc2\x85",
    "\xef\xbb\xbf"
    "bom",
};

static const char *const awkward_multiline[] = {
    "a\nb",   "a\nb\n",     "a\nb\n\n",     "\na",     "\n",       "  a\nb",    "a\n  b",
    "a \nb",  "a\n\nb",     "a\n \nb",      "a\tb\nc", "- x\n- y", "a\n\n",     "#\n#",
    "a\r\nb", "x\n\u2028y", "key: v\nk: v", "\ta\nb",  " \n ",     "a\n---\nb", "a\n...\nb",
};

Test(yaml, round_trip_awkward_strings)
{
    for (size_t i = 0; i < sizeof(awkward) / sizeof(awkward[0]); i++) {
        struct kpi_def d;
        kpi_def_init(&d);
        set(&d, "key", "k");
        set(&d, "name", awkward[i]);
        set(&d, "description", awkward[i]);
        set(&d, "owner", awkward[i]);
        round_trip(&d, 1);
        kpi_def_clear(&d);
    }
    for (size_t i = 0; i < sizeof(awkward_multiline) / sizeof(awkward_multiline[0]); i++) {
        if (strchr(awkward_multiline[i], '\r'))
            continue; /* not a valid description: control character */
        struct kpi_def d;
        kpi_def_init(&d);
        set(&d, "key", "k");
        set(&d, "name", "N");
        set(&d, "description", awkward_multiline[i]);
        round_trip(&d, 1);
        kpi_def_clear(&d);
    }
}

Test(yaml, emit_only_non_defaults)
{
    struct kpi_def d;
    kpi_def_init(&d);
    set(&d, "key", "a");
    set(&d, "name", "A");
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 20);
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, &d, 1), 0));
    cr_expect(eq(str, (char *)kpi_buf_str(&out), "kpis:\n- key: a\n  name: A\n"));
    kpi_buf_reset(&out);
    set(&d, "granularity", "week");
    set(&d, "weight", "1");
    set(&d, "unit", "null");
    set(&d, "tags", "b,a");
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, &d, 1), 0));
    cr_expect(
        eq(str, (char *)kpi_buf_str(&out), "kpis:\n- key: a\n  name: A\n  unit: 'null'\n  granularity: week\n  tags: [b, a]\n"));
    kpi_buf_reset(&out);
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, NULL, 0), 0));
    cr_expect(eq(str, (char *)kpi_buf_str(&out), "kpis: []\n"));
    kpi_buf_free(&out);
    kpi_def_clear(&d);
}

Test(yaml, emit_reports_a_full_buffer_and_bad_utf8)
{
    struct kpi_def d;
    full_def(&d);
    struct kpi_buf out;
    kpi_buf_init(&out, 64);
    cr_expect(eq(int, kpi_defs_emit_yaml(&out, &d, 1), -E2BIG));
    kpi_buf_free(&out);
    free(d.owner);
    d.owner = strdup("bad \xff utf-8");
    kpi_buf_init(&out, 1 << 20);
    cr_expect(eq(int, kpi_defs_emit_yaml(&out, &d, 1), -EILSEQ));
    kpi_buf_free(&out);
    kpi_def_clear(&d);
}

/* ---- plan ---- */

static struct kpi_def *parse_ok(const char *doc, size_t *n)
{
    struct kpi_def *defs;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, parse(doc, &defs, n, &diag), 0), "%s", diag.msg);
    return defs;
}

static struct kpi_def *parse_given(const char *doc, bool **given, size_t *n)
{
    struct kpi_def *defs;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_defs_parse_yaml(doc, strlen(doc), &defs, given, n, &diag), 0), "%s", diag.msg);
    return defs;
}

Test(plan, parents_first)
{
    size_t n;
    struct kpi_def *want = parse_ok("kpis:\n"
                                    "- {key: c, name: C, parent: b}\n"
                                    "- {key: x, name: X}\n"
                                    "- {key: b, name: B, parent: a}\n"
                                    "- {key: a, name: A}\n"
                                    "- {key: d, name: D, parent: a}\n",
                                    &n);
    struct kpi_defs_change *ch;
    size_t nc;
    cr_assert(eq(int, kpi_defs_plan(NULL, 0, want, NULL, n, &ch, &nc), 0));
    cr_assert(eq(sz, nc, 5));
    const char *order[] = {"a", "b", "c", "x", "d"};
    for (size_t i = 0; i < nc; i++) {
        cr_expect(eq(str, (char *)ch[i].desired->key, (char *)order[i]), "position %zu", i);
        cr_expect(eq(int, ch[i].kind, KPI_CHANGE_CREATE));
        cr_expect(eq(ptr, (void *)ch[i].current, NULL));
    }
    free(ch);
    kpi_defs_free(want, n);
}

Test(plan, updates_creates_unchanged_and_absent)
{
    size_t n_cur, n_want;
    struct kpi_def *cur = parse_ok("kpis:\n"
                                   "- {key: keep, name: Keep}\n"
                                   "- {key: churn_rate, name: Churn, unit: '%'}\n"
                                   "- {key: absent, name: Not in the file}\n",
                                   &n_cur);
    struct kpi_def *want = parse_ok("kpis:\n"
                                    "- {key: churn_rate, name: Churn, unit: pct, tier: strategic, parent: mrr}\n"
                                    "- {key: keep, name: Keep}\n"
                                    "- {key: mrr, name: MRR}\n",
                                    &n_want);
    struct kpi_defs_change *ch;
    size_t nc;
    cr_assert(eq(int, kpi_defs_plan(cur, n_cur, want, NULL, n_want, &ch, &nc), 0));
    cr_assert(eq(sz, nc, 2));
    cr_expect(eq(int, ch[0].kind, KPI_CHANGE_CREATE));
    cr_expect(eq(str, (char *)ch[0].desired->key, "mrr"));
    cr_expect(eq(int, ch[1].kind, KPI_CHANGE_UPDATE));
    cr_expect(eq(ptr, (void *)ch[1].current, (void *)&cur[1]));
    cr_expect(eq(ptr, (void *)ch[1].desired, (void *)&want[0]));

    struct kpi_defs_field_change *f;
    size_t nf;
    cr_assert(eq(int, kpi_defs_diff(ch[1].current, ch[1].desired, &f, &nf), 0));
    cr_assert(eq(sz, nf, 3));
    cr_expect(eq(str, (char *)f[0].field, "unit"));
    cr_expect(eq(str, f[0].old_text, "%"));
    cr_expect(eq(str, f[0].new_text, "pct"));
    cr_expect(eq(int, f[0].kind, KPI_FIELD_TEXT));
    cr_expect(eq(str, (char *)f[1].field, "tier"));
    cr_expect(eq(str, f[1].old_text, "operational"));
    cr_expect(eq(str, f[1].new_text, "strategic"));
    cr_expect(eq(int, f[1].kind, KPI_FIELD_WORD));
    cr_expect(eq(str, (char *)f[2].field, "parent"));
    cr_expect(eq(ptr, f[2].old_text, NULL));
    cr_expect(eq(str, f[2].new_text, "mrr"));
    kpi_defs_diff_free(f, nf);
    free(ch);
    kpi_defs_free(cur, n_cur);
    kpi_defs_free(want, n_want);
}

Test(plan, reparenting_updates_come_after_their_new_parent)
{
    size_t n_cur, n_want;
    /* In the database b is under a; the file turns it around. Updating a first would loop. */
    struct kpi_def *cur = parse_ok("kpis: [{key: a, name: A}, {key: b, name: B, parent: a}]\n", &n_cur);
    struct kpi_def *want = parse_ok("kpis: [{key: a, name: A, parent: b}, {key: b, name: B}]\n", &n_want);
    struct kpi_defs_change *ch;
    size_t nc;
    cr_assert(eq(int, kpi_defs_plan(cur, n_cur, want, NULL, n_want, &ch, &nc), 0));
    cr_assert(eq(sz, nc, 2));
    cr_expect(eq(str, (char *)ch[0].desired->key, "b"));
    cr_expect(eq(str, (char *)ch[1].desired->key, "a"));
    free(ch);
    kpi_defs_free(cur, n_cur);
    kpi_defs_free(want, n_want);
}

Test(plan, loop_in_file_does_not_hang)
{
    size_t n;
    struct kpi_def *want = parse_ok("kpis: [{key: a, name: A, parent: b}, {key: b, name: B, parent: a}]\n", &n);
    struct kpi_defs_change *ch;
    size_t nc;
    cr_assert(eq(int, kpi_defs_plan(NULL, 0, want, NULL, n, &ch, &nc), 0));
    cr_expect(eq(sz, nc, 2)); /* the store rejects the loop when it is applied */
    free(ch);
    kpi_defs_free(want, n);
}

Test(plan, dump_of_current_is_a_no_op)
{
    struct kpi_def cur[3];
    full_def(&cur[0]);
    kpi_def_init(&cur[1]);
    set(&cur[1], "key", "mrr");
    set(&cur[1], "name", "MRR");
    kpi_def_init(&cur[2]);
    set(&cur[2], "key", "arr");
    set(&cur[2], "name", "ARR");
    set(&cur[2], "formula", "mrr * 12");
    set(&cur[2], "parent", "mrr");
    cur[2].id = 7; /* stored fields outside the definition do not count */
    cur[2].created_ms = 1;
    add_target(&cur[0], "2026-01-01", 40, 30, 45, "2026-12-31", 10);
    add_target(&cur[1], "2026-01-01", 100, 150, 0, "2026-12-31", 7.5);
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 20);
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, cur, 3), 0));
    size_t n;
    bool *given;
    struct kpi_def *want = parse_given(kpi_buf_str(&out), &given, &n);
    cr_expect(given[0] && given[1] && !given[2]);
    struct kpi_defs_change *ch = (struct kpi_defs_change *)0x1;
    size_t nc = 99;
    cr_assert(eq(int, kpi_defs_plan(cur, 3, want, given, n, &ch, &nc), 0));
    cr_expect(eq(sz, nc, 0));
    cr_expect(eq(ptr, ch, NULL));
    free(given);
    kpi_defs_free(want, n);
    kpi_buf_free(&out);
    for (int i = 0; i < 3; i++)
        kpi_def_clear(&cur[i]);
}

/* The stored KPIs of the target tests: mrr with two targets, days (range) with one, plain without. */
static const char stored_with_targets[] =
    "kpis:\n"
    "- key: mrr\n"
    "  name: MRR\n"
    "  targets:\n"
    "  - {baseline: 100000, baseline_date: 2026-01-01, value: 150000, date: 2026-12-31}\n"
    "  - {baseline: 150000, baseline_date: 2027-01-01, value: 200000, date: 2027-12-31, at_risk_pct: 5}\n"
    "- key: days\n"
    "  name: Days\n"
    "  direction: range\n"
    "  targets: [{baseline: 40, baseline_date: 2026-01-01, low: 30, high: 45, date: 2026-12-31}]\n"
    "- key: plain\n"
    "  name: Plain\n";

Test(plan, targets_absent_are_kept)
{
    size_t n_cur, n_want;
    bool *given;
    struct kpi_def *cur = parse_ok(stored_with_targets, &n_cur);
    /* No `targets` anywhere: nothing changes, and a real change elsewhere keeps the targets. */
    struct kpi_def *want = parse_given("kpis:\n"
                                       "- {key: mrr, name: MRR}\n"
                                       "- {key: days, name: Days, direction: range, unit: d}\n"
                                       "- {key: plain, name: Plain}\n"
                                       "- {key: fresh, name: Fresh}\n",
                                       &given, &n_want);
    cr_expect(eq(sz, want[0].n_targets, 0));
    struct kpi_defs_change *ch;
    size_t nc;
    cr_assert(eq(int, kpi_defs_plan(cur, n_cur, want, given, n_want, &ch, &nc), 0));
    cr_assert(eq(sz, nc, 2));
    cr_expect(eq(str, (char *)ch[0].desired->key, "days"));
    cr_expect(eq(int, ch[0].kind, KPI_CHANGE_UPDATE));
    cr_expect(eq(str, (char *)ch[1].desired->key, "fresh"));
    cr_expect(eq(int, ch[1].kind, KPI_CHANGE_CREATE));
    /* the desired definitions now hold the stored targets, so the update writes them back */
    cr_expect(eq(sz, want[0].n_targets, 2));
    cr_expect(kpi_def_equal(&want[0], &cur[0]));
    cr_expect(eq(sz, want[1].n_targets, 1));
    cr_expect(eq(dbl, want[1].targets[0].high, 45));
    cr_expect(eq(sz, want[3].n_targets, 0));
    struct kpi_defs_field_change *f;
    size_t nf;
    cr_assert(eq(int, kpi_defs_diff(ch[0].current, ch[0].desired, &f, &nf), 0));
    cr_assert(eq(sz, nf, 1));
    cr_expect(eq(str, (char *)f[0].field, "unit"));
    kpi_defs_diff_free(f, nf);
    free(ch);
    free(given);
    kpi_defs_free(want, n_want);
    kpi_defs_free(cur, n_cur);
}

Test(plan, targets_empty_list_removes_and_changes_are_diffed)
{
    size_t n_cur, n_want;
    bool *given;
    struct kpi_def *cur = parse_ok(stored_with_targets, &n_cur);
    struct kpi_def *want =
        parse_given("kpis:\n"
                    "- key: mrr\n"
                    "  name: MRR\n"
                    "  targets: []\n"
                    "- key: days\n"
                    "  name: Days\n"
                    "  direction: range\n"
                    "  targets: [{baseline: 40, baseline_date: 2026-01-01, low: 30, high: 40, date: 2026-12-31, at_risk_pct: 20}]\n"
                    "- key: plain\n"
                    "  name: Plain\n"
                    "  targets: [{baseline: 1, baseline_date: 2026-01-01, value: 2, date: 2026-12-31}]\n",
                    &given, &n_want);
    struct kpi_defs_change *ch;
    size_t nc;
    cr_assert(eq(int, kpi_defs_plan(cur, n_cur, want, given, n_want, &ch, &nc), 0));
    cr_assert(eq(sz, nc, 3));
    cr_expect(eq(sz, want[0].n_targets, 0));
    static const char *const old_text[] = {
        "[2026-12-31: 150000 from 100000 on 2026-01-01, 2027-12-31: 200000 from 150000 on 2027-01-01 at risk 5%]",
        "[2026-12-31: 30..45 from 40 on 2026-01-01]",
        NULL,
    };
    static const char *const new_text[] = {
        NULL,
        "[2026-12-31: 30..40 from 40 on 2026-01-01 at risk 20%]",
        "[2026-12-31: 2 from 1 on 2026-01-01]",
    };
    for (size_t i = 0; i < nc; i++) {
        struct kpi_defs_field_change *f;
        size_t nf;
        cr_assert(eq(int, kpi_defs_diff(ch[i].current, ch[i].desired, &f, &nf), 0));
        cr_assert(eq(sz, nf, 1), "change %zu", i);
        cr_expect(eq(str, (char *)f[0].field, "targets"));
        cr_expect(eq(int, f[0].kind, KPI_FIELD_WORD));
        if (old_text[i])
            cr_expect(eq(str, f[0].old_text, (char *)old_text[i]), "change %zu", i);
        else
            cr_expect(eq(ptr, f[0].old_text, NULL), "change %zu", i);
        if (new_text[i])
            cr_expect(eq(str, f[0].new_text, (char *)new_text[i]), "change %zu", i);
        else
            cr_expect(eq(ptr, f[0].new_text, NULL), "change %zu", i);
        kpi_defs_diff_free(f, nf);
    }
    free(ch);
    free(given);
    kpi_defs_free(want, n_want);
    kpi_defs_free(cur, n_cur);
}

Test(plan, targets_unused_stored_fields_do_not_count)
{
    size_t n_cur, n_want;
    bool *given;
    struct kpi_def *cur = parse_ok(stored_with_targets, &n_cur);
    /* stored by another path with fields the direction does not use, and ids */
    cur[0].targets[0].low = 7;
    cur[0].targets[0].id = 11;
    cur[1].targets[0].value = 99;
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 20);
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, cur, n_cur), 0));
    struct kpi_def *want = parse_given(kpi_buf_str(&out), &given, &n_want);
    struct kpi_defs_change *ch = (struct kpi_defs_change *)0x1;
    size_t nc = 99;
    cr_assert(eq(int, kpi_defs_plan(cur, n_cur, want, given, n_want, &ch, &nc), 0));
    cr_expect(eq(sz, nc, 0), "%s", kpi_buf_str(&out));
    cr_expect(eq(ptr, ch, NULL));
    cr_expect(eq(dbl, want[1].targets[0].value, 99));
    /* a real change still shows */
    kpi_defs_free(want, n_want);
    free(given);
    want = parse_given("kpis: [{key: days, name: Days, direction: range, targets: [{baseline: 40, baseline_date: 2026-01-01, "
                       "low: 30, high: 46, date: 2026-12-31}]}]\n",
                       &given, &n_want);
    cr_assert(eq(int, kpi_defs_plan(cur, n_cur, want, given, n_want, &ch, &nc), 0));
    cr_expect(eq(sz, nc, 1));
    cr_expect(eq(dbl, want[0].targets[0].value, 0));
    free(ch);
    kpi_defs_free(want, n_want);
    free(given);
    kpi_buf_free(&out);
    kpi_defs_free(cur, n_cur);
}

Test(plan, duplicate_desired_keys_refused)
{
    struct kpi_def d[2];
    kpi_def_init(&d[0]);
    kpi_def_init(&d[1]);
    set(&d[0], "key", "a");
    set(&d[1], "key", "a");
    struct kpi_defs_change *ch;
    size_t nc;
    cr_expect(eq(int, kpi_defs_plan(NULL, 0, d, NULL, 2, &ch, &nc), -EINVAL));
    kpi_def_clear(&d[0]);
    kpi_def_clear(&d[1]);
}

Test(plan, field_text)
{
    struct kpi_def d;
    full_def(&d);
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 16);
    enum kpi_field_kind kind;
    cr_expect(eq(int, kpi_def_field_text(&d, "tags", &b, &kind), 1));
    cr_expect(eq(str, (char *)kpi_buf_str(&b), "saas,2026,yes,-x"));
    cr_expect(eq(int, kind, KPI_FIELD_LIST));
    kpi_buf_reset(&b);
    cr_expect(eq(int, kpi_def_field_text(&d, "weight", &b, &kind), 1));
    cr_expect(eq(str, (char *)kpi_buf_str(&b), "0.1"));
    kpi_buf_reset(&b);
    cr_expect(eq(int, kpi_def_field_text(&d, "colour", &b, &kind), -EINVAL));
    kpi_def_clear(&d);
    kpi_def_init(&d);
    kpi_buf_reset(&b);
    cr_expect(eq(int, kpi_def_field_text(&d, "unit", &b, &kind), 0));
    cr_expect(eq(int, kpi_def_field_text(&d, "tags", &b, &kind), 0));
    kpi_buf_free(&b);
}
