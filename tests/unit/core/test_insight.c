/*
 * Insight sentences (core/insight.c): one case per rule, checked word for word.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "kpi/insight.h"
#include "kpi/time.h"

static struct kpi_def def(const char *key, const char *name, const char *direction, const char *format, const char *gran)
{
    struct kpi_def d;
    kpi_def_init(&d);
    kpi_def_set_key(&d, key, NULL);
    kpi_def_set_field(&d, "name", name, NULL);
    kpi_def_set_field(&d, "direction", direction, NULL);
    kpi_def_set_field(&d, "format", format, NULL);
    kpi_def_set_field(&d, "granularity", gran, NULL);
    return d;
}

static struct kpi_status_result status_in(const struct kpi_calendar *cal, enum kpi_status s, int y, int m, double value)
{
    struct kpi_status_result st;
    memset(&st, 0, sizeof(st));
    st.status = s;
    st.improving = -1;
    st.has_period = true;
    kpi_period_of_day(cal, KPI_GRAN_MONTH, kpi_days_from_civil(y, m, 1), &st.period);
    st.value = (struct kpi_opt){true, value};
    return st;
}

Test(insight, streak_with_a_missed_target)
{
    struct kpi_calendar cal = {NULL, 1};
    struct kpi_def d = def("nrr", "Net revenue retention", "up", "percent", "month");
    struct kpi_status_result st = status_in(&cal, KPI_STATUS_OFF_TRACK, 2026, 10, 104);
    st.streak = 3;
    struct kpi_target t = {.value = 110, .day = kpi_days_from_civil(2026, 12, 31)};
    struct kpi_insight_input in = {&cal, &d, &st, &t, true, 0.18};
    char buf[KPI_INSIGHT_MAX];
    cr_assert(eq(int, kpi_insight_kpi(&in, buf, sizeof(buf)), 0));
    cr_expect(
        eq(str, buf,
           "Net revenue retention fell 3 months in a row; at this pace the 2026-12-31 target of 110% will be missed (p = 0.18)."));
    kpi_def_clear(&d);
}

Test(insight, status_clauses)
{
    struct kpi_calendar cal = {NULL, 1};
    struct kpi_def d = def("churn", "Churn", "down", "percent", "month");
    kpi_def_set_field(&d, "decimals", "1", NULL);
    struct kpi_status_result st = status_in(&cal, KPI_STATUS_AT_RISK, 2026, 3, 4.7);
    st.expected = (struct kpi_opt){true, 4.51};
    struct kpi_insight_input in = {&cal, &d, &st, NULL, false, 0};
    char buf[KPI_INSIGHT_MAX];
    kpi_insight_kpi(&in, buf, sizeof(buf));
    cr_expect(eq(str, buf, "Churn is at risk (4.7% against 4.5% expected for 2026-03)."));
    st.status = KPI_STATUS_NO_TARGET;
    st.stale = true;
    kpi_insight_kpi(&in, buf, sizeof(buf));
    cr_expect(eq(str, buf, "Churn is 4.7% in 2026-03 and has no target. Data is stale: the last complete month has no data."));
    st.status = KPI_STATUS_NO_DATA;
    kpi_insight_kpi(&in, buf, sizeof(buf));
    cr_expect(eq(str, buf, "Churn has no data yet."));
    st = status_in(&cal, KPI_STATUS_OFF_TRACK, 2026, 3, 6);
    st.streak = 2;
    kpi_insight_kpi(&in, buf, sizeof(buf));
    cr_expect(eq(str, buf, "Churn rose 2 months in a row."), "down KPIs get worse by rising");
    kpi_def_clear(&d);
}

Test(insight, truncates_instead_of_overflowing)
{
    struct kpi_calendar cal = {NULL, 1};
    struct kpi_def d = def("mrr", "Monthly recurring revenue", "up", "currency", "month");
    struct kpi_status_result st = status_in(&cal, KPI_STATUS_ON_TRACK, 2026, 3, 1000);
    struct kpi_insight_input in = {&cal, &d, &st, NULL, false, 0};
    char small[16];
    cr_assert(eq(int, kpi_insight_kpi(&in, small, sizeof(small)), 0));
    cr_expect(eq(str, small, "Monthly recurri"));
    kpi_def_clear(&d);
}

Test(insight, scorecard_line)
{
    struct kpi_def d[7];
    const char *keys[] = {"a", "b", "c", "d", "e", "f", "g"};
    const struct kpi_def *ptrs[7];
    for (int i = 0; i < 7; i++) {
        d[i] = def(keys[i], keys[i], "up", "number", "month");
        ptrs[i] = &d[i];
    }
    enum kpi_status s[7] = {KPI_STATUS_ON_TRACK,  KPI_STATUS_AT_RISK,  KPI_STATUS_OFF_TRACK, KPI_STATUS_OFF_TRACK,
                            KPI_STATUS_NO_TARGET, KPI_STATUS_ON_TRACK, KPI_STATUS_NO_DATA};
    char buf[KPI_INSIGHT_MAX];
    cr_assert(eq(int, kpi_insight_scorecard(ptrs, s, 7, buf, sizeof(buf)), 0));
    cr_expect(eq(str, buf, "7 KPIs: 2 on track, 1 at risk (b), 2 off track (c, d), 1 without target, 1 without data."));
    for (int i = 0; i < 7; i++)
        kpi_def_clear(&d[i]);
}
