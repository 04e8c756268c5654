/*
 * The route table of the HTTP API and the matcher. One line per route: method, path pattern, the
 * name used as the metrics label, the handler and its flags. The OpenAPI document
 * (openapi.json) describes exactly these routes; tests/api checks both ways.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "base/str.h"

#define V1 "/api/v1"

const struct api_route api_routes[] = {
    {API_GET, "/healthz", "healthz", api_h_healthz, API_PUBLIC},
    {API_GET, "/readyz", "readyz", api_h_readyz, API_PUBLIC},
    {API_GET, "/metrics", "metrics", api_h_metrics, API_PUBLIC},
    {API_GET, V1 "/openapi.json", "openapi", api_h_openapi, API_PUBLIC},
    {API_GET, V1 "/org", "org_get", api_h_org_get, 0},
    {API_PUT, V1 "/org", "org_put", api_h_org_put, 0},
    {API_GET, V1 "/kpis", "kpis_list", api_h_kpis_list, 0},
    {API_POST, V1 "/kpis", "kpis_create", api_h_kpis_create, 0},
    {API_GET, V1 "/kpis/{key}", "kpi_get", api_h_kpi_get, 0},
    {API_PUT, V1 "/kpis/{key}", "kpi_put", api_h_kpi_put, 0},
    {API_PATCH, V1 "/kpis/{key}", "kpi_patch", api_h_kpi_patch, 0},
    {API_DELETE, V1 "/kpis/{key}", "kpi_delete", api_h_kpi_delete, 0},
    {API_GET, V1 "/kpis/{key}/points", "points_list", api_h_points_list, 0},
    {API_POST, V1 "/kpis/{key}/points", "points_post", api_h_points_post, API_STAGES},
    {API_POST, V1 "/points", "batch_post", api_h_batch_post, API_STAGES},
    {API_GET, V1 "/kpis/{key}/series", "series", api_h_series, API_CACHED},
    {API_GET, V1 "/kpis/{key}/status", "status", api_h_status, API_CACHED},
    {API_GET, V1 "/scorecard", "scorecard", api_h_scorecard, API_CACHED},
    {API_GET, V1 "/teams", "teams", api_h_teams, API_CACHED},
    {API_GET, V1 "/kpis/{key}/targets", "targets_list", api_h_targets_list, 0},
    {API_PUT, V1 "/kpis/{key}/targets", "targets_put", api_h_targets_put, 0},
    {API_POST, V1 "/kpis/{key}/targets", "targets_post", api_h_targets_post, 0},
    {API_DELETE, V1 "/kpis/{key}/targets/{date}", "target_delete", api_h_target_delete, 0},
    {API_GET, V1 "/kpis/{key}/reviews", "kpi_reviews_list", api_h_kpi_reviews_list, 0},
    {API_POST, V1 "/kpis/{key}/reviews", "kpi_reviews_post", api_h_kpi_reviews_post, 0},
    {API_GET, V1 "/reviews", "reviews_list", api_h_reviews_list, 0},
    {API_POST, V1 "/reviews", "reviews_post", api_h_reviews_post, 0},
    {API_GET, V1 "/actions", "actions_list", api_h_actions_list, 0},
    {API_PATCH, V1 "/actions/{id}", "action_patch", api_h_action_patch, 0},
    {API_GET, V1 "/kpis/{key}/annotations", "kpi_annotations_list", api_h_kpi_annotations_list, 0},
    {API_POST, V1 "/kpis/{key}/annotations", "kpi_annotations_post", api_h_kpi_annotations_post, 0},
    {API_GET, V1 "/annotations", "annotations_list", api_h_annotations_list, 0},
    {API_POST, V1 "/annotations", "annotations_post", api_h_annotations_post, 0},
    {API_GET, V1 "/kpis/{key}/forecast", "forecast", api_h_forecast, API_CACHED},
    {API_GET, V1 "/kpis/{key}/anomalies", "anomalies", api_h_anomalies, API_CACHED},
    {API_GET, V1 "/kpis/{key}/drivers", "drivers", api_h_drivers, API_CACHED},
    {API_GET, V1 "/kpis/{key}/correlations", "correlations", api_h_correlations, API_CACHED},
    {API_GET, V1 "/insights", "insights", api_h_insights, API_CACHED},
    {API_GET, V1 "/tokens", "tokens_list", api_h_tokens_list, 0},
    {API_POST, V1 "/tokens", "tokens_post", api_h_tokens_post, 0},
    {API_DELETE, V1 "/tokens/{name}", "token_delete", api_h_token_delete, 0},
};
const size_t api_n_routes = sizeof(api_routes) / sizeof(api_routes[0]);

static const char *const method_names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};

const char *api_method_name(enum api_method m)
{
    return (unsigned)m <= API_METHOD_OTHER ? method_names[m] : "OTHER";
}

enum api_method api_method_parse(const char *s)
{
    for (int m = 0; m < API_METHOD_OTHER; m++)
        if (strcmp(s, method_names[m]) == 0)
            return (enum api_method)m;
    return API_METHOD_OTHER;
}

/* Whether path matches pattern segment by segment; {x} segments are captured into params (which
 * point into path and are NUL-terminated copies in store). */
static bool path_match(const char *pattern, const char *path, char store[][KPI_KEY_MAX * 4], size_t *ret_n)
{
    size_t n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p), slen = se ? (size_t)(se - s) : strlen(s);
        if (plen > 0 && p[0] == '{') {
            if (slen == 0 || slen >= KPI_KEY_MAX * 4 || n >= API_ROUTE_PARAMS_MAX)
                return false;
            memcpy(store[n], s, slen);
            store[n][slen] = '\0';
            n++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return false;
        }
        p += plen;
        s += slen;
    }
    if (*p || *s)
        return false;
    *ret_n = n;
    return true;
}

const struct api_route *api_route_match(enum api_method method, const char *path, struct api_request *req, bool *ret_path_known,
                                        char *allow, size_t size)
{
    /* Thread-local so that route_params stay valid for the request's lifetime on this thread. */
    static _Thread_local char params[API_ROUTE_PARAMS_MAX][KPI_KEY_MAX * 4];
    char scratch[API_ROUTE_PARAMS_MAX][KPI_KEY_MAX * 4];
    const struct api_route *found = NULL;
    bool known = false;
    if (allow && size)
        allow[0] = '\0';
    enum api_method want = method == API_HEAD ? API_GET : method;
    for (size_t i = 0; i < api_n_routes; i++) {
        size_t n;
        if (!path_match(api_routes[i].pattern, path, scratch, &n))
            continue;
        known = true;
        if (allow && size) {
            size_t len = strlen(allow);
            snprintf(allow + len, size - len, "%s%s", len ? ", " : "", api_method_name(api_routes[i].method));
        }
        if (!found && api_routes[i].method == want) {
            found = &api_routes[i];
            memcpy(params, scratch, sizeof(params));
            req->n_route_params = n;
            for (size_t k = 0; k < n; k++)
                req->route_params[k] = params[k];
        }
    }
    *ret_path_known = known;
    return found;
}
