"""Property tests of every op: float64 gradcheck, gradgradcheck, and PyTorch as the oracle."""
import numpy as np
import pytest
from hypothesis import given

import minigan as mg
from tests.ops_table import OPS


def _bind(op, kw):
    return lambda *xs: op.fn(*xs, **kw)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_gradient_matches_finite_differences(op):
    @given(op.cases)
    def check(case):
        args, kw = case
        assert mg.gradcheck(_bind(op, kw), args)

    check()


@pytest.mark.parametrize("op", [op for op in OPS if op.smooth], ids=lambda op: op.name)
def test_second_derivative_matches_finite_differences(op):
    @given(op.cases)
    def check(case):
        args, kw = case
        assert mg.gradgradcheck(_bind(op, kw), args)

    check()


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_first_order_fast_path_equals_the_differentiable_backward(op):
    # plain backward may take raw-array shortcuts; create_graph uses minigan ops: same numbers
    @given(op.cases)
    def check(case):
        args, kw = case
        xs = [mg.tensor(a, requires_grad=a.dtype.kind == "f") for a in args]
        wrt = [x for x in xs if x.requires_grad]
        y = op.fn(*xs, **kw)
        u = np.random.default_rng(0).standard_normal(y.shape)
        loss = (y * u).sum()
        fast = mg.grad(loss, wrt, retain_graph=True, allow_unused=True)
        graph = mg.grad(loss, wrt, create_graph=True, allow_unused=True)
        for a, b in zip(fast, graph):
            if a is None or b is None:
                assert a is None and b is None
            else:
                np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-14)

    check()


def _to_torch(torch, a):
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return torch.tensor(a, requires_grad=True)
    return torch.from_numpy(np.asarray(a))


@pytest.mark.parametrize("op", [op for op in OPS if op.tfn is not None], ids=lambda op: op.name)
def test_forward_and_gradients_match_pytorch(op, torch):
    @given(op.cases)
    def check(case):
        args, kw = case
        ours = [mg.tensor(a, requires_grad=a.dtype.kind == "f") for a in args]
        theirs = [_to_torch(torch, a) for a in args]
        y, ty = op.fn(*ours, **kw), op.tfn(*theirs, **kw)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        u = np.random.default_rng(0).standard_normal(y.shape)
        (y * u).sum().backward()
        if ty.requires_grad:
            (ty * torch.from_numpy(u)).sum().backward()
        for a, t in zip(ours, theirs):
            if a.requires_grad:
                expected = t.grad.numpy() if t.grad is not None else np.zeros(a.shape)
                got = a.grad.data if a.grad is not None else np.zeros(a.shape)
                np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)

    check()
