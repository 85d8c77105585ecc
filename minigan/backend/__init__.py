"""The array-module switch, the dtype policy and the random generator.

Every op asks ``get_array_module(x)`` for the module that owns its arrays: NumPy on the CPU,
CuPy on the GPU. CuPy is imported only when an array of it is seen (or asked for), so a machine
without it never pays for it, and a missing CuPy gives one clear error.
"""
import sys

import numpy as np

from minigan.backend.random import default_generator, manual_seed

__all__ = ["get_array_module", "cupy", "default_dtype", "set_default_dtype",
           "default_generator", "manual_seed", "is_float"]

_default_dtype = np.dtype(np.float32)


def get_array_module(x):
    """Return ``numpy`` or ``cupy``, whichever owns array ``x``."""
    if "cupy" in sys.modules and type(x).__module__.startswith("cupy"):
        return sys.modules["cupy"]
    return np


def cupy():
    """Import CuPy on demand, with one clear error when it or a GPU is absent."""
    try:
        import cupy as cp
        cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError, CUDARuntimeError, ...
        raise RuntimeError("minigan's GPU backend needs CuPy and a CUDA device: "
                           "pip install 'minigan[gpu]' on a machine with a GPU "
                           f"({type(exc).__name__}: {exc})") from exc
    return cp


def default_dtype():
    """The floating dtype of new tensors built from Python numbers (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype):
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"the default dtype must be floating, got {dtype}")
    _default_dtype = dtype


def is_float(dtype):
    return np.dtype(dtype).kind == "f"
