"""The thesis's DCGAN and conditional DCGAN (from issue 16): shapes, the DCGAN initialisation,
and one turn's losses and every gradient against PyTorch from the same weights and batch."""
import numpy as np
import pytest

import minigan as mg
from minigan.gan import GANTrainer
from minigan.models import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    dcgan_discriminator,
    dcgan_generator,
    dcgan_init,
)

B = 6


def test_shapes_of_the_thesis_architecture():
    G, D = dcgan_generator(), dcgan_discriminator()
    z = mg.tensor(np.random.default_rng(0).uniform(-1, 1, (B, 100)).astype(np.float32))
    x = G(z)
    assert x.shape == (B, 1, 28, 28) and np.abs(x.data).max() <= 1
    assert D(x).shape == (B, 1)
    convs = [m for m in G.modules() if type(m).__name__ in ("ConvTranspose2d", "Conv2d")]
    assert [tuple(c.weight.shape) for c in convs] == [(128, 64, 4, 4), (64, 32, 4, 4),
                                                      (1, 32, 3, 3)]
    cg, cd = ConditionalDCGANGenerator(), ConditionalDCGANDiscriminator()
    y = np.arange(B) % 10
    assert cd(cg(z, y), y).shape == (B, 1)
    assert cg.net[0].weight.shape == (128 * 49, 110)
    assert cd.net[0].weight.shape == (32, 11, 4, 4)


def test_the_dcgan_initialisation():
    G = dcgan_init(dcgan_generator(), np.random.default_rng(0))
    w = np.concatenate([m.weight.data.ravel() for m in G.modules()
                        if type(m).__name__ in ("Linear", "ConvTranspose2d", "Conv2d")])
    bn = np.concatenate([m.weight.data.ravel() for m in G.modules()
                         if type(m).__name__.startswith("BatchNorm")])
    assert abs(w.mean()) < 1e-3 and w.std() == pytest.approx(0.02, rel=0.02)
    assert bn.mean() == pytest.approx(1, abs=1e-3) and bn.std() == pytest.approx(0.02, rel=0.05)
    assert all(not m.bias.data.any() for m in G.modules() if getattr(m, "bias", None)
               is not None)
    again = dcgan_init(dcgan_generator(), np.random.default_rng(0))
    assert all(np.array_equal(a.data, b.data) for a, b in zip(G.parameters(),
                                                               again.parameters()))


def _copy(ours, theirs, torch):
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert tuple(p.shape) == tuple(q.shape)
            q.copy_(torch.from_numpy(np.ascontiguousarray(p.data)))


def _same_grads(ours, theirs, tol=2e-3):
    pairs = [(p.grad.data, q.grad.numpy()) for p, q in zip(ours.parameters(),
                                                           theirs.parameters())]
    top = max(float(np.abs(t).max()) for _, t in pairs)
    for g, t in pairs:
        scale = max(float(np.abs(t).max()), 1e-3 * top)
        assert float(np.abs(g - t).max()) <= tol * scale


@pytest.mark.parametrize("conditional", [False, True])
def test_one_turn_matches_pytorch_losses_and_every_gradient(torch, conditional):
    from benchmarks.dcgan_twin import _Inputs
    from benchmarks.models import _torch_dcgan
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    if conditional:
        G, D = ConditionalDCGANGenerator(), ConditionalDCGANDiscriminator()
        nets = (G.net, D.net)
    else:
        G, D = dcgan_generator(), dcgan_discriminator()
        nets = (G, D)
    for m in (G, D):
        dcgan_init(m, rng)
    tG, tD = _torch_dcgan(torch, extra=10 if conditional else 0)
    _copy(nets[0], tG, torch)
    _copy(nets[1], tD, torch)
    real = rng.uniform(-1, 1, (B, 1, 28, 28)).astype(np.float32)
    z = rng.uniform(-1, 1, (B, 100)).astype(np.float32)
    y = rng.integers(0, 10, B)
    opt = {k: mg.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for k, m in
           (("g", G), ("d", D))}
    pair = (real, y) if conditional else real
    tr = GANTrainer(G, D, opt["g"], opt["d"], lambda n, r: z, lambda n, r: pair, None,
                    batch_size=B, n_classes=10 if conditional else 0,
                    sample_labels=(lambda n, r: y) if conditional else None)
    # the twin's label inputs are benchmarks.dcgan_twin's, so they are checked here too
    inputs, labels = _Inputs(torch, conditional), torch.from_numpy(y)

    def t_in_g():
        return inputs.g(torch.from_numpy(z), labels)

    def t_d(x):
        return tD(inputs.d(x, labels))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    # D's loss: real and fake as separate batches (batch norm), G only evaluated
    with mg.no_grad():
        fake, y_fake = tr._generate(B, None)
    loss = tr._d_loss(fake, y_fake)
    D.zero_grad()
    loss.backward()
    with torch.no_grad():
        tfake = tG(t_in_g())
    tloss = bce(t_d(torch.from_numpy(real)), torch.ones(B, 1)) + bce(t_d(tfake),
                                                                    torch.zeros(B, 1))
    tD.zero_grad()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-4)
    _same_grads(nets[1], tD)
    # G's loss through D
    loss = tr._g_loss(*tr._generate(B, None))
    G.zero_grad()
    loss.backward()
    tloss = bce(t_d(tG(t_in_g())), torch.ones(B, 1))
    tG.zero_grad()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-4)
    _same_grads(nets[0], tG)


def test_the_64x64_model_has_one_more_sampling_layer():
    G = dcgan_generator(100, channels=3, image_size=64)
    D = dcgan_discriminator(channels=3, image_size=64)
    x = G(np.random.default_rng(0).uniform(-1, 1, (2, 100)).astype(np.float32))
    assert x.shape == (2, 3, 64, 64) and D(x).shape == (2, 1)
    convs = [type(m).__name__ for m in G.modules() if "Conv" in type(m).__name__]
    assert convs == ["ConvTranspose2d"] * 3 + ["Conv2d"]
    assert sum(type(m).__name__ == "Conv2d" for m in D.modules()) == 4
    with pytest.raises(ValueError, match="image_size must be one of"):
        dcgan_generator(image_size=32)
