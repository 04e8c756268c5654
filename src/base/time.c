/*
 * Civil-calendar arithmetic and the text form of a point's `at`.
 *
 * Everything is integer arithmetic on a day count from 1970-01-01 in the proleptic Gregorian
 * calendar (the era-based algorithms of Howard Hinnant's "chrono-Compatible Low-Level Date
 * Algorithms"), so results do not depend on the process time zone, the locale or the C library's
 * notion of time_t. Parsing is strict on purpose: a point's `at` is stored and compared as a number,
 * and a value we would have to guess at (2026-02-30, 23:59:60, microseconds) is rejected instead of
 * being normalised into some other instant.
 */
#include "kpi/time.h"

#include <errno.h>
#include <stdio.h>

#define MS_PER_S INT64_C(1000)
#define S_PER_DAY INT64_C(86400)
/* RFC 3339 allows offsets up to +-23:59. */
#define MAX_OFFSET_S (23 * 3600 + 59 * 60)

int64_t kpi_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    /* C truncates toward zero; step down when the exact quotient was negative and inexact. */
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t kpi_floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0)))
        r += b;
    return r;
}

bool kpi_is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int kpi_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    if (m == 2 && kpi_is_leap_year(y))
        return 29;
    return days[m - 1];
}

int64_t kpi_days_from_civil(int y, int m, int d)
{
    /* Years are counted from March so that the leap day is the last day of a "year"; an era is the
     * 400-year Gregorian cycle of 146097 days. */
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = kpi_floor_div(yy, 400);
    int64_t yoe = yy - era * 400;                        /* [0, 399] */
    int64_t mp = (m + 9) % 12;                           /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return era * 146097 + doe - 719468;                  /* 719468: 0000-03-01 to 1970-01-01 */
}

void kpi_civil_from_days(int64_t days, int *ret_y, int *ret_m, int *ret_d)
{
    /* Saturate some 180 million years out, so that the year always fits an int; no caller that
     * validates its input gets anywhere near. */
    const int64_t limit = INT64_C(1) << 36;
    if (days > limit)
        days = limit;
    if (days < -limit)
        days = -limit;
    int64_t z = days + 719468;
    int64_t era = kpi_floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    *ret_y = (int)y;
    *ret_m = (int)m;
    *ret_d = (int)d;
}

int kpi_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (ISO 4). */
    return (int)kpi_floor_mod(days + 3, 7) + 1;
}

/* Reads exactly n ASCII digits at s; returns -1 if any is not a digit. */
static int read_digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DD" at s (10 bytes available); validates the day against its month. */
static int parse_date10(const char *s, int64_t *ret_day)
{
    if (s[4] != '-' || s[7] != '-')
        return -EINVAL;
    int y = read_digits(s, 4);
    int m = read_digits(s + 5, 2);
    int d = read_digits(s + 8, 2);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > kpi_days_in_month(y, m))
        return -EINVAL;
    *ret_day = kpi_days_from_civil(y, m, d);
    return 0;
}

int kpi_date_parse(const char *s, size_t len, int64_t *ret_day)
{
    int64_t day;
    if (!s || len != 10)
        return -EINVAL;
    int r = parse_date10(s, &day);
    if (r < 0)
        return r;
    *ret_day = day;
    return 0;
}

int kpi_at_parse(const char *s, size_t len, struct kpi_at *ret_at)
{
    int64_t day;
    if (!s || len < 10)
        return -EINVAL;
    int r = parse_date10(s, &day);
    if (r < 0)
        return r;
    if (len == 10) {
        *ret_at = (struct kpi_at){.is_date = true, .day = day};
        return 0;
    }

    /* "THH:MM:SS" follows the date. */
    if (len < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return -EINVAL;
    if (s[13] != ':' || s[16] != ':')
        return -EINVAL;
    int hh = read_digits(s + 11, 2);
    int mi = read_digits(s + 14, 2);
    int ss = read_digits(s + 17, 2);
    /* A leap second (":60") has no POSIX representation; rejecting it beats guessing. */
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59)
        return -EINVAL;

    size_t i = 19;
    int64_t frac_ms = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        size_t n = i - start;
        if (n < 1 || n > 3)
            return -EINVAL;
        frac_ms = read_digits(s + start, n);
        for (size_t k = n; k < 3; k++)
            frac_ms *= 10;
    }

    /* The offset is mandatory: without it the text names no instant (RFC 3339 section 5.6). */
    int64_t offset_s;
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        offset_s = 0;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh = read_digits(s + i + 1, 2);
        int om = read_digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -EINVAL;
        offset_s = (int64_t)oh * 3600 + om * 60;
        if (s[i] == '-')
            offset_s = -offset_s;
    } else {
        return -EINVAL;
    }

    int64_t local_s = day * S_PER_DAY + hh * 3600 + mi * 60 + ss;
    int64_t utc_s = local_s - offset_s;
    /* The offset may move the instant across 0001-01-01 or 9999-12-31; keep the promise that every
     * instant we accept has a UTC date in range (and so formats and parses back). */
    if (utc_s < KPI_DAY_MIN * S_PER_DAY || utc_s >= (KPI_DAY_MAX + 1) * S_PER_DAY)
        return -EINVAL;
    *ret_at = (struct kpi_at){.is_date = false, .ms = utc_s * MS_PER_S + frac_ms};
    return 0;
}

void kpi_date_format(int64_t day, char *buf, size_t size)
{
    int y, m, d;
    kpi_civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

/* Formats the wall-clock time local_ms followed by the zone designator tail. */
static void format_local(int64_t local_ms, const char *tail, char *buf, size_t size)
{
    int64_t day = kpi_floor_div(local_ms, KPI_MS_PER_DAY);
    int64_t ms_of_day = kpi_floor_mod(local_ms, KPI_MS_PER_DAY);
    int y, m, d;
    kpi_civil_from_days(day, &y, &m, &d);
    int hh = (int)(ms_of_day / 3600000);
    int mi = (int)(ms_of_day / 60000 % 60);
    int ss = (int)(ms_of_day / 1000 % 60);
    int ms = (int)(ms_of_day % 1000);
    if (ms != 0)
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", y, m, d, hh, mi, ss, ms, tail);
    else
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%s", y, m, d, hh, mi, ss, tail);
}

void kpi_instant_format(int64_t ms, char *buf, size_t size)
{
    format_local(ms, "Z", buf, size);
}

void kpi_instant_format_offset(int64_t ms, int32_t offset_s, char *buf, size_t size)
{
    /* RFC 3339 offsets have whole minutes. Historical offsets with seconds (local mean time) are
     * rounded to the nearest minute, and the wall-clock part is printed with that same rounded
     * offset, so the text still names exactly the instant ms. */
    int64_t off = kpi_floor_div((int64_t)offset_s + 30, 60) * 60;
    if (off > MAX_OFFSET_S)
        off = MAX_OFFSET_S;
    if (off < -MAX_OFFSET_S)
        off = -MAX_OFFSET_S;
    int64_t abs_off = off < 0 ? -off : off;
    char tail[8];
    snprintf(tail, sizeof(tail), "%c%02d:%02d", off < 0 ? '-' : '+', (int)(abs_off / 3600), (int)(abs_off / 60 % 60));
    int64_t local_ms;
    if (__builtin_add_overflow(ms, off * MS_PER_S, &local_ms))
        local_ms = ms; /* only for instants near the ends of int64_t, which no parser produces */
    format_local(local_ms, tail, buf, size);
}
