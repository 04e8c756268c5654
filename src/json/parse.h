/*
 * Request bodies of the HTTP API, read from JSON: KPI definitions (whole or as a patch), targets,
 * organisation settings, reviews with their action items, annotations, action updates and single
 * names. Callers hand in text and get kpi's own structs back; jansson stays inside src/json.
 *
 * Every parser follows the same rules:
 * - The text is decoded with JSON_REJECT_DUPLICATES (a key given twice is an error). A document
 *   that is not JSON fails with "line L, column C: <what jansson says>" (callers answer 400); every
 *   other error names the field ("decimals: expected an integer", "targets[2].date: 'x' is not a
 *   date (YYYY-MM-DD)") and callers answer 422.
 * - Unknown fields are rejected with a message naming the field and listing the accepted ones.
 * - Values are checked by the model (kpi_def_set_field, kpi_target_validate, kpi_text_set), so
 *   the API accepts exactly what the CLI and `kpi apply` accept, with the same messages.
 * - Returns 0, -EINVAL for invalid input (diag filled), -E2BIG for a body over KPI_JSON_BODY_MAX
 *   (diag filled), or -ENOMEM. Outputs (ret_*) are written only on success, and then whole.
 */
#ifndef KPI_JSON_PARSE_H
#define KPI_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "kpi/error.h"
#include "kpi/model.h"
#include "kpi/status.h"
#include "store/store.h"

/* Most bytes of a body these parsers read (a definition with 100 targets and the longest texts
 * is far below). Larger bodies fail with -E2BIG. */
#define KPI_JSON_BODY_MAX (1u << 20)

/* A KPI definition: an object with the fields of kpi_def_fields (key, name, description, unit,
 * format, decimals, direction, aggregation, granularity, formula, tier, indicator, owner, team,
 * parent, weight, review_cadence, visibility, tags, archived) plus "targets".
 *
 * Types: text fields are strings, and null clears an optional one (description, unit, formula,
 * owner, team, parent); enumerated fields are strings ("month"); decimals is an integer, weight a
 * number, archived a boolean; tags an array of strings (null: none); targets an array of target
 * objects {baseline, baseline_date, value, low, high, date, at_risk_pct} checked as `kpi apply`
 * checks them, against the definition's final direction. The read-only fields kpi_json_def writes
 * (created_at, updated_at, and id) are accepted and ignored, so a GET body can be PUT back.
 *
 * base NULL: the definition starts from kpi_def_init's defaults (POST, PUT: the whole definition).
 * base not NULL: it starts from a copy of base and only the fields given change (PATCH); given
 * targets replace base's; a patch that switches the direction between range and up/down must give
 * targets too (the stored ones would be meaningless). The key may be absent (ret_def->key is then
 * "": the caller takes it from the path); name is required in the result. The whole result passes
 * kpi_def_validate when it has a key. *ret_has_targets (may be NULL) tells whether "targets" was
 * given. Accepts exactly what kpi_json_def writes: emit, parse and kpi_def_equal hold. Free the
 * result with kpi_def_clear. */
int kpi_json_parse_def(const char *text, size_t len, const struct kpi_def *base, struct kpi_def *ret_def, bool *ret_has_targets,
                       struct kpi_diag *diag);

/* Targets for a KPI of direction dir: a JSON array of target objects (messages name
 * "targets[i].field"), or one target object (then *ret_n is 1 and messages name the bare field).
 * At most KPI_TARGETS_MAX, no two with the same date, each valid for dir. *ret_targets is in the
 * order given, NULL when *ret_n is 0; free() it. */
int kpi_json_parse_targets(const char *text, size_t len, enum kpi_direction dir, struct kpi_target **ret_targets, size_t *ret_n,
                           struct kpi_diag *diag);

/* Organisation settings as kpi_json_org writes them: {name, timezone, fiscal_year_start}, each
 * optional (absent fields keep base's; base NULL: name "My organisation", UTC, 1). name is 1 to
 * KPI_ORG_NAME_MAX bytes, timezone a zone kpi_tz_load knows, fiscal_year_start 1 to 12. */
int kpi_json_parse_org(const char *text, size_t len, const struct kpi_org *base, struct kpi_org *ret_org, struct kpi_diag *diag);

/* A review: {date, note, author, team, actions: [{text, owner, due}]}. note is required (at most
 * KPI_NOTE_MAX bytes, may span lines); author (KPI_OWNER_MAX) and team (KPI_TEAM_MAX) are
 * optional; date and due are YYYY-MM-DD or null. At most KPI_ACTIONS_PER_REVIEW_MAX actions, each
 * with a text (KPI_ACTION_TEXT_MAX) and optionally an owner (KPI_OWNER_MAX).
 *
 * ret_review: kpi "" and id 0 (the caller fills them), day INT64_MIN when the body has no date
 * (the caller puts today), heap strings team, note and author (NULL when absent; free() each).
 * *ret_actions: *ret_n actions with heap text and owner, due_day INT64_MIN without a due date,
 * NULL when there are none; free with kpi_store_actions_free. */
int kpi_json_parse_review(const char *text, size_t len, struct kpi_review *ret_review, struct kpi_action **ret_actions,
                          size_t *ret_n, struct kpi_diag *diag);

/* An annotation: {date, text}; text required (at most KPI_ANNOTATION_MAX bytes, one line), date
 * YYYY-MM-DD or absent/null (then ret->day is INT64_MIN: the caller puts today). ret->kpi is "",
 * ret->text a heap string (free() it). */
int kpi_json_parse_annotation(const char *text, size_t len, struct kpi_annotation *ret, struct kpi_diag *diag);

/* An update of an action item: {"done": true|false}. */
int kpi_json_parse_action_patch(const char *text, size_t len, bool *ret_done, struct kpi_diag *diag);

/* An object with exactly one string field named `field` ({"name": "ci-bot"}): copied to ret_name
 * (size bytes with the NUL); 1 to size - 1 bytes of UTF-8 without control characters. */
int kpi_json_parse_name(const char *text, size_t len, const char *field, char *ret_name, size_t size, struct kpi_diag *diag);

#endif
