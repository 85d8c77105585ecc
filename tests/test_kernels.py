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
    from minigan.backend import elementwise_kernels as E
    from minigan.backend import norm_kernels as N
    from minigan.backend import warmup
    assert warmup() >= 0
    for kernel in (K.im2col_parallel, K.col2im_serial, K.max_pool_tiled_parallel,
                   K.max_pool_2x2_serial, K.col2im_nhwc_serial, K.col2im_nhwc_parallel,
                   K.col2im_nhwc_span,
                   K.channels_first_bias_numba,
                   K.im2col_nhwc_serial, K.im2col_nhwc_parallel,
                   K.pool_scatter_parallel, K.pool_scatter_2x2_serial, E.leaky_relu_numba,
                   E.leaky_relu_grad_numba,
                   E.relu_numba, E.relu_grad_numba, E.bias_act_numba, E.act_bias_grad_numba,
                   N.bn_forward_channels, N.bn_backward_channels, N.bn_rows_forward_numba,
                   N.bn_rows_backward_numba, E.bce_logits_sum_numba, E.bce_logits_grad_numba,
                   E.outer_numba, E.cat_one_hot_numba):
        kinds = {sig[0].dtype.name for sig in kernel.signatures}
        assert {"float32", "float64"} <= kinds


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4, 5)])
def test_leaky_relu_kernels_match_the_numpy_reference(dtype, shape):
    from minigan.backend import elementwise_kernels as E
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:3] = [0.0, -0.0, np.nan]
    gy = rng.standard_normal(shape).astype(dtype)
    for slope in (0.2, 0.0, 1.5):
        y = E.leaky_relu_numba(x, x.dtype.type(slope))
        g = E.leaky_relu_grad_numba(x, gy, gy.dtype.type(slope))
        assert y.dtype == g.dtype == dtype
        np.testing.assert_array_equal(y, E.leaky_relu_numpy(x, slope))
        np.testing.assert_array_equal(g, E.leaky_relu_grad_numpy(x, gy, slope))
    # a non-contiguous view takes the reference path and gives the same numbers
    v = x[..., ::2] if x.ndim > 1 else x[::2]
    np.testing.assert_array_equal(E.leaky_relu(v, 0.2), E.leaky_relu_numpy(v, 0.2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4, 5)])
def test_relu_kernels_match_the_numpy_reference(dtype, shape):
    from minigan.backend import elementwise_kernels as E
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:4] = [0.0, -0.0, np.nan, -np.inf]
    gy = rng.standard_normal(shape).astype(dtype)
    y = np.empty_like(x)
    E.relu_numba(x, y)
    g = E.relu_grad_numba(x, gy)
    assert y.dtype == g.dtype == dtype
    np.testing.assert_array_equal(y, E.relu_numpy(x))
    np.testing.assert_array_equal(g, E.relu_grad_numpy(x, gy))
    inplace = x.copy()
    assert E.relu(inplace, inplace=True) is inplace
    np.testing.assert_array_equal(inplace, y)
    v = x[..., ::2] if x.ndim > 1 else x[::2]       # a view takes the reference path
    np.testing.assert_array_equal(E.relu(v), E.relu_numpy(v))
    np.testing.assert_array_equal(E.relu_grad(v, gy[..., ::2] if x.ndim > 1 else gy[::2]),
                                  E.relu_grad_numpy(v, gy[..., ::2] if x.ndim > 1 else gy[::2]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 5), (7, 3), (64, 33), (128, 1)])
def test_dense_bias_activation_kernels_match_numpy_bit_for_bit(dtype, shape):
    from minigan.backend import elementwise_kernels as E
    rng = np.random.default_rng(6)
    y = rng.standard_normal(shape).astype(dtype)
    y.reshape(-1)[:3] = [np.nan, -np.inf, 0.0]
    b, g = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape).astype(dtype)
    for slope in (None, 0.0, 0.2):
        ref = y + b
        if slope is not None:
            ref = E.relu_numpy(ref) if slope == 0 else E.leaky_relu_numpy(ref, dtype(slope))
        out = y.copy()
        E.bias_act_numba(out, b, slope is not None, float(slope or 0))
        np.testing.assert_array_equal(out, ref)
        gref = g if slope is None else (E.relu_grad_numpy(out, g) if slope == 0 else
                                        E.leaky_relu_grad_numpy(out, g, dtype(slope)))
        gout, gb = np.empty_like(g), np.zeros(shape[1], dtype)
        E.act_bias_grad_numba(out, g, slope is not None, float(slope or 0), gout, gb)
        if slope is None:
            gout = g
        assert gout.dtype == gb.dtype == dtype
        np.testing.assert_array_equal(gout, gref)
        if shape[1] > 1:       # NumPy sums a single column pairwise: the dispatch keeps NumPy's
            np.testing.assert_array_equal(gb, gref.sum(0))
        assert E.act_bias_grad(out, g, slope)[1].tobytes() == gref.sum(0).tobytes()


def _bn_kernels_against_reference(x, w, b, g, tol, slope):
    """bn_forward / bn_backward (the Numba kernels for these shapes) against the NumPy
    reference, with the activation ``slope`` (None: none)."""
    from minigan.backend import norm_kernels as N
    ours, ref = N.bn_forward(x, w, b, 1e-5, slope), N.bn_forward_numpy(x, w, b, 1e-5, slope)
    for a, r in zip(ours, ref):
        np.testing.assert_allclose(a, r, **tol)
    assert ours[0].dtype == ours[3].dtype == x.dtype and ours[0].shape == x.shape
    if slope == 0:
        assert (ours[0] >= 0).all()
    mu, inv, y = ref[1], ref[3], ref[0]
    scale = inv * w
    for a, r in zip(N.bn_backward(g, x, mu, inv, scale, y, slope),
                    N.bn_backward_numpy(g, x, mu, inv, scale, y, slope)):
        assert a.dtype == x.dtype and a.shape == r.shape
        np.testing.assert_allclose(a, r, **tol)


def _bn_tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("slope", [None, 0.0, 0.2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 8), (5, 1, 49), (3, 4, 16)])
def test_batch_norm_kernels_match_the_numpy_reference(dtype, shape, slope):
    from minigan.backend import norm_kernels as N
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3 + 5).astype(dtype)
    w, b = (rng.standard_normal(shape[1]).astype(dtype) for _ in range(2))
    g = rng.standard_normal(shape).astype(dtype)
    _bn_kernels_against_reference(x, w, b, g, _bn_tol(dtype), slope)
    assert N.bn_forward(x, w, b, 1e-5)[0].flags.c_contiguous


@pytest.mark.parametrize("slope", [None, 0.2])
@pytest.mark.parametrize("channels", [1, 2, 5])
def test_batch_norm_kernels_split_over_two_threads_give_the_same_bits(monkeypatch, channels,
                                                                      slope):
    """From SPLIT_SIZE values the kernels run each half of the channels on its own thread:
    the same numbers bit for bit as one thread's whole range (numba has >= 2 threads here)."""
    import numba

    from minigan.backend import norm_kernels as N
    from minigan.backend import threads
    assert numba.get_num_threads() >= 2
    rng = np.random.default_rng(7)
    x, g = (rng.standard_normal((3, channels, 10)).astype(np.float32) for _ in range(2))
    w, b = (rng.standard_normal(channels).astype(np.float32) for _ in range(2))
    act, s = slope is not None, slope or 0.0

    def run(split_size):
        monkeypatch.setattr(N, "SPLIT_SIZE", split_size)
        y, mu, var, inv = N.bn_forward_numba(x, w, b, 1e-5, act, s)
        return (y, mu, var, inv) + N.bn_backward_numba(g, x, mu, inv, inv * w, y, act, s)
    whole = run(10 ** 9)
    calls = []
    both = threads.both
    monkeypatch.setattr(threads, "both", lambda f, h: calls.append(1) or both(f, h))
    split = run(x.size)
    assert len(calls) == (2 if channels >= 2 else 0)
    for a, r in zip(split, whole):
        assert a.tobytes() == r.tobytes()


@pytest.mark.parametrize("slope", [None, 0.0, 0.2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3), (64, 33), (5, 1)])
def test_row_wise_batch_norm_kernels_match_the_numpy_reference(dtype, shape, slope):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 3 - 2).astype(dtype)
    w, b = (rng.standard_normal(shape[1]).astype(dtype) for _ in range(2))
    g = rng.standard_normal(shape).astype(dtype)
    _bn_kernels_against_reference(x.reshape(shape + (1,)), w, b, g.reshape(shape + (1,)),
                                  _bn_tol(dtype), slope)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(16, 3, 8), (16, 3, 1)])
def test_batch_norm_kernels_one_pass_variance_survives_a_large_offset(dtype, shape):
    """The kernels' one-pass variance (shifted by a value of the channel) against the
    reference's two passes, on values 1000 +- 0.01, and on a constant channel (variance 0)."""
    from minigan.backend import norm_kernels as N
    rng = np.random.default_rng(6)
    x = (1000 + 0.01 * rng.standard_normal(shape)).astype(dtype)
    x[:, 1] = 7
    w, b = np.ones(shape[1], dtype), np.zeros(shape[1], dtype)
    ours, ref = N.bn_forward(x, w, b, 1e-5), N.bn_forward_numpy(x, w, b, 1e-5)
    rel = 1e-3 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(ours[2], ref[2], rtol=rel, atol=0)
    assert ours[2][1] == 0 and ours[3][1] == np.asarray(1 / np.sqrt(1e-5), dtype)
    np.testing.assert_allclose(ours[0], ref[0], rtol=0, atol=20 * rel)


@pytest.mark.parametrize("shape", [(3, 2, 5, 7), (2, 3, 8, 8)])
def test_unrolled_2x2_max_pool_matches_the_reference_with_ties_and_odd_sizes(shape):
    from minigan.backend import conv_kernels as K
    rng = np.random.default_rng(3)
    oh, ow = shape[2] // 2, shape[3] // 2
    distinct = rng.permutation(int(np.prod(shape))).reshape(shape) - 50.0
    ties = rng.integers(-1, 1, size=shape).astype(np.float32)    # many equal maxima
    for x in (distinct, ties, np.full(shape, -3.0)):
        v, i = K.max_pool_2x2_serial(x, oh, ow)
        ref_v, ref_i = K.max_pool_numpy(x, 2, 2, 2, 2, 0, 0, oh, ow)
        np.testing.assert_array_equal(v, ref_v)
        np.testing.assert_array_equal(i, ref_i)



@pytest.mark.parametrize("shape", [(3, 2, 5, 7), (2, 3, 8, 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_2x2_pool_scatter_gives_the_scatter_adds_bits(shape, dtype, monkeypatch):
    """Signs of zero included (0 + -0.0 is +0.0); odd sizes leave a row or column no window
    covers; a 2x2 max pool's backward takes this kernel, other windows do not."""
    import minigan as mg
    from minigan import functional as F
    from minigan.backend import conv_kernels as K
    rng = np.random.default_rng(4)
    x = rng.integers(-1, 1, size=shape).astype(dtype)              # ties
    oh, ow = shape[2] // 2, shape[3] // 2
    _, idx = K.max_pool_2x2_serial(x, oh, ow)
    gy = rng.standard_normal((*shape[:2], oh, ow)).astype(dtype)
    gy.reshape(-1)[:2] = [-0.0, 0.0]
    got = K.pool_scatter_2x2_serial(gy, idx, *shape[2:])
    ref = K.pool_scatter_numpy(gy, idx, *shape[2:])
    np.testing.assert_array_equal(got, ref)
    assert got.dtype == dtype and np.array_equal(np.signbit(got), np.signbit(ref))
    calls = []
    monkeypatch.setattr(K, "pool_scatter_2x2_serial",
                        lambda *a: calls.append(1) or K.pool_scatter_serial(*a))
    for kernel, stride in ((2, 2), (3, 2)):
        t = mg.tensor(x, requires_grad=True)
        F.max_pool2d(t, kernel, stride).sum().backward()
    assert calls == [1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_to_nchw_adds_the_bias_as_numpy_does(dtype, channels_last):
    """The fused layout-and-bias kernel against NumPy's transpose and broadcast add, bit for
    bit; channels-last, without a bias, and with a bias of another dtype (NumPy's paths), the
    same."""
    from minigan.backend import conv_kernels as K
    rng = np.random.default_rng(7)
    y = rng.standard_normal((3, 10, 4) if channels_last else (4, 3, 10)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    moved = np.ascontiguousarray(y.transpose((0, 2, 1) if channels_last else (1, 0, 2)))
    out = K.to_nchw(y, channels_last, b)
    assert out.tobytes() == (moved + b.reshape(1, -1, 1)).tobytes()
    assert out.dtype == dtype and out.flags.c_contiguous and out.shape == (3, 4, 10)
    plain = K.to_nchw(y, channels_last)
    assert plain.tobytes() == moved.tobytes() and plain.flags.c_contiguous
    half = b.astype(np.float16)
    np.testing.assert_array_equal(K.to_nchw(y, channels_last, half),
                                  moved + half.reshape(1, -1, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])  # float16: NumPy's
@pytest.mark.parametrize("n,m", [(1, 1), (7, 3), (512, 32)])
def test_outer_kernel_is_the_k1_matrix_product_bit_for_bit(dtype, n, m):
    from minigan.backend import elementwise_kernels as E
    rng = np.random.default_rng(8)
    g, w = rng.standard_normal((n, 1)).astype(dtype), rng.standard_normal((1, m)).astype(dtype)
    g.reshape(-1)[:1] = np.nan
    out = E.outer(g, w)
    assert out.dtype == dtype and out.shape == (n, m)
    np.testing.assert_array_equal(out, g @ w)
    wide = rng.standard_normal((2, m)).astype(dtype)       # a view (not contiguous): NumPy
    np.testing.assert_array_equal(E.outer(g, wide[:1]), g @ wide[:1])
    np.testing.assert_array_equal(E.outer(g[::-1], w), g[::-1] @ w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.uint8])
def test_cat_one_hot_kernel_matches_the_numpy_path(dtype, label_dtype):
    from minigan import reference_mode
    from minigan.backend import elementwise_kernels as E
    rng = np.random.default_rng(9)
    x = rng.standard_normal((9, 3)).astype(dtype)
    labels = rng.integers(0, 4, 9).astype(label_dtype)
    labels[:4] = [0, 1, 2, 3]
    got = E.cat_one_hot(x, labels, 4)
    with reference_mode():
        ref = E.cat_one_hot(x, labels, 4)
    assert got.dtype == ref.dtype == dtype
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(ref[:, 3:].argmax(1), labels)
    np.testing.assert_array_equal(ref[:, :3], x)
    assert (ref[:, 3:].sum(1) == 1).all()
    np.testing.assert_array_equal(E.cat_one_hot(x[::2], labels[::2], 4), ref[::2])
    for bad, where in (([0, 4, 1], 1), ([0, 1, 2], -1), ([3, 3, 5, 0], 2)):
        bad = np.array(bad, dtype=label_dtype)
        assert E.first_label_outside(bad, 4) == where
        with reference_mode():
            assert E.first_label_outside(bad, 4) == where
    assert E.first_label_outside(np.array([-1, 0]), 4) == 0
    wide = np.zeros((2, 300), dtype)          # a column index past the labels' own type
    with reference_mode():
        assert E.cat_one_hot(wide, labels[:2], 4)[np.arange(2), 300 + labels[:2].astype(int)].all()
