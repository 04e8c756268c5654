/*
 * A small open-addressing hash map from byte strings to int64 values, with a maximum entry count
 * (inserting past it fails with -E2BIG), used as a lookup cache on hot paths (KPI keys and dims
 * during an import).
 */
#ifndef KPI_BASE_STRMAP_H
#define KPI_BASE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct kpi_strmap_entry {
    char *key;
    size_t len;
    uint64_t hash;
    int64_t value;
};

struct kpi_strmap {
    struct kpi_strmap_entry *slots;
    size_t cap; /* power of two */
    size_t n;
    size_t max;
};

void kpi_strmap_init(struct kpi_strmap *m, size_t max_entries);
void kpi_strmap_free(struct kpi_strmap *m);
/* Returns 1 and the value when found, 0 when not. */
int kpi_strmap_get(const struct kpi_strmap *m, const char *key, size_t len, int64_t *ret_value);
int kpi_strmap_put(struct kpi_strmap *m, const char *key, size_t len, int64_t value);

#endif
