"""Tensor: an array that remembers the Function that made it.

``Tensor.data`` is the raw ndarray; ``creator`` is the Function node that produced it (``None``
for a leaf); ``grad`` is accumulated on leaves that require a gradient. The operators and most
methods are attached by ``minigan.functional`` (one place for each op), so that this file holds
only the data structure.
"""
import numpy as np

from minigan import backend


class Tensor:
    """A node's value. ``x: Tensor`` with ``x.data`` an ndarray of any shape."""

    __slots__ = ("_data", "_version", "_holder", "grad", "requires_grad", "creator",
                 "generation", "name", "__weakref__")
    __array_ufunc__ = None          # ndarray (op) Tensor defers to Tensor's reflected operator
    __hash__ = object.__hash__      # == is elementwise, identity is the hash

    def __init__(self, data, requires_grad=False, name=None):
        self._data = data
        self._version = 0
        self._holder = None     # a weak reference to the last graph node that took this tensor
        self.grad = None
        self.requires_grad = requires_grad
        self.creator = None
        self.generation = 0
        self.name = name

    @property
    def data(self):
        """The raw array. Assigning to it (``t.data = a``, also ``t.data -= lr * g``, which
        Python turns into an assignment) is a change of the tensor: its version counter goes
        up, and a backward through an op that used the old value raises instead of giving a
        wrong gradient. Writing into the array (``t.data[0] = 1``) is seen too when the array
        is taken while a graph holds the tensor (after the forward, before the backward):
        the backward then compares it with its value when it was taken, and raises naming the
        op and the tensor if it changed. An array taken before the forward is not watched;
        ``bump_version()`` declares such a change."""
        if self._holder is not None and not lending.paused and holding(self._holder):
            lend(self)
        return self._data

    @data.setter
    def data(self, value):
        self._data = value
        self.bump_version()

    def bump_version(self):
        """Declare an in-place change of ``data`` (optimizers and loaders call this)."""
        clock.now += 1
        self._version = clock.now

    # --- array facts -----------------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def size(self):
        return self._data.size

    def numel(self):
        return self._data.size

    def dim(self):
        return self._data.ndim

    def __len__(self):
        return len(self._data)

    @property
    def is_leaf(self):
        return self.creator is None

    # --- leaving the graph ----------------------------------------------------------------
    def detach(self):
        """The same array, outside the graph (shares memory, like PyTorch; watched as
        ``data`` is while a graph holds this tensor)."""
        return Tensor(self.data)

    def numpy(self):
        """The data as a NumPy array (copied off the GPU if needed)."""
        if self.requires_grad:
            raise RuntimeError("numpy() of a tensor that requires grad: call .detach().numpy() "
                               "(or read .data) so that the graph is left on purpose")
        return backend.to_host(self.data)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return self._data.reshape(-1)[0].item()

    def tolist(self):
        return self._data.tolist()

    def requires_grad_(self, mode=True):
        if self.creator is not None and not mode:
            raise RuntimeError("requires_grad_(False) on a non-leaf: use detach()")
        if mode and not backend.is_float(self.dtype):
            raise TypeError(f"only floating tensors can require grad, got {self.dtype}")
        self.requires_grad = mode
        return self

    def __repr__(self):
        body = np.array2string(backend.to_host(self._data), separator=", ", prefix="tensor(")
        extra = f", dtype={self.dtype}" if self.dtype != backend.default_dtype() else ""
        where = backend.device_of(self._data)
        if where != "cpu":
            extra += f", device='{where}'"
        if self.creator is not None:
            extra += f", grad_fn={self.creator.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())


class _Clock:
    """Versions are stamps of one clock that every change advances: a tensor's ``_version``
    is the clock when it last changed (0: never). An op records the clock at its forward; its
    backward needs to look at its inputs only if the clock has moved since (one comparison per
    node when nothing changed, which is every node of a plain training step). The clock is an
    instance, not a class attribute of Tensor: writing to a class would invalidate CPython's
    attribute caches for every Tensor (it cost 10 us a mixture-GAN turn)."""

    __slots__ = ("now",)

    def __init__(self):
        self.now = 0


clock = _Clock()


class _Lending:
    """Arrays handed out (``Tensor.data``, ``detach``, ``numpy``) while a graph holds their
    tensor: ``watched`` maps id(tensor) -> (tensor, a copy of its value then, the clock
    then, the node holding it then). ``paused`` while a backward runs (its own reads of
    ``.data`` change nothing)."""

    __slots__ = ("watched", "paused")

    def __init__(self):
        self.watched, self.paused = {}, False


lending = _Lending()


def lend(t):
    """``t``'s array is being handed out while a graph holds ``t``: keep a copy of its value
    (once), so that the backward can tell if it was written into."""
    if id(t) in lending.watched:
        return
    clock.now += 1          # the nodes that hold t compare it at their backward
    lending.watched[id(t)] = (t, t._data.copy(), clock.now, t._holder)


def holding(ref):
    """Whether the node behind the weak reference ``ref`` still waits for its backward."""
    node = ref()
    return node is not None and node.inputs is not None


def watched_values(tensors):
    """{position: copy of the value} of those ``tensors`` whose arrays are out (a node made
    now compares them at its backward), or None. A watch whose graph is gone is dropped."""
    w, out = lending.watched, {}
    for i, t in enumerate(tensors):
        entry = w.get(id(t))
        if entry is not None and entry[0] is t:
            if holding(entry[3]):
                out[i] = t._data.copy()
            else:
                del w[id(t)]
    return out or None


def forget_finished():
    """Drop the watches whose graph has had its backward (or is gone): the node that held the
    tensor when its array was handed out, the newest of those that saw the old value."""
    w = lending.watched
    for key in [k for k, entry in w.items() if not holding(entry[3])]:
        del w[key]


def written_into(t, value_then, stamp):
    """True if ``t``'s array now differs from what the node stamped ``stamp`` saw: from
    ``value_then`` (the node's own copy) if given, else from the copy taken when the array was
    handed out, if that was after the node's forward."""
    if value_then is None:
        entry = lending.watched.get(id(t))
        if entry is None or entry[0] is not t or entry[2] < stamp:
            return False
        value_then = entry[1]
    xp = backend.get_array_module(t._data)
    return value_then.shape != t._data.shape or not bool(
        xp.array_equal(value_then, t._data, equal_nan=True))


def mark_changed(tensors):
    """Declare that each of ``tensors`` was changed in place (one tick of the clock for all;
    Adam's one-call update of a whole model uses it)."""
    clock.now += 1
    for t in tensors:
        t._version = clock.now


class Parameter(Tensor):
    """A leaf tensor that a Module registers as one of its trainable parameters."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.data
        if not backend.is_float(data.dtype):
            raise TypeError(f"a Parameter must be floating, got {data.dtype}")
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _to_array(data, dtype):
    if isinstance(data, Tensor):
        data = data.data
    xp = backend.get_array_module(data)
    if dtype is not None:
        return xp.array(data, dtype=dtype)
    if xp is np and not isinstance(data, np.ndarray):
        arr = np.array(data)
        if arr.dtype.kind == "f":
            arr = arr.astype(backend.default_dtype())
        elif arr.dtype.kind not in "biu":
            raise TypeError(f"cannot make a tensor of {type(data).__name__} "
                            f"(NumPy dtype {arr.dtype})")
        return arr
    return xp.array(data)


def tensor(data, requires_grad=False, dtype=None, device=None):
    """Make a leaf tensor holding a copy of ``data``.

    Python floats become the default dtype (float32); arrays keep their dtype unless ``dtype``
    is given; ints stay ints (labels, indices). ``device`` ("cpu", "cuda"): where the copy
    lives (default: where ``data`` is; the CPU for lists and numbers).
    """
    if device is not None:
        device = backend.device(device)       # an unknown name fails before any copy
    arr = _to_array(data, dtype)
    if device is not None:
        arr = backend.to_device(arr, device)
    if requires_grad and not backend.is_float(arr.dtype):
        raise TypeError(f"only floating tensors can require grad, got {arr.dtype}")
    return Tensor(arr, requires_grad=requires_grad)


def as_tensor(x, like=None):
    """Wrap a constant (number or array) as a Tensor; a number takes ``like``'s dtype."""
    if isinstance(x, Tensor):
        return x
    if like is not None and not hasattr(x, "dtype"):
        xp = backend.get_array_module(like.data)
        kind = like.dtype.kind
        dtype = like.dtype if kind == "f" or not isinstance(x, float) else \
            backend.default_dtype()
        return Tensor(xp.asarray(x, dtype=dtype))
    if hasattr(x, "dtype") and hasattr(x, "shape"):
        return Tensor(x)
    return Tensor(_to_array(x, None))
