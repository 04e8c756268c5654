/*
 * Ingestion: turning points given as text (a CSV file, a JSON array, a `kpi push`) into stored
 * points, with the all-or-nothing rule of DESIGN.md: the whole input is validated, every bad row is
 * reported (where, field, reason), and if any row is bad nothing is written. Backend-independent: it
 * speaks only the storage interface, so the HTTP API reuses it for its batches.
 *
 * The core works on a format-neutral row pulled from a source (kpi_ingest_next_fn): the CSV source
 * lives here, the JSON one in json/points.c. A source reports its own syntax errors into the report
 * and goes on when it can; the core checks what every format shares (the KPI exists and takes
 * points, `at` is a date or instant, the value is a finite number, dims are valid), batches the
 * valid rows by series and writes them in one transaction.
 */
#ifndef KPI_STORE_INGEST_H
#define KPI_STORE_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "kpi/csv.h"
#include "kpi/dims.h"
#include "kpi/time.h"
#include "store/store.h"

#define KPI_INGEST_ERRORS_KEPT 50

struct kpi_ingest_error {
    uint64_t line; /* CSV: 1-based line; JSON: 1-based item index; 0 when no row applies */
    char msg[240];
};

struct kpi_ingest_report {
    uint64_t rows;    /* data rows or items read, good or bad (blank lines excluded) */
    uint64_t written; /* points written (0 when rejected) */
    uint64_t n_errors;
    struct kpi_ingest_error errors[KPI_INGEST_ERRORS_KEPT]; /* the first ones */
};

typedef void (*kpi_ingest_progress_fn)(void *ctx, uint64_t bytes, uint64_t rows);

/* One point as a source hands it over. Pointers are into the source's memory, valid until its next
 * call. Field names in messages: with `columns` set, CSV columns ("column 3 (value)", dims[i] in
 * column dim_columns[i]); otherwise JSON fields ("value", "dims.region"). */
struct kpi_ingest_row {
    uint64_t line;   /* where the row is, as kpi_ingest_error.line */
    uint64_t offset; /* input bytes consumed once this row was read (for progress) */
    bool columns;
    int no_kpi_column; /* 1 when the CSV has no kpi column (a route's fixed KPI): shifts column numbers */
    const char *kpi;
    size_t kpi_len;
    const char *at;
    size_t at_len;
    bool has_number; /* value already parsed into number (JSON); otherwise value is text (CSV) */
    double number;
    const char *value;
    size_t value_len;
    struct kpi_dim dims[KPI_DIMS_MAX]; /* keys valid and distinct (the source checks); values checked here */
    size_t n_dims;
    uint16_t dim_columns[KPI_DIMS_MAX];
};

/* A source of rows. Returns 1 with *ret_row filled, 0 at the end of input, or a negative code on a
 * failure that ends the import (I/O, memory). Rows the source rejects itself (syntax, shape) are
 * added to rep with kpi_ingest_report_error and counted in rep->rows; the source then goes on
 * with the next row when the input allows it, else ends. */
typedef int (*kpi_ingest_next_fn)(void *ctx, struct kpi_ingest_row *ret_row, struct kpi_ingest_report *rep);

/* Adds an error to the report: kept among the first KPI_INGEST_ERRORS_KEPT, always counted. */
void kpi_ingest_report_error(struct kpi_ingest_report *rep, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Imports the rows of a source. Returns 0 when every row was written, -EINVAL when rows were
 * rejected (see report; nothing written), or another negative code on a source, I/O or database
 * failure (diag says what; nothing written). */
int kpi_ingest_rows(struct kpi_store *s, const struct kpi_calendar *cal, kpi_ingest_next_fn next, void *ctx,
                    kpi_ingest_progress_fn progress, void *progress_ctx, struct kpi_ingest_report *ret_report,
                    struct kpi_diag *diag);

/* Imports CSV with the header `kpi,at,value[,dim...]`. Returns 0 when every row was written, -EINVAL
 * when rows were rejected (see report; nothing written), or another negative code on I/O or
 * database failure (diag says what). */
int kpi_ingest_csv(struct kpi_store *s, const struct kpi_calendar *cal, kpi_csv_read_fn read, void *read_ctx,
                   kpi_ingest_progress_fn progress, void *progress_ctx, struct kpi_ingest_report *ret_report,
                   struct kpi_diag *diag);

/* The CSV source on its own, for callers that drive kpi_ingest_rows or kpi_ingest_rows_locked
 * themselves. With fixed_kpi, the header is `at,value[,dim...]` and every row belongs to that KPI.
 * kpi_ingest_csv_next is its kpi_ingest_next_fn; kpi_ingest_csv_source_error says why a source
 * failure ended the input. */
struct kpi_ingest_csv_source;
int kpi_ingest_csv_source_new(kpi_csv_read_fn read, void *read_ctx, const char *fixed_kpi, struct kpi_ingest_csv_source **ret_src);
struct kpi_ingest_csv_source *kpi_ingest_csv_source_free(struct kpi_ingest_csv_source *src);
int kpi_ingest_csv_next(void *src, struct kpi_ingest_row *ret_row, struct kpi_ingest_report *rep);
const char *kpi_ingest_csv_source_error(const struct kpi_ingest_csv_source *src);

/* Serialises writers that share one database (the HTTP server's write lock). With stage, batches
 * go to the stage (store/stage.h): the caller then folds it before reading points. */
struct kpi_ingest_lock {
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    void *ctx;
    bool stage;
};

/* A bounded batch, for servers: every row is read and validated first, without a transaction or
 * the lock (so concurrent batches are parsed in parallel), keeping at most max_rows rows in memory
 * (-E2BIG past it, nothing written); then, only if every row is good, the lock is taken and the
 * rows are written in one transaction. Returns as kpi_ingest_rows. */
int kpi_ingest_rows_locked(struct kpi_store *s, const struct kpi_calendar *cal, kpi_ingest_next_fn next, void *ctx, size_t max_rows,
                           const struct kpi_ingest_lock *lock, struct kpi_ingest_report *ret_report, struct kpi_diag *diag);

/* Writes one point (idempotent on kpi, dims, at). dims may be reordered. */
int kpi_ingest_point(struct kpi_store *s, const struct kpi_calendar *cal, const char *key, double value, const struct kpi_at *at,
                     struct kpi_dim *dims, size_t n_dims, struct kpi_diag *diag);

/* The instant and flags under which `at` is stored. */
void kpi_ingest_at_instant(const struct kpi_calendar *cal, const struct kpi_at *at, int64_t *ret_ms, int *ret_flags);

#endif
