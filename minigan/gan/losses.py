"""The adversarial losses (Goodfellow et al. 2014, eq. 1 and sec. 3), on D's logits.

With D(x) = sigmoid(l(x)): log D = -softplus(-l) and log(1 - D) = -softplus(l), so every loss is
a binary cross-entropy with logits — exact for any logit, no log of a saturated sigmoid.
"""
import functools

import numpy as np

from minigan import functional as F
from minigan.backend import get_array_module
from minigan.core import Tensor, grad

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


# --- beyond the thesis: other objectives and gradient penalties --------------------------------

OBJECTIVES = ("standard", "wgan", "hinge")


def critic_losses(real_out, fake_out, objective):
    """D's loss for the objectives that read D's output as a score, not a probability:
    ``'wgan'`` (Arjovsky et al. 2017), E[D(G(z))] - E[D(x)], the Wasserstein-1 distance's
    dual with D as the critic (made 1-Lipschitz by a gradient penalty); ``'hinge'`` (Lim & Ye
    2017, Miyato et al. 2018), E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    if objective == "wgan":
        return fake_out.mean() - real_out.mean()
    if objective == "hinge":
        return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()
    raise ValueError(f"critic_losses: objective must be 'wgan' or 'hinge', got {objective!r}")


def critic_generator_loss(fake_out):
    """G's loss under 'wgan' and 'hinge': -E[D(G(z))]."""
    return -fake_out.mean()


def _squared_input_gradients(D, x):
    """|dD/dx_i|^2 for each row i of ``x`` (a tensor that requires grad), as a differentiable
    (N,) tensor: the gradient is taken with create_graph=True, so the penalty built from it
    has a gradient with respect to D's weights."""
    g, = grad(D(x).sum(), x, create_graph=True)    # rows are independent: the sum's gradient
    return (g * g).reshape(g.shape[0], -1).sum(1)  # is each row's own


def gradient_penalty(D, real, fake, eps, weight=10.0):
    """WGAN-GP (Gulrajani et al. 2017): weight * E[(|grad D(x_hat)| - 1)^2] at the points
    x_hat = eps x + (1 - eps) G(z) between real and fake rows. real, fake: arrays or tensors of
    one shape (N, ...), fake detached from G; eps: (N, 1, ...) uniform draws in [0, 1].
    D: a callable x -> (N, 1) (for a conditional D, ``lambda x: D(x, y)``)."""
    real, fake = _values(real), _values(fake)
    eps = eps.astype(real.dtype, copy=False)
    x_hat = Tensor(eps * real + (1 - eps) * fake, requires_grad=True)
    norm = (_squared_input_gradients(D, x_hat) + 1e-12) ** 0.5
    return weight * ((norm - 1) ** 2).mean()


def r1_penalty(D, real, gamma):
    """R1 (Mescheder et al. 2018): gamma / 2 * E[|grad D(x)|^2] on real data x."""
    x = Tensor(_values(real), requires_grad=True)
    return (gamma / 2) * _squared_input_gradients(D, x).mean()


def _values(x):
    """The array behind a tensor (no graph kept: a penalty starts from the data), or x."""
    return x._data if isinstance(x, Tensor) else x
