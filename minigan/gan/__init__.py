"""The adversarial game as a library: losses, latent samplers, Algorithm 1."""
from minigan.gan.latent import LATENTS, latent_sampler, normal_latent, uniform_latent
from minigan.gan.losses import (
    GENERATOR_LOSSES,
    OBJECTIVES,
    critic_generator_loss,
    critic_losses,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    joint_discriminator_loss,
    r1_penalty,
)
from minigan.gan.trainer import GANTrainer

__all__ = ["GANTrainer", "GENERATOR_LOSSES", "LATENTS", "OBJECTIVES", "critic_generator_loss",
           "critic_losses", "discriminator_loss", "generator_loss", "gradient_penalty",
           "joint_discriminator_loss", "latent_sampler", "normal_latent", "r1_penalty",
           "uniform_latent"]
