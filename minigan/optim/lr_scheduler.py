"""Learning-rate schedules, shaped like PyTorch's ``torch.optim.lr_scheduler``.

A scheduler holds the optimizer's initial rate ``base_lr`` and a step counter ``last_epoch``;
``step()`` advances the counter and sets ``optimizer.lr = base_lr * factor(last_epoch)``.
Making one sets the rate for step 0, so the usual loop is

    sched = LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=1000)
    for batch in data:
        ...; opt.step(); sched.step()

Each factor is computed in closed form from the counter (PyTorch's chained form multiplies
ratios step by step and drifts in the last bits), so a schedule restored from ``state_dict``
gives exactly the rates of one that never stopped.
"""
import math


class LRScheduler:
    """Base class: subclasses define ``factor(epoch)``, the multiple of ``base_lr`` to use
    at step ``epoch`` (0, 1, 2, ...)."""

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"{type(self).__name__} needs an optimizer with an lr, got "
                            f"{type(optimizer).__name__}")
        if int(last_epoch) != last_epoch or last_epoch < -1:
            raise ValueError(f"{type(self).__name__}: last_epoch must be an integer >= -1, "
                             f"got {last_epoch}")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = int(last_epoch)
        self.step()

    def factor(self, epoch):
        raise NotImplementedError

    def step(self):
        """Advance one step and set the optimizer's rate for it."""
        self.last_epoch += 1
        self.optimizer.lr = self.base_lr * float(self.factor(self.last_epoch))

    def get_last_lr(self):
        """The rate the last ``step`` set (a list of one, as PyTorch's has one per group)."""
        return [self.optimizer.lr]

    def state_dict(self):
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state):
        """Restore ``state_dict``'s counter and base rate, and the optimizer's rate with them."""
        base, last = float(state["base_lr"]), int(state["last_epoch"])
        if not math.isfinite(base) or base < 0 or last < 0:
            raise ValueError(f"{type(self).__name__}.load_state_dict: bad state {dict(state)}")
        self.base_lr, self.last_epoch = base, last
        self.optimizer.lr = self.base_lr * float(self.factor(self.last_epoch))


class LambdaLR(LRScheduler):
    """factor(epoch) = ``lr_lambda(epoch)``, any function of the step count."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be callable, got {lr_lambda!r}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.lr_lambda(epoch)


class LinearLR(LRScheduler):
    """The factor moves linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps, then stays at ``end_factor``."""

    def __init__(self, optimizer, start_factor=1 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in "
                             f"[0, 1], got {start_factor} and {end_factor}")
        if int(total_iters) != total_iters or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got "
                             f"{total_iters}")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        t = min(epoch, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * t


class StepLR(LRScheduler):
    """factor(epoch) = gamma ** (epoch // step_size): the rate drops by ``gamma`` every
    ``step_size`` steps."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        if not 0 <= gamma or not math.isfinite(gamma):
            raise ValueError(f"StepLR: gamma must be finite and >= 0, got {gamma}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** (epoch // self.step_size)


class HoldThenLinearDecay(LRScheduler):
    """The rate stays at ``base_lr`` for the first ``hold`` of ``total`` steps, then falls
    linearly, reaching 0 at step ``total`` (the main job's schedule: annealing the step size
    damps the game's oscillation at the end of training). As LambdaLR with
    ``lambda t: min(1, (total - t) / (total - hold))``, but stored by its two numbers."""

    def __init__(self, optimizer, total, hold, last_epoch=-1):
        if int(total) != total or int(hold) != hold or not 0 <= hold < total:
            raise ValueError(f"HoldThenLinearDecay: need integers 0 <= hold < total, got "
                             f"hold {hold}, total {total}")
        self.total, self.hold = int(total), int(hold)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return max(0.0, min(1.0, (self.total - epoch) / (self.total - self.hold)))
