"""The one timing loop every benchmark uses: interleaved repeats, medians."""
import statistics
import time


def interleaved(steps, repeats, number, warmup=2):
    """Median seconds per call of each callable in ``steps`` ({name: step}); the steps take
    turns within each repeat, so the machine's noise hits all of them alike."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {k: [] for k in steps}
    for _ in range(repeats):
        for k, step in steps.items():
            t = time.perf_counter()
            for _ in range(number):
                step()
            times[k].append((time.perf_counter() - t) / number)
    return {k: statistics.median(v) for k, v in times.items()}
