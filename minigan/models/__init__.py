"""The thesis's architectures, built from minigan.nn."""
from minigan.models.cnn import ThesisCNN
from minigan.models.mlp import mlp, mlp_discriminator, mlp_generator

__all__ = ["ThesisCNN", "mlp", "mlp_discriminator", "mlp_generator"]
