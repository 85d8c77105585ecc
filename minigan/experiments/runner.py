"""A training run driven from the command line: what every experiment of the examples shares.

An experiment (a subclass of ``Experiment``) says what it trains: its presets of settings,
how the trainer is built from them, what it measures, what it draws. This module does the
rest, the same way for every experiment:

- flags: each setting is a flag over the chosen preset; every bad flag is one line, before
  any work; ``--resume DIR`` continues an interrupted run bit for bit from its checkpoint;
- the loop: a tqdm bar, metrics every ``--eval-every`` turns, a checkpoint every
  ``checkpoint_every`` turns, Ctrl-C stops at a clean point (``minigan.runs``), a non-finite
  loss stops the run with its outputs written;
- outputs: checkpoint first, then samples and figures, metrics.json last, each file whole,
  into a staging folder swapped in for ``--out`` at the end;
- ``--seeds 0-19``: each seed in its own process, a rerun keeps the seeds already complete
  and resumes the interrupted ones, then summary.json and summary.png.
"""
import argparse
import contextlib
import functools
import json
import math
import operator
import os
import signal
import sys
import time

import numpy as np
from tqdm import tqdm

import minigan as mg
from minigan import _runtime
from minigan.backend.threads import single_threaded
from minigan.runs import (
    Diverged,
    StopOnInterrupt,
    UserError,
    check_output_folder,
    parse_seeds,
    prepare_output,
    replace_folder,
    run_processes,
    setting_conflicts,
    without_flags,
)
from minigan.serialization import atomic_file, save_json


def show(value):
    """A setting as it is written on the command line (tuples as 64,32)."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def as_flag(name, value):
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else "--no-" + flag[2:]
    return f"{flag} {show(value)}"


def json_config(config):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def sizes(text):
    """argparse type: layer sizes like 64,32."""
    try:
        out = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden sizes must be like 64,32; got {text!r}") \
            from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive, got {text!r}")
    return out


def seeds_type(text):
    try:
        return parse_seeds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class History:
    """The metric curves, the snapshots at ``snapshot_turns`` and the training time."""

    def __init__(self, snapshot_turns=()):
        self.snapshot_turns = None if snapshot_turns is None else set(snapshot_turns)
        self.turns, self.curves = [], {}
        self.snapshots, self.train_seconds = {}, 0.0

    def add(self, turn, metrics, samples):
        self.turns.append(turn)
        for k, v in metrics.items():
            self.curves.setdefault(k, []).append(v)
        if self.snapshot_turns is None or turn in self.snapshot_turns:
            self.snapshots[turn] = samples

    def state_dict(self):
        return {"turns": np.array(self.turns, dtype=np.int64),
                "curves": {k: np.array(v) for k, v in self.curves.items()},
                "snapshots": {str(t): s for t, s in self.snapshots.items()},
                "train_seconds": self.train_seconds}

    def load_state_dict(self, state):
        self.turns = [int(t) for t in state["turns"]]
        self.curves = {k: [float(x) for x in v] for k, v in state["curves"].items()}
        self.snapshots = {int(t): s for t, s in state.get("snapshots", {}).items()}
        self.train_seconds = float(state["train_seconds"])


class Stopwatch:
    """Seconds spent in each part of a run (``with watch("figures"): ...``), and how many
    times each part ran: what ``--profile`` prints and metrics.json keeps."""

    def __init__(self):
        self.seconds, self.counts = {}, {}

    @contextlib.contextmanager
    def __call__(self, part):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(part, time.perf_counter() - start)

    def add(self, part, seconds, count=1):
        self.seconds[part] = self.seconds.get(part, 0.0) + seconds
        self.counts[part] = self.counts.get(part, 0) + count


_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def target_name(metric, rule):
    """'hist < 2' for the target ("<", 2.0) of hist."""
    return f"{metric} {rule[0]} {rule[1]:g}"


def missed_targets(final, targets):
    """The targets ({metric: (comparison, bound)}) that the final metrics miss, each as
    'hist 2.81 (target hist < 2)'; a missing or NaN value misses."""
    return [f"{k} {final.get(k, math.nan):.4g} (target {target_name(k, rule)})"
            for k, rule in targets.items() if not _COMPARE[rule[0]](final.get(k, math.nan),
                                                                   rule[1])]


class Run:
    """What ``Experiment.build`` returns: the trainer, ``evaluate()`` -> (samples, metrics:
    a flat dict of floats) of the current generator, the ``perfect`` metrics (the same keys)
    and whatever the figures need (``extra``). Optional: ``schedule`` (turns, eval_every,
    checkpoint_every) when the run's length is not the config's ``steps`` (an epoch-based
    run), ``final_samples()`` when samples.npy is not what ``evaluate`` returns (which then
    is a snapshot), and ``live()`` -> the progress bar's postfix, asked every 50 turns."""

    def __init__(self, trainer, evaluate, perfect, schedule=None, final_samples=None,
                 live=None, **extra):
        self.trainer, self.evaluate, self.perfect = trainer, evaluate, perfect
        self.schedule, self.final_samples, self.live = schedule, final_samples, live
        self.__dict__.update(extra)


class Experiment:
    """Subclass and fill in: ``name`` (the default output folder is runs/NAME),
    ``description``, ``presets`` and ``default_preset``, ``settings`` ({name: (argparse
    keywords, help)}: every preset sets each), ``run_settings`` ({name: (default, argparse
    keywords, help)}: settings outside the presets, e.g. the eval interval), and the methods
    ``check``, ``build``, ``figures``; optionally ``postfix``, ``print_final``,
    ``summary_metrics`` (or ``summary_for``, when they depend on the settings)."""

    name = "experiment"
    description = ""
    presets, default_preset, settings = {}, None, {}
    run_settings = {
        "eval_every": (500, dict(type=int), "turns between metrics"),
        "seed": (0, dict(type=int), "random seed"),
        "device": ("cpu", dict(), "where to train: cpu, or cuda (pip install 'minigan[gpu]')"),
    }
    snapshot_turns = ()
    checkpoint_every = 5000
    one_thread = True       # small models: one thread, the same numbers on any machine
    # {metric: max, min or 'farthest' (from the perfect value)}: what summary.json reports
    # the median and the worst of; the first is the curve that summary.png draws per seed
    summary_metrics = {}
    # {metric: (comparison, bound)}: what a good run reaches at its end. A complete run that
    # misses one says so in one line and in metrics.json ("warning", with ``advice``: what
    # to try); --seeds counts the seeds that reach each
    targets = {}
    advice = ""

    def __init__(self, script):
        self.script = os.path.abspath(script)

    # --- to fill in ---

    def check(self, config):
        """The first broken rule for these settings (a one-line message), or None."""
        return None

    def build(self, config, seed):
        """A ``Run`` for these settings and seed."""
        raise NotImplementedError

    def figures(self, run, history, samples):
        """{file name: draw(open binary file)} for the outputs."""
        return {}

    def postfix(self, metrics):
        """What the progress bar shows after an evaluation."""
        return {}

    def print_final(self, record):
        print(f"  {'metric':<16} {'generator':>12} {'perfect':>12}")
        for k, v in record["final"].items():
            print(f"  {k:<16} {v:>12.4g} {record['perfect'][k]:>12.4g}")

    # --- flags ---

    @property
    def default_out(self):
        return os.path.join("runs", self.name)

    def make_parser(self):
        ap = argparse.ArgumentParser(
            prog=os.path.basename(self.script), description=self.description,
            epilog="presets (explicit flags override them):\n" + "\n".join(
                f"  {name}: " + " ".join(as_flag(k, v) for k, v in p.items())
                for name, p in self.presets.items()),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        ap.add_argument("--preset", choices=sorted(self.presets), default=None,
                        help=f"the training recipe (default: {self.default_preset})")
        for name, (kw, text) in self.settings.items():
            shown = ", ".join(f"{p}: {show(self.presets[p][name])}" for p in self.presets)
            ap.add_argument("--" + name.replace("_", "-"), default=None, **kw,
                            help=f"{text} ({shown})")
        for name, (default, kw, text) in self.run_settings.items():
            ap.add_argument("--" + name.replace("_", "-"), default=None, **kw,
                            help=f"{text} (default: {default})")
        ap.add_argument("--seeds", type=seeds_type, default=None,
                        help="run several seeds, e.g. 0-19 or 0,3,7, each in its own process "
                             "and sub-folder, then summarise them (summary.json, summary.png)")
        ap.add_argument("--workers", type=int, default=None,
                        help="processes for --seeds (default: one per core)")
        ap.add_argument("--out", default=None, help=f"output folder (default: {self.default_out})")
        ap.add_argument("--resume", metavar="DIR", default=None,
                        help="continue the interrupted run in DIR from its checkpoint")
        ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
        ap.add_argument("--profile", action="store_true",
                        help="print where the run's time went (import, build, turns, "
                             "evaluations, checkpoints, figures); metrics.json keeps it always")
        return ap

    def resolve(self, args):
        """The run's settings: the preset's, with every flag given on the command line over
        it (the seed apart: it is ``args.seed``)."""
        config = dict(self.presets[args.preset or self.default_preset])
        config.update({k: getattr(args, k) for k in self.settings
                       if getattr(args, k) is not None})
        config["preset"] = args.preset or self.default_preset
        for k, (default, _, _) in self.run_settings.items():
            if k != "seed":
                config[k] = getattr(args, k) if getattr(args, k) is not None else default
        return config

    def parse_args(self, argv=None):
        """Flags -> (args, config); every error is reported here, before any work."""
        ap = self.make_parser()
        args = ap.parse_args(argv)
        if args.seed is not None and args.seed < 0:
            ap.error(f"--seed must be >= 0, got {args.seed}")
        if args.workers is not None and args.workers < 1:
            ap.error(f"--workers must be >= 1, got {args.workers}")
        if args.seeds is not None and args.resume is not None:
            ap.error("--resume continues one run; it does not go with --seeds")
        if args.resume is not None:
            config = self._resumed_config(ap, args)
        else:
            config = self.resolve(args)
            args.seed = self.run_settings["seed"][0] if args.seed is None else args.seed
        problem = self.check(config) or _device_problem(config.get("device", "cpu"))
        if problem:
            ap.error(problem)
        args.out = args.out or args.resume or self.default_out
        if args.resume is not None and os.path.abspath(args.out) != os.path.abspath(args.resume):
            ap.error("--resume continues in its own folder; leave out --out")
        try:
            if args.seeds:
                check_output_folder(args.out)
            args.folder = args.out if args.resume or args.seeds else prepare_output(args.out)
        except UserError as exc:
            ap.error(str(exc))
        return args, config

    def _all_settings(self):
        return (*self.settings, "preset", *self.run_settings)

    def _added_since(self, saved):
        """A checkpoint written before a setting existed ran as its preset's value (a run
        setting: its default), which is how settings are added here: fill those in. A
        checkpoint of another example (no preset of ours) is left as it is."""
        if saved.get("preset") not in self.presets:
            return saved
        added = {k: self.presets[saved["preset"]][k] for k in self.settings if k not in saved}
        added.update({k: default for k, (default, _, _) in self.run_settings.items()
                      if k not in saved and k != "seed"})
        return {**added, **saved}

    def _resumed_config(self, ap, args):
        """The interrupted run's settings; a flag given now must agree with them."""
        path = os.path.join(args.resume, "checkpoint.npz")
        if not os.path.isfile(path):
            ap.error(f"--resume {args.resume}: no checkpoint.npz there to resume from")
        try:
            saved = json.loads(str(mg.load(path)["config"]))
        except (KeyError, ValueError, OSError) as exc:
            ap.error(f"--resume {args.resume}: checkpoint.npz is not a run of this example "
                     f"({exc})")
        saved = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}
        saved = self._added_since(saved)
        missing = [k for k in self._all_settings() if k not in saved]
        if missing:
            ap.error(f"--resume {args.resume}: checkpoint.npz is not a run of this example "
                     f"(no {', '.join(missing)})")
        given = {k: getattr(args, k) for k in self._all_settings()
                 if getattr(args, k) is not None}
        if "device" in given:         # where a run computes, not what it is: a run may
            saved["device"] = given.pop("device")           # resume on another device
        differ = setting_conflicts(given, saved, show)
        if differ:
            ap.error(f"--resume {args.resume}: a different configuration from the "
                     "checkpoint's: " + "; ".join(differ))
        args.seed = int(saved["seed"])
        return {k: v for k, v in saved.items() if k != "seed"}

    # --- one run ---

    def save_checkpoint(self, out, run, history, config, seed):
        state = run.trainer.state_dict()
        state.update(history=history.state_dict(), config=json.dumps(dict(config, seed=seed)))
        mg.save(state, os.path.join(out, "checkpoint.npz"))

    def train(self, config, seed, out, progress=True, resume=False, watch=None):
        """Train (or continue) one run; returns (status, diverged, run, history, samples)
        with status 'complete', 'interrupted' (Ctrl-C) or 'diverged' (a non-finite loss:
        ``diverged`` is the Diverged error, and the networks are as they were before that
        step). On one thread if ``one_thread`` (minigan/backend/threads.py): the same seed
        then gives the same numbers on any machine. ``watch`` (a Stopwatch) gets the time of
        each part: build, first turn (it loads or compiles the Numba kernels), turns,
        evaluations, checkpoints."""
        watch = watch if watch is not None else Stopwatch()
        with watch("build"):
            run = self.build(config, seed)
        trainer, history = run.trainer, History(self.snapshot_turns)
        if resume:
            state = mg.load(os.path.join(out, "checkpoint.npz"))
            trainer.load_state_dict(state)
            history.load_state_dict(state["history"])

        def evaluate():
            with watch("evaluations"):
                samples, metrics = run.evaluate()
            history.add(trainer.turns, metrics, samples)
            return metrics

        steps, eval_every, checkpoint_every = run.schedule or (
            config["steps"], config["eval_every"], self.checkpoint_every)
        bar = tqdm(total=steps, initial=trainer.turns, disable=not progress, unit="turn",
                   mininterval=0.5)
        status, diverged = "complete", None
        threads = single_threaded() if self.one_thread else contextlib.nullcontext()
        with threads, StopOnInterrupt() as stop:
            if not history.turns:
                evaluate()                       # turn 0: G as initialised
            while trainer.turns < steps:
                start = time.perf_counter()
                try:
                    trainer.turn()
                except Diverged as exc:
                    status, diverged = "diverged", exc
                    break
                took = time.perf_counter() - start
                history.train_seconds += took
                watch.add("turns" if "first turn" in watch.seconds else "first turn", took)
                bar.update(1)
                t = trainer.turns
                if run.live is not None and t % 50 == 0:
                    bar.set_postfix(run.live(), refresh=False)
                if t % eval_every == 0 or t in (self.snapshot_turns or ()) or t == steps:
                    bar.set_postfix(self.postfix(evaluate()))
                if t % checkpoint_every == 0 and t < steps:
                    with watch("checkpoints"):
                        self.save_checkpoint(out, run, history, config, seed)
                if stop.requested:
                    status = "interrupted"
                    break
            if history.turns[-1] != trainer.turns:
                evaluate()                       # the last point is the current generator's
            with watch("evaluations"):
                samples = (run.final_samples() if run.final_samples is not None
                           else run.evaluate()[0])   # the final samples (as the last point's)
        bar.close()
        return status, diverged, run, history, samples

    def write_outputs(self, out, config, seed, result, start, watch=None):
        """The checkpoint first (nothing trained is lost if a figure fails), then the
        samples, the figures, and metrics.json last: each file appears whole or not at all."""
        status, diverged, run, history, samples = result
        watch = watch if watch is not None else Stopwatch()
        with watch("checkpoints"):
            self.save_checkpoint(out, run, history, config, seed)
        with atomic_file(os.path.join(out, "samples.npy")) as f:
            np.save(f, samples)
        with watch("figures"):
            figures = self.figures(run, history, samples)
            for name, draw in figures.items():
                with atomic_file(os.path.join(out, name)) as f:
                    draw(f)
        final = {k: v[-1] for k, v in history.curves.items()}
        missed = missed_targets(final, self.targets) if status == "complete" else []
        record = {"status": status, "error": str(diverged) if diverged else None,
                  "warning": (f"missed: {', '.join(missed)}; {self.advice}".rstrip("; ")
                              if missed else None),
                  "preset": config["preset"], "seed": seed, "config": json_config(config),
                  "turns": history.turns, "curves": history.curves, "final": final,
                  "perfect": run.perfect, "train_seconds": history.train_seconds,
                  "wall_seconds": time.perf_counter() - start,
                  "outputs": ["checkpoint.npz", "samples.npy", *figures, "metrics.json"]}
        record.update(self.extra_record(run, history, samples))
        record["seconds"] = _breakdown(watch, start, _runtime.STARTED)
        save_json(record, os.path.join(out, "metrics.json"))
        return record

    def extra_record(self, run, history, samples):
        """More entries for metrics.json."""
        return {}

    def print_table(self, record):
        print(f"\nfinal metrics after {record['turns'][-1]} turns, preset {record['preset']}, "
              f"seed {record['seed']} (training {record['train_seconds']:.1f} s, "
              f"whole run {record['wall_seconds']:.1f} s)")
        self.print_final(record)

    def run_one(self, args, config, start):
        """Train, write every output into the run's folder, then put it in place of --out."""
        watch = Stopwatch()
        result = self.train(config, args.seed, args.folder, progress=not args.no_progress,
                            resume=args.resume is not None, watch=watch)
        with StopOnInterrupt():     # one Ctrl-C while writing waits for the files; two abort
            record = self.write_outputs(args.folder, config, args.seed, result, start, watch)
            replace_folder(args.folder, args.out)
        self.print_table(record)
        print(f"outputs in {args.out}/")
        if record["warning"]:
            print(f"WARNING: this run {record['warning']}")
        if getattr(args, "profile", False):
            print(profile_line(record["seconds"]))
        if record["status"] == "interrupted":
            print(f"interrupted after turn {record['turns'][-1]}; continue with:\n"
                  f"  python {os.path.relpath(self.script)} --resume {args.out}")
        if record["status"] == "diverged":
            raise result[1]
        return record

    # --- many seeds ---

    def child_argv(self, argv):
        """The command line without the flags that belong to the multi-seed run itself."""
        return without_flags(argv, ("--seeds", "--workers", "--out", "--seed"),
                             ("--no-progress", "--profile"))

    def run_seeds(self, args, config, argv, start):
        """Each seed in its own process (at most --workers at once), into OUT/seed-K; then
        summary.json and summary.png. A seed that fails is reported, never dropped. Run again
        after a Ctrl-C or a crash, the same command keeps the seeds already complete with
        these settings and resumes the interrupted ones from their checkpoints."""
        from minigan import plot
        script = [sys.executable, self.script]
        base = [*script, *self.child_argv(argv), "--no-progress"]
        folders = {s: os.path.join(args.out, f"seed-{s}") for s in args.seeds}
        commands, codes = {}, {}
        for s, folder in folders.items():
            log = os.path.join(args.out, "logs", f"seed-{s}.txt")
            earlier = _earlier_run(folder, config, s)
            if earlier == "complete":
                codes[s] = 0
            elif earlier == "interrupted":
                commands[s] = ([*script, "--resume", folder, "--no-progress"], log)
            else:
                commands[s] = (base + ["--seed", str(s), "--out", folder], log)
        if codes:
            print(f"kept {len(codes)} seeds already complete with these settings: "
                  f"{', '.join(map(str, codes))}")
        codes.update(run_processes(commands, args.workers or os.cpu_count() or 1,
                                   progress=not args.no_progress))
        summary = self.summarise(args.out, config, folders, codes, time.perf_counter() - start)
        save_json(summary, os.path.join(args.out, "summary.json"))
        with atomic_file(os.path.join(args.out, "summary.png")) as f:
            plot.seed_summary(summary, f)
        self.print_summary(summary, args.out)
        return summary

    def summary_for(self, config):
        """The metrics summary.json reports for runs of these settings (``summary_metrics``)."""
        return self.summary_metrics

    def summarise(self, out, config, folders, codes, wall):
        metrics = self.summary_for(config)
        curve = next(iter(metrics))
        per_seed = {str(s): _seed_result(f, os.path.join(out, "logs", f"seed-{s}.txt"),
                                         codes.get(s), curve) for s, f in folders.items()}
        done = [r for r in per_seed.values() if r["status"] == "complete"]
        perfect = next((r["perfect"] for r in done), None)
        stats = {k: _stats([r["final"][k] for r in done], worst, perfect and perfect[k])
                 for k, worst in metrics.items()}
        reached = {target_name(k, rule): sum(not missed_targets(r["final"], {k: rule})
                                             for r in done)
                   for k, rule in self.targets.items()}
        if self.targets:
            reached["all"] = sum(not missed_targets(r["final"], self.targets) for r in done)
        return {"preset": config["preset"], "config": json_config(config), "seeds": per_seed,
                "complete": len(done), "failed": len(per_seed) - len(done), "stats": stats,
                "reached": reached, "perfect": perfect, "curve": curve, "wall_seconds": wall}

    def print_summary(self, summary, out):
        keys = list(summary["stats"])
        print(f"\n{summary['complete']} of {len(summary['seeds'])} seeds complete, preset "
              f"{summary['preset']} ({summary['wall_seconds']:.0f} s)")
        print(f"  {'seed':>6} " + " ".join(f"{k:>14}" for k in keys))
        for seed, r in summary["seeds"].items():
            if r["status"] == "complete":
                print(f"  {seed:>6} " + " ".join(f"{r['final'][k]:>14.4g}" for k in keys))
            else:
                print(f"  {seed:>6} {r['status'].upper()} (exit {r['exit_code']}): "
                      f"{r['error']}")
        if summary["complete"]:
            for row in ("median", "worst"):
                print(f"  {row:>6} " + " ".join(f"{summary['stats'][k][row]:>14.4g}"
                                                for k in keys))
            print(f"  {'perfect':>6} " + " ".join(f"{summary['perfect'][k]:>14.4g}"
                                                   for k in keys))
        if summary["reached"]:
            n = len(summary["seeds"])
            print("reached: " + ", ".join(f"{name} in {count} of {n} seeds" if name != "all"
                                          else f"all of them in {count} of {n}"
                                          for name, count in summary["reached"].items()))
        print(f"summary in {out}/summary.json and summary.png")

    # --- the command ---

    def main(self, argv=None):
        start = time.perf_counter()
        argv = sys.argv[1:] if argv is None else list(argv)
        args, config = self.parse_args(argv)
        if args.seeds is not None:
            summary = self.run_seeds(args, config, argv, start)
            if summary["failed"]:
                raise SystemExit(1)
            return summary
        record = self.run_one(args, config, start)
        if record["status"] == "interrupted":
            raise SystemExit(130)
        return record


def _breakdown(watch, start, imported):
    """The run's seconds by part (import: from minigan's first line to ``main``; other: the
    rest of the whole run), with how many times each part ran."""
    parts = {"import": max(start - imported, 0.0), **watch.seconds}
    whole = time.perf_counter() - imported
    parts["other"] = max(whole - sum(parts.values()), 0.0)
    return {"parts": parts, "counts": dict(watch.counts), "whole": whole,
            "blas": _blas_kernels()}


def _blas_kernels():
    """Which kernels the BLAS runs here ('OpenBLAS SkylakeX'): speed depends on it."""
    from threadpoolctl import threadpool_info
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return f"{lib.get('internal_api', 'BLAS')} {lib.get('architecture', '')}".strip()
    return "unknown BLAS"


def profile_line(seconds):
    """'time: import 0.4 s, build 0.5 s, ..., whole 19.8 s' (counted parts with their count)."""
    counts = seconds["counts"]
    parts = [f"{name} {s:.2f} s" + (f" ({counts[name]}x)" if counts.get(name, 1) > 1 else "")
             for name, s in seconds["parts"].items()]
    return (f"time: {', '.join(parts)}; whole run {seconds['whole']:.1f} s "
            f"({seconds.get('blas', 'unknown BLAS')})")


def _device_problem(name):
    """Why ``--device name`` cannot run here (an unknown name, no CuPy or GPU), or None."""
    try:
        mg.device(name)
    except (ValueError, TypeError, RuntimeError) as exc:
        return f"--device: {exc}"
    return None


def _stats(values, worst, perfect):
    """The median and the worst of ``values``: worst is max, min, or 'farthest' (from the
    perfect value, either side)."""
    if not values:
        return {"median": None, "worst": None}
    if worst == "farthest":
        worst = functools.partial(max, key=lambda v: abs(v - perfect))
    return {"median": float(np.median(values)), "worst": float(worst(values))}


def _earlier_run(folder, config, seed):
    """'complete' or 'interrupted' if ``folder`` holds a run of ``seed`` with ``config``
    (and, if interrupted, its checkpoint), else None."""
    try:
        with open(os.path.join(folder, "metrics.json")) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    same = record.get("seed") == seed and record.get("config") == json.loads(
        json.dumps(json_config(config)))
    if not same or record.get("status") not in ("complete", "interrupted"):
        return None
    if record["status"] == "interrupted" and not os.path.isfile(
            os.path.join(folder, "checkpoint.npz")):
        return None
    return record["status"]


def _seed_result(folder, log_path, code, curve):
    try:
        with open(os.path.join(folder, "metrics.json")) as f:
            record = json.load(f)
    except (OSError, ValueError):
        record = None
    if code == 0 and record is not None and record["status"] == "complete":
        return {"status": "complete", "final": record["final"], "turns": record["turns"],
                "curve": record["curves"][curve], "perfect": record["perfect"]}
    try:
        with open(log_path) as f:
            lines = [x for x in f.read().splitlines() if x.strip()]
    except OSError:
        lines = []
    return {"status": "failed" if code not in (130, -signal.SIGINT) else "interrupted",
            "exit_code": code, "error": lines[-1] if lines else "no output"}
