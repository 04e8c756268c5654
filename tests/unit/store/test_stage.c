/*
 * The stage (store/stage.c) against real database files: staged points are durable but wait
 * outside their series until a fold; a fold merges them with the last write winning at an instant
 * (within a batch, across batches, across fold slices), is all or nothing under an injected fault
 * or a corrupt row, and opening a store folds what a stopped server left. Also the server's way
 * in: kpi_ingest_rows_locked with a staging lock.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/ingest.h"
#include "store/stage.h"

#include "store_test.h"

#define DAY 86400000LL

TestSuite(stage, .init = setup, .fini = teardown);

static int64_t add_kpi(struct kpi_store *s, const char *key)
{
    struct kpi_def d;
    kpi_def_init(&d);
    kpi_def_set_key(&d, key, NULL);
    kpi_def_set_field(&d, "name", key, NULL);
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_store_kpi_insert(s, &d, &diag), 0), "%s", diag.msg);
    int64_t id = d.id;
    kpi_def_clear(&d);
    return id;
}

static void stage(struct kpi_store *s, const struct kpi_stage_point *pts, size_t n)
{
    cr_assert(eq(int, kpi_store_begin(s), 0));
    cr_assert(eq(int, kpi_stage_put(s, pts, n), 0));
    cr_assert(eq(int, kpi_store_commit(s), 0));
}

static int64_t count(struct kpi_store *s, int64_t kpi_id)
{
    int64_t n = -1;
    cr_assert(eq(int, kpi_store_points_count(s, kpi_id, &n), 0));
    return n;
}

static int64_t stage_rows(struct kpi_store *s)
{
    int64_t n = -1;
    cr_assert(eq(int, kpi_store_stage_rows(s, &n), 0));
    return n;
}

/* The value stored at one instant of a KPI, in the series dims names (any when NULL; NAN when none). */
struct probe {
    int64_t dims_id_seen;
    int64_t at_ms;
    double value;
    int hits;
};

static int probe_cb(void *ctx, const struct kpi_point_row *row)
{
    struct probe *p = ctx;
    if (row->at_ms == p->at_ms) {
        p->value = row->value;
        p->hits++;
    }
    return 0;
}

static double value_at(struct kpi_store *s, int64_t kpi_id, const char *dims, int64_t at_ms)
{
    struct probe p = {0, at_ms, NAN, 0};
    struct kpi_point_query q = {kpi_id, at_ms, at_ms + 1, dims};
    cr_assert(eq(int, kpi_store_points_scan(s, &q, probe_cb, &p), 0));
    cr_expect(le(int, p.hits, 1), "one point per instant, found %d", p.hits);
    return p.value;
}

Test(stage, points_wait_until_folded_and_the_last_write_wins)
{
    struct kpi_store *s = open_db();
    int64_t a = add_kpi(s, "a"), b = add_kpi(s, "b");
    int64_t eu;
    cr_assert(eq(int, kpi_store_dims_intern(s, "region=eu", &eu), 0));
    struct kpi_stage_point first[] = {{a, 0, 0, 1, 0}, {a, 0, DAY, 2, 0}, {b, eu, 0, 10, 0}};
    struct kpi_stage_point second[] = {{a, 0, DAY, 20, 0}, {a, 0, 2 * DAY, 3, 0}, {b, 0, 3 * DAY, 7, 0}};
    stage(s, first, 3);
    stage(s, second, 3);
    cr_expect(eq(i64, stage_rows(s), 2));
    cr_expect(eq(i64, count(s, a), 0), "staged points are not in their series yet");
    uint64_t folded = 0;
    cr_assert(eq(int, kpi_stage_fold(s, &folded), 0));
    cr_expect(eq(u64, folded, 6));
    cr_expect(eq(i64, stage_rows(s), 0));
    cr_expect(eq(i64, count(s, a), 3));
    cr_expect(eq(i64, count(s, b), 2));
    cr_expect(eq(dbl, value_at(s, a, NULL, DAY), 20), "the later batch wins");
    cr_expect(eq(dbl, value_at(s, b, "region=eu", 0), 10));
    cr_expect(eq(dbl, value_at(s, b, NULL, 3 * DAY), 7));
    /* Folding an empty stage does nothing. */
    cr_assert(eq(int, kpi_stage_fold(s, &folded), 0));
    cr_expect(eq(u64, folded, 0));
    /* Batches out of order in time: the series is sorted, and the last write at an instant wins. */
    struct kpi_stage_point late1[] = {{a, 0, 6 * DAY, 1, 0}};
    struct kpi_stage_point late2[] = {{a, 0, 4 * DAY, 2, 0}, {a, 0, 6 * DAY, 3, 0}};
    struct kpi_stage_point late3[] = {{a, 0, 5 * DAY, 4, 0}};
    stage(s, late1, 1);
    stage(s, late2, 2);
    stage(s, late3, 1);
    cr_assert(eq(int, kpi_stage_fold(s, &folded), 0));
    cr_expect(eq(u64, folded, 4));
    cr_expect(eq(i64, count(s, a), 6));
    cr_expect(eq(dbl, value_at(s, a, NULL, 4 * DAY), 2));
    cr_expect(eq(dbl, value_at(s, a, NULL, 5 * DAY), 4));
    cr_expect(eq(dbl, value_at(s, a, NULL, 6 * DAY), 3));
    /* A staged point replaces a point already in its series. */
    struct kpi_stage_point third[] = {{a, 0, 0, 100, 0}};
    stage(s, third, 1);
    cr_assert(eq(int, kpi_stage_fold(s, NULL), 0));
    cr_expect(eq(dbl, value_at(s, a, NULL, 0), 100));
    cr_expect(eq(i64, count(s, a), 6));
    kpi_store_close(s);
}

Test(stage, opening_a_store_folds_what_a_stopped_server_left)
{
    struct kpi_store *s = open_db();
    int64_t a = add_kpi(s, "a");
    struct kpi_stage_point pts[] = {{a, 0, 0, 1, 0}, {a, 0, DAY, 2, 0}};
    stage(s, pts, 2);
    kpi_store_close(s);
    s = open_db();
    cr_expect(eq(i64, stage_rows(s), 0));
    cr_expect(eq(i64, count(s, a), 2));
    kpi_store_close(s);
}

Test(stage, a_failed_fold_keeps_every_point_staged)
{
    struct kpi_store *s = open_db();
    int64_t a = add_kpi(s, "a"), b = add_kpi(s, "b");
    struct kpi_stage_point pts[] = {{a, 0, 0, 1, 0}, {b, 0, 0, 2, 0}};
    stage(s, pts, 2);
    kpi_store_inject_fault("points_put", 1, -EIO); /* the second series fails */
    cr_expect(eq(int, kpi_stage_fold(s, NULL), -EIO));
    kpi_store_inject_fault(NULL, 0, 0);
    cr_expect(eq(i64, count(s, a), 0), "nothing of a failed fold is written");
    cr_expect(eq(i64, stage_rows(s), 1));
    kpi_store_inject_fault("stage_delete", 0, -EIO);
    cr_expect(eq(int, kpi_stage_fold(s, NULL), -EIO));
    kpi_store_inject_fault(NULL, 0, 0);
    cr_expect(eq(i64, count(s, 0), 0));
    uint64_t folded;
    cr_assert(eq(int, kpi_stage_fold(s, &folded), 0));
    cr_expect(eq(u64, folded, 2));
    cr_expect(eq(i64, count(s, 0), 2));
    kpi_store_close(s);
}

Test(stage, a_corrupt_row_fails_the_fold_and_loses_nothing)
{
    struct kpi_store *s = open_db();
    int64_t a = add_kpi(s, "a");
    struct kpi_stage_point pts[] = {{a, 0, 0, 1, 0}};
    stage(s, pts, 1);
    kpi_store_close(s);
    sqlite3 *db;
    cr_assert(eq(int, sqlite3_open(path, &db), SQLITE_OK));
    cr_assert(eq(int, sqlite3_exec(db, "INSERT INTO stage (n, data) VALUES (1, x'00010203')", NULL, NULL, NULL), SQLITE_OK));
    sqlite3_close(db);
    struct kpi_store *t;
    struct kpi_diag diag = {""};
    cr_expect(eq(int, kpi_store_open_sqlite(path, false, &t, &diag), -EIO));
    cr_expect(strstr(diag.msg, "staged") != NULL, "%s", diag.msg);
    cr_assert(eq(int, sqlite3_open(path, &db), SQLITE_OK));
    sqlite3_stmt *q;
    cr_assert(eq(int, sqlite3_prepare_v2(db, "SELECT count(*) FROM stage", -1, &q, NULL), SQLITE_OK));
    cr_assert(eq(int, sqlite3_step(q), SQLITE_ROW));
    cr_expect(eq(int, sqlite3_column_int(q, 0), 2), "both rows are still staged");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* More points than one fold slice, in several rows: a point of the last row replaces one of the
 * first, which was folded in an earlier slice. */
Test(stage, later_slices_replace_earlier_ones)
{
    struct kpi_store *s = open_db();
    int64_t a = add_kpi(s, "a");
    const size_t per_row = KPI_STAGE_FOLD_SLICE / 2 + 1000;
    struct kpi_stage_point *pts = calloc(per_row, sizeof(*pts));
    cr_assert(pts != NULL);
    for (int row = 0; row < 3; row++) {
        for (size_t i = 0; i < per_row; i++)
            pts[i] = (struct kpi_stage_point){a, 0, (int64_t)(row * per_row + i) * 60000, (double)row, 0};
        if (row == 2)
            pts[0] = (struct kpi_stage_point){a, 0, 0, 42, 0}; /* replaces row 0's first point */
        stage(s, pts, per_row);
    }
    free(pts);
    uint64_t folded;
    cr_assert(eq(int, kpi_stage_fold(s, &folded), 0));
    cr_expect(eq(u64, folded, 3 * per_row));
    cr_expect(eq(i64, count(s, a), (int64_t)(3 * per_row - 1)));
    cr_expect(eq(dbl, value_at(s, a, NULL, 0), 42));
    kpi_store_close(s);
}

/* The server's way in: a batch validated whole, then staged under the lock. */
static int locks;
static void lock_fn(void *ctx)
{
    (void)ctx;
    locks++;
}
static void unlock_fn(void *ctx)
{
    (void)ctx;
    locks--;
}

static int ingest(struct kpi_store *s, const char *csv, struct kpi_ingest_report *rep)
{
    struct kpi_calendar cal = {NULL, 1};
    struct mem_reader m = {csv, 0};
    struct kpi_ingest_csv_source *src;
    cr_assert(eq(int, kpi_ingest_csv_source_new(mem_read, &m, NULL, &src), 0));
    struct kpi_ingest_lock lock = {lock_fn, unlock_fn, NULL, true};
    struct kpi_diag diag = {""};
    int r = kpi_ingest_rows_locked(s, &cal, kpi_ingest_csv_next, src, 1000, &lock, rep, &diag);
    kpi_ingest_csv_source_free(src);
    cr_expect(eq(int, locks, 0));
    return r;
}

Test(stage, a_staging_batch_is_validated_whole_and_deduplicated)
{
    struct kpi_store *s = open_db();
    int64_t a = add_kpi(s, "a");
    add_kpi(s, "b");
    struct kpi_ingest_report *rep = calloc(1, sizeof(*rep));
    cr_assert(rep != NULL);
    cr_expect(eq(int, ingest(s, "kpi,at,value,region\na,2026-01-01,1,eu\nb,2026-01-01,x,eu\n", rep), -EINVAL));
    cr_expect(eq(i64, stage_rows(s), 0), "a rejected batch stages nothing");
    cr_assert(eq(
        int, ingest(s, "kpi,at,value,region\na,2026-01-01,1,eu\na,2026-01-01,5,eu\na,2026-01-02,2,\nb,2026-01-01,3,us\n", rep), 0));
    cr_expect(eq(u64, rep->rows, 4));
    cr_expect(eq(u64, rep->written, 3), "the duplicate instant counts once");
    cr_expect(eq(i64, stage_rows(s), 1));
    cr_expect(eq(i64, count(s, 0), 0));
    cr_assert(eq(int, kpi_stage_fold(s, NULL), 0));
    cr_expect(eq(i64, count(s, 0), 3));
    cr_expect(eq(dbl, value_at(s, a, "region=eu", 1767225600000LL), 5), "the last of duplicates wins");
    free(rep);
    kpi_store_close(s);
}
