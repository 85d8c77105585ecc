"""Ops that move elements without changing them: reshape, transpose, broadcast, index, join.

Each backward is another op of this file, so every one of them is twice differentiable.
"""
import numpy as np

from minigan import backend
from minigan.backend import get_array_module
from minigan.core import Function, Tensor, as_tensor


def normalize_dims(dim, ndim):
    """``dim`` (None, int or tuple) as a sorted tuple of non-negative axes, or a clear error."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -ndim <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor of {ndim} dimensions")
        out.append(d % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"dim {dim} repeats an axis")
    return tuple(sorted(out))


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.in_shape)


def reshape(x, *shape):
    """``x`` with a new shape of the same size (one entry may be -1)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    x = as_tensor(x)
    if shape == x.shape:
        return x
    try:
        return Reshape(shape)(x)
    except ValueError:
        raise ValueError(f"cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into {shape}") from None


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one: ``(N, C, H, W) -> (N, C*H*W)`` for 1, -1."""
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = (normalize_dims(d, x.ndim)[0] for d in (start_dim, end_dim))
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    n = 1
    for d in x.shape[s:e + 1]:
        n *= d
    return reshape(x, x.shape[:s] + (n,) + x.shape[e + 1:])


def unsqueeze(x, dim):
    x = as_tensor(x)
    d = dim if dim >= 0 else dim + x.ndim + 1
    if not 0 <= d <= x.ndim:
        raise IndexError(f"unsqueeze: dim {dim} out of range for {x.ndim} dimensions")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def squeeze(x, dim=None):
    x = as_tensor(x)
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = normalize_dims(dim, x.ndim)
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in dims or n != 1))


class Transpose(Function):
    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return Transpose(tuple(inverse))(gy)


def permute(x, *dims):
    """Reorder the axes: ``permute(x, 0, 2, 1)``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    x = as_tensor(x)
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)) or len(dims) != x.ndim:
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dims "
                         f"of shape {x.shape}")
    return Transpose(tuple(d % x.ndim for d in dims))(x)


def transpose(x, dim0=-2, dim1=-1):
    """Swap two axes (the last two by default)."""
    x = as_tensor(x)
    if x.ndim < 2:
        return x
    a, b = (normalize_dims(d, x.ndim)[0] for d in (dim0, dim1))
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose(tuple(axes))(x)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


class SumTo(Function):
    """Sum a broadcast result back to the shape it was broadcast from."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


def broadcast_to(x, shape):
    x = as_tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        return BroadcastTo(shape)(x)
    except ValueError:
        raise ValueError(f"cannot broadcast shape {x.shape} to {shape}") from None


def sum_to(x, shape):
    """The sum of ``x`` over the axes that broadcasting added to reach ``x.shape``."""
    x = as_tensor(x)
    shape = tuple(shape)
    return x if x.shape == shape else SumTo(shape)(x)


def _index_key(key, dev):
    """Unwrap Tensors in an index; report whether it uses advanced (integer/bool) indexing.
    Index arrays go to the indexed tensor's device ``dev`` (as PyTorch takes CPU indices for a
    GPU tensor): they are part of the op, not data."""
    parts = key if isinstance(key, tuple) else (key,)
    parts = tuple(p._data if isinstance(p, Tensor) else p for p in parts)
    advanced = any(hasattr(p, "shape") and getattr(p, "ndim", 0) > 0 or isinstance(p, list)
                   for p in parts)
    if advanced and dev != "cpu":
        parts = tuple(backend.to_device(np.asarray(p) if isinstance(p, list) else p, dev)
                      if hasattr(p, "shape") or isinstance(p, list) else p for p in parts)
    return (parts if isinstance(key, tuple) else parts[0]), advanced


class GetItem(Function):
    def __init__(self, key, advanced):
        self.key, self.advanced = key, advanced

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.key]

    def backward(self, gy):
        return GetItemGrad(self.key, self.advanced, self.in_shape)(gy)

    def backward_arrays(self, gy):
        return GetItemGrad(self.key, self.advanced, self.in_shape).forward(gy)


class GetItemGrad(Function):
    """Scatter a gradient back into zeros; repeated indices accumulate (``add.at``)."""

    def __init__(self, key, advanced, shape):
        self.key, self.advanced, self.shape = key, advanced, shape

    def forward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if self.advanced:
            xp.add.at(gx, self.key, gy)
        else:
            gx[self.key] = gy
        return gx

    def backward(self, ggx):
        return GetItem(self.key, self.advanced)(ggx)


def getitem(x, key):
    """``x[key]`` for ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    x = as_tensor(x)
    key, advanced = _index_key(key, backend.device_of(x._data))
    try:
        return GetItem(key, advanced)(x)
    except IndexError as exc:
        raise IndexError(f"index {key!r} does not fit a tensor of shape {x.shape}: {exc}") \
            from None


class Concat(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return get_array_module(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(GetItem(key, False)(gy) for key in self._keys())

    def backward_arrays(self, gy):
        return tuple(gy[key] for key in self._keys())

    def _keys(self):
        """Each input's slice of the output along the joined axis."""
        keys, start = [], 0
        for n in self.sizes:
            keys.append((slice(None),) * self.axis + (slice(start, start + n),))
            start += n
        return keys


def cat(tensors, dim=0):
    """Join tensors along an existing axis ``dim``; all other dims must agree."""
    ts = [as_tensor(t) for t in tensors]
    if not ts:
        raise ValueError("cat needs at least one tensor")
    axis = normalize_dims(dim, ts[0].ndim)[0]
    for i, t in enumerate(ts):
        if t.ndim != ts[0].ndim or any(
                a != b for j, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if j != axis):
            raise ValueError(f"cat along dim {dim}: tensor {i} has shape {t.shape}, "
                             f"tensor 0 has {ts[0].shape}")
    return Concat(axis)(*ts)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new axis ``dim``."""
    ts = [as_tensor(t) for t in tensors]
    if not ts:
        raise ValueError("stack needs at least one tensor")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, tensor 0 {ts[0].shape}")
    return cat([unsqueeze(t, dim) for t in ts], dim)


class Pad(Function):
    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        return get_array_module(x).pad(x, self.widths, constant_values=self.value)

    def backward(self, gy):
        key = tuple(slice(a, n - b) for (a, b), n in zip(self.widths, gy.shape))
        return GetItem(key, False)(gy)


def pad(x, pad, value=0.0):
    """Constant padding in PyTorch's order: ``pad = (left, right, top, bottom, ...)`` pads the
    last dim by (left, right), the one before by (top, bottom), and so on."""
    x = as_tensor(x)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim or any(p < 0 for p in pad):
        raise ValueError(f"pad {pad} must be non-negative pairs for at most {x.ndim} dims "
                         f"(shape {x.shape})")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad(tuple(widths), value)(x)


class Cast(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return Cast(self.in_dtype)(gy)


def to_dtype(x, dtype):
    """``x`` converted to ``dtype`` (differentiable between floating dtypes)."""
    x = as_tensor(x)
    dtype = get_array_module(x._data).dtype(dtype)
    return x if x.dtype == dtype else Cast(dtype)(x)


class Transfer(Function):
    """A copy of the array on another device; its gradient is copied back."""

    def __init__(self, src, dst):
        self.src, self.dst = src, dst

    def forward(self, x):
        return self.dst.put(self.src.get(x))

    def backward(self, gy):
        return Transfer(self.dst, self.src)(gy)


def to_device(x, device):
    """``x`` on ``device`` ("cpu", "cuda", ...): itself when already there, else a copy that
    gradients flow back through (as PyTorch's ``x.to("cuda")``)."""
    x = as_tensor(x)
    dst, src = backend.device(device), backend.device_of(x._data)
    return x if dst == src else Transfer(src, dst)(x)
