/*
 * The request path of the HTTP API without a socket: route matching (captures, 404, 405 with
 * Allow), bearer-token authentication, the response cache with ETag / If-None-Match and its
 * invalidation by writes, cursors, query-parameter checks, problem documents, and a points batch
 * that is rejected whole. Requests go through api_dispatch exactly as server.c sends them.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/server.h"
#include "base/crypto.h"
#include "kpi/time.h"

static char dir[64];
static char path[128];
static struct api_server srv;
static char token[KPI_TOKEN_TEXT_SIZE];
static char auth[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kpi-test-dispatch-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/t.db", dir);
    struct kpi_store *s;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_store_open_sqlite(path, true, &s, &diag), 0), "%s", diag.msg);
    cr_assert(eq(int, kpi_crypto_init(), 0));
    kpi_token_generate(token, sizeof(token));
    uint8_t hash[KPI_HASH_SIZE];
    kpi_hash(token, strlen(token), hash);
    cr_assert(eq(int, kpi_store_token_add(s, "test", hash, 1), 0));
    struct kpi_def d;
    kpi_def_init(&d);
    cr_assert(eq(int, kpi_def_set_key(&d, "signups", &diag), 0));
    cr_assert(eq(int, kpi_def_set_field(&d, "name", "Sign-ups", &diag), 0));
    cr_assert(eq(int, kpi_store_kpi_insert(s, &d, &diag), 0), "%s", diag.msg);
    kpi_def_clear(&d);
    kpi_store_close(s);
    snprintf(auth, sizeof(auth), "Bearer %s", token);

    memset(&srv, 0, sizeof(srv));
    srv.opt.db_path = path;
    srv.opt.body_max = API_BODY_MAX_DEFAULT;
    srv.opt.batch_max = 10;
    pthread_mutex_init(&srv.write_lock, NULL);
    pthread_mutex_init(&srv.conns_lock, NULL);
    pthread_mutex_init(&srv.log_lock, NULL);
    srv.cache = api_cache_new(1 << 20);
    srv.metrics = api_metrics_new(api_n_routes);
    atomic_store(&srv.ready, true);
}

static void teardown(void)
{
    api_conns_close(&srv);
    api_cache_free(srv.cache);
    api_metrics_free(srv.metrics);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_expect(eq(int, system(cmd), 0));
}

TestSuite(dispatch, .init = setup, .fini = teardown);

struct call {
    struct api_request req;
    struct api_response res;
};

/* Sends METHOD PATH (with an optional query "a=1&b=2") through api_dispatch. */
static void send_request(struct call *c, const char *method, const char *target, const char *authorization, const char *body,
                         const char *if_none_match)
{
    static char pathbuf[512], querybuf[512];
    memset(c, 0, sizeof(*c));
    kpi_buf_init(&c->res.body, API_RESPONSE_MAX);
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    memcpy(pathbuf, target, plen);
    pathbuf[plen] = '\0';
    c->req.path = pathbuf;
    c->req.method = api_method_parse(method);
    c->req.server = &srv;
    c->req.authorization = authorization;
    c->req.if_none_match = if_none_match;
    c->req.body = body ? body : "";
    c->req.body_len = body ? strlen(body) : 0;
    c->req.content_type = body ? "application/json" : NULL;
    if (q) {
        snprintf(querybuf, sizeof(querybuf), "%s", q + 1);
        for (char *kv = querybuf; kv && *kv;) {
            char *amp = strchr(kv, '&');
            if (amp)
                *amp = '\0';
            char *eq = strchr(kv, '=');
            if (eq)
                *eq = '\0';
            c->req.query[c->req.n_query].name = kv;
            c->req.query[c->req.n_query].value = eq ? eq + 1 : "";
            c->req.n_query++;
            kv = amp ? amp + 1 : NULL;
        }
    }
    api_dispatch(&srv, &c->req, &c->res);
}

static void done(struct call *c)
{
    api_response_done(&c->res);
}

static const char *body_of(const struct call *c)
{
    size_t len;
    return api_response_body(&c->res, &len);
}

Test(dispatch, routes_capture_parameters_and_answer_404_and_405)
{
    struct api_request req = {0};
    bool known;
    char allow[96];
    const struct api_route *r = api_route_match(API_GET, "/api/v1/kpis/mrr/targets/2026-12-31", &req, &known, allow, sizeof(allow));
    cr_assert(r == NULL); /* only DELETE is routed there */
    cr_expect(known);
    cr_expect(eq(str, allow, "DELETE"));
    r = api_route_match(API_DELETE, "/api/v1/kpis/mrr/targets/2026-12-31", &req, &known, allow, sizeof(allow));
    cr_assert(r != NULL);
    cr_expect(eq(str, (char *)r->name, "target_delete"));
    cr_expect(eq(sz, req.n_route_params, 2));
    cr_expect(eq(str, (char *)req.route_params[0], "mrr"));
    cr_expect(eq(str, (char *)req.route_params[1], "2026-12-31"));
    cr_expect(api_route_match(API_GET, "/api/v1/kpis/", &req, &known, allow, sizeof(allow)) == NULL);
    cr_expect(not(known));
    cr_expect(api_route_match(API_GET, "/api/v1/kpis/a/b/c/d", &req, &known, allow, sizeof(allow)) == NULL);
    cr_expect(api_route_match(API_HEAD, "/healthz", &req, &known, allow, sizeof(allow)) != NULL);

    struct call c;
    send_request(&c, "GET", "/api/v1/nowhere", auth, NULL, NULL);
    cr_expect(eq(int, c.res.status, 404));
    cr_expect(eq(str, (char *)c.res.content_type, "application/problem+json"));
    done(&c);
    send_request(&c, "PUT", "/api/v1/scorecard", auth, NULL, NULL);
    cr_expect(eq(int, c.res.status, 405));
    cr_expect(eq(str, c.res.allow, "GET"));
    done(&c);
}

Test(dispatch, every_api_route_needs_a_valid_bearer_token)
{
    struct call c;
    send_request(&c, "GET", "/api/v1/kpis", NULL, NULL, NULL);
    cr_expect(eq(int, c.res.status, 401));
    cr_expect(strstr(body_of(&c), "Bearer") != NULL);
    done(&c);
    send_request(&c, "GET", "/api/v1/kpis", "Basic dXNlcjpwYXNz", NULL, NULL);
    cr_expect(eq(int, c.res.status, 401));
    done(&c);
    send_request(&c, "GET", "/api/v1/kpis", "Bearer kpi_0000000000000000000000000000000000000000000000000000000000000000", NULL,
                 NULL);
    cr_expect(eq(int, c.res.status, 401));
    cr_expect(strstr(body_of(&c), "not valid") != NULL);
    done(&c);
    send_request(&c, "GET", "/api/v1/kpis", auth, NULL, NULL);
    cr_expect(eq(int, c.res.status, 200), "%s", body_of(&c));
    cr_expect(eq(str, c.req.principal, "token:test"));
    done(&c);
    /* Public routes need none. */
    send_request(&c, "GET", "/healthz", NULL, NULL, NULL);
    cr_expect(eq(int, c.res.status, 200));
    done(&c);
    send_request(&c, "GET", "/readyz", NULL, NULL, NULL);
    cr_expect(eq(int, c.res.status, 200));
    done(&c);
    send_request(&c, "GET", "/api/v1/openapi.json", NULL, NULL, NULL);
    cr_expect(eq(int, c.res.status, 200));
    cr_expect(strstr(body_of(&c), "\"openapi\"") != NULL);
    done(&c);
}

Test(dispatch, cached_reads_carry_an_etag_until_a_write)
{
    struct call c;
    send_request(&c, "GET", "/api/v1/scorecard?as_of=2026-11-20", auth, NULL, NULL);
    cr_assert(eq(int, c.res.status, 200), "%s", body_of(&c));
    char etag[64];
    snprintf(etag, sizeof(etag), "%s", c.res.etag);
    cr_expect(etag[0] == '"');
    done(&c);

    send_request(&c, "GET", "/api/v1/scorecard?as_of=2026-11-20", auth, NULL, etag);
    cr_expect(eq(int, c.res.status, 304));
    size_t len;
    api_response_body(&c.res, &len);
    cr_expect(eq(sz, len, 0));
    done(&c);
    send_request(&c, "GET", "/api/v1/scorecard?as_of=2026-11-20", auth, NULL,
                 "\"other\", W/"
                 "\"x\"");
    cr_expect(eq(int, c.res.status, 200));
    cr_expect(eq(str, c.res.etag, etag));
    done(&c);

    send_request(&c, "POST", "/api/v1/points", auth, "[{\"kpi\":\"signups\",\"at\":\"2026-11-02\",\"value\":7}]", NULL);
    cr_expect(eq(int, c.res.status, 200), "%s", body_of(&c));
    cr_expect(eq(str, (char *)body_of(&c), "{\"rows\":1,\"written\":1}"));
    done(&c);

    send_request(&c, "GET", "/api/v1/scorecard?as_of=2026-11-20", auth, NULL, etag);
    cr_expect(eq(int, c.res.status, 200));
    cr_expect(ne(str, c.res.etag, etag));
    done(&c);
}

Test(dispatch, a_bad_batch_is_rejected_whole_and_a_big_one_is_refused)
{
    struct call c;
    send_request(&c, "POST", "/api/v1/points", auth,
                 "[{\"kpi\":\"signups\",\"at\":\"2026-11-02\",\"value\":1},"
                 "{\"kpi\":\"nope\",\"at\":\"2026-11-02\",\"value\":1},"
                 "{\"kpi\":\"signups\",\"at\":\"someday\",\"value\":1}]",
                 NULL);
    cr_expect(eq(int, c.res.status, 422));
    cr_expect(strstr(body_of(&c), "\"index\":2") != NULL, "%s", body_of(&c));
    cr_expect(strstr(body_of(&c), "\"index\":3") != NULL, "%s", body_of(&c));
    cr_expect(strstr(body_of(&c), "\"field\":\"at\"") != NULL, "%s", body_of(&c));
    done(&c);
    send_request(&c, "GET", "/api/v1/kpis/signups/points", auth, NULL, NULL);
    cr_expect(eq(str, (char *)body_of(&c), "{\"items\":[],\"next_cursor\":null}"));
    done(&c);

    char big[2048] = "[";
    for (int i = 0; i < 11; i++) {
        size_t len = strlen(big);
        snprintf(big + len, sizeof(big) - len, "%s{\"kpi\":\"signups\",\"at\":\"2026-10-%02d\",\"value\":%d}", i ? "," : "", i + 1,
                 i);
    }
    size_t blen = strlen(big);
    snprintf(big + blen, sizeof(big) - blen, "]");
    send_request(&c, "POST", "/api/v1/points", auth, big, NULL);
    cr_expect(eq(int, c.res.status, 413), "%s", body_of(&c));
    done(&c);
}

Test(dispatch, lists_page_with_opaque_cursors)
{
    struct call c;
    send_request(&c, "POST", "/api/v1/kpis/signups/points", auth,
                 "[{\"at\":\"2026-11-01\",\"value\":1},{\"at\":\"2026-11-02\",\"value\":2},{\"at\":\"2026-11-03\",\"value\":3}]",
                 NULL);
    cr_assert(eq(int, c.res.status, 200), "%s", body_of(&c));
    done(&c);
    send_request(&c, "GET", "/api/v1/kpis/signups/points?limit=2", auth, NULL, NULL);
    cr_assert(eq(int, c.res.status, 200));
    const char *next = strstr(body_of(&c), "\"next_cursor\":\"");
    cr_assert(next != NULL, "%s", body_of(&c));
    char cursor[128];
    snprintf(cursor, sizeof(cursor), "%.*s", (int)strcspn(next + 15, "\""), next + 15);
    cr_expect(strstr(body_of(&c), "2026-11-03") == NULL);
    done(&c);
    char target[256];
    snprintf(target, sizeof(target), "/api/v1/kpis/signups/points?limit=2&cursor=%s", cursor);
    send_request(&c, "GET", target, auth, NULL, NULL);
    cr_expect(strstr(body_of(&c), "2026-11-03") != NULL, "%s", body_of(&c));
    cr_expect(strstr(body_of(&c), "2026-11-01") == NULL, "%s", body_of(&c));
    cr_expect(strstr(body_of(&c), "\"next_cursor\":null") != NULL);
    done(&c);
    send_request(&c, "GET", "/api/v1/kpis/signups/points?cursor=!!", auth, NULL, NULL);
    cr_expect(eq(int, c.res.status, 400));
    done(&c);

    char enc[64], dec[64];
    cr_expect(eq(int, api_cursor_encode("mrr", enc, sizeof(enc)), 0));
    cr_expect(eq(int, api_cursor_decode(enc, dec, sizeof(dec)), 0));
    cr_expect(eq(str, dec, "mrr"));
}

Test(dispatch, query_parameters_are_checked)
{
    struct call c;
    send_request(&c, "GET", "/api/v1/kpis?colour=red", auth, NULL, NULL);
    cr_expect(eq(int, c.res.status, 400));
    cr_expect(strstr(body_of(&c), "colour") != NULL);
    done(&c);
    send_request(&c, "GET", "/api/v1/kpis?limit=1&limit=2", auth, NULL, NULL);
    cr_expect(eq(int, c.res.status, 400));
    done(&c);
    send_request(&c, "GET", "/api/v1/kpis?limit=5000", auth, NULL, NULL);
    cr_expect(eq(int, c.res.status, 422));
    done(&c);
    send_request(&c, "GET", "/api/v1/scorecard?as_of=yesterday", auth, NULL, NULL);
    cr_expect(eq(int, c.res.status, 400));
    cr_expect(strstr(body_of(&c), "as_of") != NULL);
    done(&c);
}
