"""minigan.sweep and examples/mixture_sweeps.py (issue 18): the same numbers from every
executor, nothing lost to a dead worker or a damaged file, reruns that skip finished work, the
thesis's findings judged from the medians, and every flag."""
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from minigan import sweep
from minigan.runs import UserError
from minigan.sweep import BASE, FIGURES, Figure, Pool, Serial, plan, run_sweep
from tests.examples import load_example

ex = load_example("mixture_sweeps")
TINY = dict(g_hidden=(8,), d_hidden=(8,), eval_every=20)


def _mini(steps=40, n=3):
    """A sweep of n settings (learning rates), tiny nets."""
    rates = {f"{lr:g}": dict(TINY, lr=lr) for lr in (1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2)[:n]}
    return Figure("t", "test", steps, {"lr": rates}, "-", sweep._no_verdict)


def _numbers(results):
    return {k: (r["status"], r["turns"], r["curves"]) for k, r in results.items()}


def test_one_process_a_pool_and_dask_give_bit_identical_results(tmp_path):
    pytest.importorskip("distributed")
    fig, seeds = _mini(), [0]
    serial, _ = run_sweep([fig], seeds, tmp_path / "serial", Serial(), progress=False)
    pool, _ = run_sweep([fig], seeds, tmp_path / "pool", Pool(2), progress=False)
    dask = sweep.DaskCluster(local_workers=2)
    try:
        on_dask, _ = run_sweep([fig], seeds, tmp_path / "dask", dask, progress=False)
    finally:
        dask.close()
    assert len(serial) == 3
    assert _numbers(serial) == _numbers(pool) == _numbers(on_dask)
    # and the settings matter: the three tasks differ
    assert len({json.dumps(r["curves"]) for r in serial.values()}) == 3


def test_a_rerun_of_a_finished_sweep_runs_nothing(tmp_path):
    fig = _mini(n=2)
    first, _ = run_sweep([fig], [0, 1], tmp_path, Serial(), progress=False)

    class Refuses:
        name = "nothing"

        def run(self, tasks, done, fail, task=None):
            assert tasks == {}, f"{len(tasks)} tasks would run again"
    again, _ = run_sweep([fig], [0, 1], tmp_path, Refuses(), progress=False)
    assert _numbers(again) == _numbers(first)


@pytest.mark.parametrize("damage", ["truncate", "edit_a_number", "other_task", "not_json"])
def test_a_damaged_task_file_is_found_and_its_task_run_again(tmp_path, damage, capsys):
    fig = _mini(n=2)
    first, _ = run_sweep([fig], [0], tmp_path, Serial(), progress=False)
    key = sorted(first)[0]
    path = tmp_path / "tasks" / f"{key}.json"
    text = path.read_text()
    other = (tmp_path / "tasks" / f"{sorted(first)[1]}.json").read_text()
    path.write_text({"truncate": text[:len(text) // 2],
                     "edit_a_number": text.replace('"hist": [', '"hist": [1.5, ', 1),
                     "other_task": other, "not_json": "\x00\x01"}[damage])
    seen = {}

    class Records(Serial):
        def run(self, tasks, done, fail, task=None):
            seen.update(tasks)
            super().run(tasks, done, fail, task)
    again, _ = run_sweep([fig], [0], tmp_path, Records(), progress=False)
    assert list(seen) == [key]
    assert "1 damaged task files will be run again" in capsys.readouterr().out
    assert _numbers(again) == _numbers(first)


def test_a_worker_killed_mid_sweep_loses_no_finished_result(tmp_path, capsys):
    fig = _mini(steps=400, n=6)
    pool = Pool(2)
    folder = tmp_path / "tasks"
    killed = {}

    def kill_one_worker():
        deadline = time.time() + 120
        while time.time() < deadline:
            written = [p for p in folder.glob("[!.]*.json")] if folder.exists() else []
            if written:                    # (not the writer's hidden temporary files)
                killed["kept"] = {p.name: p.read_bytes() for p in written}
                pid = next(iter(pool.executor._processes))
                os.kill(pid, signal.SIGTERM)
                killed["pid"] = pid
                return
            time.sleep(0.01)
    thread = threading.Thread(target=kill_one_worker)
    thread.start()
    results, failed = run_sweep([fig], [0], tmp_path, pool, progress=False)
    thread.join()
    assert failed == {}
    assert "pid" in killed and len(results) == 6
    for name, content in killed["kept"].items():        # finished results untouched
        assert (folder / name).read_bytes() == content
    assert "a worker process died" in capsys.readouterr().out
    reference, _ = run_sweep([fig], [0], tmp_path / "ref", Serial(), progress=False)
    assert _numbers(results) == _numbers(reference)


def _with_a_broken_setting():
    """Three settings, one of which fails inside the task (an unknown latent)."""
    fig = _mini(n=2)
    fig.families["lr"]["broken"] = dict(TINY, latent="bogus")
    return fig


@pytest.mark.parametrize("executor", ["serial", "pool", "dask"])
def test_a_task_that_fails_is_reported_and_the_others_finish(tmp_path, executor):
    if executor == "dask":
        pytest.importorskip("distributed")
    runner = {"serial": Serial, "pool": lambda: Pool(2),
              "dask": lambda: sweep.DaskCluster(local_workers=2)}[executor]()
    try:
        results, failed = run_sweep([_with_a_broken_setting()], [0], tmp_path, runner,
                                    progress=False)
    finally:
        runner.close()
    assert len(results) == 2 and len(failed) == 1
    (message,) = failed.values()
    assert "latent=bogus" in message and "ValueError" in message
    assert len(list((tmp_path / "tasks").glob("[!.]*.json"))) == 2


def test_the_example_exits_1_naming_failed_tasks_and_writes_no_report(tmp_path, monkeypatch,
                                                                      capsys):
    monkeypatch.setattr(ex, "quick", lambda f: _with_a_broken_setting())
    with pytest.raises(SystemExit) as exc:
        ex.main(["--figure", "4.6", "--quick", "--seeds", "1", "--workers", "1",
                 "--out", str(tmp_path), "--no-progress"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "FAILED seed 0" in err and "1 tasks failed (2 done and kept)" in err
    assert not (tmp_path / "sweeps.md").exists()


def test_tasks_shared_by_figures_run_once():
    tasks, layout = plan([FIGURES["4.6"], FIGURES["4.7"], FIGURES["4.8"], FIGURES["4.11"]],
                         [0, 1])
    baseline = {keys[0] for rows in layout.values() for panel, label, keys in rows
                if label in ("1", "G 64,32 x D 64,32")}
    assert len(baseline) == 1                       # the thesis recipe itself, seed 0
    assert len(tasks) == 2 * (5 + 4 + 3 + 3 - 3)
    config, seed = tasks[baseline.pop()]
    assert seed == 0 and {k: config[k] for k in BASE if k != "steps"} == \
        {k: v for k, v in BASE.items() if k != "steps"}


def test_the_six_figures_are_the_thesiss_grids():
    grids = {name: {p: list(f) for p, f in fig.families.items()} for name, fig in FIGURES.items()}
    assert grids["4.6"] == {"D steps per turn": ["1", "2", "5", "10", "100"]}
    assert grids["4.7"] == {"G steps per turn": ["1", "2", "5", "10"]}
    assert grids["4.8"] == {"k x k": ["1", "2", "5"]}
    assert grids["4.9"]["learning rate"] == ["2e-4", "1e-3", "5e-3", "1e-2"]
    assert grids["4.9"]["batch size"] == ["16", "64", "128", "512"]
    assert grids["4.10"]["depth"] == ["64", "64,32", "64,32,16", "8x64"]
    assert [FIGURES[n].steps for n in FIGURES] == [30000, 30000, 30000, 10000, 20000, 30000]
    cfg = {label: c for _, label, c in FIGURES["4.10"].settings()}
    assert cfg["8x64"]["g_hidden"] == (64,) * 8 and cfg["2048"]["d_hidden"] == (2048,)
    cfg = {label: c for _, label, c in FIGURES["4.8"].settings()}
    assert (cfg["5"]["d_steps"], cfg["5"]["g_steps"], cfg["5"]["lr"]) == (5, 5, 2e-4)


def _stats(**medians):
    return {k: {"median_hist": v, "converged": 1.0, "diverged": 0, "seeds": 5}
            for k, v in medians.items()}


@pytest.mark.parametrize("figure, panels, word", [
    ("4.6", {"D steps per turn": _stats(**{"1": 3, "2": 1, "5": 2, "10": 4, "100": 9})},
     "agrees"),
    ("4.6", {"D steps per turn": _stats(**{"1": 3, "2": 2, "5": 1, "10": 4, "100": 9})},
     "mixed"),
    ("4.6", {"D steps per turn": _stats(**{"1": 1, "2": 2, "5": 3, "10": 4, "100": 9})},
     "disagrees"),
    ("4.7", {"G steps per turn": _stats(**{"1": 1, "2": 2, "5": 3, "10": 9})}, "agrees"),
    ("4.7", {"G steps per turn": _stats(**{"1": 2, "2": 1, "5": 3, "10": 9})}, "mixed"),
    ("4.7", {"G steps per turn": _stats(**{"1": 9, "2": 2, "5": 3, "10": 1})}, "disagrees"),
    ("4.9", {"learning rate": _stats(**{"2e-4": 1, "1e-3": 1, "5e-3": 5, "1e-2": 9}),
             "batch size": _stats(**{"16": 1, "64": 1.2, "128": 1.1, "512": 1.5})}, "agrees"),
    ("4.9", {"learning rate": _stats(**{"2e-4": 1, "1e-3": 1, "5e-3": 1.5, "1e-2": 1}),
             "batch size": _stats(**{"16": 1, "64": 5, "128": 1.1, "512": 1.5})},
     "disagrees"),
    ("4.10", {"width (one hidden layer)": _stats(**{"16": 9, "64": 3, "512": 2, "2048": 1}),
              "depth": _stats(**{"64": 1, "64,32": 2, "64,32,16": 3, "8x64": 9})}, "agrees"),
    ("4.10", {"width (one hidden layer)": _stats(**{"16": 1, "64": 3, "512": 2, "2048": 9}),
              "depth": _stats(**{"64": 1, "64,32": 2, "64,32,16": 3, "8x64": 9})}, "mixed"),
    ("4.10", {"width (one hidden layer)": _stats(**{"16": 1, "64": 3, "512": 2, "2048": 9}),
              "depth": _stats(**{"64": 1, "64,32": 2, "64,32,16": 3, "8x64": 1})},
     "disagrees"),
    ("4.10", {"width (one hidden layer)": _stats(**{"16": 9, "64": 3, "512": 5, "2048": 1}),
              "depth": _stats(**{"64": 1, "64,32": 2, "64,32,16": 3, "8x64": 9})}, "mixed"),
    ("4.11", {"capacity": _stats(**{"G 64,32 x D 64,32": 1, "G 64,32 x D 64": 3,
                                    "G 64 x D 64,32": 1})}, "agrees"),
    ("4.11", {"capacity": _stats(**{"G 64,32 x D 64,32": 1, "G 64,32 x D 64": 1.5,
                                    "G 64 x D 64,32": 1})}, "mixed"),
    ("4.11", {"capacity": _stats(**{"G 64,32 x D 64,32": 2, "G 64,32 x D 64": 1,
                                    "G 64 x D 64,32": 1})}, "disagrees"),
])
def test_each_finding_is_judged_from_the_medians(figure, panels, word):
    assert FIGURES[figure].verdict(panels)[0] == word


def test_a_diverged_seed_counts_as_the_worst_and_not_converged():
    ok = {"status": "complete", "turns": [0, 10, 20], "final": {"hist": 1.5, "tv": 0.01,
          "coverage": 0.9}, "curves": {"hist": [50, 3, 1.5]}}
    far = dict(ok, final={"hist": 12.0, "tv": 0.2, "coverage": 0.5},
               curves={"hist": [50, 20, 12.0]})
    gone = {"status": "diverged", "turns": [0], "final": {"hist": 50.0, "tv": 0.3,
            "coverage": 0.2}, "curves": {"hist": [50]}}
    st = sweep.setting_stats([ok, far, gone])
    assert st["converged"] == pytest.approx(1 / 3) and st["diverged"] == 1
    assert st["median_hist"] == 12.0 and st["worst_hist"] == float("inf")
    assert st["worst_coverage"] == 0.0 and st["worst_tv"] == 1.0
    assert st["curve"]["turns"] == [0, 10, 20]
    assert st["curve"]["median"] == [50, 11.5, 6.75]       # the diverged seed stops at turn 0


def test_scheduling_overhead_is_the_idle_gap_between_a_workers_tasks():
    rec = [{"timing": {"worker": "a", "start": 0.0, "end": 10.0}},
           {"timing": {"worker": "a", "start": 10.5, "end": 20.5}},
           {"timing": {"worker": "b", "start": 0.0, "end": 10.0}}]
    out = sweep.overhead(rec)
    assert out["median_gap_s"] == pytest.approx(0.5) and out["median_task_s"] == 10.0
    assert out["gap_fraction"] == pytest.approx(0.05)
    assert out["task_seconds"] == 30.0 and out["workers"] == 2 and out["span_s"] == 20.5


# --- the example -------------------------------------------------------------------------------

@pytest.mark.parametrize("where", [[], ["--dask-local", "2"]])
def test_quick_runs_every_figure_on_the_pool_and_on_dask(tmp_path, where):
    if where:
        pytest.importorskip("distributed")
    out = tmp_path / "q"
    start = time.perf_counter()
    result = ex.main(["--quick", "--out", str(out), "--no-progress", *where])
    assert time.perf_counter() - start < 60
    assert set(result["summary"]) == set(FIGURES)
    for name in FIGURES:
        assert (out / f"fig-{name}.png").stat().st_size > 0
    text = (out / "sweeps.md").read_text()
    assert "## Fig 4.6" in text and "Seeds 0-1" in text
    saved = json.loads((out / "summary.json").read_text())
    assert saved["quick"] and saved["seeds"] == [0, 1]
    assert ("Dask" in saved["executor"]) == bool(where)
    first = saved["figures"]["4.6"]["panels"]["D steps per turn"]
    assert list(first) == ["1", "100"] and first["1"]["seeds"] == 2


def test_figure_and_seeds_flags_choose_the_tasks(tmp_path, monkeypatch):
    seen = {}

    def fake(figures, seeds, out, executor, progress=True):
        seen.update(figures=[f.name for f in figures], seeds=seeds, out=out,
                    executor=executor, progress=progress, steps=[f.steps for f in figures])
        raise SystemExit(0)
    monkeypatch.setattr(ex, "run_sweep", fake)
    with pytest.raises(SystemExit):
        ex.main(["--figure", "4.9,4.11", "--seeds", "3", "--out", str(tmp_path),
                 "--workers", "1", "--no-progress"])
    assert seen["figures"] == ["4.9", "4.11"] and seen["seeds"] == [0, 1, 2]
    assert seen["out"] == str(tmp_path) and isinstance(seen["executor"], Serial)
    assert seen["progress"] is False and seen["steps"] == [10000, 30000]
    with pytest.raises(SystemExit):
        ex.main(["--figure", "4.6", "--quick", "--workers", "2", "--out", str(tmp_path)])
    assert seen["steps"] == [200] and seen["seeds"] == [0, 1] and seen["progress"] is True
    assert isinstance(seen["executor"], Pool) and seen["executor"].workers == 2


@pytest.mark.parametrize("flags, message", [
    (["--figure", "4.5"], "unknown figure 4.5"),
    (["--figure", ","], "unknown figure"),
    (["--seeds", "0"], "--seeds must be >= 1"),
    (["--workers", "0"], "--workers must be >= 1"),
    (["--dask-local", "0"], "--dask-local must be >= 1"),
    (["--scheduler", "localhost"], "--scheduler must be an address"),
    (["--workers", "2", "--dask-local", "2"], "not allowed with argument"),
])
def test_bad_flags_get_one_clear_error_before_any_work(flags, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        ex.parse_args([*flags, "--out", str(tmp_path)])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_an_unreachable_scheduler_is_one_line_before_any_work(tmp_path, capsys):
    pytest.importorskip("distributed")
    with pytest.raises(SystemExit) as exc:
        ex.main(["--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o"),
                 "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err and not (tmp_path / "o" / "tasks").exists()


def test_an_empty_sweep_is_refused():
    with pytest.raises(UserError, match="empty"):
        plan([], [0])
    with pytest.raises(UserError, match="at least one seed"):
        plan([FIGURES["4.6"]], [])
    with pytest.raises(UserError, match="grid of settings is empty"):
        plan([Figure("x", "x", 10, {}, "-", sweep._no_verdict)], [0])


def test_a_task_depends_only_on_its_settings_and_seed():
    config = dict(BASE, steps=30, **TINY)
    a, b = sweep.run_task(config, 3), sweep.run_task(config, 3)
    assert _numbers({0: a}) == _numbers({0: b})
    c = sweep.run_task(config, 4)
    assert a["curves"] != c["curves"] and np.isfinite(a["curves"]["hist"]).all()
