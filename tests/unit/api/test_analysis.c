/*
 * The analysis handlers of the HTTP API (api/h_analysis.c) called directly, without a socket, on a
 * small SQLite database: a measured monthly KPI with region dims and a target, a second one whose
 * changes follow it, a derived one and one without data. Each route answers 200 with the document
 * of the CLI's emitter (compared byte for byte with store/analysis.h + json/json.h for the
 * forecast), 404 for an unknown KPI, 400 for an unknown query parameter or a malformed value, and
 * 422 for a value out of range or a KPI that cannot be analysed, the detail naming the parameter.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "json/json.h"
#include "kpi/dims.h"
#include "kpi/status.h"
#include "kpi/time.h"
#include "store/analysis.h"
#include "store/ingest.h"

#define MONTHS 34 /* 2024-01 .. 2026-10 */
#define AS_OF "2026-11-20"

static char dir[64];
static char path[128];
static struct kpi_store *store;
static struct kpi_calendar cal;

static void add_kpi(const char *key, const char *formula, const char *team, bool target)
{
    struct kpi_def d;
    kpi_def_init(&d);
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_def_set_key(&d, key, &diag), 0), "%s", diag.msg);
    cr_assert(eq(int, kpi_def_set_field(&d, "name", key, &diag), 0), "%s", diag.msg);
    cr_assert(eq(int, kpi_def_set_field(&d, "granularity", "month", &diag), 0), "%s", diag.msg);
    cr_assert(eq(int, kpi_def_set_field(&d, "aggregation", "sum", &diag), 0), "%s", diag.msg);
    if (formula)
        cr_assert(eq(int, kpi_def_set_field(&d, "formula", formula, &diag), 0), "%s", diag.msg);
    if (team)
        cr_assert(eq(int, kpi_def_set_field(&d, "team", team, &diag), 0), "%s", diag.msg);
    if (target) {
        struct kpi_target t = {0};
        t.baseline = 150;
        t.baseline_day = kpi_days_from_civil(2024, 1, 1);
        t.value = 2000;
        t.day = kpi_days_from_civil(2026, 12, 31);
        t.at_risk_pct = 10;
        cr_assert(eq(int, kpi_def_set_target(&d, &t, &diag), 0), "%s", diag.msg);
    }
    cr_assert(eq(int, kpi_store_kpi_insert(store, &d, &diag), 0), "%s", diag.msg);
    kpi_def_clear(&d);
}

static void push(const char *key, int y, int m, double value, const char *region)
{
    struct kpi_at at = {.is_date = true, .day = kpi_days_from_civil(y, m, 15)};
    struct kpi_dim dims[1] = {{"region", 6, region, region ? strlen(region) : 0}};
    struct kpi_diag diag = {""};
    int r = kpi_ingest_point(store, &cal, key, value, &at, region ? dims : NULL, region ? 1 : 0, &diag);
    cr_assert(eq(int, r, 0), "%s", diag.msg);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kpi-api-analysis-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/test.db", dir);
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_store_open_sqlite(path, true, &store, &diag), 0), "%s", diag.msg);
    cr_assert(eq(int, kpi_store_calendar(store, &cal, &diag), 0), "%s", diag.msg);
    add_kpi("sales", NULL, "growth", true);
    add_kpi("cost", NULL, "finance", false);
    add_kpi("ratio", "sales / cost", "finance", false);
    add_kpi("empty", NULL, NULL, false);
    /* Irregular monthly steps, so first differences vary; cost moves with sales' eu segment. */
    double eu = 100, us = 50;
    for (int i = 0; i < MONTHS; i++) {
        int y = 2024 + i / 12, m = i % 12 + 1;
        eu += 5 + (double)((i * 7) % 11);
        us += 2 + (double)((i * 5) % 7);
        push("sales", y, m, eu, "eu");
        push("sales", y, m, us, "us");
        push("cost", y, m, eu * 0.5 + 10, NULL);
    }
}

static void teardown(void)
{
    kpi_store_calendar_done(&cal);
    store = kpi_store_close(store);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_expect(eq(int, system(cmd), 0));
}

TestSuite(api_analysis, .init = setup, .fini = teardown);

/* Calls handler h for the KPI key (NULL: a route without {key}) with query parameters given as
 * name, value pairs ending with NULL. The caller frees res->body. */
static void call(api_handler_fn h, const char *key, struct api_response *res, ...)
{
    struct api_request req = {0};
    req.method = API_GET;
    req.path = "/api/v1/test";
    if (key) {
        req.route_params[0] = key;
        req.n_route_params = 1;
    }
    req.body = "";
    req.store = store;
    req.cal = &cal;
    va_list ap;
    va_start(ap, res);
    for (;;) {
        const char *name = va_arg(ap, const char *);
        if (!name)
            break;
        cr_assert(lt(sz, req.n_query, (size_t)API_QUERY_PARAMS_MAX));
        req.query[req.n_query].name = name;
        req.query[req.n_query].value = va_arg(ap, const char *);
        req.n_query++;
    }
    va_end(ap);
    *res = (struct api_response){0};
    kpi_buf_init(&res->body, API_RESPONSE_MAX);
    cr_assert(eq(int, h(&req, res), 0));
    cr_assert(res->content_type != NULL);
}

static const char *body(const struct api_response *res)
{
    return kpi_buf_str(&res->body);
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A problem answer with this status whose detail contains what. */
static void expect_problem(struct api_response *res, int status, const char *what)
{
    cr_expect(eq(int, res->status, status), "%s", body(res));
    cr_expect(eq(str, (char *)res->content_type, "application/problem+json"));
    cr_expect(strstr(body(res), "\"detail\"") != NULL, "%s", body(res));
    cr_expect(strstr(body(res), what) != NULL, "expected '%s' in %s", what, body(res));
    kpi_buf_free(&res->body);
}

static void expect_ok(struct api_response *res, const char *what)
{
    cr_expect(eq(int, res->status, 200), "%s", body(res));
    cr_expect(eq(str, (char *)res->content_type, "application/json"));
    cr_expect(strstr(body(res), what) != NULL, "expected '%s' in %s", what, body(res));
}

/* ---- forecast */

Test(api_analysis, forecast_answers_the_cli_document)
{
    struct api_response res;
    call(api_h_forecast, "sales", &res, "as_of", AS_OF, NULL);
    expect_ok(&res, "\"kpi\":\"sales\"");
    cr_expect(eq(sz, count(body(&res), "\"lo95\":"), (size_t)KPI_ANALYSIS_DEFAULT_HORIZON));
    cr_expect(strstr(body(&res), "\"method\":\"ets\"") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"period\":\"2026-11\"") != NULL, "the first step follows the last month with data");
    cr_expect(strstr(body(&res), "\"date\":\"2026-12-31\"") != NULL, "p_target of the target due within the horizon");

    /* The same bytes as the CLI's emitter on the same analysis. */
    struct kpi_forecast_report *rep = NULL;
    struct kpi_diag diag = {""};
    int64_t day = 0;
    cr_assert(eq(int, kpi_date_parse(AS_OF, strlen(AS_OF), &day), 0));
    cr_assert(eq(int, kpi_analysis_forecast(store, &cal, "sales", KPI_ANALYSIS_DEFAULT_HORIZON, day, &rep, &diag), 0), "%s",
              diag.msg);
    cr_assert(rep->has_p_target);
    struct kpi_json_p_target pt = {rep->p_target.value, rep->p_target.day, rep->p_target.probability};
    struct kpi_buf b;
    kpi_buf_init(&b, API_RESPONSE_MAX);
    cr_assert(eq(int, kpi_json_forecast(&b, &cal, "sales", rep->forecast, rep->periods, &pt, KPI_JSON_COMPACT), 0));
    cr_expect(eq(str, (char *)kpi_buf_str(&b), (char *)body(&res)));
    kpi_buf_free(&b);
    kpi_forecast_report_free(rep);
    kpi_buf_free(&res.body);
}

Test(api_analysis, forecast_horizon)
{
    struct api_response res;
    call(api_h_forecast, "sales", &res, "horizon", "3", "as_of", AS_OF, NULL);
    expect_ok(&res, "\"rows\":[");
    cr_expect(eq(sz, count(body(&res), "\"lo95\":"), 3));
    kpi_buf_free(&res.body);
    call(api_h_forecast, "sales", &res, "horizon", "120", NULL);
    expect_ok(&res, "\"kpi\":\"sales\"");
    cr_expect(eq(sz, count(body(&res), "\"lo95\":"), 120));
    kpi_buf_free(&res.body);
}

Test(api_analysis, forecast_errors)
{
    struct api_response res;
    call(api_h_forecast, "nosuch", &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nosuch'");
    call(api_h_forecast, "sales", &res, "days", "3", NULL);
    expect_problem(&res, 400, "days");
    call(api_h_forecast, "sales", &res, "horizon", "3", "horizon", "4", NULL);
    expect_problem(&res, 400, "horizon");
    call(api_h_forecast, "sales", &res, "horizon", "abc", NULL);
    expect_problem(&res, 400, "horizon");
    call(api_h_forecast, "sales", &res, "horizon", "0", NULL);
    expect_problem(&res, 422, "horizon");
    call(api_h_forecast, "sales", &res, "horizon", "121", NULL);
    expect_problem(&res, 422, "horizon");
    call(api_h_forecast, "sales", &res, "as_of", "2026-13-01", NULL);
    expect_problem(&res, 400, "as_of");
    call(api_h_forecast, "empty", &res, NULL);
    expect_problem(&res, 422, "empty has no data as of");
    call(api_h_forecast, "sales", &res, "as_of", "2020-01-01", NULL);
    expect_problem(&res, 422, "sales has no data as of 2020-01-01");
}

/* ---- anomalies */

Test(api_analysis, anomalies)
{
    struct api_response res;
    call(api_h_anomalies, "sales", &res, "as_of", AS_OF, NULL);
    expect_ok(&res, "\"kpi\":\"sales\"");
    cr_expect(strstr(body(&res), "\"points\":34") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"anomalies\":[") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);
    call(api_h_anomalies, "sales", &res, "sensitivity", "1000", "as_of", AS_OF, NULL);
    expect_ok(&res, "\"anomalies\":[]");
    cr_expect(strstr(body(&res), "\"sensitivity\":1000") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);
}

Test(api_analysis, anomalies_errors)
{
    struct api_response res;
    call(api_h_anomalies, "nosuch", &res, NULL);
    expect_problem(&res, 404, "nosuch");
    call(api_h_anomalies, "sales", &res, "horizon", "3", NULL);
    expect_problem(&res, 400, "horizon");
    call(api_h_anomalies, "sales", &res, "sensitivity", "high", NULL);
    expect_problem(&res, 400, "sensitivity");
    call(api_h_anomalies, "sales", &res, "sensitivity", "-1", NULL);
    expect_problem(&res, 422, "sensitivity");
    call(api_h_anomalies, "sales", &res, "sensitivity", "0", NULL);
    expect_problem(&res, 422, "sensitivity");
    call(api_h_anomalies, "empty", &res, NULL);
    expect_problem(&res, 422, "no data");
}

/* ---- drivers */

Test(api_analysis, drivers)
{
    struct api_response res;
    call(api_h_drivers, "sales", &res, "from", "2026-09", "to", "2026-10", "dim", "region", NULL);
    expect_ok(&res, "\"dim\":\"region\"");
    cr_expect(strstr(body(&res), "\"segment\":\"eu\"") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"segment\":\"us\"") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"contributions_sum_to_change\":true") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"aggregation\":\"sum\"") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);
    /* Dates name the KPI's periods holding them; dim defaults to the first the points carry. */
    call(api_h_drivers, "sales", &res, "from", "2026-09-03", "to", "2026-10-31", NULL);
    expect_ok(&res, "\"from\":\"2026-09\"");
    cr_expect(strstr(body(&res), "\"to\":\"2026-10\"") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"dim\":\"region\"") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);
}

Test(api_analysis, drivers_errors)
{
    struct api_response res;
    call(api_h_drivers, "nosuch", &res, "from", "2026-09", "to", "2026-10", NULL);
    expect_problem(&res, 404, "no KPI with key 'nosuch'");
    call(api_h_drivers, "sales", &res, "from", "2026-09", "to", "2026-10", "as_of", AS_OF, NULL);
    expect_problem(&res, 400, "as_of");
    call(api_h_drivers, "sales", &res, "from", "2026-09", NULL);
    expect_problem(&res, 400, "'to' is required");
    call(api_h_drivers, "sales", &res, NULL);
    expect_problem(&res, 400, "'from' is required");
    call(api_h_drivers, "sales", &res, "from", "2026-13", "to", "2026-10", NULL);
    expect_problem(&res, 422, "from: '2026-13' is not a period");
    call(api_h_drivers, "sales", &res, "from", "2026-09", "to", "soon", NULL);
    expect_problem(&res, 422, "to: 'soon' is not a period");
    call(api_h_drivers, "sales", &res, "from", "2026-10", "to", "2026-09", NULL);
    expect_problem(&res, 422, "from (2026-10) is after to (2026-09)");
    call(api_h_drivers, "sales", &res, "from", "2026-09", "to", "2026-10", "dim", "Bad-Dim", NULL);
    expect_problem(&res, 422, "dim: 'Bad-Dim'");
    call(api_h_drivers, "ratio", &res, "from", "2026-09", "to", "2026-10", NULL);
    expect_problem(&res, 422, "ratio is derived");
    call(api_h_drivers, "cost", &res, "from", "2026-09", "to", "2026-10", NULL);
    expect_problem(&res, 422, "carry no dims");
}

/* ---- correlations */

Test(api_analysis, correlations)
{
    struct api_response res;
    call(api_h_correlations, "sales", &res, "with", "cost", "max_lag", "2", "as_of", AS_OF, NULL);
    expect_ok(&res, "\"kpi\":\"sales\"");
    cr_expect(strstr(body(&res), "\"max_lag\":2") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"compared\":1") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"pairs\":[{\"kpi\":\"cost\"") != NULL, "a significant pair: %s", body(&res));
    cr_expect(strstr(body(&res), "correlation is not causation") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);
    /* Without `with`: every other non-archived monthly KPI (cost, ratio, empty). */
    call(api_h_correlations, "sales", &res, NULL);
    expect_ok(&res, "\"granularity\":\"month\"");
    cr_expect(strstr(body(&res), "\"max_lag\":12") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"kpi\":\"cost\"") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);
}

Test(api_analysis, correlations_errors)
{
    struct api_response res;
    call(api_h_correlations, "nosuch", &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nosuch'");
    call(api_h_correlations, "sales", &res, "lag", "2", NULL);
    expect_problem(&res, 400, "lag");
    call(api_h_correlations, "sales", &res, "max_lag", "two", NULL);
    expect_problem(&res, 400, "max_lag");
    call(api_h_correlations, "sales", &res, "max_lag", "25", NULL);
    expect_problem(&res, 422, "max_lag");
    call(api_h_correlations, "sales", &res, "max_lag", "-1", NULL);
    expect_problem(&res, 422, "max_lag");
    call(api_h_correlations, "sales", &res, "with", "nosuch", NULL);
    expect_problem(&res, 422, "with: no KPI with key 'nosuch'");
    call(api_h_correlations, "sales", &res, "with", "sales", NULL);
    expect_problem(&res, 422, "with: names the KPI itself");
    call(api_h_correlations, "empty", &res, NULL);
    expect_problem(&res, 422, "empty has no data");
}

/* ---- insights */

Test(api_analysis, insights)
{
    struct api_response res;
    call(api_h_insights, NULL, &res, "as_of", AS_OF, NULL);
    expect_ok(&res, "\"as_of\":\"2026-11-20\"");
    cr_expect(strstr(body(&res), "\"summary\":\"") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"kpi\":\"sales\"") != NULL, "%s", body(&res));
    cr_expect(strstr(body(&res), "\"kpi\":\"cost\"") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);
    call(api_h_insights, NULL, &res, "team", "growth", "as_of", AS_OF, NULL);
    expect_ok(&res, "\"kpi\":\"sales\"");
    cr_expect(strstr(body(&res), "\"kpi\":\"cost\"") == NULL, "the team filters: %s", body(&res));
    cr_expect(strstr(body(&res), "\"p_target\":0") != NULL || strstr(body(&res), "\"p_target\":1") != NULL,
              "p_target from the forecast: %s", body(&res));
    kpi_buf_free(&res.body);
    call(api_h_insights, NULL, &res, "team", "nobody", NULL);
    expect_ok(&res, "\"kpis\":[]");
    kpi_buf_free(&res.body);
}

Test(api_analysis, insights_errors)
{
    struct api_response res;
    call(api_h_insights, NULL, &res, "teams", "growth", NULL);
    expect_problem(&res, 400, "teams");
    call(api_h_insights, NULL, &res, "as_of", "yesterday", NULL);
    expect_problem(&res, 400, "as_of");
}
