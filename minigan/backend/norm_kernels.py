"""Training-mode batch norm on (N, C, S) arrays, one channel at a time.

NumPy makes ~6 passes over the whole array for the forward (mean, x - mu, variance, scale,
affine) and ~5 for the backward; these loops take one channel at a time, so its N x S values
(50 KB for the DCGAN's (64, 64, 14, 14)) stay in cache between the passes over them; (N, C)
inputs, one value per sample and channel, go row by row instead. Their sums run in float64;
``fastmath`` lets LLVM reassociate them into vector lanes, which makes the result depend on
the SIMD width but not on the run. ``*_numpy`` are the references the tests hold the kernels
to, and the path for CuPy arrays and for runs of 2 to 7 values.
"""
import numba
import numpy as np

from minigan.backend import cuda_kernels as cuda
from minigan.backend import get_array_module, threads
from minigan.backend.elementwise_kernels import act_grad_value, act_value, activate, activation_grad
from minigan.backend.mode import reference


def bn_forward_numpy(x, w, b, eps, slope=None):
    """x: (N, C, S); w, b: (C,). (y, mean, biased variance, 1 / sqrt(var + eps)); y through
    relu (slope 0) or leaky_relu (slope > 0) unless slope is None. Array-module generic
    (NumPy or CuPy); per-channel sums by einsum (in x's precision), which reduces (N, C, S)
    ~3x faster than ``sum(axis=(0, 2))``."""
    xp = get_array_module(x)
    n = x.shape[0] * x.shape[2]
    mu = xp.einsum("ncs->c", x) / n
    d = x - mu[:, None]
    var = xp.einsum("ncs,ncs->c", d, d) / n
    inv = (1 / xp.sqrt(var + eps)).astype(x.dtype)
    d *= (inv * w)[:, None]
    d += b[:, None]
    return activate(d, slope), mu, var, inv


def bn_backward_numpy(g, x, mu, inv, scale, y=None, slope=None):
    """g, x: (N, C, S); mu, inv: the forward's statistics (C,); scale: (C,) = w / sigma.
    (gx, gw, gb) of act(xhat w + b), xhat = (x - mu) inv (recomputed, not kept); y: the
    forward's output, whose sign gives the activation's derivative (slope as the forward's)."""
    xp = get_array_module(g)
    g = activation_grad(y, g, slope)
    n = g.shape[0] * g.shape[2]
    xhat = (x - mu.astype(x.dtype)[:, None]) * inv[:, None]
    gb, gw = xp.einsum("ncs->c", g), xp.einsum("ncs,ncs->c", g, xhat)
    xhat *= (-gw / n)[:, None]
    xhat += g
    xhat -= (gb / n)[:, None]
    xhat *= scale[:, None]
    return xhat, gw, gb


# The kernels keep no normalised copy of x: the backward recomputes x_hat = (x - mu) inv from
# x, which the graph holds anyway, so the forward writes one array instead of two. The
# statistics take one pass over x shifted by one of its values (the channel's first), summed
# in float64: var = E[(x - k)^2] - E[x - k]^2 loses nothing to cancellation while |mu - k| is
# of the order of the spread. Forward (ms), (128, 64, 7, 7): 0.29 -> 0.15; (128, 128, 4, 4):
# 0.37 -> 0.18; (64, 64, 14, 14): 0.23 -> 0.14; the backward the same as with a kept x_hat.
_SUMS = {"reassoc", "contract"}


@numba.njit(cache=True, fastmath=_SUMS)
def _finish_stats(s1, s2, count, shift, eps):
    """(mean, biased variance, 1 / sqrt(var + eps)) from the sums of (x - shift) and of its
    squares over count values."""
    m = s1 / count
    var = max(s2 / count - m * m, 0.0)
    return m + shift, var, 1 / np.sqrt(var + eps)


@numba.njit(cache=True, nogil=True, fastmath=_SUMS)
def bn_forward_channels(x, w, b, eps, act, slope, c0, c1, y, mu, var, inv):
    """The forward of channels c0..c1 - 1 into y, mu, var, inv; then relu (slope 0) or
    leaky_relu (slope > 0) if ``act``: the activation's own loop's arithmetic
    (elementwise_kernels), in the same pass."""
    n, s = x.shape[0], x.shape[2]
    t = x.dtype.type
    slope = t(slope)
    zero = slope - slope
    for c in range(c0, c1):
        k = x[0, c, 0]
        s1, s2 = 0.0, 0.0
        for i in range(n):
            for j in range(s):
                d = x[i, c, j] - k
                s1 += d
                s2 += d * d
        mu[c], var[c], r = _finish_stats(s1, s2, n * s, k, eps)
        m, r = t(mu[c]), t(r)
        inv[c] = r
        a, bc = r * w[c], b[c]
        for i in range(n):
            for j in range(s):
                y[i, c, j] = act_value((x[i, c, j] - m) * a + bc, act, slope, zero)


def bn_forward_numba(x, w, b, eps, act, slope):
    """(y, mean, biased variance, 1 / sqrt(var + eps)) of x (N, C, S), channel by channel
    (bn_forward_channels); from SPLIT_SIZE values each half of the channels on its own
    thread (threads.each_half)."""
    nc = x.shape[1]
    y, mu, var = np.empty_like(x), np.empty(nc), np.empty(nc)
    inv = np.empty(nc, dtype=x.dtype)
    threads.each_half(lambda c0, c1: bn_forward_channels(
        x, w, b, eps, act, slope, c0, c1, y, mu, var, inv), _channel_parts(x))
    return y, mu, var, inv


@numba.njit(cache=True, nogil=True, fastmath=_SUMS)
def bn_backward_channels(g, x, mu, inv, scale, y, act, slope, c0, c1, gx, gw, gb):
    """The backward of channels c0..c1 - 1 into gx, gw, gb. With ``act``, g goes first
    through the activation whose output was y (pass g as y without one)."""
    n, s = g.shape[0], g.shape[2]
    t = g.dtype.type
    slope = t(slope)
    zero = slope - slope
    for c in range(c0, c1):
        m, r = t(mu[c]), inv[c]
        sb, sw = 0.0, 0.0
        for i in range(n):
            for j in range(s):
                d = act_grad_value(g[i, c, j], y[i, c, j], act, slope, zero)
                sb += d
                sw += d * (x[i, c, j] - m)
        sw *= r
        gb[c], gw[c] = sb, sw
        mb, u, k = t(sb / (n * s)), t(sw / (n * s)) * r, scale[c]
        for i in range(n):
            for j in range(s):
                d = act_grad_value(g[i, c, j], y[i, c, j], act, slope, zero)
                gx[i, c, j] = (d - mb - (x[i, c, j] - m) * u) * k


def bn_backward_numba(g, x, mu, inv, scale, y, act, slope):
    """(gx, gw, gb), channel by channel (bn_backward_channels), in two halves of the
    channels on two threads as the forward."""
    nc = g.shape[1]
    gx, gw, gb = np.empty_like(g), np.empty(nc, dtype=g.dtype), np.empty(nc, dtype=g.dtype)
    threads.each_half(lambda c0, c1: bn_backward_channels(
        g, x, mu, inv, scale, y, act, slope, c0, c1, gx, gw, gb), _channel_parts(g))
    return gx, gw, gb


@numba.njit(cache=True)
def bn_rows_forward_numba(x, w, b, eps, act, slope):
    """The forward on (N, C) inputs (one value per sample and channel): row after row, each
    row's C values added to C float64 sums at once (contiguous, so vectorized)."""
    n, nc = x.shape
    k = x[0].copy()
    s1, s2 = np.zeros(nc), np.zeros(nc)
    for i in range(n):
        for c in range(nc):
            d = x[i, c] - k[c]
            s1[c] += d
            s2[c] += d * d
    mu, var = np.empty(nc), np.empty(nc)
    inv = np.empty(nc, dtype=x.dtype)
    for c in range(nc):
        mu[c], var[c], inv[c] = _finish_stats(s1[c], s2[c], n, k[c], eps)
    m, a = mu.astype(x.dtype), inv * w
    slope = x.dtype.type(slope)
    zero = slope - slope
    y = np.empty_like(x)
    for i in range(n):
        for c in range(nc):
            y[i, c] = act_value((x[i, c] - m[c]) * a[c] + b[c], act, slope, zero)
    return y, mu, var, inv


@numba.njit(cache=True)
def bn_rows_backward_numba(g, x, mu, inv, scale, y, act, slope):
    n, nc = g.shape
    m = mu.astype(g.dtype)
    slope = g.dtype.type(slope)
    zero = slope - slope
    sb, sw = np.zeros(nc), np.zeros(nc)
    for i in range(n):
        for c in range(nc):
            d = act_grad_value(g[i, c], y[i, c], act, slope, zero)
            sb[c] += d
            sw[c] += d * (x[i, c] - m[c])
    sw *= inv
    mb, u = (sb / n).astype(g.dtype), (sw / n).astype(g.dtype) * inv
    gx = np.empty_like(g)
    for i in range(n):
        for c in range(nc):
            d = act_grad_value(g[i, c], y[i, c], act, slope, zero)
            gx[i, c] = (d - mb[c] - (x[i, c] - m[c]) * u[c]) * scale[c]
    return gx, sw.astype(g.dtype), sb.astype(g.dtype)


# Measured (ms, forward / backward, NumPy reference against kernel): (64, 64, 14, 14) 0.58 /
# 0.54 against 0.21 / 0.16; (64, 128, 4, 4) 0.19 / 0.16 against 0.19 / 0.08. On (N, C)
# inputs, where a channel's values do not come in runs, the per-channel loops lose ((64,
# 6272): 1.16 / 0.75) and the row-wise ones serve.
MIN_RUN = 8
# From this many values the per-channel kernels run each half of the channels on its own
# thread (threads.each_half), the same numbers. Forward / backward, ms, one thread against
# two (SkylakeX machine, 2 cores): (64, 32, 784) 0.48 / 1.08 -> 0.33 / 0.41; (64, 64, 196)
# 0.24 / 0.34 -> 0.21 / 0.26; but (64, 64, 49) 0.11 / 0.14 -> 0.14 / 0.15 and (64, 128, 16)
# 0.10 / 0.10 -> 0.15 / 0.15: a hand-off costs ~0.05 ms.
SPLIT_SIZE = 1 << 18


def _channel_parts(x):
    """The channel ranges (c0, c1) of x (N, C, S) the kernels run, one per thread."""
    return threads.halves(x.shape[1]) if x.size >= SPLIT_SIZE else [(0, x.shape[1])]


def _numba_ok(*arrays):
    return not reference.on and all(
        type(a) is np.ndarray and a.flags.c_contiguous and a.dtype == arrays[0].dtype
        for a in arrays)


def bn_forward(x, w, b, eps, slope=None):
    """(y, mean, biased variance, 1 / sigma) of x (N, C, S), y through relu (slope 0) or
    leaky_relu (slope > 0) unless slope is None."""
    if not _numba_ok(x, w, b):
        if cuda.fits(x, w, b):
            return cuda.bn_forward(x, w, b, eps, slope)
        return bn_forward_numpy(x, w, b, eps, slope)
    act, s = slope is not None, slope or 0.0
    if x.shape[2] >= MIN_RUN:
        return bn_forward_numba(x, w, b, eps, act, s)
    if x.shape[2] == 1:
        y, mu, var, inv = bn_rows_forward_numba(x.reshape(x.shape[:2]), w, b, eps, act, s)
        return y.reshape(x.shape), mu, var, inv
    return bn_forward_numpy(x, w, b, eps, slope)


def bn_backward(g, x, mu, inv, scale, y=None, slope=None):
    """g, x: (N, C, S); mu, inv, scale: (C,); y, slope: the forward's output and activation
    (see bn_backward_numpy)."""
    act = slope is not None
    if not _numba_ok(g, x, inv, scale) or (act and not _numba_ok(g, y)):
        if cuda.fits(g, x, inv, scale) and (not act or cuda.fits(y)):
            return cuda.bn_backward(g, x, mu, inv, scale, y, slope)
        return bn_backward_numpy(g, x, mu, inv, scale, y, slope)
    y, s = (y if act else g), slope or 0.0
    if g.shape[2] >= MIN_RUN:
        return bn_backward_numba(g, x, mu, inv, scale, y, act, s)
    if g.shape[2] == 1:
        two = g.shape[:2]
        gx, gw, gb = bn_rows_backward_numba(g.reshape(two), x.reshape(two), mu, inv, scale,
                                            y.reshape(two), act, s)
        return gx.reshape(g.shape), gw, gb
    return bn_backward_numpy(g, x, mu, inv, scale, y, slope)
