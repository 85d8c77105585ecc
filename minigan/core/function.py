"""Function: one node of the computational graph; the grad-mode and reference-mode switches.

A Function's ``forward`` works on raw arrays (NumPy or CuPy) and returns one array; its
``backward`` receives the gradient of the output as a Tensor and returns one gradient per input,
written with minigan ops, so that the backward pass can itself be differentiated
(``create_graph=True``). The node keeps its inputs strongly and its output weakly: a graph lives
exactly as long as some tensor that depends on it.
"""
import contextlib
import copy
import weakref

from minigan.backend.devices import DeviceMismatchError, device_of
from minigan.backend.mode import reference as _reference
from minigan.core.tensor import Tensor, clock, lending, watched_values


class _Mode:
    grad_enabled = True


def is_grad_enabled():
    return _Mode.grad_enabled


def is_reference_mode():
    """True while every fast path is off (see ``reference_mode``)."""
    return _reference.on


@contextlib.contextmanager
def reference_mode(enabled=True):
    """Within the block (or for the whole process with ``MINIGAN_REFERENCE=1``), minigan
    computes only its plain formulas: every backward is the one written with minigan ops (no
    ``backward_arrays``), the Numba kernels give way to their NumPy references, fused layers
    (``nn.fuse``) run layer by layer, FlatAdam steps one parameter at a time. The numbers are
    the same up to rounding; the tests run the ops table both ways."""
    before, _reference.on = _reference.on, bool(enabled)
    try:
        yield
    finally:
        _reference.on = before


class set_grad_enabled(contextlib.ContextDecorator):
    """Turns graph recording on or off: a context manager, or a decorator. A class, since a
    generator-based one costs ~1 µs a use and every backward and no_grad block enters one;
    a stack of saved modes, so that one instance can be re-entered (a recursive decorated
    function)."""

    def __init__(self, mode):
        self.mode, self.saved = bool(mode), []

    def __enter__(self):
        self.saved.append(_Mode.grad_enabled)
        _Mode.grad_enabled = self.mode

    def __exit__(self, *exc):
        _Mode.grad_enabled = self.saved.pop()


def no_grad():
    """``with mg.no_grad():`` runs ops without recording a graph (evaluation, updates)."""
    return set_grad_enabled(False)


def enable_grad():
    return set_grad_enabled(True)


def _check_one_device(fn, inputs):
    devices = {str(device_of(x._data)) for x in inputs}
    if len(devices) > 1:
        raise DeviceMismatchError(
            f"{type(fn).__name__} got tensors on different devices ({', '.join(sorted(devices))}"
            "): move them to one device first with .to(device)") from None


class Function:
    """Base class of every differentiable op.

    Subclasses implement ``forward(*arrays) -> array`` and ``backward(gy) -> grads``, where
    ``grads`` is a Tensor (one input) or a tuple with one entry per input (``None`` where an
    input needs no gradient; ``self.needs[i]`` says which do). Set ``save_output = True`` to
    keep the forward's output array for ``self.out()``.

    ``backward`` is the derivative, written with minigan ops: what gradcheck checks and what
    ``create_graph=True`` differentiates again. An op may add ``backward_arrays(gy)``, the same
    gradients computed on raw arrays (gy an array, arrays returned), which the backward pass
    uses when it builds no graph and reference mode is off; the tests check that both agree.
    """

    backward_arrays = None       # an optional fast path: see above
    save_output = False
    inputs = None
    generation = 0
    lent = None                  # {input position: its value at the forward} (see Tensor.data)

    def __call__(self, *inputs):
        try:
            y = self.forward(*[x._data for x in inputs])
        except Exception:
            _check_one_device(self, inputs)     # the clearer error when devices are mixed
            raise
        out = Tensor(y)
        if _Mode.grad_enabled:
            needs = [x.requires_grad for x in inputs]
            if True in needs:
                self.needs = needs
                self.inputs = inputs
                # changes after this: see Tensor.data. An input whose array is out already
                # is compared at the backward with its value now, whatever the clock says
                # (half a tick on never equals the clock, and a version is newer than it
                # exactly when it changed after now)
                self.stamp = clock.now
                if lending.watched:
                    self.lent = watched_values(inputs)
                    if self.lent is not None:
                        self.stamp += 0.5
                me = weakref.ref(self)          # the inputs are held until the backward
                for x in inputs:
                    x._holder = me
                self.generation = max(x.generation for x in inputs)
                self.output = weakref.ref(out)
                if self.save_output:
                    self.y = y
                    out._holder = me
                out.requires_grad = True
                out.creator = self
                out.generation = self.generation + 1
        return out

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError


    def out(self):
        """The forward's output for use in ``backward``.

        Without graph recording this is the saved array (a constant); with ``create_graph`` it
        is the output Tensor itself, so second derivatives flow through it (recomputed from the
        inputs if the output tensor no longer exists).
        """
        if not _Mode.grad_enabled:
            return self.y
        y = self.output()
        if y is None:
            y = copy.copy(self)(*self.inputs)
        return y

    def release(self):
        """Free what the node holds once its backward has run (unless the graph is retained)."""
        self.__dict__.clear()
        self.inputs = None

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name} backward>"
