"""Per-op autograd overhead: one small elementwise op, forward + backward.

Times ``y = a * b; y.backward(g)`` on (64, 32) float32 arrays in minigan, the same arithmetic
as raw NumPy calls (a*b, g*b, g*a), and PyTorch CPU (2 threads) if installed — interleaved,
median of repeats, so the machine's noise hits all three alike.

    python -m benchmarks.op_overhead [--repeats 7] [--number 2000]
"""
import argparse

import numpy as np

import minigan as mg
from benchmarks.timing import interleaved


def _minigan(a, b, g):
    ta = mg.tensor(a, requires_grad=True)
    tb = mg.tensor(b, requires_grad=True)

    def step():
        ta.grad = tb.grad = None
        (ta * tb).backward(g)
    return step


def _numpy(a, b, g):
    def step():
        a * b
        g * b
        g * a
    return step


def _torch(a, b, g):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tg = torch.tensor(g)

    def step():
        ta.grad = tb.grad = None
        (ta * tb).backward(tg)
    return step


def measure(repeats=7, number=2000, shape=(64, 32)):
    rng = np.random.default_rng(0)
    a, b, g = (rng.standard_normal(shape).astype(np.float32) for _ in range(3))
    steps = {"numpy": _numpy(a, b, g), "minigan": _minigan(a, b, g), "torch": _torch(a, b, g)}
    steps = {k: v for k, v in steps.items() if v is not None}
    return {k: s * 1e6 for k, s in interleaved(steps, repeats, number, warmup=1).items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description="per-op autograd overhead")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--number", type=int, default=2000)
    args = ap.parse_args(argv)
    med = measure(args.repeats, args.number)
    print("mul fwd+bwd on (64, 32) float32, median µs per call:")
    for k, v in med.items():
        print(f"  {k:8} {v:7.2f} µs   ({v / med['numpy']:.1f}x raw NumPy)")
    if "torch" in med:
        print(f"  minigan / torch = {med['minigan'] / med['torch']:.2f}")
    print(f"  overhead of minigan over the raw NumPy calls: {med['minigan'] - med['numpy']:.2f} µs")


if __name__ == "__main__":
    main()
