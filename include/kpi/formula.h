/*
 * The formula language of derived KPIs (DESIGN.md section 3, "Derived KPIs").
 *
 * A formula is an expression over other KPI keys, evaluated per period on their period values:
 *
 *   expr     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?   -- 1 or 0; a < b < c is an error
 *   sum      := product (("+" | "-") product)*
 *   product  := unary (("*" | "/") unary)*
 *   unary    := "-" unary | power                -- so -2^2 is -4
 *   power    := primary ("^" unary)?             -- right-associative: 2^3^2 is 2^9
 *   primary  := number | key | func "(" args ")" | "(" expr ")"
 *
 * Precedence, loosest first: comparisons, + -, * /, unary minus, ^. Numbers are decimal with an
 * optional fraction and exponent ("." decimal point); keys follow the KPI key rule. Functions:
 * abs(x) min(a, b, ...) max(a, b, ...) round(x, n) if(c, a, b) coalesce(a, b, ...) prev(x)
 * lag(x, n) sum_last(x, n) avg_last(x, n) growth(x). prev, lag, sum_last, avg_last and growth
 * shift the evaluation of their first argument to earlier periods (any expression, not only a
 * key); their n must be a whole-number constant from 1 to 1000 (sum_last/avg_last: the current
 * period and the n - 1 before it). round(x, n): n a constant from -10 to 10, half away from zero.
 * if(c, a, b): a when c is non-zero (only the branch taken is evaluated). min, max: no value when
 * any argument has none; coalesce: the first argument that has a value. growth(x) = (x - prev(x))
 * / |prev(x)| * 100.
 *
 * A period without a value of an input, a division by zero, or a non-finite result gives *no
 * value* for that period together with a reason ("no value for 'cac' in 2026-03", "division by
 * zero"); coalesce is the way to supply a default. Results are never inf or NaN.
 *
 * Limits: 4000 bytes of text, 64 levels of nesting, 1000 nodes. Errors name the 1-based column:
 * "column 14: unknown KPI 'revenu'".
 */
#ifndef KPI_FORMULA_H
#define KPI_FORMULA_H

#include <stdbool.h>
#include <stddef.h>

#include "kpi/error.h"

#define KPI_FORMULA_TEXT_MAX 4000
#define KPI_FORMULA_DEPTH_MAX 64
#define KPI_FORMULA_NODES_MAX 1000
#define KPI_FORMULA_SHIFT_MAX 1000
/* Node evaluations one kpi_formula_eval may cost (nested windows multiply: sum_last(sum_last(x,
 * 1000), 1000) would read x a million times per period); formulas over it fail to parse. */
#define KPI_FORMULA_WORK_MAX 1000000

struct kpi_formula;
struct kpi_buf;

/* Parses text. On error diag reads "column C: reason". */
int kpi_formula_parse(const char *text, struct kpi_formula **ret_formula, struct kpi_diag *diag);
struct kpi_formula *kpi_formula_free(struct kpi_formula *f);

/* Canonical text: minimal parentheses, single spaces around binary operators, numbers in shortest
 * round-trip form; parse(print(f)) is the same tree. */
int kpi_formula_print(const struct kpi_formula *f, struct kpi_buf *out);

/* The distinct KPI keys the formula reads, in order of first appearance, and the column of the
 * first appearance of each. Pointers stay valid while f lives. */
size_t kpi_formula_inputs(const struct kpi_formula *f, const char *const **ret_keys, const int **ret_columns);

/* How many periods before the current one the formula may read (the largest total shift). */
size_t kpi_formula_lookback(const struct kpi_formula *f);

/* Period values of one input over the periods being evaluated (index 0 is the earliest). */
struct kpi_formula_input {
    const char *key;
    const double *values;
    const bool *has; /* has[i]: the input has a value in period i */
    /* has may be NULL: every period has a value. A non-finite value counts as no value. */
};

/* Evaluates f at period index i of n_periods, reading inputs by key. Returns 0 with the value, 1
 * when the period has no value (why says why, e.g. "division by zero"), or a negative code (an
 * input missing from `inputs`). label(i) names period i in reasons; it may be NULL. */
/* Reasons name a period by label(i), or "period N" (N the 0-based index) when label is NULL or
 * returns NULL; periods before index 0, reached through a shift, read "before the first period".
 * A missing key in `inputs` gives -ENOENT, i >= n_periods -EINVAL. */
int kpi_formula_eval(const struct kpi_formula *f, const struct kpi_formula_input *inputs, size_t n_inputs, size_t n_periods,
                     size_t i, const char *(*label)(void *ctx, size_t i), void *label_ctx, double *ret_value, struct kpi_diag *why);

/* Dependency check over all KPIs: node i is a KPI whose formula reads the keys deps[i][0..n_deps[i])
 * (measured KPIs have none). Returns 0, or -ELOOP with diag "formula: cycle: a -> b -> a" naming a
 * cycle through `start` when there is one. */
int kpi_formula_find_cycle(const char *const *keys, const char *const *const *deps, const size_t *n_deps, size_t n, size_t start,
                           struct kpi_diag *diag);

#endif
