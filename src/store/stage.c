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

#include "base/le.h"

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
        kpi_le64_put(out, (uint64_t)pts[i].kpi_id);
        kpi_le64_put(out + 8, (uint64_t)pts[i].dims_id);
        kpi_le64_put(out + 16, (uint64_t)pts[i].at_ms);
        kpi_le64_put(out + 24, bits);
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
        uint64_t bits = kpi_le64_get(data + 24);
        p->p.kpi_id = (int64_t)kpi_le64_get(data);
        p->p.dims_id = (int64_t)kpi_le64_get(data + 8);
        p->p.at_ms = (int64_t)kpi_le64_get(data + 16);
        memcpy(&p->p.value, &bits, sizeof(bits));
        p->p.flags = data[32];
        p->seq = f->n++;
    }
    f->rows++;
    f->last_id = id;
    return 0;
}

/* Orders the points of one series by instant, then arrival. */
static int staged_cmp(const void *a, const void *b)
{
    const struct staged *x = a, *y = b;
    if (x->p.at_ms != y->p.at_ms)
        return x->p.at_ms < y->p.at_ms ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The series of a slice, numbered densely in order of first appearance (an open-addressing hash
 * table on (kpi, dims), grown at half full). */
struct series_table {
    struct series_slot {
        int64_t kpi_id, dims_id;
        uint32_t index; /* 0: free; else the series number + 1 */
    } * slots;
    size_t cap, n;
};

static uint64_t series_hash(int64_t kpi_id, int64_t dims_id)
{
    uint64_t h = (uint64_t)kpi_id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dims_id * 0xc2b2ae3d27d4eb4fULL;
    return h ^ (h >> 29);
}

static int series_grow(struct series_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    struct series_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].index)
            continue;
        size_t j = series_hash(t->slots[i].kpi_id, t->slots[i].dims_id) & (cap - 1);
        while (slots[j].index)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

static int series_number(struct series_table *t, int64_t kpi_id, int64_t dims_id, uint32_t *ret_number)
{
    if (2 * (t->n + 1) > t->cap) {
        int r = series_grow(t);
        if (r < 0)
            return r;
    }
    size_t j = series_hash(kpi_id, dims_id) & (t->cap - 1);
    while (t->slots[j].index && (t->slots[j].kpi_id != kpi_id || t->slots[j].dims_id != dims_id))
        j = (j + 1) & (t->cap - 1);
    if (!t->slots[j].index)
        t->slots[j] = (struct series_slot){kpi_id, dims_id, (uint32_t)++t->n};
    *ret_number = t->slots[j].index - 1;
    return 0;
}

/* Groups the slice's points by series, keeping arrival order within each (a counting sort of their
 * positions on the series number: a collector's batches bring a few points of each of thousands of
 * series, so this is two passes where a general sort took a fifth of a fold), then orders each
 * series by instant (usually it already is) and writes it; of points at one instant the last
 * arrived wins. */
static int write_slice(struct kpi_store *s, struct fold *f, struct kpi_point_write *run)
{
    struct series_table t = {0};
    size_t n_all = f->n ? f->n : 1;
    uint32_t *number = malloc(n_all * sizeof(*number));
    uint32_t *order = malloc(n_all * sizeof(*order));
    size_t *end = NULL;
    struct staged *series = NULL; /* one series' points, in order */
    size_t series_cap = 0;
    int r = number && order ? 0 : -ENOMEM;
    for (size_t i = 0; i < f->n && r == 0; i++)
        r = series_number(&t, f->pts[i].p.kpi_id, f->pts[i].p.dims_id, &number[i]);
    if (r == 0) {
        end = calloc(t.n + 1, sizeof(*end));
        if (!end)
            r = -ENOMEM;
    }
    if (r == 0) {
        for (size_t i = 0; i < f->n; i++)
            end[number[i] + 1]++;
        for (size_t k = 0; k < t.n; k++)
            end[k + 1] += end[k];
        for (size_t i = 0; i < f->n; i++)
            order[end[number[i]]++] = (uint32_t)i;
    }
    /* end[k] is now where series k's positions end. */
    for (size_t k = 0, begin = 0; k < t.n && r == 0; begin = end[k++]) {
        size_t count = end[k] - begin, n = 0;
        if (count > series_cap) {
            struct staged *grown = realloc(series, count * sizeof(*grown));
            if (!grown) {
                r = -ENOMEM;
                break;
            }
            series = grown;
            series_cap = count;
        }
        bool sorted = true;
        for (size_t i = 0; i < count; i++) {
            series[i] = f->pts[order[begin + i]];
            sorted = sorted && (i == 0 || series[i].p.at_ms >= series[i - 1].p.at_ms);
        }
        if (!sorted)
            qsort(series, count, sizeof(*series), staged_cmp);
        for (size_t i = 0; i < count; i++) {
            if (i + 1 < count && series[i + 1].p.at_ms == series[i].p.at_ms)
                continue;
            run[n++] = (struct kpi_point_write){series[i].p.at_ms, series[i].p.value, series[i].p.flags};
        }
        r = kpi_store_points_put(s, series[0].p.kpi_id, series[0].p.dims_id, run, n);
    }
    free(t.slots);
    free(number);
    free(order);
    free(end);
    free(series);
    return r;
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
