/*
 * The storage interface over the HTTP API of `kpi serve` (see remote.h for the mapping and its
 * consequences). State kept in the client:
 * - every KPI met gets an entry whose index + 1 is the KPI's id here; the entry caches the
 *   definition (and, inside a transaction, the not yet sent version) and the KPI's points;
 * - dims get ids from a local table (0 is the empty set);
 * - a transaction is a log of definition and organisation writes plus a buffer of points, sent
 *   in order by commit.
 * Nothing here prints: failures come back as codes with the server's detail in the diag, and the
 * last one is kept for operations that take no diag (kpi_store_http_error).
 */
#include "base/clock.h"
#include "remote/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/str.h"
#include "base/strmap.h"
#include "json/json.h"
#include "json/parse.h"
#include "json/remote.h"
#include "kpi/dims.h"
#include "kpi/time.h"
#include "kpi/tz.h"
#include "remote/http.h"

#define TARGET_MAX 8192
#define LIST_PAGE "1000"
#define POINTS_PAGE "10000"
#define KEYS_MAX 1000000
#define DIMS_IDS_MAX 10000000

struct cpoint {
    int64_t at_ms;
    double value;
    int32_t dims_id;
    int32_t flags;
};

struct entry {
    char key[KPI_KEY_MAX + 1];
    bool has_def;
    bool pending; /* def was written in the open transaction */
    struct kpi_def def;
    bool points_loaded;
    bool points_uncacheable;
    struct cpoint *pts;
    size_t n_pts;
};

enum op_kind { OP_ORG, OP_INSERT, OP_UPDATE };

struct op {
    enum op_kind kind;
    struct kpi_def def;
    struct kpi_org org;
};

struct wpoint {
    int64_t kpi_id;
    int64_t dims_id;
    int64_t at_ms;
    double value;
    int flags;
};

struct http_store {
    struct kpi_store base;
    struct kpi_http *http;
    char last[KPI_DIAG_MAX];
    int last_code;
    int server_schema;

    bool have_org;
    struct kpi_org org;
    struct kpi_calendar cal;

    struct entry *entries;
    size_t n_entries, cap_entries;
    struct kpi_strmap keys;
    bool list_complete;
    size_t cached_points;

    struct kpi_strmap dims_ids;
    char **dims;
    size_t n_dims, cap_dims;

    bool in_tx;
    struct op *ops;
    size_t n_ops, cap_ops;
    struct wpoint *pending;
    size_t n_pending, cap_pending;
    size_t batch_max;
};

static const struct kpi_store_ops http_ops;

static struct http_store *to_http(struct kpi_store *s)
{
    return (struct http_store *)s;
}

static int reserve(void **p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < want)
        cap2 *= 2;
    void *grown = realloc(*p, cap2 * size);
    if (!grown)
        return -ENOMEM;
    *p = grown;
    *cap = cap2;
    return 0;
}

/* ---- requests ---- */

static void remember(struct http_store *st, int code, const char *msg)
{
    st->last_code = code;
    kpi_strlcpy(st->last, code ? msg : "", sizeof(st->last));
}

static int status_code(int status)
{
    switch (status) {
    case 400:
    case 415:
    case 422:
        return -EINVAL;
    case 401:
        return -EACCES;
    case 403:
        return -EPERM;
    case 404:
        return -ENOENT;
    case 409:
        return -EEXIST;
    case 413:
        return -E2BIG;
    case 429:
    case 503:
        return -EAGAIN;
    case 501:
        return -ENOSYS;
    default:
        return status >= 500 ? -EIO : -EPROTO;
    }
}

/* Sends a request; 0 with res (free its body) for a 2xx answer, else a negative code with the
 * server's detail in diag (and in st->last). */
static int call(struct http_store *st, const char *method, const char *target, const char *ctype, const char *body, size_t len,
                struct kpi_http_response *res, struct kpi_diag *diag)
{
    struct kpi_diag local = {""};
    if (!diag)
        diag = &local;
    int r = kpi_http_request(st->http, method, target, ctype, body, len, res, diag);
    if (r < 0) {
        remember(st, r, diag->msg);
        return r;
    }
    if (res->status >= 200 && res->status < 300) {
        remember(st, 0, "");
        return 0;
    }
    char detail[KPI_DIAG_MAX - 64];
    kpi_json_read_problem(res->body.data, res->body.len, detail, sizeof(detail));
    r = status_code(res->status);
    if (res->status == 401)
        kpi_diag_set(diag, r, "the server refused the token: %s", detail[0] ? detail : "unauthorized");
    else if (res->status == 403)
        kpi_diag_set(diag, r, "the token may not do this: %s", detail[0] ? detail : "forbidden");
    else if (detail[0])
        kpi_diag_set(diag, r, "%s", detail);
    else
        kpi_diag_set(diag, r, "%s %s: the server answered HTTP %d", method, target, res->status);
    if (res->status == 401 || res->status == 403 || !detail[0]) {
        remember(st, r, diag->msg);
    } else {
        char said[KPI_DIAG_MAX];
        snprintf(said, sizeof(said), "server: %s (HTTP %d)", detail, res->status);
        remember(st, r, said);
    }
    kpi_buf_free(&res->body);
    return r;
}

/* A failure to read what the server answered. */
static int bad_answer(struct http_store *st, int code, struct kpi_diag *diag)
{
    char msg[KPI_HTTP_URL_MAX + 2 * KPI_DIAG_MAX];
    snprintf(msg, sizeof(msg), "unexpected answer from %s: %s", kpi_http_base(st->http), diag->msg);
    kpi_strlcpy(diag->msg, msg, sizeof(diag->msg));
    remember(st, code, diag->msg);
    return code;
}

static int add_escaped(struct kpi_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int r = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && r == 0; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
            *p == '_' || *p == '~')
            r = kpi_buf_addc(b, (char)*p);
        else
            r = kpi_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    return r;
}

/* target = prefix + escaped(part) + suffix */
static int target_of(struct kpi_buf *b, const char *prefix, const char *part, const char *suffix)
{
    kpi_buf_init(b, TARGET_MAX);
    int r = kpi_buf_adds(b, prefix);
    if (r == 0 && part)
        r = add_escaped(b, part);
    if (r == 0 && suffix)
        r = kpi_buf_adds(b, suffix);
    return r;
}

/* Appends "&name=value" (or "?name=value" as the first parameter). */
static int add_param(struct kpi_buf *b, const char *name, const char *value)
{
    int r = kpi_buf_printf(b, "%c%s=", strchr(kpi_buf_str(b), '?') ? '&' : '?', name);
    return r < 0 ? r : add_escaped(b, value);
}

/* GET target with &cursor=C appended, for each page. */
typedef int (*page_fn)(struct http_store *st, const char *text, size_t len, char *ret_cursor, size_t size, void *ctx,
                       struct kpi_diag *diag);

static int get_pages(struct http_store *st, const struct kpi_buf *target, page_fn fn, void *ctx, struct kpi_diag *diag)
{
    char cursor[KPI_JSON_CURSOR_MAX + 1] = "";
    for (;;) {
        struct kpi_buf t;
        kpi_buf_init(&t, TARGET_MAX + KPI_JSON_CURSOR_MAX * 3);
        int r = kpi_buf_adds(&t, kpi_buf_str(target));
        if (r == 0 && cursor[0])
            r = add_param(&t, "cursor", cursor);
        if (r < 0) {
            kpi_buf_free(&t);
            return r;
        }
        struct kpi_http_response res;
        r = call(st, "GET", kpi_buf_str(&t), NULL, NULL, 0, &res, diag);
        kpi_buf_free(&t);
        if (r < 0)
            return r;
        r = fn(st, res.body.data, res.body.len, cursor, sizeof(cursor), ctx, diag);
        kpi_buf_free(&res.body);
        if (r != 0)
            return r < 0 && r != -ENOMEM ? bad_answer(st, r, diag) : r;
        if (!cursor[0])
            return 0;
    }
}

/* ---- the organisation and its calendar ---- */

static int load_calendar(struct http_store *st, const struct kpi_org *org, struct kpi_diag *diag)
{
    struct kpi_tz *tz;
    int r = kpi_tz_load(org->timezone, &tz);
    if (r < 0)
        return kpi_diag_set(diag, r, "timezone: cannot load '%s': %s", org->timezone, kpi_strerror(r));
    kpi_tz_free((struct kpi_tz *)st->cal.tz);
    st->cal.tz = tz;
    st->cal.fiscal_year_start = org->fiscal_year_start;
    st->org = *org;
    st->have_org = true;
    return 0;
}

static int fetch_org(struct http_store *st, struct kpi_diag *diag)
{
    struct kpi_http_response res;
    int r = call(st, "GET", "/api/v1/org", NULL, NULL, 0, &res, diag);
    if (r < 0)
        return r;
    struct kpi_org org;
    r = kpi_json_parse_org(res.body.data, res.body.len, NULL, &org, diag);
    kpi_buf_free(&res.body);
    if (r < 0)
        return bad_answer(st, r, diag);
    return load_calendar(st, &org, diag);
}

/* ---- entries: the KPIs met so far ---- */

static struct entry *entry_of_id(struct http_store *st, int64_t id)
{
    if (id < 1 || (uint64_t)id > st->n_entries)
        return NULL;
    return &st->entries[id - 1];
}

static struct entry *entry_find(struct http_store *st, const char *key, int64_t *ret_id)
{
    int64_t id;
    if (!kpi_strmap_get(&st->keys, key, strlen(key), &id))
        return NULL;
    if (ret_id)
        *ret_id = id;
    return entry_of_id(st, id);
}

/* The entry of key, made when new. The pointer is valid until the next entry is made. */
static int entry_get(struct http_store *st, const char *key, struct entry **ret, int64_t *ret_id)
{
    int64_t id;
    struct entry *e = entry_find(st, key, &id);
    if (!e) {
        int r = reserve((void **)&st->entries, &st->cap_entries, st->n_entries + 1, sizeof(*st->entries));
        if (r < 0)
            return r;
        id = (int64_t)st->n_entries + 1;
        r = kpi_strmap_put(&st->keys, key, strlen(key), id);
        if (r < 0)
            return r;
        e = &st->entries[st->n_entries++];
        memset(e, 0, sizeof(*e));
        kpi_strlcpy(e->key, key, sizeof(e->key));
    }
    *ret = e;
    if (ret_id)
        *ret_id = id;
    return 0;
}

static void drop_points(struct http_store *st, struct entry *e)
{
    st->cached_points -= e->n_pts;
    free(e->pts);
    e->pts = NULL;
    e->n_pts = 0;
    e->points_loaded = false;
    e->points_uncacheable = false;
}

static void forget_points(struct http_store *st)
{
    for (size_t i = 0; i < st->n_entries; i++)
        drop_points(st, &st->entries[i]);
}

static void forget_def(struct entry *e)
{
    if (e->has_def)
        kpi_def_clear(&e->def);
    e->has_def = false;
    e->pending = false;
}

/* Forgets every cached definition (ids stay). */
static void forget_defs(struct http_store *st)
{
    for (size_t i = 0; i < st->n_entries; i++)
        forget_def(&st->entries[i]);
    st->list_complete = false;
}

/* Replaces the entry's definition by a copy of d, with the entry's id. */
static int entry_set(struct entry *e, int64_t id, const struct kpi_def *d, bool pending)
{
    struct kpi_def copy;
    int r = kpi_def_copy(d, &copy);
    if (r < 0)
        return r;
    copy.id = id;
    forget_def(e);
    e->def = copy;
    e->has_def = true;
    e->pending = pending;
    return 0;
}

/* Stores a definition read from the server. */
static int remember_def(struct http_store *st, const struct kpi_def *d, int64_t *ret_id)
{
    struct entry *e;
    int64_t id;
    int r = entry_get(st, d->key, &e, &id);
    if (r == 0 && !e->pending)
        r = entry_set(e, id, d, false);
    if (r == 0 && ret_id)
        *ret_id = id;
    return r;
}

static int fetch_def(struct http_store *st, const char *key, struct kpi_diag *diag)
{
    struct kpi_buf t;
    int r = target_of(&t, "/api/v1/kpis/", key, NULL);
    struct kpi_http_response res;
    if (r == 0)
        r = call(st, "GET", kpi_buf_str(&t), NULL, NULL, 0, &res, diag);
    kpi_buf_free(&t);
    if (r < 0)
        return r;
    struct kpi_def d;
    r = kpi_json_read_def(res.body.data, res.body.len, &d, diag);
    kpi_buf_free(&res.body);
    if (r < 0)
        return bad_answer(st, r, diag);
    r = remember_def(st, &d, NULL);
    kpi_def_clear(&d);
    return r;
}

/* The entry of key with its definition: -ENOENT when the server has no such KPI. */
static int known_def(struct http_store *st, const char *key, struct entry **ret, int64_t *ret_id, struct kpi_diag *diag)
{
    if (!kpi_key_valid(key))
        return -ENOENT;
    int64_t id;
    struct entry *e = entry_find(st, key, &id);
    if (!e || !e->has_def) {
        if (st->list_complete)
            return -ENOENT;
        int r = fetch_def(st, key, diag);
        if (r < 0)
            return r;
        e = entry_find(st, key, &id);
    }
    if (!e || !e->has_def)
        return -ENOENT;
    *ret = e;
    if (ret_id)
        *ret_id = id;
    return 0;
}

static int def_page(struct http_store *st, const char *text, size_t len, char *cursor, size_t size, void *ctx,
                    struct kpi_diag *diag)
{
    struct kpi_def *defs = NULL;
    size_t n = 0;
    int r = kpi_json_read_def_page(text, len, &defs, &n, cursor, size, diag);
    for (size_t i = 0; i < n && r == 0; i++)
        r = remember_def(st, &defs[i], NULL);
    kpi_store_kpi_list_free(defs, n);
    return r;
}

static int fetch_all_defs(struct http_store *st, struct kpi_diag *diag)
{
    if (st->list_complete)
        return 0;
    struct kpi_buf t;
    kpi_buf_init(&t, TARGET_MAX);
    int r = kpi_buf_adds(&t, "/api/v1/kpis?archived=true&limit=" LIST_PAGE);
    if (r == 0)
        r = get_pages(st, &t, def_page, NULL, diag);
    kpi_buf_free(&t);
    if (r == 0)
        st->list_complete = true;
    return r;
}

/* ---- dims ---- */

static int dims_id_of(struct http_store *st, const char *canon, int64_t *ret_id)
{
    size_t len = strlen(canon);
    if (len == 0) {
        *ret_id = 0;
        return 0;
    }
    if (kpi_strmap_get(&st->dims_ids, canon, len, ret_id))
        return 0;
    int r = reserve((void **)&st->dims, &st->cap_dims, st->n_dims + 1, sizeof(*st->dims));
    if (r < 0)
        return r;
    char *copy = strdup(canon);
    if (!copy)
        return -ENOMEM;
    int64_t id = (int64_t)st->n_dims;
    r = kpi_strmap_put(&st->dims_ids, canon, len, id);
    if (r < 0) {
        free(copy);
        return r;
    }
    st->dims[st->n_dims++] = copy;
    *ret_id = id;
    return 0;
}

static const char *dims_text(struct http_store *st, int64_t id)
{
    return id >= 0 && (uint64_t)id < st->n_dims ? st->dims[id] : NULL;
}

/* ---- operations ---- */

static void http_close(struct kpi_store *s)
{
    struct http_store *st = to_http(s);
    for (size_t i = 0; i < st->n_entries; i++) {
        forget_def(&st->entries[i]);
        free(st->entries[i].pts);
    }
    free(st->entries);
    kpi_strmap_free(&st->keys);
    for (size_t i = 0; i < st->n_dims; i++)
        free(st->dims[i]);
    free(st->dims);
    kpi_strmap_free(&st->dims_ids);
    for (size_t i = 0; i < st->n_ops; i++)
        if (st->ops[i].kind != OP_ORG)
            kpi_def_clear(&st->ops[i].def);
    free(st->ops);
    free(st->pending);
    kpi_tz_free((struct kpi_tz *)st->cal.tz);
    kpi_http_free(st->http);
    free(st);
}

static int http_schema_version(struct kpi_store *s, int *ret_version)
{
    struct http_store *st = to_http(s);
    struct kpi_http_response res;
    struct kpi_diag diag = {""};
    int r = call(st, "GET", "/readyz", NULL, NULL, 0, &res, &diag);
    if (r < 0)
        return r;
    int version;
    r = kpi_json_read_ready(res.body.data, res.body.len, &version, &diag);
    kpi_buf_free(&res.body);
    if (r < 0)
        return bad_answer(st, r, &diag);
    st->server_schema = version;
    *ret_version = version > 0 ? version : KPI_SCHEMA_VERSION;
    return 0;
}

static int http_begin(struct kpi_store *s)
{
    struct http_store *st = to_http(s);
    if (st->in_tx)
        return -EBUSY;
    st->in_tx = true;
    return 0;
}

static void clear_tx(struct http_store *st)
{
    for (size_t i = 0; i < st->n_ops; i++)
        if (st->ops[i].kind != OP_ORG)
            kpi_def_clear(&st->ops[i].def);
    st->n_ops = 0;
    st->n_pending = 0;
    st->in_tx = false;
}

static int send_org(struct http_store *st, const struct kpi_org *org, struct kpi_diag *diag)
{
    struct kpi_buf body;
    kpi_buf_init(&body, 1 << 16);
    int r = kpi_json_org(&body, org, KPI_JSON_COMPACT);
    struct kpi_http_response res;
    if (r == 0)
        r = call(st, "PUT", "/api/v1/org", "application/json", body.data, body.len, &res, diag);
    kpi_buf_free(&body);
    if (r < 0)
        return r;
    struct kpi_org answer;
    r = kpi_json_parse_org(res.body.data, res.body.len, NULL, &answer, diag);
    kpi_buf_free(&res.body);
    if (r < 0)
        return bad_answer(st, r, diag);
    return load_calendar(st, &answer, diag);
}

/* POST (insert) or PUT (update) a definition; the answer replaces the cached one and fills
 * def's times. */
static int send_def(struct http_store *st, struct kpi_def *def, bool insert, struct kpi_diag *diag)
{
    struct kpi_buf body, t;
    kpi_buf_init(&body, 4u << 20);
    int r = kpi_json_def(&body, def, KPI_JSON_COMPACT);
    if (r == 0)
        r = insert ? target_of(&t, "/api/v1/kpis", NULL, NULL) : target_of(&t, "/api/v1/kpis/", def->key, NULL);
    else
        kpi_buf_init(&t, 1);
    struct kpi_http_response res;
    if (r == 0)
        r = call(st, insert ? "POST" : "PUT", kpi_buf_str(&t), "application/json", body.data, body.len, &res, diag);
    kpi_buf_free(&body);
    kpi_buf_free(&t);
    if (r < 0)
        return r;
    struct kpi_def answer;
    r = kpi_json_read_def(res.body.data, res.body.len, &answer, diag);
    kpi_buf_free(&res.body);
    if (r < 0)
        return bad_answer(st, r, diag);
    struct entry *e;
    int64_t id;
    r = entry_get(st, answer.key, &e, &id);
    if (r == 0)
        r = entry_set(e, id, &answer, false);
    if (r == 0) {
        def->id = id;
        def->created_ms = answer.created_ms;
        def->updated_ms = answer.updated_ms;
    }
    kpi_def_clear(&answer);
    return r;
}

/* Appends one buffered point to a batch body. */
static int batch_add(struct http_store *st, struct kpi_buf *body, const struct wpoint *p, size_t index_in_batch)
{
    struct entry *e = entry_of_id(st, p->kpi_id);
    const char *dims = dims_text(st, p->dims_id);
    if (!e || !dims)
        return -EINVAL;
    char at[48];
    if (p->flags & KPI_POINT_DATE)
        kpi_date_format(kpi_calendar_day_of(&st->cal, p->at_ms), at, sizeof(at));
    else
        kpi_instant_format(p->at_ms, at, sizeof(at));
    int r = kpi_buf_addc(body, index_in_batch ? ',' : '[');
    return r < 0 ? r : kpi_json_point(body, e->key, at, p->value, dims);
}

/* Sends the buffered points in batches; a 413 halves the batch and tries again. */
static int send_points(struct http_store *st, struct kpi_diag *diag)
{
    size_t done = 0;
    struct kpi_buf body;
    kpi_buf_init(&body, KPI_REMOTE_BATCH_BYTES + (64u << 10));
    int r = 0;
    while (done < st->n_pending && r == 0) {
        kpi_buf_reset(&body);
        size_t n = 0;
        while (done + n < st->n_pending && n < st->batch_max && body.len < KPI_REMOTE_BATCH_BYTES && r == 0) {
            r = batch_add(st, &body, &st->pending[done + n], n);
            n++;
        }
        if (r == 0)
            r = kpi_buf_addc(&body, ']');
        if (r < 0)
            break;
        struct kpi_http_response res;
        r = call(st, "POST", "/api/v1/points", "application/json", body.data, body.len, &res, diag);
        if (r == -E2BIG && n > 1) {
            st->batch_max = n / 2;
            r = 0;
            continue;
        }
        if (r < 0)
            break;
        kpi_buf_free(&res.body);
        done += n;
    }
    kpi_buf_free(&body);
    if (r == 0)
        st->n_pending = 0;
    return r;
}

static int flush(struct http_store *st, struct kpi_diag *diag)
{
    int r = 0;
    for (size_t i = 0; i < st->n_ops && r == 0; i++) {
        struct op *o = &st->ops[i];
        if (o->kind == OP_ORG)
            r = send_org(st, &o->org, diag);
        else
            r = send_def(st, &o->def, o->kind == OP_INSERT, diag);
    }
    if (r == 0)
        r = send_points(st, diag);
    return r;
}

static int http_commit(struct kpi_store *s)
{
    struct http_store *st = to_http(s);
    if (!st->in_tx)
        return -EINVAL;
    struct kpi_diag diag = {""};
    int r = flush(st, &diag);
    clear_tx(st);
    forget_points(st);
    if (r < 0) {
        /* What the server holds now is unknown: read everything again. */
        forget_defs(st);
        st->have_org = false;
    }
    return r;
}

static int http_rollback(struct kpi_store *s)
{
    struct http_store *st = to_http(s);
    if (!st->in_tx)
        return 0;
    bool org_changed = false;
    for (size_t i = 0; i < st->n_ops; i++)
        org_changed |= st->ops[i].kind == OP_ORG;
    clear_tx(st);
    for (size_t i = 0; i < st->n_entries; i++)
        if (st->entries[i].pending) {
            forget_def(&st->entries[i]);
            st->list_complete = false;
        }
    if (org_changed)
        st->have_org = false;
    return 0;
}

static int http_begin_read(struct kpi_store *s)
{
    (void)s;
    return 0;
}

static int http_org_get(struct kpi_store *s, struct kpi_org *ret_org)
{
    struct http_store *st = to_http(s);
    if (!st->have_org) {
        int r = fetch_org(st, NULL);
        if (r < 0)
            return r;
    }
    *ret_org = st->org;
    return 0;
}

static int http_org_set(struct kpi_store *s, const struct kpi_org *org)
{
    struct http_store *st = to_http(s);
    struct kpi_diag diag = {""};
    if (!st->in_tx) {
        int r = send_org(st, org, &diag);
        if (r < 0 && !st->last_code)
            remember(st, r, diag.msg);
        return r;
    }
    int r = reserve((void **)&st->ops, &st->cap_ops, st->n_ops + 1, sizeof(*st->ops));
    if (r < 0)
        return r;
    r = load_calendar(st, org, &diag);
    if (r < 0) {
        remember(st, r, diag.msg);
        return r;
    }
    st->ops[st->n_ops++] = (struct op){.kind = OP_ORG, .org = *org};
    return 0;
}

static int http_kpi_get(struct kpi_store *s, const char *key, struct kpi_def *ret_def)
{
    struct http_store *st = to_http(s);
    struct entry *e;
    int r = known_def(st, key, &e, NULL, NULL);
    if (r < 0)
        return r;
    return kpi_def_copy(&e->def, ret_def);
}

static int compare_defs(const void *a, const void *b)
{
    return strcmp(((const struct kpi_def *)a)->key, ((const struct kpi_def *)b)->key);
}

static int http_kpi_list(struct kpi_store *s, bool include_archived, struct kpi_def **ret_defs, size_t *ret_n)
{
    struct http_store *st = to_http(s);
    int r = fetch_all_defs(st, NULL);
    if (r < 0)
        return r;
    struct kpi_def *defs = calloc(st->n_entries + 1, sizeof(*defs));
    if (!defs)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < st->n_entries && r == 0; i++) {
        const struct entry *e = &st->entries[i];
        if (!e->has_def || (!include_archived && e->def.archived))
            continue;
        r = kpi_def_copy(&e->def, &defs[n]);
        if (r == 0)
            n++;
    }
    if (r < 0) {
        kpi_store_kpi_list_free(defs, n);
        return r;
    }
    qsort(defs, n, sizeof(*defs), compare_defs);
    *ret_defs = defs;
    *ret_n = n;
    return 0;
}

/* Records a definition write in the open transaction. */
static int queue_def(struct http_store *st, struct kpi_def *def, enum op_kind kind, struct entry *e, int64_t id)
{
    int r = reserve((void **)&st->ops, &st->cap_ops, st->n_ops + 1, sizeof(*st->ops));
    if (r < 0)
        return r;
    int64_t now = kpi_clock_wall_ms();
    if (kind == OP_INSERT)
        def->created_ms = now;
    def->updated_ms = now;
    def->id = id;
    struct op o = {.kind = kind};
    r = kpi_def_copy(def, &o.def);
    if (r < 0)
        return r;
    r = entry_set(e, id, def, true);
    if (r < 0) {
        kpi_def_clear(&o.def);
        return r;
    }
    st->ops[st->n_ops++] = o;
    return 0;
}

static int http_kpi_insert(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag)
{
    struct http_store *st = to_http(s);
    if (!st->in_tx)
        return send_def(st, def, true, diag);
    struct entry *e;
    int64_t id;
    int r = known_def(st, def->key, &e, &id, diag);
    if (r == 0)
        return kpi_diag_set(diag, -EEXIST, "key: a KPI with key '%s' already exists", def->key);
    if (r != -ENOENT)
        return r;
    r = entry_get(st, def->key, &e, &id);
    return r < 0 ? r : queue_def(st, def, OP_INSERT, e, id);
}

static int http_kpi_update(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag)
{
    struct http_store *st = to_http(s);
    struct entry *e;
    int64_t id;
    int r = known_def(st, def->key, &e, &id, diag);
    if (r == -ENOENT)
        return kpi_diag_set(diag, r, "no KPI with key '%s'", def->key);
    if (r < 0)
        return r;
    if (!st->in_tx)
        return send_def(st, def, false, diag);
    return queue_def(st, def, OP_UPDATE, e, id);
}

static int http_dims_intern(struct kpi_store *s, const char *canon, int64_t *ret_id)
{
    return dims_id_of(to_http(s), canon, ret_id);
}

static int http_points_put(struct kpi_store *s, int64_t kpi_id, int64_t dims_id, const struct kpi_point_write *pts, size_t n)
{
    struct http_store *st = to_http(s);
    if (!entry_of_id(st, kpi_id) || !dims_text(st, dims_id))
        return -EINVAL;
    if (n > KPI_REMOTE_PENDING_MAX - st->n_pending)
        return -E2BIG;
    int r = reserve((void **)&st->pending, &st->cap_pending, st->n_pending + n, sizeof(*st->pending));
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        st->pending[st->n_pending++] = (struct wpoint){kpi_id, dims_id, pts[i].at_ms, pts[i].value, pts[i].flags};
    if (st->in_tx)
        return 0;
    /* Outside a transaction a write is its own transaction. */
    struct kpi_diag diag = {""};
    r = send_points(st, &diag);
    st->n_pending = 0;
    forget_points(st);
    return r;
}

/* ---- reading points ---- */

/* Where the points of a page go: a converted point per call. */
typedef int (*point_sink)(void *ctx, int64_t at_ms, double value, int flags, int64_t dims_id);

struct page_read {
    struct http_store *st;
    point_sink sink;
    void *ctx;
};

static int page_point(void *ctx, const char *at_text, double value, const char *canon)
{
    struct page_read *pr = ctx;
    struct kpi_at at;
    if (kpi_at_parse(at_text, strlen(at_text), &at) < 0)
        return -EINVAL;
    int64_t ms, dims_id;
    int flags;
    if (at.is_date) {
        ms = kpi_calendar_day_start(&pr->st->cal, at.day);
        flags = KPI_POINT_DATE;
    } else {
        ms = at.ms;
        flags = 0;
    }
    int r = dims_id_of(pr->st, canon, &dims_id);
    return r < 0 ? r : pr->sink(pr->ctx, ms, value, flags, dims_id);
}

static int points_page(struct http_store *st, const char *text, size_t len, char *cursor, size_t size, void *ctx,
                       struct kpi_diag *diag)
{
    return kpi_json_read_point_page(text, len, page_point, ctx, cursor, size, diag);
}

/* Instants the server reads back: years 1 to 9999. */
#define INSTANT_MIN INT64_C(-62135596800000)
#define INSTANT_MAX INT64_C(253402300799999)

/* The dims filter of a query as key:value,key2:value2, or "" when a value holds a ',' (the
 * client filters then). */
static int dims_param(const char *filter, struct kpi_buf *out)
{
    struct kpi_dim d[KPI_DIMS_MAX];
    int n = kpi_dims_split(filter, d, KPI_DIMS_MAX);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++)
        if (memchr(d[i].value, ',', d[i].value_len))
            return 0;
    int r = 0;
    for (int i = 0; i < n && r == 0; i++)
        r = kpi_buf_printf(out, "%s%.*s:%.*s", i ? "," : "", (int)d[i].key_len, d[i].key, (int)d[i].value_len, d[i].value);
    return r;
}

/* Streams the points of key matching q (range and dims narrowed on the server when q has them)
 * into sink, in (dims, at) order. 404 reads as no points. */
static int fetch_points(struct http_store *st, const char *key, const struct kpi_point_query *q, point_sink sink, void *ctx)
{
    struct kpi_buf t, dims;
    kpi_buf_init(&dims, KPI_DIMS_CANON_MAX + 1);
    int r = target_of(&t, "/api/v1/kpis/", key, "/points?limit=" POINTS_PAGE);
    char at[48];
    if (r == 0 && q && q->from_ms > INSTANT_MIN && q->from_ms <= INSTANT_MAX) {
        kpi_instant_format(q->from_ms, at, sizeof(at));
        r = add_param(&t, "from", at);
    }
    if (r == 0 && q && q->to_ms > INSTANT_MIN && q->to_ms - 1 < INSTANT_MAX) {
        /* The server's `to` instant is inclusive; the query's is exclusive. */
        kpi_instant_format(q->to_ms - 1, at, sizeof(at));
        r = add_param(&t, "to", at);
    }
    if (r == 0 && q && q->dims && *q->dims)
        r = dims_param(q->dims, &dims);
    if (r == 0 && dims.len)
        r = add_param(&t, "dims", kpi_buf_str(&dims));
    kpi_buf_free(&dims);
    struct page_read pr = {st, sink, ctx};
    struct kpi_diag diag = {""};
    if (r == 0)
        r = get_pages(st, &t, points_page, &pr, &diag);
    kpi_buf_free(&t);
    if (r == -ENOENT && st->last_code == -ENOENT)
        r = 0;
    return r;
}

struct cache_fill {
    struct http_store *st;
    struct cpoint *pts;
    size_t n, cap;
};

static int cache_point(void *ctx, int64_t at_ms, double value, int flags, int64_t dims_id)
{
    struct cache_fill *f = ctx;
    if (f->st->cached_points + f->n >= KPI_REMOTE_CACHE_POINTS_MAX || dims_id > INT32_MAX)
        return 1; /* too many to keep: stream instead */
    int r = reserve((void **)&f->pts, &f->cap, f->n + 1, sizeof(*f->pts));
    if (r < 0)
        return r;
    f->pts[f->n++] = (struct cpoint){at_ms, value, (int32_t)dims_id, flags};
    return 0;
}

/* Loads the KPI's points into the cache unless there are too many. */
static int load_points(struct http_store *st, int64_t kpi_id)
{
    struct entry *e = entry_of_id(st, kpi_id);
    if (!e)
        return -ENOENT;
    if (e->points_loaded || e->points_uncacheable)
        return 0;
    char key[KPI_KEY_MAX + 1];
    kpi_strlcpy(key, e->key, sizeof(key));
    struct cache_fill f = {st, NULL, 0, 0};
    int r = fetch_points(st, key, NULL, cache_point, &f);
    e = entry_of_id(st, kpi_id); /* entries may have moved */
    if (r == 1) {
        free(f.pts);
        e->points_uncacheable = true;
        return 0;
    }
    if (r < 0) {
        free(f.pts);
        return r;
    }
    e->pts = f.pts;
    e->n_pts = f.n;
    e->points_loaded = true;
    st->cached_points += f.n;
    return 0;
}

struct scan_filter {
    struct http_store *st;
    const struct kpi_point_query *q;
    kpi_point_cb cb;
    void *ctx;
    int64_t kpi_id;
};

static int filter_point(void *ctx, int64_t at_ms, double value, int flags, int64_t dims_id)
{
    struct scan_filter *f = ctx;
    if (at_ms < f->q->from_ms || at_ms >= f->q->to_ms)
        return 0;
    const char *canon = dims_text(f->st, dims_id);
    if (!canon)
        return -EIO;
    if (f->q->dims && *f->q->dims && !kpi_dims_match(canon, f->q->dims))
        return 0;
    struct kpi_point_row row = {f->kpi_id, canon, at_ms, value, flags};
    return f->cb(f->ctx, &row);
}

static int scan_one(struct http_store *st, int64_t kpi_id, const struct kpi_point_query *q, kpi_point_cb cb, void *ctx)
{
    int r = load_points(st, kpi_id);
    if (r < 0)
        return r;
    struct entry *e = entry_of_id(st, kpi_id);
    struct scan_filter f = {st, q, cb, ctx, kpi_id};
    if (e->points_uncacheable) {
        char key[KPI_KEY_MAX + 1];
        kpi_strlcpy(key, e->key, sizeof(key));
        return fetch_points(st, key, q, filter_point, &f);
    }
    for (size_t i = 0; i < e->n_pts; i++) {
        const struct cpoint *p = &e->pts[i];
        r = filter_point(&f, p->at_ms, p->value, p->flags, p->dims_id);
        if (r != 0)
            return r;
    }
    return 0;
}

static int http_points_scan(struct kpi_store *s, const struct kpi_point_query *q, kpi_point_cb cb, void *ctx)
{
    struct http_store *st = to_http(s);
    if (q->kpi_id > 0)
        return entry_of_id(st, q->kpi_id) ? scan_one(st, q->kpi_id, q, cb, ctx) : 0;
    int r = fetch_all_defs(st, NULL);
    for (size_t i = 0; i < st->n_entries && r == 0; i++)
        if (st->entries[i].has_def && !st->entries[i].def.formula)
            r = scan_one(st, (int64_t)i + 1, q, cb, ctx);
    return r;
}

struct span {
    int64_t n, first, last;
};

static int span_point(void *ctx, const struct kpi_point_row *row)
{
    struct span *sp = ctx;
    if (sp->n == 0 || row->at_ms < sp->first)
        sp->first = row->at_ms;
    if (sp->n == 0 || row->at_ms > sp->last)
        sp->last = row->at_ms;
    sp->n++;
    return 0;
}

static int http_points_count(struct kpi_store *s, int64_t kpi_id, int64_t *ret_n)
{
    struct span sp = {0, 0, 0};
    struct kpi_point_query q = {kpi_id, INT64_MIN, INT64_MAX, NULL};
    int r = http_points_scan(s, &q, span_point, &sp);
    if (r < 0)
        return r;
    *ret_n = sp.n;
    return 0;
}

static int http_points_span(struct kpi_store *s, int64_t kpi_id, int64_t *ret_first_ms, int64_t *ret_last_ms)
{
    struct span sp = {0, 0, 0};
    struct kpi_point_query q = {kpi_id, INT64_MIN, INT64_MAX, NULL};
    if (kpi_id <= 0)
        return -ENOENT;
    int r = http_points_scan(s, &q, span_point, &sp);
    if (r < 0)
        return r;
    if (sp.n == 0)
        return -ENOENT;
    *ret_first_ms = sp.first;
    *ret_last_ms = sp.last;
    return 0;
}

/* ---- reviews, actions, annotations ---- */

static int http_review_add(struct kpi_store *s, struct kpi_review *review, struct kpi_action *actions, size_t n_actions)
{
    struct http_store *st = to_http(s);
    struct kpi_buf body, t;
    kpi_buf_init(&body, 1u << 20);
    int r = kpi_json_review_input(&body, review, actions, n_actions);
    if (r == 0)
        r = review->kpi[0] ? target_of(&t, "/api/v1/kpis/", review->kpi, "/reviews") : target_of(&t, "/api/v1/reviews", NULL, NULL);
    else
        kpi_buf_init(&t, 1);
    struct kpi_http_response res;
    struct kpi_diag diag = {""};
    if (r == 0)
        r = call(st, "POST", kpi_buf_str(&t), "application/json", body.data, body.len, &res, &diag);
    kpi_buf_free(&body);
    kpi_buf_free(&t);
    if (r < 0)
        return r;
    r = kpi_json_read_review_answer(res.body.data, res.body.len, review, actions, n_actions, &diag);
    kpi_buf_free(&res.body);
    return r < 0 ? bad_answer(st, r, &diag) : 0;
}

struct list_acc {
    void *items;
    size_t n;
};

static int review_page(struct http_store *st, const char *text, size_t len, char *cursor, size_t size, void *ctx,
                       struct kpi_diag *diag)
{
    struct list_acc *acc = ctx;
    return kpi_json_read_review_page(text, len, (struct kpi_review **)&acc->items, &acc->n, cursor, size, diag);
}

static int action_page(struct http_store *st, const char *text, size_t len, char *cursor, size_t size, void *ctx,
                       struct kpi_diag *diag)
{
    struct list_acc *acc = ctx;
    return kpi_json_read_action_page(text, len, (struct kpi_action **)&acc->items, &acc->n, cursor, size, diag);
}

static int annotation_page(struct http_store *st, const char *text, size_t len, char *cursor, size_t size, void *ctx,
                           struct kpi_diag *diag)
{
    struct list_acc *acc = ctx;
    return kpi_json_read_annotation_page(text, len, (struct kpi_annotation **)&acc->items, &acc->n, cursor, size, diag);
}

static int token_page(struct http_store *st, const char *text, size_t len, char *cursor, size_t size, void *ctx,
                      struct kpi_diag *diag)
{
    struct list_acc *acc = ctx;
    return kpi_json_read_token_page(text, len, (struct kpi_token **)&acc->items, &acc->n, cursor, size, diag);
}

static int http_reviews_list(struct kpi_store *s, const char *kpi, int64_t to_day, struct kpi_review **ret, size_t *ret_n)
{
    struct http_store *st = to_http(s);
    struct kpi_buf t;
    int r = kpi ? target_of(&t, "/api/v1/kpis/", kpi, "/reviews?limit=" LIST_PAGE)
                : target_of(&t, "/api/v1/reviews?limit=" LIST_PAGE, NULL, NULL);
    struct list_acc acc = {NULL, 0};
    if (r == 0)
        r = get_pages(st, &t, review_page, &acc, NULL);
    kpi_buf_free(&t);
    struct kpi_review *list = acc.items;
    if (r == -ENOENT && kpi) /* an unknown KPI has no reviews */
        r = 0;
    if (r < 0) {
        kpi_store_reviews_free(list, acc.n);
        return r;
    }
    size_t n = 0;
    for (size_t i = 0; i < acc.n; i++) {
        if (list[i].day <= to_day) {
            list[n++] = list[i];
        } else {
            free(list[i].team);
            free(list[i].note);
            free(list[i].author);
        }
    }
    *ret = list;
    *ret_n = n;
    return 0;
}

static int http_actions_list(struct kpi_store *s, const struct kpi_action_query *q, struct kpi_action **ret, size_t *ret_n)
{
    struct http_store *st = to_http(s);
    struct kpi_buf t;
    int r = target_of(&t, "/api/v1/actions?limit=" LIST_PAGE, NULL, NULL);
    if (r == 0 && q && q->owner)
        r = add_param(&t, "owner", q->owner);
    if (r == 0 && q && q->open_only)
        r = add_param(&t, "open", "true");
    struct list_acc acc = {NULL, 0};
    if (r == 0)
        r = get_pages(st, &t, action_page, &acc, NULL);
    kpi_buf_free(&t);
    if (r < 0) {
        kpi_store_actions_free(acc.items, acc.n);
        return r;
    }
    *ret = acc.items;
    *ret_n = acc.n;
    return 0;
}

static int http_action_done(struct kpi_store *s, int64_t id, int64_t done_ms)
{
    struct http_store *st = to_http(s);
    /* The server records its own time; 0 reopens. */
    char target[64];
    snprintf(target, sizeof(target), "/api/v1/actions/%lld", (long long)id);
    const char *body = done_ms ? "{\"done\":true}" : "{\"done\":false}";
    struct kpi_http_response res;
    int r = call(st, "PATCH", target, "application/json", body, strlen(body), &res, NULL);
    if (r < 0)
        return r;
    kpi_buf_free(&res.body);
    return 0;
}

static int http_annotation_add(struct kpi_store *s, struct kpi_annotation *a)
{
    struct http_store *st = to_http(s);
    struct kpi_buf body, t;
    kpi_buf_init(&body, 1u << 16);
    int r = kpi_json_annotation_input(&body, a);
    if (r == 0)
        r = a->kpi[0] ? target_of(&t, "/api/v1/kpis/", a->kpi, "/annotations") : target_of(&t, "/api/v1/annotations", NULL, NULL);
    else
        kpi_buf_init(&t, 1);
    struct kpi_http_response res;
    struct kpi_diag diag = {""};
    if (r == 0)
        r = call(st, "POST", kpi_buf_str(&t), "application/json", body.data, body.len, &res, &diag);
    kpi_buf_free(&body);
    kpi_buf_free(&t);
    if (r < 0)
        return r;
    int64_t id;
    r = kpi_json_read_id(res.body.data, res.body.len, &id, &diag);
    kpi_buf_free(&res.body);
    if (r < 0)
        return bad_answer(st, r, &diag);
    a->id = id;
    a->created_ms = kpi_clock_wall_ms();
    return 0;
}

static int day_param(struct kpi_buf *t, const char *name, int64_t day)
{
    if (day <= KPI_DAY_MIN || day >= KPI_DAY_MAX)
        return 0;
    char text[16];
    kpi_date_format(day, text, sizeof(text));
    return add_param(t, name, text);
}

static int annotations_get(struct http_store *st, const char *kpi, int64_t from_day, int64_t to_day, struct list_acc *acc)
{
    struct kpi_buf t;
    int r = kpi ? target_of(&t, "/api/v1/kpis/", kpi, "/annotations?limit=" LIST_PAGE)
                : target_of(&t, "/api/v1/annotations?limit=" LIST_PAGE, NULL, NULL);
    if (r == 0)
        r = day_param(&t, "from", from_day);
    if (r == 0)
        r = day_param(&t, "to", to_day);
    if (r == 0)
        r = get_pages(st, &t, annotation_page, acc, NULL);
    kpi_buf_free(&t);
    return r;
}

static int http_annotations_list(struct kpi_store *s, const char *kpi, int64_t from_day, int64_t to_day,
                                 struct kpi_annotation **ret, size_t *ret_n)
{
    struct http_store *st = to_http(s);
    struct list_acc acc = {NULL, 0};
    int r = annotations_get(st, kpi, from_day, to_day, &acc);
    bool unknown_kpi = false;
    if (r == -ENOENT && kpi) {
        /* An unknown KPI: only the organisation-wide annotations apply. */
        kpi_store_annotations_free(acc.items, acc.n);
        acc = (struct list_acc){NULL, 0};
        unknown_kpi = true;
        r = annotations_get(st, NULL, from_day, to_day, &acc);
    }
    if (r < 0) {
        kpi_store_annotations_free(acc.items, acc.n);
        return r;
    }
    struct kpi_annotation *list = acc.items;
    size_t n = 0;
    for (size_t i = 0; i < acc.n; i++) {
        bool keep = list[i].day >= from_day && list[i].day <= to_day && (!unknown_kpi || !list[i].kpi[0]);
        if (keep)
            list[n++] = list[i];
        else
            free(list[i].text);
    }
    *ret = list;
    *ret_n = n;
    return 0;
}

static int http_data_version(struct kpi_store *s, uint64_t *ret_version)
{
    (void)s;
    *ret_version = 0;
    return 0;
}

/* ---- tokens ---- */

static int http_token_add(struct kpi_store *s, const char *name, const uint8_t hash[KPI_TOKEN_HASH_SIZE], int64_t created_ms)
{
    /* The server makes the secret of a token it creates (POST /api/v1/tokens); a hash made here
     * cannot be handed to it. */
    remember(to_http(s), -ENOTSUP,
             "tokens are created on the server's machine ('kpi token create NAME --db FILE') or with POST /api/v1/tokens");
    return -ENOTSUP;
}

static int http_token_find(struct kpi_store *s, const uint8_t hash[KPI_TOKEN_HASH_SIZE], struct kpi_token *ret_token)
{
    (void)s;
    return -ENOTSUP;
}

static int http_tokens_list(struct kpi_store *s, struct kpi_token **ret, size_t *ret_n)
{
    struct http_store *st = to_http(s);
    struct kpi_buf t;
    int r = target_of(&t, "/api/v1/tokens?limit=" LIST_PAGE, NULL, NULL);
    struct list_acc acc = {NULL, 0};
    if (r == 0)
        r = get_pages(st, &t, token_page, &acc, NULL);
    kpi_buf_free(&t);
    if (r < 0) {
        free(acc.items);
        return r;
    }
    *ret = acc.items;
    *ret_n = acc.n;
    return 0;
}

static int http_token_remove(struct kpi_store *s, const char *name)
{
    struct http_store *st = to_http(s);
    struct kpi_buf t;
    int r = target_of(&t, "/api/v1/tokens/", name, NULL);
    struct kpi_http_response res;
    if (r == 0)
        r = call(st, "DELETE", kpi_buf_str(&t), NULL, NULL, 0, &res, NULL);
    kpi_buf_free(&t);
    if (r < 0)
        return r;
    kpi_buf_free(&res.body);
    return 0;
}

static const struct kpi_store_ops http_ops = {
    .name = "http",
    .close = http_close,
    .schema_version = http_schema_version,
    .begin = http_begin,
    .commit = http_commit,
    .rollback = http_rollback,
    .begin_read = http_begin_read,
    .org_get = http_org_get,
    .org_set = http_org_set,
    .kpi_get = http_kpi_get,
    .kpi_list = http_kpi_list,
    .kpi_insert = http_kpi_insert,
    .kpi_update = http_kpi_update,
    .dims_intern = http_dims_intern,
    .points_put = http_points_put,
    .points_scan = http_points_scan,
    .points_count = http_points_count,
    .points_span = http_points_span,
    .review_add = http_review_add,
    .reviews_list = http_reviews_list,
    .actions_list = http_actions_list,
    .action_done = http_action_done,
    .annotation_add = http_annotation_add,
    .annotations_list = http_annotations_list,
    .data_version = http_data_version,
    .token_add = http_token_add,
    .token_find = http_token_find,
    .tokens_list = http_tokens_list,
    .token_remove = http_token_remove,
};

int kpi_store_open_http(const char *url, const char *token, struct kpi_store **ret_store, struct kpi_diag *diag)
{
    struct kpi_diag d = {""};
    struct http_store *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->base.ops = &http_ops;
    st->batch_max = KPI_REMOTE_BATCH_MAX;
    kpi_strmap_init(&st->keys, KEYS_MAX);
    kpi_strmap_init(&st->dims_ids, DIMS_IDS_MAX);
    /* Dims id 0 is the empty set, as in the SQLite store. */
    int r = reserve((void **)&st->dims, &st->cap_dims, 1, sizeof(*st->dims));
    if (r == 0) {
        st->dims[0] = strdup("");
        r = st->dims[0] ? 0 : -ENOMEM;
        st->n_dims = st->dims[0] ? 1 : 0;
    }
    if (r == 0)
        r = kpi_http_new(url, token, &st->http, &d);
    /* Is the server there and ready? Then: is the token good? (/readyz needs no token.) */
    struct kpi_http_response res;
    if (r == 0) {
        r = call(st, "GET", "/readyz", NULL, NULL, 0, &res, &d);
        if (r < 0 && r != -ECONNREFUSED && r != -EHOSTUNREACH && r != -ETIMEDOUT && r != -EIO && r != -E2BIG) {
            char detail[KPI_DIAG_MAX - 64];
            kpi_strlcpy(detail, d.msg, sizeof(detail));
            kpi_diag_set(&d, r, "%s is not ready: %s", kpi_http_base(st->http), detail);
        }
    }
    if (r == 0) {
        int version = 0;
        r = kpi_json_read_ready(res.body.data, res.body.len, &version, &d);
        kpi_buf_free(&res.body);
        if (r < 0)
            kpi_diag_set(&d, r, "%s does not answer as a kpi server (GET /readyz)", kpi_http_base(st->http));
        st->server_schema = version;
    }
    if (r == 0 && st->server_schema > KPI_SCHEMA_VERSION)
        r = kpi_diag_set(&d, -EPROTO, "the server's database has schema version %d, newer than this kpi knows (%d): upgrade kpi",
                         st->server_schema, KPI_SCHEMA_VERSION);
    if (r == 0)
        r = fetch_org(st, &d);
    if (r < 0) {
        if (diag)
            *diag = d;
        http_close(&st->base);
        return r;
    }
    *ret_store = &st->base;
    return 0;
}

bool kpi_store_is_http(const struct kpi_store *s)
{
    return s && s->ops == &http_ops;
}

const char *kpi_store_http_error(const struct kpi_store *s, int *ret_code)
{
    if (!kpi_store_is_http(s)) {
        if (ret_code)
            *ret_code = 0;
        return "";
    }
    const struct http_store *st = (const struct http_store *)s;
    if (ret_code)
        *ret_code = st->last_code;
    return st->last;
}
