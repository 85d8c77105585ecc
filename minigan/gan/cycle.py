"""CycleGAN's four-player game (Zhu et al. 2017) on unpaired samples of two domains.

T maps domain X to Y and R maps Y back to X; D_Y tells real y from T(x) and D_X real x from
R(y). The discriminators play the standard game (thesis's losses, on logits); T and R
minimise, together, lam_adv times their non-saturating adversarial losses plus lam_cyc
times the cycle losses |R(T(x)) - x|_1 + |T(R(y)) - y|_1 (each the mean absolute error, as
in the paper's code). Minibatches of x and y are drawn independently: no pair is ever seen.
"""
import json

import numpy as np

from minigan import functional as F
from minigan.core import no_grad
from minigan.gan.losses import discriminator_loss, generator_loss
from minigan.runs import check_finite_loss


class CycleGANTrainer:
    """Plays the four-player game. T, R: modules (N, 2) -> (N, 2); D_X, D_Y: modules
    (N, 2) -> logits (N, 1). opt_g: an optimizer of T's and R's parameters; opt_d: of D_X's
    and D_Y's (their losses share no parameter, so one Adam over both is two Adams).
    sample_x(n, rng), sample_y(n, rng): float arrays; every random number comes from
    ``rng``. A turn is one discriminator step then one step of T and R, on one pair of
    minibatches."""

    def __init__(self, T, R, D_X, D_Y, opt_g, opt_d, sample_x, sample_y, rng, batch_size=256,
                 lam_cyc=10.0, lam_adv=1.0, schedulers=()):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size}")
        for name, v in (("lam_cyc", lam_cyc), ("lam_adv", lam_adv)):
            if not 0 <= v < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {v}")
        self.T, self.R, self.D_X, self.D_Y = T, R, D_X, D_Y
        self.opt_g, self.opt_d = opt_g, opt_d
        self.sample_x, self.sample_y, self.rng = sample_x, sample_y, rng
        self.batch_size, self.lam_cyc, self.lam_adv = batch_size, lam_cyc, lam_adv
        self.schedulers, self.turns = list(schedulers), 0
        self.last = {k: float("nan") for k in ("d_loss", "adv", "cycle")}

    def batches(self):
        """A minibatch of x and one of y, drawn independently."""
        return (self.sample_x(self.batch_size, self.rng),
                self.sample_y(self.batch_size, self.rng))

    def d_step(self, x, y):
        """One step of D_X and D_Y against T(x) and R(y) (T and R only evaluated)."""
        with no_grad():
            fake_y, fake_x = self.T(x), self.R(y)
        loss = (discriminator_loss(self.D_Y(y), self.D_Y(fake_y))
                + discriminator_loss(self.D_X(x), self.D_X(fake_x)))
        self.last["d_loss"] = self._finite(loss, "the discriminators' loss")
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()

    def g_step(self, x, y):
        """One step of T and R: the adversarial terms through frozen discriminators, and the
        two cycles."""
        fake_y, fake_x = self.T(x), self.R(y)
        cycle = F.l1_loss(self.R(fake_y), x) + F.l1_loss(self.T(fake_x), y)
        loss = self.lam_cyc * cycle
        self.last["cycle"] = self._finite(cycle, "the cycle loss")
        if self.lam_adv:
            params = [p for D in (self.D_X, self.D_Y) for p in D.parameters()]
            for p in params:                   # the discriminators' gradients are not needed
                p.requires_grad = False
            try:
                adv = generator_loss(self.D_Y(fake_y)) + generator_loss(self.D_X(fake_x))
            finally:
                for p in params:
                    p.requires_grad = True
            self.last["adv"] = self._finite(adv, "the adversarial loss")
            loss = loss + self.lam_adv * adv
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()

    def turn(self):
        x, y = self.batches()
        self.d_step(x, y)
        self.g_step(x, y)
        for s in self.schedulers:
            s.step()
        self.turns += 1

    def _finite(self, loss, what):
        return check_finite_loss(loss.item(), what, self.turns + 1,
                                 lambda: {k: v for k, v in self.last.items() if v == v},
                                 unit="turn")

    def state_dict(self):
        """Everything a run needs to continue bit for bit."""
        return {"T": self.T.state_dict(), "R": self.R.state_dict(),
                "D_X": self.D_X.state_dict(), "D_Y": self.D_Y.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "schedulers": {str(i): s.state_dict() for i, s in enumerate(self.schedulers)},
                "rng": json.dumps(self.rng.bit_generator.state), "turns": self.turns}

    def load_state_dict(self, state):
        for name in ("T", "R", "D_X", "D_Y"):
            getattr(self, name).load_state_dict(state[name])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for i, s in enumerate(self.schedulers):
            s.load_state_dict(state["schedulers"][str(i)])
        self.rng.bit_generator.state = json.loads(str(state["rng"]))
        self.turns = int(np.asarray(state["turns"]))
