/*
 * Deterministic insight sentences (see kpi/insight.h). Built with bounded snprintf appends: a long
 * name or many keys truncate the sentence, never overflow it.
 */
#include "kpi/insight.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kpi/format.h"
#include "kpi/time.h"

struct text {
    char *buf;
    size_t size, len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = (size_t)n >= t->size - t->len ? t->size - 1 : t->len + (size_t)n;
}

static const char *periods_word(enum kpi_granularity g, int n)
{
    static const char *const one[] = {"day", "week", "month", "quarter", "year"};
    static const char *const many[] = {"days", "weeks", "months", "quarters", "years"};
    if ((unsigned)g >= KPI_GRAN__COUNT)
        return n == 1 ? "period" : "periods";
    return n == 1 ? one[g] : many[g];
}

int kpi_insight_kpi(const struct kpi_insight_input *in, char *buf, size_t size)
{
    if (!in || !in->def || !in->status || !buf || size == 0)
        return -EINVAL;
    const struct kpi_def *d = in->def;
    const struct kpi_status_result *st = in->status;
    const char *name = d->name ? d->name : d->key;
    struct text t = {buf, size, 0};
    buf[0] = '\0';
    char value[64] = "", expected[64] = "", period[KPI_PERIOD_LABEL_MAX] = "";
    if (st->value.has)
        kpi_value_format(d, st->value.v, value, sizeof(value));
    if (st->expected.has)
        kpi_value_format(d, st->expected.v, expected, sizeof(expected));
    if (st->has_period)
        kpi_period_format(in->cal, &st->period, period, sizeof(period));

    if (st->status == KPI_STATUS_NO_DATA) {
        add(&t, "%s has no data yet.", name);
        return 0;
    }
    if (st->streak >= 2) {
        const char *move =
            d->direction == KPI_DIR_UP ? "fell" : (d->direction == KPI_DIR_DOWN ? "rose" : "moved away from its range");
        add(&t, "%s %s %d %s in a row", name, move, st->streak, periods_word(d->granularity, st->streak));
    } else if (st->status == KPI_STATUS_NO_TARGET) {
        add(&t, "%s is %s in %s and has no target", name, value, period);
    } else {
        const char *state =
            st->status == KPI_STATUS_ON_TRACK ? "on track" : (st->status == KPI_STATUS_AT_RISK ? "at risk" : "off track");
        add(&t, "%s is %s", name, state);
        if (st->value.has && st->expected.has)
            add(&t, " (%s against %s expected for %s)", value, expected, period);
        else if (st->value.has)
            add(&t, " (%s in %s)", value, period);
    }
    if (in->has_p && in->target && d->direction != KPI_DIR_RANGE) {
        char date[16], goal[64];
        kpi_date_format(in->target->day, date, sizeof(date));
        kpi_value_format(d, in->target->value, goal, sizeof(goal));
        add(&t, "; at this pace the %s target of %s will be %s (p = %.2f)", date, goal, in->p >= 0.5 ? "met" : "missed", in->p);
    }
    add(&t, ".");
    if (st->stale)
        add(&t, " Data is stale: the last complete %s has no data.", periods_word(d->granularity, 1));
    return 0;
}

int kpi_insight_scorecard(const struct kpi_def *const *defs, const enum kpi_status *statuses, size_t n, char *buf, size_t size)
{
    if (!buf || size == 0 || (n && (!defs || !statuses)))
        return -EINVAL;
    struct text t = {buf, size, 0};
    buf[0] = '\0';
    size_t count[KPI_STATUS__COUNT] = {0};
    for (size_t i = 0; i < n; i++)
        if ((unsigned)statuses[i] < KPI_STATUS__COUNT)
            count[statuses[i]]++;
    add(&t, "%zu KPI%s:", n, n == 1 ? "" : "s");
    static const char *const words[] = {"on track", "at risk", "off track", "without target", "without data"};
    bool first = true;
    for (int s = 0; s < KPI_STATUS__COUNT; s++) {
        if (!count[s])
            continue;
        add(&t, "%s %zu %s", first ? "" : ",", count[s], words[s]);
        first = false;
        /* Name the ones that need attention. */
        if (s == KPI_STATUS_AT_RISK || s == KPI_STATUS_OFF_TRACK) {
            size_t named = 0;
            add(&t, " (");
            for (size_t i = 0; i < n; i++) {
                if ((int)statuses[i] != s)
                    continue;
                if (named == 5) {
                    add(&t, " and %zu more", count[s] - named);
                    break;
                }
                add(&t, "%s%s", named ? ", " : "", defs[i]->key);
                named++;
            }
            add(&t, ")");
        }
    }
    add(&t, ".");
    return 0;
}
