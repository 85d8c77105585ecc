"""The thesis's DCGAN and conditional DCGAN on Fashion-MNIST (thesis 4.2.2, 5.1.2), judged by
the thesis's CNN. ``examples/dcgan.py`` runs it.

An epoch is one pass over the training images in minibatches (937 turns of 64); the order of
epoch e is a permutation drawn from (seed, e), so where the run stands is its turn count and a
resumed run draws the same batches. After every epoch: 10,000 samples of G (1,000 per class
for the conditional model) are scored by the judge (``minigan.metrics.images``): FID_cnn
against the 10,000 test images beside its floor (10,000 training images against the same),
the judge's class proportions, and GAN-test accuracy for the conditional model.
"""
import argparse
import math
import os

import numpy as np

import minigan as mg
from minigan import classify
from minigan.data import load_fashion_mnist, load_image_folder
from minigan.data.idx import IDXError
from minigan.experiments.runner import Experiment, Run
from minigan.gan import GANTrainer
from minigan.metrics import accuracy, predict
from minigan.metrics.images import ImageScorer, feature_stats, frechet_distance, judge_outputs
from minigan.models import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    ThesisCNN,
    dcgan_discriminator,
    dcgan_generator,
    dcgan_init,
)
from minigan.models.dcgan import SIZES
from minigan.runs import UserError

EVAL_SAMPLES = 10_000
FIXED = 8                  # the fixed latents drawn after every epoch (fig 4.16)
JUDGE = os.path.join("runs", "cnn_judge", "model.npz")

PRESETS = {
    "dcgan": dict(epochs=5, batch_size=64, lr=2e-4, beta1=0.5, latent_dim=100,
                  conditional=False, image_size=28),
    # the thesis's learning rate
    "thesis": dict(epochs=5, batch_size=64, lr=1e-3, beta1=0.5, latent_dim=100,
                   conditional=False, image_size=28),
}

SETTINGS = {
    "epochs": (dict(type=int), "passes over the training images (the thesis's full run: 20)"),
    "batch_size": (dict(type=int), "minibatch size of real and of latent samples"),
    "lr": (dict(type=float), "Adam's learning rate, both networks"),
    "beta1": (dict(type=float), "Adam's first beta"),
    "latent_dim": (dict(type=int), "latent dimension (z ~ Uniform[-1, 1]^m)"),
    "conditional": (dict(action=argparse.BooleanOptionalAction),
                    "the conditional DCGAN (thesis 5.1.2): G and D get the class"),
    "image_size": (dict(type=int, choices=sorted(SIZES)),
                   "image side: 28 (Fashion-MNIST) or 64 (the thesis's CelebA model, one more "
                   "up/down-sampling layer; needs --data-folder)"),
}
FOLDER_SAMPLES = 1000       # samples.npy of a --data-folder run (no judge to score more)
GAME_METRICS = ("d_loss", "g_loss", "d_real", "d_fake")
# the game at its equilibrium (D(x) = 1/2 everywhere): what the game's metrics are beside
GAME_PERFECT = {"d_loss": 2 * math.log(2), "g_loss": math.log(2), "d_real": 0.5, "d_fake": 0.5}


def load_images(root, batch_size):
    """Fashion-MNIST as (train x in [-1, 1] (N, 1, 28, 28) float32, train y, test x, test y);
    UserError for missing or damaged files, named. The default folder's files are checked
    against Fashion-MNIST's digests; a folder given explicitly is read as it is (any
    28x28 IDX set of 10 classes)."""
    try:
        d = load_fashion_mnist(root, verify=root is None)
    except (FileNotFoundError, IDXError) as exc:
        raise UserError(str(exc)) from None
    if batch_size > len(d.train_images):
        raise UserError(f"--batch-size {batch_size} is more than the {len(d.train_images)} "
                        "training images")

    def prep(images):
        return (classify.to_unit(images) * 2 - 1).reshape(len(images), 1, 28, 28)
    return prep(d.train_images), d.train_labels, prep(d.test_images), d.test_labels


def get_judge(path, root, progress=True, epochs=3, seed=0):
    """The judge (a trained ThesisCNN) at ``path``; if absent, one is trained (``epochs`` of
    Fashion-MNIST, Adam 1e-3, minibatch 50: 0.8945 test accuracy after 3 epochs, where
    minibatch 100 reached 0.8874) and saved there for the next run. UserError for
    a file that is not a ThesisCNN of 28x28 images and 10 classes."""
    if os.path.exists(path):
        try:
            judge = ThesisCNN.load(path)
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"--judge {path}: not a saved ThesisCNN ({exc})") from None
        if judge.fc2.weight.shape[0] != 10:
            raise UserError(f"--judge {path}: a classifier of {judge.fc2.weight.shape[0]} "
                            "classes; the judge needs Fashion-MNIST's 10")
        return judge
    args = argparse.Namespace(data=root, dataset="fashion" if root is None else "mnist",
                              batch_size=50, seed=seed, no_progress=not progress,
                              device="cpu")
    data = classify.load_data(args, (1, 28, 28))
    args.steps = args.eval_every = max(epochs * (len(data[0]) // 50), 1)
    print(f"no judge at {path}: training the thesis CNN for {epochs} epochs", flush=True)
    mg.manual_seed(seed)
    judge = ThesisCNN()
    classify.train(judge, mg.optim.Adam(judge.parameters(), lr=1e-3), data, args)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    judge.save(path)
    return judge


def epoch_sampler(x, y, batch_size, seed, trainer_turns, conditional):
    """sample_real for the trainer: the batch of turn t is the (t mod E)-th of epoch t // E's
    permutation of the training set (E batches an epoch), drawn from (seed, epoch)."""
    per_epoch = len(x) // batch_size
    cache = {}

    def sample(n, rng):
        epoch, i = divmod(trainer_turns(), per_epoch)
        if epoch not in cache:
            cache.clear()
            cache[epoch] = np.random.default_rng([seed, epoch]).permutation(len(x))
        idx = cache[epoch][i * batch_size:(i + 1) * batch_size]
        return (x[idx], y[idx]) if conditional else x[idx]
    return sample, per_epoch


def networks(config):
    """A run's G and D (not initialised, not fused) from its settings: conditional, or from an
    image folder (colour, at ``image_size``), or Fashion-MNIST's. Settings an older
    checkpoint lacks take their first value."""
    m = config["latent_dim"]
    if config.get("conditional"):
        return ConditionalDCGANGenerator(m), ConditionalDCGANDiscriminator()
    channels, size = (3 if config.get("data_folder") else 1), config.get("image_size", 28)
    return (dcgan_generator(m, channels, image_size=size),
            dcgan_discriminator(channels, image_size=size))


def generate(G, z, labels=None, chunk=500):
    """G's images of the latents z (and labels, for a conditional G), in evaluation mode
    (batch norm on its running statistics), in chunks, without a graph."""
    G.eval()
    dev = G.device

    def images(i):
        zi = mg.tensor(z[i:i + chunk], device=dev)
        out = G(zi) if labels is None else G(zi, labels[i:i + chunk])
        return mg.to_host(out.data)
    try:
        with mg.no_grad():
            return np.concatenate([images(i) for i in range(0, len(z), chunk)])
    finally:
        G.train()


def game_metrics(trainer):
    """The last turn's losses and D's mean outputs on the real and the fake batch."""
    return {k: trainer.last.get(k, math.nan) for k in GAME_METRICS}


def live(trainer):
    """The progress bar's view of the game."""
    return {k: f"{trainer.last[k]:.3f}" for k in GAME_METRICS if k in trainer.last}


def uniform_pm1(dim):
    return lambda n, rng: rng.uniform(-1, 1, (n, dim)).astype(np.float32)


class DCGAN(Experiment):
    name = "dcgan"
    description = "The thesis's DCGAN on Fashion-MNIST (4.2.2; --conditional: 5.1.2)."
    presets, default_preset, settings = PRESETS, "dcgan", SETTINGS
    run_settings = {
        "seed": (0, dict(type=int), "random seed"),
        "data": (None, dict(), "Fashion-MNIST folder (default: $MINIGAN_DATA or Debian's)"),
        "data_folder": (None, dict(metavar="DIR"),
                        "train on a folder of JPEG/PNG images instead (CelebA's layout), "
                        "centre-cropped and resized to --image-size, in colour; no judge"),
        "judge": (JUDGE, dict(), "the judge: a model.npz of examples/cnn_classifier.py "
                                 "(trained for 3 epochs and kept there if absent)"),
        "device": Experiment.run_settings["device"],
    }
    one_thread = False          # convolutions: every core
    snapshot_turns = None       # the fixed latents' images at every evaluation
    summary_metrics = {"fid": max, "prop_min": min, "prop_max": max}

    def check(self, c):
        rules = [(c["epochs"] >= 0, "--epochs must be >= 0"),
                 (c["batch_size"] >= 2, "--batch-size must be >= 2 (batch norm)"),
                 (math.isfinite(c["lr"]) and c["lr"] > 0, "--lr must be finite and > 0"),
                 (0 <= c["beta1"] < 1, "--beta1 must be in [0, 1)"),
                 (c["latent_dim"] >= 1, "--latent-dim must be >= 1"),
                 (c["image_size"] == 28 or c["data_folder"],
                  "--image-size 64 needs --data-folder (Fashion-MNIST is 28x28)"),
                 (not (c["data_folder"] and c["conditional"]),
                  "--conditional needs labels: Fashion-MNIST, not --data-folder")]
        return next((msg for ok, msg in rules if not ok), None)

    def summary_for(self, config):
        if config["data_folder"]:           # no judge: how near D is to its equilibrium
            return {"d_real": "farthest", "d_fake": "farthest"}
        return self.summary_metrics

    @staticmethod
    def _game(G, D, config, seed, x, y):
        """(the trainer of G and D, turns per epoch): DCGAN init from (seed, 1), Adam, the
        epochs' batches of x (and y, for the conditional game)."""
        cond = config["conditional"]
        init = np.random.default_rng([seed, 1])
        dev = config.get("device", "cpu")
        G, D = (mg.nn.fuse(dcgan_init(net, init)).to(dev) for net in (G, D))
        # G's 778k values: per-parameter Adam on the CPU (FlatAdam's gathering copy costs
        # more there), one launch for all on a GPU; the same numbers either way
        adam_g = mg.optim.Adam if dev == "cpu" else mg.optim.FlatAdam
        opt_g = adam_g(G.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999))
        opt_d = mg.optim.FlatAdam(D.parameters(), lr=config["lr"],
                                  betas=(config["beta1"], 0.999))
        holder = {}
        sample_real, per_epoch = epoch_sampler(x, y, config["batch_size"], seed,
                                               lambda: holder["trainer"].turns, cond)
        holder["trainer"] = GANTrainer(
            G, D, opt_g, opt_d, uniform_pm1(config["latent_dim"]), sample_real,
            np.random.default_rng(seed), batch_size=config["batch_size"],
            n_classes=10 if cond else 0, track_outputs=True)
        return holder["trainer"], per_epoch

    def build(self, config, seed):
        if config["data_folder"]:
            return self._build_folder(config, seed)
        cond, m = config["conditional"], config["latent_dim"]
        x, y, xte, yte = load_images(config["data"], config["batch_size"])
        judge = get_judge(config["judge"], config["data"])
        mg.manual_seed(seed)
        G, D = networks(config)
        trainer, per_epoch = self._game(G, D, config, seed, x, y)
        scorer = ImageScorer(judge, xte)
        perfect = self._perfect(judge, scorer, x, xte, yte)
        z_eval = uniform_pm1(m)(EVAL_SAMPLES, np.random.default_rng(seed + 10_000))
        labels = np.repeat(np.arange(10), EVAL_SAMPLES // 10) if cond else None
        last = {}

        def evaluate():
            images = generate(G, z_eval, labels)
            scores = scorer(images, labels)
            last["samples"] = images
            metrics = {"fid": scores["fid"], **{f"prop_{k}": v for k, v in
                                                enumerate(scores["proportions"])},
                       "prop_min": min(scores["proportions"]),
                       "prop_max": max(scores["proportions"]),
                       **game_metrics(trainer)}
            if cond:
                metrics["gan_test"] = scores["gan_test"]
                snap = generate(G, np.tile(z_eval[:FIXED], (10, 1)),
                                np.repeat(np.arange(10), FIXED)).reshape(10, FIXED, 1, 28, 28)
            else:
                snap = images[:FIXED]
            return snap, metrics

        turns = config["epochs"] * per_epoch
        return Run(trainer, evaluate, perfect, schedule=(turns, per_epoch, per_epoch),
                   final_samples=lambda: last["samples"], live=lambda: live(trainer),
                   labels=labels, per_epoch=per_epoch, judge_accuracy=perfect["gan_test"])

    def _build_folder(self, config, seed):
        """A DCGAN of colour images from a folder (the thesis's CelebA model at 64x64): no
        labels and no judge, so an evaluation records the game's losses and D's outputs,
        and keeps 1,000 samples and the fixed latents' images."""
        size, m = config["image_size"], config["latent_dim"]
        try:
            x = load_image_folder(config["data_folder"], size)
        except (FileNotFoundError, OSError) as exc:
            raise UserError(f"--data-folder: {exc}") from None
        if config["batch_size"] > len(x):
            raise UserError(f"--batch-size {config['batch_size']} is more than the {len(x)} "
                            f"images in {config['data_folder']}")
        mg.manual_seed(seed)
        G, D = networks(config)
        trainer, per_epoch = self._game(G, D, config, seed, x, None)
        z_eval = uniform_pm1(m)(FOLDER_SAMPLES, np.random.default_rng(seed + 10_000))
        last = {}

        def evaluate():
            last["samples"] = generate(G, z_eval)
            return last["samples"][:FIXED], game_metrics(trainer)

        return Run(trainer, evaluate, dict(GAME_PERFECT),
                   schedule=(config["epochs"] * per_epoch, per_epoch, per_epoch),
                   final_samples=lambda: last["samples"], live=lambda: live(trainer),
                   labels=None, per_epoch=per_epoch, judge_accuracy=None)

    @staticmethod
    def _perfect(judge, scorer, x, xte, yte):
        """What real images score: FID_cnn of training images against the test images (the
        floor), the class shares the judge gives the test images (not the true 0.1 each: the
        judge's own confusions shift them), and the judge's test accuracy."""
        train_feats, _ = judge_outputs(judge, x[:len(xte)])
        judged = predict(judge, (xte + 1) / 2)
        shares = np.bincount(judged, minlength=10) / len(judged)
        out = {"fid": frechet_distance(*feature_stats(train_feats), *scorer.reference),
               **{f"prop_{k}": float(v) for k, v in enumerate(shares)},
               "prop_min": float(shares.min()), "prop_max": float(shares.max()),
               "gan_test": accuracy(yte, judged), **GAME_PERFECT}
        return out

    def postfix(self, m):
        if "fid" not in m:              # a --data-folder run: no judge
            return {k: f"{m[k]:.3f}" for k in ("d_real", "d_fake")}
        return {"fid": f"{m['fid']:.3g}", "props": f"{m['prop_min']:.3f}-{m['prop_max']:.3f}"}

    def extra_record(self, run, history, samples):
        return {"judge_test_accuracy": run.judge_accuracy, "turns_per_epoch": run.per_epoch,
                "epochs_done": history.turns[-1] / run.per_epoch}

    def figures(self, run, history, samples):
        from minigan import plot
        out = {}
        if run.labels is not None:
            out["labels.npy"] = lambda f: np.save(f, run.labels)
            rows = samples.reshape(10, -1, *samples.shape[1:])[:, :10]
            out["classes.png"] = lambda f: plot.image_grid(
                history.snapshots[history.turns[-1]], f, "each row one class, the same 8 "
                "latents (fig 5.3)", row_labels=list(range(10)))
        else:
            rows = samples[:100].reshape(10, 10, *samples.shape[1:])
        epochs = {t // run.per_epoch: s for t, s in sorted(history.snapshots.items())}
        fixed = np.stack([s if run.labels is None else s[:, 0] for s in epochs.values()])
        out["samples_grid.png"] = lambda f: plot.image_grid(
            rows, f, f"100 samples after {history.turns[-1] / run.per_epoch:g} epochs "
            "(fig 4.14)" + ("; a row per class" if run.labels is not None else ""))
        out["fixed_latents.png"] = lambda f: plot.image_grid(
            fixed, f, "the same latents after each epoch, one row an epoch (fig 4.16)"
            + ("; columns: classes" if run.labels is not None else ""),
            row_labels=[f"epoch {e}" for e in epochs])
        out["metrics.png"] = lambda f: plot.epoch_curves(
            [t / run.per_epoch for t in history.turns], history.curves, run.perfect, f)
        return out

    def print_final(self, record):
        f, p = record["final"], record["perfect"]
        keys = ["fid", "prop_min", "prop_max"] + (["gan_test"] if "gan_test" in f else [])
        if "fid" not in f:              # a --data-folder run: no judge
            keys = list(GAME_METRICS)
        else:
            print(f"  judge test accuracy {record['judge_test_accuracy']:.4f}")
        print(f"  {'metric':<12}{'generator':>12}{'real images':>14}")
        for k in keys:
            print(f"  {k:<12}{f[k]:>12.4g}{p[k]:>14.4g}")
