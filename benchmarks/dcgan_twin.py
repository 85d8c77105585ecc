"""A whole DCGAN run in a PyTorch twin, scored by minigan's judges: what the reference
framework's own training of `examples/dcgan.py` scores, to tell the engine's numbers from the
setup's and the judge's.

The twin starts from minigan's initial weights for the seed (the example's DCGAN init,
copied), sees the training images in the example's order (``epoch_sampler``), draws its own
latents (Uniform[-1, 1]^100) and fake labels (uniform) from the seed, and trains as the
example does: Adam (2e-4, beta1 0.5), minibatch 64, real and fake through D as separate
batches, the non-saturating G loss. Its final G, in evaluation mode, makes the example's
evaluation set (the same latents; 1,000 of each class when conditional), and every ``--judge``
scores it: FID_cnn, the class shares and, conditional, GAN-test.

    python -m benchmarks.dcgan_twin --conditional --epochs 3 --seed 0 \\
        --judge runs/cnn_judge/model.npz --out runs/dcgan_twin
"""
import argparse
import os
import time

import numpy as np

import minigan as mg
from benchmarks.models import _copy_weights, _torch_dcgan
from minigan.experiments.dcgan import (
    EVAL_SAMPLES,
    epoch_sampler,
    get_judge,
    load_images,
    networks,
    uniform_pm1,
)
from minigan.metrics.images import ImageScorer
from minigan.models import dcgan_init
from minigan.serialization import save_json

BATCH, LATENT, CLASSES = 64, 100, 10


def twin_networks(torch, conditional, seed):
    """PyTorch G and D holding minigan's initial weights for ``seed`` (as the example
    initialises them)."""
    mg.manual_seed(seed)
    G, D = networks({"latent_dim": LATENT, "conditional": conditional})
    init = np.random.default_rng([seed, 1])
    for net in (G, D):
        dcgan_init(net, init)
    tG, tD = _torch_dcgan(torch, extra=CLASSES if conditional else 0)
    for ours, theirs in ((G, tG), (D, tD)):
        _copy_weights(getattr(ours, "net", ours), theirs, torch)
    return tG, tD


class _Inputs:
    """The networks' inputs: the label's one-hot code after z for G, as constant maps after
    the image's channel for D (nothing added without labels)."""

    def __init__(self, torch, conditional):
        self.torch, self.eye = torch, torch.eye(CLASSES) if conditional else None

    def g(self, z, labels):
        return z if self.eye is None else self.torch.cat([z, self.eye[labels]], 1)

    def d(self, x, labels):
        if self.eye is None:
            return x
        maps = self.eye[labels][:, :, None, None].expand(len(labels), CLASSES, *x.shape[2:])
        return self.torch.cat([x, maps], 1)


def train_twin(torch, x, y, conditional, epochs, seed, on_turn=None):
    """The twin's G after ``epochs`` of the example's training on x (and y)."""
    tG, tD = twin_networks(torch, conditional, seed)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
                    for m in (tG, tD))
    turn = [0]
    sample, per_epoch = epoch_sampler(x, y, BATCH, seed, lambda: turn[0], conditional)
    rng, inputs = np.random.default_rng(seed), _Inputs(torch, conditional)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)

    def fakes():
        z = torch.from_numpy(uniform_pm1(LATENT)(BATCH, rng))
        labels = torch.from_numpy(rng.integers(0, CLASSES, BATCH)) if conditional else None
        return tG(inputs.g(z, labels)), labels

    for t in range(epochs * per_epoch):
        turn[0] = t                            # the sampler's clock: which batch is next
        batch = sample(BATCH, rng)
        real, labels = batch if conditional else (batch, None)
        real = torch.from_numpy(np.ascontiguousarray(real, dtype=np.float32))
        labels = None if labels is None else torch.from_numpy(labels.astype(np.int64))
        with torch.no_grad():
            fake, fake_labels = fakes()
        d_loss = bce(tD(inputs.d(real, labels)), ones) + bce(tD(inputs.d(fake, fake_labels)),
                                                             zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        tD.requires_grad_(False)
        fake, fake_labels = fakes()
        g_loss = bce(tD(inputs.d(fake, fake_labels)), ones)
        tD.requires_grad_(True)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        if on_turn is not None:
            on_turn(t, d_loss.item(), g_loss.item())
    return tG


def twin_samples(torch, tG, conditional, n, seed, chunk=500):
    """(n images of the trained twin in evaluation mode, their labels or None): the example's
    evaluation latents for ``seed``, n // 10 of each class when conditional."""
    tG.eval()
    z = uniform_pm1(LATENT)(n, np.random.default_rng(seed + 10_000))
    labels = np.repeat(np.arange(CLASSES), n // CLASSES) if conditional else None
    inputs = _Inputs(torch, conditional)
    with torch.no_grad():
        out = [tG(inputs.g(torch.from_numpy(z[i:i + chunk]), None if labels is None else
                           torch.from_numpy(labels[i:i + chunk]))).numpy()
               for i in range(0, n, chunk)]
    return np.concatenate(out), labels


def score(samples, labels, judges, test_images):
    """{judge path: {judge test accuracy, fid, share_min, share_max[, gan_test]}}."""
    out = {}
    for path, judge in judges.items():
        s = ImageScorer(judge, test_images)(samples, labels)
        out[path] = {"fid": s["fid"], "share_min": min(s["proportions"]),
                     "share_max": max(s["proportions"]), "proportions": s["proportions"],
                     **({"gan_test": s["gan_test"]} if labels is not None else {})}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="a whole DCGAN run in a PyTorch twin, scored by "
                                             "minigan's judges")
    ap.add_argument("--conditional", action="store_true")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samples", type=int, default=EVAL_SAMPLES)
    ap.add_argument("--data", default=None, help="an IDX folder (default: Fashion-MNIST)")
    ap.add_argument("--judge", action="append", help="a judge's model.npz (repeatable; "
                    "default runs/cnn_judge/model.npz, trained as the example does if absent)")
    ap.add_argument("--out", default="runs/dcgan_twin")
    args = ap.parse_args(argv)
    if args.epochs < 1 or args.samples < CLASSES or args.samples % CLASSES:
        ap.error("--epochs must be >= 1 and --samples a positive multiple of 10")
    import torch
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    x, y, xte, _ = load_images(args.data, BATCH)
    judges = {p: get_judge(p, args.data) for p in args.judge or ["runs/cnn_judge/model.npz"]}
    start = time.perf_counter()
    tG = train_twin(torch, x, y, args.conditional, args.epochs, args.seed)
    seconds = time.perf_counter() - start
    samples, labels = twin_samples(torch, tG, args.conditional, args.samples, args.seed)
    scores = score(samples, labels, judges, xte)
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "samples.npy"), samples)
    if labels is not None:
        np.save(os.path.join(args.out, "labels.npy"), labels)
    save_json({"settings": vars(args), "train_seconds": seconds, "scores": scores},
              os.path.join(args.out, "metrics.json"))
    for path, s in scores.items():
        extra = f", GAN-test {s['gan_test']:.4f}" if "gan_test" in s else ""
        print(f"{path}: FID_cnn {s['fid']:.3g}, class shares {s['share_min']:.3f}-"
              f"{s['share_max']:.3f}{extra}")
    print(f"trained in {seconds:.0f} s; outputs in {args.out}")
    return scores


if __name__ == "__main__":
    main()
