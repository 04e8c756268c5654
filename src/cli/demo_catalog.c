/*
 * The demo organisation "Acme Analytics" (see demo.h): the KPI catalog, the targets, and
 * the deterministic generator of their history.
 *
 * Every KPI's history is built from an anchor (its expected value on --today) and a yearly trend
 * going backwards, so a KPI looks the same on its last day whatever --years is. On top of the trend
 * come a weekday profile (B2B dips at weekends), an annual season (December holidays, summer
 * slowdown), AR(1) noise and three incidents placed at fixed fractions of the history: a paid
 * campaign, the loss of the biggest customer, and an outage week. MRR and cash are not drawn but
 * accumulated from the flows that move them, so that MRR(end of month) - MRR(end of the previous
 * month) is exactly new + expansion - churned of that month.
 *
 * Randomness is a xoshiro256** stream per KPI, seeded from the --seed and the KPI key with
 * splitmix64, so adding a KPI to the catalog does not change the others' data. Normal deviates come
 * from Box-Muller. No rand()/random(), no clock: the same seed and days give the same points.
 *
 * Derived KPIs (demo_derived below) are computed from the measured ones by their formulas.
 */
#include "cli/demo.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "kpi/time.h"

/* Owners: "name <e-mail>" mostly, a bare e-mail for one, as people type them. */
#define OWNER_CEO "Maria Keller <maria.keller@acme-analytics.example>"
#define OWNER_CFO "Lukas Brandt <lukas.brandt@acme-analytics.example>"
#define OWNER_SALES "Jonas Weber <jonas.weber@acme-analytics.example>"
#define OWNER_SALESOPS "Chloe Martin <chloe.martin@acme-analytics.example>"
#define OWNER_MARKETING "Priya Nair <priya.nair@acme-analytics.example>"
#define OWNER_PRODUCT "Sofia Rossi <sofia.rossi@acme-analytics.example>"
#define OWNER_ENG "Daniel Okafor <daniel.okafor@acme-analytics.example>"
#define OWNER_CS "tom.becker@acme-analytics.example"
#define OWNER_HR "Aylin Demir <aylin.demir@acme-analytics.example>"
#define OWNER_OPS "Erik Johansson <erik.johansson@acme-analytics.example>"

const char *const demo_teams[DEMO_TEAMS] = {"finance", "sales", "marketing", "saas", "customer_success", "hr", "operations"};

static const struct demo_axis axis_region = {"region", 3, {{"eu", 0.52, -0.04, 0}, {"us", 0.36, 0.0, 0}, {"apac", 0.12, 0.18, 0}}};
static const struct demo_axis axis_plan = {
    "plan", 3, {{"starter", 0.15, -0.10, 0}, {"growth", 0.40, 0.0, 0}, {"enterprise", 0.45, 0.07, 0}}};
/* The campaign was paid search and social: most of its lift lands on "paid". */
static const struct demo_axis axis_channel = {
    "channel",
    4,
    {{"organic", 0.40, 0.05, 0.2}, {"paid", 0.30, -0.03, 2.6}, {"referral", 0.18, 0.0, 0.3}, {"partner", 0.12, 0.12, 0.4}}};
static const struct demo_axis axis_support = {
    "channel", 3, {{"email", 0.50, -0.10, 1}, {"chat", 0.38, 0.14, 1}, {"phone", 0.12, -0.06, 1}}};
static const struct demo_axis axis_service = {
    "service", 3, {{"compute", 0.60, 0.02, 1}, {"storage", 0.25, 0.05, 1}, {"network", 0.15, -0.03, 1}}};

/* Daily rates are per-month figures / 30.44 where the comment says "a month". */
const struct demo_kpi demo_kpis[] = {
    /* finance (arr and mrr first: most cascades end there) */
    {.key = "arr",
     .name = "Annual recurring revenue",
     .description = "Twelve times MRR at the end of the period: the size of the subscription business.",
     .unit = "EUR",
     .format = "currency",
     .direction = "up",
     .aggregation = "last",
     .granularity = "month",
     .tier = "north_star",
     .indicator = "lagging",
     .owner = OWNER_CEO,
     .team = "finance",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "board,saas-metrics",
     .m = {.kind = DEMO_SCALE, .cadence = DEMO_MONTHLY, .current = true, .level = 24.0e6, .growth = 0.30, .terms = {{"mrr", 12}}}},
    {.key = "mrr",
     .name = "Monthly recurring revenue",
     .description = "Recurring subscription revenue at the end of the period; moves by new, expansion and churned MRR.",
     .unit = "EUR",
     .format = "currency",
     .direction = "up",
     .aggregation = "last",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_CFO,
     .team = "finance",
     .parent = "arr",
     .weight = 2,
     .review_cadence = "monthly",
     .tags = "board,saas-metrics",
     .m = {.kind = DEMO_STOCK,
           .cadence = DEMO_MONTHLY,
           .current = true,
           .level = 2.0e6,
           .growth = 0.30,
           .terms = {{"new_mrr", 1}, {"expansion_mrr", 1}, {"churned_mrr", -1}}}},
    {.key = "revenue",
     .name = "Invoiced revenue",
     .description = "Revenue invoiced per day (subscriptions and services) by billing region and plan. Invoices go out "
                    "on business days.",
     .unit = "EUR",
     .format = "currency",
     .direction = "up",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_CFO,
     .team = "finance",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "board,revenue",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 68000,
           .growth = 0.30,
           .noise = 0.10,
           .phi = 0.3,
           .week = DEMO_WEEK_B2B,
           .season = 0.5,
           .axes = {&axis_region, &axis_plan}}},
    {.key = "gross_margin",
     .name = "Gross margin",
     .description = "Revenue minus cost of revenue (hosting, support, payment fees), as a share of revenue; from the "
                    "monthly close.",
     .format = "percent",
     .decimals = 1,
     .direction = "up",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_CFO,
     .team = "finance",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "board,profitability",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_MONTHLY,
           .level = 77.5,
           .growth = 1.2,
           .additive = true,
           .noise = 0.6,
           .phi = 0.7,
           .max = 100}},
    {.key = "burn_rate",
     .name = "Net burn",
     .description = "Cash spent net of cash collected in the month, from the monthly close.",
     .unit = "EUR",
     .format = "currency",
     .direction = "down",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_CFO,
     .team = "finance",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "board,cash",
     .m = {.kind = DEMO_FLOW, .cadence = DEMO_MONTHLY, .level = 9500, .growth = -0.18, .noise = 0.10, .phi = 0.95}},
    {.key = "cash_balance",
     .name = "Cash balance",
     .description = "Cash and equivalents at the end of the period.",
     .unit = "EUR",
     .format = "currency",
     .direction = "up",
     .aggregation = "last",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_CFO,
     .team = "finance",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "cash",
     .m = {.kind = DEMO_STOCK, .cadence = DEMO_MONTHLY, .current = true, .level = 14.5e6, .terms = {{"burn_rate", -1}}}},
    {.key = "dso",
     .name = "Days sales outstanding",
     .description = "Average number of days between invoice and payment.",
     .unit = "days",
     .format = "number",
     .decimals = 1,
     .direction = "down",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "diagnostic",
     .indicator = "lagging",
     .owner = OWNER_CFO,
     .team = "finance",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "cash,collections",
     .m = {.kind = DEMO_LEVEL, .cadence = DEMO_MONTHLY, .level = 41, .growth = -0.05, .noise = 0.05, .phi = 0.8}},

    /* sales */
    {.key = "new_mrr",
     .name = "New business MRR",
     .description = "MRR of newly won customers, booked on the day the contract is signed, by region.",
     .unit = "EUR",
     .format = "currency",
     .direction = "up",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_SALES,
     .team = "sales",
     .parent = "arr",
     .weight = 2,
     .review_cadence = "monthly",
     .tags = "saas-metrics,bookings",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 52000 / 30.44,
           .growth = 0.30,
           .noise = 0.15,
           .phi = 0.7,
           .week = DEMO_WEEK_B2B,
           .season = 0.6,
           .quarter_end = true,
           .draw = DEMO_DRAW_COMPOUND,
           .event_size = 2600,
           .campaign = 0.25,
           .axes = {&axis_region}}},
    {.key = "expansion_mrr",
     .name = "Expansion MRR",
     .description = "Added MRR from existing customers: upgrades, seats and add-ons.",
     .unit = "EUR",
     .format = "currency",
     .direction = "up",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_SALES,
     .team = "sales",
     .parent = "arr",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "saas-metrics,bookings",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 18000 / 30.44,
           .growth = 0.30,
           .noise = 0.15,
           .phi = 0.7,
           .week = DEMO_WEEK_B2B,
           .season = 0.4,
           .draw = DEMO_DRAW_COMPOUND,
           .event_size = 900}},
    {.key = "pipeline_value",
     .name = "Qualified pipeline",
     .description = "Total value (first-year contract value) of open, qualified opportunities at the end of the week.",
     .unit = "EUR",
     .format = "currency",
     .direction = "up",
     .aggregation = "last",
     .granularity = "week",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_SALESOPS,
     .team = "sales",
     .parent = "new_mrr",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "pipeline",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_WEEKLY,
           .current = true,
           .level = 6.8e6,
           .growth = 0.28,
           .noise = 0.05,
           .phi = 0.95,
           .season = 0.3,
           .campaign = 0.15}},
    {.key = "deals_won",
     .name = "Deals won",
     .description = "New customer contracts signed.",
     .format = "number",
     .direction = "up",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_SALES,
     .team = "sales",
     .parent = "new_mrr",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "bookings",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 52000 / 2600 / 30.44,
           .growth = 0.30,
           .noise = 0.1,
           .phi = 0.5,
           .week = DEMO_WEEK_B2B,
           .season = 0.6,
           .quarter_end = true,
           .draw = DEMO_DRAW_POISSON}},
    {.key = "win_rate",
     .name = "Win rate",
     .description = "Share of qualified opportunities closed as won (weekly sales review).",
     .format = "percent",
     .decimals = 1,
     .direction = "up",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_SALESOPS,
     .team = "sales",
     .parent = "new_mrr",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "pipeline",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_WEEKLY,
           .level = 24.5,
           .growth = 0.6,
           .additive = true,
           .noise = 1.2,
           .phi = 0.5,
           .max = 100}},
    {.key = "avg_deal_size",
     .name = "Average deal size",
     .description = "Average first-year contract value of deals won in the month.",
     .unit = "EUR",
     .format = "currency",
     .direction = "up",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "diagnostic",
     .indicator = "lagging",
     .owner = OWNER_SALESOPS,
     .team = "sales",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "bookings",
     .m = {.kind = DEMO_LEVEL, .cadence = DEMO_MONTHLY, .level = 31000, .growth = 0.08, .noise = 0.07, .phi = 0.3}},
    {.key = "quota_attainment",
     .name = "Sales quota attainment",
     .description = "Bookings of the account executives against their quota, month by month.",
     .format = "percent",
     .direction = "up",
     .aggregation = "avg",
     .granularity = "quarter",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_SALES,
     .team = "sales",
     .weight = 1,
     .review_cadence = "quarterly",
     .tags = "bookings,team-performance",
     /* Deliberately sliding: the team grew faster than the market, so attainment falls. */
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_MONTHLY,
           .level = 81,
           .growth = -6,
           .additive = true,
           .noise = 3,
           .phi = 0.5,
           .season = 0}},

    /* marketing */
    {.key = "leads",
     .name = "Marketing qualified leads",
     .description = "Leads accepted as qualified by marketing, by acquisition channel.",
     .format = "number",
     .direction = "up",
     .aggregation = "sum",
     .granularity = "week",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_MARKETING,
     .team = "marketing",
     .parent = "pipeline_value",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "funnel,acquisition",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 38,
           .growth = 0.25,
           .noise = 0.10,
           .phi = 0.6,
           .week = DEMO_WEEK_B2B,
           .season = 0.5,
           .campaign = 0.7,
           .draw = DEMO_DRAW_POISSON,
           .axes = {&axis_channel}}},
    {.key = "signups",
     .name = "Trial sign-ups",
     .description = "New free-trial accounts, by acquisition channel and region.",
     .format = "number",
     .direction = "up",
     .aggregation = "sum",
     .granularity = "week",
     .tier = "strategic",
     .indicator = "leading",
     .owner = OWNER_MARKETING,
     .team = "marketing",
     .parent = "leads",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "funnel,acquisition,product-led",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 95,
           .growth = 0.32,
           .noise = 0.08,
           .phi = 0.6,
           .week = DEMO_WEEK_WEB,
           .season = 0.4,
           .campaign = 0.8,
           .draw = DEMO_DRAW_POISSON,
           .axes = {&axis_channel, &axis_region}}},
    {.key = "web_sessions",
     .name = "Website sessions",
     .description = "Sessions on the marketing website, by acquisition channel.",
     .format = "number",
     .direction = "up",
     .aggregation = "sum",
     .granularity = "week",
     .tier = "diagnostic",
     .indicator = "leading",
     .owner = OWNER_MARKETING,
     .team = "marketing",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "acquisition,web",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 5200,
           .growth = 0.20,
           .noise = 0.07,
           .phi = 0.6,
           .week = DEMO_WEEK_WEB,
           .season = 0.5,
           .campaign = 0.5,
           .draw = DEMO_DRAW_POISSON,
           .axes = {&axis_channel}}},
    {.key = "cac",
     .name = "Customer acquisition cost",
     .description = "Sales and marketing cost of the month divided by the customers won in it (blended).",
     .unit = "EUR",
     .format = "currency",
     .direction = "down",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_MARKETING,
     .team = "marketing",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "board,saas-metrics,unit-economics",
     /* Deliberately behind: paid channels got more expensive and CAC creeps up. */
     .m = {.kind = DEMO_LEVEL, .cadence = DEMO_MONTHLY, .level = 9100, .growth = 0.07, .noise = 0.05, .phi = 0.6}},
    {.key = "cost_per_lead",
     .name = "Cost per lead",
     .description = "Marketing programme spend divided by qualified leads.",
     .unit = "EUR",
     .format = "currency",
     .direction = "down",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_MARKETING,
     .team = "marketing",
     .parent = "cac",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "acquisition,unit-economics",
     .m =
         {.kind = DEMO_LEVEL, .cadence = DEMO_MONTHLY, .level = 310, .growth = -0.04, .noise = 0.08, .phi = 0.6, .campaign = -0.2}},
    {.key = "marketing_spend",
     .name = "Marketing spend",
     .description = "Programme spend (ads, events, content), from the monthly close.",
     .unit = "EUR",
     .format = "currency",
     .direction = "down",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "diagnostic",
     .indicator = "leading",
     .owner = OWNER_MARKETING,
     .team = "marketing",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "spend",
     .m = {.kind = DEMO_FLOW, .cadence = DEMO_MONTHLY, .level = 11500, .growth = 0.15, .noise = 0.1, .phi = 0.9, .campaign = 0.6}},

    /* saas (the product) */
    {.key = "weekly_active_users",
     .name = "Weekly active users",
     .description = "Distinct users active in the product in the seven days ending on the day.",
     .format = "number",
     .direction = "up",
     .aggregation = "last",
     .granularity = "week",
     .tier = "strategic",
     .indicator = "leading",
     .owner = OWNER_PRODUCT,
     .team = "saas",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "engagement,product-led",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_DAILY,
           .level = 21500,
           .growth = 0.30,
           .noise = 0.015,
           .phi = 0.9,
           .season = 0.25,
           .outage = -0.10}},
    {.key = "dau",
     .name = "Daily active users",
     .description = "Distinct users active in the product on the day.",
     .format = "number",
     .direction = "up",
     .aggregation = "avg",
     .granularity = "day",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_PRODUCT,
     .team = "saas",
     .parent = "weekly_active_users",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "engagement",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_DAILY,
           .level = 9800,
           .growth = 0.30,
           .noise = 0.03,
           .phi = 0.5,
           .week = DEMO_WEEK_APP,
           .season = 0.35,
           .outage = -0.25}},
    {.key = "activation_rate",
     .name = "Activation rate",
     .description = "Share of new trial accounts that build a first dashboard within 7 days.",
     .format = "percent",
     .decimals = 1,
     .direction = "up",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_PRODUCT,
     .team = "saas",
     .parent = "weekly_active_users",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "onboarding,product-led",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_WEEKLY,
           .level = 41,
           .growth = 2.5,
           .additive = true,
           .noise = 1.5,
           .phi = 0.4,
           .max = 100}},
    {.key = "feature_adoption",
     .name = "Alerting feature adoption",
     .description = "Share of paying accounts with at least one active alert rule. Fed by a monthly product "
                    "analytics export.",
     .format = "percent",
     .decimals = 1,
     .direction = "up",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "diagnostic",
     .indicator = "leading",
     .owner = OWNER_PRODUCT,
     .team = "saas",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "adoption",
     /* Deliberately stale: the export stopped, so the last complete month has no data. */
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_MONTHLY,
           .level = 34,
           .growth = 9,
           .additive = true,
           .noise = 0.8,
           .phi = 0.7,
           .max = 100,
           .stale = 1}},
    {.key = "trial_conversion",
     .name = "Trial-to-paid conversion",
     .description = "Share of trials ending in the month that converted to a paid plan.",
     .format = "percent",
     .decimals = 1,
     .direction = "up",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_PRODUCT,
     .team = "saas",
     .parent = "new_mrr",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "funnel,product-led",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_MONTHLY,
           .level = 17.5,
           .growth = 1.0,
           .additive = true,
           .noise = 1.0,
           .phi = 0.6,
           .max = 100}},
    {.key = "api_latency_p95",
     .name = "API latency (p95)",
     .description = "95th percentile response time of the public API over the day.",
     .unit = "ms",
     .format = "number",
     .direction = "down",
     .aggregation = "avg",
     .granularity = "week",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_ENG,
     .team = "saas",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "reliability,performance",
     .m = {.kind = DEMO_LEVEL, .cadence = DEMO_DAILY, .level = 180, .growth = -0.10, .noise = 0.08, .phi = 0.6, .outage = 1.5}},
    {.key = "deploys",
     .name = "Production deploys",
     .description = "Deployments to production (deploy freeze during incidents).",
     .format = "number",
     .direction = "up",
     .aggregation = "sum",
     .granularity = "week",
     .tier = "diagnostic",
     .indicator = "leading",
     .owner = OWNER_ENG,
     .team = "saas",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "engineering,dora",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 9,
           .growth = 0.20,
           .noise = 0.1,
           .phi = 0.5,
           .week = DEMO_WEEK_B2B,
           .season = 0.5,
           .outage = -0.7,
           .draw = DEMO_DRAW_POISSON}},

    /* customer success */
    {.key = "churned_mrr",
     .name = "Churned MRR",
     .description = "MRR lost to cancellations and downgrades, booked on the day notice is received.",
     .unit = "EUR",
     .format = "currency",
     .direction = "down",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_CS,
     .team = "customer_success",
     .parent = "arr",
     .weight = 2,
     .review_cadence = "monthly",
     .tags = "saas-metrics,retention",
     /* Grows faster than MRR (at risk); `loss` is the biggest customer cancelling. */
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 28500 / 30.44,
           .growth = 0.36,
           .noise = 0.2,
           .phi = 0.8,
           .week = DEMO_WEEK_B2B,
           .draw = DEMO_DRAW_COMPOUND,
           .event_size = 1400,
           .outage = 0.8,
           .loss = 38000}},
    {.key = "logo_churn_rate",
     .name = "Logo churn rate",
     .description = "Share of customers at the start of the month who cancelled during it.",
     .format = "percent",
     .decimals = 2,
     .direction = "down",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_CS,
     .team = "customer_success",
     .parent = "churned_mrr",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "retention",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_MONTHLY,
           .level = 1.15,
           .growth = 0.15,
           .additive = true,
           .noise = 0.12,
           .phi = 0.5,
           .outage = 0.3,
           .loss = 0.1,
           .max = 100}},
    {.key = "nps",
     .name = "Net Promoter Score",
     .description = "Promoters minus detractors from the in-app survey, per weekly batch (-100 to 100).",
     .format = "number",
     .direction = "up",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_CS,
     .team = "customer_success",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "customer-voice",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_WEEKLY,
           .level = 41,
           .growth = 2,
           .additive = true,
           .noise = 3.5,
           .phi = 0.3,
           .outage = -16,
           .min = -100,
           .max = 100}},
    {.key = "csat",
     .name = "Customer satisfaction",
     .description = "Share of support conversations rated good or great.",
     .format = "percent",
     .decimals = 1,
     .direction = "up",
     .aggregation = "avg",
     .granularity = "week",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_CS,
     .team = "customer_success",
     .parent = "nps",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "support,customer-voice",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_DAILY,
           .level = 91.5,
           .growth = 0.5,
           .additive = true,
           .noise = 1.5,
           .phi = 0.3,
           .outage = -9,
           .max = 100}},
    {.key = "support_tickets",
     .name = "Support tickets",
     .description = "Support tickets opened, by contact channel.",
     .format = "number",
     .direction = "down",
     .aggregation = "sum",
     .granularity = "week",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_CS,
     .team = "customer_success",
     .parent = "csat",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "support",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 140,
           .growth = 0.18,
           .noise = 0.08,
           .phi = 0.5,
           .week = DEMO_WEEK_B2B,
           .season = 0.4,
           .outage = 2.2,
           .draw = DEMO_DRAW_POISSON,
           .axes = {&axis_support}}},
    {.key = "first_response_time",
     .name = "First response time",
     .description = "Median time from ticket creation to the first human reply.",
     .format = "duration",
     .direction = "down",
     .aggregation = "avg",
     .granularity = "week",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_CS,
     .team = "customer_success",
     .parent = "csat",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "support,sla",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_DAILY,
           .level = 2.6 * 3600,
           .growth = -0.12,
           .noise = 0.12,
           .phi = 0.6,
           .outage = 2.5}},
    {.key = "customers",
     .name = "Paying customers",
     .description = "Customers with an active paid subscription at the end of the period.",
     .format = "number",
     .direction = "up",
     .aggregation = "last",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_CS,
     .team = "customer_success",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "saas-metrics",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_MONTHLY,
           .current = true,
           .level = 1240,
           .growth = 0.22,
           .noise = 0.004,
           .phi = 0.98}},

    /* hr */
    {.key = "headcount",
     .name = "Headcount",
     .description = "Employees (full-time equivalents) at the end of the period.",
     .unit = "FTE",
     .format = "number",
     .direction = "up",
     .aggregation = "last",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_HR,
     .team = "hr",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "people,board",
     .m =
         {.kind = DEMO_LEVEL, .cadence = DEMO_MONTHLY, .current = true, .level = 152, .growth = 0.16, .noise = 0.006, .phi = 0.99}},
    {.key = "employee_turnover",
     .name = "Voluntary turnover",
     .description = "Voluntary leavers over the last twelve months as a share of average headcount.",
     .format = "percent",
     .decimals = 1,
     .direction = "down",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_HR,
     .team = "hr",
     .parent = "headcount",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "people,retention",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_MONTHLY,
           .level = 11.5,
           .growth = 0.8,
           .additive = true,
           .noise = 0.7,
           .phi = 0.8,
           .max = 100}},
    {.key = "time_to_hire",
     .name = "Time to hire",
     .description = "Days from opening a position to a signed offer, for offers signed in the month.",
     .unit = "days",
     .format = "number",
     .direction = "down",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "diagnostic",
     .indicator = "leading",
     .owner = OWNER_HR,
     .team = "hr",
     .parent = "headcount",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "people,recruiting",
     .m = {.kind = DEMO_LEVEL, .cadence = DEMO_MONTHLY, .level = 38, .growth = -0.05, .noise = 0.10, .phi = 0.5}},
    {.key = "enps",
     .name = "Employee NPS",
     .description = "Employee net promoter score from the quarterly engagement survey (-100 to 100).",
     .format = "number",
     .direction = "up",
     .aggregation = "avg",
     .granularity = "quarter",
     .tier = "strategic",
     .indicator = "leading",
     .owner = OWNER_HR,
     .team = "hr",
     .weight = 1,
     .review_cadence = "quarterly",
     .tags = "people,engagement",
     /* Deliberately behind an ambitious target. */
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_QUARTERLY,
           .level = 24,
           .growth = -3,
           .additive = true,
           .noise = 4,
           .phi = 0.2,
           .min = -100,
           .max = 100}},
    {.key = "span_of_control",
     .name = "Span of control",
     .description = "Direct reports per people manager; healthy between 5 and 8.",
     .format = "number",
     .decimals = 1,
     .direction = "range",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "diagnostic",
     .indicator = "leading",
     .owner = OWNER_HR,
     .team = "hr",
     .weight = 1,
     .review_cadence = "quarterly",
     .tags = "people,organisation",
     .m = {.kind = DEMO_LEVEL, .cadence = DEMO_MONTHLY, .level = 6.4, .growth = 0.03, .noise = 0.02, .phi = 0.9}},

    /* operations */
    {.key = "uptime",
     .name = "Service availability",
     .description = "Share of minutes in which the application answered health checks from three regions.",
     .format = "percent",
     .decimals = 3,
     .direction = "up",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "strategic",
     .indicator = "lagging",
     .owner = OWNER_OPS,
     .team = "operations",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "reliability,sla",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_DAILY,
           .level = 99.965,
           .growth = 0.005,
           .additive = true,
           .noise = 0.02,
           .outage = -1.6,
           .max = 100}},
    {.key = "incidents",
     .name = "Production incidents",
     .description = "Incidents of severity 1 or 2 opened.",
     .format = "number",
     .direction = "down",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_OPS,
     .team = "operations",
     .parent = "uptime",
     .weight = 1,
     .review_cadence = "weekly",
     .tags = "reliability",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 0.12,
           .growth = -0.10,
           .noise = 0.1,
           .phi = 0.5,
           .outage = 6,
           .draw = DEMO_DRAW_POISSON}},
    {.key = "mttr",
     .name = "Mean time to restore",
     .description = "Average time from incident start to service restored, per week.",
     .format = "duration",
     .direction = "down",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_OPS,
     .team = "operations",
     .parent = "uptime",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "reliability,dora",
     .m = {.kind = DEMO_LEVEL, .cadence = DEMO_WEEKLY, .level = 45 * 60, .growth = -0.15, .noise = 0.2, .phi = 0.4, .outage = 2.0}},
    {.key = "cloud_cost",
     .name = "Cloud cost",
     .description = "Daily cloud bill by service (compute, storage, network).",
     .unit = "EUR",
     .format = "currency",
     .direction = "down",
     .aggregation = "sum",
     .granularity = "month",
     .tier = "operational",
     .indicator = "lagging",
     .owner = OWNER_OPS,
     .team = "operations",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "cost,infrastructure",
     .m = {.kind = DEMO_FLOW,
           .cadence = DEMO_DAILY,
           .level = 6800,
           .growth = 0.22,
           .noise = 0.04,
           .phi = 0.9,
           .outage = 0.15,
           .axes = {&axis_service}}},
    {.key = "capacity_utilisation",
     .name = "Cluster capacity utilisation",
     .description = "Average share of provisioned compute in use; below 60 % wastes money, above 80 % risks "
                    "incidents.",
     .format = "percent",
     .decimals = 1,
     .direction = "range",
     .aggregation = "avg",
     .granularity = "month",
     .tier = "operational",
     .indicator = "leading",
     .owner = OWNER_OPS,
     .team = "operations",
     .weight = 1,
     .review_cadence = "monthly",
     .tags = "cost,infrastructure",
     .m = {.kind = DEMO_LEVEL,
           .cadence = DEMO_DAILY,
           .level = 68,
           .growth = 1.5,
           .additive = true,
           .noise = 2.5,
           .phi = 0.8,
           .outage = 12,
           .max = 100}},
};

const size_t demo_n_kpis = sizeof(demo_kpis) / sizeof(demo_kpis[0]);

/* Derived KPIs: the SaaS ratios of the KPI literature, over the measured KPIs above. */
const struct demo_derived demo_derived[] = {
    {"nrr", "Net revenue retention",
     "Monthly MRR kept from existing customers, expansion included: (MRR at the start + expansion - churn) / MRR at the start.",
     "%", "percent", 1, "up", "month", "strategic", OWNER_CFO, "finance",
     "(prev(mrr) + expansion_mrr - churned_mrr) / prev(mrr) * 100", "saas,retention"},
    {"quick_ratio", "SaaS quick ratio", "New and expansion MRR per unit of churned MRR; above 4 is healthy growth.", NULL, "number",
     2, "up", "month", "operational", OWNER_CFO, "finance", "(new_mrr + expansion_mrr) / churned_mrr", "saas,efficiency"},
    {"rule_of_40", "Rule of 40", "Annualised MRR growth plus profit margin (revenue minus burn over revenue).", "%", "percent", 1,
     "up", "month", "strategic", OWNER_CEO, "finance", "growth(mrr) * 12 + (revenue - burn_rate) / revenue * 100", "saas,board"},
    {"pipeline_coverage", "Pipeline coverage",
     "Qualified pipeline over the new business expected in the next quarter (3 months of new MRR x 12).", "x", "number", 2, "up",
     "month", "diagnostic", OWNER_SALES, "sales", "pipeline_value / (sum_last(new_mrr, 3) * 4)", "sales"},
};
const size_t demo_n_derived = sizeof(demo_derived) / sizeof(demo_derived[0]);

/* Targets for the north star and the strategic KPIs (plus the two range KPIs, to show low/high).
 * A slightly negative stretch is on track (the trend is convex, the target line straight); the
 * deliberately missed ones are cac, quota_attainment, churned_mrr (at risk) and enps. */
const struct demo_target demo_targets[] = {
    {"arr", -0.04, 0, 0, 10},
    {"mrr", -0.04, 0, 0, 10},
    {"revenue", -0.05, 0, 0, 10},
    {"gross_margin", -0.5, 0, 0, 10},
    {"burn_rate", 0.03, 0, 0, 10},
    {"new_mrr", -0.06, 0, 0, 15},
    {"quota_attainment", 20, 0, 0, 10},
    {"signups", -0.05, 0, 0, 10},
    {"cac", -0.22, 0, 0, 10},
    {"weekly_active_users", -0.04, 0, 0, 10},
    {"churned_mrr", -0.12, 0, 0, 25},
    {"nps", -1, 0, 0, 20},
    {"headcount", -0.02, 0, 0, 10},
    {"enps", 14, 0, 0, 10},
    {"uptime", -0.015, 0, 0, 10},
    {"span_of_control", 0, 5, 8, 10},
    {"capacity_utilisation", 0, 60, 80, 10},
};

const size_t demo_n_targets = sizeof(demo_targets) / sizeof(demo_targets[0]);

/* ---- randomness ---- */

struct rng {
    uint64_t s[4];
    bool have_spare;
    double spare;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* One stream per KPI: FNV-1a of the key mixed into the seed, so streams do not depend on order. */
static void rng_seed(struct rng *r, uint64_t seed, const char *key)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001b3);
    uint64_t x = seed ^ h;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->have_spare = false;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in (0, 1]: never 0, so log() is safe. */
static double rng_uniform(struct rng *r)
{
    return (double)((rng_next(r) >> 11) + 1) * 0x1.0p-53;
}

static double rng_normal(struct rng *r)
{
    if (r->have_spare) {
        r->have_spare = false;
        return r->spare;
    }
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(2.0 * M_PI * u2);
    r->have_spare = true;
    return rad * cos(2.0 * M_PI * u2);
}

/* Knuth's method for small means; the normal approximation above (good enough for a demo and
 * bounded in time). */
static double rng_poisson(struct rng *r, double mean)
{
    if (!(mean > 0))
        return 0;
    if (mean >= 40) {
        double v = floor(mean + sqrt(mean) * rng_normal(r) + 0.5);
        return v < 0 ? 0 : v;
    }
    double limit = exp(-mean), p = 1;
    int k = 0;
    do {
        k++;
        p *= rng_uniform(r);
    } while (p > limit);
    return k - 1;
}

/* ---- calendar helpers (fiscal year = calendar year, as the demo org is set up) ---- */

static int64_t month_first(int64_t day)
{
    int y, m, d;
    kpi_civil_from_days(day, &y, &m, &d);
    return kpi_days_from_civil(y, m, 1);
}

static int64_t period_last(enum demo_cadence c, int64_t day)
{
    int y, m, d;
    switch (c) {
    case DEMO_DAILY:
        return day;
    case DEMO_WEEKLY:
        return day + (7 - kpi_weekday(day));
    case DEMO_MONTHLY:
        kpi_civil_from_days(day, &y, &m, &d);
        return kpi_days_from_civil(y, m, kpi_days_in_month(y, m));
    case DEMO_QUARTERLY:
        kpi_civil_from_days(day, &y, &m, &d);
        m = (m - 1) / 3 * 3 + 3;
        return kpi_days_from_civil(y, m, kpi_days_in_month(y, m));
    }
    return day;
}

static int64_t period_first(enum demo_cadence c, int64_t day)
{
    int y, m, d;
    switch (c) {
    case DEMO_DAILY:
        return day;
    case DEMO_WEEKLY:
        return day - (kpi_weekday(day) - 1);
    case DEMO_MONTHLY:
        return month_first(day);
    case DEMO_QUARTERLY:
        kpi_civil_from_days(day, &y, &m, &d);
        return kpi_days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
    }
    return day;
}

int64_t demo_first_day(int64_t today, int years)
{
    int y, m, d;
    kpi_civil_from_days(today, &y, &m, &d);
    int64_t months = (int64_t)y * 12 + (m - 1) - ((int64_t)years * 12 - 1);
    return kpi_days_from_civil((int)kpi_floor_div(months, 12), (int)kpi_floor_mod(months, 12) + 1, 1);
}

/* Monday on or after day. */
static int64_t next_monday(int64_t day)
{
    return day + (8 - kpi_weekday(day)) % 7;
}

void demo_incidents_for(int64_t first, int64_t today, struct demo_incidents *ret_inc)
{
    int64_t n = today - first + 1;
    /* Nobody launches a campaign into the holidays: move it to the second week of January. */
    int64_t campaign = next_monday(first + n * 35 / 100);
    for (int i = 0; i < 8; i++) {
        int y, m, d;
        kpi_civil_from_days(campaign, &y, &m, &d);
        if (!(m == 12 || (m == 1 && d < 8)))
            break;
        campaign += 7;
    }
    ret_inc->campaign = campaign;
    /* A Tuesday, as cancellations arrive after the Monday account review. */
    ret_inc->loss = next_monday(first + n * 55 / 100) + 1;
    ret_inc->outage = next_monday(first + n * 72 / 100);
}

/* ---- the generator ---- */

static const double week_profiles[4][7] = {
    {1, 1, 1, 1, 1, 1, 1},
    {1.10, 1.15, 1.15, 1.10, 0.95, 0.30, 0.25}, /* B2B: little happens at weekends */
    {1.05, 1.08, 1.06, 1.03, 0.95, 0.80, 0.85}, /* web traffic and self-serve sign-ups */
    {1.12, 1.15, 1.15, 1.12, 1.00, 0.48, 0.45}, /* a work tool's daily users */
};

/* Annual season: the holidays around the turn of the year and a summer slowdown. */
static double season_factor(int64_t day)
{
    int y, m, d;
    kpi_civil_from_days(day, &y, &m, &d);
    if ((m == 12 && d >= 22) || (m == 1 && d <= 2))
        return 0.55;
    if (m == 12)
        return 0.92;
    if ((m == 7 && d >= 15) || (m == 8 && d <= 25))
        return 0.85;
    if (m == 7 || m == 8)
        return 0.93;
    return 1;
}

/* Sales close at the end of a quarter and rest at its start. */
static double quarter_factor(int64_t day)
{
    int64_t last = period_last(DEMO_QUARTERLY, day), first = period_first(DEMO_QUARTERLY, day);
    if (last - day < 14)
        return 1.6;
    if (day - first < 14)
        return 0.8;
    return 1;
}

static double campaign_intensity(const struct demo_incidents *inc, int64_t day)
{
    int64_t t = day - inc->campaign;
    if (t < 0 || t >= 49)
        return 0;
    return t < 21 ? 1 : (double)(49 - t) / 28;
}

static double outage_intensity(const struct demo_incidents *inc, int64_t day)
{
    int64_t t = day - inc->outage;
    if (t < 0 || t >= 28)
        return 0;
    return t < 7 ? 1 : 0.5 * (double)(28 - t) / 21;
}

static double round_to(double v, int decimals)
{
    double scale = pow(10, decimals);
    return round(v * scale) / scale;
}

struct gen {
    uint64_t seed;
    int64_t first, today;
    size_t n_days;
    struct demo_incidents inc;
    double **daily; /* per KPI: the daily value (for flows: the total of what was written) */
    demo_emit_fn emit;
    void *ctx;
};

static double trend(const struct demo_model *m, int64_t today, int64_t day)
{
    double t = (double)(day - today) / 365.25;
    return m->additive ? m->level + m->growth * t : m->level * pow(1 + m->growth, t);
}

static double clamp(const struct demo_model *m, double v)
{
    if (v < m->min)
        v = m->min;
    if (m->max != 0 && v > m->max)
        v = m->max;
    return v;
}

/* The expected daily value of a FLOW or LEVEL: trend x week x season x noise x incidents. The
 * campaign is left out for flows with dims, whose split decides where its lift lands. */
static void base_series(struct gen *g, const struct demo_kpi *k, struct rng *r, double *u)
{
    const struct demo_model *m = &k->m;
    double week_mean = 0;
    for (int i = 0; i < 7; i++)
        week_mean += week_profiles[m->week][i] / 7;
    double e = m->noise * rng_normal(r);
    double innovation = m->noise * sqrt(1 - m->phi * m->phi);
    bool split_campaign = m->kind == DEMO_FLOW && m->axes[0];
    for (size_t i = 0; i < g->n_days; i++) {
        int64_t day = g->first + (int64_t)i;
        if (i > 0)
            e = m->phi * e + innovation * rng_normal(r);
        double f = week_profiles[m->week][kpi_weekday(day) - 1] / week_mean;
        f *= 1 + m->season * (season_factor(day) - 1);
        if (m->quarter_end)
            f *= quarter_factor(day);
        double io = outage_intensity(&g->inc, day);
        double ic = split_campaign ? 0 : campaign_intensity(&g->inc, day);
        double il = m->kind == DEMO_LEVEL && day >= g->inc.loss && day < g->inc.loss + 30 ? 1 : 0;
        double v;
        if (m->additive)
            v = trend(m, g->today, day) * f + e + m->outage * io + m->campaign * ic + m->loss * il;
        else
            v = trend(m, g->today, day) * f * (1 + e) * (1 + m->outage * io) * (1 + m->campaign * ic) * (1 + m->loss * il);
        u[i] = clamp(m, v);
    }
}

size_t demo_combos(const struct demo_kpi *k)
{
    size_t n = 1;
    for (int a = 0; a < DEMO_AXES_MAX && k->m.axes[a]; a++)
        n *= k->m.axes[a]->n;
    return n;
}

/* The value index on each axis of a combination (the last axis varies fastest). */
static void combo_index(const struct demo_kpi *k, size_t combo, size_t ret_idx[DEMO_AXES_MAX])
{
    for (int a = DEMO_AXES_MAX - 1; a >= 0; a--) {
        ret_idx[a] = 0;
        if (!k->m.axes[a])
            continue;
        ret_idx[a] = combo % k->m.axes[a]->n;
        combo /= k->m.axes[a]->n;
    }
}

size_t demo_combo_dims(const struct demo_kpi *k, size_t combo, struct kpi_dim ret_dims[DEMO_AXES_MAX])
{
    size_t idx[DEMO_AXES_MAX], n = 0;
    combo_index(k, combo, idx);
    for (int a = 0; a < DEMO_AXES_MAX && k->m.axes[a]; a++) {
        const struct demo_axis *ax = k->m.axes[a];
        ret_dims[n++] = (struct kpi_dim){ax->key, strlen(ax->key), ax->v[idx[a]].value, strlen(ax->v[idx[a]].value)};
    }
    return n;
}

/* Share of each combination on a day, with the campaign's lift tilted towards the values that
 * carried it: weight[c] = share[c] * (1 + B * tilt[c]), where tilt has a share-weighted mean of 1
 * so that the total still rises by B. */
static void combo_weights(const struct demo_kpi *k, int64_t today, int64_t day, double boost, double *w)
{
    double t = (double)(day - today) / 365.25;
    double share[DEMO_AXES_MAX][DEMO_AXIS_VALUES_MAX], tilt[DEMO_AXES_MAX][DEMO_AXIS_VALUES_MAX];
    int n_axes = 0;
    for (int a = 0; a < DEMO_AXES_MAX && k->m.axes[a]; a++, n_axes++) {
        const struct demo_axis *ax = k->m.axes[a];
        double sum = 0, tilt_mean = 0;
        for (size_t v = 0; v < ax->n; v++) {
            share[a][v] = ax->v[v].share * pow(1 + ax->v[v].drift, t);
            sum += share[a][v];
        }
        for (size_t v = 0; v < ax->n; v++) {
            share[a][v] /= sum;
            tilt_mean += share[a][v] * ax->v[v].campaign;
        }
        for (size_t v = 0; v < ax->n; v++)
            tilt[a][v] = tilt_mean > 0 ? ax->v[v].campaign / tilt_mean : 1;
    }
    size_t n = demo_combos(k), idx[DEMO_AXES_MAX];
    for (size_t c = 0; c < n; c++) {
        combo_index(k, c, idx);
        double s = 1, tl = 1;
        for (int a = 0; a < n_axes; a++) {
            s *= share[a][idx[a]];
            tl *= tilt[a][idx[a]];
        }
        w[c] = s * (1 + boost * tl);
    }
}

static double draw_flow(const struct demo_kpi *k, struct rng *r, double mean, bool several)
{
    const struct demo_model *m = &k->m;
    double v;
    switch (m->draw) {
    case DEMO_DRAW_POISSON:
        return rng_poisson(r, mean);
    case DEMO_DRAW_COMPOUND: {
        /* Log-normal sizes with sigma 0.7 around the mean event size. */
        double events = rng_poisson(r, mean / m->event_size);
        v = 0;
        for (double i = 0; i < events; i++)
            v += m->event_size * exp(0.7 * rng_normal(r) - 0.245);
        return round_to(v, k->decimals);
    }
    case DEMO_DRAW_REAL:
    default:
        /* Segments wobble around their share; the total's noise is already in mean. */
        v = several ? mean * (1 + 0.06 * rng_normal(r)) : mean;
        return round_to(v < 0 ? 0 : v, k->decimals);
    }
}

/* Period state for writing one point per (combination, period). */
struct acc {
    double sum[DEMO_COMBOS_MAX];
    size_t days;
};

static int64_t stale_cutoff(const struct demo_model *m, int64_t today)
{
    if (m->stale <= 0)
        return INT64_MAX;
    int64_t first = period_first(m->cadence, today);
    for (int i = 0; i < m->stale; i++)
        first = period_first(m->cadence, first - 1);
    return first;
}

static int gen_flow(struct gen *g, size_t ki, struct rng *r)
{
    const struct demo_kpi *k = &demo_kpis[ki];
    const struct demo_model *m = &k->m;
    double *u = g->daily[ki];
    base_series(g, k, r, u);
    size_t n = demo_combos(k);
    int64_t cutoff = stale_cutoff(m, g->today);
    double w[DEMO_COMBOS_MAX];
    struct acc acc = {{0}, 0};
    for (size_t i = 0; i < g->n_days; i++) {
        int64_t day = g->first + (int64_t)i;
        combo_weights(k, g->today, day, m->campaign * campaign_intensity(&g->inc, day), w);
        double total = 0;
        for (size_t c = 0; c < n; c++) {
            double v = draw_flow(k, r, u[i] * w[c], n > 1);
            if (c == 0 && day == g->inc.loss)
                v += m->loss;
            total += v;
            acc.sum[c] += v;
        }
        u[i] = total;
        int64_t last = period_last(m->cadence, day);
        if (day != last && day != g->today)
            continue;
        /* Flows are written for whole periods only (daily ones up to today). */
        if (day == last && period_first(m->cadence, day) < cutoff)
            for (size_t c = 0; c < n; c++) {
                int rc = g->emit(g->ctx, ki, c, day, round_to(acc.sum[c], k->decimals));
                if (rc)
                    return rc;
            }
        memset(&acc, 0, sizeof(acc));
    }
    return 0;
}

/* Levels, stocks and scales: one point per period, the period mean for `avg` KPIs and the value
 * on its last day otherwise; the unfinished period on --today only for snapshots (`current`). */
static int emit_levels(struct gen *g, size_t ki)
{
    const struct demo_kpi *k = &demo_kpis[ki];
    const struct demo_model *m = &k->m;
    const double *u = g->daily[ki];
    bool mean = strcmp(k->aggregation, "avg") == 0;
    int64_t cutoff = stale_cutoff(m, g->today);
    double sum = 0;
    size_t days = 0;
    for (size_t i = 0; i < g->n_days; i++) {
        int64_t day = g->first + (int64_t)i;
        sum += u[i];
        days++;
        int64_t last = period_last(m->cadence, day);
        if (day != last && day != g->today)
            continue;
        bool write = (day == last || m->current) && period_first(m->cadence, day) < cutoff;
        if (write) {
            double v = mean ? sum / (double)days : u[i];
            int rc = g->emit(g->ctx, ki, 0, day, round_to(v, k->decimals));
            if (rc)
                return rc;
        }
        sum = 0;
        days = 0;
    }
    return 0;
}

static ssize_t find_kpi(const char *key)
{
    for (size_t i = 0; i < demo_n_kpis; i++)
        if (strcmp(demo_kpis[i].key, key) == 0)
            return (ssize_t)i;
    return -1;
}

/* STOCK: anchored at --today and moved backwards by the inputs' daily values;
 * SCALE: a multiple of the inputs. Inputs must already be generated. */
static int derive_series(struct gen *g, size_t ki)
{
    const struct demo_model *m = &demo_kpis[ki].m;
    double *u = g->daily[ki];
    for (size_t i = 0; i < g->n_days; i++)
        u[i] = 0;
    for (int t = 0; t < DEMO_TERMS_MAX && m->terms[t].key; t++) {
        ssize_t j = find_kpi(m->terms[t].key);
        if (j < 0)
            return -EINVAL;
        const double *x = g->daily[j];
        if (m->kind == DEMO_SCALE) {
            for (size_t i = 0; i < g->n_days; i++)
                u[i] += m->terms[t].coef * x[i];
            continue;
        }
        /* stock(d) = level - coef * (sum of x over (d, today]) */
        double after = 0;
        for (size_t i = g->n_days; i-- > 0;) {
            u[i] -= m->terms[t].coef * after;
            after += x[i];
        }
    }
    for (size_t i = 0; i < g->n_days; i++)
        if (m->kind == DEMO_STOCK)
            u[i] = clamp(m, m->level + u[i]);
    return 0;
}

int demo_generate(uint64_t seed, int64_t first, int64_t today, demo_emit_fn emit, void *ctx)
{
    if (today < first || today - first >= 366 * DEMO_YEARS_MAX + 31)
        return -EINVAL;
    struct gen g = {.seed = seed, .first = first, .today = today, .n_days = (size_t)(today - first + 1), .emit = emit, .ctx = ctx};
    demo_incidents_for(first, today, &g.inc);
    g.daily = calloc(demo_n_kpis, sizeof(double *));
    if (!g.daily)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < demo_n_kpis && rc == 0; i++) {
        g.daily[i] = calloc(g.n_days, sizeof(double));
        if (!g.daily[i])
            rc = -ENOMEM;
    }
    /* Three passes so that stocks see their flows and scales their stocks, whatever the catalog
     * order (which puts parents first for insertion). */
    for (int pass = 0; pass < 3 && rc == 0; pass++)
        for (size_t i = 0; i < demo_n_kpis && rc == 0; i++) {
            const struct demo_kpi *k = &demo_kpis[i];
            enum demo_kind kind = k->m.kind;
            int want = kind == DEMO_STOCK ? 1 : kind == DEMO_SCALE ? 2 : 0;
            if (want != pass)
                continue;
            if (k->m.axes[0] && (kind != DEMO_FLOW || demo_combos(k) > DEMO_COMBOS_MAX)) {
                rc = -EINVAL;
                break;
            }
            struct rng r;
            rng_seed(&r, seed, k->key);
            if (kind == DEMO_FLOW) {
                rc = gen_flow(&g, i, &r);
                continue;
            }
            if (kind == DEMO_LEVEL)
                base_series(&g, k, &r, g.daily[i]);
            else
                rc = derive_series(&g, i);
            if (rc == 0)
                rc = emit_levels(&g, i);
        }
    for (size_t i = 0; i < demo_n_kpis; i++)
        free(g.daily[i]);
    free(g.daily);
    return rc;
}

/* ---- targets ---- */

/* The trend's value for one period of the KPI's granularity: flows add up over the period. */
static double period_trend(const struct demo_kpi *k, int64_t today, int64_t day)
{
    double v = trend(&k->m, today, day);
    if (k->m.kind != DEMO_FLOW)
        return v;
    static const struct {
        const char *gran;
        double days;
    } lengths[] = {{"day", 1}, {"week", 7}, {"month", 30.44}, {"quarter", 91.31}, {"year", 365.25}};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
        if (strcmp(k->granularity, lengths[i].gran) == 0)
            return v * lengths[i].days;
    return v;
}

int demo_target_resolve(const struct demo_target *t, int64_t today, struct demo_target_value *ret_v)
{
    ssize_t i = find_kpi(t->key);
    if (i < 0)
        return -ENOENT;
    const struct demo_kpi *k = &demo_kpis[i];
    int y, m, d;
    kpi_civil_from_days(today, &y, &m, &d);
    struct demo_target_value v = {.key = k->key, .at_risk_pct = t->at_risk_pct};
    v.baseline_day = kpi_days_from_civil(y, DEMO_FISCAL_YEAR_START, 1);
    v.day = kpi_days_from_civil(y, 12, 31);
    v.range = strcmp(k->direction, "range") == 0;
    v.baseline = round_to(period_trend(k, today, v.baseline_day), k->decimals);
    if (v.range) {
        v.low = t->low;
        v.high = t->high;
    } else {
        double end = period_trend(k, today, v.day);
        v.value = round_to(k->m.additive ? end + t->stretch : end * (1 + t->stretch), k->decimals);
    }
    *ret_v = v;
    return 0;
}
