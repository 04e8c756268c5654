/*
 * The demo organisation behind `kpi demo`: a catalog of KPI definitions for "Acme Analytics", a
 * ~150-person SaaS company, with a generator model per KPI, and the deterministic generator that
 * turns the catalog into points. Pure computation: no database, no clock, no I/O. The generator
 * hands every point to a callback, so cmd_demo.c decides how points are stored and this file can
 * be reasoned about (and tested) as "same seed, same days -> same values".
 *
 * Days are local calendar days (days since 1970-01-01, see kpi/time.h). Periods here are the
 * organisation's calendar with fiscal_year_start = 1, which the demo sets.
 */
#ifndef KPI_CLI_DEMO_H
#define KPI_CLI_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi/dims.h"

#define DEMO_ORG_NAME "Acme Analytics"
#define DEMO_TIMEZONE "Europe/Berlin"
#define DEMO_FISCAL_YEAR_START 1
#define DEMO_TEAMS 7
#define DEMO_AXES_MAX 2
#define DEMO_AXIS_VALUES_MAX 4
#define DEMO_COMBOS_MAX (DEMO_AXIS_VALUES_MAX * DEMO_AXIS_VALUES_MAX)
#define DEMO_TERMS_MAX 3
#define DEMO_YEARS_MAX 10

/* What the underlying daily quantity is. */
enum demo_kind {
    DEMO_FLOW,  /* an amount per day (revenue, sign-ups): periods sum it */
    DEMO_LEVEL, /* a state observed each day (users, latency, a rate) */
    DEMO_STOCK, /* a level accumulated from other KPIs' flows, anchored at --today (MRR, cash) */
    DEMO_SCALE, /* a multiple of other KPIs' daily values (ARR = 12 x MRR) */
};

/* When points are written: every day, or once per complete period on its last day. */
enum demo_cadence { DEMO_DAILY, DEMO_WEEKLY, DEMO_MONTHLY, DEMO_QUARTERLY };

/* Weekday profile of a daily quantity (normalised to a mean of 1 over a week). */
enum demo_week { DEMO_WEEK_FLAT, DEMO_WEEK_B2B, DEMO_WEEK_WEB, DEMO_WEEK_APP };

/* How a flow's daily amount is drawn around its expected value. */
enum demo_draw {
    DEMO_DRAW_REAL,     /* expected value times relative noise, rounded to the KPI's decimals */
    DEMO_DRAW_POISSON,  /* an integer count of events */
    DEMO_DRAW_COMPOUND, /* a Poisson number of events of log-normal size (deals, cancellations) */
};

/* One dimension axis (region, channel ...) and its values' shares of the total on --today. */
struct demo_axis {
    const char *key;
    size_t n;
    struct {
        const char *value;
        double share;    /* share of the total on --today (an axis sums to 1) */
        double drift;    /* yearly relative growth of the share: > 0 gains share over time */
        double campaign; /* how much of the campaign boost lands on this value (0..1+) */
    } v[DEMO_AXIS_VALUES_MAX];
};

/* A term of a STOCK or SCALE model: coef x another KPI's daily values. */
struct demo_term {
    const char *key;
    double coef;
};

struct demo_model {
    enum demo_kind kind;
    enum demo_cadence cadence;
    bool current;  /* also write the unfinished current period on --today (snapshots of stocks) */
    double level;  /* expected daily value on --today (the anchor of the trend) */
    double growth; /* per year: relative (0.3 = +30 %) or, when additive, units per year */
    bool additive; /* trend, noise and incident effects in units instead of relative */
    double noise;  /* standard deviation of the daily noise (relative, or units when additive) */
    double phi;    /* AR(1) persistence of the noise: 0 = white, 0.95 = slow wander */
    enum demo_week week;
    double season;    /* 0..1: strength of the December dip and the summer slowdown */
    bool quarter_end; /* sales push: the last two weeks of a quarter close more */
    enum demo_draw draw;
    double event_size; /* DEMO_DRAW_COMPOUND: mean size of one event */
    double min, max;   /* clamp of the daily value */
    /* Incident effects: relative (or additive) change at full intensity. For flows, `loss` is an
     * absolute extra amount on the day the big customer leaves; for levels it lasts 30 days. */
    double outage, campaign, loss;
    const struct demo_axis *axes[DEMO_AXES_MAX];
    int stale; /* stop writing this many complete periods before --today */
    struct demo_term terms[DEMO_TERMS_MAX];
};

/* A catalog entry: the definition as the text `kpi add` takes, plus the generator model. */
struct demo_kpi {
    const char *key, *name, *description, *unit, *format;
    int decimals;
    const char *direction, *aggregation, *granularity, *tier, *indicator, *owner, *team, *parent;
    double weight;
    const char *review_cadence, *tags;
    struct demo_model m;
};

/* The catalog, in insertion order (every parent before its children). */
extern const struct demo_kpi demo_kpis[];
extern const size_t demo_n_kpis;
extern const char *const demo_teams[DEMO_TEAMS];

/* A derived KPI of the demo: its definition as the text `kpi add` takes. */
struct demo_derived {
    const char *key, *name, *description, *unit, *format;
    int decimals;
    const char *direction, *granularity, *tier, *owner, *team, *formula, *tags;
};

extern const struct demo_derived demo_derived[];
extern const size_t demo_n_derived;

/* A target (DESIGN.md section 3) of the demo, stored by `kpi demo`. Expressed relative
 * to the catalog's trend so it stays meaningful for any --today: the baseline is the trend's
 * period value at the start of the fiscal year containing --today, the target its value at the
 * year's end times (1 + stretch) (plus stretch for additive KPIs); range KPIs give low/high. */
struct demo_target {
    const char *key;
    double stretch;
    double low, high; /* range KPIs only */
    double at_risk_pct;
};

extern const struct demo_target demo_targets[];
extern const size_t demo_n_targets;

/* A target with concrete numbers and dates for a given --today. */
struct demo_target_value {
    const char *key;
    bool range;
    double baseline;
    int64_t baseline_day;
    double value, low, high;
    int64_t day;
    double at_risk_pct;
};

int demo_target_resolve(const struct demo_target *t, int64_t today, struct demo_target_value *ret_v);

/* The incident days for a history [first, today]. */
struct demo_incidents {
    int64_t campaign; /* first day of a three-week paid campaign */
    int64_t loss;     /* the day the biggest customer cancels */
    int64_t outage;   /* Monday of the outage week */
};

void demo_incidents_for(int64_t first, int64_t today, struct demo_incidents *ret_inc);

/* First day of history: the first day of the month `years * 12 - 1` months before today's, so the
 * history holds exactly years * 12 monthly periods. */
int64_t demo_first_day(int64_t today, int years);

/* Number of dimension combinations of a KPI (1 without dims) and the pairs of one of them. */
size_t demo_combos(const struct demo_kpi *k);
size_t demo_combo_dims(const struct demo_kpi *k, size_t combo, struct kpi_dim ret_dims[DEMO_AXES_MAX]);

/* Receives one point: KPI, dimension combination, local day, value. Non-zero stops the run. */
typedef int (*demo_emit_fn)(void *ctx, size_t kpi_index, size_t combo, int64_t day, double value);

/* Generates every KPI's points for days [first, today] from seed, in catalog order. Returns 0,
 * -ENOMEM, -EINVAL (bad catalog or range) or the callback's non-zero value. */
int demo_generate(uint64_t seed, int64_t first, int64_t today, demo_emit_fn emit, void *ctx);

#endif
