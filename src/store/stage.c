/*
 * The stage: packing batches into stage rows, and folding the rows into the series (see stage.h).
 *
 * A fold reads the rows in the order they were written, a slice of about KPI_STAGE_FOLD_SLICE
 * points at a time; each slice is sorted by series, instant and arrival (a stable order, so the
 * last point written at an instant is the one kept) and written a series at a time with
 * kpi_store_points_put, which replaces stored points at the same instants. Slices are folded in
 * order, so a later slice's points replace an earlier one's too.
 */
#include "store/stage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct staged {
    struct kpi_stage_point p;
    uint64_t seq; /* arrival order */
};

struct fold {
    struct staged *pts;
    size_t n, cap;
    size_t rows;     /* rows collected in this slice */
    int64_t last_id; /* the id of the last of them */
};

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int kpi_stage_put(struct kpi_store *s, const struct kpi_stage_point *pts, size_t n)
{
    if (n == 0)
        return 0;
    uint8_t *blob = malloc(n * KPI_STAGE_RECORD);
    if (!blob)
        return -ENOMEM;
    uint8_t *out = blob;
    for (size_t i = 0; i < n; i++, out += KPI_STAGE_RECORD) {
        uint64_t bits;
        memcpy(&bits, &pts[i].value, sizeof(bits));
        put_u64(out, (uint64_t)pts[i].kpi_id);
        put_u64(out + 8, (uint64_t)pts[i].dims_id);
        put_u64(out + 16, (uint64_t)pts[i].at_ms);
        put_u64(out + 24, bits);
        out[32] = (uint8_t)pts[i].flags;
    }
    int r = kpi_store_stage_put(s, blob, n * KPI_STAGE_RECORD, n);
    free(blob);
    return r;
}

static int collect(void *ctx, int64_t id, const uint8_t *data, size_t len)
{
    struct fold *f = ctx;
    if (len % KPI_STAGE_RECORD != 0)
        return -EIO; /* not a stage row this code wrote */
    size_t n = len / KPI_STAGE_RECORD;
    if (f->n + n > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < f->n + n)
            cap *= 2;
        struct staged *grown = realloc(f->pts, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        f->pts = grown;
        f->cap = cap;
    }
    for (size_t i = 0; i < n; i++, data += KPI_STAGE_RECORD) {
        struct staged *p = &f->pts[f->n];
        uint64_t bits = get_u64(data + 24);
        p->p.kpi_id = (int64_t)get_u64(data);
        p->p.dims_id = (int64_t)get_u64(data + 8);
        p->p.at_ms = (int64_t)get_u64(data + 16);
        memcpy(&p->p.value, &bits, sizeof(bits));
        p->p.flags = data[32];
        p->seq = f->n++;
    }
    f->rows++;
    f->last_id = id;
    return 0;
}

static int staged_cmp(const void *a, const void *b)
{
    const struct staged *x = a, *y = b;
    if (x->p.kpi_id != y->p.kpi_id)
        return x->p.kpi_id < y->p.kpi_id ? -1 : 1;
    if (x->p.dims_id != y->p.dims_id)
        return x->p.dims_id < y->p.dims_id ? -1 : 1;
    if (x->p.at_ms != y->p.at_ms)
        return x->p.at_ms < y->p.at_ms ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Writes one collected slice, a series at a time; of points at one instant the last arrived wins. */
static int write_slice(struct kpi_store *s, struct fold *f, struct kpi_point_write *run)
{
    qsort(f->pts, f->n, sizeof(*f->pts), staged_cmp);
    size_t i = 0;
    while (i < f->n) {
        const struct kpi_stage_point *first = &f->pts[i].p;
        size_t n = 0;
        for (; i < f->n && f->pts[i].p.kpi_id == first->kpi_id && f->pts[i].p.dims_id == first->dims_id; i++) {
            const struct kpi_stage_point *p = &f->pts[i].p;
            if (i + 1 < f->n && f->pts[i + 1].p.kpi_id == p->kpi_id && f->pts[i + 1].p.dims_id == p->dims_id &&
                f->pts[i + 1].p.at_ms == p->at_ms)
                continue;
            run[n++] = (struct kpi_point_write){p->at_ms, p->value, p->flags};
        }
        int r = kpi_store_points_put(s, first->kpi_id, first->dims_id, run, n);
        if (r < 0)
            return r;
    }
    return 0;
}

int kpi_stage_fold(struct kpi_store *s, uint64_t *ret_points)
{
    if (ret_points)
        *ret_points = 0;
    int64_t rows;
    int r = kpi_store_stage_rows(s, &rows);
    if (r < 0 || rows == 0)
        return r;
    r = kpi_store_begin(s);
    if (r < 0)
        return r;
    struct fold f = {0};
    struct kpi_point_write *run = NULL;
    size_t run_cap = 0;
    uint64_t total = 0;
    int64_t after = 0;
    for (;;) {
        f.n = 0;
        f.rows = 0;
        r = kpi_store_stage_read(s, after, KPI_STAGE_FOLD_SLICE, collect, &f);
        if (r < 0 || f.rows == 0)
            break;
        if (f.n > run_cap) {
            struct kpi_point_write *grown = realloc(run, f.n * sizeof(*grown));
            if (!grown) {
                r = -ENOMEM;
                break;
            }
            run = grown;
            run_cap = f.n;
        }
        r = write_slice(s, &f, run);
        if (r < 0)
            break;
        total += f.n;
        after = f.last_id;
    }
    if (r == 0 && after > 0)
        r = kpi_store_stage_delete(s, after);
    if (r == 0)
        r = kpi_store_commit(s);
    if (r < 0)
        kpi_store_rollback(s);
    else if (ret_points)
        *ret_points = total;
    free(f.pts);
    free(run);
    return r;
}
