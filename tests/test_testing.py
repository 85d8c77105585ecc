"""minigan.testing: check_op catches each kind of planted bug in a user's op, with the shrunk
input in its report, and every option of it counts."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import strategies as st

import minigan as mg
from minigan import functional as F
from minigan.testing import (
    CheckFailed,
    arrays,
    broadcastable_shapes,
    check_op,
    conv_geometries,
    shapes,
)
from tests.examples import load_example

ONE = arrays(shapes()).map(lambda x: [x])


# x sigmoid(x), written as a user would: forward on arrays, backward in minigan ops
Swish = load_example("custom_op").Swish


class WrongDerivative(Swish):
    def backward(self, gy):
        return super().backward(gy) * 1.001


class WrongSecondDerivativeOnly(Swish):
    def backward(self, gy):                  # right values, but constant in x for the graph
        x = self.inputs[0].data
        s = 1 / (1 + np.exp(-x))
        return gy * mg.tensor(s * (1 + x * (1 - s)))


class FastPathDiffers(Swish):
    def backward_arrays(self, gy):           # the raw-array shortcut, a hair off
        x = self.inputs[0].data
        s = 1 / (1 + np.exp(-x))
        return gy * s * (1 + x * (1 - s)) * (1 + 1e-9)


class ScaledAdd(mg.Function):
    """a * b with b broadcast against a; the gradient of b must be summed back to b's shape."""

    def __init__(self, broken=False):
        self.broken = broken

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        gb = gy * a
        if self.broken:                      # keeps the shape, drops the sum over the rows
            gb = gb[tuple(slice(0, 1) if n == 1 else slice(None) for n in b.shape)]
            gb = F.reshape(gb, b.shape) if gb.shape == b.shape else F.sum_to(gb, b.shape)
        else:
            gb = F.sum_to(gb, b.shape)
        return F.sum_to(gy * b, a.shape), gb


def _pairs(shape_pair):
    return st.tuples(arrays(shape_pair[0]), arrays(shape_pair[1])).map(list)


BROADCAST = broadcastable_shapes().flatmap(_pairs)


def _fails(prop, fn, cases=ONE, **kw):
    with pytest.raises(CheckFailed) as exc:
        check_op(fn, cases, **kw)
    text = str(exc.value)
    assert text.startswith(f"{prop} fails on cpu"), text
    assert "the input:" in text and "input 0:" in text
    return text


def test_a_right_op_passes_every_property(torch):
    check_op(lambda x: Swish()(x), ONE, reference=lambda x: x / (1 + np.exp(-x)),
             torch_reference=lambda x: x * torch.sigmoid(x))


def test_a_wrong_derivative_is_caught_and_shrunk_to_a_tiny_input():
    text = _fails("gradcheck", lambda x: WrongDerivative()(x))
    assert "input 0: [0.005]  (shape (1,))" in text     # hypothesis's smallest counterexample
    assert "analytic" in text and "numeric" in text


def test_a_wrong_second_derivative_alone_is_caught_by_gradgradcheck():
    check_op(lambda x: WrongSecondDerivativeOnly()(x), ONE, second_order=False)
    _fails("gradgradcheck", lambda x: WrongSecondDerivativeOnly()(x))


def test_a_fast_path_that_differs_from_the_graph_path_is_caught():
    check_op(lambda x: FastPathDiffers()(x), ONE, fast_paths=False)    # within gradcheck's
    text = _fails("fast_path", lambda x: FastPathDiffers()(x))       # tolerance: only this
    assert "differentiable backward" in text


# a (m, n) with m >= 2 against b (1, n): b's gradient must sum over the rows
ROWS = st.tuples(st.integers(2, 3), st.integers(1, 3)).flatmap(
    lambda mn: st.tuples(arrays(mn), arrays((1, mn[1])))).map(list)


def test_a_broadcasting_error_in_a_gradient_is_caught():
    check_op(lambda a, b: ScaledAdd()(a, b), BROADCAST)       # any broadcast, done right
    text = _fails("gradcheck", lambda a, b: ScaledAdd(broken=True)(a, b), ROWS)
    assert "input 1" in text


def test_fast_and_reference_modes_must_agree():
    def two_faced(x):
        return x * (1.001 if mg.is_reference_mode() else 1.0)
    check_op(two_faced, ONE, fast_paths=False)
    assert "reference mode" in _fails("reference_mode", two_faced)


def test_the_references_are_compared_forward_and_backward(torch):
    swish = lambda x: Swish()(x)    # noqa: E731
    _fails("reference", swish, reference=lambda x: x / (1 + np.exp(-x)) + 1e-6)
    text = _fails("torch_reference", swish, torch_reference=lambda x: x * torch.sigmoid(1.001 * x))
    assert "PyTorch" in text


def test_properties_selects_what_runs_and_bad_options_fail_before_any_work():
    check_op(lambda x: WrongDerivative()(x), ONE, properties=("reference_mode",))
    with pytest.raises(ValueError, match="unknown properties"):
        check_op(lambda x: x, ONE, properties=("gradcheck", "speed"))
    with pytest.raises(ValueError, match="needs its function"):
        check_op(lambda x: x, ONE, properties=("reference",))
    with pytest.raises(ValueError, match="device 'tpu'"):
        check_op(lambda x: x, ONE, devices=("tpu",))


def test_max_examples_and_every_device_are_used():
    seen = []

    def op(x):
        seen.append(x.device)
        return x * 2.0
    check_op(op, ONE, devices=("cpu", "strict"), max_examples=3, properties=("reference_mode",))
    assert set(seen) == {"cpu", "strict"} and len(seen) == 3 * 2 * 2    # 2 modes a device


def test_cases_may_carry_keywords_and_constants():
    cases = arrays(shapes(min_dims=2, max_dims=2)).map(
        lambda x: ([x, np.zeros(x.shape[0], np.int64)], {"dim": 1}))
    check_op(lambda x, labels, dim: F.log_softmax(x, dim=dim)[0] * 1.0, cases,
             second_order=False)


def test_conv_geometries_are_valid_for_the_engine():
    def conv(x, w, b, **kw):
        return F.conv2d(x, w, b, **kw)
    cases = conv_geometries(max_batch=2, max_channels=2, max_kernel=2).flatmap(
        lambda g: st.tuples(arrays(g["x"]), arrays(g["w"]), arrays(g["bias"])).map(
            lambda a: (list(a), dict(stride=g["stride"], padding=g["padding"],
                                     dilation=g["dilation"]))))
    check_op(conv, cases, max_examples=5, properties=("gradcheck", "fast_path"))


def test_a_bad_grid_is_one_clear_error():
    with pytest.raises(ValueError, match="grid must be one of"):
        arrays((2,), grid="positive")


def test_the_pytest_plugin_runs_a_test_on_each_device_and_skips_the_missing(tmp_path):
    (tmp_path / "test_user.py").write_text(
        "def test_on(device):\n    assert device in ('cpu', 'strict', 'cuda')\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p",
                          "minigan.testing.pytest_plugin", str(tmp_path / "test_user.py")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env={**__import__("os").environ, "MINIGAN_DEVICES": "cpu,nowhere"})
    assert "1 passed, 1 skipped" in out.stdout, out.stdout + out.stderr
    assert "no nowhere here" in out.stdout


# --- examples/custom_op.py --------------------------------------------------------------------

def test_the_custom_op_example_passes_and_shows_a_planted_bug_shrunk(capsys, monkeypatch):
    ex = load_example("custom_op")
    seen = []
    real = ex.check_op
    monkeypatch.setattr(ex, "check_op", lambda *a, **k: seen.append(k) or real(*a, **k))
    assert ex.main(["--max-examples", "4"]) == 0
    assert [k["max_examples"] for k in seen] == [4, 4]              # the flag reaches both
    assert "Huber: every property holds" in capsys.readouterr().out
    assert ex.main(["--plant", "--max-examples", "10"]) == 1
    out = capsys.readouterr().out
    assert "PlantedSwish: check_op found a bug" in out and "gradcheck fails on cpu" in out
    assert "input 0: [0.005]  (shape (1,))" in out
    with pytest.raises(SystemExit) as exc:
        ex.main(["--max-examples", "0"])
    assert exc.value.code == 2 and "--max-examples must be >= 1" in capsys.readouterr().err


def test_without_hypothesis_the_kit_says_what_to_install_and_minigan_never_loads_it():
    code = ("import sys; sys.modules['hypothesis'] = None; import minigan; "
            "assert 'minigan.testing' not in sys.modules\n"
            "try:\n    import minigan.testing\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert "minigan.testing needs hypothesis: pip install 'minigan[test]'" in out.stdout, \
        out.stderr[-2000:]
