/*
 * Time zones from compiled zoneinfo bytes: the TZif parser (RFC 8536, versions 1-4), the POSIX TZ
 * rule in its footer, and the two questions the rest of kpi asks of a zone: which UTC offset is in
 * force at an instant, and which instant a local wall-clock time names.
 *
 * This file does no I/O (tzfile.c reads the file), so the parser can be fuzzed directly. Every count
 * and index in the input is checked against the bytes actually present before it is used. A zone is
 * reduced at parse time to a sorted array of transition instants with the offset each one starts,
 * plus the footer rule, which governs every instant after the last transition. The footer is
 * evaluated with pure calendar arithmetic; because the Gregorian calendar repeats exactly every 400
 * years, an instant is first folded into one 400-year cycle, which keeps the arithmetic small and
 * exact for any int64_t input.
 */
#include "kpi/tz.h"
#include "kpi/time.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8536 section 3.2 recommends offsets in [-25:59:59, +25:59:59]; POSIX TZ allows 24:59:59. */
#define MAX_OFFSET_S 93599
#define S_PER_DAY INT64_C(86400)
/* 400 Gregorian years: the period of every POSIX TZ rule. */
#define S_PER_400Y (INT64_C(146097) * S_PER_DAY)
#define TZIF_HEADER_LEN 44
#define FOOTER_MAX 512

/* When a footer rule switches: Jn (1..365, Feb 29 never counted), n (0..365, Feb 29 counted) or
 * Mm.w.d (day d of week w of month m, w = 5 meaning the last), at time_s local seconds. */
struct rule_date {
    char kind; /* 'J', 'N' or 'M' */
    int a, b, c;
    int32_t time_s;
};

struct posix_rule {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    bool has_dst;
    struct rule_date start, end;
};

struct kpi_tz {
    char *name;
    size_t n_trans;
    int64_t *trans;     /* strictly ascending UTC seconds */
    int32_t *trans_off; /* offset in force from trans[i] */
    int32_t initial_off;
    bool has_footer;
    struct posix_rule footer;
};

/* ---- POSIX TZ strings ------------------------------------------------------------------------ */

struct cursor {
    const char *s;
    size_t len;
    size_t i;
};

static bool cur_peek(const struct cursor *c, char ch)
{
    return c->i < c->len && c->s[c->i] == ch;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Reads 1..max_digits digits into *ret (no sign). */
static int read_number(struct cursor *c, int max_digits, int *ret)
{
    int v = 0, n = 0;
    while (c->i < c->len && is_digit(c->s[c->i]) && n < max_digits) {
        v = v * 10 + (c->s[c->i] - '0');
        c->i++;
        n++;
    }
    if (n == 0 || (c->i < c->len && is_digit(c->s[c->i])))
        return -EINVAL;
    *ret = v;
    return 0;
}

/* A zone abbreviation: three or more letters, or "<...>" holding letters, digits, '+' and '-'. */
static int parse_abbr(struct cursor *c)
{
    size_t n = 0;
    if (cur_peek(c, '<')) {
        c->i++;
        while (c->i < c->len && (is_alpha(c->s[c->i]) || is_digit(c->s[c->i]) || c->s[c->i] == '+' || c->s[c->i] == '-')) {
            c->i++;
            n++;
        }
        if (!cur_peek(c, '>'))
            return -EINVAL;
        c->i++;
    } else {
        while (c->i < c->len && is_alpha(c->s[c->i])) {
            c->i++;
            n++;
        }
    }
    return n >= 3 ? 0 : -EINVAL;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours, as seconds. */
static int parse_hms(struct cursor *c, int max_hours, int32_t *ret)
{
    int sign = 1, h, m = 0, s = 0;
    if (cur_peek(c, '+') || cur_peek(c, '-')) {
        sign = c->s[c->i] == '-' ? -1 : 1;
        c->i++;
    }
    if (read_number(c, 3, &h) < 0 || h > max_hours)
        return -EINVAL;
    if (cur_peek(c, ':')) {
        c->i++;
        if (read_number(c, 2, &m) < 0 || m > 59)
            return -EINVAL;
        if (cur_peek(c, ':')) {
            c->i++;
            if (read_number(c, 2, &s) < 0 || s > 59)
                return -EINVAL;
        }
    }
    *ret = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int parse_rule_date(struct cursor *c, struct rule_date *ret)
{
    struct rule_date rd = {.time_s = 2 * 3600}; /* POSIX default: 02:00 */
    if (cur_peek(c, 'J')) {
        c->i++;
        rd.kind = 'J';
        if (read_number(c, 3, &rd.a) < 0 || rd.a < 1 || rd.a > 365)
            return -EINVAL;
    } else if (cur_peek(c, 'M')) {
        c->i++;
        rd.kind = 'M';
        if (read_number(c, 2, &rd.a) < 0 || rd.a < 1 || rd.a > 12)
            return -EINVAL;
        if (!cur_peek(c, '.'))
            return -EINVAL;
        c->i++;
        if (read_number(c, 1, &rd.b) < 0 || rd.b < 1 || rd.b > 5)
            return -EINVAL;
        if (!cur_peek(c, '.'))
            return -EINVAL;
        c->i++;
        if (read_number(c, 1, &rd.c) < 0 || rd.c > 6)
            return -EINVAL;
    } else {
        rd.kind = 'N';
        if (read_number(c, 3, &rd.a) < 0 || rd.a > 365)
            return -EINVAL;
    }
    if (cur_peek(c, '/')) {
        c->i++;
        /* RFC 8536 section 3.3.1 extends the time to -167..167 hours. */
        if (parse_hms(c, 167, &rd.time_s) < 0)
            return -EINVAL;
    }
    *ret = rd;
    return 0;
}

/* Parses a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3" or "<+0330>-3:30". A DST name
 * without a rule (which POSIX leaves to the implementation) is rejected: zic always writes one. */
static int parse_posix_tz(const char *s, size_t len, struct posix_rule *ret)
{
    struct cursor c = {.s = s, .len = len};
    struct posix_rule r = {0};
    int32_t off;
    if (parse_abbr(&c) < 0 || parse_hms(&c, 24, &off) < 0)
        return -EINVAL;
    r.std_off = -off; /* POSIX counts hours west of Greenwich */
    r.dst_off = r.std_off;
    if (c.i < c.len) {
        if (parse_abbr(&c) < 0)
            return -EINVAL;
        r.has_dst = true;
        r.dst_off = r.std_off + 3600;
        if (c.i < c.len && !cur_peek(&c, ',')) {
            if (parse_hms(&c, 24, &off) < 0)
                return -EINVAL;
            r.dst_off = -off;
        }
        if (!cur_peek(&c, ','))
            return -EINVAL;
        c.i++;
        if (parse_rule_date(&c, &r.start) < 0 || !cur_peek(&c, ','))
            return -EINVAL;
        c.i++;
        if (parse_rule_date(&c, &r.end) < 0)
            return -EINVAL;
    }
    if (c.i != c.len)
        return -EINVAL;
    *ret = r;
    return 0;
}

/* The local day number on which rule date rd falls in year y. */
static int64_t rule_day(const struct rule_date *rd, int y)
{
    int64_t jan1 = kpi_days_from_civil(y, 1, 1);
    if (rd->kind == 'J')
        return jan1 + rd->a - 1 + (kpi_is_leap_year(y) && rd->a >= 60);
    if (rd->kind == 'N')
        return jan1 + rd->a;
    int64_t first = kpi_days_from_civil(y, rd->a, 1);
    int wd0 = kpi_weekday(first) % 7; /* 0 = Sunday, as in the rule */
    int64_t day = first + (rd->c - wd0 + 7) % 7 + 7 * (rd->b - 1);
    int64_t next_month = first + kpi_days_in_month(y, rd->a);
    while (day >= next_month)
        day -= 7;
    return day;
}

struct rule_event {
    int64_t t;
    bool to_dst;
};

/* The switches of years y0..y0+3 in ascending order. Insertion sort is stable, so of two switches
 * at the same instant (a permanent-DST rule such as "EST5EDT,0/0,J365/25") the later year's wins. */
static void rule_events(const struct posix_rule *r, int y0, struct rule_event ev[8])
{
    for (int k = 0; k < 4; k++) {
        /* The start time is given in standard time, the end time in daylight time. */
        ev[2 * k] = (struct rule_event){rule_day(&r->start, y0 + k) * S_PER_DAY + r->start.time_s - r->std_off, true};
        ev[2 * k + 1] = (struct rule_event){rule_day(&r->end, y0 + k) * S_PER_DAY + r->end.time_s - r->dst_off, false};
    }
    for (int i = 1; i < 8; i++) {
        struct rule_event e = ev[i];
        int j = i;
        while (j > 0 && ev[j - 1].t > e.t) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = e;
    }
}

/* Folds t into [1970, 2370) (returned) and its civil year. */
static int64_t fold_400y(const struct posix_rule *r, int64_t t, int *ret_year)
{
    int64_t folded = kpi_floor_mod(t, S_PER_400Y);
    int y, m, d;
    kpi_civil_from_days(kpi_floor_div(folded + r->std_off, S_PER_DAY), &y, &m, &d);
    *ret_year = y;
    return folded;
}

static int32_t rule_offset_at(const struct posix_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int y;
    int64_t folded = fold_400y(r, t, &y);
    struct rule_event ev[8];
    /* Two years back: a switch of the previous year may be shifted into this one by a large time. */
    rule_events(r, y - 2, ev);
    bool dst = false;
    for (int i = 0; i < 8; i++)
        if (ev[i].t <= folded)
            dst = ev[i].to_dst;
    return dst ? r->dst_off : r->std_off;
}

/* The first switch strictly after t. */
static bool rule_next(const struct posix_rule *r, int64_t t, int64_t *ret_t)
{
    if (!r->has_dst)
        return false;
    int y;
    int64_t folded = fold_400y(r, t, &y);
    struct rule_event ev[8];
    rule_events(r, y - 1, ev);
    for (int i = 0; i < 8; i++) {
        if (ev[i].t > folded) {
            int64_t next;
            if (__builtin_add_overflow(t - folded, ev[i].t, &next))
                return false;
            *ret_t = next;
            return true;
        }
    }
    return false;
}

/* ---- Offsets and local time ------------------------------------------------------------------ */

/* Index of the last transition at or before t, or -1. */
static ptrdiff_t find_transition(const struct kpi_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n_trans; /* answer in [lo, hi) after the loop: first index with trans > t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

int32_t kpi_tz_offset_at(const struct kpi_tz *tz, int64_t utc_s)
{
    if (!tz)
        return 0;
    if (tz->n_trans == 0)
        return tz->has_footer ? rule_offset_at(&tz->footer, utc_s) : tz->initial_off;
    if (tz->has_footer && utc_s >= tz->trans[tz->n_trans - 1])
        return rule_offset_at(&tz->footer, utc_s);
    ptrdiff_t i = find_transition(tz, utc_s);
    return i < 0 ? tz->initial_off : tz->trans_off[i];
}

/* The first instant after t at which the offset may change. */
static bool next_transition(const struct kpi_tz *tz, int64_t t, int64_t *ret_t)
{
    if (tz->n_trans > 0 && t < tz->trans[tz->n_trans - 1]) {
        *ret_t = tz->trans[find_transition(tz, t) + 1];
        return true;
    }
    if (tz->has_footer)
        return rule_next(&tz->footer, t, ret_t);
    return false;
}

int64_t kpi_tz_local_to_utc(const struct kpi_tz *tz, int64_t local_s)
{
    /* Beyond a few hundred million years nobody cares about daylight saving; avoid overflow. */
    const int64_t limit = INT64_C(1) << 52;
    if (!tz)
        return local_s;
    if (local_s > limit || local_s < -limit) {
        int64_t u;
        if (__builtin_sub_overflow(local_s, (int64_t)kpi_tz_offset_at(tz, local_s), &u))
            return local_s; /* saturate at the ends of int64_t */
        return u;
    }

    /* Walk the intervals of constant offset that can contain a solution u (u + offset(u) ==
     * local_s): since |offset| <= MAX_OFFSET_S, u lies within that distance of local_s. Intervals
     * ascend, so the first one holding its candidate is the earliest solution (the overlap rule).
     * If there is none, local_s falls in a gap, which ends where local time first jumps past it. */
    int64_t start = local_s - MAX_OFFSET_S - 1;
    int64_t hi = local_s + MAX_OFFSET_S + 1;
    int32_t off = kpi_tz_offset_at(tz, start);
    bool have_gap = false;
    int64_t gap_end = 0;
    /* Real zones have at most a handful of transitions within two days; the bound only keeps a
     * hostile file from making this loop long. */
    for (int iter = 0; iter < 64; iter++) {
        int64_t next;
        bool has_next = next_transition(tz, start, &next);
        int64_t u = local_s - off;
        if (u >= start && (!has_next || u < next))
            return u;
        if (!have_gap && start + off > local_s) {
            have_gap = true;
            gap_end = start;
        }
        if (!has_next || next > hi)
            break;
        start = next;
        off = kpi_tz_offset_at(tz, start);
    }
    if (have_gap)
        return gap_end;
    return local_s - kpi_tz_offset_at(tz, local_s);
}

/* ---- TZif ------------------------------------------------------------------------------------ */

struct tzif_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(const uint8_t *data, size_t len, size_t pos, struct tzif_header *ret)
{
    if (len - pos < TZIF_HEADER_LEN || memcmp(data + pos, "TZif", 4) != 0)
        return -EINVAL;
    const uint8_t *p = data + pos;
    /* NUL is version 1; '2'..'4' are defined and later digits are assumed compatible. */
    if (p[4] != 0 && (p[4] < '2' || p[4] > '9'))
        return -EINVAL;
    *ret = (struct tzif_header){
        .version = p[4] == 0 ? '1' : (char)p[4],
        .isutcnt = be32(p + 20),
        .isstdcnt = be32(p + 24),
        .leapcnt = be32(p + 28),
        .timecnt = be32(p + 32),
        .typecnt = be32(p + 36),
        .charcnt = be32(p + 40),
    };
    return 0;
}

/* Size of the data block that follows a header; uint64_t cannot overflow with 32-bit counts. */
static uint64_t block_size(const struct tzif_header *h, unsigned timesize)
{
    return (uint64_t)h->timecnt * timesize + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

struct kpi_tz *kpi_tz_free(struct kpi_tz *tz)
{
    if (!tz)
        return NULL;
    free(tz->name);
    free(tz->trans);
    free(tz->trans_off);
    free(tz);
    return NULL;
}

/* Checks the data block at p (already known to lie within the input) and fills tz. */
static int load_block(const struct tzif_header *h, const uint8_t *p, unsigned timesize, struct kpi_tz *tz)
{
    if (h->typecnt == 0 || h->charcnt == 0)
        return -EINVAL;
    if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) || (h->isutcnt != 0 && h->isutcnt != h->typecnt))
        return -EINVAL;
    /* Leap-second ("right/") zones count time in a different scale than the rest of kpi. */
    if (h->leapcnt != 0)
        return -EINVAL;

    const uint8_t *times = p;
    const uint8_t *idx = times + (size_t)h->timecnt * timesize;
    const uint8_t *types = idx + h->timecnt;

    for (uint32_t i = 0; i < h->typecnt; i++) {
        const uint8_t *t = types + (size_t)i * 6;
        int32_t utoff = (int32_t)be32(t);
        if (utoff < -MAX_OFFSET_S || utoff > MAX_OFFSET_S || t[4] > 1 || t[5] >= h->charcnt)
            return -EINVAL;
    }
    /* Local time before the first transition is time type 0 (RFC 8536 section 3.2). */
    tz->initial_off = (int32_t)be32(types);

    if (h->timecnt > 0) {
        tz->trans = malloc((size_t)h->timecnt * sizeof(*tz->trans));
        tz->trans_off = malloc((size_t)h->timecnt * sizeof(*tz->trans_off));
        if (!tz->trans || !tz->trans_off)
            return -ENOMEM;
    }
    for (uint32_t i = 0; i < h->timecnt; i++) {
        int64_t t = timesize == 8 ? be64(times + (size_t)i * 8) : (int64_t)(int32_t)be32(times + (size_t)i * 4);
        if (i > 0 && t <= tz->trans[i - 1])
            return -EINVAL;
        if (idx[i] >= h->typecnt)
            return -EINVAL;
        tz->trans[i] = t;
        tz->trans_off[i] = (int32_t)be32(types + (size_t)idx[i] * 6);
    }
    tz->n_trans = h->timecnt;
    return 0;
}

int kpi_tz_parse(const char *name, const uint8_t *data, size_t len, struct kpi_tz **ret_tz)
{
    struct tzif_header h;
    int r;
    if (!name || !data || !ret_tz)
        return -EINVAL;
    r = read_header(data, len, 0, &h);
    if (r < 0)
        return r;

    size_t pos = TZIF_HEADER_LEN;
    uint64_t size = block_size(&h, 4);
    if (size > len - pos)
        return -EINVAL;
    unsigned timesize = 4;
    if (h.version >= '2') {
        /* Skip the 32-bit block (possibly empty in "slim" files) for the 64-bit one. */
        pos += (size_t)size;
        r = read_header(data, len, pos, &h);
        if (r < 0 || h.version < '2')
            return -EINVAL;
        pos += TZIF_HEADER_LEN;
        timesize = 8;
        size = block_size(&h, 8);
        if (size > len - pos)
            return -EINVAL;
    }

    struct kpi_tz *tz = calloc(1, sizeof(*tz));
    if (!tz)
        return -ENOMEM;
    r = load_block(&h, data + pos, timesize, tz);
    if (r < 0)
        goto fail;
    pos += (size_t)size;

    if (timesize == 8) {
        /* Footer: '\n' TZ-string '\n', and nothing after it. */
        r = -EINVAL;
        if (pos >= len || data[pos] != '\n')
            goto fail;
        pos++;
        const uint8_t *nl = memchr(data + pos, '\n', len - pos);
        if (!nl)
            goto fail;
        size_t flen = (size_t)(nl - (data + pos));
        if (flen > FOOTER_MAX || pos + flen + 1 != len)
            goto fail;
        if (flen > 0) {
            if (parse_posix_tz((const char *)data + pos, flen, &tz->footer) < 0)
                goto fail;
            tz->has_footer = true;
        }
    } else if (pos != len) {
        r = -EINVAL;
        goto fail;
    }

    tz->name = strdup(name);
    if (!tz->name) {
        r = -ENOMEM;
        goto fail;
    }
    *ret_tz = tz;
    return 0;
fail:
    kpi_tz_free(tz);
    return r;
}

int kpi_tz_fixed(const char *name, int32_t offset_s, struct kpi_tz **ret_tz)
{
    if (!name || !ret_tz || offset_s < -MAX_OFFSET_S || offset_s > MAX_OFFSET_S)
        return -EINVAL;
    struct kpi_tz *tz = calloc(1, sizeof(*tz));
    if (!tz)
        return -ENOMEM;
    tz->name = strdup(name);
    if (!tz->name) {
        kpi_tz_free(tz);
        return -ENOMEM;
    }
    tz->initial_off = offset_s;
    *ret_tz = tz;
    return 0;
}

const char *kpi_tz_name(const struct kpi_tz *tz)
{
    return tz ? tz->name : "UTC";
}
