/*
 * The storage interface. A backend (SQLite now, PostgreSQL later) is a table of function pointers,
 * after SQLite's sqlite3_vfs; callers use only the kpi_store_* wrappers below, which are also the
 * single place where tests inject faults. Every function returns 0 or a negative code, and fills
 * `diag` (when given) with what went wrong and where.
 *
 * Writes happen inside explicit transactions (begin/commit/rollback) so that a batch is applied
 * whole or not at all. A committed transaction survives a crash of the process (SQLite: WAL).
 */
#ifndef KPI_STORE_H
#define KPI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi/error.h"
#include "kpi/model.h"
#include "kpi/period.h"

#define KPI_ORG_NAME_MAX 200
#define KPI_TZ_NAME_MAX 64

/* The schema version this binary knows. */
#define KPI_SCHEMA_VERSION 5

/* Bit flags of a stored point. */
#define KPI_POINT_DATE 1 /* `at` was given as a date: stored as that day's local midnight */

struct kpi_org {
    char name[KPI_ORG_NAME_MAX + 1];
    char timezone[KPI_TZ_NAME_MAX + 1];
    int fiscal_year_start;
};

struct kpi_point_query {
    int64_t kpi_id;
    int64_t from_ms;  /* inclusive; INT64_MIN for no bound */
    int64_t to_ms;    /* exclusive; INT64_MAX for no bound */
    const char *dims; /* canonical filter: points whose dims include all these pairs; NULL or "" = all */
};

struct kpi_point_row {
    int64_t kpi_id;
    const char *dims; /* canonical form */
    int64_t at_ms;
    double value;
    int flags;
};

/* One point to write into a series (a KPI and one set of dims). */
struct kpi_point_write {
    int64_t at_ms;
    double value;
    int flags;
};

#define KPI_NOTE_MAX 4000
#define KPI_ACTION_TEXT_MAX 500
#define KPI_ANNOTATION_MAX 1000
#define KPI_ACTIONS_PER_REVIEW_MAX 50

/* A dated check-in on a KPI (or on a team's scorecard when kpi is ""). */
struct kpi_review {
    int64_t id;
    char kpi[KPI_KEY_MAX + 1];
    char *team;
    int64_t day;
    char *note;
    char *author;
    int64_t created_ms;
};

/* An action item decided in a review. */
struct kpi_action {
    int64_t id;
    int64_t review_id;
    char kpi[KPI_KEY_MAX + 1]; /* the review's KPI, "" for a team review */
    char *text;
    char *owner;
    int64_t due_day; /* INT64_MIN when there is no due date */
    int64_t done_ms; /* 0 while open */
    int64_t created_ms;
};

/* Context on the time line; kpi "" marks the whole organisation. */
struct kpi_annotation {
    int64_t id;
    char kpi[KPI_KEY_MAX + 1];
    int64_t day;
    char *text;
    int64_t created_ms;
};

#define KPI_TOKEN_NAME_MAX 64
#define KPI_TOKEN_HASH_SIZE 32

/* An API token as stored: its name and a hash of its text (never the text). */
struct kpi_token {
    char name[KPI_TOKEN_NAME_MAX + 1];
    int64_t created_ms;
};

struct kpi_action_query {
    const char *owner; /* NULL: every owner */
    bool open_only;
};

/* What ingestion needs to know of a KPI (kpi_store_kpi_index). */
struct kpi_index_row {
    const char *key;
    int64_t id;
    bool derived;
    bool archived;
};
typedef int (*kpi_index_cb)(void *ctx, const struct kpi_index_row *row);

/* One row of the stage (see store/stage.h): its id and its packed points. */
typedef int (*kpi_stage_row_cb)(void *ctx, int64_t id, const uint8_t *data, size_t len);

/* Return non-zero from the callback to stop the scan (that value is returned). */
typedef int (*kpi_point_cb)(void *ctx, const struct kpi_point_row *row);

struct kpi_store;

struct kpi_store_ops {
    const char *name;
    void (*close)(struct kpi_store *s);
    int (*schema_version)(struct kpi_store *s, int *ret_version);
    int (*begin)(struct kpi_store *s);
    int (*commit)(struct kpi_store *s);
    int (*rollback)(struct kpi_store *s);
    int (*begin_read)(struct kpi_store *s);
    int (*org_get)(struct kpi_store *s, struct kpi_org *ret_org);
    int (*org_set)(struct kpi_store *s, const struct kpi_org *org);
    int (*kpi_get)(struct kpi_store *s, const char *key, struct kpi_def *ret_def);
    int (*kpi_list)(struct kpi_store *s, bool include_archived, struct kpi_def **ret_defs, size_t *ret_n);
    int (*kpi_insert)(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag);
    int (*kpi_update)(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag);
    int (*dims_intern)(struct kpi_store *s, const char *canon, int64_t *ret_id);
    /* pts: sorted by at_ms, no two with the same at_ms. */
    int (*points_put)(struct kpi_store *s, int64_t kpi_id, int64_t dims_id, const struct kpi_point_write *pts, size_t n);
    int (*points_scan)(struct kpi_store *s, const struct kpi_point_query *q, kpi_point_cb cb, void *ctx);
    int (*points_count)(struct kpi_store *s, int64_t kpi_id, int64_t *ret_n);
    int (*points_span)(struct kpi_store *s, int64_t kpi_id, int64_t *ret_first_ms, int64_t *ret_last_ms);
    int (*review_add)(struct kpi_store *s, struct kpi_review *review, struct kpi_action *actions, size_t n_actions);
    int (*reviews_list)(struct kpi_store *s, const char *kpi, int64_t to_day, struct kpi_review **ret, size_t *ret_n);
    int (*actions_list)(struct kpi_store *s, const struct kpi_action_query *q, struct kpi_action **ret, size_t *ret_n);
    int (*action_done)(struct kpi_store *s, int64_t id, int64_t done_ms);
    int (*annotation_add)(struct kpi_store *s, struct kpi_annotation *a);
    int (*annotations_list)(struct kpi_store *s, const char *kpi, int64_t from_day, int64_t to_day, struct kpi_annotation **ret,
                            size_t *ret_n);
    int (*data_version)(struct kpi_store *s, uint64_t *ret_version);
    int (*memory_limit)(struct kpi_store *s, size_t cache_bytes);
    int (*kpi_index)(struct kpi_store *s, kpi_index_cb cb, void *ctx);
    int (*checkpoint)(struct kpi_store *s, bool automatic);
    int (*token_add)(struct kpi_store *s, const char *name, const uint8_t hash[KPI_TOKEN_HASH_SIZE], int64_t created_ms);
    int (*token_find)(struct kpi_store *s, const uint8_t hash[KPI_TOKEN_HASH_SIZE], struct kpi_token *ret_token);
    int (*tokens_list)(struct kpi_store *s, struct kpi_token **ret, size_t *ret_n);
    int (*token_remove)(struct kpi_store *s, const char *name);
    /* The stage, kept by store/stage.c: append a row of n packed points; read rows after an id in
     * id order until they hold max_points points (at least one row); delete rows up to an id;
     * count the rows. */
    int (*stage_put)(struct kpi_store *s, const uint8_t *data, size_t len, size_t n);
    int (*stage_read)(struct kpi_store *s, int64_t after_id, size_t max_points, kpi_stage_row_cb cb, void *ctx);
    int (*stage_delete)(struct kpi_store *s, int64_t upto_id);
    int (*stage_rows)(struct kpi_store *s, int64_t *ret_rows);
};

struct kpi_store {
    const struct kpi_store_ops *ops;
};

/* Opens (and, with create, creates) the database at path and brings its schema up to date.
 * -ENOENT: no database and !create; -EPROTO: the schema is newer than this binary. */
int kpi_store_open_sqlite(const char *path, bool create, struct kpi_store **ret_store, struct kpi_diag *diag);
struct kpi_store *kpi_store_close(struct kpi_store *s);

int kpi_store_schema_version(struct kpi_store *s, int *ret_version);
int kpi_store_begin(struct kpi_store *s);
int kpi_store_commit(struct kpi_store *s);
int kpi_store_rollback(struct kpi_store *s);
/* A read-only transaction (one consistent snapshot for many reads); end it with kpi_store_rollback. */
int kpi_store_begin_read(struct kpi_store *s);
int kpi_store_org_get(struct kpi_store *s, struct kpi_org *ret_org);
int kpi_store_org_set(struct kpi_store *s, const struct kpi_org *org);
int kpi_store_kpi_get(struct kpi_store *s, const char *key, struct kpi_def *ret_def);
int kpi_store_kpi_list(struct kpi_store *s, bool include_archived, struct kpi_def **ret_defs, size_t *ret_n);
void kpi_store_kpi_list_free(struct kpi_def *defs, size_t n);
/* Validates (kpi_def_validate plus: parent exists) and inserts; sets def->id. -EEXIST when the key
 * is taken. */
int kpi_store_kpi_insert(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag);
int kpi_store_kpi_update(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag);
int kpi_store_dims_intern(struct kpi_store *s, const char *canon, int64_t *ret_id);
/* Writes points into one series, replacing stored points at the same instants. pts must be sorted
 * by at_ms without duplicates. */
int kpi_store_points_put(struct kpi_store *s, int64_t kpi_id, int64_t dims_id, const struct kpi_point_write *pts, size_t n);
int kpi_store_point_put(struct kpi_store *s, int64_t kpi_id, int64_t dims_id, int64_t at_ms, double value, int flags);
int kpi_store_points_scan(struct kpi_store *s, const struct kpi_point_query *q, kpi_point_cb cb, void *ctx);
int kpi_store_points_count(struct kpi_store *s, int64_t kpi_id, int64_t *ret_n);
/* The instants of the KPI's earliest and latest points; -ENOENT when it has none. */
int kpi_store_points_span(struct kpi_store *s, int64_t kpi_id, int64_t *ret_first_ms, int64_t *ret_last_ms);

/* Most points kpi_store_points_load returns: past it the caller must narrow the range. */
#define KPI_STORE_LOAD_MAX (50u * 1000 * 1000)

/* The points matching q as an array (unsorted; the caller frees it), with the earliest and latest
 * instants. -E2BIG past KPI_STORE_LOAD_MAX points. */
struct kpi_point;
int kpi_store_points_load(struct kpi_store *s, const struct kpi_point_query *q, struct kpi_point **ret_points, size_t *ret_n,
                          int64_t *ret_min_at, int64_t *ret_max_at);

/* Reviews, action items and annotations. review_add writes the review and its actions together
 * and sets their ids (a KPI review needs an existing KPI: -ENOENT). reviews_list: of one KPI (or all
 * when kpi is NULL) up to to_day, newest first. annotations_list: of one KPI plus the org-wide ones
 * (all when kpi is NULL) between the days, by day. action_done: closes an action at done_ms (a closed
 * one keeps its first closing time), or reopens it when done_ms is 0; -ENOENT for an unknown id. */
int kpi_store_review_add(struct kpi_store *s, struct kpi_review *review, struct kpi_action *actions, size_t n_actions);
int kpi_store_reviews_list(struct kpi_store *s, const char *kpi, int64_t to_day, struct kpi_review **ret, size_t *ret_n);
void kpi_store_reviews_free(struct kpi_review *reviews, size_t n);
int kpi_store_actions_list(struct kpi_store *s, const struct kpi_action_query *q, struct kpi_action **ret, size_t *ret_n);
void kpi_store_actions_free(struct kpi_action *actions, size_t n);
int kpi_store_action_done(struct kpi_store *s, int64_t id, int64_t done_ms);
int kpi_store_annotation_add(struct kpi_store *s, struct kpi_annotation *a);
int kpi_store_annotations_list(struct kpi_store *s, const char *kpi, int64_t from_day, int64_t to_day, struct kpi_annotation **ret,
                               size_t *ret_n);
void kpi_store_annotations_free(struct kpi_annotation *a, size_t n);

/* Every KPI's key, id and whether it is derived or archived, in one cheap pass (no definitions
 * are built): how a batch resolves its keys. */
int kpi_store_kpi_index(struct kpi_store *s, kpi_index_cb cb, void *ctx);

/* Copies committed transactions from the write-ahead log into the database without blocking
 * writers or readers (automatic false), or (automatic true) lets commits do it themselves, the
 * default. A server turns automatic checkpoints off on its connections and checkpoints from a
 * thread of its own, so that no write waits for one. */
int kpi_store_checkpoint(struct kpi_store *s, bool automatic);

/* Bounds the memory the connection keeps for the database to cache_bytes (page cache) and stops
 * memory-mapping the file, whose touched pages would otherwise count in the process's resident
 * memory: for long-running processes with several connections (the server). */
int kpi_store_memory_limit(struct kpi_store *s, size_t cache_bytes);

/* A number that changes whenever another connection (another thread or process) has committed
 * to the database since the last call on this connection: how the server notices writes it did
 * not make itself. */
int kpi_store_data_version(struct kpi_store *s, uint64_t *ret_version);

/* API tokens. token_add: -EEXIST when the name (or, astronomically unlikely, the hash) is taken.
 * token_find: the token with that hash, -ENOENT when none. tokens_list: by name (free()).
 * token_remove: -ENOENT for an unknown name. */
int kpi_store_token_add(struct kpi_store *s, const char *name, const uint8_t hash[KPI_TOKEN_HASH_SIZE], int64_t created_ms);
int kpi_store_token_find(struct kpi_store *s, const uint8_t hash[KPI_TOKEN_HASH_SIZE], struct kpi_token *ret_token);
int kpi_store_tokens_list(struct kpi_store *s, struct kpi_token **ret, size_t *ret_n);
int kpi_store_token_remove(struct kpi_store *s, const char *name);

/* The stage's rows, for store/stage.c only (see the ops above). */
int kpi_store_stage_put(struct kpi_store *s, const uint8_t *data, size_t len, size_t n);
int kpi_store_stage_read(struct kpi_store *s, int64_t after_id, size_t max_points, kpi_stage_row_cb cb, void *ctx);
int kpi_store_stage_delete(struct kpi_store *s, int64_t upto_id);
int kpi_store_stage_rows(struct kpi_store *s, int64_t *ret_rows);

/* The organisation calendar: loads the org's time zone. Free with kpi_store_calendar_done. */
int kpi_store_calendar(struct kpi_store *s, struct kpi_calendar *ret_cal, struct kpi_diag *diag);
void kpi_store_calendar_done(struct kpi_calendar *cal);

/* Test hook: when set, the wrapper named `op` ("point_put", "commit", ...) fails with `code` after
 * `after` successful calls. */
void kpi_store_inject_fault(const char *op, unsigned after, int code);

#endif
