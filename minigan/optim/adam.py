"""Adam (Kingma & Ba 2015, Algorithm 1), in PyTorch's arrangement of the arithmetic."""
import math

import numpy as np

from minigan.optim.optimizer import Optimizer


class Adam(Optimizer):
    """m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    ``weight_decay`` adds wd p to the gradient (L2, not AdamW)."""

    _state_keys = ("exp_avg", "exp_avg_sq")
    _scalar_keys = ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"Adam: invalid lr {lr}, eps {eps} or weight_decay {weight_decay}")
        betas = tuple(float(b) for b in betas)
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=float(lr), betas=betas, eps=float(eps),
                                      weight_decay=float(weight_decay)))

    def _update(self, p, g, state):
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if "exp_avg" not in state:
            state["exp_avg"] = g * 0
            state["exp_avg_sq"] = g * 0
            state["step"] = np.zeros((), dtype=np.int64)
        state["step"] += 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        t = int(state["step"])
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        step_size = self.lr / (1 - b1 ** t)
        denom = (v ** 0.5) / math.sqrt(1 - b2 ** t) + self.eps
        p.data -= step_size * (m / denom)
