"""The thesis's architectures, built from minigan.nn."""
from minigan.models.cnn import ThesisCNN
from minigan.models.dcgan import dcgan_discriminator, dcgan_generator
from minigan.models.mlp import (
    ConditionalMLP,
    conditional_mlp_discriminator,
    conditional_mlp_generator,
    mlp,
    mlp_discriminator,
    mlp_generator,
)

__all__ = ["ConditionalMLP", "ThesisCNN", "conditional_mlp_discriminator",
           "conditional_mlp_generator", "dcgan_discriminator", "dcgan_generator", "mlp",
           "mlp_discriminator", "mlp_generator"]
