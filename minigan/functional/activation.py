"""Activations and the (log-)softmax.

Each is written to be stable for any input: sigmoid and softplus never overflow, softmax and
log-softmax shift by the maximum. Every backward is expressed with minigan ops, so all of them
have second derivatives (relu's and leaky_relu's are zero away from the kink).
"""
from minigan.backend import elementwise_kernels as kernels
from minigan.backend import get_array_module
from minigan.core import Function, as_tensor
from minigan.functional.elementwise import MulMask, exp
from minigan.functional.reduction import sum
from minigan.functional.shape import normalize_dims


class ReLU(Function):
    def forward(self, x):
        return kernels.relu(x)

    def backward(self, gy):
        return MulMask(kernels.leaky_relu_derivative(self.inputs[0].data, 0.0))(gy)

    def backward_arrays(self, gy):
        return kernels.relu_grad(self.inputs[0].data, gy)


class LeakyReLU(Function):
    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return kernels.leaky_relu(x, self.slope)

    def backward(self, gy):
        return MulMask(kernels.leaky_relu_derivative(self.inputs[0].data, self.slope))(gy)

    def backward_arrays(self, gy):
        return kernels.leaky_relu_grad(self.inputs[0].data, gy, self.slope)


class Sigmoid(Function):
    """1 / (1 + e^-x), as exp(-log(1 + e^-x)) so that no intermediate overflows."""

    save_output = True

    def forward(self, x):
        xp = get_array_module(x)
        return xp.exp(-xp.logaddexp(0, -x))

    def backward(self, gy):
        y = self.out()
        return gy * (y * (1 - y))


class Tanh(Function):
    save_output = True

    def forward(self, x):
        return get_array_module(x).tanh(x)

    def backward(self, gy):
        y = self.out()
        return gy * (1 - y * y)


class Softplus(Function):
    """log(1 + e^x) = logaddexp(0, x); its derivative is the sigmoid."""

    def forward(self, x):
        return get_array_module(x).logaddexp(0, x)

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


class LogSoftmax(Function):
    save_output = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        m = x.max(axis=self.axis, keepdims=True)
        z = x - m
        return z - xp.log(xp.exp(z).sum(axis=self.axis, keepdims=True))

    def backward(self, gy):
        return gy - exp(self.out()) * sum(gy, self.axis, keepdim=True)


class Softmax(Function):
    save_output = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        y = self.out()
        gyy = gy * y
        return gyy - y * sum(gyy, self.axis, keepdim=True)


def relu(x):
    return ReLU()(as_tensor(x))


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(negative_slope)(as_tensor(x))


def sigmoid(x):
    return Sigmoid()(as_tensor(x))


def tanh(x):
    return Tanh()(as_tensor(x))


def softplus(x):
    return Softplus()(as_tensor(x))


def _axis(x, dim):
    if dim is None:
        raise TypeError("softmax/log_softmax need an explicit dim (e.g. dim=1 for (N, C))")
    return normalize_dims(dim, x.ndim)[0]


def softmax(x, dim):
    x = as_tensor(x)
    return Softmax(_axis(x, dim))(x)


def log_softmax(x, dim):
    x = as_tensor(x)
    return LogSoftmax(_axis(x, dim))(x)


FUSED_ACTIVATIONS = (None, "relu", "leaky_relu")


def fused_slope(activation, negative_slope, where):
    """An activation a fused op applies, as the kernels' number: None for none, 0.0 for
    "relu", ``negative_slope`` (>= 0) for "leaky_relu"."""
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"{where}: activation must be one of {FUSED_ACTIVATIONS}, got "
                         f"{activation!r}")
    if activation is None:
        return None
    if activation == "relu":
        return 0.0
    if not negative_slope >= 0:
        raise ValueError(f"{where}: a fused leaky_relu needs negative_slope >= 0, got "
                         f"{negative_slope}")
    return float(negative_slope)
