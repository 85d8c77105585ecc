"""Runs that never hang, lose finished work, or report a failure as success: the bad inputs a
new user gives, Ctrl-C, a full disk, a diverging run."""
import errno
import json
import os

import numpy as np
import pytest

import minigan as mg
from minigan.data import write_idx
from tests.examples import load_example
from tests.test_data import write_tiny_mnist


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(write_tiny_mnist(tmp_path_factory.mktemp("tiny")))


def _strict(path):
    """metrics.json parsed by a reader that refuses NaN and infinities."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(path.read_text(), parse_constant=refuse)


def _mlp(tiny, out, *flags):
    return load_example("mlp_classifier").main(
        ["--dataset", "mnist", "--data", tiny, "--hidden", "16", "--batch-size", "20",
         "--steps", "30", "--eval-every", "10", "--no-progress", "--out", str(out), *flags])


def _one_line_error(capsys, code, exc, text):
    err = capsys.readouterr().err
    assert exc.value.code == code, err
    assert text in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 or err.startswith("usage:"), err


# --- bad input: one clear line, before any work -------------------------------------------

def test_a_batch_larger_than_the_dataset_is_refused_instead_of_hanging(tiny, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _mlp(tiny, tmp_path / "o", "--batch-size", "70000")
    _one_line_error(capsys, 2, exc, "--batch-size 70000 is more than the 300 training images")


def test_an_out_path_that_is_a_file_is_refused_before_training(tiny, tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    with pytest.raises(SystemExit) as exc:
        _mlp(tiny, tmp_path / "f")
    _one_line_error(capsys, 2, exc, "a file is there, not a folder")
    assert (tmp_path / "f").read_text() == "x"


def test_nan_in_the_data_is_refused(tiny, tmp_path, capsys):
    bad = tmp_path / "nan"
    write_tiny_mnist(bad)
    images = np.zeros((300, 28, 28), np.float32)
    images[3, 4, 5] = np.nan
    write_idx(images, bad / "train-images-idx3-ubyte.gz")
    with pytest.raises(SystemExit) as exc:
        _mlp(str(bad), tmp_path / "o")
    _one_line_error(capsys, 2, exc, "the train images hold NaN or infinite values")


def test_an_empty_split_is_refused(tmp_path, capsys):
    empty = tmp_path / "empty"
    write_tiny_mnist(empty)
    write_idx(np.zeros((0, 28, 28), np.uint8), empty / "t10k-images-idx3-ubyte.gz")
    write_idx(np.zeros(0, np.uint8), empty / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(SystemExit) as exc:
        _mlp(str(empty), tmp_path / "o")
    _one_line_error(capsys, 2, exc, "the test split")


def test_the_loader_refuses_a_dataset_with_no_full_batch():
    with pytest.raises(ValueError, match="50 examples make no full batch of 100"):
        mg.data.DataLoader(np.zeros(50), batch_size=100, drop_last=True)
    with pytest.raises(ValueError, match="no examples"):
        mg.data.DataLoader(np.zeros(0))
    assert len(mg.data.DataLoader(np.zeros(50), batch_size=100)) == 1


# --- divergence is an outcome, not a success --------------------------------------------

@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")   # it diverges
def test_a_diverging_classifier_stops_with_status_3_and_keeps_its_last_finite_state(
        tiny, tmp_path, capsys):
    out = tmp_path / "div"
    with pytest.raises(SystemExit) as exc:
        _mlp(tiny, out, "--lr", "1e30")
    _one_line_error(capsys, 3, exc, "training diverged: the loss is nan at step")
    record = _strict(out / "metrics.json")
    assert record["status"] == "diverged" and "diverged" in record["error"]
    state = mg.load(out / "checkpoint.npz")
    assert all(np.isfinite(v).all() for v in state["model"].values())


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")   # it diverges
def test_a_diverging_gan_stops_with_status_3_and_strict_json(tmp_path, capsys):
    ex = load_example("gaussian_mixture")
    out = tmp_path / "gan"
    with pytest.raises(SystemExit) as exc:
        ex.main(["--optimizer", "sgd", "--lr", "1e8", "--steps", "300", "--out", str(out),
                 "--no-progress",    # networks whose G turns non-finite before D's loss does
                 "--d-hidden", "64,32", "--batch-size", "256"])
    err = capsys.readouterr().err
    assert exc.value.code == 3 and "training diverged: D's loss is nan at turn" in err
    record = _strict(out / "metrics.json")
    assert record["status"] == "diverged" and record["non_finite_as_null"] is True
    assert record["final"]["log_density"] is None


def test_strict_json_writes_non_finite_values_as_null(tmp_path):
    from minigan.serialization import save_json
    save_json({"a": [1.0, float("nan")], "b": {"c": float("-inf")}, "d": 2},
              tmp_path / "m.json")
    assert _strict(tmp_path / "m.json") == {"a": [1.0, None], "b": {"c": None}, "d": 2,
                                             "non_finite_as_null": True}


# --- Ctrl-C and resume for the classifiers --------------------------------------------------

def test_a_classifier_interrupted_and_resumed_ends_as_the_uninterrupted_run(
        tiny, tmp_path, monkeypatch, capsys):
    import signal

    from minigan import optim
    whole = _mlp(tiny, tmp_path / "whole")
    real = optim.SGD.step
    calls = {"n": 0}

    def step_then_interrupt(self):
        real(self)
        calls["n"] += 1
        if calls["n"] == 17:                       # in the second epoch of 15 batches
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(optim.SGD, "step", step_then_interrupt)
    with pytest.raises(SystemExit) as exc:
        _mlp(tiny, tmp_path / "cut")
    assert exc.value.code == 130
    assert "--resume" in capsys.readouterr().out
    record = _strict(tmp_path / "cut" / "metrics.json")
    assert record["status"] == "interrupted" and record["steps"] == [10]
    monkeypatch.undo()
    with pytest.raises(SystemExit):                # a resume needs the same flags
        _mlp(tiny, tmp_path / "x", "--resume", str(tmp_path / "cut"), "--hidden", "8")
    assert "--hidden 8 (the checkpoint's: 16)" in capsys.readouterr().err
    resumed = _mlp(tiny, tmp_path / "cut", "--resume", str(tmp_path / "cut"))
    assert resumed["status"] == "complete"
    assert resumed["train_loss"] == whole["train_loss"]
    assert resumed["test_accuracy"] == whole["test_accuracy"]
    a, b = (mg.load(tmp_path / d / "checkpoint.npz")["model"] for d in ("whole", "cut"))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# --- coherent folders: a rerun replaces, a failure keeps the old run ---------------------

def _gan(out, *flags):
    return load_example("gaussian_mixture").main(
        ["--steps", "20", "--g-hidden", "8", "--d-hidden", "8", "--no-progress",
         "--out", str(out), *flags])


def test_a_rerun_replaces_the_folder_as_a_whole(tmp_path):
    out = tmp_path / "run"
    _gan(out)
    (out / "stale.txt").write_text("from an earlier run")
    _gan(out, "--seed", "1")
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "metrics.json").read_text())["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with pytest.raises(SystemExit):                      # fails on its flags: nothing left
        _gan(out, "--lr", "-1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     KeyboardInterrupt()])
def test_a_full_disk_or_ctrl_c_while_writing_leaves_the_previous_run_intact(
        tmp_path, monkeypatch, capsys, failure):
    from minigan import plot
    out = tmp_path / "run"
    _gan(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*a, **k):
        raise failure
    monkeypatch.setattr(plot, "snapshot_grid", broken)
    with pytest.raises(SystemExit) as e:
        _gan(out, "--seed", "1")
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if isinstance(failure, OSError):
        assert e.value.code == 1 and "No space left on device" in err
    else:
        assert e.value.code == 130 and "interrupted" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    leftovers = [p for p in tmp_path.iterdir() if p.name != "run"]
    assert len(leftovers) == 1 and leftovers[0].name.startswith("run.partial-")
    assert not [p for p in leftovers[0].iterdir() if p.name.startswith(".tmp-")]
    assert (leftovers[0] / "checkpoint.npz").exists()     # the new run's work is not lost


def test_one_ctrl_c_while_writing_waits_for_the_files(tmp_path, monkeypatch):
    import signal

    from minigan import plot
    real = plot.snapshot_grid

    def interrupted_while_drawing(*a, **k):
        os.kill(os.getpid(), signal.SIGINT)
        return real(*a, **k)
    monkeypatch.setattr(plot, "snapshot_grid", interrupted_while_drawing)
    out = tmp_path / "run"
    record = _gan(out)
    assert record["status"] == "complete"
    assert _strict(out / "metrics.json")["status"] == "complete"
    assert (out / "snapshots.png").stat().st_size > 0
