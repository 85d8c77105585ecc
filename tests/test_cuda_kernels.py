"""The GPU kernels (minigan/backend/cuda_kernels.py) without a GPU: their CUDA source is
compiled for the host (-DMINIGAN_HOST, one thread walking every index) and every kernel,
through the same Python wrappers the GPU runs, is held to the NumPy reference; nvcc, where
present, checks that the same source compiles for the device."""
import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from minigan.backend import conv_kernels as K
from minigan.backend import cuda_kernels as C
from minigan.backend import norm_kernels as N
from minigan.backend import optim_kernels as O

DTYPES = [np.float32, np.float64]
_CTYPES = {np.int32: ctypes.c_int, np.int64: ctypes.c_longlong, np.float32: ctypes.c_float,
           np.float64: ctypes.c_double}


@pytest.fixture(scope="module")
def host_kernels(tmp_path_factory):
    """{dtype: the kernels built for the host} (skips without a C++ compiler)."""
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler to build the GPU kernels for the host")
    root, libs = tmp_path_factory.mktemp("cuda-host"), {}
    for dt in DTYPES:
        src, lib = root / f"k_{np.dtype(dt).name}.cpp", root / f"k_{np.dtype(dt).name}.so"
        src.write_text(C.source_for(dt))
        subprocess.run([cxx, "-O1", "-std=c++11", "-shared", "-fPIC", "-DMINIGAN_HOST",
                        "-o", str(lib), str(src)], check=True, capture_output=True)
        libs[np.dtype(dt)] = ctypes.CDLL(str(lib))
    return libs


@pytest.fixture
def on_host(host_kernels, monkeypatch):
    """cuda_kernels' wrappers with their launches run by the host build, on NumPy arrays."""
    def launch(name, dtype, total, args):
        conv = [ctypes.c_void_p(a.ctypes.data) if isinstance(a, np.ndarray)
                else _CTYPES[type(a)](a) for a in args]
        for a in args:
            assert not isinstance(a, np.ndarray) or a.flags.c_contiguous, name
        getattr(host_kernels[np.dtype(dtype)], name)(*conv)
    monkeypatch.setattr(C, "_launch", launch)
    return C


@pytest.fixture
def gpu_path(host_kernels, monkeypatch):
    """The strict stand-in's arrays (tests/strict_xp.py) taken for CuPy's: the dispatchers
    send them to the GPU kernels' wrappers, whose launches the host build runs. So the whole
    GPU path (dispatch, wrappers, kernels) runs on the CPU."""
    from tests.strict_xp import StrictArray

    def is_cuda(*arrays):
        return all(type(a) is StrictArray and a.dtype in (np.float32, np.float64)
                   and a._a.flags.c_contiguous for a in arrays)

    def launch(name, dtype, total, args):
        for a in args:
            assert not isinstance(a, np.ndarray), f"{name}: a host array reached the GPU"
        raw = [a._a if isinstance(a, StrictArray) else a for a in args]
        conv = [ctypes.c_void_p(a.ctypes.data) if isinstance(a, np.ndarray)
                else _CTYPES[type(a)](a) for a in raw]
        assert all(a.flags.c_contiguous for a in raw if isinstance(a, np.ndarray)), name
        getattr(host_kernels[np.dtype(dtype)], name)(*conv)
    monkeypatch.setattr(C, "is_cuda", is_cuda)
    monkeypatch.setattr(C, "_launch", launch)
    calls = []
    real = C._launch

    def counting(name, dtype, total, args):
        calls.append(name)
        real(name, dtype, total, args)
    monkeypatch.setattr(C, "_launch", counting)
    return calls


GEOMETRIES = [  # (n, c, h, w, kh, kw, stride, padding, dilation)
    (2, 3, 5, 6, 3, 3, (1, 1), (1, 1), (1, 1)),
    (1, 2, 7, 7, 4, 4, (2, 2), (1, 1), (1, 1)),
    (3, 1, 6, 5, 3, 2, (2, 1), (0, 1), (2, 1)),
]


def _out(h, k, s, p, d):
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("geo", GEOMETRIES)
def test_im2col_and_col2im_match_the_references(on_host, dt, geo):
    n, c, h, w, kh, kw, (sh, sw), (ph, pw), (dh, dw) = geo
    oh, ow = _out(h, kh, sh, ph, dh), _out(w, kw, sw, pw, dw)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(dt)
    args = (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    np.testing.assert_array_equal(on_host.im2col(x, *args), K.im2col_numpy(x, *args))
    cols = rng.standard_normal((c * kh * kw, n * oh * ow)).astype(dt)
    np.testing.assert_allclose(on_host.col2im(cols, n, c, h, w, *args),
                               K.col2im_numpy(cols, n, c, h, w, *args), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("pool", [(2, 2, 2, 2, 0, 0), (3, 3, 2, 2, 1, 1), (3, 2, 1, 2, 1, 0)])
def test_max_pool_and_its_scatter_match_the_references(on_host, dt, pool):
    kh, kw, sh, sw, ph, pw = pool
    h, w = 7, 6
    oh, ow = _out(h, kh, sh, ph, 1), _out(w, kw, sw, pw, 1)
    rng = np.random.default_rng(1)
    x = rng.integers(-5, 5, (2, 3, h, w)).astype(dt)          # ties: the first one wins
    out, idx = on_host.max_pool(x, kh, kw, sh, sw, ph, pw, oh, ow)
    ref_out, ref_idx = K.max_pool_numpy(x, kh, kw, sh, sw, ph, pw, oh, ow)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    gy = rng.standard_normal(out.shape).astype(dt)
    np.testing.assert_allclose(on_host.pool_scatter(gy, idx, h, w),
                               K.pool_scatter_numpy(gy, ref_idx, h, w), rtol=1e-6)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_activations_and_the_bias_kernel_match_the_references(on_host, dt, slope):
    from minigan.backend import elementwise_kernels as E
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4)).astype(dt)
    x[0, 0], x[0, 1] = 0, np.nan
    ref = E.relu_numpy(x) if slope == 0 else E.leaky_relu_numpy(x, slope)
    np.testing.assert_array_equal(on_host.activation(x, slope), ref)
    g = rng.standard_normal(x.shape).astype(dt)
    ref_g = E.relu_grad_numpy(x, g) if slope == 0 else E.leaky_relu_grad_numpy(x, g, slope)
    np.testing.assert_allclose(on_host.activation_grad(x, g, slope), ref_g, rtol=1e-6)
    b = rng.standard_normal(4).astype(dt)
    for s in (None, slope):
        y = on_host.bias_act(x.copy(), b, s)
        np.testing.assert_array_equal(y, E.activate(x + b, s))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_kernels_match_the_formula(on_host, dt, weighted):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(50) * 20).astype(dt)            # saturated logits too
    t = rng.random(50).astype(dt)
    w = rng.random(50).astype(dt) if weighted else None
    v, tt = x.astype(np.float64), t.astype(np.float64)
    loss = np.logaddexp(0, v) - tt * v
    weight = 1.0 if w is None else w.astype(np.float64)
    assert float(on_host.bce_logits_sum(x, t, w)) == pytest.approx((loss * weight).sum(),
                                                                    rel=1e-12)
    grad = 0.5 * (1 / (1 + np.exp(-v)) - tt) * weight
    np.testing.assert_allclose(on_host.bce_logits_grad(x, t, w, 0.5), grad.astype(dt),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("slope", [None, 0.0, 0.2])
def test_batch_norm_kernels_match_the_references(on_host, dt, slope):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((4, 3, 10)) * 3 + 1).astype(dt)
    w, b = rng.standard_normal(3).astype(dt), rng.standard_normal(3).astype(dt)
    tol = dict(rtol=1e-4, atol=1e-5) if dt == np.float32 else dict(rtol=1e-10, atol=1e-12)
    got, ref = on_host.bn_forward(x, w, b, 1e-5, slope), N.bn_forward_numpy(x, w, b, 1e-5,
                                                                             slope)
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, **tol)
    y, mu, _, inv = ref
    g = rng.standard_normal(x.shape).astype(dt)
    got = on_host.bn_backward(g, x, mu, inv, inv * w, y, slope)
    for a, r in zip(got, N.bn_backward_numpy(g, x, mu, inv, inv * w, y, slope)):
        np.testing.assert_allclose(a, r, **tol)


@pytest.mark.parametrize("dt", DTYPES)
def test_adam_kernel_matches_the_reference(on_host, dt):
    rng = np.random.default_rng(5)
    p, g, m, v = (rng.standard_normal(40).astype(dt) for _ in range(4))
    v = np.abs(v)
    ref = [a.copy() for a in (p, g, m, v)]
    for step in (1, 2, 3):
        on_host.adam(p, g, m, v, 1e-2, 0.5, 0.999, 1e-8, 0.01, step)
        O.adam_numpy(*ref, 1e-2, 0.5, 0.999, 1e-8, 0.01, step)
    for a, r in zip((p, m, v), (ref[0], ref[2], ref[3])):
        np.testing.assert_allclose(a, r, rtol=1e-5 if dt == np.float32 else 1e-12)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="no nvcc to compile for the GPU")
@pytest.mark.parametrize("dt", DTYPES)
def test_the_kernels_compile_for_the_gpu(dt, tmp_path):
    src = tmp_path / "k.cu"
    src.write_text(C.source_for(dt))
    done = subprocess.run(["nvcc", "--ptx", "-std=c++11", "-o", str(tmp_path / "k.ptx"),
                           str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ptx = (tmp_path / "k.ptx").read_text()
    for name in C.NAMES:
        assert f".entry {name}(" in ptx, name


# --- the whole GPU path, on the CPU -----------------------------------------------------------
def test_a_dcgan_turn_through_the_gpu_kernels_gives_the_cpus_numbers(gpu_path):
    from tests.test_devices import _dcgan_turn, assert_same_turn
    cpu, gpu = _dcgan_turn("cpu", False), _dcgan_turn("strict", False)
    assert {"im2col", "col2im", "bn_apply", "bn_grad", "act_forward", "act_backward",
            "bce_logits", "bce_logits_grad", "adam"} <= set(gpu_path)
    assert_same_turn(gpu, cpu)


def test_a_mixture_gan_through_the_gpu_kernels_gives_the_cpus_numbers(gpu_path):
    from tests.test_devices import _mixture_run
    on_cpu, _ = _mixture_run("cpu", 100)
    there, _ = _mixture_run("strict", 100)
    assert {"bias_act", "act_backward", "bce_logits", "bce_logits_grad", "adam"} <= \
        set(gpu_path)
    np.testing.assert_allclose(there, on_cpu, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", ["conv2d_auto", "conv_transpose2d_auto", "max_pool2d",
                                  "avg_pool2d", "batch_norm_relu", "batch_norm_leaky_relu",
                                  "linear_relu", "linear_leaky_relu", "leaky_relu", "relu",
                                  "bce_with_logits_constant_target"])
def test_ops_through_the_gpu_kernels_pass_gradcheck(gpu_path, name):
    # float64, first and second order, through the kernels (the table's strategies)
    from minigan.testing import check_op
    from tests.ops_table import OPS_BY_NAME
    op = OPS_BY_NAME[name]
    check_op(op.fn, op.cases, devices=("strict",), max_examples=10,
             properties=("gradcheck", "gradgradcheck") if op.smooth else ("gradcheck",))
    assert gpu_path, "no GPU kernel ran"
