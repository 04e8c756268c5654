/*
 * The client side of the HTTP API's JSON (see remote.h): the answers of `kpi serve` read back into
 * kpi's structs for the remote store, and the few request bodies json.h has no writer for. The
 * item shapes are those json.c and api.c write, so emit (server) and read (client) round-trip.
 */
#include "json/remote.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "json/json.h"
#include "json/parse.h"
#include "kpi/dims.h"
#include "kpi/time.h"

/* Most items one page may carry (the server's largest page holds 10,000 points). */
#define PAGE_ITEMS_MAX 1000000u

static int load(const char *text, size_t len, json_t **ret, struct kpi_diag *diag)
{
    json_error_t err;
    json_t *v = json_loadb(text, len, 0, &err);
    if (!v)
        return kpi_diag_set(diag, -EINVAL, "the server's answer is not JSON: line %d, column %d: %s", err.line, err.column,
                            err.text);
    *ret = v;
    return 0;
}

/* The items array and the cursor of a page (a bare array is a last page). */
static int page_items(json_t *root, json_t **ret_items, char *ret_cursor, size_t cursor_size, struct kpi_diag *diag)
{
    json_t *items = root, *next = NULL;
    if (json_is_object(root)) {
        items = json_object_get(root, "items");
        next = json_object_get(root, "next_cursor");
    }
    if (!json_is_array(items))
        return kpi_diag_set(diag, -EINVAL, "the server's answer is not a list page ({\"items\": [...], \"next_cursor\"})");
    if (json_array_size(items) > PAGE_ITEMS_MAX)
        return kpi_diag_set(diag, -E2BIG, "the server's page has more than %u items", PAGE_ITEMS_MAX);
    if (next && !json_is_null(next) && !json_is_string(next))
        return kpi_diag_set(diag, -EINVAL, "next_cursor: expected a string or null");
    const char *cursor = json_is_string(next) ? json_string_value(next) : "";
    if (kpi_strlcpy(ret_cursor, cursor, cursor_size) < 0)
        return kpi_diag_set(diag, -EINVAL, "next_cursor: longer than %zu bytes", cursor_size - 1);
    *ret_items = items;
    return 0;
}

/* ---- fields of an item ---- */

static int need_object(const json_t *v, const char *what, size_t index, struct kpi_diag *diag)
{
    if (!json_is_object(v))
        return kpi_diag_set(diag, -EINVAL, "%s %zu of the server's answer is not an object", what, index + 1);
    return 0;
}

/* A string field into a heap copy; null or absent gives NULL unless required. */
static int text_field(const json_t *o, const char *name, bool required, char **ret, struct kpi_diag *diag)
{
    const json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) {
        if (required)
            return kpi_diag_set(diag, -EINVAL, "%s: missing in the server's answer", name);
        *ret = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return kpi_diag_set(diag, -EINVAL, "%s: expected a string", name);
    char *copy = strdup(json_string_value(v));
    if (!copy)
        return -ENOMEM;
    *ret = copy;
    return 0;
}

/* A KPI key field: "" for null or absent. */
static int key_field(const json_t *o, const char *name, char *ret, size_t size, struct kpi_diag *diag)
{
    const json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) {
        ret[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || kpi_strlcpy(ret, json_string_value(v), size) < 0)
        return kpi_diag_set(diag, -EINVAL, "%s: expected a string of at most %zu bytes", name, size - 1);
    return 0;
}

static int int_field(const json_t *o, const char *name, int64_t *ret, struct kpi_diag *diag)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        return kpi_diag_set(diag, -EINVAL, "%s: expected an integer", name);
    *ret = (int64_t)json_integer_value(v);
    return 0;
}

/* A date field into a day; null or absent gives missing (when allowed). */
static int date_field(const json_t *o, const char *name, int64_t missing, bool nullable, int64_t *ret, struct kpi_diag *diag)
{
    const json_t *v = json_object_get(o, name);
    if ((!v || json_is_null(v)) && nullable) {
        *ret = missing;
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s || kpi_date_parse(s, strlen(s), ret) < 0)
        return kpi_diag_set(diag, -EINVAL, "%s: expected a date (YYYY-MM-DD)", name);
    return 0;
}

/* An RFC 3339 instant field into UTC milliseconds; null or absent gives missing (when allowed). */
static int instant_field(const json_t *o, const char *name, int64_t missing, bool nullable, int64_t *ret, struct kpi_diag *diag)
{
    const json_t *v = json_object_get(o, name);
    if ((!v || json_is_null(v)) && nullable) {
        *ret = missing;
        return 0;
    }
    const char *s = json_string_value(v);
    struct kpi_at at;
    if (!s || kpi_at_parse(s, strlen(s), &at) < 0 || at.is_date)
        return kpi_diag_set(diag, -EINVAL, "%s: expected an RFC 3339 instant", name);
    *ret = at.ms;
    return 0;
}

/* Grows *list to hold *n + more items of size bytes. */
static int grow(void **list, size_t n, size_t more, size_t size)
{
    if (more == 0)
        return 0;
    void *grown = realloc(*list, (n + more) * size);
    if (!grown)
        return -ENOMEM;
    *list = grown;
    memset((char *)grown + n * size, 0, more * size);
    return 0;
}

void kpi_json_read_problem(const char *text, size_t len, char *ret, size_t size)
{
    if (size == 0)
        return;
    ret[0] = '\0';
    json_t *v = json_loadb(text, len, 0, NULL);
    const char *detail = json_string_value(json_object_get(v, "detail"));
    if (!detail)
        detail = json_string_value(json_object_get(v, "title"));
    if (detail)
        kpi_strlcpy(ret, detail, size);
    json_decref(v);
}

int kpi_json_read_ready(const char *text, size_t len, int *ret_version, struct kpi_diag *diag)
{
    json_t *v = NULL;
    int r = load(text, len, &v, diag);
    if (r < 0)
        return r;
    const char *status = json_string_value(json_object_get(v, "status"));
    if (!status || strcmp(status, "ready") != 0) {
        json_decref(v);
        return kpi_diag_set(diag, -EINVAL, "the server is not ready");
    }
    const json_t *version = json_object_get(v, "schema_version");
    *ret_version = json_is_integer(version) ? (int)json_integer_value(version) : 0;
    json_decref(v);
    return 0;
}

/* ---- definitions ---- */

static int def_from_object(const json_t *o, struct kpi_def *ret_def, struct kpi_diag *diag)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return -ENOMEM;
    struct kpi_def d;
    int r = kpi_json_parse_def(text, strlen(text), NULL, &d, NULL, diag);
    free(text);
    if (r < 0)
        return r;
    int64_t created = 0, updated = 0;
    r = instant_field(o, "created_at", 0, true, &created, diag);
    if (r == 0)
        r = instant_field(o, "updated_at", 0, true, &updated, diag);
    if (r < 0) {
        kpi_def_clear(&d);
        return r;
    }
    d.created_ms = created;
    d.updated_ms = updated;
    *ret_def = d;
    return 0;
}

int kpi_json_read_def(const char *text, size_t len, struct kpi_def *ret_def, struct kpi_diag *diag)
{
    json_t *v = NULL;
    int r = load(text, len, &v, diag);
    if (r < 0)
        return r;
    r = json_is_object(v) ? def_from_object(v, ret_def, diag)
                          : kpi_diag_set(diag, -EINVAL, "the server's answer is not a KPI definition");
    json_decref(v);
    return r;
}

int kpi_json_read_def_page(const char *text, size_t len, struct kpi_def **list, size_t *n, char *ret_cursor, size_t cursor_size,
                           struct kpi_diag *diag)
{
    json_t *root = NULL, *items = NULL;
    int r = load(text, len, &root, diag);
    if (r < 0)
        return r;
    r = page_items(root, &items, ret_cursor, cursor_size, diag);
    if (r == 0)
        r = grow((void **)list, *n, json_array_size(items), sizeof(**list));
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (r < 0)
            break;
        r = need_object(item, "definition", i, diag);
        if (r == 0)
            r = def_from_object(item, &(*list)[*n], diag);
        if (r == 0)
            (*n)++;
        else
            kpi_diag_prefix(diag, "definition %zu: ", i + 1);
    }
    json_decref(root);
    return r;
}

/* ---- points ---- */

static int point_dims(const json_t *dims, char *canon, size_t size, struct kpi_diag *diag)
{
    canon[0] = '\0';
    if (!dims || json_is_null(dims))
        return 0;
    if (!json_is_object(dims))
        return kpi_diag_set(diag, -EINVAL, "dims: expected an object");
    struct kpi_dim d[KPI_DIMS_MAX];
    size_t n = 0;
    const char *k;
    json_t *v = NULL;
    json_object_foreach((json_t *)dims, k, v)
    {
        if (n == KPI_DIMS_MAX)
            return kpi_diag_set(diag, -EINVAL, "dims: more than %d", KPI_DIMS_MAX);
        if (!json_is_string(v))
            return kpi_diag_set(diag, -EINVAL, "dims.%s: expected a string", k);
        d[n++] = (struct kpi_dim){k, strlen(k), json_string_value(v), json_string_length(v)};
    }
    return kpi_dims_canon(d, n, canon, size, diag);
}

int kpi_json_read_point_page(const char *text, size_t len, kpi_json_point_fn fn, void *ctx, char *ret_cursor, size_t cursor_size,
                             struct kpi_diag *diag)
{
    json_t *root = NULL, *items = NULL;
    int r = load(text, len, &root, diag);
    if (r < 0)
        return r;
    r = page_items(root, &items, ret_cursor, cursor_size, diag);
    char canon[KPI_DIMS_CANON_MAX + 1];
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (r != 0)
            break;
        r = need_object(item, "point", i, diag);
        if (r < 0)
            break;
        const char *at = json_string_value(json_object_get(item, "at"));
        const json_t *value = json_object_get(item, "value");
        if (!at)
            r = kpi_diag_set(diag, -EINVAL, "point %zu: at: expected a string", i + 1);
        else if (!json_is_number(value))
            r = kpi_diag_set(diag, -EINVAL, "point %zu: value: expected a number", i + 1);
        else if ((r = point_dims(json_object_get(item, "dims"), canon, sizeof(canon), diag)) < 0)
            kpi_diag_prefix(diag, "point %zu: ", i + 1);
        else
            r = fn(ctx, at, json_number_value(value), canon);
    }
    json_decref(root);
    return r;
}

/* ---- reviews, actions, annotations, tokens ---- */

static int review_from_object(const json_t *o, struct kpi_review *rv, struct kpi_diag *diag)
{
    int r = int_field(o, "id", &rv->id, diag);
    if (r == 0)
        r = key_field(o, "kpi", rv->kpi, sizeof(rv->kpi), diag);
    if (r == 0)
        r = text_field(o, "team", false, &rv->team, diag);
    if (r == 0)
        r = date_field(o, "date", 0, false, &rv->day, diag);
    if (r == 0)
        r = text_field(o, "note", false, &rv->note, diag);
    if (r == 0)
        r = text_field(o, "author", false, &rv->author, diag);
    if (r == 0)
        r = instant_field(o, "created_at", 0, true, &rv->created_ms, diag);
    return r;
}

static int action_from_object(const json_t *o, struct kpi_action *a, struct kpi_diag *diag)
{
    int r = int_field(o, "id", &a->id, diag);
    if (r == 0)
        r = int_field(o, "review", &a->review_id, diag);
    if (r == 0)
        r = key_field(o, "kpi", a->kpi, sizeof(a->kpi), diag);
    if (r == 0)
        r = text_field(o, "text", false, &a->text, diag);
    if (r == 0)
        r = text_field(o, "owner", false, &a->owner, diag);
    if (r == 0)
        r = date_field(o, "due", INT64_MIN, true, &a->due_day, diag);
    if (r == 0)
        r = instant_field(o, "done_at", 0, true, &a->done_ms, diag);
    if (r == 0 && a->done_ms == 0 && json_is_true(json_object_get(o, "done")))
        a->done_ms = 1; /* done without a time: still done */
    if (r == 0)
        r = instant_field(o, "created_at", 0, true, &a->created_ms, diag);
    return r;
}

static int annotation_from_object(const json_t *o, struct kpi_annotation *a, struct kpi_diag *diag)
{
    int r = int_field(o, "id", &a->id, diag);
    if (r == 0)
        r = key_field(o, "kpi", a->kpi, sizeof(a->kpi), diag);
    if (r == 0)
        r = date_field(o, "date", 0, false, &a->day, diag);
    if (r == 0)
        r = text_field(o, "text", false, &a->text, diag);
    if (r == 0)
        r = instant_field(o, "created_at", 0, true, &a->created_ms, diag);
    return r;
}

static int token_from_object(const json_t *o, struct kpi_token *t, struct kpi_diag *diag)
{
    int r = key_field(o, "name", t->name, sizeof(t->name), diag);
    if (r == 0 && !t->name[0])
        r = kpi_diag_set(diag, -EINVAL, "name: missing in the server's answer");
    if (r == 0)
        r = instant_field(o, "created", 0, true, &t->created_ms, diag);
    return r;
}

/* Reads a page whose items convert with `from`; the item type is size bytes. */
static int read_page(const char *text, size_t len, void **list, size_t *n, size_t size, const char *what,
                     int (*from)(const json_t *o, void *item, struct kpi_diag *diag), char *ret_cursor, size_t cursor_size,
                     struct kpi_diag *diag)
{
    json_t *root = NULL, *items = NULL;
    int r = load(text, len, &root, diag);
    if (r < 0)
        return r;
    r = page_items(root, &items, ret_cursor, cursor_size, diag);
    if (r == 0)
        r = grow(list, *n, json_array_size(items), size);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (r < 0)
            break;
        r = need_object(item, what, i, diag);
        if (r == 0) {
            /* Counted before the check, so that the caller frees what a failed item holds. */
            void *slot = (char *)*list + *n * size;
            (*n)++;
            r = from(item, slot, diag);
            if (r < 0)
                kpi_diag_prefix(diag, "%s %zu: ", what, i + 1);
        }
    }
    json_decref(root);
    return r;
}

static int review_item(const json_t *o, void *item, struct kpi_diag *diag)
{
    return review_from_object(o, item, diag);
}

static int action_item(const json_t *o, void *item, struct kpi_diag *diag)
{
    return action_from_object(o, item, diag);
}

static int annotation_item(const json_t *o, void *item, struct kpi_diag *diag)
{
    return annotation_from_object(o, item, diag);
}

static int token_item(const json_t *o, void *item, struct kpi_diag *diag)
{
    return token_from_object(o, item, diag);
}

int kpi_json_read_review_page(const char *text, size_t len, struct kpi_review **list, size_t *n, char *ret_cursor,
                              size_t cursor_size, struct kpi_diag *diag)
{
    return read_page(text, len, (void **)list, n, sizeof(**list), "review", review_item, ret_cursor, cursor_size, diag);
}

int kpi_json_read_action_page(const char *text, size_t len, struct kpi_action **list, size_t *n, char *ret_cursor,
                              size_t cursor_size, struct kpi_diag *diag)
{
    return read_page(text, len, (void **)list, n, sizeof(**list), "action", action_item, ret_cursor, cursor_size, diag);
}

int kpi_json_read_annotation_page(const char *text, size_t len, struct kpi_annotation **list, size_t *n, char *ret_cursor,
                                  size_t cursor_size, struct kpi_diag *diag)
{
    return read_page(text, len, (void **)list, n, sizeof(**list), "annotation", annotation_item, ret_cursor, cursor_size, diag);
}

int kpi_json_read_token_page(const char *text, size_t len, struct kpi_token **list, size_t *n, char *ret_cursor, size_t cursor_size,
                             struct kpi_diag *diag)
{
    return read_page(text, len, (void **)list, n, sizeof(**list), "token", token_item, ret_cursor, cursor_size, diag);
}

int kpi_json_read_review_answer(const char *text, size_t len, struct kpi_review *review, struct kpi_action *actions,
                                size_t n_actions, struct kpi_diag *diag)
{
    json_t *v = NULL;
    int r = load(text, len, &v, diag);
    if (r < 0)
        return r;
    int64_t id = 0, created = 0;
    r = json_is_object(v) ? int_field(v, "id", &id, diag) : kpi_diag_set(diag, -EINVAL, "the server's answer is not a review");
    if (r == 0)
        r = instant_field(v, "created_at", 0, true, &created, diag);
    const json_t *list = json_object_get(v, "actions");
    if (r == 0 && n_actions > 0 && (!json_is_array(list) || json_array_size(list) != n_actions))
        r = kpi_diag_set(diag, -EINVAL, "actions: the server's answer does not list the %zu action items sent", n_actions);
    for (size_t i = 0; r == 0 && i < n_actions; i++) {
        const json_t *a = json_array_get(list, i);
        int64_t action_id = 0, action_created = created;
        r = json_is_object(a) ? int_field(a, "id", &action_id, diag)
                              : kpi_diag_set(diag, -EINVAL, "actions[%zu]: not an object", i);
        if (r == 0)
            r = instant_field(a, "created_at", created, true, &action_created, diag);
        if (r == 0) {
            actions[i].id = action_id;
            actions[i].review_id = id;
            actions[i].created_ms = action_created;
        }
    }
    if (r == 0) {
        review->id = id;
        review->created_ms = created;
    }
    json_decref(v);
    return r;
}

int kpi_json_read_id(const char *text, size_t len, int64_t *ret_id, struct kpi_diag *diag)
{
    json_t *v = NULL;
    int r = load(text, len, &v, diag);
    if (r < 0)
        return r;
    r = json_is_object(v) ? int_field(v, "id", ret_id, diag) : kpi_diag_set(diag, -EINVAL, "the server's answer is not an object");
    json_decref(v);
    return r;
}

/* ---- request bodies ---- */

static int set_date(json_t *o, const char *name, int64_t day)
{
    char text[16];
    kpi_date_format(day, text, sizeof(text));
    return json_object_set_new(o, name, json_string(text));
}

static int set_text(json_t *o, const char *name, const char *s)
{
    if (!s)
        return 0;
    json_t *v = json_string(s);
    if (!v)
        return -EINVAL; /* not UTF-8 */
    return json_object_set_new(o, name, v) == 0 ? 0 : -ENOMEM;
}

static int dump_compact(struct kpi_buf *out, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!text)
        return -ENOMEM;
    int r = kpi_buf_adds(out, text);
    free(text);
    return r;
}

int kpi_json_review_input(struct kpi_buf *out, const struct kpi_review *rv, const struct kpi_action *actions, size_t n)
{
    json_t *o = json_object();
    if (!o)
        return -ENOMEM;
    int r = set_date(o, "date", rv->day) == 0 ? 0 : -ENOMEM;
    if (r == 0)
        r = set_text(o, "note", rv->note ? rv->note : "");
    if (r == 0)
        r = set_text(o, "author", rv->author);
    if (r == 0)
        r = set_text(o, "team", rv->team);
    if (r == 0 && n > 0) {
        json_t *list = json_array();
        if (!list || json_object_set_new(o, "actions", list) < 0)
            r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++) {
            json_t *a = json_object();
            if (!a || json_array_append_new(list, a) < 0) {
                r = -ENOMEM;
                break;
            }
            r = set_text(a, "text", actions[i].text ? actions[i].text : "");
            if (r == 0)
                r = set_text(a, "owner", actions[i].owner);
            if (r == 0 && actions[i].due_day != INT64_MIN)
                r = set_date(a, "due", actions[i].due_day) == 0 ? 0 : -ENOMEM;
        }
    }
    if (r < 0) {
        json_decref(o);
        return r;
    }
    return dump_compact(out, o);
}

int kpi_json_annotation_input(struct kpi_buf *out, const struct kpi_annotation *a)
{
    json_t *o = json_object();
    if (!o)
        return -ENOMEM;
    int r = set_date(o, "date", a->day) == 0 ? 0 : -ENOMEM;
    if (r == 0)
        r = set_text(o, "text", a->text ? a->text : "");
    if (r < 0) {
        json_decref(o);
        return r;
    }
    return dump_compact(out, o);
}
