"""Spatial layers: Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d (PyTorch's names, layouts
and default initialisation)."""
import math

import numpy as np

from minigan import functional as F
from minigan.backend import default_dtype
from minigan.core import Parameter
from minigan.functional.conv import _pair
from minigan.nn import init
from minigan.nn.module import Module


class _ConvNd(Module):
    def __init__(self, wshape, bias, dtype, generator, **geometry):
        super().__init__()
        dtype = dtype or default_dtype()
        if min(wshape) < 1:
            raise ValueError(f"{type(self).__name__}: channels and kernel must be positive, "
                             f"weight shape would be {wshape}")
        self.weight = Parameter(np.empty(wshape, dtype=dtype))
        self.bias = Parameter(np.empty(wshape[1] if self._transposed else wshape[0],
                                       dtype=dtype)) if bias else None
        self.geometry = geometry
        # PyTorch's default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(init.calculate_fans(self.weight)[0])
            init.uniform_(self.bias, -bound, bound, generator)

    def extra_repr(self):
        w = self.weight.shape
        cin, cout = (w[0], w[1]) if self._transposed else (w[1], w[0])
        geo = ", ".join(f"{k}={v}" for k, v in self.geometry.items())
        return f"{cin}, {cout}, kernel_size={tuple(w[2:])}, {geo}"


class Conv2d(_ConvNd):
    """x: (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_out, C_in, kh, kw)."""

    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, bias=True, dtype=None, generator=None):
        k = _pair(kernel_size, "kernel_size")
        super().__init__((out_channels, in_channels, *k), bias, dtype, generator,
                         stride=stride, padding=padding, dilation=dilation)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, **self.geometry)


class ConvTranspose2d(_ConvNd):
    """x: (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_in, C_out, kh, kw)."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, dilation=1, bias=True, dtype=None, generator=None):
        k = _pair(kernel_size, "kernel_size")
        super().__init__((in_channels, out_channels, *k), bias, dtype, generator,
                         stride=stride, padding=padding, output_padding=output_padding,
                         dilation=dilation)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, **self.geometry)


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
