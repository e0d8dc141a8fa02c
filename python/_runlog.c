/*
 * _runlog.c — runlog._runlog, the CPython extension over librunlog.
 *
 * The low layer of the Python package: one Python type per C handle
 * (Writer, Table, Artifact, Capture, Reader, History, Cursor), one method per
 * C call, errors raised as runlog.Error subclasses carrying
 * runlog_error_detail(). Everything friendlier (runlog.open, runlog.runs,
 * runlog.wandb) is pure Python in python/runlog/ on top of this.
 *
 * Rules kept here:
 *  - nothing is printed;
 *  - the GIL is released around calls that may wait for the disk (open,
 *    flush, finish, reads); each handle has its own lock, because the C
 *    handles may be used by one thread at a time and, once the GIL is
 *    released, another Python thread could reach the same handle;
 *  - arrays handed out by History view the library's memory; the History
 *    object is their base and owns the runlog_history, so they stay valid
 *    as long as any array (or the History) is alive.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <runlog.h>
#include <runlog_export.h>

/* ---- Errors ------------------------------------------------------------------ */

#define N_CODES 16
static PyObject *Error;
static PyObject *code_types[N_CODES]; /* index: -code */

static PyObject *raise_rc(int rc)
{
    const char *detail = runlog_error_detail();
    const char *text = detail && *detail ? detail : runlog_strerror(rc);
    PyObject *type = (rc < 0 && -rc < N_CODES && code_types[-rc]) ? code_types[-rc] : Error;
    PyObject *msg = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
    if (!msg)
        return NULL;
    PyObject *exc = PyObject_CallOneArg(type, msg);
    if (exc) {
        PyObject *code = PyLong_FromLong(rc);
        if (code) {
            PyObject_SetAttrString(exc, "code", code);
            Py_DECREF(code);
        }
        PyObject_SetAttrString(exc, "detail", msg);
        PyErr_SetObject(type, exc);
        Py_DECREF(exc);
    }
    Py_DECREF(msg);
    return NULL;
}

/* ---- Per-handle locks ---------------------------------------------------------- */

/* Takes l; waits without the GIL when another thread holds it (that thread
 * may itself be waiting for the GIL to come back). */
static void hold(PyThread_type_lock l)
{
    if (PyThread_acquire_lock(l, NOWAIT_LOCK))
        return;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(l, WAIT_LOCK);
    Py_END_ALLOW_THREADS
}
static void release(PyThread_type_lock l) { PyThread_release_lock(l); }

/* ---- Values ---------------------------------------------------------------------- */

static PyObject *text_to_py(const char *s, size_t n)
{
    /* Strings are UTF-8 by the format's rules; a hostile file's are not
     * trusted: undecodable bytes survive as surrogate escapes. */
    return PyUnicode_DecodeUTF8(s ? s : "", (Py_ssize_t)(s ? n : 0), "surrogateescape");
}

static PyObject *value_to_py(const runlog_value *v)
{
    if (!v)
        Py_RETURN_NONE;
    size_t n = 0;
    const char *s;
    switch (runlog_value_type(v)) {
    case RUNLOG_NULL: Py_RETURN_NONE;
    case RUNLOG_BOOL: return PyBool_FromLong(runlog_value_bool(v));
    case RUNLOG_INT: return PyLong_FromLongLong(runlog_value_int(v));
    case RUNLOG_FLOAT: return PyFloat_FromDouble(runlog_value_float(v));
    case RUNLOG_STRING:
        s = runlog_value_string(v, &n);
        return text_to_py(s, n);
    case RUNLOG_BYTES:
        s = runlog_value_string(v, &n);
        return PyBytes_FromStringAndSize(s ? s : "", (Py_ssize_t)(s ? n : 0));
    case RUNLOG_LIST: {
        size_t count = runlog_value_count(v);
        PyObject *list = PyList_New((Py_ssize_t)count);
        if (!list)
            return NULL;
        for (size_t i = 0; i < count; i++) {
            PyObject *item = value_to_py(runlog_value_item(v, i));
            if (!item) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)i, item);
        }
        return list;
    }
    case RUNLOG_MAP: {
        size_t count = runlog_value_count(v);
        PyObject *dict = PyDict_New();
        if (!dict)
            return NULL;
        for (size_t i = 0; i < count; i++) {
            size_t kn = 0;
            const char *k = runlog_value_key(v, i, &kn);
            PyObject *key = text_to_py(k, kn);
            PyObject *item = key ? value_to_py(runlog_value_item(v, i)) : NULL;
            if (!item || PyDict_SetItem(dict, key, item) < 0) {
                Py_XDECREF(key);
                Py_XDECREF(item);
                Py_DECREF(dict);
                return NULL;
            }
            Py_DECREF(key);
            Py_DECREF(item);
        }
        return dict;
    }
    }
    Py_RETURN_NONE;
}

static int digest_from_py(runlog_digest *out, PyObject *o)
{
    char *p;
    Py_ssize_t n;
    if (PyBytes_AsStringAndSize(o, &p, &n) < 0)
        return -1;
    if (n != 16) {
        PyErr_Format(code_types[-RUNLOG_EINVAL], "a digest is 16 bytes, not %zd", n);
        return -1;
    }
    memcpy(out->bytes, p, 16);
    return 0;
}

static PyObject *digest_to_py(const runlog_digest *d)
{
    return PyBytes_FromStringAndSize((const char *)d->bytes, 16);
}

/* Optional str argument: NULL for None. Returns 0, or -1 with an exception. */
static int opt_str(PyObject *o, const char **out)
{
    if (!o || o == Py_None) {
        *out = NULL;
        return 0;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (!s)
        return -1;
    if ((size_t)n != strlen(s)) {
        PyErr_SetString(PyExc_ValueError, "embedded NUL character");
        return -1;
    }
    *out = s;
    return 0;
}

/* A list of str as a C array; *keep holds the list alive. */
static int str_array(PyObject *seq, const char ***out, size_t *n, PyObject **keep)
{
    *out = NULL;
    *n = 0;
    *keep = NULL;
    if (!seq || seq == Py_None)
        return 0;
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of str");
    if (!fast)
        return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    const char **arr = PyMem_Calloc((size_t)count + 1, sizeof *arr);
    if (!arr) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyUnicode_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "expected a sequence of str");
            goto fail;
        }
        if (opt_str(item, &arr[i]) < 0)
            goto fail;
    }
    *out = arr;
    *n = (size_t)count;
    *keep = fast;
    return 0;
fail:
    PyMem_Free(arr);
    Py_DECREF(fast);
    return -1;
}

/* ---- Writer -------------------------------------------------------------------- */

typedef struct CaptureObject CaptureObject;

typedef struct {
    PyObject_HEAD
    runlog_writer *w;
    PyThread_type_lock lock;
    CaptureObject *capture; /* borrowed: the live capture, if any */
    PyObject *path;
} WriterObject;

struct CaptureObject {
    PyObject_HEAD
    runlog_capture *c;
    WriterObject *writer; /* strong */
};

static PyTypeObject WriterType, TableType, ArtifactType, CaptureType, ReaderType, HistoryType,
    CursorType;

static int writer_ok(WriterObject *self)
{
    if (!self->w) {
        PyErr_SetString(code_types[-RUNLOG_ESTATE], "the writer is closed");
        return 0;
    }
    return 1;
}

static int capture_stop_locked(CaptureObject *c);

static int Writer_init(WriterObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "path", "run_id", "project", "name", "group", "job_type", "notes",
                              "tags", "flush_interval_ms", "synchronous", "zstd_level", NULL };
    PyObject *path = NULL, *run_id = NULL, *project = NULL, *name = NULL, *group = NULL,
             *job_type = NULL, *notes = NULL, *tags = NULL;
    unsigned int interval = 0;
    int synchronous = 0, level = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|OOOOOOOIpi", kwlist, PyUnicode_FSConverter, &path,
                                     &run_id, &project, &name, &group, &job_type, &notes, &tags,
                                     &interval, &synchronous, &level))
        return -1;
    if (self->w) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_RuntimeError, "Writer already open");
        return -1;
    }
    runlog_writer_options o = RUNLOG_WRITER_OPTIONS_INIT;
    PyObject *keep = NULL;
    const char **tag_arr = NULL;
    if (opt_str(run_id, &o.run_id) < 0 || opt_str(project, &o.project) < 0 ||
        opt_str(name, &o.name) < 0 || opt_str(group, &o.group) < 0 ||
        opt_str(job_type, &o.job_type) < 0 || opt_str(notes, &o.notes) < 0 ||
        str_array(tags, &tag_arr, &o.n_tags, &keep) < 0) {
        Py_DECREF(path);
        return -1;
    }
    o.tags = tag_arr;
    o.flush_interval_ms = interval;
    o.synchronous = synchronous;
    o.zstd_level = level;
    runlog_writer *w = NULL;
    int rc;
    const char *cpath = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_writer_open(&w, cpath, &o);
    Py_END_ALLOW_THREADS
    PyMem_Free(tag_arr);
    Py_XDECREF(keep);
    if (rc) {
        Py_DECREF(path);
        raise_rc(rc);
        return -1;
    }
    self->w = w;
    self->path = PyUnicode_DecodeFSDefault(cpath);
    Py_DECREF(path);
    return 0;
}

static PyObject *Writer_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    WriterObject *self = (WriterObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->lock = PyThread_allocate_lock();
    if (!self->lock) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static void Writer_dealloc(WriterObject *self)
{
    /* A capture holds a strong reference to its writer, so none is live here. */
    if (self->w)
        (void)runlog_writer_close(self->w);
    if (self->lock)
        PyThread_free_lock(self->lock);
    Py_XDECREF(self->path);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* 1: added; 0: not a scalar this layer stores (nothing added); -1: error. */
static int add_scalar(runlog_writer *w, const char *key, PyObject *v, int *rc)
{
    if (v == Py_None) {
        *rc = runlog_writer_add_null(w, key);
        return 1;
    }
    if (PyBool_Check(v) || PyArray_IsScalar(v, Bool)) {
        int b = PyObject_IsTrue(v);
        if (b < 0)
            return -1;
        *rc = runlog_writer_add_bool(w, key, b);
        return 1;
    }
    if (PyFloat_Check(v)) {
        *rc = runlog_writer_add_double(w, key, PyFloat_AS_DOUBLE(v));
        return 1;
    }
    if (PyLong_Check(v) || PyArray_IsScalar(v, Integer)) {
        PyObject *idx = PyNumber_Index(v);
        if (!idx)
            return -1;
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(idx, &overflow);
        Py_DECREF(idx);
        if (overflow)
            return 0;
        if (x == -1 && PyErr_Occurred())
            return -1;
        *rc = runlog_writer_add_int(w, key, (int64_t)x);
        return 1;
    }
    if (PyArray_IsScalar(v, Floating)) {
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred())
            return -1;
        *rc = runlog_writer_add_double(w, key, d);
        return 1;
    }
    if (PyUnicode_Check(v)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(v, &n);
        if (!s)
            return -1;
        if ((size_t)n != strlen(s))
            return 0; /* NUL inside: the caller stores it another way */
        *rc = runlog_writer_add_string(w, key, s);
        return 1;
    }
    if (PyArray_Check(v) && PyArray_NDIM((PyArrayObject *)v) == 0) {
        PyArrayObject *a = (PyArrayObject *)v;
        int t = PyArray_TYPE(a);
        if (!(PyTypeNum_ISBOOL(t) || PyTypeNum_ISINTEGER(t) || PyTypeNum_ISFLOAT(t)))
            return 0;
        PyObject *s = PyArray_ToScalar(PyArray_DATA(a), a);
        if (!s)
            return -1;
        int r = add_scalar(w, key, s, rc);
        Py_DECREF(s);
        return r;
    }
    return 0;
}

/* Is v something add_scalar stores? (No side effects.) */
static int is_scalar(PyObject *v)
{
    if (v == Py_None || PyBool_Check(v) || PyFloat_Check(v) || PyArray_IsScalar(v, Bool) ||
        PyArray_IsScalar(v, Floating))
        return 1;
    if (PyLong_Check(v) || PyArray_IsScalar(v, Integer)) {
        PyObject *idx = PyNumber_Index(v);
        if (!idx) {
            PyErr_Clear();
            return 0;
        }
        int overflow = 0;
        (void)PyLong_AsLongLongAndOverflow(idx, &overflow);
        Py_DECREF(idx);
        PyErr_Clear();
        return !overflow;
    }
    if (PyUnicode_Check(v)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(v, &n);
        if (!s) {
            PyErr_Clear();
            return 0;
        }
        return (size_t)n == strlen(s);
    }
    if (PyArray_Check(v) && PyArray_NDIM((PyArrayObject *)v) == 0) {
        int t = PyArray_TYPE((PyArrayObject *)v);
        return PyTypeNum_ISBOOL(t) || PyTypeNum_ISINTEGER(t) || PyTypeNum_ISFLOAT(t);
    }
    return 0;
}

static PyObject *Writer_add(WriterObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    const char *key;
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "add(key: str, value)");
        return NULL;
    }
    if (opt_str(args[0], &key) < 0 || !writer_ok(self))
        return NULL;
    int rc = 0;
    hold(self->lock);
    int r = self->w ? add_scalar(self->w, key, args[1], &rc) : -2;
    release(self->lock);
    if (r == -2)
        return writer_ok(self), NULL;
    if (r < 0)
        return NULL;
    if (r == 0)
        return PyErr_Format(PyExc_TypeError, "key '%s': a value of type %s is not a scalar", key,
                            Py_TYPE(args[1])->tp_name);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

/* Adds every value of d to the pending row when all are scalars (then
 * commits the row at *step when step is not NULL) and returns None; else
 * adds nothing and returns the list of keys whose values are not scalars
 * (the Python layer converts those). One lock hold for the whole row. */
static PyObject *log_dict(WriterObject *self, PyObject *d, const uint64_t *step)
{
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "log_scalars(dict)");
        return NULL;
    }
    if (!writer_ok(self))
        return NULL;
    Py_ssize_t pos = 0;
    PyObject *k, *v, *rest = NULL;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (!PyUnicode_Check(k))
            return PyErr_Format(PyExc_TypeError, "key %R: keys must be str", k);
        if (!is_scalar(v)) {
            if (!rest && !(rest = PyList_New(0)))
                return NULL;
            if (PyList_Append(rest, k) < 0) {
                Py_DECREF(rest);
                return NULL;
            }
        }
    }
    if (rest)
        return rest;
    pos = 0;
    hold(self->lock);
    if (!self->w) {
        release(self->lock);
        return writer_ok(self), NULL;
    }
    while (PyDict_Next(d, &pos, &k, &v)) {
        const char *key;
        int rc = 0;
        if (opt_str(k, &key) < 0 || add_scalar(self->w, key, v, &rc) < 0) {
            release(self->lock);
            return NULL;
        }
        if (rc) {
            release(self->lock);
            return raise_rc(rc);
        }
    }
    int rc = step ? runlog_writer_commit_step(self->w, *step) : 0;
    release(self->lock);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

/* log_scalars(dict): log_dict() without a commit. */
static PyObject *Writer_log_scalars(WriterObject *self, PyObject *d)
{
    return log_dict(self, d, NULL);
}

/* log_row(dict, step): log_dict(), then the row committed at step: what
 * wandb.log(dict) does at each step, in one call (the hot path). */
static PyObject *Writer_log_row(WriterObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "log_row(dict, step)");
        return NULL;
    }
    unsigned long long step = PyLong_AsUnsignedLongLong(args[1]);
    if (step == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    uint64_t s = (uint64_t)step;
    return log_dict(self, args[0], &s);
}

/* Calls expr (an int-returning librunlog call on w) under the handle lock. */
#define WCALL(self, expr)                                                     \
    do {                                                                      \
        if (!writer_ok(self))                                                 \
            return NULL;                                                      \
        int rc_;                                                              \
        hold((self)->lock);                                                   \
        runlog_writer *w = (self)->w;                                         \
        rc_ = w ? (expr) : RUNLOG_ESTATE;                                     \
        release((self)->lock);                                                \
        if (rc_)                                                              \
            return raise_rc(rc_);                                             \
    } while (0)

/* The same without the GIL, for calls that wait for the disk. */
#define WCALL_NOGIL(self, expr)                                               \
    do {                                                                      \
        if (!writer_ok(self))                                                 \
            return NULL;                                                      \
        int rc_;                                                              \
        hold((self)->lock);                                                   \
        runlog_writer *w = (self)->w;                                         \
        Py_BEGIN_ALLOW_THREADS                                                \
        rc_ = w ? (expr) : RUNLOG_ESTATE;                                     \
        Py_END_ALLOW_THREADS                                                  \
        release((self)->lock);                                                \
        if (rc_)                                                              \
            return raise_rc(rc_);                                             \
    } while (0)

/* The writer's text setters: one library call on the arguments (text) or
 * (key, text). */
static PyObject *writer_set_text(WriterObject *self, PyObject *args,
                                 int (*set)(runlog_writer *, const char *))
{
    const char *s;
    if (!PyArg_ParseTuple(args, "s", &s))
        return NULL;
    WCALL(self, set(w, s));
    Py_RETURN_NONE;
}

static PyObject *writer_set_keyed_text(WriterObject *self, PyObject *args,
                                       int (*set)(runlog_writer *, const char *, const char *))
{
    const char *key, *s;
    if (!PyArg_ParseTuple(args, "ss", &key, &s))
        return NULL;
    WCALL(self, set(w, key, s));
    Py_RETURN_NONE;
}

static PyObject *Writer_add_json(WriterObject *self, PyObject *args)
{
    return writer_set_keyed_text(self, args, runlog_writer_add_json);
}

static PyObject *Writer_add_string(WriterObject *self, PyObject *args)
{
    return writer_set_keyed_text(self, args, runlog_writer_add_string);
}

static PyObject *Writer_commit(WriterObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "commit(step=None)");
        return NULL;
    }
    if (nargs == 1 && args[0] != Py_None) {
        unsigned long long step = PyLong_AsUnsignedLongLong(args[0]);
        if (step == (unsigned long long)-1 && PyErr_Occurred())
            return NULL;
        WCALL(self, runlog_writer_commit_step(w, (uint64_t)step));
    } else {
        WCALL(self, runlog_writer_commit(w));
    }
    Py_RETURN_NONE;
}

static PyObject *Writer_discard_row(WriterObject *self, PyObject *unused)
{
    WCALL(self, runlog_writer_discard_row(w));
    Py_RETURN_NONE;
}

static PyObject *Writer_config_json(WriterObject *self, PyObject *args)
{
    return writer_set_text(self, args, runlog_writer_config_json);
}

static PyObject *Writer_metadata_json(WriterObject *self, PyObject *args)
{
    return writer_set_text(self, args, runlog_writer_metadata_json);
}

/* summary(key, value): float, int or str; others through summary_json. */
static PyObject *Writer_summary(WriterObject *self, PyObject *args)
{
    const char *key;
    PyObject *v;
    if (!PyArg_ParseTuple(args, "sO", &key, &v))
        return NULL;
    if (PyFloat_Check(v) || PyArray_IsScalar(v, Floating)) {
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred())
            return NULL;
        WCALL(self, runlog_writer_summary_double(w, key, d));
    } else if (!PyBool_Check(v) && (PyLong_Check(v) || PyArray_IsScalar(v, Integer))) {
        long long x = PyLong_AsLongLong(v);
        if (x == -1 && PyErr_Occurred())
            return NULL;
        WCALL(self, runlog_writer_summary_int(w, key, (int64_t)x));
    } else if (PyUnicode_Check(v)) {
        const char *s;
        if (opt_str(v, &s) < 0)
            return NULL;
        WCALL(self, runlog_writer_summary_string(w, key, s));
    } else {
        return PyErr_Format(PyExc_TypeError, "key '%s': summary() takes float, int or str; "
                            "use summary_json", key);
    }
    Py_RETURN_NONE;
}

static PyObject *Writer_summary_json(WriterObject *self, PyObject *args)
{
    return writer_set_keyed_text(self, args, runlog_writer_summary_json);
}

static PyObject *Writer_alert(WriterObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "title", "text", "level", NULL };
    const char *title, *text = NULL;
    int level = RUNLOG_ALERT_WARN;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zi", kwlist, &title, &text, &level))
        return NULL;
    WCALL(self, runlog_writer_alert(w, title, text, (runlog_alert_level)level));
    Py_RETURN_NONE;
}

static PyObject *Writer_console(WriterObject *self, PyObject *args)
{
    int stream;
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "iy*", &stream, &buf))
        return NULL;
    if (!writer_ok(self)) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    hold(self->lock);
    int rc = self->w ? runlog_writer_console(self->w, (runlog_stream)stream, buf.buf, (size_t)buf.len)
                     : RUNLOG_ESTATE;
    release(self->lock);
    PyBuffer_Release(&buf);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

/* system({name: float}) */
static PyObject *Writer_system(WriterObject *self, PyObject *d)
{
    if (!PyDict_Check(d))
        return PyErr_Format(PyExc_TypeError, "system(dict)");
    Py_ssize_t n = PyDict_Size(d), pos = 0, i = 0;
    const char **keys = PyMem_Calloc((size_t)n + 1, sizeof *keys);
    double *vals = PyMem_Calloc((size_t)n + 1, sizeof *vals);
    PyObject *k, *v;
    if (!keys || !vals) {
        PyMem_Free(keys);
        PyMem_Free(vals);
        return PyErr_NoMemory();
    }
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (opt_str(k, &keys[i]) < 0 || !keys[i] ||
            ((vals[i] = PyFloat_AsDouble(v)) == -1.0 && PyErr_Occurred())) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "system(): keys must be str");
            PyMem_Free(keys);
            PyMem_Free(vals);
            return NULL;
        }
        i++;
    }
    int rc = RUNLOG_ESTATE;
    if (writer_ok(self)) {
        hold(self->lock);
        if (self->w)
            rc = runlog_writer_system(self->w, keys, vals, (size_t)n);
        release(self->lock);
    } else {
        PyMem_Free(keys);
        PyMem_Free(vals);
        return NULL;
    }
    PyMem_Free(keys);
    PyMem_Free(vals);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

/* An image array as the library takes it: (H, W) or (H, W, C) with C in
 * 1, 3, 4; uint8, float32 or float64; C-contiguous (copied if not). */
static PyArrayObject *image_array(PyObject *o, uint32_t *h, uint32_t *wd, uint32_t *c,
                                  runlog_pixel_type *type)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_OF(o, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
    if (!a)
        return NULL;
    int t = PyArray_TYPE(a);
    if (t == NPY_UINT8)
        *type = RUNLOG_PIXELS_U8;
    else if (t == NPY_FLOAT32)
        *type = RUNLOG_PIXELS_F32;
    else if (t == NPY_FLOAT64)
        *type = RUNLOG_PIXELS_F64;
    else {
        Py_DECREF(a);
        PyErr_SetString(PyExc_TypeError, "image pixels must be uint8, float32 or float64");
        return NULL;
    }
    int nd = PyArray_NDIM(a);
    npy_intp *dims = PyArray_DIMS(a);
    if ((nd != 2 && nd != 3) || dims[0] < 1 || dims[1] < 1 || dims[0] > UINT32_MAX ||
        dims[1] > UINT32_MAX || (nd == 3 && dims[2] != 1 && dims[2] != 3 && dims[2] != 4)) {
        Py_DECREF(a);
        PyErr_SetString(PyExc_ValueError, "image pixels must be (H, W) or (H, W, C), C in 1, 3, 4");
        return NULL;
    }
    *h = (uint32_t)dims[0];
    *wd = (uint32_t)dims[1];
    *c = nd == 3 ? (uint32_t)dims[2] : 1;
    return a;
}

static PyObject *Writer_add_image(WriterObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "key", "pixels", "caption", NULL };
    const char *key, *caption = NULL;
    PyObject *px;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sO|z", kwlist, &key, &px, &caption))
        return NULL;
    uint32_t h, wd, c;
    runlog_pixel_type t;
    PyArrayObject *a = image_array(px, &h, &wd, &c, &t);
    if (!a)
        return NULL;
    const void *data = PyArray_DATA(a);
    if (!writer_ok(self)) {
        Py_DECREF(a);
        return NULL;
    }
    int rc;
    hold(self->lock);
    Py_BEGIN_ALLOW_THREADS
    rc = self->w ? runlog_writer_add_image(self->w, key, data, h, wd, c, t, caption) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    Py_DECREF(a);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

static PyObject *Writer_add_image_encoded(WriterObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "key", "data", "caption", NULL };
    const char *key, *caption = NULL;
    Py_buffer buf;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sy*|z", kwlist, &key, &buf, &caption))
        return NULL;
    if (!writer_ok(self)) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    int rc;
    hold(self->lock);
    Py_BEGIN_ALLOW_THREADS
    rc = self->w ? runlog_writer_add_image_encoded(self->w, key, buf.buf, (size_t)buf.len, caption)
                 : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    PyBuffer_Release(&buf);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

static PyObject *Writer_blob(WriterObject *self, PyObject *args)
{
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf))
        return NULL;
    runlog_digest d;
    if (!writer_ok(self)) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    int rc;
    hold(self->lock);
    Py_BEGIN_ALLOW_THREADS
    rc = self->w ? runlog_writer_blob(&d, self->w, buf.buf, (size_t)buf.len) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    PyBuffer_Release(&buf);
    if (rc)
        return raise_rc(rc);
    return digest_to_py(&d);
}

static PyObject *Writer_flush(WriterObject *self, PyObject *unused)
{
    WCALL_NOGIL(self, runlog_writer_flush(w));
    Py_RETURN_NONE;
}

static PyObject *Writer_sync(WriterObject *self, PyObject *unused)
{
    WCALL_NOGIL(self, runlog_writer_sync(w));
    Py_RETURN_NONE;
}

static PyObject *Writer_finish(WriterObject *self, PyObject *args)
{
    int code = 0;
    if (!PyArg_ParseTuple(args, "|i", &code))
        return NULL;
    WCALL_NOGIL(self, runlog_writer_finish(w, code));
    Py_RETURN_NONE;
}

static PyObject *Writer_close(WriterObject *self, PyObject *unused)
{
    if (self->capture) {
        CaptureObject *c = self->capture;
        int rc = capture_stop_locked(c);
        if (rc) {
            raise_rc(rc);
            PyErr_Clear(); /* the writer is closed regardless; close's own error wins */
        }
    }
    hold(self->lock);
    runlog_writer *w = self->w;
    self->w = NULL;
    int rc = 0;
    if (w) {
        Py_BEGIN_ALLOW_THREADS
        rc = runlog_writer_close(w);
        Py_END_ALLOW_THREADS
    }
    release(self->lock);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

/* In a child process after fork(): closes the writer's descriptor without
 * writing anything (runlog_writer_abandon()), so the child neither writes
 * to the run nor keeps its lock. The handle lock is not taken: a thread of
 * the parent may have held it at fork() and does not exist here. */
static PyObject *Writer_abandon(WriterObject *self, PyObject *unused)
{
    if (self->capture) {
        runlog_capture_abandon(self->capture->c);
        self->capture->c = NULL;
        self->capture = NULL;
    }
    if (self->w) {
        runlog_writer_abandon(self->w);
        self->w = NULL;
    }
    /* The lock's state was copied from the parent; a fresh one is usable. */
    self->lock = PyThread_allocate_lock();
    Py_RETURN_NONE;
}

static PyObject *Writer_enter(PyObject *self, PyObject *unused)
{
    Py_INCREF(self);
    return self;
}

static PyObject *Writer_exit(WriterObject *self, PyObject *args)
{
    PyObject *et = Py_None, *ev = NULL, *tb = NULL;
    if (!PyArg_ParseTuple(args, "|OOO", &et, &ev, &tb))
        return NULL;
    if (self->w) {
        int rc;
        int code = et == Py_None ? 0 : 1;
        hold(self->lock);
        Py_BEGIN_ALLOW_THREADS
        rc = runlog_writer_finish(self->w, code);
        Py_END_ALLOW_THREADS
        release(self->lock);
        PyObject *r = Writer_close(self, NULL);
        if (!r)
            return NULL;
        Py_DECREF(r);
        if (rc && et == Py_None)
            return raise_rc(rc);
    }
    Py_RETURN_FALSE;
}

static PyObject *Writer_get_run_id(WriterObject *self, void *c)
{
    if (!writer_ok(self))
        return NULL;
    return PyUnicode_FromString(runlog_writer_run_id(self->w));
}
static PyObject *Writer_get_resumed(WriterObject *self, void *c)
{
    if (!writer_ok(self))
        return NULL;
    return PyBool_FromLong(runlog_writer_resumed(self->w));
}
static PyObject *Writer_get_next_step(WriterObject *self, void *c)
{
    if (!writer_ok(self))
        return NULL;
    return PyLong_FromUnsignedLongLong(runlog_writer_next_step(self->w));
}
static PyObject *Writer_get_closed(WriterObject *self, void *c) { return PyBool_FromLong(!self->w); }
static PyObject *Writer_get_path(WriterObject *self, void *c)
{
    if (!self->path)
        Py_RETURN_NONE;
    Py_INCREF(self->path);
    return self->path;
}

/* ---- Table ------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    runlog_table *t;
    WriterObject *writer; /* strong: image cells are stored in its file */
} TableObject;

static int Table_init(TableObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "writer", "names", "types", NULL };
    PyObject *writer, *names, *types;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!OO", kwlist, &WriterType, &writer, &names, &types))
        return -1;
    WriterObject *wo = (WriterObject *)writer;
    if (!writer_ok(wo))
        return -1;
    const char **arr;
    size_t n;
    PyObject *keep;
    if (str_array(names, &arr, &n, &keep) < 0)
        return -1;
    PyObject *tf = PySequence_Fast(types, "types: a sequence of int");
    if (!tf || (size_t)PySequence_Fast_GET_SIZE(tf) != n) {
        if (tf)
            PyErr_SetString(PyExc_ValueError, "as many types as names");
        PyMem_Free(arr);
        Py_XDECREF(keep);
        Py_XDECREF(tf);
        return -1;
    }
    runlog_column_type *ct = PyMem_Calloc(n + 1, sizeof *ct);
    for (size_t i = 0; ct && i < n; i++) {
        long x = PyLong_AsLong(PySequence_Fast_GET_ITEM(tf, (Py_ssize_t)i));
        if (x == -1 && PyErr_Occurred())
            break;
        ct[i] = (runlog_column_type)x;
    }
    int rc = RUNLOG_ENOMEM;
    runlog_table *t = NULL;
    if (ct && !PyErr_Occurred()) {
        hold(wo->lock);
        rc = wo->w ? runlog_table_new(&t, wo->w, arr, ct, n) : RUNLOG_ESTATE;
        release(wo->lock);
    }
    PyMem_Free(ct);
    PyMem_Free(arr);
    Py_XDECREF(keep);
    Py_DECREF(tf);
    if (PyErr_Occurred())
        return -1;
    if (rc) {
        raise_rc(rc);
        return -1;
    }
    runlog_table_free(self->t);
    self->t = t;
    Py_INCREF(wo);
    Py_XSETREF(self->writer, wo);
    return 0;
}

static void Table_dealloc(TableObject *self)
{
    runlog_table_free(self->t);
    Py_XDECREF(self->writer);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define TCALL(self, expr)                                                     \
    do {                                                                      \
        if (!(self)->t || !(self)->writer || !writer_ok((self)->writer))      \
            return (self)->t ? NULL : PyErr_Format(PyExc_RuntimeError, "no table"); \
        int rc_;                                                              \
        hold((self)->writer->lock);                                           \
        runlog_table *t = (self)->t;                                          \
        rc_ = (self)->writer->w ? (expr) : RUNLOG_ESTATE;                     \
        release((self)->writer->lock);                                        \
        if (rc_)                                                              \
            return raise_rc(rc_);                                             \
    } while (0)

static PyObject *Table_int(TableObject *self, PyObject *arg)
{
    long long x = PyLong_AsLongLong(arg);
    if (x == -1 && PyErr_Occurred())
        return NULL;
    TCALL(self, runlog_table_int(t, (int64_t)x));
    Py_RETURN_NONE;
}
static PyObject *Table_float(TableObject *self, PyObject *arg)
{
    double d = PyFloat_AsDouble(arg);
    if (d == -1.0 && PyErr_Occurred())
        return NULL;
    TCALL(self, runlog_table_float(t, d));
    Py_RETURN_NONE;
}
static PyObject *Table_string(TableObject *self, PyObject *arg)
{
    const char *s;
    if (!PyUnicode_Check(arg))
        return PyErr_Format(PyExc_TypeError, "a str cell");
    if (opt_str(arg, &s) < 0)
        return NULL;
    TCALL(self, runlog_table_string(t, s));
    Py_RETURN_NONE;
}
static PyObject *Table_bool(TableObject *self, PyObject *arg)
{
    int b = PyObject_IsTrue(arg);
    if (b < 0)
        return NULL;
    TCALL(self, runlog_table_bool(t, b));
    Py_RETURN_NONE;
}
static PyObject *Table_json(TableObject *self, PyObject *arg)
{
    const char *s;
    if (!PyUnicode_Check(arg))
        return PyErr_Format(PyExc_TypeError, "a JSON text");
    if (opt_str(arg, &s) < 0)
        return NULL;
    TCALL(self, runlog_table_json(t, s));
    Py_RETURN_NONE;
}
static PyObject *Table_null(TableObject *self, PyObject *unused)
{
    TCALL(self, runlog_table_null(t));
    Py_RETURN_NONE;
}
static PyObject *Table_end_row(TableObject *self, PyObject *unused)
{
    TCALL(self, runlog_table_end_row(t));
    Py_RETURN_NONE;
}
static PyObject *Table_image(TableObject *self, PyObject *args)
{
    PyObject *px;
    const char *caption = NULL;
    if (!PyArg_ParseTuple(args, "O|z", &px, &caption))
        return NULL;
    uint32_t h, wd, c;
    runlog_pixel_type ty;
    PyArrayObject *a = image_array(px, &h, &wd, &c, &ty);
    if (!a)
        return NULL;
    const void *data = PyArray_DATA(a);
    if (!self->t || !writer_ok(self->writer)) {
        Py_DECREF(a);
        return NULL;
    }
    int rc;
    hold(self->writer->lock);
    Py_BEGIN_ALLOW_THREADS
    rc = self->writer->w ? runlog_table_image(self->t, data, h, wd, c, ty, caption) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->writer->lock);
    Py_DECREF(a);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

static PyObject *Writer_add_table(WriterObject *self, PyObject *args)
{
    const char *key;
    PyObject *to;
    if (!PyArg_ParseTuple(args, "sO!", &key, &TableType, &to))
        return NULL;
    TableObject *t = (TableObject *)to;
    if (!t->t || t->writer != self)
        return PyErr_Format(PyExc_ValueError, "key '%s': the table belongs to another writer", key);
    WCALL_NOGIL(self, runlog_writer_add_table(w, key, t->t));
    Py_RETURN_NONE;
}

/* ---- Artifact ------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    runlog_artifact *a;
} ArtifactObject;

static int Artifact_init(ArtifactObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "name", "type", NULL };
    const char *name, *type;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ss", kwlist, &name, &type))
        return -1;
    runlog_artifact *a = NULL;
    int rc = runlog_artifact_new(&a, name, type);
    if (rc) {
        raise_rc(rc);
        return -1;
    }
    runlog_artifact_free(self->a);
    self->a = a;
    return 0;
}

static void Artifact_dealloc(ArtifactObject *self)
{
    runlog_artifact_free(self->a);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define ACALL(self, expr)                                                     \
    do {                                                                      \
        if (!(self)->a)                                                       \
            return PyErr_Format(PyExc_RuntimeError, "no artifact");           \
        int rc_ = (expr);                                                     \
        if (rc_)                                                              \
            return raise_rc(rc_);                                             \
    } while (0)

/* The artifact's text setters: one string argument, one library call. */
static PyObject *artifact_set_text(ArtifactObject *self, PyObject *args,
                                   int (*set)(runlog_artifact *, const char *))
{
    const char *s;
    if (!PyArg_ParseTuple(args, "s", &s))
        return NULL;
    ACALL(self, set(self->a, s));
    Py_RETURN_NONE;
}
static PyObject *Artifact_description(ArtifactObject *self, PyObject *args)
{
    return artifact_set_text(self, args, runlog_artifact_description);
}
static PyObject *Artifact_metadata_json(ArtifactObject *self, PyObject *args)
{
    return artifact_set_text(self, args, runlog_artifact_metadata_json);
}
static PyObject *Artifact_alias(ArtifactObject *self, PyObject *args)
{
    return artifact_set_text(self, args, runlog_artifact_alias);
}
static PyObject *Artifact_add_file(ArtifactObject *self, PyObject *args)
{
    PyObject *path;
    const char *name = NULL;
    if (!PyArg_ParseTuple(args, "O&|z", PyUnicode_FSConverter, &path, &name))
        return NULL;
    int rc = self->a ? runlog_artifact_add_file(self->a, PyBytes_AS_STRING(path), name) : RUNLOG_EINVAL;
    Py_DECREF(path);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}
static PyObject *Artifact_add_dir(ArtifactObject *self, PyObject *args)
{
    PyObject *path;
    const char *prefix = NULL;
    if (!PyArg_ParseTuple(args, "O&|z", PyUnicode_FSConverter, &path, &prefix))
        return NULL;
    int rc;
    const char *p = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    rc = self->a ? runlog_artifact_add_dir(self->a, p, prefix) : RUNLOG_EINVAL;
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}
static PyObject *Artifact_add_reference(ArtifactObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "uri", "name", "size", "digest", NULL };
    const char *uri, *name = NULL;
    unsigned long long size = 0;
    PyObject *dig = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zKO", kwlist, &uri, &name, &size, &dig))
        return NULL;
    runlog_digest d;
    if (dig != Py_None && digest_from_py(&d, dig) < 0)
        return NULL;
    ACALL(self, runlog_artifact_add_reference(self->a, uri, name, (uint64_t)size,
                                              dig == Py_None ? NULL : &d));
    Py_RETURN_NONE;
}

static PyObject *Writer_log_artifact(WriterObject *self, PyObject *arg)
{
    if (!PyObject_TypeCheck(arg, &ArtifactType) || !((ArtifactObject *)arg)->a)
        return PyErr_Format(PyExc_TypeError, "log_artifact(_runlog.Artifact)");
    uint32_t version = 0;
    runlog_artifact *a = ((ArtifactObject *)arg)->a;
    WCALL_NOGIL(self, runlog_writer_log_artifact(&version, w, a));
    return PyLong_FromUnsignedLong(version);
}

static PyObject *Writer_log_model(WriterObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "path", "name", "aliases", NULL };
    PyObject *path, *aliases = NULL;
    const char *name;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&s|O", kwlist, PyUnicode_FSConverter, &path, &name,
                                     &aliases))
        return NULL;
    const char **arr;
    size_t n;
    PyObject *keep;
    if (str_array(aliases, &arr, &n, &keep) < 0) {
        Py_DECREF(path);
        return NULL;
    }
    uint32_t version = 0;
    const char *p = PyBytes_AS_STRING(path);
    int rc = RUNLOG_ESTATE;
    if (self->w) {
        hold(self->lock);
        Py_BEGIN_ALLOW_THREADS
        rc = self->w ? runlog_writer_log_model(&version, self->w, p, name, arr, n) : RUNLOG_ESTATE;
        Py_END_ALLOW_THREADS
        release(self->lock);
    }
    PyMem_Free(arr);
    Py_XDECREF(keep);
    Py_DECREF(path);
    if (rc)
        return raise_rc(rc);
    return PyLong_FromUnsignedLong(version);
}

/* ---- Capture ------------------------------------------------------------------- */

static PyObject *Writer_capture_start(WriterObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "console", "interval_ms", "no_metadata", "alert_command", "disk_path",
                              "nvml_library", "argv", NULL };
    int console = 0, no_metadata = 0;
    unsigned int interval = 0;
    const char *alert = NULL, *disk = NULL, *nvml = NULL;
    PyObject *argv = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|pIpzzzO", kwlist, &console, &interval, &no_metadata,
                                     &alert, &disk, &nvml, &argv))
        return NULL;
    if (!writer_ok(self))
        return NULL;
    if (self->capture)
        return PyErr_Format(code_types[-RUNLOG_ESTATE], "a capture of this writer is running");
    const char **arr = NULL;
    size_t n = 0;
    PyObject *keep = NULL;
    if (str_array(argv, &arr, &n, &keep) < 0)
        return NULL;
    runlog_capture_options o = RUNLOG_CAPTURE_OPTIONS_INIT;
    o.console = console;
    o.interval_ms = interval;
    o.no_metadata = no_metadata;
    o.alert_command = alert;
    o.disk_path = disk;
    o.nvml_library = nvml;
    o.argv = arr;
    CaptureObject *co = PyObject_New(CaptureObject, &CaptureType);
    if (!co) {
        PyMem_Free(arr);
        Py_XDECREF(keep);
        return NULL;
    }
    co->c = NULL;
    co->writer = NULL;
    runlog_capture *c = NULL;
    int rc;
    hold(self->lock);
    runlog_writer *w = self->w;
    Py_BEGIN_ALLOW_THREADS
    rc = w ? runlog_capture_start(&c, w, &o) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    PyMem_Free(arr);
    Py_XDECREF(keep);
    if (rc) {
        Py_DECREF(co);
        return raise_rc(rc);
    }
    co->c = c;
    Py_INCREF(self);
    co->writer = self;
    self->capture = co;
    return (PyObject *)co;
}

/* Stops c (no-op when stopped); returns the capture's code. */
static int capture_stop_locked(CaptureObject *co)
{
    runlog_capture *c = co->c;
    if (!c)
        return 0;
    co->c = NULL;
    if (co->writer && co->writer->capture == co)
        co->writer->capture = NULL;
    int rc;
    /* Not under the writer's lock: the capture's threads call the writer's
     * thread-safe functions, and stopping joins them. */
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_capture_stop(c);
    Py_END_ALLOW_THREADS
    return rc;
}

static PyObject *Capture_stop(CaptureObject *self, PyObject *unused)
{
    int rc = capture_stop_locked(self);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

static PyObject *Capture_alert(CaptureObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "title", "text", "level", NULL };
    const char *title, *text = NULL;
    int level = RUNLOG_ALERT_WARN;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zi", kwlist, &title, &text, &level))
        return NULL;
    if (!self->c)
        return PyErr_Format(code_types[-RUNLOG_ESTATE], "the capture is stopped");
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_capture_alert(self->c, title, text, (runlog_alert_level)level);
    Py_END_ALLOW_THREADS
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

static PyObject *Capture_get_running(CaptureObject *self, void *c) { return PyBool_FromLong(self->c != NULL); }

static void Capture_dealloc(CaptureObject *self)
{
    (void)capture_stop_locked(self);
    Py_XDECREF(self->writer);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- Reader --------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    runlog_reader *r;
    PyThread_type_lock lock;
    int ncursors;
} ReaderObject;

static PyObject *Reader_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    ReaderObject *self = (ReaderObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->lock = PyThread_allocate_lock();
    if (!self->lock) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static int Reader_init(ReaderObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "path", "tolerant", "follow", NULL };
    PyObject *path;
    int tolerant = 0, follow = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|pp", kwlist, PyUnicode_FSConverter, &path,
                                     &tolerant, &follow))
        return -1;
    if (self->r) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_RuntimeError, "Reader already open");
        return -1;
    }
    runlog_reader_options o = RUNLOG_READER_OPTIONS_INIT;
    o.flags = (tolerant ? RUNLOG_READ_TOLERANT : 0u) | (follow ? RUNLOG_READ_FOLLOW : 0u);
    runlog_reader *r = NULL;
    int rc;
    const char *p = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_reader_open(&r, p, &o);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc) {
        raise_rc(rc);
        return -1;
    }
    self->r = r;
    return 0;
}

static void Reader_dealloc(ReaderObject *self)
{
    /* Cursors hold a strong reference, so none is open here. */
    runlog_reader_close(self->r);
    if (self->lock)
        PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int reader_ok(ReaderObject *self)
{
    if (!self->r) {
        PyErr_SetString(code_types[-RUNLOG_ESTATE], "the reader is closed");
        return 0;
    }
    return 1;
}

static PyObject *Reader_close(ReaderObject *self, PyObject *unused)
{
    if (self->ncursors)
        return PyErr_Format(code_types[-RUNLOG_ESTATE], "records() iterators are still open");
    hold(self->lock);
    runlog_reader_close(self->r);
    self->r = NULL;
    release(self->lock);
    Py_RETURN_NONE;
}

static int set_item(PyObject *d, const char *k, PyObject *v)
{
    if (!v)
        return -1;
    int r = PyDict_SetItemString(d, k, v);
    Py_DECREF(v);
    return r;
}

static PyObject *run_to_dict(const runlog_run *run)
{
    static const int types[] = { RUNLOG_RECORD_RUN_START, RUNLOG_RECORD_CONFIG, RUNLOG_RECORD_HISTORY,
                                 RUNLOG_RECORD_SUMMARY, RUNLOG_RECORD_ALERT, RUNLOG_RECORD_CONSOLE,
                                 RUNLOG_RECORD_RESUME, RUNLOG_RECORD_FINISH, RUNLOG_RECORD_PARTIAL,
                                 RUNLOG_RECORD_SYSTEM, RUNLOG_RECORD_METADATA,
                                 RUNLOG_RECORD_ARTIFACT, RUNLOG_RECORD_ALIAS };
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    uint64_t rows = runlog_run_rows(run);
    PyObject *keys = PyList_New(0), *counts = PyDict_New();
    if (!keys || !counts)
        goto fail;
    for (size_t i = 0; i < runlog_run_key_count(run); i++) {
        const char *k = runlog_run_key(run, i);
        PyObject *s = text_to_py(k, k ? strlen(k) : 0);
        if (!s || PyList_Append(keys, s) < 0) {
            Py_XDECREF(s);
            goto fail;
        }
        Py_DECREF(s);
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (set_item(counts, runlog_record_type_name(types[i]),
                     PyLong_FromUnsignedLongLong(runlog_run_record_count(run, types[i]))) < 0)
            goto fail;
    if (set_item(d, "identity", value_to_py(runlog_run_identity(run))) < 0 ||
        set_item(d, "config", value_to_py(runlog_run_config(run))) < 0 ||
        set_item(d, "summary", value_to_py(runlog_run_summary(run))) < 0 ||
        set_item(d, "metadata", value_to_py(runlog_run_metadata(run))) < 0 ||
        set_item(d, "artifacts", value_to_py(runlog_run_artifacts(run))) < 0 ||
        set_item(d, "state", PyUnicode_FromString(runlog_state_name(runlog_run_state(run)))) < 0 ||
        set_item(d, "exit_code", PyLong_FromLong(runlog_run_exit_code(run))) < 0 ||
        set_item(d, "end_time", PyLong_FromLongLong(runlog_run_end_time(run))) < 0 ||
        set_item(d, "rows", PyLong_FromUnsignedLongLong(rows)) < 0 ||
        set_item(d, "last_step", rows ? PyLong_FromUnsignedLongLong(runlog_run_last_step(run))
                                      : (Py_INCREF(Py_None), Py_None)) < 0 ||
        set_item(d, "resumes", PyLong_FromUnsignedLongLong(runlog_run_resumes(run))) < 0 ||
        set_item(d, "damage", PyLong_FromUnsignedLongLong(runlog_run_damage_count(run))) < 0 ||
        set_item(d, "torn", PyBool_FromLong(runlog_run_torn(run))) < 0 ||
        set_item(d, "keys", keys) < 0 || set_item(d, "record_counts", counts) < 0)
        goto fail_noref;
    return d;
fail:
    Py_XDECREF(keys);
    Py_XDECREF(counts);
fail_noref:
    Py_DECREF(d);
    return NULL;
}

/* run() and run_summary(): one dict, from either pass. */
static PyObject *reader_run_as(ReaderObject *self, int (*pass)(runlog_run **, runlog_reader *))
{
    if (!reader_ok(self))
        return NULL;
    runlog_run *run = NULL;
    int rc;
    hold(self->lock);
    runlog_reader *r = self->r;
    Py_BEGIN_ALLOW_THREADS
    rc = r ? pass(&run, r) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    if (rc)
        return raise_rc(rc);
    PyObject *d = run_to_dict(run);
    runlog_run_free(run);
    return d;
}

static PyObject *Reader_run(ReaderObject *self, PyObject *unused)
{
    return reader_run_as(self, runlog_reader_run);
}

static PyObject *Reader_run_summary(ReaderObject *self, PyObject *unused)
{
    return reader_run_as(self, runlog_reader_run_summary);
}

/* ---- History ------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    runlog_history *h;  /* const when owner is set (a set's history) */
    PyObject *owner;    /* NULL: h is ours; else a capsule of the runlog_histories holding h */
    PyObject *key;
    PyObject *steps, *times, *values, *floats; /* made on first use */
} HistoryObject;

static void History_dealloc(HistoryObject *self)
{
    Py_XDECREF(self->steps);
    Py_XDECREF(self->times);
    Py_XDECREF(self->values);
    Py_XDECREF(self->floats);
    Py_XDECREF(self->key);
    if (self->owner)
        Py_DECREF(self->owner);
    else
        runlog_history_free(self->h);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A read-only 1-d array over n items of the history's memory at p. */
static PyObject *view(HistoryObject *self, int type, const void *p)
{
    npy_intp n = (npy_intp)runlog_history_length(self->h);
    if (n == 0 || !p)
        return PyArray_SimpleNew(1, &n, type);
    PyObject *a = PyArray_SimpleNewFromData(1, &n, type, (void *)p);
    if (!a)
        return NULL;
    PyArray_CLEARFLAGS((PyArrayObject *)a, NPY_ARRAY_WRITEABLE);
    Py_INCREF(self);
    if (PyArray_SetBaseObject((PyArrayObject *)a, (PyObject *)self) < 0) {
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

static PyObject *History_get_steps(HistoryObject *self, void *c)
{
    if (!self->steps)
        self->steps = view(self, NPY_UINT64, runlog_history_steps(self->h));
    Py_XINCREF(self->steps);
    return self->steps;
}
static PyObject *History_get_times(HistoryObject *self, void *c)
{
    if (!self->times)
        self->times = view(self, NPY_INT64, runlog_history_times(self->h));
    Py_XINCREF(self->times);
    return self->times;
}
static PyObject *History_get_floats(HistoryObject *self, void *c)
{
    if (!self->floats)
        self->floats = view(self, NPY_FLOAT64, runlog_history_values(self->h));
    Py_XINCREF(self->floats);
    return self->floats;
}

/* values: float64 (a view) when every value is a float; int64 or bool (a
 * copy: the library keeps them as float64 beside exact ints) when every one
 * is an int or a bool; else an object array of each value as Python. */
static PyObject *make_values(HistoryObject *self)
{
    size_t n = runlog_history_length(self->h);
    runlog_type one;
    int all = n == 0 ? -1 : runlog_history_type(&one, self->h) == 0 ? (int)one : -2;
    if (all == -1 || all == RUNLOG_FLOAT)
        return History_get_floats(self, NULL);
    npy_intp dims = (npy_intp)n;
    if (all == RUNLOG_INT || all == RUNLOG_BOOL) {
        PyObject *a = PyArray_SimpleNew(1, &dims, all == RUNLOG_INT ? NPY_INT64 : NPY_BOOL);
        if (!a)
            return NULL;
        for (size_t i = 0; i < n; i++) {
            const runlog_value *v = runlog_history_value(self->h, i);
            if (all == RUNLOG_INT)
                ((int64_t *)PyArray_DATA((PyArrayObject *)a))[i] = runlog_value_int(v);
            else
                ((npy_bool *)PyArray_DATA((PyArrayObject *)a))[i] = (npy_bool)runlog_value_bool(v);
        }
        return a;
    }
    PyObject *a = PyArray_SimpleNew(1, &dims, NPY_OBJECT);
    if (!a)
        return NULL;
    PyObject **items = (PyObject **)PyArray_DATA((PyArrayObject *)a);
    for (size_t i = 0; i < n; i++) {
        PyObject *o = value_to_py(runlog_history_value(self->h, i));
        if (!o) {
            Py_DECREF(a);
            return NULL;
        }
        Py_XSETREF(items[i], o);
    }
    return a;
}

static PyObject *History_get_values(HistoryObject *self, void *c)
{
    if (!self->values)
        self->values = make_values(self);
    Py_XINCREF(self->values);
    return self->values;
}

static Py_ssize_t History_len(HistoryObject *self) { return (Py_ssize_t)runlog_history_length(self->h); }

static PyObject *History_get_key(HistoryObject *self, void *c)
{
    Py_INCREF(self->key);
    return self->key;
}

static PyObject *History_get_frames_read(HistoryObject *self, void *c)
{
    return PyLong_FromUnsignedLongLong(runlog_history_frames_read(self->h));
}

/* owner: NULL (h is handed over: freed with the object, or now on failure)
 * or the capsule of the set that owns h (a reference is taken). */
static PyObject *history_wrap(runlog_history *h, PyObject *key, PyObject *owner)
{
    HistoryObject *ho = PyObject_New(HistoryObject, &HistoryType);
    if (!ho) {
        if (!owner)
            runlog_history_free(h);
        return NULL;
    }
    ho->h = h;
    ho->owner = owner;
    Py_XINCREF(owner);
    ho->steps = ho->times = ho->values = ho->floats = NULL;
    Py_INCREF(key);
    ho->key = key;
    return (PyObject *)ho;
}

static PyObject *Reader_history(ReaderObject *self, PyObject *key)
{
    const char *k;
    if (!PyUnicode_Check(key))
        return PyErr_Format(PyExc_TypeError, "history(key: str)");
    if (opt_str(key, &k) < 0 || !reader_ok(self))
        return NULL;
    runlog_history *h = NULL;
    int rc;
    hold(self->lock);
    runlog_reader *r = self->r;
    Py_BEGIN_ALLOW_THREADS
    rc = r ? runlog_reader_history(&h, r, k) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    if (rc)
        return raise_rc(rc);
    return history_wrap(h, key, NULL);
}

static void histories_capsule_free(PyObject *capsule)
{
    runlog_histories_free(PyCapsule_GetPointer(capsule, "runlog_histories"));
}

/* histories() -> {key: History}: every key's history in one pass over the
 * file (runlog_reader_histories()), in the order keys first appear. The
 * histories share one set, freed when the last of them goes. */
static PyObject *Reader_histories(ReaderObject *self, PyObject *unused)
{
    if (!reader_ok(self))
        return NULL;
    runlog_histories *hs = NULL;
    int rc;
    hold(self->lock);
    runlog_reader *r = self->r;
    Py_BEGIN_ALLOW_THREADS
    rc = r ? runlog_reader_histories(&hs, r) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    if (rc)
        return raise_rc(rc);
    PyObject *capsule = PyCapsule_New(hs, "runlog_histories", histories_capsule_free);
    if (!capsule) {
        runlog_histories_free(hs);
        return NULL;
    }
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < runlog_histories_count(hs); i++) {
        size_t len = 0;
        const char *k = runlog_histories_key(hs, i, &len);
        PyObject *key = PyUnicode_DecodeUTF8(k, (Py_ssize_t)len, "surrogateescape");
        /* The set stays const through the capsule; History only reads h. */
        PyObject *h = key ? history_wrap((runlog_history *)runlog_histories_get(hs, i), key, capsule) : NULL;
        if (!h || PyDict_SetItem(d, key, h) < 0)
            Py_CLEAR(d);
        Py_XDECREF(key);
        Py_XDECREF(h);
    }
    Py_DECREF(capsule);
    return d;
}

static PyObject *Reader_blob(ReaderObject *self, PyObject *arg)
{
    runlog_digest d;
    if (digest_from_py(&d, arg) < 0 || !reader_ok(self))
        return NULL;
    void *data = NULL;
    size_t len = 0;
    int rc;
    hold(self->lock);
    runlog_reader *r = self->r;
    Py_BEGIN_ALLOW_THREADS
    rc = r ? runlog_reader_blob(&data, &len, r, &d) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    if (rc)
        return raise_rc(rc);
    PyObject *b = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    runlog_free(data);
    return b;
}

static PyObject *Reader_blob_to_file(ReaderObject *self, PyObject *args)
{
    PyObject *dig, *path;
    if (!PyArg_ParseTuple(args, "OO&", &dig, PyUnicode_FSConverter, &path))
        return NULL;
    runlog_digest d;
    if (digest_from_py(&d, dig) < 0 || !reader_ok(self)) {
        Py_DECREF(path);
        return NULL;
    }
    int rc;
    const char *p = PyBytes_AS_STRING(path);
    hold(self->lock);
    runlog_reader *r = self->r;
    Py_BEGIN_ALLOW_THREADS
    rc = r ? runlog_reader_blob_to_file(r, &d, p) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    Py_DECREF(path);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

/* table(digest) -> {"columns": [...], "types": [int...], "data": [[row cells]...]}
 * (rows, not columns: the shape wandb.Table and pandas take). */
static PyObject *Reader_table(ReaderObject *self, PyObject *arg)
{
    runlog_digest d;
    if (digest_from_py(&d, arg) < 0 || !reader_ok(self))
        return NULL;
    runlog_doc *doc = NULL;
    int rc;
    hold(self->lock);
    runlog_reader *r = self->r;
    Py_BEGIN_ALLOW_THREADS
    rc = r ? runlog_reader_table(&doc, r, &d) : RUNLOG_ESTATE;
    Py_END_ALLOW_THREADS
    release(self->lock);
    if (rc)
        return raise_rc(rc);
    size_t ncols = 0, nrows = 0;
    PyObject *cols = NULL, *types = NULL, *rows = NULL, *out = NULL;
    if ((rc = runlog_doc_table(doc, &ncols, &nrows))) {
        raise_rc(rc);
        goto done;
    }
    cols = PyList_New((Py_ssize_t)ncols);
    types = PyList_New((Py_ssize_t)ncols);
    rows = PyList_New((Py_ssize_t)nrows);
    if (!cols || !types || !rows)
        goto done;
    for (size_t i = 0; i < ncols; i++) {
        const char *name = NULL;
        size_t nl = 0;
        runlog_column_type ct = RUNLOG_COLUMN_VALUE;
        if ((rc = runlog_doc_table_column(doc, i, &name, &nl, &ct))) {
            raise_rc(rc);
            goto done;
        }
        PyObject *s = text_to_py(name, nl), *t = PyLong_FromLong((long)ct);
        if (!s || !t) {
            Py_XDECREF(s);
            Py_XDECREF(t);
            goto done;
        }
        PyList_SET_ITEM(cols, (Py_ssize_t)i, s);
        PyList_SET_ITEM(types, (Py_ssize_t)i, t);
    }
    for (size_t j = 0; j < nrows; j++) {
        PyObject *row = PyList_New((Py_ssize_t)ncols);
        if (!row)
            goto done;
        PyList_SET_ITEM(rows, (Py_ssize_t)j, row);
        for (size_t i = 0; i < ncols; i++) {
            PyObject *c = value_to_py(runlog_doc_table_cell(doc, j, i));
            if (!c)
                goto done;
            PyList_SET_ITEM(row, (Py_ssize_t)i, c);
        }
    }
    out = Py_BuildValue("{sOsOsO}", "columns", cols, "types", types, "data", rows);
done:
    Py_XDECREF(cols);
    Py_XDECREF(types);
    Py_XDECREF(rows);
    runlog_doc_free(doc);
    return out;
}

static PyObject *Reader_get_file_uuid(ReaderObject *self, void *c)
{
    if (!reader_ok(self))
        return NULL;
    return PyBytes_FromStringAndSize((const char *)runlog_reader_file_uuid(self->r), 16);
}
static PyObject *Reader_get_created(ReaderObject *self, void *c)
{
    if (!reader_ok(self))
        return NULL;
    return PyLong_FromLongLong(runlog_reader_created(self->r));
}

/* ---- Cursor: records() ---------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    runlog_cursor *c;
    ReaderObject *reader; /* strong */
} CursorObject;

static PyObject *Reader_records(ReaderObject *self, PyObject *unused)
{
    if (!reader_ok(self))
        return NULL;
    runlog_cursor *c = NULL;
    hold(self->lock);
    int rc = self->r ? runlog_cursor_open(&c, self->r) : RUNLOG_ESTATE;
    release(self->lock);
    if (rc)
        return raise_rc(rc);
    CursorObject *co = PyObject_New(CursorObject, &CursorType);
    if (!co) {
        runlog_cursor_close(c);
        return NULL;
    }
    co->c = c;
    Py_INCREF(self);
    co->reader = self;
    self->ncursors++;
    return (PyObject *)co;
}

static void cursor_end(CursorObject *self)
{
    if (self->c) {
        runlog_cursor_close(self->c);
        self->c = NULL;
        self->reader->ncursors--;
    }
}

static void Cursor_dealloc(CursorObject *self)
{
    cursor_end(self);
    Py_XDECREF(self->reader);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *record_to_dict(const runlog_record *rec)
{
    int type = (int)runlog_record_type_of(rec);
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    if (set_item(d, "type", PyUnicode_FromString(runlog_record_type_name(type))) < 0 ||
        set_item(d, "time", PyLong_FromLongLong(runlog_record_time(rec))) < 0 ||
        set_item(d, "offset", PyLong_FromUnsignedLongLong(runlog_record_frame_offset(rec))) < 0)
        goto fail;
    if (type == RUNLOG_RECORD_HISTORY || type == RUNLOG_RECORD_SYSTEM) {
        PyObject *fields = PyDict_New();
        if (!fields)
            goto fail;
        for (size_t i = 0; i < runlog_record_field_count(rec); i++) {
            const char *k = runlog_record_field_key(rec, i);
            PyObject *key = text_to_py(k, k ? strlen(k) : 0);
            PyObject *val = key ? value_to_py(runlog_record_field_value(rec, i)) : NULL;
            if (!val || PyDict_SetItem(fields, key, val) < 0) {
                Py_XDECREF(key);
                Py_XDECREF(val);
                Py_DECREF(fields);
                goto fail;
            }
            Py_DECREF(key);
            Py_DECREF(val);
        }
        if (set_item(d, "step", PyLong_FromUnsignedLongLong(runlog_record_step(rec))) < 0 ||
            set_item(d, "fields", fields) < 0)
            goto fail;
    } else if (set_item(d, "body", value_to_py(runlog_record_body(rec))) < 0) {
        goto fail;
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

static PyObject *Cursor_next(CursorObject *self)
{
    if (!self->c)
        return NULL;
    const runlog_record *rec = NULL;
    int rc;
    hold(self->reader->lock);
    runlog_cursor *c = self->c;
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_cursor_next(c, &rec);
    Py_END_ALLOW_THREADS
    PyObject *out = rc ? NULL : record_to_dict(rec);
    release(self->reader->lock);
    if (rc == RUNLOG_ITEROVER) {
        cursor_end(self);
        return NULL; /* StopIteration */
    }
    if (rc) {
        if (rc != RUNLOG_EAGAIN)
            cursor_end(self);
        return raise_rc(rc);
    }
    return out;
}

static PyObject *Cursor_close(CursorObject *self, PyObject *unused)
{
    cursor_end(self);
    Py_RETURN_NONE;
}

/* ---- Module functions ---------------------------------------------------------- */

static PyObject *mod_verify(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *names[] = { "path", "values", NULL };
    PyObject *path;
    int values = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|p", names, PyUnicode_FSConverter, &path, &values))
        return NULL;
    runlog_report *rep = NULL;
    int rc;
    const char *p = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    rc = values ? runlog_verify(&rep, p) : runlog_verify_structure(&rep, p);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc)
        return raise_rc(rc);
    PyObject *damage = PyList_New(0), *out = NULL;
    static const char *kinds[] = { "", "frame", "garbage", "torn_tail" };
    for (size_t i = 0; damage && i < runlog_report_damage_count(rep); i++) {
        runlog_damage_kind kind = 0;
        uint64_t off = 0, len = 0;
        const char *what = "";
        if (runlog_report_damage(rep, i, &kind, &off, &len, &what))
            continue;
        PyObject *t = Py_BuildValue("{sssKsKss}", "kind", (kind >= 1 && kind <= 3) ? kinds[kind] : "unknown",
                                    "offset", (unsigned long long)off, "length",
                                    (unsigned long long)len, "what", what ? what : "");
        if (!t || PyList_Append(damage, t) < 0) {
            Py_XDECREF(t);
            Py_CLEAR(damage);
            break;
        }
        Py_DECREF(t);
    }
    if (damage)
        out = Py_BuildValue("{sKsKsKsKsKsOsOsO}", "file_size",
                            (unsigned long long)runlog_report_file_size(rep), "frames",
                            (unsigned long long)runlog_report_frames(rep), "records",
                            (unsigned long long)runlog_report_records(rep), "raw_bytes",
                            (unsigned long long)runlog_report_raw_bytes(rep), "stored_bytes",
                            (unsigned long long)runlog_report_stored_bytes(rep), "has_trailer",
                            runlog_report_has_trailer(rep) ? Py_True : Py_False, "intact",
                            runlog_report_intact(rep) ? Py_True : Py_False, "damage", damage);
    Py_XDECREF(damage);
    runlog_report_free(rep);
    return out;
}

static PyObject *mod_repair(PyObject *m, PyObject *arg)
{
    PyObject *path;
    if (!PyUnicode_FSConverter(arg, &path))
        return NULL;
    uint64_t cut = 0;
    int rc;
    const char *p = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_repair(&cut, p);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc)
        return raise_rc(rc);
    return PyLong_FromUnsignedLongLong(cut);
}

/* paths: a list of str/PathLike, as C strings; *keep owns them. */
static int path_array(PyObject *seq, const char ***out, size_t *n, PyObject **keep)
{
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of paths");
    if (!fast)
        return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    PyObject *bytes = PyList_New(count);
    const char **arr = PyMem_Calloc((size_t)count + 1, sizeof *arr);
    if (!bytes || !arr) {
        Py_DECREF(fast);
        Py_XDECREF(bytes);
        PyMem_Free(arr);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *b;
        if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(fast, i), &b)) {
            Py_DECREF(fast);
            Py_DECREF(bytes);
            PyMem_Free(arr);
            return -1;
        }
        PyList_SET_ITEM(bytes, i, b);
        arr[i] = PyBytes_AS_STRING(b);
    }
    Py_DECREF(fast);
    *out = arr;
    *n = (size_t)count;
    *keep = bytes;
    return 0;
}

/* runset(paths, tolerant=False) -> (runs, duplicates): the run set of
 * spec/EXPORTS.md §11, each run a dict of what the set gives (no history). */
static PyObject *mod_runset(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "paths", "tolerant", NULL };
    PyObject *paths;
    int tolerant = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p", kwlist, &paths, &tolerant))
        return NULL;
    const char **arr;
    size_t n;
    PyObject *keep;
    if (path_array(paths, &arr, &n, &keep) < 0)
        return NULL;
    runlog_runset_options o = RUNLOG_RUNSET_OPTIONS_INIT;
    o.flags = tolerant ? RUNLOG_READ_TOLERANT : RUNLOG_READ_STRICT;
    runlog_runset *s = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_runset_open(&s, arr, n, &o);
    Py_END_ALLOW_THREADS
    PyMem_Free(arr);
    Py_DECREF(keep);
    if (rc)
        return raise_rc(rc);
    PyObject *runs = PyList_New(0), *dups = PyList_New(0), *out = NULL;
    if (!runs || !dups)
        goto done;
    for (size_t i = 0; i < runlog_runset_run_count(s); i++) {
        PyObject *d = PyDict_New(), *files = PyList_New(0), *keys = PyList_New(0);
        if (!d || !files || !keys) {
            Py_XDECREF(d);
            Py_XDECREF(files);
            Py_XDECREF(keys);
            goto done;
        }
        int bad = PyList_Append(runs, d) < 0;
        Py_DECREF(d);
        for (size_t j = 0; !bad && j < runlog_runset_file_count(s, i); j++) {
            PyObject *p = PyUnicode_DecodeFSDefault(runlog_runset_file_path(s, i, j));
            bad = !p || PyList_Append(files, p) < 0;
            Py_XDECREF(p);
        }
        for (size_t j = 0; !bad && j < runlog_runset_key_count(s, i); j++) {
            const char *k = runlog_runset_key(s, i, j);
            PyObject *p = text_to_py(k, k ? strlen(k) : 0);
            bad = !p || PyList_Append(keys, p) < 0;
            Py_XDECREF(p);
        }
        uint64_t rows = runlog_runset_rows(s, i);
        const char *id = runlog_runset_run_id(s, i);
        if (bad || set_item(d, "files", files) < 0 || set_item(d, "keys", keys) < 0 ||
            set_item(d, "id", text_to_py(id, id ? strlen(id) : 0)) < 0 ||
            set_item(d, "identity", value_to_py(runlog_runset_identity(s, i))) < 0 ||
            set_item(d, "config", value_to_py(runlog_runset_config(s, i))) < 0 ||
            set_item(d, "summary", value_to_py(runlog_runset_summary(s, i))) < 0 ||
            set_item(d, "metadata", value_to_py(runlog_runset_metadata(s, i))) < 0 ||
            set_item(d, "state", PyUnicode_FromString(runlog_state_name(runlog_runset_state(s, i)))) < 0 ||
            set_item(d, "exit_code", PyLong_FromLong(runlog_runset_exit_code(s, i))) < 0 ||
            set_item(d, "start_time", PyLong_FromLongLong(runlog_runset_start_time(s, i))) < 0 ||
            set_item(d, "end_time", PyLong_FromLongLong(runlog_runset_end_time(s, i))) < 0 ||
            set_item(d, "rows", PyLong_FromUnsignedLongLong(rows)) < 0 ||
            set_item(d, "last_step", rows ? PyLong_FromUnsignedLongLong(runlog_runset_last_step(s, i))
                                          : (Py_INCREF(Py_None), Py_None)) < 0 ||
            set_item(d, "resumes", PyLong_FromUnsignedLongLong(runlog_runset_resumes(s, i))) < 0)
            goto done;
    }
    for (size_t i = 0; i < runlog_runset_duplicate_count(s); i++) {
        PyObject *t = Py_BuildValue("(O&O&)", PyUnicode_DecodeFSDefault, runlog_runset_duplicate_path(s, i),
                                    PyUnicode_DecodeFSDefault, runlog_runset_duplicate_of(s, i));
        if (!t || PyList_Append(dups, t) < 0) {
            Py_XDECREF(t);
            goto done;
        }
        Py_DECREF(t);
    }
    out = PyTuple_Pack(2, runs, dups);
done:
    Py_XDECREF(runs);
    Py_XDECREF(dups);
    runlog_runset_free(s);
    return out;
}

/* find_runlogs(path) -> [paths]: runlog_find_runlogs(), the one search for
 * run-logs under a folder (name order, links never followed). */
static PyObject *mod_find_runlogs(PyObject *m, PyObject *arg)
{
    PyObject *b;
    if (!PyUnicode_FSConverter(arg, &b))
        return NULL;
    char **found = NULL;
    size_t n = 0;
    int rc;
    const char *path = PyBytes_AS_STRING(b);
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_find_runlogs(&found, &n, path);
    Py_END_ALLOW_THREADS
    Py_DECREF(b);
    if (rc)
        return raise_rc(rc);
    PyObject *out = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; out && i < n; i++) {
        PyObject *p = PyUnicode_DecodeFSDefault(found[i]);
        if (!p)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, (Py_ssize_t)i, p);
    }
    runlog_paths_free(found);
    return out;
}

/* Adds the top-level keys of map v (not yet in seen) to seen, in order. */
static int add_map_keys(PyObject *seen, const runlog_value *v)
{
    if (runlog_value_type(v) != RUNLOG_MAP)
        return 0;
    for (size_t i = 0; i < runlog_value_count(v); i++) {
        size_t klen;
        const char *k = runlog_value_key(v, i, &klen);
        if (!k || klen != strlen(k)) /* a key holding NUL cannot name a column */
            continue;
        PyObject *key = text_to_py(k, klen);
        if (!key || PyDict_SetDefault(seen, key, Py_None) == NULL) {
            Py_XDECREF(key);
            return -1;
        }
        Py_DECREF(key);
    }
    return 0;
}

/* run_keys(paths) -> (config keys, summary keys): the top-level keys of the
 * files' config and summary maps in order of first appearance, each file
 * read as the runs table reads it (runlog_reader_run_summary(), tolerant,
 * no history values decoded). Files that cannot be read are passed over:
 * the runs table lists them as rows of their own. */
static PyObject *mod_run_keys(PyObject *m, PyObject *paths)
{
    const char **arr;
    size_t n;
    PyObject *keep;
    if (path_array(paths, &arr, &n, &keep) < 0)
        return NULL;
    PyObject *config = PyDict_New(), *summary = PyDict_New(), *out = NULL;
    if (!config || !summary)
        goto done;
    for (size_t i = 0; i < n; i++) {
        runlog_reader_options ro = RUNLOG_READER_OPTIONS_INIT;
        runlog_reader *r = NULL;
        runlog_run *run = NULL;
        int rc;
        ro.flags = RUNLOG_READ_TOLERANT;
        Py_BEGIN_ALLOW_THREADS
        rc = runlog_reader_open(&r, arr[i], &ro);
        if (!rc)
            rc = runlog_reader_run_summary(&run, r);
        runlog_reader_close(r);
        Py_END_ALLOW_THREADS
        if (rc == RUNLOG_ENOMEM) {
            raise_rc(rc);
            goto done;
        }
        if (rc)
            continue;
        int bad = add_map_keys(config, runlog_run_config(run)) < 0 ||
                  add_map_keys(summary, runlog_run_summary(run)) < 0;
        runlog_run_free(run);
        if (bad)
            goto done;
    }
    out = Py_BuildValue("(NN)", PyDict_Keys(config), PyDict_Keys(summary));
done:
    Py_XDECREF(config);
    Py_XDECREF(summary);
    PyMem_Free(arr);
    Py_DECREF(keep);
    return out;
}

/* runs_table(paths, columns=None, where=None, sort=None, group_by=None)
 * -> (columns, rows, damaged): runlog_runs_open() (spec/EXPORTS.md §12),
 * rows as lists of cells in column order, damaged = runlog_runs_damaged(). */
static PyObject *mod_runs_table(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "paths", "columns", "where", "sort", "group_by", NULL };
    PyObject *paths, *columns = Py_None, *keep_cols = NULL, *out = NULL;
    const char *where = NULL, *sort = NULL, *group_by = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|Ozzz", kwlist, &paths, &columns, &where, &sort,
                                     &group_by))
        return NULL;
    const char **arr, **cols = NULL;
    size_t n, ncols = 0;
    PyObject *keep;
    if (path_array(paths, &arr, &n, &keep) < 0)
        return NULL;
    if (columns != Py_None && str_array(columns, &cols, &ncols, &keep_cols) < 0) {
        PyMem_Free(arr);
        Py_DECREF(keep);
        return NULL;
    }
    runlog_runs_options o = RUNLOG_RUNS_OPTIONS_INIT;
    o.columns = cols;
    o.n_columns = ncols;
    o.where = where;
    o.sort = sort;
    o.group_by = group_by;
    runlog_runs *t = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_runs_open(&t, arr, n, &o);
    Py_END_ALLOW_THREADS
    PyMem_Free(arr);
    PyMem_Free(cols);
    Py_DECREF(keep);
    Py_XDECREF(keep_cols);
    if (rc)
        return raise_rc(rc);
    size_t nc = runlog_runs_column_count(t), nr = runlog_runs_count(t);
    PyObject *names = PyList_New((Py_ssize_t)nc), *rows = PyList_New((Py_ssize_t)nr);
    if (!names || !rows)
        goto done;
    for (size_t c = 0; c < nc; c++) {
        const char *name = runlog_runs_column(t, c);
        PyObject *s = text_to_py(name, strlen(name));
        if (!s)
            goto done;
        PyList_SET_ITEM(names, (Py_ssize_t)c, s);
    }
    for (size_t r = 0; r < nr; r++) {
        PyObject *row = PyList_New((Py_ssize_t)nc);
        if (!row)
            goto done;
        PyList_SET_ITEM(rows, (Py_ssize_t)r, row);
        for (size_t c = 0; c < nc; c++) {
            PyObject *v = value_to_py(runlog_runs_cell(t, r, c));
            if (!v)
                goto done;
            PyList_SET_ITEM(row, (Py_ssize_t)c, v);
        }
    }
    out = Py_BuildValue("(OOn)", names, rows, (Py_ssize_t)runlog_runs_damaged(t));
done:
    Py_XDECREF(names);
    Py_XDECREF(rows);
    runlog_runs_free(t);
    return out;
}

/* Notices of runlog_export(), kept in C while the GIL is released. */
typedef struct {
    int *kinds;
    char **texts;
    size_t n, cap;
    int oom;
} notices;

static void on_notice(void *payload, runlog_notice_kind kind, const char *text)
{
    notices *ns = payload;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        int *k = realloc(ns->kinds, cap * sizeof *k);
        if (k)
            ns->kinds = k;
        char **t = realloc(ns->texts, cap * sizeof *t);
        if (t)
            ns->texts = t;
        if (!k || !t) {
            ns->oom = 1;
            return;
        }
        ns->cap = cap;
    }
    char *s = strdup(text ? text : "");
    if (!s) {
        ns->oom = 1;
        return;
    }
    ns->kinds[ns->n] = (int)kind;
    ns->texts[ns->n++] = s;
}

/* export(inputs, out, format, **options) -> (damaged, [(kind, text)...]) */
static PyObject *mod_export(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "inputs", "out", "format", "strict", "keys", "table", "artifact",
                              "hdf5_compression", "hdf5_level", "hdf5_artifact_data",
                              "wandb_entity", "wandb_project", "out_fd",
                              "wandb_hash_references", "json_nan_null", NULL };
    PyObject *inputs, *outp = Py_None, *keys = NULL;
    int format, strict = 0, comp = RUNLOG_HDF5_GZIP, level = -1, art_data = 0, out_fd = -1;
    int hash_refs = 0, nan_null = 0;
    const char *table = NULL, *artifact = NULL, *entity = NULL, *project = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOi|pOzziipzzipp", kwlist, &inputs, &outp, &format,
                                     &strict, &keys, &table, &artifact, &comp, &level, &art_data,
                                     &entity, &project, &out_fd, &hash_refs, &nan_null))
        return NULL;
    PyObject *outb = NULL;
    if (outp != Py_None && !PyUnicode_FSConverter(outp, &outb))
        return NULL;
    const char **arr = NULL, **karr = NULL;
    size_t n = 0, nk = 0;
    PyObject *keep = NULL, *kkeep = NULL;
    if (path_array(inputs, &arr, &n, &keep) < 0 || str_array(keys, &karr, &nk, &kkeep) < 0) {
        Py_XDECREF(outb);
        PyMem_Free(arr);
        Py_XDECREF(keep);
        return NULL;
    }
    notices ns = { 0 };
    runlog_export_options o = RUNLOG_EXPORT_OPTIONS_INIT;
    o.format = (runlog_export_format)format;
    o.damage = strict ? RUNLOG_DAMAGE_STRICT : RUNLOG_DAMAGE_TOLERANT;
    o.notice = on_notice;
    o.payload = &ns;
    o.out_fd = out_fd;
    o.keys = karr;
    o.nkeys = nk;
    o.table = table;
    o.artifact = artifact;
    o.hdf5_compression = (runlog_hdf5_compression)comp;
    o.hdf5_level = level;
    o.hdf5_artifact_data = art_data;
    o.wandb_entity = entity;
    o.wandb_project = project;
    o.wandb_hash_references = hash_refs;
    o.json_nan_null = nan_null;
    const char *out = outb ? PyBytes_AS_STRING(outb) : NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = runlog_export(arr, n, out, &o);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (rc && rc != RUNLOG_EDAMAGED) {
        raise_rc(rc);
    } else if (ns.oom) {
        PyErr_NoMemory();
    } else {
        PyObject *list = PyList_New((Py_ssize_t)ns.n);
        for (size_t i = 0; list && i < ns.n; i++) {
            PyObject *t = Py_BuildValue("(iN)", ns.kinds[i], text_to_py(ns.texts[i], strlen(ns.texts[i])));
            if (!t) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)i, t);
        }
        if (list)
            result = Py_BuildValue("(ON)", rc == RUNLOG_EDAMAGED ? Py_True : Py_False, list);
    }
    for (size_t i = 0; i < ns.n; i++)
        free(ns.texts[i]);
    free(ns.texts);
    free(ns.kinds);
    PyMem_Free(arr);
    PyMem_Free(karr);
    Py_XDECREF(keep);
    Py_XDECREF(kkeep);
    Py_XDECREF(outb);
    return result;
}

static PyObject *mod_export_supported(PyObject *m, PyObject *arg)
{
    long f = PyLong_AsLong(arg);
    if (f == -1 && PyErr_Occurred())
        return NULL;
    return PyBool_FromLong(runlog_export_supported((runlog_export_format)f));
}

/* artifact_path_check(path): the one entry-path rule (runlog_artifact_path_check()). */
static PyObject *mod_artifact_path_check(PyObject *m, PyObject *arg)
{
    Py_ssize_t n;
    const char *s;
    PyObject *b = NULL;
    if (PyUnicode_Check(arg)) {
        b = PyUnicode_AsEncodedString(arg, "utf-8", "surrogateescape");
        if (!b)
            return NULL;
        arg = b;
    }
    if (!PyBytes_Check(arg)) {
        Py_XDECREF(b);
        return PyErr_Format(PyExc_TypeError, "artifact_path_check(str or bytes)");
    }
    s = PyBytes_AS_STRING(arg);
    n = PyBytes_GET_SIZE(arg);
    int rc = runlog_artifact_path_check(s, (size_t)n);
    Py_XDECREF(b);
    if (rc)
        return raise_rc(rc);
    Py_RETURN_NONE;
}

static PyObject *mod_strerror(PyObject *m, PyObject *arg)
{
    long c = PyLong_AsLong(arg);
    if (c == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(runlog_strerror((int)c));
}

/* ---- Type tables ----------------------------------------------------------------- */

static PyMethodDef Writer_methods[] = {
    { "add", (PyCFunction)(void (*)(void))Writer_add, METH_FASTCALL,
      "add(key, value): a scalar (None, bool, int, float, str, numpy scalar, 0-d array) to the pending row" },
    { "log_row", (PyCFunction)(void (*)(void))Writer_log_row, METH_FASTCALL,
      "log_row(dict, step) -> None, or the keys of values that are not scalars (nothing added)" },
    { "log_scalars", (PyCFunction)Writer_log_scalars, METH_O,
      "log_scalars(dict): adds every value when all are scalars (returns None); else adds nothing "
      "and returns the keys whose values are not" },
    { "add_json", (PyCFunction)Writer_add_json, METH_VARARGS, "add_json(key, json)" },
    { "add_string", (PyCFunction)Writer_add_string, METH_VARARGS, "add_string(key, text)" },
    { "commit", (PyCFunction)(void (*)(void))Writer_commit, METH_FASTCALL,
      "commit(step=None): the pending row at the next step, or at step" },
    { "discard_row", (PyCFunction)Writer_discard_row, METH_NOARGS, "drops the pending values" },
    { "config_json", (PyCFunction)Writer_config_json, METH_VARARGS, "config_json(json object)" },
    { "metadata_json", (PyCFunction)Writer_metadata_json, METH_VARARGS, "metadata_json(json object)" },
    { "summary", (PyCFunction)Writer_summary, METH_VARARGS, "summary(key, float|int|str)" },
    { "summary_json", (PyCFunction)Writer_summary_json, METH_VARARGS, "summary_json(key, json)" },
    { "alert", (PyCFunction)(void (*)(void))Writer_alert, METH_VARARGS | METH_KEYWORDS,
      "alert(title, text=None, level=ALERT_WARN)" },
    { "console", (PyCFunction)Writer_console, METH_VARARGS, "console(stream, bytes)" },
    { "system", (PyCFunction)Writer_system, METH_O, "system({name: float})" },
    { "add_image", (PyCFunction)(void (*)(void))Writer_add_image, METH_VARARGS | METH_KEYWORDS,
      "add_image(key, pixels, caption=None): (H, W[, C]) uint8/float32/float64" },
    { "add_image_encoded", (PyCFunction)(void (*)(void))Writer_add_image_encoded,
      METH_VARARGS | METH_KEYWORDS, "add_image_encoded(key, png_or_jpeg_bytes, caption=None)" },
    { "add_table", (PyCFunction)Writer_add_table, METH_VARARGS, "add_table(key, Table)" },
    { "blob", (PyCFunction)Writer_blob, METH_VARARGS, "blob(bytes) -> digest" },
    { "log_artifact", (PyCFunction)Writer_log_artifact, METH_O, "log_artifact(Artifact) -> version" },
    { "log_model", (PyCFunction)(void (*)(void))Writer_log_model, METH_VARARGS | METH_KEYWORDS,
      "log_model(path, name, aliases=()) -> version" },
    { "flush", (PyCFunction)Writer_flush, METH_NOARGS, "writes every committed row" },
    { "sync", (PyCFunction)Writer_sync, METH_NOARGS, "flush, then fsync" },
    { "finish", (PyCFunction)Writer_finish, METH_VARARGS, "finish(exit_code=0)" },
    { "close", (PyCFunction)Writer_close, METH_NOARGS, "closes (stops a capture first)" },
    { "capture_start", (PyCFunction)(void (*)(void))Writer_capture_start, METH_VARARGS | METH_KEYWORDS,
      "capture_start(console=False, interval_ms=0, no_metadata=False, alert_command=None, "
      "disk_path=None, nvml_library=None, argv=None) -> Capture" },
    { "abandon", (PyCFunction)Writer_abandon, METH_NOARGS,
      "in a forked child: forget the writer without writing (closes its descriptor)" },
    { "__enter__", (PyCFunction)Writer_enter, METH_NOARGS, NULL },
    { "__exit__", (PyCFunction)Writer_exit, METH_VARARGS, NULL },
    { NULL }
};

static PyGetSetDef Writer_getset[] = {
    { "run_id", (getter)Writer_get_run_id, NULL, NULL, NULL },
    { "resumed", (getter)Writer_get_resumed, NULL, NULL, NULL },
    { "next_step", (getter)Writer_get_next_step, NULL, NULL, NULL },
    { "closed", (getter)Writer_get_closed, NULL, NULL, NULL },
    { "path", (getter)Writer_get_path, NULL, NULL, NULL },
    { NULL }
};

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runlog._runlog.Writer",
    .tp_basicsize = sizeof(WriterObject),
    .tp_dealloc = (destructor)Writer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Writer(path, run_id=None, project=None, name=None, group=None, job_type=None, "
              "notes=None, tags=None, flush_interval_ms=0, synchronous=False, zstd_level=0): "
              "runlog_writer_open()",
    .tp_methods = Writer_methods,
    .tp_getset = Writer_getset,
    .tp_init = (initproc)Writer_init,
    .tp_new = Writer_new,
};

static PyMethodDef Table_methods[] = {
    { "int", (PyCFunction)Table_int, METH_O, NULL },
    { "float", (PyCFunction)Table_float, METH_O, NULL },
    { "string", (PyCFunction)Table_string, METH_O, NULL },
    { "bool", (PyCFunction)Table_bool, METH_O, NULL },
    { "json", (PyCFunction)Table_json, METH_O, NULL },
    { "null", (PyCFunction)Table_null, METH_NOARGS, NULL },
    { "image", (PyCFunction)Table_image, METH_VARARGS, "image(pixels, caption=None)" },
    { "end_row", (PyCFunction)Table_end_row, METH_NOARGS, NULL },
    { NULL }
};

static PyTypeObject TableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runlog._runlog.Table",
    .tp_basicsize = sizeof(TableObject),
    .tp_dealloc = (destructor)Table_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Table(writer, names, types): runlog_table_new(); cells left to right, then end_row()",
    .tp_methods = Table_methods,
    .tp_init = (initproc)Table_init,
    .tp_new = PyType_GenericNew,
};

static PyMethodDef Artifact_methods[] = {
    { "description", (PyCFunction)Artifact_description, METH_VARARGS, NULL },
    { "metadata_json", (PyCFunction)Artifact_metadata_json, METH_VARARGS, NULL },
    { "alias", (PyCFunction)Artifact_alias, METH_VARARGS, NULL },
    { "add_file", (PyCFunction)Artifact_add_file, METH_VARARGS, "add_file(path, name=None)" },
    { "add_dir", (PyCFunction)Artifact_add_dir, METH_VARARGS, "add_dir(dir, prefix=None)" },
    { "add_reference", (PyCFunction)(void (*)(void))Artifact_add_reference, METH_VARARGS | METH_KEYWORDS,
      "add_reference(uri, name=None, size=0, digest=None)" },
    { NULL }
};

static PyTypeObject ArtifactType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runlog._runlog.Artifact",
    .tp_basicsize = sizeof(ArtifactObject),
    .tp_dealloc = (destructor)Artifact_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Artifact(name, type): runlog_artifact_new()",
    .tp_methods = Artifact_methods,
    .tp_init = (initproc)Artifact_init,
    .tp_new = PyType_GenericNew,
};

static PyMethodDef Capture_methods[] = {
    { "stop", (PyCFunction)Capture_stop, METH_NOARGS, "runlog_capture_stop()" },
    { "alert", (PyCFunction)(void (*)(void))Capture_alert, METH_VARARGS | METH_KEYWORDS,
      "alert(title, text=None, level=ALERT_WARN): recorded, and the alert command run" },
    { NULL }
};

static PyGetSetDef Capture_getset[] = {
    { "running", (getter)Capture_get_running, NULL, NULL, NULL },
    { NULL }
};

static PyTypeObject CaptureType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runlog._runlog.Capture",
    .tp_basicsize = sizeof(CaptureObject),
    .tp_dealloc = (destructor)Capture_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A running capture (Writer.capture_start())",
    .tp_methods = Capture_methods,
    .tp_getset = Capture_getset,
};

static PyMethodDef Reader_methods[] = {
    { "run", (PyCFunction)Reader_run, METH_NOARGS, "runlog_reader_run(), as a dict" },
    { "run_summary", (PyCFunction)Reader_run_summary, METH_NOARGS,
      "runlog_reader_run_summary(), as run()'s dict: no history values decoded but each "
      "key's last" },
    { "history", (PyCFunction)Reader_history, METH_O, "history(key) -> History" },
    { "histories", (PyCFunction)Reader_histories, METH_NOARGS,
      "histories() -> {key: History}, every key in one pass" },
    { "records", (PyCFunction)Reader_records, METH_NOARGS, "an iterator over every record (dicts)" },
    { "blob", (PyCFunction)Reader_blob, METH_O, "blob(digest) -> bytes (digest checked)" },
    { "blob_to_file", (PyCFunction)Reader_blob_to_file, METH_VARARGS, "blob_to_file(digest, path)" },
    { "table", (PyCFunction)Reader_table, METH_O, "table(digest) -> {columns, types, data (rows)}" },
    { "close", (PyCFunction)Reader_close, METH_NOARGS, NULL },
    { NULL }
};

static PyGetSetDef Reader_getset[] = {
    { "file_uuid", (getter)Reader_get_file_uuid, NULL, NULL, NULL },
    { "created", (getter)Reader_get_created, NULL, NULL, NULL },
    { NULL }
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runlog._runlog.Reader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Reader(path, tolerant=False, follow=False): runlog_reader_open()",
    .tp_methods = Reader_methods,
    .tp_getset = Reader_getset,
    .tp_init = (initproc)Reader_init,
    .tp_new = Reader_new,
};

static PyGetSetDef History_getset[] = {
    { "key", (getter)History_get_key, NULL, NULL, NULL },
    { "steps", (getter)History_get_steps, NULL, "uint64 steps (a read-only view)", NULL },
    { "times", (getter)History_get_times, NULL, "int64 Unix ns (a read-only view)", NULL },
    { "values", (getter)History_get_values, NULL,
      "float64 view when every value is a float; int64/bool copy; else an object array", NULL },
    { "floats", (getter)History_get_floats, NULL,
      "every value as float64 (a view; NaN for non-numbers)", NULL },
    { "frames_read", (getter)History_get_frames_read, NULL, NULL, NULL },
    { NULL }
};

static PySequenceMethods History_seq = { .sq_length = (lenfunc)History_len };

static PyTypeObject HistoryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runlog._runlog.History",
    .tp_basicsize = sizeof(HistoryObject),
    .tp_dealloc = (destructor)History_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One key's history (runlog_reader_history()); its arrays view it",
    .tp_getset = History_getset,
    .tp_as_sequence = &History_seq,
};

static PyMethodDef Cursor_methods[] = {
    { "close", (PyCFunction)Cursor_close, METH_NOARGS, NULL },
    { NULL }
};

static PyTypeObject CursorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "runlog._runlog.Cursor",
    .tp_basicsize = sizeof(CursorObject),
    .tp_dealloc = (destructor)Cursor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Cursor_next,
    .tp_methods = Cursor_methods,
};

static PyMethodDef module_methods[] = {
    { "verify", (PyCFunction)(void (*)(void))mod_verify, METH_VARARGS | METH_KEYWORDS,
      "verify(path, values=True) -> report dict (runlog_verify(); values=False: "
      "runlog_verify_structure())" },
    { "repair", mod_repair, METH_O, "repair(path) -> bytes cut (runlog_repair())" },
    { "runset", (PyCFunction)(void (*)(void))mod_runset, METH_VARARGS | METH_KEYWORDS,
      "runset(paths, tolerant=False) -> (runs, duplicates)" },
    { "find_runlogs", mod_find_runlogs, METH_O,
      "find_runlogs(path) -> [paths] (runlog_find_runlogs())" },
    { "run_keys", mod_run_keys, METH_O,
      "run_keys(paths) -> (config keys, summary keys), top level, in order of first appearance" },
    { "runs_table", (PyCFunction)(void (*)(void))mod_runs_table, METH_VARARGS | METH_KEYWORDS,
      "runs_table(paths, columns=None, where=None, sort=None, group_by=None) -> (columns, rows, damaged)" },
    { "export", (PyCFunction)(void (*)(void))mod_export, METH_VARARGS | METH_KEYWORDS,
      "export(inputs, out, format, ...) -> (damaged, notices)" },
    { "export_supported", mod_export_supported, METH_O, NULL },
    { "strerror", mod_strerror, METH_O, NULL },
    { "artifact_path_check", mod_artifact_path_check, METH_O,
      "raises runlog.InvalidArgument for an artifact entry path the format refuses" },
    { NULL }
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_runlog", "The C layer of the runlog package (librunlog).", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

static const struct {
    int code;
    const char *name;
    PyObject **extra; /* a builtin base beside Error */
} code_names[] = {
    { RUNLOG_ENOMEM, "NoMemory", &PyExc_MemoryError },
    { RUNLOG_EIO, "IOFailure", &PyExc_OSError },
    { RUNLOG_EINVAL, "InvalidArgument", &PyExc_ValueError },
    { RUNLOG_ENOTRUNLOG, "NotRunlog", NULL },
    { RUNLOG_EUNSUPPORTED, "Unsupported", NULL },
    { RUNLOG_ECORRUPT, "Corrupt", NULL },
    { RUNLOG_ECHECKSUM, "ChecksumError", NULL },
    { RUNLOG_ETRUNCATED, "Truncated", NULL },
    { RUNLOG_ELOCKED, "Locked", NULL },
    { RUNLOG_ETOOLARGE, "TooLarge", NULL },
    { RUNLOG_ESTATE, "StateError", NULL },
    { RUNLOG_ENOTFOUND, "NotFound", &PyExc_LookupError },
    { RUNLOG_EAGAIN, "Again", NULL },
    { RUNLOG_ITEROVER, "IterationOver", NULL },
    { RUNLOG_EDAMAGED, "Damaged", NULL },
};

PyMODINIT_FUNC PyInit__runlog(void)
{
    import_array();
    PyTypeObject *types[] = { &WriterType, &TableType, &ArtifactType, &CaptureType,
                              &ReaderType, &HistoryType, &CursorType };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (PyType_Ready(types[i]) < 0)
            return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    Error = PyErr_NewExceptionWithDoc("runlog.Error",
                                      "A librunlog failure: .code (runlog_error), .detail "
                                      "(runlog_error_detail(): file, byte offset, why)",
                                      NULL, NULL);
    if (!Error || PyModule_AddObjectRef(m, "Error", Error) < 0)
        return NULL;
    for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++) {
        char qual[64];
        snprintf(qual, sizeof qual, "runlog.%s", code_names[i].name);
        PyObject *bases = code_names[i].extra ? PyTuple_Pack(2, Error, *code_names[i].extra)
                                              : PyTuple_Pack(1, Error);
        if (!bases)
            return NULL;
        PyObject *t = PyErr_NewException(qual, bases, NULL);
        Py_DECREF(bases);
        if (!t || PyModule_AddObjectRef(m, code_names[i].name, t) < 0)
            return NULL;
        code_types[-code_names[i].code] = t;
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const char *dot = strrchr(types[i]->tp_name, '.');
        if (PyModule_AddObjectRef(m, dot + 1, (PyObject *)types[i]) < 0)
            return NULL;
    }
#define INT_CONST(name, value) if (PyModule_AddIntConstant(m, name, value) < 0) return NULL
    INT_CONST("ALERT_INFO", RUNLOG_ALERT_INFO);
    INT_CONST("ALERT_WARN", RUNLOG_ALERT_WARN);
    INT_CONST("ALERT_ERROR", RUNLOG_ALERT_ERROR);
    INT_CONST("STDOUT", RUNLOG_STDOUT);
    INT_CONST("STDERR", RUNLOG_STDERR);
    INT_CONST("COLUMN_INT", RUNLOG_COLUMN_INT);
    INT_CONST("COLUMN_FLOAT", RUNLOG_COLUMN_FLOAT);
    INT_CONST("COLUMN_STRING", RUNLOG_COLUMN_STRING);
    INT_CONST("COLUMN_BOOL", RUNLOG_COLUMN_BOOL);
    INT_CONST("COLUMN_IMAGE", RUNLOG_COLUMN_IMAGE);
    INT_CONST("COLUMN_VALUE", RUNLOG_COLUMN_VALUE);
    INT_CONST("EXPORT_JSON", RUNLOG_EXPORT_JSON);
    INT_CONST("EXPORT_JSONL", RUNLOG_EXPORT_JSONL);
    INT_CONST("EXPORT_CSV", RUNLOG_EXPORT_CSV);
    INT_CONST("EXPORT_CSV_LONG", RUNLOG_EXPORT_CSV_LONG);
    INT_CONST("EXPORT_CSV_TABLE", RUNLOG_EXPORT_CSV_TABLE);
    INT_CONST("EXPORT_HISTORY", RUNLOG_EXPORT_HISTORY);
    INT_CONST("EXPORT_DUMP", RUNLOG_EXPORT_DUMP);
    INT_CONST("EXPORT_HDF5", RUNLOG_EXPORT_HDF5);
    INT_CONST("EXPORT_WANDB", RUNLOG_EXPORT_WANDB);
    INT_CONST("EXPORT_IMAGES", RUNLOG_EXPORT_IMAGES);
    INT_CONST("EXPORT_ARTIFACT", RUNLOG_EXPORT_ARTIFACT);
    INT_CONST("HDF5_GZIP", RUNLOG_HDF5_GZIP);
    INT_CONST("HDF5_ZSTD", RUNLOG_HDF5_ZSTD);
    INT_CONST("HDF5_NONE", RUNLOG_HDF5_NONE);
    INT_CONST("NOTICE_DAMAGE", RUNLOG_NOTICE_DAMAGE);
    INT_CONST("NOTICE_TORN", RUNLOG_NOTICE_TORN);
    INT_CONST("NOTICE_WARNING", RUNLOG_NOTICE_WARNING);
    INT_CONST("NOTICE_OUTPUT", RUNLOG_NOTICE_OUTPUT);
    INT_CONST("NO_TIMED_FLUSH", (long)RUNLOG_NO_TIMED_FLUSH);
    INT_CONST("CAPTURE_NO_SAMPLER", (long)RUNLOG_CAPTURE_NO_SAMPLER);
    if (PyModule_AddStringConstant(m, "LIBRARY_VERSION", RUNLOG_VERSION_STRING) < 0)
        return NULL;
    return m;
}
