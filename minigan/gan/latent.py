"""Latent samplers: z ~ Uniform[0, 1]^m (the thesis's) or N(0, I)."""
import numpy as np


def uniform_latent(n, dim, rng, dtype=np.float32):
    return rng.random((n, dim), dtype=np.float64).astype(dtype, copy=False)


def normal_latent(n, dim, rng, dtype=np.float32):
    return rng.standard_normal((n, dim)).astype(dtype, copy=False)


LATENTS = {"uniform": uniform_latent, "normal": normal_latent}


def latent_sampler(kind, dim):
    """A function (n, rng) -> (n, dim) float32 array for ``kind`` in LATENTS."""
    if kind not in LATENTS:
        raise ValueError(f"latent distribution must be one of {sorted(LATENTS)}, got {kind!r}")
    if dim < 1:
        raise ValueError(f"latent dimension must be positive, got {dim}")
    draw = LATENTS[kind]
    return lambda n, rng: draw(n, dim, rng)
