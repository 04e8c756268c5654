/*
 * Dimensions of a point: optional labels such as {"channel": "paid", "region": "eu"} that allow a
 * segment drill-down. A set of dims has one canonical text form, used as its identity in storage:
 * pairs sorted by key, written "key=value" and separated by the ASCII unit separator (0x1F), which
 * no key or value may contain. The empty set is "".
 *
 * Keys follow the KPI key rule (^[a-z][a-z0-9_]{0,63}$); values are 1..200 bytes of UTF-8 text
 * without control characters.
 */
#ifndef KPI_DIMS_H
#define KPI_DIMS_H

#include <stdbool.h>
#include <stddef.h>

#include "kpi/error.h"

#define KPI_DIMS_MAX 16
#define KPI_DIM_VALUE_MAX 200
#define KPI_DIMS_CANON_MAX (KPI_DIMS_MAX * (64 + 1 + KPI_DIM_VALUE_MAX + 1))
#define KPI_DIMS_SEP '\x1f'

struct kpi_dim {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

bool kpi_dim_key_valid(const char *key, size_t len);
bool kpi_dim_value_valid(const char *value, size_t len);

/* Validates dims and writes their canonical form (NUL-terminated) into out (size >=
 * KPI_DIMS_CANON_MAX + 1). Duplicate keys are an error. The dims array is reordered (sorted). */
int kpi_dims_canon(struct kpi_dim *dims, size_t n, char *out, size_t size, struct kpi_diag *diag);

/* Parses "key=value" (as given on the command line) into d, pointing into s. */
int kpi_dim_parse_arg(const char *s, struct kpi_dim *ret_d, struct kpi_diag *diag);

/* Splits a canonical form back into pairs (pointing into canon). Returns the count or -EINVAL. */
int kpi_dims_split(const char *canon, struct kpi_dim *ret_dims, size_t max);

/* True when every pair of `filter` (a canonical form) is present in `canon`. */
bool kpi_dims_match(const char *canon, const char *filter);

#endif
