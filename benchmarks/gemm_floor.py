"""How far the DCGAN's 7 -> 14 transposed convolution can go with OpenBLAS: the products of
its forward and both gradients timed alone, with the shapes minigan multiplies (each a GEMM
per span of input rows that share the kernel rows landing inside the output: the first and
last rows lose one of the four; rows (oy, n, ox)): the forward (rows, 128) @ (128, taps),
the input gradient (rows, taps) @ (taps, 128), the weight gradient (128, rows) @ (rows,
taps); against minigan's whole layer and PyTorch's (forward + both gradients),
interleaved, with OpenBLAS's rate on a square GEMM beside.

    python -m benchmarks.gemm_floor [--repeats 7] [--number 5] [--quick]

If the products alone take r times PyTorch's whole layer, no layout work around them
brings the layer under r.
"""
import numpy as np

from benchmarks.spatial import _step_minigan, _step_torch
from benchmarks.timing import blas_line, interleaved, single_benchmark_flags

BATCH, C_IN, C_OUT, SIZE, K = 64, 128, 64, 7, 4
SPANS = [(0, 1, 1, 4), (1, SIZE - 1, 0, 4), (SIZE - 1, SIZE, 0, 3)]   # (y0, y1, k0, k1)


def _gemms(n, rng):
    """The layer's products (one per span for each of the three), on fresh operands; and
    their floating-point operations."""
    per, taps = n * SIZE, K * C_OUT                  # rows per input row, columns per kernel row
    rows = per * SIZE
    x_rows = rng.standard_normal((rows, C_IN), dtype=np.float32)
    w_cols = rng.standard_normal((C_IN, K * taps), dtype=np.float32)
    gy_cols = rng.standard_normal((rows, K * taps), dtype=np.float32)
    w_rows = np.ascontiguousarray(w_cols.T)
    x_t = np.ascontiguousarray(x_rows.T)
    blocks = [(slice(y0 * per, y1 * per), slice(k0 * taps, k1 * taps)) for y0, y1, k0, k1
              in SPANS]

    def step():
        for r, k in blocks:
            x_rows[r] @ w_cols[:, k]
            gy_cols[r, k] @ w_rows[k]
            x_t[:, r] @ gy_cols[r, k]
    flops = sum(3 * 2 * (r.stop - r.start) * C_IN * (k.stop - k.start) for r, k in blocks)
    return step, flops


def blas_rate(n=2048, reps=5):
    """OpenBLAS's GFLOP/s on an n x n x n float32 GEMM (the median of reps)."""
    a = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    seconds = interleaved({"gemm": lambda: a @ a}, reps, 1)["gemm"]
    return 2 * n ** 3 / seconds / 1e9


def measure(repeats=7, number=5, quick=False):
    import torch
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    n = 2 if quick else BATCH
    x = rng.standard_normal((n, C_IN, SIZE, SIZE), dtype=np.float32)
    w = rng.standard_normal((C_IN, C_OUT, K, K), dtype=np.float32) * 0.1
    kw = dict(stride=2, padding=1)
    gemms, flops = _gemms(n, rng)
    med = interleaved({"gemms": gemms,
                       "minigan": _step_minigan("conv_transpose2d", x, w, kw),
                       "torch": _step_torch(torch, "conv_transpose2d", x, w, kw)},
                      repeats, number)
    med["gemm_gflops"] = flops / med["gemms"] / 1e9
    med["blas_gflops"] = blas_rate(256 if quick else 2048, 1 if quick else 5)
    return med


def main(argv=None):
    repeats, number, quick = single_benchmark_flags(__doc__, argv, 7)
    print(blas_line())
    m = measure(repeats, number, quick)
    ms = {k: m[k] * 1e3 for k in ("gemms", "minigan", "torch")}
    print("convT 7->14 (64, 128, 7, 7) 4x4 s2, forward + both gradients:")
    print(f"  PyTorch's layer              {ms['torch']:8.2f} ms")
    print(f"  minigan's layer              {ms['minigan']:8.2f} ms  "
          f"({ms['minigan'] / ms['torch']:.2f} x PyTorch's)")
    print(f"  its products alone           {ms['gemms']:8.2f} ms  "
          f"({ms['gemms'] / ms['torch']:.2f} x PyTorch's; {m['gemm_gflops']:.0f} GFLOP/s, "
          f"a square GEMM {m['blas_gflops']:.0f})")
    print(f"  the rest of minigan's layer  {ms['minigan'] - ms['gemms']:8.2f} ms")
    return m


if __name__ == "__main__":
    main()
