"""Property-based gradient tests for any op, in one call: the kit minigan tests itself with.

    import minigan as mg
    from minigan.testing import arrays, check_op, shapes

    check_op(lambda x: x * mg.functional.sigmoid(x),          # a Swish
             arrays(shapes(), grid="any").map(lambda x: [x]))

``check_op`` draws inputs with hypothesis and checks, in float64, every property a
differentiable op must have (see ``check_op``); on a failure hypothesis shrinks the input to a
small counterexample and the error names the property, that input and the numbers. Needs
hypothesis (``pip install 'minigan[test]'``); ``import minigan`` never loads this package.
"""
try:
    import hypothesis  # noqa: F401
except ImportError as exc:          # one clear line instead of a deep traceback
    raise ImportError("minigan.testing needs hypothesis: pip install 'minigan[test]'") from exc

from minigan.testing.check import PROPERTIES, CheckFailed, check_op
from minigan.testing.strategies import (
    GRIDS,
    arrays,
    broadcastable_shapes,
    conv_geometries,
    shapes,
)

__all__ = ["check_op", "CheckFailed", "PROPERTIES", "arrays", "shapes", "broadcastable_shapes",
           "conv_geometries", "GRIDS"]
