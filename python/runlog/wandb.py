"""runlog.wandb: the W&B calls of a training script, written to a run-log.

    import runlog.wandb as wandb     # instead of: import wandb

    wandb.init(project="mnist", config={"lr": 0.01})
    for step in range(100):
        wandb.log({"loss": loss})
    wandb.finish()

Each run is one file, DIR/run-ID.runlog, where DIR is init(dir=...), else
$RUNLOG_DIR, else ./runlog under the working directory. init() and finish()
print the path (on stderr, as W&B prints its own lines).

What is stored how (W&B's own rules where it has them):

- numbers, bools, str, None, numpy scalars and 0-d arrays, one-element
  tensors (anything with .detach()/.numel(); torch is never imported) are
  history scalars, float64 bit for bit;
- nested dicts, lists and arrays of up to 32 elements are structured values
  (non-finite floats inside them are written "NaN"/"Infinity"/"-Infinity",
  the JSON rule of spec/EXPORTS.md); arrays and tensors of more elements
  become a wandb.Histogram of 64 bins, as W&B does;
- wandb.Image (or a list of them), wandb.Table, wandb.Histogram as such;
- anything else raises TypeError naming the key, before anything of that
  call is recorded.

Console capture (fds 1 and 2, Python's buffers flushed first) and system
metrics are on by default; off with settings={"console": "off"} or
RUNLOG_CONSOLE=off (WANDB_CONSOLE=off too), and settings={"x_disable_stats":
True} or RUNLOG_SYSTEM_METRICS=off (WANDB_DISABLE_STATS=true too).
settings={"alert_command": CMD} or RUNLOG_ALERT_COMMAND runs CMD on each
alert (as `runlog run --alert-command`).

A process forked from the training process (a DataLoader worker) forgets
the run: it never writes to it and does not hold its lock (so a killed
trainer's file reads "crashed" and can be resumed while workers live).
"""
import atexit
import enum
import io
import os
import random
import signal
import sys
import threading
import time
import warnings

import numpy as np

from . import _runlog
from ._values import is_tensor, tensor_to_numpy, to_json

__all__ = [
    "init", "log", "finish", "login", "require", "setup", "alert", "AlertLevel", "Image",
    "Table", "Histogram", "Artifact", "log_artifact", "log_model", "Settings", "run",
    "config", "summary", "define_metric", "watch", "save",
]

run = None
config = None
summary = None

# Arrays and tensors with more elements than this become a Histogram (W&B's rule).
_MAX_LIST = 32


def login(*args, **kwargs):
    """Accepted; there is nothing to log in to."""
    return True


def require(*args, **kwargs):
    """Accepted; does nothing."""
    return None


def setup(*args, **kwargs):
    """Accepted; does nothing."""
    return None


def define_metric(*args, **kwargs):
    """Accepted; does nothing (every key is its own metric)."""
    return None


def watch(*args, **kwargs):
    """Accepted; gradients are not recorded."""
    return None


def save(*args, **kwargs):
    """Accepted; files are recorded with log_artifact()."""
    return None


class Settings:
    """wandb.Settings(console="off", x_disable_stats=True, ...): kept as attributes."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def get(self, key, default=None):
        return self.__dict__.get(key, default)


class AlertLevel(enum.Enum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


_LEVELS = {"INFO": _runlog.ALERT_INFO, "WARN": _runlog.ALERT_WARN, "ERROR": _runlog.ALERT_ERROR}

_ADJECTIVES = ("amber", "ancient", "autumn", "bold", "brisk", "calm", "cosmic", "crimson",
               "dainty", "dark", "dashing", "driven", "eager", "earthy", "electric", "fancy",
               "fiery", "fine", "fluent", "fragrant", "gallant", "gentle", "glad", "golden",
               "graceful", "hardy", "hearty", "icy", "jolly", "keen", "lemon", "lilac",
               "lively", "lucky", "lunar", "misty", "morning", "noble", "pleasant", "polar",
               "proud", "quiet", "radiant", "rosy", "royal", "rural", "sandy", "scarlet",
               "serene", "silver", "solar", "stellar", "still", "sunny", "swift", "twilight",
               "vivid", "wandering", "warm", "wild", "winter", "wise", "young", "zesty")
_NOUNS = ("bird", "breeze", "brook", "butterfly", "cloud", "cosmos", "dawn", "dew", "dream",
          "dust", "feather", "field", "fire", "firefly", "flower", "fog", "forest", "frog",
          "frost", "galaxy", "glade", "glitter", "grass", "haze", "hill", "lake", "leaf",
          "meadow", "moon", "morning", "mountain", "night", "paper", "pine", "planet", "pond",
          "rain", "resonance", "river", "sea", "shadow", "shape", "sky", "smoke", "snow",
          "sound", "star", "sun", "sunset", "surf", "thunder", "tree", "violet", "voice",
          "water", "wave", "wildflower", "wind", "wood")


def _random_name():
    r = random.SystemRandom()
    return f"{r.choice(_ADJECTIVES)}-{r.choice(_NOUNS)}-{r.randint(1, 99)}"


def _random_id():
    r = random.SystemRandom()
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))


def _setting(settings, *names, default=None):
    for n in names:
        if settings is None:
            break
        v = settings.get(n) if isinstance(settings, dict) else getattr(settings, n, None)
        if v is not None:
            return v
    return default


# ---- media ---------------------------------------------------------------------------


def _is_pil(obj):
    return type(obj).__module__.startswith("PIL.") and hasattr(obj, "mode") and hasattr(obj, "size")


def _pil_to_array(img):
    if img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGBA" if ("A" in img.mode or img.mode == "P") else "RGB")
    return np.asarray(img)


def _as_hwc(arr, from_tensor):
    """W&B's layouts: (H, W), (H, W, C), and channels first (C, H, W) as
    torch gives them (for arrays too, when the last axis cannot be channels)."""
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and (from_tensor or arr.shape[2] not in (1, 3, 4)):
        arr = np.transpose(arr, (1, 2, 0))
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"an image is (H, W), (H, W, C) or (C, H, W) with C in 1, 3, 4; "
                         f"got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype == np.bool_:
        return np.ascontiguousarray(arr.astype(np.uint8) * 255)
    if arr.dtype.kind == "f":
        # float32/float64 go to the library, which applies W&B's rule
        # (0..1 scaled by 255, -1..1 shifted, else taken as 0..255).
        return np.ascontiguousarray(arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float32))
    if arr.dtype.kind in "iu":
        return np.ascontiguousarray(np.clip(arr, 0, 255).astype(np.uint8))
    raise TypeError(f"image pixels of dtype {arr.dtype} cannot be stored")


class Image:
    """wandb.Image(data_or_path, caption=None): a numpy array, a tensor, a
    PIL image, or the path of an image file (PNG and JPEG are stored as
    they are; other formats through PIL)."""

    def __init__(self, data_or_path, mode=None, caption=None, **ignored):
        self.caption = caption
        self._pixels = None
        self._encoded = None
        data = data_or_path
        if isinstance(data, Image):
            self._pixels, self._encoded = data._pixels, data._encoded
            self.caption = caption if caption is not None else data.caption
            return
        if isinstance(data, (str, os.PathLike)):
            with open(data, "rb") as f:
                raw = f.read()
            if raw[:8] == b"\x89PNG\r\n\x1a\n" or raw[:3] == b"\xff\xd8\xff":
                self._encoded = raw
                return
            from PIL import Image as _PIL
            self._pixels = _as_hwc(_pil_to_array(_PIL.open(io.BytesIO(raw))), False)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            self._encoded = bytes(data)
        elif _is_pil(data):
            self._pixels = _as_hwc(_pil_to_array(data), False)
        elif is_tensor(data):
            self._pixels = _as_hwc(tensor_to_numpy(data), True)
        else:
            self._pixels = _as_hwc(np.asarray(data), False)

    def _pixels_for_table(self):
        if self._pixels is not None:
            return self._pixels
        from PIL import Image as _PIL
        return _as_hwc(_pil_to_array(_PIL.open(io.BytesIO(self._encoded))), False)

    def _add(self, w, key):
        if self._pixels is not None:
            w.add_image(key, self._pixels, self.caption)
        else:
            w.add_image_encoded(key, self._encoded, self.caption)


class Histogram:
    """wandb.Histogram(sequence=None, np_histogram=None, num_bins=64)."""

    def __init__(self, sequence=None, np_histogram=None, num_bins=64):
        if np_histogram is not None:
            values, bins = np_histogram
        else:
            a = tensor_to_numpy(sequence) if is_tensor(sequence) else np.asarray(sequence)
            a = a.astype(np.float64).ravel()
            a = a[np.isfinite(a)]
            values, bins = np.histogram(a, bins=num_bins)
        self.histogram = [int(x) for x in np.asarray(values).tolist()]
        self.bins = [float(x) for x in np.asarray(bins).tolist()]

    def _json(self):
        return {"_type": "histogram", "values": self.histogram, "bins": self.bins}


def _table_cell(v):
    """Normalises a cell: tensors and numpy scalars to Python values."""
    if is_tensor(v):
        a = tensor_to_numpy(v)
        return a.reshape(()).item() if a.size == 1 else a.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.item() if v.ndim == 0 else v.tolist()
    return v


def _column_type(cells):
    kinds = set()
    for c in cells:
        if c is None:
            continue
        if isinstance(c, Image):
            kinds.add("image")
        elif isinstance(c, bool):
            kinds.add("bool")
        elif isinstance(c, int):
            kinds.add("int" if -2**63 <= c < 2**63 else "value")
        elif isinstance(c, float):
            kinds.add("float")
        elif isinstance(c, str):
            kinds.add("string" if "\0" not in c else "value")
        else:
            kinds.add("value")
    if kinds == {"int", "float"}:
        kinds = {"float"}
    if len(kinds) == 1:
        return {"image": _runlog.COLUMN_IMAGE, "bool": _runlog.COLUMN_BOOL,
                "int": _runlog.COLUMN_INT, "float": _runlog.COLUMN_FLOAT,
                "string": _runlog.COLUMN_STRING, "value": _runlog.COLUMN_VALUE}[kinds.pop()]
    if "image" in kinds:
        raise TypeError("a table column mixes images and other values")
    return _runlog.COLUMN_VALUE


class Table:
    """wandb.Table(columns=None, data=None, dataframe=None): rows of cells
    (numbers, bools, str, None, wandb.Image, numpy scalars, one-element
    tensors, nested values). Column types are taken from the cells when
    the table is logged."""

    def __init__(self, columns=None, data=None, rows=None, dataframe=None, **ignored):
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = dataframe.values.tolist()
        data = data if data is not None else rows
        if columns is None:
            columns = [f"Column_{i + 1}" for i in range(len(data[0]))] if data else []
        self.columns = list(columns)
        self.data = []
        for row in data or []:
            self.add_data(*row)

    def add_data(self, *row):
        if len(row) != len(self.columns):
            raise ValueError(f"this table has {len(self.columns)} columns; add_data got {len(row)} values")
        self.data.append([_table_cell(c) for c in row])

    def add_column(self, name, data):
        data = list(data)
        if self.data and len(data) != len(self.data):
            raise ValueError(f"column {name!r}: {len(data)} values for {len(self.data)} rows")
        if not self.data:
            self.data = [[] for _ in data]
        self.columns.append(name)
        for row, c in zip(self.data, data):
            row.append(_table_cell(c))

    def get_column(self, name, convert_to=None):
        i = self.columns.index(name)
        col = [row[i] for row in self.data]
        return np.array(col) if convert_to == "numpy" else col

    def _build(self, w):
        types = [_column_type([row[i] for row in self.data]) for i in range(len(self.columns))]
        t = _runlog.Table(w, self.columns, types)
        for row in self.data:
            for c, ty in zip(row, types):
                if c is None:
                    t.null()
                elif ty == _runlog.COLUMN_IMAGE:
                    t.image(c._pixels_for_table(), c.caption)
                elif ty == _runlog.COLUMN_INT:
                    t.int(c)
                elif ty == _runlog.COLUMN_FLOAT:
                    t.float(c)
                elif ty == _runlog.COLUMN_STRING:
                    t.string(c)
                elif ty == _runlog.COLUMN_BOOL:
                    t.bool(c)
                else:
                    t.json(to_json(c, "table cell"))
            t.end_row()
        return t


class Artifact:
    """wandb.Artifact(name, type, description=None, metadata=None)."""

    def __init__(self, name, type, description=None, metadata=None, **ignored):  # noqa: A002
        self.name = name
        self.type = type
        self.description = description
        self.metadata = dict(metadata or {})
        self.version = None
        self.aliases = []
        self._entries = []  # (kind, args)

    def add_file(self, local_path, name=None, **ignored):
        self._entries.append(("file", (os.fspath(local_path), name)))

    def add_dir(self, local_path, name=None, **ignored):
        self._entries.append(("dir", (os.fspath(local_path), name)))

    def add_reference(self, uri, name=None, checksum=True, **ignored):
        uri = os.fspath(uri)
        local = uri[len("file://"):] if uri.startswith("file://") else (uri if "://" not in uri else None)
        if local is not None and os.path.isdir(local):
            for root, _dirs, files in os.walk(local):
                for f in sorted(files):
                    p = os.path.join(root, f)
                    rel = os.path.relpath(p, local).replace(os.sep, "/")
                    self._entries.append(("ref", (p, f"{name}/{rel}" if name else rel,
                                                  os.path.getsize(p))))
            return
        if name is None:
            name = os.path.basename(local if local is not None else uri.rstrip("/")) or "reference"
        size = os.path.getsize(local) if local is not None and os.path.exists(local) else 0
        self._entries.append(("ref", (local if local is not None else uri, name, size)))

    def _build(self):
        a = _runlog.Artifact(self.name, self.type)
        if self.description:
            a.description(self.description)
        if self.metadata:
            a.metadata_json(to_json(self.metadata, "artifact metadata"))
        for kind, args in self._entries:
            if kind == "file":
                a.add_file(*args)
            elif kind == "dir":
                a.add_dir(*args)
            else:
                a.add_reference(args[0], args[1], args[2])
        return a


# ---- config and summary ---------------------------------------------------------------


def _as_dict(d):
    if d is None:
        return {}
    if isinstance(d, dict):
        return dict(d)
    if isinstance(d, Config):
        return d.as_dict()
    if hasattr(d, "__dict__"):  # argparse.Namespace and the like
        return {k: v for k, v in vars(d).items() if not k.startswith("_")}
    return dict(d)


class Config:
    """wandb.config: attribute and item access, update(), nested values."""

    def __init__(self, run_=None):
        object.__setattr__(self, "_run", run_)
        object.__setattr__(self, "_items", {})

    def update(self, d=None, allow_val_change=None, **kwargs):
        d = _as_dict(d)
        d.update(kwargs)
        if not d:
            return
        text = to_json(d, "config")  # refuses what cannot be stored, before storing
        if self._run is not None:
            self._run._writer_call("config_json", text)
        self._items.update(d)

    def setdefaults(self, d):
        self.update({k: v for k, v in _as_dict(d).items() if k not in self._items})

    def as_dict(self):
        return dict(self._items)

    def keys(self):
        return self._items.keys()

    def items(self):
        return self._items.items()

    def values(self):
        return self._items.values()

    def get(self, key, default=None):
        return self._items.get(key, default)

    def __getattr__(self, name):
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name, value):
        self.update({name: value})

    def __getitem__(self, key):
        return self._items[key]

    def __setitem__(self, key, value):
        self.update({key: value})

    def __contains__(self, key):
        return key in self._items

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return f"Config({self._items!r})"


class Summary:
    """wandb.summary: the last value logged under each key, and the values
    set explicitly (run.summary["best"] = 0.9), which win."""

    def __init__(self, run_):
        object.__setattr__(self, "_run", run_)
        object.__setattr__(self, "_explicit", {})

    def _set(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"summary keys must be str, not {type(key).__name__}")
        r = self._run
        if is_tensor(value):
            a = tensor_to_numpy(value)
            value = a.reshape(()).item() if a.size == 1 else a
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, (float, str)) or (isinstance(value, int) and not isinstance(value, bool)
                                               and -2**63 <= value < 2**63):
            if isinstance(value, str) and "\0" in value:
                r._writer_call("summary_json", key, to_json(value, key))
            else:
                r._writer_call("summary", key, value)
        else:
            r._writer_call("summary_json", key, to_json(value, f"summary key {key!r}"))
        self._explicit[key] = value

    def update(self, d=None, **kwargs):
        for k, v in {**_as_dict(d), **kwargs}.items():
            self._set(k, v)

    def _all(self):
        out = dict(self._run._last)
        out.update(self._explicit)
        return out

    def __setitem__(self, key, value):
        self._set(key, value)

    def __getitem__(self, key):
        if key in self._explicit:
            return self._explicit[key]
        return self._run._last[key]

    def __setattr__(self, name, value):
        self._set(name, value)

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, key):
        return key in self._explicit or key in self._run._last

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self):
        return self._all().keys()

    def items(self):
        return self._all().items()

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())

    def __repr__(self):
        return f"Summary({self._all()!r})"


# ---- the run --------------------------------------------------------------------------


def _prepare(key, v):
    """What to add for a value the C layer does not take as a scalar: a list
    of (method, args) calls on the writer. Raises TypeError naming the key."""
    if isinstance(v, Image):
        return [("image", v)]
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, Image) for x in v):
        return [("image", x) for x in v]
    if isinstance(v, Table):
        return [("table", v)]
    if isinstance(v, Histogram):
        return [("add_json", to_json(v._json(), key))]
    if is_tensor(v):
        v = tensor_to_numpy(v)
        if v.size == 1:
            return [("add", v.reshape(()).item())]
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in "biuf":
            raise TypeError(f"wandb.log: key {key!r}: arrays of dtype {v.dtype} cannot be logged")
        if v.size > _MAX_LIST:
            return [("add_json", to_json(Histogram(v)._json(), key))]
        return [("add_json", to_json(v.tolist(), key))]
    if isinstance(v, int) and not isinstance(v, bool):
        raise TypeError(f"wandb.log: key {key!r}: the integer {v} is outside int64")
    if isinstance(v, str):  # holds a NUL: as a structured value
        raise TypeError(f"wandb.log: key {key!r}: text holding a NUL character cannot be logged")
    if isinstance(v, (dict, list, tuple)):
        try:
            return [("add_json", to_json(v, key))]
        except TypeError as e:
            raise TypeError(f"wandb.log: key {key!r}: {e}") from None
    if hasattr(v, "item") and callable(v.item):
        try:
            x = v.item()
        except Exception:
            x = None
        if isinstance(x, (bool, int, float)):
            return [("add", x)]
    raise TypeError(f"wandb.log: key {key!r}: a value of type {type(v).__name__} cannot be logged")


class Run:
    """What init() returns: log(), summary, config, finish(), and a context
    manager (an exception leaving the block finishes the run as failed)."""

    def __init__(self, path, writer, capture, project, name, group, job_type, tags, notes,
                 dir_, quiet=False):
        self.path = path
        self._w = writer
        self._capture = capture
        self.id = writer.run_id
        self.project = project
        self.name = name
        self.group = group
        self.job_type = job_type
        self.tags = tuple(tags or ())
        self.notes = notes
        self.dir = dir_
        self.resumed = writer.resumed
        self.config = Config(self)
        self._summary = Summary(self)
        self._last = {}
        self._step = writer.next_step
        self._pending = False
        self._warned_step = False
        self._finished = False
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._alert_times = {}
        self._quiet = quiet

    # W&B's run.summary is settable as a whole only through update().
    @property
    def summary(self):
        return self._summary

    @property
    def step(self):
        return self._step

    @property
    def offline(self):
        return True

    @property
    def url(self):
        return None

    def __repr__(self):
        return f"<runlog.wandb.Run {self.id} {self.name!r} {self.path!r}>"

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        self.finish(exit_code=0 if et is None else 1)
        return False

    def _live(self):
        # In a forked child the run belongs to the parent: nothing is written.
        if _pid != self._pid:
            return False
        if self._finished:
            raise _runlog.StateError(f"{self.path}: the run is finished")
        return True

    def _writer_call(self, method, *args):
        with self._lock:
            if self._live():
                return getattr(self._w, method)(*args)
            return None

    def _commit(self):
        if self._pending:
            self._w.commit(self._step)
            self._pending = False

    def log(self, data, step=None, commit=None, sync=None):
        """wandb.log: data is added to the row of the current step; the row is
        committed (and the step advanced) unless commit=False, or when step
        is given and commit is not (then it is committed by the next call at
        a higher step, or with commit=True). A step below the current one is
        dropped with a warning (once), as W&B does after a resume."""
        if not isinstance(data, dict):
            raise TypeError(f"wandb.log takes a dict, not {type(data).__name__}")
        with self._lock:
            # The hot path, a row of scalars committed at the next step:
            # one C call (values added and the row committed under one lock).
            if step is None and commit is None and data and _pid == self._pid \
                    and not self._finished:
                if self._w.log_row(data, self._step) is None:
                    self._pending = False
                    self._last.update(data)
                    self._step += 1
                    return
            if not self._live():
                return
            w = self._w
            if step is not None:
                step = int(step)
                if step < self._step:
                    if not self._warned_step:
                        self._warned_step = True
                        warnings.warn(f"runlog.wandb: step {step} is below the current step "
                                      f"{self._step} (already logged); rows at such steps "
                                      f"are dropped", RuntimeWarning, stacklevel=2)
                    return
                if step > self._step:
                    self._commit()
                    self._step = step
            elif commit is None:
                commit = True
            if data:
                rest = w.log_scalars(data)
                if rest is not None:
                    self._log_rest(data, rest)
                self._pending = True
                self._last.update(data)
            if commit:
                self._commit()
                self._step += 1

    def _log_rest(self, data, rest):
        calls = []
        for k in rest:
            calls.append((k, _prepare(k, data[k])))  # may raise: nothing added yet
        rest_set = set(rest)
        if len(rest_set) < len(data):
            self._w.log_scalars({k: v for k, v in data.items() if k not in rest_set})
        w = self._w
        for k, ops in calls:
            for op, arg in ops:
                if op == "image":
                    arg._add(w, k)
                elif op == "table":
                    w.add_table(k, arg._build(w))
                elif op == "add":
                    w.add(k, arg)
                else:
                    w.add_json(k, arg)

    def alert(self, title, text="", level=AlertLevel.WARN, wait_duration=None):
        """Records an alert; runs the alert command when one is configured.
        wait_duration (seconds or timedelta): an alert of the same title
        within that time of the previous one is not recorded."""
        lv = level.value if isinstance(level, AlertLevel) else str(level).upper()
        if lv not in _LEVELS:
            raise ValueError(f"alert level {level!r}: INFO, WARN or ERROR")
        with self._lock:
            if not self._live():
                return
            if wait_duration is not None:
                secs = wait_duration.total_seconds() if hasattr(wait_duration, "total_seconds") else float(wait_duration)
                now = time.monotonic()
                last = self._alert_times.get(title)
                if last is not None and now - last < secs:
                    return
                self._alert_times[title] = now
            if self._capture is not None:
                try:
                    self._capture.alert(title, text, _LEVELS[lv])
                except _runlog.IOFailure:
                    pass  # the alert is recorded all the same (runlog_capture_alert)
            else:
                self._w.alert(title, text, _LEVELS[lv])

    def log_artifact(self, artifact_or_path, name=None, type=None, aliases=None, **ignored):  # noqa: A002
        """Logs an Artifact (or a path, as W&B: a new artifact of it) as the
        next version of its name; returns the Artifact, .version set."""
        if not isinstance(artifact_or_path, Artifact):
            p = os.fspath(artifact_or_path)
            art = Artifact(name or f"run-{self.id}-{os.path.basename(p.rstrip('/'))}", type or "unspecified")
            (art.add_dir if os.path.isdir(p) else art.add_file)(p)
        else:
            art = artifact_or_path
        with self._lock:
            if not self._live():
                return art
            a = art._build()
            for al in aliases or ():
                a.alias(al)
            art.version = self._w.log_artifact(a)
            art.aliases = ["latest", *(aliases or ())]
        return art

    def log_model(self, path, name=None, aliases=None, **ignored):
        """An artifact of type "model" holding path (a file or a directory);
        name defaults to "run-ID-BASENAME", as W&B names it. Returns the version."""
        p = os.fspath(path)
        name = name or f"run-{self.id}-{os.path.basename(p.rstrip('/'))}"
        with self._lock:
            if not self._live():
                return None
            return self._w.log_model(p, name, list(aliases or ()))

    def define_metric(self, *args, **kwargs):
        return None

    def watch(self, *args, **kwargs):
        return None

    def _stop_capture(self):
        c, self._capture = self._capture, None
        if c is not None:
            for s in (sys.stdout, sys.stderr):
                try:
                    s.flush()
                except Exception:
                    pass
            try:
                c.stop()
            except _runlog.Error:
                pass  # a copy to the terminal failed; what was recorded stays

    def finish(self, exit_code=None, quiet=None):
        """Commits a pending row, stops the capture, records how the run
        ended (exit_code 0 or None: finished; else failed) and closes the file."""
        global run, config, summary
        with self._lock:
            if self._finished:
                return
            if os.getpid() != self._pid:
                self._finished = True
                return
            try:
                self._commit()
            finally:
                self._stop_capture()
                self._finished = True
                try:
                    self._w.finish(int(exit_code or 0))
                finally:
                    self._w.close()
        if run is self:
            run = None
            config = None
            summary = None
        if not (quiet or self._quiet):
            state = "finished" if not exit_code else f"failed (exit code {exit_code})"
            print(f"runlog: run {self.name} ({self.id}) {state}: {self.path}", file=sys.stderr)

    def _forget_in_child(self):
        """After fork(), in the child: the parent's writer and capture are
        forgotten (runlog_writer_abandon, runlog_capture_abandon); nothing is
        written and the file's lock is not kept."""
        self._lock = threading.RLock()  # the parent's may have been held at fork
        # The writer forgets its capture first (runlog_capture_abandon): only
        # then may the Capture object go, whose destructor would otherwise
        # stop, in the child, threads that exist only in the parent.
        self._w.abandon()
        self._capture = None
        self._finished = True


class _DisabledRun(Run):
    """mode="disabled": every call accepted, nothing recorded."""

    def __init__(self, name, project, config_):
        self.id = _random_id()
        self.name = name
        self.project = project
        self.path = None
        self.config = Config(None)
        self.config.update(config_)
        self._summary = Summary(self)
        self._last = {}
        self._step = 0
        self._finished = False

    def _writer_call(self, method, *args):
        return None

    def log(self, data, step=None, commit=None, sync=None):
        self._last.update(data)

    def alert(self, *args, **kwargs):
        return None

    def log_artifact(self, artifact_or_path, *args, **kwargs):
        return artifact_or_path

    def log_model(self, *args, **kwargs):
        return None

    def finish(self, exit_code=None, quiet=None):
        global run, config, summary
        self._finished = True
        if run is self:
            run = config = summary = None


# ---- module-level calls -----------------------------------------------------------------

_hooks_installed = False
_exit_code = None  # set by the excepthook or the SIGTERM handler


def _excepthook(et, ev, tb):
    global _exit_code
    if not issubclass(et, KeyboardInterrupt) or _exit_code is None:
        _exit_code = 1 if not issubclass(et, KeyboardInterrupt) else 255
    _prev_excepthook(et, ev, tb)


_prev_excepthook = sys.excepthook


def _at_exit():
    r = run
    if r is not None and not r._finished and os.getpid() == getattr(r, "_pid", os.getpid()):
        try:
            r.finish(exit_code=_exit_code or 0)
        except Exception:
            pass


def _on_sigterm(signum, frame):
    global _exit_code
    _exit_code = 128 + signum
    r = run
    if r is not None:
        try:
            r.finish(exit_code=_exit_code)
        except Exception:
            pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


# This process's id, kept up to date in a child by an at-fork hook (os.fork,
# multiprocessing, DataLoader workers), so that the per-call check of
# Run._live() costs no getpid() system call.
_pid = os.getpid()


def _update_pid():
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_update_pid)


def _after_fork_child():
    r = run
    if isinstance(r, Run) and not isinstance(r, _DisabledRun) and not r._finished:
        r._forget_in_child()


def _install_hooks():
    global _hooks_installed, _prev_excepthook
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    _prev_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):
            pass
    os.register_at_fork(after_in_child=_after_fork_child)


def init(project=None, name=None, config=None, group=None, job_type=None, tags=None,  # noqa: C901
         notes=None, id=None, resume=None, dir=None, reinit=None, mode=None,  # noqa: A002
         settings=None, entity=None, anonymous=None, save_code=None, config_exclude_keys=None,
         config_include_keys=None, allow_val_change=None, force=None, sync_tensorboard=None,
         monitor_gym=None, magic=None, fork_from=None, resume_from=None, **ignored):
    """wandb.init: opens DIR/run-ID.runlog (DIR: dir, $RUNLOG_DIR, ./runlog).
    resume="allow" or "must" (or True) with id continues that run's file;
    "must" fails when it does not exist, "never" when it does. Returns a Run,
    which also becomes wandb.run (and wandb.config, wandb.summary)."""
    global run, summary
    g = globals()
    if run is not None:
        if reinit or (isinstance(reinit, str) and reinit != "return_previous"):
            run.finish()
        else:
            return run
    mode = mode or os.environ.get("WANDB_MODE")
    name = name or os.environ.get("WANDB_NAME") or _random_name()
    project = project or os.environ.get("WANDB_PROJECT")
    if mode == "disabled":
        r = _DisabledRun(name, project, config)
        run, g["config"], summary = r, r.config, r.summary
        return r
    if resume is True:
        resume = "allow"
    if resume not in (None, False, "allow", "must", "never", "auto"):
        raise ValueError(f"resume={resume!r}: 'allow', 'must', 'never' or 'auto'")
    if resume in ("must",) and not id:
        raise ValueError("resume='must' needs the run's id")
    dir_ = os.fspath(dir) if dir is not None else os.environ.get("RUNLOG_DIR") or os.path.join(os.getcwd(), "runlog")
    os.makedirs(dir_, exist_ok=True)
    id = id or os.environ.get("WANDB_RUN_ID") or _random_id()  # noqa: A001
    path = os.path.join(dir_, f"run-{id}.runlog")
    exists = os.path.exists(path)
    if resume == "must" and not exists:
        raise _runlog.NotFound(f"{path}: resume='must' but run {id} has no file")
    if exists and resume in (None, False, "never"):
        raise _runlog.StateError(f"{path}: run {id} exists; pass resume='allow' to continue it")
    if isinstance(tags, str):
        tags = [tags]
    writer = _runlog.Writer(path, run_id=id, project=project, name=name, group=group,
                            job_type=job_type, notes=notes, tags=list(tags) if tags else None)
    capture = None
    try:
        console = str(_setting(settings, "console", default="auto")).lower() != "off" and \
            os.environ.get("RUNLOG_CONSOLE", "").lower() != "off" and \
            os.environ.get("WANDB_CONSOLE", "").lower() != "off"
        stats = not _setting(settings, "x_disable_stats", "_disable_stats", default=False) and \
            os.environ.get("RUNLOG_SYSTEM_METRICS", "").lower() != "off" and \
            os.environ.get("WANDB_DISABLE_STATS", "").lower() not in ("true", "1")
        meta = not _setting(settings, "x_disable_meta", "_disable_meta", default=False)
        alert_command = _setting(settings, "alert_command") or os.environ.get("RUNLOG_ALERT_COMMAND")
        quiet = bool(_setting(settings, "quiet", "silent", default=False))
        if not quiet:
            verb = "resuming" if writer.resumed else "logging"
            print(f"runlog: run {name} ({id}) {verb} to {path}", file=sys.stderr)
        if console or stats or meta or alert_command:
            for s in (sys.stdout, sys.stderr):
                try:
                    s.flush()
                except Exception:
                    pass
            capture = writer.capture_start(console=console,
                                           interval_ms=0 if stats else _runlog.CAPTURE_NO_SAMPLER,
                                           no_metadata=not meta, alert_command=alert_command,
                                           disk_path=dir_, argv=[sys.executable, *sys.argv])
        r = Run(path, writer, capture, project, name, group, job_type, tags, notes, dir_, quiet)
        if config is not None or config_exclude_keys or config_include_keys:
            c = _as_dict(config)
            if config_include_keys:
                c = {k: v for k, v in c.items() if k in config_include_keys}
            if config_exclude_keys:
                c = {k: v for k, v in c.items() if k not in config_exclude_keys}
            r.config.update(c)
    except BaseException:
        if capture is not None:
            capture.stop()
        writer.close()
        raise
    _install_hooks()
    run, g["config"], summary = r, r.config, r.summary
    return r


def _current(what):
    if run is None:
        raise _runlog.StateError(f"wandb.{what}() before wandb.init()")
    return run


def log(data, step=None, commit=None, sync=None):
    _current("log").log(data, step=step, commit=commit)


def finish(exit_code=None, quiet=None):
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def alert(title, text="", level=AlertLevel.WARN, wait_duration=None):
    _current("alert").alert(title, text, level=level, wait_duration=wait_duration)


def log_artifact(artifact_or_path, name=None, type=None, aliases=None, **kwargs):  # noqa: A002
    return _current("log_artifact").log_artifact(artifact_or_path, name=name, type=type,
                                                 aliases=aliases)


def log_model(path, name=None, aliases=None, **kwargs):
    return _current("log_model").log_model(path, name=name, aliases=aliases)

