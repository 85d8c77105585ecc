"""The thesis's sweeps of the mixture GAN (figs 4.6-4.11), each setting over many seeds.

Chapter 4 of the thesis varied one thing at a time around its recipe (learning rate 2e-4,
minibatch 64, 64-32 networks, one D and one G step a turn) and judged each setting by one
run. Here every setting runs over several seeds and is scored exactly, so each of the thesis's
findings is checked against the medians: it agrees, disagrees, or the evidence is mixed.

    python examples/mixture_sweeps.py                      # all six figures, 5 seeds
    python examples/mixture_sweeps.py --figure 4.6         # one figure
    python examples/mixture_sweeps.py --dask-local 2       # on a Dask LocalCluster
    python examples/mixture_sweeps.py --scheduler tcp://HOST:8786   # on a Dask cluster
    python examples/mixture_sweeps.py --quick              # a small grid, 200 turns, 2 seeds

Each task (setting, seed) is stored under OUT/tasks as soon as it finishes: run the same
command again after a Ctrl-C, a crash or a lost worker and only the unfinished tasks run.
Writes OUT/sweeps.md (a table and a verdict per figure), OUT/fig-4.6.png ... fig-4.11.png
and OUT/summary.json.
"""
import argparse
import os
import sys
import time

from minigan import plot
from minigan.runs import check_counts, check_output_flag, cli, comma_list
from minigan.serialization import atomic_file, save_json
from minigan.sweep import (
    FIGURES,
    DaskCluster,
    Pool,
    Serial,
    overhead,
    quick,
    report,
    run_sweep,
    summarise,
)


def make_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figure", type=comma_list(tuple(FIGURES), "figure"), default=list(FIGURES),
                    help="figures to run, e.g. 4.6 or 4.6,4.9 (default: all six)")
    ap.add_argument("--seeds", type=int, default=None,
                    help="seeds per setting, 0..N-1 (default: 5; 2 with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="each family's first and last setting, 200 turns (a check, not a "
                         "result)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="processes of the local pool (default: one per core; 1 runs "
                            "every task in this process)")
    where.add_argument("--dask-local", type=int, metavar="N", default=None,
                       help="start a Dask LocalCluster of N worker processes and run there")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run on the Dask cluster whose scheduler is at ADDRESS "
                            "(tcp://HOST:PORT)")
    ap.add_argument("--out", default="runs/mixture_sweeps", help="output folder")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return ap


def parse_args(argv=None):
    ap = make_parser()
    args = ap.parse_args(argv)
    args.seeds = (2 if args.quick else 5) if args.seeds is None else args.seeds
    check_counts(ap, args, ("seeds", "workers", "dask_local"))
    if args.scheduler is not None and "://" not in args.scheduler:
        ap.error(f"--scheduler must be an address like tcp://HOST:8786, got {args.scheduler!r}")
    check_output_flag(ap, args.out)
    return args


def make_executor(args):
    if args.scheduler is not None:
        return DaskCluster(address=args.scheduler)
    if args.dask_local is not None:
        return DaskCluster(local_workers=args.dask_local)
    workers = args.workers or os.cpu_count() or 1
    return Serial() if workers == 1 else Pool(workers)


@cli
def main(argv=None):
    start = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    figures = [FIGURES[n] for n in args.figure]
    if args.quick:
        figures = [quick(f) for f in figures]
    seeds = list(range(args.seeds))
    executor = make_executor(args)          # connects (or fails) before any work
    try:
        print(f"executor: {executor.name}")
        results, failed = run_sweep(figures, seeds, args.out, executor,
                                    progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"interrupted: every finished task is kept in {args.out}/tasks; the same "
              "command again runs only the rest", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        executor.close()
    if failed:
        for error in failed.values():
            print(f"FAILED {error}", file=sys.stderr)
        print(f"{len(failed)} tasks failed ({len(results)} done and kept); no report "
              "written: the same command again retries them", file=sys.stderr)
        raise SystemExit(1)
    wall = time.perf_counter() - start
    summary = summarise(figures, seeds, results)
    timing = overhead(list(results.values()))
    header = [f"    python examples/mixture_sweeps.py {' '.join(argv)}".rstrip(), "",
              f"{len(results)} tasks (settings shared by several figures run once): "
              f"{timing['task_seconds']:.0f} s of training in all, run by "
              f"{timing['workers']} worker processes from the first task's start to the last "
              f"one's end in {timing['span_s']:.0f} s. This invocation: {wall:.0f} s on "
              f"{executor.name}."]
    for name, fig in summary.items():
        with atomic_file(os.path.join(args.out, f"fig-{name}.png")) as f:
            plot.sweep_families(name, fig, f)
    save_json({"figures": summary, "seeds": seeds, "quick": args.quick, "wall_seconds": wall,
               "executor": executor.name, "overhead": timing},
              os.path.join(args.out, "summary.json"))
    with atomic_file(os.path.join(args.out, "sweeps.md"), "w") as f:
        f.write(report(summary, seeds, header) + "\n")
    for name, fig in summary.items():
        print(f"fig {name} ({fig['title']}): {fig['verdict'][0]} - {fig['verdict'][1]}")
    print(f"{len(results)} tasks in {wall:.0f} s; report in {args.out}/sweeps.md")
    return {"summary": summary, "results": results, "wall_seconds": wall, "overhead": timing}


if __name__ == "__main__":
    main()
