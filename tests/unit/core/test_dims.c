/*
 * Point dimensions (core/dims.c): canonical form, validation and the subset match of --dim filters.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "kpi/dims.h"

static struct kpi_dim dim(const char *k, const char *v)
{
    return (struct kpi_dim){k, strlen(k), v, strlen(v)};
}

Test(dims, canonical_form_is_sorted)
{
    struct kpi_dim d[3] = {dim("region", "eu"), dim("channel", "paid"), dim("plan", "pro plan")};
    char out[KPI_DIMS_CANON_MAX + 1];
    cr_assert(eq(int, kpi_dims_canon(d, 3, out, sizeof(out), NULL), 0));
    cr_expect(eq(str, out, "channel=paid\x1fplan=pro plan\x1fregion=eu"));
    cr_assert(eq(int, kpi_dims_canon(d, 0, out, sizeof(out), NULL), 0));
    cr_expect(eq(str, out, ""));
}

Test(dims, rejects_bad_input)
{
    char out[KPI_DIMS_CANON_MAX + 1];
    struct kpi_diag diag = {""};
    struct kpi_dim dup[2] = {dim("region", "eu"), dim("region", "us")};
    cr_expect(eq(int, kpi_dims_canon(dup, 2, out, sizeof(out), &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "dims: 'region' is given twice"));
    struct kpi_dim bad_key[1] = {dim("Region", "eu")};
    cr_expect(eq(int, kpi_dims_canon(bad_key, 1, out, sizeof(out), &diag), -EINVAL));
    struct kpi_dim ctrl[1] = {dim("region", "e\x1fu")};
    cr_expect(eq(int, kpi_dims_canon(ctrl, 1, out, sizeof(out), &diag), -EINVAL));
    struct kpi_dim empty[1] = {dim("region", "")};
    cr_expect(eq(int, kpi_dims_canon(empty, 1, out, sizeof(out), &diag), -EINVAL));
    struct kpi_dim d;
    cr_expect(eq(int, kpi_dim_parse_arg("noequals", &d, &diag), -EINVAL));
    cr_expect(eq(int, kpi_dim_parse_arg("region=eu=west", &d, &diag), 0));
    cr_expect(eq(sz, d.value_len, 7));
}

Test(dims, split_and_match)
{
    const char *canon = "channel=paid\x1fregion=eu";
    struct kpi_dim d[4];
    cr_assert(eq(int, kpi_dims_split(canon, d, 4), 2));
    cr_expect(eq(sz, d[1].key_len, 6));
    cr_expect(kpi_dims_match(canon, ""));
    cr_expect(kpi_dims_match(canon, "region=eu"));
    cr_expect(kpi_dims_match(canon, "channel=paid\x1fregion=eu"));
    cr_expect(not(kpi_dims_match(canon, "region=us")));
    cr_expect(not(kpi_dims_match(canon, "plan=pro")));
    cr_expect(not(kpi_dims_match("", "region=eu")));
}
