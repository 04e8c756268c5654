/*
 * The remote store: a second backend of the storage interface (store/store.h) that speaks the HTTP
 * API of a running `kpi serve` instead of opening a database file. Every command written against
 * struct kpi_store therefore works against a server unchanged; judging (status, forecasts,
 * insights) runs in the client on the definitions and points read over the API, with the same code
 * and so the same results as the server's.
 *
 * How the operations map to the API (docs/cli.md, "Remote mode", tells users the consequences):
 * - Definitions, the organisation, reviews, action items, annotations and tokens are the
 *   /api/v1 resources of the same names. KPI ids are internal to a database, so the client gives
 *   each KPI it meets its own id (stable for the life of the store).
 * - Writes inside begin/commit are kept in the client until commit: reads inside the transaction
 *   see them, rollback forgets them (so `kpi apply --dry-run` changes nothing). commit sends the
 *   organisation and definition changes in order, one request each, then the points to
 *   POST /api/v1/points in batches of at most KPI_REMOTE_BATCH_MAX points; each batch is atomic on
 *   the server, the transaction as a whole is not.
 * - Points are read a KPI at a time (GET /api/v1/kpis/{key}/points, pages of 10,000) and kept for
 *   the life of the store, so that the many scans of one judgement cost one download; up to
 *   KPI_REMOTE_CACHE_POINTS_MAX points are kept, past it scans go to the server each time.
 * - HTTP errors become negative codes with the server's problem detail: 401 -EACCES, 403 -EPERM,
 *   404 -ENOENT, 409 -EEXIST, 413 -E2BIG, 400 and 422 -EINVAL, 501 -ENOSYS, other 5xx -EIO;
 *   an unreachable server -ECONNREFUSED ("cannot reach URL: ...").
 */
#ifndef KPI_REMOTE_H
#define KPI_REMOTE_H

#include <stdbool.h>

#include "kpi/error.h"
#include "store/store.h"

/* Most points in one POST /api/v1/points (the server's default --max-batch). */
#define KPI_REMOTE_BATCH_MAX 100000u
/* Most bytes of one batch body (the server's default --max-body is 32 MiB). */
#define KPI_REMOTE_BATCH_BYTES (16u * 1024 * 1024)
/* Most points written in one transaction (kept in memory until commit). */
#define KPI_REMOTE_PENDING_MAX (50u * 1000 * 1000)
/* Most points kept in the read cache. */
#define KPI_REMOTE_CACHE_POINTS_MAX (20u * 1000 * 1000)

/* Connects to the server at url (http:// or https://) with an API token: checks that GET /readyz
 * answers and that the token is accepted (GET /api/v1/org), which also loads the organisation
 * calendar. diag: "cannot reach URL: ...", "the server refused the token: ...", ... */
int kpi_store_open_http(const char *url, const char *token, struct kpi_store **ret_store, struct kpi_diag *diag);

/* Whether s is a remote store. */
bool kpi_store_is_http(const struct kpi_store *s);

/* What the server said about the last request of s that failed, and that failure's code; "" and
 * 0 when the last request succeeded (or s is not a remote store). For messages of operations that
 * take no diag. */
const char *kpi_store_http_error(const struct kpi_store *s, int *ret_code);

#endif
