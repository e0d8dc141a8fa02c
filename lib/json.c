/* JSON text <-> values: JSON input parsed with jansson into CBOR (§5.1);
 * values rendered as JSON text by a small emitter (spec/EXPORTS.md §1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "internal.h"
#include "rlu.h"

/* depth: where the value will sit inside its record body, counted as readers
 * count it (§5.1): a list or map at depth RUNLOG_MAX_DEPTH or deeper is refused. */
static int json_value_to_cbor(rl_buf *out, json_t *j, unsigned depth)
{
    if ((json_is_array(j) || json_is_object(j)) && depth >= RUNLOG_MAX_DEPTH)
        return rl_fail(RUNLOG_ETOOLARGE, "JSON nested deeper than the limit of %u levels", RUNLOG_MAX_DEPTH);
    int rc;
    switch (json_typeof(j)) {
    case JSON_NULL: return rl_cbor_null(out);
    case JSON_TRUE: return rl_cbor_bool(out, 1);
    case JSON_FALSE: return rl_cbor_bool(out, 0);
    case JSON_INTEGER: return rl_cbor_int(out, json_integer_value(j));
    case JSON_REAL: return rl_cbor_float(out, json_real_value(j));
    case JSON_STRING: {
        size_t n = json_string_length(j);
        if (n > RUNLOG_MAX_STRING)
            return rl_fail(RUNLOG_ETOOLARGE, "JSON string of %zu bytes is over the limit", n);
        return rl_cbor_text(out, json_string_value(j), n);
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if ((rc = rl_cbor_array(out, n)))
            return rc;
        for (size_t i = 0; i < n; i++)
            if ((rc = json_value_to_cbor(out, json_array_get(j, i), depth + 1)))
                return rc;
        return 0;
    }
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        if ((rc = rl_cbor_map(out, json_object_size(j))))
            return rc;
        json_object_foreach(j, key, val) {
            size_t n = strlen(key);
            if (n > RUNLOG_MAX_KEY)
                return rl_fail(RUNLOG_EINVAL, "JSON key of %zu bytes is over the limit of %u", n,
                               RUNLOG_MAX_KEY);
            if ((rc = rl_cbor_text(out, key, n)) || (rc = json_value_to_cbor(out, val, depth + 1)))
                return rc;
        }
        return 0;
    }
    }
    return rl_fail(RUNLOG_EINVAL, "unknown JSON value");
}

int rl_json_to_cbor(rl_buf *out, const char *json, int want_object, unsigned depth)
{
    if (!json)
        return rl_fail(RUNLOG_EINVAL, "JSON text is NULL");
    json_error_t err;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &err);
    if (!j)
        return rl_fail(RUNLOG_EINVAL, "invalid JSON at line %d, column %d: %s", err.line,
                       err.column, err.text);
    int rc;
    if (want_object && !json_is_object(j))
        rc = rl_fail(RUNLOG_EINVAL, "a JSON object was expected");
    else
        rc = json_value_to_cbor(out, j, depth);
    if (rc == RUNLOG_ENOMEM)
        rl_fail(rc, "out of memory");
    json_decref(j);
    return rc;
}

/* ---- Values to JSON text ----------------------------------------------------- */

static int put_str(rl_buf *b, const char *s)
{
    return rl_buf_put(b, s, strlen(s));
}

/* The text encoders are lib/util's (rlu.h), shared with the exporters;
 * they write through a sink, here into an rl_buf. */
typedef struct rl_buf_sink {
    rl_buf *b;
    int rc;
} rl_buf_sink;

static void sink_rl_buf(void *ctx, const void *data, size_t len)
{
    rl_buf_sink *k = ctx;
    if (!k->rc)
        k->rc = rl_buf_put(k->b, data, len);
}

static int put_json_string(rl_buf *b, const char *s, size_t n)
{
    rl_buf_sink k = { b, 0 };
    rlu_json_str(sink_rl_buf, &k, s, n, 0);
    return k.rc;
}

static int put_base64(rl_buf *b, const uint8_t *p, size_t n)
{
    rl_buf_sink k = { b, rl_buf_u8(b, '"') };
    if (!k.rc)
        rlu_base64(sink_rl_buf, &k, p, n);
    return k.rc ? k.rc : rl_buf_u8(b, '"');
}

/* NaN and the infinities as JSON strings, or null (spec/EXPORTS.md §1.2). */
static int put_double(rl_buf *b, double d, unsigned flags)
{
    char tmp[RLU_NUM_MAX];
    if ((isnan(d) || isinf(d)) && (flags & RUNLOG_JSON_NAN_NULL))
        return put_str(b, "null");
    if (isnan(d) || isinf(d))
        return put_str(b, isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    rlu_fmt_double(tmp, d);
    return put_str(b, tmp);
}

static int indent(rl_buf *b, unsigned flags, unsigned depth)
{
    if (!(flags & RUNLOG_JSON_PRETTY))
        return 0;
    int rc = rl_buf_u8(b, '\n');
    for (unsigned i = 0; !rc && i < depth; i++)
        rc = put_str(b, "  ");
    return rc;
}

static int put_value(rl_buf *b, const runlog_value *v, unsigned flags, unsigned depth)
{
    char tmp[32];
    int rc = 0;
    switch (v->type) {
    case RUNLOG_NULL: return put_str(b, "null");
    case RUNLOG_BOOL: return put_str(b, v->u.b ? "true" : "false");
    case RUNLOG_INT:
        snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
        return put_str(b, tmp);
    case RUNLOG_FLOAT: return put_double(b, v->u.f, flags);
    case RUNLOG_STRING: return put_json_string(b, v->u.s, v->n);
    case RUNLOG_BYTES: return put_base64(b, (const uint8_t *)v->u.s, v->n);
    case RUNLOG_LIST:
    case RUNLOG_MAP: {
        int map = v->type == RUNLOG_MAP;
        rc = rl_buf_u8(b, map ? '{' : '[');
        for (uint32_t i = 0; !rc && i < v->n; i++) {
            if (i)
                rc = rl_buf_u8(b, ',');
            if (!rc)
                rc = indent(b, flags, depth + 1);
            if (!rc && map) {
                rc = put_json_string(b, v->keys[i].p, v->keys[i].n);
                if (!rc)
                    rc = put_str(b, (flags & RUNLOG_JSON_PRETTY) ? ": " : ":");
            }
            if (!rc)
                rc = put_value(b, &v->u.items[i], flags, depth + 1);
        }
        if (!rc && v->n)
            rc = indent(b, flags, depth);
        return rc ? rc : rl_buf_u8(b, map ? '}' : ']');
    }
    }
    return RUNLOG_EINVAL;
}

int runlog_value_to_json(char **out, const runlog_value *v, unsigned flags)
{
    if (!out || !v)
        return rl_fail(RUNLOG_EINVAL, "runlog_value_to_json: NULL argument");
    rl_buf b = { 0 };
    int rc = put_value(&b, v, flags, 0);
    if (!rc)
        rc = rl_buf_u8(&b, 0);
    if (rc) {
        rl_buf_free(&b);
        return rl_fail(rc, "runlog_value_to_json: %s", runlog_strerror(rc));
    }
    *out = (char *)b.p;
    return 0;
}
