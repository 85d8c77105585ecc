"""Matrix products (kept in BLAS / cuBLAS) and the affine map of a Linear layer."""
from minigan.backend import elementwise_kernels as kernels
from minigan.core import Function, Tensor, as_tensor
from minigan.functional.activation import fused_slope
from minigan.functional.elementwise import MulMask
from minigan.functional.reduction import sum
from minigan.functional.shape import reshape, sum_to, transpose


class MatMul(Function):
    """a @ b for a, b with ndim >= 2; batch dims broadcast as in ``numpy.matmul``."""

    def forward(self, a, b):
        return a @ b

    def backward(self, gy):
        a, b = self.inputs
        ga = gb = None
        if self.needs[0]:
            ga = matmul(gy, transpose(b))
            ga = ga if ga.shape == a.shape else sum_to(ga, a.shape)
        if self.needs[1]:
            gb = matmul(transpose(a), gy)
            gb = gb if gb.shape == b.shape else sum_to(gb, b.shape)
        return ga, gb


def matmul(a, b):
    """Matrix product with ``numpy.matmul``'s rules; 1-D operands are promoted and squeezed."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs at least 1-D operands, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit "
                         f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMul()(a, b)
    a2 = reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    y = MatMul()(a2, b2)                     # (..., n or 1, m or 1): drop the promoted axes
    rows = y.shape[-2:-1] if a.ndim > 1 else ()
    cols = y.shape[-1:] if b.ndim > 1 else ()
    return reshape(y, y.shape[:-2] + rows + cols)


def _affine(x, w, b, slope):
    """x W^T + b on arrays, through relu (slope 0) or leaky_relu (slope > 0) unless slope is
    None; bias and activation in place on the fresh product."""
    y = x @ w.T
    return kernels.bias_act(y, b, slope) if b is not None else kernels.activate(y, slope)


def _act_grad(g, y, slope):
    """The output gradient g through the activation whose output was y (its sign is the
    pre-activation's, as slope >= 0): arrays first-order, a MulMask node with a graph."""
    if slope is None or not isinstance(g, Tensor):
        return kernels.activation_grad(y, g, slope)
    return MulMask(kernels.leaky_relu_derivative(y, slope))(g)


def _dense_grads(g, y, slope, x, w, need_x, need_w, need_b):
    """First order, on arrays: the gradients of act(x W^T + b) (output y) from its output's
    gradient g; the activation's and the bias's gradients in one pass."""
    g, gb = kernels.act_bias_grad(y, g, slope) if need_b else (
        kernels.activation_grad(y, g, slope), None)
    return _input_grad(g, w) if need_x else None, (g.T @ x) if need_w else None, gb


def _input_grad(g, w):
    """g @ w, the gradient of a dense layer's input; for a layer of one output (a
    discriminator's logit) the outer product of g's and w's single columns, where OpenBLAS's
    K=1 product is slow (see ``kernels.outer``)."""
    return kernels.outer(g, w) if w.shape[0] == 1 else g @ w


def _affine_grads(g, x, w, need_x, need_w, need_b):
    """The same with minigan ops on Tensors (g already through the activation), so that the
    gradients can be differentiated again."""
    return (matmul(g, w) if need_x else None, matmul(transpose(g), x) if need_w else None,
            sum(g, 0) if need_b else None)


class Linear(Function):
    """y = x W^T + b for x: (N, in), W: (out, in), b: (out,) — one node instead of three."""

    slope = None

    def forward(self, x, w, b=None):
        return _affine(x, w, b, self.slope)

    def backward(self, gy):
        x, w = self.inputs[:2]
        y = None if self.slope is None else self.y
        grads = _affine_grads(_act_grad(gy, y, self.slope), x, w, *self._need())
        return grads if len(self.inputs) == 3 else grads[:2]

    def backward_arrays(self, gy):
        x, w = self.inputs[:2]
        y = None if self.slope is None else self.y
        grads = _dense_grads(gy, y, self.slope, x.data, w.data, *self._need())
        return grads if len(self.inputs) == 3 else grads[:2]

    def _need(self):
        """Whether x, W and b (if any) need a gradient."""
        return self.needs[0], self.needs[1], len(self.inputs) == 3 and self.needs[2]


class LinearAct(Linear):
    """relu(x W^T + b) (slope 0) or leaky_relu(x W^T + b, slope), slope >= 0, as one node:
    one Function call and one backward step instead of two. The output's sign is the
    pre-activation's, so the saved output gives the activation's derivative."""

    save_output = True

    def __init__(self, slope):
        self.slope = slope


class LinearChain(Function):
    """A stack of dense layers h_l = act_l(h_(l-1) W_l^T + b_l) as one node: inputs x, W_1,
    [b_1,] W_2, ...; ``layout`` gives per layer (has_bias, slope), slope None for no
    activation. The arithmetic of the separate layers, in their order, so the same numbers;
    one Function call and one backward step for the whole stack (the mixture GAN's 3-layer
    G and D). With ``create_graph`` the backward recomputes the layers' outputs with minigan
    ops from the inputs and goes back through them with minigan ops."""

    def __init__(self, layout):
        self.layout = layout

    def _layers(self, params):
        """(w, b or None, slope, index of w among the inputs) per layer."""
        i = 1
        for has_bias, slope in self.layout:
            yield params[i], (params[i + 1] if has_bias else None), slope, i
            i += 2 if has_bias else 1

    def forward(self, *xs):
        hs = [xs[0]]
        for w, b, slope, _ in self._layers(xs):
            hs.append(_affine(hs[-1], w, b, slope))
        self.hs = hs
        return hs[-1]

    def backward(self, gy):
        return self._backward(gy, arrays=False)

    def backward_arrays(self, gy):
        return self._backward(gy, arrays=True)

    def _backward(self, gy, arrays):
        """Layer by layer from the last, on raw arrays (the forward's saved activations) or
        on minigan ops (recomputed from the inputs, so that it differentiates again)."""
        inputs, needs = self.inputs, self.needs
        hs = self.hs if arrays else self._recompute()
        layers = list(self._layers(inputs))
        # below[k]: x or an input of a layer before k needs a gradient
        below = [needs[0]]
        for k, (_, b, _, i) in enumerate(layers):
            below.append(below[k] or needs[i] or (b is not None and needs[i + 1]))
        grads = [None] * len(inputs)
        g = gy
        for k in reversed(range(len(layers))):
            w, b, slope, i = layers[k]
            need = (below[k], needs[i], b is not None and needs[i + 1])
            if arrays:
                gx, grads[i], gb = _dense_grads(g, self.hs[k + 1], slope, hs[k], w.data, *need)
            else:
                gx, grads[i], gb = _affine_grads(_act_grad(g, self.hs[k + 1], slope), hs[k], w,
                                                 *need)
            if b is not None:
                grads[i + 1] = gb
            if not below[k]:
                break
            g = gx
        grads[0] = g if needs[0] else None
        return tuple(grads)

    def _recompute(self):
        """The inputs of every layer as Tensors on a graph from this node's inputs."""
        hs = [self.inputs[0]]
        for w, b, slope, _ in list(self._layers(self.inputs))[:-1]:
            act = {} if slope is None else {"activation": "relu"} if slope == 0 else \
                {"activation": "leaky_relu", "negative_slope": slope}
            hs.append(linear(hs[-1], w, b, **act))
        return hs


def linear(x, weight, bias=None, activation=None, negative_slope=0.01):
    """The affine map ``x @ weight.T + bias``. x: (*, in), weight: (out, in), bias: (out,).

    ``activation`` "relu" or "leaky_relu" (with ``negative_slope`` >= 0) applies it in the
    same node: the numbers of ``relu(linear(x, w, b))``, faster (``nn.fuse`` uses it).
    """
    slope = fused_slope(activation, negative_slope, "linear")
    x, weight = as_tensor(x), as_tensor(weight)
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{weight.shape} (expected (*, {weight.shape[-1]}))")
    args = (x if x.ndim == 2 else reshape(x, (-1, x.shape[-1])), weight)
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias of shape {bias.shape}, expected ({weight.shape[0]},)")
        args += (bias,)
    y = (Linear() if slope is None else LinearAct(slope))(*args)
    return y if x.ndim == 2 else reshape(y, x.shape[:-1] + (weight.shape[0],))


def linear_chain(x, layers):
    """Dense layers in sequence as one node: ``layers`` is a sequence of (weight, bias or
    None, slope), slope the layer's activation as the kernels take it: None for none, 0 for
    relu, > 0 for leaky_relu with that slope. x: (N, in). The numbers of the layers one by
    one, with less overhead (``nn.fuse`` builds it).
    """
    x = as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"linear_chain: input must be (N, features), got shape {x.shape}")
    checked, width = [], x._data.shape[1]
    for k, (w, b, slope) in enumerate(layers):
        w = as_tensor(w)
        shape = w._data.shape
        if len(shape) != 2 or shape[1] != width:
            raise ValueError(f"linear_chain: layer {k} weight of shape {shape} does not fit "
                             f"its input of width {width}")
        width = shape[0]
        if b is not None:
            b = as_tensor(b)
            if b._data.shape != (width,):
                raise ValueError(f"linear_chain: layer {k} bias of shape {b.shape}, expected "
                                 f"({width},)")
        if slope is not None:
            if not slope >= 0:
                raise ValueError(f"linear_chain: layer {k} negative_slope must be >= 0, got "
                                 f"{slope}")
            slope = float(slope)
        checked.append((w, b, slope))
    if not checked:
        raise ValueError("linear_chain: needs at least one layer")
    return _chain_node(x, checked)


def _chain_node(x, layers):
    """The LinearChain node on Tensors x and layers (weight, bias or None, slope or None)."""
    args, layout = [x], []
    for w, b, slope in layers:
        args.append(w)
        if b is not None:
            args.append(b)
        layout.append((b is not None, slope))
    return LinearChain(tuple(layout))(*args)


def linear_chain_planned(x, layers):
    """``linear_chain`` for layers that fitted together when planned (``Sequential``'s plan):
    only the input's shape is checked here, ~2 us a call less on the mixture GAN's 3-layer
    nets; if the layers no longer fit (data of another shape assigned since), the checked
    ``linear_chain`` names the one at fault."""
    x = as_tensor(x)
    if x.ndim == 2 and x._data.shape[1] == layers[0][0]._data.shape[1]:
        try:
            return _chain_node(x, layers)
        except ValueError:
            pass
    return linear_chain(x, layers)
