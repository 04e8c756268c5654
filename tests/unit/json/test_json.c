/*
 * JSON output of the model (json/json.c): field names and order of DESIGN.md, escaping, numbers in
 * their shortest round-trip form, targets of up/down and range KPIs, and series rows with null
 * values and reasons.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "json/json.h"
#include "kpi/status.h"
#include "kpi/time.h"

static struct kpi_def make_def(const char *key, const char *direction)
{
    struct kpi_def d;
    kpi_def_init(&d);
    cr_assert(eq(int, kpi_def_set_key(&d, key, NULL), 0));
    cr_assert(eq(int, kpi_def_set_field(&d, "name", "Caf\xc3\xa9 \"quoted\"", NULL), 0));
    cr_assert(eq(int, kpi_def_set_field(&d, "description", "line\n\ttab", NULL), 0));
    cr_assert(eq(int, kpi_def_set_field(&d, "direction", direction, NULL), 0));
    cr_assert(eq(int, kpi_def_set_field(&d, "weight", "0.1", NULL), 0));
    return d;
}

Test(json, def_escapes_and_shortest_numbers)
{
    struct kpi_def d = make_def("mrr", "up");
    struct kpi_target t = {.baseline = 100,
                           .baseline_day = kpi_days_from_civil(2026, 1, 1),
                           .value = 150.5,
                           .day = kpi_days_from_civil(2026, 12, 31),
                           .at_risk_pct = 10};
    cr_assert(eq(int, kpi_def_set_target(&d, &t, NULL), 0));
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 16);
    cr_assert(eq(int, kpi_json_def(&b, &d, KPI_JSON_COMPACT), 0));
    const char *s = kpi_buf_str(&b);
    cr_expect(strstr(s, "{\"key\":\"mrr\",\"name\":\"Caf\xc3\xa9 \\\"quoted\\\"\",\"description\":\"line\\n\\ttab\",") == s, "%s",
              s);
    cr_expect(strstr(s, "\"weight\":0.1,") != NULL, "%s", s);
    cr_expect(strstr(s, "\"targets\":[{\"baseline\":100,\"baseline_date\":\"2026-01-01\",\"value\":150.5,"
                        "\"date\":\"2026-12-31\",\"at_risk_pct\":10}]") != NULL,
              "%s", s);
    cr_expect(strstr(s, "\"formula\":null") != NULL, "%s", s);
    kpi_buf_free(&b);
    kpi_def_clear(&d);
}

Test(json, range_targets_have_low_and_high)
{
    struct kpi_def d = make_def("inventory_days", "range");
    struct kpi_target t = {.baseline = 40,
                           .baseline_day = kpi_days_from_civil(2026, 1, 1),
                           .low = 30,
                           .high = 45,
                           .day = kpi_days_from_civil(2026, 12, 31),
                           .at_risk_pct = 10};
    cr_assert(eq(int, kpi_def_set_target(&d, &t, NULL), 0));
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 16);
    cr_assert(eq(int, kpi_json_targets(&b, &d, KPI_JSON_COMPACT), 0));
    cr_expect(eq(str, (char *)kpi_buf_str(&b),
                 "[{\"baseline\":40,\"baseline_date\":\"2026-01-01\",\"low\":30,\"high\":45,\"date\":\"2026-12-31\","
                 "\"at_risk_pct\":10}]"));
    kpi_buf_free(&b);
    kpi_def_clear(&d);
}

Test(json, series_rows_with_nulls_and_reasons)
{
    struct kpi_calendar cal = {NULL, 1};
    struct kpi_series_row rows[2];
    cr_assert(eq(int, kpi_period_of_day(&cal, KPI_GRAN_MONTH, kpi_days_from_civil(2026, 1, 15), &rows[0].period), 0));
    cr_assert(eq(int, kpi_period_shift(&cal, &rows[0].period, 1, &rows[1].period), 0));
    rows[0].has_value = true;
    rows[0].value = 0.1 + 0.2;
    rows[0].n_points = 2;
    rows[1].has_value = false;
    rows[1].value = 0;
    rows[1].n_points = 0;
    char reasons[2][KPI_EVAL_REASON_MAX] = {"", "division by zero"};
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 16);
    cr_assert(
        eq(int, kpi_json_series(&b, &cal, "ratio", "month", rows, 2, (const char(*)[KPI_EVAL_REASON_MAX])reasons, KPI_JSON_COMPACT),
           0));
    cr_expect(
        eq(str, (char *)kpi_buf_str(&b),
           "{\"kpi\":\"ratio\",\"granularity\":\"month\",\"rows\":["
           "{\"period\":\"2026-01\",\"start\":\"2026-01-01\",\"end\":\"2026-01-31\",\"value\":0.30000000000000004,\"points\":2},"
           "{\"period\":\"2026-02\",\"start\":\"2026-02-01\",\"end\":\"2026-02-28\",\"value\":null,\"points\":0,"
           "\"reason\":\"division by zero\"}]}"));
    kpi_buf_free(&b);
}

Test(json, output_is_bounded)
{
    struct kpi_def d = make_def("mrr", "up");
    struct kpi_buf b;
    kpi_buf_init(&b, 64);
    cr_expect(eq(int, kpi_json_def(&b, &d, KPI_JSON_PRETTY), -E2BIG));
    kpi_buf_free(&b);
    kpi_def_clear(&d);
}
