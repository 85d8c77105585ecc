"""Fusion, chosen explicitly: ``nn.fuse(model)`` makes every Sequential in ``model`` run its
layers as fewer graph nodes, with the same numbers bit for bit.

A plain ``Sequential`` is the loop ``for m in self: x = m(x)``, one node per layer, which is
what a learner reads and what ``mg.viz.to_dot`` draws. The fused one, for speed on small
models where Python's per-node cost dominates:
- an all-dense stack (Linear layers, each maybe followed by ReLU or LeakyReLU with slope
  >= 0) on 2-D input runs as one ``LinearChain`` node (a mixture-GAN turn records 6 nodes);
- otherwise a Linear or a batch norm followed by such an activation runs as one node.
The parameters stay the same objects (state dicts and optimizers are unaffected).
"""
from minigan.backend.mode import reference
from minigan.functional import linear
from minigan.functional.linalg import linear_chain_planned
from minigan.nn.layers import BatchNorm1d, BatchNorm2d, LeakyReLU, Linear, ReLU, Sequential
from minigan.nn.module import Module


def fuse(module):
    """Make every Sequential in ``module`` (itself included) a FusedSequential, in place;
    returns ``module``."""
    if not isinstance(module, Module):
        raise TypeError(f"fuse expects a Module, got {type(module).__name__}")
    for m in module.modules():
        if type(m) is Sequential:
            m.__class__ = FusedSequential
    return module


class FusedSequential(Sequential):
    """A Sequential that runs dense layers and their activations as fewer nodes."""

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        self.__dict__.pop("_chain", None)          # the layer list changed: plan again

    def forward(self, x):
        if reference.on:                           # reference mode: the plain loop
            return super().forward(x)
        if "_chain" not in self.__dict__:
            object.__setattr__(self, "_chain", _dense_chain(list(self._modules.values())))
        layers = _chain_layers(self._chain) if getattr(x, "ndim", 0) == 2 else None
        if layers is not None:     # only dense layers: one node for all, the same numbers
            return linear_chain_planned(x, layers)
        mods, i = list(self._modules.values()), 0
        while i < len(mods):
            act = _fused_activation(mods[i], mods[i + 1]) if i + 1 < len(mods) else None
            if act is None:
                x = mods[i](x)
                i += 1
            elif isinstance(mods[i], Linear):       # Linear then (Leaky)ReLU: one node
                x = linear(x, mods[i].weight, mods[i].bias, **act)
                i += 2
            else:                                   # batch norm then (Leaky)ReLU: one node
                x = mods[i].normalise(x, **act)
                i += 2
        return x


def _dense_chain(mods):
    """[(Linear, activation module or None), ...] if ``mods`` is nothing but Linear layers,
    each maybe followed by a ReLU or LeakyReLU; else None."""
    chain, i = [], 0
    while i < len(mods):
        if type(mods[i]) is not Linear:
            return None
        act = mods[i + 1] if i + 1 < len(mods) and type(mods[i + 1]) in (ReLU, LeakyReLU) \
            else None
        chain.append((mods[i], act))
        i += 2 if act is not None else 1
    return chain or None


def _chain_layers(chain):
    """F.linear_chain's layers for a planned chain, or None if there is none or an
    activation cannot join it (a LeakyReLU whose slope is now negative)."""
    if chain is None:
        return None
    layers = []
    for lin, act in chain:
        slope = None if act is None else 0.0 if type(act) is ReLU else float(act.negative_slope)
        if slope is not None and not slope >= 0:
            return None
        layers.append((lin.weight, lin.bias, slope))
    return layers


def _fused_activation(m, nxt):
    """The activation arguments for ``m`` if ``m`` then ``nxt`` can run as one node (exactly
    a Linear, BatchNorm1d or BatchNorm2d, then a ReLU or a LeakyReLU with slope >= 0), else
    None."""
    if type(m) not in (Linear, BatchNorm1d, BatchNorm2d):
        return None
    if type(nxt) is ReLU:
        return {"activation": "relu"}
    if type(nxt) is LeakyReLU and nxt.negative_slope >= 0:
        return {"activation": "leaky_relu", "negative_slope": nxt.negative_slope}
    return None
