"""Losses, each with ``reduction='mean' | 'sum' | 'none'``.

Binary cross-entropy on logits is written as softplus(x) - t x, which is exact and finite for
any logit (no log of a sigmoid); on probabilities the logs are clamped at -100 as in PyTorch.
"""
import numpy as np

from minigan.backend import cuda_kernels as cuda
from minigan.backend import elementwise_kernels as kernels
from minigan.backend import get_array_module
from minigan.core import Function, Tensor, as_tensor
from minigan.functional.activation import log_softmax, sigmoid
from minigan.functional.elementwise import abs, clip, log
from minigan.functional.reduction import mean, sum
from minigan.functional.shape import broadcast_to, getitem

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def _check(reduction, input, target, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if target is not None and input.shape != target.shape:
        raise ValueError(f"{name}: input of shape {input.shape} and target of shape "
                         f"{target.shape} must match")


def _pair(input, target):
    input = as_tensor(input)
    return input, as_tensor(target, like=input)


class BCEWithLogits(Function):
    """-[t log s(x) + (1 - t) log(1 - s(x))] = softplus(x) - t x, exact for any logit x;
    d/dx = s(x) - t, d/dt = -x. The reduction happens in the node (one node, not three).
    ``weight``: a constant array (or None) multiplying each element's loss."""

    def __init__(self, reduction="none", weight=None):
        self.reduction, self.weight = reduction, weight

    def _kernel_fits(self, x, t):
        """The one-loop kernels (Numba, or CUDA for CuPy arrays) serve reduced losses on
        same-shape arrays."""
        w = self.weight
        arrays = (x, t) if w is None else (x, t, w)
        return self.reduction != "none" and x.dtype.kind == "f" and (
            kernels.fits(*arrays) or (cuda.fits(*arrays) and _same(arrays)))

    def forward(self, x, t):
        if self._kernel_fits(x, t):
            on_cpu = type(x) is np.ndarray
            total = (kernels.bce_logits_sum_numba if on_cpu else cuda.bce_logits_sum)(
                x, t, self.weight)
            scale = 1.0 / max(x.size, 1) if self.reduction == "mean" else 1.0
            return np.asarray(total * scale, dtype=x.dtype) if on_cpu else \
                (total * scale).astype(x.dtype)
        loss = get_array_module(x).logaddexp(0, x) - t * x
        if self.weight is not None:
            loss *= self.weight
        if self.reduction == "none":
            return loss
        total = loss.sum()
        return total * (1.0 / max(loss.size, 1)) if self.reduction == "mean" else total

    def _per_element(self, g, xp_broadcast):
        """The output gradient as one per element: a sum copies it, a mean spreads it; times
        the weight."""
        if self.reduction == "mean":
            g = g * (1.0 / max(self.inputs[0].data.size, 1))
        if self.reduction != "none":
            g = xp_broadcast(g, self.inputs[0].shape)
        return g if self.weight is None else g * self.weight

    def backward_arrays(self, gy):
        x, t = self.inputs
        if not self.needs[1] and self._kernel_fits(x.data, t.data):
            g = float(gy) / (max(x.data.size, 1) if self.reduction == "mean" else 1)
            grad = kernels.bce_logits_grad_numba if type(x.data) is np.ndarray else \
                cuda.bce_logits_grad
            return grad(x.data, t.data, self.weight, g), None
        xp, xd = get_array_module(x.data), x.data
        g = self._per_element(gy, xp.broadcast_to)
        s = xp.exp(-xp.logaddexp(0, -xd))
        return (g * (s - t.data) if self.needs[0] else None,
                -g * xd if self.needs[1] else None)

    def backward(self, gy):
        x, t = self.inputs
        g = self._per_element(gy, broadcast_to)
        return (g * (sigmoid(x) - t) if self.needs[0] else None,
                -g * x if self.needs[1] else None)


def _same(arrays):
    return all(a.shape == arrays[0].shape and a.dtype == arrays[0].dtype for a in arrays)


def _broadcast(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def binary_cross_entropy_with_logits(input, target, reduction="mean", weight=None):
    """BCE on logits: softplus(x) - t x, stable for any logit x (no log of a sigmoid).
    ``weight`` (as PyTorch's): a constant broadcastable to the input that multiplies each
    element's loss before the reduction."""
    input, target = _pair(input, target)
    _check(reduction, input, target, "binary_cross_entropy_with_logits")
    if weight is not None:
        weight = weight._data if isinstance(weight, Tensor) else weight
        weight = get_array_module(input._data).asarray(weight, dtype=input.dtype)
        if weight.shape != input.shape and _broadcast(weight.shape, input.shape) != input.shape:
            raise ValueError(f"binary_cross_entropy_with_logits: weight of shape "
                             f"{weight.shape} does not broadcast to the input's {input.shape}")
    return BCEWithLogits(reduction, weight)(input, target)


def binary_cross_entropy(input, target, reduction="mean"):
    """BCE on probabilities in [0, 1]; each log is clamped at -100 so that 0 and 1 stay finite."""
    input, target = _pair(input, target)
    _check(reduction, input, target, "binary_cross_entropy")
    p = input._data
    if ((p < 0) | (p > 1)).any():
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1]; "
                         "for logits use binary_cross_entropy_with_logits")
    return _reduce(BinaryCrossEntropy()(input, target), reduction)


def _clamped_log(p):
    return clip(log(p), -100.0)


class BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)), logs clamped at -100. Its derivative in p,
    (p - t) / (p (1 - p)), takes the denominator at least 1e-12 (as PyTorch), so p = 0 or 1
    give large but finite gradients."""

    def forward(self, p, t):
        xp = get_array_module(p)
        with np.errstate(divide="ignore"):      # NumPy's warning (CuPy has none, nor errstate)
            lp = xp.maximum(xp.log(p), -100.0)
            lq = xp.maximum(xp.log1p(-p), -100.0)
        return -(t * lp + (1 - t) * lq)

    def backward(self, gy):
        p, t = self.inputs
        gp = gt = None
        if self.needs[0]:
            gp = gy * (p - t) / clip(p * (1 - p), 1e-12)
        if self.needs[1]:
            with np.errstate(divide="ignore"):
                gt = gy * (_clamped_log(1 - p) - _clamped_log(p))
        return gp, gt


def _labels(target, n, c, name):
    t = target._data if isinstance(target, Tensor) else target
    xp = get_array_module(t)
    t = xp.asarray(t)
    if t.dtype.kind not in "iu" or t.shape != (n,):
        raise ValueError(f"{name}: target must be integer class labels of shape ({n},), "
                         f"got {t.dtype} of shape {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= c):
        raise ValueError(f"{name}: labels must lie in [0, {c}), got values from "
                         f"{int(t.min())} to {int(t.max())}")
    return t


def nll_loss(input, target, reduction="mean"):
    """Negative log-likelihood of integer labels. input: (N, C) log-probabilities; target: (N,)."""
    input = as_tensor(input)
    _check(reduction, input, None, "nll_loss")
    if input.ndim != 2:
        raise ValueError(f"nll_loss: input must be (N, C), got shape {input.shape}")
    n, c = input.shape
    t = _labels(target, n, c, "nll_loss")
    picked = getitem(input, (get_array_module(t).arange(n), t))
    return _reduce(-picked, reduction)


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of integer labels. input: (N, C) logits; target: (N,)."""
    return nll_loss(log_softmax(input, 1), target, reduction)


def mse_loss(input, target, reduction="mean"):
    input, target = _pair(input, target)
    _check(reduction, input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    input, target = _pair(input, target)
    _check(reduction, input, target, "l1_loss")
    return _reduce(abs(input - target), reduction)
