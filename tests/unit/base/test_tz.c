/*
 * Tests for src/base/tz.c and tzfile.c: offsets of real zones at and around their transitions
 * (Paris, New York, Lord Howe's 30-minute DST, Kolkata, Apia's skipped day), the POSIX footer rule
 * far in the future and in synthetic TZif files (Jn, n, M forms, negative and >24 h times,
 * permanent and "negative" DST), local-to-UTC conversion in gaps and overlaps, and robustness:
 * truncated or corrupted TZif bytes and hostile zone names are rejected without crashing.
 * Expected values were cross-checked with Python's zoneinfo.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpi/time.h"
#include "kpi/tz.h"

/* UTC seconds of an RFC 3339 text. */
static int64_t instant(const char *text)
{
    struct kpi_at at;
    cr_assert_eq(kpi_at_parse(text, strlen(text), &at), 0, "bad test instant %s", text);
    cr_assert_not(at.is_date);
    return kpi_floor_div(at.ms, 1000);
}

static struct kpi_tz *load(const char *name)
{
    struct kpi_tz *tz = NULL;
    int r = kpi_tz_load(name, &tz);
    cr_assert_eq(r, 0, "loading %s: %d", name, r);
    cr_assert_str_eq(kpi_tz_name(tz), name);
    return tz;
}

struct offset_case {
    const char *zone;
    const char *utc;
    int32_t offset;
};

static void check_offsets(const struct offset_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct kpi_tz *tz = load(cases[i].zone);
        int32_t got = kpi_tz_offset_at(tz, instant(cases[i].utc));
        cr_expect_eq(got, cases[i].offset, "%s at %s: got %d want %d", cases[i].zone, cases[i].utc, got, cases[i].offset);
        kpi_tz_free(tz);
    }
}

Test(tz, builtin_utc)
{
    const char *names[] = {"UTC", "Etc/UTC", "Z"};
    for (size_t i = 0; i < 3; i++) {
        struct kpi_tz *tz = load(names[i]);
        cr_assert_eq(kpi_tz_offset_at(tz, 0), 0);
        cr_assert_eq(kpi_tz_offset_at(tz, INT64_MAX), 0);
        cr_assert_eq(kpi_tz_local_to_utc(tz, 1234567), 1234567);
        kpi_tz_free(tz);
    }
    cr_assert_eq(kpi_tz_offset_at(NULL, 99), 0);
    cr_assert_null(kpi_tz_free(NULL));
}

Test(tz, fixed_offsets)
{
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_fixed("+05:30", 19800, &tz), 0);
    cr_assert_str_eq(kpi_tz_name(tz), "+05:30");
    cr_assert_eq(kpi_tz_offset_at(tz, 0), 19800);
    cr_assert_eq(kpi_tz_offset_at(tz, INT64_MIN), 19800);
    cr_assert_eq(kpi_tz_local_to_utc(tz, 19800), 0);
    cr_assert_eq(kpi_tz_local_to_utc(tz, INT64_MAX), INT64_MAX - 19800);
    tz = kpi_tz_free(tz);
    cr_assert_null(tz);

    cr_assert_eq(kpi_tz_fixed("west", -43200, &tz), 0);
    cr_assert_eq(kpi_tz_local_to_utc(tz, 0), 43200);
    tz = kpi_tz_free(tz);

    struct kpi_tz *untouched = (struct kpi_tz *)&tz;
    struct kpi_tz *out = untouched;
    cr_assert_eq(kpi_tz_fixed("bad", 200000, &out), -EINVAL);
    cr_assert_eq(kpi_tz_fixed(NULL, 0, &out), -EINVAL);
    cr_assert_eq(out, untouched);
}

Test(tz, europe_paris)
{
    static const struct offset_case cases[] = {
        {"Europe/Paris", "1800-01-01T00:00:00Z", 561}, /* local mean time before the first transition */
        {"Europe/Paris", "2026-01-15T12:00:00Z", 3600}, {"Europe/Paris", "2026-03-29T00:59:59Z", 3600},
        {"Europe/Paris", "2026-03-29T01:00:00Z", 7200}, {"Europe/Paris", "2026-10-25T00:59:59Z", 7200},
        {"Europe/Paris", "2026-10-25T01:00:00Z", 3600}, {"Europe/Paris", "2100-03-28T00:59:59Z", 3600},
        {"Europe/Paris", "2100-03-28T01:00:00Z", 7200}, {"Europe/Paris", "2100-10-31T00:59:59Z", 7200},
        {"Europe/Paris", "2100-10-31T01:00:00Z", 3600}, {"Europe/Paris", "9999-07-01T00:00:00Z", 7200},
    };
    check_offsets(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(tz, america_new_york)
{
    static const struct offset_case cases[] = {
        {"America/New_York", "1800-01-01T00:00:00Z", -17762}, {"America/New_York", "2026-03-08T06:59:59Z", -18000},
        {"America/New_York", "2026-03-08T07:00:00Z", -14400}, {"America/New_York", "2026-11-01T05:59:59Z", -14400},
        {"America/New_York", "2026-11-01T06:00:00Z", -18000}, {"America/New_York", "2100-03-14T06:59:59Z", -18000},
        {"America/New_York", "2100-03-14T07:00:00Z", -14400}, {"America/New_York", "2100-07-01T00:00:00Z", -14400},
    };
    check_offsets(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(tz, australia_lord_howe)
{
    /* Half-hour DST in the southern hemisphere: +10:30 standard, +11:00 from October to April. */
    static const struct offset_case cases[] = {
        {"Australia/Lord_Howe", "2026-04-04T14:59:59Z", 39600}, {"Australia/Lord_Howe", "2026-04-04T15:00:00Z", 37800},
        {"Australia/Lord_Howe", "2026-10-03T15:29:59Z", 37800}, {"Australia/Lord_Howe", "2026-10-03T15:30:00Z", 39600},
        {"Australia/Lord_Howe", "2100-01-01T00:00:00Z", 39600}, {"Australia/Lord_Howe", "2100-07-01T00:00:00Z", 37800},
    };
    check_offsets(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(tz, asia_kolkata)
{
    static const struct offset_case cases[] = {
        {"Asia/Kolkata", "1945-10-14T17:29:59Z", 23400},
        {"Asia/Kolkata", "1945-10-14T17:30:00Z", 19800},
        {"Asia/Kolkata", "2026-06-01T00:00:00Z", 19800},
        {"Asia/Kolkata", "2100-01-01T00:00:00Z", 19800},
    };
    check_offsets(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(tz, pacific_apia)
{
    /* Samoa skipped Friday 2011-12-30, moving from -10 (DST) to +14 (DST). */
    static const struct offset_case cases[] = {
        {"Pacific/Apia", "2011-12-30T09:59:59Z", -36000}, {"Pacific/Apia", "2011-12-30T10:00:00Z", 50400},
        {"Pacific/Apia", "2021-04-03T13:59:59Z", 50400},  {"Pacific/Apia", "2021-04-03T14:00:00Z", 46800},
        {"Pacific/Apia", "2100-07-01T00:00:00Z", 46800},
    };
    check_offsets(cases, sizeof(cases) / sizeof(cases[0]));
}

/* A local wall-clock time, and the instant kpi_tz_local_to_utc must give for it. */
struct local_case {
    const char *zone;
    const char *local;
    const char *utc;
};

Test(tz, local_to_utc_gaps_and_overlaps)
{
    static const struct local_case cases[] = {
        /* ordinary times */
        {"Europe/Paris", "2026-07-01T12:00:00", "2026-07-01T10:00:00Z"},
        {"Europe/Paris", "2026-01-01T00:00:00", "2025-12-31T23:00:00Z"},
        /* gap: 02:00-03:00 does not exist, the answer is the end of the gap */
        {"Europe/Paris", "2026-03-29T02:00:00", "2026-03-29T01:00:00Z"},
        {"Europe/Paris", "2026-03-29T02:30:00", "2026-03-29T01:00:00Z"},
        {"Europe/Paris", "2026-03-29T01:59:59", "2026-03-29T00:59:59Z"},
        {"Europe/Paris", "2026-03-29T03:00:00", "2026-03-29T01:00:00Z"},
        /* overlap: 02:00-03:00 happens twice, the earlier (summer time) instant wins */
        {"Europe/Paris", "2026-10-25T02:30:00", "2026-10-25T00:30:00Z"},
        {"Europe/Paris", "2026-10-25T02:00:00", "2026-10-25T00:00:00Z"},
        {"Europe/Paris", "2026-10-25T03:00:00", "2026-10-25T02:00:00Z"},
        {"Europe/Paris", "2100-10-31T02:30:00", "2100-10-31T00:30:00Z"},
        {"America/New_York", "2026-03-08T02:30:00", "2026-03-08T07:00:00Z"},
        {"America/New_York", "2026-11-01T01:30:00", "2026-11-01T05:30:00Z"},
        {"America/New_York", "2100-03-14T02:30:00", "2100-03-14T07:00:00Z"},
        {"Australia/Lord_Howe", "2026-04-05T01:45:00", "2026-04-04T14:45:00Z"},
        {"Australia/Lord_Howe", "2026-04-05T02:00:00", "2026-04-04T15:30:00Z"},
        {"Australia/Lord_Howe", "2026-10-04T02:15:00", "2026-10-03T15:30:00Z"},
        {"Australia/Lord_Howe", "2026-10-04T02:30:00", "2026-10-03T15:30:00Z"},
        {"Asia/Kolkata", "2026-06-01T05:30:00", "2026-06-01T00:00:00Z"},
        /* the whole of 2011-12-30 is missing in Apia */
        {"Pacific/Apia", "2011-12-30T12:00:00", "2011-12-30T10:00:00Z"},
        {"Pacific/Apia", "2011-12-30T00:00:00", "2011-12-30T10:00:00Z"},
        {"Pacific/Apia", "2011-12-29T23:59:59", "2011-12-30T09:59:59Z"},
        {"Pacific/Apia", "2011-12-31T00:00:00", "2011-12-30T10:00:00Z"},
        {"Pacific/Apia", "2026-07-01T13:00:00", "2026-07-01T00:00:00Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char local_z[32];
        snprintf(local_z, sizeof(local_z), "%sZ", cases[i].local);
        struct kpi_tz *tz = load(cases[i].zone);
        int64_t got = kpi_tz_local_to_utc(tz, instant(local_z));
        char buf[32];
        kpi_instant_format(got * 1000, buf, sizeof(buf));
        cr_expect_str_eq(buf, cases[i].utc, "%s local %s", cases[i].zone, cases[i].local);
        kpi_tz_free(tz);
    }
}

/* Every local minute of two years round-trips through UTC unless it falls in a gap. */
Test(tz, local_to_utc_round_trip)
{
    const char *zones[] = {"Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"};
    for (size_t z = 0; z < 4; z++) {
        struct kpi_tz *tz = load(zones[z]);
        for (int64_t local = instant("2011-01-01T00:00:00Z"); local < instant("2013-01-01T00:00:00Z"); local += 60) {
            int64_t u = kpi_tz_local_to_utc(tz, local);
            int64_t back = u + kpi_tz_offset_at(tz, u);
            if (back != local && back <= local)
                cr_assert_fail("%s: local %lld -> %lld -> %lld", zones[z], (long long)local, (long long)u, (long long)back);
            /* In a gap the answer is the first instant after it: one second earlier is before local. */
            if (back != local && u - 1 + kpi_tz_offset_at(tz, u - 1) >= local)
                cr_assert_fail("%s: gap answer for %lld is not the gap end", zones[z], (long long)local);
        }
        kpi_tz_free(tz);
    }
}

/* ---- Synthetic TZif files ---- */

static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

static size_t put_header(uint8_t *p, char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
    memset(p, 0, 44);
    memcpy(p, "TZif", 4);
    p[4] = (uint8_t)version;
    put32(p + 32, timecnt);
    put32(p + 36, typecnt);
    put32(p + 40, charcnt);
    return 44;
}

/* A version-2 file with no transitions, one type of offset type0 and the footer string. */
static size_t make_tzif(uint8_t *buf, int32_t type0, const char *footer)
{
    size_t n = 0;
    for (int v = 0; v < 2; v++) {
        n += put_header(buf + n, '2', 0, 1, 4);
        n += put32(buf + n, (uint32_t)type0);
        buf[n++] = 0;
        buf[n++] = 0;
        memcpy(buf + n, "XXX", 4);
        n += 4;
    }
    buf[n++] = '\n';
    memcpy(buf + n, footer, strlen(footer));
    n += strlen(footer);
    buf[n++] = '\n';
    return n;
}

struct footer_case {
    const char *footer;
    const char *utc;
    int32_t offset;
};

Test(tz, posix_footer_rules)
{
    static const struct footer_case cases[] = {
        {"EST5EDT,M3.2.0,M11.1.0", "2026-03-08T06:59:59Z", -18000},
        {"EST5EDT,M3.2.0,M11.1.0", "2026-03-08T07:00:00Z", -14400},
        {"EST5EDT,M3.2.0,M11.1.0", "2026-11-01T05:59:59Z", -14400},
        {"EST5EDT,M3.2.0,M11.1.0", "2026-11-01T06:00:00Z", -18000},
        {"EST5EDT,M3.2.0,M11.1.0", "1900-07-01T00:00:00Z", -14400},
        {"EST5EDT,M3.2.0,M11.1.0", "0100-07-01T00:00:00Z", -14400},
        {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T00:59:59Z", 3600},
        {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T01:00:00Z", 7200},
        {"CET-1CEST,M3.5.0,M10.5.0/3", "2027-03-28T01:00:00Z", 7200},
        {"CET-1CEST,M3.5.0,M10.5.0/3", "2027-03-28T00:59:59Z", 3600},
        {"<+0330>-3:30", "2026-01-01T00:00:00Z", 12600},
        {"<+0545>-5:45", "2026-01-01T00:00:00Z", 20700},
        {"<-03>3", "2026-01-01T00:00:00Z", -10800},
        {"IST-5:30", "2026-01-01T00:00:00Z", 19800},
        /* Jn never counts February 29: J60 is March 1st in every year */
        {"AAA-1BBB,J60/2,J300/3", "2024-03-01T00:59:59Z", 3600},
        {"AAA-1BBB,J60/2,J300/3", "2024-03-01T01:00:00Z", 7200},
        {"AAA-1BBB,J60/2,J300/3", "2024-10-27T00:59:59Z", 7200},
        {"AAA-1BBB,J60/2,J300/3", "2024-10-27T01:00:00Z", 3600},
        {"AAA-1BBB,J60/2,J300/3", "2025-03-01T01:00:00Z", 7200},
        /* n counts from 0 and does count February 29: 59 is Feb 29 in 2024, Mar 1 in 2025 */
        {"AAA-1BBB,59/2,299/3", "2024-02-29T00:59:59Z", 3600},
        {"AAA-1BBB,59/2,299/3", "2024-02-29T01:00:00Z", 7200},
        {"AAA-1BBB,59/2,299/3", "2024-10-26T01:00:00Z", 3600},
        {"AAA-1BBB,59/2,299/3", "2025-02-28T12:00:00Z", 3600},
        {"AAA-1BBB,59/2,299/3", "2025-03-01T01:00:00Z", 7200},
        {"AAA-1BBB,59/2,299/3", "2025-10-27T00:59:59Z", 7200},
        /* negative times (America/Nuuk 2023): 22:00 and 23:00 of the day before */
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-03-29T00:59:59Z", -7200},
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-03-29T01:00:00Z", -3600},
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-10-25T00:59:59Z", -3600},
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-10-25T01:00:00Z", -7200},
        /* beyond 24 h (Asia/Jerusalem): Thursday 26:00 is Friday 02:00 */
        {"IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-26T23:59:59Z", 7200},
        {"IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-27T00:00:00Z", 10800},
        {"IST-2IDT,M3.4.4/26,M10.5.0", "2026-10-24T22:59:59Z", 10800},
        {"IST-2IDT,M3.4.4/26,M10.5.0", "2026-10-24T23:00:00Z", 7200},
        /* the RFC 8536 3.3.1 example of permanent daylight time */
        {"EST5EDT,0/0,J365/25", "2026-01-01T04:59:59Z", -14400},
        {"EST5EDT,0/0,J365/25", "2026-01-01T05:00:00Z", -14400},
        {"EST5EDT,0/0,J365/25", "2026-07-01T00:00:00Z", -14400},
        {"EST5EDT,0/0,J365/25", "2024-12-31T12:00:00Z", -14400},
        /* Europe/Dublin: "daylight" time is the winter one, one hour behind standard */
        {"IST-1GMT0,M10.5.0,M3.5.0/1", "2026-01-15T00:00:00Z", 0},
        {"IST-1GMT0,M10.5.0,M3.5.0/1", "2026-03-29T00:59:59Z", 0},
        {"IST-1GMT0,M10.5.0,M3.5.0/1", "2026-03-29T01:00:00Z", 3600},
        {"IST-1GMT0,M10.5.0,M3.5.0/1", "2026-10-25T00:59:59Z", 3600},
        {"IST-1GMT0,M10.5.0,M3.5.0/1", "2026-10-25T01:00:00Z", 0},
        /* southern hemisphere, DST across the new year; 5th week means the last */
        {"<-03>3<-02>,M10.3.0/0,M2.5.0/0", "2016-01-15T00:00:00Z", -7200},
        {"<-03>3<-02>,M10.3.0/0,M2.5.0/0", "2016-02-28T01:59:59Z", -7200},
        {"<-03>3<-02>,M10.3.0/0,M2.5.0/0", "2016-02-28T02:00:00Z", -10800},
        {"<-03>3<-02>,M10.3.0/0,M2.5.0/0", "2016-10-16T02:59:59Z", -10800},
        {"<-03>3<-02>,M10.3.0/0,M2.5.0/0", "2016-10-16T03:00:00Z", -7200},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[256];
        size_t n = make_tzif(buf, 0, cases[i].footer);
        struct kpi_tz *tz = NULL;
        cr_assert_eq(kpi_tz_parse("test", buf, n, &tz), 0, "footer %s", cases[i].footer);
        int32_t got = kpi_tz_offset_at(tz, instant(cases[i].utc));
        cr_expect_eq(got, cases[i].offset, "%s at %s: got %d want %d", cases[i].footer, cases[i].utc, got, cases[i].offset);
        kpi_tz_free(tz);
    }
}

Test(tz, posix_footer_far_instants)
{
    /* The rule is folded into a 400-year cycle: any int64_t works, and the cycle is exact. */
    uint8_t buf[256];
    size_t n = make_tzif(buf, 0, "CET-1CEST,M3.5.0,M10.5.0/3");
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_parse("test", buf, n, &tz), 0);
    int64_t cycle = INT64_C(146097) * 86400;
    int64_t t = instant("2026-03-29T01:00:00Z");
    for (int64_t k = -1000; k <= 1000; k += 7) {
        cr_assert_eq(kpi_tz_offset_at(tz, t + k * cycle), 7200);
        cr_assert_eq(kpi_tz_offset_at(tz, t - 1 + k * cycle), 3600);
    }
    (void)kpi_tz_offset_at(tz, INT64_MAX);
    (void)kpi_tz_offset_at(tz, INT64_MIN);
    (void)kpi_tz_local_to_utc(tz, INT64_MAX);
    (void)kpi_tz_local_to_utc(tz, INT64_MIN);
    kpi_tz_free(tz);
}

Test(tz, posix_footer_invalid)
{
    static const char *const bad[] = {
        "EST",
        "EST5EDT",
        "ES5",
        "EST+",
        "EST25",
        "EST5EDT,M13.1.0,M11.1.0",
        "EST5EDT,M3.6.0,M11.1.0",
        "EST5EDT,M3.2.7,M11.1.0",
        "EST5EDT,J0,J365",
        "EST5EDT,366,J1",
        "EST5EDT,M3.2.0/168,M11.1.0",
        "<AB>5",
        "<+05",
        "<+0 5>-5",
        "EST5x",
        "EST5EDT,M3.2.0",
        "EST5EDT,M3.2.0,M11.1.0,",
        "EST5:60",
        "EST5EDT4:00:60,M3.2.0,M11.1.0",
        "EST5EDT,M3.2.0/,M11.1.0",
        "EST5EDT,M3..0,M11.1.0",
        "EST0005",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t buf[256];
        size_t n = make_tzif(buf, 0, bad[i]);
        struct kpi_tz *tz = NULL;
        cr_expect_eq(kpi_tz_parse("test", buf, n, &tz), -EINVAL, "accepted footer \"%s\"", bad[i]);
        cr_expect_null(tz);
        kpi_tz_free(tz);
    }
    /* An empty footer is allowed: the last transition's type then applies. */
    uint8_t buf[256];
    size_t n = make_tzif(buf, 3600, "");
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_parse("test", buf, n, &tz), 0);
    cr_assert_eq(kpi_tz_offset_at(tz, 0), 3600);
    kpi_tz_free(tz);
}

/* A version-1 file with two transitions: the 32-bit block is used. */
Test(tz, version1_file)
{
    uint8_t buf[256];
    size_t n = put_header(buf, 0, 2, 2, 8);
    n += put32(buf + n, 1000);
    n += put32(buf + n, (uint32_t)-2000); /* not ascending */
    buf[n++] = 1;
    buf[n++] = 0;
    n += put32(buf + n, 3600);
    buf[n++] = 0;
    buf[n++] = 0;
    n += put32(buf + n, 7200);
    buf[n++] = 1;
    buf[n++] = 4;
    memcpy(buf + n, "AAA\0BBB", 8);
    n += 8;
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_parse("v1", buf, n, &tz), -EINVAL);
    put32(buf + 48, 5000);
    cr_assert_eq(kpi_tz_parse("v1", buf, n, &tz), 0);
    cr_assert_eq(kpi_tz_offset_at(tz, 999), 3600);
    cr_assert_eq(kpi_tz_offset_at(tz, 1000), 7200);
    cr_assert_eq(kpi_tz_offset_at(tz, 4999), 7200);
    cr_assert_eq(kpi_tz_offset_at(tz, 5000), 3600);
    cr_assert_eq(kpi_tz_offset_at(tz, INT64_MAX), 3600);
    kpi_tz_free(tz);
    /* trailing garbage and a bad type index */
    buf[n] = 'x';
    cr_assert_eq(kpi_tz_parse("v1", buf, n + 1, &tz), -EINVAL);
    buf[52] = 2;
    cr_assert_eq(kpi_tz_parse("v1", buf, n, &tz), -EINVAL);
}

static uint8_t *read_zone_bytes(const char *name, size_t *ret_len)
{
    char path[256];
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    uint8_t *data = malloc(1 << 16);
    cr_assert_not_null(data);
    size_t len = fread(data, 1, 1 << 16, f);
    fclose(f);
    *ret_len = len;
    return data;
}

Test(tz, truncated_bytes_rejected)
{
    const char *zones[] = {"Europe/Paris", "America/New_York", "Asia/Kolkata"};
    for (size_t z = 0; z < 3; z++) {
        size_t len;
        uint8_t *data = read_zone_bytes(zones[z], &len);
        struct kpi_tz *tz = NULL;
        cr_assert_eq(kpi_tz_parse(zones[z], data, len, &tz), 0);
        tz = kpi_tz_free(tz);
        for (size_t cut = 0; cut < len; cut++) {
            /* A copy of exactly cut bytes, so that ASan sees any read past the end. */
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, data, cut);
            int r = kpi_tz_parse(zones[z], copy, cut, &tz);
            free(copy);
            if (r != -EINVAL)
                cr_assert_fail("%s truncated to %zu bytes: %d", zones[z], cut, r);
        }
        free(data);
    }
}

Test(tz, corrupted_bytes_do_not_crash)
{
    size_t len;
    uint8_t *data = read_zone_bytes("America/New_York", &len);
    static const uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '\n', '2'};
    size_t accepted = 0;
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t v = 0; v < sizeof(values); v++) {
            uint8_t *copy = malloc(len);
            memcpy(copy, data, len);
            copy[pos] = values[v];
            struct kpi_tz *tz = NULL;
            if (kpi_tz_parse("x", copy, len, &tz) == 0) {
                /* Whatever was accepted must answer sensibly. */
                accepted++;
                int32_t off = kpi_tz_offset_at(tz, 1700000000);
                cr_assert(off >= -93599 && off <= 93599);
                (void)kpi_tz_local_to_utc(tz, 1700000000);
                (void)kpi_tz_local_to_utc(tz, -5000000000);
                kpi_tz_free(tz);
            }
            free(copy);
        }
    }
    cr_assert_gt(accepted, 0); /* flips inside abbreviations are harmless */
    free(data);
}

Test(tz, huge_counts_rejected)
{
    uint8_t buf[256];
    size_t n = make_tzif(buf, 0, "UTC0");
    for (size_t field = 20; field < 44; field += 4) {
        uint8_t copy[256];
        memcpy(copy, buf, n);
        put32(copy + 54 + field, 0xffffffffu); /* second header */
        struct kpi_tz *tz = NULL;
        cr_assert_eq(kpi_tz_parse("x", copy, n, &tz), -EINVAL, "field %zu", field);
        memcpy(copy, buf, n);
        put32(copy + field, 0x7fffffffu); /* first header */
        cr_assert_eq(kpi_tz_parse("x", copy, n, &tz), -EINVAL, "field %zu", field);
    }
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_parse("x", buf, n, &tz), 0);
    kpi_tz_free(tz);
    cr_assert_eq(kpi_tz_parse("x", (const uint8_t *)"TZif", 4, &tz), -EINVAL);
    cr_assert_eq(kpi_tz_parse("x", (const uint8_t *)"", 0, &tz), -EINVAL);
}

Test(tz, bad_names_rejected)
{
    static const char *const bad[] = {
        "../etc/passwd",
        "/abs",
        "/usr/share/zoneinfo/Europe/Paris",
        "",
        "Europe/../../etc/passwd",
        "Europe//Paris",
        "Europe/Paris/",
        "Europe/Par is",
        "Europe\\Paris",
        "Europe/Paris\n",
        "zone.tab",
        "Europe/.",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kpi_tz *tz = NULL;
        cr_expect_eq(kpi_tz_load(bad[i], &tz), -EINVAL, "accepted name \"%s\"", bad[i]);
        cr_expect_null(tz);
    }
    char long_name[400];
    memset(long_name, 'A', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_load(long_name, &tz), -EINVAL);
    cr_assert_eq(kpi_tz_load(NULL, &tz), -EINVAL);
}

Test(tz, unknown_and_non_zone_files)
{
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_load("Mars/Olympus_Mons", &tz), -ENOENT);
    cr_assert_eq(kpi_tz_load("Europe", &tz), -ENOENT);         /* a directory */
    cr_assert_eq(kpi_tz_load("Europe/Paris/x", &tz), -ENOENT); /* a file used as a directory */
    cr_assert_eq(kpi_tz_load("leapseconds", &tz), -EINVAL);    /* text, not TZif */
    cr_assert_eq(kpi_tz_load("right/UTC", &tz), -EINVAL);      /* leap-second zone */
    cr_assert_null(tz);
}

Test(tz, tzdir_is_honoured)
{
    struct kpi_tz *tz = NULL;
    setenv("TZDIR", "/nonexistent-kpi-zoneinfo", 1);
    cr_assert_eq(kpi_tz_load("Europe/Paris", &tz), -ENOENT);
    cr_assert_eq(kpi_tz_load("UTC", &tz), 0); /* built in, needs no file */
    tz = kpi_tz_free(tz);
    setenv("TZDIR", "/usr/share/zoneinfo/Europe", 1);
    cr_assert_eq(kpi_tz_load("Paris", &tz), 0);
    cr_assert_eq(kpi_tz_offset_at(tz, instant("2026-07-01T00:00:00Z")), 7200);
    kpi_tz_free(tz);
    unsetenv("TZDIR");
}
