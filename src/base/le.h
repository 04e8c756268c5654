/*
 * Little-endian 64-bit integers in byte buffers: the on-disk encoding of point records (chunks,
 * tails and the stage), the same on every machine whatever its byte order.
 */
#ifndef KPI_BASE_LE_H
#define KPI_BASE_LE_H

#include <stdint.h>

static inline void kpi_le64_put(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t kpi_le64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

#endif
