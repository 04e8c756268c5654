/*
 * KPI definitions: defaults, ownership of their strings, field-by-field setting from text, and the
 * validation rules of DESIGN.md section 3. Every enumerated field has a single string table here so
 * the CLI, JSON and YAML all spell values the same way.
 */
#include "kpi/model.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "kpi/status.h"

static const char *const format_names[] = {"number", "percent", "currency", "duration"};
static const char *const direction_names[] = {"up", "down", "range"};
static const char *const aggregation_names[] = {"sum", "avg", "min", "max", "last", "first", "count"};
static const char *const granularity_names[] = {"day", "week", "month", "quarter", "year"};
static const char *const tier_names[] = {"north_star", "strategic", "operational", "diagnostic"};
static const char *const indicator_names[] = {"lagging", "leading"};
static const char *const cadence_names[] = {"weekly", "monthly", "quarterly"};
static const char *const visibility_names[] = {"org", "team", "private"};

#define ENUM_INFO(var, field_name, table)                                                                                          \
    const struct kpi_enum_info var = {field_name, table, (int)(sizeof(table) / sizeof(table[0]))}
ENUM_INFO(kpi_enum_format, "format", format_names);
ENUM_INFO(kpi_enum_direction, "direction", direction_names);
ENUM_INFO(kpi_enum_aggregation, "aggregation", aggregation_names);
ENUM_INFO(kpi_enum_granularity, "granularity", granularity_names);
ENUM_INFO(kpi_enum_tier, "tier", tier_names);
ENUM_INFO(kpi_enum_indicator, "indicator", indicator_names);
ENUM_INFO(kpi_enum_cadence, "review_cadence", cadence_names);
ENUM_INFO(kpi_enum_visibility, "visibility", visibility_names);

const char *const kpi_def_fields[] = {"key",       "name",        "description", "unit",    "format",         "decimals",
                                      "direction", "aggregation", "granularity", "formula", "tier",           "indicator",
                                      "owner",     "team",        "parent",      "weight",  "review_cadence", "visibility",
                                      "tags",      "archived",    NULL};

const char *kpi_enum_name(const struct kpi_enum_info *e, int value)
{
    if (value < 0 || value >= e->count)
        return "?";
    return e->names[value];
}

int kpi_enum_parse(const struct kpi_enum_info *e, const char *s, int *ret_value, struct kpi_diag *diag)
{
    for (int i = 0; i < e->count; i++) {
        if (s && strcmp(s, e->names[i]) == 0) {
            *ret_value = i;
            return 0;
        }
    }
    char expected[256] = "";
    size_t used = 0;
    for (int i = 0; i < e->count; i++) {
        const char *sep = i == 0 ? "" : (i == e->count - 1 ? " or " : ", ");
        int n = snprintf(expected + used, sizeof(expected) - used, "%s%s", sep, e->names[i]);
        if (n < 0 || (size_t)n >= sizeof(expected) - used)
            break;
        used += (size_t)n;
    }
    return kpi_diag_set(diag, -EINVAL, "%s: unknown value '%.64s' (expected %s)", e->field, s ? s : "", expected);
}

void kpi_def_init(struct kpi_def *d)
{
    memset(d, 0, sizeof(*d));
    d->format = KPI_FORMAT_NUMBER;
    d->direction = KPI_DIR_UP;
    d->aggregation = KPI_AGG_SUM;
    d->granularity = KPI_GRAN_MONTH;
    d->tier = KPI_TIER_OPERATIONAL;
    d->indicator = KPI_IND_LAGGING;
    d->weight = 1.0;
    d->review_cadence = KPI_CADENCE_MONTHLY;
    d->visibility = KPI_VIS_ORG;
}

static void free_tags(struct kpi_def *d)
{
    for (size_t i = 0; i < d->n_tags; i++)
        free(d->tags[i]);
    free(d->tags);
    d->tags = NULL;
    d->n_tags = 0;
}

void kpi_def_clear(struct kpi_def *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->description);
    free(d->unit);
    free(d->formula);
    free(d->owner);
    free(d->team);
    free(d->parent);
    free_tags(d);
    free(d->targets);
    kpi_def_init(d);
}

int kpi_def_copy(const struct kpi_def *src, struct kpi_def *ret_dst)
{
    struct kpi_def d = *src;
    d.name = kpi_strdup_or_null(src->name);
    d.description = kpi_strdup_or_null(src->description);
    d.unit = kpi_strdup_or_null(src->unit);
    d.formula = kpi_strdup_or_null(src->formula);
    d.owner = kpi_strdup_or_null(src->owner);
    d.team = kpi_strdup_or_null(src->team);
    d.parent = kpi_strdup_or_null(src->parent);
    d.tags = NULL;
    d.n_tags = 0;
    d.targets = NULL;
    d.n_targets = 0;
    bool failed = (src->name && !d.name) || (src->description && !d.description) || (src->unit && !d.unit) ||
                  (src->formula && !d.formula) || (src->owner && !d.owner) || (src->team && !d.team) || (src->parent && !d.parent);
    if (!failed && src->n_tags) {
        d.tags = calloc(src->n_tags, sizeof(char *));
        failed = !d.tags;
        for (size_t i = 0; !failed && i < src->n_tags; i++) {
            d.tags[i] = strdup(src->tags[i]);
            failed = !d.tags[i];
            d.n_tags = i + 1;
        }
    }
    if (!failed && src->n_targets) {
        d.targets = malloc(src->n_targets * sizeof(*d.targets));
        failed = !d.targets;
        if (!failed) {
            memcpy(d.targets, src->targets, src->n_targets * sizeof(*d.targets));
            d.n_targets = src->n_targets;
        }
    }
    if (failed) {
        kpi_def_clear(&d);
        return -ENOMEM;
    }
    *ret_dst = d;
    return 0;
}

bool kpi_def_equal(const struct kpi_def *a, const struct kpi_def *b)
{
    if (strcmp(a->key, b->key) != 0 || !kpi_streq(a->name, b->name) || !kpi_streq(a->description, b->description) ||
        !kpi_streq(a->unit, b->unit) || a->format != b->format || a->decimals != b->decimals || a->direction != b->direction ||
        a->aggregation != b->aggregation || a->granularity != b->granularity || !kpi_streq(a->formula, b->formula) ||
        a->tier != b->tier || a->indicator != b->indicator || !kpi_streq(a->owner, b->owner) || !kpi_streq(a->team, b->team) ||
        !kpi_streq(a->parent, b->parent) || a->weight != b->weight || a->review_cadence != b->review_cadence ||
        a->visibility != b->visibility || a->archived != b->archived || a->n_tags != b->n_tags || a->n_targets != b->n_targets)
        return false;
    for (size_t i = 0; i < a->n_targets; i++) {
        const struct kpi_target *x = &a->targets[i], *y = &b->targets[i];
        if (x->baseline != y->baseline || x->baseline_day != y->baseline_day || x->value != y->value || x->day != y->day ||
            x->low != y->low || x->high != y->high || x->at_risk_pct != y->at_risk_pct)
            return false;
    }
    for (size_t i = 0; i < a->n_tags; i++)
        if (strcmp(a->tags[i], b->tags[i]) != 0)
            return false;
    return true;
}

bool kpi_key_valid(const char *key)
{
    if (!key || !(key[0] >= 'a' && key[0] <= 'z'))
        return false;
    size_t n = 1;
    for (; key[n]; n++) {
        char c = key[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
        if (n >= KPI_KEY_MAX)
            return false;
    }
    return true;
}

int kpi_def_set_key(struct kpi_def *d, const char *key, struct kpi_diag *diag)
{
    if (!kpi_key_valid(key))
        return kpi_diag_set(diag, -EINVAL,
                            "key: '%.80s' is not a valid key (a lower-case letter, then up to 63 lower-case letters, "
                            "digits or '_')",
                            key ? key : "");
    kpi_strlcpy(d->key, key, sizeof(d->key));
    return 0;
}

/* Text fields may not hold control characters other than newline and tab (in descriptions). */
static bool text_ok(const char *s, bool multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t')))
            return false;
        if (*p == 0x7f)
            return false;
    }
    return true;
}

int kpi_text_set(char **field, const char *value, size_t max, bool multiline, const char *name, struct kpi_diag *diag)
{
    if (!value || !*value) {
        free(*field);
        *field = NULL;
        return 0;
    }
    size_t n = strlen(value);
    if (n > max)
        return kpi_diag_set(diag, -EINVAL, "%s: must be at most %zu bytes (got %zu)", name, max, n);
    if (!text_ok(value, multiline))
        return kpi_diag_set(diag, -EINVAL, "%s: must not contain control characters", name);
    if (!kpi_utf8_valid(value, n))
        return kpi_diag_set(diag, -EINVAL, "%s: must be valid UTF-8", name);
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

int kpi_def_set_string(char **field, const char *value, size_t max, const char *field_name, struct kpi_diag *diag)
{
    return kpi_text_set(field, value, max, strcmp(field_name, "description") == 0, field_name, diag);
}

int kpi_def_add_tag(struct kpi_def *d, const char *tag, struct kpi_diag *diag)
{
    size_t n = strlen(tag);
    if (n == 0 || n > KPI_TAG_MAX)
        return kpi_diag_set(diag, -EINVAL, "tags: each tag must be 1 to %d bytes", KPI_TAG_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = tag[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
              c == ':' || c == '/'))
            return kpi_diag_set(diag, -EINVAL, "tags: '%.64s' may only hold letters, digits and _ - . : /", tag);
    }
    for (size_t i = 0; i < d->n_tags; i++)
        if (strcmp(d->tags[i], tag) == 0)
            return 0;
    if (d->n_tags >= KPI_TAGS_MAX)
        return kpi_diag_set(diag, -EINVAL, "tags: at most %d tags", KPI_TAGS_MAX);
    char **grown = realloc(d->tags, (d->n_tags + 1) * sizeof(char *));
    if (!grown)
        return -ENOMEM;
    d->tags = grown;
    d->tags[d->n_tags] = strdup(tag);
    if (!d->tags[d->n_tags])
        return -ENOMEM;
    d->n_tags++;
    return 0;
}

static int set_tags(struct kpi_def *d, const char *value, struct kpi_diag *diag)
{
    free_tags(d);
    const char *p = value ? value : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && (*p == ' '))
            p++, len--;
        while (len && p[len - 1] == ' ')
            len--;
        if (len > KPI_TAG_MAX)
            return kpi_diag_set(diag, -EINVAL, "tags: each tag must be 1 to %d bytes", KPI_TAG_MAX);
        if (len) {
            char tag[KPI_TAG_MAX + 1];
            memcpy(tag, p, len);
            tag[len] = '\0';
            int r = kpi_def_add_tag(d, tag, diag);
            if (r < 0)
                return r;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static int parse_bool(const char *field, const char *value, bool *ret, struct kpi_diag *diag)
{
    if (kpi_streq(value, "true") || kpi_streq(value, "yes") || kpi_streq(value, "1")) {
        *ret = true;
        return 0;
    }
    if (kpi_streq(value, "false") || kpi_streq(value, "no") || kpi_streq(value, "0")) {
        *ret = false;
        return 0;
    }
    return kpi_diag_set(diag, -EINVAL, "%s: expected true or false, got '%.32s'", field, value ? value : "");
}

/* Every settable field once: how it is stored, so that setting a field from text and printing it
 * back as text (kpi_def_field_text) can never disagree. */
enum field_type { F_KEY, F_TEXT, F_PARENT, F_ENUM, F_DECIMALS, F_WEIGHT, F_TAGS, F_BOOL };

static const struct field_info {
    const char *name;
    enum field_type type;
    size_t offset;
    size_t max;                       /* F_TEXT: most bytes */
    const struct kpi_enum_info *info; /* F_ENUM */
} field_table[] = {
    {"key", F_KEY, offsetof(struct kpi_def, key), KPI_KEY_MAX, NULL},
    {"name", F_TEXT, offsetof(struct kpi_def, name), KPI_NAME_MAX, NULL},
    {"description", F_TEXT, offsetof(struct kpi_def, description), KPI_DESCRIPTION_MAX, NULL},
    {"unit", F_TEXT, offsetof(struct kpi_def, unit), KPI_UNIT_MAX, NULL},
    {"format", F_ENUM, offsetof(struct kpi_def, format), 0, &kpi_enum_format},
    {"decimals", F_DECIMALS, offsetof(struct kpi_def, decimals), 0, NULL},
    {"direction", F_ENUM, offsetof(struct kpi_def, direction), 0, &kpi_enum_direction},
    {"aggregation", F_ENUM, offsetof(struct kpi_def, aggregation), 0, &kpi_enum_aggregation},
    {"granularity", F_ENUM, offsetof(struct kpi_def, granularity), 0, &kpi_enum_granularity},
    {"formula", F_TEXT, offsetof(struct kpi_def, formula), KPI_FORMULA_MAX, NULL},
    {"tier", F_ENUM, offsetof(struct kpi_def, tier), 0, &kpi_enum_tier},
    {"indicator", F_ENUM, offsetof(struct kpi_def, indicator), 0, &kpi_enum_indicator},
    {"owner", F_TEXT, offsetof(struct kpi_def, owner), KPI_OWNER_MAX, NULL},
    {"team", F_TEXT, offsetof(struct kpi_def, team), KPI_TEAM_MAX, NULL},
    {"parent", F_PARENT, offsetof(struct kpi_def, parent), KPI_KEY_MAX, NULL},
    {"weight", F_WEIGHT, offsetof(struct kpi_def, weight), 0, NULL},
    {"review_cadence", F_ENUM, offsetof(struct kpi_def, review_cadence), 0, &kpi_enum_cadence},
    {"visibility", F_ENUM, offsetof(struct kpi_def, visibility), 0, &kpi_enum_visibility},
    {"tags", F_TAGS, offsetof(struct kpi_def, tags), 0, NULL},
    {"archived", F_BOOL, offsetof(struct kpi_def, archived), 0, NULL},
};

static const struct field_info *find_field(const char *name)
{
    for (size_t i = 0; i < sizeof(field_table) / sizeof(field_table[0]); i++)
        if (strcmp(field_table[i].name, name) == 0)
            return &field_table[i];
    return NULL;
}

/* Every enum field is stored as an int-sized enum. */
static int enum_get(const struct kpi_def *d, const struct field_info *f)
{
    int v;
    memcpy(&v, (const char *)d + f->offset, sizeof(int));
    return v;
}

int kpi_def_set_field(struct kpi_def *d, const char *field, const char *value, struct kpi_diag *diag)
{
    const struct field_info *f = find_field(field);
    if (!f)
        return kpi_diag_set(diag, -EINVAL, "unknown field '%.64s'", field);
    char **text = (char **)((char *)d + f->offset);
    switch (f->type) {
    case F_KEY:
        return kpi_def_set_key(d, value, diag);
    case F_PARENT:
        if (value && *value && !kpi_key_valid(value))
            return kpi_diag_set(diag, -EINVAL, "parent: '%.80s' is not a valid KPI key", value);
        return kpi_def_set_string(text, value, f->max, field, diag);
    case F_TEXT:
        return kpi_def_set_string(text, value, f->max, field, diag);
    case F_TAGS:
        return set_tags(d, value, diag);
    case F_BOOL:
        return parse_bool(field, value, (bool *)((char *)d + f->offset), diag);
    case F_DECIMALS: {
        int64_t v;
        if (!value || kpi_parse_int64(value, strlen(value), 0, KPI_DECIMALS_MAX, &v) < 0)
            return kpi_diag_set(diag, -EINVAL, "decimals: expected a whole number from 0 to %d, got '%.32s'", KPI_DECIMALS_MAX,
                                value ? value : "");
        d->decimals = (int)v;
        return 0;
    }
    case F_WEIGHT: {
        double v;
        if (!value || kpi_parse_double(value, strlen(value), &v) < 0 || v < 0 || v > 1e6)
            return kpi_diag_set(diag, -EINVAL, "weight: expected a number from 0 to 1000000, got '%.32s'", value ? value : "");
        d->weight = v;
        return 0;
    }
    case F_ENUM: {
        int v;
        int r = kpi_enum_parse(f->info, value, &v, diag);
        if (r < 0)
            return r;
        memcpy((char *)d + f->offset, &v, sizeof(int));
        return 0;
    }
    }
    return -EINVAL;
}

int kpi_def_field_text(const struct kpi_def *d, const char *field, struct kpi_buf *out, enum kpi_field_kind *ret_kind)
{
    const struct field_info *f = find_field(field);
    if (!f)
        return -EINVAL;
    int r;
    char num[64];
    switch (f->type) {
    case F_KEY:
        *ret_kind = KPI_FIELD_TEXT;
        r = kpi_buf_adds(out, d->key);
        break;
    case F_TEXT:
    case F_PARENT: {
        const char *text = *(char *const *)((const char *)d + f->offset);
        *ret_kind = KPI_FIELD_TEXT;
        if (!text)
            return 0;
        r = kpi_buf_adds(out, text);
        break;
    }
    case F_TAGS:
        *ret_kind = KPI_FIELD_LIST;
        for (size_t i = 0; i < d->n_tags; i++) {
            r = kpi_buf_printf(out, "%s%s", i ? "," : "", d->tags[i]);
            if (r < 0)
                return r;
        }
        return d->n_tags > 0;
    case F_DECIMALS:
        *ret_kind = KPI_FIELD_WORD;
        r = kpi_buf_printf(out, "%d", d->decimals);
        break;
    case F_WEIGHT:
        *ret_kind = KPI_FIELD_WORD;
        kpi_format_double(d->weight, num, sizeof(num));
        r = kpi_buf_adds(out, num);
        break;
    case F_BOOL:
        *ret_kind = KPI_FIELD_WORD;
        r = kpi_buf_adds(out, *(const bool *)((const char *)d + f->offset) ? "true" : "false");
        break;
    case F_ENUM:
        *ret_kind = KPI_FIELD_WORD;
        r = kpi_buf_adds(out, kpi_enum_name(f->info, enum_get(d, f)));
        break;
    default:
        return -EINVAL;
    }
    return r < 0 ? r : 1;
}

int kpi_def_set_target(struct kpi_def *d, const struct kpi_target *t, struct kpi_diag *diag)
{
    int r = kpi_target_validate(t, d->direction, diag);
    if (r < 0)
        return r;
    size_t i = 0;
    while (i < d->n_targets && d->targets[i].day < t->day)
        i++;
    if (i < d->n_targets && d->targets[i].day == t->day) {
        d->targets[i] = *t;
        return 0;
    }
    if (d->n_targets >= KPI_TARGETS_MAX)
        return kpi_diag_set(diag, -E2BIG, "targets: at most %d per KPI", KPI_TARGETS_MAX);
    struct kpi_target *grown = realloc(d->targets, (d->n_targets + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    d->targets = grown;
    memmove(&d->targets[i + 1], &d->targets[i], (d->n_targets - i) * sizeof(*grown));
    d->targets[i] = *t;
    d->n_targets++;
    return 0;
}

int kpi_def_remove_target(struct kpi_def *d, int64_t day)
{
    for (size_t i = 0; i < d->n_targets; i++) {
        if (d->targets[i].day == day) {
            memmove(&d->targets[i], &d->targets[i + 1], (d->n_targets - i - 1) * sizeof(*d->targets));
            d->n_targets--;
            return 0;
        }
    }
    return -ENOENT;
}

int kpi_def_validate(const struct kpi_def *d, struct kpi_diag *diag)
{
    if (!kpi_key_valid(d->key))
        return kpi_diag_set(diag, -EINVAL,
                            "key: '%.80s' is not a valid key (a lower-case letter, then up to 63 lower-case letters, "
                            "digits or '_')",
                            d->key);
    if (!d->name || !*d->name)
        return kpi_diag_set(diag, -EINVAL, "name: is required");
    if (strlen(d->name) > KPI_NAME_MAX)
        return kpi_diag_set(diag, -EINVAL, "name: must be at most %d bytes", KPI_NAME_MAX);
    if (d->description && strlen(d->description) > KPI_DESCRIPTION_MAX)
        return kpi_diag_set(diag, -EINVAL, "description: must be at most %d bytes", KPI_DESCRIPTION_MAX);
    if (d->unit && strlen(d->unit) > KPI_UNIT_MAX)
        return kpi_diag_set(diag, -EINVAL, "unit: must be at most %d bytes", KPI_UNIT_MAX);
    if (d->owner && strlen(d->owner) > KPI_OWNER_MAX)
        return kpi_diag_set(diag, -EINVAL, "owner: must be at most %d bytes", KPI_OWNER_MAX);
    if (d->team && strlen(d->team) > KPI_TEAM_MAX)
        return kpi_diag_set(diag, -EINVAL, "team: must be at most %d bytes", KPI_TEAM_MAX);
    if (d->formula && strlen(d->formula) > KPI_FORMULA_MAX)
        return kpi_diag_set(diag, -EINVAL, "formula: must be at most %d bytes", KPI_FORMULA_MAX);
    if (d->decimals < 0 || d->decimals > KPI_DECIMALS_MAX)
        return kpi_diag_set(diag, -EINVAL, "decimals: must be from 0 to %d", KPI_DECIMALS_MAX);
    if (!isfinite(d->weight) || d->weight < 0 || d->weight > 1e6)
        return kpi_diag_set(diag, -EINVAL, "weight: must be a number from 0 to 1000000");
    if ((int)d->format < 0 || d->format >= KPI_FORMAT__COUNT || (int)d->direction < 0 || d->direction >= KPI_DIR__COUNT ||
        (int)d->aggregation < 0 || d->aggregation >= KPI_AGG__COUNT || (int)d->granularity < 0 ||
        d->granularity >= KPI_GRAN__COUNT || (int)d->tier < 0 || d->tier >= KPI_TIER__COUNT || (int)d->indicator < 0 ||
        d->indicator >= KPI_IND__COUNT || (int)d->review_cadence < 0 || d->review_cadence >= KPI_CADENCE__COUNT ||
        (int)d->visibility < 0 || d->visibility >= KPI_VIS__COUNT)
        return kpi_diag_set(diag, -EINVAL, "an enumerated field holds an out-of-range value");
    if (d->parent) {
        if (!kpi_key_valid(d->parent))
            return kpi_diag_set(diag, -EINVAL, "parent: '%.80s' is not a valid KPI key", d->parent);
        if (strcmp(d->parent, d->key) == 0)
            return kpi_diag_set(diag, -EINVAL, "parent: a KPI cannot be its own parent");
    }
    if (d->n_tags > KPI_TAGS_MAX)
        return kpi_diag_set(diag, -EINVAL, "tags: at most %d tags", KPI_TAGS_MAX);
    if (d->n_targets > KPI_TARGETS_MAX)
        return kpi_diag_set(diag, -E2BIG, "targets: at most %d per KPI", KPI_TARGETS_MAX);
    for (size_t i = 0; i < d->n_targets; i++) {
        int r = kpi_target_validate(&d->targets[i], d->direction, diag);
        if (r < 0) {
            kpi_diag_prefix(diag, "targets[%zu]: ", i);
            return r;
        }
        if (i > 0 && d->targets[i - 1].day >= d->targets[i].day)
            return kpi_diag_set(diag, -EINVAL, "targets[%zu]: two targets end on the same date (or are not sorted by date)", i);
    }
    return 0;
}
