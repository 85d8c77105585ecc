"""A GAN learns the thesis's 2-D mixture of four Gaussians (thesis example 4.2.1).

Target: weights (0.4, 0.2, 0.2, 0.2), means (0,0), (0,3), (-3,-3), (3,-3). G maps
z ~ Uniform[0,1]^10 through fully connected ReLU layers of 64 then 32 units to a point in the
plane; D maps a point through 64 then 32 to a logit. Each turn of Algorithm 1 (Goodfellow et
al. 2014) makes k discriminator steps then one generator step with the non-saturating loss.

Two presets of the training recipe (every setting is also a flag, and a flag wins):
- ``thesis``: the thesis's settings, learning rate 2e-4, minibatch 64, 30,000 turns. It ends
  near hist 3.5 and fails some seeds outright (a PyTorch twin of it behaves the same).
- ``robust`` (the default): learning rate 5e-4, minibatch 256, the rate held for the first
  half of the run then decayed linearly to 0, and samples drawn from a moving average of G's
  weights (decay 0.9995). Chosen by the median and the worst of 20 seeds (README).

Because the true density is known, the run is scored exactly (minigan.metrics): the thesis's
histogram metric (fig 4.4) and sharper ones, each beside the value a perfect sampler gets.
Writes to --out: checkpoint.npz (everything needed to resume), samples.npy (the final G's
10,000 samples), samples_over_density.png and samples_vs_density.png (fig 4.3), metrics.png
(fig 4.4), snapshots.png (fig 4.5), and metrics.json last.

    python examples/gaussian_mixture.py                        # the robust recipe, seed 0
    python examples/gaussian_mixture.py --preset thesis        # the thesis's run
    python examples/gaussian_mixture.py --seeds 0-19           # 20 seeds, one per core
    python examples/gaussian_mixture.py --resume runs/gaussian_mixture   # after a Ctrl-C

Exit status: 0 complete; 2 a bad flag or folder (said in one line, before any work); 3 the
training diverged (outputs written, marked so); 130 interrupted (resumable); 1 a seed of
--seeds failed, or the disk refused a write.
"""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
from tqdm import tqdm

import minigan as mg
from minigan.backend.threads import single_threaded
from minigan.data import PRESETS as MIXTURES
from minigan.gan import GENERATOR_LOSSES, LATENTS, GANTrainer, latent_sampler
from minigan.metrics import MixtureMetrics
from minigan.models import mlp_discriminator, mlp_generator
from minigan.optim.lr_scheduler import HoldThenLinearDecay
from minigan.runs import (
    Diverged,
    StopOnInterrupt,
    UserError,
    check_output_folder,
    cli,
    parse_seeds,
    prepare_output,
    replace_folder,
    run_processes,
    setting_conflicts,
    without_flags,
)
from minigan.serialization import atomic_file, save_json

SNAPSHOT_TURNS = (0, 1000, 2500, 5000, 10000, 15000, 20000)
CHECKPOINT_EVERY = 5000          # turns between checkpoints (and at the end, or on Ctrl-C)
EVAL_SAMPLES = 10_000

# --- the recipe: two presets, every setting a flag ------------------------------------------

PRESETS = {
    "robust": dict(steps=30000, batch_size=256, lr=5e-4, lr_decay_start=0.5, g_ema=0.9995,
                   optimizer="adam", beta1=0.5, momentum=0.0, d_steps=1, g_steps=1,
                   simultaneous=False, loss="non_saturating", latent="uniform",
                   latent_dim=10, g_hidden=(64, 32), d_hidden=(64, 32)),
    "thesis": dict(steps=30000, batch_size=64, lr=2e-4, lr_decay_start=1.0, g_ema=0.0,
                   optimizer="adam", beta1=0.5, momentum=0.0, d_steps=1, g_steps=1,
                   simultaneous=False, loss="non_saturating", latent="uniform",
                   latent_dim=10, g_hidden=(64, 32), d_hidden=(64, 32)),
}
DEFAULT_PRESET = "robust"


def _sizes(text):
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden sizes must be like 64,32; got {text!r}") \
            from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive, got {text!r}")
    return sizes


def _seeds(text):
    try:
        return parse_seeds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


SETTINGS = {   # name: (argparse keywords, help)
    "steps": (dict(type=int), "turns of Algorithm 1"),
    "batch_size": (dict(type=int), "minibatch size of real and of latent samples"),
    "lr": (dict(type=float), "learning rate of both networks"),
    "lr_decay_start": (dict(type=float), "fraction of the run after which the learning "
                       "rate falls linearly to 0 at the last turn (1 = a constant rate)"),
    "g_ema": (dict(type=float), "if > 0, sample from a moving average of G's weights with "
              "this decay"),
    "optimizer": (dict(choices=("adam", "sgd")), "optimizer of both networks"),
    "beta1": (dict(type=float), "Adam's first beta"),
    "momentum": (dict(type=float), "SGD's momentum"),
    "d_steps": (dict(type=int), "discriminator steps per turn (k)"),
    "g_steps": (dict(type=int), "generator steps per turn"),
    "simultaneous": (dict(action=argparse.BooleanOptionalAction),
                     "update G and D together from one pair of minibatches"),
    "loss": (dict(choices=GENERATOR_LOSSES), "the generator's loss"),
    "latent": (dict(choices=sorted(LATENTS)), "latent distribution"),
    "latent_dim": (dict(type=int), "latent dimension m"),
    "g_hidden": (dict(type=_sizes), "G's hidden layer sizes"),
    "d_hidden": (dict(type=_sizes), "D's hidden layer sizes"),
}


RUN_SETTINGS = {"preset": DEFAULT_PRESET, "mixture": "thesis", "eval_every": 500, "seed": 0}


def _show(v):
    return ",".join(map(str, v)) if isinstance(v, tuple) else str(v)


def _as_flag(name, value):
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else "--no-" + flag[2:]
    return f"{flag} {_show(value)}"


def make_parser():
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="presets (explicit flags override them):\n" + "\n".join(
            f"  {name}: " + " ".join(_as_flag(k, v) for k, v in p.items())
            for name, p in PRESETS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default=None,
                    help=f"the training recipe (default: {DEFAULT_PRESET})")
    for name, (kw, text) in SETTINGS.items():
        shown = ", ".join(f"{p}: {_show(PRESETS[p][name])}" for p in PRESETS)
        ap.add_argument("--" + name.replace("_", "-"), default=None, **kw,
                        help=f"{text} ({shown})")
    ap.add_argument("--mixture", choices=sorted(MIXTURES), default=None,
                    help=f"target distribution (default: {RUN_SETTINGS['mixture']})")
    ap.add_argument("--eval-every", type=int, default=None,
                    help=f"turns between metrics (default: {RUN_SETTINGS['eval_every']})")
    ap.add_argument("--seed", type=int, default=None,
                    help=f"random seed (default: {RUN_SETTINGS['seed']})")
    ap.add_argument("--seeds", type=_seeds, default=None,
                    help="run several seeds, e.g. 0-19 or 0,3,7, each in its own process "
                         "and sub-folder, then summarise them (summary.json, summary.png)")
    ap.add_argument("--workers", type=int, default=None,
                    help="processes for --seeds (default: one per core)")
    ap.add_argument("--out", default=None, help="output folder (default: runs/gaussian_mixture)")
    ap.add_argument("--resume", metavar="DIR", default=None,
                    help="continue the interrupted run in DIR from its checkpoint")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return ap


def resolve(args):
    """The run's settings: the preset's, with every flag given on the command line over it."""
    config = dict(PRESETS[args.preset or DEFAULT_PRESET])
    config.update({k: getattr(args, k) for k in SETTINGS if getattr(args, k) is not None})
    for k in ("preset", "mixture", "eval_every"):
        config[k] = getattr(args, k) if getattr(args, k) is not None else RUN_SETTINGS[k]
    return config


def check(config):
    """The first broken rule for these settings, or None."""
    c = config
    rules = [(c["steps"] >= 0, "--steps must be >= 0"),
             (c["batch_size"] >= 1, "--batch-size must be >= 1"),
             (math.isfinite(c["lr"]) and c["lr"] > 0, "--lr must be finite and > 0"),
             (0 <= c["lr_decay_start"] <= 1, "--lr-decay-start must be in [0, 1]"),
             (0 <= c["beta1"] < 1, "--beta1 must be in [0, 1)"),
             (0 <= c["momentum"] < math.inf, "--momentum must be finite and >= 0"),
             (c["d_steps"] >= 0 and c["g_steps"] >= 0, "--d-steps/--g-steps must be >= 0"),
             (c["d_steps"] + c["g_steps"] > 0, "a turn needs a D or a G step"),
             (c["latent_dim"] >= 1, "--latent-dim must be >= 1"),
             (c["eval_every"] >= 1, "--eval-every must be >= 1"),
             (0 <= c["g_ema"] < 1, "--g-ema must be in [0, 1)")]
    return next((msg for ok, msg in rules if not ok), None)


def parse_args(argv=None):
    """Flags -> (args, config); every error is reported here, before any work."""
    ap = make_parser()
    args = ap.parse_args(argv)
    if args.seed is not None and args.seed < 0:
        ap.error(f"--seed must be >= 0, got {args.seed}")
    if args.workers is not None and args.workers < 1:
        ap.error(f"--workers must be >= 1, got {args.workers}")
    if args.seeds is not None and args.resume is not None:
        ap.error("--resume continues one run; it does not go with --seeds")
    if args.resume is not None:
        config = _resumed_config(ap, args)
    else:
        config = resolve(args)
        args.seed = RUN_SETTINGS["seed"] if args.seed is None else args.seed
    problem = check(config)
    if problem:
        ap.error(problem)
    args.out = args.out or args.resume or "runs/gaussian_mixture"
    if args.resume is not None and os.path.abspath(args.out) != os.path.abspath(args.resume):
        ap.error("--resume continues in its own folder; leave out --out")
    try:
        args.folder = args.out if args.resume or args.seeds else prepare_output(args.out)
    except UserError as exc:
        ap.error(str(exc))
    if args.seeds:
        _check_folder(ap, args.out)
    return args, config


def _resumed_config(ap, args):
    """The interrupted run's settings; a flag given now must agree with them."""
    path = os.path.join(args.resume, "checkpoint.npz")
    if not os.path.isfile(path):
        ap.error(f"--resume {args.resume}: no checkpoint.npz there to resume from")
    try:
        saved = json.loads(str(mg.load(path)["config"]))
    except (KeyError, ValueError, OSError) as exc:
        ap.error(f"--resume {args.resume}: checkpoint.npz is not a run of this example ({exc})")
    saved = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}
    missing = [k for k in (*SETTINGS, *RUN_SETTINGS) if k not in saved]
    if missing:
        ap.error(f"--resume {args.resume}: checkpoint.npz is not a run of this example "
                 f"(no {', '.join(missing)})")
    given = {k: getattr(args, k) for k in (*SETTINGS, *RUN_SETTINGS)
             if getattr(args, k) is not None}
    differ = setting_conflicts(given, saved, _show)
    if differ:
        ap.error(f"--resume {args.resume}: a different configuration from the checkpoint's: "
                 + "; ".join(differ))
    args.seed = int(saved["seed"])
    return {k: v for k, v in saved.items() if k != "seed"}


def _check_folder(ap, out):
    try:
        check_output_folder(out)
    except UserError as exc:
        ap.error(str(exc))


# --- one run ---------------------------------------------------------------------------------

def build(config, seed):
    """G, D, their optimizers and learning-rate schedules, the trainer, and the scorer."""
    mixture = MIXTURES[config["mixture"]]()
    mg.manual_seed(seed)
    # fused: each all-dense net runs as one graph node (same numbers, a third of the time)
    G = mg.nn.fuse(mlp_generator(config["latent_dim"], config["g_hidden"], 2))
    D = mg.nn.fuse(mlp_discriminator(2, config["d_hidden"]))

    def optimizer(m):
        if config["optimizer"] == "adam":
            return mg.optim.FlatAdam(m.parameters(), lr=config["lr"],   # small nets: one buffer
                                 betas=(config["beta1"], 0.999))
        return mg.optim.SGD(m.parameters(), lr=config["lr"], momentum=config["momentum"])

    opt_g, opt_d = optimizer(G), optimizer(D)
    steps, hold = config["steps"], int(config["lr_decay_start"] * config["steps"])
    schedulers = ([HoldThenLinearDecay(o, steps, hold) for o in (opt_g, opt_d)]
                  if hold < steps else [])
    sample_real = lambda n, r: mixture.sample(n, r)[0].astype(np.float32)  # noqa: E731
    latent = latent_sampler(config["latent"], config["latent_dim"])
    trainer = GANTrainer(G, D, opt_g, opt_d, latent, sample_real, np.random.default_rng(seed),
                         batch_size=config["batch_size"], d_steps=config["d_steps"],
                         g_steps=config["g_steps"], loss=config["loss"],
                         simultaneous=config["simultaneous"], g_ema=config["g_ema"],
                         schedulers=schedulers)
    z_eval = latent(EVAL_SAMPLES, np.random.default_rng(seed + 10_000))
    return mixture, MixtureMetrics(mixture), trainer, z_eval


class History:
    """The metric curves, the snapshots of fig 4.5 and the training time so far."""

    NAMES = ("thesis", "hist", "tv", "coverage", "log_density")

    def __init__(self):
        self.turns, self.curves = [], {k: [] for k in self.NAMES}
        self.snapshots, self.train_seconds = {}, 0.0

    def add(self, turn, metrics, samples):
        self.turns.append(turn)
        for k in self.NAMES:
            self.curves[k].append(metrics[k])
        if turn in SNAPSHOT_TURNS:
            self.snapshots[turn] = samples

    def state_dict(self):
        return {"turns": np.array(self.turns, dtype=np.int64),
                "curves": {k: np.array(v) for k, v in self.curves.items()},
                "snapshots": {str(t): s for t, s in self.snapshots.items()},
                "train_seconds": self.train_seconds}

    def load_state_dict(self, state):
        self.turns = [int(t) for t in state["turns"]]
        self.curves = {k: [float(x) for x in state["curves"][k]] for k in self.NAMES}
        self.snapshots = {int(t): s for t, s in state.get("snapshots", {}).items()}
        self.train_seconds = float(state["train_seconds"])


def save_checkpoint(out, trainer, history, config, seed):
    state = trainer.state_dict()
    state.update(history=history.state_dict(),
                 config=json.dumps(dict(config, seed=seed)))
    mg.save(state, os.path.join(out, "checkpoint.npz"))


def train(config, seed, out, progress=True, resume=False):
    """Train (or continue) one run; returns (status, diverged, mixture, scorer, trainer,
    history, samples) with status 'complete', 'interrupted' (Ctrl-C) or 'diverged' (a
    non-finite loss: ``diverged`` is the Diverged error, and the networks are as they were
    before that step). All on one thread (see minigan/backend/threads.py): the same seed
    gives the same numbers on any machine."""
    mixture, scorer, trainer, z_eval = build(config, seed)
    history = History()
    if resume:
        state = mg.load(os.path.join(out, "checkpoint.npz"))
        trainer.load_state_dict(state)
        history.load_state_dict(state["history"])

    def generate():
        with mg.no_grad():
            return trainer.generator(mg.tensor(z_eval)).data.astype(np.float64)

    def evaluate():
        samples = generate()
        m = scorer(samples)
        history.add(trainer.turns, m, samples)
        return samples, m

    steps = config["steps"]
    bar = tqdm(total=steps, initial=trainer.turns, disable=not progress, unit="turn",
               mininterval=0.5)
    status, diverged = "complete", None
    with single_threaded(), StopOnInterrupt() as stop:
        if not history.turns:
            evaluate()                       # turn 0: G as initialised
        while trainer.turns < steps:
            start = time.perf_counter()
            try:
                trainer.turn()
            except Diverged as exc:
                status, diverged = "diverged", exc
                break
            history.train_seconds += time.perf_counter() - start
            bar.update(1)
            t = trainer.turns
            if t % config["eval_every"] == 0 or t in SNAPSHOT_TURNS or t == steps:
                _, m = evaluate()
                bar.set_postfix(hist=f"{m['hist']:.3g}", tv=f"{m['tv']:.3f}",
                                cov=f"{m['coverage']:.3f}")
            if t % CHECKPOINT_EVERY == 0 and t < steps:
                save_checkpoint(out, trainer, history, config, seed)
            if stop.requested:
                status = "interrupted"
                break
        if history.turns[-1] != trainer.turns:
            evaluate()                       # the last point is the current generator's
        samples = generate()                 # the final samples (as the last point's)
    bar.close()
    return status, diverged, mixture, scorer, trainer, history, samples


def write_outputs(out, config, seed, result, start):
    """The checkpoint first (nothing trained is lost if a figure fails), then the samples,
    the figures, and metrics.json last: each file appears whole or not at all."""
    from minigan import plot
    status, diverged, mixture, scorer, trainer, history, samples = result
    save_checkpoint(out, trainer, history, config, seed)
    with atomic_file(os.path.join(out, "samples.npy")) as f:
        np.save(f, samples)
    final = {k: v[-1] for k, v in history.curves.items()}
    perfect = scorer.perfect(len(samples))
    turn = history.turns[-1]
    title = f"G after {turn} turns: hist {final['hist']:.2f}, tv {final['tv']:.3f}"
    figures = {
        "samples_over_density.png": lambda f: plot.samples_over_density(
            samples, mixture, f, title=title),
        "samples_vs_density.png": lambda f: plot.samples_vs_density(
            samples, mixture, f, title=title),
        "metrics.png": lambda f: plot.metric_curves(history.turns, history.curves, perfect, f),
        "snapshots.png": lambda f: plot.snapshot_grid(
            {**history.snapshots, turn: samples}, f, scorer=scorer),
    }
    for name, draw in figures.items():
        with atomic_file(os.path.join(out, name)) as f:
            draw(f)
    record = {"status": status, "error": str(diverged) if diverged else None,
              "preset": config["preset"], "seed": seed,
              "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
              "turns": history.turns, "curves": history.curves, "final": final,
              "perfect": perfect, "train_seconds": history.train_seconds,
              "wall_seconds": time.perf_counter() - start,
              "outputs": ["checkpoint.npz", "samples.npy", *figures, "metrics.json"]}
    save_json(record, os.path.join(out, "metrics.json"))
    return record


def print_table(record):
    print(f"\nfinal metrics after {record['turns'][-1]} turns, preset {record['preset']}, "
          f"seed {record['seed']} (training {record['train_seconds']:.1f} s, "
          f"whole run {record['wall_seconds']:.1f} s)")
    print(f"  {'metric':<12} {'generator':>12} {'perfect':>12}")
    for k, v in record["final"].items():
        print(f"  {k:<12} {v:>12.4g} {record['perfect'][k]:>12.4g}")


def run_one(args, config, start):
    """Train, write every output into the run's folder, then put it in place of --out."""
    result = train(config, args.seed, args.folder, progress=not args.no_progress,
                   resume=args.resume is not None)
    with StopOnInterrupt():         # one Ctrl-C while writing waits for the files; two abort
        record = write_outputs(args.folder, config, args.seed, result, start)
        replace_folder(args.folder, args.out)
    print_table(record)
    print(f"outputs in {args.out}/")
    if record["status"] == "interrupted":
        print(f"interrupted after turn {record['turns'][-1]}; continue with:\n"
              f"  python {sys.argv[0] or 'examples/gaussian_mixture.py'} --resume {args.out}")
    if record["status"] == "diverged":
        raise result[1]
    return record


# --- many seeds ------------------------------------------------------------------------------

def _child_argv(argv):
    """The command line without the flags that belong to the multi-seed run itself."""
    return without_flags(argv, ("--seeds", "--workers", "--out", "--seed"), ("--no-progress",))


def run_seeds(args, config, argv, start):
    """Each seed in its own process (at most --workers at once), into OUT/seed-K; then
    summary.json and summary.png. A seed that fails is reported, never dropped. Run again
    after a Ctrl-C or a crash, the same command keeps the seeds already complete with these
    settings and resumes the interrupted ones from their checkpoints."""
    from minigan import plot
    script = [sys.executable, os.path.abspath(__file__)]
    base = [*script, *_child_argv(argv), "--no-progress"]
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
    summary = summarise(args.out, config, folders, codes, time.perf_counter() - start)
    save_json(summary, os.path.join(args.out, "summary.json"))
    with atomic_file(os.path.join(args.out, "summary.png")) as f:
        plot.seed_summary(summary, f)
    print_summary(summary, args.out)
    return summary


def _earlier_run(folder, config, seed):
    """'complete' or 'interrupted' if ``folder`` holds a run of ``seed`` with ``config``
    (and, if interrupted, its checkpoint), else None."""
    try:
        with open(os.path.join(folder, "metrics.json")) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    same = record.get("seed") == seed and record.get("config") == json.loads(json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}))
    if not same or record.get("status") not in ("complete", "interrupted"):
        return None
    if record["status"] == "interrupted" and not os.path.isfile(
            os.path.join(folder, "checkpoint.npz")):
        return None
    return record["status"]


def _seed_result(folder, log_path, code):
    try:
        with open(os.path.join(folder, "metrics.json")) as f:
            record = json.load(f)
    except (OSError, ValueError):
        record = None
    if code == 0 and record is not None and record["status"] == "complete":
        return {"status": "complete", "final": record["final"], "turns": record["turns"],
                "hist_curve": record["curves"]["hist"]}
    try:
        with open(log_path) as f:
            lines = [x for x in f.read().splitlines() if x.strip()]
    except OSError:
        lines = []
    return {"status": "failed" if code not in (130, -signal.SIGINT) else "interrupted",
            "exit_code": code, "error": lines[-1] if lines else "no output"}


def summarise(out, config, folders, codes, wall):
    per_seed = {str(s): _seed_result(f, os.path.join(out, "logs", f"seed-{s}.txt"),
                                     codes.get(s)) for s, f in folders.items()}
    done = [r["final"] for r in per_seed.values() if r["status"] == "complete"]
    worst_of = {"hist": max, "tv": max, "coverage": min, "thesis": max, "log_density": min}
    stats = {k: {"median": float(np.median([d[k] for d in done])) if done else None,
                 "worst": float(f(d[k] for d in done)) if done else None}
             for k, f in worst_of.items()}
    perfect = MixtureMetrics(MIXTURES[config["mixture"]]()).perfect(EVAL_SAMPLES)
    return {"preset": config["preset"],
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
            "seeds": per_seed, "complete": len(done), "failed": len(per_seed) - len(done),
            "stats": stats, "perfect": perfect, "wall_seconds": wall}


def print_summary(summary, out):
    print(f"\n{summary['complete']} of {len(summary['seeds'])} seeds complete, preset "
          f"{summary['preset']} ({summary['wall_seconds']:.0f} s)")
    print(f"  {'seed':>5} {'hist':>8} {'tv':>8} {'coverage':>9}")
    for seed, r in summary["seeds"].items():
        if r["status"] == "complete":
            f = r["final"]
            print(f"  {seed:>5} {f['hist']:>8.3f} {f['tv']:>8.4f} {f['coverage']:>9.4f}")
        else:
            print(f"  {seed:>5} {r['status'].upper()} (exit {r['exit_code']}): {r['error']}")
    s = summary["stats"]
    if summary["complete"]:
        for row in ("median", "worst"):
            print(f"  {row:>6} {s['hist'][row]:>7.3f} {s['tv'][row]:>8.4f} "
                  f"{s['coverage'][row]:>9.4f}")
    print(f"summary in {out}/summary.json and summary.png")


@cli
def main(argv=None):
    start = time.perf_counter()
    argv = sys.argv[1:] if argv is None else list(argv)
    args, config = parse_args(argv)
    if args.seeds is not None:
        summary = run_seeds(args, config, argv, start)
        if summary["failed"]:
            raise SystemExit(1)
        return summary
    record = run_one(args, config, start)
    if record["status"] == "interrupted":
        raise SystemExit(130)
    return record


if __name__ == "__main__":
    main()
