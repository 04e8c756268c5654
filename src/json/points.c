/*
 * Streaming reader of a JSON array of points, the shape `kpi export --format json` writes and the
 * HTTP API takes as a batch: [{"kpi":"mrr","at":"2026-01-31","value":1200.5,"dims":{"region":"eu"}}].
 *
 * The document is never loaded whole (imports run to hundreds of megabytes). A small scanner finds
 * the bytes of each top-level array element in a bounded buffer, tracking strings, escapes and the
 * nesting of brackets; only those bytes are decoded by jansson, and the decoded object is checked
 * strictly against the point shape. An element is capped at KPI_JSON_POINT_ITEM_MAX bytes: a
 * longer one is skipped (and reported) without being held in memory. A bad element is reported and
 * reading goes on with the next; an error in the array itself (a missing comma, a mismatched
 * bracket, the end of input inside the array, data after it) ends the input, since no further
 * element boundary can be trusted. A reader may be bound to one KPI (kpi_json_points_set_kpi, for
 * POST /api/v1/kpis/{key}/points): items then may omit "kpi" and may not name another.
 *
 * Fast path: building a jansson tree per element (several mallocs, a hash table) was most of the
 * HTTP ingest's CPU time, so an element of the ordinary shape is decoded by hand instead, straight
 * from its bytes: an object of "kpi", "at", "value" and "dims" (each at most once), strings of
 * printable ASCII without escapes, a number in strict JSON grammar that does not overflow, dims an
 * object of at most KPI_DIMS_MAX distinct valid names with string values. The strings are used in
 * place: their closing quotes are overwritten with NULs. That is safe because the scanner is past
 * the element, nothing reads its bytes again, and the next fill() drops them (marking is off), so
 * the row's strings live until the next call, as jansson's did. Anything else, valid or not, makes
 * the fast path give up before it writes a byte, and the element goes through jansson as before:
 * every error and message still comes from that one path, and the two give the same rows (the unit
 * tests and the fuzz target compare them, see kpi_json_points_set_fast).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "json/jansson_util.h"
#include "json/json.h"
#include "kpi/dims.h"

#define READ_CHUNK (64 * 1024)
#define DEPTH_MAX 64

enum reader_state {
    ST_START, /* before the opening '[' */
    ST_FIRST, /* after '[': an item or ']' */
    ST_ITEM,  /* after ',': an item */
    ST_AFTER, /* after an item: ',' or ']' */
    ST_DONE,
};

enum scan_result { SCAN_OK, SCAN_EOF, SCAN_BAD };

struct kpi_json_points {
    kpi_csv_read_fn read;
    void *ctx;
    char *buf;
    size_t cap;
    size_t pos;      /* next unread byte */
    size_t end;      /* bytes held */
    size_t mark;     /* start of the element being scanned, while marking */
    bool marking;    /* the element's bytes are kept (it is not longer than the cap) */
    uint64_t base;   /* input offset of buf[0] */
    uint64_t line;   /* 1-based line of buf[pos] */
    uint64_t line_0; /* input offset of the first byte of that line */
    bool eof;
    enum reader_state state;
    uint64_t index; /* items seen, 1-based index of the last */
    json_t *item;   /* the decoded element handed out last */
    bool fixed;     /* items are points of fixed_kpi (kpi_json_points_set_kpi) */
    char fixed_kpi[KPI_KEY_MAX * 4 + 1];
    bool fast;           /* try decode_fast before jansson (kpi_json_points_set_fast) */
    uint64_t fast_items; /* items decode_fast handled */
};

int kpi_json_points_new(kpi_csv_read_fn read, void *read_ctx, struct kpi_json_points **ret_reader)
{
    struct kpi_json_points *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->cap = KPI_JSON_POINT_ITEM_MAX + READ_CHUNK + 1;
    p->buf = malloc(p->cap);
    if (!p->buf) {
        free(p);
        return -ENOMEM;
    }
    p->read = read;
    p->ctx = read_ctx;
    p->line = 1;
    p->state = ST_START;
    p->fast = true;
    *ret_reader = p;
    return 0;
}

struct kpi_json_points *kpi_json_points_free(struct kpi_json_points *p)
{
    if (!p)
        return NULL;
    json_decref(p->item);
    free(p->buf);
    free(p);
    return NULL;
}

void kpi_json_points_set_kpi(struct kpi_json_points *p, const char *key)
{
    p->fixed = key != NULL;
    kpi_strlcpy(p->fixed_kpi, key ? key : "", sizeof(p->fixed_kpi));
}

void kpi_json_points_set_fast(struct kpi_json_points *p, bool on)
{
    p->fast = on;
}

uint64_t kpi_json_points_fast_items(const struct kpi_json_points *p)
{
    return p->fast_items;
}

uint64_t kpi_json_points_offset(const struct kpi_json_points *p)
{
    return p->base + p->pos;
}

/* Makes sure a byte is buffered at pos: 1, 0 at the end of input, or the read function's code. The
 * marked element (if any) is kept; bytes before it are dropped. */
static int fill(struct kpi_json_points *p)
{
    if (p->pos < p->end)
        return 1;
    if (p->eof)
        return 0;
    size_t keep = p->marking ? p->mark : p->pos;
    if (keep) {
        memmove(p->buf, p->buf + keep, p->end - keep);
        p->base += keep;
        p->pos -= keep;
        p->end -= keep;
        if (p->marking)
            p->mark = 0;
    }
    for (;;) {
        ssize_t n = p->read(p->ctx, p->buf + p->end, p->cap - p->end);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            p->eof = true;
            return 0;
        }
        if ((size_t)n > p->cap - p->end)
            return -EIO;
        p->end += (size_t)n;
        return 1;
    }
}

static void consume(struct kpi_json_points *p)
{
    if (p->buf[p->pos++] == '\n') {
        p->line++;
        p->line_0 = p->base + p->pos;
    }
}

static uint64_t column(const struct kpi_json_points *p)
{
    return p->base + p->pos - p->line_0 + 1;
}

/* Skips JSON whitespace: 1 with a byte buffered, 0 at the end, or a read error. */
static int skip_ws(struct kpi_json_points *p)
{
    for (;;) {
        int r = fill(p);
        if (r <= 0)
            return r;
        char c = p->buf[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return 1;
        consume(p);
    }
}

/* A byte as messages show it. */
static const char *describe(char c, char *buf, size_t size)
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x21 && u < 0x7f)
        snprintf(buf, size, "'%c'", c);
    else
        snprintf(buf, size, "byte 0x%02x", u);
    return buf;
}

/* Copies text for a message: at most 64 bytes, control bytes shown as '?'. */
static const char *shown(const char *s, char *buf, size_t size)
{
    size_t n = strlen(s);
    if (n > 64)
        n = 64;
    if (n >= size)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[n] = '\0';
    return buf;
}

static void fail(struct kpi_json_points *p, struct kpi_ingest_report *rep, uint64_t item, const char *what)
{
    kpi_ingest_report_error(rep, item, "line %llu, column %llu: %s", (unsigned long long)p->line, (unsigned long long)column(p),
                            what);
    p->state = ST_DONE;
}

/* Finds the end of the element starting at pos, tracking strings, escapes and brackets. A scalar
 * ends before whitespace, ',' or a closing bracket; an object or array with its closing bracket.
 * Keeps the bytes from mark while they fit the cap; *ret_too_big tells when they did not. */
static int scan_element(struct kpi_json_points *p, struct kpi_ingest_report *rep, bool *ret_too_big)
{
    char stack[DEPTH_MAX];
    size_t depth = 0;
    bool in_string = false, escaped = false, too_big = false;
    p->mark = p->pos;
    p->marking = true;
    for (;;) {
        int r = fill(p);
        if (r < 0)
            return r;
        if (r == 0)
            return SCAN_EOF;
        char c = p->buf[p->pos];
        bool last = false;
        if (in_string && !escaped && c != '"' && c != '\\' && c != '\n') {
            /* Most of an element is string bytes: skip them in bulk (a newline is left to consume()
             * for the line count). */
            size_t i = p->pos + 1;
            while (i < p->end && p->buf[i] != '"' && p->buf[i] != '\\' && p->buf[i] != '\n')
                i++;
            p->pos = i;
            if (p->marking && p->pos - p->mark > KPI_JSON_POINT_ITEM_MAX) {
                p->marking = false;
                too_big = true;
            }
            continue;
        }
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"') {
                in_string = false;
                last = depth == 0;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (depth == DEPTH_MAX) {
                char msg[64];
                snprintf(msg, sizeof(msg), "nested deeper than %d levels", DEPTH_MAX);
                fail(p, rep, p->index, msg);
                return SCAN_BAD;
            }
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                break; /* the array's own ']' (or a stray '}') after a scalar */
            if (stack[depth - 1] != c) {
                char msg[64];
                snprintf(msg, sizeof(msg), "'%c' where '%c' was expected", c, stack[depth - 1]);
                fail(p, rep, p->index, msg);
                return SCAN_BAD;
            }
            depth--;
            last = depth == 0;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            break;
        }
        consume(p);
        if (p->marking && p->pos - p->mark > KPI_JSON_POINT_ITEM_MAX) {
            p->marking = false;
            too_big = true;
        }
        if (last)
            break;
    }
    *ret_too_big = too_big;
    return SCAN_OK;
}

/* Fills the row of the current item, whichever path decoded it; kpi NULL means the route's KPI. The
 * strings are NUL-terminated and stay valid until the next kpi_json_points_next call. */
static void put_row(struct kpi_json_points *p, const char *kpi, size_t kpi_len, const char *at, size_t at_len, double number,
                    const struct kpi_dim *dims, size_t n_dims, struct kpi_ingest_row *ret_row)
{
    struct kpi_ingest_row *row = ret_row;
    memcpy(row->dims, dims, n_dims * sizeof(dims[0]));
    memset(row->dim_columns, 0, sizeof(row->dim_columns));
    row->line = p->index;
    row->offset = kpi_json_points_offset(p);
    row->columns = false;
    row->kpi = kpi ? kpi : p->fixed_kpi;
    row->kpi_len = kpi ? kpi_len : strlen(p->fixed_kpi);
    row->at = at;
    row->at_len = at_len;
    row->has_number = true;
    row->number = number;
    row->value = NULL;
    row->value_len = 0;
    row->n_dims = n_dims;
}

/* Checks the shape of a decoded element and fills the row from it. Returns 1 when the item is a
 * point, 0 when it was rejected (every problem reported). */
static int check_shape(struct kpi_json_points *p, json_t *v, struct kpi_ingest_report *rep, struct kpi_ingest_row *ret_row)
{
    uint64_t item = p->index;
    if (!json_is_object(v)) {
        kpi_ingest_report_error(rep, item, "expected an object {\"kpi\", \"at\", \"value\", \"dims\"}, found %s",
                                kpi_json_type_name(v));
        return 0;
    }
    json_t *kpi = NULL, *at = NULL, *value = NULL, *dims = NULL;
    bool bad = false;
    const char *key;
    json_t *field;
    char text[80];
    json_object_foreach(v, key, field)
    {
        if (strcmp(key, "kpi") == 0)
            kpi = field;
        else if (strcmp(key, "at") == 0)
            at = field;
        else if (strcmp(key, "value") == 0)
            value = field;
        else if (strcmp(key, "dims") == 0)
            dims = field;
        else {
            kpi_ingest_report_error(rep, item, "unknown field '%s'", shown(key, text, sizeof(text)));
            bad = true;
        }
    }
    static const char *const required[] = {"kpi", "at", "value"};
    json_t *got[] = {kpi, at, value};
    for (size_t i = 0; i < 3; i++) {
        if (!got[i] && i == 0 && p->fixed)
            continue; /* the route's KPI */
        if (!got[i]) {
            kpi_ingest_report_error(rep, item, "missing field '%s'", required[i]);
            bad = true;
        } else if (i < 2 ? !json_is_string(got[i]) : !json_is_number(got[i])) {
            kpi_ingest_report_error(rep, item, "%s: expected %s, found %s", required[i], i < 2 ? "a string" : "a number",
                                    kpi_json_type_name(got[i]));
            bad = true;
        } else if (i == 0 && p->fixed && strcmp(json_string_value(kpi), p->fixed_kpi) != 0) {
            kpi_ingest_report_error(rep, item, "kpi: this route takes points of %s only; use POST /api/v1/points",
                                    shown(p->fixed_kpi, text, sizeof(text)));
            bad = true;
        }
    }
    struct kpi_dim d[KPI_DIMS_MAX];
    size_t nd = 0;
    if (dims && !json_is_object(dims)) {
        kpi_ingest_report_error(rep, item, "dims: expected an object of strings, found %s", kpi_json_type_name(dims));
        bad = true;
    } else if (dims && json_object_size(dims) > KPI_DIMS_MAX) {
        kpi_ingest_report_error(rep, item, "dims: at most %d dimensions, found %zu", KPI_DIMS_MAX, json_object_size(dims));
        bad = true;
    } else if (dims) {
        json_object_foreach(dims, key, field)
        {
            size_t len = strlen(key);
            if (!kpi_dim_key_valid(key, len)) {
                kpi_ingest_report_error(rep, item,
                                        "dims: '%s' is not a valid dimension name (a lower-case letter, then letters, digits or _)",
                                        shown(key, text, sizeof(text)));
                bad = true;
            } else if (!json_is_string(field)) {
                kpi_ingest_report_error(rep, item, "dims.%s: expected a string, found %s", key, kpi_json_type_name(field));
                bad = true;
            } else {
                d[nd++] = (struct kpi_dim){key, len, json_string_value(field), json_string_length(field)};
            }
        }
    }
    if (bad)
        return 0;
    put_row(p, kpi ? json_string_value(kpi) : NULL, kpi ? json_string_length(kpi) : 0, json_string_value(at),
            json_string_length(at), json_number_value(value), d, nd, ret_row);
    return 1;
}

/* ---- the fast path (see the top of the file) ----
 * Each fast_* function takes the cursor c and the element's end, and returns the byte after what it
 * read, or NULL to give up. None of them writes to the element. */

/* A string of the fast path, in place in the element: s[len] is its closing quote. */
struct fast_str {
    char *s;
    size_t len;
};

/* What decode_fast found in an element. */
struct fast_item {
    struct fast_str kpi, at;
    bool has_kpi, has_at, has_value, has_dims;
    double value;
    struct fast_str keys[KPI_DIMS_MAX], values[KPI_DIMS_MAX];
    size_t n_dims;
};

static char *fast_ws(char *c, const char *end)
{
    while (c < end && (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r'))
        c++;
    return c;
}

/* A string of printable ASCII without '\\': escapes, control bytes and UTF-8 are left to jansson,
 * which validates them and reports them in its words. */
static char *fast_string(char *c, const char *end, struct fast_str *ret_str)
{
    if (c == end || *c != '"')
        return NULL;
    c++;
    char *s = c;
    while (c < end && (unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f && *c != '"' && *c != '\\')
        c++;
    if (c == end || *c != '"')
        return NULL;
    *ret_str = (struct fast_str){s, (size_t)(c - s)};
    return c + 1;
}

static bool fast_digit(const char *c, const char *end)
{
    return c < end && *c >= '0' && *c <= '9';
}

/* A number in JSON's grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, as jansson reads it
 * with JSON_DECODE_INT_AS_REAL: strtod's correctly rounded double, -0 for a negative zero, an error
 * on overflow (left to jansson, whose message it is). kpi_parse_double gives that double but for
 * the sign of zero; it also bounds the text it takes (longer numbers go to jansson). */
static char *fast_number(char *c, const char *end, double *ret_value)
{
    char *s = c;
    if (c < end && *c == '-')
        c++;
    if (!fast_digit(c, end))
        return NULL;
    if (*c == '0') {
        c++;
    } else {
        while (fast_digit(c, end))
            c++;
    }
    if (c < end && *c == '.') {
        c++;
        if (!fast_digit(c, end))
            return NULL;
        while (fast_digit(c, end))
            c++;
    }
    if (c < end && (*c == 'e' || *c == 'E')) {
        c++;
        if (c < end && (*c == '+' || *c == '-'))
            c++;
        if (!fast_digit(c, end))
            return NULL;
        while (fast_digit(c, end))
            c++;
    }
    double v;
    if (kpi_parse_double(s, (size_t)(c - s), &v) < 0)
        return NULL;
    *ret_value = v == 0 && *s == '-' ? -0.0 : v;
    return c;
}

/* Skips whitespace, the ':' after a member's name and whitespace again. */
static char *fast_colon(char *c, const char *end)
{
    c = fast_ws(c, end);
    if (c == end || *c != ':')
        return NULL;
    return fast_ws(c + 1, end);
}

/* After a member: whitespace, then ',' (*ret_more true) or the closing '}'. */
static char *fast_next(char *c, const char *end, bool *ret_more)
{
    c = fast_ws(c, end);
    if (c == end || (*c != ',' && *c != '}'))
        return NULL;
    *ret_more = *c == ',';
    return c + 1;
}

/* "dims": an object of at most KPI_DIMS_MAX string values under distinct valid names. */
static char *fast_dims(char *c, const char *end, struct fast_item *it)
{
    if (c == end || *c != '{')
        return NULL;
    c = fast_ws(c + 1, end);
    if (c < end && *c == '}')
        return c + 1;
    for (bool more = true; more;) {
        if (it->n_dims == KPI_DIMS_MAX)
            return NULL;
        struct fast_str *key = &it->keys[it->n_dims], *value = &it->values[it->n_dims];
        c = fast_string(fast_ws(c, end), end, key);
        if (!c || !kpi_dim_key_valid(key->s, key->len))
            return NULL;
        for (size_t i = 0; i < it->n_dims; i++)
            if (it->keys[i].len == key->len && memcmp(it->keys[i].s, key->s, key->len) == 0)
                return NULL; /* jansson reports the duplicate */
        c = fast_colon(c, end);
        if (!c)
            return NULL;
        c = fast_string(c, end, value);
        if (!c)
            return NULL;
        it->n_dims++;
        c = fast_next(c, end, &more);
        if (!c)
            return NULL;
    }
    return c;
}

static bool fast_name_is(const struct fast_str *name, const char *want)
{
    return name->len == strlen(want) && memcmp(name->s, want, name->len) == 0;
}

/* One member of the point object: its name, ':' and a value of the right type, seen only once. */
static char *fast_member(char *c, const char *end, struct fast_item *it)
{
    struct fast_str name;
    c = fast_string(c, end, &name);
    if (!c)
        return NULL;
    c = fast_colon(c, end);
    if (!c)
        return NULL;
    bool *seen;
    if (fast_name_is(&name, "kpi")) {
        seen = &it->has_kpi;
        c = *seen ? NULL : fast_string(c, end, &it->kpi);
    } else if (fast_name_is(&name, "at")) {
        seen = &it->has_at;
        c = *seen ? NULL : fast_string(c, end, &it->at);
    } else if (fast_name_is(&name, "value")) {
        seen = &it->has_value;
        c = *seen ? NULL : fast_number(c, end, &it->value);
    } else if (fast_name_is(&name, "dims")) {
        seen = &it->has_dims;
        c = *seen ? NULL : fast_dims(c, end, it);
    } else {
        return NULL;
    }
    *seen = true;
    return c;
}

/* Decodes the element at [mark, pos) when it has the ordinary shape (see the top of the file).
 * Returns 1 with the row filled, or 0 to leave the element, untouched, to jansson. */
static int decode_fast(struct kpi_json_points *p, struct kpi_ingest_row *ret_row)
{
    char *c = p->buf + p->mark;
    const char *end = p->buf + p->pos;
    struct fast_item it; /* not zeroed whole: the dims arrays are filled as they are read */
    it.kpi = it.at = (struct fast_str){NULL, 0};
    it.has_kpi = it.has_at = it.has_value = it.has_dims = false;
    it.value = 0;
    it.n_dims = 0;
    if (c == end || *c != '{')
        return 0;
    c++;
    for (bool more = true; more;) {
        c = fast_member(fast_ws(c, end), end, &it);
        if (!c)
            return 0;
        c = fast_next(c, end, &more);
        if (!c)
            return 0;
    }
    if (c != end || !it.has_at || !it.has_value)
        return 0;
    if (!it.has_kpi && !p->fixed)
        return 0;
    if (it.has_kpi && p->fixed && !(it.kpi.len == strlen(p->fixed_kpi) && memcmp(it.kpi.s, p->fixed_kpi, it.kpi.len) == 0))
        return 0; /* another KPI than the route's: jansson's path reports it */

    /* Accepted: only now are the closing quotes overwritten. */
    struct kpi_dim d[KPI_DIMS_MAX];
    it.at.s[it.at.len] = '\0';
    if (it.has_kpi)
        it.kpi.s[it.kpi.len] = '\0';
    for (size_t i = 0; i < it.n_dims; i++) {
        it.keys[i].s[it.keys[i].len] = '\0';
        it.values[i].s[it.values[i].len] = '\0';
        d[i] = (struct kpi_dim){it.keys[i].s, it.keys[i].len, it.values[i].s, it.values[i].len};
    }
    put_row(p, it.has_kpi ? it.kpi.s : NULL, it.kpi.len, it.at.s, it.at.len, it.value, d, it.n_dims, ret_row);
    return 1;
}

/* Decodes the element held at [mark, pos), which started at (line, col). */
static int decode(struct kpi_json_points *p, struct kpi_ingest_report *rep, uint64_t line, uint64_t col,
                  struct kpi_ingest_row *ret_row)
{
    if (p->fast && decode_fast(p, ret_row)) {
        p->marking = false;
        p->fast_items++;
        return 1;
    }
    json_error_t err;
    json_t *v =
        json_loadb(p->buf + p->mark, p->pos - p->mark, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &err);
    p->marking = false;
    if (!v) {
        for (char *t = err.text; *t; t++)
            if ((unsigned char)*t < 0x20 || *t == 0x7f)
                *t = '?'; /* jansson quotes the offending input */
        if (err.line < 1) {
            kpi_ingest_report_error(rep, p->index, "%s", err.text);
        } else {
            uint64_t l = line + (uint64_t)err.line - 1;
            uint64_t c = err.line == 1 ? col + (uint64_t)(err.column > 0 ? err.column - 1 : 0) : (uint64_t)err.column;
            kpi_ingest_report_error(rep, p->index, "line %llu, column %llu: %s", (unsigned long long)l, (unsigned long long)c,
                                    err.text);
        }
        rep->rows++;
        return 0;
    }
    if (check_shape(p, v, rep, ret_row) == 0) {
        json_decref(v);
        rep->rows++;
        return 0;
    }
    p->item = v;
    return 1;
}

/* After the closing ']': only whitespace may follow. */
static int finish(struct kpi_json_points *p, struct kpi_ingest_report *rep)
{
    p->state = ST_DONE;
    int r = skip_ws(p);
    if (r < 0)
        return r;
    if (r > 0) {
        char what[16], msg[64];
        snprintf(msg, sizeof(msg), "unexpected %s after the array", describe(p->buf[p->pos], what, sizeof(what)));
        fail(p, rep, 0, msg);
    }
    return 0;
}

/* Before the array: an optional UTF-8 byte-order mark, whitespace, then '['. */
static int start(struct kpi_json_points *p, struct kpi_ingest_report *rep)
{
    static const unsigned char bom[] = {0xef, 0xbb, 0xbf};
    for (size_t i = 0; i < 3; i++) {
        int r = fill(p);
        if (r < 0)
            return r;
        if (r == 0 || (unsigned char)p->buf[p->pos] != bom[i]) {
            if (i == 0)
                break;
            fail(p, rep, 0, "incomplete UTF-8 byte-order mark");
            return 0;
        }
        p->pos++;
    }
    p->line_0 = p->base + p->pos;
    int r = skip_ws(p);
    if (r < 0)
        return r;
    if (r == 0) {
        fail(p, rep, 0, "expected a JSON array of points, found the end of input");
        return 0;
    }
    if (p->buf[p->pos] != '[') {
        char what[16], msg[80];
        snprintf(msg, sizeof(msg), "expected '[' (a JSON array of points), found %s", describe(p->buf[p->pos], what, sizeof(what)));
        fail(p, rep, 0, msg);
        return 0;
    }
    consume(p);
    p->state = ST_FIRST;
    return 0;
}

int kpi_json_points_next(void *reader, struct kpi_ingest_row *ret_row, struct kpi_ingest_report *rep)
{
    struct kpi_json_points *p = reader;
    json_decref(p->item);
    p->item = NULL;
    int r;
    if (p->state == ST_START) {
        r = start(p, rep);
        if (r < 0)
            return r;
    }
    while (p->state != ST_DONE) {
        r = skip_ws(p);
        if (r < 0)
            return r;
        if (r == 0) {
            fail(p, rep, p->state == ST_AFTER ? 0 : p->index + 1, "unexpected end of input: the array is not closed with ']'");
            break;
        }
        char c = p->buf[p->pos], what[16], msg[80];
        if (p->state == ST_AFTER) {
            if (c == ',') {
                consume(p);
                p->state = ST_ITEM;
                continue;
            }
            if (c == ']') {
                consume(p);
                return finish(p, rep);
            }
            snprintf(msg, sizeof(msg), "expected ',' or ']' after item %llu, found %s", (unsigned long long)p->index,
                     describe(c, what, sizeof(what)));
            fail(p, rep, p->index, msg);
            break;
        }
        if (c == ']' || c == ',') {
            if (c == ']' && p->state == ST_FIRST) {
                consume(p);
                return finish(p, rep); /* [] */
            }
            /* [,1] or [1,,2] or [1,]: an empty slot, reported as the item it stands for. */
            p->index++;
            rep->rows++;
            kpi_ingest_report_error(rep, p->index, "line %llu, column %llu: expected an item, found %s",
                                    (unsigned long long)p->line, (unsigned long long)column(p), describe(c, what, sizeof(what)));
            consume(p);
            if (c == ']')
                return finish(p, rep);
            p->state = ST_ITEM;
            continue;
        }
        if (c == '}') {
            snprintf(msg, sizeof(msg), "expected an item, found %s", describe(c, what, sizeof(what)));
            fail(p, rep, p->index + 1, msg);
            break;
        }
        p->index++;
        uint64_t line = p->line, col = column(p);
        bool too_big = false;
        r = scan_element(p, rep, &too_big);
        if (r < 0)
            return r;
        if (r == SCAN_EOF)
            fail(p, rep, p->index, "unexpected end of input inside the item");
        if (r != SCAN_OK) {
            rep->rows++;
            break;
        }
        p->state = ST_AFTER;
        if (too_big) {
            kpi_ingest_report_error(rep, p->index, "line %llu: longer than %d bytes", (unsigned long long)line,
                                    KPI_JSON_POINT_ITEM_MAX);
            rep->rows++;
            continue;
        }
        r = decode(p, rep, line, col, ret_row);
        if (r != 0)
            return r;
    }
    p->marking = false;
    return 0;
}

int kpi_json_points_import(struct kpi_store *s, const struct kpi_calendar *cal, kpi_csv_read_fn read, void *read_ctx,
                           kpi_ingest_progress_fn progress, void *progress_ctx, struct kpi_ingest_report *ret_report,
                           struct kpi_diag *diag)
{
    struct kpi_json_points *p;
    int r = kpi_json_points_new(read, read_ctx, &p);
    if (r < 0) {
        memset(ret_report, 0, sizeof(*ret_report));
        return kpi_diag_set(diag, r, "cannot read JSON: %s", kpi_strerror(r));
    }
    r = kpi_ingest_rows(s, cal, kpi_json_points_next, p, progress, progress_ctx, ret_report, diag);
    kpi_json_points_free(p);
    return r;
}
