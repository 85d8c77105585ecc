"""The one timing loop every benchmark uses: interleaved repeats, medians."""
import argparse
import statistics
import time

# A pause before each timed block (not timed): after a block of one library its idle threads
# spin for a while (PyTorch's OpenMP pool, OpenBLAS's) and took the cores from the next
# block of the other: an MLP step measured 3.8 ms alone and 5.0 ms right after PyTorch's.
SETTLE_S = 0.02


def synced(step, device):
    """``step``, then a wait for the GPU's queue when ``device`` is "cuda" (minigan's CuPy
    or PyTorch's; a kernel launch returns before the kernel runs)."""
    if str(device) != "cuda":
        return step

    def run():
        step()
        _synchronize()
    return run


def _synchronize():
    import sys
    if "cupy" in sys.modules:
        sys.modules["cupy"].cuda.Device().synchronize()
    if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():
        sys.modules["torch"].cuda.synchronize()


def interleaved(steps, repeats, number, warmup=2):
    """Median seconds per call of each callable in ``steps`` ({name: step}); the steps take
    turns within each repeat, so the machine's noise hits all of them alike."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {k: [] for k in steps}
    for _ in range(repeats):
        for k, step in steps.items():
            time.sleep(SETTLE_S)
            t = time.perf_counter()
            for _ in range(number):
                step()
            times[k].append((time.perf_counter() - t) / number)
    return {k: statistics.median(v) for k, v in times.items()}


def openblas_core():
    """(core type, threads) of the OpenBLAS NumPy runs its matrix kernels with
    (threadpoolctl): 'SkylakeX' is AVX-512, 'Haswell' AVX2 (``OPENBLAS_CORETYPE`` can force
    it)."""
    from threadpoolctl import threadpool_info
    blas = [i for i in threadpool_info() if i.get("internal_api") == "openblas"]
    return (blas[0].get("architecture", "?"), blas[0].get("num_threads")) if blas else \
        ("not OpenBLAS", None)


def blas_line():
    core, threads = openblas_core()
    return f"OpenBLAS {core}, {threads} threads"


def single_benchmark_flags(doc, argv, repeats):
    """The flags a single benchmark takes (--repeats, --number, --quick), parsed from argv:
    (repeats, number, quick); --quick is one block of one call at tiny sizes."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=repeats)
    ap.add_argument("--number", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="batch 2, 1 repeat: a smoke test")
    args = ap.parse_args(argv)
    return ((1, 1) if args.quick else (args.repeats, args.number)) + (args.quick,)
