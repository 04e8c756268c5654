/*
 * Diagnostics: bounded one-line error messages that library code hands back to its caller.
 * Messages are truncated, never overflowed; a NULL diag is allowed everywhere.
 */
#include "kpi/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int kpi_diag_set(struct kpi_diag *diag, int code, const char *fmt, ...)
{
    if (diag) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(diag->msg, sizeof(diag->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

void kpi_diag_prefix(struct kpi_diag *diag, const char *fmt, ...)
{
    if (!diag)
        return;
    char prefix[KPI_DIAG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    size_t plen = strlen(prefix), mlen = strlen(diag->msg);
    if (plen >= sizeof(diag->msg) - 1)
        plen = sizeof(diag->msg) - 1;
    if (plen + mlen >= sizeof(diag->msg))
        mlen = sizeof(diag->msg) - 1 - plen;
    memmove(diag->msg + plen, diag->msg, mlen);
    memcpy(diag->msg, prefix, plen);
    diag->msg[plen + mlen] = '\0';
}

const char *kpi_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
    case -ENOMEM:
        return "out of memory";
    case -EINVAL:
        return "invalid argument";
    case -ENOENT:
        return "not found";
    case -EEXIST:
        return "already exists";
    case -ERANGE:
        return "out of range";
    case -E2BIG:
        return "too large";
    case -EIO:
        return "input/output error";
    case -EBUSY:
        return "database is busy";
    case -EPROTO:
        return "database schema is newer than this binary";
    case -ELOOP:
        return "cycle detected";
    case -EACCES:
        return "permission denied";
    default:
        return "unexpected error";
    }
}
