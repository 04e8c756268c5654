/*
 * A KPI's targets over HTTP: GET, PUT (replace them all with an array) and POST (add one, or
 * replace the one due the same date) on /api/v1/kpis/{key}/targets, and DELETE
 * /api/v1/kpis/{key}/targets/{date}. A target is identified by its date, as in `kpi target`.
 * Every change reads the KPI, changes its targets and writes it back inside one write
 * transaction, so the model's checks (kpi_def_set_target, kpi_store_kpi_update) apply as they do
 * for the CLI; answers are the KPI's targets as kpi_json_targets writes them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "json/json.h"
#include "json/parse.h"
#include "kpi/status.h"
#include "kpi/time.h"

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

/* The first character of the body that is not white space. */
static char body_start(const struct api_request *req)
{
    const char *p = req->body;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return *p;
}

static int targets_answer(struct api_response *res, const struct kpi_def *d, int status)
{
    int r = kpi_json_targets(&res->body, d, KPI_JSON_COMPACT);
    return r < 0 ? r : api_json(res, status);
}

int api_h_targets_list(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    const char *key = req->route_params[0];
    struct kpi_def d;
    int r = kpi_store_kpi_get(req->store, key, &d);
    if (r == -ENOENT)
        return unknown_kpi(res, key);
    if (r < 0)
        return r;
    r = targets_answer(res, &d, 200);
    kpi_def_clear(&d);
    return r;
}

/* PUT (replace: the body is an array) and POST (set one: the body is one target object). */
static int write_targets(struct api_request *req, struct api_response *res, bool replace)
{
    if (!api_query_check(req, res, NULL) || !api_body_json(req, res))
        return 0;
    const char *shape = NULL;
    char start = body_start(req);
    if (replace && start == '{')
        shape = "expected an array of targets ([] removes them all); POST sets a single target";
    if (!replace && start == '[')
        shape = "expected one target object; PUT replaces all targets with an array";
    const char *key = req->route_params[0];
    int r = api_write_begin(req);
    if (r < 0)
        return r;
    struct kpi_def d;
    r = kpi_store_kpi_get(req->store, key, &d);
    if (r < 0) {
        api_write_end(req, false);
        return r == -ENOENT ? unknown_kpi(res, key) : r;
    }
    if (shape) {
        api_write_end(req, false);
        kpi_def_clear(&d);
        return api_problem(res, 422, "%s", shape);
    }
    struct kpi_target *t = NULL;
    size_t n = 0;
    struct kpi_diag diag = {{0}};
    bool answered = false;
    r = kpi_json_parse_targets(req->body, req->body_len, d.direction, &t, &n, &diag);
    if (r < 0) {
        r = body_problem(res, r, &diag);
        answered = true;
    }
    if (!answered && replace) {
        free(d.targets);
        d.targets = NULL;
        d.n_targets = 0;
    }
    for (size_t i = 0; r == 0 && !answered && i < n; i++) {
        r = kpi_def_set_target(&d, &t[i], &diag);
        if (r < 0 && r != -ENOMEM) {
            if (replace)
                kpi_diag_prefix(&diag, "targets[%zu].", i);
            r = api_problem_code(res, r, &diag);
            answered = true;
        }
    }
    if (r == 0 && !answered) {
        r = kpi_store_kpi_update(req->store, &d, &diag);
        if (r < 0 && r != -ENOMEM && r != -EIO) {
            r = api_problem_code(res, r, &diag);
            answered = true;
        }
    }
    bool ok = r == 0 && !answered;
    int c = api_write_end(req, ok);
    if (ok && c < 0)
        r = c;
    else if (ok) {
        if (!replace && n > 0) {
            char date[16];
            kpi_date_format(t[0].day, date, sizeof(date));
            snprintf(res->location, sizeof(res->location), "/api/v1/kpis/%s/targets/%s", d.key, date);
        }
        r = targets_answer(res, &d, replace ? 200 : 201);
    }
    free(t);
    kpi_def_clear(&d);
    return r;
}

int api_h_targets_put(struct api_request *req, struct api_response *res)
{
    return write_targets(req, res, true);
}

int api_h_targets_post(struct api_request *req, struct api_response *res)
{
    return write_targets(req, res, false);
}

int api_h_target_delete(struct api_request *req, struct api_response *res)
{
    if (!api_query_check(req, res, NULL))
        return 0;
    const char *key = req->route_params[0], *date = req->route_params[1];
    int64_t day;
    if (kpi_date_parse(date, strlen(date), &day) < 0)
        return api_problem(res, 400, "date: '%.64s' is not a date (YYYY-MM-DD)", date);
    int r = api_write_begin(req);
    if (r < 0)
        return r;
    struct kpi_def d;
    r = kpi_store_kpi_get(req->store, key, &d);
    if (r < 0) {
        api_write_end(req, false);
        return r == -ENOENT ? unknown_kpi(res, key) : r;
    }
    struct kpi_diag diag = {{0}};
    bool answered = false;
    r = kpi_def_remove_target(&d, day);
    if (r == -ENOENT) {
        char text[16];
        kpi_date_format(day, text, sizeof(text));
        r = api_problem(res, 404, "KPI '%s' has no target due %s", d.key, text);
        answered = true;
    }
    if (r == 0 && !answered) {
        r = kpi_store_kpi_update(req->store, &d, &diag);
        if (r < 0 && r != -ENOMEM && r != -EIO) {
            r = api_problem_code(res, r, &diag);
            answered = true;
        }
    }
    bool ok = r == 0 && !answered;
    int c = api_write_end(req, ok);
    kpi_def_clear(&d);
    if (ok && c < 0)
        return c;
    if (ok)
        res->status = 204;
    return r;
}
