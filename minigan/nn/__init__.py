"""minigan.nn: Module, layers and initialisation (PyTorch's names and defaults)."""
from minigan import functional
from minigan.core import Parameter
from minigan.nn import init
from minigan.nn.fuse import FusedSequential, fuse
from minigan.nn.layers import (
                               BatchNorm1d,
                               BatchNorm2d,
                               Dropout,
                               Flatten,
                               Identity,
                               LeakyReLU,
                               Linear,
                               ReLU,
                               Sequential,
                               Sigmoid,
                               Tanh,
)
from minigan.nn.module import Module
from minigan.nn.spatial import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d

__all__ = [
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout", "Flatten",
    "FusedSequential", "Identity", "LeakyReLU", "Linear", "MaxPool2d", "Module", "Parameter",
    "ReLU", "Sequential", "Sigmoid", "Tanh", "functional", "fuse", "init",
]
