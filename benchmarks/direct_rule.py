"""Where the direct stride-1 convolution pays (backend/direct.py): forward + backward (input
and weight gradients) under 'auto' with the direct kernels switched off, against 'direct',
over few output channels and short inner sizes (C_in kh kw); the input gradient too where
C_in > 1 (a 1-channel input is data). The measurements behind ``conv.DIRECT_MAX_OUT`` and
``conv.DIRECT_MAX_INNER``.

    python -m benchmarks.direct_rule [--repeats 5] [--number 5] [--quick]
"""
import contextlib

import numpy as np

from benchmarks.conv_rule import compare, print_rows
from benchmarks.timing import single_benchmark_flags
from minigan.functional import conv

# (input shape, weight shape); padding k // 2. The DCGAN generator's last layer and its
# input gradient's shape first, then few output channels, then short inner sizes.
CASES = [((64, 32, 28, 28), (1, 32, 3, 3)),
         ((64, 1, 28, 28), (32, 1, 3, 3)),
         ((64, 1, 28, 28), (16, 1, 3, 3)),
         ((64, 32, 28, 28), (2, 32, 3, 3)),
         ((64, 32, 28, 28), (4, 32, 3, 3)),
         ((64, 32, 28, 28), (8, 32, 3, 3)),
         ((64, 64, 14, 14), (4, 64, 3, 3)),
         ((64, 16, 14, 14), (2, 16, 5, 5)),
         ((4, 64, 64, 64), (3, 64, 7, 7)),
         ((100, 1, 28, 28), (16, 1, 3, 3)),
         ((100, 1, 28, 28), (16, 1, 4, 4)),
         ((100, 1, 28, 28), (16, 1, 5, 5)),
         ((100, 1, 28, 28), (32, 1, 5, 5)),
         ((64, 32, 14, 14), (8, 32, 3, 3)),
         ((64, 32, 14, 14), (16, 32, 3, 3)),
         ((64, 2, 28, 28), (32, 2, 3, 3)),
         ((64, 3, 28, 28), (32, 3, 3, 3))]


@contextlib.contextmanager
def _without_direct():
    """'auto' as it would choose without the direct kernels."""
    before = conv.DIRECT_MAX_OUT, conv.DIRECT_MAX_INNER
    conv.DIRECT_MAX_OUT = conv.DIRECT_MAX_INNER = -1
    try:
        yield
    finally:
        conv.DIRECT_MAX_OUT, conv.DIRECT_MAX_INNER = before


def _cases(quick):
    rng = np.random.default_rng(0)
    for xs, ws in CASES:
        x = rng.standard_normal((2,) + xs[1:] if quick else xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32) * 0.1
        yield (f"{xs} {ws[2]}x{ws[3]} -> {ws[0]} (inner {ws[1] * ws[2] * ws[3]})", "conv2d", x,
               w, dict(padding=ws[2] // 2))


def measure(repeats=5, number=5, quick=False):
    return compare(_cases(quick), "direct", _without_direct, repeats, number)


def main(argv=None):
    repeats, number, quick = single_benchmark_flags(__doc__, argv, 5)
    print_rows(measure(repeats, number, quick), "direct", 48)


if __name__ == "__main__":
    main()
