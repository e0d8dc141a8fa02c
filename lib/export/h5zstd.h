/*
 * h5zstd.h — the zstd filter for HDF5 (registered filter id 32015,
 * cd_values[0] = compression level), shared by the HDF5 filter plugin
 * (libh5zstd.so, found by readers through HDF5_PLUGIN_PATH) and by
 * RUNLOG_EXPORT_HDF5, which registers it in-process so that writing needs
 * no plugin path.
 */
#ifndef RUNLOG_H5ZSTD_H
#define RUNLOG_H5ZSTD_H

#include <hdf5.h>

#define RUNLOG_H5ZSTD_ID 32015

/* The filter class; pass it to H5Zregister(). */
extern const H5Z_class2_t rx_h5zstd_class;

#endif
