"""conv2d, conv_transpose2d and max_pool2d, forward + backward, on the thesis's shapes:
minigan's time over PyTorch CPU's (2 threads), interleaved in one process, medians.

    python -m benchmarks.spatial [--repeats 7] [--number 5] [--quick]
"""

import numpy as np

import minigan as mg
from benchmarks.timing import blas_line, interleaved, single_benchmark_flags
from minigan import functional as F

# name, input shape, weight shape (or pool kernel), keyword arguments
CASES = [
    ("conv2d CNN-1 (100,1,28,28) 16x5x5 p2", "conv2d", (100, 1, 28, 28), (16, 1, 5, 5),
     dict(padding=2)),
    ("conv2d CNN-2 (100,16,14,14) 16x5x5 p2", "conv2d", (100, 16, 14, 14), (16, 16, 5, 5),
     dict(padding=2)),
    ("conv2d DCGAN G-last (64,32,28,28) 1x3x3 p1", "conv2d", (64, 32, 28, 28), (1, 32, 3, 3),
     dict(padding=1)),
    ("convT DCGAN 7->14 (64,128,7,7) 4x4 s2", "conv_transpose2d", (64, 128, 7, 7),
     (128, 64, 4, 4), dict(stride=2, padding=1)),
    ("convT DCGAN 14->28 (64,64,14,14) 4x4 s2", "conv_transpose2d", (64, 64, 14, 14),
     (64, 1, 4, 4), dict(stride=2, padding=1)),
    ("max_pool2d (100,16,28,28) 2x2", "max_pool2d", (100, 16, 28, 28), None,
     dict(kernel_size=2)),
    ("max_pool2d (100,16,14,14) 2x2", "max_pool2d", (100, 16, 14, 14), None,
     dict(kernel_size=2)),
]


def _step_minigan(op, x, w, kw):
    tx = mg.tensor(x, requires_grad=True)
    tw = mg.tensor(w, requires_grad=True) if w is not None else None
    fn = getattr(F, op)

    def step():
        tx.grad = None
        if tw is not None:
            tw.grad = None
        y = fn(tx, tw, **kw) if tw is not None else fn(tx, **kw)
        y.backward(np.ones(y.shape, dtype=np.float32))
    return step


def _step_torch(torch, op, x, w, kw):
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True) if w is not None else None
    fn = getattr(torch.nn.functional, op)

    def step():
        tx.grad = None
        if tw is not None:
            tw.grad = None
        y = fn(tx, tw, **kw) if tw is not None else fn(tx, **kw)
        y.backward(torch.ones_like(y))
    return step


def _check_same(torch, op, x, w, kw):
    """The two compute the same numbers (a benchmark of a wrong computation is worthless)."""
    tx = mg.tensor(x.astype(np.float64), requires_grad=True)
    rx = torch.tensor(x.astype(np.float64), requires_grad=True)
    args, targs = [tx], [rx]
    if w is not None:
        args.append(mg.tensor(w.astype(np.float64), requires_grad=True))
        targs.append(torch.tensor(w.astype(np.float64), requires_grad=True))
    y = getattr(F, op)(*args, **kw)
    ty = getattr(torch.nn.functional, op)(*targs, **kw)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-9, atol=1e-9)
    y.sum().backward()
    ty.sum().backward()
    for a, b in zip(args, targs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-9)


def measure(repeats=7, number=5, quick=False):
    import torch
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    rows = []
    for name, op, xs, ws, kw in CASES:
        if quick:
            xs = (2,) + xs[1:]
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32) * 0.1 if ws is not None else None
        if op == "max_pool2d":
            x = rng.permutation(x.size).reshape(xs).astype(np.float32)   # no ties
        _check_same(torch, op, x, w, kw)
        med = interleaved({"minigan": _step_minigan(op, x, w, kw),
                           "torch": _step_torch(torch, op, x, w, kw)}, repeats, number)
        ours, theirs = med["minigan"] * 1e3, med["torch"] * 1e3
        rows.append((name, ours, theirs, ours / theirs))
    return rows


def main(argv=None):
    repeats, number, quick = single_benchmark_flags(__doc__, argv, 7)
    print(blas_line())
    print(f"{'fwd+bwd':44} {'minigan ms':>10} {'torch ms':>9} {'ratio':>6}")
    for name, ours, theirs, ratio in measure(repeats, number, quick):
        print(f"{name:44} {ours:10.2f} {theirs:9.2f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
