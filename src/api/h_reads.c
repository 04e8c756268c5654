/*
 * The judged reads: a KPI's series (GET /api/v1/kpis/{key}/series), its status, the scorecard with
 * its filters, and team health. They answer exactly what `kpi series --json` and `kpi status
 * --json` print for the same arguments (same evaluator, same emitters), and are served from the
 * response cache with an ETag until the next write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/str.h"
#include "json/json.h"
#include "kpi/dims.h"
#include "kpi/time.h"
#include "store/evaluate.h"
#include "store/scorecard.h"

/* A day given as YYYY-MM-DD or as a period label (its first or last day), as the CLI takes them. */
static bool query_period_day(const struct api_request *req, struct api_response *res, const char *name, bool end, int64_t *ret_day)
{
    const char *v = api_query(req, name);
    if (!v)
        return true;
    if (kpi_date_parse(v, strlen(v), ret_day) == 0)
        return true;
    struct kpi_period p;
    if (kpi_period_parse(req->cal, v, strlen(v), &p) == 0) {
        *ret_day = end ? p.last_day : p.first_day;
        return true;
    }
    api_problem(res, 400, "%s: '%.64s' is not a date (YYYY-MM-DD) or a period such as 2026-Q1", name, v);
    return false;
}

int api_h_series(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"granularity", "from", "to", "dims", "as_of", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    const char *key = req->route_params[0];
    const char *gran_text = api_query(req, "granularity");
    int gran = -1;
    struct kpi_diag diag = {{0}};
    if (gran_text && kpi_enum_parse(&kpi_enum_granularity, gran_text, &gran, &diag) < 0)
        return api_problem(res, 400, "%s", diag.msg);
    int64_t as_of = KPI_DAY_MAX, from_day = 0, to_day = 0;
    char filter[KPI_DIMS_CANON_MAX + 1];
    if (!api_query_day(req, res, "as_of", &as_of) || !query_period_day(req, res, "from", false, &from_day) ||
        !query_period_day(req, res, "to", true, &to_day) || !api_query_dims(req, res, filter, sizeof(filter)))
        return 0;
    bool has_from = api_query(req, "from"), has_to = api_query(req, "to");
    if (has_from && has_to && from_day > to_day)
        return api_problem(res, 422, "from (%s) is after to (%s)", api_query(req, "from"), api_query(req, "to"));

    struct kpi_def *defs;
    size_t n_defs;
    int r = kpi_store_kpi_list(req->store, true, &defs, &n_defs);
    if (r < 0)
        return r;
    struct kpi_eval *ev = NULL;
    struct kpi_series_row *rows = NULL;
    char(*reasons)[KPI_EVAL_REASON_MAX] = NULL;
    size_t n_rows = 0;
    r = kpi_eval_new(req->store, req->cal, defs, n_defs, as_of, &ev);
    const struct kpi_def *d = r == 0 ? kpi_eval_find(ev, key) : NULL;
    if (r < 0)
        goto out;
    if (!d) {
        r = api_problem(res, 404, "no KPI with key '%.64s'", key);
        goto out;
    }
    enum kpi_granularity g = gran >= 0 ? (enum kpi_granularity)gran : d->granularity;
    int64_t first, last;
    r = (has_from && has_to) ? 0 : kpi_eval_span(ev, d, &first, &last);
    if (r == -ENOENT) {
        r = 0;
        first = last = INT64_MIN;
    }
    if (r < 0)
        goto out;
    if (!has_from)
        from_day = first;
    if (!has_to)
        to_day = last;
    if (from_day != INT64_MIN && to_day != INT64_MIN) {
        r = kpi_eval_series(ev, d, g, from_day, to_day, filter[0] ? filter : NULL, &rows, &n_rows, &reasons, &diag);
        if (r == -E2BIG) {
            r = api_problem(res, 422, "the range spans more than %d periods; narrow from/to or use a coarser granularity",
                            KPI_SERIES_MAX_PERIODS);
            goto out;
        }
        if (r < 0) {
            r = api_problem_code(res, r, &diag);
            goto out;
        }
    }
    r = kpi_json_series(&res->body, req->cal, d->key, kpi_granularity_to_string(g), rows, n_rows,
                        (const char(*)[KPI_EVAL_REASON_MAX])reasons, KPI_JSON_COMPACT);
    if (r == 0)
        api_json(res, 200);
out:
    free(rows);
    free(reasons);
    kpi_eval_free(ev);
    kpi_store_kpi_list_free(defs, n_defs);
    return r;
}

static int build(struct api_request *req, struct api_response *res, int64_t as_of, struct kpi_scorecard **ret_sc)
{
    struct kpi_diag diag = {{0}};
    int r = kpi_scorecard_build(req->store, req->cal, as_of, ret_sc, &diag);
    if (r < 0 && r != -ENOMEM)
        return api_problem(res, 500, "cannot build the scorecard: %s", diag.msg[0] ? diag.msg : kpi_strerror(r)) - 1;
    return r;
}

int api_h_status(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"as_of", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    int64_t as_of;
    if (!api_query_as_of(req, res, &as_of))
        return 0;
    const char *key = req->route_params[0];
    struct kpi_scorecard *sc;
    int r = build(req, res, as_of, &sc);
    if (r < 0)
        return r == -1 ? 0 : r;
    size_t i = 0;
    while (i < sc->n_defs && strcmp(sc->defs[i].key, key) != 0)
        i++;
    if (i == sc->n_defs) {
        struct kpi_def d;
        bool archived = kpi_store_kpi_get(req->store, key, &d) == 0;
        if (archived)
            kpi_def_clear(&d);
        r = api_problem(res, 404, archived ? "KPI '%.64s' is archived; archived KPIs are not judged" : "no KPI with key '%.64s'",
                        key);
    } else {
        r = kpi_json_status(&res->body, req->cal, &sc->entries[i], KPI_JSON_COMPACT);
        if (r == 0)
            api_json(res, 200);
    }
    kpi_scorecard_free(sc);
    return r;
}

int api_h_scorecard(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"team", "tier", "owner", "status", "as_of", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    int64_t as_of;
    if (!api_query_as_of(req, res, &as_of))
        return 0;
    const char *team = api_query(req, "team"), *owner = api_query(req, "owner"), *tier_text = api_query(req, "tier"),
               *status_text = api_query(req, "status");
    int tier = -1, status = -1;
    struct kpi_diag diag = {{0}};
    if (tier_text && kpi_enum_parse(&kpi_enum_tier, tier_text, &tier, &diag) < 0)
        return api_problem(res, 400, "%s", diag.msg);
    if (status_text) {
        for (int s = 0; s < KPI_STATUS__COUNT; s++)
            if (strcmp(status_text, kpi_status_name((enum kpi_status)s)) == 0)
                status = s;
        if (status < 0)
            return api_problem(res, 400,
                               "status: unknown value '%.64s' (expected on_track, at_risk, off_track, no_target or no_data)",
                               status_text);
    }
    struct kpi_scorecard *sc;
    int r = build(req, res, as_of, &sc);
    if (r < 0)
        return r == -1 ? 0 : r;
    bool *include = calloc(sc->n_defs ? sc->n_defs : 1, sizeof(bool));
    if (!include) {
        kpi_scorecard_free(sc);
        return -ENOMEM;
    }
    for (size_t i = 0; i < sc->n_defs; i++) {
        const struct kpi_def *d = &sc->defs[i];
        include[i] = (!team || kpi_streq(d->team, team)) && (!owner || kpi_streq(d->owner, owner)) &&
                     (tier < 0 || (int)d->tier == tier) && (status < 0 || (int)sc->entries[i].status.status == status);
    }
    r = kpi_json_scorecard(&res->body, req->cal, sc, include, KPI_JSON_COMPACT);
    if (r == 0)
        api_json(res, 200);
    free(include);
    kpi_scorecard_free(sc);
    return r;
}

int api_h_teams(struct api_request *req, struct api_response *res)
{
    static const char *const allowed[] = {"as_of", NULL};
    if (!api_query_check(req, res, allowed))
        return 0;
    int64_t as_of;
    if (!api_query_as_of(req, res, &as_of))
        return 0;
    struct kpi_scorecard *sc;
    int r = build(req, res, as_of, &sc);
    if (r < 0)
        return r == -1 ? 0 : r;
    r = kpi_buf_addc(&res->body, '[');
    for (size_t t = 0; t < sc->n_teams && r == 0; t++) {
        const struct kpi_team_health *th = &sc->teams[t];
        r = kpi_buf_adds(&res->body, t ? ",{\"team\":" : "{\"team\":");
        if (r == 0)
            r = kpi_json_quote(&res->body, th->team);
        if (r == 0 && th->health.has) {
            char v[32];
            kpi_format_double(th->health.v, v, sizeof(v));
            r = kpi_buf_printf(&res->body, ",\"health\":%s,\"kpis\":%zu}", v, th->n_kpis);
        } else if (r == 0) {
            r = kpi_buf_printf(&res->body, ",\"health\":null,\"kpis\":%zu}", th->n_kpis);
        }
    }
    if (r == 0)
        r = kpi_buf_addc(&res->body, ']');
    if (r == 0)
        api_json(res, 200);
    kpi_scorecard_free(sc);
    return r;
}
