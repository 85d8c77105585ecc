"""The adversarial losses (Goodfellow et al. 2014, eq. 1 and sec. 3), on D's logits.

With D(x) = sigmoid(l(x)): log D = -softplus(-l) and log(1 - D) = -softplus(l), so every loss is
a binary cross-entropy with logits — exact for any logit, no log of a saturated sigmoid.
"""
import functools

import numpy as np

from minigan import functional as F
from minigan.backend import get_array_module

GENERATOR_LOSSES = ("non_saturating", "minimax")


def discriminator_loss(real_logits, fake_logits):
    """-E[log D(x)] - E[log(1 - D(G(z)))]: D is a classifier of real (1) against fake (0)."""
    xp = get_array_module(real_logits.data)
    return (F.binary_cross_entropy_with_logits(real_logits, xp.ones_like(real_logits.data))
            + F.binary_cross_entropy_with_logits(fake_logits, xp.zeros_like(fake_logits.data)))


def joint_discriminator_loss(logits, n_real):
    """discriminator_loss on one batch of logits, real rows first (``n_real`` of them), fake
    after: one cross-entropy with per-row targets and weights 1 / n_real, 1 / n_fake — the
    same loss (up to rounding), without splitting the batch (one node instead of five)."""
    n = logits.shape[0]
    if not 0 < n_real < n:
        raise ValueError(f"joint_discriminator_loss: n_real must be in (0, {n}), got {n_real}")
    target, weight = _joint_constants(get_array_module(logits.data), logits.shape, n_real,
                                      logits.dtype)
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum", weight=weight)


@functools.lru_cache(maxsize=16)
def _joint_constants(xp, shape, n_real, dtype):
    """Per-row targets (1 then 0) and weights (1 / n_real, then 1 / n_fake), made once per
    batch geometry and never written to."""
    target = xp.zeros(shape, dtype=dtype)
    target[:n_real] = 1
    weight = xp.full(shape, 1 / (shape[0] - n_real), dtype=dtype)
    weight[:n_real] = 1 / n_real
    for a in (target, weight):
        if isinstance(a, np.ndarray):         # CuPy arrays have no read-only flag
            a.flags.writeable = False
    return target, weight


def generator_loss(fake_logits, kind="non_saturating"):
    """``'non_saturating'``: -E[log D(G(z))] (strong gradients early, the thesis's choice);
    ``'minimax'``: E[log(1 - D(G(z)))], the game's own objective, which saturates when D wins."""
    target = fake_logits.data * 0 + 1
    if kind == "non_saturating":
        return F.binary_cross_entropy_with_logits(fake_logits, target)
    if kind == "minimax":
        return -F.binary_cross_entropy_with_logits(fake_logits, target * 0)
    raise ValueError(f"generator loss must be one of {GENERATOR_LOSSES}, got {kind!r}")
