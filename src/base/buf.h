/*
 * A growable byte buffer with a hard maximum size, after curl's dynbuf: every buffer is created
 * with the most it may ever hold, an append past it fails with -E2BIG and frees the contents, so
 * no client-controlled input can grow memory without bound. The contents are always
 * NUL-terminated so they can be used as a C string.
 */
#ifndef KPI_BASE_BUF_H
#define KPI_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct kpi_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void kpi_buf_init(struct kpi_buf *b, size_t max);
void kpi_buf_free(struct kpi_buf *b);
void kpi_buf_reset(struct kpi_buf *b);
int kpi_buf_add(struct kpi_buf *b, const void *data, size_t len);
int kpi_buf_addc(struct kpi_buf *b, char c);
int kpi_buf_adds(struct kpi_buf *b, const char *s);
int kpi_buf_printf(struct kpi_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kpi_buf_vprintf(struct kpi_buf *b, const char *fmt, va_list ap);
/* Hands the contents to the caller (who frees them) and leaves the buffer empty. */
char *kpi_buf_take(struct kpi_buf *b);
static inline const char *kpi_buf_str(const struct kpi_buf *b)
{
    return b->data ? b->data : "";
}

#endif
