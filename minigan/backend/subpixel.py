"""Stride-2 convolutions with even kernels as stride-1 convolutions on four times the
channels, so that the stride-1 methods (Winograd above all) serve them too.

A stride-2 convolution with a k x k kernel (k = 2K) reads, for output a, inputs 2a + t - p:
split t = 2j + r and the input into its four phases (rows and columns even or odd, after
padding), and it is a K x K stride-1 convolution of the phases stacked as channels (the
polyphase decomposition, 'space to depth'):

    y = conv(s2d(x), Wp),   Wp[o, (ry, rx, c), jy, jx] = w[o, c, 2 jy + ry, 2 jx + rx].

A stride-2 transposed convolution is its adjoint: each output phase (2a + ph) is a K x K
correlation of the input with every other tap of the kernel, reversed (the sub-pixel
decomposition): one stride-1 convolution with 4 C_out outputs, whose four blocks interleave
into the output:

    y[2a + ph] = sum_j x[a + d - j] w[2 j + r],   d = (ph + p) // 2,  r = (ph + p) % 2.

Same multiplications as im2col's, in better shapes: one GEMM with four times the channels,
no col2im; with Winograd's F(4 x 4, 2 x 2), 25 products per 16 outputs instead of 64.
"""
import numpy as np


def fits(kh, kw, stride, dilation):
    return stride == (2, 2) and dilation == (1, 1) and kh % 2 == 0 and kw % 2 == 0


# --- convolution: space to depth --------------------------------------------------------------

def space_to_depth(x, ph, pw, oh, ow, kh, kw):
    """xs (N, 4 C, oh + K - 1, ow + K - 1): xs[n, (ry, rx, c), b, d] = x padded[n, c, 2 b + ry,
    2 d + rx] (ph rows and pw columns of zeros before x, zeros after it)."""
    n, c, h, w = x.shape
    hs, ws = oh + kh // 2 - 1, ow + kw // 2 - 1
    xs = np.zeros((n, 2, 2, c, hs, ws), dtype=x.dtype)
    for ry in range(2):
        y0 = (ph - ry + 1) // 2                   # first b with 2 b + ry >= ph
        rows = slice(2 * y0 + ry - ph, min(h, 2 * hs + ry - ph), 2)
        for rx in range(2):
            x0 = (pw - rx + 1) // 2
            cols = slice(2 * x0 + rx - pw, min(w, 2 * ws + rx - pw), 2)
            part = x[:, :, rows, cols]
            xs[:, ry, rx, :, y0:y0 + part.shape[2], x0:x0 + part.shape[3]] = part
    return xs.reshape(n, 4 * c, hs, ws)


def poly_weight(w):
    """(C_out, C_in, 2 K, 2 L) -> Wp (C_out, 4 C_in, K, L), channels in (ry, rx, c) order."""
    co, ci, kh, kw = w.shape
    t = w.reshape(co, ci, kh // 2, 2, kw // 2, 2).transpose(0, 3, 5, 1, 2, 4)
    return np.ascontiguousarray(t).reshape(co, 4 * ci, kh // 2, kw // 2)


def poly_weight_adjoint(wp, wshape):
    """The inverse of poly_weight (it only moves entries): dW from dWp."""
    co, ci, kh, kw = wshape
    t = wp.reshape(co, 2, 2, ci, kh // 2, kw // 2).transpose(0, 3, 4, 1, 5, 2)
    return np.ascontiguousarray(t).reshape(wshape)


# --- transposed convolution: sub-pixel ------------------------------------------------------

class SubPixel:
    """Where each output phase of a stride-2 transposed convolution (input h x w, kernel
    kh x kw, padding, output (H, W)) reads its stride-1 convolution: that convolution runs
    over the input padded by ``pad`` ((top, bottom), (left, right)), and phase ph of an axis
    takes its outputs from position ``start[axis][ph]`` on, ``count[axis][ph]`` of them."""

    def __init__(self, h, w, kh, kw, ph, pw, out_h, out_w):
        self.pad, self.start, self.count, self.r = [], [], [], []
        for size, k, p, out in ((h, kh, ph, out_h), (w, kw, pw, out_w)):
            big_k = k // 2
            d = [(q + p) // 2 for q in range(2)]
            left = big_k - 1 - min(d)
            starts = [d[q] - (big_k - 1) + left for q in range(2)]
            counts = [(out - q + 1) // 2 for q in range(2)]
            length = max(s + c for s, c in zip(starts, counts))     # outputs needed
            right = length + big_k - 1 - size - left
            self.pad.append((left, right))
            self.start.append(starts)
            self.count.append(counts)
            self.r.append([(q + p) % 2 for q in range(2)])
        self.out = (out_h, out_w)

    def symmetric(self):
        return all(a == b >= 0 for a, b in self.pad)

    def weight(self, w):
        """(C_in, C_out, kh, kw) -> (4 C_out, C_in, K, L): block (ph, pw) holds, reversed,
        every other tap from r_ph, r_pw."""
        ci, co, kh, kw = w.shape
        blocks = [w[:, :, self.r[0][a]::2, self.r[1][b]::2][:, :, ::-1, ::-1]
                  for a in range(2) for b in range(2)]
        return np.ascontiguousarray(np.stack(blocks).transpose(0, 2, 1, 3, 4)).reshape(
            4 * co, ci, kh // 2, kw // 2)

    def interleave(self, ys, bias=None):
        """y (N, C_out, H, W) from the stride-1 convolution's ys (N, 4 C_out, ., .)."""
        n = ys.shape[0]
        co = ys.shape[1] // 4
        blocks = ys.reshape(n, 2, 2, co, ys.shape[2], ys.shape[3])
        y = np.empty((n, co) + self.out, dtype=ys.dtype)
        for a in range(2):
            for b in range(2):
                (sa, sb), (ca, cb) = (self.start[0][a], self.start[1][b]), \
                    (self.count[0][a], self.count[1][b])
                y[:, :, a::2, b::2] = blocks[:, a, b, :, sa:sa + ca, sb:sb + cb]
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return y
