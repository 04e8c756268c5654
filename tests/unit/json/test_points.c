/*
 * The streaming reader of JSON point arrays (json/points.c): a table of valid and invalid inputs with
 * the exact rows and messages each gives, the same results whatever the chunking of the input, the
 * item size cap, what kpi_json_point writes read back exactly, and imports through a real SQLite
 * store that are all or nothing.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/str.h"
#include "json/json.h"

struct chunk_reader {
    const char *data;
    size_t len;
    size_t pos;
    size_t fixed; /* hand out at most this many bytes per call (0: as many as asked) */
    uint32_t rng; /* when not 0: random sizes of 1 to 97 bytes */
};

static ssize_t chunk_read(void *ctx, char *buf, size_t size)
{
    struct chunk_reader *m = ctx;
    size_t n = m->len - m->pos;
    if (n > size)
        n = size;
    if (m->fixed && n > m->fixed)
        n = m->fixed;
    if (m->rng) {
        m->rng ^= m->rng << 13;
        m->rng ^= m->rng >> 17;
        m->rng ^= m->rng << 5;
        size_t chunk = 1 + m->rng % 97;
        if (n > chunk)
            n = chunk;
    }
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* Reads a whole input into a transcript: a line per row ("L kpi at value k=v;k=v", '-' without
 * dims) and per error ("!L message"), in the order they come, then "rows N". */
static char *transcript(const char *data, size_t len, size_t fixed, uint32_t rng)
{
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 24);
    struct chunk_reader m = {data, len, 0, fixed, rng};
    struct kpi_json_points *p;
    cr_assert(eq(int, kpi_json_points_new(chunk_read, &m, &p), 0));
    struct kpi_ingest_report *rep = calloc(1, sizeof(*rep));
    cr_assert(rep != NULL);
    uint64_t seen = 0, returned = 0;
    for (;;) {
        struct kpi_ingest_row row;
        int r = kpi_json_points_next(p, &row, rep);
        cr_assert(ge(int, r, 0));
        for (; seen < rep->n_errors && seen < KPI_INGEST_ERRORS_KEPT; seen++)
            kpi_buf_printf(&out, "!%llu %s\n", (unsigned long long)rep->errors[seen].line, rep->errors[seen].msg);
        if (r == 0)
            break;
        returned++;
        char num[40];
        kpi_format_double(row.number, num, sizeof(num));
        cr_assert(row.has_number);
        cr_assert(not(row.columns));
        kpi_buf_printf(&out, "%llu %.*s %.*s %s ", (unsigned long long)row.line, (int)row.kpi_len, row.kpi, (int)row.at_len, row.at,
                       num);
        for (size_t i = 0; i < row.n_dims; i++)
            kpi_buf_printf(&out, "%s%.*s=%.*s", i ? ";" : "", (int)row.dims[i].key_len, row.dims[i].key, (int)row.dims[i].value_len,
                           row.dims[i].value);
        kpi_buf_adds(&out, row.n_dims ? "\n" : "-\n");
    }
    /* The end is sticky. */
    struct kpi_ingest_row row;
    uint64_t errors = rep->n_errors;
    cr_expect(eq(int, kpi_json_points_next(p, &row, rep), 0));
    cr_expect(eq(u64, rep->n_errors, errors));
    kpi_buf_printf(&out, "rows %llu\n", (unsigned long long)(rep->rows + returned));
    free(rep);
    kpi_json_points_free(p);
    return kpi_buf_take(&out);
}

#define P(kpi, at, value) "{\"kpi\":\"" kpi "\",\"at\":\"" at "\",\"value\":" value "}"

struct json_case {
    const char *name;
    const char *input;
    const char *want;
};

static const struct json_case cases[] = {
    /* Valid inputs. */
    {"empty array", "[]", "rows 0\n"},
    {"empty array with whitespace", " \n\t[ \r\n ]\r\n\n ", "rows 0\n"},
    {"byte-order mark", "\xef\xbb\xbf[" P("mrr", "2026-01-31", "1") "]", "1 mrr 2026-01-31 1 -\nrows 1\n"},
    {"export shape",
     "[\n{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":1200.5,\"dims\":{\"region\":\"eu\"}},\n"
     "{\"kpi\":\"mrr\",\"at\":\"2026-01-31T10:00:00Z\",\"value\":-3,\"dims\":{}}\n]\n",
     "1 mrr 2026-01-31 1200.5 region=eu\n2 mrr 2026-01-31T10:00:00Z -3 -\nrows 2\n"},
    {"fields in any order, several dims",
     "[{\"dims\":{\"region\":\"eu\",\"channel\":\"paid\"},\"value\":1e3,\"at\":\"2026-02-01\",\"kpi\":\"leads\"}]",
     "1 leads 2026-02-01 1000 region=eu;channel=paid\nrows 1\n"},
    {"pretty printed",
     "[\n  {\n    \"kpi\": \"mrr\",\n    \"at\": \"2026-01-31\",\n    \"value\": 0.1\n  },\n  " P("arr", "2026-02-28", "2") "\n]",
     "1 mrr 2026-01-31 0.1 -\n2 arr 2026-02-28 2 -\nrows 2\n"},
    {"brackets and escapes in strings", "[{\"kpi\":\"a]\\\"},[\",\"at\":\"x\\\\\",\"value\":1,\"dims\":{\"r\":\"\\u00e9}\"}}]",
     "1 a]\"},[ x\\ 1 r=\xc3\xa9}\nrows 1\n"},
    {"large integer is a number", "[" P("mrr", "2026-01-31", "123456789012345678901234567890") "]",
     "1 mrr 2026-01-31 1.2345678901234568e+29 -\nrows 1\n"},

    /* Items with the wrong shape: reported, and reading goes on. */
    {"wrong types",
     "[{\"kpi\":1,\"at\":\"2026-01-31\",\"value\":1},{\"kpi\":\"a\",\"at\":20260131,\"value\":1},"
     "{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":\"12\"},{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":true},"
     "{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":null}," P("ok", "2026-01-31", "5") "]",
     "!1 kpi: expected a string, found a number\n!2 at: expected a string, found a number\n"
     "!3 value: expected a number, found a string\n!4 value: expected a number, found a boolean\n"
     "!5 value: expected a number, found null\n6 ok 2026-01-31 5 -\nrows 6\n"},
    {"unknown and missing fields", "[{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"valeu\":1},{}]",
     "!1 unknown field 'valeu'\n!1 missing field 'value'\n!2 missing field 'kpi'\n!2 missing field 'at'\n!2 missing field "
     "'value'\nrows 2\n"},
    {"not objects", "[1,\"x\",[],null,true]",
     "!1 expected an object {\"kpi\", \"at\", \"value\", \"dims\"}, found a number\n"
     "!2 expected an object {\"kpi\", \"at\", \"value\", \"dims\"}, found a string\n"
     "!3 expected an object {\"kpi\", \"at\", \"value\", \"dims\"}, found an array\n"
     "!4 expected an object {\"kpi\", \"at\", \"value\", \"dims\"}, found null\n"
     "!5 expected an object {\"kpi\", \"at\", \"value\", \"dims\"}, found a boolean\nrows 5\n"},
    {"nested garbage in dims",
     "[{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":{\"r\":{\"x\":[1,{}]}}},"
     "{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":[\"r\"]},"
     "{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":null},"
     "{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":{\"Region\":\"eu\",\"r\":2}}]",
     "!1 dims.r: expected a string, found an object\n!2 dims: expected an object of strings, found an array\n"
     "!3 dims: expected an object of strings, found null\n"
     "!4 dims: 'Region' is not a valid dimension name (a lower-case letter, then letters, digits or _)\n"
     "!4 dims.r: expected a string, found a number\nrows 4\n"},
    {"too many dims",
     "[{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":{\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\",\"e\":\"1\","
     "\"f\":"
     "\"1\",\"g\":\"1\",\"h\":\"1\",\"i\":\"1\",\"j\":\"1\",\"k\":\"1\",\"l\":\"1\",\"m\":\"1\",\"n\":\"1\",\"o\":\"1\",\"p\":"
     "\"1\",\"q\":\"1\"}}]",
     "!1 dims: at most 16 dimensions, found 17\nrows 1\n"},
    {"unknown field shown safely", "[{\"kpi\":\"a\",\"at\":\"b\",\"value\":1,\"x\\ny\":1}]", "!1 unknown field 'x?y'\nrows 1\n"},

    /* Syntax errors inside an item: reported with the line and column, reading goes on. */
    {"syntax error in an item", "[" P("a", "2026-01-31", "1") ",\n {\"kpi\":\"a\",},\n" P("b", "2026-01-31", "2") "]",
     "1 a 2026-01-31 1 -\n!2 line 2, column 13: string or '}' expected near '}'\n3 b 2026-01-31 2 -\nrows 3\n"},
    {"duplicate field", "[{\"kpi\":\"a\",\"kpi\":\"b\",\"at\":\"2026-01-31\",\"value\":1}]",
     "!1 line 1, column 17: duplicate object key near '\"kpi\"'\nrows 1\n"},
    {"bad scalars", "[tru, 01, NaN, 1e999]",
     "!1 line 1, column 4: invalid token near 'tru'\n!2 line 1, column 7: invalid token near '0'\n"
     "!3 line 1, column 13: invalid token near 'NaN'\n!4 line 1, column 20: real number overflow near '1e999'\nrows 4\n"},
    {"control character in a string", "[{\"kpi\":\"a\tb\",\"at\":\"2026-01-31\",\"value\":1}]",
     "!1 line 1, column 10: control character 0x9 near '\"a'\nrows 1\n"},

    /* Errors in the array itself end the input. */
    {"not an array", "{\"kpi\":\"a\"}", "!0 line 1, column 1: expected '[' (a JSON array of points), found '{'\nrows 0\n"},
    {"empty input", "", "!0 line 1, column 1: expected a JSON array of points, found the end of input\nrows 0\n"},
    {"only whitespace", " \n ", "!0 line 2, column 2: expected a JSON array of points, found the end of input\nrows 0\n"},
    {"truncated after a comma", "[" P("a", "2026-01-31", "1") ",",
     "1 a 2026-01-31 1 -\n!2 line 1, column 42: unexpected end of input: the array is not closed with ']'\nrows 1\n"},
    {"truncated inside an item", "[" P("a", "2026-01-31", "1") ",{\"kpi\":\"a\",\"at\":\"x",
     "1 a 2026-01-31 1 -\n!2 line 1, column 60: unexpected end of input inside the item\nrows 2\n"},
    {"truncated after an item", "[" P("a", "2026-01-31", "1") "\n",
     "1 a 2026-01-31 1 -\n!0 line 2, column 1: unexpected end of input: the array is not closed with ']'\nrows 1\n"},
    {"trailing garbage", "[" P("a", "2026-01-31", "1") "]\n]",
     "1 a 2026-01-31 1 -\n!0 line 2, column 1: unexpected ']' after the array\nrows 1\n"},
    {"second array", "[] []", "!0 line 1, column 4: unexpected '[' after the array\nrows 0\n"},
    {"missing comma", "[" P("a", "2026-01-31", "1") " " P("b", "2026-01-31", "2") "]",
     "1 a 2026-01-31 1 -\n!1 line 1, column 42: expected ',' or ']' after item 1, found '{'\nrows 1\n"},
    {"trailing comma", "[" P("a", "2026-01-31", "1") ",]",
     "1 a 2026-01-31 1 -\n!2 line 1, column 42: expected an item, found ']'\nrows 2\n"},
    {"empty slots", "[,1]",
     "!1 line 1, column 2: expected an item, found ','\n"
     "!2 expected an object {\"kpi\", \"at\", \"value\", \"dims\"}, found a number\nrows 2\n"},
    {"mismatched bracket", "[{\"a\":[1}]", "!1 line 1, column 9: '}' where ']' was expected\nrows 1\n"},
    {"stray closing brace", "[}]", "!1 line 1, column 2: expected an item, found '}'\nrows 0\n"},
    {"binary garbage", "[\x01]", "!1 line 1, column 2: invalid token near '?'\nrows 1\n"},
};

Test(points, table)
{
    bool print = getenv("KPI_TEST_PRINT") != NULL;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct json_case *c = &cases[i];
        char *got = transcript(c->input, strlen(c->input), 0, 0);
        if (print)
            printf("== %s\n%s", c->name, got);
        cr_expect(eq(str, got, (char *)c->want), "case '%s'", c->name);
        /* The same read 1 byte at a time and in random chunks. */
        char *one = transcript(c->input, strlen(c->input), 1, 0);
        cr_expect(eq(str, one, got), "case '%s', 1-byte chunks", c->name);
        for (uint32_t seed = 1; seed <= 5; seed++) {
            char *rnd = transcript(c->input, strlen(c->input), 0, seed * 2654435761u);
            cr_expect(eq(str, rnd, got), "case '%s', random chunks %u", c->name, seed);
            free(rnd);
        }
        free(one);
        free(got);
    }
}

static char *huge_item(size_t target, const char *after)
{
    struct kpi_buf b;
    kpi_buf_init(&b, 1 << 24);
    kpi_buf_adds(&b, "[" P("a", "2026-01-31", "1") ",\n{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":{\"r\":\"");
    while (b.len < target)
        kpi_buf_adds(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx[{\\\"");
    kpi_buf_adds(&b, "\"}},");
    kpi_buf_adds(&b, after);
    return kpi_buf_take(&b);
}

Test(points, items_are_capped_and_skipped)
{
    /* Just under the cap: read (and then rejected for its dims value by the core, not here). */
    char *in = huge_item(KPI_JSON_POINT_ITEM_MAX - 64, P("b", "2026-01-31", "2") "]");
    char *got = transcript(in, strlen(in), 0, 0);
    cr_expect(strstr(got, "2 a 2026-01-31 1 r=xxx") != NULL, "%.200s", got);
    cr_expect(strstr(got, "3 b 2026-01-31 2 -\nrows 3\n") != NULL, "%s", got + strlen(got) - 60);
    free(got);
    free(in);
    /* Far over it: reported, skipped without holding it, and the next item is read. */
    in = huge_item(5 * KPI_JSON_POINT_ITEM_MAX, P("b", "2026-01-31", "2") "]");
    got = transcript(in, strlen(in), 0, 0);
    cr_expect(eq(str, got, "1 a 2026-01-31 1 -\n!2 line 2: longer than 65536 bytes\n3 b 2026-01-31 2 -\nrows 3\n"));
    char *rnd = transcript(in, strlen(in), 0, 12345);
    cr_expect(eq(str, rnd, got));
    free(rnd);
    free(got);
    free(in);
}

Test(points, deep_nesting_ends_the_input)
{
    char in[128];
    memset(in, '[', 101);
    in[101] = '\0';
    char *got = transcript(in, strlen(in), 0, 0);
    cr_expect(eq(str, got, "!1 line 1, column 66: nested deeper than 64 levels\nrows 1\n"));
    free(got);
}

/* What kpi_json_point writes reads back to the same point. */
Test(points, reads_what_export_writes)
{
    static const double values[] = {0, -0.5, 1200.5, 0.1, 1e-300, 1.7976931348623157e308, -123456789.125, 3};
    struct kpi_buf doc;
    kpi_buf_init(&doc, 1 << 20);
    kpi_buf_addc(&doc, '[');
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        if (i)
            kpi_buf_adds(&doc, ",\n");
        cr_assert(eq(int, kpi_json_point(&doc, "mrr", "2026-01-31", values[i], i % 2 ? "channel=paid\x1fregion=e\"u" : ""), 0));
    }
    kpi_buf_adds(&doc, "\n]\n");
    struct chunk_reader m = {doc.data, doc.len, 0, 0, 7};
    struct kpi_json_points *p;
    cr_assert(eq(int, kpi_json_points_new(chunk_read, &m, &p), 0));
    struct kpi_ingest_report rep = {0};
    struct kpi_ingest_row row;
    size_t n = 0;
    while (kpi_json_points_next(p, &row, &rep) == 1) {
        cr_assert(lt(sz, n, sizeof(values) / sizeof(values[0])));
        cr_expect(eq(dbl, row.number, values[n]));
        cr_expect(eq(sz, row.n_dims, n % 2 ? 2 : 0));
        if (n % 2) {
            cr_expect(eq(int, memcmp(row.dims[1].value, "e\"u", 3), 0));
            cr_expect(eq(sz, row.dims[1].value_len, 3));
        }
        n++;
    }
    cr_expect(eq(sz, n, sizeof(values) / sizeof(values[0])));
    cr_expect(eq(u64, rep.n_errors, 0));
    cr_expect(eq(u64, kpi_json_points_offset(p), doc.len));
    kpi_json_points_free(p);
    kpi_buf_free(&doc);
    cr_expect(kpi_json_points_free(NULL) == NULL);
}

/* Imports through a real SQLite store. */
static char dir[64];
static char path[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kpi-json-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/test.db", dir);
}

static void teardown(void)
{
    char db[160];
    snprintf(db, sizeof(db), "%s-wal", path);
    unlink(db);
    snprintf(db, sizeof(db), "%s-shm", path);
    unlink(db);
    unlink(path);
    rmdir(dir);
}

static struct kpi_store *open_db(void)
{
    struct kpi_store *s;
    struct kpi_diag diag = {""};
    cr_assert(eq(int, kpi_store_open_sqlite(path, true, &s, &diag), 0), "%s", diag.msg);
    static const char *const keys[] = {"mrr", "signups", "arpa"};
    for (size_t i = 0; i < 3; i++) {
        struct kpi_def d;
        kpi_def_init(&d);
        kpi_def_set_key(&d, keys[i], NULL);
        kpi_def_set_field(&d, "name", keys[i], NULL);
        if (i == 2)
            kpi_def_set_field(&d, "formula", "mrr / signups", NULL);
        cr_assert(eq(int, kpi_store_kpi_insert(s, &d, &diag), 0), "%s", diag.msg);
        kpi_def_clear(&d);
    }
    return s;
}

static int import_json(struct kpi_store *s, const char *text, struct kpi_ingest_report *rep)
{
    struct kpi_calendar cal = {NULL, 1};
    struct chunk_reader m = {text, strlen(text), 0, 0, 99};
    struct kpi_diag diag = {""};
    return kpi_json_points_import(s, &cal, chunk_read, &m, NULL, NULL, rep, &diag);
}

static int64_t count_points(struct kpi_store *s)
{
    int64_t n = -1;
    cr_assert(eq(int, kpi_store_points_count(s, 0, &n), 0));
    return n;
}

TestSuite(points_store, .init = setup, .fini = teardown);

Test(points_store, import_is_idempotent)
{
    struct kpi_store *s = open_db();
    const char *doc = "[\n{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":1200.5,\"dims\":{\"region\":\"eu\"}},\n"
                      "{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":1300,\"dims\":{\"region\":\"us\"}},\n"
                      "{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":999,\"dims\":{\"region\":\"eu\"}},\n"
                      "{\"kpi\":\"signups\",\"at\":\"2026-01-31T10:00:00Z\",\"value\":5}\n]\n";
    struct kpi_ingest_report rep;
    cr_assert(eq(int, import_json(s, doc, &rep), 0));
    cr_expect(eq(u64, rep.rows, 4));
    cr_expect(eq(u64, rep.written, 3));
    cr_expect(eq(i64, count_points(s), 3));
    cr_assert(eq(int, import_json(s, doc, &rep), 0));
    cr_expect(eq(i64, count_points(s), 3));
    cr_assert(eq(int, import_json(s, "[]", &rep), 0));
    cr_expect(eq(u64, rep.rows, 0));
    kpi_store_close(s);
}

Test(points_store, one_bad_item_writes_nothing)
{
    struct kpi_store *s = open_db();
    const char *doc = "[" P(
        "mrr", "2026-01-31",
        "1") ",\n"
             "{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"valeu\":1},\n"
             "" P(
                 "nope", "2026-01-31",
                 "1") ",\n"
                      "" P(
                          "arpa", "2026-01-31",
                          "1") ",\n"
                               "" P(
                                   "mrr", "2026-13-01",
                                   "1") ",\n"
                                        "{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":{\"region\":\"\"}},\n"
                                        "{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":{\"region\":\"a\\u001fb\"}},\n"
                                        "" P("signups", "2026-02-01", "2") "\n]";
    struct kpi_ingest_report rep;
    cr_assert(eq(int, import_json(s, doc, &rep), -EINVAL));
    cr_expect(eq(u64, rep.rows, 8));
    cr_expect(eq(u64, rep.written, 0));
    cr_assert(eq(u64, rep.n_errors, 7));
    static const char *const want[] = {
        "unknown field 'valeu'",
        "missing field 'value'",
        "kpi: KPI 'nope' does not exist",
        "kpi: KPI 'arpa' is derived (computed from its formula) and takes no points",
        "at: '2026-13-01' is not a date (YYYY-MM-DD) or an RFC 3339 instant",
        "dims.region: a dimension value must be 1 to 200 bytes without control characters",
        "dims.region: a dimension value must be 1 to 200 bytes without control characters",
    };
    static const uint64_t items[] = {2, 2, 3, 4, 5, 6, 7};
    for (size_t i = 0; i < 7; i++) {
        cr_expect(eq(u64, rep.errors[i].line, items[i]));
        cr_expect(eq(str, rep.errors[i].msg, (char *)want[i]));
    }
    cr_expect(eq(i64, count_points(s), 0));
    /* A syntax error alone is enough too. */
    cr_assert(eq(int, import_json(s, "[" P("mrr", "2026-01-31", "1") ",", &rep), -EINVAL));
    cr_expect(eq(i64, count_points(s), 0));
    kpi_store_close(s);
}

Test(points_store, errors_past_the_first_fifty_are_counted)
{
    struct kpi_store *s = open_db();
    struct kpi_buf doc;
    kpi_buf_init(&doc, 1 << 20);
    kpi_buf_addc(&doc, '[');
    for (int i = 0; i < 120; i++)
        kpi_buf_printf(&doc, "%s{\"kpi\":\"%s\",\"at\":\"2026-01-01\",\"value\":%d}", i ? "," : "", i % 2 ? "mrr" : "bad", i);
    kpi_buf_addc(&doc, ']');
    struct kpi_ingest_report rep;
    cr_assert(eq(int, import_json(s, doc.data, &rep), -EINVAL));
    cr_expect(eq(u64, rep.n_errors, 60));
    cr_expect(eq(u64, rep.errors[49].line, 99));
    cr_expect(eq(i64, count_points(s), 0));
    kpi_buf_free(&doc);
    kpi_store_close(s);
}

/* ---- the fast path against jansson ---- */

/* Everything kpi_json_points_next hands out, field by field, as text: per row every field it sets
 * (the number in %a, so that every bit counts, -0 included; whether each string is NUL-terminated;
 * no_kpi_column and the dims past n_dims, which neither path sets, through a fill pattern), per
 * error its item and message, then the report's counts. */
static char *fields(const char *input, const char *fixed, bool fast, uint64_t *ret_fast_items)
{
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 20);
    struct chunk_reader m = {input, strlen(input), 0, 0, 0};
    struct kpi_json_points *p;
    cr_assert(eq(int, kpi_json_points_new(chunk_read, &m, &p), 0));
    kpi_json_points_set_kpi(p, fixed);
    kpi_json_points_set_fast(p, fast);
    struct kpi_ingest_report *rep = calloc(1, sizeof(*rep));
    cr_assert(rep != NULL);
    uint64_t seen = 0;
    for (;;) {
        struct kpi_ingest_row row;
        memset(&row, 0x5a, sizeof(row));
        int r = kpi_json_points_next(p, &row, rep);
        cr_assert(ge(int, r, 0));
        for (; seen < rep->n_errors && seen < KPI_INGEST_ERRORS_KEPT; seen++)
            kpi_buf_printf(&out, "error item=%llu msg=%s\n", (unsigned long long)rep->errors[seen].line, rep->errors[seen].msg);
        if (r == 0)
            break;
        kpi_buf_printf(&out,
                       "row line=%llu offset=%llu columns=%d no_kpi_column=%d has_number=%d number=%a value=%p value_len=%zu\n",
                       (unsigned long long)row.line, (unsigned long long)row.offset, row.columns, row.no_kpi_column, row.has_number,
                       row.number, (const void *)row.value, row.value_len);
        kpi_buf_printf(&out, "  kpi[%zu]=%.*s nul=%d at[%zu]=%.*s nul=%d n_dims=%zu\n", row.kpi_len, (int)row.kpi_len, row.kpi,
                       row.kpi[row.kpi_len] == '\0', row.at_len, (int)row.at_len, row.at, row.at[row.at_len] == '\0', row.n_dims);
        for (size_t i = 0; i < row.n_dims && i < KPI_DIMS_MAX; i++) {
            const struct kpi_dim *d = &row.dims[i];
            kpi_buf_printf(&out, "  dim %zu key[%zu]=%.*s nul=%d value[%zu]=%.*s nul=%d\n", i, d->key_len, (int)d->key_len, d->key,
                           d->key[d->key_len] == '\0', d->value_len, (int)d->value_len, d->value, d->value[d->value_len] == '\0');
        }
        if (row.n_dims < KPI_DIMS_MAX) {
            unsigned char pattern[sizeof(row.dims[0])];
            memset(pattern, 0x5a, sizeof(pattern));
            kpi_buf_printf(&out, "  dims past n_dims untouched=%d\n", memcmp(&row.dims[row.n_dims], pattern, sizeof(pattern)) == 0);
        }
        kpi_buf_adds(&out, "  dim_columns");
        for (size_t i = 0; i < KPI_DIMS_MAX; i++)
            kpi_buf_printf(&out, " %u", row.dim_columns[i]);
        kpi_buf_addc(&out, '\n');
    }
    kpi_buf_printf(&out, "rows=%llu errors=%llu offset=%llu\n", (unsigned long long)rep->rows, (unsigned long long)rep->n_errors,
                   (unsigned long long)kpi_json_points_offset(p));
    *ret_fast_items = kpi_json_points_fast_items(p);
    free(rep);
    kpi_json_points_free(p);
    return kpi_buf_take(&out);
}

struct fast_case {
    const char *name;
    const char *item;  /* one array element */
    const char *fixed; /* kpi_json_points_set_kpi, or NULL */
    bool fast;         /* whether the fast path takes it (else it gives up and jansson decides) */
};

#define ITEM(value) "{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":" value "}"
#define DIMS(dims) "{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":1,\"dims\":" dims "}"

static const struct fast_case fast_cases[] = {
    /* The ordinary shape, in every order and spacing. */
    {"plain", ITEM("1200.5"), NULL, true},
    {"export shape", "{\"kpi\":\"mrr\",\"at\":\"2026-01-31\",\"value\":1200.5,\"dims\":{\"region\":\"eu\"}}", NULL, true},
    {"order value at kpi", "{\"value\":2,\"at\":\"2026-01-31T10:00:00Z\",\"kpi\":\"arr\"}", NULL, true},
    {"order at kpi value", "{\"at\":\"2026-01-31\",\"kpi\":\"arr\",\"value\":3}", NULL, true},
    {"order dims first", "{\"dims\":{\"b\":\"2\",\"a\":\"1\"},\"value\":4,\"kpi\":\"a\",\"at\":\"2026-01-31\"}", NULL, true},
    {"order dims between", "{\"kpi\":\"a\",\"dims\":{\"r\":\"x\"},\"at\":\"2026-01-31\",\"value\":5}", NULL, true},
    {"whitespace everywhere",
     "{ \"kpi\" :\t\"mrr\" ,\r\n \"at\"\n:\n\"2026-01-31\"\t,\"value\" : -7 , \"dims\" : { \"r\" : \"eu\" , \"c\":\"x\" } }", NULL,
     true},
    {"pretty printed", "{\n    \"kpi\": \"mrr\",\n    \"at\": \"2026-01-31\",\n    \"value\": 0.1\n  }", NULL, true},
    {"dims empty", DIMS("{}"), NULL, true},
    {"dims empty with spaces", DIMS("{ \n }"), NULL, true},
    {"dims one", DIMS("{\"region\":\"eu\"}"), NULL, true},
    {"dims several", DIMS("{\"region\":\"eu\",\"channel\":\"paid\",\"plan_2\":\"pro plus\"}"), NULL, true},
    {"dims sixteen",
     DIMS("{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\",\"f\":\"6\",\"g\":\"7\",\"h\":\"8\",\"i\":\"9\","
          "\"j\":\"10\",\"k\":\"11\",\"l\":\"12\",\"m\":\"13\",\"n\":\"14\",\"o\":\"15\",\"p\":\"16\"}"),
     NULL, true},
    {"dims value empty (the core rejects it)", DIMS("{\"r\":\"\"}"), NULL, true},
    {"empty strings", "{\"kpi\":\"\",\"at\":\"\",\"value\":1}", NULL, true},
    {"printable ASCII", "{\"kpi\":\" !#$%&'()*+,-./:;<=>?@[]^_`{|}~\",\"at\":\"x\",\"value\":1}", NULL, true},
    {"fixed, kpi omitted", "{\"at\":\"2026-01-31\",\"value\":1}", "mrr", true},
    {"fixed, kpi the same", ITEM("1"), "mrr", true},
    {"fixed, another kpi", "{\"kpi\":\"arr\",\"at\":\"2026-01-31\",\"value\":1}", "mrr", false},
    {"fixed, a longer kpi", "{\"kpi\":\"mrrr\",\"at\":\"2026-01-31\",\"value\":1}", "mrr", false},
    {"not fixed, kpi omitted", "{\"at\":\"2026-01-31\",\"value\":1}", NULL, false},

    /* Numbers. */
    {"zero", ITEM("0"), NULL, true},
    {"negative zero", ITEM("-0"), NULL, true},
    {"negative zero fraction", ITEM("-0.0e5"), NULL, true},
    {"exponent", ITEM("1e3"), NULL, true},
    {"capital exponent, negative", ITEM("1E-3"), NULL, true},
    {"trailing zero", ITEM("12.50"), NULL, true},
    {"signed exponent", ITEM("-1.5e+10"), NULL, true},
    {"huge integer", ITEM("123456789012345678901234567890"), NULL, true},
    {"seventeen digits", ITEM("0.30000000000000004"), NULL, true},
    {"largest double", ITEM("1.7976931348623157e308"), NULL, true},
    {"underflow to zero", ITEM("1e-400"), NULL, true},
    {"negative underflow to zero", ITEM("-1e-400"), NULL, true},
    {"subnormal", ITEM("4.9e-324"), NULL, true},
    {"overflow", ITEM("1e999"), NULL, false},
    {"negative overflow", ITEM("-1e999"), NULL, false},
    {"overflow by rounding", ITEM("1.7976931348623159e308"), NULL, false},
    {"leading zero", ITEM("01"), NULL, false},
    {"negative leading zero", ITEM("-01"), NULL, false},
    {"no fraction digits", ITEM("1."), NULL, false},
    {"no integer digits", ITEM(".5"), NULL, false},
    {"plus sign", ITEM("+1"), NULL, false},
    {"minus alone", ITEM("-"), NULL, false},
    {"no exponent digits", ITEM("1e"), NULL, false},
    {"exponent sign alone", ITEM("1e+"), NULL, false},
    {"hexadecimal", ITEM("0x10"), NULL, false},
    {"NaN", ITEM("NaN"), NULL, false},
    {"Infinity", ITEM("Infinity"), NULL, false},
    {"two numbers", ITEM("1 2"), NULL, false},
    /* Over kpi_parse_double's 400 bytes: the fast path gives up, jansson reads it. */
    {"a long number",
     ITEM("1.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"),
     NULL, false},

    /* Members the fast path leaves to jansson. */
    {"duplicate kpi", "{\"kpi\":\"a\",\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"duplicate value", "{\"kpi\":\"a\",\"value\":1,\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"duplicate dims", "{\"kpi\":\"a\",\"dims\":{},\"at\":\"2026-01-31\",\"value\":1,\"dims\":{}}", NULL, false},
    {"duplicate dims key", DIMS("{\"r\":\"a\",\"r\":\"b\"}"), NULL, false},
    {"unknown field", "{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1,\"note\":\"x\"}", NULL, false},
    {"empty object", "{}", NULL, false},
    {"missing at", "{\"kpi\":\"a\",\"value\":1}", NULL, false},
    {"missing value", "{\"kpi\":\"a\",\"at\":\"2026-01-31\"}", NULL, false},
    {"seventeen dims",
     DIMS("{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\",\"f\":\"6\",\"g\":\"7\",\"h\":\"8\",\"i\":\"9\","
          "\"j\":\"10\",\"k\":\"11\",\"l\":\"12\",\"m\":\"13\",\"n\":\"14\",\"o\":\"15\",\"p\":\"16\",\"q\":\"17\"}"),
     NULL, false},
    {"invalid dims key", DIMS("{\"Region\":\"eu\"}"), NULL, false},
    {"dims key starting with a digit", DIMS("{\"1a\":\"eu\"}"), NULL, false},
    {"empty dims key", DIMS("{\"\":\"eu\"}"), NULL, false},
    {"escape in kpi (a valid point)", "{\"kpi\":\"a\\\"b\",\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"unicode escape in at", "{\"kpi\":\"a\",\"at\":\"2026-01-3\\u0031\",\"value\":1}", NULL, false},
    {"escaped dims value", DIMS("{\"r\":\"a\\nb\"}"), NULL, false},
    {"escaped member name", "{\"k\\u0070i\":\"a\",\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"UTF-8 in a dims value", DIMS("{\"r\":\"\xc3\xa9t\xc3\xa9\"}"), NULL, false},
    {"invalid UTF-8", DIMS("{\"r\":\"\xc3(\"}"), NULL, false},
    {"raw tab in a string", "{\"kpi\":\"a\tb\",\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"DEL in a string", "{\"kpi\":\"a\x7f\",\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"nested dims value", DIMS("{\"r\":{\"x\":[1,{}]}}"), NULL, false},
    {"array value", ITEM("[1]"), NULL, false},
    {"object kpi", "{\"kpi\":{\"a\":1},\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"string value", ITEM("\"12\""), NULL, false},
    {"boolean value", ITEM("true"), NULL, false},
    {"null value", ITEM("null"), NULL, false},
    {"number kpi", "{\"kpi\":1,\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"number at", "{\"kpi\":\"a\",\"at\":20260131,\"value\":1}", NULL, false},
    {"dims array", DIMS("[\"r\"]"), NULL, false},
    {"dims null", DIMS("null"), NULL, false},
    {"dims number value", DIMS("{\"r\":2}"), NULL, false},
    {"trailing comma", "{\"kpi\":\"a\",\"at\":\"2026-01-31\",\"value\":1,}", NULL, false},
    {"trailing comma in dims", DIMS("{\"r\":\"a\",}"), NULL, false},
    {"missing colon", "{\"kpi\" \"a\",\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"missing comma", "{\"kpi\":\"a\" \"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"unquoted name", "{kpi:\"a\",\"at\":\"2026-01-31\",\"value\":1}", NULL, false},
    {"a number", "12", NULL, false},
    {"a string", "\"x\"", NULL, false},
    {"an array", "[" ITEM("1") "]", NULL, false},
};

Test(points_fast, same_as_jansson)
{
    bool print = getenv("KPI_TEST_PRINT") != NULL;
    for (size_t i = 0; i < sizeof(fast_cases) / sizeof(fast_cases[0]); i++) {
        const struct fast_case *c = &fast_cases[i];
        /* Two copies of the item, so that the second's line, offset and index count too. */
        struct kpi_buf doc;
        kpi_buf_init(&doc, 1 << 16);
        kpi_buf_printf(&doc, "[\n%s,\n  %s\n]\n", c->item, c->item);
        uint64_t fast_items, jansson_items;
        char *fast = fields(doc.data, c->fixed, true, &fast_items);
        char *slow = fields(doc.data, c->fixed, false, &jansson_items);
        if (print)
            printf("== %s (%s)\n%s", c->name, fast_items ? "fast" : "jansson", slow);
        cr_expect(eq(str, fast, slow), "case '%s'", c->name);
        cr_expect(eq(u64, fast_items, c->fast ? 2 : 0), "case '%s': items taken by the fast path", c->name);
        cr_expect(eq(u64, jansson_items, 0), "case '%s'", c->name);
        free(fast);
        free(slow);
        kpi_buf_free(&doc);
    }
}

/* A row's strings stay as they were until the next call, even though the fast path ends them in
 * place; and an element the fast path gave up on reaches jansson unchanged. */
Test(points_fast, strings_live_until_the_next_call)
{
    const char *doc = "[" DIMS("{\"region\":\"eu\",\"plan\":\"pro\"}") ",{\"kpi\":\"a\\u0062\",\"at\":\"x\",\"value\":2}]";
    struct chunk_reader m = {doc, strlen(doc), 0, 0, 0};
    struct kpi_json_points *p;
    cr_assert(eq(int, kpi_json_points_new(chunk_read, &m, &p), 0));
    struct kpi_ingest_report rep = {0};
    struct kpi_ingest_row row;
    cr_assert(eq(int, kpi_json_points_next(p, &row, &rep), 1));
    cr_expect(eq(u64, kpi_json_points_fast_items(p), 1));
    cr_expect(eq(str, (char *)row.kpi, "mrr"));
    cr_expect(eq(str, (char *)row.at, "2026-01-31"));
    cr_assert(eq(sz, row.n_dims, 2));
    cr_expect(eq(str, (char *)row.dims[0].key, "region"));
    cr_expect(eq(str, (char *)row.dims[0].value, "eu"));
    cr_expect(eq(str, (char *)row.dims[1].key, "plan"));
    cr_expect(eq(str, (char *)row.dims[1].value, "pro"));
    cr_assert(eq(int, kpi_json_points_next(p, &row, &rep), 1));
    cr_expect(eq(u64, kpi_json_points_fast_items(p), 1));
    cr_expect(eq(str, (char *)row.kpi, "ab"));
    cr_expect(eq(int, kpi_json_points_next(p, &row, &rep), 0));
    cr_expect(eq(u64, rep.n_errors, 0));
    kpi_json_points_free(p);
}
