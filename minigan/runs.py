"""What every long run needs, whatever it trains: an output folder checked before the work,
a Ctrl-C that stops at a clean point, seeds given as ranges, and seeds run side by side in
worker processes. The examples share these (examples/gaussian_mixture.py shows them all).
"""
import argparse
import errno
import functools
import math
import os
import shutil
import signal
import subprocess
import sys
import time

from tqdm import tqdm

from minigan.serialization import atomic_file


class UserError(Exception):
    """A mistake in what the user asked for (a flag, a file, a folder): an example prints it
    as one line, without a traceback, and exits with status 2."""


class Diverged(Exception):
    """Training produced a non-finite loss. ``step`` is where; ``last`` the last finite
    values. The model's parameters are those before the failing update (the check runs
    before the backward pass), so they can be saved and inspected."""

    def __init__(self, what, step, last, unit="step"):
        self.step, self.last = step, dict(last)
        shown = ", ".join(f"{k} {v:.4g}" for k, v in self.last.items()) or "none yet"
        super().__init__(f"training diverged: {what} at {unit} {step} (last finite: {shown})")


def check_finite_loss(value, what, step, last, unit="step"):
    """``value`` (a float) if finite, else Diverged naming ``what`` and the ``unit`` and
    number of the ``step``; ``last()`` gives the last finite values for the message (called
    only then: this runs on every step)."""
    if not math.isfinite(value):
        raise Diverged(f"{what} is {value}", step, last(), unit)
    return value


def cli(main):
    """Wrap an example's ``main(argv)``: a UserError prints ``prog: error: message`` and exits
    with 2 (as argparse does for a bad flag); Diverged prints its message and exits with 3; a
    full disk or a folder that refuses writes, met while writing outputs, exits with 1 (the
    outputs are written to a staging folder, so the previous run's are untouched); a Ctrl-C
    that got through exits with 130 without a traceback."""
    @functools.wraps(main)
    def wrapped(argv=None):
        prog = os.path.basename(sys.argv[0]) or "minigan"
        try:
            return main(argv)
        except UserError as exc:
            print(f"{prog}: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        except Diverged as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            raise SystemExit(3) from None
        except KeyboardInterrupt:
            print(f"{prog}: interrupted", file=sys.stderr)
            raise SystemExit(130) from None
        except OSError as exc:
            if exc.errno not in _DISK_ERRORS:
                raise
            print(f"{prog}: error: cannot write ({exc.strerror}: {exc.filename or ''}); "
                  "the previous outputs are untouched", file=sys.stderr)
            raise SystemExit(1) from None
    return wrapped


_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG}


def finite_positive(text):
    """argparse type: a finite float > 0 (rejects 0, negatives, inf and nan)."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return v


def setting_conflicts(given, saved, show=str):
    """The flags in ``given`` ({setting: value}) whose value differs from ``saved`` (a
    checkpoint's settings), each as '--flag value (the checkpoint's: value)'."""
    return [f"--{k.replace('_', '-')} {show(v)} (the checkpoint's: {show(saved.get(k))})"
            for k, v in given.items() if saved.get(k) != v]


def without_flags(argv, valued=(), switches=()):
    """``argv`` without the ``valued`` flags (``--flag value`` or ``--flag=value``) and the
    ``switches`` (``--flag``): a command line to pass on, less what belongs to this run."""
    out, skip = [], False
    for a in argv:
        flag = a.split("=", 1)[0]
        if skip:
            skip = False
        elif flag in valued:
            skip = "=" not in a
        elif flag not in switches:
            out.append(a)
    return out


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


def check_output_folder(out):
    """``out`` is a folder (made if absent) that takes a file; UserError naming it if not."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"--out {out}: a file is there, not a folder")
    try:
        check_writable(out)
    except OSError as exc:
        raise UserError(f"--out {out}: {exc}") from None


def comma_list(allowed, what):
    """argparse type: a comma-separated list of names out of ``allowed`` (order kept,
    repeats dropped); anything else is one error naming what is allowed."""
    def parse(text):
        names = [t.strip() for t in text.split(",") if t.strip()]
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(unknown) or repr(text)}; choose from "
                f"{', '.join(allowed)} (comma-separated)")
        return list(dict.fromkeys(names))
    return parse


def check_output_flag(ap, out):
    """``check_output_folder`` for a command line: a problem is reported as argparse reports
    a bad flag (``ap.error``: one line, exit status 2)."""
    try:
        check_output_folder(out)
    except UserError as exc:
        ap.error(str(exc))


def check_counts(ap, args, names):
    """Each of the integer flags ``names`` (attributes of ``args``) that is set must be >= 1;
    the first that is not is reported as argparse reports a bad flag."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")


def prepare_output(out):
    """Check ``out`` before any work (``check_output_folder``). Returns the folder a new run
    should write into (see ``staging_folder``); UserError if unusable."""
    check_output_folder(out)
    try:
        staging = staging_folder(out)
        if staging != out:          # the swap at the end writes beside OUT
            check_writable(os.path.dirname(os.path.abspath(staging)))
    except OSError as exc:
        raise UserError(f"--out {out}: {exc}") from None
    return staging                  # made by the run's first write


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


def replace_folder(staging, out):
    """Put the finished ``staging`` folder where ``out`` was, as a whole: the old folder is
    moved aside first and deleted only once the new one is in place."""
    if os.path.abspath(staging) == os.path.abspath(out):
        return
    old = None
    if os.path.lexists(out):
        old = f"{out}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old) if os.path.isdir(old) else os.remove(old)


def staging_folder(out):
    """Where a new run into ``out`` writes: ``out`` itself if it is absent or empty, else a
    sibling folder that ``replace_folder`` swaps in at the end, so a run that dies leaves the
    previous run's folder untouched (and its own files beside it, to resume from)."""
    if not os.path.exists(out) or (os.path.isdir(out) and not os.listdir(out)):
        return out
    return f"{out.rstrip(os.sep)}.partial-{os.getpid()}"
