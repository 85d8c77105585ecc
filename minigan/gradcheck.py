"""Numerical checks of analytic gradients, always in float64.

``gradcheck`` compares the backward pass with central differences
(f(x + eps) - f(x - eps)) / 2 eps, on the scalar L = sum_k <u_k, out_k> for fixed random
weights u_k (so every output element counts, and an error in any Jacobian entry shows up for
almost every u). Two modes:

- ``'full'``: every element of every input, one at a time — clear, for teaching and small shapes;
  a failure names the input, the element, and both values.
- ``'directional'``: one random direction through all inputs at once (two evaluations of f,
  as Chainer does) — cheap enough for large shapes.

``gradgradcheck`` runs ``gradcheck`` on the backward pass itself (built with
``create_graph=True``), with respect to the inputs and to the output weights u.
"""
import numpy as np

from minigan.backend import device_of, get_array_module, to_device, to_host
from minigan.core import Tensor, grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _prepare(inputs):
    """float64 leaf copies of the differentiable inputs, on their devices; other inputs pass
    through."""
    xs, diff = [], []
    for x in inputs:
        is_tensor = isinstance(x, Tensor)
        arr = x.data if is_tensor else x
        if not hasattr(arr, "dtype"):
            arr = np.asarray(arr)           # numbers and lists
        wants = arr.dtype.kind == "f" and (x.requires_grad if is_tensor else True)
        if wants:
            xs.append(Tensor(arr.astype(np.float64), requires_grad=True))
            diff.append(len(xs) - 1)
        else:
            xs.append(x if is_tensor or arr.dtype.kind != "f" else Tensor(arr.astype(np.float64)))
    return xs, diff


def _outputs(fn, xs):
    out = fn(*xs)
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in out if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _weights(rng, outs):
    """Random weights u_k for the outputs, each on its output's device."""
    return [to_device(rng.standard_normal(o.shape), device_of(o.data)) for o in outs]


def _zeros_like(t):
    return Tensor(get_array_module(t.data).zeros(t.shape))


def _scalar(outs, us):
    total = None
    for o, u in zip(outs, us):
        term = (o * u).sum()
        total = term if total is None else total + term
    return total


def _analytic(fn, xs, diff, us):
    outs = _outputs(fn, xs)
    loss = _scalar(outs, us)
    if loss is None or not loss.requires_grad:
        return [np.zeros(xs[i].shape) for i in diff]
    gs = grad(loss, [xs[i] for i in diff], allow_unused=True)
    return [np.zeros(xs[i].shape) if g is None else to_host(g.data).astype(np.float64)
            for i, g in zip(diff, gs)]


def _value(fn, xs, us):
    # graph recording stays on: fn may itself differentiate (gradgradcheck's backward pass)
    loss = _scalar(_outputs(fn, xs), us)
    return 0.0 if loss is None else float(loss.data)


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, mode="full", raise_exception=True,
              seed=0):
    """Check ``fn``'s gradients with respect to every floating input that wants one.

    fn: callable taking ``inputs`` and returning a Tensor or a tuple of Tensors.
    inputs: Tensors, arrays or numbers; floating arrays/numbers and Tensors with
    ``requires_grad=True`` are checked (in float64 copies), the rest passed as constants.
    An entry passes when |analytic - numeric| <= atol + rtol * |numeric|. The default rtol
    (1e-4, tighter than PyTorch's 1e-3) is chosen so that a gradient off by 0.1% fails:
    float64 central differences are accurate to ~1e-9 for smooth ops.
    Returns True, or raises GradcheckError naming the first failing input and element (returns
    False instead with ``raise_exception=False``).
    """
    if mode not in ("full", "directional"):
        raise ValueError(f"gradcheck mode must be 'full' or 'directional', got {mode!r}")
    xs, diff = _prepare(inputs)
    if not diff:
        raise ValueError("gradcheck: no floating input to check")
    rng = np.random.default_rng(seed)
    us = _weights(rng, _outputs(fn, xs))
    analytic = _analytic(fn, xs, diff, us)
    if mode == "directional":
        return _directional(fn, xs, diff, us, analytic, eps, atol, rtol, rng, raise_exception)
    for k, i in enumerate(diff):
        data = xs[i].data
        for idx in np.ndindex(*data.shape):
            old = data[idx]
            data[idx] = old + eps
            up = _value(fn, xs, us)
            data[idx] = old - eps
            down = _value(fn, xs, us)
            data[idx] = old
            numeric = (up - down) / (2 * eps)
            a = analytic[k][idx]
            if not abs(a - numeric) <= atol + rtol * abs(numeric):
                return _fail(f"gradcheck: wrong gradient for input {i} (shape {data.shape}) "
                             f"at element {idx}: analytic {a:.10g}, numeric {numeric:.10g}, "
                             f"difference {abs(a - numeric):.3g} > tolerance "
                             f"{atol + rtol * abs(numeric):.3g}", raise_exception)
    return True


def _directional(fn, xs, diff, us, analytic, eps, atol, rtol, rng, raise_exception):
    dirs = [rng.standard_normal(xs[i].shape) for i in diff]
    norm = np.sqrt(sum(float((d * d).sum()) for d in dirs)) or 1.0
    dirs = [d / norm for d in dirs]
    base = [xs[i].data.copy() for i in diff]
    values = []
    for sign in (1, -1):
        for i, b, d in zip(diff, base, dirs):
            xs[i].data[...] = b + to_device(sign * eps * d, device_of(b))
        values.append(_value(fn, xs, us))
    for i, b in zip(diff, base):
        xs[i].data[...] = b
    numeric = (values[0] - values[1]) / (2 * eps)
    a = sum(float((g * d).sum()) for g, d in zip(analytic, dirs))
    if not abs(a - numeric) <= atol + rtol * abs(numeric):
        return _fail(f"gradcheck (directional): inputs {diff} along a random direction: "
                     f"analytic {a:.10g}, numeric {numeric:.10g}, difference "
                     f"{abs(a - numeric):.3g} > tolerance {atol + rtol * abs(numeric):.3g}",
                     raise_exception)
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, mode="full",
                  raise_exception=True, seed=0):
    """Check second derivatives: ``gradcheck`` of the backward pass of ``fn``.

    The backward pass g(x, u) = d<u, fn(x)>/dx, built with ``create_graph=True``, is checked
    with respect to both x and the output weights u.
    """
    xs, diff = _prepare(inputs)
    rng = np.random.default_rng(seed + 1)
    us = _weights(rng, _outputs(fn, xs))
    n = len(xs)

    def backward_of_fn(*args):
        ins, ws = args[:n], args[n:]
        outs = _outputs(fn, ins)
        loss = _scalar(outs, ws)
        targets = [ins[i] for i in diff]
        if loss is None or not loss.requires_grad:
            return tuple(_zeros_like(t) for t in targets)
        gs = grad(loss, targets, create_graph=True, allow_unused=True)
        return tuple(_zeros_like(t) if g is None else g
                     for t, g in zip(targets, gs))

    return gradcheck(backward_of_fn, list(xs) + us, eps, atol, rtol, mode, raise_exception,
                     seed)
