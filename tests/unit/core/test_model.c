/*
 * KPI definitions (core/model.c): defaults, every field settable from text, and validation
 * messages that name the field. Table-driven: (field, value, expected error substring or NULL).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "kpi/model.h"

struct field_case {
    const char *field;
    const char *value;
    const char *error; /* substring of the diagnostic, NULL when accepted */
};

static const struct field_case field_cases[] = {
    {"name", "Monthly recurring revenue", NULL},
    {"description", "line one\nline two", NULL},
    {"name", "bad\nname", "name: must not contain control characters"},
    {"name", "Umsatz \xe2\x82\xac", NULL},
    {"name", "broken \xc3(", "name: must be valid UTF-8"},
    {"unit", "EUR", NULL},
    {"unit", "a-very-long-unit-name-that-goes-past-32", "unit: must be at most 32 bytes"},
    {"format", "currency", NULL},
    {"format", "money", "format: unknown value 'money' (expected number, percent, currency or duration)"},
    {"decimals", "2", NULL},
    {"decimals", "11", "decimals: expected a whole number from 0 to 10"},
    {"decimals", "two", "decimals: expected a whole number"},
    {"direction", "down", NULL},
    {"direction", "sideways", "direction: unknown value 'sideways' (expected up, down or range)"},
    {"aggregation", "last", NULL},
    {"aggregation", "median", "aggregation: unknown value 'median' (expected sum, avg, min, max, last, first or count)"},
    {"granularity", "quarter", NULL},
    {"granularity", "fortnight", "granularity: unknown value 'fortnight' (expected day, week, month, quarter or year)"},
    {"tier", "north_star", NULL},
    {"tier", "vanity", "tier: unknown value 'vanity'"},
    {"indicator", "leading", NULL},
    {"indicator", "trailing", "indicator: unknown value 'trailing' (expected lagging or leading)"},
    {"review_cadence", "quarterly", NULL},
    {"review_cadence", "daily", "review_cadence: unknown value 'daily' (expected weekly, monthly or quarterly)"},
    {"visibility", "private", NULL},
    {"visibility", "public", "visibility: unknown value 'public' (expected org, team or private)"},
    {"weight", "2.5", NULL},
    {"weight", "-1", "weight: expected a number from 0 to 1000000"},
    {"weight", "nan", "weight: expected a number"},
    {"parent", "arr", NULL},
    {"parent", "Bad Key", "parent: 'Bad Key' is not a valid KPI key"},
    {"tags", "saas, revenue,board", NULL},
    {"tags", "ok,not ok", "tags: 'not ok' may only hold"},
    {"archived", "true", NULL},
    {"archived", "maybe", "archived: expected true or false"},
    {"owner", "ana@example.com", NULL},
    {"colour", "red", "unknown field 'colour'"},
    {"key", "mrr_2", NULL},
    {"key", "2mrr", "key: '2mrr' is not a valid key"},
    {"key", "MRR", "key: 'MRR' is not a valid key"},
};

Test(model, set_field_table)
{
    for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
        const struct field_case *c = &field_cases[i];
        struct kpi_def d;
        kpi_def_init(&d);
        struct kpi_diag diag = {""};
        int r = kpi_def_set_field(&d, c->field, c->value, &diag);
        if (c->error) {
            cr_expect(lt(int, r, 0), "%s=%s accepted", c->field, c->value);
            cr_expect(strstr(diag.msg, c->error) != NULL, "%s=%s: got '%s', want '%s'", c->field, c->value, diag.msg, c->error);
        } else {
            cr_expect(eq(int, r, 0), "%s=%s rejected: %s", c->field, c->value, diag.msg);
        }
        kpi_def_clear(&d);
    }
}

Test(model, defaults)
{
    struct kpi_def d;
    kpi_def_init(&d);
    cr_expect(eq(int, d.format, KPI_FORMAT_NUMBER));
    cr_expect(eq(int, d.direction, KPI_DIR_UP));
    cr_expect(eq(int, d.aggregation, KPI_AGG_SUM));
    cr_expect(eq(int, d.granularity, KPI_GRAN_MONTH));
    cr_expect(eq(int, d.tier, KPI_TIER_OPERATIONAL));
    cr_expect(eq(dbl, d.weight, 1.0));
    cr_expect(eq(int, d.visibility, KPI_VIS_ORG));
    cr_expect(eq(ptr, d.formula, NULL));
}

Test(model, key_rule)
{
    char key65[66];
    memset(key65, 'a', 65);
    key65[65] = '\0';
    cr_expect(kpi_key_valid("a"));
    cr_expect(kpi_key_valid("net_revenue_retention_2"));
    cr_expect(not(kpi_key_valid(key65)));
    key65[64] = '\0';
    cr_expect(kpi_key_valid(key65));
    cr_expect(not(kpi_key_valid("")));
    cr_expect(not(kpi_key_valid("_a")));
    cr_expect(not(kpi_key_valid("a-b")));
}

Test(model, validate_requires_name_and_no_self_parent)
{
    struct kpi_def d;
    kpi_def_init(&d);
    struct kpi_diag diag = {""};
    kpi_def_set_key(&d, "mrr", NULL);
    cr_expect(eq(int, kpi_def_validate(&d, &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "name: is required"));
    kpi_def_set_field(&d, "name", "MRR", NULL);
    cr_expect(eq(int, kpi_def_validate(&d, &diag), 0));
    kpi_def_set_field(&d, "parent", "mrr", NULL);
    cr_expect(eq(int, kpi_def_validate(&d, &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "parent: a KPI cannot be its own parent"));
    kpi_def_clear(&d);
}

Test(model, copy_and_equal)
{
    struct kpi_def a, b;
    kpi_def_init(&a);
    kpi_def_set_key(&a, "nps", NULL);
    kpi_def_set_field(&a, "name", "Net promoter score", NULL);
    kpi_def_set_field(&a, "tags", "cx,survey", NULL);
    kpi_def_set_field(&a, "formula", "(promoters - detractors) / responses * 100", NULL);
    cr_assert(eq(int, kpi_def_copy(&a, &b), 0));
    cr_expect(kpi_def_equal(&a, &b));
    kpi_def_set_field(&b, "tags", "cx", NULL);
    cr_expect(not(kpi_def_equal(&a, &b)));
    kpi_def_clear(&a);
    kpi_def_clear(&b);
}
