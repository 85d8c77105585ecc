"""Class labels as inputs: one-hot codes (data, never differentiated)."""
from minigan.backend import default_dtype, get_array_module
from minigan.core import Tensor


def one_hot(labels, num_classes, dtype=None):
    """labels: (N,) integers in [0, num_classes) -> (N, num_classes) float Tensor with a 1 in
    each row's label column. The result is a constant: labels are data, so no gradient flows
    to them (a Tensor of labels must not require grad)."""
    if isinstance(labels, Tensor):
        if labels.requires_grad:
            raise TypeError("one_hot: labels are data and cannot require grad")
        labels = labels.data
    xp = get_array_module(labels)
    labels = xp.asarray(labels)
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive integer, got {num_classes}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"one_hot: labels must be a 1-D array of integers, got shape "
                         f"{labels.shape} of {labels.dtype}")
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise ValueError(f"one_hot: label {int(bad)} is outside [0, {int(num_classes)})")
    out = xp.zeros((labels.shape[0], int(num_classes)), dtype=dtype or default_dtype())
    out[xp.arange(labels.shape[0]), labels] = 1
    return Tensor(out)


__all__ = ["one_hot"]
