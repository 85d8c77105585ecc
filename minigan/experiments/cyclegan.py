"""CycleGAN's four-player game on two 2-D domains whose true mapping is known, scored exactly.

X is the thesis's mixture of four Gaussians; Y is X under a fixed affine map y = A x + b (a
rotation by 45 degrees after scaling the axes by 1.2 and 0.8, then a shift by (0.5, -0.5)),
so Y is a Gaussian mixture too, with means A mu + b and covariances A S A^T. T: X -> Y and
R: Y -> X are trained from unpaired minibatches (``minigan.gan.cycle``). Since A is known,
the run is scored exactly: the mapping errors mean |T(x) - (A x + b)| and mean |R(y) - A^-1
(y - b)|, and the cycle errors mean |R(T(x)) - x| and mean |T(R(y)) - y|, each as a fraction
of its domain's spread (the RMS distance of the domain's points from their mean); and T(X)'s
exact distance from Y's density (the main job's hist, tv and coverage).
"""
import math

import numpy as np

import minigan as mg
from minigan.data import GaussianMixture, thesis_mixture
from minigan.experiments.runner import Experiment, Run, sizes
from minigan.gan.cycle import CycleGANTrainer
from minigan.metrics import MixtureMetrics
from minigan.models import mlp, mlp_discriminator
from minigan.optim.lr_scheduler import HoldThenLinearDecay

EVAL_SAMPLES = 10_000
ANGLE, SCALES, SHIFT = math.pi / 4, (1.2, 0.8), (0.5, -0.5)


def true_map():
    """(A, b) of y = A x + b: a rotation after an axis scaling, then a shift."""
    c, s = math.cos(ANGLE), math.sin(ANGLE)
    return np.array([[c, -s], [s, c]]) @ np.diag(SCALES), np.array(SHIFT)


def mapped_mixture(mixture, A, b):
    """The mixture of A x + b for x drawn from ``mixture``: exactly a Gaussian mixture."""
    return GaussianMixture(mixture.weights, mixture.means @ A.T + b,
                           A @ mixture.covariances @ A.T)


def spread(mixture):
    """RMS distance of the mixture's points from their mean: sqrt(trace of its covariance)."""
    w, mu = mixture.weights, mixture.means
    centre = w @ mu
    second = (w[:, None, None] * (mixture.covariances + np.einsum("ki,kj->kij", mu - centre,
                                                                  mu - centre))).sum(0)
    return float(np.sqrt(np.trace(second)))


PRESETS = {
    # maps in the true map's class, starting at the identity, moving faster than the
    # discriminators: they find A (mapping error ~1% of the spread, seeds 0-2)
    "affine": dict(steps=30000, batch_size=256, lr=5e-3, d_lr=2e-4, lr_decay_start=0.5,
                   beta1=0.5, lam_cyc=10.0, lam_adv=1.0, maps="affine", init="identity",
                   hidden=(64, 64), d_hidden=(64, 64)),
    # the paper's kind of players, MLP maps from a random start: they learn the cycle and
    # match the densities, but send each x far from A x + b
    "mlp": dict(steps=10000, batch_size=256, lr=2e-4, d_lr=2e-4, lr_decay_start=0.5,
                beta1=0.5, lam_cyc=10.0, lam_adv=1.0, maps="mlp", init="random",
                hidden=(64, 64), d_hidden=(64, 64)),
}

SETTINGS = {
    "steps": (dict(type=int), "turns (a D step, then a step of T and R)"),
    "batch_size": (dict(type=int), "minibatch of x and of y (drawn independently)"),
    "lr": (dict(type=float), "learning rate of T and R"),
    "d_lr": (dict(type=float), "learning rate of D_X and D_Y"),
    "lr_decay_start": (dict(type=float), "fraction of the run after which the rate falls "
                       "linearly to 0 (1 = constant)"),
    "beta1": (dict(type=float), "Adam's first beta"),
    "lam_cyc": (dict(type=float), "weight of the cycle losses"),
    "lam_adv": (dict(type=float), "weight of T's and R's adversarial losses (0: the cycle "
                "alone)"),
    "maps": (dict(choices=("mlp", "affine")), "T and R: MLPs (--hidden), or affine maps (one "
             "linear layer each: the class the true map is in)"),
    "init": (dict(choices=("random", "identity")), "T and R start from random weights, or "
             "at the identity map (--maps affine)"),
    "hidden": (dict(type=sizes), "T's and R's hidden layer sizes (--maps mlp)"),
    "d_hidden": (dict(type=sizes), "D_X's and D_Y's hidden layer sizes"),
}


def check(c):
    rules = [(c["steps"] >= 0, "--steps must be >= 0"),
             (c["batch_size"] >= 1, "--batch-size must be >= 1"),
             (math.isfinite(c["lr"]) and c["lr"] > 0, "--lr must be finite and > 0"),
             (math.isfinite(c["d_lr"]) and c["d_lr"] > 0, "--d-lr must be finite and > 0"),
             (c["init"] == "random" or c["maps"] == "affine",
              "--init identity needs --maps affine"),
             (0 <= c["lr_decay_start"] <= 1, "--lr-decay-start must be in [0, 1]"),
             (0 <= c["beta1"] < 1, "--beta1 must be in [0, 1)"),
             (0 <= c["lam_cyc"] < math.inf, "--lam-cyc must be finite and >= 0"),
             (0 <= c["lam_adv"] < math.inf, "--lam-adv must be finite and >= 0"),
             (c["lam_cyc"] + c["lam_adv"] > 0, "--lam-cyc and --lam-adv are both 0: T and R "
              "would learn nothing"),
             (c["eval_every"] >= 1, "--eval-every must be >= 1")]
    return next((msg for ok, msg in rules if not ok), None)


class Scorer:
    """The exact scores of (T, R) on fixed evaluation points of X and Y."""

    def __init__(self, x_mixture, A, b, seed):
        self.A, self.b, self.A_inv = A, b, np.linalg.inv(A)
        self.x_mixture, self.y_mixture = x_mixture, mapped_mixture(x_mixture, A, b)
        self.x = x_mixture.sample(EVAL_SAMPLES, np.random.default_rng(seed + 10_000))[0]
        self.y = self.y_mixture.sample(EVAL_SAMPLES, np.random.default_rng(seed + 20_000))[0]
        self.spread_x, self.spread_y = spread(x_mixture), spread(self.y_mixture)
        self.density = MixtureMetrics(self.y_mixture)

    def __call__(self, T, R):
        """(T(x) for the evaluation x, {metric: value})."""
        run = lambda net, a: mg.to_host(net(mg.tensor(a.astype(np.float32))).data)  # noqa
        with mg.no_grad():
            ty, rx = run(T, self.x).astype(np.float64), run(R, self.y).astype(np.float64)
            rtx, try_ = run(R, ty), run(T, rx)
        dist = lambda a, c: float(np.linalg.norm(a - c, axis=1).mean())  # noqa: E731
        scores = {
            "map_T": dist(ty, self.x @ self.A.T + self.b) / self.spread_y,
            "map_R": dist(rx, (self.y - self.b) @ self.A_inv.T) / self.spread_x,
            "cycle_X": dist(rtx, self.x) / self.spread_x,
            "cycle_Y": dist(try_, self.y) / self.spread_y,
        }
        density = self.density(ty)
        scores.update({k: density[k] for k in ("hist", "tv", "coverage")})
        return ty, scores

    def perfect(self):
        p = self.density.perfect(EVAL_SAMPLES)
        return {"map_T": 0.0, "map_R": 0.0, "cycle_X": 0.0, "cycle_Y": 0.0,
                **{k: p[k] for k in ("hist", "tv", "coverage")}}


class CycleToy(Experiment):
    name = "cyclegan_toy"
    description = ("CycleGAN's four players on the thesis's mixture and its image under a "
                   "known affine map, scored against the true map.")
    presets, default_preset, settings = PRESETS, "affine", SETTINGS
    summary_metrics = {"map_T": max, "map_R": max, "cycle_X": max, "cycle_Y": max,
                       "hist": max}
    # the target: both mappings within 5% of their domain's spread
    targets = {"map_T": ("<", 0.05), "map_R": ("<", 0.05)}
    advice = ("many maps carry X onto Y and back: the affine preset finds A on each of "
              "seeds 0-2; compare --seeds 0-2 with --lam-adv 0 (the cycle alone)")

    def check(self, config):
        return check(config)

    def build(self, config, seed):
        x_mixture, (A, b) = thesis_mixture(), true_map()
        scorer = Scorer(x_mixture, A, b, seed)
        mg.manual_seed(seed)
        hidden = config["hidden"] if config["maps"] == "mlp" else ()
        T, R = (mg.nn.fuse(mlp(2, hidden, 2)) for _ in range(2))
        if config["init"] == "identity":
            for net in (T, R):
                net[0].weight.data = np.eye(2, dtype=net[0].weight.dtype)
                net[0].bias.data = np.zeros(2, dtype=net[0].bias.dtype)
        D_X, D_Y = (mg.nn.fuse(mlp_discriminator(2, config["d_hidden"])) for _ in range(2))
        adam = lambda ps, lr: mg.optim.FlatAdam(ps, lr=lr,  # noqa: E731
                                                betas=(config["beta1"], 0.999))
        opt_g = adam(list(T.parameters()) + list(R.parameters()), config["lr"])
        opt_d = adam(list(D_X.parameters()) + list(D_Y.parameters()), config["d_lr"])
        steps, hold = config["steps"], int(config["lr_decay_start"] * config["steps"])
        schedulers = ([HoldThenLinearDecay(o, steps, hold) for o in (opt_g, opt_d)]
                      if hold < steps else [])
        draw = lambda m: lambda n, r: m.sample(n, r)[0].astype(np.float32)  # noqa: E731
        trainer = CycleGANTrainer(T, R, D_X, D_Y, opt_g, opt_d, draw(x_mixture),
                                  draw(scorer.y_mixture), np.random.default_rng(seed),
                                  batch_size=config["batch_size"], lam_cyc=config["lam_cyc"],
                                  lam_adv=config["lam_adv"], schedulers=schedulers)
        return Run(trainer, lambda: scorer(T, R), scorer.perfect(), scorer=scorer)

    def postfix(self, m):
        return dict(map_T=f"{m['map_T']:.3f}", map_R=f"{m['map_R']:.3f}",
                    cyc=f"{m['cycle_X']:.3f}")

    def figures(self, run, history, samples):
        from minigan import plot
        final = {k: v[-1] for k, v in history.curves.items()}
        title = (f"after {history.turns[-1]} turns: mapping error T {final['map_T']:.3f}, "
                 f"R {final['map_R']:.3f} of the spread")
        s = run.scorer
        return {
            "arrows.png": lambda f: plot.mapping_arrows(
                s.x, samples, s.x @ s.A.T + s.b, s.x_mixture, s.y_mixture, f, title=title),
            "metrics.png": lambda f: plot.metric_curves(history.turns, history.curves,
                                                        run.perfect, f),
        }
