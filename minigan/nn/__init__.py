"""minigan.nn: Module, layers and initialisation (PyTorch's names and defaults)."""
from minigan import functional
from minigan.core import Parameter
from minigan.nn import init
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

__all__ = ["BatchNorm1d", "BatchNorm2d", "Dropout", "Flatten", "Identity", "LeakyReLU", "Linear",
           "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh", "functional", "init"]
