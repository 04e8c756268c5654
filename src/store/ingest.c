/*
 * CSV import and single-point writes (see ingest.h).
 *
 * An import runs in one transaction. Rows are validated as they stream in; valid rows are
 * buffered, sorted by (kpi, dims, at) and written a series at a time, so that the store merges
 * each series' new points into its chunks with a few row writes (see store/chunk.h). The first bad row stops the writing but not
 * the reading, so the report lists every bad row; then the transaction is rolled back and nothing
 * is written. Memory is bounded: one CSV buffer, one batch, and capped lookup caches.
 */
#include "store/ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/strmap.h"

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
    size_t n_columns;
    char dim_names[KPI_DIMS_MAX][65];
    size_t n_dims;
};

static void add_error(struct kpi_ingest_report *rep, uint64_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add_error(struct kpi_ingest_report *rep, uint64_t line, const char *fmt, ...)
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

static int flush(struct import *im)
{
    if (im->n_batch == 0)
        return 0;
    qsort(im->batch, im->n_batch, sizeof(*im->batch), pending_cmp);
    size_t i = 0;
    while (i < im->n_batch) {
        /* One series: the same kpi and dims. Of duplicate instants only the last in file order is
         * kept (the sort puts it last). */
        size_t n = 0;
        const struct pending *first = &im->batch[i];
        for (; i < im->n_batch && im->batch[i].kpi_id == first->kpi_id && im->batch[i].dims_id == first->dims_id; i++) {
            const struct pending *p = &im->batch[i];
            if (i + 1 < im->n_batch && p[1].kpi_id == p->kpi_id && p[1].dims_id == p->dims_id && p[1].at_ms == p->at_ms)
                continue;
            im->run[n++] = (struct kpi_point_write){p->at_ms, p->value, p->flags};
        }
        int r = kpi_store_points_put(im->store, first->kpi_id, first->dims_id, im->run, n);
        if (r < 0)
            return r;
        im->report->written += n;
    }
    im->n_batch = 0;
    return 0;
}

static bool field_is(const struct kpi_csv_field *f, const char *name)
{
    return f->len == strlen(name) && memcmp(f->data, name, f->len) == 0;
}

static int parse_header(struct import *im, const struct kpi_csv_field *f, size_t n)
{
    struct kpi_ingest_report *rep = im->report;
    if (n < 3 || !field_is(&f[0], "kpi") || !field_is(&f[1], "at") || !field_is(&f[2], "value")) {
        add_error(rep, 1, "header: expected 'kpi,at,value' followed by optional dimension names");
        return -EINVAL;
    }
    if (n - 3 > KPI_DIMS_MAX) {
        add_error(rep, 1, "header: at most %d dimension columns", KPI_DIMS_MAX);
        return -EINVAL;
    }
    for (size_t i = 3; i < n; i++) {
        if (!kpi_dim_key_valid(f[i].data, f[i].len)) {
            add_error(rep, 1, "column %zu: '%.*s' is not a valid dimension name (a lower-case letter, then letters, digits or _)",
                      i + 1, (int)(f[i].len > 64 ? 64 : f[i].len), f[i].data);
            return -EINVAL;
        }
        for (size_t j = 3; j < i; j++) {
            if (f[j].len == f[i].len && memcmp(f[j].data, f[i].data, f[i].len) == 0) {
                add_error(rep, 1, "column %zu: dimension '%.*s' appears twice", i + 1, (int)f[i].len, f[i].data);
                return -EINVAL;
            }
        }
        memcpy(im->dim_names[i - 3], f[i].data, f[i].len);
        im->dim_names[i - 3][f[i].len] = '\0';
    }
    im->n_dims = n - 3;
    im->n_columns = n;
    return 0;
}

/* Validates one data row; on success fills *ret_p (dims interned only when writing). Returns 0, a
 * positive value for a rejected row (already reported), or a negative code on failure. */
static int parse_row(struct import *im, uint64_t line, const struct kpi_csv_field *f, size_t n, bool writing, struct pending *ret_p)
{
    struct kpi_ingest_report *rep = im->report;
    if (n != im->n_columns) {
        add_error(rep, line, "expected %zu columns, found %zu", im->n_columns, n);
        return 1;
    }
    int64_t kpi_id;
    int r = lookup_kpi(im, f[0].data, f[0].len, &kpi_id);
    if (r < 0)
        return r;
    int bad = 0;
    if (kpi_id < 0) {
        const char *why = kpi_id == KPI_REJECT_DERIVED    ? "is derived (computed from its formula) and takes no points"
                          : kpi_id == KPI_REJECT_ARCHIVED ? "is archived"
                                                          : "does not exist";
        add_error(rep, line, "column 1 (kpi): KPI '%.*s' %s", (int)(f[0].len > 64 ? 64 : f[0].len), f[0].data, why);
        bad = 1;
    }
    struct kpi_at at;
    if (kpi_at_parse(f[1].data, f[1].len, &at) < 0) {
        add_error(rep, line, "column 2 (at): '%.*s' is not a date (YYYY-MM-DD) or an RFC 3339 instant",
                  (int)(f[1].len > 40 ? 40 : f[1].len), f[1].data);
        bad = 1;
    }
    double value;
    r = kpi_parse_double(f[2].data, f[2].len, &value);
    if (r < 0) {
        add_error(rep, line, "column 3 (value): '%.*s' is %s", (int)(f[2].len > 40 ? 40 : f[2].len), f[2].data,
                  r == -ERANGE ? "out of range" : "not a number");
        bad = 1;
    }
    struct kpi_dim dims[KPI_DIMS_MAX];
    size_t nd = 0;
    for (size_t i = 0; i < im->n_dims; i++) {
        const struct kpi_csv_field *c = &f[3 + i];
        if (c->len == 0)
            continue;
        if (!kpi_dim_value_valid(c->data, c->len)) {
            add_error(rep, line, "column %zu (%s): a dimension value must be 1 to %d bytes without control characters", 4 + i,
                      im->dim_names[i], KPI_DIM_VALUE_MAX);
            bad = 1;
            continue;
        }
        dims[nd++] = (struct kpi_dim){im->dim_names[i], strlen(im->dim_names[i]), c->data, c->len};
    }
    if (bad)
        return 1;
    if (!writing)
        return 0;
    int64_t dims_id = 0;
    if (nd) {
        char canon[KPI_DIMS_CANON_MAX + 1];
        r = kpi_dims_canon(dims, nd, canon, sizeof(canon), NULL);
        if (r < 0) {
            add_error(rep, line, "dims: invalid");
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

int kpi_ingest_csv(struct kpi_store *s, const struct kpi_calendar *cal, kpi_csv_read_fn read, void *read_ctx,
                   kpi_ingest_progress_fn progress, void *progress_ctx, struct kpi_ingest_report *ret_report, struct kpi_diag *diag)
{
    struct kpi_ingest_report *rep = ret_report;
    memset(rep, 0, sizeof(*rep));
    struct import im = {.store = s, .cal = cal, .report = rep};
    kpi_strmap_init(&im.kpis, KEY_CACHE_MAX);
    kpi_strmap_init(&im.dims, DIMS_CACHE_MAX);
    struct kpi_csv *csv = NULL;
    bool in_tx = false;
    int r;
    im.batch = malloc(BATCH_ROWS * sizeof(*im.batch));
    im.run = malloc(BATCH_ROWS * sizeof(*im.run));
    if (!im.batch || !im.run) {
        r = -ENOMEM;
        goto out;
    }
    r = kpi_csv_new(read, read_ctx, KPI_CSV_FIELD_MAX_DEFAULT, KPI_DIMS_MAX + 3, &csv);
    if (r < 0)
        goto out;
    r = kpi_store_begin(s);
    if (r < 0) {
        kpi_diag_set(diag, r, "cannot start a transaction: %s", kpi_strerror(r));
        goto out;
    }
    in_tx = true;
    bool have_header = false;
    for (;;) {
        const struct kpi_csv_field *f;
        size_t n;
        struct kpi_diag cdiag = {""};
        r = kpi_csv_next(csv, &f, &n, &cdiag);
        if (r == 0)
            break;
        if (r < 0) {
            if (r != -EINVAL && r != -E2BIG) {
                kpi_diag_set(diag, r, "reading input: %s", cdiag.msg[0] ? cdiag.msg : kpi_strerror(r));
                goto out;
            }
            /* The CSV message already starts with "line L, column C: ". */
            add_error(rep, 0, "%s", cdiag.msg);
            continue;
        }
        uint64_t line = kpi_csv_line(csv);
        if (n == 1 && f[0].len == 0)
            continue; /* blank line */
        if (!have_header) {
            have_header = true;
            if (parse_header(&im, f, n) < 0)
                break;
            continue;
        }
        rep->rows++;
        struct pending p;
        r = parse_row(&im, line, f, n, rep->n_errors == 0, &p);
        if (r < 0) {
            kpi_diag_set(diag, r, "line %llu: %s", (unsigned long long)line, kpi_strerror(r));
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
            progress(progress_ctx, kpi_csv_offset(csv), rep->rows);
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
            progress(progress_ctx, kpi_csv_offset(csv), rep->rows);
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
    kpi_csv_free(csv);
    free(im.batch);
    free(im.run);
    kpi_strmap_free(&im.kpis);
    kpi_strmap_free(&im.dims);
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
