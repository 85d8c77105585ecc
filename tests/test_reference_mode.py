"""Reference mode: only the plain formulas run (no raw-array backward, no Numba kernel, no
fusion, no flat Adam), and they give the fast paths' numbers. tests/test_ops.py runs the
whole ops table in both modes."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given

import minigan as mg
from minigan import nn
from tests.ops_table import OPS


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_fast_paths_and_reference_mode_give_the_same_numbers(op):
    @given(op.cases)
    def check(case):
        args, kw = case
        results = []
        for reference in (False, True):
            with mg.reference_mode(reference):
                xs = [mg.tensor(a, requires_grad=a.dtype.kind == "f") for a in args]
                y = op.fn(*xs, **kw)
                u = np.random.default_rng(0).standard_normal(y.shape)
                (y * u).sum().backward()
                results.append([y.data] + [x.grad.data if x.grad is not None else None
                                           for x in xs])
        for a, b in zip(*results):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)

    check()


def test_reference_mode_calls_no_fast_path(monkeypatch):
    from minigan.backend import elementwise_kernels as E
    from minigan.backend import optim_kernels as O
    from minigan.functional import linalg

    def forbidden(*a, **k):
        raise AssertionError("a fast path ran in reference mode")
    for mod, name in ((E, "relu_numba"), (E, "bias_act_numba"), (E, "act_bias_grad_numba"),
                      (E, "bce_logits_grad_numba"), (O, "adam_numba")):
        monkeypatch.setattr(mod, name, forbidden)
    monkeypatch.setattr(linalg.Linear, "backward_arrays", forbidden)
    mg.manual_seed(0)
    net = nn.fuse(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)))
    opt = mg.optim.FlatAdam(net.parameters(), lr=0.1)
    x = mg.tensor(np.ones((5, 3), np.float32))
    with mg.reference_mode():
        y = net(x)
        assert type(y.creator).__name__ == "Linear"          # the plain loop, not one node
        mg.functional.binary_cross_entropy_with_logits(y, np.ones((5, 1))).backward()
        opt.step()
        assert all(p.data.base is None for p in net.parameters())   # no shared buffer
    with pytest.raises(AssertionError, match="fast path"):
        mg.functional.binary_cross_entropy_with_logits(net(x), np.ones((5, 1))).backward()


def test_the_environment_variable_sets_reference_mode_for_a_process():
    code = "import minigan as mg; print(mg.is_reference_mode())"
    for value, expected in (("1", "True"), ("0", "False")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=dict(os.environ, MINIGAN_REFERENCE=value), check=True)
        assert out.stdout.strip() == expected
    with mg.reference_mode():
        assert mg.is_reference_mode()
    assert not mg.is_reference_mode()
