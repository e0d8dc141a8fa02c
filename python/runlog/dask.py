"""runlog.dask: many run-logs as dask DataFrames, read where the workers are.

    import runlog.dask
    df = runlog.dask.read_history("sweep/", keys=["loss", "acc"])
    df.groupby("run_id")["loss"].min().compute()

read_history(paths, keys=None) has one partition per run file, each read by
a worker with runlog.open(path).history_frame(keys): columns run_id,
_step, _timestamp (seconds, float), then the keys. runs(paths) is
runlog.runs() (the library's runs table) with one partition per folder.
dask is imported only here; paths are found as runlog.runs() finds them
(folders through runlog_find_runlogs(), globs, files).

Column types are the same in every partition, as dask requires: a key
whose values are numbers (int, float) in every file is float64 (NaN where
a run has no value at a step), any other key is object (None where none).
Finding them takes one look at every file before the partitions are read
(a dask computation too, spread over the workers).
"""
import os

import numpy as np

from . import reader as _reader

__all__ = ["read_history", "runs"]


def _file_keys(path, keys):
    # (run id, keys, {key: "f" numeric | "O" other}) of one file
    run = _reader.Run(path)
    try:
        have = run.keys()
        ks = have if keys is None else [k for k in keys if k in set(have)]
        # Several keys in one pass (history(k) per key decodes a wide run's
        # frames once per key: 10,000 keys took 0.55 s, now 0.31).
        hs = run.histories() if len(ks) > 1 else {k: run.history(k) for k in ks}
        kinds = {k: "f" if hs[k].values.dtype.kind in "iuf" else "O" for k in ks}
        return run.id, ks, kinds
    finally:
        run.close()


def _empty(columns, kinds):
    import pandas as pd
    cols = {"run_id": pd.Series([], dtype=object), "_step": pd.Series([], dtype=np.int64),
            "_timestamp": pd.Series([], dtype=np.float64)}
    for k in columns:
        cols[k] = pd.Series([], dtype=np.float64 if kinds[k] == "f" else object)
    return pd.DataFrame(cols)


def _history_partition(path, columns, kinds):
    """One file's history as the partition's frame: every column of the
    union, in order, typed as the meta says."""
    import pandas as pd
    run = _reader.Run(path)
    try:
        have = [k for k in columns if k in set(run.keys())]
        frame = run.history_frame(have) if have else pd.DataFrame(
            {"_timestamp": pd.Series([], dtype=np.float64)},
            index=pd.Index([], dtype=np.int64, name="_step"))
        run_id = run.id
    finally:
        run.close()
    out = _empty(columns, kinds)
    n = len(frame)
    data = {"run_id": np.array([run_id] * n, dtype=object),
            "_step": frame.index.to_numpy().astype(np.int64),
            "_timestamp": frame["_timestamp"].to_numpy(dtype=np.float64)}
    for k in columns:
        if k not in frame:
            data[k] = np.full(n, np.nan) if kinds[k] == "f" else np.array([None] * n, dtype=object)
        elif kinds[k] == "f":
            data[k] = frame[k].to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            col = frame[k].astype(object)
            data[k] = col.where(col.notna(), None).to_numpy(dtype=object)
    return pd.DataFrame(data, columns=out.columns)


def read_history(paths, keys=None):
    """A dask.dataframe of the histories of the runs under paths (folders,
    globs, files), one partition per file: run_id, _step, _timestamp, then
    keys (all keys of any file when None, in order of first appearance).
    A file's partition holds what runlog.open(path).history_frame(keys)
    gives (one row per step, the last value at a step that several rows
    hold), so `compute()` equals pandas.concat of those frames."""
    import dask
    import dask.dataframe as dd
    files = _reader._paths(paths)
    if not files:
        raise ValueError(f"runlog.dask.read_history: no run-logs in {paths!r}")
    wanted = None if keys is None else list(keys)
    infos = dask.compute(*[dask.delayed(_file_keys, pure=True)(p, wanted) for p in files])
    columns, kinds = [], {}
    for _id, ks, kk in infos:
        for k in ks:
            if k not in kinds:
                columns.append(k)
                kinds[k] = kk[k]
            elif kk[k] != kinds[k]:
                kinds[k] = "O"
    if wanted is not None:
        columns = [k for k in wanted if k in kinds]
    meta = _empty(columns, kinds)
    parts = [dask.delayed(_history_partition, pure=True)(p, columns, kinds) for p in files]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _runs_partition(paths, dtypes):
    import pandas as pd
    df = _reader.runs(paths)
    cols = {}
    for c, t in dtypes.items():
        cols[c] = df[c].astype(t) if c in df else pd.Series([None] * len(df), dtype=object)
    return pd.DataFrame(cols, columns=list(dtypes))


def runs(paths, partition_size=None):
    """runlog.runs(paths) as a dask.dataframe: one partition per folder
    holding run-logs (the files of one run merged in it, as the runs table
    merges them: spec/EXPORTS.md §11), or per partition_size files. Files
    of one run split over two partitions are two rows. Columns as
    runlog.runs(): the built-ins, then config.* and summary.* of every run
    (object columns where partitions disagree)."""
    import dask
    import dask.dataframe as dd
    files = _reader._paths(paths)
    if not files:
        raise ValueError(f"runlog.dask.runs: no run-logs in {paths!r}")
    groups = {}
    if partition_size:
        for i in range(0, len(files), partition_size):
            groups[i] = files[i:i + partition_size]
    else:
        for p in files:
            groups.setdefault(os.path.dirname(p), []).append(p)
    # One small runs table per partition: its columns give the meta.
    heads = dask.compute(*[dask.delayed(_reader.runs, pure=True)(g) for g in groups.values()])
    columns = []
    for h in heads:
        columns.extend(c for c in h.columns if c not in columns)
    meta_cols = {}
    for c in columns:
        dtypes = {str(h[c].dtype) if c in h else "object" for h in heads if len(h)}
        meta_cols[c] = dtypes.pop() if len(dtypes) == 1 else "object"
    import pandas as pd
    meta = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in meta_cols.items()}, columns=columns)
    parts = [dask.delayed(_runs_partition, pure=True)(g, meta_cols) for g in groups.values()]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)
