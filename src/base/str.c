/*
 * Number parsing and printing that ignore the process locale, plus tiny string helpers.
 *
 * kpi_parse_double has an exact fast path for the common "123.45" shape (at most 15 significant
 * digits and 22 fraction digits: the mantissa and the power of ten are both exact doubles, so one
 * division is correctly rounded, Clinger's observation) and falls back to strtod_l in the "C"
 * locale for everything else. The fast path matters: CSV import parses millions of values.
 */
#include "base/str.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Validates the grammar [+-]?digits[.digits]?([eE][+-]?digits)? and reports whether the fast path
 * applies. Returns false on a syntax error. */
static bool scan_number(const char *s, size_t len, bool *ret_fast, double *ret_fast_value)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    uint64_t mant = 0;
    int sig = 0, frac = 0, digits = 0;
    bool overflow = false;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (mant || s[i] != '0')
            sig++;
        if (sig > 15)
            overflow = true;
        else
            mant = mant * 10 + (uint64_t)(s[i] - '0');
        digits++;
        i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (mant || s[i] != '0')
                sig++;
            if (sig > 15)
                overflow = true;
            else {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                frac++;
            }
            digits++;
            i++;
        }
    }
    if (digits == 0)
        return false;
    bool has_exp = false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        has_exp = true;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i != len)
        return false;
    *ret_fast = !overflow && !has_exp && frac <= 22;
    if (*ret_fast) {
        double v = (double)mant / pow10_exact[frac];
        *ret_fast_value = neg ? -v : v;
    }
    return true;
}

int kpi_parse_double(const char *s, size_t len, double *ret_value)
{
    if (!s || len == 0 || len > 400)
        return -EINVAL;
    bool fast = false;
    double v = 0;
    if (!scan_number(s, len, &fast, &v))
        return -EINVAL;
    if (!fast) {
        char tmp[401];
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        pthread_once(&c_locale_once, c_locale_init);
        if (!c_locale)
            return -ENOMEM;
        char *end = NULL;
        errno = 0;
        v = strtod_l(tmp, &end, c_locale);
        if (end != tmp + len)
            return -EINVAL;
        if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
            return -ERANGE;
        if (!isfinite(v))
            return -ERANGE;
    }
    if (v == 0)
        v = 0; /* normalise -0 */
    *ret_value = v;
    return 0;
}

int kpi_parse_int64(const char *s, size_t len, int64_t min, int64_t max, int64_t *ret_value)
{
    if (!s || len == 0 || len > 20)
        return -EINVAL;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i++;
    }
    if (i == len)
        return -EINVAL;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    int64_t r;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -ERANGE;
        r = (int64_t)v;
    }
    if (r < min || r > max)
        return -ERANGE;
    *ret_value = r;
    return 0;
}

void kpi_format_double(double v, char *buf, size_t size)
{
    pthread_once(&c_locale_once, c_locale_init);
    if (v == 0)
        v = 0;
    /* %g drops trailing zeros, so 15 digits is already the shortest form for most values. */
    for (int prec = 15; prec <= 17; prec++) {
        /* snprintf's '.' follows LC_NUMERIC, which kpi never changes from "C". */
        snprintf(buf, size, "%.*g", prec, v);
        double back = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
        if (back == v)
            return;
    }
}

char *kpi_strdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int kpi_strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0)
        return -E2BIG;
    size_t n = strlen(src);
    if (n >= size) {
        memcpy(dst, src, size - 1);
        dst[size - 1] = '\0';
        return -E2BIG;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

bool kpi_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool kpi_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned char c = *p;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}
