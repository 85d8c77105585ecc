"""Fully connected generator and discriminator from a list of hidden sizes (thesis 4.2.1), and
their conditional versions (thesis 5.1.1)."""
from minigan import functional as F
from minigan import nn
from minigan.core import as_tensor

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


class ConditionalMLP(nn.Module):
    """An MLP of (x, labels): the labels' one-hot code is concatenated to x (Mirza & Osindero
    2014), so x (N, in_features) and labels (N,) ints -> (N, out_features). Labels are data:
    no gradient reaches them."""

    def __init__(self, in_features, n_classes, hidden, out_features, activation="relu"):
        super().__init__()
        if int(n_classes) != n_classes or n_classes < 1:
            raise ValueError(f"n_classes must be a positive integer, got {n_classes}")
        self.in_features, self.n_classes = in_features, int(n_classes)
        self.net = mlp(in_features + self.n_classes, hidden, out_features, activation)

    def forward(self, x, labels):
        x = as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.in_features or len(labels) != x.shape[0]:
            raise ValueError(f"ConditionalMLP: x must be (N, {self.in_features}) with N labels, "
                             f"got x {x.shape} and {len(labels)} labels")
        return self.net(F.cat_one_hot(x, labels, self.n_classes))


def conditional_mlp_generator(latent_dim, n_classes, hidden=(1024,), out_dim=2,
                              activation="relu"):
    """G(z, y): (N, latent_dim) and (N,) labels -> (N, out_dim), linear output."""
    return ConditionalMLP(latent_dim, n_classes, hidden, out_dim, activation)


def conditional_mlp_discriminator(in_dim, n_classes, hidden=(1024,), activation="relu"):
    """D(x, y): (N, in_dim) and (N,) labels -> logit (N, 1)."""
    return ConditionalMLP(in_dim, n_classes, hidden, 1, activation)
