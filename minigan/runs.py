"""What every long run needs, whatever it trains: an output folder checked before the work,
a Ctrl-C that stops at a clean point, seeds given as ranges, and seeds run side by side in
worker processes. The examples share these (examples/gaussian_mixture.py shows them all).
"""
import os
import signal
import subprocess
import time

from tqdm import tqdm

from minigan.serialization import atomic_file


def parse_seeds(text):
    """'0-19', '0,3,7' or '0-4,9' -> the sorted distinct seeds; ValueError if malformed."""
    seeds = set()
    for part in str(text).split(","):
        lo, dash, hi = part.strip().partition("-")
        try:
            a = int(lo)
            b = int(hi) if dash else a
        except ValueError:
            raise ValueError(f"seeds must be like 0-19 or 0,3,7; got {text!r}") from None
        if b < a:
            raise ValueError(f"the seed range {part.strip()} goes down")
        seeds.update(range(a, b + 1))
    return sorted(seeds)


def check_writable(folder):
    """Make ``folder`` if needed and write a file there, so a run fails in its first second
    rather than after training; OSError names the folder."""
    probe = os.path.join(folder, ".write-test")
    try:
        os.makedirs(folder, exist_ok=True)
        with atomic_file(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as exc:
        raise OSError(f"cannot write to {folder!r} ({exc.strerror or exc})") from None


class StopOnInterrupt:
    """Within the block, Ctrl-C (SIGINT) only sets ``requested``: the training loop checks
    it after each step and stops at a clean point, with a whole step's state to save. A
    second Ctrl-C raises KeyboardInterrupt at once. Outside the main thread it does nothing."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:          # signals are only for the main thread
            self._previous = None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def run_processes(commands, workers, progress=True, poll=0.05):
    """Run ``commands`` ({key: (argv, log_path)}) with at most ``workers`` at a time, each
    writing its output to its log file; returns {key: exit code}. On Ctrl-C the children,
    which share the terminal's process group, get it too: they are waited for, so each can
    save its state, and the interrupt is re-raised."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    pending, running, codes = list(commands), {}, {}
    bar = tqdm(total=len(pending), disable=not progress, unit="run")
    try:
        while pending or running:
            while pending and len(running) < workers:
                key = pending.pop(0)
                argv, log_path = commands[key]
                os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
                log = open(log_path, "w")
                running[key] = (subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT),
                                log)
            time.sleep(poll)
            for key, (proc, log) in list(running.items()):
                if proc.poll() is not None:
                    log.close()
                    codes[key] = proc.returncode
                    del running[key]
                    bar.update(1)
    finally:
        for key, (proc, log) in running.items():
            codes[key] = proc.wait()
            log.close()
        bar.close()
    return codes
