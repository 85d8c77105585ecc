"""minigan.inpaint (issue 17): masks and weights, the latent search (the gradient reaches only
z), Poisson blending against closed forms, the baselines and the hole's metrics."""
import numpy as np
import pytest

import minigan as mg
from minigan import inpaint as ip
from minigan import nn
from minigan.gradcheck import gradcheck
from minigan.models.dcgan import Reshape

SIZE = 8


def tiny_gan(seed=0, dtype=np.float32):
    """A tiny G (latent 5 -> 1x8x8 image, with batch norm) and D (a convolution with batch
    norm -> a logit)."""
    mg.manual_seed(seed)
    G = nn.Sequential(nn.Linear(5, 2 * 4 * 4), nn.BatchNorm1d(32), nn.ReLU(), Reshape(2, 4, 4),
                      nn.ConvTranspose2d(2, 1, 4, stride=2, padding=1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, 3, 4, stride=2, padding=1), nn.BatchNorm2d(3),
                      nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(48, 1))
    rng = np.random.default_rng(seed)
    for net in (G, D):                    # running statistics that are not the defaults
        for name, buf in net.named_buffers():
            buf[...] = rng.uniform(0.5, 1.5, buf.shape) if "var" in name else rng.normal(
                0, 0.1, buf.shape)
        for p in net.parameters():
            p.data = p.data.astype(dtype)
    return G, D


def images(n=6, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 1, SIZE, SIZE)).astype(np.float32)


def state(*nets):
    return [{k: np.array(v) for k, v in net.state_dict().items()} for net in nets]


# --- masks and weights --------------------------------------------------------------------------

def test_mask_shapes_and_holes():
    rng = np.random.default_rng(0)
    c = ip.centre_mask(28)
    assert c.shape == (28, 28) and (~c).sum() == 14 * 14 and not c[7:21, 7:21].any()
    assert c[6].all() and c[21].all()
    assert (~ip.left_mask(28))[:, :14].all() and ip.left_mask(28)[:, 14:].all()
    pixels = ip.make_masks("pixels", 5, 28, rng)
    assert pixels.shape == (5, 28, 28) and ((~pixels).sum((1, 2)) == round(0.8 * 784)).all()
    blocks = ip.make_masks("blocks", 5, 28, rng)
    assert blocks.shape == (5, 28, 28) and (~blocks).any((1, 2)).all()
    assert ((~blocks).sum((1, 2)) <= 3 * 49).all()
    assert (ip.make_masks("centre", 3, 28, rng) == c).all()
    with pytest.raises(ValueError, match="unknown mask 'ring'"):
        ip.make_masks("ring", 3, 28, rng)


@pytest.mark.parametrize("bad, message", [
    (np.ones((SIZE, SIZE), bool), "has no hole"),
    (np.zeros((SIZE, SIZE), bool), "has no known pixel"),
    (np.ones((SIZE, SIZE + 1), bool), "masks must be"),
    (np.ones((SIZE, SIZE)), "booleans"),
])
def test_bad_masks_get_one_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        ip.check_masks(bad, images())


def test_importance_weights_are_zero_in_the_hole_and_largest_at_its_edge():
    m = ip.centre_mask(28)
    w = ip.importance_weights(m[None])[0]
    assert w.shape == (28, 28) and (w[~m] == 0).all()
    row = w[14, :7]                         # from the image's edge to the hole's, on one row
    assert row[-1] == w.max() and (np.diff(row[-4:]) > 0).all()
    assert (row[:4] == 0).all()             # farther than window // 2: no weight
    assert (ip.context_weights(m[None], "mask")[0] == m).all()
    with pytest.raises(ValueError, match="unknown weighting"):
        ip.context_weights(m[None], "distance")


def test_importance_weights_match_a_direct_count():
    rng = np.random.default_rng(3)
    m = rng.random((2, 9, 9)) < 0.7
    w = ip.importance_weights(m, window=3)
    for i, r, c in np.ndindex(2, 9, 9):
        win = m[i, max(r - 1, 0):r + 2, max(c - 1, 0):c + 2]
        want = (~win).mean() if m[i, r, c] else 0
        assert w[i, r, c] == pytest.approx(want, abs=1e-6)


# --- the search -----------------------------------------------------------------------------------

def test_the_gradient_reaches_only_the_latent():
    G, D = tiny_gan()
    G.train()
    D.eval()
    before = state(G, D)
    x = images()
    z0 = np.random.default_rng(2).uniform(-1, 1, (6, 4, 5)).astype(np.float32)
    ip.search(G, D, x, ip.centre_mask(SIZE), z0, keep=2, steps=5)
    for old, new in zip(before, state(G, D)):
        assert old.keys() == new.keys() and all((old[k] == new[k]).all() for k in old)
    params = list(G.parameters()) + list(D.parameters())
    assert all(p.grad is None and p.requires_grad for p in params)
    assert G.training and not D.training                # modes restored


def test_the_latent_gradient_passes_gradcheck_in_float64():
    G, D = tiny_gan(dtype=np.float64)
    x = images(3).astype(np.float64)
    w = ip.importance_weights(np.broadcast_to(ip.centre_mask(SIZE), (3, SIZE, SIZE)))[:, None]
    z = mg.tensor(np.random.default_rng(4).uniform(-1, 1, (3, 5)), requires_grad=True)
    with ip.frozen(G, D):
        assert gradcheck(lambda z: ip.latent_loss(G, D, z, x, w.astype(np.float64),
                                                  lam=0.5)[0], [z])


def test_the_search_keeps_the_lowest_loss_and_lowers_it():
    G, D = tiny_gan()
    x, m = images(), ip.centre_mask(SIZE)
    z0 = np.random.default_rng(5).uniform(-1, 1, (6, 8, 5)).astype(np.float32)
    start = ip.search(G, D, x, m, z0, keep=8, steps=0)
    w = np.broadcast_to(m, (6, SIZE, SIZE)).astype(np.float32)[:, None]
    with ip.frozen(G, D), mg.no_grad():
        every = ip.latent_loss(G, D, z0.reshape(48, 5), np.repeat(x, 8, 0),
                               np.repeat(w, 8, 0))[0].data.reshape(6, 8)
    np.testing.assert_allclose(start.loss, every.min(1), rtol=1e-5)
    np.testing.assert_array_equal(start.z, z0[np.arange(6), every.argmin(1)])
    found = ip.search(G, D, x, m, z0, keep=2, steps=40)
    assert (found.loss < start.loss).all() and found.curve[-1] < found.curve[0]
    assert found.curve.shape == (41,) and np.abs(found.z).max() <= 1
    assert found.generated.shape == x.shape


def test_search_options_are_used():
    G, D = tiny_gan()
    x, m = images(), ip.centre_mask(SIZE)
    z0 = np.random.default_rng(6).uniform(-1, 1, (6, 4, 5)).astype(np.float32)

    def run(**kw):
        return ip.search(G, D, x, m, z0, **{"keep": 2, "steps": 10, **kw})
    base = run()
    for kw in (dict(weighting="importance"), dict(lr=0.05), dict(lam=1.0), dict(keep=1),
               dict(steps=3)):
        assert not np.array_equal(run(**kw).z, base.z), kw
    np.testing.assert_allclose(run(batch=4).z, base.z, atol=1e-5)     # chunks: same answer
    with pytest.raises(ValueError, match="keep must be in"):
        run(keep=5)


def test_a_resumed_search_gives_the_same_result():
    G, D = tiny_gan()
    x, m = images(), ip.centre_mask(SIZE)
    z0 = np.random.default_rng(7).uniform(-1, 1, (6, 3, 5)).astype(np.float32)
    chunks, steps = {}, []
    whole = ip.search(G, D, x, m, z0, keep=2, steps=6, batch=4,
                      on_chunk=lambda i, r: chunks.__setitem__(i, r))
    assert sorted(chunks) == [0, 1, 2]
    again = ip.search(G, D, x, m, z0, keep=2, steps=6, batch=4, done={0: chunks[0]},
                      on_step=steps.append)
    assert len(steps) == 3 * 6 and steps[:6] == [None] * 6       # chunk 0 was done
    assert all(isinstance(v, float) and v > 0 for v in steps[6:])   # each step's mean loss
    for key in ("z", "generated", "loss", "curve"):
        np.testing.assert_array_equal(getattr(again, key), getattr(whole, key))


# --- blending -------------------------------------------------------------------------------------

def test_paste_keeps_the_known_pixels_and_fills_the_hole():
    x, g, m = images(), images(seed=9), ip.centre_mask(SIZE)
    out = ip.paste(x, g, np.broadcast_to(m, (6, SIZE, SIZE)))
    assert (out[:, :, m] == x[:, :, m]).all() and (out[:, :, ~m] == g[:, :, ~m]).all()


@pytest.mark.parametrize("mask", [ip.centre_mask(SIZE), ip.left_mask(SIZE)])
def test_poisson_reproduces_y_when_g_is_y_up_to_a_constant(mask):
    x = images().astype(np.float64)
    out = ip.poisson_blend(x, x + 0.3, mask)           # same gradients as y
    np.testing.assert_allclose(out, x, atol=1e-8)


def test_poisson_matches_closed_forms():
    x = np.zeros((1, 1, 5, 5))
    g = np.random.default_rng(1).normal(size=x.shape)
    m = np.ones((5, 5), bool)
    m[2, 2] = False                                    # one unknown pixel
    y = np.random.default_rng(2).normal(size=x.shape)
    nbrs = [(1, 2), (3, 2), (2, 1), (2, 3)]
    want = (4 * g[0, 0, 2, 2] - sum(g[0, 0, r, c] for r, c in nbrs)
            + sum(y[0, 0, r, c] for r, c in nbrs)) / 4
    assert ip.poisson_blend(y, g, m)[0, 0, 2, 2] == pytest.approx(want, abs=1e-9)
    r, c = np.mgrid[:SIZE, :SIZE]                      # harmonic: a plane stays a plane
    plane = (0.1 * r - 0.05 * c + 0.2)[None, None]
    out = ip.poisson_blend(plane, np.zeros_like(plane), ip.centre_mask(SIZE))
    np.testing.assert_allclose(out, plane, atol=1e-8)


def test_poisson_keeps_the_boundary_and_follows_g_inside():
    x, g = images().astype(np.float64), images(seed=3).astype(np.float64)
    m = np.broadcast_to(ip.centre_mask(SIZE), (6, SIZE, SIZE))
    out = ip.poisson_blend(x, g, m)
    assert (out[:, :, m[0]] == x[:, :, m[0]]).all()
    hole = ~m[0]
    lap = 4 * out - ip._neighbour_sum(out)             # interior hole pixels: Laplacian of g
    inner = hole & np.roll(hole, 1, 0) & np.roll(hole, -1, 0) & np.roll(hole, 1, 1) \
        & np.roll(hole, -1, 1)
    np.testing.assert_allclose(lap[:, :, inner], (4 * g - ip._neighbour_sum(g))[:, :, inner],
                               atol=1e-7)
    assert out.dtype == x.dtype and ip.poisson_blend(x.astype(np.float32), g, m).dtype \
        == np.float32


# --- baselines and metrics ------------------------------------------------------------------------

def test_baselines():
    train = images(40, seed=11)
    train = np.concatenate([train, 3 * train[[3, 17]]])   # near in direction, far in L2
    m = np.broadcast_to(ip.centre_mask(SIZE), (5, SIZE, SIZE))
    y = train[[3, 17, 0, 39, 8]] + 0.01
    out, index = ip.nearest_neighbour(y, m, train, chunk=2)
    assert list(index) == [3, 17, 0, 39, 8]
    np.testing.assert_array_equal(out[:, :, ~m[0]], train[index][:, :, ~m[0]])
    mean = ip.mean_fill(y, m, train)
    np.testing.assert_allclose(mean[:, :, ~m[0]], np.broadcast_to(train.mean(0), y.shape)
                               [:, :, ~m[0]])
    assert (mean[:, :, m[0]] == y[:, :, m[0]]).all()


def test_hole_metrics():
    x = images()
    m = ip.centre_mask(SIZE)
    assert (ip.hole_psnr(x, x, m) == 100).all() and np.allclose(ip.hole_ssim(x, x, m), 1)
    off = np.where(m, x, x + 0.2)                      # 0.2 of the range 2 in the hole
    np.testing.assert_allclose(ip.hole_psnr(off, x, m), 10 * np.log10(1 / 0.1 ** 2))
    outside = np.where(m, x + 0.5, x)                  # PSNR sees only the hole
    assert (ip.hole_psnr(outside, x, m) == 100).all()
    worse = np.where(m, x, -x)
    assert (ip.hole_ssim(worse, x, m) < ip.hole_ssim(off, x, m)).all()
    assert (ip.hole_ssim(off, x, m) < 1).all()
    grey = ip.masked(x, m)
    assert (grey[:, :, ~m] == ip.HOLE_GREY).all() and (grey[:, :, m] == x[:, :, m]).all()


def test_ssim_matches_its_formula_on_constant_images():
    a, b = np.full((1, 1, SIZE, SIZE), 0.2), np.full((1, 1, SIZE, SIZE), -0.4)
    mu_a, mu_b, c1 = 0.6, 0.3, 0.01 ** 2             # in [0, 1]: (x + 1) / 2
    want = (2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1)
    np.testing.assert_allclose(ip.hole_ssim(a, b, ip.centre_mask(SIZE)), want)


def test_latent_loss_matches_its_formula():
    G, D = tiny_gan()
    x, m = images(2), ip.centre_mask(SIZE)
    w = np.broadcast_to(m, (2, SIZE, SIZE)).astype(np.float32)[:, None]
    z = np.random.default_rng(8).uniform(-1, 1, (2, 5)).astype(np.float32)
    with ip.frozen(G, D), mg.no_grad():
        loss, g = ip.latent_loss(G, D, z, x, w, lam=0.7)
        d = 1 / (1 + np.exp(-D(g).data[:, 0]))
    want = np.abs((g.data - x) * w).sum((1, 2, 3)) + 0.7 * np.log(1 - d)
    np.testing.assert_allclose(loss.data, want, rtol=1e-5)
