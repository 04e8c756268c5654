/*
 * Driver analysis (include/kpi/drivers.h states the rules): per-segment contributions to a KPI's
 * change between two periods, as plain deltas for sum/count and as an exact rate + mix split of the
 * change of a weighted mean for avg, checked to add up to the total change and sorted by size.
 * No I/O.
 */
#include "kpi/drivers.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUM_CHECK_REL 1e-9

/* Neumaier compensated sum. */
struct ksum {
    double sum;
    double comp;
};

static void ksum_add(struct ksum *k, double x)
{
    double t = k->sum + x;
    if (fabs(k->sum) >= fabs(x))
        k->comp += (k->sum - t) + x;
    else
        k->comp += (x - t) + k->sum;
    k->sum = t;
}

static double ksum_value(const struct ksum *k)
{
    return k->sum + k->comp;
}

static int cmp_label_ptr(const void *a, const void *b)
{
    const char *x = *(const char *const *)a;
    const char *y = *(const char *const *)b;
    return strcmp(x, y);
}

static int cmp_driver(const void *a, const void *b)
{
    const struct kpi_driver *x = a;
    const struct kpi_driver *y = b;
    double ax = fabs(x->contribution);
    double ay = fabs(y->contribution);
    if (ax > ay)
        return -1;
    if (ax < ay)
        return 1;
    return strcmp(x->segment, y->segment);
}

static int validate(const struct kpi_driver_input *segments, size_t n, const struct kpi_driver_options *options)
{
    bool avg = options->aggregation == KPI_AGG_AVG;
    for (size_t i = 0; i < n; i++) {
        const struct kpi_driver_input *s = &segments[i];
        if (s->segment == NULL || s->segment[0] == '\0')
            return -EINVAL;
        if (strnlen(s->segment, KPI_DRIVERS_MAX_LABEL + 1) > KPI_DRIVERS_MAX_LABEL)
            return -EINVAL;
        if ((s->has_before && !isfinite(s->before)) || (s->has_after && !isfinite(s->after)))
            return -EINVAL;
        if (avg && options->weighted) {
            if (s->has_before && !(isfinite(s->weight_before) && s->weight_before > 0.0))
                return -EINVAL;
            if (s->has_after && !(isfinite(s->weight_after) && s->weight_after > 0.0))
                return -EINVAL;
        }
    }
    if (n < 2)
        return 0;
    const char **labels = malloc(n * sizeof(*labels));
    if (labels == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        labels[i] = segments[i].segment;
    qsort(labels, n, sizeof(*labels), cmp_label_ptr);
    int r = 0;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(labels[i - 1], labels[i]) == 0) {
            r = -EINVAL;
            break;
        }
    }
    free(labels);
    return r;
}

/* sum / count: contribution = after - before, absent sides 0. */
static void compute_sum(const struct kpi_driver_input *segments, size_t n, struct kpi_driver_result *res)
{
    struct ksum before = {0.0, 0.0};
    struct ksum after = {0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        double b = segments[i].has_before ? segments[i].before : 0.0;
        double a = segments[i].has_after ? segments[i].after : 0.0;
        ksum_add(&before, b);
        ksum_add(&after, a);
        res->items[i].contribution = a - b;
        res->items[i].rate_effect = a - b;
        res->items[i].mix_effect = 0.0;
    }
    res->total_before = ksum_value(&before);
    res->total_after = ksum_value(&after);
}

/* avg: exact rate + mix split of the change of the weighted mean. */
static int compute_avg(const struct kpi_driver_input *segments, size_t n, bool weighted, struct kpi_driver_result *res)
{
    struct ksum w0 = {0.0, 0.0};
    struct ksum w1 = {0.0, 0.0};
    struct ksum s0 = {0.0, 0.0};
    struct ksum s1 = {0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        const struct kpi_driver_input *s = &segments[i];
        if (s->has_before) {
            double w = weighted ? s->weight_before : 1.0;
            ksum_add(&w0, w);
            ksum_add(&s0, w * s->before);
        }
        if (s->has_after) {
            double w = weighted ? s->weight_after : 1.0;
            ksum_add(&w1, w);
            ksum_add(&s1, w * s->after);
        }
    }
    double W0 = ksum_value(&w0);
    double W1 = ksum_value(&w1);
    if (!(W0 > 0.0) || !(W1 > 0.0))
        return -ENODATA;
    if (!isfinite(W0) || !isfinite(W1))
        return -ERANGE;
    double M0 = ksum_value(&s0) / W0;
    double M1 = ksum_value(&s1) / W1;
    if (!isfinite(M0) || !isfinite(M1))
        return -ERANGE;
    double Mbar = M0 / 2.0 + M1 / 2.0;
    for (size_t i = 0; i < n; i++) {
        const struct kpi_driver_input *s = &segments[i];
        double sh0 = s->has_before ? (weighted ? s->weight_before : 1.0) / W0 : 0.0;
        double sh1 = s->has_after ? (weighted ? s->weight_after : 1.0) / W1 : 0.0;
        double v0 = s->has_before ? s->before : s->after;
        double v1 = s->has_after ? s->after : s->before;
        if (!s->has_before && !s->has_after) {
            v0 = 0.0;
            v1 = 0.0;
        }
        double rate = (sh0 + sh1) / 2.0 * (v1 - v0);
        double mix = (v0 / 2.0 + v1 / 2.0 - Mbar) * (sh1 - sh0);
        res->items[i].rate_effect = rate;
        res->items[i].mix_effect = mix;
        res->items[i].contribution = rate + mix;
    }
    res->total_before = M0;
    res->total_after = M1;
    return 0;
}

struct kpi_driver_result *kpi_driver_result_free(struct kpi_driver_result *result)
{
    if (result == NULL)
        return NULL;
    for (size_t i = 0; i < result->n_items; i++)
        free(result->items[i].segment);
    free(result->items);
    free(result);
    return NULL;
}

int kpi_drivers_compute(const struct kpi_driver_input *segments, size_t n, const struct kpi_driver_options *options,
                        struct kpi_driver_result **ret_result)
{
    struct kpi_driver_result *res = NULL;
    int r = 0;

    if (ret_result == NULL || options == NULL || (n > 0 && segments == NULL))
        return -EINVAL;
    if ((int)options->aggregation < 0 || options->aggregation >= KPI_AGG__COUNT)
        return -EINVAL;
    if (options->aggregation != KPI_AGG_SUM && options->aggregation != KPI_AGG_COUNT && options->aggregation != KPI_AGG_AVG)
        return -EOPNOTSUPP;
    if (n > KPI_DRIVERS_MAX_SEGMENTS)
        return -E2BIG;
    r = validate(segments, n, options);
    if (r < 0)
        return r;

    res = calloc(1, sizeof(*res));
    if (res == NULL)
        return -ENOMEM;
    res->items = calloc(n > 0 ? n : 1, sizeof(*res->items));
    if (res->items == NULL) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct kpi_driver *d = &res->items[i];
        d->segment = strdup(segments[i].segment);
        if (d->segment == NULL) {
            r = -ENOMEM;
            goto out;
        }
        res->n_items = i + 1;
        d->has_before = segments[i].has_before;
        d->before = segments[i].has_before ? segments[i].before : 0.0;
        d->has_after = segments[i].has_after;
        d->after = segments[i].has_after ? segments[i].after : 0.0;
    }

    if (options->aggregation == KPI_AGG_AVG) {
        r = compute_avg(segments, n, options->weighted, res);
        if (r < 0)
            goto out;
    } else {
        compute_sum(segments, n, res);
    }

    res->total_change = res->total_after - res->total_before;
    if (!isfinite(res->total_before) || !isfinite(res->total_after) || !isfinite(res->total_change)) {
        r = -ERANGE;
        goto out;
    }
    struct ksum csum = {0.0, 0.0};
    struct ksum cabs = {0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(res->items[i].contribution)) {
            r = -ERANGE;
            goto out;
        }
        ksum_add(&csum, res->items[i].contribution);
        ksum_add(&cabs, fabs(res->items[i].contribution));
    }
    double scale = fmax(fmax(fabs(res->total_before), fabs(res->total_after)), ksum_value(&cabs));
    res->sum_error = fabs(ksum_value(&csum) - res->total_change);
    if (!isfinite(res->sum_error) || res->sum_error > SUM_CHECK_REL * scale) {
        r = -ERANGE;
        goto out;
    }

    for (size_t i = 0; i < n; i++) {
        struct kpi_driver *d = &res->items[i];
        if (res->total_change != 0.0) {
            double pct = d->contribution / res->total_change * 100.0;
            d->has_share = isfinite(pct);
            d->share_pct = isfinite(pct) ? pct : 0.0;
        }
    }
    if (n > 1)
        qsort(res->items, n, sizeof(*res->items), cmp_driver);

    *ret_result = res;
    res = NULL;
out:
    kpi_driver_result_free(res);
    return r;
}
