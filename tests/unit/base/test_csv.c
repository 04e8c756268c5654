/*
 * Tests for the streaming CSV reader (src/base/csv.c). Each table case is an input text and the
 * transcript of reading it to the end: one item per kpi_csv_next call, "L[f1|f2]" for a record
 * starting on line L, "EINVAL{message}" / "E2BIG{message}" for an error. In fields, line breaks
 * show as \n and \r, '|' and '\' are escaped and bytes above 0x7e show as \xhh. Every case is read
 * whole, one byte per read and in random-sized chunks, and must give the same transcript.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "kpi/csv.h"

enum chunking { WHOLE, ONE_BYTE, RANDOM };

struct mem_reader {
    const char *data;
    size_t len;
    size_t pos;
    enum chunking mode;
    uint32_t rng;
    size_t fail_at; /* fail with -EIO once pos reaches this (0: never) */
    int fail_code;
};

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static ssize_t mem_read(void *ctx, char *buf, size_t size)
{
    struct mem_reader *m = ctx;
    if (m->fail_at && m->pos >= m->fail_at) {
        m->fail_at = 0;
        return m->fail_code;
    }
    size_t n = m->len - m->pos;
    size_t want = size;
    if (m->mode == ONE_BYTE)
        want = 1;
    else if (m->mode == RANDOM)
        want = next_rand(&m->rng) % 4 == 0 ? size : 1 + next_rand(&m->rng) % 9;
    if (n > want)
        n = want;
    if (n > size)
        n = size;
    if (m->fail_at && m->pos + n > m->fail_at)
        n = m->fail_at - m->pos;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static void show_field(struct kpi_buf *out, const struct kpi_csv_field *f)
{
    for (size_t i = 0; i < f->len; i++) {
        unsigned char ch = (unsigned char)f->data[i];
        if (ch == '\n')
            kpi_buf_adds(out, "\\n");
        else if (ch == '\r')
            kpi_buf_adds(out, "\\r");
        else if (ch == '|' || ch == '\\') {
            kpi_buf_addc(out, '\\');
            kpi_buf_addc(out, (char)ch);
        } else if (ch < 0x20 || ch > 0x7e)
            kpi_buf_printf(out, "\\x%02x", ch);
        else
            kpi_buf_addc(out, (char)ch);
    }
}

/* Reads input to the end and returns the transcript (to free). */
static char *transcript_with(const char *in, size_t len, enum chunking mode, uint32_t seed, size_t max_field, size_t max_fields)
{
    struct mem_reader m = {.data = in, .len = len, .mode = mode, .rng = seed ? seed : 1};
    struct kpi_csv *c = NULL;
    cr_assert(eq(int, kpi_csv_new(mem_read, &m, max_field, max_fields, &c), 0));
    struct kpi_buf out;
    kpi_buf_init(&out, 1 << 24);
    kpi_buf_adds(&out, "");
    int r;
    for (int calls = 0;; calls++) {
        cr_assert(lt(int, calls, 100000), "reader does not make progress");
        const struct kpi_csv_field *fields = (const void *)0x1;
        size_t n = 12345;
        struct kpi_diag diag = {"untouched"};
        r = kpi_csv_next(c, &fields, &n, &diag);
        if (r == 0) {
            cr_assert(eq(sz, n, 12345), "ret_n written at end of input");
            break;
        }
        if (out.len)
            kpi_buf_addc(&out, ' ');
        if (r < 0) {
            cr_assert(eq(ptr, (void *)fields, (void *)0x1), "ret_fields written on error");
            kpi_buf_printf(&out, "%s{%s}", r == -EINVAL ? "EINVAL" : r == -E2BIG ? "E2BIG" : "E?", diag.msg);
            continue;
        }
        cr_assert(eq(int, r, 1));
        cr_assert(ge(sz, n, 1));
        kpi_buf_printf(&out, "%llu[", (unsigned long long)kpi_csv_line(c));
        for (size_t i = 0; i < n; i++) {
            if (i)
                kpi_buf_addc(&out, '|');
            show_field(&out, &fields[i]);
        }
        kpi_buf_addc(&out, ']');
    }
    /* At the end everything has been consumed, and end of input is sticky. */
    cr_assert(eq(u64, kpi_csv_offset(c), (uint64_t)len));
    const struct kpi_csv_field *fields;
    size_t n;
    cr_assert(eq(int, kpi_csv_next(c, &fields, &n, NULL), 0));
    kpi_csv_free(c);
    return kpi_buf_take(&out);
}

struct csv_case {
    const char *name;
    const char *in;
    const char *want;
};

static void run_cases(const struct csv_case *cases, size_t count, size_t max_field, size_t max_fields)
{
    for (size_t i = 0; i < count; i++) {
        const struct csv_case *t = &cases[i];
        size_t len = strlen(t->in);
        char *got = transcript_with(t->in, len, WHOLE, 0, max_field, max_fields);
        cr_assert(eq(str, got, (char *)t->want), "case \"%s\", whole input", t->name);
        free(got);
        got = transcript_with(t->in, len, ONE_BYTE, 0, max_field, max_fields);
        cr_assert(eq(str, got, (char *)t->want), "case \"%s\", one byte per read", t->name);
        free(got);
        for (uint32_t seed = 1; seed <= 20; seed++) {
            got = transcript_with(t->in, len, RANDOM, seed, max_field, max_fields);
            cr_assert(eq(str, got, (char *)t->want), "case \"%s\", random chunks, seed %u", t->name, seed);
            free(got);
        }
    }
}

#define BOM "\xEF\xBB\xBF"

static const struct csv_case syntax_cases[] = {
    /* records and line ends */
    {"empty input", "", ""},
    {"one field without line end", "a", "1[a]"},
    {"one field", "a\n", "1[a]"},
    {"two records", "a,b,c\n1,2,3\n", "1[a|b|c] 2[1|2|3]"},
    {"crlf", "a,b\r\nc\r\n", "1[a|b] 2[c]"},
    {"mixed line ends", "a\r\nb\nc\r\n", "1[a] 2[b] 3[c]"},
    {"empty line is one empty field", "a\n\nb\n", "1[a] 2[] 3[b]"},
    {"only a line feed", "\n", "1[]"},
    {"only crlf", "\r\n", "1[]"},
    {"blank lines at the end", "a\n\n\r\n", "1[a] 2[] 3[]"},
    {"trailing comma", "a,\n", "1[a|]"},
    {"only a comma", ",\n", "1[|]"},
    {"trailing comma at end of input", "a,", "1[a|]"},
    {"last line without line end", "a\nb,c", "1[a] 2[b|c]"},
    {"spaces are data", " a , b \n", "1[ a | b ]"},
    {"utf-8 is data", "caf\xC3\xA9,x\n", "1[caf\\xc3\\xa9|x]"},
    /* byte-order mark */
    {"bom", BOM "a,b\n", "1[a|b]"},
    {"bom only", BOM, ""},
    {"bom then line end", BOM "\n", "1[]"},
    {"bom before a quoted field", BOM "\"a\"\n", "1[a]"},
    {"partial bom is data", "\xEF\xBB", "1[\\xef\\xbb]"},
    {"second bom is data", BOM BOM "a\n", "1[\\xef\\xbb\\xbfa]"},
    {"bom on a later line is data", "a\n" BOM "b\n", "1[a] 2[\\xef\\xbb\\xbfb]"},
    /* quoted fields */
    {"quoted comma", "\"a,b\",c\n", "1[a,b|c]"},
    {"escaped quote", "\"a\"\"b\"\n", "1[a\"b]"},
    {"only an escaped quote", "\"\"\"\"\n", "1[\"]"},
    {"escapes at both ends", "\"\"\"a\"\"\"\n", "1[\"a\"]"},
    {"many escapes", "\"\"\"\"\"\"\"\",x\n", "1[\"\"\"|x]"},
    {"empty quoted", "\"\"\n", "1[]"},
    {"two empty quoted", "\"\",\"\"\n", "1[|]"},
    {"line break in quotes", "\"a\nb\",c\nd\n", "1[a\\nb|c] 3[d]"},
    {"crlf in quotes is kept", "\"a\r\nb\"\r\nc\r\n", "1[a\\r\\nb] 3[c]"},
    {"several line breaks in quotes", "x,\"\n\n\",y\nz\n", "1[x|\\n\\n|y] 4[z]"},
    {"escape after a line break", "\"a\n\"\"b\"\"\"\nc\n", "1[a\\n\"b\"] 3[c]"},
    {"quoted at end of input", "\"a\"", "1[a]"},
    {"escaped quote at end of input", "\"a\"\"\"", "1[a\"]"},
    {"quoted then crlf", "\"a\",\"b\"\r\n", "1[a|b]"},
    {"cr in quotes is data", "\"a\rb\"\n", "1[a\\rb]"},
    {"mixed quoted and unquoted", "1,\"two\",3,\"fo\"\"ur\",\n", "1[1|two|3|fo\"ur|]"},
    /* errors, each followed by recovery on the next line */
    {"quote inside an unquoted field", "ab\"c,d\ne\n", "EINVAL{line 1, column 1: quote inside an unquoted field} 2[e]"},
    {"quote in column 3", "a,b,c\"\nd\n", "EINVAL{line 1, column 3: quote inside an unquoted field} 2[d]"},
    {"quote at the end of an unquoted field", "a\"\n", "EINVAL{line 1, column 1: quote inside an unquoted field}"},
    {"text after a closing quote", "\"a\"b,c\nd\n", "EINVAL{line 1, column 1: text after a closing quote} 2[d]"},
    {"space after a closing quote", "x,\"a\" ,b\n", "EINVAL{line 1, column 2: text after a closing quote}"},
    {"error line counts line breaks in quotes", "\"a\nb\"x\nc\n", "EINVAL{line 2, column 1: text after a closing quote} 3[c]"},
    {"lone cr", "a\rb\nc\n", "EINVAL{line 1, column 1: carriage return not followed by a line feed} 2[c]"},
    {"cr-only line ends", "a\rb\rc\r", "EINVAL{line 1, column 1: carriage return not followed by a line feed}"},
    {"cr at end of input", "a,b\r", "EINVAL{line 1, column 2: carriage return not followed by a line feed}"},
    {"cr after a closing quote", "\"a\"\rx\ny\n", "EINVAL{line 1, column 1: carriage return not followed by a line feed} 2[y]"},
    {"double cr", "a\r\r\nb\n", "EINVAL{line 1, column 1: carriage return not followed by a line feed} 2[b]"},
    {"unterminated quote", "a\n\"b\nc\nd", "1[a] EINVAL{line 2, column 1: quote opened here is never closed} 3[c] 4[d]"},
    {"unterminated on the last line", "a,\"b", "EINVAL{line 1, column 2: quote opened here is never closed}"},
    {"unterminated after a multi-line field", "\"x\ny\",\"z\nw\n",
     "EINVAL{line 2, column 2: quote opened here is never closed} 3[w]"},
    {"unterminated with escapes", "\"a\"\"b\nc\n", "EINVAL{line 1, column 1: quote opened here is never closed} 2[c]"},
    {"several errors in one input", "id,v\n1,ok\n2,b\"ad\n3,\"x\"y\n4,fine\n5,a\rb\n6,\"multi\nline\"\n7,\"never\n8,z\n",
     "1[id|v] 2[1|ok] EINVAL{line 3, column 2: quote inside an unquoted field} "
     "EINVAL{line 4, column 2: text after a closing quote} 5[4|fine] "
     "EINVAL{line 6, column 2: carriage return not followed by a line feed} 7[6|multi\\nline] "
     "EINVAL{line 9, column 2: quote opened here is never closed} 10[8|z]"},
};

Test(csv, syntax_table)
{
    run_cases(syntax_cases, sizeof(syntax_cases) / sizeof(syntax_cases[0]), 0, 0);
}

/* max_field 4, max_fields 3 */
static const struct csv_case limit_cases[] = {
    {"at the limits", "abcd,\"efgh\",\"i\"\"jk\"\n", "1[abcd|efgh|i\"jk]"},
    {"quoted at the limit at end of input", "\"abcd\"", "1[abcd]"},
    {"escape at the limit", "\"abc\"\"\"\n", "1[abc\"]"},
    {"unquoted too long", "abcde,x\ny\n", "E2BIG{line 1, column 1: field longer than 4 bytes} 2[y]"},
    {"unquoted too long at end of input", "x,abcde", "E2BIG{line 1, column 2: field longer than 4 bytes}"},
    {"too long beats a later quote", "abcde\"\ny\n", "E2BIG{line 1, column 1: field longer than 4 bytes} 2[y]"},
    {"quoted too long", "a,\"bcdef\"\ny\n", "E2BIG{line 1, column 2: field longer than 4 bytes} 2[y]"},
    {"escape past the limit", "\"abcd\"\"\"\ny\n", "E2BIG{line 1, column 1: field longer than 4 bytes} 2[y]"},
    {"escapes past the limit", "\"ab\"\"\"\"c\"\ny\n", "E2BIG{line 1, column 1: field longer than 4 bytes} 2[y]"},
    /* The error names the line where the field starts and the reader resumes on the line after the
     * first byte past the limit, here inside the quoted field. */
    {"multi-line field too long", "x,\"ab\ncd\nef\"\ny\n",
     "E2BIG{line 1, column 2: field longer than 4 bytes} EINVAL{line 3, column 1: quote inside an unquoted field} 4[y]"},
    {"too many fields", "a,b,c\na,b,c,d\nx\n", "1[a|b|c] E2BIG{line 2, column 4: more than 3 fields} 3[x]"},
    {"too many fields, the last empty", "a,b,c,\nx\n", "E2BIG{line 1, column 4: more than 3 fields} 2[x]"},
};

Test(csv, limits_table)
{
    run_cases(limit_cases, sizeof(limit_cases) / sizeof(limit_cases[0]), 4, 3);
}

Test(csv, default_field_limit_message)
{
    struct kpi_buf in;
    kpi_buf_init(&in, 1 << 20);
    for (int i = 0; i < 6; i++)
        kpi_buf_adds(&in, "a,b,c\n");
    kpi_buf_adds(&in, "a,b,");
    for (int i = 0; i < KPI_CSV_FIELD_MAX_DEFAULT + 1; i++)
        kpi_buf_addc(&in, 'x');
    kpi_buf_adds(&in, ",d\ne\n");
    char *got = transcript_with(in.data, in.len, RANDOM, 7, KPI_CSV_FIELD_MAX_DEFAULT, KPI_CSV_FIELDS_MAX_DEFAULT);
    cr_assert(eq(str, got,
                 "1[a|b|c] 2[a|b|c] 3[a|b|c] 4[a|b|c] 5[a|b|c] 6[a|b|c] "
                 "E2BIG{line 7, column 3: field longer than 4096 bytes} 8[e]"));
    free(got);
    kpi_buf_free(&in);
}

/* Builds a record of nfields random fields (quotes, commas, line breaks, CR) of up to maxlen bytes. */
static void random_record(uint32_t *rng, struct kpi_buf *fields, size_t *lens, size_t nfields, size_t maxlen)
{
    static const char alphabet[] = "abc123.,\"\r\n -";
    for (size_t i = 0; i < nfields; i++) {
        size_t len = next_rand(rng) % 3 == 0 ? 0 : next_rand(rng) % (maxlen + 1);
        bool plain = next_rand(rng) % 2;
        for (size_t j = 0; j < len; j++) {
            char ch = plain ? (char)('0' + next_rand(rng) % 10) : alphabet[next_rand(rng) % (sizeof(alphabet) - 1)];
            cr_assert(eq(int, kpi_buf_addc(fields, ch), 0));
        }
        lens[i] = len;
    }
}

/* Writes many records with kpi_csv_write_field (several MB, so records span buffer refills) and
 * reads them back in each chunking. */
static void round_trip(enum chunking mode, uint32_t seed, size_t records, size_t maxlen)
{
    uint32_t rng = 12345;
    struct kpi_buf text, all;
    kpi_buf_init(&text, 1 << 28);
    kpi_buf_init(&all, 1 << 28);
    size_t *lens = calloc(records * 8, sizeof(*lens));
    size_t *counts = calloc(records, sizeof(*counts));
    size_t k = 0;
    for (size_t r = 0; r < records; r++) {
        counts[r] = 1 + next_rand(&rng) % 8;
        size_t before = all.len;
        random_record(&rng, &all, lens + k, counts[r], maxlen);
        const char *p = all.data ? all.data + before : "";
        for (size_t i = 0; i < counts[r]; i++) {
            if (i)
                kpi_buf_addc(&text, ',');
            cr_assert(eq(int, kpi_csv_write_field(&text, p, lens[k + i]), 0));
            p += lens[k + i];
        }
        /* A record of one empty field is an empty line, which reads back the same. */
        kpi_buf_adds(&text, next_rand(&rng) % 2 ? "\r\n" : "\n");
        k += counts[r];
    }

    struct mem_reader m = {.data = text.data, .len = text.len, .mode = mode, .rng = seed};
    struct kpi_csv *c;
    cr_assert(eq(int, kpi_csv_new(mem_read, &m, maxlen, 8, &c), 0));
    const char *want = all.data;
    k = 0;
    for (size_t r = 0; r < records; r++) {
        const struct kpi_csv_field *f;
        size_t n;
        struct kpi_diag diag = {""};
        cr_assert(eq(int, kpi_csv_next(c, &f, &n, &diag), 1), "record %zu: %s", r, diag.msg);
        cr_assert(eq(sz, n, counts[r]), "record %zu", r);
        for (size_t i = 0; i < n; i++) {
            struct cr_mem got = {f[i].data, f[i].len}, exp = {want, lens[k + i]};
            cr_assert(eq(mem, got, exp), "record %zu field %zu", r, i);
            want += f[i].len;
        }
        k += n;
    }
    const struct kpi_csv_field *f;
    size_t n;
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, NULL), 0));
    cr_assert(eq(u64, kpi_csv_offset(c), (uint64_t)text.len));
    kpi_csv_free(c);
    free(lens);
    free(counts);
    kpi_buf_free(&text);
    kpi_buf_free(&all);
}

Test(csv, round_trip_spanning_refills)
{
    round_trip(WHOLE, 1, 200000, 40);
    round_trip(RANDOM, 3, 200000, 40);
    round_trip(ONE_BYTE, 1, 20000, 40);
}

Test(csv, records_longer_than_the_buffer)
{
    /* 256 KiB buffer; records of up to 8 fields of 200000 bytes need it to grow. */
    round_trip(WHOLE, 1, 20, 200000);
    round_trip(RANDOM, 9, 20, 200000);
}

Test(csv, long_quoted_field_with_escapes_spanning_refills)
{
    struct kpi_buf in;
    kpi_buf_init(&in, 1 << 22);
    kpi_buf_adds(&in, "a,\"");
    for (int i = 0; i < 100000; i++)
        kpi_buf_adds(&in, i % 10 == 0 ? "\"\"" : i % 13 == 0 ? "\n" : "x");
    kpi_buf_adds(&in, "\",b\nlast\n");
    for (enum chunking mode = WHOLE; mode <= RANDOM; mode++) {
        struct mem_reader m = {.data = in.data, .len = in.len, .mode = mode, .rng = 5};
        struct kpi_csv *c;
        cr_assert(eq(int, kpi_csv_new(mem_read, &m, 100000, 3, &c), 0));
        const struct kpi_csv_field *f;
        size_t n;
        cr_assert(eq(int, kpi_csv_next(c, &f, &n, NULL), 1));
        cr_assert(eq(sz, n, 3));
        cr_assert(eq(sz, f[1].len, 100000));
        size_t quotes = 0, lines = 0;
        for (size_t i = 0; i < f[1].len; i++) {
            quotes += f[1].data[i] == '"';
            lines += f[1].data[i] == '\n';
        }
        cr_assert(eq(sz, quotes, 10000));
        cr_assert(eq(sz, f[2].len, 1));
        cr_assert(eq(chr, f[2].data[0], 'b'));
        cr_assert(eq(int, kpi_csv_next(c, &f, &n, NULL), 1));
        cr_assert(eq(u64, kpi_csv_line(c), (uint64_t)lines + 2));
        cr_assert(eq(sz, n, 1));
        cr_assert(eq(sz, f[0].len, 4));
        kpi_csv_free(c);
    }
    kpi_buf_free(&in);
}

Test(csv, line_and_offset)
{
    static const char in[] = BOM "a,b\n\"x\ny\"\r\nz";
    struct mem_reader m = {.data = in, .len = sizeof(in) - 1, .mode = WHOLE};
    struct kpi_csv *c;
    cr_assert(eq(int, kpi_csv_new(mem_read, &m, 0, 0, &c), 0));
    cr_assert(eq(u64, kpi_csv_line(c), 0));
    cr_assert(eq(u64, kpi_csv_offset(c), 0));
    const struct kpi_csv_field *f;
    size_t n;
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, NULL), 1));
    cr_assert(eq(u64, kpi_csv_line(c), 1));
    cr_assert(eq(u64, kpi_csv_offset(c), 7));
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, NULL), 1));
    cr_assert(eq(u64, kpi_csv_line(c), 2));
    cr_assert(eq(u64, kpi_csv_offset(c), 14));
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, NULL), 1));
    cr_assert(eq(u64, kpi_csv_line(c), 4));
    cr_assert(eq(u64, kpi_csv_offset(c), 15));
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, NULL), 0));
    kpi_csv_free(c);
}

Test(csv, read_error_is_returned_and_reading_can_go_on)
{
    static const char in[] = "a,b\ncc,\"d\ne\"\nf\n";
    struct mem_reader m = {.data = in, .len = sizeof(in) - 1, .mode = ONE_BYTE, .fail_at = 9, .fail_code = -EIO};
    struct kpi_csv *c;
    cr_assert(eq(int, kpi_csv_new(mem_read, &m, 0, 0, &c), 0));
    const struct kpi_csv_field *f;
    size_t n;
    struct kpi_diag diag;
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, &diag), 1));
    const struct kpi_csv_field *before = (const void *)0x1;
    f = before;
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, &diag), -EIO));
    cr_assert(eq(ptr, (void *)f, (void *)before));
    cr_assert(eq(str, diag.msg, "line 2: cannot read input: input/output error"));
    /* The reader failed once; the record is read again from its start. */
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, &diag), 1));
    cr_assert(eq(sz, n, 2));
    cr_assert(eq(u64, kpi_csv_line(c), 2));
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, &diag), 1));
    cr_assert(eq(u64, kpi_csv_line(c), 4));
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, &diag), 0));
    kpi_csv_free(c);
}

static ssize_t lying_read(void *ctx, char *buf, size_t size)
{
    return (ssize_t)size + 1;
}

Test(csv, read_function_returning_too_much_is_an_error)
{
    struct kpi_csv *c;
    cr_assert(eq(int, kpi_csv_new(lying_read, NULL, 0, 0, &c), 0));
    const struct kpi_csv_field *f;
    size_t n;
    cr_assert(eq(int, kpi_csv_next(c, &f, &n, NULL), -EIO));
    kpi_csv_free(c);
}

Test(csv, new_and_free)
{
    struct kpi_csv *c = (void *)0x1;
    cr_assert(eq(ptr, kpi_csv_free(NULL), NULL));
    cr_assert(eq(int, kpi_csv_new(NULL, NULL, 0, 0, &c), -EINVAL));
    cr_assert(eq(int, kpi_csv_new(mem_read, NULL, SIZE_MAX / 2, 2, &c), -EINVAL));
    cr_assert(eq(ptr, (void *)c, (void *)0x1));
    cr_assert(eq(int, kpi_csv_new(mem_read, NULL, 10, 10, &c), 0));
    cr_assert(eq(ptr, kpi_csv_free(c), NULL));
}

struct write_case {
    const char *in;
    size_t len;
    const char *want;
    size_t want_len;
};

#define W(in, want)                                                                                                                \
    {                                                                                                                              \
        in, sizeof(in) - 1, want, sizeof(want) - 1                                                                                 \
    }

Test(csv, write_field)
{
    static const struct write_case cases[] = {
        W("", ""),
        W("abc", "abc"),
        W("a b", "a b"),
        W("a,b", "\"a,b\""),
        W("a\"b", "\"a\"\"b\""),
        W("\"", "\"\"\"\""),
        W("\"\"", "\"\"\"\"\"\""),
        W("a\nb", "\"a\nb\""),
        W("a\rb", "\"a\rb\""),
        W("x\"", "\"x\"\"\""),
        W(BOM "a", "\"" BOM "a\""),
        W("a" BOM, "a" BOM),
        W("a\0b", "a\0b"),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kpi_buf out;
        kpi_buf_init(&out, 100);
        kpi_buf_adds(&out, "");
        cr_assert(eq(int, kpi_csv_write_field(&out, cases[i].in, cases[i].len), 0));
        struct cr_mem got = {out.data, out.len}, want = {cases[i].want, cases[i].want_len};
        cr_assert(eq(mem, got, want), "case %zu", i);
        kpi_buf_free(&out);
    }
}

Test(csv, write_field_respects_the_buffer_limit)
{
    struct kpi_buf out;
    kpi_buf_init(&out, 4);
    cr_assert(eq(int, kpi_csv_write_field(&out, "a,bc", 4), -E2BIG));
    kpi_buf_free(&out);
    kpi_buf_init(&out, 4);
    cr_assert(eq(int, kpi_csv_write_field(&out, "abcd", 4), 0));
    kpi_buf_free(&out);
}
