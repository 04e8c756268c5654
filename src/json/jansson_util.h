/*
 * Pieces shared by the files of src/json that read jansson values (parse.c, points.c); internal to
 * the module, since no other module sees jansson.
 */
#ifndef KPI_JSON_JANSSON_UTIL_H
#define KPI_JSON_JANSSON_UTIL_H

#include <jansson.h>

/* The JSON type of a value for messages: "an object", "a number", "null"... */
static inline const char *kpi_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

#endif
