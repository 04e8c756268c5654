/*
 * One request from routing to response: route match (404/405), authentication (401), the
 * thread's database connection, the response cache with ETag / If-None-Match (304) for expensive
 * reads, the handler, and the metrics. Independent of libmicrohttpd, so it is exercised directly
 * by tests too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "api/server.h"
#include "base/crypto.h"

/* The cache key of a request: route name, path, the query as given and today's day (answers
 * without as_of depend on the date). */
static void cache_key(const struct api_request *req, int64_t today, struct kpi_buf *key)
{
    kpi_buf_printf(key, "%s %s %lld", req->route->name, req->path, (long long)today);
    for (size_t i = 0; i < req->n_query; i++)
        kpi_buf_printf(key, "%c%s=%s", i ? '&' : '?', req->query[i].name, req->query[i].value);
}

static void set_etag(struct api_response *res)
{
    uint8_t h[KPI_HASH_SIZE];
    kpi_hash(res->body.data ? res->body.data : "", res->body.len, h);
    char *p = res->etag;
    *p++ = '"';
    for (int i = 0; i < 12; i++)
        p += snprintf(p, 3, "%02x", h[i]);
    *p++ = '"';
    *p = '\0';
}

/* Whether If-None-Match (a list of entity tags, or *) matches etag. */
static bool etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return false;
    size_t elen = strlen(etag);
    const char *p = if_none_match;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == elen && memcmp(p, etag, elen) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static void not_modified(struct api_response *res)
{
    api_response_done(res);
    res->status = 304;
    res->content_type = NULL;
}

void api_dispatch(struct api_server *srv, struct api_request *req, struct api_response *res)
{
    int64_t t0 = kpi_clock_mono_ns();
    bool known = false;
    const struct api_route *route = api_route_match(req->method, req->path, req, &known, res->allow, sizeof(res->allow));
    req->route = route;
    size_t route_index = route ? (size_t)(route - api_routes) : api_n_routes;
    if (!route) {
        if (known) {
            api_problem(res, 405, "%s is not allowed on %.200s (allowed: %s)", api_method_name(req->method), req->path, res->allow);
        } else {
            res->allow[0] = '\0';
            api_problem(res, 404, "no such resource: %.200s", req->path);
        }
        goto done;
    }
    res->allow[0] = '\0';

    bool public_route = route->flags & API_PUBLIC;
    if (!public_route || strcmp(route->name, "readyz") == 0) {
        struct api_conn *conn;
        struct kpi_diag diag = {{0}};
        int r = api_conn_get(srv, &conn, &diag);
        if (r < 0) {
            api_problem(res, 503, "the database is not available: %s", diag.msg);
            goto done;
        }
        req->store = conn->store;
        req->cal = &conn->cal;
        if (!public_route) {
            /* Commits by other connections (other threads, the CLI on the same file) invalidate
             * cached answers and verified tokens. */
            /* Asking costs a read transaction (file locks), so a busy thread asks at most once
             * per millisecond: a change is noticed within 1 ms. */
            if (t0 - conn->data_version_ns >= 1000000) {
                uint64_t version;
                conn->data_version_ns = t0;
                if (kpi_store_data_version(conn->store, &version) == 0 && version != conn->data_version) {
                    conn->data_version = version;
                    conn->stage_unseen = true;
                    atomic_fetch_add(&srv->gen, 1);
                }
            }
            if (api_auth_check(conn, conn->data_version, req, res) < 0)
                goto done;
            /* Points wait in the stage until folded into their series; reads must see them,
             * those this server staged and, after a commit elsewhere, those another server on
             * the same file did. */
            if (!(route->flags & API_STAGES)) {
                r = api_stage_fold(srv, conn->store, conn->stage_unseen, NULL);
                if (r == 0)
                    conn->stage_unseen = false;
                if (r < 0) {
                    api_problem(res, 503, "cannot merge the points staged for writing: %s", kpi_strerror(r));
                    goto done;
                }
            }
        }
    }

    if (route->flags & API_CACHED) {
        struct kpi_buf key;
        kpi_buf_init(&key, 8192);
        cache_key(req, api_today(req), &key);
        uint64_t gen = atomic_load(&srv->gen);
        if (api_cache_get(srv->cache, kpi_buf_str(&key), gen, res)) {
            api_metrics_cache(srv->metrics, true);
            if (etag_matches(req->if_none_match, res->etag))
                not_modified(res);
        } else {
            api_metrics_cache(srv->metrics, false);
            int r = route->handler(req, res);
            if (r < 0)
                api_problem_code(res, r, NULL);
            if (res->status == 200) {
                set_etag(res);
                api_cache_put(srv->cache, kpi_buf_str(&key), gen, res);
                if (etag_matches(req->if_none_match, res->etag))
                    not_modified(res);
            }
        }
        kpi_buf_free(&key);
    } else {
        int r = route->handler(req, res);
        if (r < 0)
            api_problem_code(res, r, NULL);
    }
    if (res->status == 0)
        api_problem(res, 500, "the handler gave no answer");

done:
    api_metrics_observe(srv->metrics, route_index, res->status, (double)(kpi_clock_mono_ns() - t0) / 1e9, req->points_written);
}
