"""The checkers must be able to fail: a gradient off by 0.1% is caught, at either order."""
import numpy as np
import pytest

import minigan as mg
from minigan.core import Function


class WrongCube(Function):
    """x^3 with a first derivative off by a factor of 1.001."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        return gy * (3.003 * self.inputs[0] ** 2)


class WrongSquare(Function):
    """x^2 whose backward is off by 1.001."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * (2.002 * self.inputs[0])


class CubeWithWrongInner(Function):
    """x^3 with the right first derivative 3 x^2, computed by an op whose own backward is off,
    so only the second derivative is wrong."""

    def forward(self, x):
        return x ** 3

    def backward(self, gy):
        return gy * (3 * WrongSquare()(self.inputs[0]))


X = np.array([[0.3, -1.2, 0.7], [1.5, -0.4, 2.0]])


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_gradcheck_catches_a_gradient_off_by_a_thousandth(mode):
    with pytest.raises(mg.GradcheckError, match="analytic"):
        mg.gradcheck(lambda x: WrongCube()(x), [X], mode=mode)
    assert mg.gradcheck(lambda x: x ** 3, [X], mode=mode)


def test_gradcheck_names_the_input_and_element_at_fault():
    with pytest.raises(mg.GradcheckError, match=r"input 1 \(shape \(2, 3\)\) at element \(0, 0\)"):
        mg.gradcheck(lambda a, x: a + WrongCube()(x), [X, X])


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_gradgradcheck_catches_a_second_derivative_off_by_a_thousandth(mode):
    f = lambda x: CubeWithWrongInner()(x)  # noqa: E731
    assert mg.gradcheck(f, [X], mode=mode)                      # first order is right
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(f, [X], mode=mode)
    assert mg.gradgradcheck(lambda x: x ** 3, [X], mode=mode)


def test_gradcheck_can_report_instead_of_raising():
    assert mg.gradcheck(lambda x: WrongCube()(x), [X], raise_exception=False) is False


def test_gradcheck_works_in_float64_whatever_the_input_dtype():
    seen = []

    def f(x):
        seen.append(x.dtype)
        return (x * x).sum()

    mg.gradcheck(f, [X.astype(np.float32)])
    assert set(seen) == {np.dtype(np.float64)}


def test_gradcheck_rejects_an_unknown_mode_and_no_float_input():
    with pytest.raises(ValueError, match="mode"):
        mg.gradcheck(lambda x: x, [X], mode="fast")
    with pytest.raises(ValueError, match="no floating input"):
        mg.gradcheck(lambda i: mg.tensor(i * 1.0), [np.arange(3)])


def test_directional_mode_handles_large_inputs_in_two_evaluations():
    calls = []
    big = np.random.default_rng(0).standard_normal((64, 128))

    def f(x):
        calls.append(1)
        return mg.functional.tanh(x).sum()

    assert mg.gradcheck(f, [big], mode="directional")
    assert len(calls) == 4          # shape probe, analytic pass, +eps, -eps
