"""The benchmarks run (tiny sizes) and check their twins compute the same numbers; they
assert nothing about speed."""
import json

import numpy as np
import pytest

from benchmarks import __main__ as runner
from benchmarks import (
    conditional_turn,
    conv_rule,
    direct_rule,
    gemm_floor,
    mixture_turn,
    op_overhead,
    spatial,
)


def test_op_overhead_runs():
    assert set(op_overhead.measure(repeats=1, number=5)) >= {"numpy", "minigan"}


def test_mixture_turn_runs():
    assert "minigan" in mixture_turn.measure(turns=3, repeats=1)


def test_mixture_turn_twins_compute_the_same_losses_and_gradients(torch):
    real, z = mixture_turn._batches(4)
    twin = mixture_turn._TorchTwin(real, z)
    mixture_turn.check_twins(mixture_turn.minigan_runner(real, z), twin)    # raises if not
    twin = mixture_turn._TorchTwin(real, z)
    twin.weight = twin.weight * 2                        # a wrong twin is caught
    with pytest.raises(AssertionError):
        mixture_turn.check_twins(mixture_turn.minigan_runner(real, z), twin)


@pytest.mark.parametrize("shape", ["robust", "thesis"])
def test_conditional_turn_twins_compute_the_same_losses_and_gradients(torch, shape):
    batches = conditional_turn._batches(3, *conditional_turn.SHAPES[shape][::2])
    conditional_turn.check_twins(conditional_turn.minigan_runner(shape, *batches),
                                 conditional_turn._TorchTwin(shape, *batches))   # raises if not
    wrong = conditional_turn._TorchTwin(shape, *batches)
    wrong.labels = [(y + 1) % 4 for y in wrong.labels]    # a twin fed other labels is caught
    with pytest.raises(AssertionError):
        conditional_turn.check_twins(conditional_turn.minigan_runner(shape, *batches), wrong)


def test_spatial_benchmark_checks_its_numbers_against_pytorch(torch, capsys):
    spatial.main(["--quick"])     # _check_same raises if minigan and PyTorch disagree
    assert "max_pool2d" in capsys.readouterr().out


def test_the_conv_rule_benchmark_compares_winograd_with_the_other_strategies(capsys):
    from minigan.functional import conv
    g = conv._Geometry(5, 5, (1, 1), (2, 2), (1, 1), 14, 14)
    x = np.zeros((2, 16, 14, 14), np.float32)
    assert conv._winograd_plan(x, (16, 16, 5, 5), g) is not None
    with conv_rule._others_only():                       # what its 'other' column runs
        assert conv._winograd_plan(x, (16, 16, 5, 5), g) is None
    assert conv._winograd_plan(x, (16, 16, 5, 5), g) is not None
    conv_rule.main(["--quick"])
    out = capsys.readouterr().out
    assert out.startswith("OpenBLAS ") and "conv_t (64, 128, 7, 7) 4x4 s2" in out


def test_the_direct_rule_benchmark_compares_direct_with_auto_without_it(capsys):
    from minigan.functional import conv
    g = conv._Geometry(3, 3, (1, 1), (1, 1), (1, 1), 28, 28)
    x = np.zeros((2, 32, 28, 28), np.float32)
    assert conv._direct_fit(x, (1, 32, 3, 3), g)
    with direct_rule._without_direct():                  # what its 'other' column runs
        assert not conv._direct_fit(x, (1, 32, 3, 3), g)
    assert conv._direct_fit(x, (1, 32, 3, 3), g)
    direct_rule.main(["--quick"])
    out = capsys.readouterr().out
    assert out.startswith("OpenBLAS ") and "(64, 32, 28, 28) 3x3 -> 1 (inner 288)" in out


def test_the_gemm_floor_benchmark_times_the_layers_three_products(torch, capsys):
    _, flops = gemm_floor._gemms(2, np.random.default_rng(0))
    # forward, gx, gw: each N C_in C_out times the taps multiplied: of the 7 x 4 kernel rows
    # over the input rows, 26 land inside; all 7 x 4 columns
    assert flops == 3 * 2 * 2 * 128 * 64 * 26 * 28
    m = gemm_floor.main(["--quick"])
    assert {"gemms", "minigan", "torch", "gemm_gflops", "blas_gflops"} <= set(m)
    assert "its products alone" in capsys.readouterr().out


def test_the_whole_suite_runs_quick_and_writes_json(torch, tmp_path, capsys):
    # each model workload first checks minigan against its PyTorch twin (models._compare)
    runner.main(["--quick", "--json", str(tmp_path / "bench.json")])
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert len(saved["rows"]) == 14 and saved["quick"]      # 7 models, 7 spatial layers
    assert {"cold_cache_s", "warm_cache_s"} <= set(saved["cold_start"])
    job = saved["main_job"]               # the default run, whole process, with its parts
    assert job["turns"] == 200 and job["whole_s"] > sum(job["parts_s"].values()) * 0.5
    assert {"import", "turns", "figures"} <= set(job["parts_s"])
    from threadpoolctl import threadpool_info
    core = next(i["architecture"] for i in threadpool_info() if i["internal_api"] == "openblas")
    assert saved["machine"]["openblas_core"] == core
    assert all(r["openblas"].startswith(core + "/") for r in saved["rows"])
    out = capsys.readouterr().out
    assert "DCGAN turn" in out and "DCGAN epoch (3 turns, b64)" in out
    assert f"OpenBLAS runs {core} kernels" in out and "the main job at its defaults" in out


def test_importing_the_benchmarks_applies_minigans_process_settings_before_numpy():
    # with NumPy first, OpenBLAS's idle threads spin and slow PyTorch down: an unfair race
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT",
                                                            "NUMBA_THREADING_LAYER")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import os, benchmarks, numpy; "
            "print(os.environ['OPENBLAS_THREAD_TIMEOUT'], os.environ['NUMBA_THREADING_LAYER'])")
    out = subprocess.run([sys.executable, "-c", code], env=dict(env, PYTHONPATH=root),
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["4", "workqueue"], out.stderr[-1000:]


def test_the_device_table_runs_its_twins_on_another_device(torch, tmp_path, capsys):
    # the strict stand-in for CuPy (tests/strict_xp.py): the same code path as --device cuda,
    # each twin check included, with PyTorch on the CPU where it has no CUDA
    saved = runner.main(["--quick", "--device", "strict", "--json", str(tmp_path / "d.json")])
    assert [r["workload"].split(" (")[0] for r in saved["rows"]] == [
        "mixture-GAN turn", "thesis CNN step", "DCGAN turn 28x28"]
    assert saved["device"] == "strict" and saved["torch_device"] in ("cpu", "cuda")
    assert json.loads((tmp_path / "d.json").read_text())["rows"] == saved["rows"]
    assert "kernel launches in a mixture turn" in capsys.readouterr().out


def test_a_device_that_is_not_here_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        runner.main(["--device", "tpu"])
    assert exc.value.code == 2 and "--device: unknown device 'tpu'" in capsys.readouterr().err


@pytest.mark.parametrize("conditional", [False, True])
def test_the_dcgan_twin_starts_from_the_examples_weights(torch, conditional):
    import numpy as np

    from benchmarks import dcgan_twin
    from minigan.experiments.dcgan import networks
    from minigan.models import dcgan_init
    tG, tD = dcgan_twin.twin_networks(torch, conditional, seed=3)
    G, D = networks({"latent_dim": 100, "conditional": conditional})
    init = np.random.default_rng([3, 1])
    for net in (G, D):
        dcgan_init(net, init)
    for ours, theirs in ((G, tG), (D, tD)):
        for p, q in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_array_equal(p.data, q.detach().numpy())
    other, _ = dcgan_twin.twin_networks(torch, conditional, seed=4)
    assert not torch.equal(next(other.parameters()), next(tG.parameters()))


@pytest.mark.parametrize("conditional", [False, True])
def test_the_dcgan_twin_trains_samples_and_is_scored_by_each_judge(torch, tiny_fashion,
                                                                    tmp_path, conditional):
    import numpy as np

    from benchmarks import dcgan_twin
    judges = [str(tmp_path / "judge.npz"), str(tmp_path / "judge2.npz")]
    flags = ["--data", tiny_fashion, "--epochs", "1", "--samples", "30", "--judge", judges[0],
             "--judge", judges[1], "--out", str(tmp_path / "out")]
    scores = dcgan_twin.main(flags + (["--conditional"] if conditional else []))
    assert list(scores) == judges
    samples = np.load(tmp_path / "out" / "samples.npy")
    assert samples.shape == (30, 1, 28, 28) and np.abs(samples).max() <= 1
    assert (tmp_path / "out" / "labels.npy").exists() == conditional
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    for s in saved["scores"].values():
        assert s["fid"] > 0 and ("gan_test" in s) == conditional
        assert abs(sum(s["proportions"]) - 1) < 1e-9
    trained = dcgan_twin.twin_networks(torch, conditional, seed=0)[0]   # it did train
    x, y, _, _ = dcgan_twin.load_images(tiny_fashion, 64)
    after = dcgan_twin.train_twin(torch, x, y, conditional, 1, 0)
    assert not torch.equal(next(after.parameters()), next(trained.parameters()))


@pytest.mark.parametrize("flags", [["--samples", "15"], ["--epochs", "0"]])
def test_the_dcgan_twin_refuses_bad_flags(flags):
    from benchmarks import dcgan_twin
    with pytest.raises(SystemExit) as exc:
        dcgan_twin.main(flags)
    assert exc.value.code == 2


def test_the_single_benchmarks_flags_are_read():
    from benchmarks.timing import single_benchmark_flags
    assert single_benchmark_flags("doc", [], 7) == (7, 5, False)
    assert single_benchmark_flags("doc", ["--repeats", "3", "--number", "2"], 7) == (3, 2, False)
    assert single_benchmark_flags("doc", ["--quick", "--repeats", "3"], 7) == (1, 1, True)
