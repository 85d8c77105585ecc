"""Process settings that measurements on 2-core machines justify; applied on first import.

- ``OPENBLAS_THREAD_TIMEOUT=4`` and ``NUMBA_THREADING_LAYER=workqueue``: OpenBLAS's threads
  spin ~80 ms after each GEMM and fight Numba's parallel kernels for the cores. A conv2d
  forward + backward of (100, 16, 14, 14) by 16x5x5 (benchmarks/spatial.py shapes) took a
  median 48.6 ms with the defaults and 27.9 ms with both set. They act only if set before
  NumPy is first imported, so ``import minigan`` first (an explicit value in the environment
  always wins).
- glibc's malloc returns every large block (> 128 KiB by default) to the system on free, so
  each fresh im2col buffer pays a page fault per 4 KiB; raising the mmap and trim thresholds
  keeps such memory in the process for reuse: the same conv step went from 27.2 to 16.0 ms.
  Set ``MINIGAN_MALLOC_TUNING=0`` to leave malloc alone.
"""
import ctypes
import os
import sys
import time

STARTED = time.perf_counter()   # when minigan began to load: a run's import time starts here

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def configure():
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    if "numba" not in sys.modules:
        os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    if os.environ.get("MINIGAN_MALLOC_TUNING", "1") != "0" and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30)
            libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
        except (OSError, AttributeError):    # not glibc: nothing to tune
            pass
