"""The thesis's architectures, built from minigan.nn."""
from minigan.models.cnn import ThesisCNN
from minigan.models.dcgan import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    dcgan_discriminator,
    dcgan_generator,
    dcgan_init,
)
from minigan.models.mlp import (
    ConditionalMLP,
    conditional_mlp_discriminator,
    conditional_mlp_generator,
    mlp,
    mlp_discriminator,
    mlp_generator,
)

__all__ = ["ConditionalDCGANDiscriminator", "ConditionalDCGANGenerator", "ConditionalMLP",
           "ThesisCNN", "conditional_mlp_discriminator", "conditional_mlp_generator",
           "dcgan_discriminator", "dcgan_generator", "dcgan_init", "mlp",
           "mlp_discriminator", "mlp_generator"]
