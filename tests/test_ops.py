"""Every op of the table through minigan.testing.check_op, the kit users test their own ops
with: float64 gradcheck, gradgradcheck, the fast path against the graph path, and PyTorch as
the oracle, on each device, with the fast paths on and in reference mode."""
import numpy as np
import pytest
from hypothesis import given

import minigan as mg
from minigan.testing import check_op
from tests.ops_table import OPS


@pytest.fixture(autouse=True, params=["fast", "reference"])
def mode(request):
    """Every property of the table holds with the fast paths (Numba kernels, raw-array
    backward passes) and in reference mode, where only the plain formulas run."""
    with mg.reference_mode(request.param == "reference"):
        yield request.param


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_gradient_matches_finite_differences(op, device):
    check_op(op.fn, op.cases, devices=(device,), properties=("gradcheck",))


@pytest.mark.parametrize("op", [op for op in OPS if op.smooth], ids=lambda op: op.name)
def test_second_derivative_matches_finite_differences(op, device):
    check_op(op.fn, op.cases, devices=(device,), properties=("gradgradcheck",))


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_first_order_fast_path_equals_the_differentiable_backward(op, device):
    # plain backward may take raw-array shortcuts; create_graph uses minigan ops: same numbers
    check_op(op.fn, op.cases, devices=(device,), properties=("fast_path",))


@pytest.mark.parametrize("op", [op for op in OPS if op.tfn is not None], ids=lambda op: op.name)
def test_forward_and_gradients_match_pytorch(op, torch, device):
    check_op(op.fn, op.cases, torch_reference=op.tfn, devices=(device,),
             properties=("torch_reference",), rtol=1e-9, atol=1e-12)


def _all_function_classes():
    seen, todo = set(), [mg.Function]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


# Functions that no op of the table reaches, each with the reason it need not be there.
NOT_IN_THE_TABLE = {
    "_Biased": "the convolutions' base class (Conv2d, ConvTranspose2d), never made itself",
}


def test_every_function_is_reached_by_the_ops_table(monkeypatch):
    # each op once, forward, backward and a second derivative: every Function class that any
    # of them creates is under the table's gradchecks; a new Function must be added there
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st

    import minigan.functional  # noqa: F401  (every op module, so every subclass, is loaded)

    made = set()
    real_call = mg.Function.__call__

    def recording(self, *inputs):
        made.add(type(self))
        return real_call(self, *inputs)
    monkeypatch.setattr(mg.Function, "__call__", recording)

    @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run_all(data):
        for op in OPS:
            args, kw = data.draw(op.cases)
            xs = [mg.tensor(a, requires_grad=a.dtype.kind == "f") for a in args]
            wrt = [x for x in xs if x.requires_grad]
            y = op.fn(*xs, **kw)
            # an upstream gradient that is itself a variable, so that piecewise-linear ops
            # (pooling) reach their second-order Functions too
            u = mg.tensor(np.random.default_rng(0).standard_normal(y.shape),
                          requires_grad=True)
            grads = mg.grad((y * u).sum(), wrt, create_graph=True, allow_unused=True)
            second = sum((g * g).sum() for g in grads if g is not None and g.requires_grad)
            if isinstance(second, mg.Tensor):
                mg.grad(second, wrt + [u], allow_unused=True)

    run_all()
    names = {cls.__name__ for cls in made}
    engine = [c for c in _all_function_classes() if c.__module__.startswith("minigan.")]
    missing = sorted(c.__name__ for c in engine
                     if c.__name__ not in names and c.__name__ not in NOT_IN_THE_TABLE)
    assert not missing, f"Functions no op of tests/ops_table.py reaches: {missing}"
    assert not set(NOT_IN_THE_TABLE) & names, "an allow-listed Function is now reached"
