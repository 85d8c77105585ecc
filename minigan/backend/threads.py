"""The thread policy: small models run on one thread, big convolutions on all cores.

The mixture GAN's matrices are tiny ((256, 64) @ (64, 32)): a second BLAS thread saves
nothing there, and it costs twice over. A multi-threaded GEMM splits its sums differently
from a single-threaded one, so the same seed gave other numbers with other thread counts
(seed 0 scored hist 1.30 with 2 threads and 2.01 with 1); and while a neighbour kept one of
the 2 cores busy, OpenBLAS's threads waited on each other at every call (2,000 turns: 41 s
threaded against 1.05 s on one thread). ``single_threaded()`` pins BLAS (and Numba's
parallel kernels) to one thread for a block of code, so a seed gives the same numbers on any
thread count and a busy neighbour slows the run by at most its share of the machine.
The convolutional models keep the default threads, where they pay (see benchmarks/).
"""
import contextlib

import numba
from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def single_threaded():
    """Run the block with BLAS/OpenMP pools and Numba limited to one thread each."""
    before = numba.get_num_threads()
    with threadpool_limits(limits=1):
        numba.set_num_threads(1)
        try:
            yield
        finally:
            numba.set_num_threads(before)
