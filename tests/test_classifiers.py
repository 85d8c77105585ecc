"""The thesis's classifiers (examples 2.2.2, 3.2.1, 3.3.1) end to end on a tiny IDX set."""
import json
import os

import numpy as np
import pytest

import minigan as mg
from minigan.data.mnist import DEBIAN_ROOT
from minigan.models import ThesisCNN
from tests.examples import load_example
from tests.test_data import write_tiny_mnist


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(write_tiny_mnist(tmp_path_factory.mktemp("tiny")))


@pytest.mark.parametrize("name,extra,pictures", [
    ("logistic_regression", ["--lr", "0.5"], ["accuracy.png"]),
    ("mlp_classifier", ["--hidden", "64", "--lr", "0.05"], ["accuracy.png"]),
    ("cnn_classifier", [], ["accuracy.png", "loss.png"]),
])
def test_example_runs_end_to_end_and_learns_the_tiny_set(name, extra, pictures, tiny, tmp_path,
                                                         capsys):
    out = tmp_path / name
    record = load_example(name).main(["--dataset", "mnist", "--data", tiny, "--steps", "60",
                                  "--batch-size", "20", "--eval-every", "30", "--no-progress",
                                  "--out", str(out)] + extra)
    for f in pictures + ["confusion.png", "metrics.json"]:
        assert (out / f).stat().st_size > 0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["final_accuracy"] == record["final_accuracy"] > 0.5     # chance is 0.1
    assert np.array(saved["confusion"]).sum() == 100
    assert sorted(saved["outputs"]) == sorted(os.listdir(out)) and saved["status"] == "complete"
    assert "confusion matrix" in capsys.readouterr().out


def test_cnn_example_saves_a_model_whose_features_reload(tiny, tmp_path):
    out = tmp_path / "cnn"
    load_example("cnn_classifier").main(["--dataset", "mnist", "--data", tiny, "--steps", "5",
                                     "--batch-size", "20", "--no-progress", "--out", str(out)])
    model = ThesisCNN.load(out / "model.npz")
    x = mg.tensor(np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32))
    assert model.features(x).shape == (3, 1024) and model(x).shape == (3, 10)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        model.features(mg.tensor(np.zeros((3, 784), np.float32)))


@pytest.mark.parametrize("flags,message", [
    (["--lr", "0"], "argument --lr: must be a finite number > 0, got '0'"),
    (["--lr", "inf"], "argument --lr: must be a finite number > 0, got 'inf'"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--steps", "0"], "--steps must be >= 1"),
    (["--dataset", "mnist"], "needs --data"),
    (["--device", "tpu"], "--device: unknown device 'tpu'"),
])
def test_bad_flags_get_a_clear_error(flags, message, capsys):
    with pytest.raises(SystemExit) as exc:
        load_example("logistic_regression").main(flags)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_missing_data_explains_the_install_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        load_example("mlp_classifier").main(["--data", str(tmp_path), "--no-progress",
                                             "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "apt-get install -y dataset-fashion-mnist" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(DEBIAN_ROOT),
                    reason="Fashion-MNIST is not installed: apt-get install -y "
                           "dataset-fashion-mnist")
def test_short_training_on_real_fashion_mnist_is_far_above_chance(tmp_path):
    record = load_example("logistic_regression").main(
        ["--steps", "300", "--eval-every", "300", "--no-progress", "--out", str(tmp_path)])
    assert record["final_accuracy"] > 0.7


def _capture_train(monkeypatch):
    """Run an example up to its training call and keep what it built."""
    from minigan import classify
    seen = {}

    def fake_train(model, opt, data, args, eval_at=()):
        seen.update(model=model, opt=opt, args=args)
        raise SystemExit(0)
    monkeypatch.setattr(classify, "train", fake_train)
    return seen


def test_mlp_flags_build_the_model_and_optimizer(tiny, tmp_path, monkeypatch):
    seen = _capture_train(monkeypatch)
    with pytest.raises(SystemExit):
        load_example("mlp_classifier").main(["--dataset", "mnist", "--data", tiny,
                                             "--hidden", "7", "--momentum", "0.3",
                                             "--lr", "0.04", "--out", str(tmp_path)])
    assert seen["model"][0].weight.shape == (7, 784)
    assert seen["opt"].momentum == 0.3 and seen["opt"].lr == 0.04


@pytest.mark.parametrize("name", ["logistic_regression", "cnn_classifier"])
def test_the_lr_flag_reaches_the_optimizer(name, tiny, tmp_path, monkeypatch):
    seen = _capture_train(monkeypatch)
    with pytest.raises(SystemExit):
        load_example(name).main(["--dataset", "mnist", "--data", tiny, "--lr", "0.0123",
                                 "--out", str(tmp_path)])
    assert seen["opt"].lr == 0.0123


def test_steps_batch_eval_and_seed_flags_shape_the_run(tiny, tmp_path, capsys):
    ex = load_example("mlp_classifier")

    def run(*flags):
        return ex.main(["--dataset", "mnist", "--data", tiny, "--out", str(tmp_path),
                        "--hidden", "8", *flags])
    a = run("--steps", "12", "--batch-size", "5", "--eval-every", "4", "--no-progress")
    assert a["steps"] == [4, 8, 12] and a["examples"] == [20, 40, 60]
    b = run("--steps", "12", "--batch-size", "5", "--eval-every", "5", "--seed", "1",
            "--no-progress")
    assert b["steps"] == [5, 10, 12]
    assert a["train_loss"] != b["train_loss"]
    assert "step" not in capsys.readouterr().err
    run("--steps", "12", "--batch-size", "5", "--eval-every", "4")
    assert "step" in capsys.readouterr().err


def test_predict_goes_in_batches_of_batch_size_and_restores_training_mode():
    from minigan.metrics import confusion_matrix, predict
    sizes = []

    class Probe(mg.nn.Module):
        def forward(self, x):
            sizes.append(len(x.data))
            return mg.tensor(np.eye(3)[np.arange(len(x.data)) % 3])
    model = Probe()
    pred = predict(model, np.zeros((7, 2), np.float32), batch_size=3)
    assert sizes == [3, 3, 1] and pred.tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert model.training
    c = confusion_matrix([0, 1, 1], [0, 1, 0], n_classes=4)
    assert c.shape == (4, 4) and c[1, 0] == 1 and c.sum() == 3


@pytest.mark.parametrize("name", ["logistic_regression", "mlp_classifier", "cnn_classifier"])
def test_device_trains_there_with_the_cpus_numbers(name, tiny, tmp_path):
    # --device: the strict stand-in for CuPy (tests/strict_xp.py); a model the example saves
    # holds host arrays
    def run(*flags):
        return load_example(name).main(["--dataset", "mnist", "--data", tiny, "--steps", "8",
                                        "--batch-size", "20", "--eval-every", "4",
                                        "--no-progress", *flags])
    cpu = run("--out", str(tmp_path / "cpu"))
    there = run("--out", str(tmp_path / "strict"), "--device", "strict")
    assert json.loads((tmp_path / "strict" / "metrics.json").read_text())["config"][
        "device"] == "strict"
    np.testing.assert_allclose(there["train_loss"], cpu["train_loss"], rtol=1e-4)
    # the CPU's convolutions may run by Winograd (float32 error ~1e-5, not im2col's ~1e-7):
    # a prediction on the edge between two classes may flip, no more than one
    moved = np.abs(np.array(there["confusion"]) - np.array(cpu["confusion"])).sum() // 2
    assert moved <= 1


def test_paired_accuracy_counts_the_discordant_examples_and_tests_them_exactly():
    from minigan.metrics import paired_accuracy
    labels = np.arange(10) % 3
    a = labels.copy()
    b = labels.copy()
    b[:5] = (labels[:5] + 1) % 3                  # b wrong on 5 examples a gets right
    r = paired_accuracy(labels, a, b)
    assert (r["accuracy_a"], r["accuracy_b"], r["only_a"], r["only_b"]) == (1.0, 0.5, 5, 0)
    assert r["difference"] == -0.5
    assert r["p_value"] == 2 / 2 ** 5               # both tails of Binomial(5, 1/2) at 0
    d = np.r_[-np.ones(5), np.zeros(5)]
    assert np.isclose(r["standard_error"], d.std(ddof=1) / np.sqrt(10))
    s = paired_accuracy(labels, b, a)               # symmetric, the sign flipped
    assert (s["difference"], s["p_value"], s["only_a"]) == (0.5, r["p_value"], 0)
    same = paired_accuracy(labels, a, a)
    assert (same["difference"], same["p_value"], same["only_b"]) == (0.0, 1.0, 0)
    half = a.copy()
    half[:3] = (labels[:3] + 1) % 3
    swapped = a.copy()
    swapped[5] = (labels[5] + 1) % 3
    r = paired_accuracy(labels, swapped, half)      # a wrong on 1, b wrong on 3
    assert (r["only_a"], r["only_b"]) == (3, 1)
    assert r["p_value"] == 2 * (1 + 4) / 16
    with pytest.raises(ValueError, match="equal non-empty shapes"):
        paired_accuracy(labels, a[:3], b)
