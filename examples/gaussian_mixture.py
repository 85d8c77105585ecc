"""A GAN learns the thesis's 2-D mixture of four Gaussians (thesis example 4.2.1).

Target: weights (0.4, 0.2, 0.2, 0.2), means (0,0), (0,3), (-3,-3), (3,-3). G maps
z ~ Uniform[0,1]^10 through fully connected ReLU layers of 64 then 32 units to a point in the
plane; D maps a point through 64 then 32 to a logit. Each turn of Algorithm 1 (Goodfellow et
al. 2014) makes k discriminator steps then one generator step with the non-saturating loss,
learning rate 2e-4, minibatch 64, 30,000 turns — the thesis's settings, all flags here.

Because the true density is known, the run is scored exactly (minigan.metrics): the thesis's
histogram metric (fig 4.4) and sharper ones, each beside the value a perfect sampler gets.
Writes to --out: samples_vs_density.png (fig 4.3), metrics.png (fig 4.4), snapshots.png
(fig 4.5), metrics.json, checkpoint.npz (G, D and their optimizers) and samples.npy.

    python examples/gaussian_mixture.py                   # the thesis's run
    python examples/gaussian_mixture.py --steps 200       # a smoke test
"""
import argparse
import json
import os
import time

import numpy as np
from tqdm import tqdm

import minigan as mg
from minigan import plot
from minigan.data import PRESETS
from minigan.gan import GENERATOR_LOSSES, LATENTS, GANTrainer, latent_sampler
from minigan.metrics import MixtureMetrics
from minigan.models import mlp_discriminator, mlp_generator

SNAPSHOT_TURNS = (0, 1000, 2500, 5000, 10000, 15000)
EVAL_SAMPLES = 10_000


def _sizes(text):
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden sizes must be like 64,32; got {text!r}") \
            from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive, got {text!r}")
    return sizes


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--steps", type=int, default=30000, help="turns of Algorithm 1")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    ap.add_argument("--beta1", type=float, default=0.5, help="Adam's first beta")
    ap.add_argument("--momentum", type=float, default=0.0, help="SGD momentum")
    ap.add_argument("--d-steps", type=int, default=1, help="discriminator steps per turn (k)")
    ap.add_argument("--g-steps", type=int, default=1, help="generator steps per turn")
    ap.add_argument("--simultaneous", action="store_true",
                    help="update G and D together from one pair of minibatches")
    ap.add_argument("--loss", choices=GENERATOR_LOSSES, default="non_saturating")
    ap.add_argument("--g-ema", type=float, default=0.0,
                    help="if > 0, evaluate a moving average of G's weights with this decay")
    ap.add_argument("--latent", choices=sorted(LATENTS), default="uniform")
    ap.add_argument("--latent-dim", type=int, default=10)
    ap.add_argument("--g-hidden", type=_sizes, default=(64, 32))
    ap.add_argument("--d-hidden", type=_sizes, default=(64, 32))
    ap.add_argument("--mixture", choices=sorted(PRESETS), default="thesis")
    ap.add_argument("--eval-every", type=int, default=500, help="turns between metrics")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/gaussian_mixture")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = ap.parse_args(argv)
    checks = [(args.steps >= 0, "--steps must be >= 0"),
              (args.batch_size >= 1, "--batch-size must be >= 1"),
              (args.lr > 0, "--lr must be > 0"),
              (0 <= args.beta1 < 1, "--beta1 must be in [0, 1)"),
              (args.momentum >= 0, "--momentum must be >= 0"),
              (args.d_steps >= 0 and args.g_steps >= 0, "--d-steps/--g-steps must be >= 0"),
              (args.d_steps + args.g_steps > 0, "a turn needs a D or a G step"),
              (args.latent_dim >= 1, "--latent-dim must be >= 1"),
              (args.eval_every >= 1, "--eval-every must be >= 1"),
              (0 <= args.g_ema < 1, "--g-ema must be in [0, 1)")]
    for ok, msg in checks:
        if not ok:
            ap.error(msg)
    return args


def build(args):
    mg.manual_seed(args.seed)
    G = mlp_generator(args.latent_dim, args.g_hidden, 2)
    D = mlp_discriminator(2, args.d_hidden)

    def optimizer(m):
        if args.optimizer == "adam":
            return mg.optim.Adam(m.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
        return mg.optim.SGD(m.parameters(), lr=args.lr, momentum=args.momentum)
    return G, D, optimizer(G), optimizer(D)


def run(args):
    """Train and evaluate; returns the metrics record (also written to metrics.json)."""
    os.makedirs(args.out, exist_ok=True)
    mixture = PRESETS[args.mixture]()
    scorer = MixtureMetrics(mixture)
    G, D, opt_g, opt_d = build(args)
    rng = np.random.default_rng(args.seed)
    sample_real = lambda n, r: mixture.sample(n, r)[0].astype(np.float32)  # noqa: E731
    latent = latent_sampler(args.latent, args.latent_dim)
    trainer = GANTrainer(G, D, opt_g, opt_d, latent, sample_real, rng,
                         batch_size=args.batch_size, d_steps=args.d_steps,
                         g_steps=args.g_steps, loss=args.loss, simultaneous=args.simultaneous,
                         g_ema=args.g_ema)
    z_eval = latent(EVAL_SAMPLES, np.random.default_rng(args.seed + 10_000))
    curves = {k: [] for k in ("thesis", "hist", "tv", "coverage", "log_density")}
    turns, snapshots = [], {}
    train_time = 0.0

    def evaluate():
        with mg.no_grad():
            samples = trainer.generator(mg.tensor(z_eval)).data.astype(np.float64)
        m = scorer(samples)
        turns.append(trainer.turns)
        for k in curves:
            curves[k].append(m[k])
        if trainer.turns in SNAPSHOT_TURNS:
            snapshots[trainer.turns] = samples
        return samples, m

    samples, _ = evaluate()
    bar = tqdm(total=args.steps, disable=args.no_progress, unit="turn", mininterval=0.5)
    while trainer.turns < args.steps:
        start = time.perf_counter()
        trainer.turn()
        train_time += time.perf_counter() - start
        bar.update(1)
        t = trainer.turns
        if t % args.eval_every == 0 or t in SNAPSHOT_TURNS or t == args.steps:
            samples, m = evaluate()     # the last one is the final generator's
            bar.set_postfix(hist=f"{m['hist']:.3g}", tv=f"{m['tv']:.3f}",
                            cov=f"{m['coverage']:.3f}")
    bar.close()
    return mixture, scorer, trainer, samples, turns, curves, snapshots, train_time


def write_outputs(args, result, start):
    """Figures, samples, checkpoint, then metrics.json (whose wall time covers all of it)."""
    mixture, scorer, trainer, samples, turns, curves, snapshots, train_time = result
    final = {k: v[-1] for k, v in curves.items()}
    perfect = scorer.perfect(len(samples))
    plot.samples_vs_density(samples, mixture, os.path.join(args.out, "samples_vs_density.png"),
                            title=f"G after {turns[-1]} turns")
    plot.metric_curves(turns, curves, perfect, os.path.join(args.out, "metrics.png"))
    snapshots = dict(snapshots)
    snapshots.setdefault(turns[-1], samples)
    plot.snapshot_grid(snapshots, os.path.join(args.out, "snapshots.png"))
    np.save(os.path.join(args.out, "samples.npy"), samples)
    state = {"G": trainer.G.state_dict(), "D": trainer.D.state_dict(),
             "opt_g": trainer.opt_g.state_dict(), "opt_d": trainer.opt_d.state_dict()}
    if trainer.G_ema is not None:
        state["G_ema"] = trainer.G_ema.state_dict()
    mg.save(state, os.path.join(args.out, "checkpoint.npz"))
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()}
    record = {"config": config, "seed": args.seed, "turns": turns, "curves": curves,
              "final": final, "perfect": perfect, "train_seconds": train_time,
              "wall_seconds": time.perf_counter() - start}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(record, f, indent=1)
    return record


def print_table(record):
    print(f"\nfinal metrics after {record['turns'][-1]} turns "
          f"(training {record['train_seconds']:.1f} s, whole run {record['wall_seconds']:.1f} s)")
    print(f"  {'metric':<12} {'generator':>12} {'perfect':>12}")
    for k, v in record["final"].items():
        print(f"  {k:<12} {v:>12.4g} {record['perfect'][k]:>12.4g}")


def main(argv=None):
    start = time.perf_counter()
    args = parse_args(argv)
    result = run(args)
    record = write_outputs(args, result, start)
    print_table(record)
    print(f"outputs in {args.out}/")
    return record


if __name__ == "__main__":
    main()
