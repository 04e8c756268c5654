/*
 * Human formatting of KPI values (see kpi/format.h). Percent values are stored as percentages
 * (12.5 means 12.5%), durations in seconds. Currency units that are symbols ($, €, £, ¥) go before
 * the number, codes (EUR, USD) after it.
 */
#include "kpi/format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Writes |v| rounded to `decimals` with thousands separators. */
static void grouped(double v, int decimals, char *buf, size_t size)
{
    char raw[64];
    snprintf(raw, sizeof(raw), "%.*f", decimals, fabs(v));
    const char *dot = strchr(raw, '.');
    size_t int_len = dot ? (size_t)(dot - raw) : strlen(raw);
    size_t o = 0;
    for (size_t i = 0; i < int_len && o + 2 < size; i++) {
        if (i > 0 && (int_len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    if (dot)
        for (const char *p = dot; *p && o + 1 < size; p++)
            buf[o++] = *p;
    buf[o] = '\0';
}

static bool is_symbol(const char *unit)
{
    static const char *const symbols[] = {"$", "€", "£", "¥", "₹", "US$", "A$", "C$", NULL};
    for (int i = 0; symbols[i]; i++)
        if (strcmp(unit, symbols[i]) == 0)
            return true;
    return false;
}

static void duration(double seconds, char *buf, size_t size)
{
    const char *sign = seconds < 0 ? "-" : "";
    double s = fabs(seconds);
    if (s < 60) {
        snprintf(buf, size, "%s%.0fs", sign, s);
        return;
    }
    long long total = llround(s);
    long long d = total / 86400, h = total % 86400 / 3600, m = total % 3600 / 60, sec = total % 60;
    if (d > 0)
        snprintf(buf, size, "%s%lldd %02lldh", sign, d, h);
    else if (h > 0)
        snprintf(buf, size, "%s%lldh %02lldm", sign, h, m);
    else
        snprintf(buf, size, "%s%lldm %02llds", sign, m, sec);
}

void kpi_value_format(const struct kpi_def *d, double v, char *buf, size_t size)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "n/a");
        return;
    }
    char num[64];
    const char *sign = v < 0 && round(fabs(v) * pow(10, d->decimals)) != 0 ? "-" : "";
    const char *unit = d->unit ? d->unit : "";
    switch (d->format) {
    case KPI_FORMAT_PERCENT:
        grouped(v, d->decimals, num, sizeof(num));
        snprintf(buf, size, "%s%s%%", sign, num);
        return;
    case KPI_FORMAT_CURRENCY:
        grouped(v, d->decimals, num, sizeof(num));
        if (!*unit)
            snprintf(buf, size, "%s%s", sign, num);
        else if (is_symbol(unit))
            snprintf(buf, size, "%s%s%s", sign, unit, num);
        else
            snprintf(buf, size, "%s%s %s", sign, num, unit);
        return;
    case KPI_FORMAT_DURATION:
        duration(v, buf, size);
        return;
    default:
        grouped(v, d->decimals, num, sizeof(num));
        if (*unit)
            snprintf(buf, size, "%s%s %s", sign, num, unit);
        else
            snprintf(buf, size, "%s%s", sign, num);
        return;
    }
}
