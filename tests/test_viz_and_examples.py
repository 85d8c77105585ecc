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


def test_backprop_walkthrough_runs_and_agrees_with_finite_differences(tmp_path, capsys):
    load_example("backprop_walkthrough").main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "gradcheck of every parameter against finite differences: True" in out
    diffs = [float(line.split("max |diff|")[1])
             for line in out.splitlines() if "max |diff|" in line]
    assert len(diffs) == 3 and max(diffs) < 1e-7
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")


@pytest.mark.parametrize("flags,message", [(["--seed", "-1"], "--seed must be >= 0"),
                                           (["--out", "FILE"], "--out")])
def test_walkthrough_bad_flags_get_one_line_before_any_work(flags, message, tmp_path, capsys):
    (tmp_path / "FILE").write_text("x")
    flags = [str(tmp_path / f) if f == "FILE" else f for f in flags]
    with pytest.raises(SystemExit) as exc:
        load_example("backprop_walkthrough").main(flags)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and "Traceback" not in err
