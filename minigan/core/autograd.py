"""The backward pass: reverse-mode accumulation over the graph, iteratively.

Nodes are visited from the newest to the oldest generation (a max-heap), so every node's output
gradient is complete before its backward runs, and no recursion limit is ever met. Gradients are
never mutated once made: sums are out of place, and an array that already belongs to another
gradient (or to the caller) is copied before a leaf adopts it, so no two ``.grad`` alias.
"""
import contextlib
import heapq

from minigan.backend import get_array_module
from minigan.backend.mode import reference as _reference
from minigan.core.function import Function, set_grad_enabled
from minigan.core.tensor import Tensor, as_tensor, clock, forget_finished, lending, written_into


class _Copy(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


def _check_root(y, gy):
    if not isinstance(y, Tensor):
        raise TypeError(f"backward/grad needs Tensors as outputs, got {type(y).__name__}")
    if not y.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and has no grad_fn: "
                           "nothing on its path asked for a gradient")
    if gy is None:
        if y.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for one-element outputs; "
                               f"pass a gradient of shape {y.shape}")
        return Tensor(get_array_module(y.data).ones_like(y.data))
    gy = as_tensor(gy, like=y)
    if gy.shape != y.shape:
        raise ValueError(f"the gradient given has shape {gy.shape}, the output {y.shape}")
    return gy


def run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=None):
    """Propagate ``grad_outputs`` back from ``outputs``.

    With ``inputs=None`` gradients are accumulated into the ``.grad`` of leaves; otherwise a
    dict ``{id(input): gradient}`` for the given tensors is returned and ``.grad`` is untouched.
    """
    wanted = None if inputs is None else {id(t): t for t in inputs}
    found = {}
    owned = {}             # id -> array already adopted by a gradient in this pass (kept
    #                        alive, so that a freed array's id, reused, is not mistaken)
    pending = {}           # Function -> gradient of its output so far
    heap = []
    counter = 0

    def deliver(t, g):
        nonlocal counter
        fn = t.creator
        if fn is None:
            if wanted is None:
                _accumulate_leaf(t, g, owned)
            elif id(t) in wanted:
                found[id(t)] = found[id(t)] + g if id(t) in found else g
            return
        if fn in pending:
            pending[fn] = pending[fn] + g
        else:
            pending[fn] = g
            counter += 1
            heapq.heappush(heap, (-fn.generation, counter, fn))

    paused, lending.paused = lending.paused, True     # the pass's own reads of .data
    try:
        with set_grad_enabled(create_graph):
            _propagate(outputs, grad_outputs, retain_graph, create_graph, deliver, owned,
                       pending, heap, wanted, found)
    finally:
        lending.paused = paused
        if lending.watched:
            forget_finished()
    return found


def _propagate(outputs, grad_outputs, retain_graph, create_graph, deliver, owned, pending,
               heap, wanted, found):
    """The loop of ``run_backward``: each node, newest generation first."""
    for y, gy in zip(outputs, grad_outputs):
        gy = _check_root(y, gy)
        owned[id(gy.data)] = gy.data
        deliver(y, gy)
    while heap:
        fn = heapq.heappop(heap)[2]
        if fn.inputs is None:
            raise RuntimeError(f"trying to backward through {fn.name} a second time: its "
                               "saved values were freed; pass retain_graph=True to the "
                               "first backward")
        if clock.now != fn.stamp:         # something changed since fn's forward
            _check_unchanged(fn)
        gy = pending.pop(fn)
        if wanted is not None and fn.output is not None:
            out = fn.output()
            if out is not None and id(out) in wanted:
                found[id(out)] = gy
        fast = None if create_graph or _reference.on else fn.backward_arrays
        gxs = fn.backward(gy) if fast is None else fast(gy._data)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        if _tracer is not None:
            _tracer(fn, gy, gxs)
        for x, needed, gx in zip(fn.inputs, fn.needs, gxs):
            if needed and gx is not None:
                deliver(x, _fit(gx, x))
        if not retain_graph:
            fn.release()


def _check_unchanged(fn):
    """Raise if an input of ``fn`` (or its saved output) changed after its forward: its
    gradient would be wrong."""
    def what(i, x):
        return f"input {i} of {fn.name} (a tensor " + (
            f"{x.name!r})" if x.name else f"of shape {x.shape})")

    for i, x in enumerate(fn.inputs):
        if x._version > fn.stamp:
            raise RuntimeError(f"{what(i, x)} was changed after the forward pass, so the "
                               "gradient through it would be wrong; change .data (or step an "
                               "optimizer) only after backward()")
        if written_into(x, fn.lent and fn.lent.get(i), fn.stamp):
            raise RuntimeError(f"{what(i, x)} was written into through .data after the forward "
                               "pass (an index write such as t.data[...] = v), so the "
                               "gradient through it would be wrong; write only after "
                               "backward(), or build the graph again")
    out = fn.output() if fn.save_output else None
    if out is not None and written_into(out, None, fn.stamp):
        raise RuntimeError(f"the output of {fn.name} (shape {out.shape}), which its backward "
                           "uses, was written into through .data after the forward pass; "
                           "write only after backward()")


_tracer = None


@contextlib.contextmanager
def trace_backward(callback):
    """Within the block, every backward pass calls ``callback(fn, gy, gxs)`` after each node
    ``fn`` has run its backward, in the order the pass visits them: ``gy`` is the gradient of
    the node's output (upstream), ``gxs`` those of its inputs (None where not needed). For
    teaching and debugging (examples/backprop_walkthrough.py prints the chain rule with it)."""
    global _tracer
    before, _tracer = _tracer, callback
    try:
        yield
    finally:
        _tracer = before


def _fit(gx, x):
    """Make a backward's result a Tensor of x's dtype (it may be a raw array or a number)."""
    if not isinstance(gx, Tensor):
        gx = Tensor(gx)
    g, d = gx._data, x._data
    if g.shape != d.shape:
        raise RuntimeError(f"internal error: a gradient of shape {g.shape} for an input of "
                           f"shape {d.shape}")
    if g.dtype != d.dtype:
        gx = gx.to(d.dtype)
    return gx


def _is_view(data):
    """True if ``data`` may share memory with another array. Arrays a Numba kernel allocated
    have a Numba MemInfo as their base; they are fresh, not views."""
    return data.base is not None and type(data.base).__name__ != "_MemInfo"


def _accumulate_leaf(t, g, owned):
    if t.grad is None:
        data = g._data
        if id(data) in owned or _is_view(data) or not data.flags.writeable:
            g = _Copy()(g)
        owned[id(g._data)] = g._data
        t.grad = g
    else:
        t.grad = t.grad + g
        owned[id(t.grad._data)] = t.grad._data


def backward(tensor, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (``Tensor.backward``)."""
    run_backward([tensor], [grad], retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, as a tuple (leaves' .grad untouched).

    ``inputs`` may be any tensors on the graph, leaves or not (latent vectors, activations).
    With ``create_graph=True`` the results are themselves differentiable.
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"input {i} of grad() does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    found = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs)
    seen = {id(g.data) for g in grad_outputs if isinstance(g, Tensor)}
    result = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"input {i} (shape {t.shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
        if g is not None:
            if id(g.data) in seen or g.data.base is not None:
                g = _Copy()(g)
            seen.add(id(g.data))
        result.append(g)
    return tuple(result)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)
