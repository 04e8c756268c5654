/*
 * KPI definitions and the organisation over HTTP: GET/PUT /api/v1/org and the CRUD of
 * /api/v1/kpis. Bodies go through the model's field table (json/parse.c), so the API accepts
 * exactly what the CLI and YAML accept and rejects unknown fields. DELETE archives: points,
 * targets and reviews stay, and PATCH {"archived": false} brings the KPI back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/str.h"
#include "json/json.h"
#include "json/parse.h"

/* A body the parser refused: syntax errors ("line L, column C: ...") are 400, the rest 422. */
static int body_problem(struct api_response *res, int code, const struct kpi_diag *diag)
{
    if (code == -ENOMEM)
        return code;
    if (code == -E2BIG)
        return api_problem(res, 413, "%s", diag->msg);
    return api_problem(res, strncmp(diag->msg, "line ", 5) == 0 ? 400 : 422, "%s", diag->msg);
}

/* ---- organisation ---- */

int api_h_org_get(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    struct kpi_org org;
    int r = kpi_store_org_get(req->store, &org);
    if (r < 0)
        return r;
    r = kpi_json_org(&res->body, &org, KPI_JSON_COMPACT);
    return r < 0 ? r : api_json(res, 200);
}

int api_h_org_put(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL) || !api_body_json(req, res))
        return 0;
    struct kpi_org old, org;
    int r = kpi_store_org_get(req->store, &old);
    if (r < 0)
        return r;
    struct kpi_diag diag = {{0}};
    r = kpi_json_parse_org(req->body, req->body_len, &old, &org, &diag);
    if (r < 0)
        return body_problem(res, r, &diag);
    r = api_write_begin(req);
    if (r < 0)
        return r;
    r = kpi_store_org_set(req->store, &org);
    int c = api_write_end(req, r == 0);
    if (r < 0 || c < 0)
        return r < 0 ? r : c;
    api_org_changed(req->server);
    r = kpi_json_org(&res->body, &org, KPI_JSON_COMPACT);
    return r < 0 ? r : api_json(res, 200);
}

/* ---- definitions ---- */

static int def_answer(struct api_request *req, struct api_response *res, const char *key, int status)
{
    struct kpi_def d;
    int r = kpi_store_kpi_get(req->store, key, &d);
    if (r < 0)
        return r;
    r = kpi_json_def(&res->body, &d, KPI_JSON_COMPACT);
    kpi_def_clear(&d);
    if (r < 0)
        return r;
    if (status == 201)
        snprintf(res->location, sizeof(res->location), "/api/v1/kpis/%s", key);
    return api_json(res, status);
}

static int unknown_kpi(struct api_response *res, const char *key)
{
    return api_problem(res, 404, "no KPI with key '%.64s'", key);
}

static bool matches(const char *filter, const char *value)
{
    return !filter || (value && strcmp(filter, value) == 0);
}

int api_h_kpis_list(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"team", "tier", "owner", "archived", "limit", "cursor", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    bool archived = false;
    unsigned limit;
    const char *cursor;
    if (!api_query_bool(req, res, "archived", &archived) || !api_page_params(req, res, API_PAGE_MAX, &limit, &cursor))
        return 0;
    const char *team = api_query(req, "team"), *owner = api_query(req, "owner"), *tier_text = api_query(req, "tier");
    int tier = -1;
    if (tier_text) {
        struct kpi_diag diag = {{0}};
        if (kpi_enum_parse(&kpi_enum_tier, tier_text, &tier, &diag) < 0)
            return api_problem(res, 400, "%s", diag.msg);
    }
    char after[KPI_KEY_MAX + 1] = "";
    if (cursor && (api_cursor_decode(cursor, after, sizeof(after)) < 0 || !kpi_key_valid(after)))
        return api_problem(res, 400, "cursor: '%.64s' is not a cursor this list gave", cursor);

    struct kpi_def *defs;
    size_t n;
    int r = kpi_store_kpi_list(req->store, archived, &defs, &n);
    if (r < 0)
        return r;
    /* Keep the page's definitions: those after the cursor that pass the filters (defs are by key). */
    size_t *pick = calloc(limit + 1, sizeof(*pick));
    if (!pick) {
        kpi_store_kpi_list_free(defs, n);
        return -ENOMEM;
    }
    size_t k = 0;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        const struct kpi_def *d = &defs[i];
        if (after[0] && strcmp(d->key, after) <= 0)
            continue;
        if (!matches(team, d->team) || !matches(owner, d->owner) || (tier >= 0 && (int)d->tier != tier))
            continue;
        if (k == limit) {
            more = true;
            break;
        }
        pick[k++] = i;
    }
    r = kpi_buf_adds(&res->body, "{\"items\":[");
    for (size_t i = 0; i < k && r == 0; i++) {
        if (i)
            r = kpi_buf_addc(&res->body, ',');
        if (r == 0)
            r = kpi_json_def(&res->body, &defs[pick[i]], KPI_JSON_COMPACT);
    }
    if (r == 0)
        r = kpi_buf_addc(&res->body, ']');
    if (r == 0)
        r = api_page_end(res, more ? defs[pick[k - 1]].key : NULL);
    free(pick);
    kpi_store_kpi_list_free(defs, n);
    return r;
}

int api_h_kpis_create(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL) || !api_body_json(req, res))
        return 0;
    struct kpi_def d;
    bool has_targets;
    struct kpi_diag diag = {{0}};
    int r = kpi_json_parse_def(req->body, req->body_len, NULL, &d, &has_targets, &diag);
    if (r < 0)
        return body_problem(res, r, &diag);
    if (!d.key[0]) {
        kpi_def_clear(&d);
        return api_problem(res, 422, "key: is required");
    }
    r = api_write_begin(req);
    if (r < 0) {
        kpi_def_clear(&d);
        return r;
    }
    r = kpi_store_kpi_insert(req->store, &d, &diag);
    int c = api_write_end(req, r == 0);
    if (r == -EEXIST) {
        r = api_problem(res, 409, "a KPI with key '%s' already exists (PUT /api/v1/kpis/%s replaces it)", d.key, d.key);
    } else if (r < 0 && r != -ENOMEM && r != -EIO) {
        r = api_problem(res, 422, "%s", diag.msg[0] ? diag.msg : "invalid definition");
    } else if (r == 0 && c < 0) {
        r = c;
    } else if (r == 0) {
        r = def_answer(req, res, d.key, 201);
    }
    kpi_def_clear(&d);
    return r;
}

int api_h_kpi_get(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    int r = def_answer(req, res, req->route_params[0], 200);
    return r == -ENOENT ? unknown_kpi(res, req->route_params[0]) : r;
}

/* PUT (base NULL: the body is the whole definition, created when the key is new) and PATCH (the
 * body changes only the fields it names). */
static int write_def(struct api_request *req, struct api_response *res, bool patch)
{
    if (!api_query_check(req, res, NULL) || !api_body_json(req, res))
        return 0;
    const char *key = req->route_params[0];
    struct kpi_def old;
    int r = kpi_store_kpi_get(req->store, key, &old);
    if (r == -ENOENT && patch)
        return unknown_kpi(res, key);
    if (r < 0 && r != -ENOENT)
        return r;
    bool exists = r == 0;
    struct kpi_def d;
    bool has_targets;
    struct kpi_diag diag = {{0}};
    r = kpi_json_parse_def(req->body, req->body_len, patch ? &old : NULL, &d, &has_targets, &diag);
    if (r < 0) {
        if (exists)
            kpi_def_clear(&old);
        return body_problem(res, r, &diag);
    }
    if (d.key[0] && strcmp(d.key, key) != 0) {
        r = api_problem(res, 422, "key: '%s' differs from the key in the path ('%s'); keys cannot be renamed", d.key, key);
        goto out;
    }
    if (kpi_def_set_key(&d, key, &diag) < 0) {
        r = api_problem(res, 422, "%s", diag.msg);
        goto out;
    }
    if (exists) {
        d.id = old.id;
        d.created_ms = old.created_ms;
        if (!patch && !has_targets) {
            /* A definition without `targets` keeps the stored ones, as `kpi apply` does. */
            for (size_t i = 0; i < old.n_targets && r == 0; i++)
                r = kpi_def_set_target(&d, &old.targets[i], &diag);
            if (r < 0) {
                r = api_problem(res, 422, "%s", diag.msg);
                goto out;
            }
        }
    }
    r = api_write_begin(req);
    if (r < 0)
        goto out;
    r = exists ? kpi_store_kpi_update(req->store, &d, &diag) : kpi_store_kpi_insert(req->store, &d, &diag);
    int c = api_write_end(req, r == 0);
    if (r < 0 && r != -ENOMEM && r != -EIO)
        r = api_problem(res, r == -EEXIST ? 409 : 422, "%s", diag.msg[0] ? diag.msg : "invalid definition");
    else if (r == 0 && c < 0)
        r = c;
    else if (r == 0)
        r = def_answer(req, res, key, exists ? 200 : 201);
out:
    kpi_def_clear(&d);
    if (exists)
        kpi_def_clear(&old);
    return r;
}

int api_h_kpi_put(struct api_request *req, struct api_response *res)
{
    return write_def(req, res, false);
}

int api_h_kpi_patch(struct api_request *req, struct api_response *res)
{
    return write_def(req, res, true);
}

int api_h_kpi_delete(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    const char *key = req->route_params[0];
    int r = api_write_begin(req);
    if (r < 0)
        return r;
    struct kpi_def d;
    r = kpi_store_kpi_get(req->store, key, &d);
    struct kpi_diag diag = {{0}};
    if (r == 0 && !d.archived) {
        d.archived = true;
        r = kpi_store_kpi_update(req->store, &d, &diag);
    }
    if (r != -ENOENT)
        kpi_def_clear(&d);
    int c = api_write_end(req, r == 0);
    if (r == -ENOENT)
        return unknown_kpi(res, key);
    if (r < 0 || c < 0)
        return r < 0 ? r : c;
    res->status = 204;
    return 0;
}
