"""Optimizer: holds parameters, their per-parameter state, and the update rule's settings."""
from minigan.backend import device_of, to_device
from minigan.core import Tensor


def _follow(p, state, keys):
    """Move a parameter's buffers to its device if it has moved (``Module.to`` after steps,
    or a state loaded from a file): an optimizer's state lives where its parameter does."""
    for k in keys:
        buf = state.get(k)
        if buf is not None and type(buf) is not type(p.data):
            state[k] = to_device(buf, device_of(p.data))


class Optimizer:
    """Base class. Subclasses set ``self.defaults`` (hyperparameters) and implement
    ``_update(p, g, state)`` which changes ``p.data`` in place."""

    _state_keys = ()     # per-parameter buffers shaped like the parameter
    _scalar_keys = ()    # per-parameter counters (0-d arrays)

    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor) or not p.requires_grad or p.creator is not None:
                raise TypeError(f"{type(self).__name__}: parameter {i} is not a leaf tensor "
                                f"that requires grad")
        self.params = params
        self.defaults = dict(defaults)
        for k, v in self.defaults.items():
            setattr(self, k, v)
        self.state = [{} for _ in params]
        self.steps = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        """Apply one update to every parameter that has a gradient."""
        self.steps += 1
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                if state:
                    _follow(p, state, self._state_keys)
                self._update(p, p.grad.data, state)

    def _update(self, p, g, state):
        raise NotImplementedError

    def state_dict(self):
        """Hyperparameters, the step count and the per-parameter buffers (copies)."""
        return {"hyper": {k: getattr(self, k) for k in self.defaults},
                "steps": self.steps,
                "state": {str(i): {k: v.copy() for k, v in s.items()}
                          for i, s in enumerate(self.state)}}

    def load_state_dict(self, sd):
        """Restore what ``state_dict`` gave. Everything is checked before anything changes:
        the hyperparameters must be this optimizer's, the buffers fit the parameters."""
        name = type(self).__name__
        if not isinstance(sd, dict) or not {"hyper", "steps", "state"} <= set(sd):
            raise ValueError(f"{name}.load_state_dict: not an optimizer state (it needs "
                             "'hyper', 'steps' and 'state')")
        hyper, state = sd["hyper"], sd["state"]
        if set(hyper) != set(self.defaults):
            raise ValueError(f"{name}.load_state_dict: the state is of another optimizer "
                             f"(hyperparameters {sorted(hyper)}; {name} has "
                             f"{sorted(self.defaults)})")
        if len(state) != len(self.params):
            raise ValueError(f"{name}.load_state_dict: the state has "
                             f"{len(state)} parameters, the optimizer {len(self.params)}")
        new = [self._checked_buffers(i, p, state) for i, p in enumerate(self.params)]
        values = {k: self._checked_hyper(k, hyper[k]) for k in self.defaults}
        for k, v in values.items():
            setattr(self, k, v)
        self.state = new
        self.steps = int(sd["steps"])

    def _checked_buffers(self, i, p, state):
        s = state.get(str(i))
        if s is None:
            raise ValueError(f"{type(self).__name__}.load_state_dict: no state for "
                             f"parameter {i}")
        for k, v in s.items():
            shape = () if k in self._scalar_keys else p.shape
            if k not in self._state_keys + self._scalar_keys or tuple(v.shape) != shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: parameter {i} "
                                 f"buffer {k!r} of shape {tuple(v.shape)} does not fit "
                                 f"a parameter of shape {p.shape}")
        return {k: v.copy() if k in self._scalar_keys else v.astype(p.dtype, copy=True)
                for k, v in s.items()}

    def _checked_hyper(self, key, value):
        default = self.defaults[key]
        try:
            if isinstance(default, tuple):
                value = tuple(float(b) for b in value)
                ok = len(value) == len(default)
            else:
                value = type(default)(value)
                ok = True
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{type(self).__name__}.load_state_dict: hyperparameter {key!r} "
                             f"= {value!r} is not like {default!r}")
        return value
