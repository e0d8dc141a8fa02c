/*
 * w_hdf5.c — HDF5 through its C API, the way an h5py user logs metrics:
 *
 *   ds = f.create_dataset(key, shape=(0,), maxshape=(None,), dtype="f8",
 *                         chunks=True, compression="gzip", shuffle=True)
 *   ... every step, for every key:  ds.resize((n + 1,)); ds[n] = value
 *   ... every 1000 steps:           f.flush()
 *
 * One chunked, extendible 1-D dataset per key plus a "_step" int64 dataset.
 * Chunks are 1024 elements, what h5py's chunks=True picks for an extendible
 * 1-D float64 dataset; gzip level 4 is h5py's default for "gzip". The plain
 * variant drops both filters. Everything runs in C, so HDF5 is spared the
 * Python call overhead an h5py user pays on each of these calls.
 */
#include <stdio.h>
#include <stdlib.h>

#include <hdf5.h>

#include "bench.h"

#define BENCH_H5_CHUNK 1024
#define BENCH_H5_FLUSH_EVERY 1000u
#define BENCH_H5_GZIP_LEVEL 4

typedef struct bench_h5 {
    hid_t file;
    hid_t *ds;   /* keys datasets, then "_step" */
    hid_t mem;   /* a one-element memory space */
    uint32_t keys;
    const char *path;
} bench_h5;

static hid_t bench_h5_create(const bench_h5 *h, const char *name, hid_t type, int gzip)
{
    hsize_t dims[1] = { 0 }, maxdims[1] = { H5S_UNLIMITED }, chunk[1] = { BENCH_H5_CHUNK };
    hid_t space = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, 1, chunk) < 0)
        bench_die(h->path, name, "cannot set up the dataset");
    if (gzip && (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, BENCH_H5_GZIP_LEVEL) < 0))
        bench_die(h->path, name, "cannot set the gzip and shuffle filters");
    hid_t ds = H5Dcreate2(h->file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0)
        bench_die(h->path, name, "H5Dcreate2 failed");
    H5Pclose(dcpl);
    H5Sclose(space);
    return ds;
}

static void *bench_h5_open(const bench_writer *wr, const char *path, const bench_shape *s,
                           uint32_t run)
{
    bench_h5 *h = bench_xmalloc(sizeof *h);
    h->keys = s->keys;
    h->path = path;
    h->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (h->file < 0)
        bench_die(path, "create", "H5Fcreate failed");
    h->ds = bench_xmalloc(sizeof(hid_t) * (s->keys + 1u));
    for (uint32_t k = 0; k < s->keys; k++)
        h->ds[k] = bench_h5_create(h, s->key_names[k], H5T_IEEE_F64LE, wr->variant);
    h->ds[s->keys] = bench_h5_create(h, "_step", H5T_STD_I64LE, wr->variant);
    hsize_t one[1] = { 1 };
    h->mem = H5Screate_simple(1, one, NULL);
    return h;
}

/* ds.resize((n + 1,)); ds[n] = value */
static void bench_h5_append(const bench_h5 *h, hid_t ds, uint64_t n, hid_t memtype,
                            const void *value)
{
    hsize_t size[1] = { n + 1 }, start[1] = { n }, count[1] = { 1 };
    if (H5Dset_extent(ds, size) < 0)
        bench_die(h->path, "append", "H5Dset_extent failed");
    hid_t fs = H5Dget_space(ds);
    if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dwrite(ds, memtype, h->mem, fs, H5P_DEFAULT, value) < 0)
        bench_die(h->path, "append", "H5Dwrite failed");
    H5Sclose(fs);
}

static uint64_t bench_h5_step(void *hv, uint64_t step, const double *vals)
{
    bench_h5 *h = hv;
    uint64_t t0 = bench_now_ns();
    int64_t st = (int64_t)step;
    bench_h5_append(h, h->ds[h->keys], step, H5T_NATIVE_INT64, &st);
    for (uint32_t k = 0; k < h->keys; k++)
        bench_h5_append(h, h->ds[k], step, H5T_NATIVE_DOUBLE, &vals[k]);
    if ((step + 1) % BENCH_H5_FLUSH_EVERY == 0 && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        bench_die(h->path, "flush", "H5Fflush failed");
    return bench_now_ns() - t0;
}

static void bench_h5_close(void *hv)
{
    bench_h5 *h = hv;
    for (uint32_t k = 0; k <= h->keys; k++)
        H5Dclose(h->ds[k]);
    H5Sclose(h->mem);
    if (H5Fclose(h->file) < 0)
        bench_die(h->path, "close", "H5Fclose failed");
    bench_fsync_path(h->path);
    free(h->ds);
    free(h);
}

/* f[key][:] and f["_step"][:], as a user reads one curve back. */
static void *bench_h5_read_all(hid_t file, const char *path, const char *name, hid_t memtype,
                               size_t elem, uint64_t *n)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0)
        bench_die(path, name, "H5Dopen2 failed");
    hid_t fs = H5Dget_space(ds);
    hsize_t dims[1] = { 0 };
    H5Sget_simple_extent_dims(fs, dims, NULL);
    void *buf = bench_xmalloc((size_t)dims[0] * elem);
    if (H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        bench_die(path, name, "H5Dread failed");
    H5Sclose(fs);
    H5Dclose(ds);
    *n = dims[0];
    return buf;
}

static uint64_t bench_h5_read(const bench_writer *wr, const char *path, const bench_shape *s,
                              uint32_t run, double *sum, bench_read_info *info)
{
    /* The file's open, timed apart from the datasets' open and read: the
     * key's read is H5Dopen2 + H5Dread of the key and of _step. */
    uint64_t t0 = bench_now_ns();
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        bench_die(path, "open for reading", "H5Fopen failed");
    info->open_ns = bench_now_ns() - t0;
    uint64_t n, nsteps;
    double *v = bench_h5_read_all(file, path, s->key_names[s->read_key], H5T_NATIVE_DOUBLE,
                                  sizeof(double), &n);
    int64_t *steps = bench_h5_read_all(file, path, "_step", H5T_NATIVE_INT64, sizeof(int64_t),
                                       &nsteps);
    H5Fclose(file);
    double acc = 0.0;
    for (uint64_t i = 0; i < n; i++) {
        if (nsteps != n || steps[i] != (int64_t)i)
            bench_die(path, "read", "steps out of order");
        acc += v[i];
    }
    *sum = acc;
    free(v);
    free(steps);
    return n;
}

const bench_writer bench_hdf5_gzip_writer = {
    "hdf5-gzip", "h5", 1, 0, bench_h5_open, bench_h5_step, bench_h5_close, bench_h5_read, NULL,
};

const bench_writer bench_hdf5_plain_writer = {
    "hdf5-plain", "h5", 0, 0, bench_h5_open, bench_h5_step, bench_h5_close, bench_h5_read, NULL,
};
