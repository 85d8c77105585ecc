"""A DCGAN for 28x28 images (Radford et al. 2016, as the thesis's 4.2.2 uses it)."""
from minigan import nn


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)


def dcgan_generator(latent_dim=100, channels=1, width=128):
    """z (N, latent_dim) -> image (N, channels, 28, 28) in [-1, 1]: linear to width x 7 x 7,
    transposed convolutions 7 -> 14 -> 28 with batch norm and ReLU, tanh at the end."""
    return nn.Sequential(
        nn.Linear(latent_dim, width * 7 * 7), nn.BatchNorm1d(width * 7 * 7), nn.ReLU(),
        Reshape(width, 7, 7),
        nn.ConvTranspose2d(width, width // 2, 4, stride=2, padding=1),
        nn.BatchNorm2d(width // 2), nn.ReLU(),
        nn.ConvTranspose2d(width // 2, channels, 4, stride=2, padding=1), nn.Tanh())


def dcgan_discriminator(channels=1, width=32):
    """image (N, channels, 28, 28) -> logit (N, 1): strided convolutions 28 -> 14 -> 7 -> 4 with
    leaky ReLU (0.2) and batch norm, then a linear layer."""
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.BatchNorm2d(2 * width),
        nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1), nn.BatchNorm2d(4 * width),
        nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(4 * width * 16, 1))
