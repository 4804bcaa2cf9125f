/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <errno.h>
#include <stdio.h>

/* A short description of a JSON value for error messages ("42", "'abc'", "an array"). */
static const char *
describe(const json_t *v, char *buf, size_t size)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                snprintf(buf, size, "'%.64s'", json_string_value(v));
                return buf;
        case JSON_INTEGER:
                snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return buf;
        case JSON_REAL:
                snprintf(buf, size, "%g", json_real_value(v));
                return buf;
        case JSON_TRUE:
                return "true";
        case JSON_FALSE:
                return "false";
        case JSON_NULL:
                return "null";
        }
        return "?";
}

int
nvh_json_type_error(const char *what, const char *field, const char *type, const json_t *v,
                    struct nvh_err *err)
{
        char buf[80];

        return nvh_err_set(err, -EINVAL, "%s: '%s' is not %s: %s", what, field, type,
                           describe(v, buf, sizeof(buf)));
}

/* Trust boundary: buf is untrusted input of any size; only a bounded, well-formed object with
 * unique keys comes back. */
int
nvh_json_load_object(const char *buf, size_t len, size_t max_size, const char *what, json_t **ret,
                     struct nvh_err *err)
{
        _cleanup_json_ json_t *root = NULL;
        json_error_t jerr;

        if (len > max_size)
                return nvh_err_set(err, -E2BIG, "%s: larger than %zu bytes", what, max_size);
        root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return nvh_err_set(err, -EINVAL, "%s: invalid json at line %d column %d: %s", what,
                                   jerr.line, jerr.column, jerr.text);
        if (!json_is_object(root))
                return nvh_json_type_error(what, "(top level)", "an object", root, err);
        *ret = TAKE_PTR(root);
        return 0;
}
