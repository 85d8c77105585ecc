"""Adam (Kingma & Ba 2015, Algorithm 1), in PyTorch's arrangement of the arithmetic."""
import numpy as np

from minigan.backend.optim_kernels import adam_update
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
        """For each parameter, with t its step count (Algorithm 1 of the paper):
            m = b1 m + (1 - b1) g                 (a moving average of the gradient)
            v = b2 v + (1 - b2) g^2               (and of its square)
            p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        in one pass over memory (``adam_update``; ``adam_numpy`` beside it is these lines)."""
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_avg_sq"] = p.data * 0, p.data * 0
            state["step"] = np.zeros((), dtype=np.int64)
        state["step"] += 1
        b1, b2 = self.betas
        adam_update(p.data, g, state["exp_avg"], state["exp_avg_sq"], self.lr, b1, b2,
                    self.eps, self.weight_decay, int(state["step"]))
        p.bump_version()            # changed in place (see Tensor.data)
