"""Batch normalisation (Ioffe & Szegedy 2015, eq. in Alg. 1) for (N, C) and (N, C, *) inputs."""
from minigan.core import as_tensor, no_grad
from minigan.functional.reduction import mean
from minigan.functional.shape import reshape


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) by batch statistics in training, running ones in eval.

    x: (N, C) or (N, C, *). In training the running statistics (arrays or Tensors of shape (C,),
    or None) are updated in place: r <- (1 - momentum) r + momentum * batch statistic, with the
    unbiased variance, as PyTorch does.
    """
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
        mu = mean(x, axes, keepdim=True)
        d = x - mu
        v = mean(d * d, axes, keepdim=True)
        _update(running_mean, running_var, mu.data, v.data, n, momentum)
        y = d / (v + eps) ** 0.5
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in eval needs running_mean and running_var")
        rm, rv = (r.data if hasattr(r, "creator") else r for r in (running_mean, running_var))
        y = (x - rm.reshape(shape)) / ((rv.reshape(shape) + eps) ** 0.5)
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def _update(running_mean, running_var, mu, v, n, momentum):
    with no_grad():
        for r, stat in ((running_mean, mu), (running_var, v * (n / (n - 1)))):
            if r is None:
                continue
            arr = r.data if hasattr(r, "creator") else r
            arr *= 1 - momentum
            arr += momentum * stat.reshape(-1).astype(arr.dtype)
