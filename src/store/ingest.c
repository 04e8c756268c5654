/*
 * The ingestion core, the CSV source and single-point writes (see ingest.h).
 *
 * An import runs in one transaction. Rows are pulled from a source and validated as they stream in;
 * valid rows are buffered, sorted by (kpi, dims, at) and written a series at a time, so that the
 * store merges each series' new points into its chunks with a few row writes (see store/chunk.h).
 * The first bad row stops the writing but not the reading, so the report lists every bad row; then
 * the transaction is rolled back and nothing is written. Memory is bounded: the source's buffer,
 * one batch, and capped lookup caches.
 */
#include "store/ingest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/strmap.h"
#include "store/stage.h"

#define BATCH_ROWS 262144
#define KEY_CACHE_MAX 100000
#define DIMS_CACHE_MAX 200000
/* A KPI id cached as negative means the KPI cannot take points (derived or archived); these codes
 * say why. */
#define KPI_REJECT_DERIVED -1
#define KPI_REJECT_ARCHIVED -2
#define KPI_REJECT_UNKNOWN -3

struct pending {
    int64_t kpi_id;
    int64_t dims_id;
    int64_t at_ms;
    double value;
    uint32_t seq; /* file order, so the last of duplicate rows wins */
    int32_t flags;
};

struct import {
    struct kpi_store *store;
    const struct kpi_calendar *cal;
    struct kpi_strmap kpis;
    struct kpi_strmap dims;
    struct pending *batch;
    size_t n_batch;
    struct kpi_point_write *run; /* one series of the batch, as the store takes it */
    uint32_t seq;
    struct kpi_ingest_report *report;
    bool kpis_complete; /* kpis holds every KPI: a key not in it does not exist */
};

void kpi_ingest_report_error(struct kpi_ingest_report *rep, uint64_t line, const char *fmt, ...)
{
    if (rep->n_errors < KPI_INGEST_ERRORS_KEPT) {
        struct kpi_ingest_error *e = &rep->errors[rep->n_errors];
        e->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    rep->n_errors++;
}

void kpi_ingest_at_instant(const struct kpi_calendar *cal, const struct kpi_at *at, int64_t *ret_ms, int *ret_flags)
{
    if (at->is_date) {
        *ret_ms = kpi_calendar_day_start(cal, at->day);
        *ret_flags = KPI_POINT_DATE;
    } else {
        *ret_ms = at->ms;
        *ret_flags = 0;
    }
}

/* Looks a KPI key up (cached): its id, or a KPI_REJECT_* code. */
static int lookup_kpi(struct import *im, const char *key, size_t len, int64_t *ret_id)
{
    if (kpi_strmap_get(&im->kpis, key, len, ret_id))
        return 0;
    if (im->kpis_complete) {
        *ret_id = KPI_REJECT_UNKNOWN;
        return 0;
    }
    char k[KPI_KEY_MAX + 1];
    int64_t id = KPI_REJECT_UNKNOWN;
    if (len <= KPI_KEY_MAX) {
        memcpy(k, key, len);
        k[len] = '\0';
        struct kpi_def d;
        int r = kpi_store_kpi_get(im->store, k, &d);
        if (r == 0) {
            id = d.formula ? KPI_REJECT_DERIVED : (d.archived ? KPI_REJECT_ARCHIVED : d.id);
            kpi_def_clear(&d);
        } else if (r != -ENOENT) {
            return r;
        }
    }
    int r = kpi_strmap_put(&im->kpis, key, len, id);
    if (r < 0 && r != -E2BIG)
        return r;
    *ret_id = id;
    return 0;
}

static int lookup_dims(struct import *im, const char *canon, int64_t *ret_id)
{
    size_t len = strlen(canon);
    if (len == 0) {
        *ret_id = 0;
        return 0;
    }
    if (kpi_strmap_get(&im->dims, canon, len, ret_id))
        return 0;
    int r = kpi_store_dims_intern(im->store, canon, ret_id);
    if (r < 0)
        return r;
    r = kpi_strmap_put(&im->dims, canon, len, *ret_id);
    return r == -E2BIG ? 0 : r;
}

static int pending_cmp(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    if (x->kpi_id != y->kpi_id)
        return x->kpi_id < y->kpi_id ? -1 : 1;
    if (x->dims_id != y->dims_id)
        return x->dims_id < y->dims_id ? -1 : 1;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts the batch by series and instant and keeps, of points at one instant of one series, the last
 * in input order (the sort puts it last). */
static void sort_dedup(struct import *im)
{
    if (im->n_batch == 0)
        return;
    qsort(im->batch, im->n_batch, sizeof(*im->batch), pending_cmp);
    size_t n = 0;
    for (size_t i = 0; i < im->n_batch; i++) {
        const struct pending *p = &im->batch[i];
        if (i + 1 < im->n_batch && p[1].kpi_id == p->kpi_id && p[1].dims_id == p->dims_id && p[1].at_ms == p->at_ms)
            continue;
        im->batch[n++] = *p;
    }
    im->n_batch = n;
}

/* Writes a sorted, deduplicated batch a series at a time. */
static int write_series(struct import *im)
{
    size_t i = 0;
    while (i < im->n_batch) {
        size_t n = 0;
        const struct pending *first = &im->batch[i];
        for (; i < im->n_batch && im->batch[i].kpi_id == first->kpi_id && im->batch[i].dims_id == first->dims_id; i++)
            im->run[n++] = (struct kpi_point_write){im->batch[i].at_ms, im->batch[i].value, im->batch[i].flags};
        int r = kpi_store_points_put(im->store, first->kpi_id, first->dims_id, im->run, n);
        if (r < 0)
            return r;
        im->report->written += n;
    }
    im->n_batch = 0;
    return 0;
}

static int flush(struct import *im)
{
    if (im->n_batch == 0)
        return 0;
    sort_dedup(im);
    return write_series(im);
}

/* Appends a sorted, deduplicated batch to the stage (store/stage.h). */
static int write_stage(struct import *im)
{
    if (im->n_batch == 0)
        return 0;
    struct kpi_stage_point *pts = malloc(im->n_batch * sizeof(*pts));
    if (!pts)
        return -ENOMEM;
    for (size_t i = 0; i < im->n_batch; i++) {
        const struct pending *p = &im->batch[i];
        pts[i] = (struct kpi_stage_point){p->kpi_id, p->dims_id, p->at_ms, p->value, p->flags};
    }
    int r = kpi_stage_put(im->store, pts, im->n_batch);
    free(pts);
    if (r == 0)
        im->report->written += im->n_batch;
    im->n_batch = 0;
    return r;
}

/* The name of a field in messages: a CSV column ("column 3 (value)") or a JSON field ("value",
 * "dims.region"). */
static const char *field_name(const struct kpi_ingest_row *row, size_t column, bool dim, const char *name, size_t len, char *buf,
                              size_t size)
{
    if (row->columns)
        snprintf(buf, size, "column %zu (%.*s)", dim ? column : column - row->no_kpi_column, (int)len, name);
    else
        snprintf(buf, size, "%s%.*s", dim ? "dims." : "", (int)len, name);
    return buf;
}

/* Validates one row; on success fills *ret_p (dims interned only when writing). Returns 0, a
 * positive value for a rejected row (already reported), or a negative code on failure. */
static int check_row(struct import *im, struct kpi_ingest_row *row, bool writing, struct pending *ret_p)
{
    struct kpi_ingest_report *rep = im->report;
    char name[96];
    int64_t kpi_id;
    int r = lookup_kpi(im, row->kpi, row->kpi_len, &kpi_id);
    if (r < 0)
        return r;
    int bad = 0;
    if (kpi_id < 0) {
        const char *why = kpi_id == KPI_REJECT_DERIVED    ? "is derived (computed from its formula) and takes no points"
                          : kpi_id == KPI_REJECT_ARCHIVED ? "is archived"
                                                          : "does not exist";
        kpi_ingest_report_error(rep, row->line, "%s: KPI '%.*s' %s", field_name(row, 1, false, "kpi", 3, name, sizeof(name)),
                                (int)(row->kpi_len > 64 ? 64 : row->kpi_len), row->kpi, why);
        bad = 1;
    }
    struct kpi_at at;
    if (kpi_at_parse(row->at, row->at_len, &at) < 0) {
        kpi_ingest_report_error(rep, row->line, "%s: '%.*s' is not a date (YYYY-MM-DD) or an RFC 3339 instant",
                                field_name(row, 2, false, "at", 2, name, sizeof(name)), (int)(row->at_len > 40 ? 40 : row->at_len),
                                row->at);
        bad = 1;
    }
    double value = row->number;
    if (!row->has_number) {
        r = kpi_parse_double(row->value, row->value_len, &value);
        if (r < 0) {
            kpi_ingest_report_error(rep, row->line, "%s: '%.*s' is %s", field_name(row, 3, false, "value", 5, name, sizeof(name)),
                                    (int)(row->value_len > 40 ? 40 : row->value_len), row->value,
                                    r == -ERANGE ? "out of range" : "not a number");
            bad = 1;
        }
    } else if (!isfinite(value)) {
        kpi_ingest_report_error(rep, row->line, "%s: not a finite number",
                                field_name(row, 3, false, "value", 5, name, sizeof(name)));
        bad = 1;
    }
    if (value == 0)
        value = 0; /* -0 is stored as 0, as it is printed */
    for (size_t i = 0; i < row->n_dims; i++) {
        const struct kpi_dim *d = &row->dims[i];
        if (!kpi_dim_value_valid(d->value, d->value_len)) {
            kpi_ingest_report_error(rep, row->line, "%s: a dimension value must be 1 to %d bytes without control characters",
                                    field_name(row, row->dim_columns[i], true, d->key, d->key_len, name, sizeof(name)),
                                    KPI_DIM_VALUE_MAX);
            bad = 1;
        }
    }
    if (bad)
        return 1;
    if (!writing)
        return 0;
    int64_t dims_id = 0;
    if (row->n_dims) {
        char canon[KPI_DIMS_CANON_MAX + 1];
        struct kpi_diag ddiag = {""};
        r = kpi_dims_canon(row->dims, row->n_dims, canon, sizeof(canon), &ddiag);
        if (r < 0) {
            kpi_ingest_report_error(rep, row->line, "dims: %s", ddiag.msg[0] ? ddiag.msg : "invalid");
            return 1;
        }
        r = lookup_dims(im, canon, &dims_id);
        if (r < 0)
            return r;
    }
    int flags;
    int64_t ms;
    kpi_ingest_at_instant(im->cal, &at, &ms, &flags);
    *ret_p = (struct pending){kpi_id, dims_id, ms, value, im->seq++, flags};
    return 0;
}

int kpi_ingest_rows(struct kpi_store *s, const struct kpi_calendar *cal, kpi_ingest_next_fn next, void *ctx,
                    kpi_ingest_progress_fn progress, void *progress_ctx, struct kpi_ingest_report *ret_report,
                    struct kpi_diag *diag)
{
    struct kpi_ingest_report *rep = ret_report;
    memset(rep, 0, sizeof(*rep));
    struct import im = {.store = s, .cal = cal, .report = rep};
    kpi_strmap_init(&im.kpis, KEY_CACHE_MAX);
    kpi_strmap_init(&im.dims, DIMS_CACHE_MAX);
    bool in_tx = false;
    uint64_t offset = 0;
    int r;
    im.batch = malloc(BATCH_ROWS * sizeof(*im.batch));
    im.run = malloc(BATCH_ROWS * sizeof(*im.run));
    if (!im.batch || !im.run) {
        r = kpi_diag_set(diag, -ENOMEM, "out of memory");
        goto out;
    }
    r = kpi_store_begin(s);
    if (r < 0) {
        kpi_diag_set(diag, r, "cannot start a transaction: %s", kpi_strerror(r));
        goto out;
    }
    in_tx = true;
    for (;;) {
        struct kpi_ingest_row row;
        r = next(ctx, &row, rep);
        if (r == 0)
            break;
        if (r < 0) {
            kpi_diag_set(diag, r, "reading input: %s", kpi_strerror(r));
            goto out;
        }
        rep->rows++;
        offset = row.offset;
        struct pending p;
        r = check_row(&im, &row, rep->n_errors == 0, &p);
        if (r < 0) {
            kpi_diag_set(diag, r, "%s %llu: %s", row.columns ? "line" : "item", (unsigned long long)row.line, kpi_strerror(r));
            goto out;
        }
        if (r == 0 && rep->n_errors == 0) {
            im.batch[im.n_batch++] = p;
            if (im.n_batch == BATCH_ROWS) {
                r = flush(&im);
                if (r < 0) {
                    kpi_diag_set(diag, r, "writing points: %s", kpi_strerror(r));
                    goto out;
                }
            }
        }
        if (progress && (rep->rows & 0xffff) == 0)
            progress(progress_ctx, offset, rep->rows);
    }
    if (rep->n_errors == 0) {
        r = flush(&im);
        if (r < 0) {
            kpi_diag_set(diag, r, "writing points: %s", kpi_strerror(r));
            goto out;
        }
        r = kpi_store_commit(s);
        if (r < 0) {
            kpi_diag_set(diag, r, "commit failed: %s", kpi_strerror(r));
            goto out;
        }
        in_tx = false;
        if (progress)
            progress(progress_ctx, offset, rep->rows);
    } else {
        r = -EINVAL;
        kpi_diag_set(diag, r, "%llu bad row%s; nothing was written", (unsigned long long)rep->n_errors,
                     rep->n_errors == 1 ? "" : "s");
    }
out:
    if (in_tx) {
        kpi_store_rollback(s);
        rep->written = 0;
    }
    free(im.batch);
    free(im.run);
    kpi_strmap_free(&im.kpis);
    kpi_strmap_free(&im.dims);
    return r;
}

static int index_cb(void *ctx, const struct kpi_index_row *row)
{
    struct import *im = ctx;
    int64_t id = row->derived ? KPI_REJECT_DERIVED : row->archived ? KPI_REJECT_ARCHIVED : row->id;
    return kpi_strmap_put(&im->kpis, row->key, strlen(row->key), id);
}

/* Loads every KPI key into the import's map in one query, when there are not too many of them
 * (then keys are looked up one by one). */
static void preload_kpis(struct import *im)
{
    int r = kpi_store_kpi_index(im->store, index_cb, im);
    if (r == 0) {
        im->kpis_complete = true;
    } else {
        kpi_strmap_free(&im->kpis);
        kpi_strmap_init(&im->kpis, KEY_CACHE_MAX);
    }
}

/* A validated row of kpi_ingest_rows_locked: dims_id is an index into the batch's own list of
 * distinct dims (0 = none) until the write phase maps it to the stored id. */
static int local_dims(struct import *im, struct kpi_ingest_row *row, char ***canons, size_t *n_canons, int64_t *ret_local)
{
    *ret_local = 0;
    if (row->n_dims == 0)
        return 0;
    char canon[KPI_DIMS_CANON_MAX + 1];
    struct kpi_diag ddiag = {""};
    if (kpi_dims_canon(row->dims, row->n_dims, canon, sizeof(canon), &ddiag) < 0) {
        kpi_ingest_report_error(im->report, row->line, "dims: %s", ddiag.msg[0] ? ddiag.msg : "invalid");
        return 1;
    }
    size_t len = strlen(canon);
    if (kpi_strmap_get(&im->dims, canon, len, ret_local))
        return 0;
    if (*n_canons >= DIMS_CACHE_MAX)
        return -E2BIG;
    char **grown = realloc(*canons, (*n_canons + 1) * sizeof(**canons));
    if (!grown)
        return -ENOMEM;
    *canons = grown;
    grown[*n_canons] = strdup(canon);
    if (!grown[*n_canons])
        return -ENOMEM;
    (*n_canons)++;
    *ret_local = (int64_t)*n_canons;
    int r = kpi_strmap_put(&im->dims, canon, len, *ret_local);
    return r < 0 ? r : 0;
}

int kpi_ingest_rows_locked(struct kpi_store *s, const struct kpi_calendar *cal, kpi_ingest_next_fn next, void *ctx, size_t max_rows,
                           const struct kpi_ingest_lock *lock, struct kpi_ingest_report *ret_report, struct kpi_diag *diag)
{
    struct kpi_ingest_report *rep = ret_report;
    memset(rep, 0, sizeof(*rep));
    struct import im = {.store = s, .cal = cal, .report = rep};
    kpi_strmap_init(&im.kpis, KEY_CACHE_MAX);
    kpi_strmap_init(&im.dims, DIMS_CACHE_MAX);
    char **canons = NULL;
    size_t n_canons = 0, cap = 0;
    int64_t *dims_ids = NULL;
    bool locked = false, in_tx = false;
    int r;
    preload_kpis(&im);

    /* Phase 1: read and validate everything, outside the lock. */
    for (;;) {
        struct kpi_ingest_row row;
        r = next(ctx, &row, rep);
        if (r == 0)
            break;
        if (r < 0) {
            kpi_diag_set(diag, r, "reading input: %s", kpi_strerror(r));
            goto out;
        }
        rep->rows++;
        if (rep->rows > max_rows) {
            r = kpi_diag_set(diag, -E2BIG, "more than %zu points in one batch; split it", max_rows);
            goto out;
        }
        struct pending p;
        r = check_row(&im, &row, false, &p);
        if (r < 0) {
            kpi_diag_set(diag, r, "%s %llu: %s", row.columns ? "line" : "item", (unsigned long long)row.line, kpi_strerror(r));
            goto out;
        }
        if (r > 0 || rep->n_errors > 0)
            continue;
        int64_t local;
        r = local_dims(&im, &row, &canons, &n_canons, &local);
        if (r < 0) {
            kpi_diag_set(diag, r, "dims: %s", r == -E2BIG ? "too many distinct dimension sets in one batch" : kpi_strerror(r));
            goto out;
        }
        if (r > 0)
            continue;
        int64_t kpi_id;
        lookup_kpi(&im, row.kpi, row.kpi_len, &kpi_id); /* cached by check_row */
        struct kpi_at at;
        kpi_at_parse(row.at, row.at_len, &at);
        double value = row.number;
        if (!row.has_number)
            kpi_parse_double(row.value, row.value_len, &value);
        if (value == 0)
            value = 0;
        if (im.n_batch == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            struct pending *nb = realloc(im.batch, ncap * sizeof(*nb));
            if (!nb) {
                r = kpi_diag_set(diag, -ENOMEM, "out of memory");
                goto out;
            }
            im.batch = nb;
            cap = ncap;
        }
        int flags;
        int64_t ms;
        kpi_ingest_at_instant(cal, &at, &ms, &flags);
        im.batch[im.n_batch++] = (struct pending){kpi_id, local, ms, value, im.seq++, flags};
    }
    if (rep->n_errors > 0) {
        r = kpi_diag_set(diag, -EINVAL, "%llu bad row%s; nothing was written", (unsigned long long)rep->n_errors,
                         rep->n_errors == 1 ? "" : "s");
        goto out;
    }

    /* Still outside the lock: of points at one instant of one series the last wins. */
    sort_dedup(&im);

    /* Phase 2: under the lock, intern the batch's dims and write it in one transaction. */
    im.run = malloc((im.n_batch ? im.n_batch : 1) * sizeof(*im.run));
    dims_ids = calloc(n_canons + 1, sizeof(*dims_ids));
    if (!im.run || !dims_ids) {
        r = kpi_diag_set(diag, -ENOMEM, "out of memory");
        goto out;
    }
    if (lock)
        lock->lock(lock->ctx);
    locked = true;
    r = kpi_store_begin(s);
    if (r < 0) {
        kpi_diag_set(diag, r, "cannot start a transaction: %s", kpi_strerror(r));
        goto out;
    }
    in_tx = true;
    for (size_t i = 0; i < n_canons; i++) {
        r = kpi_store_dims_intern(s, canons[i], &dims_ids[i + 1]);
        if (r < 0) {
            kpi_diag_set(diag, r, "writing dimensions: %s", kpi_strerror(r));
            goto out;
        }
    }
    for (size_t i = 0; i < im.n_batch; i++)
        im.batch[i].dims_id = dims_ids[im.batch[i].dims_id];
    r = lock && lock->stage ? write_stage(&im) : write_series(&im);
    if (r < 0) {
        kpi_diag_set(diag, r, "writing points: %s", kpi_strerror(r));
        goto out;
    }
    r = kpi_store_commit(s);
    if (r < 0) {
        kpi_diag_set(diag, r, "commit failed: %s", kpi_strerror(r));
        goto out;
    }
    in_tx = false;
out:
    if (in_tx) {
        kpi_store_rollback(s);
        rep->written = 0;
    }
    if (locked && lock)
        lock->unlock(lock->ctx);
    for (size_t i = 0; i < n_canons; i++)
        free(canons[i]);
    free(canons);
    free(dims_ids);
    free(im.batch);
    free(im.run);
    kpi_strmap_free(&im.kpis);
    kpi_strmap_free(&im.dims);
    return r;
}

/* The CSV source: a header `kpi,at,value[,dim...]`, then one point per line; an empty cell leaves
 * that dimension unset. */
struct kpi_ingest_csv_source {
    struct kpi_csv *csv;
    char fixed_kpi[KPI_KEY_MAX + 1]; /* "" when the first column names the KPI */
    bool have_header;
    bool done;
    size_t n_columns;
    char dim_names[KPI_DIMS_MAX][65];
    size_t dim_lens[KPI_DIMS_MAX];
    size_t n_dims;
    struct kpi_diag fatal; /* the reader's message for a failure that ended the input */
};

static bool field_is(const struct kpi_csv_field *f, const char *name)
{
    return f->len == strlen(name) && memcmp(f->data, name, f->len) == 0;
}

static int parse_header(struct kpi_ingest_csv_source *src, struct kpi_ingest_report *rep, const struct kpi_csv_field *f, size_t n)
{
    /* With a fixed KPI the header is `at,value[,dim...]`: skip the missing kpi column. */
    size_t first = src->fixed_kpi[0] ? 2 : 3;
    if (src->fixed_kpi[0]) {
        if (n < 2 || !field_is(&f[0], "at") || !field_is(&f[1], "value")) {
            kpi_ingest_report_error(rep, 1, "header: expected 'at,value' followed by optional dimension names");
            return -EINVAL;
        }
    } else if (n < 3 || !field_is(&f[0], "kpi") || !field_is(&f[1], "at") || !field_is(&f[2], "value")) {
        kpi_ingest_report_error(rep, 1, "header: expected 'kpi,at,value' followed by optional dimension names");
        return -EINVAL;
    }
    if (n - first > KPI_DIMS_MAX) {
        kpi_ingest_report_error(rep, 1, "header: at most %d dimension columns", KPI_DIMS_MAX);
        return -EINVAL;
    }
    for (size_t i = first; i < n; i++) {
        if (!kpi_dim_key_valid(f[i].data, f[i].len)) {
            kpi_ingest_report_error(
                rep, 1, "column %zu: '%.*s' is not a valid dimension name (a lower-case letter, then letters, digits or _)", i + 1,
                (int)(f[i].len > 64 ? 64 : f[i].len), f[i].data);
            return -EINVAL;
        }
        for (size_t j = first; j < i; j++) {
            if (f[j].len == f[i].len && memcmp(f[j].data, f[i].data, f[i].len) == 0) {
                kpi_ingest_report_error(rep, 1, "column %zu: dimension '%.*s' appears twice", i + 1, (int)f[i].len, f[i].data);
                return -EINVAL;
            }
        }
        memcpy(src->dim_names[i - first], f[i].data, f[i].len);
        src->dim_names[i - first][f[i].len] = '\0';
        src->dim_lens[i - first] = f[i].len;
    }
    src->n_dims = n - first;
    src->n_columns = n;
    return 0;
}

int kpi_ingest_csv_next(void *ctx, struct kpi_ingest_row *ret_row, struct kpi_ingest_report *rep)
{
    struct kpi_ingest_csv_source *src = ctx;
    while (!src->done) {
        const struct kpi_csv_field *f;
        size_t n;
        struct kpi_diag cdiag = {""};
        int r = kpi_csv_next(src->csv, &f, &n, &cdiag);
        if (r == 0)
            break;
        if (r < 0) {
            if (r != -EINVAL && r != -E2BIG) {
                src->fatal = cdiag;
                return r;
            }
            /* The CSV message already starts with "line L, column C: ". */
            kpi_ingest_report_error(rep, 0, "%s", cdiag.msg);
            continue;
        }
        uint64_t line = kpi_csv_line(src->csv);
        if (n == 1 && f[0].len == 0)
            continue; /* blank line */
        if (!src->have_header) {
            src->have_header = true;
            if (parse_header(src, rep, f, n) < 0)
                src->done = true;
            continue;
        }
        if (n != src->n_columns) {
            rep->rows++;
            kpi_ingest_report_error(rep, line, "expected %zu columns, found %zu", src->n_columns, n);
            continue;
        }
        struct kpi_ingest_row *row = ret_row;
        row->line = line;
        row->offset = kpi_csv_offset(src->csv);
        row->columns = true;
        size_t k = 0; /* the column of `at` minus one */
        if (src->fixed_kpi[0]) {
            row->kpi = src->fixed_kpi;
            row->kpi_len = strlen(src->fixed_kpi);
            row->no_kpi_column = 1;
        } else {
            row->kpi = f[0].data;
            row->kpi_len = f[0].len;
            row->no_kpi_column = 0;
            k = 1;
        }
        row->at = f[k].data;
        row->at_len = f[k].len;
        row->has_number = false;
        row->number = 0;
        row->value = f[k + 1].data;
        row->value_len = f[k + 1].len;
        size_t nd = 0;
        for (size_t i = 0; i < src->n_dims; i++) {
            const struct kpi_csv_field *c = &f[k + 2 + i];
            if (c->len == 0)
                continue;
            row->dims[nd] = (struct kpi_dim){src->dim_names[i], src->dim_lens[i], c->data, c->len};
            row->dim_columns[nd] = (uint16_t)(k + 3 + i);
            nd++;
        }
        row->n_dims = nd;
        return 1;
    }
    src->done = true;
    return 0;
}

int kpi_ingest_csv_source_new(kpi_csv_read_fn read, void *read_ctx, const char *fixed_kpi, struct kpi_ingest_csv_source **ret_src)
{
    struct kpi_ingest_csv_source *src = calloc(1, sizeof(*src));
    if (!src)
        return -ENOMEM;
    if (fixed_kpi)
        kpi_strlcpy(src->fixed_kpi, fixed_kpi, sizeof(src->fixed_kpi));
    int r = kpi_csv_new(read, read_ctx, KPI_CSV_FIELD_MAX_DEFAULT, KPI_DIMS_MAX + 3, &src->csv);
    if (r < 0) {
        free(src);
        return r;
    }
    *ret_src = src;
    return 0;
}

struct kpi_ingest_csv_source *kpi_ingest_csv_source_free(struct kpi_ingest_csv_source *src)
{
    if (src) {
        kpi_csv_free(src->csv);
        free(src);
    }
    return NULL;
}

const char *kpi_ingest_csv_source_error(const struct kpi_ingest_csv_source *src)
{
    return src->fatal.msg;
}

int kpi_ingest_csv(struct kpi_store *s, const struct kpi_calendar *cal, kpi_csv_read_fn read, void *read_ctx,
                   kpi_ingest_progress_fn progress, void *progress_ctx, struct kpi_ingest_report *ret_report, struct kpi_diag *diag)
{
    struct kpi_ingest_csv_source src = {0};
    int r = kpi_csv_new(read, read_ctx, KPI_CSV_FIELD_MAX_DEFAULT, KPI_DIMS_MAX + 3, &src.csv);
    if (r < 0) {
        memset(ret_report, 0, sizeof(*ret_report));
        return kpi_diag_set(diag, r, "cannot read CSV: %s", kpi_strerror(r));
    }
    r = kpi_ingest_rows(s, cal, kpi_ingest_csv_next, &src, progress, progress_ctx, ret_report, diag);
    if (r < 0 && src.fatal.msg[0])
        kpi_diag_set(diag, r, "reading input: %s", src.fatal.msg);
    kpi_csv_free(src.csv);
    return r;
}

int kpi_ingest_point(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, double value, const struct kpi_at *at,
                     struct kpi_dim *dims, size_t n_dims, struct kpi_diag *diag)
{
    struct kpi_def d;
    int r = kpi_store_kpi_get(s, key, &d);
    if (r == -ENOENT)
        return kpi_diag_set(diag, r, "kpi: no KPI with key '%s'", key);
    if (r < 0)
        return kpi_diag_set(diag, r, "cannot read KPI '%s': %s", key, kpi_strerror(r));
    bool derived = d.formula != NULL, archived = d.archived;
    int64_t kpi_id = d.id;
    kpi_def_clear(&d);
    if (derived)
        return kpi_diag_set(diag, -EINVAL, "kpi: '%s' is derived (computed from its formula) and takes no points", key);
    if (archived)
        return kpi_diag_set(diag, -EINVAL, "kpi: '%s' is archived", key);
    char canon[KPI_DIMS_CANON_MAX + 1];
    r = kpi_dims_canon(dims, n_dims, canon, sizeof(canon), diag);
    if (r < 0)
        return r;
    r = kpi_store_begin(s);
    if (r < 0)
        return kpi_diag_set(diag, r, "cannot start a transaction: %s", kpi_strerror(r));
    int64_t dims_id, ms;
    int flags;
    kpi_ingest_at_instant(cal, at, &ms, &flags);
    r = kpi_store_dims_intern(s, canon, &dims_id);
    if (r == 0)
        r = kpi_store_point_put(s, kpi_id, dims_id, ms, value, flags);
    if (r == 0)
        r = kpi_store_commit(s);
    if (r < 0) {
        kpi_store_rollback(s);
        return kpi_diag_set(diag, r, "cannot write the point: %s", kpi_strerror(r));
    }
    return 0;
}
