"""Module: a container of parameters, buffers and sub-modules, registered in order."""
from collections import OrderedDict

from minigan.backend import device, device_of, get_array_module, to_device
from minigan.core import Parameter, Tensor


class Module:
    """Base class of layers and models. Assigning a Parameter or a Module to an attribute
    registers it; ``register_buffer`` registers state that is saved but not trained."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name!r}")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        target = (self._parameters if isinstance(value, Parameter) else
                  self._modules if isinstance(value, Module) else None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not target:
                registry.pop(name, None)
        if target is not None:
            target[name] = value        # a replaced entry keeps its place in the order
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """Keep ``array`` (an ndarray, e.g. running statistics) in the state dict."""
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    # --- traversal -------------------------------------------------------------------------
    def named_modules(self, prefix=""):
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        """Every module of the tree, this one first, depth-first in registration order (no
        names built: training loops walk this every step)."""
        stack = [self]
        while stack:
            m = stack.pop()
            yield m
            stack.extend(reversed(m._modules.values()))

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self):
        seen = set()
        for prefix, m in self.named_modules():
            for name, p in m._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self):
        seen = set()
        for m in self.modules():
            for p in m._parameters.values():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(self):
        for prefix, m in self.named_modules():
            for name in m._buffers:
                yield (f"{prefix}.{name}" if prefix else name), getattr(m, name)

    # --- modes and gradients ---------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, mode=True):
        for p in self.parameters():
            p.requires_grad = mode
        return self

    # --- devices ---------------------------------------------------------------------------
    def to(self, dev):
        """Move every parameter (with its gradient) and buffer to device ``dev`` ("cpu",
        "cuda"), in place; returns the module. Optimizers made before keep working: their
        state follows the parameters on the next step."""
        dev = device(dev)
        for p in self.parameters():
            p.data = to_device(p.data, dev)
            if p.grad is not None:
                p.grad = Tensor(to_device(p.grad.data, dev))
        for m in self.modules():
            for name, b in m._buffers.items():
                if b is not None and hasattr(b, "shape"):
                    setattr(m, name, to_device(b, dev))
        return self

    def cuda(self):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    @property
    def device(self):
        """The device of the first parameter (the CPU for a module without any)."""
        for p in self.parameters():
            return device_of(p.data)
        return device("cpu")

    # --- state -----------------------------------------------------------------------------
    def state_dict(self):
        """``{name: array copy}`` of every parameter and buffer, in registration order."""
        state = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = p.data.copy()
        for name, b in self.named_buffers():
            state[name] = b.copy()
        return state

    def load_state_dict(self, state, strict=True):
        """Copy arrays into parameters and buffers; shapes must match exactly.

        With ``strict`` (default) missing and unexpected keys are errors too. Nothing is
        changed unless every check passes.
        """
        targets = dict(self.named_parameters())
        targets.update(self.named_buffers())
        problems = []
        for name, value in state.items():
            if name not in targets:
                if strict:
                    problems.append(f"unexpected key {name!r}")
                continue
            have = targets[name].shape
            got = tuple(getattr(value, "shape", ()))
            if tuple(have) != got:
                problems.append(f"{name!r}: checkpoint shape {got}, model shape {tuple(have)}")
        if strict:
            problems += [f"missing key {n!r}" for n in targets if n not in state]
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: "
                             + "; ".join(problems))
        for name, value in state.items():
            if name in targets:
                t = targets[name]
                dst = t.data if isinstance(t, Tensor) else t
                value = value.data if isinstance(value, Tensor) else value
                dst[...] = to_device(get_array_module(value).asarray(value), device_of(dst))
                if isinstance(t, Tensor):
                    t.bump_version()
        return self

    # --- display ---------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"
