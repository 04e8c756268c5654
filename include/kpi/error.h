/*
 * Error conventions shared by every kpi module.
 *
 * Functions return 0 (or a non-negative count) on success and a negative errno-style code on
 * failure, as systemd does. When the caller needs to tell a person *what* and *where*, it passes a
 * struct kpi_diag that the failing function fills with a one-line message ("owner: must be at most
 * 200 bytes"). Library code never prints: the diagnostic travels back to the caller, who decides.
 */
#ifndef KPI_ERROR_H
#define KPI_ERROR_H

#include <errno.h>
#include <stddef.h>

#define KPI_DIAG_MAX 512

struct kpi_diag {
    char msg[KPI_DIAG_MAX];
};

/* Writes a formatted message into diag (if not NULL) and returns code, so callers can write
 * `return kpi_diag_set(diag, -EINVAL, "key: ...");`. */
int kpi_diag_set(struct kpi_diag *diag, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes an existing diagnostic, e.g. "line 12: " + "value: not a number". */
void kpi_diag_prefix(struct kpi_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A short human description of a negative code (never NULL). */
const char *kpi_strerror(int code);

#endif
