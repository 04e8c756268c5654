/*
 * The response cache of expensive reads (scorecard, series, status, forecasts): whole response
 * bodies with their ETag, keyed by route, path, query and day, valid for one write generation.
 * A write bumps the server's generation, which makes every older entry stale at once without
 * touching the cache. Bounded by total bytes; when full, the table is simply emptied (the next
 * reads refill it), which keeps the code small and the worst case predictable. Entries are
 * reference-counted so that a hit is sent straight from the cache's memory, without a copy, even
 * if the entry is dropped while the response is still being written.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api/server.h"

struct entry {
    atomic_uint refs; /* the table's reference plus one per response being sent */
    struct entry *next;
    char *key;
    uint64_t gen;
    char etag[64];
    char *body;
    size_t len;
    const char *content_type;
};

#define BUCKETS 1024

struct api_cache {
    pthread_mutex_t lock;
    struct entry *buckets[BUCKETS];
    size_t bytes, max_bytes;
};

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct api_cache *api_cache_new(size_t max_bytes)
{
    struct api_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->max_bytes = max_bytes;
    return c;
}

static void entry_free(struct entry *e)
{
    free(e->key);
    free(e->body);
    free(e);
}

void api_cache_release(void *entry)
{
    struct entry *e = entry;
    if (e && atomic_fetch_sub(&e->refs, 1) == 1)
        entry_free(e);
}

static void clear_locked(struct api_cache *c)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        struct entry *e = c->buckets[i];
        while (e) {
            struct entry *next = e->next;
            api_cache_release(e);
            e = next;
        }
        c->buckets[i] = NULL;
    }
    c->bytes = 0;
}

struct api_cache *api_cache_free(struct api_cache *c)
{
    if (!c)
        return NULL;
    clear_locked(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return NULL;
}

bool api_cache_get(struct api_cache *c, const char *key, uint64_t gen, struct api_response *res)
{
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    for (struct entry *e = c->buckets[hash_key(key) % BUCKETS]; e; e = e->next) {
        if (strcmp(e->key, key) != 0)
            continue;
        if (e->gen == gen) {
            atomic_fetch_add(&e->refs, 1);
            res->shared = e;
            res->shared_data = e->body;
            res->shared_len = e->len;
            res->status = 200;
            res->content_type = e->content_type;
            memcpy(res->etag, e->etag, sizeof(res->etag));
            hit = true;
        }
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void api_cache_put(struct api_cache *c, const char *key, uint64_t gen, const struct api_response *res)
{
    size_t need = res->body.len + strlen(key) + sizeof(struct entry);
    if (need > c->max_bytes / 4)
        return;
    struct entry *n = calloc(1, sizeof(*n));
    char *k = strdup(key);
    char *body = malloc(res->body.len + 1);
    if (!n || !k || !body) {
        free(n);
        free(k);
        free(body);
        return;
    }
    memcpy(body, res->body.data ? res->body.data : "", res->body.len);
    body[res->body.len] = '\0';
    atomic_init(&n->refs, 1);
    n->key = k;
    n->gen = gen;
    n->body = body;
    n->len = res->body.len;
    n->content_type = res->content_type;
    memcpy(n->etag, res->etag, sizeof(n->etag));

    pthread_mutex_lock(&c->lock);
    if (c->bytes + need > c->max_bytes)
        clear_locked(c);
    struct entry **slot = &c->buckets[hash_key(key) % BUCKETS];
    for (struct entry **p = slot; *p; p = &(*p)->next) {
        if (strcmp((*p)->key, key) == 0) {
            struct entry *old = *p;
            *p = old->next;
            c->bytes -= old->len + strlen(old->key) + sizeof(struct entry);
            api_cache_release(old);
            break;
        }
    }
    n->next = *slot;
    *slot = n;
    c->bytes += need;
    pthread_mutex_unlock(&c->lock);
}
