/*
 * Anomaly detection on a KPI's period series (DESIGN.md section 3, "Forecast, anomalies,
 * insights"): a point is anomalous when its residual from a fitted model lies beyond a robust,
 * MAD-based bound. Pure computation: the caller passes observed values and fitted values from any
 * model (normally the ETS one-step-ahead fits); kpi_anomaly_rolling_median() builds fallback fitted
 * values when there is no model.
 *
 * Rules:
 * - Residuals r_i = y_i - fitted_i over the "usable" points, those where both are finite; other
 *   points are skipped (never flagged, not counted). Fewer than 3 usable points: nothing flagged.
 * - Centre m = median(r); deviations d_i = |r_i - m|, where a deviation at most 1e-9 times the
 *   largest |y_i| (rounding noise) counts as 0. Scale s = 1.4826 * median(d) (the MAD, consistent
 *   with the standard deviation under normal noise).
 * - MAD = 0 (more than half the residuals equal the centre): s falls back to 1.2533 * mean(d)
 *   (the mean absolute deviation, as in Iglewicz and Hoaglin's modified z-score), so z stays
 *   finite and only points whose residual differs from the centre can be flagged; `scale_kind`
 *   says so. All deviations 0: nothing is flagged.
 * - A point is flagged when d_i > k * s (strictly), k the sensitivity (default 3.5, must be finite
 *   and > 0; a larger k flags a subset). Its robust z-score is (r_i - m) / s; direction spike when
 *   r_i > m, dip when below. lower/upper are the residual bounds m -/+ k * s.
 * - Every output number is finite (no NaN, no inf).
 */
#ifndef KPI_ANOMALY_H
#define KPI_ANOMALY_H

#include <stddef.h>

#define KPI_ANOMALY_DEFAULT_SENSITIVITY 3.5
/* Limits on user-controlled sizes. */
#define KPI_ANOMALY_MAX_POINTS 100000
#define KPI_ANOMALY_MAX_WINDOW 367

enum kpi_anomaly_direction {
    KPI_ANOMALY_DIP = -1,
    KPI_ANOMALY_SPIKE = 1,
};

enum kpi_anomaly_scale_kind {
    KPI_ANOMALY_SCALE_NONE,    /* fewer than 3 usable points, or every residual equal: nothing flagged */
    KPI_ANOMALY_SCALE_MAD,     /* 1.4826 * MAD */
    KPI_ANOMALY_SCALE_MEAN_AD, /* MAD was 0: 1.2533 * mean absolute deviation */
};

struct kpi_anomaly {
    size_t index;    /* into y[] / fitted[] */
    double residual; /* y - fitted */
    double z;        /* (residual - centre) / scale, signed */
    enum kpi_anomaly_direction direction;
};

struct kpi_anomaly_result {
    struct kpi_anomaly *items; /* flagged points in increasing index order */
    size_t n_items;
    size_t n_used; /* usable (finite) points */
    double sensitivity;
    double centre; /* median residual (0 when n_used is 0) */
    double scale;  /* 0 with KPI_ANOMALY_SCALE_NONE */
    double lower;  /* centre - k * scale */
    double upper;  /* centre + k * scale */
    enum kpi_anomaly_scale_kind scale_kind;
};

/* Flags anomalies among n points. y and fitted may be NULL only when n is 0. sensitivity must be
 * finite and > 0 (use KPI_ANOMALY_DEFAULT_SENSITIVITY). Returns 0 and *ret_result (free with
 * kpi_anomaly_result_free), -EINVAL for bad arguments, -E2BIG above KPI_ANOMALY_MAX_POINTS,
 * -ENOMEM. */
int kpi_anomaly_detect(const double *y, const double *fitted, size_t n, double sensitivity, struct kpi_anomaly_result **ret_result);

/* NULL-safe; returns NULL. */
struct kpi_anomaly_result *kpi_anomaly_result_free(struct kpi_anomaly_result *result);

/* Fallback model for a caller without one: fitted_i = median of the finite y values among the
 * other points of a window of `window` points (odd, 3..KPI_ANOMALY_MAX_WINDOW; 5 or more for
 * robustness, as 2 neighbours are simply averaged) centred on i. The point itself is left out, so
 * its own value never pulls its fit (which would shrink the residuals and the MAD). Near the ends
 * the window keeps its size and shifts inwards (clipped to the series when n < window), so an end
 * point is judged against neighbours on one side. No finite neighbour gives NaN (the point is
 * then skipped by kpi_anomaly_detect). Returns 0 and *ret_fitted (n doubles, free()), -EINVAL,
 * -E2BIG, -ENOMEM; n = 0 gives *ret_fitted = NULL. */
int kpi_anomaly_rolling_median(const double *y, size_t n, size_t window, double **ret_fitted);

#endif
