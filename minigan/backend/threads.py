"""The thread policy: small models run on one thread, big convolutions on all cores.

The mixture GAN's matrices are tiny ((256, 64) @ (64, 32)): a second BLAS thread saves
nothing there, and it costs twice over. A multi-threaded GEMM splits its sums differently
from a single-threaded one, so the same seed gave other numbers with other thread counts
(seed 0 scored hist 1.30 with 2 threads and 2.01 with 1); and while a neighbour kept one of
the 2 cores busy, OpenBLAS's threads waited on each other at every call (2,000 turns: 41 s
threaded against 1.05 s on one thread). ``single_threaded()`` pins BLAS (and Numba's
parallel kernels) to one thread for a block of code, so a seed gives the same numbers on any
thread count and a busy neighbour slows the run by at most its share of the machine.
The convolutional models keep the default threads, where they pay (see benchmarks/), and
``both(f, g)`` runs two independent pieces of BLAS work at once, and ``each_half`` runs a
convolution on each half of its batch that way (Winograd's layers, the channels-last
im2col and col2im): the layout passes between the GEMMs are serial kernels, so two halves
at once keep both cores busy where one whole batch leaves one idle between GEMMs.
"""
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_limits


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


_helper = []          # one helper thread, made on first use, forgotten in a forked child
os.register_at_fork(after_in_child=_helper.clear)


def _two_threads():
    """Whether a second thread may run now: more than one allowed (not inside
    ``single_threaded``) and not already on the helper (which would deadlock)."""
    return numba.get_num_threads() >= 2 and \
        not threading.current_thread().name.startswith("minigan")


def both(f, g):
    """(f(), g()): g on a helper thread while this one runs f, when more than one thread is
    allowed (not inside ``single_threaded``), else one after the other. For independent work
    that releases the GIL (BLAS calls); each result is the same computation either way."""
    if not _two_threads():
        return f(), g()
    if not _helper:
        _helper.append(ThreadPoolExecutor(1, thread_name_prefix="minigan"))
    pending = _helper[0].submit(g)
    return f(), pending.result()


_controller = []      # threadpoolctl's view of the loaded BLAS, made once (it scans libraries)


def _blas_one_thread():
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")


def halves(n):
    """The batch's two halves [(0, n // 2), (n // 2, n)] (one part for a batch of 1), the same
    split whatever the thread count, so that a result does not depend on it."""
    return [(0, n)] if n < 2 else [(0, n // 2), (n // 2, n)]


def each_half(f, parts):
    """[f(*p) for p in parts] (one or two argument tuples): two on two threads (``both``),
    BLAS on one thread in each meanwhile (two 2-thread GEMMs on 2 cores would fight);
    anything f runs must release the GIL to gain, and must not start Numba's parallel
    kernels (the workqueue layer runs one launch at a time)."""
    if len(parts) == 1:
        return [f(*parts[0])]
    if not _two_threads():
        return [f(*parts[0]), f(*parts[1])]
    with _blas_one_thread():
        return list(both(lambda: f(*parts[0]), lambda: f(*parts[1])))


def joined(parts):
    """The halves' results (arrays) as one batch again."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def summed(parts):
    """The halves' partial sums (arrays) added, first half first."""
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]
