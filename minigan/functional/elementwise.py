"""Elementwise arithmetic with NumPy broadcasting, and its derivatives.

A gradient flowing to a broadcast input is summed back to that input's shape (``sum_to``).
Kinks take PyTorch's conventions: |x|' = sign(x) (0 at 0); clip passes the gradient on its
closed interval; maximum/minimum split it equally between tied inputs.
"""
from minigan.backend import get_array_module
from minigan.core import Function, Tensor, as_tensor
from minigan.functional.shape import sum_to


def _fit(g, x):
    return g if g.shape == x.shape else sum_to(g, x.shape)


def _fit_raw(g, x):
    """``_fit`` on raw arrays (the first-order path)."""
    if g.shape == x.shape:
        return g
    lead = g.ndim - x.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(x.shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(x.shape)


def _pair(a, b):
    """Both operands as Tensors; a bare number takes the dtype of the tensor beside it."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    b = as_tensor(b)
    return as_tensor(a, like=b), b


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return (_fit(gy, a) if self.needs[0] else None,
                _fit(gy, b) if self.needs[1] else None)

    def backward_arrays(self, gy):
        a, b = self.inputs
        return (_fit_raw(gy, a) if self.needs[0] else None,
                _fit_raw(gy, b) if self.needs[1] else None)


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return (_fit(gy, a) if self.needs[0] else None,
                _fit(-gy, b) if self.needs[1] else None)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return (_fit(gy * b, a) if self.needs[0] else None,
                _fit(gy * a, b) if self.needs[1] else None)

    def backward_arrays(self, gy):
        a, b = self.inputs
        return (_fit_raw(gy * b.data, a) if self.needs[0] else None,
                _fit_raw(gy * a.data, b) if self.needs[1] else None)


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = gy / b
        return (_fit(ga, a) if self.needs[0] else None,
                _fit(-ga * a / b, b) if self.needs[1] else None)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class PowConst(Function):
    """x ** c for a constant exponent c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x ** self.c

    def backward(self, gy):
        x, = self.inputs
        return gy * (self.c * x ** (self.c - 1))


class Pow(Function):
    """a ** b for two tensors: d/da = b a^(b-1), d/db = a^b log a (a > 0 where b needs it)."""

    save_output = True

    def forward(self, a, b):
        return a ** b

    def backward(self, gy):
        a, b = self.inputs
        return (_fit(gy * b * a ** (b - 1), a) if self.needs[0] else None,
                _fit(gy * self.out() * log(a), b) if self.needs[1] else None)


class Exp(Function):
    save_output = True

    def forward(self, x):
        return get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.out()


class Log(Function):
    def forward(self, x):
        return get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    save_output = True

    def forward(self, x):
        return get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2 * self.out())


class MulMask(Function):
    """x * m for a constant array m (the derivative of a piecewise-linear op)."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, gy):
        return MulMask(self.mask)(gy)


class Abs(Function):
    def forward(self, x):
        return get_array_module(x).abs(x)

    def backward(self, gy):
        x = self.inputs[0].data
        return MulMask(get_array_module(x).sign(x))(gy)


class Clip(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return get_array_module(x).clip(x, self.lo, self.hi)

    def backward(self, gy):
        x = self.inputs[0].data
        inside = x == x
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        return MulMask(inside.astype(x.dtype))(gy)


class Maximum(Function):
    def forward(self, a, b):
        return get_array_module(a).maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        wa = (a.data > b.data) + 0.5 * (a.data == b.data)
        xp = get_array_module(wa)
        wa = xp.broadcast_to(wa, gy.shape).astype(gy.dtype)
        return (_fit(MulMask(wa)(gy), a) if self.needs[0] else None,
                _fit(MulMask(1 - wa)(gy), b) if self.needs[1] else None)


class Where(Function):
    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return get_array_module(a).where(self.cond, a, b)

    def backward(self, gy):
        a, b = self.inputs
        c = get_array_module(self.cond).broadcast_to(self.cond, gy.shape).astype(gy.dtype)
        return (_fit(MulMask(c)(gy), a) if self.needs[0] else None,
                _fit(MulMask(1 - c)(gy), b) if self.needs[1] else None)


def add(a, b):
    return Add()(*_pair(a, b))


def sub(a, b):
    return Sub()(*_pair(a, b))


def mul(a, b):
    return Mul()(*_pair(a, b))


def div(a, b):
    return Div()(*_pair(a, b))


def neg(x):
    return Neg()(as_tensor(x))


def pow(x, exponent):
    """``x ** exponent``; a number exponent needs no gradient of its own."""
    if isinstance(exponent, (int, float)) and isinstance(x, Tensor):
        return PowConst(exponent)(x)
    return Pow()(*_pair(x, exponent))


def exp(x):
    return Exp()(as_tensor(x))


def log(x):
    return Log()(as_tensor(x))


def sqrt(x):
    return Sqrt()(as_tensor(x))


def abs(x):
    return Abs()(as_tensor(x))


def clip(x, min=None, max=None):
    """Clamp to ``[min, max]`` (either may be None)."""
    if min is None and max is None:
        raise ValueError("clip needs at least one of min and max")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min {min} is greater than max {max}")
    return Clip(min, max)(as_tensor(x))


def maximum(a, b):
    return Maximum()(*_pair(a, b))


def minimum(a, b):
    a, b = _pair(a, b)
    return -maximum(-a, -b)


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b`` (broadcast together; no gradient to the
    condition)."""
    cond = condition._data if isinstance(condition, Tensor) else condition
    a, b = _pair(a, b)
    xp = get_array_module(a._data)
    cond = xp.asarray(cond).astype(bool)
    return Where(cond)(a, b)
