/*
 * Judging a KPI (DESIGN.md section 3, "Targets and status"): validating and choosing targets, and
 * computing the status object of one KPI as of a day from its period values: the judged period,
 * expected value (paced for the unfinished period of a sum or count KPI), tolerance, status,
 * progress, staleness and the trend fields. Every rule is stated in include/kpi/status.h and
 * implemented literally; nothing is rounded. Pure computation: no I/O, no allocation.
 */
#include "kpi/status.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

#include "kpi/time.h"

static const char *const status_names[KPI_STATUS__COUNT] = {
    [KPI_STATUS_ON_TRACK] = "on_track",   [KPI_STATUS_AT_RISK] = "at_risk", [KPI_STATUS_OFF_TRACK] = "off_track",
    [KPI_STATUS_NO_TARGET] = "no_target", [KPI_STATUS_NO_DATA] = "no_data",
};

const char *kpi_status_name(enum kpi_status s)
{
    if ((int)s < 0 || s >= KPI_STATUS__COUNT)
        return NULL;
    return status_names[s];
}

static int check_finite(double v, const char *field, struct kpi_diag *diag)
{
    if (!isfinite(v))
        return kpi_diag_set(diag, -EINVAL, "%s: must be a finite number", field);
    return 0;
}

static int check_day(int64_t day, const char *field, struct kpi_diag *diag)
{
    if (day < KPI_DAY_MIN || day > KPI_DAY_MAX)
        return kpi_diag_set(diag, -EINVAL, "%s: must be from 0001-01-01 to 9999-12-31", field);
    return 0;
}

int kpi_target_validate(const struct kpi_target *t, enum kpi_direction dir, struct kpi_diag *diag)
{
    if (!t)
        return kpi_diag_set(diag, -EINVAL, "target: missing");
    if ((int)dir < 0 || dir >= KPI_DIR__COUNT)
        return kpi_diag_set(diag, -EINVAL, "direction: unknown value");
    int r = check_finite(t->baseline, "baseline", diag);
    if (r < 0)
        return r;
    r = check_day(t->baseline_day, "baseline_date", diag);
    if (r < 0)
        return r;
    r = check_day(t->day, "date", diag);
    if (r < 0)
        return r;
    if (t->day <= t->baseline_day) {
        char base[16];
        kpi_date_format(t->baseline_day, base, sizeof(base));
        return kpi_diag_set(diag, -EINVAL, "date: must be after baseline_date (%s)", base);
    }
    if (dir == KPI_DIR_RANGE) {
        r = check_finite(t->low, "low", diag);
        if (r < 0)
            return r;
        r = check_finite(t->high, "high", diag);
        if (r < 0)
            return r;
        if (t->low > t->high)
            return kpi_diag_set(diag, -EINVAL, "low: must not be greater than high");
    } else {
        r = check_finite(t->value, "value", diag);
        if (r < 0)
            return r;
    }
    /* Written so that NaN fails too. */
    if (!(t->at_risk_pct >= 0.0 && t->at_risk_pct <= 1000.0))
        return kpi_diag_set(diag, -EINVAL, "at_risk_pct: must be from 0 to 1000");
    return 0;
}

const struct kpi_target *kpi_target_choose(const struct kpi_target *targets, size_t n, int64_t te)
{
    if (!targets || n == 0)
        return NULL;
    /* 1. Covering te: the latest baseline_date; on a tie the one ending first, then array order. */
    const struct kpi_target *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct kpi_target *t = &targets[i];
        if (t->baseline_day > te || t->day < te)
            continue;
        if (!best || t->baseline_day > best->baseline_day || (t->baseline_day == best->baseline_day && t->day < best->day))
            best = t;
    }
    if (best)
        return best;
    /* 2. The latest one whose date is before te; on a tie the latest baseline_date, then array order. */
    for (size_t i = 0; i < n; i++) {
        const struct kpi_target *t = &targets[i];
        if (t->day >= te)
            continue;
        if (!best || t->day > best->day || (t->day == best->day && t->baseline_day > best->baseline_day))
            best = t;
    }
    if (best)
        return best;
    /* 3. Every target starts after te: the earliest baseline_date; on a tie the one ending first. */
    for (size_t i = 0; i < n; i++) {
        const struct kpi_target *t = &targets[i];
        if (!best || t->baseline_day < best->baseline_day || (t->baseline_day == best->baseline_day && t->day < best->day))
            best = t;
    }
    return best;
}

/* A period has data when it holds at least one point and its aggregation gave a finite value. */
static bool row_has_data(const struct kpi_series_row *row)
{
    return row->n_points > 0 && row->has_value && isfinite(row->value);
}

/* Index of the row of the period starting on first_day among rows[0..n), or -1. Rows are sorted. */
static ptrdiff_t find_row(const struct kpi_series_row *rows, size_t n, int64_t first_day)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rows[mid].period.first_day < first_day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && rows[lo].period.first_day == first_day)
        return (ptrdiff_t)lo;
    return -1;
}

/* Index of the row just before row i when it is the adjacent period and has data, else -1. */
static ptrdiff_t previous_with_data(const struct kpi_series_row *rows, size_t i)
{
    if (i == 0)
        return -1;
    const struct kpi_series_row *prev = &rows[i - 1];
    if (prev->period.last_day + 1 != rows[i].period.first_day || !row_has_data(prev))
        return -1;
    return (ptrdiff_t)(i - 1);
}

/* Distance of v to [low, high]: 0 inside. */
static double range_distance(double v, double low, double high)
{
    if (v < low)
        return low - v;
    if (v > high)
        return v - high;
    return 0.0;
}

static struct kpi_opt opt_of(double v)
{
    return (struct kpi_opt){.has = true, .v = v};
}

/* (v - ref) / |ref| * 100, none when ref is 0. */
static struct kpi_opt percent_change(double v, double ref)
{
    if (ref == 0.0)
        return (struct kpi_opt){0};
    return opt_of((v - ref) / fabs(ref) * 100.0);
}

/* The status of v against a range target. */
static enum kpi_status judge_range(double v, const struct kpi_target *t)
{
    if (v >= t->low && v <= t->high)
        return KPI_STATUS_ON_TRACK;
    double width = t->low == t->high ? fabs(t->high) : t->high - t->low;
    double margin = t->at_risk_pct / 100.0 * width;
    if (range_distance(v, t->low, t->high) <= margin)
        return KPI_STATUS_AT_RISK;
    return KPI_STATUS_OFF_TRACK;
}

/* The expected value on day te: b + (T - b) * clamp((te - t0) / (t1 - t0), 0, 1). */
static double expected_on(const struct kpi_target *t, int64_t te)
{
    double frac;
    if (t->day <= t->baseline_day) /* invalid target: judge against T from its date on */
        frac = te >= t->day ? 1.0 : 0.0;
    else
        frac = (double)(te - t->baseline_day) / (double)(t->day - t->baseline_day);
    if (frac < 0.0)
        frac = 0.0;
    if (frac > 1.0)
        frac = 1.0;
    return t->baseline + (t->value - t->baseline) * frac;
}

/* Status, expected, target and progress of the judged value v against an up/down target. */
static void judge_directed(struct kpi_status_result *res, enum kpi_direction dir, bool pace, double v, const struct kpi_period *p,
                           int64_t as_of_day, const struct kpi_target *t)
{
    double b = t->baseline, target = t->value;
    double e = expected_on(t, p->last_day);
    if (pace) {
        int64_t elapsed = as_of_day - p->first_day + 1;
        e = e * (double)elapsed / (double)kpi_period_days(p);
        res->paced = true;
    }
    double tol = t->at_risk_pct / 100.0 * (target == b ? fabs(target) : fabs(target - b));
    if (dir == KPI_DIR_UP) {
        if (v >= e)
            res->status = KPI_STATUS_ON_TRACK;
        else if (v >= e - tol)
            res->status = KPI_STATUS_AT_RISK;
        else
            res->status = KPI_STATUS_OFF_TRACK;
    } else {
        if (v <= e)
            res->status = KPI_STATUS_ON_TRACK;
        else if (v <= e + tol)
            res->status = KPI_STATUS_AT_RISK;
        else
            res->status = KPI_STATUS_OFF_TRACK;
    }
    res->expected = opt_of(e);
    res->target = opt_of(target);
    if (target != b)
        res->progress = opt_of((v - b) / (target - b) * 100.0);
}

/* True when the move from a to b (consecutive periods) goes the bad way. */
static bool bad_move(enum kpi_direction dir, const struct kpi_target *range, double a, double b)
{
    switch (dir) {
    case KPI_DIR_UP:
        return b < a;
    case KPI_DIR_DOWN:
        return b > a;
    default:
        return range_distance(b, range->low, range->high) > range_distance(a, range->low, range->high);
    }
}

/* Trend fields of the judged row j: change, year-over-year, improving, streak. */
static void compute_trend(struct kpi_status_result *res, const struct kpi_calendar *cal, enum kpi_direction dir,
                          const struct kpi_series_row *rows, size_t j, const struct kpi_target *applied)
{
    double v = rows[j].value;
    const struct kpi_target *range = dir == KPI_DIR_RANGE ? applied : NULL;
    bool can_judge_moves = dir != KPI_DIR_RANGE || range;

    ptrdiff_t prev = previous_with_data(rows, j);
    if (prev >= 0) {
        double vp = rows[prev].value;
        res->change_abs = opt_of(v - vp);
        res->change_pct = percent_change(v, vp);
        if (dir == KPI_DIR_UP)
            res->improving = v - vp > 0.0;
        else if (dir == KPI_DIR_DOWN)
            res->improving = v - vp < 0.0;
        else if (range)
            res->improving = range_distance(v, range->low, range->high) < range_distance(vp, range->low, range->high);
    }

    /* Year over year: the period holding the same calendar day a year before the first day. */
    int y, m, d;
    kpi_civil_from_days(rows[j].period.first_day, &y, &m, &d);
    if (y > 1) {
        int dim = kpi_days_in_month(y - 1, m);
        if (d > dim)
            d = dim;
        struct kpi_period ly;
        if (kpi_period_of_day(cal, rows[j].period.gran, kpi_days_from_civil(y - 1, m, d), &ly) == 0) {
            ptrdiff_t k = find_row(rows, j, ly.first_day);
            if (k >= 0 && row_has_data(&rows[k]))
                res->yoy_pct = percent_change(v, rows[k].value);
        }
    }

    int streak = 0;
    if (can_judge_moves) {
        size_t i = j;
        for (;;) {
            ptrdiff_t q = previous_with_data(rows, i);
            if (q < 0 || !bad_move(dir, range, rows[q].value, rows[i].value) || streak == INT_MAX)
                break;
            streak++;
            i = (size_t)q;
        }
    }
    res->streak = streak;
}

int kpi_status_compute(const struct kpi_calendar *cal, const struct kpi_def *d, const struct kpi_target *targets, size_t n_targets,
                       const struct kpi_series_row *rows, size_t n_rows, int64_t as_of_day, struct kpi_status_result *ret_result)
{
    if (!cal || !d || !ret_result || (n_rows > 0 && !rows) || (n_targets > 0 && !targets))
        return -EINVAL;
    if ((int)d->direction < 0 || d->direction >= KPI_DIR__COUNT || (int)d->aggregation < 0 || d->aggregation >= KPI_AGG__COUNT)
        return -EINVAL;
    struct kpi_period current;
    int r = kpi_period_of_day(cal, d->granularity, as_of_day, &current);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n_rows; i++) {
        if (rows[i].period.gran != d->granularity || (i > 0 && rows[i].period.first_day <= rows[i - 1].period.first_day))
            return -EINVAL;
    }

    struct kpi_status_result res = {
        .status = KPI_STATUS_NO_DATA,
        .improving = -1,
        .stale = true,
    };
    /* Rows after the current period (as-of before them) are not looked at. */
    size_t n = n_rows;
    while (n > 0 && rows[n - 1].period.first_day > current.last_day)
        n--;

    /* Stale: the period before the current one has no data. */
    struct kpi_period last_complete;
    if (kpi_period_shift(cal, &current, -1, &last_complete) == 0) {
        ptrdiff_t k = find_row(rows, n, last_complete.first_day);
        res.stale = !(k >= 0 && row_has_data(&rows[k]));
    }

    size_t j = n;
    while (j > 0 && !row_has_data(&rows[j - 1]))
        j--;
    if (j == 0) {
        *ret_result = res;
        return 0;
    }
    j--;
    const struct kpi_series_row *row = &rows[j];
    double v = row->value;
    res.has_period = true;
    res.period = row->period;
    res.value = opt_of(v);

    const struct kpi_target *t = kpi_target_choose(targets, n_targets, row->period.last_day);
    res.applied = t;
    if (!t) {
        res.status = KPI_STATUS_NO_TARGET;
    } else if (d->direction == KPI_DIR_RANGE) {
        res.low = opt_of(t->low);
        res.high = opt_of(t->high);
        res.status = judge_range(v, t);
    } else {
        bool is_current = row->period.first_day == current.first_day;
        bool pace =
            is_current && as_of_day < row->period.last_day && (d->aggregation == KPI_AGG_SUM || d->aggregation == KPI_AGG_COUNT);
        judge_directed(&res, d->direction, pace, v, &row->period, as_of_day, t);
    }
    switch (res.status) {
    case KPI_STATUS_ON_TRACK:
        res.score = opt_of(100.0);
        break;
    case KPI_STATUS_AT_RISK:
        res.score = opt_of(50.0);
        break;
    case KPI_STATUS_OFF_TRACK:
        res.score = opt_of(0.0);
        break;
    default:
        break;
    }
    compute_trend(&res, cal, d->direction, rows, j, t);
    *ret_result = res;
    return 0;
}
