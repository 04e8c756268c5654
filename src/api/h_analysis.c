/*
 * Handlers of the analysis routes: a KPI's forecast, anomalies, drivers of a change and
 * correlations with other KPIs, and the insights of the scorecard. Each runs the analysis of
 * store/analysis.h the CLI runs and answers with the same JSON document `kpi forecast --json` (and
 * so on) prints, in compact form; the query parameters are the CLI's options:
 *
 *   GET /api/v1/kpis/{key}/forecast?horizon=N&as_of=DAY          horizon 1..120, default 12
 *   GET /api/v1/kpis/{key}/anomalies?sensitivity=K&as_of=DAY     K > 0, default 3.5
 *   GET /api/v1/kpis/{key}/drivers?from=P1&to=P2&dim=D           from, to required (period or date)
 *   GET /api/v1/kpis/{key}/correlations?with=KEY&max_lag=L&as_of=DAY   L 0..24, default 12
 *   GET /api/v1/insights?team=T&as_of=DAY
 *
 * as_of defaults to today in the organisation's time zone (`kpi correlate` has no --as-of and reads
 * every point: the same answer unless points lie in the future). The API's horizon is capped lower
 * than the CLI's (1000): intervals of long horizons are simulated, which costs the server time.
 *
 * Errors: an unknown KPI is 404; an unknown or repeated query parameter, a missing from or to, a
 * malformed number or day 400; a value out of range, an unknown `with`, a KPI without data or one
 * that cannot be analysed that way 422, the detail naming the parameter or the KPI. All reads of
 * one request see one snapshot of the database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "json/json.h"
#include "kpi/anomaly.h"
#include "kpi/correlate.h"
#include "kpi/time.h"
#include "store/analysis.h"

#define API_FORECAST_HORIZON_MAX 120 /* periods (the OpenAPI document's bound) */

/* The {key} of a /kpis/{key}/... route. */
static const char *route_key(const struct api_request *req)
{
    return req->n_route_params > 0 ? req->route_params[0] : NULL;
}

/* Answers a failed analysis: 404 for an unknown KPI, 422 for what the caller asked or the KPI's
 * data cannot answer, else api_problem_code (500 for failures of the server). */
static int analysis_problem(struct api_response *res, int r, const struct kpi_diag *diag)
{
    const char *msg = diag->msg[0] ? diag->msg : kpi_strerror(r);
    switch (r) {
    case -ENOENT:
        return api_problem(res, 404, "%s", msg);
    case -EINVAL:
    case -ENODATA:
    case -EOPNOTSUPP:
    case -EDOM:
    case -ERANGE:
    case -ELOOP:
    case -E2BIG:
        return api_problem(res, 422, "%s", msg);
    default:
        return api_problem_code(res, r, diag);
    }
}

/* Answers 200 with the document an emitter wrote into res->body (r its result). */
static int answer(struct api_response *res, int r)
{
    if (r < 0)
        return api_problem(res, 500, "cannot write the answer: %s", kpi_strerror(r));
    return api_json(res, 200);
}

/* One consistent snapshot for all the reads of a request (true when a read transaction began). */
static bool snapshot_begin(struct api_request *req)
{
    return kpi_store_begin_read(req->store) == 0;
}

static void snapshot_end(struct api_request *req, bool began)
{
    if (began)
        kpi_store_rollback(req->store);
}

/* "KEY has no data" gains the as-of day it was judged on. */
static int no_data_problem(struct api_response *res, const struct kpi_diag *diag, int64_t as_of_day)
{
    char day[16];
    kpi_date_format(as_of_day, day, sizeof(day));
    return api_problem(res, 422, "%s as of %s", diag->msg, day);
}

int api_h_forecast(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"horizon", "as_of", NULL};
    const char *key = route_key(req);
    if (!key)
        return api_problem(res, 404, "no KPI key in the path");
    if (!api_query_check(req, res, allowed))
        return 0;
    long horizon = KPI_ANALYSIS_DEFAULT_HORIZON;
    int64_t as_of_day = 0;
    if (!api_query_int(req, res, "horizon", 1, API_FORECAST_HORIZON_MAX, &horizon) || !api_query_as_of(req, res, &as_of_day))
        return 0;
    struct kpi_forecast_report *rep = NULL;
    struct kpi_diag diag = {""};
    bool snap = snapshot_begin(req);
    int r = kpi_analysis_forecast(req->store, req->cal, key, (int)horizon, as_of_day, &rep, &diag);
    snapshot_end(req, snap);
    if (r == -ENODATA)
        return no_data_problem(res, &diag, as_of_day);
    if (r < 0)
        return analysis_problem(res, r, &diag);
    struct kpi_json_p_target pt = {rep->p_target.value, rep->p_target.day, rep->p_target.probability};
    kpi_buf_reset(&res->body);
    r = kpi_json_forecast(&res->body, req->cal, rep->history.def->key, rep->forecast, rep->periods, rep->has_p_target ? &pt : NULL,
                          KPI_JSON_COMPACT);
    kpi_forecast_report_free(rep);
    return answer(res, r);
}

int api_h_anomalies(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"sensitivity", "as_of", NULL};
    const char *key = route_key(req);
    if (!key)
        return api_problem(res, 404, "no KPI key in the path");
    if (!api_query_check(req, res, allowed))
        return 0;
    double sensitivity = KPI_ANOMALY_DEFAULT_SENSITIVITY;
    int64_t as_of_day = 0;
    if (!api_query_double(req, res, "sensitivity", &sensitivity) || !api_query_as_of(req, res, &as_of_day))
        return 0;
    struct kpi_anomalies_report *rep = NULL;
    struct kpi_diag diag = {""};
    bool snap = snapshot_begin(req);
    int r = kpi_analysis_anomalies(req->store, req->cal, key, sensitivity, as_of_day, &rep, &diag);
    snapshot_end(req, snap);
    if (r == -ENODATA)
        return no_data_problem(res, &diag, as_of_day);
    if (r < 0)
        return analysis_problem(res, r, &diag);
    kpi_buf_reset(&res->body);
    r = kpi_json_anomalies(&res->body, req->cal, rep->history.def->key, rep->model, rep->history.periods, rep->history.y,
                           rep->result, KPI_JSON_COMPACT);
    kpi_anomalies_report_free(rep);
    return answer(res, r);
}

int api_h_drivers(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"from", "to", "dim", NULL};
    const char *key = route_key(req);
    if (!key)
        return api_problem(res, 404, "no KPI key in the path");
    if (!api_query_check(req, res, allowed))
        return 0;
    const char *from = api_query(req, "from"), *to = api_query(req, "to"), *dim = api_query(req, "dim");
    if (!from || !to)
        return api_problem(res, 400, "query parameter '%s' is required (a period such as 2026-03, 2026-Q1, 2026-W05, or a date)",
                           from ? "to" : "from");
    struct kpi_drivers_report *rep = NULL;
    struct kpi_diag diag = {""};
    bool snap = snapshot_begin(req);
    int r = kpi_analysis_drivers(req->store, req->cal, key, from, to, dim, &rep, &diag);
    snapshot_end(req, snap);
    if (r < 0)
        return analysis_problem(res, r, &diag);
    kpi_buf_reset(&res->body);
    r = kpi_json_drivers(&res->body, rep->def.key, rep->dim, rep->from, rep->to, rep->aggregation, rep->result, KPI_JSON_COMPACT);
    kpi_drivers_report_free(rep);
    return answer(res, r);
}

int api_h_correlations(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"with", "max_lag", "as_of", NULL};
    const char *key = route_key(req);
    if (!key)
        return api_problem(res, 404, "no KPI key in the path");
    if (!api_query_check(req, res, allowed))
        return 0;
    long max_lag = KPI_CORRELATE_DEFAULT_LAG;
    int64_t as_of_day = 0;
    if (!api_query_int(req, res, "max_lag", 0, KPI_CORRELATE_MAX_LAG, &max_lag) || !api_query_as_of(req, res, &as_of_day))
        return 0;
    struct kpi_correlate_report *rep = NULL;
    struct kpi_diag diag = {""};
    bool snap = snapshot_begin(req);
    int r = kpi_analysis_correlate(req->store, req->cal, key, api_query(req, "with"), (int)max_lag, as_of_day, &rep, &diag);
    snapshot_end(req, snap);
    if (r < 0)
        return analysis_problem(res, r, &diag);
    struct kpi_json_pair *pairs = calloc(rep->n_pairs + 1, sizeof(*pairs));
    if (!pairs) {
        kpi_correlate_report_free(rep);
        return api_problem(res, 500, "out of memory");
    }
    for (size_t i = 0; i < rep->n_pairs; i++) {
        const struct kpi_analysis_pair *p = &rep->pairs[i];
        pairs[i] = (struct kpi_json_pair){p->other->key, p->lag, p->r, p->n_pairs, p->leader};
    }
    kpi_buf_reset(&res->body);
    r = kpi_json_correlate(&res->body, rep->def->key, kpi_granularity_to_string(rep->granularity), rep->max_lag, rep->compared,
                           pairs, rep->n_pairs, KPI_JSON_COMPACT);
    free(pairs);
    kpi_correlate_report_free(rep);
    return answer(res, r);
}

int api_h_insights(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"team", "as_of", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    int64_t as_of_day = 0;
    if (!api_query_as_of(req, res, &as_of_day))
        return 0;
    struct kpi_insights_report *rep = NULL;
    struct kpi_diag diag = {""};
    bool snap = snapshot_begin(req);
    int r = kpi_analysis_insights(req->store, req->cal, api_query(req, "team"), as_of_day, &rep, &diag);
    snapshot_end(req, snap);
    if (r < 0)
        return analysis_problem(res, r, &diag);
    struct kpi_json_insight *items = calloc(rep->n_items + 1, sizeof(*items));
    if (!items) {
        kpi_insights_report_free(rep);
        return api_problem(res, 500, "out of memory");
    }
    for (size_t k = 0; k < rep->n_items; k++) {
        const struct kpi_analysis_insight *it = &rep->items[k];
        items[k] = (struct kpi_json_insight){.kpi = it->def->key, .status = it->status, .has_p = it->has_p, .p = it->p};
        snprintf(items[k].text, sizeof(items[k].text), "%s", it->text);
    }
    kpi_buf_reset(&res->body);
    r = kpi_json_insights(&res->body, rep->as_of_day, rep->summary, items, rep->n_items, KPI_JSON_COMPACT);
    free(items);
    kpi_insights_report_free(rep);
    return answer(res, r);
}
