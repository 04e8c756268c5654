/*
 * The request-body parsers of the HTTP API (json/parse.c): tables of valid bodies and of every
 * class of error with the message each gives, PATCH semantics on a base definition, outputs left
 * untouched on failure, the round trip kpi_json_def -> kpi_json_parse_def -> kpi_def_equal over
 * demo-like definitions, and the points reader bound to one KPI (json/points.c).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "json/json.h"
#include "json/parse.h"
#include "kpi/status.h"
#include "kpi/time.h"

#define DAY(y, m, d) kpi_days_from_civil(y, m, d)
#define T_UP "{\"baseline\":100,\"baseline_date\":\"2026-01-01\",\"value\":150,\"date\":\"2026-12-31\"}"
#define T_RANGE "{\"baseline\":40,\"baseline_date\":\"2026-01-01\",\"low\":30,\"high\":45,\"date\":\"2026-12-31\"}"

/* Parses a definition that must be valid. */
static struct kpi_def parse_ok(const char *body, const struct kpi_def *base, bool *ret_has_targets)
{
    struct kpi_def d;
    struct kpi_diag diag = {""};
    bool has = false;
    int r = kpi_json_parse_def(body, strlen(body), base, &d, &has, &diag);
    cr_assert(eq(int, r, 0), "body %s: %s", body, diag.msg);
    if (ret_has_targets)
        *ret_has_targets = has;
    return d;
}

/* ---- definitions: valid bodies ---- */

Test(parse_def, minimal_body_gets_defaults)
{
    bool has = true;
    struct kpi_def d = parse_ok("{\"key\":\"mrr\",\"name\":\"MRR\"}", NULL, &has);
    struct kpi_def want;
    kpi_def_init(&want);
    kpi_def_set_key(&want, "mrr", NULL);
    kpi_def_set_field(&want, "name", "MRR", NULL);
    cr_expect(kpi_def_equal(&d, &want));
    cr_expect(not(has));
    kpi_def_clear(&d);
    kpi_def_clear(&want);
}

Test(parse_def, every_field_and_targets_before_direction)
{
    const char *body =
        "{\"targets\":[" T_RANGE "],\"key\":\"inventory_days\",\"name\":\"Inventory days\",\"description\":\"line\\n\\ttab\","
        "\"unit\":\"days\",\"format\":\"duration\",\"decimals\":1,\"direction\":\"range\",\"aggregation\":\"avg\","
        "\"granularity\":\"week\",\"formula\":\"stock / sales\",\"tier\":\"diagnostic\",\"indicator\":\"leading\","
        "\"owner\":\"Ana <ana@example.com>\",\"team\":\"operations\",\"parent\":\"cash\",\"weight\":0.5,"
        "\"review_cadence\":\"quarterly\",\"visibility\":\"private\",\"tags\":[\"ops\",\"supply-chain\"],"
        "\"archived\":true}";
    bool has = false;
    struct kpi_def d = parse_ok(body, NULL, &has);
    cr_expect(has);
    cr_expect(eq(str, d.key, "inventory_days"));
    cr_expect(eq(str, d.description, "line\n\ttab"));
    cr_expect(eq(int, d.format, KPI_FORMAT_DURATION));
    cr_expect(eq(int, d.decimals, 1));
    cr_expect(eq(int, d.direction, KPI_DIR_RANGE));
    cr_expect(eq(int, d.aggregation, KPI_AGG_AVG));
    cr_expect(eq(int, d.granularity, KPI_GRAN_WEEK));
    cr_expect(eq(str, d.formula, "stock / sales"));
    cr_expect(eq(int, d.tier, KPI_TIER_DIAGNOSTIC));
    cr_expect(eq(int, d.indicator, KPI_IND_LEADING));
    cr_expect(eq(str, d.parent, "cash"));
    cr_expect(eq(dbl, d.weight, 0.5));
    cr_expect(eq(int, d.review_cadence, KPI_CADENCE_QUARTERLY));
    cr_expect(eq(int, d.visibility, KPI_VIS_PRIVATE));
    cr_assert(eq(sz, d.n_tags, 2));
    cr_expect(eq(str, d.tags[1], "supply-chain"));
    cr_expect(d.archived);
    cr_assert(eq(sz, d.n_targets, 1));
    cr_expect(eq(dbl, d.targets[0].low, 30));
    cr_expect(eq(dbl, d.targets[0].high, 45));
    cr_expect(eq(i64, d.targets[0].day, DAY(2026, 12, 31)));
    cr_expect(eq(dbl, d.targets[0].at_risk_pct, KPI_AT_RISK_PCT_DEFAULT));
    kpi_def_clear(&d);
}

Test(parse_def, numbers_nulls_and_read_only_fields)
{
    /* Integral reals for decimals, integers for weight, null for optional texts and tags, an
     * empty string clearing a text, read-only fields ignored, no key (PUT takes it from the path). */
    struct kpi_def d = parse_ok("{\"id\":7,\"created_at\":\"2026-01-01T00:00:00Z\",\"updated_at\":null,\"name\":\"N\","
                                "\"decimals\":2.0,\"weight\":3,\"unit\":null,\"owner\":\"\",\"tags\":null,\"targets\":[]}",
                                NULL, NULL);
    cr_expect(eq(str, d.key, ""));
    cr_expect(eq(int, d.decimals, 2));
    cr_expect(eq(dbl, d.weight, 3));
    cr_expect(eq(ptr, d.unit, NULL));
    cr_expect(eq(ptr, d.owner, NULL));
    cr_expect(eq(sz, d.n_tags, 0));
    cr_expect(eq(i64, d.id, 0));
    kpi_def_clear(&d);
}

Test(parse_def, targets_are_sorted_by_date)
{
    struct kpi_def d =
        parse_ok("{\"key\":\"a\",\"name\":\"A\",\"targets\":[{\"baseline\":1,\"baseline_date\":\"2027-01-01\",\"value\":2,"
                 "\"date\":\"2027-12-31\",\"at_risk_pct\":5}," T_UP "]}",
                 NULL, NULL);
    cr_assert(eq(sz, d.n_targets, 2));
    cr_expect(eq(i64, d.targets[0].day, DAY(2026, 12, 31)));
    cr_expect(eq(i64, d.targets[1].day, DAY(2027, 12, 31)));
    cr_expect(eq(dbl, d.targets[1].at_risk_pct, 5));
    kpi_def_clear(&d);
}

/* ---- definitions: every class of error ---- */

struct error_case {
    const char *body;
    const char *want; /* a substring of the message */
};

#define K "\"key\":\"mrr\",\"name\":\"MRR\","
#define RANGE K "\"direction\":\"range\","
#define TGT(fields) "{" K "\"targets\":[{" fields "}]}"
#define BASE "\"baseline\":1,\"baseline_date\":\"2026-01-01\","

static const struct error_case def_errors[] = {
    /* Not JSON, or not an object. */
    {"", "line 1, column 1: "},
    {"{", "line 1, column 1: string or '}' expected near end of file"},
    {"{\"name\":\"x\",}", "line 1, column 13: "},
    {"\n  {\"name\": tru}", "line 2, column 14: invalid token near 'tru'"},
    {"{\"name\":\"a\",\"name\":\"b\"}", "line 1, column 18: duplicate object key near '\"name\"'"},
    {"{\"name\":\"a\"} x", "line 1, column 14: end of file expected"},
    {"{\"name\":\"\\u0000\"}", "line 1, column "},
    {"{\"weight\":1e999}", "line 1, column 15: real number overflow"},
    {"[1]", "expected a KPI definition (a JSON object such as {\"key\": \"mrr\", \"name\": \"MRR\"}), found an array"},
    {"42", "found a number"},
    /* Unknown fields. */
    {"{" K "\"goal\":1}", "unknown field 'goal' (expected key, name, description, unit, format, decimals, direction, aggregation, "
                          "granularity, formula, tier, indicator, owner, team, parent, weight, review_cadence, visibility, tags, "
                          "archived or targets)"},
    {"{" K "\"Key\":1}", "unknown field 'Key'"},
    /* Types. */
    {"{" K "\"decimals\":\"2\"}", "decimals: expected an integer, found a string"},
    {"{" K "\"decimals\":2.5}", "decimals: expected an integer, found a fractional number"},
    {"{" K "\"decimals\":null}", "decimals: expected an integer, found null"},
    {"{" K "\"weight\":\"1\"}", "weight: expected a number, found a string"},
    {"{" K "\"archived\":\"yes\"}", "archived: expected true or false, found a string"},
    {"{" K "\"archived\":1}", "archived: expected true or false, found a number"},
    {"{" K "\"format\":null}", "format: expected a string, found null"},
    {"{" K "\"granularity\":3}", "granularity: expected a string, found a number"},
    {"{" K "\"description\":[\"x\"]}", "description: expected a string or null, found an array"},
    {"{\"key\":null,\"name\":\"x\"}", "key: expected a string, found null"},
    {"{" K "\"tags\":\"a,b\"}", "tags: expected an array of strings such as [\"saas\", \"revenue\"], found a string"},
    {"{" K "\"tags\":[\"a\",1]}", "tags[1]: expected a string, found a number"},
    /* Values, checked by the model's field table. */
    {"{" K "\"decimals\":11}", "decimals: expected a whole number from 0 to 10, got '11'"},
    {"{" K "\"decimals\":-1}", "decimals: expected a whole number from 0 to 10, got '-1'"},
    {"{" K "\"weight\":-1}", "weight: expected a number from 0 to 1000000, got '-1'"},
    {"{" K "\"weight\":1e7}", "weight: expected a number from 0 to 1000000"},
    {"{" K "\"granularity\":\"fortnight\"}", "granularity: unknown value 'fortnight' (expected day, week, month, quarter or year)"},
    {"{" K "\"review_cadence\":\"daily\"}", "review_cadence: unknown value 'daily' (expected weekly, monthly or quarterly)"},
    {"{\"key\":\"Bad\",\"name\":\"x\"}", "key: 'Bad' is not a valid key"},
    {"{" K "\"parent\":\"Bad\"}", "parent: 'Bad' is not a valid KPI key"},
    {"{" K "\"parent\":\"mrr\"}", "parent: a KPI cannot be its own parent"},
    {"{" K "\"unit\":\"123456789012345678901234567890123\"}", "unit: must be at most 32 bytes (got 33)"},
    {"{\"key\":\"mrr\",\"name\":\"a\\u0001b\"}", "name: must not contain control characters"},
    {"{\"key\":\"mrr\",\"name\":\"a\\nb\"}", "name: must not contain control characters"},
    {"{" K "\"tags\":[\"ok\",\"bad tag\"]}", "tags[1]: 'bad tag' may only hold letters, digits and _ - . : /"},
    {"{" K "\"tags\":[\"\"]}", "tags[0]: each tag must be 1 to 64 bytes"},
    {"{\"key\":\"mrr\"}", "name: is required"},
    {"{\"key\":\"mrr\",\"name\":null}", "name: is required"},
    {"{\"key\":\"mrr\",\"name\":\"\"}", "name: is required"},
    /* Targets. */
    {"{" K "\"targets\":{}}", "targets: expected an array of targets ([] for none), found an object"},
    {"{" K "\"targets\":null}", "targets: expected an array of targets ([] for none), found null"},
    {"{" K "\"targets\":[1]}", "targets[0]: expected a target (an object such as"},
    {TGT(BASE "\"value\":2,\"date\":\"2026-12-31\",\"goal\":3"),
     "targets[0]: unknown field 'goal' (expected baseline, baseline_date, value, low, high, date or at_risk_pct)"},
    {"{" K "\"targets\":[" T_UP "," T_UP "]}", "targets[1].date: targets[0] already ends on 2026-12-31"},
    {"{" K "\"targets\":[" T_UP ",{" BASE "\"value\":2,\"date\":\"2027-12-31\"},{" BASE "\"value\":2,\"date\":\"x\"}]}",
     "targets[2].date: 'x' is not a date (YYYY-MM-DD)"},
    {TGT("\"baseline_date\":\"2026-01-01\",\"value\":2,\"date\":\"2026-12-31\""), "targets[0].baseline: is required"},
    {TGT("\"baseline\":1,\"value\":2,\"date\":\"2026-12-31\""), "targets[0].baseline_date: is required"},
    {TGT(BASE "\"value\":2"), "targets[0].date: is required"},
    {TGT(BASE "\"date\":\"2026-12-31\""), "targets[0].value: is required"},
    {TGT(BASE "\"value\":2,\"low\":1,\"date\":\"2026-12-31\""),
     "targets[0].low: only for a range KPI (direction: range); give value"},
    {"{" RANGE "\"targets\":[{" BASE "\"value\":2,\"date\":\"2026-12-31\"}]}",
     "targets[0].value: not used by a range KPI (give low and high)"},
    {"{" RANGE "\"targets\":[{" BASE "\"low\":2,\"date\":\"2026-12-31\"}]}", "targets[0].high: is required for a range KPI"},
    {"{" RANGE "\"targets\":[{" BASE "\"low\":5,\"high\":2,\"date\":\"2026-12-31\"}]}",
     "targets[0].low: must not be greater than high"},
    {TGT(BASE "\"value\":\"2\",\"date\":\"2026-12-31\""), "targets[0].value: expected a number, found a string"},
    {TGT(BASE "\"value\":2,\"date\":null"), "targets[0].date: expected a date (YYYY-MM-DD), found null"},
    {TGT(BASE "\"value\":2,\"date\":\"2025-12-31\""), "targets[0].date: must be after baseline_date (2026-01-01)"},
    {TGT(BASE "\"value\":2,\"date\":\"2026-02-30\""), "targets[0].date: '2026-02-30' is not a date (YYYY-MM-DD)"},
    {TGT(BASE "\"value\":2,\"date\":\"2026-12-31\",\"at_risk_pct\":2000"), "targets[0].at_risk_pct: must be from 0 to 1000"},
    {TGT(BASE "\"value\":2,\"date\":\"2026-12-31\",\"at_risk_pct\":-1"), "targets[0].at_risk_pct: must be from 0 to 1000"},
};

static void check_error(const char *what, int r, const struct kpi_diag *diag, const char *body, const char *want)
{
    cr_expect(eq(int, r, -EINVAL), "%s %s: returned %d", what, body, r);
    cr_expect(strstr(diag->msg, want) != NULL, "%s %s:\n  got  %s\n  want %s", what, body, diag->msg, want);
}

Test(parse_def, every_error_class_names_the_field)
{
    for (size_t i = 0; i < sizeof(def_errors) / sizeof(def_errors[0]); i++) {
        const struct error_case *c = &def_errors[i];
        struct kpi_def d;
        memset(&d, 0xab, sizeof(d));
        struct kpi_diag diag = {""};
        bool has = true;
        int r = kpi_json_parse_def(c->body, strlen(c->body), NULL, &d, &has, &diag);
        check_error("def", r, &diag, c->body, c->want);
        /* Nothing was written to the outputs. */
        cr_expect(eq(u8, ((unsigned char *)&d)[0], 0xab), "%s: output written", c->body);
        cr_expect(has, "%s: has_targets written", c->body);
    }
}

Test(parse_def, at_most_100_targets_and_1_mib)
{
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 22);
    kpi_buf_adds(&b, "{" K "\"targets\":[");
    for (int i = 0; i <= KPI_TARGETS_MAX; i++)
        kpi_buf_printf(&b, "%s{" BASE "\"value\":2,\"date\":\"%d-12-31\"}", i ? "," : "", 2026 + i);
    kpi_buf_adds(&b, "]}");
    struct kpi_def d;
    struct kpi_diag diag = {""};
    int r = kpi_json_parse_def(kpi_buf_str(&b), b.len, NULL, &d, NULL, &diag);
    check_error("def", r, &diag, "101 targets", "targets: at most 100 per KPI (got 101)");

    kpi_buf_reset(&b);
    kpi_buf_adds(&b, "{" K "\"description\":\"");
    for (int i = 0; i < (1 << 20); i++)
        kpi_buf_addc(&b, 'x');
    kpi_buf_adds(&b, "\"}");
    r = kpi_json_parse_def(kpi_buf_str(&b), b.len, NULL, &d, NULL, &diag);
    cr_expect(eq(int, r, -E2BIG));
    cr_expect(eq(str, diag.msg, "the body is larger than 1024 KiB"));
    kpi_buf_free(&b);
}

/* ---- definitions: PATCH on a base ---- */

static struct kpi_def base_def(void)
{
    return parse_ok("{\"key\":\"mrr\",\"name\":\"MRR\",\"unit\":\"EUR\",\"decimals\":1,\"tags\":[\"saas\"],\"owner\":\"ana\","
                    "\"targets\":[" T_UP "]}",
                    NULL, NULL);
}

Test(parse_def, patch_changes_only_given_fields)
{
    struct kpi_def base = base_def();
    base.id = 12;
    base.created_ms = 1000;
    bool has = true;
    struct kpi_def d = parse_ok("{\"unit\":null,\"decimals\":2,\"tags\":[\"a\",\"b\"]}", &base, &has);
    cr_expect(not(has));
    cr_expect(eq(ptr, d.unit, NULL));
    cr_expect(eq(int, d.decimals, 2));
    cr_assert(eq(sz, d.n_tags, 2));
    cr_expect(eq(str, d.owner, "ana"));
    cr_expect(eq(str, d.key, "mrr"));
    cr_expect(eq(i64, d.id, 12));
    cr_expect(eq(i64, d.created_ms, 1000));
    cr_expect(eq(sz, d.n_targets, 1));
    kpi_def_clear(&d);

    /* An empty patch is the base itself; targets: [] removes them. */
    d = parse_ok("{}", &base, &has);
    cr_expect(kpi_def_equal(&d, &base));
    kpi_def_clear(&d);
    d = parse_ok("{\"targets\":[]}", &base, &has);
    cr_expect(has);
    cr_expect(eq(sz, d.n_targets, 0));
    kpi_def_clear(&d);
    /* down keeps the meaning of value; range does not without new targets. */
    d = parse_ok("{\"direction\":\"down\"}", &base, &has);
    cr_expect(eq(sz, d.n_targets, 1));
    kpi_def_clear(&d);
    d = parse_ok("{\"direction\":\"range\",\"targets\":[" T_RANGE "]}", &base, &has);
    cr_expect(eq(dbl, d.targets[0].high, 45));
    kpi_def_clear(&d);

    static const struct error_case patch_errors[] = {
        {"{\"direction\":\"range\"}",
         "direction: changing it from up to range makes the KPI's targets meaningless; give new targets with the change"},
        {"{\"name\":null}", "name: is required"},
        {"{\"parent\":\"mrr\"}", "parent: a KPI cannot be its own parent"},
        {"{\"targets\":[" T_RANGE "]}", "targets[0].low: only for a range KPI"},
    };
    for (size_t i = 0; i < sizeof(patch_errors) / sizeof(patch_errors[0]); i++) {
        struct kpi_diag diag = {""};
        int r = kpi_json_parse_def(patch_errors[i].body, strlen(patch_errors[i].body), &base, &d, NULL, &diag);
        check_error("patch", r, &diag, patch_errors[i].body, patch_errors[i].want);
    }
    kpi_def_clear(&base);
}

/* ---- definitions: round trip ---- */

struct field_value {
    const char *field, *value;
};

/* Definitions like those of `kpi demo`: every format, direction and tier, formulas, cascades,
 * owners with e-mail addresses, multi-line and non-ASCII text, successive and range targets. */
struct demo_def {
    struct field_value fields[21];
    struct kpi_target targets[3];
};

static const struct demo_def demo_defs[] = {
    {{{"key", "mrr"},
      {"name", "Monthly recurring revenue"},
      {"description", "Sum of the monthly value\nof active subscriptions."},
      {"unit", "EUR"},
      {"format", "currency"},
      {"aggregation", "last"},
      {"tier", "north_star"},
      {"owner", "Lukas Brandt <lukas.brandt@acme-analytics.example>"},
      {"team", "finance"},
      {"review_cadence", "weekly"},
      {"tags", "saas,revenue"}},
     {{0, 1.2e6, 20454, 1.5e6, 20818, 0, 0, 10}, {0, 1.5e6, 20819, 2.1e6, 21183, 0, 0, 7.5}}},
    {{{"key", "churn_rate"},
      {"name", "Logo churn rate"},
      {"unit", "%"},
      {"format", "percent"},
      {"decimals", "2"},
      {"direction", "down"},
      {"aggregation", "avg"},
      {"tier", "strategic"},
      {"indicator", "leading"},
      {"owner", "tom.becker@acme-analytics.example"},
      {"team", "customer_success"},
      {"parent", "mrr"},
      {"weight", "0.1"}},
     {{0, 2.4, 20454, 1.8, 20818, 0, 0, 0}}},
    {{{"key", "ltv_cac"},
      {"name", "LTV / CAC"},
      {"formula", "ltv / cac"},
      {"decimals", "1"},
      {"granularity", "quarter"},
      {"tier", "strategic"},
      {"review_cadence", "quarterly"},
      {"visibility", "team"},
      {"team", "marketing"}},
     {{0}}},
    {{{"key", "api_latency_p95"},
      {"name", "API latency p95 \xe2\x80\x94 \xc3\xa9t\xc3\xa9 \xf0\x9f\x9a\x80"},
      {"unit", "ms"},
      {"format", "duration"},
      {"direction", "range"},
      {"aggregation", "max"},
      {"granularity", "week"},
      {"tier", "diagnostic"},
      {"visibility", "private"},
      {"weight", "1000000"},
      {"tags", "eng,sla:gold,a/b.c_d-e"},
      {"archived", "true"}},
     {{0, 180, 20454, 0, 20818, 100, 200, 25}, {0, 0.1, 20000, 0, 20100, -1e-300, 1e300, 0}}},
    {{{"key", "nps"},
      {"name", "Net promoter score \"NPS\" (quarterly)"},
      {"description", "\ttabbed\n\n  and \\ backslash"},
      {"formula", "(promoters - detractors) / responses * 100"},
      {"aggregation", "count"},
      {"granularity", "day"},
      {"decimals", "10"},
      {"weight", "0"}},
     {{0, -5, 20454, 0.1 + 0.2, 20455, 0, 0, 1000}}},
};

static struct kpi_def build_demo_def(const struct demo_def *spec)
{
    struct kpi_def d;
    kpi_def_init(&d);
    struct kpi_diag diag = {""};
    for (size_t i = 0; i < 21 && spec->fields[i].field; i++)
        cr_assert(eq(int, kpi_def_set_field(&d, spec->fields[i].field, spec->fields[i].value, &diag), 0), "%s", diag.msg);
    for (size_t i = 0; i < 3 && spec->targets[i].day; i++)
        cr_assert(eq(int, kpi_def_set_target(&d, &spec->targets[i], &diag), 0), "%s", diag.msg);
    d.id = 42;
    d.created_ms = 1767225600000;
    d.updated_ms = 1767225600123;
    return d;
}

Test(parse_def, round_trip_of_demo_like_definitions)
{
    for (size_t i = 0; i < sizeof(demo_defs) / sizeof(demo_defs[0]); i++) {
        struct kpi_def d = build_demo_def(&demo_defs[i]);
        for (int style = 0; style < 2; style++) {
            struct kpi_buf b;
            kpi_buf_init(&b, 1 << 20);
            cr_assert(eq(int, kpi_json_def(&b, &d, style ? KPI_JSON_PRETTY : KPI_JSON_COMPACT), 0));
            bool has = false;
            struct kpi_def again = parse_ok(kpi_buf_str(&b), NULL, &has);
            cr_expect(kpi_def_equal(&d, &again), "%s differs after emit and parse:\n%s", d.key, kpi_buf_str(&b));
            cr_expect(has);
            kpi_def_clear(&again);
            /* The same body as a patch of any other definition gives the same definition. */
            struct kpi_def other = build_demo_def(&demo_defs[(i + 1) % (sizeof(demo_defs) / sizeof(demo_defs[0]))]);
            again = parse_ok(kpi_buf_str(&b), &other, NULL);
            cr_expect(kpi_def_equal(&d, &again), "%s differs as a patch:\n%s", d.key, kpi_buf_str(&b));
            kpi_def_clear(&again);
            kpi_def_clear(&other);
            kpi_buf_free(&b);
        }
        kpi_def_clear(&d);
    }
}

/* ---- targets ---- */

Test(parse_targets, array_object_and_empty)
{
    struct kpi_target *t = NULL;
    size_t n = 9;
    struct kpi_diag diag = {""};
    const char *body = "[" T_UP ",{\"baseline\":1,\"baseline_date\":\"2020-01-01\",\"value\":0,\"date\":\"2020-06-30\"}]";
    cr_assert(eq(int, kpi_json_parse_targets(body, strlen(body), KPI_DIR_DOWN, &t, &n, &diag), 0), "%s", diag.msg);
    cr_assert(eq(sz, n, 2));
    cr_expect(eq(i64, t[0].day, DAY(2026, 12, 31)));
    cr_expect(eq(dbl, t[0].value, 150));
    cr_expect(eq(i64, t[1].baseline_day, DAY(2020, 1, 1)));
    free(t);

    cr_assert(eq(int, kpi_json_parse_targets(T_RANGE, strlen(T_RANGE), KPI_DIR_RANGE, &t, &n, &diag), 0), "%s", diag.msg);
    cr_assert(eq(sz, n, 1));
    cr_expect(eq(dbl, t[0].low, 30));
    free(t);

    cr_assert(eq(int, kpi_json_parse_targets(" [ ] ", 5, KPI_DIR_UP, &t, &n, &diag), 0));
    cr_expect(eq(sz, n, 0));
    cr_expect(eq(ptr, t, NULL));
}

Test(parse_targets, errors)
{
    static const struct {
        enum kpi_direction dir;
        const char *body, *want;
    } cases[] = {
        {KPI_DIR_UP, "\"x\"", "expected a target object or an array of targets, found a string"},
        {KPI_DIR_UP, "[" T_UP, "line 1, column "},
        {KPI_DIR_UP, T_RANGE, "low: only for a range KPI (direction: range); give value"},
        {KPI_DIR_RANGE, T_UP, "value: not used by a range KPI (give low and high)"},
        {KPI_DIR_UP, "{\"baseline\":1,\"baseline_date\":\"2026-01-01\",\"value\":2,\"date\":\"x\"}", "date: 'x' is not a date"},
        {KPI_DIR_UP, "{\"baseline\":1,\"baseline_date\":\"2026-01-01\",\"value\":2,\"date\":\"2025-01-01\"}",
         "date: must be after baseline_date (2026-01-01)"},
        {KPI_DIR_UP, "{\"goal\":1}",
         "unknown field 'goal' (expected baseline, baseline_date, value, low, high, date or at_risk_pct)"},
        {KPI_DIR_UP, "[" T_UP ",{\"value\":1}]", "targets[1].baseline: is required"},
        {KPI_DIR_UP, "[" T_UP ",[]]", "targets[1]: expected a target"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kpi_target *t = (struct kpi_target *)&cases[i];
        size_t n = 77;
        struct kpi_diag diag = {""};
        int r = kpi_json_parse_targets(cases[i].body, strlen(cases[i].body), cases[i].dir, &t, &n, &diag);
        check_error("targets", r, &diag, cases[i].body, cases[i].want);
        cr_expect(eq(ptr, t, (void *)&cases[i]));
        cr_expect(eq(sz, n, 77));
    }
    /* The bare message of a single target has no "targets[0]" prefix. */
    struct kpi_target *t;
    size_t n;
    struct kpi_diag diag = {""};
    const char *body = "{\"baseline\":1,\"baseline_date\":\"2026-01-01\",\"date\":\"2026-12-31\"}";
    cr_expect(eq(int, kpi_json_parse_targets(body, strlen(body), KPI_DIR_UP, &t, &n, &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "value: is required"));
}

/* ---- organisation ---- */

Test(parse_org, fields_and_round_trip)
{
    struct kpi_org base = {"Acme", "UTC", 1}, org;
    struct kpi_diag diag = {""};
    const char *body = "{\"timezone\":\"Europe/Paris\"}";
    cr_assert(eq(int, kpi_json_parse_org(body, strlen(body), &base, &org, &diag), 0), "%s", diag.msg);
    cr_expect(eq(str, org.name, "Acme"));
    cr_expect(eq(str, org.timezone, "Europe/Paris"));
    cr_expect(eq(int, org.fiscal_year_start, 1));

    body = "{\"name\":\"Acme Analytics GmbH\",\"fiscal_year_start\":4}";
    cr_assert(eq(int, kpi_json_parse_org(body, strlen(body), &org, &org, &diag), 0), "%s", diag.msg);
    cr_expect(eq(str, org.name, "Acme Analytics GmbH"));
    cr_expect(eq(str, org.timezone, "Europe/Paris"));
    cr_expect(eq(int, org.fiscal_year_start, 4));

    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 16);
    cr_assert(eq(int, kpi_json_org(&b, &org, KPI_JSON_PRETTY), 0));
    struct kpi_org again;
    cr_assert(eq(int, kpi_json_parse_org(kpi_buf_str(&b), b.len, &base, &again, &diag), 0), "%s", diag.msg);
    cr_expect(eq(str, again.name, org.name));
    cr_expect(eq(str, again.timezone, org.timezone));
    cr_expect(eq(int, again.fiscal_year_start, org.fiscal_year_start));
    kpi_buf_free(&b);

    cr_assert(eq(int, kpi_json_parse_org("{}", 2, NULL, &again, &diag), 0));
    cr_expect(eq(str, again.name, "My organisation"));
    cr_expect(eq(str, again.timezone, "UTC"));
    cr_expect(eq(int, again.fiscal_year_start, 1));
}

Test(parse_org, errors)
{
    static const struct error_case cases[] = {
        {"{\"timezone\":\"Mars/Olympus_Mons\"}",
         "timezone: unknown time zone 'Mars/Olympus_Mons' (an IANA name such as Europe/Paris)"},
        {"{\"timezone\":\"../etc/passwd\"}", "timezone: '../etc/passwd' is not a usable time zone"},
        {"{\"timezone\":\"Europe/Paris_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
         "timezone: must be at most 64 bytes"},
        {"{\"timezone\":1}", "timezone: expected a string such as \"Europe/Paris\", found a number"},
        {"{\"fiscal_year_start\":13}", "fiscal_year_start: expected a month number from 1 to 12, got 13"},
        {"{\"fiscal_year_start\":0}", "fiscal_year_start: expected a month number from 1 to 12, got 0"},
        {"{\"fiscal_year_start\":\"4\"}", "fiscal_year_start: expected a month number from 1 to 12, found a string"},
        {"{\"fiscal_year_start\":4.5}", "fiscal_year_start: expected a month number from 1 to 12, found a fractional number"},
        {"{\"name\":\"\"}", "name: must not be empty"},
        {"{\"name\":null}", "name: expected a string, found null"},
        {"{\"name\":\"a\\tb\"}", "name: must not contain control characters"},
        {"{\"currency\":\"EUR\"}", "unknown field 'currency' (expected name, timezone or fiscal_year_start)"},
        {"[]", "expected the organisation settings"},
        {"{\"name\":}", "line 1, column 9: "},
    };
    struct kpi_org base = {"Acme", "UTC", 1};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kpi_org org = {"untouched", "untouched", 99};
        struct kpi_diag diag = {""};
        int r = kpi_json_parse_org(cases[i].body, strlen(cases[i].body), &base, &org, &diag);
        check_error("org", r, &diag, cases[i].body, cases[i].want);
        cr_expect(eq(str, org.name, "untouched"));
        cr_expect(eq(int, org.fiscal_year_start, 99));
    }
}

/* ---- reviews, annotations, actions, names ---- */

Test(parse_review, full_body)
{
    const char *body = "{\"date\":\"2026-03-02\",\"note\":\"Churn is up.\\nPricing?\",\"author\":\"Maria\",\"team\":\"finance\","
                       "\"actions\":[{\"text\":\"Call the top 10 churned\",\"owner\":\"Tom\",\"due\":\"2026-03-16\"},"
                       "{\"text\":\"Review pricing\",\"due\":null}]}";
    struct kpi_review rv;
    struct kpi_action *a;
    size_t n;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_json_parse_review(body, strlen(body), &rv, &a, &n, &diag), 0), "%s", diag.msg);
    cr_expect(eq(i64, rv.day, DAY(2026, 3, 2)));
    cr_expect(eq(str, rv.note, "Churn is up.\nPricing?"));
    cr_expect(eq(str, rv.author, "Maria"));
    cr_expect(eq(str, rv.team, "finance"));
    cr_expect(eq(str, rv.kpi, ""));
    cr_expect(eq(i64, rv.id, 0));
    cr_assert(eq(sz, n, 2));
    cr_expect(eq(str, a[0].text, "Call the top 10 churned"));
    cr_expect(eq(str, a[0].owner, "Tom"));
    cr_expect(eq(i64, a[0].due_day, DAY(2026, 3, 16)));
    cr_expect(eq(ptr, a[1].owner, NULL));
    cr_expect(eq(i64, a[1].due_day, INT64_MIN));
    free(rv.note);
    free(rv.author);
    free(rv.team);
    kpi_store_actions_free(a, n);

    /* Only the note is required: no date means today (INT64_MIN), no actions. */
    body = "{\"note\":\"ok\"}";
    cr_assert(eq(int, kpi_json_parse_review(body, strlen(body), &rv, &a, &n, &diag), 0), "%s", diag.msg);
    cr_expect(eq(i64, rv.day, INT64_MIN));
    cr_expect(eq(ptr, rv.author, NULL));
    cr_expect(eq(ptr, rv.team, NULL));
    cr_expect(eq(sz, n, 0));
    cr_expect(eq(ptr, a, NULL));
    free(rv.note);
}

Test(parse_review, errors)
{
    struct kpi_buf many;
    kpi_buf_init(&many, 1 << 16);
    kpi_buf_adds(&many, "{\"note\":\"n\",\"actions\":[");
    for (int i = 0; i <= KPI_ACTIONS_PER_REVIEW_MAX; i++)
        kpi_buf_printf(&many, "%s{\"text\":\"t%d\"}", i ? "," : "", i);
    kpi_buf_adds(&many, "]}");
    char long_owner[KPI_OWNER_MAX + 40];
    snprintf(long_owner, sizeof(long_owner), "{\"note\":\"n\",\"author\":\"%0*d\"}", KPI_OWNER_MAX + 1, 0);
    const struct error_case cases[] = {
        {"{}", "note: is required"},
        {"{\"note\":\"\"}", "note: must not be empty"},
        {"{\"note\":null}", "note: expected a string, found null"},
        {"{\"note\":\"n\",\"kpi\":\"mrr\"}", "unknown field 'kpi' (expected date, note, author, team or actions)"},
        {"{\"note\":\"n\",\"date\":\"2026-13-01\"}", "date: '2026-13-01' is not a date (YYYY-MM-DD)"},
        {"{\"note\":\"n\",\"date\":20260301}", "date: expected a date (YYYY-MM-DD), found a number"},
        {"{\"note\":\"n\",\"team\":\"a\\u0007\"}", "team: must not contain control characters"},
        {long_owner, "author: must be at most 200 bytes (got 201)"},
        {"{\"note\":\"n\",\"actions\":{}}", "actions: expected an array of actions ([] for none), found an object"},
        {"{\"note\":\"n\",\"actions\":[\"x\"]}", "actions[0]: expected an action"},
        {"{\"note\":\"n\",\"actions\":[{\"text\":\"a\"},{\"owner\":\"b\"}]}", "actions[1].text: is required"},
        {"{\"note\":\"n\",\"actions\":[{\"text\":\"\"}]}", "actions[0].text: must not be empty"},
        {"{\"note\":\"n\",\"actions\":[{\"text\":\"a\\nb\"}]}", "actions[0].text: must not contain control characters"},
        {"{\"note\":\"n\",\"actions\":[{\"text\":\"a\",\"due\":\"soon\"}]}", "actions[0].due: 'soon' is not a date (YYYY-MM-DD)"},
        {"{\"note\":\"n\",\"actions\":[{\"text\":\"a\",\"done\":true}]}",
         "actions[0]: unknown field 'done' (expected text, owner or due)"},
        {kpi_buf_str(&many), "actions: at most 50 per review (got 51)"},
        {"{\"note\":\"n\"", "line 1, column "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kpi_review rv = {.id = -5};
        struct kpi_action *a = (struct kpi_action *)&rv;
        size_t n = 77;
        struct kpi_diag diag = {""};
        int r = kpi_json_parse_review(cases[i].body, strlen(cases[i].body), &rv, &a, &n, &diag);
        check_error("review", r, &diag, cases[i].body, cases[i].want);
        cr_expect(eq(i64, rv.id, -5));
        cr_expect(eq(ptr, a, (void *)&rv));
        cr_expect(eq(sz, n, 77));
    }
    kpi_buf_free(&many);
}

Test(parse_annotation, valid_and_errors)
{
    struct kpi_annotation a;
    struct kpi_diag diag = {""};
    const char *body = "{\"date\":\"2026-11-27\",\"text\":\"Black Friday \xf0\x9f\x9b\x92\"}";
    cr_assert(eq(int, kpi_json_parse_annotation(body, strlen(body), &a, &diag), 0), "%s", diag.msg);
    cr_expect(eq(i64, a.day, DAY(2026, 11, 27)));
    cr_expect(eq(str, a.text, "Black Friday \xf0\x9f\x9b\x92"));
    cr_expect(eq(str, a.kpi, ""));
    free(a.text);
    body = "{\"text\":\"price change\",\"date\":null}";
    cr_assert(eq(int, kpi_json_parse_annotation(body, strlen(body), &a, &diag), 0), "%s", diag.msg);
    cr_expect(eq(i64, a.day, INT64_MIN));
    free(a.text);

    char long_text[KPI_ANNOTATION_MAX + 40];
    snprintf(long_text, sizeof(long_text), "{\"text\":\"%0*d\"}", KPI_ANNOTATION_MAX + 1, 0);
    const struct error_case cases[] = {
        {"{\"date\":\"2026-01-01\"}", "text: is required"},
        {"{\"text\":\"\"}", "text: must not be empty"},
        {"{\"text\":\"a\\nb\"}", "text: must not contain control characters"},
        {long_text, "text: must be at most 1000 bytes (got 1001)"},
        {"{\"text\":\"a\",\"kpi\":\"mrr\"}", "unknown field 'kpi' (expected date or text)"},
        {"{\"text\":\"a\",\"date\":\"31/12/2026\"}", "date: '31/12/2026' is not a date (YYYY-MM-DD)"},
        {"\"a\"", "expected an annotation"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kpi_annotation out = {.id = -5};
        int r = kpi_json_parse_annotation(cases[i].body, strlen(cases[i].body), &out, &diag);
        check_error("annotation", r, &diag, cases[i].body, cases[i].want);
        cr_expect(eq(i64, out.id, -5));
    }
}

Test(parse_action_patch, valid_and_errors)
{
    bool done = false;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_json_parse_action_patch("{\"done\":true}", strlen("{\"done\":true}"), &done, &diag), 0));
    cr_expect(done);
    const char *body = " {\"done\" : false} ";
    cr_assert(eq(int, kpi_json_parse_action_patch(body, strlen(body), &done, &diag), 0));
    cr_expect(not(done));
    const struct error_case cases[] = {
        {"{}", "done: is required"},
        {"{\"done\":\"true\"}", "done: expected true or false, found a string"},
        {"{\"done\":null}", "done: expected true or false, found null"},
        {"{\"done\":true,\"text\":\"x\"}", "unknown field 'text' (expected done)"},
        {"true", "expected an action update"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        done = true;
        int r = kpi_json_parse_action_patch(cases[i].body, strlen(cases[i].body), &done, &diag);
        check_error("action", r, &diag, cases[i].body, cases[i].want);
        cr_expect(done);
    }
}

Test(parse_name, valid_and_errors)
{
    char name[KPI_TOKEN_NAME_MAX + 1];
    struct kpi_diag diag = {""};
    cr_assert(eq(
        int, kpi_json_parse_name("{\"name\":\"ci-bot\"}", strlen("{\"name\":\"ci-bot\"}"), "name", name, sizeof(name), &diag), 0));
    cr_expect(eq(str, name, "ci-bot"));
    const struct error_case cases[] = {
        {"{}", "name: is required"},
        {"{\"name\":\"\"}", "name: must not be empty"},
        {"{\"name\":42}", "name: expected a string, found a number"},
        {"{\"name\":\"a\",\"scope\":\"x\"}", "unknown field 'scope' (expected name)"},
        {"{\"name\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
         "name: must be at most 64 bytes (got 70)"},
        {"{\"name\":\"a\\u001bb\"}", "name: must not contain control characters"},
        {"[\"name\"]", "expected a JSON object such as {\"name\": \"...\"}, found an array"},
        {"{\"name\":\"a\",\"name\":\"b\"}", "duplicate object key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(name, "untouched", 10);
        int r = kpi_json_parse_name(cases[i].body, strlen(cases[i].body), "name", name, sizeof(name), &diag);
        check_error("name", r, &diag, cases[i].body, cases[i].want);
        cr_expect(eq(str, name, "untouched"));
    }
}

Test(parse, messages_are_utf8_and_show_no_control_characters)
{
    /* A key of 70 two-byte characters is cut on a character boundary. */
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 16);
    kpi_buf_adds(&b, "{\"");
    for (int i = 0; i < 70; i++)
        kpi_buf_adds(&b, "\xc3\xa9");
    kpi_buf_adds(&b, "\\n\":1}");
    char name[65];
    struct kpi_diag diag = {""};
    cr_expect(eq(int, kpi_json_parse_name(kpi_buf_str(&b), b.len, "name", name, sizeof(name), &diag), -EINVAL));
    cr_expect(kpi_utf8_valid(diag.msg, strlen(diag.msg)), "%s", diag.msg);
    cr_expect(strstr(diag.msg, "unknown field '\xc3\xa9") != NULL, "%s", diag.msg);
    /* jansson's quote of invalid input is made printable. */
    cr_expect(eq(int, kpi_json_parse_name("{\"name\":\"\xff\"}", 12, "name", name, sizeof(name), &diag), -EINVAL));
    cr_expect(kpi_utf8_valid(diag.msg, strlen(diag.msg)), "%s", diag.msg);
    cr_expect(strncmp(diag.msg, "line 1, column ", 15) == 0, "%s", diag.msg);
    kpi_buf_free(&b);
}

/* ---- the points reader bound to one KPI ---- */

struct mem_reader {
    const char *data;
    size_t len, pos;
};

static ssize_t mem_read(void *ctx, char *buf, size_t size)
{
    struct mem_reader *m = ctx;
    size_t n = m->len - m->pos < size ? m->len - m->pos : size;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* "L kpi at" per row and "!L message" per error. */
static char *points_transcript(const char *input, const char *fixed)
{
    struct mem_reader m = {input, strlen(input), 0};
    struct kpi_json_points *p;
    cr_assert(eq(int, kpi_json_points_new(mem_read, &m, &p), 0));
    kpi_json_points_set_kpi(p, fixed);
    struct kpi_ingest_report *rep = calloc(1, sizeof(*rep));
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 16);
    uint64_t seen = 0;
    for (;;) {
        struct kpi_ingest_row row;
        int r = kpi_json_points_next(p, &row, rep);
        cr_assert(ge(int, r, 0));
        for (; seen < rep->n_errors; seen++)
            kpi_buf_printf(&out, "!%llu %s\n", (unsigned long long)rep->errors[seen].line, rep->errors[seen].msg);
        if (r == 0)
            break;
        kpi_buf_printf(&out, "%llu %.*s %.*s\n", (unsigned long long)row.line, (int)row.kpi_len, row.kpi, (int)row.at_len, row.at);
    }
    free(rep);
    kpi_json_points_free(p);
    return kpi_buf_take(&out);
}

Test(points_set_kpi, items_may_omit_the_routes_kpi)
{
    const char *input = "[{\"at\":\"2026-01-31\",\"value\":1},{\"kpi\":\"mrr\",\"at\":\"2026-02-28\",\"value\":2},"
                        "{\"kpi\":\"arr\",\"at\":\"2026-03-31\",\"value\":3},{\"kpi\":7,\"at\":\"2026-04-30\",\"value\":4}]";
    char *got = points_transcript(input, "mrr");
    cr_expect(eq(str, got,
                 "1 mrr 2026-01-31\n2 mrr 2026-02-28\n"
                 "!3 kpi: this route takes points of mrr only; use POST /api/v1/points\n"
                 "!4 kpi: expected a string, found a number\n"));
    free(got);
    /* Without a fixed KPI (or after resetting it with NULL) kpi is required. */
    got = points_transcript(input, NULL);
    cr_expect(eq(str, got,
                 "!1 missing field 'kpi'\n2 mrr 2026-02-28\n3 arr 2026-03-31\n"
                 "!4 kpi: expected a string, found a number\n"));
    free(got);
}
