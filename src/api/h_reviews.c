/*
 * Reviews, action items and annotations over HTTP: /api/v1/kpis/{key}/reviews and /api/v1/reviews
 * (KPI and team reviews with their action items), /api/v1/actions (list, and PATCH to close one),
 * /api/v1/kpis/{key}/annotations and /api/v1/annotations. Bodies are read by json/parse.c with the
 * limits of `kpi review add` and `kpi annotate`; objects are written by the same emitters as the
 * CLI's --json output.
 *
 * Lists are pages {"items": [...], "next_cursor": "..." | null}. The store gives each list whole
 * and in its own order (reviews newest first, actions open first by due date, annotations by day);
 * a cursor is the id of the last item of the page (base64url, opaque to clients) and the next page
 * starts after that item. A cursor whose item is no longer in the list is refused (400).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "api/api.h"
#include "base/str.h"
#include "json/json.h"
#include "json/parse.h"
#include "kpi/time.h"

#define RESPONSE_ONE_MAX (1u << 20) /* bytes of the JSON of one created object */

static int unknown_kpi(struct api_response *res, const char *key)
{
    return api_problem(res, 404, "no KPI with key '%.64s'", key);
}

/* A body the parser refused: syntax errors ("line L, column C: ...") are 400, too large 413, the
 * rest 422. */
static int body_problem(struct api_response *res, int code, const struct kpi_diag *diag)
{
    if (code == -ENOMEM)
        return code;
    if (code == -E2BIG)
        return api_problem(res, 413, "%s", diag->msg);
    return api_problem(res, strncmp(diag->msg, "line ", 5) == 0 ? 400 : 422, "%s", diag->msg);
}

/* 404 unless the KPI exists; true when it does. *ret_code gets a failure's code. */
static bool kpi_exists(struct api_request *req, struct api_response *res, const char *key, int *ret_code)
{
    struct kpi_def d;
    int r = kpi_store_kpi_get(req->store, key, &d);
    *ret_code = 0;
    if (r == 0) {
        kpi_def_clear(&d);
        return true;
    }
    if (r == -ENOENT)
        unknown_kpi(res, key);
    else
        *ret_code = r;
    return false;
}

/* ---- pages ---- */

/* The page parameters, with the cursor decoded into the id it names (0 for the first page). */
static bool page_params(const struct api_request *req, struct api_response *res, unsigned *ret_limit, int64_t *ret_after)
{
    const char *cursor;
    if (!api_page_params(req, res, API_PAGE_MAX, ret_limit, &cursor))
        return false;
    *ret_after = 0;
    if (!cursor)
        return true;
    char text[32];
    int64_t id;
    if (api_cursor_decode(cursor, text, sizeof(text)) < 0 || kpi_parse_int64(text, strlen(text), 1, INT64_MAX, &id) < 0) {
        api_problem(res, 400, "cursor: '%.64s' is not a cursor this list gave", cursor);
        return false;
    }
    *ret_after = id;
    return true;
}

/* Where a page starts and how many items it has. */
struct page {
    size_t start, count;
    bool more;
};

/* Locates the page in a list of n items of `size` bytes, each with its int64_t id at id_offset:
 * it starts after the item the cursor named. false (400 answered) when that item is not in the
 * list. */
static bool page_locate(struct api_response *res, int64_t after, const void *items, size_t n, size_t size, size_t id_offset,
                        unsigned limit, struct page *ret)
{
    size_t start = 0;
    if (after) {
        size_t i = 0;
        for (; i < n; i++) {
            int64_t id;
            memcpy(&id, (const char *)items + i * size + id_offset, sizeof(id));
            if (id == after)
                break;
        }
        if (i == n) {
            api_problem(res, 400, "cursor: the item it names is no longer in this list; start again without a cursor");
            return false;
        }
        start = i + 1;
    }
    size_t count = n - start < limit ? n - start : limit;
    *ret = (struct page){start, count, start + count < n};
    return true;
}

/* `{"items":` ... then this: the cursor after the last item (or null) and the closing brace. */
static int page_end(struct api_response *res, const struct page *pg, int64_t last_id)
{
    char pos[24];
    snprintf(pos, sizeof(pos), "%lld", (long long)last_id);
    return api_page_end(res, pg->more && pg->count > 0 ? pos : NULL);
}

/* Appends the one object of a compact one-element array ("[{...}]"); with open, without its
 * closing brace so that fields can follow. */
static int add_one(struct kpi_buf *out, const struct kpi_buf *array, bool open)
{
    if (array->len < 4 || array->data[0] != '[' || array->data[array->len - 1] != ']')
        return -EINVAL;
    return kpi_buf_add(out, array->data + 1, array->len - (open ? 3 : 2));
}

/* ---- reviews ---- */

static int reviews_page(struct api_request *req, struct api_response *res, const char *kpi)
{
    static const char *const allowed[] = {"limit", "cursor", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    unsigned limit;
    int64_t after;
    if (!page_params(req, res, &limit, &after))
        return 0;
    int r;
    if (kpi && !kpi_exists(req, res, kpi, &r))
        return r;
    struct kpi_review *list;
    size_t n;
    r = kpi_store_reviews_list(req->store, kpi, INT64_MAX, &list, &n);
    if (r < 0)
        return r;
    struct page pg;
    if (page_locate(res, after, list, n, sizeof(*list), offsetof(struct kpi_review, id), limit, &pg)) {
        r = kpi_buf_adds(&res->body, "{\"items\":");
        if (r == 0)
            r = kpi_json_reviews(&res->body, list + pg.start, pg.count, KPI_JSON_COMPACT);
        if (r == 0)
            r = page_end(res, &pg, pg.count ? list[pg.start + pg.count - 1].id : 0);
    }
    kpi_store_reviews_free(list, n);
    return r;
}

int api_h_kpi_reviews_list(struct api_request *req, struct api_response *res)
{
    return reviews_page(req, res, req->route_params[0]);
}

int api_h_reviews_list(struct api_request *req, struct api_response *res)
{
    return reviews_page(req, res, NULL);
}

/* The created review: its object plus "actions" (the action items with their ids). */
static int review_answer(struct api_response *res, const struct kpi_review *rv, const struct kpi_action *actions, size_t n)
{
    struct kpi_buf one;
    kpi_buf_init(&one, RESPONSE_ONE_MAX);
    int r = kpi_json_reviews(&one, rv, 1, KPI_JSON_COMPACT);
    if (r == 0)
        r = add_one(&res->body, &one, true);
    kpi_buf_free(&one);
    if (r == 0)
        r = kpi_buf_adds(&res->body, ",\"actions\":");
    if (r == 0)
        r = kpi_json_actions(&res->body, actions, n, KPI_JSON_COMPACT);
    if (r == 0)
        r = kpi_buf_addc(&res->body, '}');
    return r < 0 ? r : api_json(res, 201);
}

/* POST a review of a KPI (kpi not NULL) or of a team (the body names it). */
static int review_post(struct api_request *req, struct api_response *res, const char *kpi)
{
    if (!api_query_check(req, res, NULL) || !api_body_json(req, res))
        return 0;
    int r;
    if (kpi && !kpi_exists(req, res, kpi, &r))
        return r;
    struct kpi_review rv;
    struct kpi_action *actions;
    size_t n;
    struct kpi_diag diag = {{0}};
    r = kpi_json_parse_review(req->body, req->body_len, &rv, &actions, &n, &diag);
    if (r < 0)
        return body_problem(res, r, &diag);
    if (!kpi && !rv.team) {
        r = api_problem(res, 422, "team: is required for a team review (POST /api/v1/kpis/{key}/reviews reviews a KPI)");
        goto out;
    }
    if (kpi && kpi_strlcpy(rv.kpi, kpi, sizeof(rv.kpi)) < 0) {
        r = unknown_kpi(res, kpi);
        goto out;
    }
    if (rv.day == INT64_MIN)
        rv.day = api_today(req);
    if (!rv.author && req->principal[0]) {
        rv.author = strdup(req->principal);
        if (!rv.author) {
            r = -ENOMEM;
            goto out;
        }
    }
    r = api_write_begin(req);
    if (r < 0)
        goto out;
    r = kpi_store_review_add(req->store, &rv, actions, n);
    int c = api_write_end(req, r == 0);
    if (r == -ENOENT)
        r = unknown_kpi(res, kpi ? kpi : "");
    else if (r == 0 && c < 0)
        r = c;
    else if (r == 0) {
        for (size_t i = 0; i < n; i++)
            memcpy(actions[i].kpi, rv.kpi, sizeof(rv.kpi));
        r = review_answer(res, &rv, actions, n);
    }
out:
    free(rv.team);
    free(rv.note);
    free(rv.author);
    kpi_store_actions_free(actions, n);
    return r;
}

int api_h_kpi_reviews_post(struct api_request *req, struct api_response *res)
{
    return review_post(req, res, req->route_params[0]);
}

int api_h_reviews_post(struct api_request *req, struct api_response *res)
{
    return review_post(req, res, NULL);
}

/* ---- action items ---- */

int api_h_actions_list(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"owner", "open", "limit", "cursor", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    struct kpi_action_query q = {api_query(req, "owner"), false};
    unsigned limit;
    int64_t after;
    if (!api_query_bool(req, res, "open", &q.open_only) || !page_params(req, res, &limit, &after))
        return 0;
    struct kpi_action *list;
    size_t n;
    int r = kpi_store_actions_list(req->store, &q, &list, &n);
    if (r < 0)
        return r;
    struct page pg;
    if (page_locate(res, after, list, n, sizeof(*list), offsetof(struct kpi_action, id), limit, &pg)) {
        r = kpi_buf_adds(&res->body, "{\"items\":");
        if (r == 0)
            r = kpi_json_actions(&res->body, list + pg.start, pg.count, KPI_JSON_COMPACT);
        if (r == 0)
            r = page_end(res, &pg, pg.count ? list[pg.start + pg.count - 1].id : 0);
    }
    kpi_store_actions_free(list, n);
    return r;
}

/* Finds action `id` (-ENOENT when there is none) and, with res, answers it. */
static int action_find(struct api_request *req, int64_t id, bool *ret_done, struct api_response *res)
{
    struct kpi_action_query q = {NULL, false};
    struct kpi_action *list;
    size_t n;
    int r = kpi_store_actions_list(req->store, &q, &list, &n);
    if (r < 0)
        return r;
    size_t i = 0;
    while (i < n && list[i].id != id)
        i++;
    if (i == n) {
        r = -ENOENT;
    } else {
        *ret_done = list[i].done_ms != 0;
        if (res) {
            struct kpi_buf one;
            kpi_buf_init(&one, RESPONSE_ONE_MAX);
            r = kpi_json_actions(&one, &list[i], 1, KPI_JSON_COMPACT);
            if (r == 0)
                r = add_one(&res->body, &one, false);
            kpi_buf_free(&one);
            if (r == 0)
                r = api_json(res, 200);
        }
    }
    kpi_store_actions_free(list, n);
    return r;
}

int api_h_action_patch(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    const char *text = req->route_params[0];
    int64_t id;
    if (kpi_parse_int64(text, strlen(text), 1, INT64_MAX, &id) < 0)
        return api_problem(res, 400, "id: '%.64s' is not an action ID (a positive integer)", text);
    if (!api_body_json(req, res))
        return 0;
    bool done;
    struct kpi_diag diag = {{0}};
    int r = kpi_json_parse_action_patch(req->body, req->body_len, &done, &diag);
    if (r < 0)
        return body_problem(res, r, &diag);
    /* true closes (a closed action keeps its first closing time), false reopens; both idempotent. */
    r = api_write_begin(req);
    if (r < 0)
        return r;
    r = kpi_store_action_done(req->store, id, done ? kpi_clock_wall_ms() : 0);
    int c = api_write_end(req, r == 0);
    if (r == -ENOENT)
        return api_problem(res, 404, "no action with ID %lld", (long long)id);
    if (r < 0 || c < 0)
        return r < 0 ? r : c;
    bool was_done;
    r = action_find(req, id, &was_done, res);
    return r == -ENOENT ? api_problem(res, 404, "no action with ID %lld", (long long)id) : r;
}

/* ---- annotations ---- */

static int annotations_page(struct api_request *req, struct api_response *res, const char *kpi)
{
    static const char *const allowed[] = {"from", "to", "limit", "cursor", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    int64_t from = KPI_DAY_MIN, to = KPI_DAY_MAX, after;
    unsigned limit;
    if (!api_query_day(req, res, "from", &from) || !api_query_day(req, res, "to", &to) || !page_params(req, res, &limit, &after))
        return 0;
    if (from > to)
        return api_problem(res, 422, "from: %s is after to (%s)", api_query(req, "from"), api_query(req, "to"));
    int r;
    if (kpi && !kpi_exists(req, res, kpi, &r))
        return r;
    struct kpi_annotation *list;
    size_t n;
    r = kpi_store_annotations_list(req->store, kpi, from, to, &list, &n);
    if (r < 0)
        return r;
    struct page pg;
    if (page_locate(res, after, list, n, sizeof(*list), offsetof(struct kpi_annotation, id), limit, &pg)) {
        r = kpi_buf_adds(&res->body, "{\"items\":");
        if (r == 0)
            r = kpi_json_annotations(&res->body, list + pg.start, pg.count, KPI_JSON_COMPACT);
        if (r == 0)
            r = page_end(res, &pg, pg.count ? list[pg.start + pg.count - 1].id : 0);
    }
    kpi_store_annotations_free(list, n);
    return r;
}

int api_h_kpi_annotations_list(struct api_request *req, struct api_response *res)
{
    return annotations_page(req, res, req->route_params[0]);
}

int api_h_annotations_list(struct api_request *req, struct api_response *res)
{
    return annotations_page(req, res, NULL);
}

/* POST an annotation on a KPI (kpi not NULL) or on the whole organisation. */
static int annotation_post(struct api_request *req, struct api_response *res, const char *kpi)
{
    if (!api_query_check(req, res, NULL) || !api_body_json(req, res))
        return 0;
    int r;
    if (kpi && !kpi_exists(req, res, kpi, &r))
        return r;
    struct kpi_annotation a;
    struct kpi_diag diag = {{0}};
    r = kpi_json_parse_annotation(req->body, req->body_len, &a, &diag);
    if (r < 0)
        return body_problem(res, r, &diag);
    if (kpi && kpi_strlcpy(a.kpi, kpi, sizeof(a.kpi)) < 0) {
        r = unknown_kpi(res, kpi);
        goto out;
    }
    if (a.day == INT64_MIN)
        a.day = api_today(req);
    r = api_write_begin(req);
    if (r < 0)
        goto out;
    r = kpi_store_annotation_add(req->store, &a);
    int c = api_write_end(req, r == 0);
    if (r == -ENOENT) {
        r = unknown_kpi(res, kpi ? kpi : "");
    } else if (r == 0 && c < 0) {
        r = c;
    } else if (r == 0) {
        struct kpi_buf one;
        kpi_buf_init(&one, RESPONSE_ONE_MAX);
        r = kpi_json_annotations(&one, &a, 1, KPI_JSON_COMPACT);
        if (r == 0)
            r = add_one(&res->body, &one, false);
        kpi_buf_free(&one);
        if (r == 0)
            r = api_json(res, 201);
    }
out:
    free(a.text);
    return r;
}

int api_h_kpi_annotations_post(struct api_request *req, struct api_response *res)
{
    return annotation_post(req, res, req->route_params[0]);
}

int api_h_annotations_post(struct api_request *req, struct api_response *res)
{
    return annotation_post(req, res, NULL);
}
