"""runlog: read and write run-logs from Python.

Two layers:

- ``runlog.open(path)`` / ``runlog.runs(paths)`` / ``runlog.export(...)``, and
  ``runlog.wandb``, a drop-in for the W&B calls of a training script;
- ``runlog.Writer``, ``runlog.Reader``, ... (from ``runlog._runlog``, the C
  extension): one class per librunlog handle, one method per C call.

Every failure of the library raises a ``runlog.Error`` subclass (one per
``runlog_error`` code: ``NotFound``, ``Corrupt``, ``ChecksumError``,
``Locked``, ...) whose message is the library's detail (file, byte offset).
"""
try:
    from . import _runlog  # installed: runlog/_runlog*.so
except ImportError:  # the build tree: PYTHONPATH=build/python:python
    import sys as _sys
    import _runlog  # type: ignore[no-redef]
    # One module under both names, so that the submodules' relative
    # imports find it and its types pickle as runlog._runlog.*.
    _sys.modules[__name__ + "._runlog"] = _runlog

from ._runlog import (  # noqa: F401  (re-exported)
    Error, NoMemory, IOFailure, InvalidArgument, NotRunlog, Unsupported, Corrupt,
    ChecksumError, Truncated, Locked, TooLarge, StateError, NotFound, Again,
    IterationOver, Damaged,
    Writer, Reader, Table as CTable, Artifact as CArtifact, Capture, History, Cursor,
    verify as _verify, repair, LIBRARY_VERSION,
)
from .reader import Run, open, runs, export, verify, EXPORT_FORMATS  # noqa: F401,A004

__version__ = LIBRARY_VERSION
__all__ = [
    "open", "runs", "export", "verify", "repair", "Run", "Writer", "Reader", "Error",
    "NoMemory", "IOFailure", "InvalidArgument", "NotRunlog", "Unsupported", "Corrupt",
    "ChecksumError", "Truncated", "Locked", "TooLarge", "StateError", "NotFound", "Again",
    "IterationOver", "Damaged", "EXPORT_FORMATS",
]
from .reader import export_json, export_csv, export_hdf5, export_wandb  # noqa: F401,E402
