/*
 * Point chunks: how the points of one series (a KPI and one set of dims) are laid out on disk.
 *
 * Points are stored in chunks of up to a few hundred points, each chunk a row keyed by
 * (kpi, dims, start) with start = the `at` of its first point, as time-series databases do. Chunks
 * of a series never overlap, so a write finds its chunk with one index probe, and a bulk import
 * writes a row per few hundred points instead of one per point. Pure code: encoding, decoding and
 * the merge that gives new points precedence over stored ones at the same instant.
 *
 * A chunk's blob is n records of 17 bytes, little-endian: at (int64 ms), value (IEEE-754 double),
 * flags (u8).
 */
#ifndef KPI_STORE_CHUNK_H
#define KPI_STORE_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define KPI_CHUNK_RECORD 17
#define KPI_CHUNK_TARGET 256 /* points per chunk when a chunk is split */
#define KPI_CHUNK_MAX 512    /* a chunk that grows past this is split */
/* A series' newest points wait in its tail (table `tail`, same encoding) until there are
 * KPI_TAIL_MAX of them; then all but the newest KPI_TAIL_KEEP join its chunks. Small appends to
 * many series then dirty few pages, and points that arrive a little late (a second client behind
 * the first) still land in the tail instead of rewriting a chunk. */
#define KPI_TAIL_MAX 96
#define KPI_TAIL_KEEP 32

void kpi_chunk_encode(const struct kpi_point_write *pts, size_t n, uint8_t *out);
/* Decodes n = len / KPI_CHUNK_RECORD points; -EINVAL when len is not a multiple of the record. */
int kpi_chunk_decode(const uint8_t *blob, size_t len, struct kpi_point_write *out, size_t max, size_t *ret_n);
/* Merges two runs sorted by at (b's points replace a's at equal instants) into out, which must hold
 * na + nb points; returns the merged count. */
size_t kpi_chunk_merge(const struct kpi_point_write *a, size_t na, const struct kpi_point_write *b, size_t nb,
                       struct kpi_point_write *out);
/* Splits n merged points into pieces of about KPI_CHUNK_TARGET; returns the piece count and writes
 * the index of each piece's first point into starts (capacity n / KPI_CHUNK_TARGET + 1). */
size_t kpi_chunk_split(size_t n, size_t *starts);

#endif
