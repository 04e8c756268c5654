/*
 * JSON of the HTTP API as a client reads and writes it: the answers of `kpi serve` (list pages
 * {"items": [...], "next_cursor": ...}, definitions, points, reviews, action items, annotations,
 * tokens, problem documents, /readyz) into kpi's own structs, and the request bodies the remote
 * store sends (reviews and annotations; definitions, points and the organisation go out through
 * json.h). Used by src/remote, which must not see jansson.
 *
 * Rules shared by the page readers:
 * - A page is {"items": [...], "next_cursor": "..." | null}; a bare array is read as a last page.
 *   The cursor is copied into ret_cursor ("" on the last page); a cursor that does not fit
 *   cursor_size bytes is an error.
 * - Items are appended to the caller's array (*list, *n grow); on error the items read so far stay
 *   there for the caller to free, and diag says which item and field was wrong.
 * - Dates are YYYY-MM-DD, instants RFC 3339; text fields are heap strings (NULL for null).
 * - Returns 0, -EINVAL (not the expected shape; diag filled), -E2BIG (more than a page may hold)
 *   or -ENOMEM.
 */
#ifndef KPI_JSON_REMOTE_H
#define KPI_JSON_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "kpi/error.h"
#include "kpi/model.h"
#include "store/store.h"

/* Longest next_cursor the client keeps. */
#define KPI_JSON_CURSOR_MAX 2048

/* The "detail" of an RFC 9457 problem document into ret (size bytes); "" when the text is not a
 * problem document. Never fails. */
void kpi_json_read_problem(const char *text, size_t len, char *ret, size_t size);

/* The schema_version of a /readyz answer {"status": "ready", "schema_version": N}; -EINVAL when
 * the status is not "ready", *ret_version 0 when the field is absent. */
int kpi_json_read_ready(const char *text, size_t len, int *ret_version, struct kpi_diag *diag);

/* One definition as kpi_json_def writes it, with created_at and updated_at read back (the request
 * parser kpi_json_parse_def ignores them). Free with kpi_def_clear. */
int kpi_json_read_def(const char *text, size_t len, struct kpi_def *ret_def, struct kpi_diag *diag);
/* A page of definitions (GET /api/v1/kpis). */
int kpi_json_read_def_page(const char *text, size_t len, struct kpi_def **list, size_t *n, char *ret_cursor, size_t cursor_size,
                           struct kpi_diag *diag);

/* A page of points (GET /api/v1/kpis/{key}/points): fn is called per item in order with its `at`
 * text, value and dims in canonical form (kpi/dims.h); a non-zero return of fn stops the reading
 * and is returned. */
typedef int (*kpi_json_point_fn)(void *ctx, const char *at, double value, const char *dims_canon);
int kpi_json_read_point_page(const char *text, size_t len, kpi_json_point_fn fn, void *ctx, char *ret_cursor, size_t cursor_size,
                             struct kpi_diag *diag);

/* Pages of reviews, action items, annotations and tokens as kpi_json_reviews, kpi_json_actions,
 * kpi_json_annotations and /api/v1/tokens write their items. Free with kpi_store_reviews_free,
 * kpi_store_actions_free, kpi_store_annotations_free and free(). */
int kpi_json_read_review_page(const char *text, size_t len, struct kpi_review **list, size_t *n, char *ret_cursor,
                              size_t cursor_size, struct kpi_diag *diag);
int kpi_json_read_action_page(const char *text, size_t len, struct kpi_action **list, size_t *n, char *ret_cursor,
                              size_t cursor_size, struct kpi_diag *diag);
int kpi_json_read_annotation_page(const char *text, size_t len, struct kpi_annotation **list, size_t *n, char *ret_cursor,
                                  size_t cursor_size, struct kpi_diag *diag);
int kpi_json_read_token_page(const char *text, size_t len, struct kpi_token **list, size_t *n, char *ret_cursor, size_t cursor_size,
                             struct kpi_diag *diag);

/* The answer to a recorded review: its id and created_at, and the ids of its n_actions action
 * items (in the order sent) from its "actions" array, written into actions[i].id, review_id and
 * created_ms. */
int kpi_json_read_review_answer(const char *text, size_t len, struct kpi_review *review, struct kpi_action *actions,
                                size_t n_actions, struct kpi_diag *diag);
/* The "id" of an answer object (a recorded annotation). */
int kpi_json_read_id(const char *text, size_t len, int64_t *ret_id, struct kpi_diag *diag);

/* Request bodies: a review {date, note, author, team, actions: [{text, owner, due}]} (absent
 * optional fields are left out) and an annotation {date, text}. */
int kpi_json_review_input(struct kpi_buf *out, const struct kpi_review *r, const struct kpi_action *actions, size_t n);
int kpi_json_annotation_input(struct kpi_buf *out, const struct kpi_annotation *a);

#endif
