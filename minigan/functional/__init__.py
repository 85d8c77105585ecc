"""minigan.functional (import as F): every differentiable op, on Tensors, PyTorch-named."""
from minigan.functional import methods as _methods
from minigan.functional.activation import (
                                           leaky_relu,
                                           log_softmax,
                                           relu,
                                           sigmoid,
                                           softmax,
                                           softplus,
                                           tanh,
)
from minigan.functional.conv import conv2d, conv_transpose2d
from minigan.functional.dropout import dropout
from minigan.functional.elementwise import (
                                           abs,
                                           add,
                                           clip,
                                           div,
                                           exp,
                                           log,
                                           maximum,
                                           minimum,
                                           mul,
                                           neg,
                                           pow,
                                           sqrt,
                                           sub,
                                           where,
)
from minigan.functional.encoding import cat_one_hot, one_hot
from minigan.functional.linalg import linear, linear_chain, matmul
from minigan.functional.loss import (
                                           binary_cross_entropy,
                                           binary_cross_entropy_with_logits,
                                           cross_entropy,
                                           l1_loss,
                                           mse_loss,
                                           nll_loss,
)
from minigan.functional.normalization import batch_norm
from minigan.functional.pooling import avg_pool2d, max_pool2d
from minigan.functional.reduction import logsumexp, max, mean, min, sum, var
from minigan.functional.shape import (
                                           broadcast_to,
                                           cat,
                                           flatten,
                                           getitem,
                                           pad,
                                           permute,
                                           reshape,
                                           squeeze,
                                           stack,
                                           sum_to,
                                           to_device,
                                           to_dtype,
                                           transpose,
                                           unsqueeze,
)

_methods.install()

clamp = clip

__all__ = [
    "abs", "add", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "broadcast_to", "cat", "cat_one_hot", "clamp", "clip",
    "conv2d",
    "conv_transpose2d", "cross_entropy", "div", "dropout", "exp", "flatten", "getitem", "l1_loss",
    "leaky_relu", "linear", "linear_chain", "log", "log_softmax", "logsumexp", "matmul", "max",
    "max_pool2d", "maximum", "mean", "min", "minimum", "mse_loss", "mul", "neg", "nll_loss",
    "one_hot", "pad", "permute", "pow", "relu", "reshape", "sigmoid", "softmax", "softplus",
    "sqrt", "squeeze", "stack", "sub", "sum", "sum_to", "tanh", "to_device", "to_dtype",
    "transpose", "unsqueeze", "var", "where",
]
