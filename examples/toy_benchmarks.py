"""The literature's 2-D benchmarks: the non-saturating GAN, WGAN-GP and R1, each on the
thesis's mixture, the 8-Gaussian ring and the 25-Gaussian grid, over seeds.

Every run is scored exactly (the main job's histogram distance and tv) and by the
literature's two scores: the modes covered (a mode counts when at least 1% of its expected
share of samples lies within 3 standard deviations of it) and the high-quality fraction
(samples within 3 standard deviations of some mode). The methods and their settings are in
``minigan/experiments/toys.py``; each task is the main job with those settings.

    python examples/toy_benchmarks.py                      # 3 methods x 3 data x 5 seeds
    python examples/toy_benchmarks.py --methods gan,r1 --data ring --seeds 3
    python examples/toy_benchmarks.py --methods r1 --data grid --steps 100000 --r1 0.03 \
        --batch-size 512
    python examples/toy_benchmarks.py --quick              # 200 turns, 2 seeds: a check

Tasks run on a pool of worker processes (one per core; --workers 1: in this process), each
stored under OUT/tasks as it finishes: the same command again after a Ctrl-C or a crash
runs only the rest. Writes OUT/toys.md (the table, median / worst over seeds),
OUT/samples.png (seed 0 of each method on each data set) and OUT/summary.json.
"""
import argparse
import os
import sys
import time

from minigan import plot
from minigan.data import PRESETS as MIXTURES
from minigan.experiments import toys
from minigan.runs import check_counts, check_output_flag, cli, comma_list
from minigan.serialization import atomic_file, save_json
from minigan.sweep import Pool, Serial, plan, run_sweep


def make_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", type=comma_list(tuple(toys.METHODS), "method"),
                    default=list(toys.METHODS), help="methods to run (default: all three)")
    ap.add_argument("--data", type=comma_list(toys.DATA, "data set"), default=list(toys.DATA),
                    help="data sets (default: thesis,ring,grid)")
    ap.add_argument("--seeds", type=int, default=None,
                    help="seeds per method and data set, 0..N-1 (default: 5; 2 with --quick)")
    ap.add_argument("--steps", type=int, default=None,
                    help="turns of every method (default: each method's own)")
    ap.add_argument("--r1", type=float, default=None, metavar="GAMMA",
                    help=f"R1's gamma for the r1 method (default: "
                    f"{toys.METHODS['r1']['r1']})")
    ap.add_argument("--batch-size", type=int, default=None,
                    help=f"minibatch of every method (default: each method's own, "
                    f"{toys.NETS['batch_size']})")
    ap.add_argument("--quick", action="store_true", help="200 turns, 2 seeds (a check, "
                    "not a result)")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes (default: one per core; 1: this process)")
    ap.add_argument("--out", default="runs/toy_benchmarks", help="output folder")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return ap


def parse_args(argv=None):
    ap = make_parser()
    args = ap.parse_args(argv)
    args.seeds = (2 if args.quick else 5) if args.seeds is None else args.seeds
    args.steps = 200 if args.quick and args.steps is None else args.steps
    check_counts(ap, args, ("seeds", "steps", "workers", "batch_size"))
    if args.r1 is not None and not (args.r1 > 0 and "r1" in args.methods):
        ap.error(f"--r1 must be > 0 and sets the r1 method's gamma (--methods "
                 f"{','.join(args.methods)}), got {args.r1}")
    check_output_flag(ap, args.out)
    return args


def write_outputs(args, fig, seeds, results, summary, wall, argv):
    first = {(m, d): results[keys[seeds[0]]] for d, m, keys in plan([fig], seeds)[1]["toys"]}
    mixtures = {d: MIXTURES[d]() for d in args.data}
    with atomic_file(os.path.join(args.out, "samples.png")) as f:
        plot.toy_samples({k: r["samples"] for k, r in first.items()}, mixtures,
                         {k: r["final"] for k, r in first.items()}, f)
    n_modes = {d: m.n_components for d, m in mixtures.items()}
    text = "\n".join([
        "# The toy benchmarks", "", f"    python examples/toy_benchmarks.py {' '.join(argv)}",
        "", f"Median / worst over seeds {seeds[0]}-{seeds[-1]}; a diverged seed counts as the "
        "worst possible. This invocation took {:.0f} s.".format(wall), "",
        toys.table(summary, n_modes), ""])
    with atomic_file(os.path.join(args.out, "toys.md"), "w") as f:
        f.write(text)
    save_json({"summary": summary, "seeds": seeds,
               "methods": {m: toys.settings(m, args.r1, args.batch_size)
                           for m in args.methods},
               "steps": args.steps, "wall_seconds": wall},
              os.path.join(args.out, "summary.json"))
    return text


@cli
def main(argv=None):
    start = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    fig = toys.figure(args.methods, args.data, steps=args.steps, r1=args.r1,
                      batch_size=args.batch_size)
    seeds = list(range(args.seeds))
    workers = args.workers or os.cpu_count() or 1
    executor = Serial() if workers == 1 else Pool(workers)
    print(f"executor: {executor.name}")
    try:
        results, failed = run_sweep([fig], seeds, args.out, executor,
                                    progress=not args.no_progress, task=toys.task)
    except KeyboardInterrupt:
        print(f"interrupted: every finished task is kept in {args.out}/tasks; the same "
              "command again runs only the rest", file=sys.stderr)
        raise SystemExit(130) from None
    if failed:
        for error in failed.values():
            print(f"FAILED {error}", file=sys.stderr)
        raise SystemExit(1)
    wall = time.perf_counter() - start
    summary = toys.summarise(fig, seeds, results)
    print(write_outputs(args, fig, seeds, results, summary, wall, argv))
    print(f"outputs in {args.out}/ (toys.md, samples.png, summary.json)")
    return summary


if __name__ == "__main__":
    main()
