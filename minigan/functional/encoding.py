"""Class labels as inputs: one-hot codes (data, never differentiated)."""
from minigan.backend import default_dtype, device_of, get_array_module, to_device
from minigan.backend import elementwise_kernels as kernels
from minigan.core import Function, Tensor, as_tensor
from minigan.functional.shape import GetItem


def _labels(labels, num_classes, name):
    """``labels`` as a 1-D integer array in [0, num_classes); a clear error if not."""
    if isinstance(labels, Tensor):
        if labels.requires_grad:
            raise TypeError(f"{name}: labels are data and cannot require grad")
        labels = labels._data
    xp = get_array_module(labels)
    labels = xp.asarray(labels)
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"{name}: num_classes must be a positive integer, got {num_classes}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"{name}: labels must be a 1-D array of integers, got shape "
                         f"{labels.shape} of {labels.dtype}")
    bad = kernels.first_label_outside(labels, int(num_classes))
    if bad >= 0:
        raise ValueError(f"{name}: label {int(labels[bad])} is outside [0, {int(num_classes)})")
    return labels


def one_hot(labels, num_classes, dtype=None):
    """labels: (N,) integers in [0, num_classes) -> (N, num_classes) float Tensor with a 1 in
    each row's label column. The result is a constant: labels are data, so no gradient flows
    to them (a Tensor of labels must not require grad)."""
    labels = _labels(labels, num_classes, "one_hot")
    xp = get_array_module(labels)
    out = xp.zeros((labels.shape[0], int(num_classes)), dtype=dtype or default_dtype())
    out[xp.arange(labels.shape[0]), labels] = 1
    return Tensor(out)


class CatOneHot(Function):
    """[x, one_hot(labels)] along dim 1 as one node; the gradient is gy's first columns."""

    def __init__(self, labels, num_classes):
        self.labels, self.k = labels, int(num_classes)

    def forward(self, x):
        self.d = x.shape[1]
        return kernels.cat_one_hot(x, self.labels, self.k)

    def backward(self, gy):
        return GetItem((slice(None), slice(0, self.d)), False)(gy)

    def backward_arrays(self, gy):
        return gy[:, :self.d]


def cat_one_hot(x, labels, num_classes):
    """``cat([x, one_hot(labels, num_classes)], 1)`` for x (N, d), in one node (the
    conditional models' input, Mirza & Osindero 2014): the same numbers and gradient, with
    one node and one check of the labels instead of two ops. Labels get no gradient."""
    x = as_tensor(x)
    labels = _labels(labels, num_classes, "cat_one_hot")
    labels = to_device(labels, device_of(x._data))     # indices, as in getitem: part of the op
    if x.ndim != 2 or x.shape[0] != labels.shape[0]:
        raise ValueError(f"cat_one_hot: x must be (N, d) with N labels, got x {x.shape} and "
                         f"{labels.shape[0]} labels")
    return CatOneHot(labels, num_classes)(x)


__all__ = ["cat_one_hot", "one_hot"]
