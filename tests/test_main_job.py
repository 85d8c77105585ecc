"""The main job, examples/gaussian_mixture.py: presets, every flag, resume, Ctrl-C, many seeds,
and the same numbers on any thread count."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minigan as mg
from minigan.backend.threads import single_threaded
from minigan.data import thesis_mixture
from minigan.gan import GANTrainer
from minigan.models import mlp_generator
from tests.examples import ROOT, load_example

ex = load_example("gaussian_mixture")
SCRIPT = str(ROOT / "examples" / "gaussian_mixture.py")
TINY = ["--g-hidden", "16", "--d-hidden", "16", "--batch-size", "32", "--no-progress"]


def _run(tmp_path, *flags, name="run"):
    out = tmp_path / name
    return out, ex.main(["--out", str(out), *TINY, *flags])


def test_main_job_runs_end_to_end(tmp_path, capsys):
    out, record = _run(tmp_path, "--steps", "200", "--eval-every", "50")
    for name in ("samples_over_density.png", "samples_vs_density.png", "metrics.png",
                 "snapshots.png", "metrics.json", "checkpoint.npz", "samples.npy"):
        assert (out / name).stat().st_size > 0
    samples = np.load(out / "samples.npy")
    assert samples.shape == (10_000, 2) and samples.dtype.kind == "f"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["turns"] == [0, 50, 100, 150, 200] and saved["seed"] == 0
    assert saved["status"] == "complete" and saved["preset"] == "robust"
    assert set(saved["final"]) == set(saved["perfect"]) == {"thesis", "hist", "tv", "coverage",
                                                             "log_density"}
    assert saved["final"] == record["final"]
    assert sorted(saved["outputs"]) == sorted(p.name for p in out.iterdir())
    # metrics.json records every resolved setting
    assert set(ex.SETTINGS) <= set(saved["config"])
    assert saved["config"]["g_hidden"] == [16] and saved["config"]["lr"] == 5e-4
    ck = mg.load(out / "checkpoint.npz")
    G = mlp_generator(10, (16,))
    G.load_state_dict(ck["G_ema"])
    with mg.no_grad(), single_threaded():       # as the example evaluates
        z = ex.latent_sampler("uniform", 10)(10_000, np.random.default_rng(10_000))
        np.testing.assert_array_equal(G(mg.tensor(z)).data.astype(np.float64), samples)
    assert "perfect" in capsys.readouterr().out


def test_a_short_run_learns(tmp_path):
    _, record = _run(tmp_path, "--steps", "400", "--eval-every", "400", "--lr", "2e-3",
                     "--latent", "normal", "--latent-dim", "4")
    first, last = (record["curves"]["hist"][i] for i in (0, -1))
    assert last < 0.2 * first


# --- presets and flags ------------------------------------------------------------------------

def test_presets_resolve_and_explicit_flags_override_them():
    _, robust = ex.parse_args([])
    assert {k: robust[k] for k in ex.SETTINGS} == ex.PRESETS["robust"]
    _, thesis = ex.parse_args(["--preset", "thesis"])
    assert {k: thesis[k] for k in ex.SETTINGS} == ex.PRESETS["thesis"]
    assert thesis["lr"] == 2e-4 and thesis["batch_size"] == 64 and thesis["g_ema"] == 0
    assert thesis["lr_decay_start"] == 1.0
    _, mixed = ex.parse_args(["--preset", "thesis", "--lr", "1e-3", "--simultaneous"])
    assert mixed["lr"] == 1e-3 and mixed["simultaneous"] is True
    assert mixed["batch_size"] == 64 and mixed["preset"] == "thesis"
    _, off = ex.parse_args(["--no-simultaneous"])
    assert off["simultaneous"] is False


def test_help_lists_the_presets_and_every_default(capsys):
    with pytest.raises(SystemExit):
        ex.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "robust: --steps 25000 --batch-size 192 --lr 0.0005" in text
    assert "thesis: --steps 30000 --batch-size 64 --lr 0.0002" in text
    for name in ex.SETTINGS:
        assert "--" + name.replace("_", "-") in text
    assert "(robust: 192, thesis: 64)" in text and "--no-simultaneous --loss" in text
    assert "--d-hidden 64,64" in text and "(robust: 64,64, thesis: 64,32)" in text


def _built(*flags):
    args, config = ex.parse_args(list(flags))
    r = ex.build(config, args.seed)
    return r.mixture, r.scorer, r.trainer, r.z_eval


# each flag, and what the built run must show for it (a flag that were ignored would fail)
FLAG_EFFECTS = {
    "--batch-size 48": lambda m, s, tr, z: tr.batch_size == 48,
    "--lr 0.003": lambda m, s, tr, z: tr.opt_g.lr == tr.opt_d.lr == 0.003,
    "--g-ema 0.9": lambda m, s, tr, z: tr.g_ema == 0.9 and tr.G_ema is not None,
    "--g-ema 0": lambda m, s, tr, z: tr.G_ema is None,
    "--optimizer sgd --momentum 0.3": lambda m, s, tr, z: (
        isinstance(tr.opt_g, mg.optim.SGD) and tr.opt_d.momentum == 0.3),
    "--beta1 0.7": lambda m, s, tr, z: tr.opt_g.betas[0] == tr.opt_d.betas[0] == 0.7,
    "--d-steps 3 --g-steps 2": lambda m, s, tr, z: (tr.d_steps, tr.g_steps) == (3, 2),
    "--simultaneous": lambda m, s, tr, z: tr.simultaneous,
    "--loss minimax": lambda m, s, tr, z: tr.loss == "minimax",
    "--latent normal": lambda m, s, tr, z: z.min() < 0,
    "--latent-dim 7": lambda m, s, tr, z: z.shape == (10_000, 7)
    and tr.G[0].weight.shape == (tr.G[0].weight.shape[0], 7),
    "--g-hidden 8,4": lambda m, s, tr, z: [p.shape for p in tr.G.parameters()][::2]
    == [(8, 10), (4, 8), (2, 4)],
    "--d-hidden 5": lambda m, s, tr, z: [p.shape for p in tr.D.parameters()][::2]
    == [(5, 2), (1, 5)],
    "--mixture ring": lambda m, s, tr, z: m.n_components == 8 and s.mixture is m,
    "--beta2 0.9": lambda m, s, tr, z: tr.opt_g.betas[1] == tr.opt_d.betas[1] == 0.9,
    "--objective wgan": lambda m, s, tr, z: tr.objective == "wgan",
    "--objective hinge": lambda m, s, tr, z: tr.objective == "hinge",
    "--gp 10": lambda m, s, tr, z: tr.gp == 10.0,
    "--r1 0.5": lambda m, s, tr, z: tr.r1 == 0.5,
    "--mode-metrics": lambda m, s, tr, z: s.modes and "high_quality" in s.perfect(10),
    # the strict stand-in for CuPy (tests/strict_xp.py), registered by the tests
    "--device strict": lambda m, s, tr, z: tr.G.device == tr.D.device == tr.device == "strict",
}


@pytest.mark.parametrize("flags", list(FLAG_EFFECTS))
def test_each_setting_flag_reaches_the_run(flags):
    assert FLAG_EFFECTS[flags](*_built(*flags.split()))


def test_the_default_lr_schedule_holds_then_decays_to_zero():
    _, _, tr, _ = _built("--steps", "1000", "--lr-decay-start", "0.25")
    rates = []
    for _ in range(1000):
        rates.append(tr.opt_g.lr)
        for s in tr.schedulers:
            s.step()
    assert rates[0] == rates[250] == 5e-4 and rates[251] < 5e-4
    assert rates[625] == pytest.approx(2.5e-4) and rates[-1] == pytest.approx(5e-4 / 750)
    assert tr.opt_d.lr == tr.opt_g.lr == 0.0
    _, _, flat, _ = _built("--lr-decay-start", "1")
    assert flat.schedulers == []


def test_seed_steps_and_eval_every_change_the_run(tmp_path):
    _, a = _run(tmp_path, "--steps", "60", "--eval-every", "20", name="a")
    _, b = _run(tmp_path, "--steps", "60", "--eval-every", "30", "--seed", "1", name="b")
    assert a["turns"] == [0, 20, 40, 60] and b["turns"] == [0, 30, 60]
    assert a["curves"]["hist"][0] != b["curves"]["hist"][0]
    assert b["seed"] == 1


def test_the_progress_bar_shows_unless_no_progress(tmp_path, capsys):
    ex.main(["--out", str(tmp_path / "p"), "--steps", "20", "--g-hidden", "8",
             "--d-hidden", "8"])
    assert "turn" in capsys.readouterr().err
    ex.main(["--out", str(tmp_path / "q"), "--steps", "20", "--g-hidden", "8",
             "--d-hidden", "8", "--no-progress"])
    assert "turn" not in capsys.readouterr().err


@pytest.mark.parametrize("flags,message", [
    (["--lr", "-1"], "--lr must be finite and > 0"),
    (["--lr", "inf"], "--lr must be finite and > 0"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--g-hidden", "64,x"], "hidden sizes"),
    (["--d-steps", "0", "--g-steps", "0"], "a turn needs"),
    (["--latent", "cauchy"], "invalid choice"),
    (["--preset", "fast"], "invalid choice: 'fast'"),
    (["--seeds", "5-2"], "the seed range 5-2 goes down"),
    (["--seeds", "a"], "seeds must be like 0-19"),
    (["--workers", "0"], "--workers must be >= 1"),
    (["--seed", "-1"], "--seed must be >= 0"),
    (["--lr-decay-start", "1.5"], "--lr-decay-start must be in [0, 1]"),
    (["--g-ema", "1"], "--g-ema must be in [0, 1)"),
    (["--device", "tpu"], "--device: unknown device 'tpu'"),
    (["--beta2", "1"], "--beta2 must be in [0, 1)"),
    (["--gp", "-1"], "--gp must be finite and >= 0"),
    (["--r1", "nan"], "--r1 must be finite and >= 0"),
    (["--objective", "wgan", "--loss", "minimax"], "--loss is the standard objective's"),
    (["--objective", "ls"], "invalid choice: 'ls'"),
])
def test_bad_flags_get_a_clear_error(flags, message, capsys):
    with pytest.raises(SystemExit) as exc:
        ex.parse_args(flags)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unwritable_out_folder_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    with pytest.raises(SystemExit) as exc:
        ex.parse_args(["--out", str(tmp_path / "f")])
    assert exc.value.code == 2 and "--out" in capsys.readouterr().err


# --- resume and Ctrl-C ------------------------------------------------------------------------

def _interrupt_at(monkeypatch, turn):
    """Deliver a real SIGINT to this process right after ``turn``."""
    real = GANTrainer.turn

    def turn_then_interrupt(self):
        real(self)
        if self.turns == turn:
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(GANTrainer, "turn", turn_then_interrupt)


def test_resume_after_ctrl_c_ends_bit_for_bit_as_the_uninterrupted_run(tmp_path, monkeypatch,
                                                                       capsys):
    flags = ["--steps", "300", "--eval-every", "100", "--lr-decay-start", "0.4",
             "--g-ema", "0.99"]
    whole, _ = _run(tmp_path, *flags, name="whole")
    _interrupt_at(monkeypatch, 130)
    with pytest.raises(SystemExit) as exc:
        _run(tmp_path, *flags, name="cut")
    assert exc.value.code == 130
    cut = tmp_path / "cut"
    record = json.loads((cut / "metrics.json").read_text())
    assert record["status"] == "interrupted" and record["turns"][-1] == 130
    assert f"--resume {cut}" in capsys.readouterr().out
    monkeypatch.undo()
    resumed = ex.main(["--resume", str(cut), "--no-progress"])
    assert resumed["status"] == "complete"
    np.testing.assert_array_equal(np.load(whole / "samples.npy"), np.load(cut / "samples.npy"))
    done = json.loads((whole / "metrics.json").read_text())
    assert resumed["turns"] == [0, 100, 130, 200, 300]
    assert resumed["curves"]["hist"][-1] == done["curves"]["hist"][-1]
    again = ex.main(["--resume", str(cut), "--no-progress"])     # a finished run: no change
    assert again["turns"] == resumed["turns"] and again["final"] == resumed["final"]
    np.testing.assert_array_equal(np.load(whole / "samples.npy"), np.load(cut / "samples.npy"))


def test_a_run_resumes_on_another_device(tmp_path, monkeypatch):
    # the device is where a run computes, not part of its configuration ("strict": the
    # stand-in for CuPy of tests/strict_xp.py)
    flags = ["--steps", "200", "--eval-every", "100"]
    whole, _ = _run(tmp_path, *flags, name="whole")
    _interrupt_at(monkeypatch, 100)
    with pytest.raises(SystemExit):
        _run(tmp_path, *flags, name="cut")
    monkeypatch.undo()
    cut = tmp_path / "cut"
    resumed = ex.main(["--resume", str(cut), "--device", "strict", "--no-progress"])
    assert resumed["status"] == "complete" and resumed["config"]["device"] == "strict"
    np.testing.assert_allclose(np.load(cut / "samples.npy"), np.load(whole / "samples.npy"),
                               atol=1e-2)


def test_resume_refuses_a_missing_checkpoint_and_a_different_configuration(tmp_path, capsys):
    with pytest.raises(SystemExit):
        ex.parse_args(["--resume", str(tmp_path)])
    assert "no checkpoint.npz there" in capsys.readouterr().err
    out, _ = _run(tmp_path, "--steps", "20")
    with pytest.raises(SystemExit):
        ex.parse_args(["--resume", str(out), "--lr", "0.01"])
    assert "--lr 0.01 (the checkpoint's: 0.0005)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ex.parse_args(["--resume", str(out), "--seed", "3"])
    assert "--seed 3 (the checkpoint's: 0)" in capsys.readouterr().err
    args, config = ex.parse_args(["--resume", str(out), "--lr", "0.0005"])
    assert config["g_hidden"] == (16,) and args.out == str(out)
    with pytest.raises(SystemExit):
        ex.parse_args(["--resume", str(out), "--seeds", "0-1"])
    other = tmp_path / "other"
    mg.save({"config": '{"lr": 0.1}'}, other / "checkpoint.npz")
    with pytest.raises(SystemExit):
        ex.parse_args(["--resume", str(other)])
    assert "not a run of this example" in capsys.readouterr().err


def test_ctrl_c_to_a_running_process_leaves_a_coherent_resumable_folder(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, SCRIPT, "--steps", "40000", "--out", str(out),
                             *TINY], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.time() + 120
    while not (out / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.05)                        # the first checkpoint, at turn 5000
    proc.send_signal(signal.SIGINT)
    text = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, text
    record = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "interrupted" and 5000 <= record["turns"][-1] < 40000
    assert f"--resume {out}" in text and "Traceback" not in text
    ck = mg.load(out / "checkpoint.npz")
    assert int(ck["turns"]) == record["turns"][-1]
    assert np.load(out / "samples.npy").shape == (10_000, 2)


# --- many seeds -------------------------------------------------------------------------------

def test_many_seeds_in_two_workers_write_every_folder_and_report_a_failure(tmp_path, capsys):
    out = tmp_path / "seeds"
    out.mkdir()
    (out / "seed-2").write_text("not a folder")     # seed 2 cannot write its outputs
    with pytest.raises(SystemExit) as exc:
        ex.main(["--seeds", "0-2", "--workers", "2", "--steps", "40", "--eval-every", "20",
                 "--out", str(out), *TINY])
    assert exc.value.code == 1
    summary = json.loads((out / "summary.json").read_text())
    assert (out / "summary.png").stat().st_size > 0
    assert summary["complete"] == 2 and summary["failed"] == 1
    assert summary["seeds"]["2"]["status"] == "failed"
    assert "--out" in summary["seeds"]["2"]["error"]
    for s in (0, 1):
        record = json.loads((out / f"seed-{s}" / "metrics.json").read_text())
        assert record["seed"] == s and record["config"]["g_hidden"] == [16]
        assert summary["seeds"][str(s)]["final"] == record["final"]
    hists = [summary["seeds"][s]["final"]["hist"] for s in ("0", "1")]
    assert summary["stats"]["hist"] == {"median": float(np.median(hists)),
                                       "worst": max(hists)}
    assert "FAILED" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seeds"]      # no stray folders


@pytest.mark.filterwarnings("error::UserWarning")   # and its figures draw no empty legend
def test_the_workers_flag_sets_the_pool_size(monkeypatch, tmp_path):
    seen = {}

    def fake(commands, workers, progress=True):
        seen["workers"] = workers
        return {k: 1 for k in commands}
    monkeypatch.setattr("minigan.experiments.runner.run_processes", fake)
    with pytest.raises(SystemExit):
        ex.main(["--seeds", "0-1", "--workers", "3", "--out", str(tmp_path), "--no-progress"])
    assert seen["workers"] == 3


# --- threads ----------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_samples_on_one_and_two_threads(tmp_path):
    outs = []
    for threads in ("1", "2"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
                   MKL_NUM_THREADS=threads, NUMBA_NUM_THREADS=threads)
        out = tmp_path / f"t{threads}"
        subprocess.run([sys.executable, SCRIPT, "--steps", "300", "--eval-every", "300",
                        "--out", str(out), "--no-progress", "--g-hidden", "256,128",
                        "--d-hidden", "256,128"], env=env, check=True, capture_output=True)
        outs.append(np.load(out / "samples.npy"))
    np.testing.assert_array_equal(*outs)


def test_a_rerun_of_many_seeds_keeps_the_complete_and_resumes_the_interrupted(
        tmp_path, monkeypatch, capsys):
    out = tmp_path / "seeds"
    flags = ["--steps", "60", "--eval-every", "20", *TINY]
    _interrupt_at(monkeypatch, 30)                        # seed 1 stopped at turn 30
    with pytest.raises(SystemExit):
        ex.main(["--seed", "1", "--out", str(out / "seed-1"), *flags])
    monkeypatch.undo()
    ex.main(["--seed", "2", "--steps", "40", "--out", str(out / "seed-2"), *TINY])  # other
    ex.main(["--seeds", "0-2", "--out", str(out), "--workers", "2", *flags])
    first = {s: json.loads((out / f"seed-{s}" / "metrics.json").read_text()) for s in range(3)}
    assert all(r["status"] == "complete" and r["turns"][-1] == 60 for r in first.values())
    assert first[1]["turns"] == [0, 20, 30, 40, 60]          # resumed from turn 30
    assert first[2]["turns"] == [0, 20, 40, 60]              # other settings: run again
    capsys.readouterr()
    stamp = (out / "seed-0" / "metrics.json").stat().st_mtime_ns
    summary = ex.main(["--seeds", "0-2", "--out", str(out), *flags])
    assert "kept 3 seeds already complete" in capsys.readouterr().out
    assert (out / "seed-0" / "metrics.json").stat().st_mtime_ns == stamp
    assert summary["complete"] == 3


# --- targets, the seed summary's counts, the time breakdown ------------------------------------

def _planted(monkeypatch, draw):
    """The example with its generator replaced by ``draw(seed) -> (n, 2)`` samples."""
    build = ex.EXPERIMENT.build

    def planted(config, seed):
        run = build(config, seed)

        def evaluate():
            x = draw(seed)
            return x, run.scorer(x)
        run.evaluate = evaluate
        return run
    monkeypatch.setattr(ex.EXPERIMENT, "build", planted)


def _exact(seed):
    return thesis_mixture().sample(10_000, np.random.default_rng(seed))[0]


def _collapsed(seed):       # every sample from the heaviest component: modes missing
    x, labels = thesis_mixture().sample(30_000, np.random.default_rng(seed))
    return x[labels == 0][:10_000]


def test_a_run_that_misses_its_targets_says_so_in_one_line_and_in_metrics_json(
        tmp_path, monkeypatch, capsys):
    _planted(monkeypatch, _exact)
    out, record = _run(tmp_path, "--steps", "20", "--eval-every", "10", name="good")
    assert record["warning"] is None
    assert "WARNING" not in capsys.readouterr().out
    _planted(monkeypatch, _collapsed)
    out, record = _run(tmp_path, "--steps", "20", "--eval-every", "10", name="bad")
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["warning"] == record["warning"]
    assert "hist" in saved["warning"] and "(target hist < 2)" in saved["warning"]
    assert "(target tv <= 0.05)" in saved["warning"] and "coverage" not in saved["warning"]
    assert "try another --seed" in saved["warning"] and "--seeds" in saved["warning"]
    warned = [line for line in capsys.readouterr().out.splitlines() if "WARNING" in line]
    assert len(warned) == 1 and "hist" in warned[0]


def test_the_seed_summary_counts_the_seeds_that_reach_each_target(tmp_path, monkeypatch,
                                                                   capsys):
    out = tmp_path / "seeds"
    flags = ["--steps", "20", "--eval-every", "10", *TINY]
    for seed, draw in ((0, _exact), (1, _collapsed), (2, _exact)):
        _planted(monkeypatch, draw)
        ex.main(["--seed", str(seed), "--out", str(out / f"seed-{seed}"), *flags])
    _, config = ex.parse_args(flags + ["--out", str(tmp_path / "unused")])
    folders = {s: str(out / f"seed-{s}") for s in (0, 1, 2, 3)}
    summary = ex.EXPERIMENT.summarise(str(out), config, folders, {0: 0, 1: 0, 2: 0, 3: 1}, 1.0)
    assert summary["reached"] == {"hist < 2": 2, "tv <= 0.05": 2, "coverage >= 0.88": 3,
                                  "all": 2}
    capsys.readouterr()
    ex.EXPERIMENT.print_summary(summary, str(out))
    said = capsys.readouterr().out
    assert "hist < 2 in 2 of 4 seeds" in said and "coverage >= 0.88 in 3 of 4 seeds" in said
    assert "all of them in 2 of 4" in said


def test_profile_prints_where_the_time_went_and_metrics_json_always_keeps_it(tmp_path, capsys):
    out, record = _run(tmp_path, "--steps", "30", "--eval-every", "10", name="quiet")
    assert "time: import" not in capsys.readouterr().out
    parts = record["seconds"]["parts"]
    assert {"import", "build", "first turn", "turns", "evaluations", "checkpoints", "figures",
            "other"} <= set(parts)
    assert record["seconds"]["counts"]["turns"] == 29
    assert record["seconds"]["counts"]["evaluations"] == 5        # turns 0, 10, 20, 30, final
    assert sum(parts.values()) == pytest.approx(record["seconds"]["whole"])
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["seconds"] == record["seconds"]
    _run(tmp_path, "--steps", "30", "--eval-every", "10", "--profile", name="loud")
    said = capsys.readouterr().out
    line = next(x for x in said.splitlines() if x.startswith("time: "))
    assert "turns" in line and "(29x)" in line and "figures" in line and "whole run" in line
    assert record["seconds"]["blas"] in line               # which BLAS kernels ran
