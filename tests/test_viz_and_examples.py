"""The learner's tools: the DOT graph and the backprop walkthrough run end to end."""

import numpy as np
import pytest

import minigan as mg
from minigan import functional as F
from tests.examples import load_example


def test_to_dot_lists_every_op_and_tensor_of_the_graph():
    w = mg.tensor(np.ones((3, 2)), requires_grad=True)
    w.name = "W"
    loss = F.sigmoid(F.linear(mg.tensor(np.ones((4, 2))), w)).sum()
    dot = mg.viz.to_dot(loss)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for label in ("Linear", "Sigmoid", "Sum", "W\\n(3, 2) float64", "(4, 2) float64"):
        assert label in dot
    assert dot.count("->") == 7     # x, W -> Linear -> t -> Sigmoid -> t -> Sum -> loss
    with pytest.raises(TypeError, match="Tensor"):
        mg.viz.to_dot(np.ones(2))


def test_backprop_walkthrough_shows_the_chain_rule_and_agrees_with_finite_differences(
        tmp_path, capsys):
    load_example("backprop_walkthrough").main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "gradcheck of every parameter against finite differences: True" in out
    diffs = [float(line.split("max |backward - numeric|")[1])
             for line in out.splitlines() if "max |backward - numeric|" in line]
    assert len(diffs) == 7 and max(diffs) < 1e-7
    # every node, in the order the backward pass visits it (generations 7 down to 0)
    visited = [line.split("]")[0].split("[")[1] for line in out.splitlines()
               if line.startswith("  [")]
    assert visited == ["Sum gen 7", "PowConst gen 6", "Sub gen 5", "Add gen 4", "MatMul gen 3",
                       "Tanh gen 2", "Add gen 1", "MatMul gen 0"]
    # upstream x local = what the backward pass gave, for each elementwise node
    for line in out.splitlines():
        if "x local" in line:
            product = float(line.split("= ")[1].split()[0])
            given = float(line.split("backward gave ")[1].rstrip(")"))
            assert abs(product - given) < 1e-6, line
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")


def test_trace_backward_reports_each_node_once_in_visiting_order():
    from minigan.core import trace_backward
    x = mg.tensor(np.arange(1.0, 4.0), requires_grad=True)
    seen = []
    with trace_backward(lambda fn, gy, gxs: seen.append((fn.name, gy.shape, len(gxs)))):
        F.tanh(x * x).sum().backward()
    assert seen == [("Sum", (), 1), ("Tanh", (3,), 1), ("Mul", (3,), 2)]
    (x * 2).sum().backward()                   # outside the block: nothing traced
    assert len(seen) == 3


@pytest.mark.parametrize("flags,message", [(["--seed", "-1"], "--seed must be >= 0"),
                                           (["--out", "FILE"], "--out")])
def test_walkthrough_bad_flags_get_one_line_before_any_work(flags, message, tmp_path, capsys):
    (tmp_path / "FILE").write_text("x")
    flags = [str(tmp_path / f) if f == "FILE" else f for f in flags]
    with pytest.raises(SystemExit) as exc:
        load_example("backprop_walkthrough").main(flags)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and "Traceback" not in err
