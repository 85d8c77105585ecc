"""One turn of the conditional mixture GAN (thesis 5.1.1) in minigan and in a PyTorch CPU twin.

Both: G(z, y) and D(x, y) with the label one-hot and concatenated to the input, ReLU MLPs,
Adam (beta1 0.5), one D step (real and fake pairs as one batch) then one G step with the
non-saturating loss, on the same pre-drawn batches of (x, y), latents and fake labels. Two
shapes: the example's default (robust: 64-32 nets, latent 10, batch 256) and the thesis's
(one hidden layer of 1024, latent 100, batch 64). Timed interleaved, median of repeats;
minigan on one thread, as the example runs it.

    python -m benchmarks.conditional_turn [--turns 300] [--repeats 5]
"""
import argparse
import contextlib

import numpy as np

import minigan as mg
from benchmarks.mixture_turn import TwinTurn, _torch_mlp
from benchmarks.models import _compare, _copy_weights
from benchmarks.timing import interleaved
from minigan.backend.threads import single_threaded
from minigan.data import thesis_mixture
from minigan.gan import GANTrainer
from minigan.models import conditional_mlp_discriminator, conditional_mlp_generator

SHAPES = {  # name: (latent dim, hidden, batch)
    "robust": (10, (64, 32), 256),
    "thesis": (100, (1024,), 64),
}
K = 4


def _batches(n, latent, batch, seed=0):
    rng = np.random.default_rng(seed)
    mix = thesis_mixture()
    real = []
    for _ in range(n):
        x, y = mix.sample(batch, rng)
        real.append((x.astype(np.float32), y))
    z = [rng.standard_normal((batch, latent)).astype(np.float32) for _ in range(2 * n)]
    labels = [rng.choice(K, size=batch, p=mix.weights) for _ in range(2 * n)]
    return real, z, labels


def _cycler(items):
    state = {"i": 0}

    def next_item(n, rng):
        state["i"] = (state["i"] + 1) % len(items)
        return items[state["i"]]
    return next_item


def minigan_runner(shape, real, z, labels):
    """A GANTrainer's turn (its ``__self__``) on the pre-drawn batches, taken in turn."""
    latent, hidden, batch = SHAPES[shape]
    mg.manual_seed(0)
    G = mg.nn.fuse(conditional_mlp_generator(latent, K, hidden))
    D = mg.nn.fuse(conditional_mlp_discriminator(2, K, hidden))
    og = mg.optim.FlatAdam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = mg.optim.FlatAdam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    tr = GANTrainer(G, D, og, od, _cycler(z), _cycler(real), None, batch_size=batch,
                    n_classes=K, sample_labels=_cycler(labels))
    return tr.turn


class _TorchTwin(TwinTurn):
    """The same turn in PyTorch, on the same batches in the same order."""

    def __init__(self, shape, real, z, labels):
        import torch
        torch.set_num_threads(2)
        torch.manual_seed(0)
        latent, hidden, batch = SHAPES[shape]
        self.torch, self.F = torch, torch.nn.functional
        self.G = _torch_mlp(torch.nn, (latent + K, *hidden, 2))
        self.D = _torch_mlp(torch.nn, (2 + K, *hidden, 1))
        self.og = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.od = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.real = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in real]
        self.z = [torch.from_numpy(v) for v in z]
        self.labels = [torch.from_numpy(v) for v in labels]
        self.ones = torch.ones(batch, 1)
        self.target = torch.cat([self.ones, torch.zeros(batch, 1)])
        self.weight = torch.full((2 * batch, 1), 1 / batch)
        self.it = {"r": 0, "z": 0, "y": 0}

    def _next(self, key, items):
        self.it[key] = (self.it[key] + 1) % len(items)
        return items[self.it[key]]

    def _with_label(self, x, y):
        return self.torch.cat([x, self.F.one_hot(y, K).to(x.dtype)], 1)

    def _fake(self):
        y = self._next("y", self.labels)
        z = self._next("z", self.z)        # the trainer draws the latent, then the labels
        return self.G(self._with_label(z, y)), y

    def d_loss(self):
        x, y = self._next("r", self.real)
        with self.torch.no_grad():
            fake, y_fake = self._fake()
        logits = self.D(self._with_label(self.torch.cat([x, fake]),
                                         self.torch.cat([y, y_fake])))
        return self.F.binary_cross_entropy_with_logits(logits, self.target, reduction="sum",
                                                       weight=self.weight)

    def g_loss(self):
        fake, y = self._fake()
        return self.frozen_d(lambda: self.F.binary_cross_entropy_with_logits(
            self.D(self._with_label(fake, y)), self.ones))


def check_twins(turn, twin):
    """With minigan's weights copied into the twin, both D losses and gradients, then both G
    losses and gradients, agree on the same batches (before any timing)."""
    tr = turn.__self__
    _copy_weights(tr.G.net, twin.G, twin.torch)
    _copy_weights(tr.D.net, twin.D, twin.torch)
    with mg.no_grad():
        fake, y_fake = tr._generate(tr.batch_size, None)
    pairs = ((lambda: tr._d_loss(fake, y_fake), twin.d_loss, tr.D, twin.D),
             (lambda: tr._g_loss(*tr._generate(tr.batch_size, None)), twin.g_loss, tr.G,
              twin.G))
    for ours, theirs, m, tm in pairs:
        loss, tloss = ours(), theirs()
        m.zero_grad()
        tm.zero_grad()
        loss.backward()
        tloss.backward()
        _compare(loss.item(), tloss.item(), m, tm)


def measure(shape="robust", turns=300, repeats=5):
    """{'minigan': ms, 'torch': ms} per turn (torch absent without PyTorch)."""
    real, z, labels = _batches(turns, SHAPES[shape][0], SHAPES[shape][2])
    runners = {"minigan": minigan_runner(shape, real, z, labels)}
    try:
        twin = _TorchTwin(shape, real, z, labels)
    except ImportError:
        twin = None
    if twin is not None:
        check_twins(runners["minigan"], twin)
        runners["torch"] = twin.turn
    # minigan as the example runs it: on one thread (minigan.backend.threads); PyTorch with
    # its 2 threads (it is slower on one: 0.96 against 0.92 ms at the robust shape)
    blocks = {k: _block(step, turns, single=k == "minigan") for k, step in runners.items()}
    for block in blocks.values():
        block()                                             # warm-up
    per_block = interleaved(blocks, repeats, 1, warmup=0)
    return {k: t / turns * 1e3 for k, t in per_block.items()}


def _block(step, turns, single):
    def run():
        with single_threaded() if single else contextlib.nullcontext():
            for _ in range(turns):
                step()
    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description="conditional mixture-GAN turn: minigan vs "
                                             "PyTorch CPU")
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    for shape in SHAPES:
        med = measure(shape, args.turns, args.repeats)
        line = ", ".join(f"{k} {v:.3f} ms" for k, v in med.items())
        ratio = f"; minigan / torch = {med['minigan'] / med['torch']:.2f}" if "torch" in med \
            else ""
        print(f"  {shape}: {line} per turn (median of {args.repeats} x {args.turns}){ratio}")


if __name__ == "__main__":
    main()
