/*
 * Files embedded in the binary at build time by scripts/embed.py (SQL migrations, web assets).
 */
#ifndef KPI_BASE_EMBED_H
#define KPI_BASE_EMBED_H

#include <stddef.h>

struct kpi_embedded {
    const char *name;
    const unsigned char *data; /* NUL-terminated */
    size_t size;
};

#endif
