"""Convolution, pooling and batch norm: kernels agree, PyTorch agrees, bad geometry is named."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan import functional as F
from minigan import nn
from minigan.backend import conv_kernels as K
from tests.ops_table import conv_geometry, pool_geometry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _conv_args(g):
    n, c, h, w = g["x"]
    kh, kw = g["w"][2:]
    (sh, sw), (ph, pw), (dh, dw) = g["stride"], g["padding"], g["dilation"]
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


@given(conv_geometry(), st.sampled_from([np.float32, np.float64]))
def test_im2col_and_col2im_kernels_agree_with_the_reference(g, dtype):
    x = np.random.default_rng(0).standard_normal(g["x"]).astype(dtype)
    args = _conv_args(g)
    ref = K.im2col_numpy(x, *args)
    for kernel in (K.im2col_serial, K.im2col_parallel):
        np.testing.assert_array_equal(kernel(x, *args), ref)
    back = K.col2im_numpy(ref, *g["x"], *args)
    for kernel in (K.col2im_serial, K.col2im_parallel):
        np.testing.assert_allclose(kernel(ref, *g["x"], *args), back, rtol=1e-6, atol=1e-6)
    n, c = g["x"][:2]                   # the channels-last layout of the same columns
    cols_t = ref.reshape(c, args[0], args[1], n, -1).transpose(3, 4, 1, 2, 0).reshape(
        n * args[-2] * args[-1], -1)
    back_t = back.transpose(0, 2, 3, 1)
    for kernel in (K.col2im_nhwc_numpy, K.col2im_nhwc_serial, K.col2im_nhwc_parallel):
        np.testing.assert_allclose(kernel(np.ascontiguousarray(cols_t), *g["x"], *args),
                                   back_t, rtol=1e-6, atol=1e-6)
    x_t = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    for kernel in (K.im2col_nhwc_numpy, K.im2col_nhwc_serial, K.im2col_nhwc_parallel):
        np.testing.assert_array_equal(kernel(x_t, *args), cols_t)


@given(st.one_of(pool_geometry(), pool_geometry(tiled=True)))
def test_max_pool_kernels_agree_with_the_reference(g):
    x = np.random.default_rng(1).permutation(int(np.prod(g["x"]))).reshape(g["x"]) - 50.0
    n, c, h, w = g["x"]
    (kh, kw), (sh, sw), (ph, pw) = g["kernel_size"], g["stride"], g["padding"]
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    ref_v, ref_i = K.max_pool_numpy(x, kh, kw, sh, sw, ph, pw, oh, ow)
    for kernel in (K.max_pool_serial, K.max_pool_parallel):
        v, i = kernel(x, kh, kw, sh, sw, ph, pw, oh, ow)
        np.testing.assert_array_equal(v, ref_v)
        np.testing.assert_array_equal(i, ref_i)
    if (sh, sw, ph, pw) == (kh, kw, 0, 0):
        tiled = [K.max_pool_tiled_serial, K.max_pool_tiled_parallel]
        if (kh, kw) == (2, 2):
            tiled.append(lambda x, kh, kw, oh, ow: K.max_pool_2x2_serial(x, oh, ow))
        for kernel in tiled:
            v, i = kernel(x, kh, kw, oh, ow)
            np.testing.assert_array_equal(v, ref_v)
            np.testing.assert_array_equal(i, ref_i)
    gy = np.random.default_rng(2).standard_normal(ref_v.shape)
    ref = K.pool_scatter_numpy(gy, ref_i, h, w)
    for kernel in (K.pool_scatter_serial, K.pool_scatter_parallel):
        np.testing.assert_allclose(kernel(gy, ref_i, h, w), ref, rtol=1e-12, atol=1e-12)


def test_parallel_kernels_have_no_race_with_two_threads():
    # Races only show with several threads and several planes: run in a fresh process with
    # NUMBA_NUM_THREADS=2, overlapping windows (stride < kernel), batch 4, many repetitions.
    code = textwrap.dedent("""
        import numba, numpy as np
        from minigan.backend import conv_kernels as K
        assert numba.config.NUMBA_NUM_THREADS == 2, numba.config.NUMBA_NUM_THREADS
        rng = np.random.default_rng(0)
        x = rng.standard_normal((4, 3, 12, 12))
        args = (3, 3, 1, 1, 1, 1, 1, 1, 12, 12)
        cols = K.im2col_numpy(x, *args)
        ref = K.col2im_numpy(cols, 4, 3, 12, 12, *args)
        gy = rng.standard_normal((4, 3, 11, 11))
        _, idx = K.max_pool_numpy(x, 2, 2, 1, 1, 0, 0, 11, 11)
        sref = K.pool_scatter_numpy(gy, idx, 12, 12)
        tref = K.max_pool_numpy(x, 2, 2, 2, 2, 0, 0, 6, 6)
        cols_t = np.ascontiguousarray(cols.reshape(3, 3, 3, 4, 144).transpose(3, 4, 1, 2, 0)
                                      .reshape(4 * 144, 27))
        tback = ref.transpose(0, 2, 3, 1)
        x_t = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        for _ in range(50):
            assert np.allclose(K.col2im_nhwc_parallel(cols_t, 4, 3, 12, 12, *args), tback)
            assert np.array_equal(K.im2col_nhwc_parallel(x_t, *args), cols_t)
            for a, b in zip(K.max_pool_tiled_parallel(x, 2, 2, 6, 6), tref):
                assert np.array_equal(a, b)
            assert np.allclose(K.col2im_parallel(cols, 4, 3, 12, 12, *args), ref)
            assert np.array_equal(K.im2col_parallel(x, *args), cols)
            assert np.allclose(K.pool_scatter_parallel(gy, idx, 12, 12), sref)
        print("ok")
    """)
    env = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_max_pool_pads_with_minus_infinity_and_breaks_ties_first_come():
    x = -np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    y = F.max_pool2d(mg.tensor(x), 3, stride=2, padding=1)
    np.testing.assert_array_equal(y.data[0, 0], [[-1.0, -2.0], [-5.0, -6.0]])   # 0-padding: 0s
    t = mg.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(t, 2).sum().backward()
    np.testing.assert_array_equal(t.grad.data[0, 0], [[1.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("call,message", [
    (lambda: F.conv2d(np.ones((2, 3, 4, 4)), np.ones((5, 3, 6, 6))), r"larger than the padded"),
    (lambda: F.conv2d(np.ones((2, 3, 4, 4)), np.ones((5, 2, 3, 3))),
     r"\(5, 2, 3, 3\) does not fit input of shape \(2, 3, 4, 4\)"),
    (lambda: F.conv2d(np.ones((3, 4, 4)), np.ones((5, 3, 3, 3))), r"\(N, C, H, W\)"),
    (lambda: F.conv_transpose2d(np.ones((2, 3, 4, 4)), np.ones((3, 2, 3, 3)), stride=2,
                                output_padding=2), "output_padding"),
    (lambda: F.conv_transpose2d(np.ones((2, 3, 4, 4)), np.ones((4, 2, 3, 3))),
     r"\(4, 2, 3, 3\) does not fit input"),
    (lambda: F.max_pool2d(np.ones((2, 3, 2, 2)), 3), r"larger than the padded input"),
    (lambda: F.max_pool2d(np.ones((2, 3, 4, 4)), 2, padding=2), "at most half"),
    (lambda: F.avg_pool2d(np.ones((2, 3, 4, 4)), 0), "kernel_size"),
    (lambda: nn.BatchNorm2d(3)(mg.tensor(np.ones((2, 4, 3, 3)))), r"3 channels.*\(2, 4, 3, 3\)"),
])
def test_impossible_geometry_raises_one_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _copy_into_torch(ours, theirs, torch):
    with torch.no_grad():
        for (_, p), q in zip(ours.named_parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.data))


@pytest.mark.parametrize("make", [
    lambda m: m.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0)),
    lambda m: m.Conv2d(3, 4, 5, padding=2, dilation=1),
    lambda m: m.ConvTranspose2d(3, 4, (4, 3), stride=2, padding=1, output_padding=1),
    lambda m: m.ConvTranspose2d(3, 2, 5, stride=2, padding=2, output_padding=1),
    lambda m: m.MaxPool2d(2),
    lambda m: m.MaxPool2d((3, 2), stride=(2, 1), padding=1),
    lambda m: m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
], ids=["conv", "conv5", "convT", "convT5", "maxpool", "maxpool32", "avgpool"])
def test_modules_match_pytorch_forward_and_gradients(make, torch):
    mg.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn).double()
    _copy_into_torch(ours, theirs, torch)
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    for p in ours.parameters():
        object.__setattr__(p, "data", p.data.astype(np.float64))
    tx = torch.tensor(x, requires_grad=True)
    mx = mg.tensor(x, requires_grad=True)
    y, ty = ours(mx), theirs(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = np.random.default_rng(1).standard_normal(y.shape)
    (y * u).sum().backward()
    (ty * torch.from_numpy(u)).sum().backward()
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_default_init_bounds_follow_pytorch():
    mg.manual_seed(0)
    conv, convt = nn.Conv2d(16, 8, 5), nn.ConvTranspose2d(16, 8, 5)
    for layer, fan_in in ((conv, 16 * 25), (convt, 8 * 25)):
        bound = 1 / np.sqrt(fan_in)
        assert 0.95 * bound < np.abs(layer.weight.data).max() <= bound
        assert np.abs(layer.bias.data).max() <= bound
    assert convt.weight.shape == (16, 8, 5, 5) and convt.bias.shape == (8,)


@pytest.mark.parametrize("dims", [2, 4])
def test_batchnorm_matches_pytorch_in_training_and_eval_over_several_steps(dims, torch):
    rng = np.random.default_rng(0)
    shape = (6, 3) if dims == 2 else (4, 3, 5, 5)
    ours = (nn.BatchNorm1d if dims == 2 else nn.BatchNorm2d)(3, momentum=0.2)
    theirs = (torch.nn.BatchNorm1d if dims == 2 else torch.nn.BatchNorm2d)(3, momentum=0.2)
    theirs = theirs.double()
    for p in ours.parameters():
        object.__setattr__(p, "data", rng.standard_normal(3))
    for name in ("running_mean", "running_var"):
        setattr(ours, name, getattr(ours, name).astype(np.float64))
    _copy_into_torch(ours, theirs, torch)
    for step in range(4):
        for mode in ("train", "eval") if step == 3 else ("train",):
            getattr(ours, mode)()
            getattr(theirs, mode)()
            x = rng.normal(2.0, 3.0, shape)
            mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            y, ty = ours(mx), theirs(tx)
            np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-9, atol=1e-10)
            u = rng.standard_normal(shape)
            (y * u).sum().backward()
            (ty * torch.from_numpy(u)).sum().backward()
            np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)


@st.composite
def _stride1_conv(draw):
    """Stride-1, dilation-1 geometry: the kind the row-matrix path serves."""
    n, cin, cout = draw(st.integers(2, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    p = tuple(draw(st.integers(0, ki - 1)) for ki in k)
    size = tuple(ki - 2 * pi + draw(st.integers(0, 4)) for ki, pi in zip(k, p))
    return (n, cin) + tuple(max(1, v) for v in size), (cout, cin) + k, p


def _conv_results(x, w, p, transposed):
    tx, tw = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    op = F.conv_transpose2d if transposed else F.conv2d
    y = op(tx, tw, padding=p)
    (y * mg.tensor(np.cos(np.arange(y.data.size)).reshape(y.shape))).sum().backward()
    return y.data, tx.grad.data, tw.grad.data


@given(_stride1_conv(), st.booleans())
def test_the_row_matrix_path_gives_the_im2col_paths_numbers(geometry, transposed):
    from minigan.functional import conv
    xs, ws, p = geometry
    rng = np.random.default_rng(5)
    if transposed:          # a transposed conv's input has the conv's output shape
        ws = (ws[1], ws[0]) + ws[2:]
        xs = xs[:1] + (ws[0],) + tuple(max(1, v + 2 * pi - k + 1) for v, pi, k in
                                       zip(xs[2:], p, ws[2:]))
        p = tuple(min(pi, k - 1) for pi, k in zip(p, ws[2:]))
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    with conv.conv_strategy("rows"):           # rows wherever the geometry allows
        rows = _conv_results(x, w, p, transposed)
    with conv.conv_strategy("im2col"):         # im2col everywhere
        cols = _conv_results(x, w, p, transposed)
    for a, b in zip(rows, cols):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_the_row_matrix_path_passes_gradcheck_and_gradgradcheck():
    from minigan.functional import conv
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 3, 2))
    args = [mg.tensor(a, requires_grad=True) for a in (x, w)]
    assert conv._rows_fit(x, 2, conv._Geometry(3, 2, (1, 1), (1, 1), (1, 1), 5, 4)) is False
    with conv.conv_strategy("rows"):
        assert conv._rows_fit(x, 2, conv._Geometry(3, 2, (1, 1), (1, 1), (1, 1), 5, 4))
    for op in (lambda x, w: F.conv2d(x, w, padding=1),
               lambda x, w: F.conv_transpose2d(F.conv2d(x, w, padding=1), w, padding=1)):
        with conv.conv_strategy("rows"):
            assert mg.gradcheck(op, args)
            assert mg.gradgradcheck(op, args)


@given(st.booleans().flatmap(lambda t: st.tuples(st.just(t), conv_geometry(transposed=t))))
def test_the_channels_last_paths_give_the_nchw_paths_numbers(drawn):
    from minigan.functional import conv
    transposed, g = drawn
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(g["x"]), rng.standard_normal(g["w"])
    kw = dict(stride=g["stride"], padding=g["padding"], dilation=g["dilation"])
    if transposed:
        kw["output_padding"] = g["output_padding"]
    op = F.conv_transpose2d if transposed else F.conv2d
    results = []
    for strategy in ("channels_last", "im2col"):   # channels-last everywhere, then nowhere
        with conv.conv_strategy(strategy):
            tx, tw = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
            y = op(tx, tw, **kw)
        (y * mg.tensor(np.sin(np.arange(y.data.size)).reshape(y.shape))).sum().backward()
        results.append((y.data, tx.grad.data, tw.grad.data))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _transposed_geometry(g):
    """minigan's _Geometry of a drawn transposed convolution (its input is the plane oh, ow)."""
    from minigan.functional import conv
    n, cin, ih, iw = g["x"]
    kh, kw = g["w"][2:]
    (sh, sw), (ph, pw), (dh, dw) = g["stride"], g["padding"], g["dilation"]
    h = (ih - 1) * sh - 2 * ph + dh * (kh - 1) + 1 + g["output_padding"][0]
    w = (iw - 1) * sw - 2 * pw + dw * (kw - 1) + 1 + g["output_padding"][1]
    return conv._Geometry(kh, kw, (sh, sw), (ph, pw), (dh, dw), h, w, out=(ih, iw))


@given(conv_geometry(transposed=True))
def test_tap_row_spans_keep_exactly_the_kernel_rows_that_land_inside(g):
    from minigan.functional import conv
    geo = _transposed_geometry(g)
    spans = conv._tap_row_spans(geo)
    kept = {oy: set(range(k0, k1)) for y0, y1, k0, k1 in spans for oy in range(y0, y1)}
    for oy in range(geo.oh):
        inside = {i for i in range(geo.kh) if 0 <= oy * geo.sh - geo.ph + i * geo.dh < geo.h}
        assert kept.get(oy, set()) == inside
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))        # in order, disjoint


@given(conv_geometry(transposed=True), st.sampled_from([np.float32, np.float64]))
def test_col2im_from_tap_spans_gives_the_whole_matrix_numbers_bit_for_bit(g, dtype):
    """The blocks leave out the taps that land outside; the sums are the whole matrix's, in
    the same order (Numba), and the reference's (reference mode)."""
    from minigan.backend.mode import reference
    from minigan.functional import conv
    geo = _transposed_geometry(g)
    n, cout = g["x"][0], g["w"][1]
    spans = conv._tap_row_spans(geo)
    cols_t = np.random.default_rng(5).standard_normal(
        (n * geo.oh * geo.ow, geo.kh * geo.kw * cout)).astype(dtype)
    by_y = cols_t.reshape(n, geo.oh, geo.ow, geo.kh, -1).transpose(1, 0, 2, 3, 4)
    blocks = [by_y[y0:y1, :, :, k0:k1].reshape((y1 - y0) * n * geo.ow, -1)
              for y0, y1, k0, k1 in spans]
    args = (n, cout, geo.h, geo.w) + geo.args()
    want = K.col2im_nhwc_serial(cols_t, *args)
    np.testing.assert_array_equal(K.col2im_nhwc_spans(blocks, spans, *args, dtype), want)
    before, reference.on = reference.on, True
    try:
        got = K.col2im_nhwc_spans(blocks, spans, *args, dtype)
    finally:
        reference.on = before
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", [1.5, "a", True, (1,), (1, 2.0)])
def test_geometry_that_is_not_ints_is_refused_by_name(bad):
    x = mg.tensor(np.zeros((1, 1, 4, 4), np.float32))
    w = mg.tensor(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match="padding must be an int or a pair of ints"):
        F.conv2d(x, w, padding=bad)
    with pytest.raises(ValueError, match="stride must be an int"):
        F.max_pool2d(x, 2, stride=bad)


def test_conv_strategy_picks_the_computation_and_carries_it_to_the_backward(monkeypatch):
    from minigan.functional import conv
    used = []
    for name in ("_rows", "im2col", "im2col_nhwc", "col2im", "col2im_nhwc_spans"):
        real = getattr(conv, name)
        monkeypatch.setattr(conv, name, lambda *a, _r=real, _n=name, **k: used.append(_n)
                            or _r(*a, **k))
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)), requires_grad=True)
    w = mg.tensor(np.random.default_rng(1).standard_normal((4, 3, 3, 3)), requires_grad=True)
    expected = {"rows": "_rows", "im2col": "im2col", "channels_last": "im2col_nhwc"}
    for strategy, kernel in expected.items():
        used.clear()
        with conv.conv_strategy(strategy):
            y = F.conv2d(x, w, padding=1)
        assert used and set(used) == {kernel}         # (channels-last: once per half)
        mg.grad((y * y).sum(), [x, w], create_graph=True)        # backward made outside
        assert set(used) <= {kernel, "col2im" if strategy != "channels_last" else
                             "col2im_nhwc_spans", "_rows" if strategy == "rows" else kernel}
    with pytest.raises(ValueError, match="conv_strategy must be one of"):
        with conv.conv_strategy("fft"):
            pass


@pytest.mark.parametrize("stride", [1, 2])
def test_the_per_sample_weight_gradient_gives_the_one_gemm_numbers(monkeypatch, stride):
    from minigan.functional import conv
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((3, 2, 7, 6)), rng.standard_normal((4, 2, 3, 3))
    grads = []
    for limit in (0, 1 << 30):            # one GEMM over every sample, then one per sample
        monkeypatch.setattr(conv, "PER_SAMPLE_WEIGHT_GRAD_MAX", limit)
        tw = mg.tensor(w, requires_grad=True)
        with conv.conv_strategy("im2col"):
            y = F.conv2d(mg.tensor(x), tw, padding=1, stride=stride)
        (y * y).sum().backward()
        grads.append(tw.grad.data)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_threads_both_runs_the_second_on_a_helper_thread_unless_single_threaded():
    import os
    import threading

    from minigan.backend import threads
    where = lambda: threading.current_thread().name       # noqa: E731
    here = where()
    a, b = threads.both(where, where)
    assert a == here and b != here and b.startswith("minigan")
    with threads.single_threaded():
        assert threads.both(where, where) == (here, here)
    _, inner = threads.both(where, lambda: threads.both(where, where))   # no deadlock
    assert inner[0] == inner[1] == b
    pid = os.fork()                  # a forked child (the sweep's workers) makes its own
    if pid == 0:
        ok = threads.both(where, where)[1].startswith("minigan")
        os._exit(0 if ok else 1)
    assert os.waitpid(pid, 0)[1] == 0


def test_each_half_runs_two_parts_on_two_threads_with_blas_on_one_thread_each():
    import threading

    from threadpoolctl import threadpool_info

    from minigan.backend import threads

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    def probe(lo, hi):
        return threading.current_thread().name, blas_threads(), (lo, hi)
    before, here = blas_threads(), threading.current_thread().name
    assert threads.halves(5) == [(0, 2), (2, 5)] and threads.halves(1) == [(0, 1)]
    (n1, b1, p1), (n2, b2, p2) = threads.each_half(probe, threads.halves(5))
    assert (p1, p2) == ((0, 2), (2, 5)) and n1 == here and n2.startswith("minigan")
    assert b1 == b2 == [1] * len(before) and blas_threads() == before    # restored after
    with threads.single_threaded():
        assert [r[0] for r in threads.each_half(probe, threads.halves(5))] == [here, here]
    assert threads.each_half(probe, [(0, 1)]) == [(here, before, (0, 1))]   # one part: inline


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channels_last_layers_by_halves_equal_the_whole_batch_at_once(monkeypatch, dtype):
    """The channels-last convolution and transposed convolution run each half of the batch
    on its own thread (odd batches too); forward and both gradients match one part."""
    from minigan.backend import threads
    from minigan.functional import conv
    rng = np.random.default_rng(11)
    cases = [(F.conv2d, (5, 16, 9, 9), (24, 16, 4, 4)),
             (F.conv_transpose2d, (5, 24, 5, 5), (24, 16, 4, 4))]
    for fn, xs, ws in cases:
        x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(16 if fn is F.conv_transpose2d else 24).astype(dtype)
        out = []
        for parts in (threads.halves, lambda n: [(0, n)]):
            monkeypatch.setattr(threads, "halves", parts)
            tx, tw, tb = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
            with conv.conv_strategy("channels_last"):
                y = fn(tx, tw, tb, stride=2, padding=1)
                y.backward(np.cos(np.arange(y.data.size)).reshape(y.shape).astype(dtype))
            out.append((y.data, tx.grad.data, tw.grad.data, tb.grad.data))
        tol = 1e-5 if dtype == np.float32 else 1e-12
        for a, c in zip(*out):
            np.testing.assert_allclose(a, c, rtol=tol, atol=tol)


@pytest.mark.parametrize("rows_by_y", [False, True])
def test_im2col_nhwc_fills_a_given_buffer_by_either_kernel(rows_by_y):
    """In (n, oy, ox) row order, or (oy, n, ox) with rows_by_y."""
    from minigan.backend import conv_kernels as ck
    from minigan.backend.mode import reference
    x_t = np.random.default_rng(2).standard_normal((3, 6, 5, 4)).astype(np.float32)
    args = (3, 3, 2, 2, 1, 1, 1, 1, 3, 3)
    want = ck.im2col_nhwc_numpy(x_t, *args)
    if rows_by_y:
        want = want.reshape(3, 3, 3, -1).transpose(1, 0, 2, 3).reshape(want.shape)
    for on in (False, True):
        before, reference.on = reference.on, on
        try:
            buf = np.full_like(want, np.nan)
            assert ck.im2col_nhwc(x_t, *args, out=buf, rows_by_y=rows_by_y) is buf
        finally:
            reference.on = before
        np.testing.assert_array_equal(buf, want)


def test_serial_col2im_nhwc_never_starts_the_parallel_kernel(monkeypatch):
    """Callers on one of two threads ask for the serial kernel: Numba's workqueue layer runs
    one parallel launch at a time."""
    from minigan.backend import conv_kernels as ck
    cols_t = np.random.default_rng(3).standard_normal((2 * 9, 4 * 5)).astype(np.float32)
    args = (2, 5, 6, 6, 2, 2, 2, 2, 0, 0, 1, 1, 3, 3)
    want = ck.col2im_nhwc(cols_t, *args)
    monkeypatch.setattr(ck, "COL2IM_PARALLEL_MIN", 0)
    monkeypatch.setattr(ck, "col2im_nhwc_parallel", None)         # calling it would fail
    np.testing.assert_array_equal(ck.col2im_nhwc(cols_t, *args, serial=True), want)
    with pytest.raises(TypeError):
        ck.col2im_nhwc(cols_t, *args)
