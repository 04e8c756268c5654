/*
 * The server's own metrics in the Prometheus text format (version 0.0.4): requests by route and
 * status, a latency histogram per route, points ingested, response-cache hits, database size and
 * start time. Counters are lock-free atomics updated by every request thread.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/server.h"

static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 501, 503};
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + "other" */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
#define N_BOUNDS (sizeof(bounds) / sizeof(bounds[0]))

struct route_metrics {
    atomic_uint_fast64_t by_status[N_STATUS];
    atomic_uint_fast64_t buckets[N_BOUNDS + 1]; /* non-cumulative; the last is +Inf */
    atomic_uint_fast64_t micros;                /* total latency in microseconds */
};

struct api_metrics {
    size_t n_routes; /* + 1 for unmatched requests */
    struct route_metrics *routes;
    atomic_uint_fast64_t points;
    atomic_uint_fast64_t cache_hits, cache_misses;
};

struct api_metrics *api_metrics_new(size_t n_routes)
{
    struct api_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->n_routes = n_routes;
    m->routes = calloc(n_routes + 1, sizeof(*m->routes));
    if (!m->routes) {
        free(m);
        return NULL;
    }
    return m;
}

struct api_metrics *api_metrics_free(struct api_metrics *m)
{
    if (m) {
        free(m->routes);
        free(m);
    }
    return NULL;
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < N_STATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS - 1;
}

void api_metrics_observe(struct api_metrics *m, size_t route, int status, double seconds, uint64_t points)
{
    if (!m)
        return;
    if (route > m->n_routes)
        route = m->n_routes;
    struct route_metrics *r = &m->routes[route];
    atomic_fetch_add_explicit(&r->by_status[status_index(status)], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < N_BOUNDS && seconds > bounds[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->micros, (uint64_t)(seconds * 1e6 + 0.5), memory_order_relaxed);
    if (points)
        atomic_fetch_add_explicit(&m->points, points, memory_order_relaxed);
}

void api_metrics_cache(struct api_metrics *m, bool hit)
{
    if (m)
        atomic_fetch_add_explicit(hit ? &m->cache_hits : &m->cache_misses, 1, memory_order_relaxed);
}

static const char *route_label(const struct api_metrics *m, size_t i)
{
    return i < m->n_routes ? api_routes[i].name : "unmatched";
}

static long long file_size(const char *path, const char *suffix)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s%s", path, suffix);
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

int api_metrics_write(struct api_metrics *m, struct api_server *srv, struct kpi_buf *out)
{
    int r = 0;
    r |= kpi_buf_adds(out, "# HELP kpi_http_requests_total HTTP requests answered, by route and status code.\n"
                           "# TYPE kpi_http_requests_total counter\n");
    for (size_t i = 0; i <= m->n_routes; i++)
        for (size_t s = 0; s < N_STATUS; s++) {
            uint64_t n = atomic_load_explicit(&m->routes[i].by_status[s], memory_order_relaxed);
            if (!n)
                continue;
            if (s < N_STATUS - 1)
                r |= kpi_buf_printf(out, "kpi_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", route_label(m, i),
                                    statuses[s], (unsigned long long)n);
            else
                r |= kpi_buf_printf(out, "kpi_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", route_label(m, i),
                                    (unsigned long long)n);
        }
    r |= kpi_buf_adds(out, "# HELP kpi_http_request_duration_seconds Time from a request's headers to its response, by route.\n"
                           "# TYPE kpi_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= m->n_routes; i++) {
        struct route_metrics *rm = &m->routes[i];
        uint64_t cum = 0;
        uint64_t counts[N_BOUNDS + 1];
        for (size_t b = 0; b <= N_BOUNDS; b++) {
            counts[b] = atomic_load_explicit(&rm->buckets[b], memory_order_relaxed);
            cum += counts[b];
        }
        if (cum == 0)
            continue;
        cum = 0;
        for (size_t b = 0; b < N_BOUNDS; b++) {
            cum += counts[b];
            r |= kpi_buf_printf(out, "kpi_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route_label(m, i),
                                bounds[b], (unsigned long long)cum);
        }
        cum += counts[N_BOUNDS];
        r |= kpi_buf_printf(out, "kpi_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", route_label(m, i),
                            (unsigned long long)cum);
        r |= kpi_buf_printf(out, "kpi_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_label(m, i),
                            (double)atomic_load_explicit(&rm->micros, memory_order_relaxed) / 1e6);
        r |= kpi_buf_printf(out, "kpi_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_label(m, i),
                            (unsigned long long)cum);
    }
    r |= kpi_buf_printf(out,
                        "# HELP kpi_points_ingested_total Points written through the API since the server started.\n"
                        "# TYPE kpi_points_ingested_total counter\n"
                        "kpi_points_ingested_total %llu\n"
                        "# HELP kpi_points_staged Points acknowledged and waiting in the stage to join their series.\n"
                        "# TYPE kpi_points_staged gauge\n"
                        "kpi_points_staged %llu\n"
                        "# HELP kpi_cache_requests_total Cached-route lookups in the response cache, by result.\n"
                        "# TYPE kpi_cache_requests_total counter\n"
                        "kpi_cache_requests_total{result=\"hit\"} %llu\n"
                        "kpi_cache_requests_total{result=\"miss\"} %llu\n"
                        "# HELP kpi_database_size_bytes Size of the database file and its write-ahead log.\n"
                        "# TYPE kpi_database_size_bytes gauge\n"
                        "kpi_database_size_bytes{file=\"db\"} %lld\n"
                        "kpi_database_size_bytes{file=\"wal\"} %lld\n"
                        "# HELP kpi_start_time_seconds When the server started, in seconds since the Unix epoch.\n"
                        "# TYPE kpi_start_time_seconds gauge\n"
                        "kpi_start_time_seconds %.3f\n",
                        (unsigned long long)atomic_load(&m->points), (unsigned long long)atomic_load(&srv->staged),
                        (unsigned long long)atomic_load(&m->cache_hits), (unsigned long long)atomic_load(&m->cache_misses),
                        file_size(srv->opt.db_path, ""), file_size(srv->opt.db_path, "-wal"), (double)srv->started_ms / 1000.0);
    return r < 0 ? -E2BIG : 0;
}
