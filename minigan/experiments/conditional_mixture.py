"""A conditional GAN on the mixture (thesis 5.1.1): the class is the mixture component.

G(z, y) and D(x, y) take the label one-hot, concatenated to z and to x. Real pairs (x, y)
come from the mixture; the fakes' labels are drawn by the class weights (or uniformly,
``--labels uniform``). Every class is scored against its own Gaussian exactly
(``minigan.metrics.ConditionalMixtureMetrics``). ``examples/conditional_mixture.py`` runs it.
"""
import numpy as np

import minigan as mg
from minigan.data import PRESETS as MIXTURES
from minigan.data import GaussianMixture
from minigan.experiments.mixture import (
    EVAL_SAMPLES,
    GAME_DEFAULTS,
    SETTINGS,
    check_recipe,
    optimizers_and_schedules,
    trainer_keywords,
)
from minigan.experiments.runner import Experiment, Run
from minigan.gan import GANTrainer, latent_sampler
from minigan.metrics import ConditionalMixtureMetrics
from minigan.models import conditional_mlp_discriminator, conditional_mlp_generator

SETTLED_KL = 0.02      # a class has settled once its KL stays at or below this to the end

PRESETS = {
    # the thesis's settings (5.1.1): its per-class KL ends between 1 and 5 (README)
    "thesis": dict(steps=50000, batch_size=64, lr=2e-4, lr_decay_start=1.0, g_ema=0.0,
                   optimizer="adam", beta1=0.5, momentum=0.0, d_steps=1, g_steps=1,
                   simultaneous=False, loss="non_saturating", latent="uniform",
                   latent_dim=100, g_hidden=(1024,), d_hidden=(1024,), labels="weights"),
    # chosen by the worst class over 20 seeds (README): a Gaussian latent (so an affine map
    # per class is exact), the main job's small nets, a larger batch, the rate held for a
    # quarter of the run then decayed to 0, and samples from G's weight average
    "robust": dict(steps=50000, batch_size=256, lr=2e-4, lr_decay_start=0.25, g_ema=0.9995,
                   optimizer="adam", beta1=0.5, momentum=0.0, d_steps=1, g_steps=1,
                   simultaneous=False, loss="non_saturating", latent="normal",
                   latent_dim=10, g_hidden=(64, 32), d_hidden=(64, 32), labels="weights"),
}

CONDITIONAL_SETTINGS = {
    **{k: v for k, v in SETTINGS.items() if k not in GAME_DEFAULTS},
    "labels": (dict(choices=("weights", "uniform")),
               "how the fakes' labels are drawn: by the class weights, or uniformly"),
}

PER_CLASS = ("kl", "hist", "thesis", "coverage")


def label_sampler(kind, weights):
    """(n, rng) -> n labels, by ``weights`` or uniformly over len(weights) classes."""
    k = len(weights)
    if kind == "uniform":
        return lambda n, rng: rng.integers(0, k, size=n)
    return lambda n, rng: rng.choice(k, size=n, p=weights)


def component(mixture, k):
    """The k-th component of ``mixture`` as a one-component mixture (for its contours)."""
    return GaussianMixture([1.0], mixture.means[k:k + 1], mixture.covariances[k:k + 1])


def settling_turns(turns, curve, level=SETTLED_KL):
    """The first turn from which ``curve`` stays at or below ``level`` to the end, or None."""
    above = [i for i, v in enumerate(curve) if not v <= level]
    first = above[-1] + 1 if above else 0
    return turns[first] if first < len(turns) else None


class ConditionalMixtureGAN(Experiment):
    name = "conditional_mixture"
    description = ("A conditional GAN learns each component of the thesis's mixture on "
                   "demand (thesis 5.1.1), scored per class.")
    presets, default_preset, settings = PRESETS, "robust", CONDITIONAL_SETTINGS
    run_settings = {
        "mixture": ("thesis", dict(choices=sorted(MIXTURES)), "target distribution"),
        **Experiment.run_settings,
    }
    summary_metrics = {"kl_max": max, "bayes_accuracy": "farthest", "hist": max,
                       "coverage": min}

    def check(self, config):
        return check_recipe({**GAME_DEFAULTS, **config})

    def build(self, config, seed):
        config = {**GAME_DEFAULTS, **config}        # the thesis's game: no flags for others
        mixture = MIXTURES[config["mixture"]]()
        K = mixture.n_components
        mg.manual_seed(seed)
        G = mg.nn.fuse(conditional_mlp_generator(config["latent_dim"], K, config["g_hidden"]))
        D = mg.nn.fuse(conditional_mlp_discriminator(2, K, config["d_hidden"]))
        dev = config.get("device", "cpu")
        G.to(dev), D.to(dev)
        opt_g, opt_d, schedulers = optimizers_and_schedules(config, G, D)

        def sample_real(n, rng):
            x, y = mixture.sample(n, rng)
            return x.astype(np.float32), y

        labels = label_sampler(config["labels"], mixture.weights)
        latent = latent_sampler(config["latent"], config["latent_dim"])
        trainer = GANTrainer(G, D, opt_g, opt_d, latent, sample_real,
                             np.random.default_rng(seed), n_classes=K, sample_labels=labels,
                             **trainer_keywords(config, schedulers))
        rng = np.random.default_rng(seed + 10_000)
        z_eval = mg.tensor(latent(EVAL_SAMPLES, rng), device=dev)
        # the pooled evaluation set: each class's first n_k samples, n ~ the class weights
        counts = rng.multinomial(EVAL_SAMPLES, mixture.weights)
        scorer = ConditionalMixtureMetrics(mixture)

        def evaluate():
            with mg.no_grad():
                samples = np.stack([
                    mg.to_host(trainer.generator(z_eval, np.full(EVAL_SAMPLES, k)).data)
                    for k in range(K)]).astype(np.float64)
            return samples, self.score(scorer, samples, counts)

        perfect = self.perfect(scorer, K)
        return Run(trainer, evaluate, perfect, mixture=mixture, scorer=scorer,
                   counts=counts, z_eval=mg.to_host(z_eval.data))

    @staticmethod
    def score(scorer, samples, counts):
        """samples (K, n, 2) -> the flat metrics: per class ``kl_k``, ``hist_k``, ...,
        ``kl_max`` (the worst class), then the pooled set's metrics and Bayes accuracy."""
        metrics = {}
        for k in range(len(samples)):
            metrics.update({f"{name}_{k}": v
                            for name, v in scorer.per_class(samples[k], k).items()})
        metrics["kl_max"] = max(metrics[f"kl_{k}"] for k in range(len(samples)))
        x, y = pooled(samples, counts)
        metrics.update(scorer.joint(x, y))
        return metrics

    @staticmethod
    def perfect(scorer, K):
        out = {}
        for k in range(K):
            out.update({f"{name}_{k}": v for name, v in
                        scorer.perfect_per_class(EVAL_SAMPLES, k).items()})
        out["kl_max"] = out["kl_0"]
        out.update(scorer.perfect_joint(EVAL_SAMPLES))
        return out

    def postfix(self, m):
        return {"kl_max": f"{m['kl_max']:.3g}", "bayes": f"{m['bayes_accuracy']:.3f}",
                "hist": f"{m['hist']:.3g}"}

    def extra_record(self, run, history, samples):
        K = len(samples)
        return {"settled_at": {str(k): settling_turns(history.turns, history.curves[f"kl_{k}"])
                               for k in range(K)},
                "settled_kl": SETTLED_KL, "class_weights": list(map(float, run.mixture.weights))}

    def figures(self, run, history, samples):
        from minigan import plot
        K, final = len(samples), {k: v[-1] for k, v in history.curves.items()}
        x, _ = pooled(samples, run.counts)
        pooled_keys = ("hist", "tv", "coverage", "bayes_accuracy")
        settled = {k: settling_turns(history.turns, history.curves[f"kl_{k}"])
                   for k in range(K)}
        return {
            "samples_per_class.png": lambda f: plot.class_samples(
                samples, [component(run.mixture, k) for k in range(K)], run.mixture.weights,
                [{m: final[f"{m}_{k}"] for m in PER_CLASS} for k in range(K)], f,
                title=f"G(z, y) after {history.turns[-1]} turns, each class over its "
                      "component's contours"),
            "metrics_per_class.png": lambda f: plot.class_curves(
                history.turns, history.curves, run.perfect, run.mixture.weights, settled,
                SETTLED_KL, f),
            "samples_over_density.png": lambda f: plot.samples_over_density(
                x, run.mixture, f, title=f"pooled samples (labels by the class weights): "
                f"hist {final['hist']:.2f}, Bayes accuracy {final['bayes_accuracy']:.3f}"),
            "metrics.png": lambda f: plot.metric_curves(
                history.turns, {k: history.curves[k] for k in pooled_keys}, run.perfect, f),
        }

    def print_final(self, record):
        f, p = record["final"], record["perfect"]
        K = len(record["settled_at"])
        print(f"  {'class':<7}{'weight':>8}{'kl':>10}{'hist':>9}{'(perfect)':>10}"
              f"{'coverage':>10}{'settled at':>12}")
        for k in range(K):
            settled = record["settled_at"][str(k)]
            print(f"  {k:<7}{record['class_weights'][k]:>8.2g}{f[f'kl_{k}']:>10.4f}"
                  f"{f[f'hist_{k}']:>9.3f}{p[f'hist_{k}']:>10.3f}{f[f'coverage_{k}']:>10.4f}"
                  f"{'-' if settled is None else settled:>12}")
        print(f"  perfect sampler: kl {p['kl_0']:.5f}, coverage {p['coverage_0']:.4f}; "
              f"settled: kl <= {record['settled_kl']} from that turn on")
        print(f"  {'pooled':<16}{'generator':>12}{'perfect':>12}")
        for m in ("bayes_accuracy", "hist", "tv", "coverage", "log_density"):
            print(f"  {m:<16}{f[m]:>12.4g}{p[m]:>12.4g}")


def pooled(samples, counts):
    """The first counts[k] samples of each class k, and their labels."""
    x = np.concatenate([s[:n] for s, n in zip(samples, counts)])
    y = np.repeat(np.arange(len(counts)), counts)
    return x, y
