/*
 * String-keyed hash map (see strmap.h): FNV-1a hashing, linear probing, load factor at most 1/2.
 */
#include "base/strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

void kpi_strmap_init(struct kpi_strmap *m, size_t max_entries)
{
    m->slots = NULL;
    m->cap = 0;
    m->n = 0;
    m->max = max_entries;
}

void kpi_strmap_free(struct kpi_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->n = 0;
}

static struct kpi_strmap_entry *find(const struct kpi_strmap *m, const char *key, size_t len, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct kpi_strmap_entry *e = &m->slots[i];
        if (!e->key || (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0))
            return e;
    }
}

int kpi_strmap_get(const struct kpi_strmap *m, const char *key, size_t len, int64_t *ret_value)
{
    if (m->n == 0)
        return 0;
    struct kpi_strmap_entry *e = find(m, key, len, hash_bytes(key, len));
    if (!e->key)
        return 0;
    *ret_value = e->value;
    return 1;
}

static int grow(struct kpi_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct kpi_strmap_entry *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    struct kpi_strmap old = *m;
    m->slots = slots;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            *find(m, old.slots[i].key, old.slots[i].len, old.slots[i].hash) = old.slots[i];
    free(old.slots);
    return 0;
}

int kpi_strmap_put(struct kpi_strmap *m, const char *key, size_t len, int64_t value)
{
    if ((m->n + 1) * 2 > m->cap) {
        int r = grow(m);
        if (r < 0)
            return r;
    }
    uint64_t h = hash_bytes(key, len);
    struct kpi_strmap_entry *e = find(m, key, len, h);
    if (e->key) {
        e->value = value;
        return 0;
    }
    if (m->n >= m->max)
        return -E2BIG;
    e->key = malloc(len + 1);
    if (!e->key)
        return -ENOMEM;
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->len = len;
    e->hash = h;
    e->value = value;
    m->n++;
    return 0;
}
