"""Inpainting by latent search (thesis 5.1.3, after Yeh et al. 2016), with the two improvements
the thesis named and did not build.

A trained GAN is frozen. For an image y whose known pixels are given by a mask M (True: known,
False: the hole), search the latent space for the z whose G(z) best matches y where it is
known and that D finds real:

    L(z) = || W * (G(z) - y) ||_1 + lam * log(1 - D(G(z)))           (lam = 0.003)

with W = M (the thesis) or Yeh et al.'s importance weights (known pixels near the hole count
more, far ones not at all). Adam (lr 0.005) moves z only: G's and D's weights are frozen and
get no gradient. Each image gets ``candidates`` random latents; all are scored, the best
``keep`` are refined together in one batch with every other image's, and the one of lowest
final loss wins. Then the hole is filled from G(z*): pasted (the thesis: M y + (1 - M) G(z*))
or Poisson-blended (G(z*)'s gradients inside the hole, y's values on its boundary).

Images are (N, C, H, W) arrays in [-1, 1]; masks (H, W) or (N, H, W) booleans. Baselines
(mean fill, nearest neighbour) and the hole's metrics (PSNR, SSIM) are here too, so that the
example only wires them together.
"""
import contextlib
from dataclasses import dataclass

import numpy as np

import minigan as mg
from minigan import functional as F
from minigan.backend import get_array_module, to_device, to_host

LAMBDA = 0.003          # the weight of D's term (Yeh et al., the thesis)
LR = 0.005              # Adam's learning rate on z
WINDOW = 7              # the importance weights' neighbourhood (Yeh et al.)
HOLE_GREY = 0.0         # what a masked image shows in its hole (mid grey in [-1, 1])


# --- masks (True: a known pixel; False: the hole) ---------------------------------------------

def centre_mask(size=28):
    """The centre square of half the side (the thesis: 32x32 of 64x64; 14x14 of 28x28)."""
    m = np.ones((size, size), dtype=bool)
    lo = size // 4
    m[lo:lo + size // 2, lo:lo + size // 2] = False
    return m


def left_mask(size=28):
    """The left half of the image is the hole."""
    m = np.ones((size, size), dtype=bool)
    m[:, :size // 2] = False
    return m


def blocks_mask(n, size, rng, blocks=3, side=None):
    """``blocks`` random squares of ``side`` (default size // 4) per image, (n, size, size)."""
    side = side or max(size // 4, 1)
    m = np.ones((n, size, size), dtype=bool)
    corners = rng.integers(0, size - side + 1, (n, blocks, 2))
    for i, b in np.ndindex(n, blocks):
        r, c = corners[i, b]
        m[i, r:r + side, c:c + side] = False
    return m


def pixels_mask(n, size, rng, missing=0.8):
    """A random ``missing`` share of each image's pixels is the hole (Yeh et al.'s "random")."""
    m = np.ones((n, size * size), dtype=bool)
    k = int(round(missing * size * size))
    for i in range(n):
        m[i, rng.choice(size * size, k, replace=False)] = False
    return m.reshape(n, size, size)


MASKS = ("centre", "left", "blocks", "pixels")


def make_masks(kind, n, size, rng):
    """(n, size, size) masks of one of MASKS (``rng`` draws the random ones)."""
    if kind == "centre":
        return np.broadcast_to(centre_mask(size), (n, size, size)).copy()
    if kind == "left":
        return np.broadcast_to(left_mask(size), (n, size, size)).copy()
    if kind == "blocks":
        return blocks_mask(n, size, rng)
    if kind == "pixels":
        return pixels_mask(n, size, rng)
    raise ValueError(f"unknown mask {kind!r}; one of {', '.join(MASKS)}")


def check_masks(masks, images):
    """The masks as (N, H, W) booleans for ``images`` (N, C, H, W); ValueError for a shape that
    does not fit, or a mask with no hole or no known pixel."""
    images = np.asarray(images)
    masks = np.asarray(masks)
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {images.shape}")
    if masks.dtype != bool:
        raise ValueError(f"masks must be booleans (True: known pixel), got {masks.dtype}")
    n, hw = len(images), images.shape[2:]
    if masks.shape == hw:
        masks = np.broadcast_to(masks, (n,) + hw)
    if masks.shape != (n,) + hw:
        raise ValueError(f"masks must be {hw} or {(n,) + hw} for images {images.shape}, "
                         f"got {masks.shape}")
    known = masks.reshape(n, -1).sum(1)
    for what, bad in (("no hole", known == masks[0].size), ("no known pixel", known == 0)):
        if bad.any():
            raise ValueError(f"mask of image {int(np.argmax(bad))} has {what}")
    return masks


def _window_sum(a, window):
    """The sum of ``a`` (N, H, W) over the window x window square around each pixel (zero
    outside the image)."""
    r = window // 2
    p = np.pad(a, ((0, 0), (r, r), (r, r)))
    c = np.cumsum(np.cumsum(p, 1), 2)
    c = np.pad(c, ((0, 0), (1, 0), (1, 0)))
    h, w = a.shape[1:]
    return (c[:, window:window + h, window:window + w] - c[:, :h, window:window + w]
            - c[:, window:window + h, :w] + c[:, :h, :w])


def importance_weights(masks, window=WINDOW):
    """Yeh et al.'s contextual weights: a known pixel weighs the share of hole pixels in the
    ``window`` x ``window`` square around it (counting only squares inside the image); hole
    pixels weigh 0. So the known pixels at the hole's edge count most, and those farther than
    window // 2 from it not at all. (N, H, W) float32."""
    masks = np.asarray(masks, dtype=bool)
    hole = (~masks).astype(np.float64)
    inside = _window_sum(np.ones_like(hole), window)
    return (masks * _window_sum(hole, window) / inside).astype(np.float32)


WEIGHTINGS = ("mask", "importance")


def context_weights(masks, weighting):
    """W of the contextual loss: the mask itself (the thesis) or ``importance_weights``."""
    if weighting == "mask":
        return np.asarray(masks, dtype=np.float32)
    if weighting == "importance":
        return importance_weights(masks)
    raise ValueError(f"unknown weighting {weighting!r}; one of {', '.join(WEIGHTINGS)}")


# --- the search --------------------------------------------------------------------------------

@contextlib.contextmanager
def frozen(*modules):
    """The modules in evaluation mode (batch norm on its running statistics) with no
    parameter asking for a gradient, so a backward reaches only the inputs; restored after."""
    params = [p for m in modules for p in m.parameters()]
    wanted = [p.requires_grad for p in params]
    modes = [m.training for m in modules]
    try:
        for m in modules:
            m.eval()
        for p in params:
            p.requires_grad = False
        yield
    finally:
        for p, w in zip(params, wanted):
            p.requires_grad = w
        for m, t in zip(modules, modes):
            m.train(t)


def latent_loss(G, D, z, y, w, lam=LAMBDA):
    """(L(z) per sample (N,), G(z)): the weighted L1 distance to y plus lam log(1 - D(G(z)));
    D gives a logit l, and log(1 - sigmoid(l)) = -softplus(l)."""
    x = G(z)
    context = F.sum(F.abs(x - y) * w, dim=(1, 2, 3))
    return context - lam * F.softplus(D(x)).reshape(-1), x


@dataclass
class Search:
    """A latent search's result per image: the winning latent (N, m), G of it (N, C, H, W),
    its loss (N,), and the mean loss of all refined latents before each step and at the end
    (steps + 1,)."""
    z: np.ndarray
    generated: np.ndarray
    loss: np.ndarray
    curve: np.ndarray


def _on(G, *arrays):
    """The arrays on G's device (the search runs where G and D are)."""
    dev = G.device
    return [to_device(a, dev) for a in arrays]


def _losses(G, D, z, y, w, lam, batch):
    """L at the latents z (B, m) for their images y and weights w (no graph), as host
    arrays."""
    with mg.no_grad():
        out = [latent_loss(G, D, *_on(G, z[i:i + batch], y[i:i + batch], w[i:i + batch]),
                           lam) for i in range(0, len(z), batch)]
    return (np.concatenate([to_host(loss.data) for loss, _ in out]),
            np.concatenate([to_host(x.data) for _, x in out]))


def refine(G, D, z0, y, w, steps, lr=LR, lam=LAMBDA, on_step=None):
    """Adam on the latents z0 (B, m) for ``steps`` steps, each kept in [-1, 1] (the latent's
    support), all in one batch; returns (z, loss per latent at z (B,), G(z), mean loss after
    each step (steps + 1,)). ``on_step(mean loss)`` after each step. G and D must be frozen
    (``frozen``)."""
    z0, y_on, w_on = _on(G, np.array(z0, dtype=np.float32), y, w)
    z = mg.Tensor(z0, requires_grad=True)
    opt = mg.optim.Adam([z], lr=lr)
    curve = []
    for _ in range(steps):
        loss, _ = latent_loss(G, D, z, y_on, w_on, lam)
        curve.append(float(loss._data.mean()))
        opt.zero_grad()
        F.sum(loss).backward()
        opt.step()
        z.data = get_array_module(z.data).clip(z.data, -1, 1)
        if on_step is not None:
            on_step(curve[-1])
    loss, x = _losses(G, D, z.data, y, w, lam, len(z.data))
    return to_host(z.data), loss, x, np.array(curve + [float(loss.mean())])


def search(G, D, images, masks, z0, *, weighting="mask", keep=4, steps=300, lr=LR,
           lam=LAMBDA, batch=256, on_step=None, on_chunk=None, done=None):
    """Inpaint ``images`` (N, C, H, W) in [-1, 1] with holes ``masks`` by searching G's latent
    space from the candidates z0 (N, K, m): all N*K are scored, the ``keep`` best of each image
    refined by ``refine``, the lowest final loss kept. Images go in chunks of batch // keep
    (a batch of ``batch`` latents); ``on_step(mean loss)`` is called after each step (with
    None for the steps of a chunk already done), ``on_chunk(i, result)`` as chunk i finishes,
    and ``done`` {i: result} skips finished chunks (a resumed search). Returns a Search."""
    masks = check_masks(masks, images)
    n, k = z0.shape[:2]
    if not 1 <= keep <= k:
        raise ValueError(f"keep must be in [1, {k}] (the candidates), got {keep}")
    w = context_weights(masks, weighting)[:, None]
    y = np.asarray(images, dtype=np.float32)
    per = max(batch // keep, 1)
    done = dict(done or {})
    with frozen(G, D):
        for c, lo in enumerate(range(0, n, per)):
            if c not in done:
                done[c] = _chunk(G, D, y[lo:lo + per], w[lo:lo + per], z0[lo:lo + per], keep,
                                 steps, lr, lam, batch, on_step)
                if on_chunk is not None:
                    on_chunk(c, done[c])
            elif on_step is not None:
                for _ in range(steps):
                    on_step(None)
    parts = [done[c] for c in sorted(done)]
    sizes = np.array([len(p["loss"]) for p in parts], dtype=np.float64)
    curve = sum(p["curve"] * s for p, s in zip(parts, sizes)) / sizes.sum()
    return Search(*(np.concatenate([p[key] for p in parts])
                    for key in ("z", "generated", "loss")), curve)


def _chunk(G, D, y, w, z0, keep, steps, lr, lam, batch, on_step):
    """One chunk of ``search``: screen, refine, choose. A dict of arrays (saveable)."""
    n, k, m = z0.shape
    flat = z0.reshape(n * k, m)
    first, _ = _losses(G, D, flat, np.repeat(y, k, 0), np.repeat(w, k, 0), lam, batch)
    best = np.argsort(first.reshape(n, k), axis=1, kind="stable")[:, :keep]
    start = z0[np.arange(n)[:, None], best].reshape(n * keep, m)
    z, loss, x, curve = refine(G, D, start, np.repeat(y, keep, 0), np.repeat(w, keep, 0),
                               steps, lr, lam, on_step)
    win = loss.reshape(n, keep).argmin(1) + np.arange(n) * keep
    return {"z": z[win], "generated": x[win], "loss": loss[win], "curve": curve}


# --- blending ----------------------------------------------------------------------------------

def paste(images, generated, masks):
    """The thesis's fill: M y + (1 - M) G(z*)."""
    return np.where(check_masks(masks, images)[:, None], images, generated)


def _neighbour_sum(a):
    """The sum of each pixel's 4 neighbours inside the image, over the last two axes."""
    s = np.zeros_like(a)
    s[..., 1:, :] += a[..., :-1, :]
    s[..., :-1, :] += a[..., 1:, :]
    s[..., :, 1:] += a[..., :, :-1]
    s[..., :, :-1] += a[..., :, 1:]
    return s


def poisson_blend(images, generated, masks, tol=1e-10, max_iter=None):
    """Poisson blending (Pérez et al. 2003): inside the hole, the f whose discrete Laplacian is
    G(z*)'s, equal to y on the known pixels around it:

        n_p f_p - sum_{q in N(p), q in hole} f_q
            = sum_{q in N(p)} (g_p - g_q) + sum_{q in N(p), q known} y_q      (p in the hole)

    with N(p) p's 4 neighbours inside the image (n_p of them: an image edge is a mirror).
    Solved by conjugate gradients on every image and channel at once, in float64, to a
    residual of ``tol`` times the right side's norm. Known pixels are y's, exactly."""
    masks = check_masks(masks, images)
    y = np.asarray(images, dtype=np.float64)
    g = np.asarray(generated, dtype=np.float64)
    hole = np.broadcast_to(~masks[:, None], y.shape).astype(np.float64)
    count = _neighbour_sum(np.ones(y.shape[-2:]))

    def apply(f):
        return hole * (count * f - _neighbour_sum(hole * f))

    b = hole * (count * g - _neighbour_sum(g) + _neighbour_sum((1 - hole) * y))
    f = _conjugate_gradient(apply, b, tol, max_iter or 4 * y.shape[-1] * y.shape[-2])
    return (hole * f + (1 - hole) * y).astype(np.asarray(images).dtype)


def _conjugate_gradient(apply, b, tol, max_iter):
    """Solve apply(x) = b for each image (the first axis) by conjugate gradients; ``apply`` is
    symmetric positive definite on each image's hole."""
    axes = tuple(range(1, b.ndim))
    shape = (-1,) + (1,) * (b.ndim - 1)
    x, r = np.zeros_like(b), b.copy()
    p, rr = r.copy(), (r * r).sum(axes)
    goal = (tol * np.sqrt((b * b).sum(axes))) ** 2
    for _ in range(max_iter):
        if (rr <= goal).all():
            break
        ap = apply(p)
        alpha = np.where(rr > goal, rr / np.maximum((p * ap).sum(axes), 1e-300), 0)
        x += alpha.reshape(shape) * p
        r -= alpha.reshape(shape) * ap
        rr_new = (r * r).sum(axes)
        p = r + (rr_new / np.maximum(rr, 1e-300)).reshape(shape) * p
        rr = rr_new
    return x


BLENDS = {"paste": paste, "poisson": poisson_blend}


# --- baselines ---------------------------------------------------------------------------------

def mean_fill(images, masks, train):
    """The hole filled with the training images' mean image."""
    return paste(images, np.broadcast_to(train.mean(0), images.shape), masks)


def nearest_neighbour(images, masks, train, chunk=250):
    """(completed images, index of the training image used): the training image closest to y
    in L2 on y's known pixels, pasted into the hole."""
    masks = check_masks(masks, images)
    t = train.reshape(len(train), -1).astype(np.float32)
    t2 = t * t
    index = np.empty(len(images), dtype=np.int64)
    for lo in range(0, len(images), chunk):
        m = np.broadcast_to(masks[lo:lo + chunk, None], images[lo:lo + chunk].shape)
        m = m.reshape(len(m), -1).astype(np.float32)
        y = images[lo:lo + chunk].reshape(len(m), -1).astype(np.float32)
        # |M (t - y)|^2 = t^2 . M - 2 t . (M y) + const(y)
        index[lo:lo + chunk] = (t2 @ m.T - 2 * t @ (m * y).T).argmin(0)
    return paste(images, train[index], masks), index


# --- metrics of the hole -----------------------------------------------------------------------

def _unit(images, value_range):
    lo, hi = value_range
    return (np.asarray(images, np.float64) - lo) / (hi - lo)


def hole_psnr(completed, originals, masks, value_range=(-1.0, 1.0)):
    """PSNR (dB) of each completed image against its original over the hole's pixels only
    (the known ones are the original's by construction); 100 dB for an exact hole."""
    d = _unit(completed, value_range) - _unit(originals, value_range)
    mse = _hole_mean(d * d, masks, originals)
    return 10 * np.log10(1 / np.maximum(mse, 1e-10))


def _hole_mean(values, masks, images):
    """The mean of ``values`` (N, C, H, W) over each image's hole."""
    hole = np.broadcast_to(~check_masks(masks, images)[:, None], values.shape)
    return (values * hole).sum((1, 2, 3)) / hole.sum((1, 2, 3))


def _gaussian_blur(a, sigma=1.5, radius=3):
    """A separable Gaussian filter over the last two axes, edges reflected."""
    t = np.arange(-radius, radius + 1)
    k = np.exp(-t * t / (2 * sigma * sigma))
    k /= k.sum()
    pad = [(0, 0)] * (a.ndim - 2) + [(radius, radius)] * 2
    p = np.pad(a, pad, mode="reflect")
    h, w = a.shape[-2:]
    rows = sum(k[i] * p[..., i:i + h, :] for i in range(len(k)))
    return sum(k[i] * rows[..., i:i + w] for i in range(len(k)))


def hole_ssim(completed, originals, masks, value_range=(-1.0, 1.0)):
    """SSIM (Wang et al. 2004: Gaussian window of sigma 1.5, here 7x7 for 28x28 images,
    K1 0.01, K2 0.03, on intensities in [0, 1]) of each completed image against its original,
    its map averaged over the hole's pixels."""
    a, b = _unit(completed, value_range), _unit(originals, value_range)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = _gaussian_blur(a), _gaussian_blur(b)
    va = _gaussian_blur(a * a) - mu_a ** 2
    vb = _gaussian_blur(b * b) - mu_b ** 2
    cov = _gaussian_blur(a * b) - mu_a * mu_b
    ssim = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)
            / ((mu_a ** 2 + mu_b ** 2 + c1) * (va + vb + c2)))
    return _hole_mean(ssim, masks, originals)


def masked(images, masks):
    """The images with their holes mid grey (HOLE_GREY): the condition as figures show it,
    and what the judge is given as "masked". (The search never sees the hole's pixels: their
    weight is 0.)"""
    return paste(images, np.full_like(images, HOLE_GREY), masks)
