/*
 * Values for people: a KPI value printed with its format (number, percent, currency, duration),
 * decimals and unit, with thousands separators. Used by the terminal output and later the
 * dashboard's server-side texts (insights, alerts). Machines get raw numbers from --json instead.
 */
#ifndef KPI_FORMAT_H
#define KPI_FORMAT_H

#include <stddef.h>

#include "kpi/model.h"

/* "1,234.50", "12.5%", "$1,234", "1,234 EUR", "3h 05m". buf should hold at least 64 bytes. */
void kpi_value_format(const struct kpi_def *d, double v, char *buf, size_t size);

#endif
