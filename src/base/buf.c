/*
 * Bounded growable buffer (see buf.h). Growth doubles the allocation, capped at the maximum.
 */
#include "base/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kpi_buf_init(struct kpi_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void kpi_buf_free(struct kpi_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void kpi_buf_reset(struct kpi_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int buf_reserve(struct kpi_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) {
        kpi_buf_free(b);
        return -E2BIG;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p) {
        kpi_buf_free(b);
        return -ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int kpi_buf_add(struct kpi_buf *b, const void *data, size_t len)
{
    int r = buf_reserve(b, len);
    if (r < 0)
        return r;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int kpi_buf_addc(struct kpi_buf *b, char c)
{
    return kpi_buf_add(b, &c, 1);
}

int kpi_buf_adds(struct kpi_buf *b, const char *s)
{
    return kpi_buf_add(b, s, strlen(s));
}

int kpi_buf_vprintf(struct kpi_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return -EINVAL;
    int r = buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int kpi_buf_printf(struct kpi_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = kpi_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

char *kpi_buf_take(struct kpi_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
