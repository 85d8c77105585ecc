"""``check_op``: every property a differentiable op must have, over hypothesis-drawn inputs.

The properties, each in float64 (what ``properties=`` and the errors call them):

- ``gradcheck``: the first derivatives against central differences, element by element;
- ``gradgradcheck``: the second derivatives the same way (the backward, built with
  ``create_graph=True``, differentiated again); only with ``second_order``;
- ``fast_path``: a plain backward, which may take an op's raw-array ``backward_arrays``
  shortcut, gives the gradients of the backward written in minigan ops (to 1e-12);
- ``reference_mode``: the forward and the gradients with every fast path on (Numba kernels,
  fusions) equal those of ``mg.reference_mode()``, where only the plain formulas run;
- ``reference``: the forward equals ``reference(*arrays, **kw)``, a NumPy function;
- ``torch_reference``: the forward and the gradients equal those of
  ``torch_reference(*tensors, **kw)``, a PyTorch function (PyTorch as the oracle).

Each listed device runs every property. The first property that fails raises ``CheckFailed``
naming it, the device, the (shrunk) input and the numbers.
"""
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings

import minigan as mg
from minigan.gradcheck import GradcheckError

PROPERTIES = ("gradcheck", "gradgradcheck", "fast_path", "reference_mode", "reference",
              "torch_reference")


class CheckFailed(AssertionError):
    """A property of ``check_op`` that does not hold for an input; the message names the
    property, the device, the input and the numbers."""


def check_op(fn, cases, reference=None, torch_reference=None, second_order=True,
             devices=("cpu",), fast_paths=True, properties=None, max_examples=None,
             rtol=1e-10, atol=1e-12):
    """Check the op ``fn`` on inputs drawn from ``cases``; raises ``CheckFailed`` on the
    smallest failing input hypothesis finds, returns None when every property holds.

    fn: ``fn(*tensors, **kw) -> Tensor``. cases: a strategy of input lists (``[x, w]``, each
    an array; floating ones get gradients, the others are constants such as labels), or of
    ``(inputs, kw)`` pairs, or of single arrays. reference / torch_reference: see the module
    docstring. second_order: also ``gradgradcheck`` (off for ops with kinks on every input,
    such as a max pool). devices: names of ``mg.device`` ("cpu", "cuda", ...). fast_paths:
    also the ``fast_path`` and ``reference_mode`` properties. properties: check only these
    (a subset of ``PROPERTIES``). max_examples: inputs to draw (default: hypothesis's current
    settings). rtol, atol: the tolerances of the comparisons between two computations (the
    finite differences use gradcheck's)."""
    wanted = _properties(properties, reference, torch_reference, second_order, fast_paths)
    for name in devices:
        try:
            mg.device(name)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise ValueError(f"check_op: device {name!r}: {exc}") from None
    tol = dict(rtol=rtol, atol=atol)

    @settings(max_examples=max_examples or settings.default.max_examples, deadline=None,
              database=None, report_multiple_bugs=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases)
    def run(case):
        args, kw = _split(case)
        for device in devices:
            for prop in wanted:
                _check(prop, fn, args, kw, device, reference, torch_reference, tol)

    run()


def _properties(properties, reference, torch_reference, second_order, fast_paths):
    if properties is not None:
        unknown = set(properties) - set(PROPERTIES)
        if unknown:
            raise ValueError(f"check_op: unknown properties {sorted(unknown)}; the properties "
                             f"are {PROPERTIES}")
        if "reference" in properties and reference is None or \
                "torch_reference" in properties and torch_reference is None:
            raise ValueError("check_op: a reference property needs its function")
        return tuple(properties)
    return tuple(p for p, on in (("gradcheck", True), ("gradgradcheck", second_order),
                                 ("fast_path", fast_paths), ("reference_mode", fast_paths),
                                 ("reference", reference is not None),
                                 ("torch_reference", torch_reference is not None)) if on)


def _split(case):
    """A drawn case as (list of arrays, keywords)."""
    if isinstance(case, tuple) and len(case) == 2 and isinstance(case[1], dict):
        return list(case[0]), dict(case[1])
    if isinstance(case, np.ndarray):
        return [case], {}
    return list(case), {}


def _check(prop, fn, args, kw, device, reference, torch_reference, tol):
    try:
        CHECKS[prop](fn, args, kw, device,
                     torch_reference if prop == "torch_reference" else reference, tol)
    except (CheckFailed, GradcheckError) as exc:
        raise CheckFailed(f"{prop} fails on {device}: {exc}\n{_describe(args, kw)}") from None
    except Exception as exc:             # the op itself broke (a gradient of a wrong shape)
        raise CheckFailed(f"{prop} fails on {device}: {type(exc).__name__}: {exc}\n"
                          f"{_describe(args, kw)}") from exc


def _describe(args, kw):
    """The input, as a person reads it."""
    lines = [f"  input {i}: " + (np.array2string(a, precision=4, separator=", ")
                                 if isinstance(a, np.ndarray) else repr(a))
             + (f"  (shape {a.shape})" if isinstance(a, np.ndarray) else "")
             for i, a in enumerate(args)]
    if kw:
        lines.append(f"  keywords: {kw!r}")
    return "the input:\n" + "\n".join(lines)


def _tensors(args, device):
    """The drawn arrays as tensors on ``device``: floating ones need a gradient."""
    return [mg.tensor(a, requires_grad=np.asarray(a).dtype.kind == "f", device=device)
            for a in args]


def _kw_on(kw, device):
    return {k: mg.backend.to_device(v, device) if isinstance(v, np.ndarray) else v
            for k, v in kw.items()}


def _bound(fn, kw):
    return lambda *xs: fn(*xs, **kw)


def _gradcheck(fn, args, kw, device, _, tol):
    mg.gradcheck(_bound(fn, _kw_on(kw, device)), _tensors(args, device))


def _gradgradcheck(fn, args, kw, device, _, tol):
    mg.gradgradcheck(_bound(fn, _kw_on(kw, device)), _tensors(args, device))


def _grads(fn, args, kw, device, create_graph=False):
    """The forward (host array) and the gradients of <fn(x), u> for a fixed random u."""
    xs = _tensors(args, device)
    wrt = [x for x in xs if x.requires_grad]
    y = fn(*xs, **_kw_on(kw, device))
    u = mg.tensor(np.random.default_rng(0).standard_normal(y.shape), device=device)
    gs = mg.grad((y * u).sum(), wrt, create_graph=create_graph, allow_unused=True)
    return mg.to_host(y.data), [None if g is None else mg.to_host(g.data) for g in gs]


def _compare(what, got, want, tol):
    if got is None or want is None:
        if (got is None) != (want is None):
            raise CheckFailed(f"{what}: one side has no gradient")
        return
    if np.shape(got) != np.shape(want):
        raise CheckFailed(f"{what}: shape {np.shape(got)} against {np.shape(want)}")
    if not np.allclose(got, want, **tol):
        err = np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))
        i = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        raise CheckFailed(f"{what}: {np.asarray(got)[i]!r} against {np.asarray(want)[i]!r} "
                          f"at element {i} (difference {err.max():.3g}; rtol {tol['rtol']}, "
                          f"atol {tol['atol']})")


def _fast_path(fn, args, kw, device, _, tol):
    _, fast = _grads(fn, args, kw, device)
    _, graph = _grads(fn, args, kw, device, create_graph=True)
    for i, (a, b) in enumerate(zip(fast, graph)):
        _compare(f"the plain backward's gradient of input {i} against the differentiable "
                 "backward's", a, b, dict(rtol=1e-12, atol=1e-14))


def _reference_mode(fn, args, kw, device, _, tol):
    with mg.reference_mode(False):
        y_fast, g_fast = _grads(fn, args, kw, device)
    with mg.reference_mode(True):
        y_ref, g_ref = _grads(fn, args, kw, device)
    _compare("the forward with the fast paths against reference mode's", y_fast, y_ref, tol)
    for i, (a, b) in enumerate(zip(g_fast, g_ref)):
        _compare(f"the gradient of input {i} with the fast paths against reference mode's",
                 a, b, tol)


def _reference(fn, args, kw, device, reference, tol):
    y = mg.to_host(fn(*_tensors(args, device), **_kw_on(kw, device)).data)
    _compare("the forward against the reference's", y, np.asarray(reference(*args, **kw)), tol)


def _torch_reference(fn, args, kw, device, torch_fn, tol):
    # minigan never imports PyTorch: a PyTorch reference means the caller has loaded it
    torch = sys.modules.get("torch")
    if torch is None:
        raise CheckFailed("torch_reference is a PyTorch function, but PyTorch is not "
                          "imported: import torch first")
    y, grads = _grads(fn, args, kw, device)
    ts = [torch.tensor(a, requires_grad=True) if a.dtype.kind == "f"
          else torch.from_numpy(np.asarray(a)) for a in map(np.asarray, args)]
    ty = torch_fn(*ts, **kw)
    _compare("the forward against PyTorch's", y, ty.detach().numpy(), tol)
    u = torch.from_numpy(np.random.default_rng(0).standard_normal(y.shape))
    floats = [t for t in ts if t.requires_grad]
    got = torch.autograd.grad((ty * u).sum(), floats, allow_unused=True) if ty.requires_grad \
        else [None] * len(floats)
    for i, (ours, theirs, t) in enumerate(zip(grads, got, floats)):
        want = np.zeros(tuple(t.shape)) if theirs is None else theirs.detach().numpy()
        _compare(f"the gradient of input {i} against PyTorch's",
                 np.zeros(want.shape) if ours is None else ours, want, tol)


CHECKS = {"gradcheck": _gradcheck, "gradgradcheck": _gradgradcheck, "fast_path": _fast_path,
          "reference_mode": _reference_mode, "reference": _reference,
          "torch_reference": _torch_reference}
