/*
 * API tokens over HTTP: list (names and creation times, never the secrets), create (the token is
 * in this one answer only; the database keeps its hash), and revoke. Until people and roles
 * arrive, any valid token may manage tokens.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "api/api.h"
#include "base/crypto.h"
#include "base/str.h"
#include "json/json.h"
#include "json/parse.h"
#include "kpi/time.h"

static int token_object(struct kpi_buf *out, const char *name, int64_t created_ms, const char *secret)
{
    char created[40];
    kpi_instant_format(created_ms, created, sizeof(created));
    int r = kpi_buf_adds(out, "{\"name\":");
    if (r == 0)
        r = kpi_json_quote(out, name);
    if (r == 0 && secret)
        r = kpi_buf_printf(out, ",\"token\":\"%s\"", secret);
    if (r == 0)
        r = kpi_buf_printf(out, ",\"created\":\"%s\"}", created);
    return r;
}

int api_h_tokens_list(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"limit", "cursor", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    unsigned limit;
    const char *cursor;
    if (!api_page_params(req, res, API_PAGE_MAX, &limit, &cursor))
        return 0;
    char after[KPI_TOKEN_NAME_MAX + 1] = "";
    if (cursor && (api_cursor_decode(cursor, after, sizeof(after)) < 0 || !kpi_token_name_valid(after)))
        return api_problem(res, 400, "cursor: '%.64s' is not a cursor this list gave", cursor);
    struct kpi_token *list;
    size_t n;
    int r = kpi_store_tokens_list(req->store, &list, &n);
    if (r < 0)
        return r;
    r = kpi_buf_adds(&res->body, "{\"items\":[");
    unsigned k = 0;
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n && r == 0; i++) {
        if (after[0] && strcmp(list[i].name, after) <= 0)
            continue;
        if (k == limit) {
            more = true;
            break;
        }
        if (k++)
            r = kpi_buf_addc(&res->body, ',');
        if (r == 0)
            r = token_object(&res->body, list[i].name, list[i].created_ms, NULL);
        last = list[i].name;
    }
    if (r == 0)
        r = kpi_buf_addc(&res->body, ']');
    if (r == 0)
        r = api_page_end(res, more ? last : NULL);
    free(list);
    return r;
}

int api_h_tokens_post(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL) || !api_body_json(req, res))
        return 0;
    char name[KPI_TOKEN_NAME_MAX + 1];
    struct kpi_diag diag = {{0}};
    int r = kpi_json_parse_name(req->body, req->body_len, "name", name, sizeof(name), &diag);
    if (r < 0)
        return r == -ENOMEM ? r : api_problem(res, strncmp(diag.msg, "line ", 5) == 0 ? 400 : 422, "%s", diag.msg);
    if (!kpi_token_name_valid(name))
        return api_problem(res, 422, "name: '%.64s' must be 1 to 64 letters, digits, '.', '_' or '-'", name);
    char secret[KPI_TOKEN_TEXT_SIZE];
    kpi_token_generate(secret, sizeof(secret));
    uint8_t hash[KPI_HASH_SIZE];
    kpi_hash(secret, strlen(secret), hash);
    int64_t now = kpi_clock_wall_ms();
    r = api_write_begin(req);
    if (r < 0)
        return r;
    r = kpi_store_token_add(req->store, name, hash, now);
    int c = api_write_end(req, r == 0);
    if (r == -EEXIST)
        return api_problem(res, 409, "a token named '%s' already exists (revoke it first with DELETE /api/v1/tokens/%s)", name,
                           name);
    if (r < 0 || c < 0)
        return r < 0 ? r : c;
    r = token_object(&res->body, name, now, secret);
    memset(secret, 0, sizeof(secret));
    if (r < 0)
        return r;
    snprintf(res->location, sizeof(res->location), "/api/v1/tokens/%s", name);
    return api_json(res, 201);
}

int api_h_token_delete(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    const char *name = req->route_params[0];
    int r = api_write_begin(req);
    if (r < 0)
        return r;
    r = kpi_store_token_remove(req->store, name);
    int c = api_write_end(req, r == 0);
    if (r == -ENOENT)
        return api_problem(res, 404, "no token named '%.64s'", name);
    if (r < 0 || c < 0)
        return r < 0 ? r : c;
    res->status = 204;
    return 0;
}
