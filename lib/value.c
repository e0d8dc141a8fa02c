/* Public accessors of runlog_value (the tree is defined in format/rlformat.h). */
#include <math.h>

#include "internal.h"

runlog_type runlog_value_type(const runlog_value *v) { return v ? (runlog_type)v->type : RUNLOG_NULL; }
int runlog_value_bool(const runlog_value *v) { return v && v->type == RUNLOG_BOOL ? v->u.b : 0; }
int64_t runlog_value_int(const runlog_value *v) { return v && v->type == RUNLOG_INT ? v->u.i : 0; }

double runlog_value_float(const runlog_value *v)
{
    if (v && v->type == RUNLOG_FLOAT)
        return v->u.f;
    if (v && v->type == RUNLOG_INT)
        return (double)v->u.i;
    return NAN;
}

const char *runlog_value_string(const runlog_value *v, size_t *len)
{
    if (!v || (v->type != RUNLOG_STRING && v->type != RUNLOG_BYTES))
        return NULL;
    if (len)
        *len = v->n;
    return v->u.s;
}

size_t runlog_value_count(const runlog_value *v)
{
    return v && (v->type == RUNLOG_LIST || v->type == RUNLOG_MAP) ? v->n : 0;
}

const runlog_value *runlog_value_item(const runlog_value *v, size_t i)
{
    return i < runlog_value_count(v) ? &v->u.items[i] : NULL;
}

const char *runlog_value_key(const runlog_value *v, size_t i, size_t *len)
{
    if (!v || v->type != RUNLOG_MAP || i >= v->n)
        return NULL;
    if (len)
        *len = v->keys[i].n;
    return v->keys[i].p;
}

const runlog_value *runlog_value_get(const runlog_value *v, const char *key)
{
    if (!v || v->type != RUNLOG_MAP || !key)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = v->n; i-- > 0;)
        if (v->keys[i].n == len && memcmp(v->keys[i].p, key, len) == 0)
            return &v->u.items[i];
    return NULL;
}
