"""Devices: where a tensor's array lives, and the array module that computes on it.

A device is a name ("cpu", "cuda") bound to an array module with NumPy's API (NumPy, CuPy),
the module's array type, and the two transfers: host -> device and device -> host. Ops never
ask for a device: they ask ``get_array_module(x)`` for the module that owns ``x`` and compute
with it, so the same code runs wherever its inputs are. Moving data is always explicit
(``Tensor.to``, ``Module.to``, ``load(..., device=)``).

"cuda" is registered the first time it is asked for, which imports CuPy (one clear error when
it or a GPU is absent). ``register_device`` adds any other module with NumPy's API: the tests
use it for a strict stand-in that behaves like CuPy on the CPU.
"""
import sys

import numpy as np

__all__ = ["Device", "device", "device_of", "register_device", "get_array_module", "to_device",
           "to_host", "cupy", "DeviceMismatchError"]


class DeviceMismatchError(RuntimeError):
    """An op was given arrays that live on two devices (nothing moves silently)."""


class Device:
    """A named place for arrays. Compares equal to its name: ``t.device == "cuda"``."""

    __slots__ = ("type", "xp", "array_type", "_put", "_get")

    def __init__(self, name, xp, array_type, put, get):
        self.type, self.xp, self.array_type = name, xp, array_type
        self._put, self._get = put, get

    def put(self, host):
        """A copy of NumPy array ``host`` on this device (the array itself on the CPU)."""
        return self._put(host)

    def get(self, array):
        """A NumPy array with ``array``'s values (the array itself on the CPU)."""
        return self._get(array)

    def __eq__(self, other):
        if isinstance(other, str):
            return self.type == other
        return isinstance(other, Device) and self.type == other.type

    def __hash__(self):
        return hash(self.type)

    def __str__(self):
        return self.type

    def __repr__(self):
        return f"device(type={self.type!r})"


CPU = Device("cpu", np, np.ndarray, np.asarray, np.asarray)
_BY_NAME = {"cpu": CPU}
_BY_TYPE = {np.ndarray: CPU}


def register_device(name, xp, array_type, put, get):
    """Make ``name`` a device whose arrays are ``array_type``, computed on by module ``xp``;
    ``put(numpy_array)`` copies onto it, ``get(array)`` copies back. Returns the Device."""
    if not isinstance(name, str) or not name or name in ("cpu",):
        raise ValueError(f"a device needs a new non-empty name, got {name!r}")
    dev = Device(name, xp, array_type, put, get)
    _BY_NAME[name] = dev
    _BY_TYPE[array_type] = dev
    return dev


def registered_devices():
    """The names of the devices known now ("cpu", and "cuda" once used)."""
    return tuple(_BY_NAME)


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


def _cuda():
    cp = cupy()
    return register_device("cuda", cp, cp.ndarray, cp.asarray, cp.asnumpy)


def device(name):
    """The Device called ``name`` ("cpu", "cuda" or "cuda:0", or a registered one); a Device
    passes through."""
    if isinstance(name, Device):
        return name
    if not isinstance(name, str):
        raise TypeError(f"a device is a name such as 'cpu' or 'cuda', got {name!r}")
    key = "cuda" if name.startswith("cuda:0") or name == "cuda" else name
    found = _BY_NAME.get(key)
    if found is None:
        if key == "cuda":
            return _cuda()
        known = ", ".join(sorted(set(_BY_NAME) | {"cuda"}))
        raise ValueError(f"unknown device {name!r}: minigan knows {known}")
    return found


def device_of(array):
    """The Device that holds ``array`` (NumPy arrays and scalars, and numbers: the CPU)."""
    found = _BY_TYPE.get(type(array))
    if found is not None:
        return found
    if "cupy" in sys.modules and type(array).__module__.startswith("cupy"):
        return device("cuda")
    return CPU


def get_array_module(x):
    """Return the array module (``numpy``, ``cupy``, ...) that owns array ``x``."""
    found = _BY_TYPE.get(type(x))        # the registered types first: every op asks
    return found.xp if found is not None else device_of(x).xp


def to_device(array, dev):
    """``array`` (from any device) on device ``dev``; the array itself when already there."""
    if type(array) is np.ndarray and (dev is CPU or dev == "cpu"):
        return array                # the CPU's case, on every batch: first and cheap
    dev = device(dev)
    src = device_of(array)
    if src == dev:
        return array
    return dev.put(src.get(array))


def to_host(array):
    """``array`` as a NumPy array (copied off its device when it has one)."""
    return device_of(array).get(array)
