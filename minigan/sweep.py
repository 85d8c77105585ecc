"""The thesis's sweeps (figs 4.6-4.11) over many seeds, on a process pool or a Dask cluster.

A sweep is a list of named settings x seeds. Each (setting, seed) is one task: the main job's
GAN (``minigan.experiments.mixture``) trained from the thesis's recipe with the setting's
changes, returning its metric curves and final metrics. A task's numbers depend only on its
settings and seed (each runs on one thread, from its own seeded generators), so a process
pool, a Dask cluster and a single process give the same numbers, in any order.

Every result is written as soon as it arrives, as one JSON file per task (named by a hash of
its settings and seed, written atomically, with a checksum of its content): a killed sweep or
a lost worker costs only the unfinished tasks, a rerun skips the finished ones, and a damaged
file is found and its task run again. Tasks shared by several figures (the thesis's recipe
itself appears in four) run once.
"""
import hashlib
import json
import os
import socket
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

import numpy as np
from tqdm import tqdm

from minigan.backend.threads import single_threaded
from minigan.experiments.mixture import PRESETS, MixtureGAN
from minigan.runs import Diverged, UserError
from minigan.serialization import _json_safe, save_json

CURVES = ("hist", "tv", "coverage")
CONVERGED_HIST = 10.0     # a seed has converged if it ends finite with hist at most this
BASE = dict(PRESETS["thesis"], preset="thesis", mixture="thesis", eval_every=500)


class Figure:
    """One thesis figure: ``families`` {panel title: {setting label: changes to BASE}},
    trained ``steps`` turns; ``finding`` is what the thesis concluded and ``verdict`` judges
    it from the medians ({panel: {label: {median hist, converged fraction, ...}}}) as
    (agrees | disagrees | mixed | -, reason)."""

    def __init__(self, name, title, steps, families, finding, verdict):
        self.name, self.title, self.steps = name, title, steps
        self.families, self.finding, self.verdict = families, finding, verdict

    def settings(self):
        """[(panel, label, config)] in order (steps None: each setting gives its own)."""
        base = dict(BASE) if self.steps is None else dict(BASE, steps=self.steps)
        return [(panel, label, dict(base, **changes))
                for panel, family in self.families.items()
                for label, changes in family.items()]


def _medians(panel):
    return {label: st["median_hist"] for label, st in panel.items()}


def _shown(medians):
    return ", ".join(f"{label}: {v:.3g}" for label, v in medians.items())


def _k_verdict(stats):
    med = _medians(stats["D steps per turn"])
    best = min(med, key=med.get)
    more_helps = med["2"] < med["1"]
    why = f"median hist {_shown(med)}"
    if best == "2":
        return "agrees", f"k = 2 is best ({why})"
    if more_helps:
        return "mixed", f"more D steps end better, but k = {best} is best, not 2 ({why})"
    return "disagrees", f"k = 2 is no better than k = 1 ({why})"


def _g_verdict(stats):
    s = stats["G steps per turn"]
    med = _medians(s)
    worse = [med[g] >= med["1"] for g in ("2", "5", "10")]
    why = f"median hist {_shown(med)}"
    if all(worse) and s["10"]["converged"] <= s["1"]["converged"]:
        return "agrees", f"every g > 1 ends worse than g = 1 ({why})"
    if worse[-1]:
        return "mixed", f"g = 10 ends worse than g = 1, not every g > 1 does ({why})"
    return "disagrees", f"g = 10 ends no worse than g = 1 ({why})"


def _two_parts(first, second, claims, why):
    """The verdict on a finding of two claims, of which ``first`` and ``second`` hold or not."""
    if first and second:
        return "agrees", f"{claims[0]} and {claims[1]} ({why})"
    if first or second:
        return "mixed", f"{claims[0] if first else claims[1]}, the other part not ({why})"
    return "disagrees", f"neither {claims[0]} nor {claims[1]} ({why})"


def _lr_batch_verdict(stats):
    lr, batch = _medians(stats["learning rate"]), _medians(stats["batch size"])
    low, high = min(lr["2e-4"], lr["1e-3"]), min(lr["5e-3"], lr["1e-2"])
    spread = max(batch.values()) / min(batch.values())
    high_worse, little = high > 2 * low, spread < 2
    return _two_parts(high_worse, little, ("rates >= 5e-3 end > 2x worse",
                                           "batch size matters little"),
                      f"rates {_shown(lr)}; batch medians span {spread:.1f}x")


def _size_verdict(stats):
    width, depth = _medians(stats["width (one hidden layer)"]), stats["depth"]
    w = list(width.values())
    wider_helps = all(b <= a for a, b in zip(w, w[1:]))
    deep, two = depth["8x64"], depth["64,32"]
    deeper_hurts = deep["median_hist"] > two["median_hist"]
    why = (f"width medians {_shown(width)}; 8x64 {deep['median_hist']:.3g} against 64,32 "
           f"{two['median_hist']:.3g}, {deep['diverged']} of {deep['seeds']} diverged")
    return _two_parts(wider_helps, deeper_hurts, ("every step wider ends better",
                                                  "8x64 ends worse than 64,32"), why)


def _capacity_verdict(stats):
    med = _medians(stats["capacity"])
    equal, weak_d = med["G 64,32 x D 64,32"], med["G 64,32 x D 64"]
    why = f"median hist {_shown(med)}"
    if weak_d > 2 * equal:
        return "agrees", f"a weaker D ends {weak_d / equal:.0f}x worse than equal nets ({why})"
    if weak_d > equal:
        return "mixed", f"a weaker D ends worse, but only {weak_d / equal:.2f}x ({why})"
    return "disagrees", f"a weaker D ends no worse than equal nets ({why})"


def _no_verdict(stats):
    return "-", "the thesis states no finding for this figure"


def _nets(g, d):
    return dict(g_hidden=g, d_hidden=d)


FIGURES = {f.name: f for f in (
    Figure("4.6", "D steps per turn", 30000,
           {"D steps per turn": {str(k): dict(d_steps=k) for k in (1, 2, 5, 10, 100)}},
           "more D steps converge; 2 looked best", _k_verdict),
    Figure("4.7", "G steps per turn", 30000,
           {"G steps per turn": {str(g): dict(g_steps=g) for g in (1, 2, 5, 10)}},
           "more G steps per turn are unstable as they grow", _g_verdict),
    Figure("4.8", "k D and k G steps per turn", 30000,
           {"k x k": {str(k): dict(d_steps=k, g_steps=k) for k in (1, 2, 5)}},
           "(none stated)", _no_verdict),
    Figure("4.9", "learning rate and batch size", 10000,
           {"learning rate": {t: dict(lr=float(t)) for t in ("2e-4", "1e-3", "5e-3", "1e-2")},
            "batch size": {str(b): dict(batch_size=b) for b in (16, 64, 128, 512)}},
           "high learning rates break convergence; batch size matters little",
           _lr_batch_verdict),
    Figure("4.10", "width and depth", 20000,
           {"width (one hidden layer)": {str(w): _nets((w,), (w,)) for w in (16, 64, 512, 2048)},
            "depth": {"64": _nets((64,), (64,)), "64,32": _nets((64, 32), (64, 32)),
                      "64,32,16": _nets((64, 32, 16), (64, 32, 16)),
                      "8x64": _nets((64,) * 8, (64,) * 8)}},
           "wider helps, deeper hurts (8x64 diverged)", _size_verdict),
    Figure("4.11", "unequal capacity", 30000,
           {"capacity": {"G 64,32 x D 64,32": _nets((64, 32), (64, 32)),
                         "G 64,32 x D 64": _nets((64, 32), (64,)),
                         "G 64 x D 64,32": _nets((64,), (64, 32))}},
           "D weaker than G is much harder", _capacity_verdict),
)}


def quick(figure):
    """A small version of ``figure`` for CI: each family's first and last settings, 200 turns."""
    families = {p: dict([next(iter(f.items())), list(f.items())[-1]])
                for p, f in figure.families.items()}
    return Figure(figure.name, figure.title, 200, families, figure.finding,
                  lambda stats: ("-", "a --quick run checks the machinery; it judges nothing"))


# --- one task --------------------------------------------------------------------------------

def task_key(config, seed):
    """The task's file name: a hash of its settings and seed (shared tasks share it)."""
    text = json.dumps({"config": _jsonable(config), "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _jsonable(config):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def run_task(config, seed, keep_samples=0):
    """Train the main job's GAN with ``config`` from ``seed``; its curves and final metrics
    (every metric of the last evaluation: with ``mode_metrics`` in the config, the modes
    and the high-quality fraction too), and its first ``keep_samples`` final samples (4
    decimals). A non-finite loss ends the task early with status 'diverged' (its curves so
    far kept)."""
    start = time.time()
    run = MixtureGAN(__file__).build(config, seed)
    trainer, turns, curves, last = run.trainer, [], {k: [] for k in CURVES}, {}

    def record():
        samples, m = run.evaluate()
        turns.append(trainer.turns)
        for k in CURVES:
            curves[k].append(m[k])
        last.update(metrics=m, samples=samples)

    status = "complete"
    with single_threaded():
        record()
        while trainer.turns < config["steps"]:
            try:
                trainer.turn()
            except Diverged:
                status = "diverged"
                break
            if trainer.turns % config["eval_every"] == 0:
                record()
        if turns[-1] != trainer.turns:
            record()
    out = {"task": {"config": _jsonable(config), "seed": seed}, "status": status,
           "turns": turns, "curves": curves, "final": dict(last["metrics"]),
           "timing": {"start": start, "end": time.time(),
                      "worker": f"{socket.gethostname()}:{os.getpid()}"}}
    if keep_samples:
        out["samples"] = np.round(last["samples"][:keep_samples], 4).tolist()
    return out


def _checksum(record):
    body = {k: v for k, v in record.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def save_result(folder, key, record):
    """Write a task's result, with the checksum of exactly what is written."""
    found = []
    record = _json_safe(record, found)
    if found:
        record["non_finite_as_null"] = True
    record["checksum"] = _checksum(record)
    save_json(record, os.path.join(folder, f"{key}.json"))


def load_result(folder, key, config, seed):
    """The stored result of this task, or None if absent; 'damaged' if the file is there but
    unreadable, fails its checksum, or holds another task."""
    path = os.path.join(folder, f"{key}.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            record = json.load(f)
        ok = (record.get("checksum") == _checksum(record) and record["task"] ==
              json.loads(json.dumps({"config": _jsonable(config), "seed": seed})))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ok = False
    return record if ok else "damaged"


# --- executors -------------------------------------------------------------------------------

class Serial:
    """Every task in this process, one after another."""

    name, capacity = "one process", 1

    def run(self, tasks, done, fail, task=None):
        for key, (config, seed) in tasks.items():
            try:
                record = (task or run_task)(config, seed)
            except Exception as exc:              # a bug in one task: report it, go on
                fail(key, exc)
                continue
            done(key, record)

    def close(self):
        pass


class Pool:
    """A pool of ``workers`` processes on this machine. A worker that dies (killed, out of
    memory) breaks the pool: the tasks it had not finished are sent again to a fresh pool, up
    to ``restarts`` times; results already in are kept."""

    def __init__(self, workers, restarts=3):
        self.workers, self.restarts, self.capacity = workers, restarts, workers
        self.name = f"a pool of {workers} processes"

    def run(self, tasks, done, fail, task=None):
        left, restarts = dict(tasks), 0
        while left:
            broken = False
            with ProcessPoolExecutor(self.workers, mp_context=get_context("spawn")) as pool:
                self.executor = pool                     # (for tests: its processes)
                futures = {pool.submit(task or run_task, c, s): k
                           for k, (c, s) in left.items()}
                for future in as_completed(futures):     # keeps every result that came in
                    key = futures[future]
                    try:
                        record = future.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    except Exception as exc:
                        fail(key, exc)
                    else:
                        done(key, record)
                    del left[key]
            if broken:
                restarts += 1
                if restarts > self.restarts:
                    raise RuntimeError(f"the process pool broke {restarts} times; "
                                       f"{len(left)} tasks left undone")
                print(f"a worker process died; running its pool's {len(left)} unfinished "
                      "tasks in a fresh pool", flush=True)

    def close(self):
        pass


class DaskCluster:
    """Dask's distributed scheduler: ``address`` (tcp://HOST:PORT of a running scheduler) or
    a LocalCluster of ``local_workers`` processes started here. Dask reruns the tasks of a
    worker it loses; each result is written here, on the client, as it arrives."""

    def __init__(self, address=None, local_workers=None, connect_timeout=5):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserError("Dask is not installed: pip install -e '.[cluster]'") from None
        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1,
                                        processes=True, dashboard_address=":0")
            address = self.cluster
        try:
            self.client = Client(address, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise UserError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
        self.capacity = len(self.client.scheduler_info()["workers"])
        self.name = f"Dask ({self.capacity} workers; dashboard {self.client.dashboard_link})"

    def run(self, tasks, done, fail, task=None):
        from distributed import as_completed as dask_completed
        futures = {self.client.submit(task or run_task, c, s, key=f"task-{k}", pure=False,
                                      retries=2): k for k, (c, s) in tasks.items()}
        for future, out in dask_completed(futures, with_results=True, raise_errors=False):
            if future.status == "error":
                fail(futures[future], out)
            else:
                done(futures[future], out)

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# --- a sweep ---------------------------------------------------------------------------------

def plan(figures, seeds):
    """{task key: (config, seed)} for ``figures`` x ``seeds`` (shared tasks once), and
    {figure: [(panel, label, {seed: key})]}."""
    if not figures:
        raise UserError("the sweep is empty: no figure given")
    if not seeds:
        raise UserError("the sweep needs at least one seed")
    tasks, layout = {}, {}
    for fig in figures:
        rows = []
        for panel, label, config in fig.settings():
            keys = {}
            for s in seeds:
                key = task_key(config, s)
                tasks[key] = (config, s)
                keys[s] = key
            rows.append((panel, label, keys))
        if not rows:
            raise UserError(f"figure {fig.name}: its grid of settings is empty")
        layout[fig.name] = rows
    return tasks, layout


def run_sweep(figures, seeds, out, executor, progress=True, task=None):
    """Run every task of ``figures`` x ``seeds`` not already stored under OUT/tasks with
    ``executor``; returns ({task key: result}, {task key: error of a task that failed}).
    task: ``task(config, seed) -> record`` (a module-level function, so that worker
    processes can import it); default ``run_task``."""
    tasks, _ = plan(figures, seeds)
    folder = os.path.join(out, "tasks")
    os.makedirs(folder, exist_ok=True)
    results, failed, todo, damaged = {}, {}, {}, 0
    for key, (config, seed) in tasks.items():
        stored = load_result(folder, key, config, seed)
        if isinstance(stored, dict):
            results[key] = stored
        else:
            damaged += stored == "damaged"
            todo[key] = (config, seed)
    if results or damaged:
        print(f"{len(results)} of {len(tasks)} tasks already done"
              + (f"; {damaged} damaged task files will be run again" if damaged else ""))
    bar = tqdm(total=len(tasks), initial=len(results), disable=not progress, unit="task")

    def count():
        left = len(tasks) - len(results) - len(failed)
        bar.set_postfix(done=len(results), running=min(getattr(executor, "capacity", 1), left),
                        failed=len(failed), queued=max(left - getattr(executor, "capacity", 1),
                                                       0))

    def done(key, record):
        save_result(folder, key, record)
        results[key] = record
        bar.update(1)
        count()

    def fail(key, exc):
        config, seed = tasks[key]
        failed[key] = f"seed {seed}, {_changes(config)}: {type(exc).__name__}: {exc}"
        bar.update(1)
        count()

    if todo:
        print(f"running {len(todo)} tasks on {executor.name}", flush=True)
    try:
        executor.run(todo, done, fail, task)
    finally:
        bar.close()
    return results, failed


def _changes(config):
    """How a task's settings differ from the thesis's recipe, for messages."""
    diff = {k: v for k, v in config.items() if BASE.get(k) != v}
    return ", ".join(f"{k}={v}" for k, v in diff.items()) or "the thesis's recipe"


# --- what the sweep shows --------------------------------------------------------------------

def _final(record):
    """A seed's final (hist, tv, coverage); a diverged seed counts as the worst possible."""
    if record["status"] != "complete":
        return {"hist": float("inf"), "tv": 1.0, "coverage": 0.0}
    return record["final"]


def setting_stats(records):
    """Median and worst over seeds of the final metrics, the share of seeds that converged
    (ended without diverging, hist <= CONVERGED_HIST), and the median curve with its
    interquartile band (a diverged seed's curve stops where it did)."""
    finals = [_final(r) for r in records]
    out = {"seeds": len(records),
           "diverged": sum(r["status"] != "complete" for r in records),
           "converged": float(np.mean([f["hist"] <= CONVERGED_HIST for f in finals]))}
    for k, worst in (("hist", max), ("tv", max), ("coverage", min)):
        values = [f[k] for f in finals]
        out[f"median_{k}"] = float(np.median(values))
        out[f"worst_{k}"] = float(worst(values))
    turns = max((r["turns"] for r in records), key=len)
    grid = np.full((len(records), len(turns)), np.nan)
    for i, r in enumerate(records):
        grid[i, :len(r["curves"]["hist"])] = r["curves"]["hist"]
    with np.errstate(all="ignore"):
        q25, q50, q75 = np.nanpercentile(grid, [25, 50, 75], axis=0)
    out["curve"] = {"turns": turns, "median": q50.tolist(), "q25": q25.tolist(),
                    "q75": q75.tolist()}
    return out


def summarise(figures, seeds, results):
    """{figure: {"panels": {panel: {label: stats}}, "verdict": (word, reason)}}."""
    _, layout = plan(figures, seeds)
    out = {}
    for fig in figures:
        panels = {}
        for panel, label, keys in layout[fig.name]:
            panels.setdefault(panel, {})[label] = setting_stats(
                [results[keys[s]] for s in seeds])
        out[fig.name] = {"title": fig.title, "steps": fig.steps, "finding": fig.finding,
                         "panels": panels, "verdict": fig.verdict(panels)}
    return out


def overhead(results):
    """Scheduling overhead: per worker process, the idle gaps between one task's end and its
    next task's start, against the tasks' own time (medians, seconds); and the tasks' total
    time, the number of worker processes, the span from the first start to the last end."""
    by_worker = {}
    for r in results:
        by_worker.setdefault(r["timing"]["worker"], []).append(r["timing"])
    gaps = [b["start"] - a["end"] for times in by_worker.values()
            for a, b in zip(sorted(times, key=lambda t: t["start"]),
                            sorted(times, key=lambda t: t["start"])[1:])]
    task = [t["end"] - t["start"] for r in results for t in [r["timing"]]]
    med_gap = float(np.median(gaps)) if gaps else None
    return {"median_gap_s": med_gap, "median_task_s": float(np.median(task)),
            "gap_fraction": med_gap / float(np.median(task)) if gaps else None,
            "task_seconds": float(sum(task)), "workers": len(by_worker),
            "span_s": max(r["timing"]["end"] for r in results)
            - min(r["timing"]["start"] for r in results)}


def report(summary, seeds, header):
    """sweeps.md: per figure its plot, a table (setting -> median and worst final hist, tv,
    coverage; converged seeds) and the thesis's finding beside what the medians show."""
    lines = ["# The thesis's sweeps (figs 4.6-4.11), over seeds", "", *header, "",
             f"Seeds {seeds[0]}-{seeds[-1]} of each setting. *Converged*: the run ended "
             f"without a non-finite loss and with hist <= {CONVERGED_HIST:g} (a perfect "
             "sampler scores about 1.0); a diverged seed counts as hist inf, tv 1, coverage "
             "0. Curves: the median over seeds, the band between the quartiles.", ""]
    for name, fig in summary.items():
        word, why = fig["verdict"]
        lines += [f"## Fig {name}: {fig['title']} ({fig['steps']:,} turns)", "",
                  f"![fig {name}](fig-{name}.png)", "",
                  "| setting | hist median | hist worst | tv median / worst | "
                  "coverage median / worst | converged |", "|---|---|---|---|---|---|"]
        for panel, rows in fig["panels"].items():
            for label, st in rows.items():
                lines.append(
                    f"| {panel}: {label} | {st['median_hist']:.3g} | {st['worst_hist']:.3g} | "
                    f"{st['median_tv']:.3f} / {st['worst_tv']:.3f} | "
                    f"{st['median_coverage']:.3f} / {st['worst_coverage']:.3f} | "
                    f"{round(st['converged'] * st['seeds'])} of {st['seeds']} |")
        lines += ["", f"Thesis: {fig['finding']}. Here: **{word}** ({why}).", ""]
    return "\n".join(lines)
