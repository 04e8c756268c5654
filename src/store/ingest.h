/*
 * Ingestion: turning points given as text (a CSV file, a `kpi push`) into stored points, with the
 * all-or-nothing rule of DESIGN.md: the whole input is validated, every bad row is reported (line,
 * column, reason), and if any row is bad nothing is written. Backend-independent: it speaks only
 * the storage interface, so the HTTP API reuses it for text/csv bodies.
 */
#ifndef KPI_STORE_INGEST_H
#define KPI_STORE_INGEST_H

#include <stdint.h>

#include "kpi/csv.h"
#include "kpi/dims.h"
#include "kpi/time.h"
#include "store/store.h"

#define KPI_INGEST_ERRORS_KEPT 50

struct kpi_ingest_error {
    uint64_t line;
    char msg[240];
};

struct kpi_ingest_report {
    uint64_t rows;    /* data rows read (blank lines excluded) */
    uint64_t written; /* points written (0 when rejected) */
    uint64_t n_errors;
    struct kpi_ingest_error errors[KPI_INGEST_ERRORS_KEPT]; /* the first ones */
};

typedef void (*kpi_ingest_progress_fn)(void *ctx, uint64_t bytes, uint64_t rows);

/* Imports CSV with the header `kpi,at,value[,dim...]`. Returns 0 when every row was written, -EINVAL
 * when rows were rejected (see report; nothing written), or another negative code on I/O or
 * database failure (diag says what). */
int kpi_ingest_csv(struct kpi_store *s, const struct kpi_calendar *cal, kpi_csv_read_fn read, void *read_ctx,
                   kpi_ingest_progress_fn progress, void *progress_ctx, struct kpi_ingest_report *ret_report,
                   struct kpi_diag *diag);

/* Writes one point (idempotent on kpi, dims, at). dims may be reordered. */
int kpi_ingest_point(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, double value, const struct kpi_at *at,
                     struct kpi_dim *dims, size_t n_dims, struct kpi_diag *diag);

/* The instant and flags under which `at` is stored. */
void kpi_ingest_at_instant(const struct kpi_calendar *cal, const struct kpi_at *at, int64_t *ret_ms, int *ret_flags);

#endif
