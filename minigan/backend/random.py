"""The one source of randomness: an explicit ``numpy.random.Generator``.

Layers' initialisation and dropout draw from ``default_generator()`` unless they are handed a
generator of their own; ``manual_seed(s)`` replaces it, so one seed fixes a whole run.
"""
import numpy as np

_generator = np.random.default_rng(0)


def default_generator():
    """The generator used when none is passed explicitly."""
    return _generator


def manual_seed(seed):
    """Reseed minigan's default generator; returns it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator
