/*
 * Canonical form of point dimensions (see kpi/dims.h): validation, sorting, splitting and the
 * subset match used by `--dim` filters.
 */
#include "kpi/dims.h"

#include <stdlib.h>

#include "base/str.h"
#include <string.h>

bool kpi_dim_key_valid(const char *key, size_t len)
{
    if (len == 0 || len > 64 || !(key[0] >= 'a' && key[0] <= 'z'))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

bool kpi_dim_value_valid(const char *value, size_t len)
{
    if (len == 0 || len > KPI_DIM_VALUE_MAX || !kpi_utf8_valid(value, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static int dim_cmp(const void *a, const void *b)
{
    const struct kpi_dim *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

int kpi_dims_canon(struct kpi_dim *dims, size_t n, char *out, size_t size, struct kpi_diag *diag)
{
    if (n > KPI_DIMS_MAX)
        return kpi_diag_set(diag, -E2BIG, "dims: at most %d dimensions per point", KPI_DIMS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!kpi_dim_key_valid(dims[i].key, dims[i].key_len))
            return kpi_diag_set(diag, -EINVAL, "dims: '%.*s' is not a valid dimension name",
                                (int)(dims[i].key_len > 64 ? 64 : dims[i].key_len), dims[i].key);
        if (!kpi_dim_value_valid(dims[i].value, dims[i].value_len))
            return kpi_diag_set(diag, -EINVAL, "dims: value of '%.*s' must be 1 to %d bytes without control characters",
                                (int)dims[i].key_len, dims[i].key, KPI_DIM_VALUE_MAX);
    }
    if (n > 1)
        qsort(dims, n, sizeof(*dims), dim_cmp);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && dim_cmp(&dims[i - 1], &dims[i]) == 0)
            return kpi_diag_set(diag, -EINVAL, "dims: '%.*s' is given twice", (int)dims[i].key_len, dims[i].key);
        size_t need = (i ? 1 : 0) + dims[i].key_len + 1 + dims[i].value_len;
        if (used + need + 1 > size)
            return kpi_diag_set(diag, -E2BIG, "dims: too long");
        if (i)
            out[used++] = KPI_DIMS_SEP;
        memcpy(out + used, dims[i].key, dims[i].key_len);
        used += dims[i].key_len;
        out[used++] = '=';
        memcpy(out + used, dims[i].value, dims[i].value_len);
        used += dims[i].value_len;
    }
    if (size)
        out[used] = '\0';
    return 0;
}

int kpi_dim_parse_arg(const char *s, struct kpi_dim *ret_d, struct kpi_diag *diag)
{
    const char *eq = strchr(s, '=');
    if (!eq)
        return kpi_diag_set(diag, -EINVAL, "dim: expected key=value, got '%.80s'", s);
    struct kpi_dim d = {s, (size_t)(eq - s), eq + 1, strlen(eq + 1)};
    if (!kpi_dim_key_valid(d.key, d.key_len))
        return kpi_diag_set(diag, -EINVAL, "dim: '%.*s' is not a valid dimension name", (int)(d.key_len > 64 ? 64 : d.key_len),
                            d.key);
    if (!kpi_dim_value_valid(d.value, d.value_len))
        return kpi_diag_set(diag, -EINVAL, "dim: value of '%.*s' must be 1 to %d bytes without control characters", (int)d.key_len,
                            d.key, KPI_DIM_VALUE_MAX);
    *ret_d = d;
    return 0;
}

int kpi_dims_split(const char *canon, struct kpi_dim *ret_dims, size_t max)
{
    size_t n = 0;
    const char *p = canon;
    while (*p) {
        const char *end = strchr(p, KPI_DIMS_SEP);
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || n >= max)
            return -EINVAL;
        ret_dims[n].key = p;
        ret_dims[n].key_len = (size_t)(eq - p);
        ret_dims[n].value = eq + 1;
        ret_dims[n].value_len = (size_t)(end - eq - 1);
        n++;
        if (!*end)
            break;
        p = end + 1;
    }
    return (int)n;
}

bool kpi_dims_match(const char *canon, const char *filter)
{
    struct kpi_dim have[KPI_DIMS_MAX], want[KPI_DIMS_MAX];
    int nh = kpi_dims_split(canon, have, KPI_DIMS_MAX);
    int nw = kpi_dims_split(filter, want, KPI_DIMS_MAX);
    if (nh < 0 || nw < 0)
        return false;
    for (int i = 0; i < nw; i++) {
        bool found = false;
        for (int j = 0; j < nh && !found; j++)
            found = have[j].key_len == want[i].key_len && have[j].value_len == want[i].value_len &&
                    memcmp(have[j].key, want[i].key, want[i].key_len) == 0 &&
                    memcmp(have[j].value, want[i].value, want[i].value_len) == 0;
        if (!found)
            return false;
    }
    return true;
}
