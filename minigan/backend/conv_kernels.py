"""Loops that NumPy does badly, for convolution and pooling: im2col / col2im and max pooling
(average pooling is built on im2col / col2im). Each exists three times: a plain-NumPy
reference, a serial Numba kernel and a parallel one (separate functions: a serial and a
parallel jit of one function contaminate each other in Numba's cache). Parallel loops run over
(sample, channel) planes, and every iteration writes only its own plane or its own block of
columns — never an indexed += shared across iterations.

Geometry, for an input plane H x W and kernel kh x kw with stride s, padding p, dilation d:
output OH = (H + 2 p - d (kh - 1) - 1) // s + 1 (likewise OW). ``cols`` has shape
(C * kh * kw, N * OH * OW): row (c, i, j), column (n, oy, ox) holds x[n, c, oy s - p + i d,
ox s - p + j d] (0 outside the input).
"""
import numba
import numpy as np
from numba import prange

from minigan.backend import cuda_kernels as cuda
from minigan.backend.devices import get_array_module
from minigan.backend.mode import reference

# --- references ----------------------------------------------------------------------------


def im2col_numpy(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    xp = get_array_module(x)
    n, c, h, w = x.shape
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = xp.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            patch = padded[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                           j * dw:j * dw + sw * (ow - 1) + 1:sw]
            cols[:, i, j] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(c * kh * kw, n * oh * ow)


def col2im_numpy(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    xp = get_array_module(cols)
    padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    cols = cols.reshape(c, kh, kw, n, oh, ow)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                   j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[:, i, j].transpose(1, 0, 2, 3)
    return xp.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + w])


def im2col_nhwc_numpy(x_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """im2col of a channels-last x_t (N, H, W, C): (N * OH * OW, kh * kw * C), row (n, oy,
    ox), column (i, j, c)."""
    n, h, w, c = x_t.shape
    cols = im2col_numpy(x_t.transpose(0, 3, 1, 2), kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return get_array_module(x_t).ascontiguousarray(
        cols.reshape(c, kh, kw, n * oh * ow).transpose(3, 1, 2, 0)
        .reshape(n * oh * ow, kh * kw * c))


def col2im_nhwc_numpy(cols_t, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """col2im for the transposed layout: cols_t (N * OH * OW, kh * kw * C), row (n, oy, ox),
    column (i, j, c); returns (N, H, W, C)."""
    cols = cols_t.reshape(n, oh, ow, kh, kw, c).transpose(5, 3, 4, 0, 1, 2)
    x = col2im_numpy(cols.reshape(c * kh * kw, -1), n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                     oh, ow)
    return get_array_module(x).ascontiguousarray(x.transpose(0, 2, 3, 1))


def max_pool_numpy(x, kh, kw, sh, sw, ph, pw, oh, ow):
    """(values, flat argmax index into each H*W plane); ties go to the first in scan order."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    best = xp.full((n, c, oh, ow), -np.inf, dtype=x.dtype)
    idx = xp.zeros((n, c, oh, ow), dtype=np.int32)
    oy = xp.arange(oh)[:, None] * sh
    ox = xp.arange(ow)[None, :] * sw
    for i in range(kh):
        for j in range(kw):
            v = padded[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            better = v > best
            best = xp.where(better, v, best)
            flat = (oy + i - ph) * w + (ox + j - pw)
            idx = xp.where(better, flat[None, None], idx).astype(np.int32)
    return best, idx


def pool_scatter_numpy(gy, idx, h, w):
    xp = get_array_module(gy)
    n, c = gy.shape[:2]
    gx = xp.zeros((n * c, h * w), dtype=gy.dtype)
    rows = xp.repeat(xp.arange(n * c), gy[0, 0].size)
    xp.add.at(gx, (rows, idx.reshape(-1)), gy.reshape(-1))
    return gx.reshape(n, c, h, w)


def _pool_divisor(h, w, kh, kw, sh, sw, ph, pw, oh, ow, include_pad):
    """Window sizes: kh*kw, or only the cells inside the unpadded input. (oh, ow), a host
    array (the caller moves it to its data's device)."""
    if include_pad:
        return np.full((oh, ow), kh * kw, dtype=np.float64)
    ys = np.arange(oh) * sh - ph
    xs = np.arange(ow) * sw - pw
    cy = np.minimum(ys + kh, h) - np.maximum(ys, 0)
    cx = np.minimum(xs + kw, w) - np.maximum(xs, 0)
    return (cy[:, None] * cx[None, :]).astype(np.float64)


# --- Numba: one plane at a time, shared by the serial and the parallel drivers -------------

@numba.njit(cache=True, inline="always")
def _valid_range(o, s, off, size):
    """The outputs o in [0, o) whose input o * s + off lies in [0, size): [lo, hi)."""
    lo = 0 if off >= 0 else min(o, (-off + s - 1) // s)
    hi = (size - 1 - off) // s + 1 if size - 1 - off >= 0 else 0
    return lo, max(lo, min(o, hi))


@numba.njit(cache=True, inline="always")
def _im2col_plane(x, cols, b, ci, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    h, w = x.shape[2], x.shape[3]
    base = b * oh * ow
    for i in range(kh):
        y0 = i * dh - ph
        ylo, yhi = _valid_range(oh, sh, y0, h)
        for j in range(kw):
            row = (ci * kh + i) * kw + j
            x0 = j * dw - pw
            xlo, xhi = _valid_range(ow, sw, x0, w)
            for oy in range(oh):
                start = base + oy * ow
                if oy < ylo or oy >= yhi:
                    for ox in range(ow):
                        cols[row, start + ox] = 0.0
                    continue
                y = oy * sh + y0
                for ox in range(xlo):
                    cols[row, start + ox] = 0.0
                for ox in range(xlo, xhi):
                    cols[row, start + ox] = x[b, ci, y, ox * sw + x0]
                for ox in range(xhi, ow):
                    cols[row, start + ox] = 0.0


@numba.njit(cache=True, inline="always", boundscheck=False, error_model="numpy")
def _col2im_plane(cf, x, acc, b, ci, L, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Sum the columns of plane (b, ci) into x, one output phase at a time: the outputs
    (y, x) = (r + m sh, t + q sw) of phase (r, t) gather from taps (i, j) at input (m + dm,
    q + dq), so each tap adds a contiguous run of ``cf`` into a contiguous run of the
    phase's accumulator — loops LLVM vectorizes (a strided scatter-add ran 2-5x slower).
    Every output is written once, so x needs no zeroing."""
    h, w = x.shape[2], x.shape[3]
    base = b * oh * ow
    for r in range(sh):
        mr = (h - r + sh - 1) // sh
        for t in range(sw):
            qt = (w - t + sw - 1) // sw
            acc[:mr, :qt] = 0
            for i in range(kh):
                if (r + ph - i * dh) % sh != 0:
                    continue
                dm = (r + ph - i * dh) // sh
                for j in range(kw):
                    if (t + pw - j * dw) % sw != 0:
                        continue
                    dq = (t + pw - j * dw) // sw
                    q0, q1 = max(0, -dq), min(qt, ow - dq)
                    row = ((ci * kh + i) * kw + j) * L + base + dq
                    for m in range(max(0, -dm), min(mr, oh - dm)):
                        src = cf[row + (m + dm) * ow + q0:row + (m + dm) * ow + q1]
                        dst = acc[m, q0:q1]
                        for q in range(q1 - q0):
                            dst[q] += src[q]
            for m in range(mr):
                for q in range(qt):
                    x[b, ci, r + m * sh, t + q * sw] = acc[m, q]


@numba.njit(cache=True, inline="always", boundscheck=False, error_model="numpy")
def _im2col_nhwc_sample(x_t, cols_t, b, row_b, row_y, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Sample b's rows of cols_t (the row of (b, oy, ox) is b row_b + oy row_y + ox): each tap
    copies a run of C contiguous values."""
    h, w, c = x_t.shape[1], x_t.shape[2], x_t.shape[3]
    for oy in range(oh):
        for ox in range(ow):
            row = cols_t[b * row_b + oy * row_y + ox]
            for i in range(kh):
                y = oy * sh - ph + i * dh
                for j in range(kw):
                    xx = ox * sw - pw + j * dw
                    dst = row[(i * kw + j) * c:(i * kw + j + 1) * c]
                    if y < 0 or y >= h or xx < 0 or xx >= w:
                        dst[:] = 0
                    else:
                        src = x_t[b, y, xx]
                        for k in range(c):
                            dst[k] = src[k]


@numba.njit(cache=True, inline="always", boundscheck=False, error_model="numpy")
def _col2im_nhwc_sample(cols_t, x, b, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Add sample b's rows of cols_t into x[b] (H, W, C): each tap adds a run of C contiguous
    values into a run of C contiguous values, which vectorizes when C is large."""
    _col2im_nhwc_block(cols_t, x, b, b * oh * ow, ow, 0, oh, 0, kh, kw, sh, sw, ph, pw, dh, dw,
                       ow)


@numba.njit(cache=True, inline="always", boundscheck=False, error_model="numpy")
def _col2im_nhwc_block(cols_t, x, b, first, row_y, y0, y1, k0, k1, kw, sh, sw, ph, pw, dh, dw,
                       ow):
    """Add into x[b] the taps i in [k0, k1) of the rows oy in [y0, y1): sample b's row for
    (oy, ox) is first + (oy - y0) row_y + ox, its columns (i - k0, j, c). Taps landing
    outside x are skipped; each output adds its inputs in the order of (oy, ox)."""
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    for oy in range(y0, y1):
        for ox in range(ow):
            row = cols_t[first + (oy - y0) * row_y + ox]
            for i in range(k0, k1):
                y = oy * sh - ph + i * dh
                if y < 0 or y >= h:
                    continue
                for j in range(kw):
                    xx = ox * sw - pw + j * dw
                    if xx < 0 or xx >= w:
                        continue
                    dst = x[b, y, xx]
                    src = row[((i - k0) * kw + j) * c:((i - k0) * kw + j + 1) * c]
                    for k in range(c):
                        dst[k] += src[k]


@numba.njit(cache=True, inline="always")
def _max_pool_plane(x, out, idx, b, ci, kh, kw, sh, sw, ph, pw, oh, ow):
    h, w = x.shape[2], x.shape[3]
    for oy in range(oh):
        y0 = oy * sh - ph                      # the window's rows clipped to the input:
        ya, yb = max(y0, 0), min(y0 + kh, h)   # padding is -inf, so it never wins
        for ox in range(ow):
            x0 = ox * sw - pw
            xa, xb = max(x0, 0), min(x0 + kw, w)
            best = x[b, ci, ya, xa]
            arg = ya * w + xa
            for y in range(ya, yb):
                for xx in range(xa, xb):
                    v = x[b, ci, y, xx]
                    if v > best:
                        best = v
                        arg = y * w + xx
            out[b, ci, oy, ox] = best
            idx[b, ci, oy, ox] = arg


@numba.njit(cache=True, inline="always")
def _scatter_plane(gy, idx, gx, b, ci):
    """Zero the plane, then add each gradient at its window's winner (zeroing here rather
    than by np.zeros lets the parallel kernel touch each plane's memory once, in its thread)."""
    oh, ow = gy.shape[2], gy.shape[3]
    h, w = gx.shape[2], gx.shape[3]
    for y in range(h):
        for x in range(w):
            gx[b, ci, y, x] = 0
    for oy in range(oh):
        for ox in range(ow):
            k = idx[b, ci, oy, ox]
            gx[b, ci, k // w, k % w] += gy[b, ci, oy, ox]


@numba.njit(cache=True)
def im2col_serial(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n, c = x.shape[0], x.shape[1]
    cols = np.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    for p in range(n * c):
        _im2col_plane(x, cols, p // c, p % c, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return cols


@numba.njit(cache=True, parallel=True)
def im2col_parallel(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n, c = x.shape[0], x.shape[1]
    cols = np.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    for p in prange(n * c):
        _im2col_plane(x, cols, p // c, p % c, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return cols


@numba.njit(cache=True)
def col2im_serial(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    x = np.empty((n, c, h, w), dtype=cols.dtype)
    acc = np.empty(((h + sh - 1) // sh, (w + sw - 1) // sw), dtype=cols.dtype)
    cf = cols.reshape(-1)
    for p in range(n * c):
        _col2im_plane(cf, x, acc, p // c, p % c, cols.shape[1], kh, kw, sh, sw, ph, pw, dh,
                      dw, oh, ow)
    return x


@numba.njit(cache=True, parallel=True)
def col2im_parallel(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    x = np.empty((n, c, h, w), dtype=cols.dtype)
    cf = cols.reshape(-1)
    for p in prange(n * c):                # each iteration owns its plane and accumulator
        acc = np.empty(((h + sh - 1) // sh, (w + sw - 1) // sw), dtype=cols.dtype)
        _col2im_plane(cf, x, acc, p // c, p % c, cols.shape[1], kh, kw, sh, sw, ph, pw, dh,
                      dw, oh, ow)
    return x


@numba.njit(cache=True, nogil=True)
def im2col_nhwc_into(x_t, cols_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, row_b, row_y):
    for b in range(x_t.shape[0]):
        _im2col_nhwc_sample(x_t, cols_t, b, row_b, row_y, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@numba.njit(cache=True, nogil=True)
def im2col_nhwc_serial(x_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n, c = x_t.shape[0], x_t.shape[3]
    cols_t = np.empty((n * oh * ow, kh * kw * c), dtype=x_t.dtype)
    im2col_nhwc_into(x_t, cols_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, oh * ow, ow)
    return cols_t


@numba.njit(cache=True, parallel=True)
def im2col_nhwc_parallel(x_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n, c = x_t.shape[0], x_t.shape[3]
    cols_t = np.empty((n * oh * ow, kh * kw * c), dtype=x_t.dtype)
    for b in prange(n):                    # each iteration owns sample b's rows
        _im2col_nhwc_sample(x_t, cols_t, b, oh * ow, ow, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return cols_t


@numba.njit(cache=True, nogil=True)
def col2im_nhwc_serial(cols_t, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    x = np.zeros((n, h, w, c), dtype=cols_t.dtype)
    for b in range(n):
        _col2im_nhwc_sample(cols_t, x, b, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return x


@numba.njit(cache=True, nogil=True)
def col2im_nhwc_span(block, x, y0, y1, k0, k1, kw, sh, sw, ph, pw, dh, dw, ow):
    """Add into x (N, H, W, C) one span's block: rows (oy, n, ox) for oy in [y0, y1), columns
    (i - k0, j, c) for the kernel rows i in [k0, k1)."""
    n = x.shape[0]
    for b in range(n):
        _col2im_nhwc_block(block, x, b, b * ow, n * ow, y0, y1, k0, k1, kw, sh, sw, ph, pw, dh,
                           dw, ow)


@numba.njit(cache=True, parallel=True)
def col2im_nhwc_parallel(cols_t, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    x = np.zeros((n, h, w, c), dtype=cols_t.dtype)
    for b in prange(n):                    # each iteration owns sample b
        _col2im_nhwc_sample(cols_t, x, b, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return x


@numba.njit(cache=True)
def max_pool_serial(x, kh, kw, sh, sw, ph, pw, oh, ow):
    n, c = x.shape[0], x.shape[1]
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    idx = np.empty((n, c, oh, ow), dtype=np.int32)
    for p in range(n * c):
        _max_pool_plane(x, out, idx, p // c, p % c, kh, kw, sh, sw, ph, pw, oh, ow)
    return out, idx


@numba.njit(cache=True, parallel=True)
def max_pool_parallel(x, kh, kw, sh, sw, ph, pw, oh, ow):
    n, c = x.shape[0], x.shape[1]
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    idx = np.empty((n, c, oh, ow), dtype=np.int32)
    for p in prange(n * c):
        _max_pool_plane(x, out, idx, p // c, p % c, kh, kw, sh, sw, ph, pw, oh, ow)
    return out, idx


@numba.njit(cache=True, inline="always")
def _tiled_plane(x, out, idx, b, ci, kh, kw, oh, ow):
    w = x.shape[3]
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * kh, ox * kw
            best = x[b, ci, y0, x0]
            arg = y0 * w + x0
            for i in range(kh):
                for j in range(kw):
                    v = x[b, ci, y0 + i, x0 + j]
                    if v > best:
                        best = v
                        arg = (y0 + i) * w + x0 + j
            out[b, ci, oy, ox] = best
            idx[b, ci, oy, ox] = arg


@numba.njit(cache=True)
def max_pool_tiled_serial(x, kh, kw, oh, ow):
    """Max pooling over non-overlapping windows without padding (stride = kernel, the
    thesis's 2x2 case): no clipping, so about twice as fast as the general kernel."""
    n, c = x.shape[0], x.shape[1]
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    idx = np.empty((n, c, oh, ow), dtype=np.int32)
    for p in range(n * c):
        _tiled_plane(x, out, idx, p // c, p % c, kh, kw, oh, ow)
    return out, idx


@numba.njit(cache=True, parallel=True)
def max_pool_tiled_parallel(x, kh, kw, oh, ow):
    n, c = x.shape[0], x.shape[1]
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    idx = np.empty((n, c, oh, ow), dtype=np.int32)
    for p in prange(n * c):
        _tiled_plane(x, out, idx, p // c, p % c, kh, kw, oh, ow)
    return out, idx


@numba.njit(cache=True)
def max_pool_2x2_serial(x, oh, ow):
    """The thesis's pooling (2x2, stride 2, no padding), unrolled: with the window's size
    known to the compiler it runs ~5x faster than the tiled kernel ((100, 16, 28, 28): 0.19
    against 0.92 ms), faster than that kernel in parallel. Same scan order, same winners."""
    n, c, w = x.shape[0], x.shape[1], x.shape[3]
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    idx = np.empty((n, c, oh, ow), dtype=np.int32)
    for b in range(n):
        for ci in range(c):
            for oy in range(oh):
                y0 = 2 * oy
                for ox in range(ow):
                    x0 = 2 * ox
                    best, arg = x[b, ci, y0, x0], y0 * w + x0
                    v = x[b, ci, y0, x0 + 1]
                    if v > best:
                        best, arg = v, y0 * w + x0 + 1
                    v = x[b, ci, y0 + 1, x0]
                    if v > best:
                        best, arg = v, (y0 + 1) * w + x0
                    v = x[b, ci, y0 + 1, x0 + 1]
                    if v > best:
                        best, arg = v, (y0 + 1) * w + x0 + 1
                    out[b, ci, oy, ox] = best
                    idx[b, ci, oy, ox] = arg
    return out, idx


@numba.njit(cache=True)
def pool_scatter_serial(gy, idx, h, w):
    n, c = gy.shape[0], gy.shape[1]
    gx = np.empty((n, c, h, w), dtype=gy.dtype)
    for p in range(n * c):
        _scatter_plane(gy, idx, gx, p // c, p % c)
    return gx


@numba.njit(cache=True)
def pool_scatter_2x2_serial(gy, idx, h, w):
    """The scatter of the 2x2, stride-2 pooling: the four cells of each window written once
    (0 + its gradient at the winner, as the scatter-add makes it, 0 elsewhere) instead of a
    zeroed plane and a scattered add ((100, 16, 14, 14) into 28 x 28: 0.75-1.27 -> 0.66 ms)."""
    n, c, oh, ow = gy.shape
    covered = h == 2 * oh and w == 2 * ow
    gx = np.empty((n, c, h, w), dtype=gy.dtype) if covered else \
        np.zeros((n, c, h, w), dtype=gy.dtype)
    zero = gy.dtype.type(0)
    for b in range(n):
        for ci in range(c):
            for oy in range(oh):
                y0 = 2 * oy
                for ox in range(ow):
                    x0 = 2 * ox
                    g, k = zero + gy[b, ci, oy, ox], idx[b, ci, oy, ox] - (y0 * w + x0)
                    gx[b, ci, y0, x0] = g if k == 0 else zero
                    gx[b, ci, y0, x0 + 1] = g if k == 1 else zero
                    gx[b, ci, y0 + 1, x0] = g if k == w else zero
                    gx[b, ci, y0 + 1, x0 + 1] = g if k == w + 1 else zero
    return gx


@numba.njit(cache=True, parallel=True)
def pool_scatter_parallel(gy, idx, h, w):
    n, c = gy.shape[0], gy.shape[1]
    gx = np.empty((n, c, h, w), dtype=gy.dtype)
    for p in prange(n * c):
        _scatter_plane(gy, idx, gx, p // c, p % c)
    return gx


# --- Winograd's output, from its phase-split tiles to NCHW (backend/winograd.py) ----------
# One sample's output row at a time: C contiguous values read, C strided values written (the
# row's block stays in L1). On the thesis CNN's second layer 0.18 ms against NumPy's
# transposing copy's 0.53 (and 0.46 with the loops the other way round). Numba lost to NumPy
# on the phase split of the input (0.23-0.27 against 0.19 ms) and on the crop of the input
# gradient (0.19-0.25 against 0.15), so those stay NumPy's.


@numba.njit(cache=True, nogil=True, boundscheck=False)
def from_phases_numba(yd, y):
    """Fills y (N, C, oh, ow): y[n, k, i, q m + p] = yd[n, i, p, q, k], from the column-phase
    split yd (N, rows, m, tw, C) (winograd.from_phases's numbers); returns y."""
    nb, _, m, tw, c = yd.shape
    oh, ow = y.shape[2], y.shape[3]
    for n in range(nb):
        for i in range(oh):
            for p in range(m):
                for q in range(tw):
                    if q * m + p < ow:
                        for k in range(c):
                            y[n, k, i, q * m + p] = yd[n, i, p, q, k]
    return y


# --- a GEMM's result to (N, C, S), with the bias -----------------------------------------
# The transposing copy from (C, N, S), which the NCHW convolutions end with, costs as much
# with the per-channel bias added on the way as without it, so the bias's own pass goes:
# (16, 100, 784) to (100, 16, 784) with the bias 0.29 -> 0.09 ms (CNN step -0.34 ms, A/B).
# From channels-last (N, S, C) the same fusion measured faster alone ((64, 196, 64): 0.32 ->
# 0.21 ms) but not inside a DCGAN turn (+0.2-0.6 ms, its strided writes against a cold
# cache), so that layout keeps NumPy's copy and add.


@numba.njit(cache=True)
def channels_first_bias_numba(z, b, out):
    """out[i, k, j] = z[k, i, j] + b[k]: (C, N, S) -> (N, C, S)."""
    c, n, s = z.shape
    for i in range(n):
        for k in range(c):
            bk = b[k]
            for j in range(s):
                out[i, k, j] = z[k, i, j] + bk


def to_nchw(y, channels_last, b=None):
    """y, (N, S, C) if channels_last else (C, N, S), as a fresh contiguous (N, C, S) array,
    plus the per-channel bias b when given. NumPy or CuPy."""
    if (b is not None and not channels_last and _numba_ok(y, b) and y.flags.c_contiguous
            and b.dtype == y.dtype):
        out = np.empty((y.shape[1], y.shape[0], y.shape[2]), dtype=y.dtype)
        channels_first_bias_numba(y, b, out)
        return out
    out = y.transpose((0, 2, 1) if channels_last else (1, 0, 2)).copy()
    if b is not None:
        out += b.reshape(1, -1, 1)
    return out


# --- dispatch: each choice below was measured on the 2-core machines (python -m
# benchmarks.spatial, and timing each kernel on the thesis's shapes) ----------------------
COL2IM_PARALLEL_MIN = 1 << 23
IM2COL_NHWC_PARALLEL_MIN = 1 << 27
# Pooling: with the workqueue threading layer (see minigan/_runtime.py) a parallel launch
# costs ~0.1-0.2 ms, so the parallel kernels only pay from ~0.5M elements on (scatter on
# (100, 16, 28, 28): 0.59 -> 0.44 ms; on (64, 32, 14, 14): 0.19 -> 0.33 ms).
POOL_PARALLEL_MIN_WORK = 1 << 19


def _numba_ok(*arrays):
    return not reference.on and all(type(a) is np.ndarray for a in arrays)


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    # NumPy's kh * kw strided slice copies beat both Numba kernels on every thesis shape
    # (e.g. (100, 16, 14, 14), 5x5: NumPy 2.4 ms, Numba parallel 3.7, serial 7.7)
    if cuda.fits(x):
        return cuda.im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return im2col_numpy(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def col2im(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    # Measured (ms; NumPy's kh * kw strided += / Numba serial / parallel), each kernel alone:
    # DCGAN 7 -> 14, 3.2M entries: 5.43 / 2.37 / 1.32; CNN layer 1, 2.0M: 0.76 / 0.30 / 0.16.
    # But inside a DCGAN turn, between OpenBLAS's GEMMs, the parallel kernel lost (median
    # turn: serial 80.9 ms, parallel from 2M entries 84.9, from 64k 88.9): its threads wait
    # for cores that OpenBLAS's have just held. So parallel only for very large inputs.
    if not _numba_ok(cols):
        if cuda.fits(cols):
            return cuda.col2im(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
        return col2im_numpy(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    cols = np.ascontiguousarray(cols)
    kernel = col2im_parallel if cols.size >= COL2IM_PARALLEL_MIN else col2im_serial
    return kernel(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def im2col_nhwc(x_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out=None, rows_by_y=False):
    """out: a C-contiguous (N * oh * ow, kh * kw * C) array to fill instead of a new one, by
    the serial kernel (for a caller on one of several threads); its rows ordered (oy, n, ox)
    with rows_by_y, else (n, oy, ox) as a new array's are."""
    if out is not None:
        n = x_t.shape[0]
        if _numba_ok(x_t, out):
            row_b, row_y = (ow, n * ow) if rows_by_y else (oh * ow, ow)
            im2col_nhwc_into(np.ascontiguousarray(x_t), out, kh, kw, sh, sw, ph, pw, dh, dw,
                             oh, ow, row_b, row_y)
        else:
            cols = im2col_nhwc_numpy(x_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
            if rows_by_y:
                cols = cols.reshape(n, oh, ow, -1).transpose(1, 0, 2, 3).reshape(out.shape)
            out[...] = cols
        return out
    if not _numba_ok(x_t):
        return im2col_nhwc_numpy(x_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    x_t = np.ascontiguousarray(x_t)
    # the parallel kernel lost even alone (DCGAN's (64, 64, 14, 14) 4x4: 8.8 against 4.6 ms)
    big = x_t.size * kh * kw >= IM2COL_NHWC_PARALLEL_MIN
    kernel = im2col_nhwc_parallel if big else im2col_nhwc_serial
    return kernel(x_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def col2im_nhwc(cols_t, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, serial=False):
    """serial: never the parallel kernel (for a caller on one of several threads)."""
    if not _numba_ok(cols_t):
        return col2im_nhwc_numpy(cols_t, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    cols_t = np.ascontiguousarray(cols_t)
    big = not serial and cols_t.size >= COL2IM_PARALLEL_MIN
    kernel = col2im_nhwc_parallel if big else col2im_nhwc_serial
    return kernel(cols_t, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def col2im_nhwc_spans(blocks, spans, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow,
                      dtype):
    """col2im_nhwc from blocks of the columns: blocks[s], for spans[s] = (y0, y1, k0, k1), holds
    the rows (oy, n, ox) with oy in [y0, y1) and the columns of the kernel rows [k0, k1) (the
    other taps land outside the output). The same sums, in the same order, as col2im_nhwc of
    the whole matrix. Serial (for a caller on one of several threads)."""
    if not _numba_ok(*blocks):
        cols = np.zeros((oh, n, ow, kh, kw * c), dtype=dtype)
        for (y0, y1, k0, k1), block in zip(spans, blocks):
            cols[y0:y1, :, :, k0:k1] = block.reshape(y1 - y0, n, ow, k1 - k0, kw * c)
        cols = cols.transpose(1, 0, 2, 3, 4).reshape(n * oh * ow, -1)
        return col2im_nhwc_numpy(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    x = np.zeros((n, h, w, c), dtype=dtype)
    for (y0, y1, k0, k1), block in zip(spans, blocks):
        col2im_nhwc_span(np.ascontiguousarray(block), x, y0, y1, k0, k1, kw, sh, sw, ph, pw, dh,
                         dw, ow)
    return x


def max_pool(x, kh, kw, sh, sw, ph, pw, oh, ow):
    if not _numba_ok(x):
        if cuda.fits(x):
            return cuda.max_pool(x, kh, kw, sh, sw, ph, pw, oh, ow)
        return max_pool_numpy(x, kh, kw, sh, sw, ph, pw, oh, ow)
    x = np.ascontiguousarray(x)
    big = x.size >= POOL_PARALLEL_MIN_WORK
    if (kh, kw, sh, sw, ph, pw) == (2, 2, 2, 2, 0, 0):
        return max_pool_2x2_serial(x, oh, ow)
    if (sh, sw, ph, pw) == (kh, kw, 0, 0):
        return (max_pool_tiled_parallel if big else max_pool_tiled_serial)(x, kh, kw, oh, ow)
    kernel = max_pool_parallel if big else max_pool_serial
    return kernel(x, kh, kw, sh, sw, ph, pw, oh, ow)


def pool_scatter(gy, idx, h, w, window2x2=False):
    """gx (N, C, h, w): each gradient added at its window's winner; window2x2: the windows
    are the 2x2, stride-2 ones (each cell in at most one)."""
    if not _numba_ok(gy, idx):
        if cuda.fits(gy):
            return cuda.pool_scatter(gy, idx, h, w)
        return pool_scatter_numpy(gy, idx, h, w)
    gy = np.ascontiguousarray(gy)
    if window2x2:
        return pool_scatter_2x2_serial(gy, idx, h, w)
    kernel = pool_scatter_parallel if gy.size >= POOL_PARALLEL_MIN_WORK else \
        pool_scatter_serial
    return kernel(gy, idx, h, w)
