# %% [markdown]
# # A GAN in 50 lines of plain minigan
#
# The main job (thesis example 4.2.1) with its training loop written out: no runner, no
# trainer class. A generator G maps noise to points in the plane; a discriminator D maps a
# point to a logit, "real or generated". Each turn D takes one Adam step to tell the real
# points from G's, then G takes one step to make D call its points real (Algorithm 1 of
# Goodfellow et al. 2014, with the non-saturating generator loss). The recipe is the main
# job's default: minibatch 192, learning rate 5e-4 held for half the run then decayed to 0,
# samples drawn from a moving average of G's weights. Because the target density is known,
# the result is scored exactly. The GAN, imports and score included, takes about 50 lines of
# code; the figure takes 16 more.
#
#     python examples/gan_in_50_lines.py                # 25,000 turns, about 30 s
#     python examples/gan_in_50_lines.py --steps 2000   # a quick look
#
# This file is a script and, built by `docs/notebooks/build.py`, notebook 4 of docs/notebooks.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

import minigan as mg
from minigan import functional as F
from minigan import nn
from minigan.backend.threads import single_threaded
from minigan.data import thesis_mixture
from minigan.metrics import MixtureMetrics

STEPS, SEED, OUT = 25_000, 0, None      # OUT: a folder for samples.npy and the figure

# %% [script only]
if __name__ == "__main__":              # the command line's flags (a notebook skips this cell)
    import argparse

    from minigan.runs import UserError, check_output_folder
    ap = argparse.ArgumentParser(description="A GAN on the thesis's mixture in plain code.")
    ap.add_argument("--steps", type=int, default=STEPS, help="turns (default %(default)s)")
    ap.add_argument("--seed", type=int, default=SEED, help="seed (default %(default)s)")
    ap.add_argument("--out", default="runs/gan_in_50_lines", help="folder for the outputs")
    args = ap.parse_args()
    if args.steps < 1 or args.seed < 0:
        ap.error(f"need --steps >= 1 and --seed >= 0, got {args.steps} and {args.seed}")
    try:
        check_output_folder(args.out)
    except UserError as exc:
        ap.error(str(exc))
    STEPS, SEED, OUT = args.steps, args.seed, args.out

# %% [markdown]
# The data: the thesis's mixture of four Gaussians, whose density we know exactly. The
# networks: G has 64 then 32 ReLU units, D 64 then 64; D ends in a logit, and the sigmoid
# lives inside the loss, where it is exact for any logit.

# %%
mixture = thesis_mixture()
rng = np.random.default_rng(SEED)           # every random number comes from here
mg.manual_seed(SEED)                        # ...or from here (the initial weights)
G = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2))
D = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
G_avg = copy.deepcopy(G)                    # the moving average of G's weights we sample from
opt_g = mg.optim.Adam(G.parameters(), lr=5e-4, betas=(0.5, 0.999))
opt_d = mg.optim.Adam(D.parameters(), lr=5e-4, betas=(0.5, 0.999))
batch, real_label, fake_label = 192, np.ones((192, 1)), np.zeros((192, 1))
scorer = MixtureMetrics(mixture)            # exact bin masses of the true density
z_eval = rng.uniform(size=(10_000, 10)).astype(np.float32)


def noise():
    return mg.tensor(rng.uniform(size=(batch, 10)).astype(np.float32))


def score(net):
    with mg.no_grad():
        return scorer(net(mg.tensor(z_eval)).numpy())


# %% [markdown]
# The loop. `fake.detach()` keeps D's loss from reaching G; in G's step, D's weights get
# gradients too, but `opt_d.zero_grad()` clears them before D's next step.

# %%
with single_threaded():                     # tiny matrices: one BLAS thread, no waiting
    for step in tqdm(range(1, STEPS + 1), mininterval=2):
        lr = 5e-4 * min(1.0, 2 * (STEPS + 1 - step) / STEPS)  # hold, then decay
        opt_g.lr = opt_d.lr = lr
        real = mg.tensor(mixture.sample(batch, rng)[0].astype(np.float32))
        fake = G(noise())
        d_loss = (F.binary_cross_entropy_with_logits(D(real), real_label)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), fake_label))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.binary_cross_entropy_with_logits(D(G(noise())), real_label)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        b = min(0.9999, (1 + step) / (10 + step))          # the average's warm-up
        with mg.no_grad():
            for p_avg, p in zip(G_avg.parameters(), G.parameters()):
                p_avg.data = b * p_avg.data + (1 - b) * p.data
        if step % 5000 == 0:
            tqdm.write(f"turn {step:6d}: hist {score(G_avg)['hist']:8.3f}")

# %% [markdown]
# The exact score of 10,000 samples of the averaged G: `hist` is the thesis's histogram
# distance divided by the number of samples; a perfect sampler scores about 1.0, one that
# drops a Gaussian scores in the tens.
# `tv` compares the share of samples each Gaussian gets with a perfect sampler's shares;
# `coverage` is the share of samples within Mahalanobis distance 2 of a Gaussian.

# %%
metrics, perfect = score(G_avg), scorer.perfect(10_000)
for key in ("hist", "tv", "coverage"):
    print(f"{key:8s} {metrics[key]:.3f}   (a perfect sampler: {perfect[key]:.3f})")

# %%
with mg.no_grad():
    samples = G_avg(mg.tensor(z_eval)).numpy()
grid = np.linspace(-8, 8, 200)
xx, yy = np.meshgrid(grid, grid)
density = np.exp(mixture.log_prob(np.stack([xx.ravel(), yy.ravel()], 1))).reshape(xx.shape)
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(samples[:2000, 0], samples[:2000, 1], s=2, alpha=0.4, label="2,000 of G's samples")
ax.contour(xx, yy, density, levels=6, colors="k", linewidths=0.8)
ax.set(xlim=(-8, 8), ylim=(-8, 8), aspect="equal",
       title=f"after {STEPS:,} turns: hist {metrics['hist']:.2f} (perfect: about 1.0)\n"
             "G's samples over the true density's contours")
ax.legend(loc="upper right")
if OUT:
    np.save(f"{OUT}/samples.npy", samples)
    fig.savefig(f"{OUT}/samples.png", dpi=100)
    print(f"wrote {OUT}/samples.npy and {OUT}/samples.png")
