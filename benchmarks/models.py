"""Training steps of the thesis's models in minigan and in PyTorch twins with the same weights.

Each ``*_pair`` returns (minigan_step, torch_step): two callables doing one training step on
pre-drawn data, after comparing the two frameworks' loss and parameter gradients once from
identical weights (a benchmark of a wrong computation is worthless). ``device`` ("cpu",
"cuda") places minigan's side, ``torch_device`` PyTorch's; on a GPU each step waits for its
kernels to finish (``timing.synced``), so that the time is the work's, not its launch's.
"""
import copy

import numpy as np

import minigan as mg
from benchmarks.timing import synced
from minigan import functional as F
from minigan.gan import GANTrainer
from minigan.models import ThesisCNN, dcgan_discriminator, dcgan_generator


def _torch():
    import torch
    torch.set_num_threads(2)
    return torch


def _copy_weights(ours, theirs, torch):
    """minigan's parameters and buffers into the torch twin, in registration order."""
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert tuple(p.shape) == tuple(q.shape), (p.shape, q.shape)
            q.copy_(torch.from_numpy(np.ascontiguousarray(mg.to_host(p.data))))


def _compare(loss, tloss, ours, theirs, tol=1e-2):
    """Loss and every parameter gradient agree to 1% of the gradient's largest entry: float32
    sums over up to ~80k terms in another order, while a wrong computation is off by O(1)
    (float64 exactness is in tests/). Entries far below the model's largest gradient, such as
    a bias before batch norm whose true gradient is 0, are compared at 1e-3 of it."""
    assert abs(loss - tloss) <= tol * max(1.0, abs(tloss)), (loss, tloss)
    pairs = [(mg.to_host(p.grad.data), q.grad.cpu().numpy())
             for p, q in zip(ours.parameters(), theirs.parameters())]
    top = max(float(np.abs(tg).max()) for _, tg in pairs)
    for g, tg in pairs:
        scale = max(float(np.abs(tg).max()), 1e-3 * top)
        assert float(np.abs(g - tg).max()) <= tol * scale, (g.shape, np.abs(g - tg).max(), scale)


def _float64_twin(ours, theirs):
    """Copies of a minigan module (parameters and float buffers) and of its PyTorch twin in
    float64, for a check that float32's rounding cannot upset: a DCGAN's LeakyReLU whose
    input lies within rounding of 0 takes the other slope in one framework and moves the
    generator's gradients by ~1% (seen with OpenBLAS's Haswell kernels on the check's data)."""
    ours = copy.deepcopy(ours)
    for p in ours.parameters():
        p.data = p.data.astype(np.float64)
    for m in ours.modules():
        for name, b in m._buffers.items():
            if getattr(b, "dtype", None) is not None and b.dtype.kind == "f":
                setattr(m, name, b.astype(np.float64))
    return ours, copy.deepcopy(theirs).double()


def _classifier_pair(ours, theirs, x, y, make_opt, make_topt, device, torch_device):
    torch = _torch()
    ours.to(device)
    theirs.to(torch_device)
    _copy_weights(ours, theirs, torch)
    tx, ty = torch.from_numpy(x).to(torch_device), torch.from_numpy(y).to(torch_device)
    mx = mg.tensor(x, device=device)
    y = mg.backend.to_device(y, device)

    def check():
        loss = F.cross_entropy(ours(mx), y)
        ours.zero_grad()
        loss.backward()
        theirs.zero_grad()
        tloss = torch.nn.functional.cross_entropy(theirs(tx), ty)
        tloss.backward()
        _compare(loss.item(), tloss.item(), ours, theirs)

    check()
    opt, topt = make_opt(ours), make_topt(theirs)

    def step():
        loss = F.cross_entropy(ours(mx), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def tstep():
        loss = torch.nn.functional.cross_entropy(theirs(tx), ty)
        topt.zero_grad()
        loss.backward()
        topt.step()
    return synced(step, device), synced(tstep, torch_device)


def mlp_pair(batch=100, hidden=2048, seed=0, device="cpu", torch_device="cpu"):
    torch = _torch()
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 784), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    mg.manual_seed(seed)
    ours = mg.nn.fuse(mg.nn.Sequential(mg.nn.Linear(784, hidden), mg.nn.ReLU(),
                                       mg.nn.Linear(hidden, 10)))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(),
                                 torch.nn.Linear(hidden, 10))
    return _classifier_pair(ours, theirs, x, y,
                            lambda m: mg.optim.SGD(m.parameters(), lr=0.1),
                            lambda m: torch.optim.SGD(m.parameters(), lr=0.1),
                            device, torch_device)


def cnn_pair(batch=100, seed=0, device="cpu", torch_device="cpu"):
    torch = _torch()
    nn = torch.nn
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    mg.manual_seed(seed)
    ours = ThesisCNN()
    theirs = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Conv2d(16, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 10))
    return _classifier_pair(ours, theirs, x, y,
                            lambda m: mg.optim.Adam(m.parameters(), lr=1e-3),
                            lambda m: torch.optim.Adam(m.parameters(), lr=1e-3),
                            device, torch_device)


def _torch_dcgan(torch, extra=0):
    """The thesis's DCGAN in PyTorch; ``extra`` label inputs for the conditional pair."""
    nn = torch.nn
    G = nn.Sequential(nn.Linear(100 + extra, 128 * 49), nn.BatchNorm1d(128 * 49), nn.ReLU(),
                      nn.Unflatten(1, (128, 7, 7)),
                      nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64),
                      nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
                      nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 1, 3, padding=1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1 + extra, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                      nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64),
                      nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 3, stride=2, padding=1),
                      nn.BatchNorm2d(128), nn.LeakyReLU(0.2), nn.Flatten(),
                      nn.Linear(128 * 16, 1))
    return G, D


def dcgan_pair(batch=64, seed=0, batches=4, device="cpu", torch_device="cpu"):
    torch = _torch()
    rng = np.random.default_rng(seed)
    real = [rng.random((batch, 1, 28, 28), dtype=np.float32) * 2 - 1 for _ in range(batches)]
    z = [rng.random((batch, 100), dtype=np.float32) for _ in range(2 * batches)]
    mg.manual_seed(seed)
    G, D = mg.nn.fuse(dcgan_generator()).to(device), mg.nn.fuse(dcgan_discriminator()).to(device)
    tG, tD = (m.to(torch_device) for m in _torch_dcgan(torch))
    _copy_weights(G, tG, torch)
    _copy_weights(D, tD, torch)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def check():                   # the generator's loss and gradients through D, in float64
        (g, tg), (d, td) = _float64_twin(G, tG), _float64_twin(D, tD)
        z64 = z[0].astype(np.float64)
        loss = mg.gan.generator_loss(d(g(mg.tensor(z64, device=device))))
        loss.backward()
        tloss = bce(td(tg(torch.from_numpy(z64).to(torch_device))),
                    torch.ones(batch, 1, device=torch_device, dtype=torch.float64))
        tloss.backward()
        _compare(loss.item(), tloss.item(), g, tg, tol=1e-6)
        _compare(loss.item(), tloss.item(), d, td, tol=1e-6)

    check()
    real, z = ([mg.backend.to_device(a, device) for a in arrays] for arrays in (real, z))
    # D (110k values) is small enough for FlatAdam's one buffer (33 against 42 us a step)
    adam_g = mg.optim.Adam if device == "cpu" else mg.optim.FlatAdam   # GPU: one launch
    opt = {"g": adam_g(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
           "d": mg.optim.FlatAdam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))}
    topt = {k: torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
            for k, m in (("g", tG), ("d", tD))}
    it = {"r": 0, "z": 0}

    def nxt(key, items):
        it[key] = (it[key] + 1) % len(items)
        return items[it[key]]

    trainer = GANTrainer(G, D, opt["g"], opt["d"], lambda n, r: nxt("z", z),
                         lambda n, r: nxt("r", real), None, batch_size=batch)
    treal = [torch.from_numpy(mg.to_host(r)).to(torch_device) for r in real]
    tz = [torch.from_numpy(mg.to_host(v)).to(torch_device) for v in z]
    ones = torch.ones(batch, 1, device=torch_device)
    zeros = torch.zeros(batch, 1, device=torch_device)
    tit = {"r": 0, "z": 0}

    def tstep():
        tit["r"] = (tit["r"] + 1) % len(treal)
        tit["z"] = (tit["z"] + 2) % len(tz)
        with torch.no_grad():
            fake = tG(tz[tit["z"]])
        d_loss = bce(tD(treal[tit["r"]]), ones) + bce(tD(fake), zeros)
        topt["d"].zero_grad()
        d_loss.backward()
        topt["d"].step()
        for p in tD.parameters():
            p.requires_grad_(False)
        g_loss = bce(tD(tG(tz[tit["z"] - 1])), ones)
        topt["g"].zero_grad()
        g_loss.backward()
        topt["g"].step()
        for p in tD.parameters():
            p.requires_grad_(True)
    return synced(trainer.turn, device), synced(tstep, torch_device)
