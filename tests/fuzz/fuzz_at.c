/*
 * libFuzzer target for the `at` of a point: whatever kpi_at_parse accepts must print (in UTC, and
 * with a few UTC offsets) to text that parses back to the same day or the same millisecond.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kpi/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64)
        return 0;
    char buf[65];
    memcpy(buf, data, size);
    buf[size] = '\0';

    struct kpi_at at, back;
    if (kpi_at_parse(buf, size, &at) < 0)
        return 0;
    char text[40];
    if (at.is_date) {
        kpi_date_format(at.day, text, sizeof(text));
        if (kpi_at_parse(text, strlen(text), &back) < 0 || !back.is_date || back.day != at.day)
            abort();
        int64_t day;
        if (kpi_date_parse(text, strlen(text), &day) < 0 || day != at.day)
            abort();
        return 0;
    }
    kpi_instant_format(at.ms, text, sizeof(text));
    if (kpi_at_parse(text, strlen(text), &back) < 0 || back.is_date || back.ms != at.ms)
        abort();
    /* With an offset the wall-clock date may leave 0001..9999; then the parser rightly refuses. */
    static const int32_t offsets[] = {0, 3600, -18000, 19800, 561, -561, 50400};
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        kpi_instant_format_offset(at.ms, offsets[i], text, sizeof(text));
        if (kpi_at_parse(text, strlen(text), &back) == 0 && (back.is_date || back.ms != at.ms))
            abort();
    }
    return 0;
}
