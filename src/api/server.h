/*
 * State shared by every request of one `kpi serve` process: the options, the per-thread database
 * connections, the write lock, the response cache and the metrics. Internal to src/api; server.c
 * owns the lifetime, handlers reach it through req->server.
 */
#ifndef KPI_API_SERVER_H
#define KPI_API_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "api/api.h"

/* Memory bounds of the server: SQLite's page cache per connection (one connection per thread, plus
 * the main thread's), and the response cache shared by all. */
#define API_DB_CACHE (4u * 1024 * 1024)
#define API_RESPONSE_CACHE (16u * 1024 * 1024)
/* The stage is folded once this many points wait in it, or API_FOLD_IDLE_MS after the last batch
 * (so that other processes, which read the series, see the points soon), or before a read. */
#define API_FOLD_AT 262144u
#define API_FOLD_IDLE_MS 200

struct api_options {
    const char *db_path;
    const char *listen; /* "127.0.0.1:8080" */
    unsigned threads;   /* 0: one per core */
    size_t body_max;
    size_t batch_max;
    FILE *access_log; /* NULL: no access log */
};

struct api_cache;
struct api_metrics;

struct api_server {
    struct api_options opt;
    int64_t started_ms;
    atomic_bool ready;        /* false until the database is open, and again while shutting down */
    atomic_uint_fast64_t gen; /* bumped by every committed write: cached responses of older gens are stale */
    atomic_uint_fast64_t org_gen;
    pthread_mutex_t write_lock;
    pthread_mutex_t conns_lock; /* guards the list of per-thread connections */
    struct api_conn *conns;
    pthread_mutex_t log_lock;
    /* Points of acknowledged batches waiting in the stage (store/stage.h), and when the last
     * batch was staged (CLOCK_MONOTONIC ns). Only ever overstated: it drops to 0 under the write
     * lock after a fold. */
    atomic_uint_fast64_t staged;
    atomic_int_fast64_t staged_ns;
    pthread_mutex_t maint_lock; /* with maint_cond: wakes the maintenance thread (a fold is due, or shutdown) */
    pthread_cond_t maint_cond;
    bool stopping;
    struct api_cache *cache;
    struct api_metrics *metrics;
};

/* A token this connection verified, valid while the database's data version is unchanged (any
 * commit elsewhere, such as a revocation, invalidates it). */
struct api_token_seen {
    uint8_t hash[32];
    char name[65];
    uint64_t data_version;
    bool used;
};
#define API_TOKENS_SEEN 8

/* One thread's database connection and calendar. */
struct api_conn {
    struct api_conn *next;
    struct kpi_store *store;
    struct kpi_calendar cal;
    bool have_cal;
    uint64_t org_gen;
    uint64_t data_version;   /* the store's data version when last looked at */
    bool stage_unseen;       /* it changed since this connection last looked into the stage */
    int64_t data_version_ns; /* when (CLOCK_MONOTONIC) */
    struct api_token_seen tokens[API_TOKENS_SEEN];
    unsigned next_token; /* round-robin replacement in tokens */
};

/* Opens (once per thread) the calling thread's connection; reloads its calendar when the org
 * changed. */
int api_conn_get(struct api_server *srv, struct api_conn **ret_conn, struct kpi_diag *diag);
/* Forgets the tokens the calling thread's connection verified: its own commits do not change its
 * data version, so a revocation made on this connection must clear them itself. */
void api_conn_forget_tokens(void);
/* Folds the stage into the series (under the write lock) when this server staged points, or, with
 * look, when the stage holds rows (staged by another server on the same file): before any request
 * that reads, from the maintenance thread, and at shutdown. */
int api_stage_fold(struct api_server *srv, struct kpi_store *store, bool look, uint64_t *ret_points);
/* Counts a staged batch, and wakes the maintenance thread once API_FOLD_AT points wait. */
void api_stage_added(struct api_server *srv, uint64_t points);

/* Closes every connection (at shutdown, once no request runs). */
void api_conns_close(struct api_server *srv);

/* Dispatches one request: authentication, routing, the response cache, the handler, metrics.
 * req->method, path, query, headers and body must be set; fills res. */
void api_dispatch(struct api_server *srv, struct api_request *req, struct api_response *res);

/* Response cache (cache.c): responses of API_CACHED routes keyed by path and query, valid while
 * the write generation is unchanged. */
struct api_cache *api_cache_new(size_t max_bytes);
struct api_cache *api_cache_free(struct api_cache *c);
/* Gives res a reference to a fresh entry's body (res->shared) and its etag; false when there is
 * none. The reference is released by api_cache_release (api_response_done does it). */
bool api_cache_get(struct api_cache *c, const char *key, uint64_t gen, struct api_response *res);
void api_cache_release(void *entry);
void api_cache_put(struct api_cache *c, const char *key, uint64_t gen, const struct api_response *res);

/* Metrics (metrics.c). */
struct api_metrics *api_metrics_new(size_t n_routes);
struct api_metrics *api_metrics_free(struct api_metrics *m);
/* route: index into api_routes, or api_n_routes for "unmatched". */
void api_metrics_observe(struct api_metrics *m, size_t route, int status, double seconds, uint64_t points);
/* Counts a response-cache hit or miss. */
void api_metrics_cache(struct api_metrics *m, bool hit);
int api_metrics_write(struct api_metrics *m, struct api_server *srv, struct kpi_buf *out);

/* Authentication (auth.c): checks "Authorization: Bearer TOKEN" against the stored hashes, or
 * against the tokens this connection verified while the data version (data_version, read this
 * request) is unchanged. Returns 0 with req->principal set, or fills res with a 401. */
int api_auth_check(struct api_conn *conn, uint64_t data_version, struct api_request *req, struct api_response *res);

/* Runs the server until SIGTERM/SIGINT (server.c). Returns 0 after a graceful shutdown. */
int api_serve(const struct api_options *opt, struct kpi_diag *diag);

#endif
