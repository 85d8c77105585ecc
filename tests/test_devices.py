"""Devices: the strict stand-in for CuPy, tensors and modules moved between devices, mixed
devices refused, optimizers and checkpoints across devices."""
import numpy as np
import pytest

import minigan as mg
from minigan import backend, nn
from minigan import functional as F
from tests.conftest import GPU_MISSING, OTHER_DEVICES
from tests.strict_xp import StrictArray, strict

OTHER = OTHER_DEVICES        # "strict", and "cuda" (skipped with the reason where absent)


# --- the stand-in is as strict as CuPy (else the suite would prove nothing) -----------------
@pytest.mark.parametrize("misuse", [
    lambda a: np.asarray(a),
    lambda a: np.exp(a),
    lambda a: np.concatenate([a, a]),
    lambda a: np.ones(3) + a,
    lambda a: a + np.ones(3),
    lambda a: strict.maximum(a, np.zeros(3)),
    lambda a: a[np.array([0, 1])],
], ids=["asarray", "ufunc", "array_function", "ndarray_op", "op_ndarray", "module_fn",
        "host_index"])
def test_the_stand_in_refuses_numpy_where_cupy_would(misuse):
    with pytest.raises(TypeError):
        misuse(strict.asarray(np.arange(3.0)))


@pytest.mark.parametrize("name", ["errstate", "longdouble", "ndindex"])
def test_the_stand_in_lacks_what_cupy_lacks(name):
    with pytest.raises(AttributeError, match="nor has CuPy"):
        getattr(strict, name)


def test_the_stand_in_refuses_numba_kernels():
    from minigan.backend.elementwise_kernels import leaky_relu_numba
    with pytest.raises(Exception, match="(?i)typ"):
        leaky_relu_numba(strict.asarray(np.arange(3.0)), 0.2)


def test_the_stand_in_gives_device_values_as_cupy_does():
    a = strict.asarray(np.arange(6.0).reshape(2, 3))
    total = a.sum()
    assert isinstance(total, StrictArray) and total.shape == () and float(total) == 15.0
    assert isinstance(a[0, 1], StrictArray)
    assert isinstance(a.get(), np.ndarray) and a.get()[1, 2] == 5.0
    a += 1
    np.testing.assert_array_equal(a.get(), np.arange(1.0, 7.0).reshape(2, 3))


# --- tensors --------------------------------------------------------------------------------
@pytest.mark.parametrize("dev", OTHER)
def test_tensor_on_a_device_and_back(dev):
    x = mg.tensor([1.0, 2.0, 3.0], device=dev)
    assert x.device == dev and str(x.device) == dev and x.device != "cpu"
    assert type(x.data) is backend.device(dev).array_type and x.dtype == np.float32
    back = x.to("cpu")
    assert back.device == "cpu" and isinstance(back.data, np.ndarray)
    np.testing.assert_array_equal(back.data, [1, 2, 3])
    assert x.to(dev) is x and x.cpu().device == "cpu"
    assert x.to("float64").device == dev and x.to("float64").dtype == np.float64


@pytest.mark.parametrize("dev", OTHER)
def test_a_device_tensor_prints_and_converts_explicitly(dev):
    x = mg.tensor([1.5, -2.0], device=dev, requires_grad=True)
    assert repr(x) == f"tensor([ 1.5, -2. ], device='{dev}', requires_grad=True)"
    assert repr(x * 2).startswith("tensor([ 3., -4.], device=")
    assert isinstance(x.detach().numpy(), np.ndarray) and x.tolist() == [1.5, -2.0]
    assert x.sum().item() == -0.5 and float(x[0]) == 1.5


@pytest.mark.parametrize("dev", OTHER)
def test_gradients_flow_back_through_a_move(dev):
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    y = (x.to(dev) * mg.tensor([3.0, 4.0], device=dev)).sum()
    assert y.device == dev
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_an_unknown_device_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'.*cpu"):
        mg.tensor([1.0], device="tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        mg.tensor([1.0]).to("tpu")


@pytest.mark.skipif(GPU_MISSING is None, reason="a GPU is present")
def test_cuda_without_a_gpu_says_what_to_install():
    with pytest.raises(RuntimeError, match=r"CuPy and a CUDA device.*minigan\[gpu\]"):
        mg.tensor([1.0], device="cuda")


@pytest.mark.parametrize("dev", OTHER)
@pytest.mark.parametrize("op", [
    lambda a, b: a + b,
    lambda a, b: a @ b.reshape(3, 1),
    lambda a, b: mg.cat([a, b]),
    lambda a, b: F.binary_cross_entropy_with_logits(a, b),
], ids=["add", "matmul", "cat", "bce"])
def test_mixed_devices_are_one_error_naming_both(dev, op):
    a = mg.tensor([0.1, 0.2, 0.3])
    b = mg.tensor([0.5, 0.5, 0.5], device=dev)
    with pytest.raises(mg.DeviceMismatchError, match=f"different devices \\(({dev}, cpu|cpu, "
                                                     f"{dev})\\)"):
        op(a, b)


# --- modules, optimizers, checkpoints --------------------------------------------------------
def _model(norm=True):
    mg.manual_seed(0)
    # (no bias before a batch norm where Adam steps: its gradient is 0 up to rounding, and
    # Adam's m / sqrt(v) would make that rounding a full step)
    return nn.Sequential(nn.Linear(3, 4, bias=not norm), nn.BatchNorm1d(4) if norm else
                         nn.Tanh(), nn.ReLU(), nn.Linear(4, 1))


@pytest.mark.parametrize("dev", OTHER)
def test_module_to_moves_parameters_and_buffers(dev):
    model, x = _model(), np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    expected = model(mg.tensor(x)).data
    assert model.to(dev) is model and model.device == dev
    assert all(p.device == dev for p in model.parameters())
    assert all(type(b) is backend.device(dev).array_type for _, b in model.named_buffers())
    y = model(mg.tensor(x, device=dev))
    np.testing.assert_allclose(mg.to_host(y.data), expected, rtol=1e-5, atol=1e-6)
    model.cpu()
    assert all(isinstance(b, np.ndarray) for _, b in model.named_buffers())
    np.testing.assert_allclose(model(mg.tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


def _steps(model, opt, x, dev, n):
    for _ in range(n):
        opt.zero_grad()
        (model(mg.tensor(x, device=dev)) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("dev", OTHER)
@pytest.mark.parametrize("make", [lambda ps: mg.optim.Adam(ps, lr=0.01),
                                  lambda ps: mg.optim.FlatAdam(ps, lr=0.01),
                                  lambda ps: mg.optim.SGD(ps, lr=0.01, momentum=0.9)],
                         ids=["Adam", "FlatAdam", "SGD"])
def test_optimizer_state_follows_its_parameters(dev, make):
    x = np.random.default_rng(1).standard_normal((8, 3)).astype(np.float32)
    ref = _model()
    opt = make(ref.parameters())
    _steps(ref, opt, x, "cpu", 4)
    moved = _model()
    opt = make(moved.parameters())
    _steps(moved, opt, x, "cpu", 2)
    moved.to(dev)
    _steps(moved, opt, x, dev, 2)
    for s in opt.state:
        for k in opt._state_keys:
            assert type(s[k]) is backend.device(dev).array_type
    for p, q in zip(ref.parameters(), moved.parameters()):
        np.testing.assert_allclose(mg.to_host(q.data), p.data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dev", OTHER)
def test_checkpoints_hold_host_arrays_and_load_onto_a_device(dev, tmp_path):
    model = _model().to(dev)
    opt = mg.optim.Adam(model.parameters())
    _steps(model, opt, np.ones((4, 3), np.float32), dev, 1)
    path = tmp_path / "c.npz"
    mg.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    with np.load(path) as f:                              # plain NumPy reads it
        assert all(f[k].dtype != object for k in f.files)
    on_host = mg.load(path)
    assert all(isinstance(v, np.ndarray) for v in on_host["model"].values())
    placed = mg.load(path, device=dev)
    arrays = backend.device(dev).array_type
    assert all(type(v) is arrays for v in placed["model"].values())
    assert type(placed["opt"]["state"]["0"]["exp_avg"]) is arrays
    assert isinstance(placed["opt"]["state"]["0"]["step"], np.ndarray)    # ints stay
    fresh = _model()
    fresh.load_state_dict(placed["model"])        # device arrays into a CPU model
    for (_, a), (_, b) in zip(fresh.state_dict().items(), model.state_dict().items()):
        np.testing.assert_array_equal(mg.to_host(a), mg.to_host(b))
    with pytest.raises(ValueError, match="unknown device"):
        mg.load(path, device="tpu")


LAYERS = {   # name: (a layer, its input's shape)
    "linear": (lambda: nn.Linear(5, 3), (4, 5)),
    "conv": (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 7, 7)),
    "conv_transpose": (lambda: nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1), (2, 3, 4, 4)),
    "max_pool": (lambda: nn.MaxPool2d(2), (2, 3, 6, 6)),
    "avg_pool": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 3, 6, 6)),
    "batch_norm_1d": (lambda: nn.BatchNorm1d(5), (6, 5)),
    "batch_norm_2d_eval": (lambda: nn.BatchNorm2d(3).eval(), (2, 3, 4, 4)),
    "dropout": (lambda: nn.Dropout(0.5), (4, 6)),
    "activations": (lambda: nn.Sequential(nn.LeakyReLU(0.2), nn.Tanh(), nn.Sigmoid(),
                                          nn.ReLU(), nn.Flatten()), (2, 3, 4)),
    "fused_mlp": (lambda: nn.fuse(nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 8),
                                                nn.LeakyReLU(0.2), nn.Linear(8, 1))), (6, 5)),
}


@pytest.mark.parametrize("dev", OTHER)
@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_computes_the_cpus_numbers_on_a_device(dev, name):
    make, shape = LAYERS[name]
    x = np.random.default_rng(0).standard_normal(shape)
    out, grads = {}, {}
    for d in ("cpu", dev):
        mg.manual_seed(3)                       # the same weights, the same dropout mask
        layer = make()
        for p in layer.parameters():            # float64: differences are the device's alone
            p.data = p.data.astype(np.float64)
        layer.to(d)
        xt = mg.tensor(x, requires_grad=True, device=d)
        y = layer(xt)
        (y * mg.tensor(np.linspace(-1, 1, y.size).reshape(y.shape), device=d)).sum().backward()
        out[d] = mg.to_host(y.data)
        grads[d] = [mg.to_host(xt.grad.data)] + [mg.to_host(p.grad.data)
                                                 for p in layer.parameters()]
        assert y.device == d and all(p.device == d for p in layer.parameters())
    np.testing.assert_allclose(out[dev], out["cpu"], rtol=1e-12, atol=1e-12)
    for a, b in zip(grads[dev], grads["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# --- whole runs: the same numbers on every device --------------------------------------------
def _mixture_run(dev, turns, example="gaussian_mixture", flags=()):
    from tests.examples import load_example
    ex = load_example(example)
    args, config = ex.parse_args(["--g-hidden", "32,16", "--d-hidden", "32,16",
                                  "--device", dev, *flags])
    run = ex.build(config, 0)
    run.trainer.train(turns)
    return run.evaluate()[0], run.trainer


@pytest.mark.parametrize("dev", OTHER)
def test_a_100_turn_mixture_gan_gives_the_cpus_numbers(dev):
    # the main job's own build (fused nets, FlatAdam, the LR schedule): same seed, same run
    on_cpu, _ = _mixture_run("cpu", 100)
    there, trainer = _mixture_run(dev, 100)
    assert trainer.G.device == dev and isinstance(there, np.ndarray)
    # float32 rounding of the fused kernels against the plain formulas, grown over 100 turns
    # of the game: ~1e-4 (3e-3 after 300)
    np.testing.assert_allclose(there, on_cpu, rtol=1e-3, atol=1e-3)
    if dev == "strict":             # NumPy's arithmetic behind it: the CPU's plain formulas,
        with mg.reference_mode():   # bit for bit
            plain, _ = _mixture_run("cpu", 100)
        np.testing.assert_array_equal(there, plain)


@pytest.mark.parametrize("dev", OTHER)
def test_a_conditional_mixture_gan_gives_the_cpus_numbers(dev):
    flags = ["--batch-size", "32"]
    on_cpu, _ = _mixture_run("cpu", 20, "conditional_mixture", flags)
    there, trainer = _mixture_run(dev, 20, "conditional_mixture", flags)
    assert trainer.D.device == dev
    np.testing.assert_allclose(there, on_cpu, rtol=1e-3, atol=1e-3)


def _dcgan_turn(dev, conditional):
    """The DCGAN example's own game (DCGAN init, fused nets, Adam and FlatAdam, batch norm
    in both nets, D's label maps) after one turn at batch 8 on ``dev``."""
    from minigan.experiments.dcgan import DCGAN, networks
    config = {"latent_dim": 100, "conditional": conditional, "lr": 2e-4, "beta1": 0.5,
              "batch_size": 8, "device": dev}
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (16, 1, 28, 28)).astype(np.float32)
    mg.manual_seed(0)
    trainer, _ = DCGAN._game(*networks(config), config, 0, x, np.arange(16) % 10)
    trainer.train(1)
    return trainer


def _grads(trainer):
    return {f"{net}.{name}": mg.to_host(p.grad.data)
            for net in ("G", "D") for name, p in getattr(trainer, net).named_parameters()}


def assert_same_turn(there, cpu):
    """One turn of the same game gave the CPU's losses, D's outputs and every gradient.
    Gradients, not weights after Adam: Adam's m / sqrt(v) turns the rounding of a near-zero
    gradient into a full step of lr either way."""
    for k in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert there.last[k] == pytest.approx(cpu.last[k], rel=1e-5)
    expected = _grads(cpu)
    for name, g in _grads(there).items():
        # within 1e-4 of the largest gradient of its network (measured: 3e-5 at worst), so
        # that a bias before a batch norm (gradient 0 plus float32 rounding) fits too
        scale = max(np.abs(v).max() for k, v in expected.items() if k[0] == name[0])
        np.testing.assert_allclose(g, expected[name], rtol=1e-3, atol=1e-4 * scale,
                                   err_msg=name)


@pytest.mark.parametrize("dev", OTHER)
@pytest.mark.parametrize("conditional", [False, True], ids=["dcgan", "conditional"])
def test_a_dcgan_turn_from_the_same_weights_gives_the_cpus_numbers(dev, conditional):
    cpu, there = _dcgan_turn("cpu", conditional), _dcgan_turn(dev, conditional)
    assert there.G.device == there.D.device == dev
    assert_same_turn(there, cpu)
