/*
 * Definitions as code (defs/yaml.c, defs/plan.c): table-driven valid and invalid documents with
 * the exact diagnostic (LINE:COLUMN included), the emit -> parse round trip of definitions with
 * every field set and of awkward strings, the limits, and the plan (creates before updates of
 * children, parents first, idempotency).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs/defs.h"

static int parse(const char *text, struct kpi_def **defs, size_t *n, struct kpi_diag *diag)
{
    return kpi_defs_parse_yaml(text, strlen(text), defs, n, diag);
}

/* ---- invalid documents: the exact message ---- */

struct bad_case {
    const char *doc;
    const char *error;
};

static const struct bad_case bad_cases[] = {
    {"kpis:\n  - key: a\n    name: A\n    granularity: fortnight\n",
     "4:5: granularity: unknown value 'fortnight' (expected day, week, month, quarter or year)"},
    {"kpis:\n  - key: a\n    name: A\n    colour: red\n", "4:5: unknown field 'colour'"},
    {"kpis:\n  - key: a\n    name: A\n    targets: []\n", "4:5: unknown field 'targets'"},
    {"kpis:\n  - key: a\n    name: A\n    name: B\n", "4:5: duplicate field 'name' (first at 3:5)"},
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
    cr_expect(eq(int, kpi_defs_parse_yaml(big, len, &defs, &n, &diag), -E2BIG));
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
    cr_expect(eq(int, kpi_defs_parse_yaml(doc, len, &defs, &n, &diag), -EINVAL));
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
    cr_assert(eq(int, kpi_defs_parse_yaml(kpi_buf_str(&out), out.len, &back, &n_back, &diag), 0), "%s\n%s", diag.msg,
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
    cr_assert(eq(int, kpi_defs_plan(NULL, 0, want, n, &ch, &nc), 0));
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
    cr_assert(eq(int, kpi_defs_plan(cur, n_cur, want, n_want, &ch, &nc), 0));
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
    cr_assert(eq(int, kpi_defs_plan(cur, n_cur, want, n_want, &ch, &nc), 0));
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
    cr_assert(eq(int, kpi_defs_plan(NULL, 0, want, n, &ch, &nc), 0));
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
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 20);
    cr_assert(eq(int, kpi_defs_emit_yaml(&out, cur, 3), 0));
    size_t n;
    struct kpi_def *want = parse_ok(kpi_buf_str(&out), &n);
    struct kpi_defs_change *ch = (struct kpi_defs_change *)0x1;
    size_t nc = 99;
    cr_assert(eq(int, kpi_defs_plan(cur, 3, want, n, &ch, &nc), 0));
    cr_expect(eq(sz, nc, 0));
    cr_expect(eq(ptr, ch, NULL));
    kpi_defs_free(want, n);
    kpi_buf_free(&out);
    for (int i = 0; i < 3; i++)
        kpi_def_clear(&cur[i]);
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
    cr_expect(eq(int, kpi_defs_plan(NULL, 0, d, 2, &ch, &nc), -EINVAL));
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
