"""Datasets: Gaussian mixtures with exact densities (more to come: IDX files, image folders)."""
from minigan.data.mixture import (
                                  PRESETS,
                                  GaussianMixture,
                                  grid_mixture,
                                  normal_cdf,
                                  ring_mixture,
                                  thesis_mixture,
)

__all__ = ["GaussianMixture", "PRESETS", "grid_mixture", "normal_cdf", "ring_mixture",
           "thesis_mixture"]
