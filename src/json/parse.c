/*
 * Request bodies of the HTTP API (see parse.h): each parser decodes the whole body with jansson,
 * walks the object checking every key against the fields it accepts, and hands each value to the
 * model's setters (kpi_def_set_field, kpi_def_add_tag, kpi_target_validate, kpi_text_set) after
 * turning it into the text the CLI and YAML give them, so the three front ends accept and refuse
 * the same things with the same messages. The result is built in a local struct and copied out
 * only when everything passed.
 */
#include "json/parse.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "json/jansson_util.h"
#include "kpi/time.h"
#include "kpi/tz.h"

#define SHOWN_MAX 64

/* ---- shared pieces ---- */

/* Text of a value for a message: at most SHOWN_MAX bytes, cut on a character boundary, control
 * characters shown as '?'. */
static const char *shown(const char *s, char *buf, size_t size)
{
    size_t n = strlen(s);
    if (n > SHOWN_MAX)
        n = SHOWN_MAX;
    if (n >= size)
        n = size - 1;
    if (n < strlen(s))
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[n] = '\0';
    return buf;
}

/* Decodes the body. Syntax errors read "line L, column C: ..." (columns count characters, from 1).
 * Without JSON_ALLOW_NUL, jansson refuses "\u0000": decoded strings never hold a NUL. */
static int load(const char *text, size_t len, json_t **ret, struct kpi_diag *diag)
{
    if (len > KPI_JSON_BODY_MAX)
        return kpi_diag_set(diag, -E2BIG, "the body is larger than %u KiB", KPI_JSON_BODY_MAX >> 10);
    json_error_t err;
    json_t *v = json_loadb(text ? text : "", text ? len : 0, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        if (json_error_code(&err) == json_error_out_of_memory)
            return kpi_diag_set(diag, -ENOMEM, "out of memory");
        /* jansson quotes the input near the error, possibly cut inside a character. */
        bool utf8 = kpi_utf8_valid(err.text, strlen(err.text));
        for (char *t = err.text; *t; t++)
            if ((unsigned char)*t < 0x20 || *t == 0x7f || (!utf8 && (unsigned char)*t >= 0x80))
                *t = '?';
        return kpi_diag_set(diag, -EINVAL, "line %d, column %d: %s", err.line > 0 ? err.line : 1, err.column > 0 ? err.column : 1,
                            err.text);
    }
    *ret = v;
    return 0;
}

/* Loads the body and checks that it is an object; `what` names it in the message. */
static int load_object(const char *text, size_t len, const char *what, json_t **ret, struct kpi_diag *diag)
{
    json_t *v;
    int r = load(text, len, &v, diag);
    if (r < 0)
        return r;
    if (!json_is_object(v)) {
        r = kpi_diag_set(diag, -EINVAL, "expected %s, found %s", what, kpi_json_type_name(v));
        json_decref(v);
        return r;
    }
    *ret = v;
    return 0;
}

/* "a, b, c or d" */
static void list_names(const char *const *names, char *buf, size_t size)
{
    size_t n = 0, used = 0;
    while (names[n])
        n++;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : (i == n - 1 ? " or " : ", ");
        int w = snprintf(buf + used, size - used, "%s%s", sep, names[i]);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
}

static int index_of(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* where: "targets[2]" or NULL for the body itself. */
static int unknown_field(struct kpi_diag *diag, const char *where, const char *key, const char *const *accepted)
{
    char list[400], text[SHOWN_MAX + 1];
    list_names(accepted, list, sizeof(list));
    return kpi_diag_set(diag, -EINVAL, "%s%sunknown field '%s' (expected %s)", where ? where : "", where ? ": " : "",
                        shown(key, text, sizeof(text)), list);
}

/* Writes "where.field" (or "field") into buf. */
static const char *field_name(const char *where, const char *field, char *buf, size_t size)
{
    if (where)
        snprintf(buf, size, "%s.%s", where, field);
    else
        snprintf(buf, size, "%s", field);
    return buf;
}

/* A JSON integer, or a number with an integral value (JSON does not tell 2 from 2.0). */
static bool integer_value(const json_t *v, long long *ret)
{
    if (json_is_integer(v)) {
        *ret = (long long)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && d >= -9.0e15 && d <= 9.0e15) {
            *ret = (long long)d;
            return true;
        }
    }
    return false;
}

/* A date string, or null (absent) when nullable: day INT64_MIN. */
static int date_value(const json_t *v, const char *name, bool nullable, int64_t *ret_day, struct kpi_diag *diag)
{
    char text[SHOWN_MAX + 1];
    if (nullable && json_is_null(v)) {
        *ret_day = INT64_MIN;
        return 0;
    }
    if (!json_is_string(v))
        return kpi_diag_set(diag, -EINVAL, "%s: expected a date (YYYY-MM-DD), found %s", name, kpi_json_type_name(v));
    int64_t day;
    if (kpi_date_parse(json_string_value(v), json_string_length(v), &day) < 0)
        return kpi_diag_set(diag, -EINVAL, "%s: '%s' is not a date (YYYY-MM-DD)", name,
                            shown(json_string_value(v), text, sizeof(text)));
    *ret_day = day;
    return 0;
}

/* A free-text string set with kpi_text_set; null (when nullable) leaves *field NULL. "" is refused
 * for required texts ("must not be empty"). */
static int text_value(const json_t *v, char **field, size_t max, bool multiline, const char *name, bool required,
                      struct kpi_diag *diag)
{
    if (json_is_null(v) && !required)
        return kpi_text_set(field, NULL, max, multiline, name, diag);
    if (!json_is_string(v))
        return kpi_diag_set(diag, -EINVAL, "%s: expected a string, found %s", name, kpi_json_type_name(v));
    if (required && json_string_length(v) == 0)
        return kpi_diag_set(diag, -EINVAL, "%s: must not be empty", name);
    return kpi_text_set(field, json_string_value(v), max, multiline, name, diag);
}

/* ---- targets ---- */

enum target_field { TF_BASELINE, TF_BASELINE_DATE, TF_VALUE, TF_LOW, TF_HIGH, TF_DATE, TF_AT_RISK_PCT, TF__COUNT };
static const char *const target_fields[TF__COUNT + 1] = {"baseline", "baseline_date", "value",       "low",
                                                         "high",     "date",          "at_risk_pct", NULL};

/* One target object read field by field (where: "targets[i]" or NULL); checked against dir. */
static int parse_target(const json_t *v, const char *where, enum kpi_direction dir, struct kpi_target *ret, struct kpi_diag *diag)
{
    char name[64];
    if (!json_is_object(v))
        return kpi_diag_set(diag, -EINVAL,
                            "%s%sexpected a target (an object such as {\"baseline\": 100, \"baseline_date\": \"2026-01-01\", "
                            "\"value\": 150, \"date\": \"2026-12-31\"}), not %s",
                            where ? where : "", where ? ": " : "", kpi_json_type_name(v));
    struct kpi_target t = {.at_risk_pct = KPI_AT_RISK_PCT_DEFAULT};
    bool seen[TF__COUNT] = {false};
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)v, key, item)
    {
        int fi = index_of(target_fields, key);
        if (fi < 0)
            return unknown_field(diag, where, key, target_fields);
        seen[fi] = true;
        field_name(where, key, name, sizeof(name));
        int r;
        switch (fi) {
        case TF_BASELINE_DATE:
            r = date_value(item, name, false, &t.baseline_day, diag);
            break;
        case TF_DATE:
            r = date_value(item, name, false, &t.day, diag);
            break;
        default:
            if (!json_is_number(item))
                return kpi_diag_set(diag, -EINVAL, "%s: expected a number, found %s", name, kpi_json_type_name(item));
            double x = json_number_value(item);
            if (fi == TF_BASELINE)
                t.baseline = x;
            else if (fi == TF_VALUE)
                t.value = x;
            else if (fi == TF_LOW)
                t.low = x;
            else if (fi == TF_HIGH)
                t.high = x;
            else
                t.at_risk_pct = x;
            r = 0;
        }
        if (r < 0)
            return r;
    }
    static const enum target_field required[] = {TF_BASELINE, TF_BASELINE_DATE, TF_DATE};
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
        if (!seen[required[k]])
            return kpi_diag_set(diag, -EINVAL, "%s: is required",
                                field_name(where, target_fields[required[k]], name, sizeof(name)));
    if (dir == KPI_DIR_RANGE) {
        if (seen[TF_VALUE])
            return kpi_diag_set(diag, -EINVAL, "%s: not used by a range KPI (give low and high)",
                                field_name(where, "value", name, sizeof(name)));
        if (!seen[TF_LOW] || !seen[TF_HIGH])
            return kpi_diag_set(diag, -EINVAL, "%s: is required for a range KPI",
                                field_name(where, seen[TF_LOW] ? "high" : "low", name, sizeof(name)));
    } else {
        for (int f = TF_LOW; f <= TF_HIGH; f++)
            if (seen[f])
                return kpi_diag_set(diag, -EINVAL, "%s: only for a range KPI (direction: range); give value",
                                    field_name(where, target_fields[f], name, sizeof(name)));
        if (!seen[TF_VALUE])
            return kpi_diag_set(diag, -EINVAL, "%s: is required", field_name(where, "value", name, sizeof(name)));
    }
    int r = kpi_target_validate(&t, dir, diag);
    if (r < 0) {
        if (where)
            kpi_diag_prefix(diag, "%s.", where); /* the model's message starts with the field */
        return r;
    }
    *ret = t;
    return 0;
}

/* An array of targets ("targets[i]" in messages): at most KPI_TARGETS_MAX, distinct dates. */
static int parse_target_array(const json_t *a, enum kpi_direction dir, struct kpi_target **ret, size_t *ret_n,
                              struct kpi_diag *diag)
{
    size_t n = json_array_size(a);
    if (n > KPI_TARGETS_MAX)
        return kpi_diag_set(diag, -EINVAL, "targets: at most %d per KPI (got %zu)", KPI_TARGETS_MAX, n);
    struct kpi_target *t = NULL;
    if (n) {
        t = calloc(n, sizeof(*t));
        if (!t)
            return kpi_diag_set(diag, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        char where[32];
        snprintf(where, sizeof(where), "targets[%zu]", i);
        int r = parse_target(json_array_get(a, i), where, dir, &t[i], diag);
        for (size_t j = 0; r == 0 && j < i; j++) {
            if (t[j].day == t[i].day) {
                char date[16];
                kpi_date_format(t[i].day, date, sizeof(date));
                r = kpi_diag_set(diag, -EINVAL, "targets[%zu].date: targets[%zu] already ends on %s", i, j, date);
            }
        }
        if (r < 0) {
            free(t);
            return r;
        }
    }
    *ret = t;
    *ret_n = n;
    return 0;
}

int kpi_json_parse_targets(const char *text, size_t len, enum kpi_direction dir, struct kpi_target **ret_targets, size_t *ret_n,
                           struct kpi_diag *diag)
{
    json_t *v;
    int r = load(text, len, &v, diag);
    if (r < 0)
        return r;
    struct kpi_target *t = NULL;
    size_t n = 0;
    if (json_is_array(v)) {
        r = parse_target_array(v, dir, &t, &n, diag);
    } else if (json_is_object(v)) {
        t = malloc(sizeof(*t));
        if (!t) {
            r = kpi_diag_set(diag, -ENOMEM, "out of memory");
        } else {
            r = parse_target(v, NULL, dir, t, diag);
            n = 1;
        }
        if (r < 0) {
            free(t);
            t = NULL;
        }
    } else {
        r = kpi_diag_set(diag, -EINVAL, "expected a target object or an array of targets, found %s", kpi_json_type_name(v));
    }
    json_decref(v);
    if (r < 0)
        return r;
    *ret_targets = t;
    *ret_n = n;
    return 0;
}

/* ---- definitions ---- */

/* Fields kpi_json_def writes that a client cannot set. */
static const char *const def_read_only[] = {"id", "created_at", "updated_at", NULL};

/* How a definition field is given in JSON. */
enum def_kind { DK_TEXT, DK_KEY, DK_ENUM, DK_INTEGER, DK_NUMBER, DK_BOOL, DK_TAGS };

static enum def_kind def_kind(const char *field)
{
    if (strcmp(field, "key") == 0)
        return DK_KEY;
    if (strcmp(field, "decimals") == 0)
        return DK_INTEGER;
    if (strcmp(field, "weight") == 0)
        return DK_NUMBER;
    if (strcmp(field, "archived") == 0)
        return DK_BOOL;
    if (strcmp(field, "tags") == 0)
        return DK_TAGS;
    /* Every other field is free text or an enumerated word: the model tells which. */
    struct kpi_def probe;
    kpi_def_init(&probe);
    struct kpi_buf scratch;
    kpi_buf_init(&scratch, 64);
    enum kpi_field_kind kind = KPI_FIELD_TEXT;
    kpi_def_field_text(&probe, field, &scratch, &kind);
    kpi_buf_free(&scratch);
    return kind == KPI_FIELD_WORD ? DK_ENUM : DK_TEXT;
}

/* Replaces the tags with an array of strings (null: none). Messages name the item. */
static int set_tags(struct kpi_def *d, const json_t *v, struct kpi_diag *diag)
{
    if (!json_is_null(v) && !json_is_array(v))
        return kpi_diag_set(diag, -EINVAL, "tags: expected an array of strings such as [\"saas\", \"revenue\"], found %s",
                            kpi_json_type_name(v));
    int r = kpi_def_set_field(d, "tags", NULL, diag);
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *item = json_array_get(v, i);
        if (!json_is_string(item))
            return kpi_diag_set(diag, -EINVAL, "tags[%zu]: expected a string, found %s", i, kpi_json_type_name(item));
        r = kpi_def_add_tag(d, json_string_value(item), diag);
        if (r == -ENOMEM)
            return kpi_diag_set(diag, r, "out of memory");
        if (r < 0 && !diag)
            return r;
        if (r < 0) {
            /* The model says "tags: ..."; name the item instead. */
            char msg[KPI_DIAG_MAX];
            const char *rest = strncmp(diag->msg, "tags: ", 6) == 0 ? diag->msg + 6 : diag->msg;
            snprintf(msg, sizeof(msg), "%s", rest);
            return kpi_diag_set(diag, r, "tags[%zu]: %s", i, msg);
        }
    }
    return 0;
}

/* One field of a definition from its JSON value, through kpi_def_set_field. */
static int set_def_field(struct kpi_def *d, const char *field, const json_t *v, struct kpi_diag *diag)
{
    char text[64];
    const char *value = NULL;
    long long n;
    int r;
    enum def_kind kind = def_kind(field);
    switch (kind) {
    case DK_TAGS:
        return set_tags(d, v, diag);
    case DK_KEY:
    case DK_ENUM:
    case DK_TEXT:
        if (json_is_null(v) && kind == DK_TEXT)
            value = NULL;
        else if (json_is_string(v))
            value = json_string_value(v);
        else
            return kpi_diag_set(diag, -EINVAL, "%s: expected a string%s, found %s", field, kind == DK_TEXT ? " or null" : "",
                                kpi_json_type_name(v));
        break;
    case DK_INTEGER:
        if (!integer_value(v, &n))
            return kpi_diag_set(diag, -EINVAL, "%s: expected an integer, found %s", field,
                                json_is_number(v) ? "a fractional number" : kpi_json_type_name(v));
        snprintf(text, sizeof(text), "%lld", n);
        value = text;
        break;
    case DK_NUMBER:
        if (!json_is_number(v))
            return kpi_diag_set(diag, -EINVAL, "%s: expected a number, found %s", field, kpi_json_type_name(v));
        kpi_format_double(json_number_value(v), text, sizeof(text));
        value = text;
        break;
    case DK_BOOL:
        if (!json_is_boolean(v))
            return kpi_diag_set(diag, -EINVAL, "%s: expected true or false, found %s", field, kpi_json_type_name(v));
        value = json_is_true(v) ? "true" : "false";
        break;
    }
    r = kpi_def_set_field(d, field, value, diag);
    if (r == -ENOMEM)
        return kpi_diag_set(diag, r, "out of memory");
    return r;
}

/* Every field name a definition body may hold: the model's, then targets. */
static void def_accepted(const char **names, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; kpi_def_fields[i] && n + 2 < size; i++)
        names[n++] = kpi_def_fields[i];
    names[n++] = "targets";
    names[n] = NULL;
}

static int parse_def_object(const json_t *o, struct kpi_def *d, bool patch, enum kpi_direction old_dir, bool *ret_has_targets,
                            struct kpi_diag *diag)
{
    const char *accepted[40];
    def_accepted(accepted, sizeof(accepted) / sizeof(accepted[0]));
    const json_t *targets = NULL;
    const char *key;
    json_t *v;
    int r;
    json_object_foreach((json_t *)o, key, v)
    {
        if (strcmp(key, "targets") == 0) {
            targets = v;
            continue;
        }
        if (index_of(def_read_only, key) >= 0)
            continue;
        if (index_of(kpi_def_fields, key) < 0)
            return unknown_field(diag, NULL, key, accepted);
        r = set_def_field(d, key, v, diag);
        if (r < 0)
            return r;
    }
    if (targets) {
        if (!json_is_array(targets))
            return kpi_diag_set(diag, -EINVAL, "targets: expected an array of targets ([] for none), found %s",
                                kpi_json_type_name(targets));
        struct kpi_target *t;
        size_t n;
        r = parse_target_array(targets, d->direction, &t, &n, diag);
        if (r < 0)
            return r;
        free(d->targets);
        d->targets = NULL;
        d->n_targets = 0;
        for (size_t i = 0; r == 0 && i < n; i++)
            r = kpi_def_set_target(d, &t[i], diag);
        free(t);
        if (r < 0)
            return r;
    } else if (patch && d->n_targets > 0 && (old_dir == KPI_DIR_RANGE) != (d->direction == KPI_DIR_RANGE)) {
        return kpi_diag_set(diag, -EINVAL,
                            "direction: changing it from %s to %s makes the KPI's targets meaningless; give new targets with the "
                            "change (or \"targets\": [])",
                            kpi_enum_name(&kpi_enum_direction, (int)old_dir),
                            kpi_enum_name(&kpi_enum_direction, (int)d->direction));
    }
    if (!d->name)
        return kpi_diag_set(diag, -EINVAL, "name: is required");
    if (d->key[0] && d->parent && strcmp(d->parent, d->key) == 0)
        return kpi_diag_set(diag, -EINVAL, "parent: a KPI cannot be its own parent");
    if (d->key[0]) {
        r = kpi_def_validate(d, diag);
        if (r < 0)
            return r == -E2BIG ? -EINVAL : r;
    }
    *ret_has_targets = targets != NULL;
    return 0;
}

int kpi_json_parse_def(const char *text, size_t len, const struct kpi_def *base, struct kpi_def *ret_def, bool *ret_has_targets,
                       struct kpi_diag *diag)
{
    json_t *o;
    int r = load_object(text, len, "a KPI definition (a JSON object such as {\"key\": \"mrr\", \"name\": \"MRR\"})", &o, diag);
    if (r < 0)
        return r;
    struct kpi_def d;
    if (base) {
        r = kpi_def_copy(base, &d);
        if (r < 0) {
            json_decref(o);
            return kpi_diag_set(diag, r, "out of memory");
        }
    } else {
        kpi_def_init(&d);
    }
    bool has_targets = false;
    r = parse_def_object(o, &d, base != NULL, base ? base->direction : KPI_DIR_UP, &has_targets, diag);
    json_decref(o);
    if (r < 0) {
        kpi_def_clear(&d);
        return r;
    }
    *ret_def = d;
    if (ret_has_targets)
        *ret_has_targets = has_targets;
    return 0;
}

/* ---- organisation ---- */

int kpi_json_parse_org(const char *text, size_t len, const struct kpi_org *base, struct kpi_org *ret_org, struct kpi_diag *diag)
{
    static const char *const fields[] = {"name", "timezone", "fiscal_year_start", NULL};
    json_t *o;
    int r = load_object(text, len, "the organisation settings (a JSON object such as {\"timezone\": \"Europe/Paris\"})", &o, diag);
    if (r < 0)
        return r;
    struct kpi_org org;
    if (base) {
        org = *base;
    } else {
        memset(&org, 0, sizeof(org));
        kpi_strlcpy(org.name, "My organisation", sizeof(org.name));
        kpi_strlcpy(org.timezone, "UTC", sizeof(org.timezone));
        org.fiscal_year_start = 1;
    }
    const char *key;
    json_t *v;
    char shown_text[SHOWN_MAX + 1];
    json_object_foreach(o, key, v)
    {
        int fi = index_of(fields, key);
        if (fi < 0) {
            r = unknown_field(diag, NULL, key, fields);
            break;
        }
        if (fi == 0) {
            char *name = NULL;
            r = text_value(v, &name, KPI_ORG_NAME_MAX, false, "name", true, diag);
            if (r == 0)
                kpi_strlcpy(org.name, name, sizeof(org.name));
            free(name);
        } else if (fi == 1) {
            if (!json_is_string(v)) {
                r = kpi_diag_set(diag, -EINVAL, "timezone: expected a string such as \"Europe/Paris\", found %s",
                                 kpi_json_type_name(v));
                break;
            }
            const char *zone = json_string_value(v);
            struct kpi_tz *tz = NULL;
            if (json_string_length(v) > KPI_TZ_NAME_MAX) {
                r = kpi_diag_set(diag, -EINVAL, "timezone: must be at most %d bytes", KPI_TZ_NAME_MAX);
                break;
            }
            r = kpi_tz_load(zone, &tz);
            kpi_tz_free(tz);
            if (r == -ENOMEM)
                r = kpi_diag_set(diag, r, "out of memory");
            else if (r == -ENOENT)
                r = kpi_diag_set(diag, -EINVAL, "timezone: unknown time zone '%s' (an IANA name such as Europe/Paris)",
                                 shown(zone, shown_text, sizeof(shown_text)));
            else if (r < 0)
                r = kpi_diag_set(diag, -EINVAL, "timezone: '%s' is not a usable time zone (an IANA name such as Europe/Paris)",
                                 shown(zone, shown_text, sizeof(shown_text)));
            if (r == 0)
                kpi_strlcpy(org.timezone, zone, sizeof(org.timezone));
        } else {
            long long month;
            if (!integer_value(v, &month)) {
                r = kpi_diag_set(diag, -EINVAL, "fiscal_year_start: expected a month number from 1 to 12, found %s",
                                 json_is_number(v) ? "a fractional number" : kpi_json_type_name(v));
                break;
            }
            if (month < 1 || month > 12) {
                r = kpi_diag_set(diag, -EINVAL, "fiscal_year_start: expected a month number from 1 to 12, got %lld", month);
                break;
            }
            org.fiscal_year_start = (int)month;
        }
        if (r < 0)
            break;
    }
    json_decref(o);
    if (r < 0)
        return r;
    *ret_org = org;
    return 0;
}

/* ---- reviews, actions, annotations ---- */

static void free_actions(struct kpi_action *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++) {
        free(a[i].text);
        free(a[i].owner);
    }
    free(a);
}

static int parse_action(const json_t *v, size_t index, struct kpi_action *a, struct kpi_diag *diag)
{
    static const char *const fields[] = {"text", "owner", "due", NULL};
    char where[32], name[64];
    snprintf(where, sizeof(where), "actions[%zu]", index);
    if (!json_is_object(v))
        return kpi_diag_set(diag, -EINVAL,
                            "%s: expected an action (an object such as {\"text\": \"...\", \"owner\": \"...\", \"due\": "
                            "\"2026-03-31\"}), not %s",
                            where, kpi_json_type_name(v));
    const char *key;
    json_t *item;
    int r = 0;
    json_object_foreach((json_t *)v, key, item)
    {
        int fi = index_of(fields, key);
        if (fi < 0)
            return unknown_field(diag, where, key, fields);
        field_name(where, key, name, sizeof(name));
        if (fi == 0)
            r = text_value(item, &a->text, KPI_ACTION_TEXT_MAX, false, name, true, diag);
        else if (fi == 1)
            r = text_value(item, &a->owner, KPI_OWNER_MAX, false, name, false, diag);
        else
            r = date_value(item, name, true, &a->due_day, diag);
        if (r < 0)
            return r;
    }
    if (!a->text)
        return kpi_diag_set(diag, -EINVAL, "%s: is required", field_name(where, "text", name, sizeof(name)));
    return 0;
}

static int parse_actions(const json_t *v, struct kpi_action **ret, size_t *ret_n, struct kpi_diag *diag)
{
    if (json_is_null(v)) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
    }
    if (!json_is_array(v))
        return kpi_diag_set(diag, -EINVAL, "actions: expected an array of actions ([] for none), found %s", kpi_json_type_name(v));
    size_t n = json_array_size(v);
    if (n > KPI_ACTIONS_PER_REVIEW_MAX)
        return kpi_diag_set(diag, -EINVAL, "actions: at most %d per review (got %zu)", KPI_ACTIONS_PER_REVIEW_MAX, n);
    struct kpi_action *a = NULL;
    if (n) {
        a = calloc(n, sizeof(*a));
        if (!a)
            return kpi_diag_set(diag, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        a[i].due_day = INT64_MIN;
        int r = parse_action(json_array_get(v, i), i, &a[i], diag);
        if (r < 0) {
            free_actions(a, n);
            return r == -ENOMEM ? kpi_diag_set(diag, r, "out of memory") : r;
        }
    }
    *ret = a;
    *ret_n = n;
    return 0;
}

int kpi_json_parse_review(const char *text, size_t len, struct kpi_review *ret_review, struct kpi_action **ret_actions,
                          size_t *ret_n, struct kpi_diag *diag)
{
    static const char *const fields[] = {"date", "note", "author", "team", "actions", NULL};
    json_t *o;
    int r = load_object(text, len, "a review (a JSON object such as {\"note\": \"...\"})", &o, diag);
    if (r < 0)
        return r;
    struct kpi_review rv = {.day = INT64_MIN};
    struct kpi_action *actions = NULL;
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        int fi = index_of(fields, key);
        if (fi < 0) {
            r = unknown_field(diag, NULL, key, fields);
            break;
        }
        switch (fi) {
        case 0:
            r = date_value(v, "date", true, &rv.day, diag);
            break;
        case 1:
            r = text_value(v, &rv.note, KPI_NOTE_MAX, true, "note", true, diag);
            break;
        case 2:
            r = text_value(v, &rv.author, KPI_OWNER_MAX, false, "author", false, diag);
            break;
        case 3:
            r = text_value(v, &rv.team, KPI_TEAM_MAX, false, "team", false, diag);
            break;
        default:
            r = parse_actions(v, &actions, &n, diag);
            break;
        }
        if (r == -ENOMEM)
            r = kpi_diag_set(diag, r, "out of memory");
        if (r < 0)
            break;
    }
    json_decref(o);
    if (r == 0 && !rv.note)
        r = kpi_diag_set(diag, -EINVAL, "note: is required");
    if (r < 0) {
        free(rv.note);
        free(rv.author);
        free(rv.team);
        free_actions(actions, n);
        return r;
    }
    *ret_review = rv;
    *ret_actions = actions;
    *ret_n = n;
    return 0;
}

int kpi_json_parse_annotation(const char *text, size_t len, struct kpi_annotation *ret, struct kpi_diag *diag)
{
    static const char *const fields[] = {"date", "text", NULL};
    json_t *o;
    int r = load_object(text, len, "an annotation (a JSON object such as {\"text\": \"price change\"})", &o, diag);
    if (r < 0)
        return r;
    struct kpi_annotation a = {.day = INT64_MIN};
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        int fi = index_of(fields, key);
        if (fi < 0)
            r = unknown_field(diag, NULL, key, fields);
        else if (fi == 0)
            r = date_value(v, "date", true, &a.day, diag);
        else
            r = text_value(v, &a.text, KPI_ANNOTATION_MAX, false, "text", true, diag);
        if (r == -ENOMEM)
            r = kpi_diag_set(diag, r, "out of memory");
        if (r < 0)
            break;
    }
    json_decref(o);
    if (r == 0 && !a.text)
        r = kpi_diag_set(diag, -EINVAL, "text: is required");
    if (r < 0) {
        free(a.text);
        return r;
    }
    *ret = a;
    return 0;
}

int kpi_json_parse_action_patch(const char *text, size_t len, bool *ret_done, struct kpi_diag *diag)
{
    static const char *const fields[] = {"done", NULL};
    json_t *o;
    int r = load_object(text, len, "an action update (a JSON object such as {\"done\": true})", &o, diag);
    if (r < 0)
        return r;
    const json_t *done = NULL;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (index_of(fields, key) < 0) {
            r = unknown_field(diag, NULL, key, fields);
            break;
        }
        done = v;
    }
    if (r == 0 && !done)
        r = kpi_diag_set(diag, -EINVAL, "done: is required");
    else if (r == 0 && !json_is_boolean(done))
        r = kpi_diag_set(diag, -EINVAL, "done: expected true or false, found %s", kpi_json_type_name(done));
    bool value = r == 0 && json_is_true(done);
    json_decref(o);
    if (r < 0)
        return r;
    *ret_done = value;
    return 0;
}

int kpi_json_parse_name(const char *text, size_t len, const char *field, char *ret_name, size_t size, struct kpi_diag *diag)
{
    if (!field || !ret_name || size < 2)
        return -EINVAL;
    const char *fields[] = {field, NULL};
    json_t *o;
    char what[128];
    snprintf(what, sizeof(what), "a JSON object such as {\"%s\": \"...\"}", field);
    int r = load_object(text, len, what, &o, diag);
    if (r < 0)
        return r;
    char *value = NULL;
    bool seen = false;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, field) != 0) {
            r = unknown_field(diag, NULL, key, fields);
            break;
        }
        seen = true;
        r = text_value(v, &value, size - 1, false, field, true, diag);
        if (r == -ENOMEM)
            r = kpi_diag_set(diag, r, "out of memory");
    }
    json_decref(o);
    if (r == 0 && !seen)
        r = kpi_diag_set(diag, -EINVAL, "%s: is required", field);
    if (r < 0) {
        free(value);
        return r;
    }
    kpi_strlcpy(ret_name, value, size);
    free(value);
    return 0;
}
