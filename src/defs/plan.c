/*
 * The plan of `kpi apply`: which KPIs of a definitions file must be created or updated to make
 * the database match it, in an order the store accepts (a parent before its children), and the
 * field-by-field difference of an update (targets as one list). Also the text form of a field, shared with the YAML
 * writer so that what is printed, dumped and diffed is always what kpi_def_set_field reads back.
 * Pure functions: no I/O.
 */
#include "defs/defs.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "kpi/status.h"
#include "kpi/time.h"

#define FIELD_TEXT_MAX 16384

void kpi_defs_free(struct kpi_def *defs, size_t n)
{
    if (!defs)
        return;
    for (size_t i = 0; i < n; i++)
        kpi_def_clear(&defs[i]);
    free(defs);
}

void kpi_defs_diff_free(struct kpi_defs_field_change *fields, size_t n)
{
    if (!fields)
        return;
    for (size_t i = 0; i < n; i++) {
        free(fields[i].old_text);
        free(fields[i].new_text);
    }
    free(fields);
}

/* The text of a field as a new string (NULL when unset). */
static int field_string(const struct kpi_def *d, const char *field, char **ret_text, enum kpi_field_kind *ret_kind)
{
    struct kpi_buf b;
    kpi_buf_init(&b, FIELD_TEXT_MAX);
    enum kpi_field_kind kind;
    int r = kpi_def_field_text(d, field, &b, &kind);
    if (r < 0) {
        kpi_buf_free(&b);
        return r;
    }
    char *text = NULL;
    if (r > 0) {
        text = kpi_buf_take(&b);
        if (!text)
            return -ENOMEM;
    }
    kpi_buf_free(&b);
    *ret_text = text;
    *ret_kind = kind;
    return 0;
}

/* The targets of d as one line, "[2026-12-31: 150000 from 100000 on 2026-01-01, ...]" (NULL when
 * there are none). */
static int targets_string(const struct kpi_def *d, char **ret_text)
{
    *ret_text = NULL;
    if (d->n_targets == 0)
        return 0;
    struct kpi_buf b;
    kpi_buf_init(&b, FIELD_TEXT_MAX);
    int r = kpi_buf_adds(&b, "[");
    for (size_t i = 0; r == 0 && i < d->n_targets; i++) {
        const struct kpi_target *t = &d->targets[i];
        char day[16], base_day[16], v1[32], v2[32], base[32], risk[32];
        kpi_date_format(t->day, day, sizeof(day));
        kpi_date_format(t->baseline_day, base_day, sizeof(base_day));
        kpi_format_double(t->baseline, base, sizeof(base));
        kpi_format_double(d->direction == KPI_DIR_RANGE ? t->low : t->value, v1, sizeof(v1));
        kpi_format_double(t->high, v2, sizeof(v2));
        kpi_format_double(t->at_risk_pct, risk, sizeof(risk));
        const char *parts[] = {i ? ", " : "",
                               day,
                               ": ",
                               v1,
                               d->direction == KPI_DIR_RANGE ? ".." : "",
                               d->direction == KPI_DIR_RANGE ? v2 : "",
                               " from ",
                               base,
                               " on ",
                               base_day};
        for (size_t k = 0; r == 0 && k < sizeof(parts) / sizeof(parts[0]); k++)
            r = kpi_buf_adds(&b, parts[k]);
        if (r == 0 && t->at_risk_pct != KPI_AT_RISK_PCT_DEFAULT) {
            r = kpi_buf_adds(&b, " at risk ");
            if (r == 0)
                r = kpi_buf_adds(&b, risk);
            if (r == 0)
                r = kpi_buf_adds(&b, "%");
        }
    }
    if (r == 0)
        r = kpi_buf_adds(&b, "]");
    if (r < 0) {
        kpi_buf_free(&b);
        return r;
    }
    char *text = kpi_buf_take(&b);
    kpi_buf_free(&b);
    if (!text)
        return -ENOMEM;
    *ret_text = text;
    return 0;
}

int kpi_defs_diff(const struct kpi_def *a, const struct kpi_def *b, struct kpi_defs_field_change **ret_fields, size_t *ret_n)
{
    size_t n_fields = 0;
    while (kpi_def_fields[n_fields])
        n_fields++;
    struct kpi_defs_field_change *fields = calloc(n_fields + 1, sizeof(*fields));
    if (!fields)
        return -ENOMEM;
    size_t n = 0;
    int r = 0;
    for (size_t i = 0; i < n_fields; i++) {
        char *old_text = NULL, *new_text = NULL;
        enum kpi_field_kind kind;
        r = field_string(a, kpi_def_fields[i], &old_text, &kind);
        if (r == 0)
            r = field_string(b, kpi_def_fields[i], &new_text, &kind);
        if (r < 0) {
            free(old_text);
            break;
        }
        if (kpi_streq(old_text, new_text)) {
            free(old_text);
            free(new_text);
            continue;
        }
        fields[n++] = (struct kpi_defs_field_change){kpi_def_fields[i], kind, old_text, new_text};
    }
    if (r == 0) {
        char *old_text = NULL, *new_text = NULL;
        r = targets_string(a, &old_text);
        if (r == 0)
            r = targets_string(b, &new_text);
        if (r == 0 && !kpi_streq(old_text, new_text)) {
            fields[n++] = (struct kpi_defs_field_change){"targets", KPI_FIELD_WORD, old_text, new_text};
        } else {
            free(old_text);
            free(new_text);
        }
    }
    if (r < 0) {
        kpi_defs_diff_free(fields, n);
        return r;
    }
    if (n == 0) {
        free(fields);
        fields = NULL;
    }
    *ret_fields = fields;
    *ret_n = n;
    return 0;
}

static int compare_def_ptr(const void *pa, const void *pb)
{
    const struct kpi_def *a = *(const struct kpi_def *const *)pa;
    const struct kpi_def *b = *(const struct kpi_def *const *)pb;
    return strcmp(a->key, b->key);
}

/* Finds key in an array of definitions sorted by key; NULL when absent. */
static const struct kpi_def *find_sorted(const struct kpi_def *const *sorted, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, sorted[mid]->key);
        if (c == 0)
            return sorted[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static const struct kpi_def **sorted_pointers(const struct kpi_def *defs, size_t n)
{
    const struct kpi_def **p = malloc((n ? n : 1) * sizeof(*p));
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = &defs[i];
    if (n > 1)
        qsort(p, n, sizeof(*p), compare_def_ptr);
    return p;
}

enum visit { UNVISITED, IN_CHAIN, PLACED };

/* Do two targets agree in every field that a KPI of direction dir uses? */
static bool target_same(const struct kpi_target *x, const struct kpi_target *y, enum kpi_direction dir)
{
    if (x->baseline != y->baseline || x->baseline_day != y->baseline_day || x->day != y->day || x->at_risk_pct != y->at_risk_pct)
        return false;
    if (dir == KPI_DIR_RANGE)
        return x->low == y->low && x->high == y->high;
    return x->value == y->value;
}

/* Makes the targets of want what applying it should store: the current ones when the file did not
 * give any, else the file's, each taking the unused fields of an equal stored target. */
static int settle_targets(const struct kpi_def *cur, struct kpi_def *want, bool given)
{
    if (!given) {
        struct kpi_target *copy = NULL;
        size_t n = cur ? cur->n_targets : 0;
        if (n > 0) {
            copy = malloc(n * sizeof(*copy));
            if (!copy)
                return -ENOMEM;
            memcpy(copy, cur->targets, n * sizeof(*copy));
        }
        free(want->targets);
        want->targets = copy;
        want->n_targets = n;
        return 0;
    }
    if (!cur)
        return 0;
    for (size_t i = 0; i < want->n_targets; i++)
        for (size_t j = 0; j < cur->n_targets; j++)
            if (target_same(&want->targets[i], &cur->targets[j], want->direction))
                want->targets[i] = cur->targets[j];
    return 0;
}

int kpi_defs_plan(const struct kpi_def *current, size_t n_current, struct kpi_def *desired, const bool *has_targets,
                  size_t n_desired, struct kpi_defs_change **ret_changes, size_t *ret_n)
{
    int r = -ENOMEM;
    const struct kpi_def **cur_sorted = sorted_pointers(current, n_current);
    const struct kpi_def **want_sorted = sorted_pointers(desired, n_desired);
    const struct kpi_def **match = calloc(n_desired ? n_desired : 1, sizeof(*match));
    signed char *changed = calloc(n_desired ? n_desired : 1, 1);
    unsigned char *state = calloc(n_desired ? n_desired : 1, 1);
    size_t *chain = malloc((n_desired ? n_desired : 1) * sizeof(*chain));
    struct kpi_defs_change *changes = NULL;
    size_t n_changes = 0, n_placed = 0;
    if (!cur_sorted || !want_sorted || !match || !changed || !state || !chain)
        goto out;
    for (size_t i = 1; i < n_desired; i++) {
        if (strcmp(want_sorted[i - 1]->key, want_sorted[i]->key) == 0) {
            r = -EINVAL;
            goto out;
        }
    }

    for (size_t i = 0; i < n_desired; i++) {
        match[i] = find_sorted(cur_sorted, n_current, desired[i].key);
        r = settle_targets(match[i], &desired[i], !has_targets || has_targets[i]);
        if (r < 0)
            goto out;
        changed[i] = !match[i] || !kpi_def_equal(match[i], &desired[i]);
        n_changes += (size_t)changed[i];
    }
    if (n_changes > 0) {
        changes = calloc(n_changes, sizeof(*changes));
        if (!changes) {
            r = -ENOMEM;
            goto out;
        }
    }

    /* File order, except that a change is preceded by the change of its parent (and so on up the
     * cascade). Walking up the parent chain iteratively keeps the stack flat for deep cascades; a
     * loop within the file stops the walk and is left for the store to reject. */
    for (size_t i = 0; i < n_desired; i++) {
        if (!changed[i] || state[i] != UNVISITED)
            continue;
        size_t len = 0, j = i;
        for (;;) {
            state[j] = IN_CHAIN;
            chain[len++] = j;
            const struct kpi_def *d = &desired[j];
            const struct kpi_def *p = d->parent ? find_sorted(want_sorted, n_desired, d->parent) : NULL;
            if (!p)
                break;
            size_t pi = (size_t)(p - desired);
            if (!changed[pi] || state[pi] != UNVISITED)
                break;
            j = pi;
        }
        while (len > 0) {
            size_t k = chain[--len];
            state[k] = PLACED;
            changes[n_placed++] = (struct kpi_defs_change){
                match[k] ? KPI_CHANGE_UPDATE : KPI_CHANGE_CREATE,
                &desired[k],
                match[k],
            };
        }
    }
    *ret_changes = changes;
    *ret_n = n_changes;
    changes = NULL;
    r = 0;
out:
    free(cur_sorted);
    free(want_sorted);
    free(match);
    free(changed);
    free(state);
    free(chain);
    free(changes);
    return r;
}
