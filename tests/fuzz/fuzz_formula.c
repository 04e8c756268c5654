/*
 * libFuzzer target for the formula language: a formula that parses must print to a canonical text
 * that parses again, reads the same inputs with the same lookback and prints to the same text; and
 * evaluating it on synthetic inputs (every key a 5-period series with gaps, zeros and huge values)
 * must give a finite number or no value, never inf, NaN or an error.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "kpi/formula.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PERIODS 5
#define MAX_KEYS 1000

static char *print(const struct kpi_formula *f)
{
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 16);
    if (kpi_formula_print(f, &out) < 0)
        abort();
    char *s = kpi_buf_take(&out);
    if (!s)
        abort();
    return s;
}

static void evaluate(const struct kpi_formula *f)
{
    static const double pool[] = {0, 1, -2.5, 1e300, 3, 7, -1e-300, 100, -1, 0.5, 1e-12};
    static double values[MAX_KEYS][PERIODS];
    static bool has[MAX_KEYS][PERIODS];
    static struct kpi_formula_input inputs[MAX_KEYS];
    const char *const *keys;
    const int *columns;
    size_t n = kpi_formula_inputs(f, &keys, &columns);
    if (n > MAX_KEYS)
        abort();
    for (size_t k = 0; k < n; k++) {
        for (size_t p = 0; p < PERIODS; p++) {
            values[k][p] = pool[(k * PERIODS + p) % (sizeof(pool) / sizeof(pool[0]))];
            has[k][p] = (k + p) % 4 != 3;
        }
        inputs[k] = (struct kpi_formula_input){keys[k], values[k], has[k]};
    }
    for (size_t i = 0; i < PERIODS; i++) {
        double v = 0;
        struct kpi_diag why = {{0}};
        int r = kpi_formula_eval(f, inputs, n, PERIODS, i, NULL, NULL, &v, &why);
        if (r == 0 && !isfinite(v))
            abort();
        if (r == 1 && why.msg[0] == '\0')
            abort();
        if (r != 0 && r != 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > KPI_FORMULA_TEXT_MAX + 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct kpi_formula *f = NULL, *again = NULL;
    struct kpi_diag diag;
    if (kpi_formula_parse(text, &f, &diag) < 0) {
        if (strlen(diag.msg) == 0)
            abort();
        free(text);
        return 0;
    }
    char *first = print(f);
    if (kpi_formula_parse(first, &again, &diag) < 0)
        abort();
    char *second = print(again);
    if (strcmp(first, second) != 0)
        abort();
    const char *const *k1, *const *k2;
    const int *c1, *c2;
    size_t n1 = kpi_formula_inputs(f, &k1, &c1), n2 = kpi_formula_inputs(again, &k2, &c2);
    if (n1 != n2 || kpi_formula_lookback(f) != kpi_formula_lookback(again))
        abort();
    for (size_t k = 0; k < n1; k++)
        if (strcmp(k1[k], k2[k]) != 0 || c1[k] < 1 || (size_t)c1[k] > size)
            abort();
    evaluate(f);
    free(first);
    free(second);
    kpi_formula_free(again);
    kpi_formula_free(f);
    free(text);
    return 0;
}
