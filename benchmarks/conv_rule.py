"""Where Winograd pays: convolutions' forward + backward (input and weight gradients) under
the other strategies' choice ('auto' with Winograd and the sub-pixel rewrite switched off)
and under 'winograd': stride 1 over channel counts, plane sizes and kernels, and stride 2
(through backend/subpixel.py) on the DCGAN's layers. The measurements behind
``conv.WINOGRAD_MIN_CHANNELS`` and ``WINOGRAD_AUTO_KERNELS``, and behind 'auto' never
rewriting stride 2.

    python -m benchmarks.conv_rule [--repeats 5] [--number 5] [--quick]
"""
import contextlib
import itertools

import numpy as np

import minigan as mg
from benchmarks.timing import blas_line, interleaved, single_benchmark_flags
from minigan import functional as F
from minigan.functional import conv

CHANNELS = (1, 4, 8, 16, 32, 64)
PLANES = ((100, 28), (100, 14), (64, 7))      # (batch, H = W)
KERNELS = (2, 3, 5)
# the DCGAN's stride-2 layers at batch 64: (op, input shape, weight shape)
STRIDE_2 = [("conv2d", (64, 1, 28, 28), (32, 1, 4, 4)),
            ("conv2d", (64, 32, 14, 14), (64, 32, 4, 4)),
            ("conv_transpose2d", (64, 128, 7, 7), (128, 64, 4, 4)),
            ("conv_transpose2d", (64, 64, 14, 14), (64, 32, 4, 4))]


@contextlib.contextmanager
def _others_only():
    """'auto' as it would choose without Winograd (it never rewrites stride 2)."""
    before = conv.WINOGRAD_MIN_CHANNELS
    conv.WINOGRAD_MIN_CHANNELS = 1 << 30
    try:
        yield
    finally:
        conv.WINOGRAD_MIN_CHANNELS = before


def strategy_step(op, x, w, kw, strategy, without):
    """One forward + backward of ``op`` under ``strategy``, or for "other" under 'auto' inside
    ``without()`` (a context manager that switches the strategy being measured off)."""
    tx, tw = mg.tensor(x, requires_grad=x.shape[1] > 1), mg.tensor(w, requires_grad=True)
    fn = getattr(F, op)
    g = None

    def step():
        nonlocal g
        tx.grad = tw.grad = None
        with contextlib.ExitStack() as stack:
            if strategy == "other":
                stack.enter_context(without())
            stack.enter_context(conv.conv_strategy("auto" if strategy == "other" else strategy))
            y = fn(tx, tw, **kw)
            g = np.ones(y.shape, np.float32) if g is None else g
            y.backward(g)
    return step


def compare(cases, strategy, without, repeats, number):
    """[(name, other ms, strategy ms)] over cases (name, op, x, w, keyword arguments)."""
    rows = []
    for name, op, x, w, kw in cases:
        med = interleaved({s: strategy_step(op, x, w, kw, s, without)
                           for s in ("other", strategy)}, repeats, number)
        rows.append((name, med["other"] * 1e3, med[strategy] * 1e3))
    return rows


def print_rows(rows, strategy, width=44):
    print(blas_line())
    print(f"{'forward + backward':{width}} {'other ms':>9} {strategy:>9} {'ratio':>6}")
    for name, other, ours in rows:
        print(f"{name:{width}} {other:9.2f} {ours:9.2f} {ours / other:6.2f}")


def _cases(quick):
    rng = np.random.default_rng(0)
    for (n, size), c, k in itertools.product(PLANES, CHANNELS, KERNELS):
        x = rng.standard_normal((2 if quick else n, c, size, size), dtype=np.float32)
        w = rng.standard_normal((max(c, 16), c, k, k), dtype=np.float32) * 0.1
        yield (f"({n}, {c}, {size}, {size}) {k}x{k} -> {w.shape[0]}", "conv2d", x, w,
               dict(padding=k // 2))
    for op, xs, ws in STRIDE_2:
        x = rng.standard_normal((2,) + xs[1:] if quick else xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32) * 0.1
        out = ws[1] if op == "conv_transpose2d" else ws[0]
        yield (f"{op[:6]} {xs} 4x4 s2 -> {out}", op, x, w, dict(stride=2, padding=1))


def measure(repeats=5, number=5, quick=False):
    return compare(_cases(quick), "winograd", _others_only, repeats, number)


def main(argv=None):
    repeats, number, quick = single_benchmark_flags(__doc__, argv, 5)
    print_rows(measure(repeats, number, quick), "winograd")


if __name__ == "__main__":
    main()
