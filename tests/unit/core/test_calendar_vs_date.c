/*
 * The calendar checked against independent implementations: GNU date (coreutils, with its own
 * zoneinfo reader in glibc) for ISO week labels of every day of 2000-2040 and for local days and
 * UTC offsets in five zones every 6 hours plus one second either side of each transition, and a
 * few lines of month arithmetic for fiscal quarters and years. Each comparison runs date once over
 * a file of inputs (date -f), so the whole file takes well under a second.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kpi/period.h"
#include "kpi/time.h"
#include "kpi/tz.h"

#define LINE_MAX_LEN 40

/* n lines of input for date, and its n lines of output. */
struct batch {
    char (*in)[LINE_MAX_LEN];
    char (*out)[LINE_MAX_LEN];
    size_t n, cap;
};

static void batch_add(struct batch *b, const char *line)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4096;
        b->in = realloc(b->in, b->cap * sizeof(*b->in));
        cr_assert_not_null(b->in);
    }
    snprintf(b->in[b->n++], LINE_MAX_LEN, "%s", line);
}

static void batch_free(struct batch *b)
{
    free(b->in);
    free(b->out);
}

/* Runs `TZ=zone date -f FILE +format` over the batch's inputs. */
static void run_date(struct batch *b, const char *zone, const char *format)
{
    char path[] = "/tmp/kpi-calendar-vs-date-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < b->n; i++)
        fprintf(f, "%s\n", b->in[i]);
    cr_assert_eq(fclose(f), 0);

    char cmd[512];
    snprintf(cmd, sizeof(cmd), "TZ='%s' LC_ALL=C date -f '%s' '+%s'", zone, path, format);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "%s", cmd);
    b->out = calloc(b->n ? b->n : 1, sizeof(*b->out));
    cr_assert_not_null(b->out);
    size_t n = 0;
    char line[128];
    while (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = '\0';
        cr_assert_lt(n, b->n, "date printed more lines than it was given");
        cr_assert_lt(strlen(line), (size_t)LINE_MAX_LEN, "unexpected date output %s", line);
        memcpy(b->out[n++], line, strlen(line) + 1);
    }
    int status = pclose(p);
    unlink(path);
    cr_assert_eq(status, 0, "%s failed", cmd);
    cr_assert_eq(n, b->n, "date printed %zu lines for %zu inputs", n, b->n);
}

static int month_length(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

/* Calls fn for every civil day from 2000-01-01 to 2040-12-31, counted without time.c. */
static void for_each_day(void (*fn)(int y, int m, int d, int64_t day, void *ctx), void *ctx)
{
    int64_t day = 10957; /* 2000-01-01 */
    for (int y = 2000; y <= 2040; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= month_length(y, m); d++)
                fn(y, m, d, day++, ctx);
}

static void add_date_line(int y, int m, int d, int64_t day, void *ctx)
{
    char text[48];
    snprintf(text, sizeof(text), "%04d-%02d-%02d", y, m, d);
    cr_assert_eq(kpi_days_from_civil(y, m, d), day, "%s", text);
    batch_add(ctx, text);
}

Test(calendar_vs_date, iso_weeks_2000_2040)
{
    struct batch b = {0};
    for_each_day(add_date_line, &b);
    run_date(&b, "UTC", "%G-W%V");
    struct kpi_calendar cal = {.fiscal_year_start = 1};
    for (size_t i = 0; i < b.n; i++) {
        int64_t day;
        struct kpi_period p;
        char label[KPI_PERIOD_LABEL_MAX];
        cr_assert_eq(kpi_date_parse(b.in[i], strlen(b.in[i]), &day), 0);
        cr_assert_eq(kpi_period_of_day(&cal, KPI_GRAN_WEEK, day, &p), 0);
        cr_assert_eq(kpi_period_format(&cal, &p, label, sizeof(label)), 0);
        if (strcmp(label, b.out[i]) != 0)
            cr_assert_fail("%s: kpi says %s, date says %s", b.in[i], label, b.out[i]);
    }
    cr_assert_eq(b.n, 14976);
    batch_free(&b);
}

static void add_instant(struct batch *b, int64_t t)
{
    char text[32];
    snprintf(text, sizeof(text), "@%lld", (long long)t);
    batch_add(b, text);
}

static void check_zone(const char *zone)
{
    struct kpi_tz *tz = NULL;
    cr_assert_eq(kpi_tz_load(zone, &tz), 0, "%s", zone);
    struct kpi_calendar cal = {.tz = tz, .fiscal_year_start = 1};
    const int64_t from = 946684800, to = 2240611200, step = 6 * 3600; /* 2000-01-01 .. 2041-01-01 */
    struct batch b = {0};
    size_t transitions = 0;
    int32_t prev_off = kpi_tz_offset_at(tz, from);
    for (int64_t t = from; t < to; t += step) {
        add_instant(&b, t);
        int32_t off = kpi_tz_offset_at(tz, t);
        if (off != prev_off) {
            /* Bisect for the first second of the new offset; date then checks both sides of it. */
            int64_t lo = t - step, hi = t;
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (kpi_tz_offset_at(tz, mid) == prev_off)
                    lo = mid;
                else
                    hi = mid;
            }
            add_instant(&b, hi - 1);
            add_instant(&b, hi);
            add_instant(&b, hi + 1);
            transitions++;
        }
        prev_off = off;
    }
    run_date(&b, zone, "%Y-%m-%d %z");
    for (size_t i = 0; i < b.n; i++) {
        int64_t t = strtoll(b.in[i] + 1, NULL, 10);
        int32_t off = kpi_tz_offset_at(tz, t);
        int32_t abs_off = off < 0 ? -off : off;
        char ours[LINE_MAX_LEN], day[16];
        kpi_date_format(kpi_calendar_day_of(&cal, t * 1000), day, sizeof(day));
        snprintf(ours, sizeof(ours), "%s %c%02d%02d", day, off < 0 ? '-' : '+', abs_off / 3600, abs_off / 60 % 60);
        if (strcmp(ours, b.out[i]) != 0)
            cr_assert_fail("%s at %s: kpi says %s, date says %s", zone, b.in[i], ours, b.out[i]);
    }
    batch_free(&b);
    kpi_tz_free(tz);
    /* Sanity: the zones with DST have about two transitions a year in this range. */
    if (strcmp(zone, "Asia/Kathmandu") == 0)
        cr_assert_eq(transitions, 0, "%s", zone);
    else
        cr_assert_gt(transitions, 30, "%s: only %zu transitions found", zone, transitions);
}

Test(calendar_vs_date, europe_paris)
{
    check_zone("Europe/Paris");
}

Test(calendar_vs_date, america_new_york)
{
    check_zone("America/New_York");
}

Test(calendar_vs_date, australia_lord_howe)
{
    check_zone("Australia/Lord_Howe");
}

Test(calendar_vs_date, asia_kathmandu)
{
    check_zone("Asia/Kathmandu");
}

Test(calendar_vs_date, america_sao_paulo)
{
    check_zone("America/Sao_Paulo");
}

struct fiscal_ctx {
    int fs;
    struct kpi_calendar cal;
};

/* The independent rule: the fiscal year starting in month fs of year Y is labelled Y; quarters are
 * consecutive three-month blocks from its first month. */
static void check_fiscal_day(int y, int m, int d, int64_t day, void *ctx_)
{
    struct fiscal_ctx *ctx = ctx_;
    int fs = ctx->fs;
    int fy = m >= fs ? y : y - 1;
    int months_in = (m - fs + 12) % 12;
    int q = months_in / 3 + 1;
    int qm = (fs - 1 + (q - 1) * 3) % 12 + 1;  /* first month of the quarter */
    int qy = fy + (fs - 1 + (q - 1) * 3) / 12; /* and its year */
    int64_t q_first = kpi_days_from_civil(qy, qm, 1);
    int64_t fy_first = kpi_days_from_civil(fy, fs, 1);
    int64_t fy_next = kpi_days_from_civil(fy + 1, fs, 1);
    char want[3][16];
    snprintf(want[0], sizeof(want[0]), "%04d-%02d", y, m);
    snprintf(want[1], sizeof(want[1]), "%04d-Q%d", fy, q);
    snprintf(want[2], sizeof(want[2]), "%04d", fy);
    static const enum kpi_granularity grans[3] = {KPI_GRAN_MONTH, KPI_GRAN_QUARTER, KPI_GRAN_YEAR};
    for (int i = 0; i < 3; i++) {
        struct kpi_period p;
        char label[KPI_PERIOD_LABEL_MAX];
        cr_assert_eq(kpi_period_of_day(&ctx->cal, grans[i], day, &p), 0);
        cr_assert_eq(kpi_period_format(&ctx->cal, &p, label, sizeof(label)), 0);
        bool ok = strcmp(label, want[i]) == 0 && p.first_day <= day && day <= p.last_day;
        if (grans[i] == KPI_GRAN_MONTH)
            ok = ok && p.first_day == day - (d - 1) && p.last_day == day - d + month_length(y, m);
        if (grans[i] == KPI_GRAN_QUARTER)
            ok = ok && p.first_day == q_first;
        if (grans[i] == KPI_GRAN_YEAR)
            ok = ok && p.first_day == fy_first && p.last_day == fy_next - 1;
        if (!ok)
            cr_assert_fail("fiscal start %d, %04d-%02d-%02d: kpi says %s, expected %s", fs, y, m, d, label, want[i]);
    }
}

Test(calendar_vs_date, fiscal_membership)
{
    static const int starts[] = {1, 4, 7, 10};
    for (size_t i = 0; i < 4; i++) {
        struct fiscal_ctx ctx = {.fs = starts[i], .cal = {.fiscal_year_start = starts[i]}};
        for_each_day(check_fiscal_day, &ctx);
    }
}
