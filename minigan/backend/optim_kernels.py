"""Fused optimizer updates: one pass over memory instead of ~10 NumPy temporaries.

``adam_numpy`` is the reference; ``adam_numba`` the same arithmetic as one loop (serial: the
thesis's parameters are small, and threads would cost more than they save). Both update
``p``, ``m`` and ``v`` in place. Arrays are flat views of contiguous parameters.
"""
import math

import numba
import numpy as np


def adam_numpy(p, g, m, v, lr, b1, b2, eps, weight_decay, step):
    if weight_decay:
        g = g + weight_decay * p
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * (g * g)
    step_size = lr / (1 - b1 ** step)
    denom = (v ** 0.5) / math.sqrt(1 - b2 ** step) + eps
    p -= step_size * (m / denom)


@numba.njit(cache=True, fastmath=False)
def adam_numba(p, g, m, v, lr, b1, b2, eps, weight_decay, step):
    step_size = lr / (1 - b1 ** step)
    bc2 = math.sqrt(1 - b2 ** step)
    for i in range(p.size):
        gi = g[i] + weight_decay * p[i]
        m[i] = b1 * m[i] + (1 - b1) * gi
        v[i] = b2 * v[i] + (1 - b2) * (gi * gi)
        p[i] -= step_size * (m[i] / (math.sqrt(v[i]) / bc2 + eps))


def adam_update(p, g, m, v, lr, b1, b2, eps, weight_decay, step):
    """Dispatch: Numba for contiguous NumPy arrays of one dtype, else the NumPy reference."""
    if (type(p) is np.ndarray and type(g) is np.ndarray and p.flags.c_contiguous
            and g.flags.c_contiguous and g.dtype == p.dtype):
        adam_numba(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), lr, b1, b2,
                   eps, weight_decay, step)
    else:
        adam_numpy(p, g, m, v, lr, b1, b2, eps, weight_decay, step)
