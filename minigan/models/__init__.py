"""The thesis's architectures, built from minigan.nn."""
from minigan.models.cnn import ThesisCNN
from minigan.models.dcgan import dcgan_discriminator, dcgan_generator
from minigan.models.mlp import mlp, mlp_discriminator, mlp_generator

__all__ = ["ThesisCNN", "dcgan_discriminator", "dcgan_generator", "mlp", "mlp_discriminator",
           "mlp_generator"]
