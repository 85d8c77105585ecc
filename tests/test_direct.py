"""The direct stride-1 convolution (backend/direct.py): its kernels against their NumPy
references and im2col, halves of the batch against the whole, and where 'auto' uses it.
Its gradients (gradcheck, gradgradcheck, PyTorch) run in the ops table, conv2d_direct."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import functional as F
from minigan.backend import direct
from minigan.backend.conv_kernels import im2col
from minigan.functional import conv
from tests.ops_table import direct_geometry


def _im2col_conv(x, w, ph, pw):
    """The reference: im2col and one product, in float64."""
    n, _, h, wd = x.shape
    co, _, kh, kw = w.shape
    oh, ow = h + 2 * ph - kh + 1, wd + 2 * pw - kw + 1
    cols = im2col(x.astype(np.float64), kh, kw, 1, 1, ph, pw, 1, 1, oh, ow)
    y = w.reshape(co, -1).astype(np.float64) @ cols
    return y.reshape(co, n, oh, ow).transpose(1, 0, 2, 3), cols


@settings(deadline=None, max_examples=40)
@given(direct_geometry(), st.sampled_from([np.float32, np.float64]))
def test_the_kernels_give_the_references_and_im2cols_numbers(g, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(g["x"]).astype(dtype)
    w = rng.standard_normal(g["w"]).astype(dtype)
    (ph, pw), (co, _, kh, kw) = g["padding"], g["w"]
    ref, cols = _im2col_conv(x, w, ph, pw)
    gy = rng.standard_normal(ref.shape).astype(dtype)
    gw_ref = (gy.transpose(1, 0, 2, 3).reshape(co, -1) @ cols.T).reshape(g["w"])
    y = direct.forward(x, w, ph, pw, np.full(ref.shape, np.nan, dtype=dtype))
    gw = direct.weight_grad(x, gy, ph, pw, kh, kw)
    assert y.dtype == gw.dtype == dtype and gw.shape == g["w"]
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, ref, **tol)
    np.testing.assert_allclose(gw, gw_ref, **tol)
    # the NumPy reference adds in the kernel's order: the same numbers bit for bit
    assert direct.forward_numpy(x, w, ph, pw, np.empty_like(y)).tobytes() == y.tobytes()
    np.testing.assert_allclose(direct.weight_grad_numpy(x, gy, ph, pw, kh, kw), gw, **tol)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_halves_of_the_batch_give_the_whole_batchs_numbers(n):
    """conv2d under 'direct' runs each half on its own thread: its output is the whole
    batch's at once bit for bit, its weight gradient the halves' sums added."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 5, 9, 8)).astype(np.float32)
    w = rng.standard_normal((2, 5, 3, 4)).astype(np.float32)
    tx, tw = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    with conv.conv_strategy("direct"):
        y = F.conv2d(tx, tw, padding=(1, 2))
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(gy)
    whole = direct.forward(x, w, 1, 2, np.empty(y.shape, np.float32))
    assert y.data.tobytes() == whole.tobytes()
    halves = [direct.weight_grad(x[a:b], gy[a:b], 1, 2, 3, 4) for a, b in mg.backend.threads
              .halves(n)]
    assert tw.grad.data.tobytes() == (halves[0] + halves[1] if n > 1 else halves[0]).tobytes()


def _used(x, w, strategy="auto", **kw):
    """Whether conv2d(x, w) computed its forward directly."""
    calls = []
    real = conv.direct.forward
    conv.direct.forward = lambda *a: calls.append(1) or real(*a)
    try:
        with conv.conv_strategy(strategy):
            F.conv2d(x, w, **kw)
    finally:
        conv.direct.forward = real
    return bool(calls)


def test_auto_computes_few_output_channels_or_a_short_inner_size_directly():
    x32, x1 = np.ones((2, 32, 8, 8), np.float32), np.ones((2, 1, 8, 8), np.float32)
    assert _used(x32, np.ones((1, 32, 3, 3), np.float32), padding=1)   # DCGAN G's last
    assert _used(x32, np.ones((4, 32, 3, 3), np.float32), padding=1)
    assert not _used(x32, np.ones((5, 32, 3, 3), np.float32), padding=1)
    assert _used(x1, np.ones((32, 1, 3, 3), np.float32), padding=1)    # inner size 9
    assert _used(x1, np.ones((32, 1, 4, 4), np.float32), padding=1)    # 16
    assert not _used(x1, np.ones((16, 1, 5, 5), np.float32), padding=2)    # CNN-1: 25
    assert not _used(x32, np.ones((1, 32, 3, 3), np.float32), padding=1, stride=2)
    assert not _used(x32, np.ones((1, 32, 3, 3), np.float32), padding=2, dilation=2)
    assert not _used(x32, np.ones((1, 32, 3, 3), np.float32), "im2col", padding=1)
    assert _used(x32, np.ones((8, 32, 3, 3), np.float32), "direct", padding=1)


def test_the_thresholds_are_read_where_they_are_set(monkeypatch):
    x = np.ones((2, 8, 8, 8), np.float32)
    w = np.ones((6, 8, 3, 3), np.float32)
    assert not _used(x, w, padding=1)
    monkeypatch.setattr(conv, "DIRECT_MAX_OUT", 6)
    assert _used(x, w, padding=1)
    monkeypatch.setattr(conv, "DIRECT_MAX_OUT", 4)
    monkeypatch.setattr(conv, "DIRECT_MAX_INNER", 72)
    assert _used(x, w, padding=1)


def test_reference_mode_computes_directly_only_when_asked_and_then_by_numpy(monkeypatch):
    x, w = np.ones((2, 32, 8, 8), np.float32), np.ones((1, 32, 3, 3), np.float32)
    with mg.reference_mode():
        assert not _used(x, w, padding=1)
        calls = []
        real = direct.forward_numpy
        monkeypatch.setattr(direct, "forward_numpy", lambda *a: calls.append(1) or real(*a))
        assert not _used(x, w, "direct", padding=1)        # not the Numba kernel ...
        assert calls == [1, 1]                             # ... NumPy's, on each half


def test_the_weight_gradient_op_computes_directly_too():
    """ConvWeightGrad (double backprop's path) follows the same rule as the forward."""
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.standard_normal((3, 4, 7, 7)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((1, 4, 3, 3)), requires_grad=True)
    calls = []
    real = direct.weight_grad
    direct.weight_grad = lambda *a: calls.append(1) or real(*a)
    try:
        y = F.conv2d(x, w, padding=1)
        gx, gw = mg.grad((y * y).sum(), [x, w], create_graph=True)
    finally:
        direct.weight_grad = real
    assert calls                                           # (create_graph: the op's forward)
    ref, cols = _im2col_conv(x.data, w.data, 1, 1)
    np.testing.assert_allclose(gw.data, ((2 * ref).transpose(1, 0, 2, 3).reshape(1, -1)
                                         @ cols.T).reshape(1, 4, 3, 3), rtol=1e-10)
