"""Convolution and transposed convolution (PyTorch's layouts), by im2col and one GEMM.

x: (N, C_in, H, W); conv2d weight: (C_out, C_in, kh, kw); conv_transpose2d weight:
(C_in, C_out, kh, kw). The three are adjoint to each other: conv's input gradient is a
transposed convolution, the transposed convolution's is a convolution, and one op,
``ConvWeightGrad``, gives both weight gradients — so each backward is made of these ops and
double backprop works through all of them.
"""
import contextlib

import numpy as np

from minigan.backend import direct, get_array_module, subpixel, threads, winograd
from minigan.backend.conv_kernels import col2im, col2im_nhwc_spans, im2col, im2col_nhwc, to_nchw
from minigan.backend.mode import reference
from minigan.core import Function, as_tensor
from minigan.functional.reduction import channel_sum, sum


def _pair(v, name):
    """An int or a pair of ints as a pair of Python ints (NumPy integers too, never floats
    or bools); ValueError naming ``name`` and the value otherwise."""
    def is_int(a):
        return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))
    t = (v, v) if is_int(v) else tuple(v) if isinstance(v, (tuple, list)) else None
    if t is None or len(t) != 2 or not all(is_int(a) for a in t):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return int(t[0]), int(t[1])


STRATEGIES = ("auto", "rows", "im2col", "channels_last", "winograd", "direct")
_strategy = ["auto"]


@contextlib.contextmanager
def conv_strategy(name):
    """Within the block, convolutions are made to compute one way, their backward passes too
    (the choice travels with the node): 'rows' (row matrices; stride and dilation 1 only,
    else im2col), 'im2col' (NCHW im2col and col2im), 'channels_last' (NHWC), 'winograd'
    (Winograd's F(m x m, r x r) where it applies: stride and dilation 1, square 3x3 or 5x5
    kernels; else im2col), 'direct' (shifted planes times weights, no im2col; stride and
    dilation 1, else im2col), or 'auto' (the measured thresholds below). Every way gives the
    same numbers up to rounding; the tests check each."""
    if name not in STRATEGIES:
        raise ValueError(f"conv_strategy must be one of {STRATEGIES}, got {name!r}")
    before, _strategy[0] = _strategy[0], name
    try:
        yield
    finally:
        _strategy[0] = before


class _Geometry:
    """Kernel (kh, kw), stride, padding, dilation; the input plane (h, w); output (oh, ow) of
    the convolution direction; the strategy in force when it was made (see conv_strategy)."""

    def __init__(self, kh, kw, stride, padding, dilation, h, w, out=None):
        self.strategy = _strategy[0]
        self.kh, self.kw = kh, kw
        (self.sh, self.sw), (self.ph, self.pw), (self.dh, self.dw) = stride, padding, dilation
        self.h, self.w = h, w
        if out is None:     # a transposed convolution fixes (oh, ow) to its input's plane
            out = ((h + 2 * self.ph - self.dh * (kh - 1) - 1) // self.sh + 1,
                   (w + 2 * self.pw - self.dw * (kw - 1) - 1) // self.sw + 1)
        self.oh, self.ow = out

    def args(self):
        return (self.kh, self.kw, self.sh, self.sw, self.ph, self.pw, self.dh, self.dw,
                self.oh, self.ow)


def _conv_forward(x, w, g, b=None):
    """(y, weight_grad): y = conv(x, w) [+ b]; weight_grad(gy) gives the weight gradient from
    the output's gradient, reusing what the forward built from x (its im2col, row matrix
    or Winograd transform); Winograd's also has grads(gy, need_x, need_w), both
    gradients by the forward's adjoint."""
    n, co = x.shape[0], w.shape[0]
    if _direct_fit(x, w.shape, g):
        return _direct_forward(x, w, g, b)
    if _subpixel_fit(x, g):
        return _polyphase_forward(x, w, g, b)
    plan = _winograd_plan(x, w.shape, g)
    if plan is not None:
        return winograd.conv2d(x, w, plan, b, fast=not reference.on)
    if _rows_fit(x, w.shape[3], g):
        r = _rows(x, w.shape[3], g.ph, g.pw, g.ow)
        y = _rows_conv(r, w, n, x.shape[2] + 2 * g.ph, g.oh, g.ow)
        return (_nchw(y, False, b, g.oh, g.ow),
                lambda gy: _rows_weight_grad(r, gy, w.shape, x.shape[2] + 2 * g.ph))
    if _channels_last(x, x.shape[1], NHWC_MIN_IN_CHANNELS, g):
        # channels-last: each tap copies C_in contiguous values (DCGAN D, 32 -> 64 channels
        # 4x4 stride 2: forward 3.4 -> 1.8 ms; 64 -> 128 3x3: 2.2 -> 1.0 ms)
        return _nhwc_forward(x, w, g, b)
    cols = im2col(x, *g.args())
    y = w.reshape(co, -1) @ cols
    return (_nchw(y.reshape(co, n, -1), False, b, g.oh, g.ow),
            lambda gy: _weight_grad(cols, gy, w.shape))


def _nchw(y, channels_last, b, h, w):
    """A convolution's result, (N, H W, C) or (C, N, H W), as (N, C, H, W) [+ bias]."""
    y = to_nchw(y, channels_last, b)
    return y.reshape(y.shape[:2] + (h, w))


# The channels-last paths run each half of the batch on its own thread (threads.each_half),
# OpenBLAS on one thread in each, so that one half's layout passes (im2col, col2im, the
# copies to NCHW: serial kernels) overlap the other's GEMM. Medians of 8 alternations,
# SkylakeX / Haswell kernels: DCGAN 7 -> 14 transposed, forward + both gradients, 19.4 ->
# 18.6 / 17.4 -> 16.7 ms; the DCGAN turn 120 -> 114 / 115 -> 113 ms.
# Each product takes only the kernel rows that land inside the input (_tap_row_spans): the
# rows of im2col are laid out (oy, n, ox) within each half, so the output rows of one span
# are one block; the weight gradient sums each half's spans (on its thread) and then the
# halves.
def _nhwc_forward(x, w, g, b=None):
    n, co, rows = x.shape[0], w.shape[0], g.oh * g.ow
    taps = g.kw * x.shape[1]                     # columns per kernel row
    wm = w.transpose(2, 3, 1, 0).reshape(-1, co)
    spans, parts = _tap_row_spans(g), threads.halves(n)
    cols_t = np.empty((n * rows, g.kh * taps), dtype=x.dtype)

    def half(lo, hi):
        block = im2col_nhwc(x[lo:hi].transpose(0, 2, 3, 1), *g.args(),
                            out=cols_t[lo * rows:hi * rows], rows_by_y=True)
        z = np.empty((block.shape[0], co), dtype=x.dtype)       # every row in one span
        per = (hi - lo) * g.ow
        for y0, y1, k0, k1 in spans:
            r, k = slice(y0 * per, y1 * per), slice(k0 * taps, k1 * taps)
            np.matmul(block[r, k], wm[k], out=z[r])
        y = np.ascontiguousarray(z.reshape(g.oh, hi - lo, g.ow, co).transpose(1, 3, 0, 2))
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        return y
    y = threads.joined(threads.each_half(half, parts))
    return y, lambda gy: _weight_grad_spans(cols_t, gy, w.shape, g, spans, parts)


def _weight_grad_spans(cols_t, gy, wshape, g, spans, parts):
    """The weight gradient from _nhwc_forward's im2col: each half's rows (oy, n, ox), span by
    span, on its own thread; then the two halves' sums added."""
    co, ci, kh, kw = wshape
    rows, taps = g.oh * g.ow, kw * ci

    def half(lo, hi):
        gh = gy[lo:hi].transpose(1, 2, 0, 3).reshape(co, -1)          # (co, (oy, n, ox))
        block, per = cols_t[lo * rows:hi * rows], (hi - lo) * g.ow
        d = np.zeros((co, kh * taps), dtype=gy.dtype)
        for y0, y1, k0, k1 in spans:
            r, k = slice(y0 * per, y1 * per), slice(k0 * taps, k1 * taps)
            d[:, k] += gh[:, r] @ block[r, k]
        return d
    d = threads.summed(threads.each_half(half, parts))
    return np.ascontiguousarray(d.reshape(co, kh, kw, ci).transpose(0, 3, 1, 2))


def _weight_grad_nhwc(cols_t, gy, wshape):
    co, ci, kh, kw = wshape
    d = gy.transpose(1, 0, 2, 3).reshape(co, -1) @ cols_t
    return np.ascontiguousarray(d.reshape(co, kh, kw, ci).transpose(0, 3, 1, 2))


# --- stride 1, 2x2 to 5x5: Winograd's minimal filtering (minigan/backend/winograd.py) --------
# F(4x4, r x r): 36 (3x3) or 64 (5x5) products per 16 outputs, against im2col's 144 or 400,
# but its transforms cost about what the products save on small kernels and few channels.
# Measured (python -m benchmarks.conv_rule: forward + both gradients against the other
# strategies' choice, planes of 7, 14 and 28, 2 cores) with OpenBLAS's SkylakeX and Haswell
# kernels: 5x5 from 16 input channels took 0.48-0.81 of the time on both (the thesis CNN's
# second layer, (100, 16, 14, 14): 0.74 and 0.58); with 8 channels 0.80-0.95 on SkylakeX but
# 0.90-1.46 on Haswell; fewer channels lose, with 1 by 3-5x. 3x3 ranged 0.75-1.35 and 2x2
# 0.97-7 with no channel count that always won. So 'auto' takes it for 5x5 kernels from 16
# input channels on. (Measured before its input gradient became the forward's adjoint and
# each half of the batch got its own thread, which took CNN-2 from 8.1 to ~3.8 ms with
# SkylakeX kernels: 3x3 kernels and fewer channels may pay now; not re-measured yet.)
WINOGRAD_KERNELS = (2, 3, 5)    # the sizes it computes ('winograd' strategy)
WINOGRAD_AUTO_KERNELS = (5,)    # the sizes 'auto' gives it (2x2: 1.2-1.4x longer)
WINOGRAD_MIN_CHANNELS = 16      # C_in, for 'auto'
WINOGRAD_TILE = 4               # m of F(m x m, r x r)


def _winograd_plan(x, wshape, g):
    """A winograd.Plan for this convolution, or None where it does not apply or (auto) does
    not pay."""
    if g.strategy not in ("auto", "winograd") or not isinstance(x, np.ndarray):
        return None
    if ((g.sh, g.sw, g.dh, g.dw) != (1, 1, 1, 1) or g.kh != g.kw
            or g.kh not in WINOGRAD_KERNELS):
        return None
    if g.strategy == "auto" and (reference.on or g.kh not in WINOGRAD_AUTO_KERNELS
                                 or wshape[1] < WINOGRAD_MIN_CHANNELS):
        return None
    return winograd.Plan(x.shape, g.kh, g.ph, g.pw, WINOGRAD_TILE)


# --- stride 1, few channels: computed directly (backend/direct.py) ---------------------------
# With few output channels im2col's product is a matrix-vector one, and with few input
# channels its inner size (C_in kh kw) is short: both are bound by the copies, not the
# products. `python -m benchmarks.direct_rule` (forward + backward against what 'auto' chose
# before; two runs, SkylakeX / Haswell kernels): 1 to 4 outputs from 16-64 channels 0.22-1.02
# / 0.30-0.87 of the time (the DCGAN generator's last layer, (64, 32, 28, 28) -> 1 3x3, 0.22-
# 0.25 / 0.34-0.36; a 5x5 16 -> 2 at 14 x 14 0.98-1.02 / 0.81-0.87); 8 outputs 0.54-0.61 /
# 0.43-0.63; one input channel, inner size 9-16, 0.26-1.24 / 0.32-0.89 (noisy, the other
# paths' above all; the generator's last layer's input gradient is such a forward). So
# 'auto' takes it for at most 4 output channels or an inner size up to 16. 2 and 3 input
# channels 3x3 (inner 18, 27) ranged 0.73-1.18; the thesis CNN's first layer, (100, 1, 28,
# 28) -> 16 5x5 (inner 25), measured 0.62-0.66 / 0.30-0.63, but it stays where it is for now:
# taking it changes the classifier's numbers (and the DCGAN's judge), which would need their
# own re-measurement.
DIRECT_MAX_OUT = 4
DIRECT_MAX_INNER = 16


def _direct_fit(x, wshape, g):
    """Whether the convolution of geometry g (weight wshape) is computed directly."""
    if g.strategy not in ("auto", "direct") or not isinstance(x, np.ndarray) or \
            (g.sh, g.sw, g.dh, g.dw) != (1, 1, 1, 1):
        return False
    co, ci, kh, kw = wshape
    return g.strategy == "direct" or not reference.on and (
        co <= DIRECT_MAX_OUT or ci * kh * kw <= DIRECT_MAX_INNER)


def _direct_forward(x, w, g, b=None):
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    y = np.empty((x.shape[0], w.shape[0], g.oh, g.ow), dtype=x.dtype)
    forward = direct.forward_numpy if reference.on else direct.forward
    threads.each_half(lambda lo, hi: forward(x[lo:hi], w, g.ph, g.pw, y[lo:hi]),
                      threads.halves(x.shape[0]))
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y, lambda gy: _direct_weight_grad(x, gy, w.shape, g)


def _direct_weight_grad(x, gy, wshape, g):
    """The two halves' weight gradients (backend/direct.py), added."""
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(gy)
    grad = direct.weight_grad_numpy if reference.on else direct.weight_grad
    return threads.summed(threads.each_half(
        lambda lo, hi: grad(x[lo:hi], gy[lo:hi], g.ph, g.pw, wshape[2], wshape[3]),
        threads.halves(x.shape[0])))


# --- stride 2, even kernels: as stride 1 on four times the channels (backend/subpixel.py) ----
# A convolution through its input's four phases, a transposed convolution through its
# output's, so that their stride-1 convolution can take Winograd's F(4 x 4, 2 x 2). Only
# under conv_strategy('winograd'): on the DCGAN's layers (python -m benchmarks.conv_rule) it
# took 1.23-1.93x the time of the other strategies' choice, and 1.05-1.45x with the stride-1
# convolution by row matrices instead of Winograd; so 'auto' never takes it.


def _subpixel_fit(x, g):
    """Whether the stride-2 convolution of geometry g goes through
    backend/subpixel.py: under 'winograd', stride 2 with a square even kernel whose half
    Winograd computes."""
    if g.strategy != "winograd" or not isinstance(x, np.ndarray):
        return False
    return subpixel.fits(g.kh, g.kw, (g.sh, g.sw), (g.dh, g.dw)) and g.kh == g.kw \
        and g.kh // 2 in WINOGRAD_KERNELS


def _inner(g, ph, pw, xshape):
    """The stride-1 geometry (kernel halved) that a stride-2 one of g becomes."""
    inner = _Geometry(g.kh // 2, g.kw // 2, (1, 1), (ph, pw), (1, 1), *xshape[2:])
    inner.strategy = g.strategy
    return inner


def _polyphase_forward(x, w, g, b=None):
    """conv(x, w), stride 2, as a stride-1 convolution of x's four phases (space to depth)."""
    xs = subpixel.space_to_depth(x, g.ph, g.pw, g.oh, g.ow, g.kh, g.kw)
    y, weight_grad = _conv_forward(xs, subpixel.poly_weight(w), _inner(g, 0, 0, xs.shape), b)
    return y, lambda gy: subpixel.poly_weight_adjoint(weight_grad(gy), w.shape)


# --- stride 1: row matrices instead of im2col -------------------------------------------------
# im2col copies x kh * kw times; for stride 1 the kernel's rows can instead be shifts of one
# matrix R[(c, j), (n, y, ox)] = x_padded[n, c, y, ox + j] over *all* padded rows y (kw
# copies): output row oy of kernel row i reads R's columns of row y = oy + i. One GEMM of the
# kernel rows stacked, (kh C_out, C_in kw) @ R, then kh shifted adds. Measured on the thesis's
# (100, 16, 14, 14) 16x5x5 layer: forward 6.5 -> 3.4 ms, input gradient 6.4 -> 3.3 ms, weight
# gradient 2.2 -> 2.7 ms, buffer 31 -> 8 MB; with C_in kw small (the 1-channel first layer)
# the GEMM's inner size is too short and im2col wins, hence ROWS_MIN_INNER.
ROWS_MIN_INNER = 24


def _rows_fit(x, kw, g):
    if g.strategy not in ("auto", "rows") or not isinstance(x, np.ndarray):
        return False
    return (g.sh, g.sw, g.dh, g.dw) == (1, 1, 1, 1) and (
        g.strategy == "rows" or x.shape[1] * kw >= ROWS_MIN_INNER)


def _channels_last(x, channels, threshold, g):
    """Whether to lay out a convolution channels-last (see NHWC_MIN_CHANNELS)."""
    if g.strategy not in ("auto", "channels_last") or not isinstance(x, np.ndarray):
        return False
    return g.strategy == "channels_last" or channels >= threshold


def _rows(x, kw, ph, pw, ow):
    n, c, h, wd = x.shape
    xp = np.zeros((c, n, h + 2 * ph, wd + 2 * pw), dtype=x.dtype)
    xp[:, :, ph:ph + h, pw:pw + wd] = x.transpose(1, 0, 2, 3)
    r = np.empty((c, kw) + xp.shape[1:3] + (ow,), dtype=x.dtype)
    for j in range(kw):
        r[:, j] = xp[:, :, :, j:j + ow]
    return r.reshape(c * kw, -1)


def _rows_conv(r, w, n, hp, oh, ow):
    co, _, kh, _ = w.shape
    z = (w.transpose(2, 0, 1, 3).reshape(kh * co, -1) @ r).reshape(kh, co, n, hp, ow)
    yt = z[0, :, :, :oh].copy()            # sum in z's (C_out, N, ...) order, contiguous,
    for i in range(1, kh):                 # then one transpose (0.43 -> 0.26 ms on CNN-2)
        yt += z[i, :, :, i:i + oh]
    return yt.reshape(co, n, -1)


def _rows_weight_grad(r, gy, wshape, hp):
    """dW[o, c, i, j] = sum over (n, oy, ox) of gy[n, o, oy, ox] R[(c, j), (n, oy + i, ox)]:
    gy placed at row offset i for each kernel row i, then one GEMM against R."""
    n, co, oh, ow = gy.shape
    _, c, kh, kw = wshape
    g, gt = np.zeros((kh, co, n, hp, ow), dtype=gy.dtype), gy.transpose(1, 0, 2, 3)
    for i in range(kh):
        g[i, :, :, i:i + oh] = gt
    d = g.reshape(kh * co, -1) @ r.T
    return np.ascontiguousarray(d.reshape(kh, co, c, kw).transpose(1, 2, 0, 3))


def _input_grad(gy, w, g):
    """Conv2d's input gradient on arrays. With stride 1 it is the 'full' correlation of gy
    with the flipped, channel-swapped kernel: one im2col of gy (C_out * kh * kw rows) and a
    GEMM, instead of the transposed convolution's GEMM into C_in * kh * kw rows and a col2im.
    The smaller buffer wins: on the thesis's 16 -> 16 5x5 layer at batch 100 the full
    correlation saved ~5 ms; with C_in = 1 it would cost 16 times the buffer. Same numbers
    either way."""
    fh, fw = g.dh * (g.kh - 1) - g.ph, g.dw * (g.kw - 1) - g.pw
    if (g.sh, g.sw) == (1, 1) and fh >= 0 and fw >= 0 and w.shape[0] <= w.shape[1]:
        full = _Geometry(g.kh, g.kw, (1, 1), (fh, fw), (g.dh, g.dw), g.oh, g.ow)
        full.strategy = g.strategy
        if (full.oh, full.ow) == (g.h, g.w):
            flipped = get_array_module(w).ascontiguousarray(
                w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
            return _conv_forward(gy, flipped, full)[0]
    return _conv_transpose_forward(gy, w, g)


# A weight gradient with few entries and a long inner size (the thesis CNN's first layer:
# (16, 78,400) @ (78,400, 25)) ran at ~30 GFLOP/s in one GEMM; one GEMM per sample, summed,
# took 0.7 against 2.3 ms and needs no transposed copy of the output gradient.
PER_SAMPLE_WEIGHT_GRAD_MAX = 4096      # entries of the weight (C_out C_in kh kw)


def _weight_grad(cols, grad, wshape):
    n, co = grad.shape[:2]
    if co * cols.shape[0] <= PER_SAMPLE_WEIGHT_GRAD_MAX:
        per_sample = grad.reshape(n, co, -1) @ cols.reshape(-1, n, grad[0, 0].size).transpose(
            1, 2, 0)
        return per_sample.sum(0).reshape(wshape)
    gm = grad.transpose(1, 0, 2, 3).reshape(co, -1)
    return (gm @ cols.T).reshape(wshape)


# The transposed convolution's scatter-add is fastest channels-last when C_out is large
# enough to fill vector registers: (N*OH*OW, C_in) @ (C_in, kh*kw*C_out), then each tap adds
# C_out contiguous values (DCGAN 7 -> 14, 128 -> 64 channels: 6.0 -> 4.1 ms; D's input
# gradients 2.1 -> 1.1 and 1.5 -> 0.7 ms). With C_out = 1 the NCHW kernel wins (0.2 vs 0.5).
NHWC_MIN_CHANNELS = 16
NHWC_MIN_IN_CHANNELS = 16      # the same for a convolution's im2col (see _conv_forward)


def _tap_row_spans(g):
    """The rows oy of the plane (oh, ow) (the convolution's output, the transposed
    convolution's input) in runs [y0, y1) that share the kernel rows [k0, k1) landing inside
    the plane (h, w) (0 <= oy sh - ph + i dh < h): [(y0, y1, k0, k1)], every row in one
    (k0 = k1 where none lands: an empty product). Only those taps are multiplied; on the
    DCGAN's 7 -> 14 layer the first and last input rows lose one of the 4 kernel rows each,
    7% of the GEMM (forward 4.5 -> 4.0 ms a half of the batch, with OpenBLAS's SkylakeX
    kernels; taps are columns (i, j, c), so the rows i in [k0, k1) are one block of them)."""
    def taps(oy):
        start = oy * g.sh - g.ph
        k0 = min(max(0, -(start // g.dh)), g.kh)                 # start + k0 dh >= 0
        k1 = min(max(0, (g.h - 1 - start) // g.dh + 1), g.kh)    # start + (k1 - 1) dh < h
        return k0, max(k0, k1)
    spans = []
    for oy in range(g.oh):
        k = taps(oy)
        if spans and spans[-1][2:] == k:
            spans[-1] = (spans[-1][0], oy + 1) + k
        else:
            spans.append((oy, oy + 1) + k)
    return spans


def _conv_transpose_forward(x, w, g, b=None):
    """x: (N, C_in, oh, ow) -> (N, C_out, h, w) [+ b]; w: (C_in, C_out, kh, kw)."""
    n, cin = x.shape[:2]
    cout = w.shape[1]
    if _subpixel_fit(x, g):
        sp = subpixel.SubPixel(x.shape[2], x.shape[3], g.kh, g.kw, g.ph, g.pw, g.h, g.w)
        if sp.symmetric():
            inner = _inner(g, sp.pad[0][0], sp.pad[1][0], x.shape)
            return sp.interleave(_conv_forward(x, sp.weight(w), inner)[0], b)
    if _channels_last(x, cout, NHWC_MIN_CHANNELS, g):
        wm = w.transpose(0, 2, 3, 1).reshape(cin, -1)
        spans = _tap_row_spans(g)
        taps = g.kw * cout                  # columns per kernel row

        def half(lo, hi):                   # (see _nhwc_forward)
            a = x[lo:hi].transpose(2, 0, 3, 1).reshape(-1, cin)     # rows (oy, n, ox)
            per = (hi - lo) * g.ow
            blocks = [a[y0 * per:y1 * per] @ wm[:, k0 * taps:k1 * taps]
                      for y0, y1, k0, k1 in spans]
            y = col2im_nhwc_spans(blocks, spans, hi - lo, cout, g.h, g.w, *g.args(), x.dtype)
            return to_nchw(y.reshape(hi - lo, -1, cout), True, b)
        y = threads.joined(threads.each_half(half, threads.halves(n)))
        return y.reshape(n, cout, g.h, g.w)
    xm = x.transpose(1, 0, 2, 3).reshape(cin, -1)
    cols = w.reshape(cin, -1).T @ xm
    y = col2im(cols, n, cout, g.h, g.w, *g.args())
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


class _Biased(Function):
    """A convolution's optional bias, added by the forward as it lays out its result (one
    node, no temporary); its gradient is the output gradient summed per channel."""

    def _bias_grad(self, gy):
        if len(self.inputs) < 3 or not self.needs[2]:
            return ()
        return (sum(gy, (0, 2, 3)),)

    def _bias_grad_arrays(self, gy):
        if len(self.inputs) < 3 or not self.needs[2]:
            return ()
        return (channel_sum(gy),)


class Conv2d(_Biased):
    def __init__(self, g):
        self.g = g

    def forward(self, x, w, b=None):
        y, self.weight_grad = _conv_forward(x, w, self.g, b)
        return y

    def backward(self, gy):
        x, w = self.inputs[:2]
        gx = ConvTranspose2d(self.g)(gy, w) if self.needs[0] else None
        gw = ConvWeightGrad(self.g, w.shape)(x, gy) if self.needs[1] else None
        return (gx, gw) + self._bias_grad(gy)

    def backward_arrays(self, gy):   # reuses the forward's im2col instead of recomputing it
        grads = getattr(self.weight_grad, "grads", None)
        if grads is not None:            # Winograd's: both from one transform of gy
            gx, gw = grads(gy, *self.needs[:2])
        else:
            gx = _input_grad(gy, self.inputs[1].data, self.g) if self.needs[0] else None
            gw = self.weight_grad(gy) if self.needs[1] else None
        return (gx, gw) + self._bias_grad_arrays(gy)


class ConvTranspose2d(_Biased):
    """The adjoint of Conv2d(g): maps (N, C_in, oh, ow) to (N, C_out, h, w)."""

    def __init__(self, g):
        self.g = g

    def forward(self, x, w, b=None):
        return _conv_transpose_forward(x, w, self.g, b)

    def backward(self, gy):
        x, w = self.inputs[:2]
        gx = Conv2d(self.g)(gy, w) if self.needs[0] else None
        gw = ConvWeightGrad(self.g, w.shape)(gy, x) if self.needs[1] else None
        return (gx, gw) + self._bias_grad(gy)

    def backward_arrays(self, gy):   # one im2col of gy serves both gradients
        x, w = self.inputs[:2]
        y, weight_grad = _conv_forward(gy, w.data, self.g)
        gx, gw = (y if self.needs[0] else None), (weight_grad(x.data) if self.needs[1] else None)
        return (gx, gw) + self._bias_grad_arrays(gy)


class ConvWeightGrad(Function):
    """dW[o, i, a, b] = sum over n, y, x of g[n, o, y, x] * inp[n, i, y s + a d - p, ...]:
    the weight gradient of Conv2d(g) (inp = x, g = gy) and of ConvTranspose2d(g) (inp = gy,
    g = x). Bilinear, so its own gradients are a convolution and a transposed convolution."""

    def __init__(self, g, wshape):
        self.g, self.wshape = g, wshape

    def forward(self, inp, grad):
        g = self.g
        if _direct_fit(inp, self.wshape, g):
            return _direct_weight_grad(inp, grad, self.wshape, g)
        plan = _winograd_plan(inp, self.wshape, g)
        if plan is not None:
            fast = not reference.on
            return winograd.weight_grad(winograd.transform_input(inp, plan, fast), grad,
                                        self.wshape, plan, fast)
        if _rows_fit(inp, self.wshape[3], g):
            return _rows_weight_grad(_rows(inp, self.wshape[3], g.ph, g.pw, g.ow), grad,
                                     self.wshape, inp.shape[2] + 2 * g.ph)
        if _channels_last(inp, inp.shape[1], NHWC_MIN_IN_CHANNELS, g):
            cols_t = im2col_nhwc(inp.transpose(0, 2, 3, 1), *g.args())
            return _weight_grad_nhwc(cols_t, grad, self.wshape)
        return _weight_grad(im2col(inp, *g.args()), grad, self.wshape)

    def backward(self, gw):
        inp, grad = self.inputs
        ginp = ConvTranspose2d(self.g)(grad, gw) if self.needs[0] else None
        ggrad = Conv2d(self.g)(inp, gw) if self.needs[1] else None
        return ginp, ggrad


def _check_input(x, name):
    if x.ndim != 4:
        raise ValueError(f"{name} expects input (N, C, H, W), got shape {x.shape}")


def _bias(bias, c, name):
    """() or (bias as a Tensor,), checked to be (c,)."""
    if bias is None:
        return ()
    bias = as_tensor(bias)
    if bias.shape != (c,):
        raise ValueError(f"{name}: bias of shape {bias.shape}, expected ({c},)")
    return (bias,)


def _parse(name, x, weight, in_axis, stride, padding, dilation):
    """Tensors and (stride, padding, dilation) pairs, checked: x (N, C, H, W) whose C matches
    weight's axis ``in_axis``."""
    x, weight = as_tensor(x), as_tensor(weight)
    _check_input(x, name)
    stride, padding, dilation = (_pair(stride, "stride"), _pair(padding, "padding"),
                                 _pair(dilation, "dilation"))
    if weight.ndim != 4 or weight.shape[in_axis] != x.shape[1]:
        layout = ["C_out", "kh", "kw"]
        layout.insert(in_axis, str(x.shape[1]))
        raise ValueError(f"{name}: weight of shape {weight.shape} does not fit input of shape "
                         f"{x.shape} (expected ({', '.join(layout)}))")
    if min(stride) < 1 or min(padding) < 0 or min(dilation) < 1:
        raise ValueError(f"{name}: stride {stride} and dilation {dilation} must be >= 1, "
                         f"padding {padding} >= 0")
    return x, weight, stride, padding, dilation


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D cross-correlation, as torch.nn.functional.conv2d (groups=1)."""
    x, weight, stride, padding, dilation = _parse("conv2d", x, weight, 1, stride, padding,
                                                  dilation)
    kh, kw = weight.shape[2:]
    g = _Geometry(kh, kw, stride, padding, dilation, *x.shape[2:])
    if g.oh < 1 or g.ow < 1:
        padded = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
        raise ValueError(f"conv2d: kernel {(kh, kw)} with dilation {dilation} is larger than "
                         f"the padded input {padded} of input shape {x.shape}")
    return Conv2d(g)(x, weight, *_bias(bias, weight.shape[0], "conv2d"))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Transposed convolution, as torch.nn.functional.conv_transpose2d (groups=1):
    output H = (H_in - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1."""
    x, weight, stride, padding, dilation = _parse("conv_transpose2d", x, weight, 0, stride,
                                                  padding, dilation)
    output_padding = _pair(output_padding, "output_padding")
    if any(op < 0 or op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller "
                         f"than stride {stride} or dilation {dilation}")
    kh, kw = weight.shape[2:]
    h, w = ((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in zip(
        x.shape[2:], stride, padding, dilation, (kh, kw), output_padding))
    if h < 1 or w < 1:
        raise ValueError(f"conv_transpose2d: input of shape {x.shape} gives an empty output "
                         f"{(h, w)}")
    g = _Geometry(kh, kw, stride, padding, dilation, h, w, out=x.shape[2:])
    return ConvTranspose2d(g)(x, weight, *_bias(bias, weight.shape[1], "conv_transpose2d"))

