/*
 * Locale-independent number parsing and printing, and small string helpers. kpi never calls
 * setlocale(LC_NUMERIC), but these functions do not depend on that: a decimal point is always '.'.
 */
#ifndef KPI_BASE_STR_H
#define KPI_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses a finite decimal number occupying exactly s[0..len). Accepts an optional sign, digits
 * with an optional fraction and exponent. Rejects empty input, spaces, inf/nan, hex, and values
 * that overflow a double. Returns 0 or -EINVAL / -ERANGE. */
int kpi_parse_double(const char *s, size_t len, double *ret_value);

/* Parses a decimal integer in [min, max] occupying exactly s[0..len). */
int kpi_parse_int64(const char *s, size_t len, int64_t min, int64_t max, int64_t *ret_value);

/* Shortest "%.*g" text that reads back as the same double (at most 17 significant digits).
 * Always uses '.', never exponent-less garbage; buf must hold at least 32 bytes. */
void kpi_format_double(double v, char *buf, size_t size);

/* strdup that returns NULL for NULL. */
char *kpi_strdup_or_null(const char *s);

/* Copies src into dst (size bytes), truncating; always NUL-terminates. Returns -E2BIG if truncated. */
int kpi_strlcpy(char *dst, const char *src, size_t size);

bool kpi_streq(const char *a, const char *b); /* NULL-safe */

/* True when s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
bool kpi_utf8_valid(const char *s, size_t len);

#endif
