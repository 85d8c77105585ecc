"""One turn of the mixture GAN (thesis 4.2.1) in minigan and in a PyTorch CPU twin.

Both: G 10 -> 64 -> 32 -> 2 and D 2 -> 64 -> 32 -> 1 (ReLU), batch 64, Adam(2e-4, (0.5, 0.999)),
one D step (real and fake as one batch, one cross-entropy over it with per-row targets and
weights 1/64, as minigan's GANTrainer does) then one G step with the non-saturating loss, on
the same pre-drawn real and latent batches. Timed interleaved, median of repeats.

    python -m benchmarks.mixture_turn [--turns 500] [--repeats 5]
"""
import argparse

import numpy as np

import minigan as mg
from benchmarks.models import _compare, _copy_weights
from benchmarks.timing import interleaved, synced
from minigan.data import thesis_mixture
from minigan.gan import GANTrainer
from minigan.models import mlp_discriminator, mlp_generator


def _batches(n, seed=0):
    rng = np.random.default_rng(seed)
    mix = thesis_mixture()
    real = [mix.sample(64, rng)[0].astype(np.float32) for _ in range(n)]
    z = [rng.random((64, 10)).astype(np.float32) for _ in range(2 * n)]
    return real, z


def minigan_runner(real, z, device="cpu"):
    """The turn of a GANTrainer (its ``__self__``) on the pre-drawn batches, taken in turn
    (moved to ``device`` beforehand, as the twin's)."""
    mg.manual_seed(0)
    G = mg.nn.fuse(mlp_generator(10, (64, 32))).to(device)
    D = mg.nn.fuse(mlp_discriminator(2, (64, 32))).to(device)
    real, z = ([mg.backend.to_device(a, device) for a in arrays] for arrays in (real, z))
    og = mg.optim.FlatAdam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = mg.optim.FlatAdam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    it = {"r": 0, "z": 0}

    def next_real(n, rng):
        it["r"] = (it["r"] + 1) % len(real)
        return real[it["r"]]

    def next_z(n, rng):
        it["z"] = (it["z"] + 1) % len(z)
        return z[it["z"]]

    tr = GANTrainer(G, D, og, od, next_z, next_real, None)
    return tr.turn


def _torch_mlp(nn, sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class TwinTurn:
    """A PyTorch twin's turn: one D step then one G step, from its ``d_loss`` and ``g_loss``
    (G's loss through D with D's weights frozen: ``frozen_d``)."""

    def frozen_d(self, loss):
        for p in self.D.parameters():
            p.requires_grad_(False)
        try:
            return loss()
        finally:
            for p in self.D.parameters():
                p.requires_grad_(True)

    def turn(self):
        d_loss = self.d_loss()
        self.od.zero_grad()
        d_loss.backward()
        self.od.step()
        g_loss = self.g_loss()
        self.og.zero_grad()
        g_loss.backward()
        self.og.step()


class _TorchTwin(TwinTurn):
    """The same turn in PyTorch, on the same batches in the same order."""

    def __init__(self, real, z, device="cpu"):
        import torch
        torch.set_num_threads(2)
        torch.manual_seed(0)
        self.torch, self.bce = torch, torch.nn.functional.binary_cross_entropy_with_logits
        self.G = _torch_mlp(torch.nn, (10, 64, 32, 2)).to(device)
        self.D = _torch_mlp(torch.nn, (2, 64, 32, 1)).to(device)
        self.og = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.od = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.real = [torch.from_numpy(r).to(device) for r in real]
        self.z = [torch.from_numpy(v).to(device) for v in z]
        self.ones = torch.ones(64, 1, device=device)
        self.target = torch.cat([self.ones, torch.zeros(64, 1, device=device)])
        self.weight = torch.full((128, 1), 1 / 64, device=device)
        self.it = {"r": 0, "z": 0}

    def d_loss(self):
        self.it["r"] = (self.it["r"] + 1) % len(self.real)
        self.it["z"] = (self.it["z"] + 2) % len(self.z)
        with self.torch.no_grad():
            fake = self.G(self.z[self.it["z"] - 1])
        logits = self.D(self.torch.cat([self.real[self.it["r"]], fake]))
        return self.bce(logits, self.target, reduction="sum", weight=self.weight)

    def g_loss(self):
        return self.frozen_d(lambda: self.bce(self.D(self.G(self.z[self.it["z"]])), self.ones))



def check_twins(turn, twin):
    """With minigan's weights copied into the twin, both turns' D and G losses and gradients
    agree (before timing: a benchmark of a wrong computation is worthless)."""
    tr = turn.__self__
    _copy_weights(tr.G, twin.G, twin.torch)
    _copy_weights(tr.D, twin.D, twin.torch)
    with mg.no_grad():
        fake = tr.G(tr.sample_latent(64, None))
    loss, tloss = tr._d_loss(fake, None), twin.d_loss()
    for m in (tr.D, twin.D):
        m.zero_grad()
    loss.backward()
    tloss.backward()
    _compare(loss.item(), tloss.item(), tr.D, twin.D)
    loss, tloss = tr._g_loss(tr.G(tr.sample_latent(64, None)), None), twin.g_loss()
    for m in (tr.G, twin.G):
        m.zero_grad()
    loss.backward()
    tloss.backward()
    _compare(loss.item(), tloss.item(), tr.G, twin.G)


def measure(turns=500, repeats=5, device="cpu", torch_device="cpu"):
    real, z = _batches(turns)
    turn = minigan_runner(real, z, device)
    runners = {"minigan": synced(turn, device)}
    try:
        twin = _TorchTwin(real, z, torch_device)
    except ImportError:
        twin = None
    if twin is not None:
        check_twins(turn, twin)
        runners["torch"] = synced(twin.turn, torch_device)
    return {k: t * 1e3 for k, t in interleaved(runners, repeats, turns, warmup=50).items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description="mixture-GAN turn: minigan vs PyTorch CPU")
    ap.add_argument("--turns", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    med = measure(args.turns, args.repeats)
    for k, v in med.items():
        print(f"  {k:8} {v:.3f} ms per turn (median of {args.repeats} x {args.turns} turns)")
    if "torch" in med:
        print(f"  minigan / torch = {med['minigan'] / med['torch']:.2f}")


if __name__ == "__main__":
    main()
