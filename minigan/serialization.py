"""Checkpoints: nested dicts of arrays in one ``.npz``, written atomically, read without pickle.

Nesting is kept in the entry names: each key is percent-escaped and marked with a leading
``=`` (``{"G": {"0.weight": w}}`` is stored as ``=G/=0.weight``), so any string is a key, "/"
and NumPy's own argument names included. An empty dict is stored as a ``%empty`` entry.
Numbers come back as 0-d arrays, strings as str. Files of the first format (plain keys, no
``%format`` entry) still load.
"""
import contextlib
import json
import os
import tempfile
import zipfile
import zlib
from urllib.parse import quote, unquote

import numpy as np

from minigan import backend
from minigan.core import Tensor

_SEP = "/"
_EMPTY = "%empty"
_FORMAT = "%format"
_LEGACY_EMPTY = "__empty__"


def _flatten(obj, prefix, out):
    if isinstance(obj, dict):
        if not obj:
            out[prefix + _EMPTY] = np.zeros(0)
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"save: key {k!r} under {prefix or 'the top'!r} is a "
                                f"{type(k).__name__}, not a string")
            _flatten(v, f"{prefix}={quote(k, safe='')}{_SEP}", out)
        return
    if isinstance(obj, Tensor):
        obj = obj.data
    if hasattr(obj, "shape") and not isinstance(obj, np.ndarray):
        obj = backend.to_host(obj)  # a device array: files always hold host arrays
    arr = np.asarray(obj)
    if arr.dtype == object:
        raise TypeError(f"save: {unquote(prefix)!r} holds a {type(obj).__name__}, which is not "
                        "an array, a number or a string")
    out[prefix[:-1]] = arr


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
    """Write ``state`` (a dict of dicts of arrays, Tensors, numbers, strings; any string
    keys) to ``path``.

    The file appears whole or not at all: it is written to a temporary file beside the target,
    flushed to disk, then renamed over it.
    """
    if not isinstance(state, dict):
        raise TypeError(f"save expects a dict, got {type(state).__name__}")
    flat = {_FORMAT: np.array(2)}
    _flatten(state, "", flat)
    with atomic_file(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
        for name, arr in flat.items():
            with z.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, arr, allow_pickle=False)


def load(path, device=None):
    """Read a checkpoint written by ``save`` (never unpickles anything). Anything else (an
    ``.npy`` array, a text file, a damaged file) is refused with one message naming it.

    ``device`` ("cuda", ...): its floating arrays (weights, buffers, optimizer moments) are
    placed there; integers and strings (step counters, RNG states, labels) stay on the host,
    where the code that reads them works."""
    path = os.fspath(path)
    dev = None if device is None else backend.device(device)   # a bad name fails first
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a folder, not a minigan checkpoint")
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(f"{path!r} is a single .npy array, not a minigan checkpoint (.npz)")
    if not head.startswith(b"PK"):
        raise ValueError(f"{path!r} is not a minigan checkpoint (not an .npz file)")
    try:
        with np.load(path, allow_pickle=False) as f:
            entries = {key: f[key] for key in f.files}
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ValueError(f"{path!r} holds pickled objects, which minigan never loads "
                             "(allow_pickle=False)") from None
        raise ValueError(f"{path!r} is a damaged checkpoint ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise ValueError(f"{path!r} is a damaged checkpoint ({exc})") from None
    if dev is not None:
        entries = {k: backend.to_device(v, dev) if v.dtype.kind == "f" else v
                   for k, v in entries.items()}
    return _unflatten(entries)


def _unflatten(entries):
    escaped = _FORMAT in entries
    entries.pop(_FORMAT, None)
    state = {}
    for key, value in entries.items():
        *parents, leaf = key.split(_SEP)
        if escaped:
            parents = [unquote(p[1:]) for p in parents]
        node = state
        for p in parents:
            node = node.setdefault(p, {})
        if leaf == (_EMPTY if escaped else _LEGACY_EMPTY):
            continue
        leaf = unquote(leaf[1:]) if escaped else leaf
        node[leaf] = str(value) if value.dtype.kind == "U" else value
    return state
