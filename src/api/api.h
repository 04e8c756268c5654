/*
 * The HTTP API's internal interface: a request and a response independent of libmicrohttpd (only
 * server.c speaks to it), the route table, and the helpers every handler shares (query parameters,
 * problem+json errors, write transactions, JSON bodies). Handlers live in one h_*.c file per
 * resource and are plain functions from a request to a response, so they can be tested without a
 * socket.
 *
 * Threads: libmicrohttpd runs handlers on a pool of threads; each thread has its own database
 * connection and calendar (req->store, req->cal). Writes are serialised by one lock (SQLite has one
 * writer anyway) through api_write_begin/api_write_end, which also invalidate the response cache.
 */
#ifndef KPI_API_H
#define KPI_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "kpi/error.h"
#include "kpi/period.h"
#include "store/store.h"

/* Limits on what a client controls; each has its own clear error. */
#define API_BODY_MAX_DEFAULT (32u * 1024 * 1024) /* bytes of a request body (413) */
#define API_BATCH_MAX_DEFAULT 100000u            /* points in one batch (413) */
#define API_PAGE_DEFAULT 100u                    /* items of a list page when no limit is given */
#define API_PAGE_MAX 1000u                       /* most items of a list page (422) */
#define API_POINTS_PAGE_MAX 10000u               /* most points of a points page (422) */
#define API_RESPONSE_MAX (256u * 1024 * 1024)    /* most bytes of a response body (500) */
#define API_QUERY_PARAMS_MAX 16                  /* query parameters of one request (400) */
#define API_ROUTE_PARAMS_MAX 4

enum api_method { API_GET, API_HEAD, API_POST, API_PUT, API_PATCH, API_DELETE, API_OPTIONS, API_METHOD_OTHER };

struct api_param {
    const char *name;
    const char *value;
};

struct api_server;
struct api_route;

struct api_request {
    enum api_method method;
    const char *path;                               /* percent-decoded path, without the query */
    const char *route_params[API_ROUTE_PARAMS_MAX]; /* the {key}, {id}... segments, in order */
    size_t n_route_params;
    struct api_param query[API_QUERY_PARAMS_MAX]; /* query parameters, decoded, in order */
    size_t n_query;
    const char *content_type;  /* NULL when absent */
    const char *if_none_match; /* NULL when absent */
    const char *authorization; /* NULL when absent */
    const char *body;          /* NUL-terminated; "" when none */
    size_t body_len;
    const struct api_route *route;  /* the matched route (NULL: none) */
    struct api_server *server;      /* shared state */
    struct kpi_store *store;        /* this thread's connection */
    const struct kpi_calendar *cal; /* the organisation calendar */
    char principal[128];            /* who is calling: "token:NAME", or "" */
    uint64_t points_written;        /* set by ingestion handlers (metrics) */
};

struct api_response {
    int status;               /* HTTP status */
    const char *content_type; /* a static string */
    struct kpi_buf body;      /* bounded by API_RESPONSE_MAX */
    char etag[64];            /* set by the cache layer for cacheable routes */
    char location[512];       /* Location header of a 201, "" for none */
    char allow[96];           /* Allow header of a 405, "" for none */
    /* A body shared with the response cache instead of `body` (no copy): release it with
     * api_response_done, or hand it to the sender with its release function. */
    const char *shared_data;
    size_t shared_len;
    void *shared;
};

/* Frees a response's body and releases its shared body, if any. */
void api_response_done(struct api_response *res);
/* The body of a response, wherever it is. */
const char *api_response_body(const struct api_response *res, size_t *ret_len);

typedef int (*api_handler_fn)(struct api_request *req, struct api_response *res);

/* Route flags. */
#define API_PUBLIC 1u /* no token needed (health, metrics, the OpenAPI document) */
#define API_CACHED 2u /* GET answered from the response cache with an ETag while nothing is written */
#define API_STAGES 4u /* takes points into the stage; every other route folds it first (store/stage.h) */

struct api_route {
    enum api_method method;
    const char *pattern; /* "/api/v1/kpis/{key}/status": a {name} segment matches any one segment */
    const char *name;    /* the metrics label: "kpi_status" */
    api_handler_fn handler;
    unsigned flags;
};

extern const struct api_route api_routes[];
extern const size_t api_n_routes;

const char *api_method_name(enum api_method m);
enum api_method api_method_parse(const char *s);

/* Matches method and path against the table. Returns the route (filling req->route_params), or
 * NULL; *ret_path_known tells whether some route has that path with another method (405), and
 * allow (size bytes) receives the methods that path accepts ("GET, POST"). */
const struct api_route *api_route_match(enum api_method method, const char *path, struct api_request *req, bool *ret_path_known,
                                        char *allow, size_t size);

/* ---- responses ---- */

/* A JSON body: res->body must hold the document already; sets status and content type. */
int api_json(struct api_response *res, int status);
/* An RFC 9457 problem: {type, title, status, detail} with detail from fmt. Always returns 0 so a
 * handler can `return api_problem(...)`. */
int api_problem(struct api_response *res, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A rejected batch (400 malformed, 422 invalid): detail plus errors: [{index, field, reason}] from the ingest report
 * (index is the 1-based item or line; field and reason are split from each message). */
struct kpi_ingest_report;
int api_problem_batch(struct api_response *res, int status, const char *detail, const struct kpi_ingest_report *rep);
/* Maps a negative code with its diag to a problem: -ENOENT 404, -EEXIST 409, -EINVAL/-ERANGE 422,
 * -E2BIG 413, anything else 500 (the detail then names the failure without internals). */
int api_problem_code(struct api_response *res, int code, const struct kpi_diag *diag);

/* ---- requests ---- */

/* The value of a query parameter, or NULL. */
const char *api_query(const struct api_request *req, const char *name);
/* Fails with 400 (and returns false) when the request has a query parameter not in allowed
 * (NULL-terminated) or one given twice. */
bool api_query_check(const struct api_request *req, struct api_response *res, const char *const *allowed);
/* Parses a query parameter: absent leaves *ret alone and returns true; malformed answers 400 and
 * returns false. Days accept YYYY-MM-DD. */
bool api_query_day(const struct api_request *req, struct api_response *res, const char *name, int64_t *ret_day);
bool api_query_int(const struct api_request *req, struct api_response *res, const char *name, long min, long max, long *ret);
bool api_query_double(const struct api_request *req, struct api_response *res, const char *name, double *ret);
bool api_query_bool(const struct api_request *req, struct api_response *res, const char *name, bool *ret);
/* dims=key:value,key2:value2 into a canonical dims filter ("" when absent); false after 400/422. */
bool api_query_dims(const struct api_request *req, struct api_response *res, char *canon, size_t size);
/* as_of: the query's as_of day, else today in the organisation's time zone. */
bool api_query_as_of(const struct api_request *req, struct api_response *res, int64_t *ret_day);
/* Today in the organisation's time zone. */
int64_t api_today(const struct api_request *req);
/* Fails with 415 unless the body is JSON (Content-Type application/json, or absent with a body
 * that starts like JSON). */
bool api_body_json(const struct api_request *req, struct api_response *res);

/* ---- pagination ---- */

/* limit (default API_PAGE_DEFAULT, 1..max) and cursor (opaque, NULL for the first page) of a list
 * request; false after answering 400/422. */
bool api_page_params(const struct api_request *req, struct api_response *res, unsigned max, unsigned *ret_limit,
                     const char **ret_cursor);
/* Cursors are opaque to clients: base64url of the position text. */
int api_cursor_encode(const char *position, char *out, size_t size);
int api_cursor_decode(const char *cursor, char *out, size_t size);
/* Ends a page whose body so far is `{"items":[...]`: the cursor of next_position (NULL on the last
 * page: null) and the closing brace; answers 200. */
int api_page_end(struct api_response *res, const char *next_position);

/* ---- writes ---- */

/* Takes the server's write lock and begins a transaction on req->store. */
int api_write_begin(struct api_request *req);
/* Commits (ok) or rolls back, releases the lock and, after a commit, invalidates cached
 * responses. Returns the commit's code. */
int api_write_end(struct api_request *req, bool ok);
/* Invalidates cached responses and reloads every thread's calendar (after the org changed). */
void api_org_changed(struct api_server *srv);

/* ---- handlers (one file per resource) ---- */

/* h_system.c */
int api_h_healthz(struct api_request *req, struct api_response *res);
int api_h_readyz(struct api_request *req, struct api_response *res);
int api_h_metrics(struct api_request *req, struct api_response *res);
int api_h_openapi(struct api_request *req, struct api_response *res);
/* h_kpis.c */
int api_h_org_get(struct api_request *req, struct api_response *res);
int api_h_org_put(struct api_request *req, struct api_response *res);
int api_h_kpis_list(struct api_request *req, struct api_response *res);
int api_h_kpis_create(struct api_request *req, struct api_response *res);
int api_h_kpi_get(struct api_request *req, struct api_response *res);
int api_h_kpi_put(struct api_request *req, struct api_response *res);
int api_h_kpi_patch(struct api_request *req, struct api_response *res);
int api_h_kpi_delete(struct api_request *req, struct api_response *res);
/* h_points.c */
int api_h_points_list(struct api_request *req, struct api_response *res);
int api_h_points_post(struct api_request *req, struct api_response *res);
int api_h_batch_post(struct api_request *req, struct api_response *res);
/* h_reads.c */
int api_h_series(struct api_request *req, struct api_response *res);
int api_h_status(struct api_request *req, struct api_response *res);
int api_h_scorecard(struct api_request *req, struct api_response *res);
int api_h_teams(struct api_request *req, struct api_response *res);
/* h_targets.c */
int api_h_targets_list(struct api_request *req, struct api_response *res);
int api_h_targets_put(struct api_request *req, struct api_response *res);
int api_h_targets_post(struct api_request *req, struct api_response *res);
int api_h_target_delete(struct api_request *req, struct api_response *res);
/* h_reviews.c: reviews, action items, annotations */
int api_h_kpi_reviews_list(struct api_request *req, struct api_response *res);
int api_h_kpi_reviews_post(struct api_request *req, struct api_response *res);
int api_h_reviews_list(struct api_request *req, struct api_response *res);
int api_h_reviews_post(struct api_request *req, struct api_response *res);
int api_h_actions_list(struct api_request *req, struct api_response *res);
int api_h_action_patch(struct api_request *req, struct api_response *res);
int api_h_kpi_annotations_list(struct api_request *req, struct api_response *res);
int api_h_kpi_annotations_post(struct api_request *req, struct api_response *res);
int api_h_annotations_list(struct api_request *req, struct api_response *res);
int api_h_annotations_post(struct api_request *req, struct api_response *res);
/* h_analysis.c: forecasts, anomalies, drivers, correlations, insights */
int api_h_forecast(struct api_request *req, struct api_response *res);
int api_h_anomalies(struct api_request *req, struct api_response *res);
int api_h_drivers(struct api_request *req, struct api_response *res);
int api_h_correlations(struct api_request *req, struct api_response *res);
int api_h_insights(struct api_request *req, struct api_response *res);
/* h_tokens.c */
int api_h_tokens_list(struct api_request *req, struct api_response *res);
int api_h_tokens_post(struct api_request *req, struct api_response *res);
int api_h_token_delete(struct api_request *req, struct api_response *res);

#endif
