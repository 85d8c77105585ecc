"""Every differentiable op, with a hypothesis strategy for valid inputs and PyTorch's twin.

Values are drawn on minigan.testing's grids, which keep finite differences valid (its
strategies module says why each exists); tests/test_ops.py checks every op with check_op.
"""
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
from minigan import functional as F
from minigan.testing import arrays, conv_geometries, shapes

values = arrays          # the kit's strategies (minigan/testing/strategies.py)


def _wide(a):
    """A float wider than float64 on the CPU (CuPy, and so its stand-in, has no long
    double)."""
    return np.longdouble if a.device == "cpu" else np.float64


def _round_trip(a):
    home = a.device
    away = "strict" if home == "cpu" else "cpu"
    return F.to_device(F.to_device(a, away) * 3, home)


@dataclass
class Op:
    name: str
    fn: object                   # minigan: fn(*inputs, **kw)
    cases: object                # strategy of (list of input arrays, kw dict)
    tfn: object = None           # torch twin, same signature (None: no oracle)
    smooth: bool = True          # gradgradcheck applies (away from kinks)
    tags: set = field(default_factory=set)


@st.composite
def _unary(draw, grid="any", unique=False, min_dims=1, kw=None):
    shape = draw(shapes(min_dims=min_dims))
    x = draw(values(shape, grid, unique))
    return [x], (draw(kw(shape)) if kw else {})


@st.composite
def _binary(draw, grid_a="any", grid_b="any"):
    (sa, sb), _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    return [draw(values(sa, grid_a)), draw(values(sb, grid_b))], {}


def _dim_kw(allow_none=True):
    def strat(shape):
        dims = st.integers(-len(shape), len(shape) - 1)
        dim = st.one_of(st.none(), dims) if allow_none else dims
        return st.fixed_dictionaries({"dim": dim, "keepdim": st.booleans()})
    return strat


def _softmax_kw(shape):
    return st.fixed_dictionaries({"dim": st.integers(-len(shape), len(shape) - 1)})


@st.composite
def _matmul(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,), (1, 2)]))
    left = draw(st.sampled_from([(n, k), (k,)]) if not batch else st.just(batch + (n, k)))
    right = draw(st.sampled_from([(k, m), (k,)]))
    return [draw(values(left)), draw(values(right))], {}


@st.composite
def _linear(draw, bias=True):
    n, i, o = (draw(st.integers(1, 4)) for _ in range(3))
    lead = draw(st.sampled_from([(n,), (2, n)]))
    args = [draw(values(lead + (i,))), draw(values((o, i)))]
    if bias:
        args.append(draw(values((o,))))
    return args, {}


@st.composite
def _linear_act(draw):
    """Linear inputs whose pre-activations x W^T + b all keep 0.01 away from the kink: each
    bias entry is stepped by 0.05 until its column clears (no filtering)."""
    (x, w, b), kw = draw(_linear())
    return [x, w, _off_kink(x.reshape(-1, x.shape[-1]) @ w.T, b)], kw


@st.composite
def _loss(draw, grid_in="any", grid_t="unit"):
    shape = draw(shapes())
    return [draw(values(shape, grid_in)), draw(values(shape, grid_t))], \
        {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


@st.composite
def _weighted_loss(draw):
    (x, t), kw = draw(_loss())
    lead = draw(st.integers(0, x.ndim))
    kw["weight"] = draw(values(x.shape[lead:], "pos"))    # broadcast over the leading dims
    return [x, t], kw


@st.composite
def _constant_target_loss(draw):
    """Logits only; target (and maybe a weight of the same shape) constants: what a GAN's
    loss looks like, and what the one-loop kernels serve in the first-order backward."""
    (x, t), _ = draw(_loss())
    weight = draw(st.one_of(st.none(), values(x.shape, "pos")))
    return [x], {"target": t, "reduction": draw(st.sampled_from(["mean", "sum"])),
                 "weight": weight}


def _torch_constant_target_bce(a, target, reduction, weight):
    import torch
    return _tF().binary_cross_entropy_with_logits(
        a, torch.from_numpy(target), reduction=reduction,
        weight=None if weight is None else torch.from_numpy(weight))


def _torch_weighted_bce(a, t, reduction, weight):
    import torch
    return _tF().binary_cross_entropy_with_logits(a, t, reduction=reduction,
                                                  weight=torch.from_numpy(weight))


@st.composite
def _classes(draw, log_probs=False):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return [draw(values((n, c))), labels], \
        {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


@st.composite
def _getitem(draw):
    shape = draw(shapes(min_dims=2, max_dims=3, min_side=2))
    x = draw(values(shape))
    kind = draw(st.sampled_from(["int", "slice", "ints", "mask", "newaxis"]))
    if kind == "int":
        key = draw(st.integers(-shape[0], shape[0] - 1))
    elif kind == "slice":
        key = (slice(None), slice(draw(st.integers(0, 1)), None, draw(st.integers(1, 2))))
    elif kind == "ints":       # repeated indices: the backward must accumulate
        key = np.array(draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
    elif kind == "mask":
        key = np.array(draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))
    else:
        key = (Ellipsis, None, 0)
    return [x], {"key": key}


@st.composite
def _reshape(draw):
    shape = draw(shapes())
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), (1, size), (size, 1), (-1,)]))
    return [draw(values(shape))], {"shape": target}


@st.composite
def _permute(draw):
    shape = draw(shapes())
    return [draw(values(shape))], {"dims": tuple(draw(st.permutations(range(len(shape)))))}


@st.composite
def _join(draw, new_axis):
    shape = draw(shapes())
    dim = draw(st.integers(0, len(shape) - (0 if new_axis else 1)))
    count = draw(st.integers(1, 3))
    arrays = []
    for _ in range(count):
        s = list(shape)
        if not new_axis:
            s[dim] = draw(st.integers(1, 3))
        arrays.append(draw(values(tuple(s))))
    return arrays, {"dim": dim}


@st.composite
def _cat_one_hot(draw):
    n, d, k = (draw(st.integers(1, 4)) for _ in range(3))
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return [draw(values((n, d)))], {"labels": labels, "num_classes": k}


def _torch_cat_one_hot(x, labels, num_classes):
    code = _tF().one_hot(_t().from_numpy(labels), num_classes).to(x.dtype)
    return _t().cat([x, code], 1)


@st.composite
def _pad(draw):
    shape = draw(shapes())
    pairs = draw(st.integers(1, len(shape)))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(2 * pairs))
    return [draw(values(shape))], {"pad": pads, "value": draw(st.sampled_from([0.0, -1.5]))}


def _off_kink(pre, b):
    """b stepped by 0.05 per column until every pre-activation pre + b is 0.01 from 0."""
    b = b.copy()
    for o in range(len(b)):
        while np.abs(pre[:, o] + b[o]).min() < 0.01:
            b[o] += 0.05
    return b


@st.composite
def _linear_chain(draw):
    """Three dense layers (the last without bias or activation), activations relu or leaky,
    every pre-activation off the kink."""
    n, a, h1, h2, o = (draw(st.integers(1, 4)) for _ in range(5))
    slopes = tuple(draw(st.sampled_from([0.0, 0.2])) for _ in range(2))
    x, w1, w2, w3 = (draw(values(s)) for s in ((n, a), (h1, a), (h2, h1), (o, h2)))
    b1 = _off_kink(x @ w1.T, draw(values((h1,))))
    pre = x @ w1.T + b1
    b2 = _off_kink(np.where(pre > 0, pre, slopes[0] * pre) @ w2.T, draw(values((h2,))))
    return [x, w1, b1, w2, b2, w3], {"slopes": slopes}


def _chain(x, w1, b1, w2, b2, w3, slopes):
    return F.linear_chain(x, [(w1, b1, slopes[0]), (w2, b2, slopes[1]), (w3, None, None)])


def _torch_chain(x, w1, b1, w2, b2, w3, slopes):
    tf = _tF()
    h = tf.leaky_relu(tf.linear(x, w1, b1), slopes[0])
    return tf.linear(tf.leaky_relu(tf.linear(h, w2, b2), slopes[1]), w3)


@st.composite
def _where(draw):
    (sc, sa, sb), _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3,
                                                             max_side=3))
    cond = draw(hnp.arrays(bool, sc))
    return [draw(values(sa)), draw(values(sb))], {"cond": cond}


@st.composite
def _batch_norm(draw, affine=True):
    n, c = draw(st.integers(2, 4)), draw(st.integers(1, 3))
    # S >= norm_kernels.MIN_RUN values per sample and channel take the Numba kernels
    spatial = draw(st.sampled_from([(), (2,), (2, 2), (3, 3)]))
    x = draw(values((n, c) + spatial, unique=True))
    return [x] + ([draw(values((c,))), draw(values((c,)))] if affine else []), {}


@st.composite
def _batch_norm_act(draw):
    """Batch norm inputs whose normalised, affine outputs all keep 0.01 away from the kink."""
    (x, w, b), _ = draw(_batch_norm())
    xm = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    xhat = (xm - xm.mean(0)) / np.sqrt(xm.var(0) + 1e-5)
    return [x, w, _off_kink(xhat * w, b)], {}


def conv_geometry(transposed=False):
    """Valid conv / transposed-conv geometry (batch 2-3), drawn directly (no filtering)."""
    return conv_geometries(transposed, min_batch=2)


@st.composite
def winograd_geometry(draw, transposed=False):
    """A geometry Winograd computes: stride 1 with a square 2x2, 3x3 or 5x5 kernel, or
    stride 2 with a square 4x4 or 6x6 one (through backend/subpixel.py); dilation 1, any
    padding below the kernel's size; batch 1-3, 1-3 channels."""
    n, cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    s = draw(st.sampled_from([1, 2]))
    k = draw(st.sampled_from([2, 3, 5] if s == 1 else [4, 6]))
    p = (draw(st.integers(0, k - 1)), draw(st.integers(0, k - 1)))
    op = (draw(st.integers(0, s - 1)), draw(st.integers(0, s - 1))) if transposed else None
    if transposed:      # an output of at least 1: (size - 1) s - 2 p + k + op >= 1
        lowest = [max(1, -(-(1 + 2 * pi - k - oi) // s) + 1) for pi, oi in zip(p, op)]
    else:               # (size + 2 p - k) // s + 1 >= 1
        lowest = [max(1, k - 2 * pi) for pi in p]
    size = tuple(lo + draw(st.integers(0, 4)) for lo in lowest)
    wshape = (cin, cout, k, k) if transposed else (cout, cin, k, k)
    return dict(x=(n, cin) + size, w=wshape, bias=(wshape[1 if transposed else 0],),
                stride=(s, s), padding=p, dilation=(1, 1), output_padding=op)


@st.composite
def direct_geometry(draw, transposed=False):
    """A geometry the direct kernels compute: stride and dilation 1, kernels 1-4 high and
    wide, padding up to the kernel's size (whole rows of zeros too); batch 1-3, 1-3
    channels."""
    n, cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    p = tuple(draw(st.integers(0, ki)) for ki in k)
    if transposed:      # the output (size - 1) - 2 p + k >= 1
        lowest = [max(1, 2 * pi - ki + 2) for pi, ki in zip(p, k)]
    else:               # size + 2 p - k + 1 >= 1
        lowest = [max(1, ki - 2 * pi) for pi, ki in zip(p, k)]
    size = tuple(lo + draw(st.integers(0, 4)) for lo in lowest)
    wshape = (cin, cout) + k if transposed else (cout, cin) + k
    return dict(x=(n, cin) + size, w=wshape, bias=(wshape[1 if transposed else 0],),
                stride=(1, 1), padding=p, dilation=(1, 1),
                output_padding=(0, 0) if transposed else None)


@st.composite
def _conv(draw, transposed=False, winograd=False, direct=False):
    """Inputs of a convolution; ``winograd`` (``direct``): half of them in geometries it
    computes."""
    own = winograd_geometry if winograd else direct_geometry if direct else None
    g = draw(own(transposed) if own is not None and draw(st.booleans()) else
             conv_geometry(transposed))
    kw = dict(stride=g["stride"], padding=g["padding"], dilation=g["dilation"])
    if transposed:
        kw["output_padding"] = g["output_padding"]
    args = [draw(values(g["x"])), draw(values(g["w"])), draw(values(g["bias"]))]
    return args, kw


CONV_STRATEGIES = ("auto", "rows", "im2col", "channels_last", "winograd", "direct")


def _strategy(op, name):
    """``op`` computed the ``name`` way (minigan.functional.conv.conv_strategy)."""
    from minigan.functional.conv import conv_strategy

    def run(*args, **kw):
        with conv_strategy(name):
            return op(*args, **kw)
    return run


@st.composite
def pool_geometry(draw, tiled=False):
    """Valid pooling geometry; ``tiled``: stride = kernel and no padding."""
    n, c = draw(st.integers(2, 3)), draw(st.integers(1, 3))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = k if tiled else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (0, 0) if tiled else tuple(draw(st.integers(0, ki // 2)) for ki in k)
    size = tuple(ki - 2 * pi + draw(st.integers(0, 4)) for ki, pi in zip(k, p))
    size = tuple(max(1, v) for v in size)
    return dict(x=(n, c) + size, kernel_size=k, stride=s, padding=p)


@st.composite
def _pool(draw, avg=False):
    g = draw(pool_geometry())
    kw = dict(kernel_size=g["kernel_size"], stride=g["stride"], padding=g["padding"])
    if avg:
        kw["count_include_pad"] = draw(st.booleans())
    return [draw(values(g["x"], unique=True))], kw


def _t():
    import torch
    return torch


def _tF():
    import torch.nn.functional as tF
    return tF


def _torch_getitem(x, key):
    import torch
    if isinstance(key, np.ndarray):
        key = torch.from_numpy(key)
    return x[key]


def _pow_const(x, c):
    return x ** c


OPS = [
    Op("add", lambda a, b: a + b, _binary(), lambda a, b: a + b),
    Op("sub", lambda a, b: a - b, _binary(), lambda a, b: a - b),
    Op("mul", lambda a, b: a * b, _binary(), lambda a, b: a * b),
    Op("div", lambda a, b: a / b, _binary("any", "pos"), lambda a, b: a / b),
    Op("rsub_scalar", lambda a: 2.5 - a, _unary(), lambda a: 2.5 - a),
    Op("rdiv_scalar", lambda a: 1.5 / a, _unary("pos"), lambda a: 1.5 / a),
    Op("neg", lambda a: -a, _unary(), lambda a: -a),
    # dtype casts, there and back through a wider float (exact, so finite differences hold)
    Op("to_dtype", lambda a: F.to_dtype(F.to_dtype(a, _wide(a)) * 3, np.float64),
       _unary(), lambda a: a * 3),
    # a round trip through another device (the CPU and the strict stand-in for CuPy)
    Op("to_device", _round_trip, _unary(), lambda a: a * 3),
    Op("pow_const", _pow_const, _unary("pos", kw=lambda s: st.fixed_dictionaries(
        {"c": st.sampled_from([2, 3, 0.5, -1, 1.5])})), _pow_const),
    Op("pow_tensor", lambda a, b: a ** b, _binary("pos", "any"), lambda a, b: a ** b),
    Op("exp", lambda a: a.exp(), _unary(), lambda a: a.exp()),
    Op("log", lambda a: a.log(), _unary("pos"), lambda a: a.log()),
    Op("sqrt", lambda a: a.sqrt(), _unary("pos"), lambda a: a.sqrt()),
    Op("abs", lambda a: a.abs(), _unary(), lambda a: a.abs()),
    Op("clip", lambda a: a.clip(-0.5, 0.7), _unary(), lambda a: a.clamp(-0.5, 0.7)),
    Op("maximum", lambda a, b: mg.maximum(a, b), _binary("even", "odd"),
       lambda a, b: _t().maximum(a, b)),
    Op("minimum", lambda a, b: mg.minimum(a, b), _binary("even", "odd"),
       lambda a, b: _t().minimum(a, b)),
    Op("where", lambda a, b, cond: mg.where(cond, a, b), _where(),
       lambda a, b, cond: _t().where(_t().from_numpy(cond), a, b)),
    Op("sum", lambda a, dim, keepdim: a.sum(dim, keepdim), _unary(kw=_dim_kw()),
       lambda a, dim, keepdim: a.sum() if dim is None and not keepdim else
       a.sum(dim=tuple(range(a.ndim)) if dim is None else dim, keepdim=keepdim)),
    Op("mean", lambda a, dim, keepdim: a.mean(dim, keepdim), _unary(kw=_dim_kw()),
       lambda a, dim, keepdim: a.mean() if dim is None and not keepdim else
       a.mean(dim=tuple(range(a.ndim)) if dim is None else dim, keepdim=keepdim)),
    Op("max", lambda a, dim, keepdim: a.max(dim, keepdim), _unary(unique=True, kw=_dim_kw()),
       lambda a, dim, keepdim: _t().amax(a, dim=() if dim is None else dim, keepdim=keepdim)),
    Op("min", lambda a, dim, keepdim: a.min(dim, keepdim), _unary(unique=True, kw=_dim_kw()),
       lambda a, dim, keepdim: _t().amin(a, dim=() if dim is None else dim, keepdim=keepdim)),
    Op("var", lambda a, dim, keepdim: a.var(dim, keepdim),
       _unary(kw=_dim_kw(allow_none=False)).filter(lambda c: c[0][0].shape[c[1]["dim"]] > 1),
       lambda a, dim, keepdim: a.var(dim=dim, keepdim=keepdim)),
    Op("logsumexp", lambda a, dim, keepdim: a.logsumexp(dim, keepdim),
       _unary(kw=_dim_kw(allow_none=False)),
       lambda a, dim, keepdim: a.logsumexp(dim=dim, keepdim=keepdim)),
    Op("matmul", lambda a, b: a @ b, _matmul(), lambda a, b: a @ b),
    Op("linear", F.linear, _linear(), lambda x, w, b: _tF().linear(x, w, b)),
    Op("linear_relu", lambda x, w, b: F.linear(x, w, b, activation="relu"), _linear_act(),
       lambda x, w, b: _tF().relu(_tF().linear(x, w, b))),
    Op("linear_leaky_relu",
       lambda x, w, b: F.linear(x, w, b, activation="leaky_relu", negative_slope=0.2),
       _linear_act(), lambda x, w, b: _tF().leaky_relu(_tF().linear(x, w, b), 0.2)),
    Op("linear_chain", _chain, _linear_chain(), _torch_chain),
    Op("linear_nobias", F.linear, _linear(bias=False), lambda x, w: _tF().linear(x, w)),
    Op("getitem", lambda a, key: a[key], _getitem(), _torch_getitem),
    Op("reshape", lambda a, shape: a.reshape(shape), _reshape(),
       lambda a, shape: a.reshape(shape)),
    Op("permute", lambda a, dims: a.permute(dims), _permute(), lambda a, dims: a.permute(dims)),
    Op("transpose", lambda a: a.transpose(0, -1), _unary(),
       lambda a: a.transpose(0, -1)),
    Op("flatten", lambda a: a.flatten(), _unary(), lambda a: a.flatten()),
    Op("cat", lambda *xs, dim: mg.cat(xs, dim), _join(False),
       lambda *xs, dim: _t().cat(xs, dim)),
    Op("cat_one_hot", F.cat_one_hot, _cat_one_hot(), _torch_cat_one_hot),
    Op("stack", lambda *xs, dim: mg.stack(xs, dim), _join(True),
       lambda *xs, dim: _t().stack(xs, dim)),
    Op("pad", lambda a, pad, value: mg.pad(a, pad, value), _pad(),
       lambda a, pad, value: _tF().pad(a, pad, value=value)),
    Op("broadcast_to", lambda a: a.broadcast_to((2,) + a.shape), _unary(),
       lambda a: a.expand((2,) + a.shape)),
    Op("relu", F.relu, _unary(), lambda a: _tF().relu(a)),
    Op("leaky_relu", lambda a: F.leaky_relu(a, 0.2), _unary(),
       lambda a: _tF().leaky_relu(a, 0.2)),
    Op("sigmoid", F.sigmoid, _unary(), lambda a: _t().sigmoid(a)),
    Op("tanh", F.tanh, _unary(), lambda a: _t().tanh(a)),
    Op("softplus", F.softplus, _unary(), lambda a: _tF().softplus(a)),
    Op("softmax", F.softmax, _unary(kw=_softmax_kw), lambda a, dim: _tF().softmax(a, dim)),
    Op("log_softmax", F.log_softmax, _unary(kw=_softmax_kw),
       lambda a, dim: _tF().log_softmax(a, dim)),
    Op("dropout", lambda a: F.dropout(a, 0.3, True, np.random.default_rng(7)), _unary()),
    Op("bce_with_logits", F.binary_cross_entropy_with_logits, _loss(),
       lambda a, t, reduction: _tF().binary_cross_entropy_with_logits(a, t,
                                                                      reduction=reduction)),
    Op("bce_with_logits_weighted", F.binary_cross_entropy_with_logits, _weighted_loss(),
       _torch_weighted_bce),
    Op("bce_with_logits_constant_target",
       lambda x, target, reduction, weight: F.binary_cross_entropy_with_logits(
           x, target, reduction, weight=weight),
       _constant_target_loss(), _torch_constant_target_bce),
    Op("bce", F.binary_cross_entropy, _loss("prob", "unit"),
       lambda a, t, reduction: _tF().binary_cross_entropy(a, t, reduction=reduction)),
    Op("mse_loss", F.mse_loss, _loss("any", "any"),
       lambda a, t, reduction: _tF().mse_loss(a, t, reduction=reduction)),
    Op("l1_loss", F.l1_loss, _loss("even", "odd"),
       lambda a, t, reduction: _tF().l1_loss(a, t, reduction=reduction)),
    Op("cross_entropy", F.cross_entropy, _classes(),
       lambda a, t, reduction: _tF().cross_entropy(a, t, reduction=reduction)),
    Op("nll_loss", F.nll_loss, _classes(),
       lambda a, t, reduction: _tF().nll_loss(a, t, reduction=reduction)),
    # each way of computing a convolution, picked explicitly (its backward passes too)
    *[Op(f"conv2d_{s}", _strategy(F.conv2d, s),
         _conv(winograd=s == "winograd", direct=s == "direct"),
         lambda x, w, b, **kw: _tF().conv2d(x, w, b, **kw)) for s in CONV_STRATEGIES],
    *[Op(f"conv_transpose2d_{s}", _strategy(F.conv_transpose2d, s),
         _conv(transposed=True, winograd=s == "winograd", direct=s == "direct"),
         lambda x, w, b, **kw: _tF().conv_transpose2d(x, w, b, **kw))
      for s in CONV_STRATEGIES],
    Op("max_pool2d", F.max_pool2d, _pool(), lambda x, **kw: _tF().max_pool2d(x, **kw)),
    Op("avg_pool2d", F.avg_pool2d, _pool(avg=True), lambda x, **kw: _tF().avg_pool2d(x, **kw)),
    Op("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
       _batch_norm(),
       lambda x, w, b: _tF().batch_norm(x, None, None, w, b, training=True)),
    Op("batch_norm_relu", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True,
                                                       activation="relu"),
       _batch_norm_act(),
       lambda x, w, b: _tF().relu(_tF().batch_norm(x, None, None, w, b, training=True))),
    Op("batch_norm_leaky_relu",
       lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True,
                                    activation="leaky_relu", negative_slope=0.2),
       _batch_norm_act(),
       lambda x, w, b: _tF().leaky_relu(_tF().batch_norm(x, None, None, w, b, training=True),
                                        0.2)),
    Op("batch_norm_plain", lambda x: F.batch_norm(x, None, None, training=True),
       _batch_norm(affine=False),
       lambda x: _tF().batch_norm(x, None, None, training=True)),
]

OPS_BY_NAME = {op.name: op for op in OPS}
