"""The array-module switch, the dtype policy and the random generator.

Every op asks ``get_array_module(x)`` for the module that owns its arrays: NumPy on the CPU,
CuPy on the GPU. CuPy is imported only when an array of it is seen (or asked for), so a machine
without it never pays for it, and a missing CuPy gives one clear error.
"""
import numpy as np

from minigan.backend.devices import (
    Device,
    DeviceMismatchError,
    cupy,
    device,
    device_of,
    get_array_module,
    register_device,
    registered_devices,
    to_device,
    to_host,
)
from minigan.backend.random import default_generator, manual_seed

__all__ = ["get_array_module", "cupy", "Device", "DeviceMismatchError", "device", "device_of",
           "register_device", "registered_devices",
           "to_device", "to_host", "default_dtype", "set_default_dtype", "warmup",
           "default_generator", "manual_seed", "is_float"]

_default_dtype = np.dtype(np.float32)


def default_dtype():
    """The floating dtype of new tensors built from Python numbers (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype):
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"the default dtype must be floating, got {dtype}")
    _default_dtype = dtype


def is_float(dtype):
    return np.dtype(dtype).kind == "f"


def warmup(dtypes=("float32", "float64")):
    """Compile (or load from Numba's on-disk cache) every kernel for ``dtypes`` now, so that
    the first training step is not the one that pays for it. Returns the seconds it took."""
    import time

    from minigan.backend import conv_kernels as K
    from minigan.backend import elementwise_kernels as E
    from minigan.backend import norm_kernels as N
    from minigan.backend import optim_kernels as O
    start = time.perf_counter()
    for name in dtypes:
        dt = np.dtype(name)
        x = np.zeros((2, 1, 4, 4), dtype=dt)
        cols = np.zeros((4, 2 * 9), dtype=dt)
        for im2col in (K.im2col_serial, K.im2col_parallel):
            im2col(x, 2, 2, 1, 1, 0, 0, 1, 1, 3, 3)
        for col2im in (K.col2im_serial, K.col2im_parallel):
            col2im(cols, 2, 1, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 3, 3)
        for col2im in (K.col2im_nhwc_serial, K.col2im_nhwc_parallel):
            col2im(cols.reshape(18, 4), 2, 1, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 3, 3)
        K.col2im_nhwc_span(cols.reshape(18, 4), np.zeros((2, 4, 4, 1), dt), 0, 3, 0, 2, 2, 1,
                           1, 0, 0, 1, 1, 3)
        for im2col in (K.im2col_nhwc_serial, K.im2col_nhwc_parallel):
            im2col(x.reshape(2, 4, 4, 1), 2, 2, 1, 1, 0, 0, 1, 1, 3, 3)
        for pool in (K.max_pool_serial, K.max_pool_parallel):
            _, idx = pool(x, 2, 2, 2, 2, 0, 0, 2, 2)
        for tiled in (K.max_pool_tiled_serial, K.max_pool_tiled_parallel):
            tiled(x, 2, 2, 2, 2)
        K.max_pool_2x2_serial(x, 2, 2)
        K.channels_first_bias_numba(cols.reshape(4, 2, 9), cols[0, :4], np.empty((2, 4, 9), dt))
        for scatter in (K.pool_scatter_serial, K.pool_scatter_parallel,
                        K.pool_scatter_2x2_serial):
            scatter(np.zeros((2, 1, 2, 2), dtype=dt), idx, 4, 4)
        p = np.zeros(3, dtype=dt)
        for act in (False, True):
            y, mu, _, inv = N.bn_forward_numba(x.reshape(2, 1, 16), p[:1], p[:1], 1e-5, act,
                                               0.0)
            N.bn_backward_numba(y, y, mu, inv, p[:1], y, act, 0.0)
            y, mu, _, inv = N.bn_rows_forward_numba(p.reshape(3, 1), p[:1], p[:1], 1e-5, act,
                                                    0.0)
            N.bn_rows_backward_numba(y, y, mu, inv, p[:1], y, act, 0.0)
        for q in (p, p.reshape(1, 3), p.reshape(1, 1, 1, 3)):   # biases, dense and conv weights
            O.adam_numba(q, q.copy(), q.copy(), q.copy(), 1e-3, 0.9, 0.999, 1e-8, 0.0, 1)
        for nd in (x, p):                   # the activations of conv and of dense layers
            E.leaky_relu(nd, 0.2)
            E.leaky_relu_grad(nd, nd, 0.2)
            E.relu(nd)
            E.relu_grad(nd, nd)
        for act in (False, True):
            E.bias_act_numba(p.reshape(1, 3), p, act, 0.0)
            E.act_bias_grad_numba(p.reshape(1, 3), p.reshape(1, 3), act, 0.0,
                                  p.reshape(1, 3).copy(), p.copy())
        for w in (None, p):
            E.bce_logits_sum_numba(p, p, w)
            E.bce_logits_grad_numba(p, p, w, 1.0)
        col, row = p.reshape(3, 1), p.reshape(1, 3)
        E.outer_numba(col, row, np.empty((3, 3), dt))      # a one-output layer's backward
        labels = np.zeros(3, dtype=np.int64)               # a conditional model's input
        E.first_label_outside_numba(labels, 2)
        E.cat_one_hot_numba(col, labels, np.empty((3, 3), dt))
    return time.perf_counter() - start
