"""The thesis's architectures, built from minigan.nn."""
from minigan.models.mlp import mlp, mlp_discriminator, mlp_generator

__all__ = ["mlp", "mlp_discriminator", "mlp_generator"]
