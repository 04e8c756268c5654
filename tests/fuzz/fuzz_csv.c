/*
 * libFuzzer target for the CSV reader: reads the input to the end twice, in small chunks whose
 * sizes derive from the data and in one piece, and requires the same records and errors both ways;
 * then writes every record back with kpi_csv_write_field, re-reads that text and requires the same
 * fields. Limits are small for some inputs so that the limit errors are exercised too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "kpi/csv.h"

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

static void put_u64(struct kpi_buf *b, uint64_t v)
{
    if (kpi_buf_add(b, &v, sizeof(v)) < 0)
        abort();
}

/* Reads everything into a transcript: per call the result code, the line, and either the fields
 * (count, then length and bytes each) or the message. With text set, also writes each record back. */
static void read_all(const uint8_t *data, size_t size, uint32_t rng, size_t max_field, size_t max_fields, struct kpi_buf *log,
                     struct kpi_buf *text)
{
    struct mem_reader m = {data, size, 0, rng};
    struct kpi_csv *c;
    if (kpi_csv_new(mem_read, &m, max_field, max_fields, &c) < 0)
        abort();
    for (size_t calls = 0;; calls++) {
        if (calls > 2 * size + 4)
            abort(); /* every call after the first error consumes input */
        const struct kpi_csv_field *f;
        size_t n;
        struct kpi_diag diag = {""};
        int r = kpi_csv_next(c, &f, &n, &diag);
        if (r == 0)
            break;
        put_u64(log, (uint64_t)(int64_t)r);
        if (r < 0) {
            if (r != -EINVAL && r != -E2BIG)
                abort();
            if (strncmp(diag.msg, "line ", 5) != 0)
                abort();
            if (kpi_buf_adds(log, diag.msg) < 0 || kpi_buf_addc(log, '\0') < 0)
                abort();
            continue;
        }
        if (n == 0 || n > max_fields || kpi_csv_line(c) == 0)
            abort();
        put_u64(log, kpi_csv_line(c));
        put_u64(log, n);
        for (size_t i = 0; i < n; i++) {
            if (f[i].len > max_field)
                abort();
            put_u64(log, f[i].len);
            if (kpi_buf_add(log, f[i].data, f[i].len) < 0)
                abort();
            if (text) {
                if (i && kpi_buf_addc(text, ',') < 0)
                    abort();
                if (kpi_csv_write_field(text, f[i].data, f[i].len) < 0)
                    abort();
            }
        }
        if (text && kpi_buf_addc(text, '\n') < 0)
            abort();
    }
    if (kpi_csv_offset(c) != size)
        abort();
    kpi_csv_free(c);
}

/* The records of a transcript alone (no errors, no line numbers); returns the number of errors. */
static size_t records_only(const struct kpi_buf *log, struct kpi_buf *out)
{
    size_t errors = 0;
    if (log->len == 0)
        return 0;
    const char *p = log->data;
    const char *end = log->data + log->len;
    while (p < end) {
        int64_t r;
        memcpy(&r, p, sizeof(r));
        p += sizeof(r);
        if (r < 0) {
            p += strlen(p) + 1;
            errors++;
            continue;
        }
        uint64_t n;
        p += sizeof(uint64_t); /* line */
        memcpy(&n, p, sizeof(n));
        const char *start = p;
        p += sizeof(n);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t len;
            memcpy(&len, p, sizeof(len));
            p += sizeof(len) + len;
        }
        if (kpi_buf_add(out, start, (size_t)(p - start)) < 0)
            abort();
    }
    return errors;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    size_t max_field = h & 1 ? 8 : KPI_CSV_FIELD_MAX_DEFAULT;
    size_t max_fields = h & 2 ? 3 : KPI_CSV_FIELDS_MAX_DEFAULT;

    struct kpi_buf chunked, whole, text, again, want, got;
    kpi_buf_init(&chunked, SIZE_MAX / 2);
    kpi_buf_init(&whole, SIZE_MAX / 2);
    kpi_buf_init(&text, SIZE_MAX / 2);
    kpi_buf_init(&again, SIZE_MAX / 2);
    kpi_buf_init(&want, SIZE_MAX / 2);
    kpi_buf_init(&got, SIZE_MAX / 2);

    read_all(data, size, h | 1, max_field, max_fields, &chunked, &text);
    read_all(data, size, 0, max_field, max_fields, &whole, NULL);
    if (chunked.len != whole.len || (chunked.len && memcmp(chunked.data, whole.data, chunked.len) != 0))
        abort();

    /* Written back, the records read the same and without errors. */
    read_all((const uint8_t *)text.data, text.len, h | 1, max_field, max_fields, &again, NULL);
    records_only(&chunked, &want);
    if (records_only(&again, &got) != 0)
        abort();
    if (want.len != got.len || (want.len && memcmp(want.data, got.data, want.len) != 0))
        abort();

    kpi_buf_free(&chunked);
    kpi_buf_free(&whole);
    kpi_buf_free(&text);
    kpi_buf_free(&again);
    kpi_buf_free(&want);
    kpi_buf_free(&got);
    return 0;
}
