/*
 * Point chunk encoding and merging (see chunk.h).
 */
#include "store/chunk.h"

#include <errno.h>
#include <string.h>

#include "base/le.h"

void kpi_chunk_encode(const struct kpi_point_write *pts, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++, out += KPI_CHUNK_RECORD) {
        uint64_t bits;
        memcpy(&bits, &pts[i].value, sizeof(bits));
        kpi_le64_put(out, (uint64_t)pts[i].at_ms);
        kpi_le64_put(out + 8, bits);
        out[16] = (uint8_t)pts[i].flags;
    }
}

int kpi_chunk_decode(const uint8_t *blob, size_t len, struct kpi_point_write *out, size_t max, size_t *ret_n)
{
    if (len % KPI_CHUNK_RECORD != 0 || len / KPI_CHUNK_RECORD > max)
        return -EINVAL;
    size_t n = len / KPI_CHUNK_RECORD;
    for (size_t i = 0; i < n; i++, blob += KPI_CHUNK_RECORD) {
        uint64_t bits = kpi_le64_get(blob + 8);
        out[i].at_ms = (int64_t)kpi_le64_get(blob);
        memcpy(&out[i].value, &bits, sizeof(bits));
        out[i].flags = blob[16];
    }
    *ret_n = n;
    return 0;
}

size_t kpi_chunk_merge(const struct kpi_point_write *a, size_t na, const struct kpi_point_write *b, size_t nb,
                       struct kpi_point_write *out)
{
    size_t i = 0, j = 0, n = 0;
    while (i < na || j < nb) {
        if (j == nb || (i < na && a[i].at_ms < b[j].at_ms)) {
            out[n++] = a[i++];
        } else {
            if (i < na && a[i].at_ms == b[j].at_ms)
                i++; /* the new point replaces the stored one */
            out[n++] = b[j++];
        }
    }
    return n;
}

size_t kpi_chunk_split(size_t n, size_t *starts)
{
    if (n <= KPI_CHUNK_MAX) {
        starts[0] = 0;
        return 1;
    }
    size_t pieces = n / KPI_CHUNK_TARGET;
    /* A remainder of at least half a chunk gets a piece of its own; a smaller one joins the last. */
    if (n % KPI_CHUNK_TARGET >= KPI_CHUNK_TARGET / 2)
        pieces++;
    for (size_t p = 0; p < pieces; p++)
        starts[p] = p * KPI_CHUNK_TARGET;
    return pieces;
}
