/*
 * The KPI definition (DESIGN.md section 3) and its validation.
 *
 * A struct kpi_def owns its strings (heap, freed by kpi_def_clear). Enumerations have one string
 * table each, used for parsing and printing alike, so the CLI, JSON and YAML spell values the same.
 * Validation names the field in its diagnostic: "granularity: unknown value 'fortnight' (expected
 * day, week, month, quarter or year)".
 */
#ifndef KPI_MODEL_H
#define KPI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi/error.h"
#include "kpi/period.h"

struct kpi_target; /* kpi/status.h */

#define KPI_KEY_MAX 64
#define KPI_NAME_MAX 200
#define KPI_DESCRIPTION_MAX 4000
#define KPI_UNIT_MAX 32
#define KPI_OWNER_MAX 200
#define KPI_TEAM_MAX 100
#define KPI_FORMULA_MAX 4000
#define KPI_TAG_MAX 64
#define KPI_TAGS_MAX 32
#define KPI_DECIMALS_MAX 10

enum kpi_format { KPI_FORMAT_NUMBER, KPI_FORMAT_PERCENT, KPI_FORMAT_CURRENCY, KPI_FORMAT_DURATION, KPI_FORMAT__COUNT };
enum kpi_direction { KPI_DIR_UP, KPI_DIR_DOWN, KPI_DIR_RANGE, KPI_DIR__COUNT };
enum kpi_aggregation {
    KPI_AGG_SUM,
    KPI_AGG_AVG,
    KPI_AGG_MIN,
    KPI_AGG_MAX,
    KPI_AGG_LAST,
    KPI_AGG_FIRST,
    KPI_AGG_COUNT,
    KPI_AGG__COUNT
};
enum kpi_tier { KPI_TIER_NORTH_STAR, KPI_TIER_STRATEGIC, KPI_TIER_OPERATIONAL, KPI_TIER_DIAGNOSTIC, KPI_TIER__COUNT };
enum kpi_indicator { KPI_IND_LAGGING, KPI_IND_LEADING, KPI_IND__COUNT };
enum kpi_cadence { KPI_CADENCE_WEEKLY, KPI_CADENCE_MONTHLY, KPI_CADENCE_QUARTERLY, KPI_CADENCE__COUNT };
enum kpi_visibility { KPI_VIS_ORG, KPI_VIS_TEAM, KPI_VIS_PRIVATE, KPI_VIS__COUNT };

/* One enumerated field: its name and the spelling of each value, in enum order. */
struct kpi_enum_info {
    const char *field;
    const char *const *names;
    int count;
};

extern const struct kpi_enum_info kpi_enum_format, kpi_enum_direction, kpi_enum_aggregation, kpi_enum_granularity, kpi_enum_tier,
    kpi_enum_indicator, kpi_enum_cadence, kpi_enum_visibility;

const char *kpi_enum_name(const struct kpi_enum_info *e, int value);
/* Parses a value; on failure fills diag with "FIELD: unknown value 'x' (expected a, b or c)". */
int kpi_enum_parse(const struct kpi_enum_info *e, const char *s, int *ret_value, struct kpi_diag *diag);

struct kpi_def {
    int64_t id; /* 0 until stored */
    char key[KPI_KEY_MAX + 1];
    char *name;
    char *description;
    char *unit;
    enum kpi_format format;
    int decimals;
    enum kpi_direction direction;
    enum kpi_aggregation aggregation;
    enum kpi_granularity granularity;
    char *formula; /* NULL for measured KPIs */
    enum kpi_tier tier;
    enum kpi_indicator indicator;
    char *owner;
    char *team;
    char *parent; /* key of the parent KPI or NULL */
    double weight;
    enum kpi_cadence review_cadence;
    enum kpi_visibility visibility;
    char **tags;
    size_t n_tags;
    bool archived;
    int64_t created_ms;
    int64_t updated_ms;
    /* Successive targets, sorted by date (see kpi/status.h), owned by the definition. */
    struct kpi_target *targets;
    size_t n_targets;
};

#define KPI_TARGETS_MAX 100

/* Fills d with the defaults (format number, 0 decimals, direction up, aggregation sum, granularity
 * month, tier operational, indicator lagging, weight 1, cadence monthly, visibility org). */
void kpi_def_init(struct kpi_def *d);
void kpi_def_clear(struct kpi_def *d);
int kpi_def_copy(const struct kpi_def *src, struct kpi_def *ret_dst);
bool kpi_def_equal(const struct kpi_def *a, const struct kpi_def *b);

bool kpi_key_valid(const char *key);
int kpi_def_set_key(struct kpi_def *d, const char *key, struct kpi_diag *diag);
/* Replaces a heap string (NULL or "" clears it) after the checks every text gets: at most max
 * bytes, valid UTF-8, no control characters (newlines and tabs allowed when multiline). */
int kpi_text_set(char **field, const char *value, size_t max, bool multiline, const char *name, struct kpi_diag *diag);
/* Replaces a string field of a definition (only "description" may span lines). */
int kpi_def_set_string(char **field, const char *value, size_t max, const char *field_name, struct kpi_diag *diag);
/* Sets one field by name from text, as the CLI and YAML give it ("decimals", "2"). Unknown field
 * names are rejected. Tags are given comma-separated. */
int kpi_def_set_field(struct kpi_def *d, const char *field, const char *value, struct kpi_diag *diag);
int kpi_def_add_tag(struct kpi_def *d, const char *tag, struct kpi_diag *diag);

/* Adds a target, or replaces the one that ends on the same date; keeps targets sorted by date. The
 * target is validated for the KPI's direction. */
int kpi_def_set_target(struct kpi_def *d, const struct kpi_target *t, struct kpi_diag *diag);
/* Removes the target ending on `day`; -ENOENT when there is none. */
int kpi_def_remove_target(struct kpi_def *d, int64_t day);

/* How a field's text is shown: TEXT is free text (quoted when printed), WORD an enumerated value,
 * number or boolean, LIST the tags (comma-separated). */
enum kpi_field_kind {
    KPI_FIELD_TEXT,
    KPI_FIELD_WORD,
    KPI_FIELD_LIST,
};

/* Appends the text of one field of d to out, exactly as kpi_def_set_field reads it back ("2",
 * "month", "saas,revenue"). Returns 1 when the field is set, 0 when it is not (an optional string
 * that is NULL, no tags: nothing is appended), -EINVAL for an unknown field, or a kpi_buf error. */
struct kpi_buf;
int kpi_def_field_text(const struct kpi_def *d, const char *field, struct kpi_buf *out, enum kpi_field_kind *ret_kind);

/* Checks the whole definition (key, name present, lengths, decimals 0..10, weight finite and >= 0,
 * parent not itself, tags, every target valid for the direction and no two ending on the same
 * date). Cross-KPI checks (parent exists, formula inputs) are the store's. */
int kpi_def_validate(const struct kpi_def *d, struct kpi_diag *diag);

/* Names of every settable field, NULL-terminated, in documentation order. */
extern const char *const kpi_def_fields[];

#endif
