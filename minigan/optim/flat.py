"""FlatAdam: Adam over one flat buffer, for small models where the per-parameter calls cost
more than the arithmetic (the mixture GAN's D: 11.5 -> 5.0 us a step, the same numbers).

Chosen explicitly (``mg.optim.FlatAdam`` instead of ``mg.optim.Adam``) because it changes
what your tensors are: at its first step every parameter's ``data`` becomes a view into one
shared buffer (the values are kept), and its moments views into two others, so that one
kernel call updates them all. While every parameter has a gradient (NumPy arrays of one float
dtype, one step count, FLAT_MAX_SIZE values at most) it takes that path; otherwise it is
plain Adam. Data assigned over a parameter and states loaded from a state dict are adopted
again at the next step.
"""
import numpy as np

from minigan.backend import device_of, get_array_module, to_device
from minigan.backend.mode import reference
from minigan.backend.optim_kernels import adam_update
from minigan.core import mark_changed
from minigan.optim.adam import Adam


class FlatAdam(Adam):
    """Adam (same arguments, same numbers) stepping all parameters in one buffer."""

    _flat = None       # a _Flat while the parameters live in one buffer; False: never again

    def step(self):
        """One update of every parameter that has a gradient. While all of them do (and are
        NumPy arrays of one float dtype at one step count, in a small model) the update runs
        over one flat buffer in one kernel call: 11.5 -> 5.0 us for the mixture GAN's D, the
        same numbers (the arithmetic is elementwise)."""
        flat = self._flat
        if reference.on:                           # reference mode: plain Adam
            if flat:                               # (and from now on, once adopted)
                flat.release()
                self._flat = False
            return super().step()
        if flat is not False and (flat is None or not flat.intact(self.params, self.state)):
            if flat:                      # the states stop sharing its step counter
                flat.release()
            flat = self._flat = _Flat(self.params, self.state) if _flat_fits(
                self.params, self.state) else False
        if flat is False:
            return super().step()         # Adam's per-parameter updates
        grads = [p.grad for p in self.params]
        missing = sum(g is None for g in grads)
        if missing == len(grads):          # nothing to update (a step before any backward)
            self.steps += 1
            return None
        if missing:
            flat.release()
            self._flat = False
            return super().step()
        self.steps += 1
        flat.xp.concatenate([g._data.reshape(-1) for g in grads], out=flat.g)  # every step
        flat.step += 1
        b1, b2 = self.betas
        adam_update(flat.p, flat.g, flat.m, flat.v, self.lr, b1, b2, self.eps,
                    self.weight_decay, int(flat.step))
        mark_changed(self.params)



# Gathering the gradients into the flat buffer is a copy of all of them, which outweighs the
# calls saved on large models (Adam step, us, flat against per parameter: mixture D, 2.3k
# values, 4.7 / 11.1; DCGAN D, 110k, 33 / 42; DCGAN G, 778k, 242 / 145; the CNN, 821k, 239 /
# 202), so only models up to FLAT_MAX_SIZE values take the flat path.
FLAT_MAX_SIZE = 1 << 17


def _flat_fits(params, states):
    """Whether the parameters can share one buffer: distinct arrays of one float dtype on
    one device, FLAT_MAX_SIZE values at most (on the CPU: on a GPU one launch for all is the
    point), whose Adam states are all new or all at one step."""
    dt = params[0].data.dtype
    if dt.kind != "f" or len({id(p) for p in params}) != len(params):
        return False
    kind = type(params[0].data)
    if kind is np.ndarray and sum(p.data.size for p in params) > FLAT_MAX_SIZE:
        return False
    if not all(type(p.data) is kind and p.data.dtype == dt for p in params):
        return False
    steps = {int(s["step"]) if "step" in s else 0 for s in states}
    return len(steps) == 1 and all(("step" in s) == ("exp_avg" in s) for s in states)


class _Flat:
    """The parameters' values, their gradients and Adam's moments as flat buffers: each
    parameter's ``data`` and its state's moments become views into them (values kept), and
    one step counter is shared by all states."""

    def __init__(self, params, states):
        dt, n = params[0].data.dtype, sum(p.data.size for p in params)
        self.xp = get_array_module(params[0].data)
        self.p, self.g, self.m, self.v = (self.xp.empty(n, dtype=dt) for _ in range(4))
        first = states[0].get("step")
        self.step = np.zeros((), dtype=np.int64) if first is None else first.copy()
        self.states, self.views, start = states, [], 0
        for p, s in zip(params, states):
            seg, shape = slice(start, start + p.data.size), p.data.shape
            start = seg.stop
            self.p[seg] = p.data.reshape(-1)
            p.data = self.p[seg].reshape(shape)
            for key, buf in (("exp_avg", self.m), ("exp_avg_sq", self.v)):
                buf[seg] = to_device(s[key], device_of(p.data)).reshape(-1) if key in s else 0
                s[key] = buf[seg].reshape(shape)
            s["step"] = self.step
            self.views.append(p.data)

    def intact(self, params, states):
        """Whether the parameters' data are still the views (nothing assigned over them)."""
        return states is self.states and all(p._data is v for p, v in zip(params, self.views))

    def release(self):
        """Each state gets a step counter of its own again (the views stay valid arrays)."""
        for s in self.states:
            s["step"] = self.step.copy()
