"""One turn of the mixture GAN (thesis 4.2.1) in minigan and in a PyTorch CPU twin.

Both: G 10 -> 64 -> 32 -> 2 and D 2 -> 64 -> 32 -> 1 (ReLU), batch 64, Adam(2e-4, (0.5, 0.999)),
one D step (real and fake as one batch) then one G step with the non-saturating loss, on the
same pre-drawn real and latent batches. Timed interleaved, median of repeats.

    python -m benchmarks.mixture_turn [--turns 500] [--repeats 5]
"""
import argparse

import numpy as np

import minigan as mg
from benchmarks.timing import interleaved
from minigan.data import thesis_mixture
from minigan.gan import GANTrainer
from minigan.models import mlp_discriminator, mlp_generator


def _batches(n, seed=0):
    rng = np.random.default_rng(seed)
    mix = thesis_mixture()
    real = [mix.sample(64, rng)[0].astype(np.float32) for _ in range(n)]
    z = [rng.random((64, 10)).astype(np.float32) for _ in range(2 * n)]
    return real, z


def minigan_runner(real, z):
    mg.manual_seed(0)
    G, D = mlp_generator(10, (64, 32)), mlp_discriminator(2, (64, 32))
    og = mg.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = mg.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    it = {"r": 0, "z": 0}

    def next_real(n, rng):
        it["r"] = (it["r"] + 1) % len(real)
        return real[it["r"]]

    def next_z(n, rng):
        it["z"] = (it["z"] + 1) % len(z)
        return z[it["z"]]

    tr = GANTrainer(G, D, og, od, next_z, next_real, None)
    return tr.turn


def torch_runner(real, z):
    import torch
    from torch import nn
    torch.set_num_threads(2)
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                      nn.Linear(32, 2))
    D = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                      nn.Linear(32, 1))
    og = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.functional.binary_cross_entropy_with_logits
    real = [torch.from_numpy(r) for r in real]
    z = [torch.from_numpy(v) for v in z]
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)
    it = {"r": 0, "z": 0}

    def turn():
        it["r"] = (it["r"] + 1) % len(real)
        it["z"] = (it["z"] + 2) % len(z)
        with torch.no_grad():
            fake = G(z[it["z"]])
        logits = D(torch.cat([real[it["r"]], fake]))
        d_loss = bce(logits[:64], ones) + bce(logits[64:], zeros)
        od.zero_grad()
        d_loss.backward()
        od.step()
        for p in D.parameters():
            p.requires_grad_(False)
        g_loss = bce(D(G(z[it["z"] - 1])), ones)
        og.zero_grad()
        g_loss.backward()
        og.step()
        for p in D.parameters():
            p.requires_grad_(True)
    return turn


def measure(turns=500, repeats=5):
    real, z = _batches(turns)
    runners = {"minigan": minigan_runner(real, z)}
    try:
        runners["torch"] = torch_runner(real, z)
    except ImportError:
        pass
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
