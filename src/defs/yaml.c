/*
 * KPI definitions in YAML, read and written with libyaml (the only file that includes <yaml.h>).
 *
 * Reading pulls libyaml events one at a time through a small state machine that follows the
 * schema exactly (a mapping with `kpis`, a list of KPI mappings, scalar fields, a list of tags, a
 * list of target mappings), so
 * nothing deeper than the schema is ever built, and refuses anchors and aliases (no
 * "billion laughs"). Every value is handed to kpi_def_set_field, so validation is the model's.
 * Diagnostics start with the libyaml mark of the offending field, 1-based: "12:5: granularity: ...".
 *
 * Writing goes through libyaml's emitter so that quoting is always correct; strings that another
 * YAML reader would take for a null, a boolean or a number are quoted, and strings with control
 * characters or line breaks are double-quoted with escapes.
 */
#include "defs/defs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "base/str.h"
#include "kpi/status.h"
#include "kpi/time.h"

/* ---- reading ---- */

struct parser {
    yaml_parser_t yp;
    yaml_event_t ev;
    bool have_ev;
    const char *text;
    size_t len;
    struct kpi_diag *diag;
    struct kpi_def *defs;
    bool *has_targets;      /* whether each def's entry has a `targets` key */
    yaml_mark_t *key_marks; /* where each def's key was given, for duplicate messages */
    size_t n, cap;
    uint32_t *slots; /* open-addressing set of keys: index + 1 into defs, 0 when free */
    size_t n_slots;
};

static int fail_at(struct parser *ps, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct parser *ps, yaml_mark_t m, const char *fmt, ...)
{
    char msg[KPI_DIAG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return kpi_diag_set(ps->diag, -EINVAL, "%zu:%zu: %s", m.line + 1, m.column + 1, msg);
}

/* Turns a libyaml error into a diagnostic with its position. */
static int yaml_failure(struct parser *ps)
{
    yaml_parser_t *yp = &ps->yp;
    const char *problem = yp->problem ? yp->problem : "syntax error";
    if (yp->error == YAML_MEMORY_ERROR)
        return kpi_diag_set(ps->diag, -ENOMEM, "out of memory");
    if (yp->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset: count lines and characters up to it. */
        size_t off = yp->problem_offset < ps->len ? yp->problem_offset : ps->len;
        yaml_mark_t m = {0, 0, 0};
        for (size_t i = 0; i < off; i++) {
            unsigned char c = (unsigned char)ps->text[i];
            if (c == '\n') {
                m.line++;
                m.column = 0;
            } else if ((c & 0xC0) != 0x80) {
                m.column++;
            }
        }
        return fail_at(ps, m, "invalid text: %s", problem);
    }
    if (yp->context)
        return fail_at(ps, yp->problem_mark, "invalid YAML: %s (%s at %zu:%zu)", problem, yp->context, yp->context_mark.line + 1,
                       yp->context_mark.column + 1);
    return fail_at(ps, yp->problem_mark, "invalid YAML: %s", problem);
}

/* Pulls the next event into ps->ev, refusing anchors, aliases and explicit YAML tags. */
static int next(struct parser *ps)
{
    if (ps->have_ev) {
        yaml_event_delete(&ps->ev);
        ps->have_ev = false;
    }
    if (!yaml_parser_parse(&ps->yp, &ps->ev))
        return yaml_failure(ps);
    ps->have_ev = true;
    const yaml_event_t *e = &ps->ev;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (e->type) {
    case YAML_ALIAS_EVENT:
        return fail_at(ps, e->start_mark, "aliases (*%.64s) are not allowed", (const char *)e->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        anchor = e->data.scalar.anchor;
        tag = e->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = e->data.sequence_start.anchor;
        tag = e->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = e->data.mapping_start.anchor;
        tag = e->data.mapping_start.tag;
        break;
    default:
        break;
    }
    if (anchor)
        return fail_at(ps, e->start_mark, "anchors (&%.64s) are not allowed", (const char *)anchor);
    if (tag)
        return fail_at(ps, e->start_mark, "explicit YAML types (%.64s) are not allowed", (const char *)tag);
    return 0;
}

static const char *event_noun(yaml_event_type_t t)
{
    switch (t) {
    case YAML_SEQUENCE_START_EVENT:
        return "a list";
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_SCALAR_EVENT:
        return "a single value";
    default:
        return "the end of a block";
    }
}

/* The text of the current scalar event, or NULL for a YAML null (an unquoted empty value, ~ or
 * null). Text with NUL characters is refused. */
static int scalar_text(struct parser *ps, const char *what, const char **ret_text)
{
    const yaml_event_t *e = &ps->ev;
    const char *s = (const char *)e->data.scalar.value;
    size_t n = e->data.scalar.length;
    if (strlen(s) != n)
        return fail_at(ps, e->start_mark, "%s: must not contain NUL characters", what);
    if (e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0))
        s = NULL;
    *ret_text = s;
    return 0;
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The index of the KPI with this key, or -1. */
static long find_key(const struct parser *ps, const char *key)
{
    if (!ps->n_slots)
        return -1;
    size_t mask = ps->n_slots - 1;
    for (size_t i = (size_t)hash_key(key) & mask;; i = (i + 1) & mask) {
        uint32_t slot = ps->slots[i];
        if (slot == 0)
            return -1;
        if (strcmp(ps->defs[slot - 1].key, key) == 0)
            return (long)(slot - 1);
    }
}

static void slot_insert(uint32_t *slots, size_t n_slots, const struct kpi_def *defs, uint32_t index)
{
    size_t mask = n_slots - 1;
    size_t i = (size_t)hash_key(defs[index].key) & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = index + 1;
}

/* Takes ownership of *d (which is left initialised) and records its key. */
static int add_def(struct parser *ps, struct kpi_def *d, bool has_targets, yaml_mark_t key_mark)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        struct kpi_def *defs = realloc(ps->defs, cap * sizeof(*defs));
        if (!defs)
            return -ENOMEM;
        ps->defs = defs;
        yaml_mark_t *marks = realloc(ps->key_marks, cap * sizeof(*marks));
        if (!marks)
            return -ENOMEM;
        ps->key_marks = marks;
        bool *given = realloc(ps->has_targets, cap * sizeof(*given));
        if (!given)
            return -ENOMEM;
        ps->has_targets = given;
        ps->cap = cap;
    }
    if ((ps->n + 1) * 2 > ps->n_slots) {
        size_t n_slots = ps->n_slots ? ps->n_slots * 2 : 64;
        uint32_t *slots = calloc(n_slots, sizeof(*slots));
        if (!slots)
            return -ENOMEM;
        for (size_t i = 0; i < ps->n; i++)
            slot_insert(slots, n_slots, ps->defs, (uint32_t)i);
        free(ps->slots);
        ps->slots = slots;
        ps->n_slots = n_slots;
    }
    ps->defs[ps->n] = *d;
    ps->key_marks[ps->n] = key_mark;
    ps->has_targets[ps->n] = has_targets;
    slot_insert(ps->slots, ps->n_slots, ps->defs, (uint32_t)ps->n);
    ps->n++;
    kpi_def_init(d);
    return 0;
}

/* Prefixes a diagnostic filled by the model with the position of the field. */
static int field_failure(struct parser *ps, int r, yaml_mark_t m)
{
    if (r == -ENOMEM)
        return kpi_diag_set(ps->diag, r, "out of memory");
    kpi_diag_prefix(ps->diag, "%zu:%zu: ", m.line + 1, m.column + 1);
    return r;
}

/* The value of `tags`: a list of scalars, or null for none. The current event is its start. */
static int parse_tags(struct parser *ps, struct kpi_def *d, yaml_mark_t key_mark)
{
    const char *text;
    int r;
    if (ps->ev.type == YAML_SCALAR_EVENT) {
        r = scalar_text(ps, "tags", &text);
        if (r < 0)
            return r;
        if (text)
            return fail_at(ps, key_mark, "tags: expected a list such as [saas, revenue]");
        return 0;
    }
    if (ps->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail_at(ps, key_mark, "tags: expected a list such as [saas, revenue], not %s", event_noun(ps->ev.type));
    for (;;) {
        r = next(ps);
        if (r < 0)
            return r;
        if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (ps->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ps, ps->ev.start_mark, "tags: expected a tag, not %s", event_noun(ps->ev.type));
        r = scalar_text(ps, "tags", &text);
        if (r < 0)
            return r;
        r = kpi_def_add_tag(d, text ? text : "", ps->diag);
        if (r < 0)
            return field_failure(ps, r, ps->ev.start_mark);
    }
}

/* ---- targets ---- */

enum target_field { TF_BASELINE, TF_BASELINE_DATE, TF_VALUE, TF_LOW, TF_HIGH, TF_DATE, TF_AT_RISK_PCT, TF__COUNT };
static const char *const target_fields[TF__COUNT] = {"baseline", "baseline_date", "value", "low", "high", "date", "at_risk_pct"};

/* One target as read, with where each field was given; checked once the KPI's direction is known. */
struct pending_target {
    struct kpi_target t;
    yaml_mark_t mark; /* the mapping */
    yaml_mark_t at[TF__COUNT];
    bool seen[TF__COUNT];
};

/* The `targets` of the KPI being read. */
struct pending {
    bool given;
    struct pending_target *items;
    size_t n, cap;
};

static int target_field_index(const char *name, size_t len)
{
    for (int i = 0; i < TF__COUNT; i++)
        if (strcmp(target_fields[i], name) == 0 && strlen(name) == len)
            return i;
    return -1;
}

/* One target mapping; the current event is its start. */
static int parse_target(struct parser *ps, struct pending_target *pt, size_t index)
{
    *pt = (struct pending_target){.t = {.at_risk_pct = KPI_AT_RISK_PCT_DEFAULT}, .mark = ps->ev.start_mark};
    for (;;) {
        int r = next(ps);
        if (r < 0)
            return r;
        if (ps->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        if (ps->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ps, ps->ev.start_mark, "targets[%zu]: expected a field name such as 'date', not %s", index,
                           event_noun(ps->ev.type));
        const char *name = (const char *)ps->ev.data.scalar.value;
        int fi = target_field_index(name, ps->ev.data.scalar.length);
        if (fi < 0)
            return fail_at(ps, ps->ev.start_mark,
                           "targets[%zu]: unknown field '%.64s' (expected baseline, baseline_date, value, low, high, date or "
                           "at_risk_pct)",
                           index, name);
        yaml_mark_t key_mark = ps->ev.start_mark;
        const char *field = target_fields[fi];
        if (pt->seen[fi])
            return fail_at(ps, key_mark, "targets[%zu]: duplicate field '%s' (first at %zu:%zu)", index, field, pt->at[fi].line + 1,
                           pt->at[fi].column + 1);
        pt->seen[fi] = true;
        pt->at[fi] = key_mark;
        r = next(ps);
        if (r < 0)
            return r;
        if (ps->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ps, key_mark, "targets[%zu]: %s: expected a single value, not %s", index, field,
                           event_noun(ps->ev.type));
        const char *text;
        r = scalar_text(ps, field, &text);
        if (r < 0)
            return r;
        bool is_date = fi == TF_BASELINE_DATE || fi == TF_DATE;
        if (!text)
            return fail_at(ps, key_mark, "targets[%zu]: %s: expected %s", index, field,
                           is_date ? "a date (YYYY-MM-DD)" : "a number");
        if (is_date) {
            int64_t day;
            if (kpi_date_parse(text, strlen(text), &day) < 0)
                return fail_at(ps, key_mark, "targets[%zu]: %s: '%.64s' is not a date (YYYY-MM-DD)", index, field, text);
            if (fi == TF_DATE)
                pt->t.day = day;
            else
                pt->t.baseline_day = day;
            continue;
        }
        double v;
        if (kpi_parse_double(text, strlen(text), &v) < 0)
            return fail_at(ps, key_mark, "targets[%zu]: %s: '%.64s' is not a finite number", index, field, text);
        switch (fi) {
        case TF_BASELINE:
            pt->t.baseline = v;
            break;
        case TF_VALUE:
            pt->t.value = v;
            break;
        case TF_LOW:
            pt->t.low = v;
            break;
        case TF_HIGH:
            pt->t.high = v;
            break;
        default:
            pt->t.at_risk_pct = v;
            break;
        }
    }
}

/* The value of `targets`: a list of target mappings ([] for none). The current event is its start. */
static int parse_targets(struct parser *ps, struct pending *p, yaml_mark_t key_mark)
{
    p->given = true;
    if (ps->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail_at(ps, key_mark, "targets: expected a list of targets ('- {baseline: ..., date: ...}', or [] for none), not %s",
                       event_noun(ps->ev.type));
    for (;;) {
        int r = next(ps);
        if (r < 0)
            return r;
        if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (ps->ev.type != YAML_MAPPING_START_EVENT)
            return fail_at(ps, ps->ev.start_mark,
                           "targets[%zu]: expected a target (a mapping such as {baseline: 100, baseline_date: 2026-01-01, "
                           "value: 150, date: 2026-12-31}), not %s",
                           p->n, event_noun(ps->ev.type));
        if (p->n >= KPI_TARGETS_MAX)
            return fail_at(ps, ps->ev.start_mark, "targets: at most %d per KPI", KPI_TARGETS_MAX);
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 4;
            struct pending_target *items = realloc(p->items, cap * sizeof(*items));
            if (!items)
                return kpi_diag_set(ps->diag, -ENOMEM, "out of memory");
            p->items = items;
            p->cap = cap;
        }
        r = parse_target(ps, &p->items[p->n], p->n);
        if (r < 0)
            return r;
        p->n++;
    }
}

/* Checks the targets read for d against its final direction and adds them to d. */
static int finish_targets(struct parser *ps, struct kpi_def *d, const struct pending *p)
{
    bool range = d->direction == KPI_DIR_RANGE;
    for (size_t i = 0; i < p->n; i++) {
        const struct pending_target *pt = &p->items[i];
        static const enum target_field required[] = {TF_BASELINE, TF_BASELINE_DATE, TF_DATE};
        for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
            if (!pt->seen[required[k]])
                return fail_at(ps, pt->mark, "targets[%zu]: %s: is required", i, target_fields[required[k]]);
        if (range) {
            if (pt->seen[TF_VALUE])
                return fail_at(ps, pt->at[TF_VALUE], "targets[%zu]: value: not used by a range KPI (give low and high)", i);
            if (!pt->seen[TF_LOW] || !pt->seen[TF_HIGH])
                return fail_at(ps, pt->mark, "targets[%zu]: %s: is required for a range KPI", i, pt->seen[TF_LOW] ? "high" : "low");
        } else {
            for (int f = TF_LOW; f <= TF_HIGH; f++)
                if (pt->seen[f])
                    return fail_at(ps, pt->at[f], "targets[%zu]: %s: only for a range KPI (direction: range); give value", i,
                                   target_fields[f]);
            if (!pt->seen[TF_VALUE])
                return fail_at(ps, pt->mark, "targets[%zu]: value: is required", i);
        }
        int r = kpi_target_validate(&pt->t, d->direction, ps->diag);
        if (r < 0) {
            kpi_diag_prefix(ps->diag, "%zu:%zu: targets[%zu]: ", pt->mark.line + 1, pt->mark.column + 1, i);
            return r;
        }
        for (size_t j = 0; j < i; j++) {
            if (p->items[j].t.day == pt->t.day) {
                char date[16];
                kpi_date_format(pt->t.day, date, sizeof(date));
                return fail_at(ps, pt->at[TF_DATE], "targets[%zu]: date: targets[%zu] (at %zu:%zu) already ends on %s", i, j,
                               p->items[j].mark.line + 1, p->items[j].mark.column + 1, date);
            }
        }
        r = kpi_def_set_target(d, &pt->t, ps->diag);
        if (r < 0)
            return field_failure(ps, r, pt->mark);
    }
    return 0;
}

static int field_index(const char *name)
{
    for (int i = 0; kpi_def_fields[i]; i++)
        if (strcmp(kpi_def_fields[i], name) == 0)
            return i;
    return -1;
}

#define MAX_FIELDS 32

/* One KPI mapping; the current event is its start. The targets are read into p and added once the
 * whole mapping is read (direction may come after them). */
static int parse_kpi_fields(struct parser *ps, struct kpi_def *d, struct pending *p)
{
    yaml_mark_t item_mark = ps->ev.start_mark;
    yaml_mark_t seen_at[MAX_FIELDS + 1] = {{0, 0, 0}};
    bool seen[MAX_FIELDS + 1] = {false};
    int i_key = field_index("key"), i_name = field_index("name"), i_parent = field_index("parent");
    const int i_targets = MAX_FIELDS; /* not a kpi_def_fields entry */
    int r;
    for (;;) {
        r = next(ps);
        if (r < 0)
            return r;
        if (ps->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (ps->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ps, ps->ev.start_mark, "expected a field name such as 'name', not %s", event_noun(ps->ev.type));
        const char *name = (const char *)ps->ev.data.scalar.value;
        bool is_targets = strcmp(name, "targets") == 0 && ps->ev.data.scalar.length == 7;
        int fi = is_targets ? i_targets : field_index(name);
        if (!is_targets && (fi < 0 || fi >= MAX_FIELDS || strlen(name) != ps->ev.data.scalar.length))
            return fail_at(ps, ps->ev.start_mark, "unknown field '%.64s'", name);
        const char *field = is_targets ? "targets" : kpi_def_fields[fi]; /* static: outlives the event */
        yaml_mark_t key_mark = ps->ev.start_mark;
        if (seen[fi])
            return fail_at(ps, key_mark, "duplicate field '%s' (first at %zu:%zu)", field, seen_at[fi].line + 1,
                           seen_at[fi].column + 1);
        seen[fi] = true;
        seen_at[fi] = key_mark;

        r = next(ps);
        if (r < 0)
            return r;
        if (is_targets) {
            r = parse_targets(ps, p, key_mark);
            if (r < 0)
                return r;
            continue;
        }
        if (strcmp(field, "tags") == 0) {
            r = parse_tags(ps, d, key_mark);
            if (r < 0)
                return r;
            continue;
        }
        if (ps->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ps, key_mark, "%s: expected a single value, not %s", field, event_noun(ps->ev.type));
        const char *text;
        r = scalar_text(ps, field, &text);
        if (r < 0)
            return r;
        r = kpi_def_set_field(d, field, text, ps->diag);
        if (r < 0)
            return field_failure(ps, r, key_mark);
    }

    if (!seen[i_key])
        return fail_at(ps, item_mark, "key: is required");
    if (!d->name)
        return fail_at(ps, seen[i_name] ? seen_at[i_name] : item_mark, "name: is required");
    if (d->parent && strcmp(d->parent, d->key) == 0)
        return fail_at(ps, seen_at[i_parent], "parent: a KPI cannot be its own parent");
    r = finish_targets(ps, d, p);
    if (r < 0)
        return r;
    r = kpi_def_validate(d, ps->diag);
    if (r < 0)
        return field_failure(ps, r, item_mark);
    long dup = find_key(ps, d->key);
    if (dup >= 0)
        return fail_at(ps, seen_at[i_key], "key: duplicate KPI '%s' (first at %zu:%zu)", d->key, ps->key_marks[dup].line + 1,
                       ps->key_marks[dup].column + 1);
    r = add_def(ps, d, p->given, seen_at[i_key]);
    if (r < 0)
        return kpi_diag_set(ps->diag, r, "out of memory");
    return 0;
}

static int parse_kpi(struct parser *ps, struct kpi_def *d)
{
    struct pending p = {0};
    int r = parse_kpi_fields(ps, d, &p);
    free(p.items);
    return r;
}

/* The list of KPIs; the current event is its start. */
static int parse_kpi_list(struct parser *ps)
{
    for (;;) {
        int r = next(ps);
        if (r < 0)
            return r;
        if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (ps->ev.type != YAML_MAPPING_START_EVENT)
            return fail_at(ps, ps->ev.start_mark, "expected a KPI (a mapping such as 'key: mrr'), not %s", event_noun(ps->ev.type));
        if (ps->n >= KPI_DEFS_MAX_KPIS)
            return fail_at(ps, ps->ev.start_mark, "more than %d KPIs", KPI_DEFS_MAX_KPIS);
        struct kpi_def d;
        kpi_def_init(&d);
        r = parse_kpi(ps, &d);
        kpi_def_clear(&d);
        if (r < 0)
            return r;
    }
}

static int parse_stream(struct parser *ps)
{
    int r = next(ps); /* stream start */
    if (r < 0)
        return r;
    r = next(ps);
    if (r < 0)
        return r;
    if (ps->ev.type == YAML_STREAM_END_EVENT)
        return fail_at(ps, ps->ev.start_mark, "the file is empty (expected 'kpis:' and a list of KPIs)");
    r = next(ps); /* after the document start */
    if (r < 0)
        return r;
    if (ps->ev.type != YAML_MAPPING_START_EVENT)
        return fail_at(ps, ps->ev.start_mark, "expected a mapping with the key 'kpis', not %s", event_noun(ps->ev.type));
    yaml_mark_t root_mark = ps->ev.start_mark, kpis_mark = root_mark;
    bool seen_kpis = false;
    for (;;) {
        r = next(ps);
        if (r < 0)
            return r;
        if (ps->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (ps->ev.type != YAML_SCALAR_EVENT)
            return fail_at(ps, ps->ev.start_mark, "expected the key 'kpis', not %s", event_noun(ps->ev.type));
        const char *name = (const char *)ps->ev.data.scalar.value;
        if (strcmp(name, "kpis") != 0 || ps->ev.data.scalar.length != 4)
            return fail_at(ps, ps->ev.start_mark, "unknown key '%.64s' (expected kpis)", name);
        if (seen_kpis)
            return fail_at(ps, ps->ev.start_mark, "duplicate key 'kpis' (first at %zu:%zu)", kpis_mark.line + 1,
                           kpis_mark.column + 1);
        seen_kpis = true;
        kpis_mark = ps->ev.start_mark;
        r = next(ps);
        if (r < 0)
            return r;
        if (ps->ev.type != YAML_SEQUENCE_START_EVENT)
            return fail_at(ps, kpis_mark, "kpis: expected a list of KPIs ('- key: ...', or [] for none), not %s",
                           event_noun(ps->ev.type));
        r = parse_kpi_list(ps);
        if (r < 0)
            return r;
    }
    if (!seen_kpis)
        return fail_at(ps, root_mark, "missing key 'kpis'");
    r = next(ps); /* document end */
    if (r < 0)
        return r;
    r = next(ps);
    if (r < 0)
        return r;
    if (ps->ev.type != YAML_STREAM_END_EVENT)
        return fail_at(ps, ps->ev.start_mark, "only one YAML document is allowed");
    return 0;
}

int kpi_defs_parse_yaml(const char *text, size_t len, struct kpi_def **ret_defs, bool **ret_has_targets, size_t *ret_n,
                        struct kpi_diag *diag)
{
    if (len > KPI_DEFS_MAX_BYTES)
        return kpi_diag_set(diag, -E2BIG, "1:1: the file is larger than %zu MiB", KPI_DEFS_MAX_BYTES >> 20);
    struct parser ps = {0};
    ps.text = text ? text : "";
    ps.len = text ? len : 0;
    ps.diag = diag;
    if (!yaml_parser_initialize(&ps.yp))
        return kpi_diag_set(diag, -ENOMEM, "out of memory");
    yaml_parser_set_input_string(&ps.yp, (const unsigned char *)ps.text, ps.len);
    int r = parse_stream(&ps);
    if (ps.have_ev)
        yaml_event_delete(&ps.ev);
    yaml_parser_delete(&ps.yp);
    free(ps.slots);
    free(ps.key_marks);
    if (r < 0) {
        kpi_defs_free(ps.defs, ps.n);
        free(ps.has_targets);
        return r;
    }
    if (ps.n == 0) {
        free(ps.defs);
        ps.defs = NULL;
        free(ps.has_targets);
        ps.has_targets = NULL;
    }
    *ret_defs = ps.defs;
    if (ret_has_targets)
        *ret_has_targets = ps.has_targets;
    else
        free(ps.has_targets);
    *ret_n = ps.n;
    return 0;
}

/* ---- writing ---- */

struct emitter {
    yaml_emitter_t ye;
    struct kpi_buf *out;
    int error;
};

static int write_out(void *data, unsigned char *buffer, size_t size)
{
    struct emitter *em = data;
    int r = kpi_buf_add(em->out, buffer, size);
    if (r < 0) {
        em->error = r;
        return 0;
    }
    return 1;
}

/* Emits an event (libyaml takes ownership of it, also on failure). */
static int emit(struct emitter *em, yaml_event_t *ev)
{
    if (!yaml_emitter_emit(&em->ye, ev)) {
        if (em->error)
            return em->error;
        return em->ye.error == YAML_MEMORY_ERROR ? -ENOMEM : -EIO;
    }
    return 0;
}

static bool word_in(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcasecmp(s, *words) == 0)
            return true;
    return false;
}

/* Would a YAML reader (1.1 or 1.2 core schema) take this plain text for something else than a
 * string: a null, a boolean, a number, a date? kpi's own reader only cares about nulls, but a file
 * that other tools read the same way is worth a few quotes. */
static bool looks_typed(const char *s)
{
    static const char *const words[] = {"~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", NULL};
    if (word_in(s, words))
        return true;
    return (s[0] >= '0' && s[0] <= '9') || s[0] == '+' || s[0] == '-' || s[0] == '.';
}

/* Multi-line text without other control characters is written as a literal block (libyaml falls
 * back to double quotes when the text cannot be one, e.g. with trailing spaces on a line); text
 * with control characters or Unicode line breaks (NEL, LS, PS) is double-quoted, where every
 * character can be written as an escape. */
static yaml_scalar_style_t text_style(const char *s)
{
    bool newline = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n')
            newline = true;
        else if (*p < 0x20 || *p == 0x7f)
            return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        else if (p[0] == 0xc2 && p[1] == 0x85)
            return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    }
    if (newline)
        return YAML_LITERAL_SCALAR_STYLE;
    return looks_typed(s) ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;
}

static int emit_scalar(struct emitter *em, const char *s, bool text)
{
    yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
    if (text)
        style = text_style(s);
    size_t n = strlen(s);
    if (n > INT32_MAX)
        return -E2BIG;
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style))
        return -EILSEQ; /* not valid UTF-8 (or out of memory) */
    return emit(em, &ev);
}

/* `targets:` and one flow mapping per target, in the order of DESIGN.md's field names. */
static int emit_targets(struct emitter *em, const struct kpi_def *d)
{
    yaml_event_t ev;
    int r = emit_scalar(em, "targets", false);
    if (r < 0)
        return r;
    if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
        return -ENOMEM;
    r = emit(em, &ev);
    for (size_t i = 0; r == 0 && i < d->n_targets; i++) {
        const struct kpi_target *t = &d->targets[i];
        char text[6][32];
        const char *names[6];
        size_t n = 0;
        names[n] = "baseline";
        kpi_format_double(t->baseline, text[n++], sizeof(text[0]));
        names[n] = "baseline_date";
        kpi_date_format(t->baseline_day, text[n++], sizeof(text[0]));
        if (d->direction == KPI_DIR_RANGE) {
            names[n] = "low";
            kpi_format_double(t->low, text[n++], sizeof(text[0]));
            names[n] = "high";
            kpi_format_double(t->high, text[n++], sizeof(text[0]));
        } else {
            names[n] = "value";
            kpi_format_double(t->value, text[n++], sizeof(text[0]));
        }
        names[n] = "date";
        kpi_date_format(t->day, text[n++], sizeof(text[0]));
        if (t->at_risk_pct != KPI_AT_RISK_PCT_DEFAULT) {
            names[n] = "at_risk_pct";
            kpi_format_double(t->at_risk_pct, text[n++], sizeof(text[0]));
        }
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_FLOW_MAPPING_STYLE))
            return -ENOMEM;
        r = emit(em, &ev);
        for (size_t f = 0; r == 0 && f < n; f++) {
            r = emit_scalar(em, names[f], false);
            if (r == 0)
                r = emit_scalar(em, text[f], false);
        }
        if (r == 0) {
            yaml_mapping_end_event_initialize(&ev);
            r = emit(em, &ev);
        }
    }
    if (r < 0)
        return r;
    yaml_sequence_end_event_initialize(&ev);
    return emit(em, &ev);
}

static int emit_def(struct emitter *em, const struct kpi_def *d, const struct kpi_def *defaults)
{
    yaml_event_t ev;
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
        return -ENOMEM;
    int r = emit(em, &ev);
    struct kpi_buf value, dflt;
    kpi_buf_init(&value, KPI_DEFS_MAX_BYTES);
    kpi_buf_init(&dflt, KPI_DEFS_MAX_BYTES);
    for (int i = 0; r == 0 && kpi_def_fields[i]; i++) {
        const char *field = kpi_def_fields[i];
        bool always = strcmp(field, "key") == 0 || strcmp(field, "name") == 0;
        enum kpi_field_kind kind, dkind;
        kpi_buf_reset(&value);
        kpi_buf_reset(&dflt);
        int set = kpi_def_field_text(d, field, &value, &kind);
        int dset = kpi_def_field_text(defaults, field, &dflt, &dkind);
        if (set < 0 || dset < 0) {
            r = set < 0 ? set : dset;
            break;
        }
        if (!set || (!always && dset && strcmp(kpi_buf_str(&value), kpi_buf_str(&dflt)) == 0))
            continue;
        r = emit_scalar(em, field, false);
        if (r < 0)
            break;
        if (kind != KPI_FIELD_LIST) {
            r = emit_scalar(em, kpi_buf_str(&value), kind == KPI_FIELD_TEXT);
            continue;
        }
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_FLOW_SEQUENCE_STYLE)) {
            r = -ENOMEM;
            break;
        }
        r = emit(em, &ev);
        for (size_t t = 0; r == 0 && t < d->n_tags; t++)
            r = emit_scalar(em, d->tags[t], true);
        if (r == 0) {
            yaml_sequence_end_event_initialize(&ev);
            r = emit(em, &ev);
        }
    }
    kpi_buf_free(&value);
    kpi_buf_free(&dflt);
    if (r == 0 && d->n_targets > 0)
        r = emit_targets(em, d);
    if (r < 0)
        return r;
    yaml_mapping_end_event_initialize(&ev);
    return emit(em, &ev);
}

static int emit_all(struct emitter *em, const struct kpi_def *defs, size_t n)
{
    yaml_event_t ev;
    struct kpi_def defaults;
    kpi_def_init(&defaults);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    int r = emit(em, &ev);
    if (r < 0)
        return r;
    if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))
        return -ENOMEM;
    r = emit(em, &ev);
    if (r < 0)
        return r;
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
        return -ENOMEM;
    r = emit(em, &ev);
    if (r == 0)
        r = emit_scalar(em, "kpis", false);
    if (r < 0)
        return r;
    if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, n ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE))
        return -ENOMEM;
    r = emit(em, &ev);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = emit_def(em, &defs[i], &defaults);
    if (r < 0)
        return r;
    yaml_sequence_end_event_initialize(&ev);
    r = emit(em, &ev);
    if (r < 0)
        return r;
    yaml_mapping_end_event_initialize(&ev);
    r = emit(em, &ev);
    if (r < 0)
        return r;
    yaml_document_end_event_initialize(&ev, 1);
    r = emit(em, &ev);
    if (r < 0)
        return r;
    yaml_stream_end_event_initialize(&ev);
    r = emit(em, &ev);
    if (r < 0)
        return r;
    if (!yaml_emitter_flush(&em->ye))
        return em->error ? em->error : -EIO;
    return 0;
}

int kpi_defs_emit_yaml(struct kpi_buf *out, const struct kpi_def *defs, size_t n)
{
    struct emitter em = {.out = out};
    if (!yaml_emitter_initialize(&em.ye))
        return -ENOMEM;
    yaml_emitter_set_output(&em.ye, write_out, &em);
    yaml_emitter_set_encoding(&em.ye, YAML_UTF8_ENCODING);
    yaml_emitter_set_unicode(&em.ye, 1);
    yaml_emitter_set_width(&em.ye, -1);
    yaml_emitter_set_indent(&em.ye, 2);
    int r = emit_all(&em, defs, n);
    yaml_emitter_delete(&em.ye);
    return r;
}
