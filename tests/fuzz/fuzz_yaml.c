/*
 * libFuzzer target for the definitions YAML reader and writer (src/defs/yaml.c): parse; on
 * success write the definitions back, parse that again and abort unless every definition is
 * kpi_def_equal to the first reading (targets included). Also checks that the plan of a file against
 * itself is empty, also when the re-read entries without `targets` inherit the stored ones, and
 * that the diff of a definition against itself is empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "defs/defs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kpi_def *defs = NULL, *again = NULL;
    bool *given = NULL, *given_again = NULL;
    size_t n = 0, n_again = 0;
    struct kpi_diag diag = {""};
    if (kpi_defs_parse_yaml((const char *)data, size, &defs, &given, &n, &diag) < 0)
        return 0;

    struct kpi_buf out;
    kpi_buf_init(&out, KPI_DEFS_MAX_BYTES);
    int r = kpi_defs_emit_yaml(&out, defs, n);
    if (r < 0) {
        fprintf(stderr, "emit failed: %d\n", r);
        abort();
    }
    r = kpi_defs_parse_yaml(kpi_buf_str(&out), out.len, &again, &given_again, &n_again, &diag);
    if (r < 0) {
        fprintf(stderr, "re-parse failed: %s\n--- emitted:\n%s\n", diag.msg, kpi_buf_str(&out));
        abort();
    }
    if (n_again != n) {
        fprintf(stderr, "re-parse gave %zu KPIs, not %zu\n", n_again, n);
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        /* The writer gives `targets` exactly when there are some. */
        if (given_again[i] != (defs[i].n_targets > 0)) {
            fprintf(stderr, "KPI %zu (%s): targets given %d after emit\n", i, defs[i].key, (int)given_again[i]);
            abort();
        }
        if (!kpi_def_equal(&defs[i], &again[i])) {
            fprintf(stderr, "KPI %zu (%s) differs after emit and re-parse\n--- emitted:\n%s\n", i, defs[i].key, kpi_buf_str(&out));
            abort();
        }
    }

    struct kpi_defs_change *changes = NULL;
    size_t n_changes = 0;
    if (kpi_defs_plan(defs, n, again, given_again, n_again, &changes, &n_changes) < 0 || n_changes != 0)
        abort();
    free(changes);
    for (size_t i = 0; i < n; i++) {
        struct kpi_defs_field_change *fields;
        size_t nf;
        if (kpi_defs_diff(&defs[i], &again[i], &fields, &nf) < 0 || nf != 0)
            abort();
    }

    kpi_buf_free(&out);
    kpi_defs_free(again, n_again);
    kpi_defs_free(defs, n);
    free(given_again);
    free(given);
    return 0;
}
