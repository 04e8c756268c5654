/*
 * The organisation calendar: which day, ISO week, month, fiscal quarter or fiscal year a local day or
 * an instant belongs to, the labels of those periods, and stepping from one period to the next.
 *
 * A period is held as an inclusive range of local day numbers; its label is derived from its first
 * day, so parse and format are exact inverses and every function can check that a period it is
 * given is one the calendar could have produced. Months, quarters and years are computed on a
 * "month index" (year * 12 + month - 1), which makes fiscal shifts and stepping across year
 * boundaries plain integer arithmetic. Pure: the time zone is loaded by the caller.
 */
#include "kpi/period.h"
#include "kpi/time.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define S_PER_DAY INT64_C(86400)
#define MS_PER_S INT64_C(1000)
/* More steps than there are days between year 1 and 9999: anything larger is out of range anyway,
 * and the bound keeps the arithmetic below from overflowing. */
#define SHIFT_MAX INT64_C(4000000)

static const char *const gran_names[KPI_GRAN__COUNT] = {
    [KPI_GRAN_DAY] = "day",         [KPI_GRAN_WEEK] = "week", [KPI_GRAN_MONTH] = "month",
    [KPI_GRAN_QUARTER] = "quarter", [KPI_GRAN_YEAR] = "year",
};

const char *kpi_granularity_to_string(enum kpi_granularity g)
{
    if ((unsigned)g >= KPI_GRAN__COUNT)
        return NULL;
    return gran_names[g];
}

int kpi_granularity_from_string(const char *s, enum kpi_granularity *ret_g)
{
    if (!s)
        return -EINVAL;
    for (int g = 0; g < KPI_GRAN__COUNT; g++) {
        if (strcmp(s, gran_names[g]) == 0) {
            *ret_g = (enum kpi_granularity)g;
            return 0;
        }
    }
    return -EINVAL;
}

static const struct kpi_tz *cal_tz(const struct kpi_calendar *cal)
{
    return cal ? cal->tz : NULL;
}

/* The fiscal start month, or 0 if the calendar is invalid. A NULL calendar is UTC, calendar year. */
static int cal_fiscal_start(const struct kpi_calendar *cal)
{
    if (!cal)
        return 1;
    if (cal->fiscal_year_start < 1 || cal->fiscal_year_start > 12)
        return 0;
    return cal->fiscal_year_start;
}

int64_t kpi_calendar_day_of(const struct kpi_calendar *cal, int64_t ms)
{
    /* Whole seconds first: adding the offset in milliseconds could overflow near INT64_MAX. */
    int64_t s = kpi_floor_div(ms, MS_PER_S);
    return kpi_floor_div(s + kpi_tz_offset_at(cal_tz(cal), s), S_PER_DAY);
}

int64_t kpi_calendar_day_start(const struct kpi_calendar *cal, int64_t day)
{
    /* Saturate far outside any date kpi accepts so that the products cannot overflow. */
    const int64_t limit = INT64_C(100000000000);
    if (day > limit)
        day = limit;
    if (day < -limit)
        day = -limit;
    return kpi_tz_local_to_utc(cal_tz(cal), day * S_PER_DAY) * MS_PER_S;
}

/* First day of the month with index mi (year * 12 + month - 1). */
static int64_t month_index_first_day(int64_t mi)
{
    return kpi_days_from_civil((int)kpi_floor_div(mi, 12), (int)kpi_floor_mod(mi, 12) + 1, 1);
}

static int64_t iso_week1_monday(int y)
{
    /* Week 1 is the week holding January 4th. */
    int64_t jan4 = kpi_days_from_civil(y, 1, 4);
    return jan4 - (kpi_weekday(jan4) - 1);
}

static bool iso_year_has_w53(int y)
{
    /* A year has 53 weeks when it starts on a Thursday, or on a Wednesday in a leap year. */
    int wd = kpi_weekday(kpi_days_from_civil(y, 1, 1));
    return wd == 4 || (wd == 3 && kpi_is_leap_year(y));
}

/* Computes the period of granularity g holding day, and the year its label carries. */
static int period_compute(int fs, enum kpi_granularity g, int64_t day, struct kpi_period *ret_p, int *ret_label_year)
{
    int y, m, d;
    if (day < KPI_DAY_MIN || day > KPI_DAY_MAX)
        return -ERANGE;
    kpi_civil_from_days(day, &y, &m, &d);
    struct kpi_period p = {.gran = g};
    int label_year = y;
    int64_t mi = (int64_t)y * 12 + m - 1;

    switch (g) {
    case KPI_GRAN_DAY:
        p.first_day = p.last_day = day;
        break;
    case KPI_GRAN_WEEK: {
        p.first_day = day - (kpi_weekday(day) - 1);
        p.last_day = p.first_day + 6;
        /* The ISO week-year is the year of the week's Thursday. */
        int ty, tm, td;
        kpi_civil_from_days(p.first_day + 3, &ty, &tm, &td);
        label_year = ty;
        break;
    }
    case KPI_GRAN_MONTH:
        p.first_day = month_index_first_day(mi);
        p.last_day = month_index_first_day(mi + 1) - 1;
        break;
    case KPI_GRAN_QUARTER:
    case KPI_GRAN_YEAR: {
        /* Months since the start of the fiscal year containing the day; the fiscal year is
         * labelled by the calendar year it starts in. */
        int64_t fy_first = (int64_t)y * 12 + (fs - 1) - (m < fs ? 12 : 0);
        label_year = (int)kpi_floor_div(fy_first, 12);
        int64_t len = g == KPI_GRAN_QUARTER ? 3 : 12;
        int64_t first = fy_first + (mi - fy_first) / len * len;
        p.first_day = month_index_first_day(first);
        p.last_day = month_index_first_day(first + len) - 1;
        break;
    }
    default:
        return -EINVAL;
    }
    if (label_year < 1 || label_year > 9999)
        return -ERANGE;
    *ret_p = p;
    *ret_label_year = label_year;
    return 0;
}

int kpi_period_of_day(const struct kpi_calendar *cal, enum kpi_granularity g, int64_t day, struct kpi_period *ret_p)
{
    int fs = cal_fiscal_start(cal);
    int label_year;
    if (fs == 0 || !ret_p)
        return -EINVAL;
    return period_compute(fs, g, day, ret_p, &label_year);
}

int kpi_period_of_instant(const struct kpi_calendar *cal, enum kpi_granularity g, int64_t ms, struct kpi_period *ret_p)
{
    return kpi_period_of_day(cal, g, kpi_calendar_day_of(cal, ms), ret_p);
}

/* Recomputes p from its first day: fails unless p is exactly a period of this calendar. */
static int period_check(int fs, const struct kpi_period *p, int *ret_label_year)
{
    struct kpi_period q;
    if (!p)
        return -EINVAL;
    int r = period_compute(fs, p->gran, p->first_day, &q, ret_label_year);
    if (r < 0)
        return r == -ERANGE ? -EINVAL : r;
    if (q.first_day != p->first_day || q.last_day != p->last_day)
        return -EINVAL;
    return 0;
}

int kpi_period_shift(const struct kpi_calendar *cal, const struct kpi_period *p, int64_t n, struct kpi_period *ret_p)
{
    int fs = cal_fiscal_start(cal);
    int label_year;
    if (fs == 0 || !ret_p)
        return -EINVAL;
    int r = period_check(fs, p, &label_year);
    if (r < 0)
        return r;
    if (n > SHIFT_MAX || n < -SHIFT_MAX)
        return -ERANGE;

    int64_t first;
    int y, m, d;
    kpi_civil_from_days(p->first_day, &y, &m, &d);
    int64_t mi = (int64_t)y * 12 + m - 1;
    switch (p->gran) {
    case KPI_GRAN_DAY:
        first = p->first_day + n;
        break;
    case KPI_GRAN_WEEK:
        first = p->first_day + 7 * n;
        break;
    case KPI_GRAN_MONTH:
        first = month_index_first_day(mi + n);
        break;
    case KPI_GRAN_QUARTER:
        first = month_index_first_day(mi + 3 * n);
        break;
    case KPI_GRAN_YEAR:
        first = month_index_first_day(mi + 12 * n);
        break;
    default:
        return -EINVAL;
    }
    struct kpi_period q;
    r = period_compute(fs, p->gran, first, &q, &label_year);
    if (r < 0)
        return r;
    *ret_p = q;
    return 0;
}

int64_t kpi_period_days(const struct kpi_period *p)
{
    return p->last_day - p->first_day + 1;
}

int64_t kpi_period_start_ms(const struct kpi_calendar *cal, const struct kpi_period *p)
{
    return kpi_calendar_day_start(cal, p->first_day);
}

int64_t kpi_period_end_ms(const struct kpi_calendar *cal, const struct kpi_period *p)
{
    return kpi_calendar_day_start(cal, p->last_day + 1);
}

int kpi_period_format(const struct kpi_calendar *cal, const struct kpi_period *p, char *buf, size_t size)
{
    int fs = cal_fiscal_start(cal);
    int label_year;
    if (fs == 0 || !buf || size < KPI_PERIOD_LABEL_MAX)
        return -EINVAL;
    int r = period_check(fs, p, &label_year);
    if (r < 0)
        return r;

    int y, m, d;
    kpi_civil_from_days(p->first_day, &y, &m, &d);
    switch (p->gran) {
    case KPI_GRAN_DAY:
        kpi_date_format(p->first_day, buf, size);
        break;
    case KPI_GRAN_WEEK:
        snprintf(buf, size, "%04d-W%02d", label_year, (int)((p->first_day - iso_week1_monday(label_year)) / 7 + 1));
        break;
    case KPI_GRAN_MONTH:
        snprintf(buf, size, "%04d-%02d", y, m);
        break;
    case KPI_GRAN_QUARTER:
        snprintf(buf, size, "%04d-Q%d", label_year, (m - fs + 12) % 12 / 3 + 1);
        break;
    case KPI_GRAN_YEAR:
        snprintf(buf, size, "%04d", label_year);
        break;
    default:
        return -EINVAL;
    }
    return 0;
}

/* Exactly n digits at s, or -1. */
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

int kpi_period_parse(const struct kpi_calendar *cal, const char *s, size_t len, struct kpi_period *ret_p)
{
    int fs = cal_fiscal_start(cal);
    if (fs == 0 || !s || !ret_p || len < 4)
        return -EINVAL;
    int year = read_digits(s, 4);
    if (year < 1)
        return -EINVAL;

    enum kpi_granularity g;
    int64_t first;
    if (len == 4) {
        g = KPI_GRAN_YEAR;
        first = month_index_first_day((int64_t)year * 12 + fs - 1);
    } else if (len == 10) {
        g = KPI_GRAN_DAY;
        if (kpi_date_parse(s, len, &first) < 0)
            return -EINVAL;
    } else if (len == 8 && s[4] == '-' && (s[5] == 'W' || s[5] == 'w')) {
        g = KPI_GRAN_WEEK;
        int w = read_digits(s + 6, 2);
        if (w < 1 || w > 53 || (w == 53 && !iso_year_has_w53(year)))
            return -EINVAL;
        first = iso_week1_monday(year) + 7 * (int64_t)(w - 1);
    } else if (len == 7 && s[4] == '-' && (s[5] == 'Q' || s[5] == 'q')) {
        g = KPI_GRAN_QUARTER;
        int q = read_digits(s + 6, 1);
        if (q < 1 || q > 4)
            return -EINVAL;
        first = month_index_first_day((int64_t)year * 12 + fs - 1 + 3 * (q - 1));
    } else if (len == 7 && s[4] == '-') {
        g = KPI_GRAN_MONTH;
        int m = read_digits(s + 5, 2);
        if (m < 1 || m > 12)
            return -EINVAL;
        first = month_index_first_day((int64_t)year * 12 + m - 1);
    } else {
        return -EINVAL;
    }

    struct kpi_period p;
    int label_year;
    if (period_compute(fs, g, first, &p, &label_year) < 0)
        return -EINVAL;
    *ret_p = p;
    return 0;
}
