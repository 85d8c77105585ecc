"""Weight initialisation, in place, drawing from an explicit generator.

Fans follow PyTorch: for a weight (out, in, *k) fan_in = in * prod(k), fan_out = out * prod(k).
"""
import math

from minigan.backend import default_generator, get_array_module


def _rng(generator):
    return generator if generator is not None else default_generator()


def _set(tensor, values):
    xp = get_array_module(tensor.data)
    tensor.data[...] = xp.asarray(values, dtype=tensor.dtype)
    tensor.bump_version()
    return tensor


def calculate_fans(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fans need a weight of at least 2 dims, got shape {shape}")
    k = math.prod(shape[2:])
    return shape[1] * k, shape[0] * k


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance steady (Glorot; He et al. 2015)."""
    if nonlinearity in ("linear", "sigmoid", "conv2d", "conv_transpose2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _set(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _set(tensor, _rng(generator).normal(mean, std, tensor.shape))


def constant_(tensor, value):
    tensor.data[...] = value
    tensor.bump_version()
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = calculate_fans(tensor)[0 if mode == "fan_in" else 1]
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
