/*
 * Definitions as code: KPI definitions read from and written to YAML (`kpi apply`, `kpi dump`),
 * and the plan that turns the definitions of a file into the creates and updates that make the
 * database match it.
 *
 * The YAML shape is one mapping with the key `kpis`, a list of KPIs whose fields are named as in
 * kpi_def_fields (DESIGN.md section 3), plus `targets`, a list of
 * {baseline, baseline_date, value, date, at_risk_pct} mappings (low and high instead of value for
 * range KPIs). Every value goes through kpi_def_set_field or kpi_target_validate, so the file, the
 * CLI and the API accept exactly the same values. Diagnostics start with the 1-based
 * "LINE:COLUMN: " of the offending field; the caller prefixes the file name.
 *
 * A KPI entry without a `targets` key leaves the stored targets of that KPI alone; `targets: []`
 * removes them. The reader says which entries gave the key (has_targets), and the plan copies the
 * stored targets into the others before it compares.
 *
 * The plan is pure: it compares two arrays of definitions and does no I/O.
 */
#ifndef KPI_DEFS_H
#define KPI_DEFS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "kpi/error.h"
#include "kpi/model.h"

/* Limits on a definitions file (every one is user-controlled). */
#define KPI_DEFS_MAX_BYTES ((size_t)16 << 20)
#define KPI_DEFS_MAX_KPIS 10000

/* Frees an array of definitions returned by kpi_defs_parse_yaml. NULL-safe. */
void kpi_defs_free(struct kpi_def *defs, size_t n);

/* Parses a definitions document. Rejects anything outside the schema: unknown or duplicate keys,
 * duplicate KPI keys, a list or mapping where a single value is expected, anchors and aliases,
 * YAML tags, more than one document, more than KPI_DEFS_MAX_KPIS KPIs, more than
 * KPI_DEFS_MAX_BYTES bytes; for targets also a missing or unknown field, value on a range KPI or
 * low/high on another, two targets with the same date, more than KPI_TARGETS_MAX. On failure diag
 * holds "LINE:COLUMN: message". On success the caller owns *ret_defs (free with kpi_defs_free; NULL
 * when *ret_n is 0) and, when ret_has_targets is not NULL, *ret_has_targets (free(); NULL when
 * *ret_n is 0): true for each KPI whose entry has a `targets` key. */
int kpi_defs_parse_yaml(const char *text, size_t len, struct kpi_def **ret_defs, bool **ret_has_targets, size_t *ret_n,
                        struct kpi_diag *diag);

/* Appends the YAML of defs to out: the same shape, key and name always, every other field only
 * when it differs from kpi_def_init's default, in kpi_def_fields order, then `targets` when the
 * KPI has some (one flow mapping per target, at_risk_pct only when not the default). kpi_defs_parse_yaml of the
 * output gives back definitions that are kpi_def_equal to defs. Returns 0, -E2BIG when out is
 * full, -EILSEQ when a string is not valid UTF-8, -ENOMEM. */
int kpi_defs_emit_yaml(struct kpi_buf *out, const struct kpi_def *defs, size_t n);

enum kpi_defs_change_kind {
    KPI_CHANGE_CREATE,
    KPI_CHANGE_UPDATE,
};

struct kpi_defs_change {
    enum kpi_defs_change_kind kind;
    const struct kpi_def *desired; /* points into the desired array */
    const struct kpi_def *current; /* points into the current array; NULL on create */
};

/* Lists what makes `current` (the database) match `desired` (the file): a create for each desired
 * KPI that does not exist, an update for each that differs (kpi_def_equal), nothing for the rest.
 * KPIs of current that desired does not name are left alone. Changes come in file order, except
 * that a KPI whose parent is also created or updated comes after it.
 *
 * Before comparing, the plan edits desired: a KPI whose has_targets[i] is false gets a copy of the
 * stored targets of its current KPI (none when it is created), so a file that does not mention
 * targets never removes them; and a desired target equal to a stored one in every field that its
 * direction uses takes the stored one's other fields (value of a range target, low/high of another,
 * id), so that dump -> apply is a no-op. has_targets NULL means every KPI gave its targets.
 *
 * Returns -EINVAL when desired holds a key twice, -ENOMEM. The caller frees *ret_changes (NULL when
 * *ret_n is 0). */
int kpi_defs_plan(const struct kpi_def *current, size_t n_current, struct kpi_def *desired, const bool *has_targets,
                  size_t n_desired, struct kpi_defs_change **ret_changes, size_t *ret_n);

/* One changed field of an update; old_text/new_text are NULL when the field is unset (for targets:
 * when there are none). */
struct kpi_defs_field_change {
    const char *field; /* an entry of kpi_def_fields, or "targets" */
    enum kpi_field_kind kind;
    char *old_text;
    char *new_text;
};

/* Lists the fields in which b differs from a, in kpi_def_fields order, then "targets" (kind
 * KPI_FIELD_WORD) with the whole list of each side as one line of text, by date:
 * "[2026-12-31: 150000 from 100000 on 2026-01-01, 2027-12-31: 30..45 from 40 on 2027-01-01 at risk
 * 5%]" (at risk only when not KPI_AT_RISK_PCT_DEFAULT). Free with kpi_defs_diff_free. */
int kpi_defs_diff(const struct kpi_def *a, const struct kpi_def *b, struct kpi_defs_field_change **ret_fields, size_t *ret_n);
void kpi_defs_diff_free(struct kpi_defs_field_change *fields, size_t n);

#endif
