"""Checkpoints: nested dicts of arrays in one ``.npz``, written atomically, read without pickle.

Nesting is kept in the keys (``"G/0.weight"``); numbers come back as 0-d arrays, strings as str.
"""
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


def save(state, path):
    """Write ``state`` (a dict of dicts of arrays, Tensors, numbers, strings) to ``path``.

    The file appears whole or not at all: it is written to a temporary file beside the target,
    flushed to disk, then renamed over it.
    """
    if not isinstance(state, dict):
        raise TypeError(f"save expects a dict, got {type(state).__name__}")
    flat = {}
    _flatten(state, "", flat)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **flat)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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
