"""The reader: runlog.open(path) -> Run; runlog.runs(paths) -> DataFrame;
runlog.export(paths, out, format=...) over librunlog-export.

numpy arrays from Run.history() view the library's own arrays (see
runlog._runlog.History); pandas is imported only by the calls that return a
DataFrame.
"""
import builtins
import glob as _glob
import os

from . import _runlog

import numpy as np

EXPORT_FORMATS = {
    "json": _runlog.EXPORT_JSON,
    "jsonl": _runlog.EXPORT_JSONL,
    "csv": _runlog.EXPORT_CSV,
    "csv-long": _runlog.EXPORT_CSV_LONG,
    "csv-table": _runlog.EXPORT_CSV_TABLE,
    "history": _runlog.EXPORT_HISTORY,
    "dump": _runlog.EXPORT_DUMP,
    "hdf5": _runlog.EXPORT_HDF5,
    "wandb": _runlog.EXPORT_WANDB,
    "images": _runlog.EXPORT_IMAGES,
    "artifact": _runlog.EXPORT_ARTIFACT,
}
_HDF5_COMPRESSION = {"gzip": _runlog.HDF5_GZIP, "zstd": _runlog.HDF5_ZSTD, "none": _runlog.HDF5_NONE}
_COLUMN_NAMES = {
    _runlog.COLUMN_INT: "int", _runlog.COLUMN_FLOAT: "float", _runlog.COLUMN_STRING: "string",
    _runlog.COLUMN_BOOL: "bool", _runlog.COLUMN_IMAGE: "image", _runlog.COLUMN_VALUE: "value",
}


def _is_media(v, kind):
    return isinstance(v, dict) and v.get("_type") == kind and isinstance(v.get("digest"), bytes)


class TableData:
    """A table read back: .columns, .types (names), .data (rows); image cells
    are numpy arrays (raw images) or the encoded bytes (PNG/JPEG)."""

    def __init__(self, columns, types, data):
        self.columns = columns
        self.types = types
        self.data = data

    def __len__(self):
        return len(self.data)

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame(self.data, columns=self.columns)

    def __repr__(self):
        return f"TableData(columns={self.columns!r}, rows={len(self.data)})"


class ArtifactVersion:
    """One logged artifact version (runlog_run_artifacts())."""

    def __init__(self, run, info):
        self._run = run
        self.info = info
        self.name = info.get("name")
        self.type = info.get("type")
        self.version = info.get("version")
        self.aliases = list(info.get("aliases") or [])
        self.description = info.get("description")
        self.metadata = info.get("metadata") or {}
        self.entries = list(info.get("entries") or [])

    def download(self, root):
        """Writes the stored entries under root (each digest checked by the
        library; paths checked by it when the record was read). References
        are not copied. Returns root."""
        for e in self.entries:
            if e.get("ref") is not None:
                continue
            path = e["path"]
            _runlog_check_path(path)
            dest = os.path.join(root, *path.split("/"))
            os.makedirs(os.path.dirname(dest) or root, exist_ok=True)
            self._run._reader.blob_to_file(e["digest"], dest)
        return root

    def __repr__(self):
        return f"ArtifactVersion({self.name}:v{self.version}, aliases={self.aliases})"


def _runlog_check_path(path):
    # The library's one rule for entry paths (spec/FORMAT.md §12.5): never
    # write outside root, whatever the file says.
    _runlog.artifact_path_check(path)


class Run:
    """One run-log file, read: runlog.open(path) (see open() for what that
    reads)."""

    def __init__(self, path, tolerant=False):
        self.path = os.fspath(path)
        self._reader = _runlog.Reader(self.path, tolerant=tolerant)
        # The light pass (runlog_reader_run_summary()): every frame checked,
        # no history values decoded but each key's last. Where it skipped
        # damage (tolerant only), the full pass instead, which skips the
        # same frames as history() and records() do: a damaged column that
        # held a last value reads there as a record dropped, not as a null.
        self._info = self._reader.run_summary()
        if self._info["damage"]:
            self._info = self._reader.run()
        ident = self._info["identity"] or {}
        self.identity = ident
        self.id = ident.get("id")
        self.project = ident.get("project")
        self.name = ident.get("name")
        self.group = ident.get("group")
        self.job_type = ident.get("job_type")
        self.notes = ident.get("notes")
        self.tags = list(ident.get("tags") or [])
        self.start_time = ident.get("start_time")
        self.state = self._info["state"]
        self.exit_code = self._info["exit_code"]
        self.end_time = self._info["end_time"]
        self.rows = self._info["rows"]
        self.last_step = self._info["last_step"]
        self.resumes = self._info["resumes"]
        self.config = self._info["config"] or {}
        self.summary = self._info["summary"] or {}
        self.metadata = self._info["metadata"] or {}
        self.record_counts = self._info["record_counts"]

    def __repr__(self):
        return f"<runlog.Run {self.id} {self.name!r} {self.state} rows={self.rows} {self.path!r}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self._reader.close()

    def keys(self):
        """History keys, in the order they first appear."""
        return list(self._info["keys"])

    def history(self, key):
        """key's history: .steps (uint64), .times (int64 Unix ns), .values
        (float64 when every value is a float, int64/bool when all are, else
        objects), .floats (float64 of every value). steps, times and float
        values are read-only views of the library's memory, valid as long as
        any of them is alive, whatever happens to this Run."""
        return self._reader.history(key)

    def histories(self):
        """Every history key's history at once, {key: History} in the order
        keys first appear, read in one pass over the file (each frame decoded
        once): for many keys of a wide run, far cheaper than history(key)
        per key. The arrays are views as history()'s are."""
        return self._reader.histories()

    def history_frame(self, keys=None):
        """A pandas DataFrame indexed by step (_step), one column per key and
        _timestamp (seconds, float: the latest time of the step's values):
        the last value at a step that several rows hold."""
        import pandas as pd
        # Several keys: all of them in one pass over the file
        # (runlog_reader_histories()), whatever the run's width; one key, or
        # a key the pass lacks, through history(key), which raises for a key
        # that never appears.
        keys = None if keys is None else list(keys)
        every = self._reader.histories() if keys is None or len(keys) > 1 else {}
        keys = list(every) if keys is None else keys
        cols, times = {}, {}
        for k in keys:
            h = every[k] if k in every else self.history(k)
            idx = pd.Index(h.steps, name="_step")
            s = pd.Series(h.values, index=idx)
            t = pd.Series(h.times, index=idx)
            dup = idx.duplicated(keep="last")
            if dup.any():
                s, t = s[~dup], t[~dup]
            cols[k] = s
            times[k] = t
        df = pd.DataFrame(cols)
        if times:
            ts = pd.DataFrame(times).max(axis=1)
            df.insert(0, "_timestamp", ts.reindex(df.index).to_numpy(dtype=np.float64) / 1e9)
        else:
            df.insert(0, "_timestamp", pd.Series([], dtype=np.float64))
        df.index.name = "_step"
        return df

    def records(self):
        """Every record in file order, as dicts: type, time, offset, and
        step + fields (history rows, system samples) or body."""
        return self._reader.records()

    def verify(self, values=True):
        """verify() of this run's file."""
        return _runlog.verify(self.path, values=values)

    # -- media ---------------------------------------------------------------

    def image(self, cell):
        """The pixels of an image cell: a (H, W, C) uint8 array for raw
        images; PNG/JPEG decoded with PIL when it is installed, else their
        bytes."""
        if not _is_media(cell, "image"):
            raise TypeError("not an image cell")
        data = self._reader.blob(cell["digest"])
        fmt = cell.get("format")
        if fmt == "raw":
            h, w, c = cell.get("height"), cell.get("width"), cell.get("channels")
            if not all(isinstance(x, int) and x > 0 for x in (h, w, c)) or h * w * c != len(data):
                raise _runlog.Corrupt(f"image cell: {len(data)} bytes for {h}x{w}x{c}")
            return np.frombuffer(data, dtype=np.uint8).reshape(h, w, c)
        try:
            import io
            from PIL import Image as _PIL
        except ImportError:
            return data
        try:
            return np.asarray(_PIL.open(io.BytesIO(data)))
        except Exception as e:  # PIL's own refusals (bombs, bad chunks) included
            raise _runlog.Corrupt(f"{self.path}: image cell ({fmt}): {e}") from None

    def images(self, key):
        """[(step, pixels, caption), ...] of every image logged under key."""
        out = []
        h = self.history(key)
        for step, v in zip(h.steps.tolist(), h.values):
            for cell in (v if isinstance(v, list) else [v]):
                if _is_media(cell, "image"):
                    out.append((step, self.image(cell), cell.get("caption")))
        return out

    def tables(self):
        """[(key, step), ...] of every table logged."""
        out = []
        for k in self.keys():
            h = self.history(k)
            if h.values.dtype != object:
                continue
            for step, v in zip(h.steps.tolist(), h.values):
                if _is_media(v, "table"):
                    out.append((k, step))
        return out

    def table(self, key, step=None):
        """The table logged under key (the last one, or the one at step)."""
        h = self.history(key)
        found = None
        for s, v in zip(h.steps.tolist(), h.values):
            if _is_media(v, "table") and (step is None or s == step):
                found = v
        if found is None:
            raise _runlog.NotFound(f"{self.path}: no table '{key}'" +
                                   (f" at step {step}" if step is not None else ""))
        t = self._reader.table(found["digest"])
        types = [_COLUMN_NAMES.get(x, "value") for x in t["types"]]
        rows = []
        for row in t["data"]:
            rows.append([self.image(c) if ty == "image" and c is not None else c
                         for c, ty in zip(row, types)])
        return TableData(t["columns"], types, rows)

    def artifacts(self):
        return [ArtifactVersion(self, a) for a in (self._info["artifacts"] or [])]

    def artifact(self, name, alias="latest"):
        """The version of name holding alias ("latest", "vN" or any alias)."""
        for a in self.artifacts():
            if a.name == name and (alias in a.aliases or alias == f"v{a.version}"):
                return a
        raise _runlog.NotFound(f"{self.path}: no artifact {name}:{alias}")


def open(path, tolerant=False):  # noqa: A001 - the package's entry point
    """Opens a run-log: a Run (identity, state, config, summary, metadata,
    keys(), history(key), history_frame(), records(), verify(), media).

    open() reads and checks every frame, and the steps and times of every
    history row, but decodes a key's values only in the frame that holds
    its last value (runlog_reader_run_summary()): history(key) after it pays
    for that key alone. So a history column block that is malformed although its frame's
    checksum holds (only a broken or hostile writer makes one) is found when
    it is read, not at open(), unless it holds a key's last value: strict,
    history(key) of that key, histories(), history_frame() and records()
    raise the error (the same text) that a full read would have raised at
    open(); tolerant, they skip it, while rows, last_step, record_counts and
    keys() still count that record's rows. A file whose damage open() meets
    reads as before: strict, open() raises; tolerant, the run is read in
    full (Reader.run()), so that its rows and summary skip the frames that
    history() and records() skip."""
    return Run(path, tolerant=tolerant)


def verify(path, values=True):
    """runlog_verify(): a dict (frames, records, sizes, intact, damage list).

    values=False checks every checksum and structure but decodes no value
    (runlog_verify_structure(): several times faster on a big file); it
    misses only a value block that is malformed behind a valid checksum,
    which only a broken or hostile writer makes."""
    return _runlog.verify(path, values=values)


def _paths(paths_or_glob):
    """Run-log paths: a glob (recursive **), a folder (runlog_find_runlogs():
    every *.runlog below it in name order, links never followed), a file,
    or a sequence of any of these."""
    if isinstance(paths_or_glob, (str, os.PathLike)):
        paths_or_glob = [paths_or_glob]
    out = []
    for p in paths_or_glob:
        p = os.fspath(p)
        if any(ch in p for ch in "*?[") and not os.path.exists(p):
            out.extend(sorted(_glob.glob(p, recursive=True)))
        elif os.path.isdir(p):
            out.extend(_runlog.find_runlogs(p))
        else:
            out.append(p)
    return out


def _flatten(prefix, d, out):
    for k, v in d.items():
        if isinstance(v, dict) and "_type" not in v:
            _flatten(f"{prefix}{k}.", v, out)
        else:
            out[prefix + k] = v


# The runs table's built-in columns (spec/EXPORTS.md §12), in its order.
RUNS_COLUMNS = ["name", "id", "project", "group", "state", "start", "duration", "rows",
                "last_step", "damage", "path"]


def runs(paths_or_glob, columns=None, where=None, sort=None, strict=False):
    """The runs table (librunlog's runlog_runs_*, as `runlog ls`): one row
    per run (files of one run merged, spec/EXPORTS.md §11) as a pandas
    DataFrame. Columns: name, id, project, group, state, start (a UTC
    pandas Timestamp), duration (s), rows, last_step, damage (None when
    none), path (the first file), then config.KEY and summary.KEY for every
    top-level key any run has (nested maps spread into config.A.B columns).
    Only what a listing needs is read (run_summary: no history values
    decoded). A file that cannot be read is a row (state "unreadable", the
    reason under damage); strict=True raises runlog.Corrupt instead when
    any row is damaged. columns: the table's own column names instead
    (built-ins, config.KEY, summary.KEY); where / sort: as `runlog ls
    --where/--sort` ("summary.acc>0.9 and state=finished", "-summary.acc")."""
    import pandas as pd
    paths = _paths(paths_or_glob)
    if not paths:
        return pd.DataFrame(columns=RUNS_COLUMNS)
    if columns is None:
        ckeys, skeys = _runlog.run_keys(paths)
        columns = RUNS_COLUMNS + [f"config.{k}" for k in ckeys] + [f"summary.{k}" for k in skeys]
    names, rows, damaged = _runlog.runs_table(paths, list(columns), where=where, sort=sort)
    if strict and damaged:
        di = names.index("damage") if "damage" in names else None
        why = next((r[di] for r in rows if di is not None and r[di]), f"{damaged} damaged runs")
        raise _runlog.Corrupt(why)
    out = []
    for r in rows:
        row = {}
        for name, v in zip(names, r):
            if isinstance(v, dict) and (name.startswith("config.") or name.startswith("summary.")) \
                    and "_type" not in v:
                _flatten(name + ".", v, row)
            else:
                row[name] = v
        out.append(row)
    df = pd.DataFrame(out, columns=None)
    if "start" in df:
        df["start"] = pd.to_datetime(df["start"], utc=True)
    return df


def export(paths, out=None, format="json", strict=False, **options):  # noqa: A002
    """runlog_export(): paths (one, or several for hdf5/wandb) to out in
    format ("json", "jsonl", "csv", "csv-long", "csv-table", "history",
    "dump", "hdf5", "wandb", "images", "artifact"). Options: keys (history),
    table ("KEY[@STEP]"), artifact ("NAME[:vN|:ALIAS]"), hdf5_compression
    ("gzip", "zstd", "none"), hdf5_level, hdf5_artifact_data, wandb_entity,
    wandb_project, wandb_hash_references, json_nan_null (NaN and infinities
    as null, for pandas), out_fd. Returns the library's notices as
    [(kind, text)]; damage skipped (tolerant) raises nothing but shows in them.
    Raises runlog.Unsupported for a format this build lacks."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    try:
        fmt = EXPORT_FORMATS[format]
    except KeyError:
        raise ValueError(f"unknown format {format!r}; one of {sorted(EXPORT_FORMATS)}") from None
    if "hdf5_compression" in options and isinstance(options["hdf5_compression"], str):
        options["hdf5_compression"] = _HDF5_COMPRESSION[options["hdf5_compression"]]
    if "keys" in options and isinstance(options["keys"], str):
        options["keys"] = [options["keys"]]
    _damaged, notices = _runlog.export([os.fspath(p) for p in paths], out, fmt,
                                       strict=strict, **options)
    return notices


for _name in ("json", "csv", "hdf5", "wandb"):
    def _make(fmt):
        def f(paths, out=None, **options):
            return export(paths, out, format=fmt, **options)
        f.__name__ = f"export_{fmt}"
        f.__doc__ = f"runlog.export(paths, out, format={fmt!r}, **options)"
        return f
    globals()[f"export_{_name}"] = _make(_name)

_ = builtins  # open() shadows the builtin here on purpose
