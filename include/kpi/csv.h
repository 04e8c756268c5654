/*
 * A streaming RFC 4180 CSV reader.
 *
 * Reads through a caller-supplied read function (so it does no I/O of its own and can be fed from a
 * file, a pipe or memory) into one bounded internal buffer: memory stays constant whatever the
 * input size. Quoted fields may hold commas, quotes ("" escapes one) and line breaks; lines end in
 * LF or CRLF; a UTF-8 byte-order mark at the start is skipped. Every syntax error carries the line
 * and column where it was found.
 *
 * Details:
 * - A CR outside quotes must be followed by LF: a lone CR (old Mac line ends, stray bytes) is a
 *   syntax error rather than data, so such a file fails on its first line instead of being read as
 *   one huge record. Inside quotes CR and LF are data, kept byte for byte.
 * - An empty line is a record of one empty field (callers skip it); a last line without a line
 *   feed is a record; empty input has no records.
 * - Lines are physical lines, 1-based: a line break inside a quoted field starts a new line.
 *   Columns are 1-based field indices ("column 3" is the third field), in every message.
 * - Errors: "quote inside an unquoted field", "text after a closing quote", "carriage return not
 *   followed by a line feed", "quote opened here is never closed" (naming the line and column of
 *   the opening quote), "field longer than N bytes" (naming the line where the field starts) and
 *   "more than N fields".
 */
#ifndef KPI_CSV_H
#define KPI_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kpi/error.h"

#define KPI_CSV_FIELD_MAX_DEFAULT 4096
#define KPI_CSV_FIELDS_MAX_DEFAULT 64

/* Returns the number of bytes read into buf (0 at end of input) or a negative code. */
typedef ssize_t (*kpi_csv_read_fn)(void *ctx, char *buf, size_t size);

struct kpi_csv;

struct kpi_csv_field {
    const char *data; /* not NUL-terminated; valid until the next kpi_csv_next call */
    size_t len;
};

/* max_field: longest field in bytes (after unescaping); max_fields: most fields in one record;
 * 0 selects the _DEFAULT above. The buffer grows to 256 KiB as input comes in, and beyond that only
 * for a single record longer than that, up to about 2 * max_field * max_fields bytes. */
int kpi_csv_new(kpi_csv_read_fn read, void *ctx, size_t max_field, size_t max_fields, struct kpi_csv **ret_csv);
struct kpi_csv *kpi_csv_free(struct kpi_csv *c);

/* Reads the next record. Returns 1 with the fields, 0 at end of input, or a negative code with diag
 * set to "line L, column C: reason" (-EINVAL syntax, -E2BIG limits, or the read function's code).
 * After an error the reader is positioned at the start of the next line so that a caller can go on
 * and report further errors; a second error in a row on the same unterminated quote ends input.
 * For a quote still open at the end of input, "the next line" is the line after the one where the
 * quote opened: the rest of the input is read again as records. */
int kpi_csv_next(struct kpi_csv *c, const struct kpi_csv_field **ret_fields, size_t *ret_n, struct kpi_diag *diag);

/* 1-based line on which the record last returned starts. */
uint64_t kpi_csv_line(const struct kpi_csv *c);
/* Total bytes consumed so far (for progress reporting): the input offset of the next unread byte,
 * counting a skipped byte-order mark. */
uint64_t kpi_csv_offset(const struct kpi_csv *c);

/* Appends field to out (a kpi_buf), quoting it when it holds ',', '"', CR or LF (doubling each
 * quote), and when it starts with a UTF-8 byte-order mark, which a reader would otherwise skip at
 * the start of a file. An empty field is written as nothing. */
struct kpi_buf;
int kpi_csv_write_field(struct kpi_buf *out, const char *s, size_t len);

#endif
