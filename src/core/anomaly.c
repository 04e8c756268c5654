/*
 * Robust residual-based anomaly detection (include/kpi/anomaly.h states the rules): medians of the
 * residuals and of their absolute deviations, a MAD scale with a mean-absolute-deviation fallback,
 * and a centred rolling-median fallback model. No I/O; every number returned is finite.
 */
#include "kpi/anomaly.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAD_TO_SIGMA 1.4826
#define MEAN_AD_TO_SIGMA 1.2533
#define NOISE_REL 1e-9

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    if (x < y)
        return -1;
    if (x > y)
        return 1;
    return 0;
}

/* Median of v[0..n), n > 0; sorts v in place. */
static double median_inplace(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    if (n % 2 == 1)
        return v[n / 2];
    return v[n / 2 - 1] / 2.0 + v[n / 2] / 2.0;
}

struct kpi_anomaly_result *kpi_anomaly_result_free(struct kpi_anomaly_result *result)
{
    if (result == NULL)
        return NULL;
    free(result->items);
    free(result);
    return NULL;
}

int kpi_anomaly_detect(const double *y, const double *fitted, size_t n, double sensitivity, struct kpi_anomaly_result **ret_result)
{
    struct kpi_anomaly_result *res = NULL;
    double *resid = NULL; /* residual per usable point */
    size_t *where = NULL; /* index of each usable point */
    double *work = NULL;  /* scratch for medians */
    double *dev = NULL;   /* deviation per usable point */
    size_t n_used = 0;
    double ymax = 0.0;
    int r = 0;

    if (ret_result == NULL || (n > 0 && (y == NULL || fitted == NULL)))
        return -EINVAL;
    if (!isfinite(sensitivity) || sensitivity <= 0.0)
        return -EINVAL;
    if (n > KPI_ANOMALY_MAX_POINTS)
        return -E2BIG;

    res = calloc(1, sizeof(*res));
    if (res == NULL)
        return -ENOMEM;
    res->sensitivity = sensitivity;
    res->scale_kind = KPI_ANOMALY_SCALE_NONE;

    resid = malloc((n > 0 ? n : 1) * sizeof(*resid));
    where = malloc((n > 0 ? n : 1) * sizeof(*where));
    work = malloc((n > 0 ? n : 1) * sizeof(*work));
    dev = malloc((n > 0 ? n : 1) * sizeof(*dev));
    if (resid == NULL || where == NULL || work == NULL || dev == NULL) {
        r = -ENOMEM;
        goto out;
    }

    for (size_t i = 0; i < n; i++) {
        double e = y[i] - fitted[i];
        if (!isfinite(y[i]) || !isfinite(fitted[i]) || !isfinite(e))
            continue;
        resid[n_used] = e;
        where[n_used] = i;
        n_used++;
        if (fabs(y[i]) > ymax)
            ymax = fabs(y[i]);
    }
    res->n_used = n_used;
    if (n_used < 3)
        goto done;

    memcpy(work, resid, n_used * sizeof(*work));
    double centre = median_inplace(work, n_used);
    double floor_dev = NOISE_REL * ymax;
    double sum_dev = 0.0;
    for (size_t j = 0; j < n_used; j++) {
        double d = fabs(resid[j] - centre);
        if (d <= floor_dev)
            d = 0.0;
        dev[j] = d;
        sum_dev += d;
    }
    res->centre = centre;

    memcpy(work, dev, n_used * sizeof(*work));
    double mad = median_inplace(work, n_used);
    double scale = 0.0;
    if (mad > 0.0) {
        scale = MAD_TO_SIGMA * mad;
        res->scale_kind = KPI_ANOMALY_SCALE_MAD;
    } else if (sum_dev > 0.0) {
        scale = MEAN_AD_TO_SIGMA * (sum_dev / (double)n_used);
        res->scale_kind = KPI_ANOMALY_SCALE_MEAN_AD;
    }
    if (!isfinite(scale) || scale <= 0.0) {
        res->scale_kind = KPI_ANOMALY_SCALE_NONE;
        goto done;
    }
    res->scale = scale;
    res->lower = centre - sensitivity * scale;
    res->upper = centre + sensitivity * scale;
    if (!isfinite(res->lower) || !isfinite(res->upper)) {
        r = -ERANGE;
        goto out;
    }

    size_t n_flag = 0;
    for (size_t j = 0; j < n_used; j++) {
        if (dev[j] > sensitivity * scale)
            n_flag++;
    }
    if (n_flag == 0)
        goto done;
    res->items = calloc(n_flag, sizeof(*res->items));
    if (res->items == NULL) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t j = 0; j < n_used; j++) {
        if (!(dev[j] > sensitivity * scale))
            continue;
        struct kpi_anomaly *a = &res->items[res->n_items++];
        double z = (resid[j] - centre) / scale;
        a->index = where[j];
        a->residual = resid[j];
        a->z = isfinite(z) ? z : (resid[j] > centre ? 1e308 : -1e308);
        a->direction = resid[j] > centre ? KPI_ANOMALY_SPIKE : KPI_ANOMALY_DIP;
    }

done:
    *ret_result = res;
    res = NULL;
out:
    free(resid);
    free(where);
    free(work);
    free(dev);
    kpi_anomaly_result_free(res);
    return r;
}

int kpi_anomaly_rolling_median(const double *y, size_t n, size_t window, double **ret_fitted)
{
    double *fitted = NULL;
    double *buf = NULL;

    if (ret_fitted == NULL || (n > 0 && y == NULL))
        return -EINVAL;
    if (window < 3 || window % 2 == 0 || window > KPI_ANOMALY_MAX_WINDOW)
        return -EINVAL;
    if (n > KPI_ANOMALY_MAX_POINTS)
        return -E2BIG;
    if (n == 0) {
        *ret_fitted = NULL;
        return 0;
    }

    fitted = malloc(n * sizeof(*fitted));
    buf = malloc(window * sizeof(*buf));
    if (fitted == NULL || buf == NULL) {
        free(fitted);
        free(buf);
        return -ENOMEM;
    }

    size_t half = window / 2;
    size_t w = window < n ? window : n;
    for (size_t i = 0; i < n; i++) {
        size_t start = i > half ? i - half : 0;
        if (start + w > n)
            start = n - w;
        size_t m = 0;
        for (size_t j = start; j < start + w; j++) {
            if (j != i && isfinite(y[j]))
                buf[m++] = y[j];
        }
        fitted[i] = m > 0 ? median_inplace(buf, m) : NAN;
    }
    free(buf);
    *ret_fitted = fitted;
    return 0;
}
