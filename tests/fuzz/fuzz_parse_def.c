/*
 * libFuzzer target for the request-body parsers of the HTTP API (json/parse.c). The input is read
 * as a KPI definition; when it is accepted and has a key, it is written back with kpi_json_def
 * (compact and pretty), read again and must be kpi_def_equal to the first reading, with "targets"
 * given; read as a PATCH of the first reading it must give the same definition too. The same bytes
 * also go through the target, review, annotation, action and name parsers, which must not crash,
 * leak or write their outputs on failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "json/json.h"
#include "json/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct kpi_def *d, enum kpi_json_style style)
{
    struct kpi_buf out;
    kpi_buf_init(&out, 4u << 20);
    int r = kpi_json_def(&out, d, style);
    if (r < 0) {
        fprintf(stderr, "emit failed: %d\n", r);
        abort();
    }
    struct kpi_def again;
    struct kpi_diag diag = {""};
    bool has_targets = false;
    r = kpi_json_parse_def(kpi_buf_str(&out), out.len, NULL, &again, &has_targets, &diag);
    if (r < 0) {
        fprintf(stderr, "re-parse failed: %s\n--- emitted:\n%s\n", diag.msg, kpi_buf_str(&out));
        abort();
    }
    if (!has_targets || !kpi_def_equal(d, &again)) {
        fprintf(stderr, "KPI %s differs after emit and re-parse\n--- emitted:\n%s\n", d->key, kpi_buf_str(&out));
        abort();
    }
    kpi_def_clear(&again);
    r = kpi_json_parse_def(kpi_buf_str(&out), out.len, d, &again, NULL, &diag);
    if (r < 0 || !kpi_def_equal(d, &again)) {
        fprintf(stderr, "KPI %s differs as a patch of itself: %s\n--- emitted:\n%s\n", d->key, r < 0 ? diag.msg : "",
                kpi_buf_str(&out));
        abort();
    }
    kpi_def_clear(&again);
    kpi_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct kpi_diag diag = {""};
    struct kpi_def d;
    if (kpi_json_parse_def(text, size, NULL, &d, NULL, &diag) == 0) {
        if (d.key[0]) {
            round_trip(&d, KPI_JSON_COMPACT);
            round_trip(&d, KPI_JSON_PRETTY);
        }
        kpi_def_clear(&d);
    }

    struct kpi_target *t = NULL;
    size_t n = 0;
    if (kpi_json_parse_targets(text, size, (enum kpi_direction)(size % KPI_DIR__COUNT), &t, &n, &diag) == 0) {
        if (n > KPI_TARGETS_MAX || (n == 0) != (t == NULL))
            abort();
        free(t);
    } else if (t != NULL || n != 0) {
        abort();
    }

    struct kpi_review rv = {0};
    struct kpi_action *actions = NULL;
    if (kpi_json_parse_review(text, size, &rv, &actions, &n, &diag) == 0) {
        if (!rv.note || n > KPI_ACTIONS_PER_REVIEW_MAX)
            abort();
        free(rv.note);
        free(rv.author);
        free(rv.team);
        kpi_store_actions_free(actions, n);
    } else if (rv.note || actions) {
        abort();
    }

    struct kpi_annotation a = {0};
    if (kpi_json_parse_annotation(text, size, &a, &diag) == 0) {
        if (!a.text)
            abort();
        free(a.text);
    }

    bool done;
    kpi_json_parse_action_patch(text, size, &done, &diag);

    char name[KPI_TOKEN_NAME_MAX + 1];
    if (kpi_json_parse_name(text, size, "name", name, sizeof(name), &diag) == 0 && (!name[0] || strlen(name) > KPI_TOKEN_NAME_MAX))
        abort();
    return 0;
}
