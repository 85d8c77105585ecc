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


def _graph():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    w = mg.tensor(np.ones((3, 1)), requires_grad=True)
    x.name, w.name = "x", "w"
    h = x @ w
    h.name = "h"
    y = (h * h).sum()
    y.name = "y"
    return y


def test_to_text_lists_each_tensor_with_its_op_and_marks_a_second_visit():
    assert mg.viz.to_text(_graph()).splitlines() == [
        "y () <- Sum", "  tensor (2, 1) <- Mul", "    h (2, 1) <- MatMul", "      x (2, 3)",
        "      w (3, 1)", "    h (2, 1) <- MatMul (above)"]
    with pytest.raises(TypeError, match="to_text needs a Tensor"):
        mg.viz.to_text(np.ones(2))


def test_draw_shows_an_svg_where_graphviz_is_and_the_text_where_it_is_not(
        tmp_path, monkeypatch):
    graph = mg.viz.draw(_graph(), title="t")
    assert repr(graph) == mg.viz.to_text(_graph())
    monkeypatch.setenv("PATH", str(tmp_path))          # no `dot`: Jupyter shows the text
    assert graph._repr_svg_() is None
    fake = tmp_path / "dot"                            # a `dot` that answers with its input
    fake.write_text("#!/bin/sh\necho \"<svg>$1\"; /bin/cat\n")
    fake.chmod(0o755)
    svg = graph._repr_svg_()
    assert svg.startswith("<svg>-Tsvg") and graph.dot in svg and 'label="t"' in svg


def _run_gan_in_50_lines(tmp_path, *flags):
    import subprocess
    import sys

    from tests.examples import ROOT
    return subprocess.run([sys.executable, str(ROOT / "examples" / "gan_in_50_lines.py"),
                           *flags], capture_output=True, text=True, cwd=tmp_path, timeout=300)


def test_gan_in_50_lines_runs_and_each_flag_counts(tmp_path):
    runs = {}
    for key, flags in {"base": ["--steps", "120", "--seed", "1"],
                       "steps": ["--steps", "100", "--seed", "1"],
                       "seed": ["--steps", "120", "--seed", "2"]}.items():
        out = tmp_path / key
        done = _run_gan_in_50_lines(tmp_path, *flags, "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert "hist" in done.stdout and (out / "samples.png").exists()
        runs[key] = np.load(out / "samples.npy")
    assert runs["base"].shape == (10_000, 2)
    assert not np.array_equal(runs["base"], runs["steps"])
    assert not np.array_equal(runs["base"], runs["seed"])
    again = _run_gan_in_50_lines(tmp_path, "--steps", "120", "--seed", "1", "--out", "rel")
    assert again.returncode == 0                       # the default and relative folders
    np.testing.assert_array_equal(np.load(tmp_path / "rel" / "samples.npy"), runs["base"])


@pytest.mark.parametrize("flags,message", [(["--steps", "0"], "--steps >= 1"),
                                           (["--seed", "-3"], "--seed >= 0"),
                                           (["--out", "FILE"], "a file is there")])
def test_gan_in_50_lines_refuses_bad_flags_in_one_line(flags, message, tmp_path):
    (tmp_path / "FILE").write_text("x")
    done = _run_gan_in_50_lines(tmp_path, *flags)
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "runs").exists()
