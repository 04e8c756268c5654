/*
 * Tests for src/base/time.c: civil-date arithmetic (exhaustive round trips over eight centuries,
 * weekday anchors), the strict `at` grammar (tables of accepted and rejected texts) and formatting.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kpi/time.h"

Test(time, floor_div_mod)
{
    cr_assert_eq(kpi_floor_div(7, 2), 3);
    cr_assert_eq(kpi_floor_div(-7, 2), -4);
    cr_assert_eq(kpi_floor_div(-8, 2), -4);
    cr_assert_eq(kpi_floor_div(7, -2), -4);
    cr_assert_eq(kpi_floor_mod(-1, 7), 6);
    cr_assert_eq(kpi_floor_mod(-7, 7), 0);
    cr_assert_eq(kpi_floor_mod(13, 7), 6);
    cr_assert_eq(kpi_floor_mod(INT64_MIN, 86400), kpi_floor_mod(INT64_MIN + 86400, 86400));
}

Test(time, leap_years_and_month_lengths)
{
    cr_assert(kpi_is_leap_year(2000));
    cr_assert(kpi_is_leap_year(2024));
    cr_assert_not(kpi_is_leap_year(1900));
    cr_assert_not(kpi_is_leap_year(2100));
    cr_assert_not(kpi_is_leap_year(2026));
    cr_assert(kpi_is_leap_year(1600));
    cr_assert_eq(kpi_days_in_month(2024, 2), 29);
    cr_assert_eq(kpi_days_in_month(2100, 2), 28);
    cr_assert_eq(kpi_days_in_month(2026, 4), 30);
    cr_assert_eq(kpi_days_in_month(2026, 12), 31);
    cr_assert_eq(kpi_days_in_month(2026, 0), 0);
    cr_assert_eq(kpi_days_in_month(2026, 13), 0);
}

Test(time, known_day_numbers)
{
    cr_assert_eq(kpi_days_from_civil(1970, 1, 1), 0);
    cr_assert_eq(kpi_days_from_civil(2000, 3, 1), 11017);
    cr_assert_eq(kpi_days_from_civil(1969, 12, 31), -1);
    cr_assert_eq(kpi_days_from_civil(1, 1, 1), KPI_DAY_MIN);
    cr_assert_eq(kpi_days_from_civil(9999, 12, 31), KPI_DAY_MAX);
    cr_assert_eq(kpi_days_from_civil(2026, 11, 23), 20780);
}

/* Every day from 1600-01-01 to 2400-12-31, walked with an independent month/day counter. */
Test(time, civil_round_trip_1600_2400)
{
    int y = 1600, m = 1, d = 1;
    int64_t day = kpi_days_from_civil(1600, 1, 1);
    int wd = kpi_weekday(day);
    cr_assert_eq(wd, 6, "1600-01-01 was a Saturday");
    while (y <= 2400) {
        int ry, rm, rd;
        cr_assert_eq(kpi_days_from_civil(y, m, d), day, "%04d-%02d-%02d", y, m, d);
        kpi_civil_from_days(day, &ry, &rm, &rd);
        if (ry != y || rm != m || rd != d)
            cr_assert_fail("day %lld: got %04d-%02d-%02d want %04d-%02d-%02d", (long long)day, ry, rm, rd, y, m, d);
        if (kpi_weekday(day) != wd)
            cr_assert_fail("weekday of %04d-%02d-%02d", y, m, d);
        day++;
        wd = wd % 7 + 1;
        if (++d > kpi_days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
}

Test(time, civil_extremes)
{
    int y, m, d;
    kpi_civil_from_days(KPI_DAY_MIN, &y, &m, &d);
    cr_assert(y == 1 && m == 1 && d == 1);
    kpi_civil_from_days(KPI_DAY_MAX, &y, &m, &d);
    cr_assert(y == 9999 && m == 12 && d == 31);
    kpi_civil_from_days(-1, &y, &m, &d);
    cr_assert(y == 1969 && m == 12 && d == 31);
}

Test(time, weekday_anchors)
{
    static const struct {
        int y, m, d, wd;
    } cases[] = {
        {1970, 1, 1, 4},   {2000, 1, 1, 6},  {2026, 11, 23, 1}, {2400, 12, 31, 7}, {1, 1, 1, 1},
        {1969, 12, 31, 3}, {2024, 2, 29, 4}, {9999, 12, 31, 5}, {1900, 3, 1, 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_eq(kpi_weekday(kpi_days_from_civil(cases[i].y, cases[i].m, cases[i].d)), cases[i].wd, "case %zu", i);
}

/* A date case gives the day, an instant case the UTC milliseconds. */
static const struct {
    const char *text;
    bool is_date;
    int64_t value;
} at_valid[] = {
    {"2026-11-23", true, 20780},
    {"1970-01-01", true, 0},
    {"0001-01-01", true, KPI_DAY_MIN},
    {"9999-12-31", true, KPI_DAY_MAX},
    {"2024-02-29", true, 19782},
    {"1970-01-01T00:00:00Z", false, 0},
    {"1970-01-01t00:00:00z", false, 0},
    {"1970-01-01 00:00:01Z", false, 1000},
    {"2026-11-23T10:15:30Z", false, INT64_C(1795428930000)},
    {"2026-11-23T10:15:30.5Z", false, INT64_C(1795428930500)},
    {"2026-11-23T10:15:30.05Z", false, INT64_C(1795428930050)},
    {"2026-11-23T10:15:30.123Z", false, INT64_C(1795428930123)},
    {"2026-11-23T10:15:30.000Z", false, INT64_C(1795428930000)},
    {"2026-11-23T11:15:30+01:00", false, INT64_C(1795428930000)},
    {"2026-11-23T05:15:30-05:00", false, INT64_C(1795428930000)},
    {"2026-11-23T15:45:30+05:30", false, INT64_C(1795428930000)},
    {"2026-11-23T10:15:30-00:00", false, INT64_C(1795428930000)},
    {"2026-11-24T10:14:30+23:59", false, INT64_C(1795428930000)},
    {"1969-12-31T23:59:59.999Z", false, -1},
    {"2024-02-29T23:59:59Z", false, INT64_C(1709251199000)},
    {"0001-01-01T00:00:00Z", false, KPI_DAY_MIN *KPI_MS_PER_DAY},
    {"9999-12-31T23:59:59.999Z", false, (KPI_DAY_MAX + 1) * KPI_MS_PER_DAY - 1},
    {"0001-01-01T00:30:00-01:00", false, KPI_DAY_MIN *KPI_MS_PER_DAY + 5400000},
};

static const char *const at_invalid[] = {
    "",
    "2026",
    "2026-11",
    "2026-11-2",
    "2026-1-23",
    "26-11-23",
    "2026/11/23",
    "2026-02-30",
    "2026-02-29",
    "1900-02-29",
    "2026-13-01",
    "2026-00-10",
    "2026-04-31",
    "2026-11-00",
    "0000-01-01",
    "2026-11-23 ",
    " 2026-11-23",
    "+2026-11-23",
    "2026-11-23T",
    "2026-11-23T10:15Z",
    "2026-11-23T10:15:30",
    "2026-11-23T24:00:00Z",
    "2026-11-23T23:60:00Z",
    "2026-12-31T23:59:60Z",
    "2026-11-23T10:15:30.Z",
    "2026-11-23T10:15:30.1234Z",
    "2026-11-23T10:15:30.123456Z",
    "2026-11-23T10:15:30,5Z",
    "2026-11-23T10:15:30+0100",
    "2026-11-23T10:15:30+01",
    "2026-11-23T10:15:30+24:00",
    "2026-11-23T10:15:30+01:60",
    "2026-11-23T10:15:30 +01:00",
    "2026-11-23T10:15:30ZZ",
    "2026-11-23X10:15:30Z",
    "2026-11-23T1a:15:30Z",
    "2026-11-23T-1:15:30Z",
    "2026-11-23T10:15:30UTC",
    "2026-11-23T10:15:30Z\n",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:30:00-01:00",
    "2026-11-23T10:15:30+01:00x",
};

Test(time, at_parse_valid)
{
    for (size_t i = 0; i < sizeof(at_valid) / sizeof(at_valid[0]); i++) {
        struct kpi_at at;
        const char *t = at_valid[i].text;
        cr_assert_eq(kpi_at_parse(t, strlen(t), &at), 0, "%s", t);
        cr_assert_eq(at.is_date, at_valid[i].is_date, "%s", t);
        if (at.is_date)
            cr_assert_eq(at.day, at_valid[i].value, "%s: %lld", t, (long long)at.day);
        else
            cr_assert_eq(at.ms, at_valid[i].value, "%s: %lld", t, (long long)at.ms);
    }
}

Test(time, at_parse_invalid)
{
    for (size_t i = 0; i < sizeof(at_invalid) / sizeof(at_invalid[0]); i++) {
        struct kpi_at at = {.is_date = true, .day = 42};
        const char *t = at_invalid[i];
        cr_assert_eq(kpi_at_parse(t, strlen(t), &at), -EINVAL, "accepted \"%s\"", t);
        cr_assert(at.is_date && at.day == 42, "ret_at written on failure for \"%s\"", t);
    }
    struct kpi_at at;
    cr_assert_eq(kpi_at_parse(NULL, 0, &at), -EINVAL);
}

Test(time, at_parse_respects_length)
{
    struct kpi_at at;
    /* Only the first len bytes count: the text need not be NUL-terminated. */
    cr_assert_eq(kpi_at_parse("2026-11-23T10:15:30Zjunk", 20, &at), 0);
    cr_assert_eq(at.ms, INT64_C(1795428930000));
    cr_assert_eq(kpi_at_parse("2026-11-23T10:15:30Z", 19, &at), -EINVAL);
    cr_assert_eq(kpi_at_parse("2026-11-23T", 10, &at), 0);
    cr_assert(at.is_date);
}

Test(time, date_parse)
{
    int64_t day = 7;
    cr_assert_eq(kpi_date_parse("2026-11-23", 10, &day), 0);
    cr_assert_eq(day, 20780);
    day = 7;
    cr_assert_eq(kpi_date_parse("2026-11-23T00:00:00Z", 20, &day), -EINVAL);
    cr_assert_eq(kpi_date_parse("2026-02-29", 10, &day), -EINVAL);
    cr_assert_eq(kpi_date_parse("2026-11-2", 9, &day), -EINVAL);
    cr_assert_eq(day, 7);
}

Test(time, date_format)
{
    char buf[11];
    kpi_date_format(20780, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2026-11-23");
    kpi_date_format(KPI_DAY_MIN, buf, sizeof(buf));
    cr_assert_str_eq(buf, "0001-01-01");
    kpi_date_format(-1, buf, sizeof(buf));
    cr_assert_str_eq(buf, "1969-12-31");
}

Test(time, instant_format)
{
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {INT64_C(1795428930000), "2026-11-23T10:15:30Z"},
        {INT64_C(1795428930050), "2026-11-23T10:15:30.050Z"},
        {INT64_C(1709251199000), "2024-02-29T23:59:59Z"},
        {KPI_DAY_MIN * KPI_MS_PER_DAY, "0001-01-01T00:00:00Z"},
        {(KPI_DAY_MAX + 1) * KPI_MS_PER_DAY - 1, "9999-12-31T23:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        kpi_instant_format(cases[i].ms, buf, sizeof(buf));
        cr_assert_str_eq(buf, cases[i].want);
        struct kpi_at at;
        cr_assert_eq(kpi_at_parse(buf, strlen(buf), &at), 0, "%s", buf);
        cr_assert_eq(at.ms, cases[i].ms, "%s", buf);
    }
}

Test(time, instant_format_offset)
{
    static const struct {
        int64_t ms;
        int32_t off;
        const char *want;
    } cases[] = {
        {INT64_C(1795428930000), 3600, "2026-11-23T11:15:30+01:00"},
        {INT64_C(1795428930000), -18000, "2026-11-23T05:15:30-05:00"},
        {INT64_C(1795428930000), 19800, "2026-11-23T15:45:30+05:30"},
        {INT64_C(1795428930000), 0, "2026-11-23T10:15:30+00:00"},
        {INT64_C(1795428930123), 20700, "2026-11-23T16:00:30.123+05:45"},
        {0, -3600, "1969-12-31T23:00:00-01:00"},
        /* Paris local mean time, +00:09:21: printed with +00:09 and the matching wall time. */
        {0, 561, "1970-01-01T00:09:00+00:09"},
        {0, -561, "1969-12-31T23:51:00-00:09"},
        {0, 50400, "1970-01-01T14:00:00+14:00"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[40];
        kpi_instant_format_offset(cases[i].ms, cases[i].off, buf, sizeof(buf));
        cr_assert_str_eq(buf, cases[i].want);
        struct kpi_at at;
        cr_assert_eq(kpi_at_parse(buf, strlen(buf), &at), 0, "%s", buf);
        cr_assert_eq(at.ms, cases[i].ms, "%s names a different instant", buf);
    }
}

Test(time, format_truncates_safely)
{
    char buf[8];
    kpi_instant_format(0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "1970-01");
    kpi_date_format(0, buf, 5);
    cr_assert_str_eq(buf, "1970");
}

Test(time, extreme_inputs_do_not_overflow)
{
    char buf[40];
    int y, m, d;
    kpi_civil_from_days(INT64_MAX, &y, &m, &d);
    kpi_civil_from_days(INT64_MIN, &y, &m, &d);
    kpi_date_format(INT64_MAX, buf, sizeof(buf));
    kpi_instant_format(INT64_MIN, buf, sizeof(buf));
    kpi_instant_format_offset(INT64_MAX, 3600, buf, sizeof(buf));
    kpi_instant_format_offset(INT64_MIN, -3600, buf, sizeof(buf));
    cr_assert_eq(kpi_weekday(INT64_MIN) >= 1 && kpi_weekday(INT64_MIN) <= 7, 1);
}
