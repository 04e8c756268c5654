/*
 * Number parsing and printing (base/str.c): table-driven, including the fast path's boundaries
 * (15 significant digits, 22 fraction digits) checked against strtod.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

struct double_case {
    const char *text;
    int rc;
    double value;
};

static const struct double_case double_cases[] = {
    {"0", 0, 0},
    {"-0", 0, 0},
    {"1", 0, 1},
    {"-7", 0, -7},
    {"+3.5", 0, 3.5},
    {"123.45", 0, 123.45},
    {"0.1", 0, 0.1},
    {".5", 0, 0.5},
    {"5.", 0, 5.0},
    {"1e3", 0, 1000},
    {"2.5E-3", 0, 0.0025},
    {"123456789012345", 0, 123456789012345.0},
    {"1234567890123456789", 0, 1234567890123456789.0},
    {"0.0000000000000000000001", 0, 1e-22},
    {"0.00000000000000000000001", 0, 1e-23},
    {"1e308", 0, 1e308},
    {"1e309", -ERANGE, 0},
    {"", -EINVAL, 0},
    {"-", -EINVAL, 0},
    {".", -EINVAL, 0},
    {"1,5", -EINVAL, 0},
    {" 1", -EINVAL, 0},
    {"1 ", -EINVAL, 0},
    {"nan", -EINVAL, 0},
    {"inf", -EINVAL, 0},
    {"0x10", -EINVAL, 0},
    {"1e", -EINVAL, 0},
    {"1e+", -EINVAL, 0},
    {"--1", -EINVAL, 0},
    {"1.2.3", -EINVAL, 0},
};

Test(str, parse_double_table)
{
    for (size_t i = 0; i < sizeof(double_cases) / sizeof(double_cases[0]); i++) {
        const struct double_case *c = &double_cases[i];
        double v = -42;
        int rc = kpi_parse_double(c->text, strlen(c->text), &v);
        cr_expect(eq(int, rc, c->rc), "case '%s'", c->text);
        if (c->rc == 0)
            cr_expect(eq(dbl, v, c->value), "case '%s'", c->text);
        else
            cr_expect(eq(dbl, v, -42), "output written on failure for '%s'", c->text);
    }
}

Test(str, parse_double_matches_strtod)
{
    /* Deterministic pseudo-random decimals of every length around the fast-path limits. */
    uint64_t x = 88172645463325252ull;
    char text[64];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int int_digits = (int)(x % 12), frac_digits = (int)((x >> 8) % 25);
        size_t n = 0;
        if (x & (1u << 20))
            text[n++] = '-';
        uint64_t y = x;
        for (int d = 0; d < int_digits + 1; d++, y = y * 6364136223846793005ull + 1)
            text[n++] = (char)('0' + (y >> 33) % 10);
        text[n++] = '.';
        for (int d = 0; d < frac_digits + 1; d++, y = y * 6364136223846793005ull + 1)
            text[n++] = (char)('0' + (y >> 33) % 10);
        text[n] = '\0';
        double v;
        cr_assert(eq(int, kpi_parse_double(text, n, &v), 0), "%s", text);
        double want = strtod(text, NULL);
        if (want == 0)
            want = 0;
        cr_assert(eq(dbl, v, want), "%s", text);
    }
}

Test(str, parse_int64)
{
    int64_t v;
    cr_expect(eq(int, kpi_parse_int64("12", 2, 0, 100, &v), 0));
    cr_expect(eq(i64, v, 12));
    cr_expect(eq(int, kpi_parse_int64("-9223372036854775808", 20, INT64_MIN, INT64_MAX, &v), 0));
    cr_expect(eq(i64, v, INT64_MIN));
    cr_expect(eq(int, kpi_parse_int64("9223372036854775808", 19, INT64_MIN, INT64_MAX, &v), -ERANGE));
    cr_expect(eq(int, kpi_parse_int64("101", 3, 0, 100, &v), -ERANGE));
    cr_expect(eq(int, kpi_parse_int64("1x", 2, 0, 100, &v), -EINVAL));
    cr_expect(eq(int, kpi_parse_int64("-", 1, -5, 5, &v), -EINVAL));
    cr_expect(eq(int, kpi_parse_int64("", 0, -5, 5, &v), -EINVAL));
}

Test(str, format_double_shortest_round_trip)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0, "0"},
        {-0.0, "0"},
        {1, "1"},
        {0.1, "0.1"},
        {-2.5, "-2.5"},
        {1e21, "1e+21"},
        {0.1 + 0.2, "0.30000000000000004"},
        {123456.789, "123456.789"},
        {1.0 / 3.0, "0.3333333333333333"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[40];
        kpi_format_double(cases[i].v, buf, sizeof(buf));
        cr_expect(eq(str, buf, (char *)cases[i].text));
        double back;
        cr_expect(eq(int, kpi_parse_double(buf, strlen(buf), &back), 0));
        cr_expect(eq(dbl, back, cases[i].v == 0 ? 0 : cases[i].v));
    }
}

Test(str, strlcpy_truncates)
{
    char small[4];
    cr_expect(eq(int, kpi_strlcpy(small, "abc", sizeof(small)), 0));
    cr_expect(eq(str, small, "abc"));
    cr_expect(eq(int, kpi_strlcpy(small, "abcd", sizeof(small)), -E2BIG));
    cr_expect(eq(str, small, "abc"));
}

Test(str, utf8_validation)
{
    static const struct {
        const char *s;
        bool valid;
    } cases[] = {
        {"plain", true},
        {"caf\xc3\xa9", true},
        {"\xe2\x82\xac 12", true},
        {"\xf0\x9f\x93\x88", true},
        {"\xc3", false},
        {"\xc0\xaf", false},
        {"\xe0\x80\xaf", false},
        {"\xed\xa0\x80", false},
        {"\xf4\x90\x80\x80", false},
        {"\xff", false},
        {"a\x80"
         "b",
         false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect(eq(int, kpi_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].valid), "case %zu", i);
}
