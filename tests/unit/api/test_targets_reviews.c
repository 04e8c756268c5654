/*
 * The target, review, action and annotation handlers of the HTTP API (api/h_targets.c,
 * api/h_reviews.c) called directly, without a socket, on a temporary SQLite database with an up
 * KPI that has a target, a range KPI and a third KPI. Each write is checked in the answer and in
 * the store, with the write lock released afterwards; each error class answers its status with a
 * detail naming the field: 400 malformed JSON, query or path value, 404 unknown KPI, target or
 * action, 413 past the target limit, 415 wrong content type, 422 invalid field. Lists are paged
 * with opaque cursors that walk the whole list exactly once.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/server.h"
#include "base/str.h"
#include "json/json.h"
#include "kpi/status.h"
#include "kpi/time.h"

static char dir[64];
static char path[128];
static struct kpi_store *store;
static struct kpi_calendar cal;
static struct api_server srv;

static void add_kpi(const char *key, const char *direction, bool target)
{
    struct kpi_def d;
    kpi_def_init(&d);
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_def_set_key(&d, key, &diag), 0), "%s", diag.msg);
    cr_assert(eq(int, kpi_def_set_field(&d, "name", key, &diag), 0), "%s", diag.msg);
    cr_assert(eq(int, kpi_def_set_field(&d, "direction", direction, &diag), 0), "%s", diag.msg);
    if (target) {
        struct kpi_target t = {.baseline = 100,
                               .baseline_day = kpi_days_from_civil(2026, 1, 1),
                               .value = 150,
                               .day = kpi_days_from_civil(2026, 12, 31),
                               .at_risk_pct = 10};
        cr_assert(eq(int, kpi_def_set_target(&d, &t, &diag), 0), "%s", diag.msg);
    }
    cr_assert(eq(int, kpi_store_kpi_insert(store, &d, &diag), 0), "%s", diag.msg);
    kpi_def_clear(&d);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kpi-api-targets-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/test.db", dir);
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_store_open_sqlite(path, true, &store, &diag), 0), "%s", diag.msg);
    cr_assert(eq(int, kpi_store_calendar(store, &cal, &diag), 0), "%s", diag.msg);
    memset(&srv, 0, sizeof(srv));
    cr_assert(eq(int, pthread_mutex_init(&srv.write_lock, NULL), 0));
    add_kpi("mrr", "up", true);
    add_kpi("band", "range", false);
    add_kpi("arr", "up", false);
}

static void teardown(void)
{
    pthread_mutex_destroy(&srv.write_lock);
    kpi_store_calendar_done(&cal);
    store = kpi_store_close(store);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_expect(eq(int, system(cmd), 0));
}

TestSuite(api_targets_reviews, .init = setup, .fini = teardown);

/* One request: the method, up to two route parameters, a body (NULL: none) sent as
 * application/json unless content_type says otherwise, and query parameters as name, value pairs
 * ending with NULL. */
struct call {
    enum api_method method;
    const char *p0, *p1;
    const char *body;
    const char *content_type;
};

static void call(api_handler_fn h, struct call c, struct api_response *res, ...)
{
    struct api_request req = {0};
    req.method = c.method;
    req.path = "/api/v1/test";
    if (c.p0)
        req.route_params[req.n_route_params++] = c.p0;
    if (c.p1)
        req.route_params[req.n_route_params++] = c.p1;
    req.body = c.body ? c.body : "";
    req.body_len = strlen(req.body);
    req.content_type = c.content_type ? c.content_type : (c.body ? "application/json" : NULL);
    req.server = &srv;
    req.store = store;
    req.cal = &cal;
    kpi_strlcpy(req.principal, "token:ci-bot", sizeof(req.principal));
    va_list ap;
    va_start(ap, res);
    for (;;) {
        const char *name = va_arg(ap, const char *);
        if (!name)
            break;
        cr_assert(lt(sz, req.n_query, (size_t)API_QUERY_PARAMS_MAX));
        req.query[req.n_query].name = name;
        req.query[req.n_query].value = va_arg(ap, const char *);
        req.n_query++;
    }
    va_end(ap);
    *res = (struct api_response){0};
    kpi_buf_init(&res->body, API_RESPONSE_MAX);
    cr_assert(eq(int, h(&req, res), 0));
    /* Every write released the lock. */
    cr_assert(eq(int, pthread_mutex_trylock(&srv.write_lock), 0), "the write lock is still held");
    pthread_mutex_unlock(&srv.write_lock);
}

static const char *body(const struct api_response *res)
{
    return kpi_buf_str(&res->body);
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A problem answer with this status whose detail contains what; frees the body. */
static void expect_problem(struct api_response *res, int status, const char *what)
{
    cr_expect(eq(int, res->status, status), "%s", body(res));
    cr_expect(eq(str, (char *)(res->content_type ? res->content_type : ""), "application/problem+json"));
    cr_expect(strstr(body(res), what) != NULL, "expected '%s' in %s", what, body(res));
    kpi_buf_free(&res->body);
}

/* A JSON answer with this status containing what (the body is kept). */
static void expect_json(struct api_response *res, int status, const char *what)
{
    cr_expect(eq(int, res->status, status), "%s", body(res));
    cr_expect(eq(str, (char *)(res->content_type ? res->content_type : ""), "application/json"), "%s", body(res));
    cr_expect(strstr(body(res), what) != NULL, "expected '%s' in %s", what, body(res));
}

static struct kpi_def stored(const char *key)
{
    struct kpi_def d;
    cr_assert(eq(int, kpi_store_kpi_get(store, key, &d), 0));
    return d;
}

#define GET(p0) ((struct call){API_GET, (p0), NULL, NULL, NULL})
#define SEND(m, p0, b) ((struct call){(m), (p0), NULL, (b), NULL})
#define T1 "{\"baseline\":100,\"baseline_date\":\"2026-01-01\",\"value\":150,\"date\":\"2026-12-31\",\"at_risk_pct\":10}"
#define T2 "{\"baseline\":150,\"baseline_date\":\"2027-01-01\",\"value\":210,\"date\":\"2027-12-31\",\"at_risk_pct\":5}"

/* ---- targets ---- */

Test(api_targets_reviews, targets_get)
{
    struct api_response res;
    call(api_h_targets_list, GET("mrr"), &res, NULL);
    expect_json(&res, 200, "");
    cr_expect(eq(str, (char *)body(&res), "[" T1 "]"));
    kpi_buf_free(&res.body);

    call(api_h_targets_list, GET("band"), &res, NULL);
    expect_json(&res, 200, "[]");
    kpi_buf_free(&res.body);

    call(api_h_targets_list, GET("nope"), &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nope'");
    call(api_h_targets_list, GET("mrr"), &res, "limit", "2", NULL);
    expect_problem(&res, 400, "query parameter 'limit' is not known here");
}

Test(api_targets_reviews, targets_put_replaces_all)
{
    struct api_response res;
    uint64_t gen = atomic_load(&srv.gen);
    call(api_h_targets_put, SEND(API_PUT, "mrr", "[" T2 "," T1 "]"), &res, NULL);
    expect_json(&res, 200, "");
    cr_expect(eq(str, (char *)body(&res), "[" T1 "," T2 "]"), "sorted by date");
    cr_expect(eq(u64, (uint64_t)atomic_load(&srv.gen), gen + 1), "a commit bumps the generation");
    kpi_buf_free(&res.body);
    struct kpi_def d = stored("mrr");
    cr_expect(eq(sz, d.n_targets, 2));
    kpi_def_clear(&d);

    call(api_h_targets_put, SEND(API_PUT, "mrr", " []"), &res, NULL);
    expect_json(&res, 200, "[]");
    kpi_buf_free(&res.body);
    d = stored("mrr");
    cr_expect(eq(sz, d.n_targets, 0));
    kpi_def_clear(&d);

    call(api_h_targets_put,
         SEND(API_PUT, "band",
              "[{\"baseline\":40,\"baseline_date\":\"2026-01-01\",\"low\":30,\"high\":45,"
              "\"date\":\"2026-12-31\"}]"),
         &res, NULL);
    expect_json(&res, 200, "\"low\":30,\"high\":45");
    kpi_buf_free(&res.body);
}

Test(api_targets_reviews, targets_put_errors_change_nothing)
{
    struct api_response res;
    call(api_h_targets_put, SEND(API_PUT, "mrr", T1), &res, NULL);
    expect_problem(&res, 422, "expected an array of targets");
    call(api_h_targets_put, SEND(API_PUT, "mrr", "[" T1), &res, NULL);
    expect_problem(&res, 400, "line 1, column ");
    call(api_h_targets_put,
         SEND(API_PUT, "mrr", "[" T1 ",{\"baseline\":1,\"baseline_date\":\"2026-01-01\",\"value\":2,\"date\":\"x\"}]"), &res, NULL);
    expect_problem(&res, 422, "targets[1].date: 'x' is not a date (YYYY-MM-DD)");
    call(api_h_targets_put, SEND(API_PUT, "band", "[" T1 "]"), &res, NULL);
    expect_problem(&res, 422, "targets[0].value: not used by a range KPI");
    call(api_h_targets_put, SEND(API_PUT, "nope", "[]"), &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nope'");
    call(api_h_targets_put, ((struct call){API_PUT, "mrr", NULL, "[]", "text/csv"}), &res, NULL);
    expect_problem(&res, 415, "Content-Type 'text/csv' is not accepted here");
    call(api_h_targets_put, ((struct call){API_PUT, "mrr", NULL, "baseline=1", ""}), &res, NULL);
    expect_problem(&res, 415, "");
    call(api_h_targets_put, SEND(API_PUT, "mrr", "[]"), &res, "dry_run", "1", NULL);
    expect_problem(&res, 400, "query parameter 'dry_run'");
    struct kpi_def d = stored("mrr");
    cr_expect(eq(sz, d.n_targets, 1), "nothing was written");
    kpi_def_clear(&d);
}

Test(api_targets_reviews, targets_post_adds_or_replaces_by_date)
{
    struct api_response res;
    call(api_h_targets_post, SEND(API_POST, "mrr", T2), &res, NULL);
    expect_json(&res, 201, "");
    cr_expect(eq(str, (char *)body(&res), "[" T1 "," T2 "]"));
    cr_expect(eq(str, res.location, "/api/v1/kpis/mrr/targets/2027-12-31"));
    kpi_buf_free(&res.body);

    /* The same date replaces; at_risk_pct defaults to 10. */
    call(api_h_targets_post,
         SEND(API_POST, "mrr", "{\"baseline\":150,\"baseline_date\":\"2027-01-01\",\"value\":300,\"date\":\"2027-12-31\"}"), &res,
         NULL);
    expect_json(&res, 201, "\"value\":300,\"date\":\"2027-12-31\",\"at_risk_pct\":10}]");
    cr_expect(eq(sz, count(body(&res), "\"date\""), 2));
    kpi_buf_free(&res.body);

    call(api_h_targets_post, SEND(API_POST, "mrr", "[" T2 "]"), &res, NULL);
    expect_problem(&res, 422, "expected one target object");
    call(api_h_targets_post, SEND(API_POST, "mrr", "{\"baseline\":1,\"baseline_date\":\"2026-01-01\",\"date\":\"2026-06-30\"}"),
         &res, NULL);
    expect_problem(&res, 422, "value: is required");
    call(api_h_targets_post, SEND(API_POST, "band", T1), &res, NULL);
    expect_problem(&res, 422, "value: not used by a range KPI (give low and high)");
    call(api_h_targets_post,
         SEND(API_POST, "mrr",
              "{\"baseline\":1,\"baseline_date\":\"2026-01-01\",\"value\":2,\"date\":\"2026-06-30\","
              "\"goal\":3}"),
         &res, NULL);
    expect_problem(&res, 422, "unknown field 'goal'");
    call(api_h_targets_post, SEND(API_POST, "nope", T1), &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nope'");
}

Test(api_targets_reviews, targets_post_past_the_limit_is_413)
{
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 20);
    kpi_buf_addc(&b, '[');
    for (int i = 0; i < KPI_TARGETS_MAX; i++)
        kpi_buf_printf(&b, "%s{\"baseline\":1,\"baseline_date\":\"2000-01-01\",\"value\":2,\"date\":\"%d-12-31\"}", i ? "," : "",
                       2001 + i);
    kpi_buf_addc(&b, ']');
    struct api_response res;
    call(api_h_targets_put, SEND(API_PUT, "arr", kpi_buf_str(&b)), &res, NULL);
    expect_json(&res, 200, "");
    kpi_buf_free(&res.body);
    call(api_h_targets_post,
         SEND(API_POST, "arr", "{\"baseline\":1,\"baseline_date\":\"2000-01-01\",\"value\":2,\"date\":\"2000-06-30\"}"), &res,
         NULL);
    expect_problem(&res, 413, "targets: at most 100 per KPI");
    /* Replacing one of the 100 is fine. */
    call(api_h_targets_post,
         SEND(API_POST, "arr", "{\"baseline\":1,\"baseline_date\":\"2000-01-01\",\"value\":5,\"date\":\"2001-12-31\"}"), &res,
         NULL);
    expect_json(&res, 201, "\"value\":5,\"date\":\"2001-12-31\"");
    kpi_buf_free(&res.body);
    kpi_buf_free(&b);
}

Test(api_targets_reviews, target_delete)
{
    struct api_response res;
    call(api_h_target_delete, ((struct call){API_DELETE, "mrr", "2026-06-30", NULL, NULL}), &res, NULL);
    expect_problem(&res, 404, "KPI 'mrr' has no target due 2026-06-30");
    call(api_h_target_delete, ((struct call){API_DELETE, "mrr", "31.12.2026", NULL, NULL}), &res, NULL);
    expect_problem(&res, 400, "date: '31.12.2026' is not a date (YYYY-MM-DD)");
    call(api_h_target_delete, ((struct call){API_DELETE, "nope", "2026-12-31", NULL, NULL}), &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nope'");

    call(api_h_target_delete, ((struct call){API_DELETE, "mrr", "2026-12-31", NULL, NULL}), &res, NULL);
    cr_expect(eq(int, res.status, 204));
    cr_expect(eq(sz, res.body.len, 0));
    kpi_buf_free(&res.body);
    struct kpi_def d = stored("mrr");
    cr_expect(eq(sz, d.n_targets, 0));
    kpi_def_clear(&d);
    call(api_h_target_delete, ((struct call){API_DELETE, "mrr", "2026-12-31", NULL, NULL}), &res, NULL);
    expect_problem(&res, 404, "has no target due 2026-12-31");
}

/* ---- reviews and actions ---- */

static char *today_text(char *buf, size_t size)
{
    struct api_request req = {.cal = &cal};
    kpi_date_format(api_today(&req), buf, size);
    return buf;
}

/* Follows next_cursor through every page of a list handler; returns the concatenated items with
 * one "|" between pages, and the number of pages. */
static char *walk(api_handler_fn h, const char *key, const char *limit, size_t *ret_pages)
{
    struct kpi_buf all;
    kpi_buf_init(&all, 1 << 20);
    char cursor[128] = "";
    size_t pages = 0;
    for (;;) {
        struct api_response res;
        if (cursor[0])
            call(h, GET(key), &res, "limit", limit, "cursor", cursor, NULL);
        else
            call(h, GET(key), &res, "limit", limit, NULL);
        expect_json(&res, 200, "{\"items\":[");
        pages++;
        const char *next = strstr(body(&res), "],\"next_cursor\":");
        cr_assert(next != NULL, "%s", body(&res));
        const char *items = body(&res) + strlen("{\"items\":[");
        if (pages > 1)
            kpi_buf_addc(&all, '|');
        kpi_buf_add(&all, items, (size_t)(next - items));
        next += strlen("],\"next_cursor\":");
        if (strcmp(next, "null}") == 0) {
            kpi_buf_free(&res.body);
            break;
        }
        cr_assert(eq(int, next[0], '"'), "%s", body(&res));
        const char *end = strchr(next + 1, '"');
        cr_assert(end != NULL && (size_t)(end - next - 1) < sizeof(cursor));
        memcpy(cursor, next + 1, (size_t)(end - next - 1));
        cursor[end - next - 1] = '\0';
        cr_expect(eq(str, (char *)end, "\"}"));
        kpi_buf_free(&res.body);
        cr_assert(lt(sz, pages, 50));
    }
    *ret_pages = pages;
    return kpi_buf_take(&all);
}

Test(api_targets_reviews, kpi_review_post_and_defaults)
{
    struct api_response res;
    char today[16], want[64];
    call(api_h_kpi_reviews_post,
         SEND(API_POST, "mrr",
              "{\"note\":\"Churn is up.\\nPricing?\",\"actions\":[{\"text\":\"Call the top 10\",\"owner\":\"Tom\","
              "\"due\":\"2026-03-16\"},{\"text\":\"Review pricing\"}]}"),
         &res, NULL);
    expect_json(&res, 201, "\"kpi\":\"mrr\",\"team\":null,");
    snprintf(want, sizeof(want), "\"date\":\"%s\"", today_text(today, sizeof(today)));
    cr_expect(strstr(body(&res), want) != NULL, "the date defaults to today: %s", body(&res));
    cr_expect(strstr(body(&res), "\"note\":\"Churn is up.\\nPricing?\",\"author\":\"token:ci-bot\"") != NULL,
              "the author defaults to the caller: %s", body(&res));
    cr_expect(strstr(body(&res),
                     ",\"actions\":[{\"id\":1,\"review\":1,\"kpi\":\"mrr\",\"text\":\"Call the top 10\",\"owner\":\"Tom\","
                     "\"due\":\"2026-03-16\",\"done\":false,\"done_at\":null,") != NULL,
              "%s", body(&res));
    cr_expect(strncmp(body(&res), "{\"id\":1,", 8) == 0, "%s", body(&res));
    cr_expect(eq(int, body(&res)[res.body.len - 1], '}'));
    cr_expect(eq(sz, count(body(&res), "\"review\":1"), 2));
    kpi_buf_free(&res.body);

    call(api_h_kpi_reviews_post,
         SEND(API_POST, "mrr", "{\"note\":\"ok\",\"date\":\"2026-02-01\",\"author\":\"Maria\",\"team\":\"finance\"}"), &res, NULL);
    expect_json(&res, 201,
                "\"id\":2,\"kpi\":\"mrr\",\"team\":\"finance\",\"date\":\"2026-02-01\",\"note\":\"ok\",\"author\":\"Maria\"");
    cr_expect(strstr(body(&res), "\"actions\":[]}") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);

    struct kpi_review *list;
    size_t n;
    cr_assert(eq(int, kpi_store_reviews_list(store, "mrr", INT64_MAX, &list, &n), 0));
    cr_expect(eq(sz, n, 2));
    kpi_store_reviews_free(list, n);
}

Test(api_targets_reviews, review_post_errors)
{
    struct api_response res;
    call(api_h_kpi_reviews_post, SEND(API_POST, "nope", "{\"note\":\"x\"}"), &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nope'");
    call(api_h_kpi_reviews_post, SEND(API_POST, "mrr", "{\"date\":\"2026-01-01\"}"), &res, NULL);
    expect_problem(&res, 422, "note: is required");
    call(api_h_kpi_reviews_post, SEND(API_POST, "mrr", "{\"note\":\"x\",\"actions\":[{\"text\":\"a\",\"due\":\"soon\"}]}"), &res,
         NULL);
    expect_problem(&res, 422, "actions[0].due: 'soon' is not a date (YYYY-MM-DD)");
    call(api_h_kpi_reviews_post, SEND(API_POST, "mrr", "{\"note\":\"x\",\"kpi\":\"arr\"}"), &res, NULL);
    expect_problem(&res, 422, "unknown field 'kpi' (expected date, note, author, team or actions)");
    call(api_h_kpi_reviews_post, SEND(API_POST, "mrr", "{\"note\":\"x\""), &res, NULL);
    expect_problem(&res, 400, "line 1, column ");
    call(api_h_kpi_reviews_post, ((struct call){API_POST, "mrr", NULL, "{\"note\":\"x\"}", "text/plain"}), &res, NULL);
    expect_problem(&res, 415, "text/plain");
    call(api_h_reviews_post, SEND(API_POST, NULL, "{\"note\":\"x\"}"), &res, NULL);
    expect_problem(&res, 422, "team: is required for a team review");
    call(api_h_reviews_post, SEND(API_POST, NULL, "{\"note\":\"x\",\"team\":\"\"}"), &res, NULL);
    expect_problem(&res, 422, "team: is required for a team review");
    call(api_h_reviews_post, SEND(API_POST, NULL, "{\"note\":\"x\",\"team\":\"t\"}"), &res, "team", "t", NULL);
    expect_problem(&res, 400, "query parameter 'team'");

    struct kpi_review *list;
    size_t n;
    cr_assert(eq(int, kpi_store_reviews_list(store, NULL, INT64_MAX, &list, &n), 0));
    cr_expect(eq(sz, n, 0), "nothing was written");
    kpi_store_reviews_free(list, n);
}

Test(api_targets_reviews, reviews_lists_and_pages)
{
    struct api_response res;
    /* Five reviews on distinct days: 2026-01-0D for D = 1..5, KPI ones and team ones. */
    for (int i = 1; i <= 5; i++) {
        char b[128];
        snprintf(b, sizeof(b), "{\"note\":\"n%d\",\"date\":\"2026-01-0%d\"%s}", i, i, i % 2 ? "" : ",\"team\":\"finance\"");
        if (i == 4)
            call(api_h_reviews_post, SEND(API_POST, NULL, b), &res, NULL);
        else
            call(api_h_kpi_reviews_post, SEND(API_POST, i == 5 ? "arr" : "mrr", b), &res, NULL);
        expect_json(&res, 201, "\"note\":\"n");
        kpi_buf_free(&res.body);
    }
    /* All of them, newest first, on pages of two. */
    size_t pages;
    char *all = walk(api_h_reviews_list, NULL, "2", &pages);
    cr_expect(eq(sz, pages, 3));
    cr_expect(eq(sz, count(all, "\"note\""), 5));
    const char *n5 = strstr(all, "\"n5\""), *n4 = strstr(all, "\"n4\""), *n1 = strstr(all, "\"n1\"");
    cr_expect(n5 && n4 && n1 && n5 < n4 && n4 < n1, "newest first: %s", all);
    cr_expect(strstr(all, "\"kpi\":null,\"team\":\"finance\",\"date\":\"2026-01-04\"") != NULL, "the team review: %s", all);
    free(all);
    /* A KPI's reviews only. */
    all = walk(api_h_kpi_reviews_list, "mrr", "100", &pages);
    cr_expect(eq(sz, pages, 1));
    cr_expect(eq(sz, count(all, "\"kpi\":\"mrr\""), 3), "%s", all);
    cr_expect(eq(sz, count(all, "\"note\""), 3), "%s", all);
    free(all);
    /* A page exactly at the end has no next cursor. */
    all = walk(api_h_kpi_reviews_list, "mrr", "3", &pages);
    cr_expect(eq(sz, pages, 1));
    free(all);
    call(api_h_kpi_reviews_list, GET("band"), &res, NULL);
    expect_json(&res, 200, "");
    cr_expect(eq(str, (char *)body(&res), "{\"items\":[],\"next_cursor\":null}"));
    kpi_buf_free(&res.body);

    call(api_h_kpi_reviews_list, GET("nope"), &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nope'");
    call(api_h_reviews_list, GET(NULL), &res, "cursor", "!!", NULL);
    expect_problem(&res, 400, "cursor: '!!' is not a cursor this list gave");
    char cursor[32];
    cr_assert(eq(int, api_cursor_encode("999", cursor, sizeof(cursor)), 0));
    call(api_h_reviews_list, GET(NULL), &res, "cursor", cursor, NULL);
    expect_problem(&res, 400, "cursor: the item it names is no longer in this list");
    cr_assert(eq(int, api_cursor_encode("mrr", cursor, sizeof(cursor)), 0));
    call(api_h_reviews_list, GET(NULL), &res, "cursor", cursor, NULL);
    expect_problem(&res, 400, "is not a cursor this list gave");
    call(api_h_reviews_list, GET(NULL), &res, "limit", "0", NULL);
    expect_problem(&res, 422, "limit: 0 is out of range (1 to 1000)");
    call(api_h_reviews_list, GET(NULL), &res, "limit", "many", NULL);
    expect_problem(&res, 400, "limit: 'many' is not an integer");
    call(api_h_reviews_list, GET(NULL), &res, "owner", "x", NULL);
    expect_problem(&res, 400, "query parameter 'owner'");
}

/* Two reviews with three actions: Tom's two (one due first) and Ana's one. */
static void add_actions(void)
{
    struct api_response res;
    call(api_h_kpi_reviews_post,
         SEND(API_POST, "mrr",
              "{\"note\":\"a\",\"actions\":[{\"text\":\"later\",\"owner\":\"Tom\",\"due\":\"2026-05-01\"},"
              "{\"text\":\"sooner\",\"owner\":\"Tom\",\"due\":\"2026-04-01\"}]}"),
         &res, NULL);
    expect_json(&res, 201, "");
    kpi_buf_free(&res.body);
    call(api_h_reviews_post,
         SEND(API_POST, NULL, "{\"note\":\"b\",\"team\":\"ops\",\"actions\":[{\"text\":\"ana's\",\"owner\":\"Ana\"}]}"), &res,
         NULL);
    expect_json(&res, 201, "\"kpi\":null,\"text\":\"ana's\"");
    kpi_buf_free(&res.body);
}

Test(api_targets_reviews, actions_list_filters_and_pages)
{
    add_actions();
    size_t pages;
    char *all = walk(api_h_actions_list, NULL, "1", &pages);
    cr_expect(eq(sz, pages, 3));
    const char *sooner = strstr(all, "\"sooner\""), *later = strstr(all, "\"later\""), *ana = strstr(all, "\"ana's\"");
    cr_expect(sooner && later && ana && sooner < later && later < ana, "open first by due date: %s", all);
    free(all);

    struct api_response res;
    call(api_h_actions_list, GET(NULL), &res, "owner", "Tom", NULL);
    expect_json(&res, 200, "\"next_cursor\":null}");
    cr_expect(eq(sz, count(body(&res), "\"owner\":\"Tom\""), 2));
    cr_expect(eq(sz, count(body(&res), "\"text\""), 2));
    kpi_buf_free(&res.body);

    call(api_h_actions_list, GET(NULL), &res, "open", "maybe", NULL);
    expect_problem(&res, 400, "open: 'maybe' is not a boolean");
    call(api_h_actions_list, GET(NULL), &res, "kpi", "mrr", NULL);
    expect_problem(&res, 400, "query parameter 'kpi' is not known here (expected owner, open, limit, cursor)");
}

Test(api_targets_reviews, action_patch)
{
    add_actions();
    struct api_response res;
    /* Reopening an open action changes nothing. */
    call(api_h_action_patch, SEND(API_PATCH, "2", "{\"done\":false}"), &res, NULL);
    expect_json(&res, 200, "\"id\":2,");
    cr_expect(strstr(body(&res), "\"done\":false,\"done_at\":null") != NULL, "%s", body(&res));
    cr_expect(eq(int, body(&res)[0], '{'));
    kpi_buf_free(&res.body);

    call(api_h_action_patch, SEND(API_PATCH, "2", "{\"done\":true}"), &res, NULL);
    expect_json(&res, 200, "\"id\":2,\"review\":1,\"kpi\":\"mrr\",\"text\":\"sooner\"");
    cr_expect(strstr(body(&res), "\"done\":true,\"done_at\":\"") != NULL, "%s", body(&res));
    kpi_buf_free(&res.body);
    /* Closing again is idempotent. */
    call(api_h_action_patch, SEND(API_PATCH, "2", "{\"done\":true}"), &res, NULL);
    expect_json(&res, 200, "\"done\":true");
    kpi_buf_free(&res.body);

    call(api_h_actions_list, GET(NULL), &res, "open", "true", NULL);
    expect_json(&res, 200, "");
    cr_expect(eq(sz, count(body(&res), "\"text\""), 2));
    cr_expect(strstr(body(&res), "sooner") == NULL, "%s", body(&res));
    kpi_buf_free(&res.body);

    /* false reopens it (and again is idempotent); true closes it again. */
    for (int i = 0; i < 2; i++) {
        call(api_h_action_patch, SEND(API_PATCH, "2", "{\"done\":false}"), &res, NULL);
        expect_json(&res, 200, "\"done\":false");
        kpi_buf_free(&res.body);
    }
    call(api_h_actions_list, GET(NULL), &res, "open", "true", NULL);
    expect_json(&res, 200, "");
    cr_expect(eq(sz, count(body(&res), "\"text\""), 3), "the reopened action is open again");
    kpi_buf_free(&res.body);
    call(api_h_action_patch, SEND(API_PATCH, "2", "{\"done\":true}"), &res, NULL);
    expect_json(&res, 200, "\"done\":true");
    kpi_buf_free(&res.body);
    call(api_h_action_patch, SEND(API_PATCH, "99", "{\"done\":true}"), &res, NULL);
    expect_problem(&res, 404, "no action with ID 99");
    call(api_h_action_patch, SEND(API_PATCH, "99", "{\"done\":false}"), &res, NULL);
    expect_problem(&res, 404, "no action with ID 99");
    call(api_h_action_patch, SEND(API_PATCH, "x1", "{\"done\":true}"), &res, NULL);
    expect_problem(&res, 400, "id: 'x1' is not an action ID");
    call(api_h_action_patch, SEND(API_PATCH, "0", "{\"done\":true}"), &res, NULL);
    expect_problem(&res, 400, "id: '0' is not an action ID");
    call(api_h_action_patch, SEND(API_PATCH, "1", "{\"done\":\"yes\"}"), &res, NULL);
    expect_problem(&res, 422, "done: expected true or false, found a string");
    call(api_h_action_patch, SEND(API_PATCH, "1", "{\"done\":true,\"owner\":\"x\"}"), &res, NULL);
    expect_problem(&res, 422, "unknown field 'owner' (expected done)");
    call(api_h_action_patch, SEND(API_PATCH, "1", "{done:true}"), &res, NULL);
    expect_problem(&res, 400, "line 1, column 5: string or '}' expected near 'done'");
    call(api_h_action_patch, ((struct call){API_PATCH, "1", NULL, "done=true", "application/x-www-form-urlencoded"}), &res, NULL);
    expect_problem(&res, 415, "application/x-www-form-urlencoded");
}

/* ---- annotations ---- */

Test(api_targets_reviews, annotations_post_and_list)
{
    struct api_response res;
    call(api_h_kpi_annotations_post, SEND(API_POST, "mrr", "{\"date\":\"2026-03-01\",\"text\":\"price change\"}"), &res, NULL);
    expect_json(&res, 201, "");
    cr_expect(eq(str, (char *)body(&res), "{\"id\":1,\"kpi\":\"mrr\",\"date\":\"2026-03-01\",\"text\":\"price change\"}"));
    kpi_buf_free(&res.body);
    call(api_h_annotations_post, SEND(API_POST, NULL, "{\"date\":\"2026-12-24\",\"text\":\"holidays\"}"), &res, NULL);
    expect_json(&res, 201, "{\"id\":2,\"kpi\":null,\"date\":\"2026-12-24\"");
    kpi_buf_free(&res.body);
    call(api_h_kpi_annotations_post, SEND(API_POST, "arr", "{\"date\":\"2026-06-01\",\"text\":\"other KPI\"}"), &res, NULL);
    expect_json(&res, 201, "\"kpi\":\"arr\"");
    kpi_buf_free(&res.body);
    /* A KPI's annotations include the organisation's, not another KPI's. */
    call(api_h_kpi_annotations_list, GET("mrr"), &res, "to", "2026-12-31", NULL);
    expect_json(&res, 200, "");
    cr_expect(eq(str, (char *)body(&res),
                 "{\"items\":[{\"id\":1,\"kpi\":\"mrr\",\"date\":\"2026-03-01\",\"text\":\"price change\"},"
                 "{\"id\":2,\"kpi\":null,\"date\":\"2026-12-24\",\"text\":\"holidays\"}],\"next_cursor\":null}"));
    kpi_buf_free(&res.body);
    call(api_h_kpi_annotations_list, GET("mrr"), &res, "from", "2026-03-02", "to", "2026-12-24", NULL);
    expect_json(&res, 200, "\"holidays\"");
    cr_expect(eq(sz, count(body(&res), "\"text\""), 1));
    kpi_buf_free(&res.body);
    /* No date: today. */
    char today[16], want[64];
    call(api_h_kpi_annotations_post, SEND(API_POST, "mrr", "{\"text\":\"today\"}"), &res, NULL);
    snprintf(want, sizeof(want), "\"date\":\"%s\"", today_text(today, sizeof(today)));
    expect_json(&res, 201, want);
    kpi_buf_free(&res.body);

    size_t pages;
    char *all = walk(api_h_annotations_list, NULL, "1", &pages);
    cr_expect(eq(sz, pages, 4));
    cr_expect(eq(sz, count(all, "\"text\""), 4));
    free(all);

    call(api_h_kpi_annotations_list, GET("nope"), &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nope'");
    call(api_h_annotations_list, GET(NULL), &res, "from", "2026-13-01", NULL);
    expect_problem(&res, 400, "from: '2026-13-01' is not a date (YYYY-MM-DD)");
    call(api_h_annotations_list, GET(NULL), &res, "from", "2026-02-01", "to", "2026-01-01", NULL);
    expect_problem(&res, 422, "from: 2026-02-01 is after to (2026-01-01)");
    call(api_h_annotations_list, GET(NULL), &res, "from", "2026-01-01", "from", "2026-01-02", NULL);
    expect_problem(&res, 400, "query parameter 'from' is given twice");
}

Test(api_targets_reviews, annotation_post_errors)
{
    struct api_response res;
    call(api_h_kpi_annotations_post, SEND(API_POST, "nope", "{\"text\":\"x\"}"), &res, NULL);
    expect_problem(&res, 404, "no KPI with key 'nope'");
    call(api_h_annotations_post, SEND(API_POST, NULL, "{\"text\":\"\"}"), &res, NULL);
    expect_problem(&res, 422, "text: must not be empty");
    call(api_h_annotations_post, SEND(API_POST, NULL, "{\"text\":\"x\",\"date\":\"tomorrow\"}"), &res, NULL);
    expect_problem(&res, 422, "date: 'tomorrow' is not a date (YYYY-MM-DD)");
    call(api_h_annotations_post, SEND(API_POST, NULL, "{\"text\":\"x\",\"kpi\":\"mrr\"}"), &res, NULL);
    expect_problem(&res, 422, "unknown field 'kpi' (expected date or text)");
    call(api_h_annotations_post, SEND(API_POST, NULL, "[]"), &res, NULL);
    expect_problem(&res, 422, "expected an annotation");
    call(api_h_annotations_post, SEND(API_POST, NULL, "{\"text\":\"x\",}"), &res, NULL);
    expect_problem(&res, 400, "line 1, column ");
    call(api_h_annotations_post, ((struct call){API_POST, NULL, NULL, "{\"text\":\"x\"}", "application/xml"}), &res, NULL);
    expect_problem(&res, 415, "application/xml");

    struct kpi_annotation *list;
    size_t n;
    cr_assert(eq(int, kpi_store_annotations_list(store, NULL, KPI_DAY_MIN, KPI_DAY_MAX, &list, &n), 0));
    cr_expect(eq(sz, n, 0), "nothing was written");
    kpi_store_annotations_free(list, n);
}
