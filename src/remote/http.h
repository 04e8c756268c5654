/*
 * A small blocking HTTP client for the remote store (store_http.c): one connection to a `kpi
 * serve`, kept alive between requests, that sends GET/POST/PUT/PATCH/DELETE with the bearer token
 * and a JSON or CSV body and hands back the status and the body. Only http.c includes curl/curl.h.
 *
 * Limits: an answer body larger than KPI_HTTP_RESPONSE_MAX fails with -E2BIG; connecting gives up
 * after KPI_HTTP_CONNECT_TIMEOUT_S, a request after KPI_HTTP_TIMEOUT_S, and a transfer that moves
 * nothing for KPI_HTTP_STALL_S seconds is abandoned.
 */
#ifndef KPI_REMOTE_HTTP_H
#define KPI_REMOTE_HTTP_H

#include <stddef.h>

#include "base/buf.h"
#include "kpi/error.h"

#define KPI_HTTP_RESPONSE_MAX (64u * 1024 * 1024)
#define KPI_HTTP_CONNECT_TIMEOUT_S 10
#define KPI_HTTP_TIMEOUT_S 600
#define KPI_HTTP_STALL_S 120
#define KPI_HTTP_URL_MAX 2048
#define KPI_HTTP_TOKEN_MAX 512

struct kpi_http;

struct kpi_http_response {
    int status;          /* HTTP status code */
    struct kpi_buf body; /* the answer, NUL-terminated (bounded by KPI_HTTP_RESPONSE_MAX) */
};

/* A client for base_url ("http://host:port" or "https://...", a trailing '/' is ignored) sending
 * token as a bearer token. -EINVAL (diag filled) for a URL that is not http(s) or a token with
 * characters a header cannot carry. */
int kpi_http_new(const char *base_url, const char *token, struct kpi_http **ret_http, struct kpi_diag *diag);
struct kpi_http *kpi_http_free(struct kpi_http *h);

/* The base URL as given (without a trailing '/'), for messages. */
const char *kpi_http_base(const struct kpi_http *h);

/* Sends method (GET, POST, PUT, PATCH, DELETE) to base_url + target (a path starting with '/',
 * with its query, already percent-encoded) with the body (NULL for none) of the given content
 * type. Returns 0 when an answer arrived, whatever its status (res->status, res->body: reset and
 * filled; the caller frees res->body), or a negative code with diag: -ECONNREFUSED, -EHOSTUNREACH
 * or -ETIMEDOUT ("cannot reach URL: ..."), -E2BIG (answer too large), -EIO (anything else). */
int kpi_http_request(struct kpi_http *h, const char *method, const char *target, const char *content_type, const char *body,
                     size_t body_len, struct kpi_http_response *res, struct kpi_diag *diag);

#endif
