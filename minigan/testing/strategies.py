"""Hypothesis strategies for inputs on which finite differences are valid.

A central difference with eps = 1e-6 is exact only where the function is smooth within eps of
the point, so the values are drawn on grids that keep away from the kinks and the edges of the
ops' domains, never filtered afterwards (``assume`` would throw most draws away):

- ``any``: k/100 + 0.005 in [-2, 2): never 0, so no kink of relu, abs or max is within eps;
- ``pos``: [0.5, 2]: log, sqrt, real powers and divisions stay well inside their domains;
- ``even`` and ``odd``: two grids that never coincide, so maximum(a, b) and minimum(a, b) of
  one drawn from each never tie;
- ``prob``: [0.05, 0.95], probabilities away from 0 and 1 (binary cross-entropy);
- ``unit``: [0, 1] in steps of 0.01, targets of a loss (no derivative is taken there).

``unique=True`` draws distinct values, so that a max or min reduction has no tie.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

GRIDS = {
    "any": st.integers(-200, 199).map(lambda i: (i + 0.5) / 100),
    "pos": st.integers(50, 200).map(lambda i: i / 100),
    "even": st.integers(-100, 99).map(lambda i: (2 * i + 0.5) / 100),
    "odd": st.integers(-100, 99).map(lambda i: (2 * i + 1.5) / 100),
    "prob": st.integers(5, 95).map(lambda i: i / 100),
    "unit": st.integers(0, 100).map(lambda i: i / 100),
}


def arrays(shape, grid="any", unique=False):
    """float64 arrays of ``shape`` (a tuple or a strategy of tuples) on one of ``GRIDS``."""
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {sorted(GRIDS)}, got {grid!r}")
    return hnp.arrays(np.float64, shape, elements=GRIDS[grid], unique=unique)


def shapes(min_dims=1, max_dims=3, min_side=1, max_side=3):
    """Array shapes, small by default: gradcheck perturbs every element twice."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3):
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy's rules), the case
    where a gradient must be summed back to its input's shape."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, max_dims=max_dims,
                                             max_side=max_side).map(lambda r: r.input_shapes)


@st.composite
def conv_geometries(draw, transposed=False, min_batch=1, max_batch=3, max_channels=3,
                    max_kernel=3):
    """A valid convolution (or transposed convolution) geometry, drawn directly: a dict of
    the shapes ``x`` (N, C, H, W), ``w`` and ``bias``, and ``stride``, ``padding``,
    ``dilation``, ``output_padding`` (None unless transposed) as pairs."""
    n = draw(st.integers(min_batch, max_batch))
    cin, cout = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    k = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = tuple(draw(st.integers(0, di * (ki - 1) // 2)) for ki, di in zip(k, d))
    if transposed:
        size = tuple(draw(st.integers(1, 4)) for _ in range(2))
        op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
        wshape = (cin, cout) + k
    else:
        size = tuple(di * (ki - 1) + 1 - 2 * pi + draw(st.integers(0, 4))
                     for ki, di, pi in zip(k, d, p))
        op = None
        wshape = (cout, cin) + k
    return dict(x=(n, cin) + size, w=wshape, bias=(wshape[1 if transposed else 0],),
                stride=s, padding=p, dilation=d, output_padding=op)
