"""Winograd's F(m x m, r x r) convolution: its matrices, its generated kernels against their
NumPy references, the convolution against im2col and PyTorch, its gradients, and where
'auto' uses it."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import functional as F
from minigan.backend import winograd, winograd_gen
from minigan.backend.conv_kernels import from_phases_numba
from minigan.functional import conv
from tests.ops_table import winograd_geometry

CONFIGS = winograd_gen.CONFIGS
# float32 against float64, relative to the largest output: F(4, 5)'s transforms hold entries
# up to 160 and lose about 5 digits of 7; im2col's float32 error here is ~1e-7
FLOAT32_RTOL = {2: 1e-5, 3: 2e-5, 5: 2e-4}     # by the (inner, stride-1) kernel's size


@pytest.mark.parametrize("m,r", CONFIGS)
def test_the_matrices_compute_a_1d_correlation_exactly(m, r):
    at, g, bt = winograd.matrices(m, r)
    rng = np.random.default_rng(0)
    for _ in range(5):
        d, w = rng.standard_normal(m + r - 1), rng.standard_normal(r)
        direct = [d[i:i + r] @ w for i in range(m)]
        np.testing.assert_allclose(at @ ((g @ w) * (bt @ d)), direct, rtol=1e-12, atol=1e-12)
    assert np.array_equal(bt, np.round(bt))          # the data's transform: small integers


def test_the_committed_kernels_are_what_the_generator_writes():
    path = Path(winograd.__file__).with_name("winograd_kernels.py")
    assert path.read_text() == winograd_gen.kernel_source(), \
        "regenerate with: python -m minigan.backend.winograd_gen"


@st.composite
def _tiles(draw):
    m, r = draw(st.sampled_from(CONFIGS))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    th, tw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return m, r, n, c, th, tw, draw(st.sampled_from([np.float32, np.float64]))


@settings(deadline=None, max_examples=30)
@given(_tiles())
def test_the_numba_kernels_give_the_references_numbers(drawn):
    m, r, nb, c, th, tw, dtype = drawn
    n = m + r - 1
    plan = winograd.Plan((nb, c, (th - 1) * m + r, (tw - 1) * m + r), r, 0, 0, m)
    at, _, bt = plan.matrices(dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((nb, c, (th - 1) * m + r, (tw - 1) * m + r)).astype(dtype)
    xd = winograd.phase_split(x, 0, 0, plan.hp, m, plan.wq)
    mm = rng.standard_normal((n * n, nb * th * tw, c)).astype(dtype)
    gyd = rng.standard_normal((nb, th * m, m, tw, c)).astype(dtype)
    fast, ref = plan.kernels(True), plan.kernels(False)
    eps = 4e-6 if dtype == np.float32 else 1e-14     # of the largest value: sums cancel
    for f, r_, args in zip(fast, ref, [(xd, bt, th, tw), (mm, at, nb, th, tw),
                                       (gyd, at, th, tw), (mm, bt, nb, th, tw)]):
        a, b = f(*args), r_(*args)
        assert a.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=eps * np.abs(b).max())


@settings(deadline=None, max_examples=30)
@given(_tiles(), st.integers(1, 6), st.integers(1, 6))
def test_the_numba_output_copy_gives_the_references_numbers(drawn, oh_less, ow_less):
    m, _, nb, c, th, tw, dtype = drawn
    yd = np.random.default_rng(6).standard_normal((nb, th * m, m, tw, c)).astype(dtype)
    oh, ow = max(th * m - oh_less, 1), max(tw * m - ow_less, 1)
    out = np.full((nb + 2, c, oh, ow), np.nan, dtype=dtype)     # fills its rows 1..nb only
    a = from_phases_numba(yd, out[1:-1])
    b = winograd.from_phases(yd, np.empty((nb, c, oh, ow), dtype=dtype))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(out[1:-1], b)
    assert np.isnan(out[[0, -1]]).all()


@pytest.mark.parametrize("m,r", CONFIGS)
def test_the_input_transforms_adjoint_is_its_transpose(m, r):
    """<input(x), gV> = <x, input_adjoint(gV)> over the padded input, both ways."""
    nb, c, th, tw = 2, 3, 2, 3
    plan = winograd.Plan((nb, c, (th - 1) * m + r, (tw - 1) * m + r), r, 0, 0, m)
    bt = plan.matrices(np.float64)[2]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((nb, c, (th - 1) * m + r + m - 1, (tw - 1) * m + r + m - 1))
    gv = rng.standard_normal((plan.n ** 2, nb * th * tw, c))
    for fast in (False, True):
        kernels = plan.kernels(fast)
        v = kernels[0](winograd.phase_split(x, 0, 0, plan.hp, m, plan.wq), bt, th, tw)
        gxp = kernels[3](gv, bt, nb, th, tw)
        assert gxp.shape == (nb, plan.hp, (tw - 1) * m + plan.n, c)
        inner = np.sum(gxp.transpose(0, 3, 1, 2) * x[:, :, :plan.hp, :gxp.shape[2]])
        np.testing.assert_allclose(np.sum(v * gv), inner, rtol=1e-12)


def test_a_winograd_layers_input_gradient_is_its_forwards_adjoint(monkeypatch):
    """The input gradient reuses gM (one output-gradient transform for both gradients) and
    is no second convolution (one input transform: the forward's)."""
    calls = []
    for name in ("transform_output_grad", "transform_input"):
        real = getattr(winograd, name)
        monkeypatch.setattr(winograd, name,
                            lambda *a, _f=real, _n=name, **k: calls.append(_n) or _f(*a, **k))
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.standard_normal((2, 16, 9, 9)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((16, 16, 5, 5)), requires_grad=True)
    y = F.conv2d(x, w, padding=2)
    y.backward(np.ones(y.shape))
    assert sorted(calls) == ["transform_input"] * 2 + ["transform_output_grad"] * 2  # halves
    with conv.conv_strategy("im2col"):
        x2, w2 = (mg.tensor(t.data, requires_grad=True) for t in (x, w))
        F.conv2d(x2, w2, padding=2).backward(np.ones(y.shape))
    np.testing.assert_allclose(x.grad.data, x2.grad.data, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(w.grad.data, w2.grad.data, rtol=1e-11, atol=1e-11)


def test_a_winograd_layers_two_gradients_on_two_threads_give_the_same_bits(monkeypatch):
    """Backward.grads (each half of the batch on its own thread) against each gradient alone,
    and against one thread; one call gives both when both are needed."""
    from minigan.backend import threads
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((3, 16, 9, 9)), rng.standard_normal((8, 16, 5, 5))
    gy = rng.standard_normal((3, 8, 9, 9)).astype(np.float32)

    def grads(need_x, need_w):
        tx = mg.tensor(x.astype(np.float32), requires_grad=need_x)
        tw = mg.tensor(w.astype(np.float32), requires_grad=need_w)
        F.conv2d(tx, tw, padding=2).backward(gy)
        return tx.grad, tw.grad
    calls = []
    real = winograd.Backward.grads
    monkeypatch.setattr(winograd.Backward, "grads",
                        lambda self, *a: calls.append(1) or real(self, *a))
    gx, gw = grads(True, True)
    assert calls == [1]
    np.testing.assert_array_equal(gx.data, grads(True, False)[0].data)
    np.testing.assert_array_equal(gw.data, grads(False, True)[1].data)
    with threads.single_threaded():
        gx1, gw1 = grads(True, True)
    np.testing.assert_array_equal(gx.data, gx1.data)
    np.testing.assert_array_equal(gw.data, gw1.data)


def _kw(g, transposed):
    kw = dict(padding=g["padding"], stride=g["stride"])
    if transposed:
        kw["output_padding"] = g["output_padding"]
    return kw


def _conv_and_grads(strategy, x, w, b, g, transposed, dtype):
    tx, tw, tb = (mg.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b))
    op = F.conv_transpose2d if transposed else F.conv2d
    kw = _kw(g, transposed)
    with conv.conv_strategy(strategy):
        y = op(tx, tw, tb, **kw)
    y.backward(np.cos(np.arange(y.data.size)).reshape(y.shape).astype(dtype))
    return [y.data, tx.grad.data, tw.grad.data, tb.grad.data]


@settings(deadline=None, max_examples=40)
@given(st.booleans().flatmap(lambda t: st.tuples(st.just(t), winograd_geometry(t))),
       st.sampled_from([np.float32, np.float64]))
def test_winograd_gives_im2cols_numbers_and_pytorchs(drawn, dtype):
    import torch
    transposed, g = drawn
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(g[k]) for k in ("x", "w", "bias"))
    ref = _conv_and_grads("im2col", x, w, b, g, transposed, np.float64)
    got = _conv_and_grads("winograd", x, w, b, g, transposed, dtype)
    rtol = 1e-12 if dtype == np.float64 else FLOAT32_RTOL[g["w"][2] // g["stride"][0]]
    for a, e in zip(got, ref):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, e, rtol=0, atol=rtol * max(1.0, np.abs(e).max()))
    op = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    y = op(*(torch.tensor(a) for a in (x, w, b)), **_kw(g, transposed))
    np.testing.assert_allclose(got[0], y.numpy(), rtol=0,
                               atol=rtol * max(1.0, np.abs(ref[0]).max()))


@pytest.mark.parametrize("op,k,kw", [(F.conv2d, 3, dict(padding=1)),
                                     (F.conv2d, 5, dict(padding=2)), (F.conv2d, 5, {}),
                                     (F.conv2d, 4, dict(stride=2, padding=1)),
                                     (F.conv_transpose2d, 4, dict(stride=2, padding=1)),
                                     (F.conv_transpose2d, 2, dict(padding=1))])
def test_winograd_passes_gradcheck_and_gradgradcheck(op, k, kw):
    rng = np.random.default_rng(3)
    args = [mg.tensor(rng.standard_normal((2, 2, 6, 5)), requires_grad=True),
            mg.tensor(rng.standard_normal((3 if op is F.conv2d else 2, 2, k, k)),
                      requires_grad=True)]

    def run(x, w):
        with conv.conv_strategy("winograd"):
            return op(x, w, **kw)
    assert mg.gradcheck(run, args)
    assert mg.gradgradcheck(run, args)


def test_a_wrong_transform_matrix_is_caught(monkeypatch):
    """The comparison above fails when one entry of a transform is off by 1%."""
    real = winograd.matrices

    def planted(m, r):
        at, g, bt = (a.copy() for a in real(m, r))
        bt[1, 1] *= 1.01
        return at, g, bt
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 9, 9)), rng.standard_normal((4, 3, 5, 5))
    with conv.conv_strategy("im2col"):
        want = F.conv2d(x, w, padding=2).data
    monkeypatch.setattr(winograd, "matrices", planted)
    with conv.conv_strategy("winograd"):
        got = F.conv2d(x, w, padding=2).data
    assert np.abs(got - want).max() > 1e-3 * np.abs(want).max()


def _used(x, w, strategy="auto", **kw):
    """Whether a convolution of x by w (and its backward) ran through Winograd."""
    calls = []
    real = conv.winograd.conv2d

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)
    conv.winograd.conv2d, before = spy, real
    try:
        with conv.conv_strategy(strategy):
            y = F.conv2d(mg.tensor(x, requires_grad=True), mg.tensor(w), **kw)
        y.sum().backward()
    finally:
        conv.winograd.conv2d = before
    return bool(calls)


def test_auto_uses_winograd_for_5x5_kernels_from_16_input_channels_with_stride_1():
    x16, x8 = np.ones((2, 16, 9, 9), np.float32), np.ones((2, 8, 9, 9), np.float32)
    w = np.ones((8, 16, 5, 5), np.float32)
    assert _used(x16, w, padding=2)
    assert not _used(x8, np.ones((8, 8, 5, 5), np.float32), padding=2)
    assert not _used(x16, np.ones((8, 16, 3, 3), np.float32), padding=1)        # 3x3
    assert not _used(x16, w, padding=2, stride=2)
    assert not _used(x16, w, padding=4, dilation=2)
    assert _used(x8, np.ones((8, 8, 3, 3), np.float32), "winograd", padding=1)
    assert not _used(x16, w, "im2col", padding=2)


def test_reference_mode_turns_winograd_off_under_auto():
    x, w = np.ones((2, 16, 9, 9), np.float32), np.ones((8, 16, 5, 5), np.float32)
    with mg.reference_mode():
        assert not _used(x, w, padding=2)
        assert _used(x, w, "winograd", padding=2)      # explicitly: the NumPy transforms


def test_the_tile_size_and_thresholds_are_read_where_they_are_set(monkeypatch):
    x, w = np.ones((2, 8, 9, 9), np.float32), np.ones((8, 8, 5, 5), np.float32)
    assert not _used(x, w, padding=2)
    monkeypatch.setattr(conv, "WINOGRAD_MIN_CHANNELS", 8)
    assert _used(x, w, padding=2)
    monkeypatch.setattr(conv, "WINOGRAD_AUTO_KERNELS", (3,))
    assert not _used(x, w, padding=2)
    monkeypatch.setattr(conv, "WINOGRAD_AUTO_KERNELS", (5,))
    monkeypatch.setattr(conv, "WINOGRAD_TILE", 2)
    plans = []
    real = winograd.conv2d
    monkeypatch.setattr(conv.winograd, "conv2d", lambda x, w, plan, *a, **k:
                        plans.append(plan.m) or real(x, w, plan, *a, **k))
    with conv.conv_strategy("auto"):
        F.conv2d(x, w, padding=2)
    assert plans == [2]


def test_the_stride_2_rewrites_only_move_weights():
    from minigan.backend import subpixel
    w = np.arange(3 * 2 * 4 * 6, dtype=np.float64).reshape(3, 2, 4, 6)
    wp = subpixel.poly_weight(w)
    assert wp.shape == (3, 8, 2, 3) and sorted(wp.ravel()) == sorted(w.ravel())
    assert np.array_equal(subpixel.poly_weight_adjoint(wp, w.shape), w)
    sp = subpixel.SubPixel(7, 7, 4, 4, 1, 1, 14, 14)
    ws = sp.weight(np.arange(2 * 3 * 16, dtype=np.float64).reshape(2, 3, 4, 4))
    assert ws.shape == (12, 2, 2, 2) and sorted(ws.ravel()) == list(range(96))
    assert sp.pad == [(1, 1), (1, 1)] and sp.start == [[0, 1], [0, 1]]


def _through_subpixel(op, x, w, strategy="auto", **kw):
    calls = []
    real = conv.subpixel.space_to_depth if op is F.conv2d else conv.subpixel.SubPixel.interleave

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)
    target = (conv.subpixel, "space_to_depth") if op is F.conv2d else \
        (conv.subpixel.SubPixel, "interleave")
    setattr(*target, spy)
    try:
        with conv.conv_strategy(strategy):
            op(mg.tensor(x), mg.tensor(w), **kw)
    finally:
        setattr(*target, real)
    return bool(calls)


def test_only_the_winograd_strategy_takes_stride_2_through_subpixel():
    x = np.ones((2, 16, 8, 8), np.float32)
    w = np.ones((16, 16, 4, 4), np.float32)
    s2 = dict(stride=2, padding=1)
    for op in (F.conv2d, F.conv_transpose2d):
        assert _through_subpixel(op, x, w, "winograd", **s2)
        assert not _through_subpixel(op, x, w, **s2)                     # auto
        assert not _through_subpixel(op, x, w, "winograd", stride=1, padding=1)
    assert not _through_subpixel(F.conv2d, x, np.ones((16, 16, 3, 3), np.float32), "winograd",
                                 **s2)                                   # odd kernel
