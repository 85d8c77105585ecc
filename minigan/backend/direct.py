"""Stride-1 convolutions with few input or output channels, computed directly: no im2col.

With one output channel (the DCGAN generator's last layer, 32 -> 1 3x3 at 28 x 28) im2col's
product is a matrix-vector one: 9 C_in rows copied for each output, read once, each value
multiplied once. Its input gradient, the same layer's full correlation, has one *input*
channel: a GEMM whose inner size is kh kw = 9. Both are bound by the copies, not by the
products. Here every output plane is the sum of shifted input planes times one weight each:

    y[n, o, oy, ox] = sum over (c, i, j) of w[o, c, i, j] x[n, c, oy + i - ph, ox + j - pw]

(zero outside x), added in (c, i, j) order. Each plane is computed 'wide', oh rows of ow + kw
- 1 from the sample padded once, so that a tap is one run of values (vectorized, no
reduction across lanes: the order is the code's on any SIMD width). The weight gradient is,
per sample and weight, one dot product of gy's plane laid out the same way (zeros past ow)
with a run of the padded input, added over the samples in order:

    dW[o, c, i, j] = sum over n of (sum over (oy, ox) of gy[n, o, oy, ox] x[n, c, oy + i - ph,
                     ox + j - pw]),

the inner sums in vector lanes (``fastmath`` reassociation, as the batch-norm kernels'), so
their last bits depend on the SIMD width but not on the run.

The kernels are serial and release the GIL: the callers run each half of the batch on its own
thread (threads.each_half), the weight gradient's two halves added first half first.
"""
import numba
import numpy as np

U = np.uintp


_SUMS = {"reassoc", "contract"}      # the weight gradient's dot products, in vector lanes


@numba.njit(cache=True, inline="always", boundscheck=False, error_model="numpy")
def _pad_sample(x, s, ph, pw, xs):
    """xs (C, hp + 1, wp) = sample s of x, ph rows and pw columns of zeros before, zeros
    after (the extra row lets a wide row run past the last one); xs's zeros are left as
    they are (the caller zeroes xs once)."""
    c, h, wd = x.shape[1], x.shape[2], x.shape[3]
    rows, wp = xs.shape[1], xs.shape[2]
    xf, df = x.reshape(-1), xs.reshape(-1)
    for q in range(c):
        for y in range(h):
            src, dst = U(((s * c + q) * h + y) * wd), U((q * rows + y + ph) * wp + pw)
            for k in range(wd):
                df[dst + U(k)] = xf[src + U(k)]


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def forward(x, w, ph, pw, y):
    """Fills y (N, O, oh, ow) with the stride-1 convolution of x (N, C, H, W) by w (O, C, kh,
    kw), padded by (ph, pw); returns y. Each output plane is computed 'wide', oh rows of wp
    = ow + kw - 1 (a tap is then one run of oh wp values), and its first ow columns kept."""
    n, c = x.shape[0], x.shape[1]
    o, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    oh, ow = y.shape[2], y.shape[3]
    wp = ow + kw - 1
    xs = np.zeros((c, oh + kh, wp), dtype=x.dtype)     # its borders stay zero
    xf, run = xs.reshape(-1), oh * wp
    acc = np.empty(run, dtype=x.dtype)
    for s in range(n):
        _pad_sample(x, s, ph, pw, xs)
        for p in range(o):
            acc[:] = 0
            for q in range(c):
                for i in range(kh):
                    row = U((q * (oh + kh) + i) * wp)
                    j = 0
                    while j + 3 <= kw:          # three taps a pass, added in tap order
                        w0, w1, w2 = w[p, q, i, j], w[p, q, i, j + 1], w[p, q, i, j + 2]
                        src = row + U(j)
                        for k in range(run):
                            acc[U(k)] = ((acc[U(k)] + w0 * xf[src + U(k)])
                                         + w1 * xf[src + U(k + 1)]) + w2 * xf[src + U(k + 2)]
                        j += 3
                    while j < kw:
                        wv, src = w[p, q, i, j], row + U(j)
                        for k in range(run):
                            acc[U(k)] += wv * xf[src + U(k)]
                        j += 1
            for oy in range(oh):
                for ox in range(ow):
                    y[s, p, oy, ox] = acc[oy * wp + ox]
    return y


@numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy", fastmath=_SUMS)
def weight_grad(x, gy, ph, pw, kh, kw):
    """dW (O, C, kh, kw) of the stride-1 convolution of x (N, C, H, W) padded by (ph, pw),
    from its output's gradient gy (N, O, oh, ow): per sample and weight one dot product of
    gy's plane laid out wide (zeros past ow) with a run of the padded input."""
    n, c = x.shape[0], x.shape[1]
    o, oh, ow = gy.shape[1], gy.shape[2], gy.shape[3]
    wp = ow + kw - 1
    xs = np.zeros((c, oh + kh, wp), dtype=x.dtype)     # its borders stay zero
    gs = np.zeros((o, oh, wp), dtype=x.dtype)
    xf, gf, run = xs.reshape(-1), gs.reshape(-1), oh * wp
    gw = np.zeros((o, c, kh, kw), dtype=x.dtype)
    for s in range(n):
        _pad_sample(x, s, ph, pw, xs)
        for p in range(o):
            for oy in range(oh):
                for ox in range(ow):
                    gs[p, oy, ox] = gy[s, p, oy, ox]
        for p in range(o):
            g0 = U(p * run)
            for q in range(c):
                for i in range(kh):
                    row = U((q * (oh + kh) + i) * wp)
                    j = 0
                    while j + 3 <= kw:          # three taps a pass: gy's value loaded once
                        src = row + U(j)
                        t0 = t1 = t2 = x.dtype.type(0)
                        for k in range(run):
                            gv = gf[g0 + U(k)]
                            t0 += gv * xf[src + U(k)]
                            t1 += gv * xf[src + U(k + 1)]
                            t2 += gv * xf[src + U(k + 2)]
                        gw[p, q, i, j] += t0
                        gw[p, q, i, j + 1] += t1
                        gw[p, q, i, j + 2] += t2
                        j += 3
                    while j < kw:
                        src = row + U(j)
                        t = x.dtype.type(0)
                        for k in range(run):
                            t += gf[g0 + U(k)] * xf[src + U(k)]
                        gw[p, q, i, j] += t
                        j += 1
    return gw


def forward_numpy(x, w, ph, pw, y):
    """forward's numbers by NumPy, in the kernel's order (the tests' reference)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = y.shape[2:]
    xp = np.zeros((n, c, max(h + 2 * ph, oh + kh - 1), max(wd + 2 * pw, ow + kw - 1)),
                  dtype=x.dtype)
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    y[...] = 0
    for q in range(c):
        for i in range(kh):
            for j in range(kw):
                y += w[None, :, q, i, j, None, None] * xp[:, None, q, i:i + oh, j:j + ow]
    return y


def weight_grad_numpy(x, gy, ph, pw, kh, kw):
    """weight_grad's numbers by NumPy (the tests' reference; summed in another order)."""
    n, c, h, wd = x.shape
    oh, ow = gy.shape[2:]
    xp = np.zeros((n, c, max(h + 2 * ph, oh + kh - 1), max(wd + 2 * pw, ow + kw - 1)),
                  dtype=x.dtype)
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    gw = np.empty((gy.shape[1], c, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            gw[:, :, i, j] = np.einsum("nohw,nchw->oc", gy, xp[:, :, i:i + oh, j:j + ow])
    return gw
