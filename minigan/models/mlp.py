"""Fully connected generator and discriminator from a list of hidden sizes (thesis 4.2.1)."""
from minigan import nn

_ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh}


def mlp(in_features, hidden, out_features, activation="relu"):
    """Linear layers of sizes in -> hidden... -> out, ``activation`` between them, none after.

    hidden: a sequence of positive ints (empty for a single affine map).
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    sizes = [in_features, *hidden, out_features]
    if any(int(s) != s or s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be positive integers, got {sizes}")
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def mlp_generator(latent_dim=10, hidden=(64, 32), out_dim=2, activation="relu"):
    """G: z (N, latent_dim) -> x (N, out_dim), linear output."""
    return mlp(latent_dim, hidden, out_dim, activation)


def mlp_discriminator(in_dim=2, hidden=(64, 32), activation="relu"):
    """D: x (N, in_dim) -> logit (N, 1). The sigmoid is applied inside the loss
    (BCE with logits), which is exact where a separate sigmoid would saturate."""
    return mlp(in_dim, hidden, 1, activation)
