/*
 * Routes about the server itself: liveness (/healthz), readiness (/readyz: the database answers and
 * the server is not shutting down), Prometheus metrics (/metrics) and the OpenAPI document.
 */
#include <string.h>

#include "api/server.h"
#include "base/embed.h"

extern const struct kpi_embedded kpi_openapi_doc[];

int api_h_healthz(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    kpi_buf_adds(&res->body, "{\"status\":\"ok\"}");
    return api_json(res, 200);
}

int api_h_readyz(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    if (!atomic_load(&req->server->ready))
        return api_problem(res, 503, "the server is shutting down");
    int version = 0;
    if (!req->store || kpi_store_schema_version(req->store, &version) < 0)
        return api_problem(res, 503, "the database does not answer");
    kpi_buf_printf(&res->body, "{\"status\":\"ready\",\"schema_version\":%d}", version);
    return api_json(res, 200);
}

int api_h_metrics(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    int r = api_metrics_write(req->server->metrics, req->server, &res->body);
    if (r < 0)
        return r;
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}

int api_h_openapi(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    int r = kpi_buf_add(&res->body, kpi_openapi_doc[0].data, kpi_openapi_doc[0].size);
    if (r < 0)
        return r;
    return api_json(res, 200);
}
