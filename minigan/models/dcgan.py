"""The thesis's DCGAN for 28x28 images (Radford et al. 2016; thesis 4.2.2) and its conditional
version (thesis 5.1.2).

G: z -> a fully connected layer to 128 x 7 x 7 -> transposed convolutions up to 64 channels at
14 x 14 and 32 at 28 x 28 (each with batch norm and ReLU) -> a 3 x 3 convolution to the image's
channels, tanh. D: strided convolutions to 32 channels at 14 x 14, 64 at 7 x 7 and 128 at
4 x 4 (LeakyReLU 0.2; batch norm on the second and third) -> a linear logit. The conditional
pair gets the label one-hot: concatenated to z for G, and as constant feature maps (one per
class) stacked on D's input image.
"""
import numpy as np

from minigan import functional as F
from minigan import nn
from minigan.backend import device_of, get_array_module, to_device
from minigan.core import Tensor, as_tensor, no_grad


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


SIZES = {28: 2, 64: 3}      # image side: up-sampling layers of G (7 -> 28, 8 -> 64)


def _ups(image_size):
    if image_size not in SIZES:
        raise ValueError(f"image_size must be one of {sorted(SIZES)}, got {image_size}")
    return SIZES[image_size]


def dcgan_generator(latent_dim=100, channels=1, width=128, image_size=28):
    """z (N, latent_dim) -> image (N, channels, S, S) in [-1, 1], S = ``image_size``: 28 (the
    thesis's Fashion-MNIST model: 128 x 7 x 7 -> 64 @ 14 -> 32 @ 28) or 64 (its CelebA model:
    one more up-sampling, 256 x 8 x 8 -> 128 @ 16 -> 64 @ 32 -> 32 @ 64)."""
    ups = _ups(image_size)
    base, c = image_size >> ups, width << (ups - 2)
    layers = [nn.Linear(latent_dim, c * base * base), nn.BatchNorm1d(c * base * base),
              nn.ReLU(), Reshape(c, base, base)]
    for _ in range(ups):
        layers += [nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1),
                   nn.BatchNorm2d(c // 2), nn.ReLU()]
        c //= 2
    return nn.Sequential(*layers, nn.Conv2d(c, channels, 3, padding=1), nn.Tanh())


def dcgan_discriminator(channels=1, width=32, image_size=28):
    """image (N, channels, S, S) -> logit (N, 1): strided convolutions halving the side down
    to 4 x 4 (28: 32 @ 14, 64 @ 7, 128 @ 4; 64: 32 @ 32 ... 256 @ 4), batch norm on all but
    the first, LeakyReLU 0.2, a linear logit."""
    downs = _ups(image_size) + 1
    layers, c = [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)], width
    for i in range(1, downs):
        k = 3 if i == downs - 1 and image_size == 28 else 4        # 7 -> 4
        layers += [nn.Conv2d(c, 2 * c, k, stride=2, padding=1), nn.BatchNorm2d(2 * c),
                   nn.LeakyReLU(0.2)]
        c *= 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * 16, 1))


def dcgan_init(module, rng):
    """The DCGAN paper's initialisation, in place: every convolution and linear weight from
    N(0, 0.02), batch-norm scales from N(1, 0.02), all biases 0. ``rng``: a numpy Generator."""
    with no_grad():
        for m in module.modules():
            if getattr(m, "weight", None) is None:
                continue
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.data = rng.normal(0, 0.02, m.weight.shape).astype(m.weight.dtype)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.data = rng.normal(1, 0.02, m.weight.shape).astype(m.weight.dtype)
            else:
                continue
            if m.bias is not None:
                m.bias.data = np.zeros(m.bias.shape, dtype=m.bias.dtype)
    return module


class ConditionalDCGANGenerator(nn.Module):
    """G(z, y): the label's one-hot code concatenated to z (N, latent_dim)."""

    def __init__(self, latent_dim=100, n_classes=10, channels=1, width=128):
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.net = dcgan_generator(latent_dim + n_classes, channels, width)

    def forward(self, z, labels):
        z = as_tensor(z)
        return self.net(F.cat_one_hot(z, labels, self.n_classes))


class ConditionalDCGANDiscriminator(nn.Module):
    """D(x, y): the label as ``n_classes`` constant feature maps (1 in its class's map, 0 in
    the others) stacked on the image (N, channels, 28, 28)."""

    def __init__(self, n_classes=10, channels=1, width=32):
        super().__init__()
        self.n_classes = n_classes
        self.net = dcgan_discriminator(channels + n_classes, width)

    def forward(self, x, labels):
        x = as_tensor(x)
        labels = labels.data if isinstance(labels, Tensor) else labels
        code = F.one_hot(to_device(labels, device_of(x.data)), self.n_classes,
                         dtype=x.dtype).data
        maps = Tensor(get_array_module(code).broadcast_to(code[:, :, None, None],
                                      (len(code), self.n_classes) + tuple(x.shape[2:])))
        return self.net(F.cat([x, maps], 1))
