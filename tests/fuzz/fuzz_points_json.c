/*
 * libFuzzer target for the JSON point-array reader (json/points.c): reads the input to the end in one
 * piece and in small chunks whose sizes derive from the data, and requires the same rows and errors
 * both ways; reads it again with the hand-written fast path off (jansson decoding every item), also
 * bound to a KPI (kpi_json_points_set_kpi) with the fast path on and off, and requires the same rows
 * (every field, the number bit for bit) and errors each time; then writes every accepted point back
 * with kpi_json_point (the export format), reads that text again and requires the same point (the
 * same double; -0 is written as 0).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "json/json.h"
#include "kpi/dims.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    uint32_t rng; /* 0: hand out as much as asked */
};

static ssize_t mem_read(void *ctx, char *buf, size_t size)
{
    struct mem_reader *m = ctx;
    size_t n = m->len - m->pos;
    if (n > size)
        n = size;
    if (m->rng) {
        m->rng ^= m->rng << 13;
        m->rng ^= m->rng >> 17;
        m->rng ^= m->rng << 5;
        size_t chunk = 1 + m->rng % 16;
        if (n > chunk)
            n = chunk;
    }
    if (n)
        memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static void put(struct kpi_buf *b, const void *p, size_t n)
{
    if (kpi_buf_add(b, p, n) < 0)
        abort();
}

static void put_u64(struct kpi_buf *b, uint64_t v)
{
    put(b, &v, sizeof(v));
}

/* The canonical dims of a row; false when the core would reject them. */
static bool canon_of(const struct kpi_ingest_row *row, char *out, size_t size)
{
    struct kpi_dim dims[KPI_DIMS_MAX];
    memcpy(dims, row->dims, row->n_dims * sizeof(dims[0]));
    return kpi_dims_canon(dims, row->n_dims, out, size, NULL) == 0;
}

/* A point read back from what kpi_json_point wrote for it must be the same. */
static void check_round_trip(const struct kpi_ingest_row *row)
{
    char canon[KPI_DIMS_CANON_MAX + 1], canon2[KPI_DIMS_CANON_MAX + 1];
    if (!canon_of(row, canon, sizeof(canon)))
        return;
    if (strlen(row->kpi) != row->kpi_len || strlen(row->at) != row->at_len)
        abort(); /* jansson rejects NUL in strings */
    struct kpi_buf text;
    kpi_buf_init(&text, SIZE_MAX / 2);
    if (kpi_buf_addc(&text, '[') < 0 || kpi_json_point(&text, row->kpi, row->at, row->number, canon) < 0 ||
        kpi_buf_addc(&text, ']') < 0)
        abort();
    struct mem_reader m = {(const uint8_t *)text.data, text.len, 0, 0};
    struct kpi_json_points *p;
    if (kpi_json_points_new(mem_read, &m, &p) < 0)
        abort();
    struct kpi_ingest_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        abort();
    struct kpi_ingest_row again;
    if (kpi_json_points_next(p, &again, rep) != 1 || rep->n_errors != 0)
        abort();
    if (again.kpi_len != row->kpi_len || memcmp(again.kpi, row->kpi, row->kpi_len) != 0)
        abort();
    if (again.at_len != row->at_len || memcmp(again.at, row->at, row->at_len) != 0)
        abort();
    if (again.number != row->number)
        abort(); /* bit for bit but for -0, which kpi_format_double writes as 0 */
    if (!canon_of(&again, canon2, sizeof(canon2)) || strcmp(canon, canon2) != 0)
        abort();
    if (kpi_json_points_next(p, &again, rep) != 0 || rep->n_errors != 0)
        abort();
    free(rep);
    kpi_json_points_free(p);
    kpi_buf_free(&text);
}

/* The strings of a row are NUL-terminated, whichever path decoded it. */
static void check_terminated(const struct kpi_ingest_row *row)
{
    if (row->kpi[row->kpi_len] != '\0' || row->at[row->at_len] != '\0')
        abort();
    for (size_t i = 0; i < row->n_dims; i++)
        if (row->dims[i].key[row->dims[i].key_len] != '\0' || row->dims[i].value[row->dims[i].value_len] != '\0')
            abort();
}

/* Reads everything into a transcript of rows and errors; with check set, round-trips each row.
 * fixed binds the reader to a KPI (or NULL); fast turns the fast path on or off. */
static void read_all(const uint8_t *data, size_t size, uint32_t rng, const char *fixed, bool fast, struct kpi_buf *log, bool check)
{
    struct mem_reader m = {data, size, 0, rng};
    struct kpi_json_points *p;
    if (kpi_json_points_new(mem_read, &m, &p) < 0)
        abort();
    kpi_json_points_set_kpi(p, fixed);
    kpi_json_points_set_fast(p, fast);
    struct kpi_ingest_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        abort();
    uint64_t seen = 0;
    for (size_t calls = 0;; calls++) {
        if (calls > size + 2)
            abort(); /* every row takes at least one byte */
        struct kpi_ingest_row row;
        int r = kpi_json_points_next(p, &row, rep);
        if (r < 0)
            abort();
        for (; seen < rep->n_errors && seen < KPI_INGEST_ERRORS_KEPT; seen++) {
            put_u64(log, rep->errors[seen].line);
            put(log, rep->errors[seen].msg, strlen(rep->errors[seen].msg) + 1);
        }
        if (r == 0)
            break;
        if (row.columns || !row.has_number || row.n_dims > KPI_DIMS_MAX || row.line == 0 || row.value || row.value_len)
            abort();
        for (size_t i = 0; i < KPI_DIMS_MAX; i++)
            if (row.dim_columns[i] != 0)
                abort();
        check_terminated(&row);
        put_u64(log, row.line);
        put_u64(log, row.offset);
        put_u64(log, row.kpi_len);
        put(log, row.kpi, row.kpi_len);
        put_u64(log, row.at_len);
        put(log, row.at, row.at_len);
        put(log, &row.number, sizeof(row.number));
        for (size_t i = 0; i < row.n_dims; i++) {
            if (!kpi_dim_key_valid(row.dims[i].key, row.dims[i].key_len))
                abort();
            put(log, row.dims[i].key, row.dims[i].key_len + 1);
            put_u64(log, row.dims[i].value_len);
            put(log, row.dims[i].value, row.dims[i].value_len);
        }
        if (check)
            check_round_trip(&row);
    }
    put_u64(log, rep->n_errors);
    put_u64(log, rep->rows);
    if (kpi_json_points_offset(p) > size)
        abort();
    if (!fast && kpi_json_points_fast_items(p) != 0)
        abort();
    free(rep);
    kpi_json_points_free(p);
}

static void require_same(const struct kpi_buf *a, const struct kpi_buf *b)
{
    if (a->len != b->len || (a->len && memcmp(a->data, b->data, a->len) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    struct kpi_buf whole, chunked, jansson, fixed, fixed_jansson;
    kpi_buf_init(&whole, SIZE_MAX / 2);
    kpi_buf_init(&chunked, SIZE_MAX / 2);
    kpi_buf_init(&jansson, SIZE_MAX / 2);
    kpi_buf_init(&fixed, SIZE_MAX / 2);
    kpi_buf_init(&fixed_jansson, SIZE_MAX / 2);
    read_all(data, size, 0, NULL, true, &whole, true);
    read_all(data, size, h | 1, NULL, true, &chunked, false);
    require_same(&whole, &chunked);
    read_all(data, size, 0, NULL, false, &jansson, false);
    require_same(&whole, &jansson);
    read_all(data, size, 0, "mrr", true, &fixed, false);
    read_all(data, size, h | 1, "mrr", false, &fixed_jansson, false);
    require_same(&fixed, &fixed_jansson);
    kpi_buf_free(&whole);
    kpi_buf_free(&chunked);
    kpi_buf_free(&jansson);
    kpi_buf_free(&fixed);
    kpi_buf_free(&fixed_jansson);
    return 0;
}
