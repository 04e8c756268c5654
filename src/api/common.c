/*
 * Helpers every handler shares: JSON and problem+json answers, query parameters with their
 * validation, list pagination with opaque cursors, and write transactions under the server's
 * write lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "api/server.h"
#include "base/str.h"
#include "json/json.h"
#include "kpi/time.h"

void api_response_done(struct api_response *res)
{
    kpi_buf_free(&res->body);
    if (res->shared)
        api_cache_release(res->shared);
    res->shared = NULL;
    res->shared_data = NULL;
    res->shared_len = 0;
}

const char *api_response_body(const struct api_response *res, size_t *ret_len)
{
    if (res->shared) {
        *ret_len = res->shared_len;
        return res->shared_data;
    }
    *ret_len = res->body.len;
    return kpi_buf_str(&res->body);
}

int api_json(struct api_response *res, int status)
{
    res->status = status;
    res->content_type = "application/json";
    return 0;
}

static int problem_with(struct api_response *res, int status, const char *detail, const struct kpi_ingest_report *rep)
{
    api_response_done(res);
    res->status = status;
    res->content_type = "application/problem+json";
    if (kpi_json_problem(&res->body, status, detail, rep) < 0) {
        kpi_buf_reset(&res->body);
        kpi_buf_adds(&res->body, "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500}");
        res->status = 500;
    }
    return 0;
}

int api_problem(struct api_response *res, int status, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return problem_with(res, status, detail, NULL);
}

int api_problem_batch(struct api_response *res, int status, const char *detail, const struct kpi_ingest_report *rep)
{
    return problem_with(res, status, detail, rep);
}

int api_problem_code(struct api_response *res, int code, const struct kpi_diag *diag)
{
    const char *msg = diag && diag->msg[0] ? diag->msg : NULL;
    switch (code) {
    case -ENOENT:
        return api_problem(res, 404, "%s", msg ? msg : "not found");
    case -EEXIST:
        return api_problem(res, 409, "%s", msg ? msg : "already exists");
    case -EINVAL:
    case -ERANGE:
    case -ELOOP:
        return api_problem(res, 422, "%s", msg ? msg : "invalid");
    case -E2BIG:
        return api_problem(res, 413, "%s", msg ? msg : "too large");
    default:
        return api_problem(res, 500, "internal error (%s)", strerror(-code));
    }
}

const char *api_query(const struct api_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

bool api_query_check(const struct api_request *req, struct api_response *res, const char *const *allowed)
{
    for (size_t i = 0; i < req->n_query; i++) {
        const char *name = req->query[i].name;
        bool ok = false;
        for (size_t k = 0; allowed && allowed[k]; k++)
            if (strcmp(allowed[k], name) == 0)
                ok = true;
        if (!ok) {
            char list[256] = "";
            for (size_t k = 0; allowed && allowed[k]; k++) {
                size_t len = strlen(list);
                snprintf(list + len, sizeof(list) - len, "%s%s", k ? ", " : "", allowed[k]);
            }
            api_problem(res, 400, "query parameter '%.64s' is not known here (expected %s)", name, list[0] ? list : "none");
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(req->query[j].name, name) == 0) {
                api_problem(res, 400, "query parameter '%.64s' is given twice", name);
                return false;
            }
    }
    return true;
}

bool api_query_day(const struct api_request *req, struct api_response *res, const char *name, int64_t *ret_day)
{
    const char *v = api_query(req, name);
    if (!v)
        return true;
    int64_t day;
    if (kpi_date_parse(v, strlen(v), &day) < 0) {
        api_problem(res, 400, "%s: '%.64s' is not a date (YYYY-MM-DD)", name, v);
        return false;
    }
    *ret_day = day;
    return true;
}

bool api_query_int(const struct api_request *req, struct api_response *res, const char *name, long min, long max, long *ret)
{
    const char *v = api_query(req, name);
    if (!v)
        return true;
    int64_t n;
    if (kpi_parse_int64(v, strlen(v), INT64_MIN, INT64_MAX, &n) < 0) {
        api_problem(res, 400, "%s: '%.64s' is not an integer", name, v);
        return false;
    }
    if (n < min || n > max) {
        api_problem(res, 422, "%s: %lld is out of range (%ld to %ld)", name, (long long)n, min, max);
        return false;
    }
    *ret = (long)n;
    return true;
}

bool api_query_double(const struct api_request *req, struct api_response *res, const char *name, double *ret)
{
    const char *v = api_query(req, name);
    if (!v)
        return true;
    double d;
    if (kpi_parse_double(v, strlen(v), &d) < 0) {
        api_problem(res, 400, "%s: '%.64s' is not a number", name, v);
        return false;
    }
    *ret = d;
    return true;
}

bool api_query_bool(const struct api_request *req, struct api_response *res, const char *name, bool *ret)
{
    const char *v = api_query(req, name);
    if (!v)
        return true;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *ret = true;
    } else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
        *ret = false;
    } else {
        api_problem(res, 400, "%s: '%.64s' is not a boolean (true or false)", name, v);
        return false;
    }
    return true;
}

int64_t api_today(const struct api_request *req)
{
    return kpi_calendar_day_of(req->cal, kpi_clock_wall_ms());
}

bool api_query_as_of(const struct api_request *req, struct api_response *res, int64_t *ret_day)
{
    int64_t day = api_today(req);
    if (!api_query_day(req, res, "as_of", &day))
        return false;
    *ret_day = day;
    return true;
}

bool api_body_json(const struct api_request *req, struct api_response *res)
{
    const char *ct = req->content_type;
    size_t n = ct ? strcspn(ct, "; ") : 0;
    if (ct && ((n == 16 && strncasecmp(ct, "application/json", 16) == 0) || (n == 9 && strncasecmp(ct, "text/json", 9) == 0) ||
               (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0)))
        return true;
    /* No type, or curl's default for -d: accepted when the body is plainly JSON. */
    bool lenient = !ct || (n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0);
    const char *p = req->body;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (lenient && (*p == '{' || *p == '['))
        return true;
    if (ct)
        api_problem(res, 415, "Content-Type '%.64s' is not accepted here (send application/json)", ct);
    else
        api_problem(res, 415, "the body must be JSON (Content-Type: application/json)");
    return false;
}

bool api_page_params(const struct api_request *req, struct api_response *res, unsigned max, unsigned *ret_limit,
                     const char **ret_cursor)
{
    long limit = API_PAGE_DEFAULT < max ? API_PAGE_DEFAULT : max;
    if (!api_query_int(req, res, "limit", 1, (long)max, &limit))
        return false;
    *ret_limit = (unsigned)limit;
    *ret_cursor = api_query(req, "cursor");
    return true;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int api_cursor_encode(const char *position, char *out, size_t size)
{
    size_t len = strlen(position), o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | (unsigned char)position[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            if (o + 1 >= size)
                return -E2BIG;
            out[o++] = b64url[(acc >> bits) & 63];
        }
    }
    if (bits > 0) {
        if (o + 1 >= size)
            return -E2BIG;
        out[o++] = b64url[(acc << (6 - bits)) & 63];
    }
    out[o] = '\0';
    return 0;
}

int api_page_end(struct api_response *res, const char *next_position)
{
    int r = kpi_buf_adds(&res->body, ",\"next_cursor\":");
    if (r == 0 && next_position) {
        size_t size = strlen(next_position) / 3 * 4 + 8; /* base64url of the position, NUL */
        char *cursor = malloc(size);
        r = cursor ? api_cursor_encode(next_position, cursor, size) : -ENOMEM;
        if (r == 0)
            r = kpi_json_quote(&res->body, cursor);
        free(cursor);
    } else if (r == 0) {
        r = kpi_buf_adds(&res->body, "null");
    }
    if (r == 0)
        r = kpi_buf_addc(&res->body, '}');
    return r < 0 ? r : api_json(res, 200);
}

int api_cursor_decode(const char *cursor, char *out, size_t size)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *p = cursor; *p; p++) {
        const char *at = strchr(b64url, *p);
        if (!at || *p == '\0')
            return -EINVAL;
        acc = (acc << 6) | (uint32_t)(at - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= size)
                return -EINVAL;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    if (memchr(out, '\0', o))
        return -EINVAL;
    return 0;
}

int api_write_begin(struct api_request *req)
{
    pthread_mutex_lock(&req->server->write_lock);
    int r = kpi_store_begin(req->store);
    if (r < 0)
        pthread_mutex_unlock(&req->server->write_lock);
    return r;
}

int api_write_end(struct api_request *req, bool ok)
{
    int r;
    if (ok) {
        r = kpi_store_commit(req->store);
        if (r < 0)
            kpi_store_rollback(req->store);
        else
            atomic_fetch_add(&req->server->gen, 1);
        api_conn_forget_tokens();
    } else {
        r = kpi_store_rollback(req->store);
    }
    pthread_mutex_unlock(&req->server->write_lock);
    return r;
}

void api_org_changed(struct api_server *srv)
{
    atomic_fetch_add(&srv->org_gen, 1);
    atomic_fetch_add(&srv->gen, 1);
}
