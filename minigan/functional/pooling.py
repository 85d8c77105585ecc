"""Max and average pooling over (N, C, H, W), PyTorch's arguments and conventions.

Max pooling pads with -inf (never 0, so all-negative inputs pool correctly) and sends each
window's gradient to its first maximum in scan order (deterministic ties). Both poolings are
pairs of adjoint ops (gather/scatter, average/spread), so they are twice differentiable.
"""
from minigan.backend import device_of, get_array_module, to_device
from minigan.backend.conv_kernels import _pool_divisor, col2im, im2col, max_pool, pool_scatter
from minigan.core import Function, as_tensor
from minigan.functional.conv import _pair


class _PoolGeometry:
    def __init__(self, x_shape, kernel_size, stride, padding, name):
        if len(x_shape) != 4:
            raise ValueError(f"{name} expects input (N, C, H, W), got shape {x_shape}")
        self.k = _pair(kernel_size, "kernel_size")
        self.s = _pair(stride if stride is not None else kernel_size, "stride")
        self.p = _pair(padding, "padding")
        if min(self.k) < 1 or min(self.s) < 1 or min(self.p) < 0:
            raise ValueError(f"{name}: kernel_size {self.k} and stride {self.s} must be >= 1, "
                             f"padding {self.p} >= 0")
        if any(2 * p > k for p, k in zip(self.p, self.k)):
            raise ValueError(f"{name}: padding {self.p} must be at most half the kernel "
                             f"{self.k}")
        self.n, self.c, self.h, self.w = x_shape
        self.oh, self.ow = ((i + 2 * p - k) // s + 1 for i, p, k, s in
                            zip((self.h, self.w), self.p, self.k, self.s))
        if self.oh < 1 or self.ow < 1:
            raise ValueError(f"{name}: kernel {self.k} is larger than the padded input of "
                             f"shape {x_shape} (padding {self.p})")

    def args(self):
        return (*self.k, *self.s, *self.p, self.oh, self.ow)


class MaxPool2d(Function):
    def __init__(self, g):
        self.g = g

    def forward(self, x):
        y, self.idx = max_pool(x, *self.g.args())
        return y

    def backward(self, gy):
        return self._scatter()(gy)

    def backward_arrays(self, gy):
        return self._scatter().forward(gy)

    def _scatter(self):
        return PoolScatter(self.idx, self.g.h, self.g.w,
                           window2x2=self.g.args()[:6] == (2, 2, 2, 2, 0, 0))


class PoolScatter(Function):
    """Add each gradient into the input cell its window picked (the adjoint of a gather);
    window2x2: the windows are 2x2 with stride 2 (a faster kernel, the same numbers)."""

    def __init__(self, idx, h, w, window2x2=False):
        self.idx, self.h, self.w, self.window2x2 = idx, h, w, window2x2

    def forward(self, gy):
        return pool_scatter(gy, self.idx, self.h, self.w, self.window2x2)

    def backward(self, ggx):
        return PoolGather(self.idx)(ggx)


class PoolGather(Function):
    """y[n, c, i] = x[n, c, idx[n, c, i]] (the pooled values, for fixed winners)."""

    def __init__(self, idx):
        self.idx = idx

    def forward(self, x):
        n, c, h, w = x.shape
        flat = get_array_module(x).take_along_axis(x.reshape(n, c, h * w),
                                                   self.idx.reshape(n, c, -1), axis=2)
        return flat.reshape(self.idx.shape)

    def backward(self, gy):
        x = self.inputs[0]
        return PoolScatter(self.idx, x.shape[2], x.shape[3])(gy)


class AvgPool2d(Function):
    def __init__(self, g, include_pad):
        self.g, self.include_pad = g, include_pad

    def divisor(self, like):
        """The window sizes, on ``like``'s device."""
        g = self.g
        return to_device(_pool_divisor(g.h, g.w, *g.k, *g.s, *g.p, g.oh, g.ow,
                                       self.include_pad), device_of(like))

    def forward(self, x):
        g = self.g
        cols = im2col(x, g.k[0], g.k[1], *g.s, *g.p, 1, 1, g.oh, g.ow)
        total = cols.reshape(g.c, g.k[0] * g.k[1], g.n, g.oh, g.ow).sum(1)
        return (total.transpose(1, 0, 2, 3) / self.divisor(x)).astype(x.dtype)

    def backward(self, gy):
        return AvgPoolGrad(self)(gy)


class AvgPoolGrad(Function):
    """Spread each output's gradient evenly over its window (the adjoint of AvgPool2d)."""

    def __init__(self, pool):
        self.pool = pool

    def forward(self, gy):
        g = self.pool.g
        xp = get_array_module(gy)
        share = (gy / self.pool.divisor(gy)).astype(gy.dtype).transpose(1, 0, 2, 3)
        kk = g.k[0] * g.k[1]
        cols = xp.broadcast_to(share[:, None], (g.c, kk, g.n, g.oh, g.ow))
        cols = xp.ascontiguousarray(cols).reshape(g.c * kk, -1)
        return col2im(cols, g.n, g.c, g.h, g.w, g.k[0], g.k[1], *g.s, *g.p, 1, 1, g.oh, g.ow)

    def backward(self, ggx):
        return AvgPool2d(self.pool.g, self.pool.include_pad)(ggx)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over each kernel_size window (stride defaults to kernel_size)."""
    x = as_tensor(x)
    return MaxPool2d(_PoolGeometry(x.shape, kernel_size, stride, padding, "max_pool2d"))(x)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Mean over each window; with ``count_include_pad=False`` padding cells are not counted."""
    x = as_tensor(x)
    g = _PoolGeometry(x.shape, kernel_size, stride, padding, "avg_pool2d")
    return AvgPool2d(g, count_include_pad)(x)
