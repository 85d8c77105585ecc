"""Checkpoints: nested dicts of arrays in one ``.npz``, written atomically, read without pickle.

Nesting is kept in the keys (``"G/0.weight"``); numbers come back as 0-d arrays, strings as str.
"""
import contextlib
import json
import os
import tempfile

import numpy as np

from minigan.core import Tensor

_SEP = "/"
_EMPTY = "__empty__"


def _flatten(obj, prefix, out):
    if isinstance(obj, dict):
        if not obj:
            out[prefix + _SEP + _EMPTY] = np.zeros(0)
        for k, v in obj.items():
            k = str(k)
            if _SEP in k or not k:
                raise ValueError(f"save: key {k!r} under {prefix or 'the top'!r} must be a "
                                 f"non-empty string without {_SEP!r}")
            _flatten(v, f"{prefix}{_SEP}{k}" if prefix else k, out)
        return
    if isinstance(obj, Tensor):
        obj = obj.data
    if hasattr(obj, "get") and not isinstance(obj, np.ndarray):   # a CuPy array
        obj = obj.get()
    arr = np.asarray(obj)
    if arr.dtype == object:
        raise TypeError(f"save: {prefix!r} holds a {type(obj).__name__}, which is not an array, "
                        "a number or a string")
    out[prefix] = arr


@contextlib.contextmanager
def atomic_file(path, mode="wb"):
    """Open a temporary file beside ``path`` for writing; when the block ends without an
    error it is flushed to disk and renamed over ``path``, so readers see the old file or the
    whole new one, never a part (a full disk or a Ctrl-C leaves the old file as it was)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = os.path.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_safe(obj, found):
    if isinstance(obj, dict):
        return {k: _json_safe(v, found) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v, found) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        found.append(obj)
        return None
    return obj


def save_json(obj, path):
    """Write ``obj`` as strict JSON, atomically. NaN and infinities, which strict readers
    reject, are written as null, and a dict then gets ``"non_finite_as_null": true``."""
    found = []
    obj = _json_safe(obj, found)
    if found and isinstance(obj, dict):
        obj["non_finite_as_null"] = True
    text = json.dumps(obj, indent=1, allow_nan=False)
    with atomic_file(path, "w") as f:
        f.write(text + "\n")


def save(state, path):
    """Write ``state`` (a dict of dicts of arrays, Tensors, numbers, strings) to ``path``.

    The file appears whole or not at all: it is written to a temporary file beside the target,
    flushed to disk, then renamed over it.
    """
    if not isinstance(state, dict):
        raise TypeError(f"save expects a dict, got {type(state).__name__}")
    flat = {}
    _flatten(state, "", flat)
    with atomic_file(path) as f:
        np.savez(f, **flat)


def load(path):
    """Read a checkpoint written by ``save`` (never unpickles anything)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    state = {}
    with np.load(path, allow_pickle=False) as f:
        for key in f.files:
            *parents, leaf = key.split(_SEP)
            node = state
            for p in parents:
                node = node.setdefault(p, {})
            if leaf == _EMPTY:
                continue
            value = f[key]
            node[leaf] = str(value) if value.dtype.kind == "U" else value
    return state
