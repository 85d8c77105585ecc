"""All benchmarks in one run: minigan / PyTorch CPU ratios on the thesis's workloads.

    python -m benchmarks [--quick] [--json PATH] [--device cuda]

--quick: one repeat at tiny sizes, so that CI keeps every benchmark running (it asserts
nothing about speed). Needs the [bench] extra (torch==2.13.0). Targets are the ones of the
benchmark issue; the table says which are met. --device cuda: the mixture turn, the CNN step
and the DCGAN turn on the GPU (minigan on CuPy, its twin on PyTorch CUDA), with the number of
minigan's own kernel launches in a mixture turn.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks import conditional_turn, mixture_turn, models, op_overhead, spatial
from benchmarks.timing import interleaved, openblas_core

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCH_TURNS = 937           # 60,000 Fashion-MNIST images in minibatches of 64


def gemm_efficiency(quick):
    """Linear (2048 -> 2048) forward + backward against raw float32 matmul's peak."""
    import minigan as mg
    n = 256 if quick else 2048
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, 2048), dtype=np.float32)
    b = rng.standard_normal((2048, 2048), dtype=np.float32)
    reps = 1 if quick else 7
    peak = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        peak.append(2 * n * 2048 * 2048 / (time.perf_counter() - t) / 1e9)
    layer = mg.nn.Linear(2048, 2048)
    x = mg.tensor(a, requires_grad=True)
    g = np.ones((n, 2048), np.float32)
    rates = []
    for _ in range(reps + 1):
        x.grad = None
        layer.zero_grad()
        t = time.perf_counter()
        layer(x).backward(g)
        rates.append(3 * 2 * n * 2048 * 2048 / (time.perf_counter() - t) / 1e9)
    best_peak, linear = max(peak), statistics.median(rates[1:])
    return {"blas_peak_gflops": best_peak, "linear_gflops": linear,
            "fraction": linear / best_peak}


def cold_start(quick):
    """The main job with --steps 100 as a whole process: with a fresh Numba cache, then warm."""
    steps = "20" if quick else "100"
    out = {}
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as runs:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold_cache_s", "warm_cache_s"):
            t = time.perf_counter()
            subprocess.run([sys.executable, os.path.join(ROOT, "examples", "gaussian_mixture.py"),
                            "--steps", steps, "--no-progress", "--out", runs], env=env,
                           check=True, capture_output=True)
            out[label] = time.perf_counter() - t
    return out


def main_job(quick):
    """The main job at its defaults as a new user runs it (``python
    examples/gaussian_mixture.py``), timed end to end as a whole process with the Numba cache
    warm, and the run's own breakdown of that time (metrics.json's "seconds"). --quick: 200
    turns. Target: 20 s on a 2-core machine."""
    with tempfile.TemporaryDirectory() as runs:
        cmd = [sys.executable, os.path.join(ROOT, "examples", "gaussian_mixture.py"),
               "--no-progress", "--out", runs] + (["--steps", "200"] if quick else [])
        subprocess.run(cmd + ["--steps", "20"], check=True, capture_output=True)  # warm cache
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        whole = time.perf_counter() - t
        with open(os.path.join(runs, "metrics.json")) as f:
            seconds = json.load(f)["seconds"]
    return {"whole_s": whole, "parts_s": seconds["parts"], "turns": seconds["counts"]["turns"]
            + 1, "target_s": 20.0}


def machine():
    import numba
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "torch": torch.__version__,
            # which SIMD each library's matrix kernels use: OpenBLAS's choice can be forced by
            # OPENBLAS_CORETYPE (Haswell = AVX2); PyTorch's oneDNN picks its own
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "auto"),
            "openblas_core": openblas_core()[0], "openblas_threads": openblas_core()[1],
            "torch_simd": torch.backends.cpu.get_cpu_capability()}


def run(quick, repeats=7):
    """Every workload; ``repeats`` interleaved timed blocks each (1 with ``quick``)."""
    repeats, number = (1, 1) if quick else (repeats, 5)
    rows = []

    def row(name, ours, theirs, target):
        core, threads = openblas_core()      # read at each row: beside every figure
        rows.append({"workload": name, "minigan_ms": ours, "torch_ms": theirs,
                     "ratio": ours / theirs, "target": target,
                     "openblas": f"{core}/{threads}"})

    mix = mixture_turn.measure(turns=5 if quick else 500, repeats=repeats)
    row("mixture-GAN turn (MLP 64-32, batch 64)", mix["minigan"], mix["torch"], 0.33)
    for shape, name in (("robust", "conditional mixture turn (64-32, b256)"),
                        ("thesis", "conditional mixture turn (1024, b64)")):
        cond = conditional_turn.measure(shape, turns=3 if quick else 300, repeats=repeats)
        row(name, cond["minigan"], cond["torch"], 0.5)
    for name, pair, target in (("MLP classifier step (784-2048-10, b100)", models.mlp_pair, 1.0),
                               ("thesis CNN step (b100)", models.cnn_pair, 1.3),
                               ("DCGAN turn 28x28 (b64)", models.dcgan_pair, 1.5)):
        kw = {"batch": 4} if quick else {}
        a, b = pair(**kw)
        med = interleaved({"minigan": a, "torch": b}, repeats, 1 if quick else number)
        row(name, med["minigan"] * 1e3, med["torch"] * 1e3, target)
    # a whole epoch of the example (937 turns of 64): at most 3 repeats, each takes minutes
    turns = 3 if quick else EPOCH_TURNS
    a, b = models.dcgan_pair(**({"batch": 4} if quick else {}))
    med = interleaved({"minigan": lambda: [a() for _ in range(turns)],
                       "torch": lambda: [b() for _ in range(turns)]},
                      1 if quick else min(repeats, 3), 1, warmup=0)
    row(f"DCGAN epoch ({turns} turns, b64)", med["minigan"] * 1e3, med["torch"] * 1e3, 1.3)
    for name, ours, theirs, _ in spatial.measure(repeats, 1 if quick else number, quick):
        row(name, ours, theirs, 0.5 if "pool" in name else 1.5)
    over = op_overhead.measure(repeats, 10 if quick else 2000)
    return {"machine": machine(), "rows": rows, "op_overhead_us": over,
            "gemm": gemm_efficiency(quick), "cold_start": cold_start(quick),
            "main_job": main_job(quick), "quick": quick}


def run_device(device, quick, repeats=7):
    """The GPU rows: each workload on ``device``, its PyTorch twin on CUDA (on the CPU, and
    said so, where this PyTorch has no CUDA)."""
    import torch

    from minigan.backend import cuda_kernels
    tdev = "cuda" if torch.cuda.is_available() else "cpu"
    repeats, number = (1, 1) if quick else (repeats, 5)
    rows = []

    def row(name, ours, theirs, target):
        core, threads = openblas_core()      # read at each row: beside every figure
        rows.append({"workload": name, "minigan_ms": ours, "torch_ms": theirs,
                     "ratio": ours / theirs, "target": target,
                     "openblas": f"{core}/{threads}"})

    mix = mixture_turn.measure(5 if quick else 500, repeats, device, tdev)
    row("mixture-GAN turn (MLP 64-32, batch 64)", mix["minigan"], mix["torch"], None)
    for name, pair, target in (("thesis CNN step (b100)", models.cnn_pair, 2.0),
                               ("DCGAN turn 28x28 (b64)", models.dcgan_pair, 2.0)):
        kw = {"batch": 4} if quick else {}
        a, b = pair(**kw, device=device, torch_device=tdev)
        med = interleaved({"minigan": a, "torch": b}, repeats, number)
        row(name, med["minigan"] * 1e3, med["torch"] * 1e3, target)
    launches = []
    real_launch = cuda_kernels._launch
    cuda_kernels._launch = lambda name, *rest: (launches.append(name), real_launch(name, *rest))
    try:
        mixture_turn.minigan_runner(*mixture_turn._batches(2), device)()
    finally:
        cuda_kernels._launch = real_launch
    return {"machine": machine(), "device": device, "torch_device": tdev, "rows": rows,
            "mixture_turn_launches": len(launches), "quick": quick}


def report_device(result):
    print(f"minigan on {result['device']}, PyTorch on {result['torch_device']}")
    print(f"{'workload (forward + backward)':46} {'minigan ms':>10} {'torch ms':>9} "
          f"{'ratio':>6} {'target':>7}")
    for r in result["rows"]:
        target = "" if r["target"] is None else \
            f"{r['target']:>5.2f} {'ok' if r['ratio'] <= r['target'] else 'MISS'}"
        print(f"{r['workload']:46} {r['minigan_ms']:10.3f} {r['torch_ms']:9.3f} "
              f"{r['ratio']:6.2f} {target}")
    print(f"minigan's own kernel launches in a mixture turn: {result['mixture_turn_launches']}"
          " (plus CuPy's matrix products, sums and elementwise ops, not counted here)")


def report(result):
    m = result["machine"]
    print(f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, NumPy {m['numpy']}, "
          f"Numba {m['numba']}, PyTorch {m['torch']} (2 threads)")
    print(f"matrix kernels: OpenBLAS runs {m['openblas_core']} kernels ({m['openblas_threads']} "
          f"threads; OPENBLAS_CORETYPE={m['openblas_coretype']}), PyTorch {m['torch_simd']}")
    print(f"{'workload (forward + backward)':46} {'minigan ms':>10} {'torch ms':>9} "
          f"{'ratio':>6} {'target':>7}     {'OpenBLAS/threads'}")
    for r in result["rows"]:
        mark = "ok" if r["ratio"] <= r["target"] else "MISS"
        print(f"{r['workload']:46} {r['minigan_ms']:10.3f} {r['torch_ms']:9.3f} "
              f"{r['ratio']:6.2f} {r['target']:>5.2f} {mark:4} {r['openblas']}")
    o, g, c = result["op_overhead_us"], result["gemm"], result["cold_start"]
    print(f"per-op overhead (mul fwd+bwd, 64x32): minigan {o['minigan']:.2f} µs, raw NumPy "
          f"{o['numpy']:.2f} µs, PyTorch {o.get('torch', float('nan')):.2f} µs")
    print(f"Linear 2048 fwd+bwd: {g['linear_gflops']:.0f} GFLOP/s = {g['fraction']:.0%} of the "
          f"measured BLAS peak {g['blas_peak_gflops']:.0f} GFLOP/s (target 80%)")
    print(f"cold start of the main job: {c['cold_cache_s']:.1f} s with an empty Numba cache, "
          f"{c['warm_cache_s']:.1f} s warm (target 3 s)")
    j = result["main_job"]
    mark = "ok" if j["whole_s"] <= j["target_s"] else "MISS"
    print(f"the main job at its defaults ({j['turns']} turns), whole process: "
          f"{j['whole_s']:.1f} s (target {j['target_s']:.0f} s) {mark}; "
          + ", ".join(f"{k} {v:.1f}" for k, v in j["parts_s"].items()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--device", default="cpu",
                    help="cpu (the default: the whole table against PyTorch CPU) or cuda "
                         "(three workloads on the GPU against PyTorch CUDA)")
    ap.add_argument("--repeats", type=int, default=7,
                    help="timed blocks per workload, medians taken (default 7): more for a "
                         "noisy machine")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error(f"--repeats must be >= 1, got {args.repeats}")
    if args.device != "cpu":
        import minigan as mg
        try:
            mg.device(args.device)
        except (ValueError, RuntimeError) as exc:
            ap.error(f"--device: {exc}")
        result = run_device(args.device, args.quick, args.repeats)
        report_device(result)
    else:
        result = run(args.quick, args.repeats)
        report(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
