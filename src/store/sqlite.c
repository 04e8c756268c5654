/*
 * The SQLite backend of the storage interface: the only file that includes sqlite3.h.
 *
 * The database runs in WAL mode with synchronous=NORMAL: a committed transaction survives a crash
 * or kill -9 of the process (the WAL is in the OS page cache); only a power loss may take the last
 * transactions. Migrations are the numbered SQL files of migrations/sqlite/, embedded at build
 * time, applied in one transaction each and recorded in PRAGMA user_version. A database whose
 * version is newer than this binary knows is refused rather than misread.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/clock.h"
#include "base/buf.h"
#include "base/embed.h"
#include "base/str.h"
#include "base/strmap.h"
#include "kpi/status.h"
#include "kpi/dims.h"
#include "store/chunk.h"
#include "store/stage.h"
#include "store/store.h"

extern const struct kpi_embedded kpi_sqlite_migrations[];

enum stmt_id {
    ST_CHUNK_FLOOR,
    ST_CHUNK_CEIL,
    ST_CHUNK_NEXT,
    ST_CHUNK_DEL,
    ST_CHUNK_PUT,
    ST_DIMS_GET,
    ST_DIMS_ADD,
    ST_KPI_GET,
    ST_DIMS_MAX,
    ST_DIMS_ALL,
    ST_SCAN_KPI,
    ST_SCAN_ALL,
    ST_SPAN,
    ST_TOKEN_FIND,
    ST_DATA_VERSION,
    ST_KPI_INDEX,
    ST_TAIL_GET,
    ST_TAIL_PUT,
    ST_TAIL_DEL,
    ST_CHUNK_LAST,
    ST_STAGE_PUT,
    ST_STAGE_READ,
    ST_STAGE_DEL,
    ST_STAGE_ROWS,
    ST__COUNT,
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_CHUNK_FLOOR] = "SELECT start, data FROM chunk WHERE kpi_id = ?1 AND dims_id = ?2 AND start <= ?3 "
                       "ORDER BY start DESC LIMIT 1",
    [ST_CHUNK_CEIL] = "SELECT start, data FROM chunk WHERE kpi_id = ?1 AND dims_id = ?2 AND start > ?3 "
                      "ORDER BY start LIMIT 1",
    [ST_CHUNK_NEXT] = "SELECT start FROM chunk WHERE kpi_id = ?1 AND dims_id = ?2 AND start > ?3 ORDER BY start LIMIT 1",
    [ST_CHUNK_DEL] = "DELETE FROM chunk WHERE kpi_id = ?1 AND dims_id = ?2 AND start = ?3",
    [ST_CHUNK_PUT] = "INSERT OR REPLACE INTO chunk (kpi_id, dims_id, start, last, n, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_DIMS_GET] = "SELECT id FROM dims WHERE canon = ?1",
    [ST_DIMS_MAX] = "SELECT max(id) FROM dims",
    [ST_DIMS_ALL] = "SELECT id, canon FROM dims",
    /* Series come in the order of their dims' text, the same in every database with the same points. */
    /* A series' tail comes after its chunks (its points are the newest). */
    [ST_SCAN_KPI] = "SELECT x.kpi_id, x.dims_id, x.data FROM (SELECT kpi_id, dims_id, start, data, 0 AS t FROM chunk "
                    "WHERE kpi_id = ?1 AND start < ?3 AND last >= ?2 UNION ALL SELECT kpi_id, dims_id, first, data, 1 FROM tail "
                    "WHERE kpi_id = ?1 AND first < ?3 AND last >= ?2) x JOIN dims d ON d.id = x.dims_id "
                    "ORDER BY d.canon, x.t, x.start",
    [ST_SCAN_ALL] = "SELECT kpi_id, dims_id, data FROM (SELECT kpi_id, dims_id, start, data, 0 AS t FROM chunk "
                    "WHERE start < ?3 AND last >= ?2 UNION ALL SELECT kpi_id, dims_id, first, data, 1 FROM tail "
                    "WHERE first < ?3 AND last >= ?2) ORDER BY kpi_id, dims_id, t, start",
    [ST_SPAN] = "SELECT min(s), max(l) FROM (SELECT min(start) AS s, max(last) AS l FROM chunk WHERE kpi_id = ?1 "
                "UNION ALL SELECT min(first), max(last) FROM tail WHERE kpi_id = ?1)",
    [ST_TOKEN_FIND] = "SELECT name, created_ms FROM token WHERE hash = ?1",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_TAIL_GET] = "SELECT first, last, n, data FROM tail WHERE kpi_id = ?1 AND dims_id = ?2",
    [ST_TAIL_PUT] = "INSERT OR REPLACE INTO tail (kpi_id, dims_id, first, last, n, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_TAIL_DEL] = "DELETE FROM tail WHERE kpi_id = ?1 AND dims_id = ?2",
    [ST_CHUNK_LAST] = "SELECT start, data, last FROM chunk WHERE kpi_id = ?1 AND dims_id = ?2 ORDER BY start DESC LIMIT 1",
    [ST_KPI_INDEX] = "SELECT key, id, formula IS NOT NULL, archived FROM kpi",
    [ST_STAGE_PUT] = "INSERT INTO stage (n, data) VALUES (?1, ?2)",
    [ST_STAGE_READ] = "SELECT id, n, data FROM stage WHERE id > ?1 ORDER BY id",
    [ST_STAGE_DEL] = "DELETE FROM stage WHERE id <= ?1",
    [ST_STAGE_ROWS] = "SELECT count(*) FROM stage",
    [ST_DIMS_ADD] = "INSERT INTO dims (canon) VALUES (?1)",
    [ST_KPI_GET] = "SELECT id, key, name, description, unit, format, decimals, direction, aggregation, granularity, "
                   "formula, tier, indicator, owner, team, parent, weight, review_cadence, visibility, tags, archived, "
                   "created_ms, updated_ms FROM kpi WHERE key = ?1",
};

struct sqlite_store {
    struct kpi_store base;
    sqlite3 *db;
    sqlite3_stmt *stmts[ST__COUNT];
    /* Scratch space for chunk merges, reused across writes. */
    struct kpi_point_write *old, *merged;
    size_t old_cap, merged_cap;
    uint8_t *blob;
    size_t blob_cap;
    /* A series' tail and the tail merged with new points. */
    struct kpi_point_write *tail, *tail_merged;
    size_t tail_cap, tail_merged_cap;
    /* dims id -> canonical form, see dims_cache_load */
    char **dims;
    int64_t dims_max;
};

static struct sqlite_store *to_sqlite(struct kpi_store *s)
{
    return (struct sqlite_store *)s;
}

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_TOOBIG:
        return -E2BIG;
    case SQLITE_CANTOPEN:
        return -ENOENT;
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return -EACCES;
    default:
        return -EIO;
    }
}

static sqlite3_stmt *stmt(struct sqlite_store *st, enum stmt_id id)
{
    if (!st->stmts[id]) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmts[id], NULL) != SQLITE_OK)
            return NULL;
    }
    sqlite3_reset(st->stmts[id]);
    sqlite3_clear_bindings(st->stmts[id]);
    return st->stmts[id];
}

static int exec(struct sqlite_store *st, const char *sql)
{
    return map_rc(sqlite3_exec(st->db, sql, NULL, NULL, NULL));
}

static void dims_cache_drop(struct sqlite_store *st);

static void sqlite_close(struct kpi_store *s)
{
    struct sqlite_store *st = to_sqlite(s);
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(st->stmts[i]);
    sqlite3_close(st->db);
    free(st->old);
    free(st->merged);
    free(st->blob);
    free(st->tail);
    free(st->tail_merged);
    dims_cache_drop(st);
    free(st);
}

static int sqlite_schema_version(struct kpi_store *s, int *ret_version)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(to_sqlite(s)->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    int r = -EIO;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *ret_version = sqlite3_column_int(q, 0);
        r = 0;
    }
    sqlite3_finalize(q);
    return r;
}

static int sqlite_begin(struct kpi_store *s)
{
    /* IMMEDIATE takes the write lock now, so a concurrent writer waits (busy_timeout) instead of
     * failing halfway through a batch. */
    return exec(to_sqlite(s), "BEGIN IMMEDIATE");
}

static int sqlite_commit(struct kpi_store *s)
{
    return exec(to_sqlite(s), "COMMIT");
}

static int sqlite_rollback(struct kpi_store *s)
{
    /* Dims ids handed out in the transaction may be given again to other label sets. */
    dims_cache_drop(to_sqlite(s));
    return exec(to_sqlite(s), "ROLLBACK");
}

static int sqlite_begin_read(struct kpi_store *s)
{
    /* One read transaction for a batch of reads: one snapshot, and one lock instead of one per
     * statement. */
    return exec(to_sqlite(s), "BEGIN DEFERRED");
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    kpi_strlcpy(dst, t ? (const char *)t : "", size);
}

static int sqlite_org_get(struct kpi_store *s, struct kpi_org *ret_org)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(to_sqlite(s)->db, "SELECT name, timezone, fiscal_year_start FROM org WHERE id = 1", -1, &q, NULL) !=
        SQLITE_OK)
        return -EIO;
    int r = -ENOENT;
    if (sqlite3_step(q) == SQLITE_ROW) {
        struct kpi_org org;
        copy_text(org.name, sizeof(org.name), q, 0);
        copy_text(org.timezone, sizeof(org.timezone), q, 1);
        org.fiscal_year_start = sqlite3_column_int(q, 2);
        *ret_org = org;
        r = 0;
    }
    sqlite3_finalize(q);
    return r;
}

static int sqlite_org_set(struct kpi_store *s, const struct kpi_org *org)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(to_sqlite(s)->db, "UPDATE org SET name = ?1, timezone = ?2, fiscal_year_start = ?3 WHERE id = 1", -1, &q,
                           NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, org->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, org->timezone, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, org->fiscal_year_start);
    int r = map_rc(sqlite3_step(q));
    sqlite3_finalize(q);
    return r;
}

static const char *col_text(sqlite3_stmt *q, int col)
{
    return (const char *)sqlite3_column_text(q, col);
}

static int enum_col(const struct kpi_enum_info *e, sqlite3_stmt *q, int col, int *ret)
{
    return kpi_enum_parse(e, col_text(q, col), ret, NULL) < 0 ? -EIO : 0;
}

/* Reads a row of the kpi table (columns in ST_KPI_GET order) into d. */
static int read_kpi_row(sqlite3_stmt *q, struct kpi_def *ret_def)
{
    struct kpi_def d;
    kpi_def_init(&d);
    int r = 0, v;
    d.id = sqlite3_column_int64(q, 0);
    kpi_strlcpy(d.key, col_text(q, 1) ? col_text(q, 1) : "", sizeof(d.key));
    d.name = kpi_strdup_or_null(col_text(q, 2));
    d.description = kpi_strdup_or_null(col_text(q, 3));
    d.unit = kpi_strdup_or_null(col_text(q, 4));
    if (r == 0 && (r = enum_col(&kpi_enum_format, q, 5, &v)) == 0)
        d.format = v;
    d.decimals = sqlite3_column_int(q, 6);
    if (r == 0 && (r = enum_col(&kpi_enum_direction, q, 7, &v)) == 0)
        d.direction = v;
    if (r == 0 && (r = enum_col(&kpi_enum_aggregation, q, 8, &v)) == 0)
        d.aggregation = v;
    if (r == 0 && (r = enum_col(&kpi_enum_granularity, q, 9, &v)) == 0)
        d.granularity = v;
    d.formula = kpi_strdup_or_null(col_text(q, 10));
    if (r == 0 && (r = enum_col(&kpi_enum_tier, q, 11, &v)) == 0)
        d.tier = v;
    if (r == 0 && (r = enum_col(&kpi_enum_indicator, q, 12, &v)) == 0)
        d.indicator = v;
    d.owner = kpi_strdup_or_null(col_text(q, 13));
    d.team = kpi_strdup_or_null(col_text(q, 14));
    d.parent = kpi_strdup_or_null(col_text(q, 15));
    d.weight = sqlite3_column_double(q, 16);
    if (r == 0 && (r = enum_col(&kpi_enum_cadence, q, 17, &v)) == 0)
        d.review_cadence = v;
    if (r == 0 && (r = enum_col(&kpi_enum_visibility, q, 18, &v)) == 0)
        d.visibility = v;
    if (r == 0)
        r = kpi_def_set_field(&d, "tags", col_text(q, 19) ? col_text(q, 19) : "", NULL);
    d.archived = sqlite3_column_int(q, 20) != 0;
    d.created_ms = sqlite3_column_int64(q, 21);
    d.updated_ms = sqlite3_column_int64(q, 22);
    if (r < 0) {
        kpi_def_clear(&d);
        return r;
    }
    *ret_def = d;
    return 0;
}

/* Loads the targets of defs[0..n) (ordered by date). A single query serves a whole list. */
static int load_targets(struct sqlite_store *st, struct kpi_def *defs, size_t n)
{
    if (n == 0)
        return 0;
    const char *sql = n == 1 ? "SELECT kpi_id, baseline, baseline_day, value, day, low, high, at_risk_pct FROM target "
                               "WHERE kpi_id = ?1 ORDER BY day"
                             : "SELECT kpi_id, baseline, baseline_day, value, day, low, high, at_risk_pct FROM target "
                               "ORDER BY kpi_id, day";
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    if (n == 1)
        sqlite3_bind_int64(q, 1, defs[0].id);
    struct kpi_strmap index;
    kpi_strmap_init(&index, n);
    int r = 0, rc;
    for (size_t i = 0; r == 0 && n > 1 && i < n; i++)
        r = kpi_strmap_put(&index, (const char *)&defs[i].id, sizeof(defs[i].id), (int64_t)i);
    while (r == 0) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) {
            if (rc != SQLITE_DONE)
                r = map_rc(rc);
            break;
        }
        int64_t kpi_id = sqlite3_column_int64(q, 0), idx = 0;
        if (n > 1 && !kpi_strmap_get(&index, (const char *)&kpi_id, sizeof(kpi_id), &idx))
            continue;
        struct kpi_def *d = &defs[idx];
        struct kpi_target *grown = realloc(d->targets, (d->n_targets + 1) * sizeof(*grown));
        if (!grown) {
            r = -ENOMEM;
            break;
        }
        d->targets = grown;
        d->targets[d->n_targets++] = (struct kpi_target){
            .baseline = sqlite3_column_double(q, 1),
            .baseline_day = sqlite3_column_int64(q, 2),
            .value = sqlite3_column_double(q, 3),
            .day = sqlite3_column_int64(q, 4),
            .low = sqlite3_column_double(q, 5),
            .high = sqlite3_column_double(q, 6),
            .at_risk_pct = sqlite3_column_double(q, 7),
        };
    }
    kpi_strmap_free(&index);
    sqlite3_finalize(q);
    return r;
}

static int sqlite_kpi_get(struct kpi_store *s, const char *key, struct kpi_def *ret_def)
{
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_KPI_GET);
    if (!q)
        return -EIO;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    struct kpi_def d;
    int r = rc == SQLITE_ROW ? read_kpi_row(q, &d) : (rc == SQLITE_DONE ? -ENOENT : map_rc(rc));
    sqlite3_reset(q);
    if (r < 0)
        return r;
    r = load_targets(to_sqlite(s), &d, 1);
    if (r < 0) {
        kpi_def_clear(&d);
        return r;
    }
    *ret_def = d;
    return 0;
}

static int sqlite_kpi_list(struct kpi_store *s, bool include_archived, struct kpi_def **ret_defs, size_t *ret_n)
{
    const char *sql = include_archived ? "SELECT id, key, name, description, unit, format, decimals, direction, aggregation, "
                                         "granularity, formula, tier, indicator, owner, team, parent, weight, "
                                         "review_cadence, visibility, tags, archived, created_ms, updated_ms FROM kpi "
                                         "ORDER BY key"
                                       : "SELECT id, key, name, description, unit, format, decimals, direction, aggregation, "
                                         "granularity, formula, tier, indicator, owner, team, parent, weight, "
                                         "review_cadence, visibility, tags, archived, created_ms, updated_ms FROM kpi "
                                         "WHERE archived = 0 ORDER BY key";
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(to_sqlite(s)->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    struct kpi_def *defs = NULL;
    size_t n = 0, cap = 0;
    int r = 0, rc;
    for (;;) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct kpi_def *grown = realloc(defs, cap * sizeof(*defs));
            if (!grown) {
                r = -ENOMEM;
                break;
            }
            defs = grown;
        }
        r = read_kpi_row(q, &defs[n]);
        if (r < 0)
            break;
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = map_rc(rc);
    sqlite3_finalize(q);
    if (r == 0)
        r = load_targets(to_sqlite(s), defs, n);
    if (r < 0) {
        kpi_store_kpi_list_free(defs, n);
        return r;
    }
    *ret_defs = defs;
    *ret_n = n;
    return 0;
}

static int bind_kpi(sqlite3_stmt *q, const struct kpi_def *d, char *tags)
{
    sqlite3_bind_text(q, 1, d->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, d->description, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, d->unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, kpi_enum_name(&kpi_enum_format, (int)d->format), -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 6, d->decimals);
    sqlite3_bind_text(q, 7, kpi_enum_name(&kpi_enum_direction, (int)d->direction), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, kpi_enum_name(&kpi_enum_aggregation, (int)d->aggregation), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 9, kpi_enum_name(&kpi_enum_granularity, (int)d->granularity), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 10, d->formula, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 11, kpi_enum_name(&kpi_enum_tier, (int)d->tier), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 12, kpi_enum_name(&kpi_enum_indicator, (int)d->indicator), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 13, d->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 14, d->team, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 15, d->parent, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 16, d->weight);
    sqlite3_bind_text(q, 17, kpi_enum_name(&kpi_enum_cadence, (int)d->review_cadence), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 18, kpi_enum_name(&kpi_enum_visibility, (int)d->visibility), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 19, tags, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 20, d->archived ? 1 : 0);
    sqlite3_bind_int64(q, 21, d->created_ms);
    sqlite3_bind_int64(q, 22, d->updated_ms);
    return 0;
}

static char *join_tags(const struct kpi_def *d)
{
    struct kpi_buf b;
    kpi_buf_init(&b, (KPI_TAG_MAX + 1) * KPI_TAGS_MAX + 1);
    for (size_t i = 0; i < d->n_tags; i++)
        if (kpi_buf_printf(&b, "%s%s", i ? "," : "", d->tags[i]) < 0)
            return NULL;
    return kpi_buf_take(&b);
}

/* Replaces the stored targets of the KPI with def's. */
static int write_targets(struct sqlite_store *st, const struct kpi_def *def)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM target WHERE kpi_id = ?1", -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(q, 1, def->id);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return map_rc(rc);
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO target (kpi_id, baseline, baseline_day, value, day, low, high, at_risk_pct) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    int r = 0;
    for (size_t i = 0; r == 0 && i < def->n_targets; i++) {
        const struct kpi_target *t = &def->targets[i];
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, def->id);
        sqlite3_bind_double(q, 2, t->baseline);
        sqlite3_bind_int64(q, 3, t->baseline_day);
        sqlite3_bind_double(q, 4, t->value);
        sqlite3_bind_int64(q, 5, t->day);
        sqlite3_bind_double(q, 6, t->low);
        sqlite3_bind_double(q, 7, t->high);
        sqlite3_bind_double(q, 8, t->at_risk_pct);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
            r = map_rc(rc);
    }
    sqlite3_finalize(q);
    return r;
}

/* The KPI row and its targets are written together: a savepoint makes the pair atomic whether or
 * not the caller has a transaction open. */
static int write_kpi_row(struct kpi_store *s, struct kpi_def *def, bool insert, struct kpi_diag *diag);

static int write_kpi(struct kpi_store *s, struct kpi_def *def, bool insert, struct kpi_diag *diag)
{
    struct sqlite_store *st = to_sqlite(s);
    int r = exec(st, "SAVEPOINT kpi_write");
    if (r < 0)
        return kpi_diag_set(diag, r, "database: %s", sqlite3_errmsg(st->db));
    r = write_kpi_row(s, def, insert, diag);
    if (r == 0 && !insert) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(st->db, "SELECT id FROM kpi WHERE key = ?1", -1, &q, NULL) != SQLITE_OK) {
            r = -EIO;
        } else {
            sqlite3_bind_text(q, 1, def->key, -1, SQLITE_STATIC);
            if (sqlite3_step(q) == SQLITE_ROW)
                def->id = sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
        }
    }
    if (r == 0) {
        r = write_targets(st, def);
        if (r < 0)
            kpi_diag_set(diag, r, "database: cannot write the targets: %s", sqlite3_errmsg(st->db));
    }
    if (r < 0)
        exec(st, "ROLLBACK TO kpi_write");
    exec(st, "RELEASE kpi_write");
    return r;
}

static int write_kpi_row(struct kpi_store *s, struct kpi_def *def, bool insert, struct kpi_diag *diag)
{
    const char *sql = insert ? "INSERT INTO kpi (key, name, description, unit, format, decimals, direction, aggregation, "
                               "granularity, formula, tier, indicator, owner, team, parent, weight, review_cadence, "
                               "visibility, tags, archived, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                               "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
                             : "UPDATE kpi SET name = ?2, description = ?3, unit = ?4, format = ?5, decimals = ?6, "
                               "direction = ?7, aggregation = ?8, granularity = ?9, formula = ?10, tier = ?11, "
                               "indicator = ?12, owner = ?13, team = ?14, parent = ?15, weight = ?16, "
                               "review_cadence = ?17, visibility = ?18, tags = ?19, archived = ?20, updated_ms = ?22 "
                               "WHERE key = ?1 AND ?21 IS NOT NULL";
    sqlite3 *db = to_sqlite(s)->db;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return kpi_diag_set(diag, -EIO, "database: %s", sqlite3_errmsg(db));
    char *tags = join_tags(def);
    if (!tags) {
        sqlite3_finalize(q);
        return -ENOMEM;
    }
    int64_t now = kpi_clock_wall_ms();
    if (insert)
        def->created_ms = now;
    def->updated_ms = now;
    bind_kpi(q, def, tags);
    int rc = sqlite3_step(q);
    int r = map_rc(rc);
    if (r == -EEXIST)
        kpi_diag_set(diag, r, "key: a KPI with key '%s' already exists", def->key);
    else if (r < 0)
        kpi_diag_set(diag, r, "database: %s", sqlite3_errmsg(db));
    else if (insert)
        def->id = sqlite3_last_insert_rowid(db);
    else if (sqlite3_changes(db) == 0)
        r = kpi_diag_set(diag, -ENOENT, "no KPI with key '%s'", def->key);
    sqlite3_finalize(q);
    free(tags);
    return r;
}

static int sqlite_kpi_insert(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag)
{
    return write_kpi(s, def, true, diag);
}

static int sqlite_kpi_update(struct kpi_store *s, struct kpi_def *def, struct kpi_diag *diag)
{
    return write_kpi(s, def, false, diag);
}

static int sqlite_dims_intern(struct kpi_store *s, const char *canon, int64_t *ret_id)
{
    struct sqlite_store *st = to_sqlite(s);
    if (!*canon) {
        *ret_id = 0;
        return 0;
    }
    sqlite3_stmt *q = stmt(st, ST_DIMS_GET);
    if (!q)
        return -EIO;
    sqlite3_bind_text(q, 1, canon, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *ret_id = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        return 0;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return map_rc(rc);
    q = stmt(st, ST_DIMS_ADD);
    if (!q)
        return -EIO;
    sqlite3_bind_text(q, 1, canon, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return map_rc(rc);
    *ret_id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

static int reserve(void **p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return 0;
    size_t n = *cap ? *cap : 1024;
    while (n < want)
        n *= 2;
    void *grown = realloc(*p, n * size);
    if (!grown)
        return -ENOMEM;
    *p = grown;
    *cap = n;
    return 0;
}

/* Loads the chunk found by a FLOOR/CEIL statement (already bound and stepped to a row). */
static int load_chunk(struct sqlite_store *st, sqlite3_stmt *q, int64_t *ret_start, size_t *ret_n)
{
    const uint8_t *blob = sqlite3_column_blob(q, 1);
    size_t len = (size_t)sqlite3_column_bytes(q, 1);
    int r = reserve((void **)&st->old, &st->old_cap, len / KPI_CHUNK_RECORD + 1, sizeof(*st->old));
    if (r < 0)
        return r;
    *ret_start = sqlite3_column_int64(q, 0);
    return kpi_chunk_decode(blob, len, st->old, st->old_cap, ret_n) < 0 ? -EIO : 0;
}

/* Writes points as one encoded row of the chunk or tail table (ST_CHUNK_PUT or ST_TAIL_PUT, which
 * take the same columns: kpi, dims, first instant, last instant, count, data). */
static int write_points_row(struct sqlite_store *st, enum stmt_id id, int64_t kpi_id, int64_t dims_id,
                            const struct kpi_point_write *pts, size_t n)
{
    int r = reserve((void **)&st->blob, &st->blob_cap, n * KPI_CHUNK_RECORD, 1);
    if (r < 0)
        return r;
    kpi_chunk_encode(pts, n, st->blob);
    sqlite3_stmt *q = stmt(st, id);
    if (!q)
        return -EIO;
    sqlite3_bind_int64(q, 1, kpi_id);
    sqlite3_bind_int64(q, 2, dims_id);
    sqlite3_bind_int64(q, 3, pts[0].at_ms);
    sqlite3_bind_int64(q, 4, pts[n - 1].at_ms);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)n);
    sqlite3_bind_blob(q, 6, st->blob, (int)(n * KPI_CHUNK_RECORD), SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

/* Merges pts (sorted, unique instants, all before the next chunk) into the chunk held in st->old
 * (n_old points starting at start; found false: no chunk, they start a new one) and writes the
 * result back, split in pieces when it grew past KPI_CHUNK_MAX. */
static int merge_into_chunk(struct sqlite_store *st, int64_t kpi_id, int64_t dims_id, bool found, int64_t start, size_t n_old,
                            const struct kpi_point_write *pts, size_t n)
{
    int r = reserve((void **)&st->merged, &st->merged_cap, n_old + n, sizeof(*st->merged));
    if (r < 0)
        return r;
    size_t m = kpi_chunk_merge(st->old, n_old, pts, n, st->merged);
    if (found && st->merged[0].at_ms != start) {
        sqlite3_stmt *q = stmt(st, ST_CHUNK_DEL);
        if (!q)
            return -EIO;
        sqlite3_bind_int64(q, 1, kpi_id);
        sqlite3_bind_int64(q, 2, dims_id);
        sqlite3_bind_int64(q, 3, start);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return map_rc(rc);
    }
    size_t *starts = malloc((m / KPI_CHUNK_TARGET + 1) * sizeof(*starts));
    if (!starts)
        return -ENOMEM;
    size_t pieces = kpi_chunk_split(m, starts);
    for (size_t p = 0; p < pieces && r == 0; p++) {
        size_t end = p + 1 < pieces ? starts[p + 1] : m;
        r = write_points_row(st, ST_CHUNK_PUT, kpi_id, dims_id, st->merged + starts[p], end - starts[p]);
    }
    free(starts);
    return r;
}

/* Writes a run of points (sorted, unique instants) into one series. Each step takes the chunk
 * that holds the first pending point (the last chunk starting at or before it, else the series'
 * first chunk) and merges into it every pending point that falls before the next chunk. */
static int chunks_put(struct sqlite_store *st, int64_t kpi_id, int64_t dims_id, const struct kpi_point_write *pts, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int64_t t = pts[i].at_ms;
        bool found = false;
        int64_t start = 0;
        size_t n_old = 0;
        int r = 0, rc;
        for (int which = 0; which < 2 && !found; which++) {
            sqlite3_stmt *q = stmt(st, which == 0 ? ST_CHUNK_FLOOR : ST_CHUNK_CEIL);
            if (!q)
                return -EIO;
            sqlite3_bind_int64(q, 1, kpi_id);
            sqlite3_bind_int64(q, 2, dims_id);
            sqlite3_bind_int64(q, 3, t);
            rc = sqlite3_step(q);
            if (rc == SQLITE_ROW) {
                found = true;
                r = load_chunk(st, q, &start, &n_old);
            } else if (rc != SQLITE_DONE) {
                r = map_rc(rc);
            }
            sqlite3_reset(q);
            if (r < 0)
                return r;
        }
        /* Pending points up to the next chunk belong to this one. */
        int64_t upper = INT64_MAX;
        if (found) {
            sqlite3_stmt *q = stmt(st, ST_CHUNK_NEXT);
            if (!q)
                return -EIO;
            sqlite3_bind_int64(q, 1, kpi_id);
            sqlite3_bind_int64(q, 2, dims_id);
            sqlite3_bind_int64(q, 3, start);
            rc = sqlite3_step(q);
            if (rc == SQLITE_ROW)
                upper = sqlite3_column_int64(q, 0);
            else if (rc != SQLITE_DONE)
                r = map_rc(rc);
            sqlite3_reset(q);
            if (r < 0)
                return r;
        }
        size_t j = i;
        while (j < n && pts[j].at_ms < upper)
            j++;
        r = merge_into_chunk(st, kpi_id, dims_id, found, start, n_old, pts + i, j - i);
        if (r < 0)
            return r;
        i = j;
    }
    return 0;
}

/* Reads a series' tail into st->tail (*ret_n = 0 when it has none). */
static int tail_load(struct sqlite_store *st, int64_t kpi_id, int64_t dims_id, size_t *ret_n)
{
    *ret_n = 0;
    sqlite3_stmt *q = stmt(st, ST_TAIL_GET);
    if (!q)
        return -EIO;
    sqlite3_bind_int64(q, 1, kpi_id);
    sqlite3_bind_int64(q, 2, dims_id);
    int rc = sqlite3_step(q), r = 0;
    if (rc == SQLITE_ROW) {
        const uint8_t *blob = sqlite3_column_blob(q, 3);
        size_t len = (size_t)sqlite3_column_bytes(q, 3);
        r = reserve((void **)&st->tail, &st->tail_cap, len / KPI_CHUNK_RECORD + 1, sizeof(*st->tail));
        if (r == 0 && kpi_chunk_decode(blob, len, st->tail, st->tail_cap, ret_n) < 0)
            r = -EIO;
    } else if (rc != SQLITE_DONE) {
        r = map_rc(rc);
    }
    sqlite3_reset(q);
    return r;
}

static int tail_delete(struct sqlite_store *st, int64_t kpi_id, int64_t dims_id)
{
    sqlite3_stmt *q = stmt(st, ST_TAIL_DEL);
    if (!q)
        return -EIO;
    sqlite3_bind_int64(q, 1, kpi_id);
    sqlite3_bind_int64(q, 2, dims_id);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

/* Writes a run of points (sorted, unique instants) into one series. Points later than every
 * chunked point join the series' tail; once it holds KPI_TAIL_MAX points, all but the newest
 * KPI_TAIL_KEEP move into the chunks. Any other write first folds the tail into the chunks, then
 * merges into them. So a tail always holds the newest points and chunks never overlap it. */
static int sqlite_points_put(struct kpi_store *s, int64_t kpi_id, int64_t dims_id, const struct kpi_point_write *pts, size_t n)
{
    struct sqlite_store *st = to_sqlite(s);
    if (n == 0)
        return 0;
    size_t n_tail;
    int r = tail_load(st, kpi_id, dims_id, &n_tail);
    if (r < 0)
        return r;
    /* The series' last chunk, kept in st->old: appends merge into it without looking it up again. */
    int64_t chunk_last = INT64_MIN, last_start = 0;
    size_t n_last = 0;
    sqlite3_stmt *q = stmt(st, ST_CHUNK_LAST);
    if (!q)
        return -EIO;
    sqlite3_bind_int64(q, 1, kpi_id);
    sqlite3_bind_int64(q, 2, dims_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        chunk_last = sqlite3_column_int64(q, 2);
        r = load_chunk(st, q, &last_start, &n_last);
    } else if (rc != SQLITE_DONE) {
        r = map_rc(rc);
    }
    sqlite3_reset(q);
    if (r < 0)
        return r;

    if (pts[0].at_ms > chunk_last) {
        r = reserve((void **)&st->tail_merged, &st->tail_merged_cap, n_tail + n, sizeof(*st->tail_merged));
        if (r < 0)
            return r;
        size_t m = kpi_chunk_merge(st->tail, n_tail, pts, n, st->tail_merged);
        if (m < KPI_TAIL_MAX)
            return write_points_row(st, ST_TAIL_PUT, kpi_id, dims_id, st->tail_merged, m);
        /* Full: the older points join the chunks (after the last one: no chunk follows it), the
         * newest stay (all later than the chunks). */
        size_t moved = m - KPI_TAIL_KEEP;
        r = merge_into_chunk(st, kpi_id, dims_id, chunk_last != INT64_MIN, last_start, n_last, st->tail_merged, moved);
        return r < 0 ? r : write_points_row(st, ST_TAIL_PUT, kpi_id, dims_id, st->tail_merged + moved, KPI_TAIL_KEEP);
    }
    if (n_tail) {
        /* chunks_put works in st->old, st->merged and st->blob, never in st->tail. */
        r = chunks_put(st, kpi_id, dims_id, st->tail, n_tail);
        if (r == 0)
            r = tail_delete(st, kpi_id, dims_id);
        if (r < 0)
            return r;
    }
    return chunks_put(st, kpi_id, dims_id, pts, n);
}

/* The dims table is small (distinct label sets): it is loaded whole, kept between scans, and
 * filtered in C. The copy is dropped when this connection adds a set or rolls back (ids may be
 * reused), and reloaded when a scan meets an id it does not know (another process added it). */
static void dims_cache_drop(struct sqlite_store *st)
{
    for (int64_t i = 0; st->dims && i <= st->dims_max; i++)
        free(st->dims[i]);
    free(st->dims);
    st->dims = NULL;
    st->dims_max = -1;
}

static int dims_cache_load(struct sqlite_store *st)
{
    dims_cache_drop(st);
    sqlite3_stmt *q = stmt(st, ST_DIMS_MAX);
    if (!q)
        return -EIO;
    int64_t max_id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    char **canon = calloc((size_t)max_id + 1, sizeof(char *));
    q = canon ? stmt(st, ST_DIMS_ALL) : NULL;
    if (!q) {
        free(canon);
        return canon ? -EIO : -ENOMEM;
    }
    int r = 0;
    while (r == 0 && sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *text = col_text(q, 1);
        if (id < 0 || id > max_id || !text)
            continue;
        canon[id] = strdup(text);
        if (!canon[id])
            r = -ENOMEM;
    }
    sqlite3_reset(q);
    st->dims = canon;
    st->dims_max = max_id;
    if (r < 0)
        dims_cache_drop(st);
    return r;
}

/* The canonical form of dims_id, reloading the cache once if the id is new to it. */
static const char *dims_lookup(struct sqlite_store *st, int64_t dims_id, bool *reloaded)
{
    if ((!st->dims || dims_id > st->dims_max || !st->dims[dims_id]) && !*reloaded) {
        *reloaded = true;
        if (dims_cache_load(st) < 0)
            return NULL;
    }
    if (!st->dims || dims_id < 0 || dims_id > st->dims_max)
        return NULL;
    return st->dims[dims_id];
}

static int sqlite_points_scan(struct kpi_store *s, const struct kpi_point_query *qry, kpi_point_cb cb, void *ctx)
{
    struct sqlite_store *st = to_sqlite(s);
    bool reloaded = false;
    bool filtered = qry->dims && *qry->dims;
    sqlite3_stmt *q = stmt(st, qry->kpi_id > 0 ? ST_SCAN_KPI : ST_SCAN_ALL);
    if (!q)
        return -EIO;
    if (qry->kpi_id > 0)
        sqlite3_bind_int64(q, 1, qry->kpi_id);
    sqlite3_bind_int64(q, 2, qry->from_ms);
    sqlite3_bind_int64(q, 3, qry->to_ms);
    struct kpi_point_write *pts = NULL;
    size_t cap = 0;
    int r = 0, rc = SQLITE_DONE;
    int64_t last_dims = -1;
    const char *canon = NULL;
    bool match = true;
    while (r == 0) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
            break;
        int64_t dims_id = sqlite3_column_int64(q, 1);
        if (dims_id != last_dims) {
            /* Rows come ordered by dims, so the lookup and the filter run once per series. */
            last_dims = dims_id;
            canon = dims_lookup(st, dims_id, &reloaded);
            match = canon && (!filtered || kpi_dims_match(canon, qry->dims));
        }
        if (!match)
            continue;
        const uint8_t *blob = sqlite3_column_blob(q, 2);
        size_t len = (size_t)sqlite3_column_bytes(q, 2), n = 0;
        r = reserve((void **)&pts, &cap, len / KPI_CHUNK_RECORD + 1, sizeof(*pts));
        if (r == 0 && kpi_chunk_decode(blob, len, pts, cap, &n) < 0)
            r = -EIO;
        struct kpi_point_row row = {.kpi_id = sqlite3_column_int64(q, 0), .dims = canon};
        for (size_t k = 0; r == 0 && k < n; k++) {
            if (pts[k].at_ms < qry->from_ms || pts[k].at_ms >= qry->to_ms)
                continue;
            row.at_ms = pts[k].at_ms;
            row.value = pts[k].value;
            row.flags = pts[k].flags;
            r = cb(ctx, &row);
        }
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = map_rc(rc);
    free(pts);
    /* Reset at once: a statement left mid-scan would hold its read lock. */
    sqlite3_reset(q);
    return r;
}

static int sqlite_points_count(struct kpi_store *s, int64_t kpi_id, int64_t *ret_n)
{
    sqlite3_stmt *q;
    const char *sql = kpi_id > 0 ? "SELECT (SELECT coalesce(sum(n), 0) FROM chunk WHERE kpi_id = ?1) + "
                                   "(SELECT coalesce(sum(n), 0) FROM tail WHERE kpi_id = ?1)"
                                 : "SELECT (SELECT coalesce(sum(n), 0) FROM chunk) + (SELECT coalesce(sum(n), 0) FROM tail)";
    if (sqlite3_prepare_v2(to_sqlite(s)->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    if (kpi_id > 0)
        sqlite3_bind_int64(q, 1, kpi_id);
    int r = -EIO;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *ret_n = sqlite3_column_int64(q, 0);
        r = 0;
    }
    sqlite3_finalize(q);
    return r;
}

static int sqlite_points_span(struct kpi_store *s, int64_t kpi_id, int64_t *ret_first_ms, int64_t *ret_last_ms)
{
    /* A chunk starts at its first point and records its last, so these are exact. */
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_SPAN);
    if (!q)
        return -EIO;
    sqlite3_bind_int64(q, 1, kpi_id);
    int r = -ENOENT;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *ret_first_ms = sqlite3_column_int64(q, 0);
        *ret_last_ms = sqlite3_column_int64(q, 1);
        r = 0;
    }
    sqlite3_reset(q);
    return r;
}

/* ---- reviews, actions, annotations ---- */

static int64_t kpi_id_of(struct sqlite_store *st, const char *key)
{
    sqlite3_stmt *q;
    int64_t id = -ENOENT;
    if (sqlite3_prepare_v2(st->db, "SELECT id FROM kpi WHERE key = ?1", -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return id;
}

static void bind_key_id(sqlite3_stmt *q, int col, int64_t kpi_id)
{
    if (kpi_id > 0)
        sqlite3_bind_int64(q, col, kpi_id);
    else
        sqlite3_bind_null(q, col);
}

static int sqlite_review_add(struct kpi_store *s, struct kpi_review *review, struct kpi_action *actions, size_t n_actions)
{
    struct sqlite_store *st = to_sqlite(s);
    int64_t kpi_id = 0;
    if (review->kpi[0]) {
        kpi_id = kpi_id_of(st, review->kpi);
        if (kpi_id < 0)
            return (int)kpi_id;
    }
    int r = exec(st, "SAVEPOINT review_add");
    if (r < 0)
        return r;
    int64_t now = kpi_clock_wall_ms();
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO review (kpi_id, team, day, note, author, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1,
                           &q, NULL) != SQLITE_OK) {
        r = -EIO;
        goto out;
    }
    bind_key_id(q, 1, kpi_id);
    sqlite3_bind_text(q, 2, review->team, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, review->day);
    sqlite3_bind_text(q, 4, review->note, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, review->author, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, now);
    if (sqlite3_step(q) != SQLITE_DONE) {
        r = -EIO;
        goto out;
    }
    sqlite3_finalize(q);
    q = NULL;
    review->id = sqlite3_last_insert_rowid(st->db);
    review->created_ms = now;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO action (review_id, text, owner, due_day, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &q, NULL) != SQLITE_OK) {
        r = -EIO;
        goto out;
    }
    for (size_t i = 0; i < n_actions; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, review->id);
        sqlite3_bind_text(q, 2, actions[i].text, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, actions[i].owner, -1, SQLITE_STATIC);
        if (actions[i].due_day == INT64_MIN)
            sqlite3_bind_null(q, 4);
        else
            sqlite3_bind_int64(q, 4, actions[i].due_day);
        sqlite3_bind_int64(q, 5, now);
        if (sqlite3_step(q) != SQLITE_DONE) {
            r = -EIO;
            goto out;
        }
        actions[i].id = sqlite3_last_insert_rowid(st->db);
        actions[i].review_id = review->id;
        actions[i].created_ms = now;
    }
out:
    sqlite3_finalize(q);
    if (r < 0)
        exec(st, "ROLLBACK TO review_add");
    exec(st, "RELEASE review_add");
    return r;
}

static char *dup_col(sqlite3_stmt *q, int col)
{
    return kpi_strdup_or_null(col_text(q, col));
}

/* Steps a bound statement to the end, filling one item of item_size bytes per row; on failure the
 * items filled so far are released with drop. The statement is finalised either way. */
static int collect_rows(sqlite3_stmt *q, size_t item_size, void (*fill)(sqlite3_stmt *q, void *item),
                        void (*drop)(void *items, size_t n), void **ret_items, size_t *ret_n)
{
    void *items = NULL;
    size_t n = 0, cap = 0;
    int r = 0, rc;
    for (;;) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
            break;
        r = reserve(&items, &cap, n + 1, item_size);
        if (r < 0)
            break;
        void *item = (char *)items + n * item_size;
        memset(item, 0, item_size);
        fill(q, item);
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = map_rc(rc);
    sqlite3_finalize(q);
    if (r < 0) {
        drop(items, n);
        return r;
    }
    *ret_items = items;
    *ret_n = n;
    return 0;
}

static void fill_review(sqlite3_stmt *q, void *item)
{
    struct kpi_review *v = item;
    v->id = sqlite3_column_int64(q, 0);
    kpi_strlcpy(v->kpi, col_text(q, 1) ? col_text(q, 1) : "", sizeof(v->kpi));
    v->team = dup_col(q, 2);
    v->day = sqlite3_column_int64(q, 3);
    v->note = dup_col(q, 4);
    v->author = dup_col(q, 5);
    v->created_ms = sqlite3_column_int64(q, 6);
}

static void drop_reviews(void *items, size_t n)
{
    kpi_store_reviews_free(items, n);
}

static void fill_action(sqlite3_stmt *q, void *item)
{
    struct kpi_action *a = item;
    a->id = sqlite3_column_int64(q, 0);
    a->review_id = sqlite3_column_int64(q, 1);
    kpi_strlcpy(a->kpi, col_text(q, 2) ? col_text(q, 2) : "", sizeof(a->kpi));
    a->text = dup_col(q, 3);
    a->owner = dup_col(q, 4);
    a->due_day = sqlite3_column_type(q, 5) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(q, 5);
    a->done_ms = sqlite3_column_int64(q, 6);
    a->created_ms = sqlite3_column_int64(q, 7);
}

static void drop_actions(void *items, size_t n)
{
    kpi_store_actions_free(items, n);
}

static void fill_annotation(sqlite3_stmt *q, void *item)
{
    struct kpi_annotation *a = item;
    a->id = sqlite3_column_int64(q, 0);
    kpi_strlcpy(a->kpi, col_text(q, 1) ? col_text(q, 1) : "", sizeof(a->kpi));
    a->day = sqlite3_column_int64(q, 2);
    a->text = dup_col(q, 3);
    a->created_ms = sqlite3_column_int64(q, 4);
}

static void drop_annotations(void *items, size_t n)
{
    kpi_store_annotations_free(items, n);
}

static int sqlite_reviews_list(struct kpi_store *s, const char *kpi, int64_t to_day, struct kpi_review **ret, size_t *ret_n)
{
    sqlite3_stmt *q;
    const char *sql = "SELECT r.id, coalesce(k.key, ''), r.team, r.day, r.note, r.author, r.created_ms FROM review r "
                      "LEFT JOIN kpi k ON k.id = r.kpi_id WHERE r.day <= ?2 AND (?1 IS NULL OR k.key = ?1) "
                      "ORDER BY r.day DESC, r.id DESC";
    if (sqlite3_prepare_v2(to_sqlite(s)->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, kpi, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, to_day);
    return collect_rows(q, sizeof(struct kpi_review), fill_review, drop_reviews, (void **)ret, ret_n);
}

static int sqlite_actions_list(struct kpi_store *s, const struct kpi_action_query *aq, struct kpi_action **ret, size_t *ret_n)
{
    sqlite3_stmt *q;
    const char *sql = "SELECT a.id, a.review_id, coalesce(k.key, ''), a.text, a.owner, a.due_day, coalesce(a.done_ms, 0), "
                      "a.created_ms FROM action a JOIN review r ON r.id = a.review_id LEFT JOIN kpi k ON k.id = r.kpi_id "
                      "WHERE (?1 IS NULL OR a.owner = ?1) AND (?2 = 0 OR a.done_ms IS NULL) "
                      "ORDER BY a.done_ms IS NOT NULL, coalesce(a.due_day, 9223372036854775807), a.id";
    if (sqlite3_prepare_v2(to_sqlite(s)->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, aq->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, aq->open_only ? 1 : 0);
    return collect_rows(q, sizeof(struct kpi_action), fill_action, drop_actions, (void **)ret, ret_n);
}

static int sqlite_action_done(struct kpi_store *s, int64_t id, int64_t done_ms)
{
    struct sqlite_store *st = to_sqlite(s);
    sqlite3_stmt *q;
    const char *sql = done_ms ? "UPDATE action SET done_ms = coalesce(done_ms, ?2) WHERE id = ?1"
                              : "UPDATE action SET done_ms = NULL WHERE id = ?1";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(q, 1, id);
    if (done_ms)
        sqlite3_bind_int64(q, 2, done_ms);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return map_rc(rc);
    return sqlite3_changes(st->db) == 0 ? -ENOENT : 0;
}

static int sqlite_annotation_add(struct kpi_store *s, struct kpi_annotation *a)
{
    struct sqlite_store *st = to_sqlite(s);
    int64_t kpi_id = 0;
    if (a->kpi[0]) {
        kpi_id = kpi_id_of(st, a->kpi);
        if (kpi_id < 0)
            return (int)kpi_id;
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO annotation (kpi_id, day, text, created_ms) VALUES (?1, ?2, ?3, ?4)", -1, &q,
                           NULL) != SQLITE_OK)
        return -EIO;
    a->created_ms = kpi_clock_wall_ms();
    bind_key_id(q, 1, kpi_id);
    sqlite3_bind_int64(q, 2, a->day);
    sqlite3_bind_text(q, 3, a->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, a->created_ms);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return map_rc(rc);
    a->id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

static int sqlite_annotations_list(struct kpi_store *s, const char *kpi, int64_t from_day, int64_t to_day,
                                   struct kpi_annotation **ret, size_t *ret_n)
{
    sqlite3_stmt *q;
    const char *sql = "SELECT a.id, coalesce(k.key, ''), a.day, a.text, a.created_ms FROM annotation a "
                      "LEFT JOIN kpi k ON k.id = a.kpi_id WHERE a.day BETWEEN ?2 AND ?3 "
                      "AND (?1 IS NULL OR a.kpi_id IS NULL OR k.key = ?1) ORDER BY a.day, a.id";
    if (sqlite3_prepare_v2(to_sqlite(s)->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, kpi, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, from_day);
    sqlite3_bind_int64(q, 3, to_day);
    return collect_rows(q, sizeof(struct kpi_annotation), fill_annotation, drop_annotations, (void **)ret, ret_n);
}

static int sqlite_kpi_index(struct kpi_store *s, kpi_index_cb cb, void *ctx)
{
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_KPI_INDEX);
    if (!q)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct kpi_index_row row = {(const char *)sqlite3_column_text(q, 0), sqlite3_column_int64(q, 1),
                                    sqlite3_column_int(q, 2) != 0, sqlite3_column_int(q, 3) != 0};
        if (row.key)
            r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = map_rc(rc);
    sqlite3_reset(q);
    return r;
}

static int sqlite_checkpoint(struct kpi_store *s, bool automatic)
{
    struct sqlite_store *st = to_sqlite(s);
    if (automatic)
        return map_rc(sqlite3_wal_autocheckpoint(st->db, 1000));
    if (sqlite3_wal_autocheckpoint(st->db, 0) != SQLITE_OK)
        return -EIO;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_BUSY ? 0 : map_rc(rc);
}

static int sqlite_memory_limit(struct kpi_store *s, size_t cache_bytes)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%zu; PRAGMA mmap_size = 0;", cache_bytes / 1024 ? cache_bytes / 1024 : 1);
    return exec(to_sqlite(s), sql);
}

static int sqlite_data_version(struct kpi_store *s, uint64_t *ret_version)
{
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_DATA_VERSION);
    if (!q)
        return -EIO;
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        return map_rc(rc);
    }
    *ret_version = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return 0;
}

/* ---- the stage (see store/stage.h) ---- */

static int sqlite_stage_put(struct kpi_store *s, const uint8_t *data, size_t len, size_t n)
{
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_STAGE_PUT);
    if (!q)
        return -EIO;
    if (len > INT_MAX)
        return -E2BIG;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    sqlite3_bind_blob(q, 2, data, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static int sqlite_stage_read(struct kpi_store *s, int64_t after_id, size_t max_points, kpi_stage_row_cb cb, void *ctx)
{
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_STAGE_READ);
    if (!q)
        return -EIO;
    sqlite3_bind_int64(q, 1, after_id);
    size_t points = 0;
    int r = 0, rc = SQLITE_DONE;
    while (points < max_points && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(q, 1);
        const uint8_t *data = sqlite3_column_blob(q, 2);
        size_t len = (size_t)sqlite3_column_bytes(q, 2);
        r = cb(ctx, sqlite3_column_int64(q, 0), data, len);
        if (r != 0)
            break;
        points += n > 0 ? (size_t)n : 0;
    }
    if (r == 0 && points < max_points && rc != SQLITE_DONE)
        r = map_rc(rc);
    sqlite3_reset(q);
    return r;
}

static int sqlite_stage_delete(struct kpi_store *s, int64_t upto_id)
{
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_STAGE_DEL);
    if (!q)
        return -EIO;
    sqlite3_bind_int64(q, 1, upto_id);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static int sqlite_stage_rows(struct kpi_store *s, int64_t *ret_rows)
{
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_STAGE_ROWS);
    if (!q)
        return -EIO;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *ret_rows = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? 0 : map_rc(rc);
}

/* ---- API tokens ---- */

static int sqlite_token_add(struct kpi_store *s, const char *name, const uint8_t hash[KPI_TOKEN_HASH_SIZE], int64_t created_ms)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(to_sqlite(s)->db, "INSERT INTO token (name, hash, created_ms) VALUES (?1, ?2, ?3)", -1, &q, NULL) !=
        SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, hash, KPI_TOKEN_HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, created_ms);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static void fill_token(sqlite3_stmt *q, struct kpi_token *t)
{
    const char *name = (const char *)sqlite3_column_text(q, 0);
    kpi_strlcpy(t->name, name ? name : "", sizeof(t->name));
    t->created_ms = sqlite3_column_int64(q, 1);
}

static int sqlite_token_find(struct kpi_store *s, const uint8_t hash[KPI_TOKEN_HASH_SIZE], struct kpi_token *ret_token)
{
    sqlite3_stmt *q = stmt(to_sqlite(s), ST_TOKEN_FIND);
    if (!q)
        return -EIO;
    sqlite3_bind_blob(q, 1, hash, KPI_TOKEN_HASH_SIZE, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        fill_token(q, ret_token);
        sqlite3_reset(q);
        return 0;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? -ENOENT : map_rc(rc);
}

static int sqlite_tokens_list(struct kpi_store *s, struct kpi_token **ret, size_t *ret_n)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(to_sqlite(s)->db, "SELECT name, created_ms FROM token ORDER BY name", -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    struct kpi_token *list = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct kpi_token *nl = realloc(list, ncap * sizeof(*nl));
            if (!nl) {
                free(list);
                sqlite3_finalize(q);
                return -ENOMEM;
            }
            list = nl;
            cap = ncap;
        }
        fill_token(q, &list[n++]);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        free(list);
        return map_rc(rc);
    }
    *ret = list;
    *ret_n = n;
    return 0;
}

static int sqlite_token_remove(struct kpi_store *s, const char *name)
{
    struct sqlite_store *st = to_sqlite(s);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM token WHERE name = ?1", -1, &q, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return map_rc(rc);
    return sqlite3_changes(st->db) == 0 ? -ENOENT : 0;
}

static const struct kpi_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .begin_read = sqlite_begin_read,
    .org_get = sqlite_org_get,
    .org_set = sqlite_org_set,
    .kpi_get = sqlite_kpi_get,
    .kpi_list = sqlite_kpi_list,
    .kpi_insert = sqlite_kpi_insert,
    .kpi_update = sqlite_kpi_update,
    .dims_intern = sqlite_dims_intern,
    .points_put = sqlite_points_put,
    .points_scan = sqlite_points_scan,
    .points_count = sqlite_points_count,
    .points_span = sqlite_points_span,
    .review_add = sqlite_review_add,
    .reviews_list = sqlite_reviews_list,
    .actions_list = sqlite_actions_list,
    .action_done = sqlite_action_done,
    .annotation_add = sqlite_annotation_add,
    .annotations_list = sqlite_annotations_list,
    .data_version = sqlite_data_version,
    .memory_limit = sqlite_memory_limit,
    .kpi_index = sqlite_kpi_index,
    .checkpoint = sqlite_checkpoint,
    .token_add = sqlite_token_add,
    .token_find = sqlite_token_find,
    .tokens_list = sqlite_tokens_list,
    .token_remove = sqlite_token_remove,
    .stage_put = sqlite_stage_put,
    .stage_read = sqlite_stage_read,
    .stage_delete = sqlite_stage_delete,
    .stage_rows = sqlite_stage_rows,
};

static int migrate(struct sqlite_store *st, struct kpi_diag *diag)
{
    int version = 0;
    int r = sqlite_schema_version(&st->base, &version);
    if (r < 0)
        return kpi_diag_set(diag, r, "database: cannot read the schema version: %s", sqlite3_errmsg(st->db));
    int known = 0;
    while (kpi_sqlite_migrations[known].name)
        known++;
    if (version > known)
        return kpi_diag_set(diag, -EPROTO, "database schema version %d is newer than this kpi binary supports (%d); upgrade kpi",
                            version, known);
    for (int v = version; v < known; v++) {
        char *err = NULL;
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(st->db, (const char *)kpi_sqlite_migrations[v].data, NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(st->db, pragma, NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(st->db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
            r = kpi_diag_set(diag, -EIO, "database: migration %s failed: %s", kpi_sqlite_migrations[v].name,
                             err ? err : sqlite3_errmsg(st->db));
            sqlite3_free(err);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return r;
        }
    }
    return 0;
}

/* SQLite keeps memory statistics behind one global mutex that every allocation takes; kpi never
 * reads them, and with several connections on several threads that mutex is contended. */
static void configure_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int kpi_store_open_sqlite(const char *path, bool create, struct kpi_store **ret_store, struct kpi_diag *diag)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_once);
    struct stat sb;
    if (!create && stat(path, &sb) < 0)
        return kpi_diag_set(diag, -ENOENT, "no database at %s (run 'kpi init' to create one)", path);
    struct sqlite_store *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->base.ops = &sqlite_ops;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    int r;
    if (rc != SQLITE_OK) {
        r = kpi_diag_set(diag, map_rc(rc), "cannot open database %s: %s", path,
                         st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 10000);
    sqlite3_extended_result_codes(st->db, 0);
    /* The page cache is bounded (16 MiB) so memory stays flat whatever the data size; reads go
     * through a memory map of the file (pages shared with the OS cache, no copy per read), which
     * roughly halves the time of a full scorecard. */
    /* The page size only takes effect on a new, empty database, before WAL mode is set. */
    rc = sqlite3_exec(st->db,
                      "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                      "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 268435456;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        r = kpi_diag_set(diag, map_rc(rc), "cannot use %s as a kpi database: %s", path, sqlite3_errmsg(st->db));
        goto fail;
    }
    r = migrate(st, diag);
    if (r < 0)
        goto fail;
    /* Points a server acknowledged but has not merged yet (it was stopped by a crash, or is still
     * running) join their series now, so that this connection reads every one of them. */
    uint64_t folded;
    r = kpi_stage_fold(&st->base, &folded);
    if (r < 0) {
        r = kpi_diag_set(diag, r, "database %s: cannot merge the points staged by kpi serve: %s", path,
                         r == -EACCES ? "the database is read-only"
                         : r == -EIO  ? "a stage row is damaged"
                                      : sqlite3_errmsg(st->db));
        sqlite_close(&st->base); /* the fold prepared statements: they go with the connection */
        return r;
    }
    *ret_store = &st->base;
    return 0;
fail:
    sqlite3_close(st->db);
    free(st);
    return r;
}
