"""Matrix products (kept in BLAS / cuBLAS) and the affine map of a Linear layer."""
from minigan.backend import elementwise_kernels as kernels
from minigan.core import Function, Tensor, as_tensor
from minigan.functional.elementwise import MulMask
from minigan.functional.reduction import sum
from minigan.functional.shape import reshape, sum_to, transpose


class MatMul(Function):
    """a @ b for a, b with ndim >= 2; batch dims broadcast as in ``numpy.matmul``."""

    def forward(self, a, b):
        return a @ b

    def backward(self, gy):
        a, b = self.inputs
        ga = gb = None
        if self.needs[0]:
            ga = matmul(gy, transpose(b))
            ga = ga if ga.shape == a.shape else sum_to(ga, a.shape)
        if self.needs[1]:
            gb = matmul(transpose(a), gy)
            gb = gb if gb.shape == b.shape else sum_to(gb, b.shape)
        return ga, gb


def matmul(a, b):
    """Matrix product with ``numpy.matmul``'s rules; 1-D operands are promoted and squeezed."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs at least 1-D operands, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit "
                         f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMul()(a, b)
    a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    y = MatMul()(a2, b2)
    if b.ndim == 1:
        y = reshape(y, y.shape[:-1])
    if a.ndim == 1:
        y = reshape(y, y.shape[:-2] + y.shape[-1:])
    return y


class Linear(Function):
    """y = x W^T + b for x: (N, in), W: (out, in), b: (out,) — one node instead of three."""

    def forward(self, x, w, b=None):
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        return self._grads(gy.data if self.first_order() else gy)

    def _grads(self, g):
        """The three gradients from the gradient g of x W^T + b (an array on the first-order
        path, a Tensor when building a graph)."""
        x, w = self.inputs[:2]
        if not isinstance(g, Tensor):
            return ((g @ w.data) if self.needs[0] else None,
                    (g.T @ x.data) if self.needs[1] else None,
                    (g.sum(0) if self.needs[2] else None) if len(self.inputs) == 3 else None)
        gx = matmul(g, w) if self.needs[0] else None
        gw = matmul(transpose(g), x) if self.needs[1] else None
        if len(self.inputs) == 2:
            return gx, gw
        return gx, gw, (sum(g, 0) if self.needs[2] else None)


class LinearAct(Linear):
    """relu(x W^T + b) (slope 0) or leaky_relu(x W^T + b, slope), slope >= 0, as one node:
    one Function call and one backward step instead of two. The output's sign is the
    pre-activation's, so the saved output gives the activation's derivative."""

    save_output = True

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x, w, b=None):
        y = Linear.forward(self, x, w, b)
        if self.slope == 0:
            return kernels.relu(y, inplace=True)
        return kernels.leaky_relu(y, self.slope)

    def backward(self, gy):
        y = self.y
        if self.first_order():
            g = gy.data
            return self._grads(kernels.relu_grad(y, g) if self.slope == 0 else
                               kernels.leaky_relu_grad(y, g, self.slope))
        return self._grads(MulMask(kernels.leaky_relu_derivative(y, self.slope))(gy))


def linear(x, weight, bias=None, negative_slope=None):
    """The affine map ``x @ weight.T + bias``. x: (*, in), weight: (out, in), bias: (out,).

    With ``negative_slope`` (>= 0) the result goes through leaky_relu with that slope (relu
    for 0) in the same node: the numbers of ``leaky_relu(linear(x, w, b), s)``, faster.
    """
    x, weight = as_tensor(x), as_tensor(weight)
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{weight.shape} (expected (*, {weight.shape[-1]}))")
    args = (x if x.ndim == 2 else reshape(x, (-1, x.shape[-1])), weight)
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias of shape {bias.shape}, expected ({weight.shape[0]},)")
        args += (bias,)
    if negative_slope is None:
        fn = Linear()
    elif negative_slope >= 0:
        fn = LinearAct(float(negative_slope))
    else:
        raise ValueError(f"linear: negative_slope must be >= 0, got {negative_slope}")
    y = fn(*args)
    return y if x.ndim == 2 else reshape(y, x.shape[:-1] + (weight.shape[0],))
