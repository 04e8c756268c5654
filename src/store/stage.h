/*
 * The stage: where the server puts the points of the batches it acknowledges, before they join
 * their series.
 *
 * Writing a batch straight into its series costs a read and a rewrite of the tail (and often the
 * last chunk) of every series it touches: a collector's batch holds a few points of each of
 * thousands of series, so that is a page or more written per point. Instead the batch is appended
 * as one row (table `stage`, its points packed in one blob, a few dozen bytes each), in the same
 * transaction that makes it durable; later the stage is folded into the series, many batches at
 * once, so each series is rewritten once per fold instead of once per batch.
 *
 * Staged points are durable but not yet visible to point reads (scans, counts, spans). Whoever
 * stages must fold before reading: the server folds before every request that is not an
 * ingestion, when many points are staged, when ingestion pauses, and when it stops; opening a
 * store folds whatever a crashed or running server left, so every other process sees every
 * acknowledged point.
 */
#ifndef KPI_STORE_STAGE_H
#define KPI_STORE_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* A staged point: 33 bytes on disk, little-endian (kpi id, dims id, at ms, value bits, flags). */
struct kpi_stage_point {
    int64_t kpi_id;
    int64_t dims_id;
    int64_t at_ms;
    double value;
    int flags;
};
#define KPI_STAGE_RECORD 33
/* A fold works through the stage this many points at a time (its memory bound). */
#define KPI_STAGE_FOLD_SLICE 262144

/* Appends a batch as one row of the stage, in the caller's write transaction. A later batch's
 * point replaces an earlier one's at the same instant; within a batch the caller keeps one point
 * per series and instant. */
int kpi_stage_put(struct kpi_store *s, const struct kpi_stage_point *pts, size_t n);

/* Merges every staged point into its series and empties the stage, in one write transaction of its
 * own (all or nothing). When the stage is empty it costs one count query and takes no lock.
 * *ret_points (may be NULL): the points merged. */
int kpi_stage_fold(struct kpi_store *s, uint64_t *ret_points);

#endif
