"""minigan: a small deep-learning engine in NumPy, built to rebuild a GAN thesis.

    import minigan as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * x).sum(); y.backward(); x.grad   # tensor([[2., 4.]])
"""
from minigan import _runtime

_runtime.configure()    # before NumPy and Numba load: see minigan/_runtime.py

from minigan import functional, nn, optim, viz
from minigan.backend import (
    Device,
    DeviceMismatchError,
    device,
    get_array_module,
    manual_seed,
    set_default_dtype,
    to_host,
)
from minigan.core import (
                          Function,
                          Parameter,
                          Tensor,
                          enable_grad,
                          grad,
                          is_grad_enabled,
                          is_reference_mode,
                          no_grad,
                          reference_mode,
                          set_grad_enabled,
                          tensor,
)
from minigan.functional import (
                          abs,
                          cat,
                          clip,
                          exp,
                          log,
                          logsumexp,
                          matmul,
                          maximum,
                          mean,
                          minimum,
                          pad,
                          sqrt,
                          stack,
                          sum,
                          where,
)
from minigan.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigan.serialization import load, save

__version__ = "0.1.0"

__all__ = [
    "Function", "Parameter", "Tensor", "abs", "cat", "clip", "enable_grad", "exp", "functional",
    "get_array_module", "grad", "is_grad_enabled", "log", "logsumexp", "manual_seed", "matmul",
    "maximum", "mean", "minimum", "no_grad", "pad", "reference_mode", "is_reference_mode",
    "set_default_dtype", "set_grad_enabled",
    "sqrt", "stack", "sum", "tensor", "where", "nn", "optim", "viz", "gradcheck",
    "gradgradcheck", "GradcheckError", "save", "load", "Device", "DeviceMismatchError", "device",
    "to_host",
]
