/*
 * Bounded buffer (base/buf.c): growth, the maximum size, printf and ownership transfer.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <criterion/new/assert.h>
#include <stdlib.h>

#include "base/buf.h"

Test(buf, grows_and_terminates)
{
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 20);
    cr_expect(eq(str, (char *)kpi_buf_str(&b), ""));
    for (int i = 0; i < 1000; i++)
        cr_assert(eq(int, kpi_buf_adds(&b, "abc"), 0));
    cr_expect(eq(sz, b.len, 3000));
    cr_expect(eq(chr, b.data[3000], '\0'));
    cr_assert(eq(int, kpi_buf_printf(&b, "%d-%s", 42, "x"), 0));
    cr_expect(eq(sz, b.len, 3004));
    kpi_buf_free(&b);
}

Test(buf, refuses_past_maximum_and_frees)
{
    struct kpi_buf b;
    kpi_buf_init(&b, 10);
    cr_expect(eq(int, kpi_buf_adds(&b, "0123456789"), 0));
    cr_expect(eq(int, kpi_buf_addc(&b, 'x'), -E2BIG));
    cr_expect(eq(ptr, b.data, NULL));
    cr_expect(eq(sz, b.len, 0));
    cr_expect(eq(int, kpi_buf_printf(&b, "%s", "01234567890"), -E2BIG));
}

Test(buf, take_hands_over_ownership)
{
    struct kpi_buf b;
    kpi_buf_init(&b, 100);
    kpi_buf_adds(&b, "hello");
    char *s = kpi_buf_take(&b);
    cr_expect(eq(str, s, "hello"));
    cr_expect(eq(ptr, b.data, NULL));
    free(s);
    s = kpi_buf_take(&b);
    cr_expect(eq(str, s, ""));
    free(s);
}
