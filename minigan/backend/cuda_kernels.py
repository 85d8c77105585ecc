"""GPU kernels, for CuPy arrays, where the CPU uses Numba: im2col / col2im, max pooling and its
scatter, the activations and their gradients, a dense layer's bias with its activation, batch
norm's normalisation and its gradient, binary cross-entropy on logits, and Adam. Matrix
products stay in cuBLAS (CuPy's matmul) and the per-channel sums in CuPy's reductions.

Every kernel is one loop body over a flat index ``k``, written once in ``SOURCE`` (CUDA C)
and run as a grid-stride loop: each thread takes k = its global index, then every
(blocks x threads)-th after it. Each writes only its own element, except the max-pool scatter
(an atomicAdd: windows that overlap can send two gradients to one pixel; summed in the order
the threads arrive, so only overlapping pools are not bit-reproducible). The same source
compiles on the host (``-DMINIGAN_HOST``: one thread, k from 0 to the end), which is how the
tests check its arithmetic against the NumPy references on machines without a GPU.

CuPy is imported only when a kernel is first needed, and each dtype's module (float32,
float64) is compiled once by NVRTC and cached by CuPy on disk. The wrappers below are written
against the array module of their inputs, and ``_launch`` is the one place that talks to the
GPU, so the host build runs them unchanged on NumPy arrays.
"""
import functools
import math

import numpy as np

from minigan.backend.devices import get_array_module
from minigan.backend.mode import reference

SOURCE = r"""
#ifdef MINIGAN_HOST
#include <math.h>
#define __global__
#define __device__
struct minigan_dim { unsigned x; };
static const minigan_dim blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
template <typename V> static void atomicAdd(V* p, V v) { *p += v; }
#endif

typedef long long i64;
#define FOR_EACH(k, total) \
    for (i64 k = (i64)blockIdx.x * blockDim.x + threadIdx.x; k < (total); \
         k += (i64)blockDim.x * gridDim.x)

// relu (slope 0) or leaky_relu (slope > 0) of v; NaN stays NaN (as numpy.maximum, and Numba)
__device__ inline T act_value(T v, int act, T slope) {
    if (!act) return v;
    if (slope == (T)0) return v <= (T)0 ? (T)0 : v;
    return v > (T)0 ? v : v * slope;
}

// the gradient g through that activation, whose output (or input: same sign) was y
__device__ inline T act_grad_value(T g, T y, int act, T slope) {
    if (!act || y > (T)0) return g;
    return slope == (T)0 ? (T)0 : g * slope;
}

// cols (C kh kw, N OH OW): row (c, i, j), column (n, oy, ox) = x[n, c, oy sh - ph + i dh,
// ox sw - pw + j dw], 0 outside x
extern "C" __global__ void im2col(const T* x, T* cols, int n, int c, int h, int w, int kh,
                                  int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                                  int oh, int ow) {
    FOR_EACH(k, (i64)c * kh * kw * n * oh * ow) {
        i64 r = k;
        int ox = r % ow; r /= ow;
        int oy = r % oh; r /= oh;
        int ni = r % n; r /= n;
        int j = r % kw; r /= kw;
        int i = r % kh; int ci = (int)(r / kh);
        int y = oy * sh - ph + i * dh, xx = ox * sw - pw + j * dw;
        cols[k] = (y >= 0 && y < h && xx >= 0 && xx < w)
            ? x[(((i64)ni * c + ci) * h + y) * w + xx] : (T)0;
    }
}

// the adjoint: each pixel of x (N, C, H, W) gathers the columns that read it, in (i, j)
// order as NumPy's reference adds them (no atomics: deterministic)
extern "C" __global__ void col2im(const T* cols, T* x, int n, int c, int h, int w, int kh,
                                  int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                                  int oh, int ow) {
    i64 ncol = (i64)n * oh * ow;
    FOR_EACH(k, (i64)n * c * h * w) {
        i64 r = k;
        int xx = r % w; r /= w;
        int y = r % h; r /= h;
        int ci = r % c; int ni = (int)(r / c);
        T acc = (T)0;
        for (int i = 0; i < kh; ++i) {
            int ty = y + ph - i * dh;
            if (ty < 0 || ty % sh) continue;
            int oy = ty / sh;
            if (oy >= oh) continue;
            for (int j = 0; j < kw; ++j) {
                int tx = xx + pw - j * dw;
                if (tx < 0 || tx % sw) continue;
                int ox = tx / sw;
                if (ox >= ow) continue;
                acc += cols[((i64)(ci * kh + i) * kw + j) * ncol + ((i64)ni * oh + oy) * ow + ox];
            }
        }
        x[k] = acc;
    }
}

// max over each window (padding is -inf: it never wins) and the flat index of the first
// maximum in scan order within the H W plane, as the reference
extern "C" __global__ void max_pool(const T* x, T* out, int* idx, int planes, int h, int w,
                                    int kh, int kw, int sh, int sw, int ph, int pw, int oh,
                                    int ow, T neg_inf) {
    FOR_EACH(k, (i64)planes * oh * ow) {
        i64 r = k;
        int ox = r % ow; r /= ow;
        int oy = r % oh; i64 plane = r / oh;
        T best = neg_inf;
        int arg = 0;
        for (int i = 0; i < kh; ++i) {
            int y = oy * sh - ph + i;
            if (y < 0 || y >= h) continue;
            for (int j = 0; j < kw; ++j) {
                int xx = ox * sw - pw + j;
                if (xx < 0 || xx >= w) continue;
                T v = x[plane * h * w + y * w + xx];
                if (v > best) { best = v; arg = y * w + xx; }
            }
        }
        out[k] = best;
        idx[k] = arg;
    }
}

// each output's gradient to its window's winner; gx zeroed by the caller
extern "C" __global__ void pool_scatter(const T* gy, const int* idx, T* gx, i64 total,
                                        int per_plane, int hw) {
    FOR_EACH(k, total) {
        atomicAdd(&gx[(k / per_plane) * hw + idx[k]], gy[k]);
    }
}

extern "C" __global__ void act_forward(const T* x, T* y, i64 total, T slope) {
    FOR_EACH(k, total) { y[k] = act_value(x[k], 1, slope); }
}

extern "C" __global__ void act_backward(const T* y, const T* g, T* out, i64 total, T slope) {
    FOR_EACH(k, total) { out[k] = act_grad_value(g[k], y[k], 1, slope); }
}

// y (N, M) += b (M,), then the activation if act; in place
extern "C" __global__ void bias_act(T* y, const T* b, i64 total, int m, int act, T slope) {
    FOR_EACH(k, total) { y[k] = act_value(y[k] + b[k % m], act, slope); }
}

// binary cross-entropy on logits, per element, in double: w (softplus(x) - t x)
extern "C" __global__ void bce_logits(const T* x, const T* t, const T* w, double* out,
                                      i64 total, int weighted) {
    FOR_EACH(k, total) {
        double v = (double)x[k];
        double loss = fmax(v, 0.0) + log1p(exp(-fabs(v))) - (double)t[k] * v;
        out[k] = weighted ? loss * (double)w[k] : loss;
    }
}

// its gradient: g w (sigmoid(x) - t), g a scalar
extern "C" __global__ void bce_logits_grad(const T* x, const T* t, const T* w, T* out,
                                           i64 total, double g, int weighted) {
    FOR_EACH(k, total) {
        double v = (double)x[k];
        double e = exp(-fabs(v));
        double s = v >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        double d = g * (s - (double)t[k]);
        out[k] = (T)(weighted ? d * (double)w[k] : d);
    }
}

// batch norm on (N, C, S): y = act((x - mu_c) a_c + b_c), a = w / sigma
extern "C" __global__ void bn_apply(const T* x, T* y, const T* mu, const T* a, const T* b,
                                    i64 total, int c, int s, int act, T slope) {
    FOR_EACH(k, total) {
        int ci = (k / s) % c;
        y[k] = act_value((x[k] - mu[ci]) * a[ci] + b[ci], act, slope);
    }
}

// its gradient: gx = k_c (d - mb_c - (x - mu_c) u_c), d = the output's gradient through
// the activation (computed once by the caller, which sums it too), mb = mean(d),
// u = mean(d xhat) / sigma, k = w / sigma
extern "C" __global__ void bn_grad(const T* d, const T* x, T* gx, const T* mu, const T* mb,
                                   const T* u, const T* scale, i64 total, int c, int s) {
    FOR_EACH(k, total) {
        int ci = (k / s) % c;
        gx[k] = (d[k] - mb[ci] - (x[k] - mu[ci]) * u[ci]) * scale[ci];
    }
}

// Adam over flat p, g, m, v (every parameter of a model in one launch: FlatAdam), as
// optim_kernels.adam_numba, every constant in T
extern "C" __global__ void adam(T* p, const T* g, T* m, T* v, i64 total, T step_size, T bc2,
                                T b1, T b2, T eps, T wd) {
    T c1 = (T)1 - b1, c2 = (T)1 - b2;
    FOR_EACH(k, total) {
        T gi = g[k] + wd * p[k];
        T mi = b1 * m[k] + c1 * gi;
        T vi = b2 * v[k] + c2 * (gi * gi);
        m[k] = mi;
        v[k] = vi;
        p[k] -= step_size * (mi / (sqrt(vi) / bc2 + eps));
    }
}
"""

NAMES = ("im2col", "col2im", "max_pool", "pool_scatter", "act_forward", "act_backward",
         "bias_act", "bce_logits", "bce_logits_grad", "bn_apply", "bn_grad", "adam")
THREADS = 256
_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


def source_for(dtype):
    """The kernels' source for arrays of ``dtype`` (float32 or float64)."""
    return f"typedef {_TYPES[np.dtype(dtype)]} T;\n" + SOURCE


@functools.cache
def _module(dtype):
    import cupy as cp
    return cp.RawModule(code=source_for(dtype), options=("--std=c++11",))


def _launch(name, dtype, total, args):
    """Run kernel ``name`` over ``total`` elements (a grid-stride loop: enough blocks to
    cover them, at most 65,535 x 16)."""
    if total == 0:
        return
    blocks = min((int(total) + THREADS - 1) // THREADS, 65535 * 16)
    _module(np.dtype(dtype)).get_function(name)((blocks,), (THREADS,), args)


def is_cuda(*arrays):
    """Whether every array is a CuPy array of float32 or float64, contiguous: what the
    kernels here take."""
    return all(type(a).__module__.startswith("cupy") and a.dtype in _TYPES
               and a.flags.c_contiguous for a in arrays)


def fits(*arrays):
    """Whether the dispatchers send these arrays here: kernels' arrays (``is_cuda``),
    outside reference mode (and never NumPy's, checked first: the CPU's path pays one
    comparison)."""
    return not reference.on and type(arrays[0]) is not np.ndarray and is_cuda(*arrays)


def _i(v):
    return np.int32(v)


def _t(v, dtype):
    return np.dtype(dtype).type(v)


# --- convolution and pooling -----------------------------------------------------------------
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    cp = get_array_module(x)
    n, c, h, w = x.shape
    cols = cp.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    _launch("im2col", x.dtype, cols.size, (x, cols, *map(_i, (n, c, h, w, kh, kw, sh, sw, ph,
                                                                pw, dh, dw, oh, ow))))
    return cols


def col2im(cols, n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    cp = get_array_module(cols)
    cols = cp.ascontiguousarray(cols)
    x = cp.empty((n, c, h, w), dtype=cols.dtype)
    _launch("col2im", cols.dtype, x.size, (cols, x, *map(_i, (n, c, h, w, kh, kw, sh, sw, ph,
                                                               pw, dh, dw, oh, ow))))
    return x


def max_pool(x, kh, kw, sh, sw, ph, pw, oh, ow):
    cp = get_array_module(x)
    n, c, h, w = x.shape
    out = cp.empty((n, c, oh, ow), dtype=x.dtype)
    idx = cp.empty((n, c, oh, ow), dtype=np.int32)
    _launch("max_pool", x.dtype, out.size, (x, out, idx, *map(_i, (n * c, h, w, kh, kw, sh, sw,
                                                                    ph, pw, oh, ow)),
                                            _t(-np.inf, x.dtype)))
    return out, idx


def pool_scatter(gy, idx, h, w):
    cp = get_array_module(gy)
    n, c = gy.shape[:2]
    gy, idx = cp.ascontiguousarray(gy), cp.ascontiguousarray(idx, dtype=np.int32)
    gx = cp.zeros((n, c, h, w), dtype=gy.dtype)
    _launch("pool_scatter", gy.dtype, gy.size, (gy, idx, gx, np.int64(gy.size),
                                                _i(gy[0, 0].size), _i(h * w)))
    return gx


# --- activations, dense layers, the loss ------------------------------------------------------
def activation(x, slope):
    cp = get_array_module(x)
    y = cp.empty_like(x)
    _launch("act_forward", x.dtype, x.size, (x, y, np.int64(x.size), _t(slope, x.dtype)))
    return y


def activation_grad(y, g, slope):
    cp = get_array_module(g)
    out = cp.empty_like(g)
    _launch("act_backward", g.dtype, g.size, (y, g, out, np.int64(g.size), _t(slope, g.dtype)))
    return out


def bias_act(y, b, slope):
    """y (N, M) + b through the activation (slope None: none), in place."""
    _launch("bias_act", y.dtype, y.size, (y, b, np.int64(y.size), _i(y.shape[1]),
                                          _i(slope is not None), _t(slope or 0, y.dtype)))
    return y


def bce_logits_sum(x, t, w):
    """sum of w (softplus(x) - t x), in float64 (a 0-d array)."""
    cp = get_array_module(x)
    out = cp.empty(x.shape, dtype=np.float64)
    _launch("bce_logits", x.dtype, x.size, (x, t, x if w is None else w, out,
                                            np.int64(x.size), _i(w is not None)))
    return out.sum()


def bce_logits_grad(x, t, w, g):
    cp = get_array_module(x)
    out = cp.empty_like(x)
    _launch("bce_logits_grad", x.dtype, x.size, (x, t, x if w is None else w, out,
                                                 np.int64(x.size), np.float64(g),
                                                 _i(w is not None)))
    return out


# --- batch norm -------------------------------------------------------------------------------
def bn_forward(x, w, b, eps, slope=None):
    """As norm_kernels.bn_forward on (N, C, S): the statistics by CuPy's reductions (in
    float64), the normalisation, affine map and activation in one kernel."""
    cp = get_array_module(x)
    n, c, s = x.shape
    mu = x.mean(axis=(0, 2), dtype=np.float64)
    m = mu.astype(x.dtype)
    var = ((x - m[:, None]) ** 2).mean(axis=(0, 2), dtype=np.float64)
    inv = (1 / cp.sqrt(var + eps)).astype(x.dtype)
    y = cp.empty_like(x)
    _launch("bn_apply", x.dtype, x.size, (x, y, m, inv * w, b,
                                          np.int64(x.size), _i(c), _i(s),
                                          _i(slope is not None), _t(slope or 0, x.dtype)))
    return y, mu, var, inv


def bn_backward(g, x, mu, inv, scale, y=None, slope=None):
    """As norm_kernels.bn_backward: g through the activation once (``activation_grad``), its
    per-channel sums by CuPy's reductions, then gx in one kernel."""
    cp = get_array_module(g)
    n, c, s = g.shape
    d = g if slope is None else activation_grad(y, g, slope)
    m = mu.astype(g.dtype)
    gb = d.sum(axis=(0, 2), dtype=np.float64)
    gw = (d * (x - m[:, None])).sum(axis=(0, 2), dtype=np.float64) * inv
    count = n * s
    gx = cp.empty_like(g)
    _launch("bn_grad", g.dtype, g.size, (d, x, gx, m, (gb / count).astype(g.dtype),
                                         (gw / count).astype(g.dtype) * inv, scale,
                                         np.int64(g.size), _i(c), _i(s)))
    return gx, gw.astype(g.dtype), gb.astype(g.dtype)


# --- Adam ---------------------------------------------------------------------------------------
def adam(p, g, m, v, lr, b1, b2, eps, weight_decay, step):
    t = p.dtype.type
    _launch("adam", p.dtype, p.size, (p, g, m, v, np.int64(p.size), t(lr / (1 - b1 ** step)),
                                      t(math.sqrt(1 - b2 ** step)), t(b1), t(b2), t(eps),
                                      t(weight_decay)))
