"""The adversarial game as a library: losses, latent samplers, Algorithm 1."""
from minigan.gan.latent import LATENTS, latent_sampler, normal_latent, uniform_latent
from minigan.gan.losses import (
                                GENERATOR_LOSSES,
                                discriminator_loss,
                                generator_loss,
                                joint_discriminator_loss,
)
from minigan.gan.trainer import GANTrainer

__all__ = ["GANTrainer", "GENERATOR_LOSSES", "LATENTS", "discriminator_loss", "generator_loss",
           "joint_discriminator_loss", "latent_sampler", "normal_latent", "uniform_latent"]
