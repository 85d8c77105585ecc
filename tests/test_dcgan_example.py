"""examples/dcgan.py (from issue 16) end to end on a tiny IDX set the test writes: outputs,
the conditional model, the judge trained and kept, resume bit for bit, bad flags and a judge
of the wrong shape."""
import json
import os
import signal

import numpy as np
import pytest

import minigan as mg
from minigan.experiments import dcgan as dc
from minigan.gan import GANTrainer
from minigan.metrics import predict
from minigan.models import ThesisCNN
from tests.examples import load_example

ex = load_example("dcgan")


@pytest.fixture(scope="module")
def data(tiny_fashion):
    return tiny_fashion


@pytest.fixture(autouse=True)
def few_samples(monkeypatch):
    monkeypatch.setattr(dc, "EVAL_SAMPLES", 100)      # 10,000 in a real run


def _flags(data, tmp_path, *more):
    return ["--data", data, "--judge", str(tmp_path.parent / "judge.npz"), "--batch-size",
            "32", "--no-progress", "--out", str(tmp_path / "run"), *more]


def test_the_example_runs_end_to_end(data, tmp_path):
    record = ex.main(_flags(data, tmp_path, "--epochs", "2"))
    out = tmp_path / "run"
    names = {"checkpoint.npz", "samples.npy", "samples_grid.png", "fixed_latents.png",
             "metrics.png", "metrics.json"}
    assert names == {p.name for p in out.iterdir()}
    samples = np.load(out / "samples.npy")
    assert samples.shape == (100, 1, 28, 28) and np.abs(samples).max() <= 1
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["turns"] == [0, 8, 16] and saved["turns_per_epoch"] == 8    # 256 // 32
    assert saved["final"]["fid"] > 0 and len([k for k in saved["final"]
                                              if k.startswith("prop_")]) == 12
    assert 0 <= saved["final"]["d_real"] <= 1
    judged = predict(ThesisCNN.load(tmp_path.parent / "judge.npz"),
                     (dc.load_images(data, 1)[2] + 1) / 2)
    shares = np.bincount(judged, minlength=10) / len(judged)   # what real images get judged
    assert [saved["perfect"][f"prop_{k}"] for k in range(10)] == shares.tolist()
    assert saved["perfect"]["prop_max"] == shares.max()
    assert 0 < saved["judge_test_accuracy"] <= 1 and record["status"] == "complete"
    assert os.path.exists(tmp_path.parent / "judge.npz")       # trained once, kept


def test_device_trains_there_with_the_cpus_numbers(data, tmp_path):
    # --device: the strict stand-in for CuPy (tests/strict_xp.py); the judge stays on the CPU
    cpu = ex.main(_flags(data, tmp_path / "cpu", "--epochs", "1", "--conditional"))
    there = ex.main(_flags(data, tmp_path / "strict", "--epochs", "1", "--conditional",
                           "--device", "strict"))
    saved = json.loads((tmp_path / "strict" / "run" / "metrics.json").read_text())
    config = {"latent_dim": 8, "conditional": False, "lr": 1e-3, "beta1": 0.5,
              "batch_size": 4}
    x = np.zeros((8, 1, 28, 28), np.float32)
    for dev, adam in (("cpu", mg.optim.Adam), ("strict", mg.optim.FlatAdam)):
        trainer, _ = dc.DCGAN._game(*dc.networks(config), dict(config, device=dev), 0, x, None)
        assert type(trainer.opt_g) is adam        # off the CPU: one Adam launch for all of G
    assert saved["config"]["device"] == "strict" and there["status"] == "complete"
    for k in ("fid", "gan_test", "d_loss"):
        assert there["final"][k] == pytest.approx(cpu["final"][k], rel=2e-2, abs=2e-2), k


def test_the_conditional_model_writes_labels_and_gan_test(data, tmp_path):
    ex.main(_flags(data, tmp_path, "--epochs", "1", "--conditional"))
    out = tmp_path / "run"
    labels = np.load(out / "labels.npy")
    assert labels.shape == (100,) and (np.bincount(labels) == 10).all()
    assert (out / "classes.png").stat().st_size > 0
    saved = json.loads((out / "metrics.json").read_text())
    assert 0 <= saved["final"]["gan_test"] <= 1
    assert saved["config"]["conditional"] is True
    ck = mg.load(out / "checkpoint.npz")
    assert ck["G"]["net.0.weight"].shape == (128 * 49, 110)


def test_resume_after_an_epoch_ends_bit_for_bit_as_the_uninterrupted_run(data, tmp_path,
                                                                        monkeypatch):
    flags = _flags(data, tmp_path, "--epochs", "2")
    ex.main(flags)
    whole = mg.load(tmp_path / "run" / "checkpoint.npz")
    real = GANTrainer.turn

    def turn_then_interrupt(self):
        real(self)
        if self.turns == 8:                                # the end of epoch 1
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(GANTrainer, "turn", turn_then_interrupt)
    cut = tmp_path / "cut"
    with pytest.raises(SystemExit) as exc:
        ex.main([*flags, "--out", str(cut)])
    assert exc.value.code == 130
    monkeypatch.undo()
    monkeypatch.setattr(dc, "EVAL_SAMPLES", 100)
    state = mg.load(cut / "checkpoint.npz")           # as written before these settings were
    config = json.loads(str(state["config"]))
    del config["image_size"], config["data_folder"]
    state["config"] = json.dumps(config)
    mg.save(state, cut / "checkpoint.npz")
    ex.main(["--resume", str(cut), "--no-progress"])
    resumed = mg.load(cut / "checkpoint.npz")
    for net in ("G", "D"):
        for k, v in whole[net].items():
            np.testing.assert_array_equal(v, resumed[net][k])
    np.testing.assert_array_equal(np.load(tmp_path / "run" / "samples.npy"),
                                  np.load(cut / "samples.npy"))


def test_each_epoch_is_a_permutation_drawn_from_the_seed_and_the_epoch():
    x, y = np.arange(40)[:, None], np.arange(40)
    turns = {"t": 0}
    sample, per_epoch = dc.epoch_sampler(x, y, 8, 3, lambda: turns["t"], True)
    assert per_epoch == 5
    seen = []
    for t in range(10):
        turns["t"] = t
        xb, yb = sample(8, None)
        assert (xb[:, 0] == yb).all()
        seen.append(yb)
    first, second = np.concatenate(seen[:5]), np.concatenate(seen[5:])
    assert sorted(first) == sorted(second) == list(range(40))
    assert not np.array_equal(first, second)
    again, _ = dc.epoch_sampler(x, y, 8, 3, lambda: 7, True)
    np.testing.assert_array_equal(again(8, None)[1], seen[7])
    other, _ = dc.epoch_sampler(x, y, 8, 4, lambda: 7, True)
    assert not np.array_equal(other(8, None)[1], seen[7])


@pytest.mark.parametrize("flags, message", [
    (["--epochs", "-1"], "--epochs must be >= 0"),
    (["--batch-size", "1"], "--batch-size must be >= 2"),
    (["--lr", "0"], "--lr must be finite and > 0"),
    (["--latent-dim", "0"], "--latent-dim must be >= 1"),
    (["--device", "tpu"], "--device: unknown device 'tpu'"),
])
def test_bad_flags_get_one_clear_error(flags, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        ex.parse_args([*flags, "--out", str(tmp_path / "o")])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_a_judge_of_the_wrong_shape_is_one_clear_error(data, tmp_path, capsys):
    ThesisCNN(channels=2, hidden=8, classes=5).save(tmp_path / "five.npz")
    with pytest.raises(SystemExit) as exc:
        ex.main(["--data", data, "--judge", str(tmp_path / "five.npz"), "--epochs", "1",
                 "--no-progress", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "a classifier of 5 classes" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit) as exc:
        ex.main(["--data", data, "--judge", str(tmp_path / "junk.npz"), "--epochs", "1",
                 "--no-progress", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2 and "not a saved ThesisCNN" in capsys.readouterr().err


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """24 colour PNGs of 40x30 (not square: the loader crops): a disc on noise."""
    from PIL import Image
    root = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    r, c = np.mgrid[:30, :40]
    for i in range(24):
        img = (rng.random((30, 40, 3)) * 80).astype(np.uint8)
        img[(r - 15) ** 2 + (c - 20 + i % 5) ** 2 < 80] = (200, 150, 120)
        Image.fromarray(img).save(root / f"{i:03d}.png")
    return str(root)


def test_an_image_folder_at_64x64_trains_in_colour(image_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(dc, "FOLDER_SAMPLES", 100)
    record = ex.main(["--data-folder", image_folder, "--image-size", "64", "--batch-size",
                      "8", "--epochs", "2", "--no-progress", "--out", str(tmp_path / "run")])
    out = tmp_path / "run"
    assert {"checkpoint.npz", "samples.npy", "samples_grid.png", "fixed_latents.png",
            "metrics.png", "metrics.json"} == {p.name for p in out.iterdir()}
    samples = np.load(out / "samples.npy")
    assert samples.shape == (100, 3, 64, 64) and np.abs(samples).max() <= 1
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["turns"] == [0, 3, 6] and "fid" not in saved["final"]
    assert 0 <= saved["final"]["d_real"] <= 1 and record["status"] == "complete"
    state = mg.load(out / "checkpoint.npz")
    assert state["G"]["13.weight"].shape == (3, 32, 3, 3)     # one more up-sampling layer
    assert state["D"]["12.weight"].shape == (1, 256 * 16)
    again = ex.main(["--data-folder", image_folder, "--image-size", "28", "--batch-size", "8",
                     "--epochs", "1", "--no-progress", "--out", str(tmp_path / "r28")])
    assert np.load(tmp_path / "r28" / "samples.npy").shape == (100, 3, 28, 28)
    assert again["status"] == "complete"


@pytest.mark.parametrize("flags, message", [
    (["--image-size", "64"], "--image-size 64 needs --data-folder"),
    (["--image-size", "32"], "invalid choice"),
    (["--data-folder", "FOLDER", "--conditional"], "--conditional needs labels"),
    (["--data-folder", "EMPTY"], "no .jpg/.jpeg/.png/.bmp images"),
    (["--data-folder", "FOLDER", "--batch-size", "64"], "more than the 24 images"),
])
def test_bad_image_folder_settings_get_one_line(image_folder, tmp_path, capsys, flags, message):
    (tmp_path / "empty").mkdir()
    flags = [{"FOLDER": image_folder, "EMPTY": str(tmp_path / "empty")}.get(f, f)
             for f in flags]
    with pytest.raises(SystemExit) as exc:
        ex.main([*flags, "--no-progress", "--out", str(tmp_path / "run")])
    assert exc.value.code == 2 and message in capsys.readouterr().err
