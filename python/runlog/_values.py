"""Python values -> the JSON texts librunlog's *_json calls take.

JSON has no NaN or infinities and jansson refuses them, so inside structured
values (nested dicts and lists, config, summary) non-finite floats are
written as the strings "NaN", "Infinity", "-Infinity": the rule of
spec/EXPORTS.md §1. Scalars logged to the history never come here: they go
to the library as float64, bit for bit.
"""
import json
import math

try:
    import numpy as _np
except ImportError:  # pragma: no cover - numpy is a build dependency
    _np = None


def is_tensor(v):
    """Duck-typed torch.Tensor (no import of torch)."""
    return hasattr(v, "detach") and hasattr(v, "numel") and hasattr(v, "cpu")


def tensor_to_numpy(v):
    t = v.detach().cpu()
    try:
        return t.numpy()
    except TypeError:
        # dtypes numpy lacks (bfloat16, ...): widened to float32 exactly.
        return t.float().numpy()


def plain(v, where="value"):
    """A JSON-ready copy of v: dicts, lists, str, int, float (finite), bool, None."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: dict keys must be str, not {type(k).__name__}")
            out[k] = plain(x, f"{where}.{k}")
        return out
    if isinstance(v, (list, tuple)):
        return [plain(x, where) for x in v]
    if _np is not None:
        if isinstance(v, _np.bool_):
            return bool(v)
        if isinstance(v, _np.integer):
            return int(v)
        if isinstance(v, _np.floating):
            return plain(float(v), where)
        if isinstance(v, _np.ndarray):
            if v.dtype.kind not in "biuf":
                raise TypeError(f"{where}: arrays of {v.dtype} cannot be stored")
            return plain(v.tolist(), where)
    if is_tensor(v):
        return plain(tensor_to_numpy(v), where)
    if hasattr(v, "item") and callable(v.item):
        try:
            return plain(v.item(), where)
        except Exception:
            pass
    raise TypeError(f"{where}: a value of type {type(v).__name__} cannot be stored")


def to_json(v, where="value"):
    return json.dumps(plain(v, where), allow_nan=False, ensure_ascii=False)
