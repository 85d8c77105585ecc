"""Losses at the extremes: finite, and equal to their exact limits."""
import numpy as np
import pytest

import minigan as mg
from minigan import functional as F


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_exact_at_huge_logits(dtype):
    x = mg.tensor(np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype), requires_grad=True)
    t = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_array_equal(loss.data, [1e4, 1e4, 0.0, 0.0])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, -1.0, 0.0, 0.0])   # sigmoid(x) - t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_exact_at_huge_logits(dtype):
    x = mg.tensor(np.array([[1e4, -1e4, 0.0], [0.0, 1e4, -1e4]], dtype=dtype),
                  requires_grad=True)
    loss = F.cross_entropy(x, np.array([1, 1]), reduction="none")
    np.testing.assert_array_equal(loss.data, [2e4, 0.0])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])


def test_bce_on_probabilities_stays_finite_at_zero_and_one():
    p = mg.tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    loss = F.binary_cross_entropy(p, np.array([1.0, 0.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    np.testing.assert_allclose(p.grad.data, [-1e12, 1e12, 0.0, 0.0])    # PyTorch's values


def test_sigmoid_and_softplus_never_overflow():
    x = mg.tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=np.float32))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_allclose(F.sigmoid(x).data, [0, 1.9287e-22, 0.5, 1, 1], rtol=1e-4)
        np.testing.assert_allclose(F.softplus(x).data, [0, 1.9287e-22, np.log(2), 50, 1e4],
                                   rtol=1e-4)


def test_losses_reject_bad_input_with_clear_errors():
    x = mg.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        F.mse_loss(x, np.zeros(3))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        F.cross_entropy(x, np.array([0, 3]))
    with pytest.raises(ValueError, match="integer class labels"):
        F.cross_entropy(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))


def test_reductions_agree():
    x = mg.tensor(np.array([0.2, -1.0, 3.0]))
    t = np.array([0.0, 1.0, 1.0])
    none = F.binary_cross_entropy_with_logits(x, t, reduction="none").data
    assert F.binary_cross_entropy_with_logits(x, t, reduction="sum").item() == \
        pytest.approx(none.sum())
    assert F.binary_cross_entropy_with_logits(x, t).item() == pytest.approx(none.mean())


def test_bce_weight_must_broadcast_to_the_input():
    x, t = np.zeros((4, 3)), np.ones((4, 3))
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) does not broadcast to the "
                                         r"input's \(4, 3\)"):
        F.binary_cross_entropy_with_logits(x, t, weight=np.ones(4))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_with_logits_kernel_path_equals_the_graph_path(reduction, weighted):
    # a constant target and a reduction take the one-loop kernels, forward and backward
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((9, 2)) * 30, requires_grad=True)   # saturated logits too
    t = rng.integers(0, 2, (9, 2)).astype(np.float64)
    w = rng.random((9, 2)) + 0.5 if weighted else None
    loss = F.binary_cross_entropy_with_logits(x, t, reduction, weight=w)
    per = np.logaddexp(0, x.data) - t * x.data
    per = per * w if weighted else per
    assert abs(loss.item() - (per.mean() if reduction == "mean" else per.sum())) < 1e-12 * per.size
    fast, = mg.grad(loss, [x], retain_graph=True)
    graph, = mg.grad(loss, [x], create_graph=True)
    np.testing.assert_allclose(fast.data, graph.data, rtol=1e-12, atol=1e-15)
    assert mg.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, t, reduction, weight=w),
                        [mg.tensor(x.data / 30, requires_grad=True)])
