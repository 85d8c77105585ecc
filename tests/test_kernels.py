"""Each Numba kernel agrees with its NumPy reference."""
import numpy as np
import pytest

from minigan.backend.optim_kernels import adam_numba, adam_numpy


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_fused_adam_matches_the_numpy_reference(dtype, tol, weight_decay):
    rng = np.random.default_rng(0)
    p = rng.standard_normal(257).astype(dtype)
    states = [(p.copy(), np.zeros_like(p), np.zeros_like(p)) for _ in range(2)]
    for step in range(1, 6):
        g = rng.standard_normal(257).astype(dtype)
        for kernel, (q, m, v) in zip((adam_numpy, adam_numba), states):
            kernel(q, g, m, v, 1e-2, 0.5, 0.999, 1e-8, weight_decay, step)
    for a, b in zip(*states):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert not np.array_equal(states[0][0], p)


def test_warmup_compiles_every_kernel_for_both_float_dtypes():
    from minigan.backend import conv_kernels as K
    from minigan.backend import warmup
    assert warmup() >= 0
    for kernel in (K.im2col_parallel, K.col2im_serial, K.max_pool_tiled_serial,
                   K.pool_scatter_parallel):
        kinds = {sig[0].dtype.name for sig in kernel.signatures}
        assert {"float32", "float64"} <= kinds
