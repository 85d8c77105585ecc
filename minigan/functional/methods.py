"""Attach the ops to Tensor as operators and methods — the one place where that happens."""
import numpy as np

from minigan.backend import Device, device_of
from minigan.core import Tensor, backward, no_grad
from minigan.functional import elementwise as E
from minigan.functional import reduction as R
from minigan.functional import shape as S
from minigan.functional.linalg import matmul


def _compare(op):
    def method(self, other):
        other = other._data if isinstance(other, Tensor) else other
        return Tensor(op(self._data, other))
    return method


def _is_device(arg):
    """A Device, or a name that is not a dtype's ("cpu", "cuda", a typo: device() says)."""
    if isinstance(arg, Device):
        return True
    if not isinstance(arg, str):
        return False
    try:
        np.dtype(arg)
    except TypeError:
        return True
    return False


def _to(self, target):
    """``x.to("cuda")``, ``x.to("cpu")``: a differentiable copy to a device;
    ``x.to(dtype)``: a differentiable cast between floating dtypes."""
    if _is_device(target):
        return S.to_device(self, target)
    return S.to_dtype(self, target)


def _backward(self, grad=None, retain_graph=False, create_graph=False):
    """Accumulate the gradient of this tensor into every leaf's ``.grad``."""
    backward(self, grad, retain_graph, create_graph)


def _clone(self):
    return self * 1


def _fill(self, value):
    with no_grad():
        self.data[...] = value
    self.bump_version()
    return self


_METHODS = {
    "__add__": E.add, "__radd__": lambda a, b: E.add(b, a),
    "__sub__": E.sub, "__rsub__": lambda a, b: E.sub(b, a),
    "__mul__": E.mul, "__rmul__": lambda a, b: E.mul(b, a),
    "__truediv__": E.div, "__rtruediv__": lambda a, b: E.div(b, a),
    "__pow__": E.pow, "__rpow__": lambda a, b: E.pow(b, a),
    "__matmul__": matmul, "__rmatmul__": lambda a, b: matmul(b, a),
    "__neg__": E.neg, "__pos__": lambda a: a, "__abs__": E.abs,
    "__getitem__": S.getitem,
    "__lt__": _compare(lambda a, b: a < b), "__le__": _compare(lambda a, b: a <= b),
    "__gt__": _compare(lambda a, b: a > b), "__ge__": _compare(lambda a, b: a >= b),
    "__eq__": _compare(lambda a, b: a == b), "__ne__": _compare(lambda a, b: a != b),
    "exp": E.exp, "log": E.log, "sqrt": E.sqrt, "abs": E.abs, "clip": E.clip, "clamp": E.clip,
    "pow": E.pow,
    "sum": R.sum, "mean": R.mean, "max": R.max, "min": R.min, "var": R.var,
    "logsumexp": R.logsumexp,
    "reshape": S.reshape, "view": S.reshape, "transpose": S.transpose, "permute": S.permute,
    "flatten": S.flatten, "squeeze": S.squeeze, "unsqueeze": S.unsqueeze,
    "broadcast_to": S.broadcast_to, "expand": S.broadcast_to,
    "T": property(lambda self: S.permute(self, tuple(reversed(range(self.ndim))))),
    "to": _to, "float": lambda self: _to(self, "float32"),
    "double": lambda self: _to(self, "float64"),
    "device": property(lambda self: device_of(self._data)),
    "cuda": lambda self: _to(self, "cuda"), "cpu": lambda self: _to(self, "cpu"),
    "backward": _backward, "clone": _clone, "fill_": _fill,
    "matmul": matmul,
}


def install():
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
