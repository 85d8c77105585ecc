"""The literature's 2-D toys: mode metrics, the toy benchmarks, the CycleGAN toy."""
import numpy as np
import pytest

from minigan.data import grid_mixture, ring_mixture, thesis_mixture
from minigan.metrics import MixtureMetrics, mode_scores

THREE_SIGMA_MASS = 1 - np.exp(-4.5)          # of a 2-D Gaussian, within Mahalanobis 3


@pytest.mark.parametrize("make", [ring_mixture, grid_mixture])
def test_a_perfect_sampler_covers_every_mode_with_the_three_sigma_mass(make):
    m = make()
    x, _ = m.sample(20_000, np.random.default_rng(0))
    s = mode_scores(x, m)
    assert s["modes"] == m.n_components
    assert s["high_quality"] == pytest.approx(THREE_SIGMA_MASS, abs=0.003)
    perfect = MixtureMetrics(m, modes=True).perfect(20_000)
    assert perfect["modes"] == m.n_components
    assert perfect["high_quality"] == pytest.approx(THREE_SIGMA_MASS, abs=0.001)


@pytest.mark.parametrize("make", [ring_mixture, grid_mixture])
def test_a_collapsed_sampler_covers_one_mode(make):
    m = make()
    rng = np.random.default_rng(1)
    x = m.means[3] + 0.5 * np.sqrt(m.covariances[3, 0, 0]) * rng.standard_normal((5000, 2))
    assert mode_scores(x, m) == {"modes": 1, "high_quality": 1.0}
    far = x + 100.0                                         # near nothing at all
    assert mode_scores(far, m) == {"modes": 0, "high_quality": 0.0}


def test_a_mode_counts_from_one_percent_of_its_expected_share():
    m = ring_mixture()                                      # 8 modes, weight 1/8 each
    n = 8000                                                # 1,000 expected per mode
    rng = np.random.default_rng(2)
    x = np.repeat(m.means[:1], n, 0) + 0.001 * rng.standard_normal((n, 2))
    x[:10] = m.means[1]                                     # 10 = 1% of 1,000: covered
    x[10:19] = m.means[2]                                   # 9: not
    assert mode_scores(x, m)["modes"] == 2
    assert mode_scores(x, m, share=0.005)["modes"] == 3
    assert mode_scores(x, m, radius=1e-6)["modes"] == 1     # only the exact points of mode 1


def test_mixture_metrics_add_mode_scores_when_asked_and_count_non_finite_samples_as_misses():
    m = grid_mixture()
    x, _ = m.sample(1000, np.random.default_rng(3))
    plain, with_modes = MixtureMetrics(m), MixtureMetrics(m, modes=True)
    assert "modes" not in plain(x) and "modes" not in plain.perfect(1000)
    scores = with_modes(x)
    assert scores["modes"] == 25 and {k: scores[k] for k in plain(x)} == plain(x)
    x[:500] = np.nan
    assert with_modes(x)["high_quality"] <= 0.5


def test_the_thesis_mixtures_overlapping_modes_are_counted_by_their_own_distances():
    m = thesis_mixture()
    s = mode_scores(np.zeros((100, 2)), m)       # the heavy mode's centre is within 3 sigma
    assert s["high_quality"] == 1.0 and 1 <= s["modes"] <= 4   # of its broad neighbours


# --- the toy benchmarks --------------------------------------------------------------------------

import json  # noqa: E402

from minigan.experiments import toys  # noqa: E402
from tests.examples import load_example  # noqa: E402

bench = load_example("toy_benchmarks")


def test_toy_benchmarks_end_to_end_and_each_flag_counts(tmp_path, capsys):
    out = tmp_path / "b"
    summary = bench.main(["--methods", "gan,r1", "--data", "ring", "--seeds", "2",
                          "--steps", "30", "--workers", "1", "--out", str(out),
                          "--no-progress"])
    assert set(summary) == {"ring"} and set(summary["ring"]) == {"gan", "r1"}
    assert summary["ring"]["gan"]["seeds"] == 2
    assert summary["ring"]["gan"]["all_hist"] != summary["ring"]["r1"]["all_hist"]
    stored = json.loads((out / "summary.json").read_text())
    assert stored["steps"] == 30 and stored["seeds"] == [0, 1]
    tasks = [json.loads(p.read_text()) for p in (out / "tasks").glob("*.json")]
    assert len(tasks) == 4 and all(t["turns"][-1] == 30 for t in tasks)
    assert all(len(t["samples"]) == toys.KEEP_SAMPLES and "modes" in t["final"]
               for t in tasks)
    assert {t["task"]["config"]["r1"] for t in tasks} == {0.0, toys.METHODS["r1"]["r1"]}
    for name in ("toys.md", "samples.png"):
        assert (out / name).stat().st_size > 0
    assert "| ring | gan |" in (out / "toys.md").read_text()
    assert "task" not in capsys.readouterr().err          # --no-progress: no bar


def test_toy_benchmarks_quick_takes_200_turns_and_2_seeds():
    args = bench.parse_args(["--quick"])
    assert (args.steps, args.seeds) == (200, 2)
    args = bench.parse_args([])
    assert (args.steps, args.seeds, args.methods, args.data) == \
        (None, 5, list(toys.METHODS), list(toys.DATA))
    assert bench.parse_args(["--workers", "3"]).workers == 3


def test_toy_benchmarks_r1_flag_sets_the_r1_methods_gamma_only(tmp_path):
    out = tmp_path / "g"
    bench.main(["--methods", "gan,r1", "--data", "ring", "--seeds", "1", "--steps", "5",
                "--workers", "1", "--r1", "0.25", "--out", str(out), "--no-progress"])
    tasks = [json.loads(p.read_text()) for p in (out / "tasks").glob("*.json")]
    assert sorted(t["task"]["config"]["r1"] for t in tasks) == [0.0, 0.25]
    stored = json.loads((out / "summary.json").read_text())
    assert stored["methods"]["r1"]["r1"] == 0.25 and stored["methods"]["gan"]["r1"] == 0.0


def test_toy_benchmarks_batch_size_flag_sets_every_methods_minibatch(tmp_path):
    out = tmp_path / "b"
    bench.main(["--methods", "gan,r1", "--data", "ring", "--seeds", "1", "--steps", "5",
                "--workers", "1", "--batch-size", "48", "--out", str(out), "--no-progress"])
    tasks = [json.loads(p.read_text()) for p in (out / "tasks").glob("*.json")]
    assert [t["task"]["config"]["batch_size"] for t in tasks] == [48, 48]
    stored = json.loads((out / "summary.json").read_text())
    assert {m["batch_size"] for m in stored["methods"].values()} == {48}
    assert toys.settings("gan")["batch_size"] == toys.NETS["batch_size"] == 256


def test_each_methods_settings_reach_its_tasks():
    fig = toys.figure(["wgan-gp"], ["grid"])
    (_, _, config), = fig.settings()
    assert (config["objective"], config["gp"], config["d_steps"], config["beta2"],
            config["mixture"], config["mode_metrics"]) == ("wgan", 10.0, 5, 0.9, "grid", True)
    (_, _, short), = toys.figure(["gan"], ["thesis"], steps=50).settings()
    assert short["steps"] == 50 and short["eval_every"] == 10


@pytest.mark.parametrize("flags,message", [(["--methods", "vae"], "method"),
                                           (["--data", "moons"], "data set"),
                                           (["--seeds", "0"], "--seeds must be >= 1"),
                                           (["--steps", "0"], "--steps must be >= 1"),
                                           (["--workers", "0"], "--workers must be >= 1"),
                                           (["--batch-size", "0"],
                                            "--batch-size must be >= 1"),
                                           (["--r1", "0"], "--r1 must be > 0"),
                                           (["--methods", "gan", "--r1", "0.1"],
                                            "sets the r1 method's gamma")])
def test_toy_benchmarks_bad_flags_get_one_line(flags, message, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(flags)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and "Traceback" not in err
