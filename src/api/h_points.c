/*
 * Points over HTTP: batches into one KPI (POST /api/v1/kpis/{key}/points) or many
 * (POST /api/v1/points), as a JSON array or text/csv, and the paginated listing of a KPI's points.
 *
 * A batch is validated whole before anything is written (store/ingest.c): one bad item answers
 * 422 with every bad item (index, field, reason) and writes nothing; a good batch is written in
 * one transaction and answered with counts. Writing is idempotent on (kpi, dims, at), so a client
 * may safely resend a batch whose answer it did not get. Parsing runs outside the write lock, so
 * concurrent batches are parsed in parallel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server.h"
#include "base/str.h"
#include "json/json.h"
#include "kpi/dims.h"
#include "kpi/time.h"
#include "store/ingest.h"

/* The request body as a kpi_csv_read_fn source. */
struct body_reader {
    const char *data;
    size_t len, pos;
};

static ssize_t body_read(void *ctx, char *buf, size_t size)
{
    struct body_reader *b = ctx;
    size_t n = b->len - b->pos < size ? b->len - b->pos : size;
    memcpy(buf, b->data + b->pos, n);
    b->pos += n;
    return (ssize_t)n;
}

static void lock_writes(void *ctx)
{
    pthread_mutex_lock(&((struct api_server *)ctx)->write_lock);
}

static void unlock_writes(void *ctx)
{
    pthread_mutex_unlock(&((struct api_server *)ctx)->write_lock);
}

static bool is_csv(const char *content_type)
{
    return content_type && strncasecmp(content_type, "text/csv", 8) == 0;
}

/* Ingests the body (JSON array or CSV); fixed_kpi is the route's KPI or NULL for a multi-KPI batch. */
static int ingest(struct api_request *req, struct api_response *res, const char *fixed_kpi)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    if (req->body_len == 0)
        return api_problem(res, 400, "the body is empty: send a JSON array of points or text/csv");
    bool csv = is_csv(req->content_type);
    if (!csv && !api_body_json(req, res))
        return 0;
    if (fixed_kpi) {
        struct kpi_def d;
        int r = kpi_store_kpi_get(req->store, fixed_kpi, &d);
        if (r == -ENOENT)
            return api_problem(res, 404, "no KPI with key '%.64s'", fixed_kpi);
        if (r < 0)
            return r;
        kpi_def_clear(&d);
    }
    struct body_reader body = {req->body, req->body_len, 0};
    struct kpi_ingest_lock lock = {lock_writes, unlock_writes, req->server, true};
    struct kpi_ingest_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        return -ENOMEM;
    struct kpi_diag diag = {{0}};
    int r;
    if (csv) {
        struct kpi_ingest_csv_source *src;
        r = kpi_ingest_csv_source_new(body_read, &body, fixed_kpi, &src);
        if (r == 0) {
            r = kpi_ingest_rows_locked(req->store, req->cal, kpi_ingest_csv_next, src, req->server->opt.batch_max, &lock, rep,
                                       &diag);
            kpi_ingest_csv_source_free(src);
        }
    } else {
        struct kpi_json_points *src;
        r = kpi_json_points_new(body_read, &body, &src);
        if (r == 0) {
            if (fixed_kpi)
                kpi_json_points_set_kpi(src, fixed_kpi);
            r = kpi_ingest_rows_locked(req->store, req->cal, kpi_json_points_next, src, req->server->opt.batch_max, &lock, rep,
                                       &diag);
            kpi_json_points_free(src);
        }
    }
    if (r == 0) {
        api_stage_added(req->server, rep->written);
        atomic_fetch_add(&req->server->gen, 1);
        req->points_written = rep->written;
        kpi_buf_printf(&res->body, "{\"rows\":%llu,\"written\":%llu}", (unsigned long long)rep->rows,
                       (unsigned long long)rep->written);
        api_json(res, 200);
    } else if (r == -EINVAL && rep->n_errors > 0) {
        /* Malformed JSON or CSV is a 400, well-formed but invalid items a 422; both list every
         * error found. Syntax errors read "line L, column C: ...". */
        bool syntax = false;
        for (uint64_t i = 0; i < rep->n_errors && i < KPI_INGEST_ERRORS_KEPT; i++)
            syntax = syntax || strncmp(rep->errors[i].msg, "line ", 5) == 0 || strncmp(rep->errors[i].msg, "header: ", 8) == 0;
        char detail[256];
        if (rep->n_errors <= rep->rows)
            snprintf(detail, sizeof(detail), "%llu of %llu %s rejected; nothing was written", (unsigned long long)rep->n_errors,
                     (unsigned long long)rep->rows, csv ? "rows" : "items");
        else
            snprintf(detail, sizeof(detail), "the %s body is %s (%llu error%s); nothing was written", csv ? "CSV" : "JSON",
                     syntax ? "malformed" : "invalid", (unsigned long long)rep->n_errors, rep->n_errors == 1 ? "" : "s");
        api_problem_batch(res, syntax ? 400 : 422, detail, rep);
    } else if (r == -E2BIG) {
        api_problem(res, 413, "%s", diag.msg);
    } else if (r == -ENOMEM) {
        free(rep);
        return r;
    } else {
        api_problem(res, r == -EINVAL ? 422 : 500, "%s", diag.msg[0] ? diag.msg : "the batch could not be written");
    }
    free(rep);
    return 0;
}

int api_h_points_post(struct api_request *req, struct api_response *res)
{
    return ingest(req, res, req->route_params[0]);
}

int api_h_batch_post(struct api_request *req, struct api_response *res)
{
    return ingest(req, res, NULL);
}

/* ---- listing ---- */

/* from/to of a points listing: a date (the day's start; `to` includes the whole day) or an
 * RFC 3339 instant. */
static bool query_instant(const struct api_request *req, struct api_response *res, const char *name, bool end, int64_t *ret_ms)
{
    const char *v = api_query(req, name);
    if (!v)
        return true;
    struct kpi_at at;
    if (kpi_at_parse(v, strlen(v), &at) < 0) {
        api_problem(res, 400, "%s: '%.64s' is not a date (YYYY-MM-DD) or an RFC 3339 instant", name, v);
        return false;
    }
    if (at.is_date)
        *ret_ms = kpi_calendar_day_start(req->cal, at.day + (end ? 1 : 0));
    else
        *ret_ms = at.ms + (end ? 1 : 0);
    return true;
}

struct list_ctx {
    const struct api_request *req;
    struct kpi_buf *out;
    const char *key;
    const char *after_dims; /* cursor position: points up to (dims, at) are skipped */
    int64_t after_at;
    bool have_cursor;
    unsigned limit, n;
    bool more;
    char last_dims[KPI_DIMS_CANON_MAX + 1];
    int64_t last_at;
    int err;
};

static int list_cb(void *ctx, const struct kpi_point_row *row)
{
    struct list_ctx *l = ctx;
    if (l->have_cursor) {
        int c = strcmp(row->dims, l->after_dims);
        if (c < 0 || (c == 0 && row->at_ms <= l->after_at))
            return 0;
    }
    if (l->n == l->limit) {
        l->more = true;
        return 1; /* stop: scans come in (dims, at) order */
    }
    char at[48];
    if (row->flags & KPI_POINT_DATE)
        kpi_date_format(kpi_calendar_day_of(l->req->cal, row->at_ms), at, sizeof(at));
    else
        kpi_instant_format(row->at_ms, at, sizeof(at));
    int r = l->n ? kpi_buf_addc(l->out, ',') : 0;
    if (r == 0)
        r = kpi_json_point(l->out, l->key, at, row->value, row->dims);
    if (r < 0) {
        l->err = r;
        return 1;
    }
    kpi_strlcpy(l->last_dims, row->dims, sizeof(l->last_dims));
    l->last_at = row->at_ms;
    l->n++;
    return 0;
}

/* dims=k:v,k2:v2 into a canonical filter. */
static bool query_dims(const struct api_request *req, struct api_response *res, char *canon, size_t size)
{
    canon[0] = '\0';
    const char *v = api_query(req, "dims");
    if (!v || !*v)
        return true;
    char copy[KPI_DIMS_CANON_MAX + 1];
    if (kpi_strlcpy(copy, v, sizeof(copy)) < 0) {
        api_problem(res, 422, "dims: longer than %d bytes", KPI_DIMS_CANON_MAX);
        return false;
    }
    struct kpi_dim dims[KPI_DIMS_MAX];
    size_t n = 0;
    char *p = copy;
    while (*p) {
        char *end = p + strcspn(p, ",");
        char *colon = memchr(p, ':', (size_t)(end - p));
        if (!colon || n >= KPI_DIMS_MAX) {
            api_problem(res, 400, "dims: expected key:value pairs separated by commas (at most %d), e.g. region:eu,plan:pro",
                        KPI_DIMS_MAX);
            return false;
        }
        dims[n++] = (struct kpi_dim){p, (size_t)(colon - p), colon + 1, (size_t)(end - colon - 1)};
        p = *end ? end + 1 : end;
    }
    for (size_t i = 0; i < n; i++)
        if (!kpi_dim_key_valid(dims[i].key, dims[i].key_len) || !kpi_dim_value_valid(dims[i].value, dims[i].value_len)) {
            api_problem(res, 422, "dims: '%.*s:%.*s' is not a valid dimension", (int)dims[i].key_len, dims[i].key,
                        (int)dims[i].value_len, dims[i].value);
            return false;
        }
    struct kpi_diag diag = {{0}};
    if (kpi_dims_canon(dims, n, canon, size, &diag) < 0) {
        api_problem(res, 422, "dims: %s", diag.msg);
        return false;
    }
    return true;
}

bool api_query_dims(const struct api_request *req, struct api_response *res, char *canon, size_t size)
{
    return query_dims(req, res, canon, size);
}

int api_h_points_list(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"from", "to", "dims", "limit", "cursor", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    const char *key = req->route_params[0];
    unsigned limit;
    const char *cursor;
    struct kpi_point_query q = {.from_ms = INT64_MIN, .to_ms = INT64_MAX};
    char filter[KPI_DIMS_CANON_MAX + 1];
    if (!api_page_params(req, res, API_POINTS_PAGE_MAX, &limit, &cursor) || !query_instant(req, res, "from", false, &q.from_ms) ||
        !query_instant(req, res, "to", true, &q.to_ms) || !query_dims(req, res, filter, sizeof(filter)))
        return 0;
    struct list_ctx l = {.req = req, .out = &res->body, .key = key, .limit = limit};
    char position[KPI_DIMS_CANON_MAX + 32];
    if (cursor) {
        /* The cursor is "AT_MS DIMS": the last point of the previous page. */
        char *space;
        int64_t at;
        if (api_cursor_decode(cursor, position, sizeof(position)) < 0 || !(space = strchr(position, ' ')) ||
            kpi_parse_int64(position, (size_t)(space - position), INT64_MIN, INT64_MAX, &at) < 0)
            return api_problem(res, 400, "cursor: '%.64s' is not a cursor this list gave", cursor);
        l.have_cursor = true;
        l.after_at = at;
        l.after_dims = space + 1;
    }
    struct kpi_def d;
    int r = kpi_store_kpi_get(req->store, key, &d);
    if (r == -ENOENT)
        return api_problem(res, 404, "no KPI with key '%.64s'", key);
    if (r < 0)
        return r;
    q.kpi_id = d.id;
    q.dims = filter[0] ? filter : NULL;
    kpi_def_clear(&d);
    r = kpi_buf_adds(&res->body, "{\"items\":[");
    if (r == 0)
        r = kpi_store_points_scan(req->store, &q, list_cb, &l);
    if (r == 1)
        r = l.err;
    if (r == 0)
        r = kpi_buf_addc(&res->body, ']');
    if (r < 0)
        return r;
    char pos[KPI_DIMS_CANON_MAX + 32];
    snprintf(pos, sizeof(pos), "%lld %s", (long long)l.last_at, l.last_dims);
    return api_page_end(res, l.more ? pos : NULL);
}
