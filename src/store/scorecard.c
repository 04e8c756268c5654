/*
 * Building the scorecard (see scorecard.h): one evaluator over every KPI, each judged from its
 * first data to the as-of day, then health rolled up the cascade and averaged per team.
 */
#include "store/scorecard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "kpi/time.h"

/* The day `months` calendar months before day, clamped to the end of shorter months. */
static int64_t months_before(int64_t day, int months)
{
    int y, m, d;
    kpi_civil_from_days(day, &y, &m, &d);
    int total = y * 12 + (m - 1) - months;
    y = total / 12;
    m = total % 12 + 1;
    int dim = kpi_days_in_month(y, m);
    return kpi_days_from_civil(y, m, d > dim ? dim : d);
}

bool kpi_review_due(enum kpi_cadence cadence, int64_t last_day, int64_t day)
{
    if (last_day == INT64_MIN)
        return true;
    switch (cadence) {
    case KPI_CADENCE_WEEKLY:
        return last_day <= day - 7;
    case KPI_CADENCE_QUARTERLY:
        return last_day <= months_before(day, 3);
    default:
        return last_day <= months_before(day, 1);
    }
}

static int judge(struct kpi_eval *ev, const struct kpi_calendar *cal, int64_t as_of_day, struct kpi_scorecard_entry *e)
{
    const struct kpi_def *d = e->def;
    struct kpi_diag diag = {""};
    struct kpi_series_row *rows = NULL;
    size_t n = 0;
    int r = kpi_eval_history(ev, d, &rows, &n, &diag);
    if (r < 0) {
        snprintf(e->error, sizeof(e->error), "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
        e->status.status = KPI_STATUS_NO_DATA;
        e->status.improving = -1;
        return 0;
    }
    r = kpi_status_compute(cal, d, d->targets, d->n_targets, rows, n, as_of_day, &e->status);
    if (r == 0) {
        size_t k = n < KPI_SPARK_PERIODS ? n : KPI_SPARK_PERIODS;
        for (size_t i = 0; i < k; i++) {
            const struct kpi_series_row *row = &rows[n - k + i];
            e->spark[i] = (struct kpi_opt){row->has_value && row->n_points > 0, row->value};
        }
        e->n_spark = k;
    }
    free(rows);
    return r;
}

int kpi_scorecard_build(struct kpi_store *s, const struct kpi_calendar *cal, int64_t as_of_day,
                        struct kpi_scorecard **ret_scorecard, struct kpi_diag *diag)
{
    struct kpi_scorecard *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return -ENOMEM;
    sc->as_of_day = as_of_day;
    struct kpi_eval *ev = NULL;
    struct kpi_review *reviews = NULL;
    size_t n_reviews = 0;
    struct kpi_health_node *nodes = NULL;
    bool in_tx = kpi_store_begin_read(s) == 0;
    int r = kpi_store_kpi_list(s, false, &sc->defs, &sc->n_defs);
    if (r < 0) {
        kpi_diag_set(diag, r, "cannot list KPIs: %s", kpi_strerror(r));
        goto fail;
    }
    sc->entries = calloc(sc->n_defs ? sc->n_defs : 1, sizeof(*sc->entries));
    sc->teams = calloc(sc->n_defs ? sc->n_defs : 1, sizeof(*sc->teams));
    nodes = calloc(sc->n_defs ? sc->n_defs : 1, sizeof(*nodes));
    if (!sc->entries || !sc->teams || !nodes) {
        r = -ENOMEM;
        goto fail;
    }
    r = kpi_eval_new(s, cal, sc->defs, sc->n_defs, as_of_day, &ev);
    if (r < 0)
        goto fail;
    r = kpi_store_reviews_list(s, NULL, as_of_day, &reviews, &n_reviews);
    if (r < 0) {
        kpi_diag_set(diag, r, "cannot read reviews: %s", kpi_strerror(r));
        goto fail;
    }
    for (size_t i = 0; i < sc->n_defs; i++) {
        struct kpi_scorecard_entry *e = &sc->entries[i];
        e->def = &sc->defs[i];
        e->last_review_day = INT64_MIN;
        /* Reviews come newest first: the first one of the KPI is its last review. */
        for (size_t k = 0; k < n_reviews && e->last_review_day == INT64_MIN; k++)
            if (strcmp(reviews[k].kpi, e->def->key) == 0)
                e->last_review_day = reviews[k].day;
        e->due_for_review = kpi_review_due(e->def->review_cadence, e->last_review_day, as_of_day);
        r = judge(ev, cal, as_of_day, e);
        if (r < 0) {
            kpi_diag_set(diag, r, "%s: cannot judge: %s", e->def->key, kpi_strerror(r));
            goto fail;
        }
    }
    /* Health up the cascade: parents are found by key among the listed (non-archived) KPIs. */
    for (size_t i = 0; i < sc->n_defs; i++) {
        nodes[i].score = sc->entries[i].status.score;
        nodes[i].weight = sc->defs[i].weight;
        nodes[i].parent = -1;
        const struct kpi_def *p = sc->defs[i].parent ? kpi_eval_find(ev, sc->defs[i].parent) : NULL;
        if (p)
            nodes[i].parent = p - sc->defs;
    }
    r = kpi_health_rollup(nodes, sc->n_defs);
    if (r < 0)
        goto fail;
    for (size_t i = 0; i < sc->n_defs; i++)
        sc->entries[i].health = nodes[i].health;
    /* A team's health is the mean of its KPIs' health (KPIs without health left out). */
    for (size_t i = 0; i < sc->n_defs; i++) {
        const char *team = sc->defs[i].team;
        if (!team)
            continue;
        size_t t = 0;
        while (t < sc->n_teams && strcmp(sc->teams[t].team, team) != 0)
            t++;
        if (t == sc->n_teams) {
            kpi_strlcpy(sc->teams[t].team, team, sizeof(sc->teams[t].team));
            sc->n_teams++;
        }
        sc->teams[t].n_kpis++;
    }
    for (size_t t = 0; t < sc->n_teams; t++) {
        double sum = 0;
        size_t k = 0;
        for (size_t i = 0; i < sc->n_defs; i++) {
            if (sc->defs[i].team && strcmp(sc->defs[i].team, sc->teams[t].team) == 0 && nodes[i].health.has) {
                sum += nodes[i].health.v;
                k++;
            }
        }
        sc->teams[t].health = (struct kpi_opt){k > 0, k > 0 ? sum / (double)k : 0};
    }
    kpi_eval_free(ev);
    kpi_store_reviews_free(reviews, n_reviews);
    free(nodes);
    if (in_tx)
        kpi_store_rollback(s);
    *ret_scorecard = sc;
    return 0;
fail:
    if (in_tx)
        kpi_store_rollback(s);
    kpi_eval_free(ev);
    kpi_store_reviews_free(reviews, n_reviews);
    free(nodes);
    kpi_scorecard_free(sc);
    return r;
}

struct kpi_scorecard *kpi_scorecard_free(struct kpi_scorecard *sc)
{
    if (!sc)
        return NULL;
    kpi_store_kpi_list_free(sc->defs, sc->n_defs);
    free(sc->entries);
    free(sc->teams);
    free(sc);
    return NULL;
}
