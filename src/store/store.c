/*
 * Thin wrappers over the backend's function table (see store.h). They are the one place every
 * storage call passes through, which makes them the fault-injection point of the tests: a test
 * names an operation and after how many successful calls it should start failing.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "kpi/formula.h"
#include "kpi/series.h"
#include "kpi/tz.h"

static struct {
    char op[32];
    unsigned after;
    int code;
    bool armed;
} fault;

void kpi_store_inject_fault(const char *op, unsigned after, int code)
{
    if (!op) {
        fault.armed = false;
        return;
    }
    snprintf(fault.op, sizeof(fault.op), "%s", op);
    fault.after = after;
    fault.code = code;
    fault.armed = true;
}

static int injected(const char *op)
{
    if (!fault.armed || strcmp(fault.op, op) != 0)
        return 0;
    if (fault.after > 0) {
        fault.after--;
        return 0;
    }
    return fault.code;
}

#define CALL(op, ...)                                                                                                              \
    do {                                                                                                                           \
        int fault_rc_ = injected(#op);                                                                                             \
        if (fault_rc_)                                                                                                             \
            return fault_rc_;                                                                                                      \
        if (!s->ops->op)                                                                                                           \
            return -ENOSYS; /* an operation this backend does not have */                                                          \
        return s->ops->op(__VA_ARGS__);                                                                                            \
    } while (0)

struct kpi_store *kpi_store_close(struct kpi_store *s)
{
    if (s)
        s->ops->close(s);
    return NULL;
}

int kpi_store_schema_version(struct kpi_store *s, int *ret_version)
{
    CALL(schema_version, s, ret_version);
}

int kpi_store_begin(struct kpi_store *s)
{
    CALL(begin, s);
}

int kpi_store_commit(struct kpi_store *s)
{
    CALL(commit, s);
}

int kpi_store_begin_read(struct kpi_store *s)
{
    CALL(begin_read, s);
}

int kpi_store_rollback(struct kpi_store *s)
{
    return s->ops->rollback(s);
}

int kpi_store_org_get(struct kpi_store *s, struct kpi_org *ret_org)
{
    CALL(org_get, s, ret_org);
}

int kpi_store_org_set(struct kpi_store *s, const struct kpi_org *org)
{
    CALL(org_set, s, org);
}

int kpi_store_kpi_get(struct kpi_store *s, const char *key, struct kpi_def *ret_def)
{
    CALL(kpi_get, s, key, ret_def);
}

int kpi_store_kpi_list(struct kpi_store *s, bool include_archived, struct kpi_def **ret_defs, size_t *ret_n)
{
    CALL(kpi_list, s, include_archived, ret_defs, ret_n);
}

void kpi_store_kpi_list_free(struct kpi_def *defs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kpi_def_clear(&defs[i]);
    free(defs);
}

/* Checks that apply across KPIs: the parent must exist and the parent chain must not loop back. */
static int check_parent(struct kpi_store *s, const struct kpi_def *def, struct kpi_diag *diag)
{
    char key[KPI_KEY_MAX + 1];
    if (!def->parent)
        return 0;
    kpi_strlcpy(key, def->parent, sizeof(key));
    for (int depth = 0; depth < 64; depth++) {
        if (strcmp(key, def->key) == 0)
            return kpi_diag_set(diag, -ELOOP, "parent: '%s' would make the cascade loop back to '%s'", def->parent, def->key);
        struct kpi_def p;
        int r = kpi_store_kpi_get(s, key, &p);
        if (r == -ENOENT)
            return kpi_diag_set(diag, -EINVAL, "parent: no KPI with key '%s'", key);
        if (r < 0)
            return r;
        if (!p.parent) {
            kpi_def_clear(&p);
            return 0;
        }
        kpi_strlcpy(key, p.parent, sizeof(key));
        kpi_def_clear(&p);
    }
    return kpi_diag_set(diag, -ELOOP, "parent: the cascade above '%s' is deeper than 64 levels", def->key);
}

/* A formula must parse, read only existing KPIs, and not make a KPI depend on itself through any
 * chain of formulas. The graph is every stored KPI with `def` in place of its stored version. */
static int check_formula(struct kpi_store *s, const struct kpi_def *def, struct kpi_diag *diag)
{
    struct kpi_def *defs = NULL;
    size_t n = 0;
    int r = kpi_store_kpi_list(s, true, &defs, &n);
    if (r < 0)
        return kpi_diag_set(diag, r, "cannot list KPIs: %s", kpi_strerror(r));
    struct kpi_formula **parsed = calloc(n + 1, sizeof(*parsed));
    const char **keys = calloc(n + 1, sizeof(*keys));
    const char *const **deps = calloc(n + 1, sizeof(*deps));
    size_t *n_deps = calloc(n + 1, sizeof(*n_deps));
    if (!parsed || !keys || !deps || !n_deps) {
        r = -ENOMEM;
        goto out;
    }
    /* Node 0 is the KPI being written; the others are the stored KPIs except its old version. */
    size_t m = 0;
    keys[m] = def->key;
    if (def->formula) {
        r = kpi_formula_parse(def->formula, &parsed[m], diag);
        if (r < 0) {
            kpi_diag_prefix(diag, "formula: ");
            goto out;
        }
        const int *cols;
        n_deps[m] = kpi_formula_inputs(parsed[m], &deps[m], &cols);
        for (size_t k = 0; k < n_deps[m]; k++) {
            bool known = strcmp(deps[m][k], def->key) == 0;
            for (size_t i = 0; i < n && !known; i++)
                known = strcmp(defs[i].key, deps[m][k]) == 0;
            if (!known) {
                r = kpi_diag_set(diag, -EINVAL, "formula: column %d: unknown KPI '%s'", cols[k], deps[m][k]);
                goto out;
            }
        }
    }
    m++;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(defs[i].key, def->key) == 0)
            continue;
        keys[m] = defs[i].key;
        if (defs[i].formula && kpi_formula_parse(defs[i].formula, &parsed[m], NULL) == 0) {
            const int *cols;
            n_deps[m] = kpi_formula_inputs(parsed[m], &deps[m], &cols);
        }
        m++;
    }
    r = kpi_formula_find_cycle(keys, deps, n_deps, m, 0, diag);
out:
    for (size_t i = 0; parsed && i <= n; i++)
        kpi_formula_free(parsed[i]);
    free(parsed);
    free(keys);
    free(deps);
    free(n_deps);
    kpi_store_kpi_list_free(defs, n);
    return r;
}

int kpi_store_kpi_insert(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag)
{
    int r = kpi_def_validate(def, diag);
    if (r < 0)
        return r;
    r = check_formula(s, def, diag);
    if (r < 0)
        return r;
    r = check_parent(s, def, diag);
    if (r < 0)
        return r;
    CALL(kpi_insert, s, def, diag);
}

int kpi_store_kpi_update(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag)
{
    int r = kpi_def_validate(def, diag);
    if (r < 0)
        return r;
    r = check_formula(s, def, diag);
    if (r < 0)
        return r;
    r = check_parent(s, def, diag);
    if (r < 0)
        return r;
    CALL(kpi_update, s, def, diag);
}

int kpi_store_dims_intern(struct kpi_store *s, const char *canon, int64_t *ret_id)
{
    CALL(dims_intern, s, canon, ret_id);
}

int kpi_store_points_put(struct kpi_store *s, int64_t kpi_id, int64_t dims_id, const struct kpi_point_write *pts, size_t n)
{
    CALL(points_put, s, kpi_id, dims_id, pts, n);
}

int kpi_store_point_put(struct kpi_store *s, int64_t kpi_id, int64_t dims_id, int64_t at_ms, double value, int flags)
{
    struct kpi_point_write p = {at_ms, value, flags};
    return kpi_store_points_put(s, kpi_id, dims_id, &p, 1);
}

int kpi_store_points_scan(struct kpi_store *s, const struct kpi_point_query *q, kpi_point_cb cb, void *ctx)
{
    CALL(points_scan, s, q, cb, ctx);
}

int kpi_store_points_count(struct kpi_store *s, int64_t kpi_id, int64_t *ret_n)
{
    CALL(points_count, s, kpi_id, ret_n);
}

int kpi_store_points_span(struct kpi_store *s, int64_t kpi_id, int64_t *ret_first_ms, int64_t *ret_last_ms)
{
    CALL(points_span, s, kpi_id, ret_first_ms, ret_last_ms);
}

int kpi_store_review_add(struct kpi_store *s, struct kpi_review *review, struct kpi_action *actions, size_t n_actions)
{
    CALL(review_add, s, review, actions, n_actions);
}

int kpi_store_reviews_list(struct kpi_store *s, const char *kpi, int64_t to_day, struct kpi_review **ret, size_t *ret_n)
{
    CALL(reviews_list, s, kpi, to_day, ret, ret_n);
}

void kpi_store_reviews_free(struct kpi_review *reviews, size_t n)
{
    for (size_t i = 0; reviews && i < n; i++) {
        free(reviews[i].team);
        free(reviews[i].note);
        free(reviews[i].author);
    }
    free(reviews);
}

int kpi_store_actions_list(struct kpi_store *s, const struct kpi_action_query *q, struct kpi_action **ret, size_t *ret_n)
{
    CALL(actions_list, s, q, ret, ret_n);
}

void kpi_store_actions_free(struct kpi_action *actions, size_t n)
{
    for (size_t i = 0; actions && i < n; i++) {
        free(actions[i].text);
        free(actions[i].owner);
    }
    free(actions);
}

int kpi_store_action_done(struct kpi_store *s, int64_t id, int64_t done_ms)
{
    CALL(action_done, s, id, done_ms);
}

int kpi_store_annotation_add(struct kpi_store *s, struct kpi_annotation *a)
{
    CALL(annotation_add, s, a);
}

int kpi_store_annotations_list(struct kpi_store *s, const char *kpi, int64_t from_day, int64_t to_day, struct kpi_annotation **ret,
                               size_t *ret_n)
{
    CALL(annotations_list, s, kpi, from_day, to_day, ret, ret_n);
}

int kpi_store_kpi_index(struct kpi_store *s, kpi_index_cb cb, void *ctx)
{
    CALL(kpi_index, s, cb, ctx);
}

int kpi_store_checkpoint(struct kpi_store *s, bool automatic)
{
    CALL(checkpoint, s, automatic);
}

int kpi_store_memory_limit(struct kpi_store *s, size_t cache_bytes)
{
    CALL(memory_limit, s, cache_bytes);
}

int kpi_store_data_version(struct kpi_store *s, uint64_t *ret_version)
{
    CALL(data_version, s, ret_version);
}

int kpi_store_token_add(struct kpi_store *s, const char *name, const uint8_t hash[KPI_TOKEN_HASH_SIZE], int64_t created_ms)
{
    CALL(token_add, s, name, hash, created_ms);
}

int kpi_store_token_find(struct kpi_store *s, const uint8_t hash[KPI_TOKEN_HASH_SIZE], struct kpi_token *ret_token)
{
    CALL(token_find, s, hash, ret_token);
}

int kpi_store_tokens_list(struct kpi_store *s, struct kpi_token **ret, size_t *ret_n)
{
    CALL(tokens_list, s, ret, ret_n);
}

int kpi_store_token_remove(struct kpi_store *s, const char *name)
{
    CALL(token_remove, s, name);
}

int kpi_store_stage_put(struct kpi_store *s, const uint8_t *data, size_t len, size_t n)
{
    CALL(stage_put, s, data, len, n);
}

int kpi_store_stage_read(struct kpi_store *s, int64_t after_id, size_t max_points, kpi_stage_row_cb cb, void *ctx)
{
    CALL(stage_read, s, after_id, max_points, cb, ctx);
}

int kpi_store_stage_delete(struct kpi_store *s, int64_t upto_id)
{
    CALL(stage_delete, s, upto_id);
}

int kpi_store_stage_rows(struct kpi_store *s, int64_t *ret_rows)
{
    CALL(stage_rows, s, ret_rows);
}

void kpi_store_annotations_free(struct kpi_annotation *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        free(a[i].text);
    free(a);
}

struct load {
    struct kpi_point *pts;
    size_t n, cap;
    int64_t min_at, max_at;
};

static int load_point(void *ctx, const struct kpi_point_row *row)
{
    struct load *l = ctx;
    if (l->n == l->cap) {
        if (l->cap >= KPI_STORE_LOAD_MAX)
            return -E2BIG;
        size_t cap = l->cap ? l->cap * 2 : 1024;
        struct kpi_point *grown = realloc(l->pts, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        l->pts = grown;
        l->cap = cap;
    }
    l->pts[l->n++] = (struct kpi_point){row->at_ms, row->value};
    if (row->at_ms < l->min_at)
        l->min_at = row->at_ms;
    if (row->at_ms > l->max_at)
        l->max_at = row->at_ms;
    return 0;
}

int kpi_store_points_load(struct kpi_store *s, const struct kpi_point_query *q, struct kpi_point **ret_points, size_t *ret_n,
                          int64_t *ret_min_at, int64_t *ret_max_at)
{
    struct load l = {NULL, 0, 0, INT64_MAX, INT64_MIN};
    int r = kpi_store_points_scan(s, q, load_point, &l);
    if (r < 0) {
        free(l.pts);
        return r;
    }
    *ret_points = l.pts;
    *ret_n = l.n;
    *ret_min_at = l.min_at;
    *ret_max_at = l.max_at;
    return 0;
}

int kpi_store_calendar(struct kpi_store *s, struct kpi_calendar *ret_cal, struct kpi_diag *diag)
{
    struct kpi_org org;
    int r = kpi_store_org_get(s, &org);
    if (r < 0)
        return kpi_diag_set(diag, r, "cannot read the organisation settings: %s", kpi_strerror(r));
    struct kpi_tz *tz;
    r = kpi_tz_load(org.timezone, &tz);
    if (r < 0)
        return kpi_diag_set(diag, r, "timezone: cannot load '%s': %s", org.timezone, kpi_strerror(r));
    ret_cal->tz = tz;
    ret_cal->fiscal_year_start = org.fiscal_year_start;
    return 0;
}

void kpi_store_calendar_done(struct kpi_calendar *cal)
{
    if (!cal)
        return;
    kpi_tz_free((struct kpi_tz *)cal->tz);
    cal->tz = NULL;
}
