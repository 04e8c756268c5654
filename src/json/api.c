/*
 * JSON pieces the HTTP API composes its answers from: RFC 9457 problem documents (with the
 * per-item errors of a rejected batch), quoted strings for envelopes such as list pages, and the
 * token records of `kpi token` and /api/v1/tokens.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

static int dump_into(struct kpi_buf *out, json_t *doc, enum kpi_json_style style)
{
    if (!doc)
        return -ENOMEM;
    size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17) | (style == KPI_JSON_PRETTY ? JSON_INDENT(2) : JSON_COMPACT);
    char *text = json_dumps(doc, flags);
    json_decref(doc);
    if (!text)
        return -ENOMEM;
    int r = kpi_buf_adds(out, text);
    free(text);
    return r;
}

int kpi_json_quote(struct kpi_buf *out, const char *s)
{
    json_t *str = json_string(s ? s : "");
    if (!str)
        return -EINVAL; /* not UTF-8 */
    char *text = json_dumps(str, JSON_ENCODE_ANY);
    json_decref(str);
    if (!text)
        return -ENOMEM;
    int r = kpi_buf_adds(out, text);
    free(text);
    return r;
}

/* "FIELD: reason" -> field, reason when the prefix looks like a field name ("value",
 * "dims.region", "column 3 (value)"); otherwise no field. */
static void split_message(const char *msg, char *field, size_t size, const char **ret_reason)
{
    field[0] = '\0';
    *ret_reason = msg;
    /* "unknown field 'x'" and "missing field 'x'" name their field inside the reason. */
    const char *quoted = NULL;
    if (strncmp(msg, "unknown field '", 15) == 0 || strncmp(msg, "missing field '", 15) == 0)
        quoted = msg + 15;
    if (quoted) {
        size_t n = strcspn(quoted, "'");
        if (quoted[n] == '\'' && n < size) {
            memcpy(field, quoted, n);
            field[n] = '\0';
        }
        return;
    }
    /* CSV: "column 3 (value): reason". */
    if (strncmp(msg, "column ", 7) == 0) {
        const char *open = strchr(msg, '('), *close = open ? strstr(open, "): ") : NULL;
        if (open && close && (size_t)(close - open - 1) < size) {
            memcpy(field, open + 1, (size_t)(close - open - 1));
            field[close - open - 1] = '\0';
            *ret_reason = msg;
            return;
        }
    }
    const char *colon = strstr(msg, ": ");
    if (!colon || (size_t)(colon - msg) >= size)
        return;
    for (const char *p = msg; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '[' || *p == ']'))
            return;
    memcpy(field, msg, (size_t)(colon - msg));
    field[colon - msg] = '\0';
    *ret_reason = colon + 2;
}

static const char *status_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

int kpi_json_problem(struct kpi_buf *out, int status, const char *detail, const struct kpi_ingest_report *rep)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("about:blank"));
    json_object_set_new(o, "title", json_string(status_title(status)));
    json_object_set_new(o, "status", json_integer(status));
    json_t *d = json_string(detail);
    json_object_set_new(o, "detail", d ? d : json_string("(detail is not valid UTF-8)"));
    if (rep) {
        json_t *errors = json_array();
        for (uint64_t i = 0; i < rep->n_errors && i < KPI_INGEST_ERRORS_KEPT; i++) {
            const struct kpi_ingest_error *e = &rep->errors[i];
            char field[64];
            const char *reason;
            split_message(e->msg, field, sizeof(field), &reason);
            json_t *item = json_object();
            /* A CSV syntax error names its line only in the message ("line 7, column 3: ..."). */
            uint64_t index = e->line;
            if (index == 0 && strncmp(e->msg, "line ", 5) == 0)
                index = strtoull(e->msg + 5, NULL, 10);
            json_object_set_new(item, "index", index ? json_integer((json_int_t)index) : json_null());
            json_object_set_new(item, "field", field[0] ? json_string(field) : json_null());
            json_t *r = json_string(reason);
            json_object_set_new(item, "reason", r ? r : json_string("(not valid UTF-8)"));
            json_array_append_new(errors, item);
        }
        json_object_set_new(o, "errors", errors);
        json_object_set_new(o, "error_count", json_integer((json_int_t)rep->n_errors));
        json_object_set_new(o, "rows", json_integer((json_int_t)rep->rows));
    }
    return dump_into(out, o, KPI_JSON_COMPACT);
}
