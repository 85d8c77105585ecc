"""Write an op of your own and test it the way minigan tests its own (minigan.testing).

Two ops, each a ``mg.Function``: its forward on arrays, its backward written with minigan ops
(so that it can be differentiated again):

- Swish, x * sigmoid(x) (Ramachandran et al. 2017);
- the Huber loss with threshold delta (quadratic near 0, linear beyond).

``check_op`` draws inputs with hypothesis and checks, in float64: the first derivatives
against finite differences, the second derivatives too, the plain backward against the
differentiable one, the fast paths against reference mode, and a reference (NumPy here).
``--plant`` swaps in a Swish whose derivative is 0.1% off, and shows the report check_op
gives: the property that failed, the smallest input hypothesis found, and the numbers.

    python examples/custom_op.py                 # both ops pass
    python examples/custom_op.py --plant         # a wrong derivative, caught and shrunk
"""
import argparse
import sys

import numpy as np
from hypothesis import strategies as st

import minigan as mg
from minigan import functional as F
from minigan.testing import CheckFailed, arrays, check_op, shapes


class Swish(mg.Function):
    def forward(self, x):
        return x / (1 + np.exp(-x))

    def backward(self, gy):
        x, = self.inputs
        s = F.sigmoid(x)
        return gy * s * (1 + x * (1 - s))        # d/dx x s(x) = s + x s (1 - s)


class PlantedSwish(Swish):
    def backward(self, gy):
        return super().backward(gy) * 1.001      # the bug: 0.1% off


class Huber(mg.Function):
    """sum over elements of 0.5 r^2 where |r| <= delta, else delta (|r| - delta / 2)."""

    def __init__(self, delta):
        self.delta = delta

    def forward(self, pred, target):
        r = np.abs(pred - target)
        return np.where(r <= self.delta, 0.5 * r * r, self.delta * (r - 0.5 * self.delta)).sum()

    def backward(self, gy):
        pred, target = self.inputs
        r = pred - target
        g = mg.clip(r, -self.delta, self.delta)   # r inside, +-delta outside
        return gy * g, -(gy * g)


def huber_reference(pred, target, delta):
    r = np.abs(pred - target)
    return np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta)).sum()


def pairs_of_one_shape():
    """(pred, target) of one shape, with delta = 1. The loss has kinks where |pred - target|
    = delta, so pred is drawn on the grid 'even' and target on 'odd': their differences are
    odd hundredths, never 1, and always at least 0.01 away from it."""
    return shapes().flatmap(lambda s: st.tuples(arrays(s, "even"), arrays(s, "odd"))).map(
        lambda pt: ([pt[0], pt[1]], {"delta": 1.0}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plant", action="store_true",
                    help="check a Swish whose derivative is 0.1%% off, and show the report")
    ap.add_argument("--max-examples", type=int, default=50,
                    help="inputs hypothesis draws per op (default 50)")
    args = ap.parse_args(argv)
    if args.max_examples < 1:
        ap.error(f"--max-examples must be >= 1, got {args.max_examples}")
    swish = PlantedSwish if args.plant else Swish
    one = arrays(shapes()).map(lambda x: [x])
    try:
        check_op(lambda x: swish()(x), one, reference=lambda x: x / (1 + np.exp(-x)),
                 max_examples=args.max_examples)
        print(f"{swish.__name__}: every property holds on {args.max_examples} drawn inputs")
        check_op(lambda p, t, delta: Huber(delta)(p, t), pairs_of_one_shape(),
                 reference=huber_reference, max_examples=args.max_examples)
        print(f"Huber: every property holds on {args.max_examples} drawn inputs")
    except CheckFailed as exc:
        print(f"{swish.__name__}: check_op found a bug\n{exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
