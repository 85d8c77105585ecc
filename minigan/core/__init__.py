"""Tensors, Functions and the backward pass: the engine's heart, with no ops of its own."""
from minigan.core.autograd import backward, grad, trace_backward
from minigan.core.function import (
    Function,
    enable_grad,
    is_grad_enabled,
    is_reference_mode,
    no_grad,
    reference_mode,
    set_grad_enabled,
)
from minigan.core.tensor import Parameter, Tensor, as_tensor, mark_changed, tensor

__all__ = ["Tensor", "Parameter", "Function", "tensor", "as_tensor", "backward", "grad",
           "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "mark_changed",
           "is_reference_mode", "reference_mode",
           "trace_backward"]
