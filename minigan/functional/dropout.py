"""Inverted dropout: zero each element with probability p and scale the rest by 1 / (1 - p)."""
from minigan.backend import default_generator, get_array_module
from minigan.core import as_tensor
from minigan.functional.elementwise import MulMask


def dropout(x, p=0.5, training=True, generator=None):
    """x: any shape. The mask is drawn from ``generator`` (default: minigan's generator)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0:
        return x
    rng = generator if generator is not None else default_generator()
    keep = rng.random(x.shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    xp = get_array_module(x._data)
    mask = xp.asarray(keep * scale, dtype=x.dtype)
    return MulMask(mask)(x)
