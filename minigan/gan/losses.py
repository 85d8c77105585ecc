"""The adversarial losses (Goodfellow et al. 2014, eq. 1 and sec. 3), on D's logits.

With D(x) = sigmoid(l(x)): log D = -softplus(-l) and log(1 - D) = -softplus(l), so every loss is
a binary cross-entropy with logits — exact for any logit, no log of a saturated sigmoid.
"""
from minigan import functional as F

GENERATOR_LOSSES = ("non_saturating", "minimax")


def discriminator_loss(real_logits, fake_logits):
    """-E[log D(x)] - E[log(1 - D(G(z)))]: D is a classifier of real (1) against fake (0)."""
    ones = real_logits.data * 0 + 1
    return (F.binary_cross_entropy_with_logits(real_logits, ones)
            + F.binary_cross_entropy_with_logits(fake_logits, ones * 0))


def generator_loss(fake_logits, kind="non_saturating"):
    """``'non_saturating'``: -E[log D(G(z))] (strong gradients early, the thesis's choice);
    ``'minimax'``: E[log(1 - D(G(z)))], the game's own objective, which saturates when D wins."""
    target = fake_logits.data * 0 + 1
    if kind == "non_saturating":
        return F.binary_cross_entropy_with_logits(fake_logits, target)
    if kind == "minimax":
        return -F.binary_cross_entropy_with_logits(fake_logits, target * 0)
    raise ValueError(f"generator loss must be one of {GENERATOR_LOSSES}, got {kind!r}")
