"""One-pass kernels for what NumPy does in several calls: the piecewise-linear activations
and their gradients, a dense layer's bias with its activation, binary cross-entropy on logits.

``numpy.where(x > 0, x, s * x)`` makes a mask and two temporaries, and on float32 it ran
~40x slower than one Numba loop here ((64, 32, 14, 14): 1.5 ms against 0.04 ms; the DCGAN
discriminator calls it nine times a turn). Each kernel has a NumPy path; the dispatch takes
the Numba loop for contiguous NumPy arrays and the NumPy path for anything else (CuPy arrays,
views). NaN propagates in both, as in PyTorch. Kernels that write into arrays they are given
return nothing: boxing a returned array costs more than the loop on small layers.
"""
import numba
import numpy as np

from minigan.backend import cuda_kernels as cuda
from minigan.backend import get_array_module
from minigan.backend.mode import reference


def relu_numpy(x, out=None):
    return get_array_module(x).maximum(x, 0, out=out)


def relu_grad_numpy(x, gy):
    return gy * (x > 0)


def leaky_relu_numpy(x, slope):
    return get_array_module(x).where(x > 0, x, x * slope)


def leaky_relu_grad_numpy(x, gy, slope):
    return gy * get_array_module(x).where(x > 0, 1, slope).astype(gy.dtype)


# numpy.maximum(x, 0) ran ~4x slower than this loop ((100, 16, 28, 28) float32: 0.37 against
# 0.10 ms) and gy * (x > 0) ~2x (0.30 against 0.13 ms).
@numba.njit(cache=True)
def relu_numba(x, y):
    """y = relu(x); y may be x itself (in place). NaN stays NaN, as in numpy.maximum."""
    xf, yf = x.reshape(-1), y.reshape(-1)
    for i in range(xf.size):
        v = xf[i]
        yf[i] = 0 if v <= 0 else v


@numba.njit(cache=True)
def relu_grad_numba(x, gy):
    g = np.empty_like(gy)
    xf, gf, out = x.reshape(-1), gy.reshape(-1), g.reshape(-1)
    for i in range(xf.size):
        out[i] = gf[i] if xf[i] > 0 else 0
    return g


@numba.njit(cache=True)
def leaky_relu_numba(x, slope):
    y = np.empty_like(x)
    xf, yf = x.reshape(-1), y.reshape(-1)
    for i in range(xf.size):
        v = xf[i]
        yf[i] = v if v > 0 else v * slope
    return y


@numba.njit(cache=True)
def leaky_relu_grad_numba(x, gy, slope):
    g = np.empty_like(gy)
    xf, gf, out = x.reshape(-1), gy.reshape(-1), g.reshape(-1)
    for i in range(xf.size):
        out[i] = gf[i] if xf[i] > 0 else gf[i] * slope
    return g


def fits(*arrays):
    """Contiguous NumPy arrays of one dtype and one shape: what the kernels here take (never
    in reference mode: then the NumPy references run)."""
    if reference.on:
        return False
    a = arrays[0]
    for b in arrays:      # a loop, not all(...): this runs on every call (~0.2 against 0.4 µs)
        if type(b) is not np.ndarray or not b.flags.c_contiguous or b.dtype != a.dtype \
                or b.shape != a.shape:
            return False
    return True


def relu(x, inplace=False):
    """max(x, 0), into x itself with ``inplace`` (for a fresh array nobody else holds)."""
    if fits(x) and x.dtype.kind == "f":
        y = x if inplace else np.empty_like(x)
        relu_numba(x, y)
        return y
    if cuda.fits(x):
        return cuda.activation(x, 0.0)
    return get_array_module(x).maximum(x, 0, out=x if inplace else None)


def relu_grad(x, gy):
    """gy where x > 0, else 0: the gradient of relu at x (x may be relu's output)."""
    if fits(x, gy) and x.dtype.kind == "f":
        return relu_grad_numba(x, gy)
    if cuda.fits(x, gy):
        return cuda.activation_grad(x, gy, 0.0)
    return gy * (x > 0)


def leaky_relu(x, slope):
    """x where x > 0, else slope * x."""
    if fits(x) and x.dtype.kind == "f":
        return leaky_relu_numba(x, x.dtype.type(slope))   # slope in x's precision
    if cuda.fits(x):
        return cuda.activation(x, slope)
    return leaky_relu_numpy(x, slope)


def leaky_relu_grad(x, gy, slope):
    """gy where x > 0, else slope * gy: the gradient of leaky_relu at x."""
    if fits(x, gy) and x.dtype.kind == "f":
        return leaky_relu_grad_numba(x, gy, gy.dtype.type(slope))
    if cuda.fits(x, gy):
        return cuda.activation_grad(x, gy, slope)
    return leaky_relu_grad_numpy(x, gy, slope)


def activate(y, slope):
    """relu (slope 0) or leaky_relu (slope > 0) of a fresh array y (relu in place), or y
    itself for slope None: the activation of a fused layer."""
    if slope is None:
        return y
    return relu(y, inplace=True) if slope == 0 else leaky_relu(y, slope)


def activation_grad(y, g, slope):
    """g through that activation, whose output (or input: same sign) was y."""
    if slope is None:
        return g
    return relu_grad(y, g) if slope == 0 else leaky_relu_grad(y, g, slope)


def leaky_relu_derivative(x, slope):
    """1 where x > 0, else slope: the mask a piecewise-linear backward multiplies by."""
    return leaky_relu_grad(x, get_array_module(x).ones_like(x), slope)


# Binary cross-entropy on logits, reduced: NumPy takes ~6 calls of ~1.3 µs each on the mixture
# GAN's (128, 1) logits for the loss and as many for its gradient; one loop each.
@numba.njit(cache=True)
def bce_logits_sum_numba(x, t, w):
    """sum of w * (softplus(x) - t x) (w None: weight 1), accumulated in float64."""
    xf, tf = x.reshape(-1), t.reshape(-1)
    wf = xf                                # unused without w (the branch is compiled out)
    if w is not None:
        wf = w.reshape(-1)
    total = 0.0
    for i in range(xf.size):
        v = np.float64(xf[i])
        loss = max(v, 0.0) + np.log1p(np.exp(-abs(v))) - np.float64(tf[i]) * v
        total += loss if w is None else loss * np.float64(wf[i])
    return total


@numba.njit(cache=True)
def bce_logits_grad_numba(x, t, w, g):
    """g * w * (sigmoid(x) - t), elementwise (w None: weight 1); g a scalar."""
    out = np.empty_like(x)
    xf, tf, of = x.reshape(-1), t.reshape(-1), out.reshape(-1)
    wf = xf                                # unused without w (the branch is compiled out)
    if w is not None:
        wf = w.reshape(-1)
    for i in range(xf.size):
        v = np.float64(xf[i])
        e = np.exp(-abs(v))
        s = 1 / (1 + e) if v >= 0 else e / (1 + e)
        d = g * (s - np.float64(tf[i]))
        of[i] = d if w is None else d * np.float64(wf[i])
    return out


# A dense layer's bias and activation: NumPy adds the bias in one call and the activation
# takes another, then the backward takes one for the activation's gradient and one for the
# bias's (g.sum(0)); on the mixture GAN's (64, 64) layers each call costs ~1.2-1.9 µs.
# One loop each way; the same arithmetic in the same order (the column sums accumulate row
# after row, as NumPy's axis-0 sum does for two columns or more), so the same numbers.
@numba.njit(cache=True, inline="always")
def act_value(v, act, slope, zero):
    """v through relu (slope == zero) or leaky_relu if ``act``: the fused kernels' activation,
    as relu_numba / leaky_relu_numba compute it (NaN stays NaN)."""
    if act and v <= 0:
        return zero if slope == zero else v * slope
    return v


@numba.njit(cache=True, inline="always")
def act_grad_value(g, y, act, slope, zero):
    """g through that activation, whose output (or input) was y, if ``act``."""
    if act and not y > 0:
        return zero if slope == zero else g * slope
    return g


@numba.njit(cache=True)
def bias_act_numba(y, b, act, slope):
    """y += b, then relu (slope 0) or leaky_relu (slope > 0) if ``act``; in place, in y's
    precision (slope too). NaN stays NaN. Returns nothing: boxing a returned array costs
    more than the loop on the mixture GAN's layers (0.46 against 0.24 µs)."""
    slope = y.dtype.type(slope)
    zero = slope - slope
    n, m = y.shape
    for i in range(n):
        for j in range(m):
            y[i, j] = act_value(y[i, j] + b[j], act, slope, zero)


@numba.njit(cache=True)
def act_bias_grad_numba(y, g, act, slope, out, gb):
    """out = g through the activation whose output was y if ``act`` (else out is not
    touched: pass g); gb = its column sums (the bias's gradient), gb zeroed by the caller."""
    slope = g.dtype.type(slope)
    zero = slope - slope
    n, m = g.shape
    for i in range(n):
        for j in range(m):
            d = g[i, j]
            if act:
                d = act_grad_value(d, y[i, j], act, slope, zero)
                out[i, j] = d
            gb[j] += d


def bias_act(y, b, slope):
    """y + b through relu (slope 0) or leaky_relu (slope > 0), or none (slope None), in place
    on the fresh 2-D product y."""
    if (not reference.on and type(y) is np.ndarray and type(b) is np.ndarray and y.ndim == 2
            and y.dtype == b.dtype
            and y.dtype.kind == "f" and y.flags.c_contiguous and b.flags.c_contiguous):
        bias_act_numba(y, b, slope is not None, float(slope or 0))
        return y
    if y.ndim == 2 and cuda.fits(y, b) and y.dtype == b.dtype:
        return cuda.bias_act(y, b, slope)
    y += b
    return activate(y, slope)


def act_bias_grad(y, g, slope):
    """(g through the activation (slope None: none) whose output was y, its column sums)."""
    # one column: NumPy sums it as a contiguous vector, pairwise, and so must we (its numbers)
    if g.ndim == 2 and g.shape[1] > 1 and fits(g) and (slope is None or fits(y, g)) \
            and g.dtype.kind == "f":
        out, gb = g if slope is None else np.empty_like(g), np.zeros(g.shape[1], g.dtype)
        act_bias_grad_numba(g if slope is None else y, g, slope is not None, float(slope or 0),
                            out, gb)
        return out, gb
    g = activation_grad(y, g, slope)
    return g, g.sum(0)


# A label's one-hot code beside the features (the conditional models' input): NumPy takes a
# zeros, a copy and a fancy-indexed write (~5 µs on (512, 2) with 4 classes, four times a
# turn of the conditional mixture GAN), and checking the labels' range a min and a max
# (~1.7 µs); one loop each here.
@numba.njit(cache=True)
def first_label_outside_numba(labels, k):
    """The position of the first label outside [0, k), or -1 if there is none."""
    for i in range(labels.size):
        if labels[i] < 0 or labels[i] >= k:
            return i
    return -1


@numba.njit(cache=True)
def cat_one_hot_numba(x, labels, out):
    """out = [x, one_hot(labels)] row by row; labels already checked."""
    n, d = x.shape
    for i in range(n):
        for j in range(d):
            out[i, j] = x[i, j]
        for j in range(d, out.shape[1]):
            out[i, j] = 0
        out[i, d + labels[i]] = 1


_LOOP_FLOATS = (np.float32, np.float64)     # Numba has no float16 arrays


def _host_labels(labels):
    return type(labels) is np.ndarray and labels.ndim == 1 and labels.flags.c_contiguous \
        and not reference.on


def first_label_outside(labels, k):
    """Where the first label of the 1-D integer array ``labels`` falls outside [0, k), or -1."""
    if _host_labels(labels):
        return int(first_label_outside_numba(labels, k))
    bad = (labels < 0) | (labels >= k)
    return int(bad.argmax()) if labels.size and bool(bad.any()) else -1


def cat_one_hot(x, labels, k):
    """[x, one_hot(labels, k)] for x (N, d) and N checked labels, in x's dtype."""
    n, d = x.shape
    if fits(x) and _host_labels(labels) and x.dtype in _LOOP_FLOATS:
        out = np.empty((n, d + k), dtype=x.dtype)
        cat_one_hot_numba(x, labels, out)
        return out
    xp = get_array_module(x)
    out = xp.zeros((n, d + k), dtype=x.dtype)
    out[:, :d] = x
    out[xp.arange(n), d + labels.astype("int64")] = 1   # no wrap-around for small types
    return out


# An outer product: g (N, 1) times w (1, M), a dense layer's input gradient when it has one
# output. OpenBLAS's K=1 matrix product ran at ~2 GFLOP/s here ((512, 1) x (1, 32): 16 µs)
# and NumPy's broadcast multiply, one short inner loop a row, at 10 µs; one loop: 1.2 µs.
# Each entry is the single product g_i w_j either way, so the same numbers.
@numba.njit(cache=True)
def outer_numba(g, w, out):
    for i in range(g.shape[0]):
        gi = g[i, 0]
        for j in range(w.shape[1]):
            out[i, j] = gi * w[0, j]


def outer(g, w):
    """g (N, 1) times w (1, M) -> (N, M): g @ w for one inner dimension."""
    if fits(g) and fits(w) and g.dtype == w.dtype and g.dtype in _LOOP_FLOATS:
        out = np.empty((g.shape[0], w.shape[1]), dtype=g.dtype)
        outer_numba(g, w, out)
        return out
    return g * w
