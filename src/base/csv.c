/*
 * Streaming RFC 4180 CSV reader (see kpi/csv.h), the hot path of `kpi import`.
 *
 * Input arrives through the caller's read function into one buffer: 16 KiB at first, doubled up to
 * 256 KiB while the input keeps filling it, and grown beyond that only for a single record longer
 * than that, which the field limits bound. A record is parsed in place by a
 * small state machine that can stop at the end of the buffered bytes and resume after a refill, so
 * a record may span any number of refills whatever the chunking of the input. Unquoted fields, and
 * quoted ones without "" escapes, point straight into the buffer; quoted fields with escapes are
 * unescaped into a per-record scratch buffer. While a record is being parsed its fields are kept as
 * offsets from the record start, because a refill may move the record to the front of the buffer or
 * reallocate it; they become pointers once the record is complete.
 */
#include "kpi/csv.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define CSV_BUF_FIRST (16 * 1024)
#define CSV_BUF_SIZE (256 * 1024)
#define CSV_SLACK 64

enum csv_state {
    ST_FIELD,    /* at the start of a field */
    ST_UNQUOTED, /* inside an unquoted field */
    ST_QUOTED,   /* inside a quoted field */
    ST_QUOTE,    /* after a quote inside a quoted field: the closing one, or the first of "" */
    ST_TERM,     /* after a complete field: a comma or a line end must follow */
    ST_CR,       /* after the CR that ended a field: a LF must follow */
};

struct csv_span {
    size_t off; /* from the record start, or into the scratch buffer */
    size_t len;
    bool scratch;
};

struct kpi_csv {
    kpi_csv_read_fn read;
    void *ctx;
    size_t max_field;
    size_t max_fields;

    char *buf;
    size_t cap;
    size_t cap_max;
    size_t pos;    /* start of the record being parsed; between calls, the next unread byte */
    size_t end;    /* bytes held in buf */
    uint64_t base; /* input offset of buf[0] */
    bool eof;
    bool started;           /* the byte-order mark check is done */
    bool skip;              /* skip to the next line first (after an error) */
    bool done;              /* input ended early (repeated unterminated quote) */
    bool last_unterminated; /* the previous call failed on an unterminated quote */

    uint64_t line;     /* line of buf[pos] */
    uint64_t rec_line; /* line on which the record last returned starts */

    /* Parse state of the current record; offsets are from buf + pos. */
    enum csv_state state;
    size_t scan;       /* where scanning resumes */
    size_t fstart;     /* unquoted: field start; quoted: start of the part not yet unescaped */
    size_t n;          /* fields complete */
    uint64_t nl;       /* line breaks inside the record so far */
    uint64_t field_nl; /* nl when the current field started */
    bool escaped;      /* the current quoted field is being unescaped into scratch */
    size_t scr_off;    /* where it starts in scratch */
    size_t qnl;        /* just after the first line break in the current quoted field, 0 if none */

    struct csv_span *spans;
    struct kpi_csv_field *fields;
    struct kpi_buf scratch;
};

/* Bytes that end an unquoted run. */
static const unsigned char csv_special[256] = {[','] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1};

int kpi_csv_new(kpi_csv_read_fn read, void *ctx, size_t max_field, size_t max_fields, struct kpi_csv **ret_csv)
{
    if (!read || !ret_csv)
        return -EINVAL;
    if (max_field == 0)
        max_field = KPI_CSV_FIELD_MAX_DEFAULT;
    if (max_fields == 0)
        max_fields = KPI_CSV_FIELDS_MAX_DEFAULT;

    /* Raw bytes of the longest record within the limits: each field at most doubled by "" escapes,
     * plus its quotes and separator. */
    size_t per_field, bound, scratch_max;
    if (__builtin_mul_overflow(max_field, 2, &per_field) || __builtin_add_overflow(per_field, 4, &per_field) ||
        __builtin_mul_overflow(per_field, max_fields, &bound) || __builtin_add_overflow(bound, CSV_SLACK, &bound) ||
        __builtin_mul_overflow(max_field, max_fields, &scratch_max))
        return -EINVAL;

    struct kpi_csv *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->read = read;
    c->ctx = ctx;
    c->max_field = max_field;
    c->max_fields = max_fields;
    c->cap = CSV_BUF_FIRST;
    c->cap_max = bound > CSV_BUF_SIZE ? bound : CSV_BUF_SIZE;
    c->line = 1;
    kpi_buf_init(&c->scratch, scratch_max);
    c->buf = malloc(c->cap);
    c->spans = calloc(max_fields, sizeof(*c->spans));
    c->fields = calloc(max_fields, sizeof(*c->fields));
    if (!c->buf || !c->spans || !c->fields) {
        kpi_csv_free(c);
        return -ENOMEM;
    }
    *ret_csv = c;
    return 0;
}

struct kpi_csv *kpi_csv_free(struct kpi_csv *c)
{
    if (!c)
        return NULL;
    free(c->buf);
    free(c->spans);
    free(c->fields);
    kpi_buf_free(&c->scratch);
    free(c);
    return NULL;
}

uint64_t kpi_csv_line(const struct kpi_csv *c)
{
    return c->rec_line;
}

uint64_t kpi_csv_offset(const struct kpi_csv *c)
{
    return c->base + c->pos;
}

static int csv_grow(struct kpi_csv *c)
{
    if (c->cap >= c->cap_max)
        return -E2BIG; /* not reached: the field limits stop a record first */
    size_t cap = c->cap > c->cap_max / 2 ? c->cap_max : c->cap * 2;
    char *b = realloc(c->buf, cap);
    if (!b)
        return -ENOMEM;
    c->buf = b;
    c->cap = cap;
    return 0;
}

/* Reads more input after the buffered bytes. The buffer doubles up to CSV_BUF_SIZE while the input
 * keeps filling it (small inputs stay small); the current record moves to the front when the free
 * tail is short; past CSV_BUF_SIZE the buffer grows only when one record fills it. */
static int csv_fill(struct kpi_csv *c)
{
    int r;
    if (c->end == c->cap && c->cap < CSV_BUF_SIZE) {
        r = csv_grow(c);
        if (r < 0)
            return r;
    }
    if (c->pos > 0 && (c->pos == c->end || c->cap - c->end < c->cap / 2)) {
        memmove(c->buf, c->buf + c->pos, c->end - c->pos);
        c->base += c->pos;
        c->end -= c->pos;
        c->pos = 0;
    }
    if (c->end == c->cap) {
        r = csv_grow(c);
        if (r < 0)
            return r;
    }
    size_t room = c->cap - c->end;
    ssize_t got = c->read(c->ctx, c->buf + c->end, room);
    if (got < 0)
        return got < INT_MIN ? -EIO : (int)got;
    if ((size_t)got > room)
        return -EIO;
    if (got == 0)
        c->eof = true;
    c->end += (size_t)got;
    return 0;
}

static int csv_fill_failed(struct kpi_csv *c, int r, struct kpi_diag *diag)
{
    if (r == -E2BIG) {
        c->skip = true;
        return kpi_diag_set(diag, r, "line %" PRIu64 ": record longer than %zu bytes", c->line, c->cap_max);
    }
    return kpi_diag_set(diag, r, "line %" PRIu64 ": cannot read input: %s", c->line, kpi_strerror(r));
}

static int csv_skip_bom(struct kpi_csv *c)
{
    while (c->end - c->pos < 3 && !c->eof) {
        int r = csv_fill(c);
        if (r < 0)
            return r;
    }
    if (c->end - c->pos >= 3 && memcmp(c->buf + c->pos, "\xEF\xBB\xBF", 3) == 0)
        c->pos += 3;
    c->started = true;
    return 0;
}

/* After an error: drops input up to and including the next line feed. */
static int csv_skip_line(struct kpi_csv *c)
{
    for (;;) {
        const char *nl = memchr(c->buf + c->pos, '\n', c->end - c->pos);
        if (nl) {
            c->pos = (size_t)(nl - c->buf) + 1;
            c->line++;
            break;
        }
        c->pos = c->end;
        if (c->eof)
            break;
        int r = csv_fill(c);
        if (r < 0)
            return r;
    }
    c->skip = false;
    return 0;
}

static void csv_reset_record(struct kpi_csv *c)
{
    c->state = ST_FIELD;
    c->scan = 0;
    c->fstart = 0;
    c->n = 0;
    c->nl = 0;
    c->field_nl = 0;
    c->escaped = false;
    c->qnl = 0;
    kpi_buf_reset(&c->scratch);
}

/* Ends the record at buf + pos + len (just past its line end, or at the end of input) and turns
 * the field offsets into pointers. */
static int csv_complete(struct kpi_csv *c, size_t len, uint64_t line_ends)
{
    const char *rec = c->buf + c->pos;
    for (size_t i = 0; i < c->n; i++) {
        const struct csv_span *s = &c->spans[i];
        c->fields[i].data = s->scratch ? c->scratch.data + s->off : rec + s->off;
        c->fields[i].len = s->len;
    }
    c->rec_line = c->line;
    c->line += c->nl + line_ends;
    c->pos += len;
    return 1;
}

/* Counts the line breaks in a quoted run, remembering where the first one ends. */
static void csv_count_lines(struct kpi_csv *c, const char *rec, const char *p, const char *stop)
{
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        if (!nl)
            return;
        c->nl++;
        if (!c->qnl)
            c->qnl = (size_t)(nl - rec) + 1;
        p = nl + 1;
    }
}

/* A syntax or limit error at rec + at: the next call resumes on the following line. */
static void csv_fail(struct kpi_csv *c, size_t at)
{
    c->line += c->nl;
    c->pos += at;
    c->skip = true;
}

static size_t csv_quoted_len(const struct kpi_csv *c, size_t upto)
{
    return (c->escaped ? c->scratch.len - c->scr_off : 0) + (upto - c->fstart);
}

static int csv_field_too_long(struct kpi_csv *c, size_t at, struct kpi_diag *diag)
{
    int r = kpi_diag_set(diag, -E2BIG, "line %" PRIu64 ", column %zu: field longer than %zu bytes", c->line + c->field_nl, c->n + 1,
                         c->max_field);
    csv_fail(c, at);
    return r;
}

static int csv_syntax(struct kpi_csv *c, size_t at, const char *reason, struct kpi_diag *diag)
{
    int r = kpi_diag_set(diag, -EINVAL, "line %" PRIu64 ", column %zu: %s", c->line + c->nl, c->n + 1, reason);
    csv_fail(c, at);
    return r;
}

/* Ends the quoted field whose closing quote is just before rec + at. */
static int csv_end_quoted(struct kpi_csv *c, const char *rec, size_t at, struct kpi_diag *diag)
{
    size_t close = at - 1;
    if (csv_quoted_len(c, close) > c->max_field)
        return csv_field_too_long(c, at, diag);
    struct csv_span *s = &c->spans[c->n];
    if (c->escaped) {
        int r = kpi_buf_add(&c->scratch, rec + c->fstart, close - c->fstart);
        if (r < 0)
            return kpi_diag_set(diag, r, "line %" PRIu64 ": %s", c->line + c->nl, kpi_strerror(r));
        s->off = c->scr_off;
        s->len = c->scratch.len - c->scr_off;
        s->scratch = true;
    } else {
        s->off = c->fstart;
        s->len = close - c->fstart;
        s->scratch = false;
    }
    c->n++;
    return 0;
}

/* Parses from where the last call stopped. Returns 1 with a complete record, 0 when it needs more
 * input (the state is saved), or a negative code. */
static int csv_parse(struct kpi_csv *c, struct kpi_diag *diag)
{
    const char *rec = c->buf + c->pos;
    const char *end = c->buf + c->end;
    const char *p = rec + c->scan;
    const size_t max_field = c->max_field;
    struct csv_span *spans = c->spans;
    enum csv_state state = c->state;
    size_t fstart = c->fstart;
    size_t n = c->n;
    int r;

    for (;;) {
        switch (state) {
        case ST_FIELD:
            if (p == end)
                goto more;
            c->field_nl = c->nl;
            if (*p == '"') {
                p++;
                fstart = (size_t)(p - rec);
                c->escaped = false;
                c->qnl = 0;
                state = ST_QUOTED;
                break;
            }
            fstart = (size_t)(p - rec);
            state = ST_UNQUOTED;
            /* fall through */
        case ST_UNQUOTED: {
            while (p < end && !csv_special[(unsigned char)*p])
                p++;
            size_t len = (size_t)(p - rec) - fstart;
            if (len > max_field) {
                c->n = n;
                return csv_field_too_long(c, fstart + max_field, diag);
            }
            if (p == end)
                goto more;
            if (*p == '"') {
                c->n = n;
                return csv_syntax(c, (size_t)(p - rec), "quote inside an unquoted field", diag);
            }
            spans[n].off = fstart;
            spans[n].len = len;
            spans[n].scratch = false;
            n++;
            state = ST_TERM;
            break;
        }
        case ST_QUOTED: {
            const char *q = memchr(p, '"', (size_t)(end - p));
            const char *stop = q ? q : end;
            c->fstart = fstart;
            if (csv_quoted_len(c, (size_t)(stop - rec)) > max_field) {
                /* Fail at the first byte past the limit, wherever the buffer happens to end, so
                 * that recovery resumes on the same line for any chunking of the input. */
                size_t bad = fstart + (max_field - csv_quoted_len(c, fstart));
                csv_count_lines(c, rec, p, rec + bad);
                c->n = n;
                return csv_field_too_long(c, bad, diag);
            }
            csv_count_lines(c, rec, p, stop);
            if (!q) {
                p = end;
                goto more;
            }
            p = q + 1;
            state = ST_QUOTE;
            break;
        }
        case ST_QUOTE:
            if (p == end)
                goto more;
            c->fstart = fstart;
            c->n = n;
            if (*p == '"') {
                /* "" keeps one quote: unescape up to and including the first. */
                size_t upto = (size_t)(p - rec);
                if (csv_quoted_len(c, upto) > max_field)
                    return csv_field_too_long(c, upto - 1, diag);
                if (!c->escaped) {
                    c->escaped = true;
                    c->scr_off = c->scratch.len;
                }
                r = kpi_buf_add(&c->scratch, rec + fstart, upto - fstart);
                if (r < 0)
                    return kpi_diag_set(diag, r, "line %" PRIu64 ": %s", c->line + c->nl, kpi_strerror(r));
                p++;
                fstart = (size_t)(p - rec);
                state = ST_QUOTED;
                break;
            }
            r = csv_end_quoted(c, rec, (size_t)(p - rec), diag);
            if (r < 0)
                return r;
            n = c->n;
            state = ST_TERM;
            break;
        case ST_TERM:
            if (*p == ',') {
                if (n == c->max_fields) {
                    r = kpi_diag_set(diag, -E2BIG, "line %" PRIu64 ", column %zu: more than %zu fields", c->line + c->nl, n + 1,
                                     c->max_fields);
                    csv_fail(c, (size_t)(p - rec));
                    return r;
                }
                p++;
                state = ST_FIELD;
                break;
            }
            c->n = n;
            if (*p == '\n')
                return csv_complete(c, (size_t)(p - rec) + 1, 1);
            if (*p == '\r') {
                p++;
                state = ST_CR;
                break;
            }
            /* Only a quoted field can be followed by anything else. */
            c->n = n - 1;
            return csv_syntax(c, (size_t)(p - rec), "text after a closing quote", diag);
        case ST_CR:
            if (p == end)
                goto more;
            if (*p != '\n') {
                c->n = n - 1;
                return csv_syntax(c, (size_t)(p - rec), "carriage return not followed by a line feed", diag);
            }
            c->n = n;
            return csv_complete(c, (size_t)(p - rec) + 1, 1);
        }
    }

more:
    c->scan = (size_t)(p - rec);
    c->state = state;
    c->fstart = fstart;
    c->n = n;
    return 0;
}

/* The input ended in the middle of a record (or between records). */
static int csv_finish(struct kpi_csv *c, bool prev_unterminated, struct kpi_diag *diag)
{
    const char *rec = c->buf + c->pos;
    size_t at = c->end - c->pos;
    struct csv_span *s = &c->spans[c->n];
    int r;

    switch (c->state) {
    case ST_FIELD:
        if (c->n == 0 && at == 0)
            return 0;
        s->off = at;
        s->len = 0;
        s->scratch = false;
        c->n++;
        break;
    case ST_UNQUOTED:
        s->off = c->fstart;
        s->len = at - c->fstart;
        s->scratch = false;
        c->n++;
        break;
    case ST_QUOTE:
        r = csv_end_quoted(c, rec, at, diag);
        if (r < 0)
            return r;
        break;
    case ST_CR:
        c->n--;
        return csv_syntax(c, at, "carriage return not followed by a line feed", diag);
    case ST_TERM: /* not reached: a field is followed by a byte before this state is entered */
        break;
    case ST_QUOTED: {
        uint64_t open = c->line + c->field_nl;
        r = kpi_diag_set(diag, -EINVAL, "line %" PRIu64 ", column %zu: quote opened here is never closed", open, c->n + 1);
        if (prev_unterminated || !c->qnl) {
            c->line += c->nl;
            c->pos = c->end;
            c->done = prev_unterminated;
        } else {
            /* Read the lines after the opening quote again as records. */
            c->pos += c->qnl;
            c->line = open + 1;
        }
        c->last_unterminated = true;
        return r;
    }
    }
    return csv_complete(c, at, 0);
}

int kpi_csv_next(struct kpi_csv *c, const struct kpi_csv_field **ret_fields, size_t *ret_n, struct kpi_diag *diag)
{
    bool prev_unterminated = c->last_unterminated;
    int r;

    c->last_unterminated = false;
    if (c->done)
        return 0;
    if (!c->started) {
        r = csv_skip_bom(c);
        if (r < 0)
            return csv_fill_failed(c, r, diag);
    }
    if (c->skip) {
        r = csv_skip_line(c);
        if (r < 0)
            return csv_fill_failed(c, r, diag);
    }
    csv_reset_record(c);
    for (;;) {
        r = csv_parse(c, diag);
        if (r < 0)
            return r;
        if (r > 0)
            break;
        if (c->eof) {
            r = csv_finish(c, prev_unterminated, diag);
            if (r <= 0)
                return r;
            break;
        }
        r = csv_fill(c);
        if (r < 0)
            return csv_fill_failed(c, r, diag);
    }
    *ret_fields = c->fields;
    *ret_n = c->n;
    return 1;
}

int kpi_csv_write_field(struct kpi_buf *out, const char *s, size_t len)
{
    if (len == 0)
        return 0;
    /* A leading byte-order mark would be taken for the file's own and skipped by a reader. */
    bool quote = len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote)
        return kpi_buf_add(out, s, len);

    int r = kpi_buf_addc(out, '"');
    const char *p = s;
    const char *end = s + len;
    while (r >= 0 && p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q) {
            r = kpi_buf_add(out, p, (size_t)(end - p));
            break;
        }
        /* Copy through the quote, then double it. */
        r = kpi_buf_add(out, p, (size_t)(q - p) + 1);
        if (r >= 0)
            r = kpi_buf_addc(out, '"');
        p = q + 1;
    }
    if (r >= 0)
        r = kpi_buf_addc(out, '"');
    return r;
}
