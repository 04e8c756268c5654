/*
 * The SQLite store and ingestion (store/sqlite.c, store/store.c, store/ingest.c) against real
 * database files: migrations and the newer-schema refusal, KPI CRUD with cross-KPI checks, point
 * idempotency, dims filters, CSV imports that are all-or-nothing, and injected faults.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/ingest.h"

#include "store_test.h"

TestSuite(sqlite, .init = setup, .fini = teardown);

static void add_kpi(struct kpi_store *s, const char *key, const char *parent, const char *formula)
{
    struct kpi_def d;
    kpi_def_init(&d);
    kpi_def_set_key(&d, key, NULL);
    kpi_def_set_field(&d, "name", key, NULL);
    if (parent)
        kpi_def_set_field(&d, "parent", parent, NULL);
    if (formula)
        kpi_def_set_field(&d, "formula", formula, NULL);
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_store_kpi_insert(s, &d, &diag), 0), "%s", diag.msg);
    cr_expect(gt(i64, d.id, 0));
    kpi_def_clear(&d);
}

Test(sqlite, open_missing_without_create)
{
    struct kpi_store *s;
    struct kpi_diag diag = {""};
    cr_expect(eq(int, kpi_store_open_sqlite(path, false, &s, &diag), -ENOENT));
    cr_expect(strstr(diag.msg, "run 'kpi init'") != NULL, "%s", diag.msg);
}

Test(sqlite, migrates_and_refuses_newer_schema)
{
    struct kpi_store *s = open_db();
    int v = 0;
    cr_expect(eq(int, kpi_store_schema_version(s, &v), 0));
    cr_expect(eq(int, v, KPI_SCHEMA_VERSION));
    kpi_store_close(s);
    sqlite3 *db;
    cr_assert(eq(int, sqlite3_open(path, &db), SQLITE_OK));
    cr_assert(eq(int, sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK));
    sqlite3_close(db);
    struct kpi_diag diag = {""};
    cr_expect(eq(int, kpi_store_open_sqlite(path, false, &s, &diag), -EPROTO));
    cr_expect(strstr(diag.msg, "schema version 99 is newer") != NULL, "%s", diag.msg);
}

Test(sqlite, refuses_a_file_that_is_not_a_database)
{
    FILE *f = fopen(path, "w");
    fputs("this is not sqlite, just text that is long enough to look like a header......", f);
    fclose(f);
    struct kpi_store *s;
    struct kpi_diag diag = {""};
    cr_expect(lt(int, kpi_store_open_sqlite(path, false, &s, &diag), 0));
    cr_expect(strstr(diag.msg, path) != NULL, "%s", diag.msg);
}

Test(sqlite, kpi_crud_and_cross_checks)
{
    struct kpi_store *s = open_db();
    add_kpi(s, "arr", NULL, NULL);
    add_kpi(s, "new_mrr", "arr", NULL);
    struct kpi_def d;
    kpi_def_init(&d);
    kpi_def_set_key(&d, "arr", NULL);
    kpi_def_set_field(&d, "name", "dup", NULL);
    struct kpi_diag diag = {""};
    cr_expect(eq(int, kpi_store_kpi_insert(s, &d, &diag), -EEXIST));
    cr_expect(eq(str, diag.msg, "key: a KPI with key 'arr' already exists"));
    kpi_def_set_key(&d, "orphan", NULL);
    kpi_def_set_field(&d, "parent", "nothing", NULL);
    cr_expect(eq(int, kpi_store_kpi_insert(s, &d, &diag), -EINVAL));
    cr_expect(eq(str, diag.msg, "parent: no KPI with key 'nothing'"));
    kpi_def_clear(&d);

    /* arr -> new_mrr -> arr would loop. */
    cr_assert(eq(int, kpi_store_kpi_get(s, "arr", &d), 0));
    kpi_def_set_field(&d, "parent", "new_mrr", NULL);
    cr_expect(eq(int, kpi_store_kpi_update(s, &d, &diag), -ELOOP));
    kpi_def_set_field(&d, "parent", "", NULL);
    kpi_def_set_field(&d, "tags", "a,b", NULL);
    kpi_def_set_field(&d, "unit", "EUR", NULL);
    cr_expect(eq(int, kpi_store_kpi_update(s, &d, &diag), 0), "%s", diag.msg);
    struct kpi_def back;
    cr_assert(eq(int, kpi_store_kpi_get(s, "arr", &back), 0));
    cr_expect(kpi_def_equal(&d, &back));
    cr_expect(eq(str, back.unit, "EUR"));
    kpi_def_clear(&back);
    d.archived = true;
    cr_expect(eq(int, kpi_store_kpi_update(s, &d, &diag), 0));
    kpi_def_clear(&d);

    struct kpi_def *defs;
    size_t n;
    cr_assert(eq(int, kpi_store_kpi_list(s, false, &defs, &n), 0));
    cr_expect(eq(sz, n, 1));
    kpi_store_kpi_list_free(defs, n);
    cr_assert(eq(int, kpi_store_kpi_list(s, true, &defs, &n), 0));
    cr_expect(eq(sz, n, 2));
    kpi_store_kpi_list_free(defs, n);
    cr_expect(eq(int, kpi_store_kpi_get(s, "nope", &d), -ENOENT));
    kpi_store_close(s);
}

struct collected {
    int n;
    double sum;
    char dims[8][64];
};

static int collect(void *ctx, const struct kpi_point_row *row)
{
    struct collected *c = ctx;
    if (c->n < 8)
        snprintf(c->dims[c->n], sizeof(c->dims[c->n]), "%s", row->dims);
    c->n++;
    c->sum += row->value;
    return 0;
}

static int import_text(struct kpi_store *s, const char *text, struct kpi_ingest_report *rep)
{
    struct kpi_calendar cal = {NULL, 1};
    struct mem_reader m = {text, 0};
    struct kpi_diag diag = {""};
    return kpi_ingest_csv(s, &cal, mem_read, &m, NULL, NULL, rep, &diag);
}

static int64_t count_points(struct kpi_store *s)
{
    int64_t n = -1;
    cr_assert(eq(int, kpi_store_points_count(s, 0, &n), 0));
    return n;
}

Test(sqlite, import_is_idempotent_and_filters_dims)
{
    struct kpi_store *s = open_db();
    add_kpi(s, "revenue", NULL, NULL);
    add_kpi(s, "signups", NULL, NULL);
    const char *csv = "kpi,at,value,region,channel\n"
                      "revenue,2026-01-01,100,eu,\n"
                      "revenue,2026-01-01,200,us,\n"
                      "revenue,2026-01-01,999,eu,\n" /* replaces the first row: last wins */
                      "signups,2026-01-01T10:00:00Z,5,,paid\n"
                      "\n"
                      "signups,\"2026-01-02T10:00:00+01:00\",7,eu,organic\n";
    struct kpi_ingest_report rep;
    cr_assert(eq(int, import_text(s, csv, &rep), 0));
    cr_expect(eq(u64, rep.rows, 5));
    cr_expect(eq(u64, rep.written, 4));
    cr_expect(eq(i64, count_points(s), 4));
    cr_assert(eq(int, import_text(s, csv, &rep), 0));
    cr_expect(eq(i64, count_points(s), 4));

    struct kpi_def d;
    cr_assert(eq(int, kpi_store_kpi_get(s, "revenue", &d), 0));
    struct collected c = {0};
    struct kpi_point_query q = {d.id, INT64_MIN, INT64_MAX, "region=eu"};
    cr_assert(eq(int, kpi_store_points_scan(s, &q, collect, &c), 0));
    cr_expect(eq(int, c.n, 1));
    cr_expect(eq(dbl, c.sum, 999));
    cr_expect(eq(str, c.dims[0], "region=eu"));
    kpi_def_clear(&d);
    kpi_store_close(s);
}

Test(sqlite, bad_rows_are_all_reported_and_nothing_is_written)
{
    struct kpi_store *s = open_db();
    add_kpi(s, "revenue", NULL, NULL);
    add_kpi(s, "ltv", NULL, NULL);
    add_kpi(s, "cac", NULL, NULL);
    add_kpi(s, "ltv_cac", NULL, "ltv / cac");
    const char *csv = "kpi,at,value\n"
                      "revenue,2026-01-01,100\n"
                      "revenu,2026-01-02,100\n"
                      "revenue,2026-13-01,100\n"
                      "revenue,2026-01-03,12abc\n"
                      "ltv_cac,2026-01-03,3\n"
                      "revenue,2026-01-04\n"
                      "revenue,2026-01-05,\"unterminated\n";
    struct kpi_ingest_report rep;
    cr_assert(eq(int, import_text(s, csv, &rep), -EINVAL));
    cr_expect(eq(u64, rep.n_errors, 6));
    cr_expect(eq(u64, rep.written, 0));
    cr_expect(eq(u64, rep.errors[0].line, 3));
    cr_expect(eq(str, rep.errors[0].msg, "column 1 (kpi): KPI 'revenu' does not exist"));
    cr_expect(eq(u64, rep.errors[1].line, 4));
    cr_expect(strstr(rep.errors[1].msg, "column 2 (at): '2026-13-01' is not a date") != NULL, "%s", rep.errors[1].msg);
    cr_expect(eq(str, rep.errors[2].msg, "column 3 (value): '12abc' is not a number"));
    cr_expect(strstr(rep.errors[3].msg, "is derived") != NULL, "%s", rep.errors[3].msg);
    cr_expect(eq(str, rep.errors[4].msg, "expected 3 columns, found 2"));
    cr_expect(strstr(rep.errors[5].msg, "line 8") != NULL, "%s", rep.errors[5].msg);
    cr_expect(eq(i64, count_points(s), 0));

    cr_expect(eq(int, import_text(s, "kpi,when,value\nrevenue,2026-01-01,1\n", &rep), -EINVAL));
    cr_expect(strstr(rep.errors[0].msg, "header: expected 'kpi,at,value'") != NULL, "%s", rep.errors[0].msg);
    kpi_store_close(s);
}

Test(sqlite, a_failing_write_rolls_back_the_whole_import)
{
    struct kpi_store *s = open_db();
    add_kpi(s, "revenue", NULL, NULL);
    add_kpi(s, "cost", NULL, NULL);
    char csv[4096] = "kpi,at,value\n";
    size_t used = strlen(csv);
    for (int i = 1; i <= 14; i++)
        used += (size_t)snprintf(csv + used, sizeof(csv) - used, "revenue,2026-02-%02d,%d\ncost,2026-02-%02d,%d\n", i, i, i, i);
    /* The first series is written, the second fails: the first must be rolled back too. */
    kpi_store_inject_fault("points_put", 1, -EIO);
    struct kpi_ingest_report rep;
    cr_expect(eq(int, import_text(s, csv, &rep), -EIO));
    cr_expect(eq(u64, rep.written, 0));
    kpi_store_inject_fault(NULL, 0, 0);
    cr_expect(eq(i64, count_points(s), 0));
    kpi_store_inject_fault("commit", 0, -EIO);
    cr_expect(eq(int, import_text(s, csv, &rep), -EIO));
    kpi_store_inject_fault(NULL, 0, 0);
    cr_expect(eq(i64, count_points(s), 0));
    cr_expect(eq(int, import_text(s, csv, &rep), 0));
    cr_expect(eq(i64, count_points(s), 28));
    kpi_store_close(s);
}

Test(sqlite, push_rejects_derived_archived_and_unknown)
{
    struct kpi_store *s = open_db();
    add_kpi(s, "cac", NULL, NULL);
    add_kpi(s, "ratio", NULL, "cac * 2");
    struct kpi_calendar cal = {NULL, 1};
    struct kpi_at at = {.is_date = true, .day = 20000};
    struct kpi_diag diag = {""};
    cr_expect(eq(int, kpi_ingest_point(s, &cal, "nope", 1, &at, NULL, 0, &diag), -ENOENT));
    cr_expect(eq(str, diag.msg, "kpi: no KPI with key 'nope'"));
    cr_expect(eq(int, kpi_ingest_point(s, &cal, "ratio", 1, &at, NULL, 0, &diag), -EINVAL));
    cr_expect(eq(int, kpi_ingest_point(s, &cal, "cac", 1, &at, NULL, 0, &diag), 0));
    cr_expect(eq(int, kpi_ingest_point(s, &cal, "cac", 2, &at, NULL, 0, &diag), 0));
    cr_expect(eq(i64, count_points(s), 1));
    kpi_store_close(s);
}

/* Chunks: points written out of order, in several calls, across chunk splits, read back exactly. */
static int collect_all(void *ctx, const struct kpi_point_row *row)
{
    double *sum = ctx;
    *sum += row->value * (double)(row->at_ms / 1000 % 1000 + 1);
    return 0;
}

Test(sqlite, chunks_split_merge_and_read_back)
{
    struct kpi_store *s = open_db();
    add_kpi(s, "events", NULL, NULL);
    struct kpi_def d;
    cr_assert(eq(int, kpi_store_kpi_get(s, "events", &d), 0));
    cr_assert(eq(int, kpi_store_begin(s), 0));
    /* 3,000 points written in an interleaved order: evens ascending, then odds descending, then
     * every tenth point again with a new value. */
    double want = 0;
    for (int i = 0; i < 3000; i += 2)
        cr_assert(eq(int, kpi_store_point_put(s, d.id, 0, (int64_t)i * 1000, 1, 0), 0));
    for (int i = 2999; i >= 1; i -= 2)
        cr_assert(eq(int, kpi_store_point_put(s, d.id, 0, (int64_t)i * 1000, 1, 0), 0));
    struct kpi_point_write batch[300];
    for (int k = 0; k < 300; k++)
        batch[k] = (struct kpi_point_write){(int64_t)k * 10 * 1000, 5, 0};
    cr_assert(eq(int, kpi_store_points_put(s, d.id, 0, batch, 300), 0));
    cr_assert(eq(int, kpi_store_commit(s), 0));
    for (int i = 0; i < 3000; i++)
        want += (i % 10 == 0 ? 5 : 1) * (double)(i % 1000 + 1);
    int64_t n;
    cr_assert(eq(int, kpi_store_points_count(s, d.id, &n), 0));
    cr_expect(eq(i64, n, 3000));
    double got = 0;
    struct kpi_point_query q = {d.id, INT64_MIN, INT64_MAX, NULL};
    cr_assert(eq(int, kpi_store_points_scan(s, &q, collect_all, &got), 0));
    cr_expect(eq(dbl, got, want));
    /* A range read sees exactly the points in [from, to). */
    struct collected c = {0};
    struct kpi_point_query r = {d.id, 1000 * 1000, 1010 * 1000, NULL};
    cr_assert(eq(int, kpi_store_points_scan(s, &r, collect, &c), 0));
    cr_expect(eq(int, c.n, 10));
    cr_expect(eq(dbl, c.sum, 5 + 9));
    kpi_def_clear(&d);
    kpi_store_close(s);
}

/* Tails: a collector's batches (a few points for each of many series, time-major), with a late
 * batch, a resent one and an out-of-order point; every scan must still give each series' points
 * once, in time order, tails after chunks, and count and span must include the tails. */
struct ordered {
    int64_t last_at[4];
    const char *last_dims;
    int dims_seen;
    int n;
    bool sorted;
    double sum;
};

static int check_order(void *ctx, const struct kpi_point_row *row)
{
    struct ordered *o = ctx;
    if (!o->last_dims || strcmp(o->last_dims, row->dims) != 0) {
        o->dims_seen++;
        o->last_dims = row->dims;
        o->last_at[o->dims_seen % 4] = INT64_MIN;
    }
    if (row->at_ms <= o->last_at[o->dims_seen % 4])
        o->sorted = false;
    o->last_at[o->dims_seen % 4] = row->at_ms;
    o->n++;
    o->sum += row->value;
    return 0;
}

Test(sqlite, tails_take_small_appends_and_stay_ordered)
{
    struct kpi_store *s = open_db();
    add_kpi(s, "events", NULL, NULL);
    struct kpi_def d;
    cr_assert(eq(int, kpi_store_kpi_get(s, "events", &d), 0));
    int64_t dims[3];
    cr_assert(eq(int, kpi_store_dims_intern(s, "region=eu", &dims[0]), 0));
    cr_assert(eq(int, kpi_store_dims_intern(s, "region=us", &dims[1]), 0));
    dims[2] = 0;
    const int days = 400; /* more than KPI_TAIL_MAX per series: tails fill and fold into chunks */
    double want = 0;
    for (int day = 0; day < days; day += 2) {
        /* Two days per batch for each series; every 7th batch arrives after the next one. */
        int first = day % 14 == 0 && day + 2 < days ? day + 2 : day % 14 == 2 ? day - 2 : day;
        cr_assert(eq(int, kpi_store_begin(s), 0));
        for (int k = 0; k < 3; k++) {
            struct kpi_point_write p[2] = {{(int64_t)first * 86400000, first + k, 0},
                                           {(int64_t)(first + 1) * 86400000, first + 1 + k, 0}};
            cr_assert(eq(int, kpi_store_points_put(s, d.id, dims[k], p, 2), 0));
        }
        cr_assert(eq(int, kpi_store_commit(s), 0));
    }
    for (int day = 0; day < days; day++)
        for (int k = 0; k < 3; k++)
            want += day + k;
    /* A resent batch and an old point rewritten: nothing doubles. */
    cr_assert(eq(int, kpi_store_begin(s), 0));
    struct kpi_point_write again[2] = {{(int64_t)(days - 2) * 86400000, days - 2, 0},
                                       {(int64_t)(days - 1) * 86400000, days - 1, 0}};
    cr_assert(eq(int, kpi_store_points_put(s, d.id, dims[0], again, 2), 0));
    struct kpi_point_write old = {5 * 86400000LL, 1000, 0};
    cr_assert(eq(int, kpi_store_points_put(s, d.id, dims[1], &old, 1), 0));
    cr_assert(eq(int, kpi_store_commit(s), 0));
    want += 1000 - (5 + 1);

    int64_t n, first_ms, last_ms;
    cr_assert(eq(int, kpi_store_points_count(s, d.id, &n), 0));
    cr_expect(eq(i64, n, 3 * days));
    cr_assert(eq(int, kpi_store_points_span(s, d.id, &first_ms, &last_ms), 0));
    cr_expect(eq(i64, first_ms, 0));
    cr_expect(eq(i64, last_ms, (int64_t)(days - 1) * 86400000));
    struct ordered o = {.sorted = true};
    struct kpi_point_query q = {d.id, INT64_MIN, INT64_MAX, NULL};
    cr_assert(eq(int, kpi_store_points_scan(s, &q, check_order, &o), 0));
    cr_expect(eq(int, o.n, 3 * days));
    cr_expect(eq(int, o.dims_seen, 3));
    cr_expect(o.sorted, "points of a series come in time order");
    cr_expect(eq(dbl, o.sum, want));
    /* A range inside the newest days (tails) and one across chunks and tails. */
    struct collected c = {0};
    struct kpi_point_query r = {d.id, (int64_t)(days - 3) * 86400000, INT64_MAX, "region=eu"};
    cr_assert(eq(int, kpi_store_points_scan(s, &r, collect, &c), 0));
    cr_expect(eq(int, c.n, 3));
    struct collected all = {0};
    struct kpi_point_query a = {0, INT64_MIN, INT64_MAX, NULL};
    cr_assert(eq(int, kpi_store_points_scan(s, &a, collect, &all), 0));
    cr_expect(eq(int, all.n, 3 * days));
    kpi_def_clear(&d);
    kpi_store_close(s);
}
