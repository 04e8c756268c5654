/*
 * libFuzzer target for period labels: parse with a calendar-year and an April fiscal calendar; a
 * label that parses must format to a canonical label that parses to the same period, and that
 * canonical label must be a fixed point of format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpi/period.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct kpi_calendar *cal, const char *s, size_t len)
{
    struct kpi_period p, q, shifted;
    char label[KPI_PERIOD_LABEL_MAX], again[KPI_PERIOD_LABEL_MAX];
    if (kpi_period_parse(cal, s, len, &p) < 0)
        return;
    if (p.first_day > p.last_day)
        abort();
    if (kpi_period_format(cal, &p, label, sizeof(label)) < 0)
        abort();
    if (kpi_period_parse(cal, label, strlen(label), &q) < 0)
        abort();
    if (q.gran != p.gran || q.first_day != p.first_day || q.last_day != p.last_day)
        abort();
    if (kpi_period_format(cal, &q, again, sizeof(again)) < 0 || strcmp(label, again) != 0)
        abort();
    /* Neighbours, where they exist, must abut. */
    if (kpi_period_shift(cal, &p, 1, &shifted) == 0 && shifted.first_day != p.last_day + 1)
        abort();
    if (kpi_period_shift(cal, &p, -1, &shifted) == 0 && shifted.last_day != p.first_day - 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64)
        return 0;
    char buf[65];
    memcpy(buf, data, size);
    buf[size] = '\0';
    static const struct kpi_calendar cals[] = {{.fiscal_year_start = 1}, {.fiscal_year_start = 4}};
    for (size_t i = 0; i < sizeof(cals) / sizeof(cals[0]); i++)
        check(&cals[i], buf, size);
    return 0;
}
