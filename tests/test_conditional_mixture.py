"""examples/conditional_mixture.py (thesis 5.1.1): outputs, presets, every flag it adds or
builds differently from the main job, resume, many seeds, and the per-class record."""
import json
import os
import signal

import numpy as np
import pytest

import minigan as mg
from minigan.backend.threads import single_threaded
from minigan.experiments.conditional_mixture import settling_turns
from minigan.experiments.runner import _stats
from minigan.gan import GANTrainer, latent_sampler
from minigan.models import conditional_mlp_generator
from tests.examples import load_example

ex = load_example("conditional_mixture")
TINY = ["--g-hidden", "16", "--d-hidden", "16", "--batch-size", "32", "--no-progress"]


def _run(tmp_path, *flags, name="run"):
    out = tmp_path / name
    return out, ex.main(["--out", str(out), *TINY, *flags])


def test_the_example_runs_end_to_end(tmp_path, capsys):
    out, record = _run(tmp_path, "--steps", "200", "--eval-every", "100")
    names = ("samples_per_class.png", "metrics_per_class.png", "samples_over_density.png",
             "metrics.png", "metrics.json", "checkpoint.npz", "samples.npy")
    for name in names:
        assert (out / name).stat().st_size > 0
    assert sorted(record["outputs"]) == sorted(p.name for p in out.iterdir())
    samples = np.load(out / "samples.npy")
    assert samples.shape == (4, 10_000, 2)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["turns"] == [0, 100, 200] and saved["status"] == "complete"
    for k in range(4):
        for m in ("kl", "hist", "thesis", "coverage"):
            assert f"{m}_{k}" in saved["final"] and f"{m}_{k}" in saved["perfect"]
    assert {"bayes_accuracy", "hist", "tv", "kl_max"} <= set(saved["final"])
    assert saved["final"]["kl_max"] == max(saved["final"][f"kl_{k}"] for k in range(4))
    assert saved["perfect"]["bayes_accuracy"] == pytest.approx(0.894, abs=0.003)
    assert set(saved["settled_at"]) == {"0", "1", "2", "3"}
    # the samples are G's average's for each class, on the evaluation latents
    ck = mg.load(out / "checkpoint.npz")
    G = conditional_mlp_generator(10, 4, (16,))
    G.load_state_dict(ck["G_ema"])
    z = latent_sampler("normal", 10)(10_000, np.random.default_rng(10_000))
    with mg.no_grad(), single_threaded():
        for k in range(4):
            np.testing.assert_array_equal(
                G(mg.tensor(z), np.full(10_000, k)).data.astype(np.float64), samples[k])
    text = capsys.readouterr().out
    assert "settled at" in text and "bayes_accuracy" in text


def test_presets_are_the_thesis_and_the_robust_recipe():
    _, robust = ex.parse_args([])
    assert {k: robust[k] for k in ex.SETTINGS} == ex.PRESETS["robust"]
    assert robust["preset"] == "robust" and robust["latent"] == "normal"
    _, thesis = ex.parse_args(["--preset", "thesis"])
    assert (thesis["g_hidden"], thesis["d_hidden"], thesis["latent"], thesis["latent_dim"],
            thesis["lr"], thesis["beta1"], thesis["batch_size"], thesis["steps"]) == \
        ((1024,), (1024,), "uniform", 100, 2e-4, 0.5, 64, 50000)


def _built(*flags):
    args, config = ex.parse_args(list(flags))
    return ex.build(config, args.seed)


def _label_share(trainer, k=0, n=40_000):
    return float((trainer.sample_labels(n, np.random.default_rng(0)) == k).mean())


# what the conditional build does with each flag (its own code, not the main job's)
FLAG_EFFECTS = {
    "--labels uniform": lambda r: abs(_label_share(r.trainer) - 0.25) < 0.01,
    "--labels weights": lambda r: abs(_label_share(r.trainer) - 0.4) < 0.01,
    "--latent-dim 7 --latent uniform": lambda r: r.z_eval.shape == (10_000, 7)
    and r.z_eval.min() >= 0 and r.trainer.G.net[0].weight.shape[1] == 7 + 4,
    "--g-hidden 8,4": lambda r: [p.shape for p in r.trainer.G.parameters()][::2]
    == [(8, 14), (4, 8), (2, 4)],
    "--d-hidden 5": lambda r: [p.shape for p in r.trainer.D.parameters()][::2]
    == [(5, 6), (1, 5)],
    "--batch-size 48 --d-steps 2 --g-ema 0.9": lambda r: r.trainer.batch_size == 48
    and r.trainer.d_steps == 2 and r.trainer.g_ema == 0.9,
    "--lr 0.003 --lr-decay-start 0.5": lambda r: r.trainer.opt_g.lr == 0.003
    and len(r.trainer.schedulers) == 2,
    "--mixture ring": lambda r: r.trainer.n_classes == 8 and len(r.counts) == 8,
    "--device strict": lambda r: r.trainer.G.device == r.trainer.D.device == "strict"
    and isinstance(r.evaluate()[0], np.ndarray),
}


@pytest.mark.parametrize("flags", list(FLAG_EFFECTS))
def test_each_flag_reaches_the_conditional_run(flags):
    assert FLAG_EFFECTS[flags](_built(*flags.split()))


@pytest.mark.parametrize("flags, message", [
    (["--labels", "balanced"], "invalid choice: 'balanced'"),
    (["--steps", "-1"], "--steps must be >= 0"),
    (["--g-hidden", "0"], "hidden sizes must be positive"),
    (["--latent-dim", "0"], "--latent-dim must be >= 1"),
])
def test_bad_flags_get_one_clear_error(flags, message, capsys):
    with pytest.raises(SystemExit) as exc:
        ex.parse_args(flags)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_the_pooled_set_draws_labels_by_the_class_weights():
    r = _built("--seed", "3")
    assert r.counts.sum() == 10_000
    np.testing.assert_allclose(r.counts / 10_000, r.mixture.weights, atol=0.015)
    assert not np.array_equal(r.counts, _built("--seed", "4").counts)


def test_resume_after_ctrl_c_ends_as_the_uninterrupted_run(tmp_path, monkeypatch):
    flags = ["--steps", "120", "--eval-every", "40"]
    whole, _ = _run(tmp_path, *flags, name="whole")
    real = GANTrainer.turn

    def turn_then_interrupt(self):
        real(self)
        if self.turns == 50:
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(GANTrainer, "turn", turn_then_interrupt)
    with pytest.raises(SystemExit) as exc:
        _run(tmp_path, *flags, name="cut")
    assert exc.value.code == 130
    monkeypatch.undo()
    resumed = ex.main(["--resume", str(tmp_path / "cut"), "--no-progress"])
    assert resumed["turns"] == [0, 40, 50, 80, 120]
    np.testing.assert_array_equal(np.load(whole / "samples.npy"),
                                  np.load(tmp_path / "cut" / "samples.npy"))


def test_many_seeds_summarise_the_worst_class_and_the_bayes_gap(tmp_path):
    out = tmp_path / "seeds"
    summary = ex.main(["--seeds", "0-1", "--workers", "2", "--steps", "30", "--eval-every",
                       "30", "--out", str(out), *TINY])
    assert summary["complete"] == 2 and summary["curve"] == "kl_max"
    finals = [summary["seeds"][s]["final"] for s in ("0", "1")]
    kls = [f["kl_max"] for f in finals]
    assert summary["stats"]["kl_max"] == {"median": float(np.median(kls)), "worst": max(kls)}
    bayes, perfect = [f["bayes_accuracy"] for f in finals], summary["perfect"]["bayes_accuracy"]
    assert summary["stats"]["bayes_accuracy"]["worst"] == max(bayes,
                                                              key=lambda v: abs(v - perfect))
    assert (out / "summary.png").stat().st_size > 0


def test_the_worst_of_a_two_sided_metric_is_the_farthest_from_perfect():
    assert _stats([0.80, 0.95, 0.90], "farthest", 0.894) == {"median": 0.90, "worst": 0.80}
    assert _stats([0.85, 0.99], "farthest", 0.894)["worst"] == 0.99
    assert _stats([1.0, 3.0, 2.0], max, None) == {"median": 2.0, "worst": 3.0}
    assert _stats([], min, None) == {"median": None, "worst": None}


def test_a_class_settles_at_the_turn_from_which_it_stays_below_the_level():
    turns = [0, 10, 20, 30, 40]
    assert settling_turns(turns, [1, 0.01, 0.5, 0.01, 0.001]) == 30
    assert settling_turns(turns, [0.01] * 5) == 0
    assert settling_turns(turns, [1, 1, 1, 1, 0.5]) is None
    assert settling_turns(turns, [1, 0.01, 0.01, 0.01, float("nan")]) is None
