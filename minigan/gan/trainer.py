"""The adversarial game: Algorithm 1 of Goodfellow et al. (2014), as the thesis runs it.

Each turn makes ``d_steps`` discriminator updates, each on a fresh minibatch of real data and
of latent vectors, then ``g_steps`` generator updates. With ``simultaneous=True`` both networks
are instead updated from one pair of minibatches, their gradients computed before either moves
(the variant the thesis mentions).
"""
import copy
import json

import numpy as np

from minigan import functional as F
from minigan import nn
from minigan.backend import device, device_of, get_array_module, to_device, to_host
from minigan.core import mark_changed, no_grad
from minigan.gan.losses import (
    GENERATOR_LOSSES,
    OBJECTIVES,
    critic_generator_loss,
    critic_losses,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
    joint_discriminator_loss,
    r1_penalty,
)
from minigan.runs import check_finite_loss


class GANTrainer:
    """Plays the game between G and D.

    G: module, z (N, m) -> x (N, ...); D: module, x -> logits (N, 1).
    sample_latent(n, rng) and sample_real(n, rng) return float arrays; all randomness comes
    from ``rng`` (a numpy Generator), so a seed fixes the run.
    joint_batch: push real and fake through D as one batch of 2N (the same numbers as two
    passes for a D without batch norm, at half the Python overhead). Batch norm would mix
    real and fake statistics in one batch, which changes the game, so for a D with batch
    norm it is refused; None (the default) takes it exactly when D has no batch norm.
    g_ema: if > 0, also keep ``G_ema``, an exponential moving average of G's weights
    (Yazici et al. 2019), which damps the oscillation of the game's last iterates: after the
    t-th G update, w <- b w + (1 - b) w_G with b = min(g_ema, (1 + t) / (10 + t)). The
    warm-up (TensorFlow's ``num_updates`` rule) lets the average forget G's initial weights
    within the first few hundred updates; from t = 9 / (1 - g_ema) - 10 on (8,990 for 0.999)
    b is g_ema itself. ``sample`` then draws from the average.
    schedulers: learning-rate schedulers (``minigan.optim.lr_scheduler``), each stepped once
    at the end of every turn.
    n_classes: if > 0 the game is conditional (Mirza & Osindero 2014; thesis 5.1): G(z, y)
    and D(x, y) take integer labels y as a second argument, ``sample_real(n, rng)`` returns
    (x, y) pairs, and the fakes' labels come from ``sample_labels(n, rng)`` (default: uniform
    over the classes). The loop is the same; labels are data and get no gradient.
    track_outputs: also keep D's mean output on the last real and fake batches in ``last``
    (``d_real``, ``d_fake``: D(x) and D(G(z)), for a progress bar).
    objective: ``'standard'``, the thesis's game (D a classifier of real against fake, G's
    loss ``loss``); ``'wgan'`` (D a critic: it minimises E[D(G(z))] - E[D(x)], G minimises
    -E[D(G(z))]); ``'hinge'`` (D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], G as 'wgan').
    gp: the weight of WGAN-GP's gradient penalty (Gulrajani et al. 2017: 10, with objective
    'wgan', d_steps 5 and Adam(1e-4, betas (0, 0.9))), at random points between each real
    row and a fake one; 0: none. r1: gamma of the R1 penalty on real data (Mescheder et al.
    2018), gamma / 2 E[|grad D(x)|^2]; 0: none. Both are built with ``grad(...,
    create_graph=True)``, so D's step differentiates through D's input gradients. The
    penalty's random points are drawn from ``rng`` only when gp > 0: runs without it draw
    the same numbers as before.
    """

    def __init__(self, G, D, opt_g, opt_d, sample_latent, sample_real, rng, batch_size=64,
                 d_steps=1, g_steps=1, loss="non_saturating", simultaneous=False,
                 joint_batch=None, g_ema=0.0, schedulers=(), n_classes=0, sample_labels=None,
                 track_outputs=False, objective="standard", gp=0.0, r1=0.0):
        for name, v, least in (("batch_size", batch_size, 1), ("d_steps", d_steps, 0),
                               ("g_steps", g_steps, 0)):
            if int(v) != v or v < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {v}")
        if loss not in GENERATOR_LOSSES:
            raise ValueError(f"loss must be one of {GENERATOR_LOSSES}, got {loss!r}")
        self._check_objective(objective, loss, gp, r1)
        self.objective, self.gp, self.r1 = objective, float(gp), float(r1)
        batch_norm = D is not None and any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))
                                           for m in D.modules())
        if joint_batch and batch_norm:
            raise ValueError("joint_batch=True with a D that has batch norm would normalise "
                             "real and fake together; leave joint_batch unset (or False)")
        joint_batch = not batch_norm if joint_batch is None else bool(joint_batch)
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        self.sample_latent, self.sample_real, self.rng = sample_latent, sample_real, rng
        self.batch_size, self.d_steps, self.g_steps = batch_size, d_steps, g_steps
        self.loss, self.simultaneous, self.joint_batch = loss, simultaneous, joint_batch
        if not 0 <= g_ema < 1:
            raise ValueError(f"g_ema must be in [0, 1), got {g_ema}")
        self.g_ema = g_ema
        self.G_ema = copy.deepcopy(G) if g_ema else None
        self.ema_updates, self._ema_flat = 0, None
        self.schedulers = list(schedulers)
        if int(n_classes) != n_classes or n_classes < 0:
            raise ValueError(f"n_classes must be an integer >= 0, got {n_classes}")
        if sample_labels is not None and not n_classes:
            raise ValueError("sample_labels is for a conditional game: give n_classes too")
        self.n_classes = int(n_classes)
        self.sample_labels = sample_labels or (
            lambda n, rng: rng.integers(0, self.n_classes, n))
        self.turns, self.track_outputs = 0, bool(track_outputs)
        # G's first parameter tells where the game runs (walking the module tree each turn
        # cost ~2 us); none: the CPU
        self._probe = next(iter(G.parameters()), None) if hasattr(G, "parameters") else None
        self._locate()
        self.last = {"d_loss": float("nan"), "g_loss": float("nan")}

    def _locate(self):
        """Find G's device (once a turn: G may have been moved since the last)."""
        self.device = device_of(self._probe.data) if self._probe is not None else \
            device("cpu")
        return self.device

    def _on(self, a):
        """A host array of the samplers (latents, data, labels) on the game's device: the
        random numbers are drawn by the host's generator, so a seed gives the same run on
        any device, and each batch moves once."""
        return to_device(a, self.device)

    def _generate(self, n, rng):
        """n fakes of G and their labels (None unless the game is conditional)."""
        z = self._on(self.sample_latent(n, rng))
        if not self.n_classes:
            return self.G(z), None
        y = self._on(self.sample_labels(n, rng))
        return self.G(z, y), y

    def _real(self):
        batch = self.sample_real(self.batch_size, self.rng)
        if self.n_classes:
            return self._on(batch[0]), self._on(batch[1])
        return self._on(batch), None

    def _discriminate(self, x, y):
        return self.D(x) if y is None else self.D(x, y)

    @staticmethod
    def _check_objective(objective, loss, gp, r1):
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        if objective != "standard" and loss != "non_saturating":
            raise ValueError(f"loss={loss!r} is the standard objective's generator loss; "
                             f"under {objective!r} G minimises -E[D(G(z))]")
        for name, v in (("gp", gp), ("r1", r1)):
            if not 0 <= v < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {v}")

    def _d_loss(self, fake, y_fake):
        real, y_real = self._real()
        if self.objective == "standard" and self.joint_batch:
            logits = self._joint_outputs(real, y_real, fake, y_fake)
            self._track(logits._data[:len(real)], logits._data[len(real):])
            loss = joint_discriminator_loss(logits, len(real))
        else:
            real_out, fake_out = self._d_outputs(real, y_real, fake, y_fake)
            self._track(real_out._data, fake_out._data)
            loss = (discriminator_loss(real_out, fake_out) if self.objective == "standard"
                    else critic_losses(real_out, fake_out, self.objective))
        return self._penalised(loss, real, y_real, fake)

    def _d_outputs(self, real, y_real, fake, y_fake):
        """D's outputs on the real and the fake batch (one pass of both if joint_batch)."""
        if not self.joint_batch:
            return self._discriminate(real, y_real), self._discriminate(fake, y_fake)
        out = self._joint_outputs(real, y_real, fake, y_fake)
        return out[:len(real)], out[len(real):]

    def _joint_outputs(self, real, y_real, fake, y_fake):
        """D's outputs on real and fake rows as one batch, real rows first."""
        y = None if y_real is None else get_array_module(y_real).concatenate([y_real, y_fake])
        return self._discriminate(F.cat([real, fake], 0), y)

    def _penalised(self, loss, real, y_real, fake):
        """D's loss plus the gradient penalties that are on."""
        critic = lambda x: self._discriminate(x, y_real)   # noqa: E731
        if self.gp:
            shape = (len(real),) + (1,) * (real.ndim - 1)
            eps = self._on(self.rng.uniform(size=shape))
            loss = loss + gradient_penalty(critic, real, fake, eps, self.gp)
        if self.r1:
            loss = loss + r1_penalty(critic, real, self.r1)
        return loss

    def _track(self, real_logits, fake_logits):
        """With ``track_outputs``: D's mean output on the real and the fake batch."""
        if self.track_outputs:
            xp = get_array_module(real_logits)
            for key, logits in (("d_real", real_logits), ("d_fake", fake_logits)):
                self.last[key] = float((1 / (1 + xp.exp(-logits.astype(xp.float64)))).mean())

    def _g_loss(self, fake, y_fake):
        params = [p for p in self.D.parameters() if p.requires_grad]
        for p in params:                        # D's weight gradients are not needed here
            p.requires_grad = False
        try:
            out = self._discriminate(fake, y_fake)
            return (generator_loss(out, self.loss) if self.objective == "standard"
                    else critic_generator_loss(out))
        finally:
            for p in params:
                p.requires_grad = True

    def d_step(self):
        """One discriminator update; G is only evaluated (no graph, no gradients)."""
        with no_grad():
            fake, y_fake = self._generate(self.batch_size, self.rng)
        loss = self._d_loss(fake, y_fake)
        self.last["d_loss"] = self._finite(loss, "D's loss")
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()

    def g_step(self):
        """One generator update through a frozen D."""
        loss = self._g_loss(*self._generate(self.batch_size, self.rng))
        self.last["g_loss"] = self._finite(loss, "G's loss")
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        self._update_ema()

    def _finite(self, loss, what):
        """The loss's value; Diverged (before any update from it) if it is not finite."""
        return check_finite_loss(loss.item(), what, self.turns + 1, self._last_finite,
                                 unit="turn")

    def _last_finite(self):
        return {k: v for k, v in self.last.items() if v == v}

    def _update_ema(self):
        if self.G_ema is None:
            return
        self.ema_updates += 1
        t = self.ema_updates
        b = min(self.g_ema, (1 + t) / (10 + t))
        flat = self._ema_flat
        if flat is None or not flat.intact():
            flat = self._ema_flat = _FlatAverage(list(self.G_ema.parameters()),
                                                 list(self.G.parameters()))
        flat.update(b)

    def simultaneous_step(self):
        fake, y_fake = self._generate(self.batch_size, self.rng)
        d_loss = self._d_loss(fake.detach(), y_fake)
        g_loss = self._g_loss(fake, y_fake)
        d_value = self._finite(d_loss, "D's loss")
        self.last.update(d_loss=d_value, g_loss=self._finite(g_loss, "G's loss"))
        self.opt_d.zero_grad()
        self.opt_g.zero_grad()
        d_loss.backward()
        g_loss.backward()
        self.opt_d.step()
        self.opt_g.step()
        self._update_ema()

    def turn(self):
        """One turn of Algorithm 1."""
        self._locate()
        if self.simultaneous:
            self.simultaneous_step()
        else:
            for _ in range(self.d_steps):
                self.d_step()
            for _ in range(self.g_steps):
                self.g_step()
        for s in self.schedulers:
            s.step()
        self.turns += 1

    def train(self, turns, callback=None, every=0):
        """Play ``turns`` turns; ``callback(trainer)`` runs before the first and then after
        every ``every`` turns (and after the last)."""
        if callback is not None:
            callback(self)
        for _ in range(turns):
            self.turn()
            if callback is not None and every and (self.turns % every == 0 or
                                                    self.turns == turns):
                callback(self)

    def state_dict(self):
        """Everything a run needs to continue bit for bit: the networks (and G's average),
        both optimizers, the schedulers, the random generator's state and the turn count."""
        state = {"G": self.G.state_dict(), "D": self.D.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                 "schedulers": {str(i): s.state_dict() for i, s in enumerate(self.schedulers)},
                 "rng": json.dumps(self.rng.bit_generator.state), "turns": self.turns,
                 "ema_updates": self.ema_updates}
        if self.G_ema is not None:
            state["G_ema"] = self.G_ema.state_dict()
        return state

    def load_state_dict(self, state):
        """Restore ``state_dict``'s content into this trainer (built with the same settings)."""
        has_ema = "G_ema" in state
        if has_ema != (self.G_ema is not None):
            raise ValueError("GANTrainer.load_state_dict: the state was saved "
                             f"{'with' if has_ema else 'without'} a G average (g_ema), this "
                             f"trainer is {'without' if has_ema else 'with'} one")
        scheds = state.get("schedulers", {})
        if len(scheds) != len(self.schedulers):
            raise ValueError(f"GANTrainer.load_state_dict: the state has {len(scheds)} "
                             f"schedulers, this trainer {len(self.schedulers)}")
        rng_state = json.loads(str(state["rng"]))
        if rng_state.get("bit_generator") != type(self.rng.bit_generator).__name__:
            raise ValueError("GANTrainer.load_state_dict: the saved random generator is a "
                             f"{rng_state.get('bit_generator')}, this trainer's a "
                             f"{type(self.rng.bit_generator).__name__}")
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        if has_ema:
            self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for i, s in enumerate(self.schedulers):
            s.load_state_dict(scheds[str(i)])
        self.rng.bit_generator.state = rng_state
        self.turns = int(np.asarray(state["turns"]))
        self.ema_updates = int(np.asarray(state.get("ema_updates", 0)))

    @property
    def generator(self):
        """The generator to sample from: the weight average if kept, else G itself."""
        return self.G_ema if self.G_ema is not None else self.G

    def sample(self, n, rng=None, labels=None):
        """n samples of the generator (see ``generator``), as a NumPy array (no graph; off
        the device if the game is on one). In a conditional game, ``labels`` ((n,) ints, or
        one int for all) says which class each sample is of; if omitted they are drawn by
        ``sample_labels``."""
        rng = rng if rng is not None else self.rng
        self._locate()
        with no_grad():
            z = self._on(self.sample_latent(n, rng))
            if not self.n_classes:
                if labels is not None:
                    raise ValueError("sample: labels are for a conditional game (n_classes)")
                return to_host(self.generator(z).data)
            y = self.sample_labels(n, rng) if labels is None else self._labels(labels, n)
            return to_host(self.generator(z, self._on(y)).data)

    def _labels(self, labels, n):
        y = np.full(n, labels) if np.ndim(labels) == 0 else np.asarray(labels)
        if y.shape != (n,) or y.dtype.kind not in "iu" or (y < 0).any() or \
                (y >= self.n_classes).any():
            raise ValueError(f"sample: labels must be {n} integers in [0, {self.n_classes}), "
                             f"got {np.asarray(labels)!r:.80}")
        return y


class _FlatAverage:
    """G's moving average as one flat buffer, so that an update is two array operations
    instead of two per parameter (22 -> 6 us a turn for the mixture GAN; the same numbers:
    w <- b w + (1 - b) w_G is elementwise). The average's parameters become views into the
    buffer (values kept); G's are gathered into a second one at each update."""

    def __init__(self, averages, params):
        xp = get_array_module(averages[0].data)
        n = sum(a.data.size for a in averages)
        self.avg, self.cur = xp.empty(n, averages[0].dtype), xp.empty(n, params[0].dtype)
        self.averages, self.params, start = averages, params, 0
        for a in averages:
            seg = slice(start, start + a.data.size)
            self.avg[seg] = a.data.reshape(-1)
            a.data = self.avg[seg].reshape(a.shape)
            start = seg.stop
        self.views = [a._data for a in averages]

    def intact(self):
        """Whether the average's parameters are still the views (nothing assigned over them,
        no move to another device)."""
        return all(a._data is v for a, v in zip(self.averages, self.views))

    def update(self, b):
        xp = get_array_module(self.avg)
        xp.concatenate([p._data.reshape(-1) for p in self.params], out=self.cur)
        self.avg *= b
        self.avg += (1 - b) * self.cur
        mark_changed(self.averages)
