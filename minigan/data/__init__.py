"""Datasets: Gaussian mixtures with exact densities, IDX files (MNIST, Fashion-MNIST), image
folders, and a minibatch loader."""
from minigan.data.idx import IDXError, read_idx, write_idx
from minigan.data.images import load_image_folder
from minigan.data.loader import DataLoader, to_symmetric, to_unit
from minigan.data.mixture import (
    PRESETS,
    GaussianMixture,
    grid_mixture,
    normal_cdf,
    ring_mixture,
    thesis_mixture,
)
from minigan.data.mnist import ChecksumError, Dataset, load_fashion_mnist, load_mnist

__all__ = ["ChecksumError", "DataLoader", "Dataset", "GaussianMixture", "IDXError", "PRESETS",
           "grid_mixture", "load_fashion_mnist", "load_image_folder", "load_mnist",
           "normal_cdf", "read_idx", "ring_mixture", "thesis_mixture", "to_symmetric",
           "to_unit", "write_idx"]
