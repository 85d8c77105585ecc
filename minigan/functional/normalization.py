"""Batch normalisation (Ioffe & Szegedy 2015, eq. in Alg. 1) for (N, C) and (N, C, *) inputs."""
from minigan.backend import elementwise_kernels, get_array_module, norm_kernels
from minigan.core import Function, as_tensor, no_grad
from minigan.functional.activation import fused_slope, leaky_relu, relu
from minigan.functional.elementwise import MulMask
from minigan.functional.reduction import mean, sum
from minigan.functional.shape import reshape


class BatchNormTrain(Function):
    """Training-mode batch norm as one node: y = (x - mu) / sqrt(var + eps) [* w + b], with
    the batch's mean and biased variance per channel (axis 1). Inputs: x, or x, w, b.

    Forward keeps the batch's mean and 1 / sigma = 1 / sqrt(var + eps); the first-order
    backward is the closed form gx = w / sigma * (gy - mean(gy) - x_hat * mean(gy * x_hat)),
    x_hat = (x - mean) / sigma recomputed from x. With ``create_graph`` the
    same formula is built from minigan ops on the inputs, so second derivatives flow.

    ``slope`` (>= 0, or None) puts relu (0) or leaky_relu (> 0) on the output in the same
    pass, and the activation's gradient into the backward's: the numbers of the two ops.
    """

    def __init__(self, axes, shape, eps, slope=None):
        self.axes, self.shape, self.eps, self.slope = axes, shape, eps, slope

    def forward(self, x, w=None, b=None):
        xp = get_array_module(x)
        c = x.shape[1]
        if w is None:
            w, b = xp.ones(c, dtype=x.dtype), xp.zeros(c, dtype=x.dtype)
        y, self.mu, self.var, self.inv = norm_kernels.bn_forward(
            _by_channel(x), w, b, self.eps, self.slope)
        if self.slope is not None:
            self.y = y                 # its sign is the activation's input's
        return y.reshape(x.shape)

    def backward_arrays(self, gy):
        x = self.inputs[0]
        affine = len(self.inputs) == 3
        y = None if self.slope is None else self.y
        scale = self.inv * self.inputs[1].data if affine else self.inv
        gx, gw, gb = norm_kernels.bn_backward(_by_channel(gy), _by_channel(x.data), self.mu,
                                              self.inv, scale, y, self.slope)
        gx = gx.reshape(x.shape) if self.needs[0] else None
        if not affine:
            return gx
        return gx, gw if self.needs[1] else None, gb if self.needs[2] else None

    def backward(self, gy):
        x = self.inputs[0]
        affine = len(self.inputs) == 3
        y = None if self.slope is None else self.y
        if y is not None:
            mask = elementwise_kernels.leaky_relu_derivative(y, self.slope)
            gy = MulMask(mask.reshape(gy.shape))(gy)
        mu = mean(x, self.axes, keepdim=True)
        d = x - mu
        inv = (mean(d * d, self.axes, keepdim=True) + self.eps) ** -0.5
        xhat = d * inv
        gw = sum(gy * xhat, self.axes, keepdim=True)
        gb = sum(gy, self.axes, keepdim=True)
        scale = inv * reshape(self.inputs[1], self.shape) if affine else inv
        gx = scale * (gy - mean(gy, self.axes, keepdim=True)
                      - xhat * mean(gy * xhat, self.axes, keepdim=True))
        if not affine:
            return gx
        return gx, reshape(gw, (-1,)), reshape(gb, (-1,))


def _by_channel(a):
    """(N, C, ...) as (N, C, S), the kernels' layout."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, activation=None, negative_slope=0.01):
    """Normalise each channel (axis 1) by batch statistics in training, running ones in eval.

    x: (N, C) or (N, C, *). In training the running statistics (arrays or Tensors of shape (C,),
    or None) are updated in place: r <- (1 - momentum) r + momentum * batch statistic, with the
    unbiased variance, as PyTorch does.

    ``activation`` "relu" or "leaky_relu" (with ``negative_slope`` >= 0) applies it in the
    same node in training: the numbers of ``relu(batch_norm(...))``, faster (``nn.fuse``).
    """
    negative_slope = fused_slope(activation, negative_slope, "batch_norm")
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm needs (N, C) or (N, C, *), got shape {x.shape}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(t.shape)}, expected ({c},)")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        n = x.size // c
        if n < 2:
            raise ValueError(f"batch_norm in training needs more than one value per channel, "
                             f"got input of shape {x.shape}")
        affine = [as_tensor(t) for t in (weight, bias)] if weight is not None and \
            bias is not None else []
        whole = affine or (weight is None and bias is None)    # the node gives the result
        fn = BatchNormTrain(axes, shape, eps, negative_slope if whole else None)
        y = fn(x, *affine)
        _update(running_mean, running_var, fn.mu, fn.var, n, momentum)
        if whole:
            return y
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in eval needs running_mean and running_var")
        rm, rv = (r._data if hasattr(r, "creator") else r for r in (running_mean, running_var))
        y = (x - rm.reshape(shape)) / ((rv.reshape(shape) + eps) ** 0.5)
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    if negative_slope is None:
        return y
    return relu(y) if negative_slope == 0 else leaky_relu(y, negative_slope)


def _update(running_mean, running_var, mu, v, n, momentum):
    with no_grad():
        for r, stat in ((running_mean, mu), (running_var, v * (n / (n - 1)))):
            if r is None:
                continue
            arr = r._data if hasattr(r, "creator") else r
            arr *= 1 - momentum
            arr += momentum * stat.reshape(-1).astype(arr.dtype)
