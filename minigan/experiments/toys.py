"""The literature's 2-D benchmarks: three games on three mixtures, over seeds.

The methods are options of the one trainer (``GANTrainer``'s ``objective``, ``gp``, ``r1``),
run through the main job's experiment, so each task is a main-job run with other settings:

- ``gan``: the non-saturating GAN (Goodfellow et al. 2014), the main job's recipe;
- ``wgan-gp``: the Wasserstein critic with its gradient penalty, in the paper's settings
  (Gulrajani et al. 2017: lambda 10, 5 critic steps per G step, Adam 1e-4, betas (0, 0.9),
  a constant rate, no weight average);
- ``r1``: the non-saturating GAN with R1 on real data (Mescheder et al. 2018).

The data: the thesis's mixture, the 8-Gaussian ring (Metz et al. 2017) and the 25-Gaussian
grid (VEEGAN, PacGAN). Networks larger than the main job's (3 hidden layers of 128 units,
a Gaussian latent of 16), as the literature uses for the ring and the grid. Each run is
scored at its end by the main job's exact metrics and by the literature's modes covered and
high-quality fraction (``minigan.metrics.mode_scores``).
"""
import numpy as np

from minigan.experiments.mixture import PRESETS
from minigan.sweep import Figure, plan, run_task

DATA = ("thesis", "ring", "grid")
NETS = dict(g_hidden=(128, 128, 128), d_hidden=(128, 128, 128), latent="normal",
            latent_dim=16, batch_size=256, mode_metrics=True)
METHODS = {
    "gan": dict(NETS, steps=10000, lr=5e-4, lr_decay_start=0.5, g_ema=0.999),
    "wgan-gp": dict(NETS, steps=3000, objective="wgan", gp=10.0, d_steps=5, lr=1e-4,
                    beta1=0.0, beta2=0.9, lr_decay_start=1.0, g_ema=0.0),
    "r1": dict(NETS, steps=10000, lr=5e-4, lr_decay_start=0.5, g_ema=0.999, r1=0.01),
}
KEYS = ("modes", "high_quality", "hist", "tv")      # the table's columns
WORST = {"modes": min, "high_quality": min, "hist": max, "tv": max}
KEEP_SAMPLES = 2000                                  # per task, for the figure


def settings(method, r1=None, batch_size=None):
    """A method's full configuration (the robust preset with the method's changes); r1, if
    given, replaces the r1 method's gamma, batch_size its minibatch."""
    config = dict(PRESETS["robust"], preset="robust", **METHODS[method])
    if r1 is not None and method == "r1":
        config["r1"] = r1
    config["batch_size"] = batch_size or config["batch_size"]
    return config


def figure(methods, data, steps=None, eval_every=None, r1=None, batch_size=None):
    """The benchmark as one sweep 'figure': a panel per data set, a setting per method (r1:
    the r1 method's gamma, if not its own; batch_size: every method's minibatch)."""
    families = {}
    for d in data:
        families[d] = {}
        for m in methods:
            config = dict(settings(m, r1, batch_size), mixture=d)
            config["steps"] = steps or config["steps"]
            config["eval_every"] = eval_every or max(config["steps"] // 5, 1)
            families[d][m] = config
    return Figure("toys", "three games on three mixtures", None, families, "", None)


def task(config, seed):
    """One run of the benchmark: the main job's sweep task, keeping its final samples."""
    return run_task(config, seed, keep_samples=KEEP_SAMPLES)


def method_stats(records):
    """Median and worst over seeds of each column; a diverged seed scores worst possible."""
    finals = [r["final"] if r["status"] == "complete" else
              {"modes": 0, "high_quality": 0.0, "hist": float("inf"), "tv": 1.0}
              for r in records]
    out = {"seeds": len(records), "diverged": sum(r["status"] != "complete" for r in records)}
    for k in KEYS:
        values = [f[k] for f in finals]
        out[f"median_{k}"] = float(np.median(values))
        out[f"worst_{k}"] = float(WORST[k](values))
        out[f"all_{k}"] = values
    seconds = [r["timing"]["end"] - r["timing"]["start"] for r in records]
    out["median_seconds"] = float(np.median(seconds))
    return out


def summarise(fig, seeds, results):
    """{data: {method: stats}} from the tasks' results."""
    _, layout = plan([fig], seeds)
    out = {}
    for d, m, keys in layout[fig.name]:
        out.setdefault(d, {})[m] = method_stats([results[keys[s]] for s in seeds])
    return out


def table(summary, n_modes):
    """The Markdown table: method x data x {modes, high-quality %, hist, tv}, median / worst."""
    lines = ["| data | method | modes (of K) | high-quality % | hist | tv | seconds a run |",
             "|---|---|---|---|---|---|---|"]
    for d, methods in summary.items():
        for m, st in methods.items():
            lines.append(
                f"| {d} | {m} | {st['median_modes']:.0f} / {st['worst_modes']:.0f} "
                f"(of {n_modes[d]}) | {100 * st['median_high_quality']:.1f} / "
                f"{100 * st['worst_high_quality']:.1f} | {st['median_hist']:.3g} / "
                f"{st['worst_hist']:.3g} | {st['median_tv']:.3f} / {st['worst_tv']:.3f} | "
                f"{st['median_seconds']:.0f} |")
    return "\n".join(lines)
