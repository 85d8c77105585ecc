# %% [markdown]
# # 1. Tensors and the graph: what backward walks
#
# A minigan `Tensor` is three things: an array (`.data`), room for its gradient (`.grad`),
# and the node that made it (`.creator`, a `Function`). Every op on tensors runs its forward
# on the arrays and, when a gradient is wanted, records a node that remembers its inputs.
# Those records are the graph; `backward()` walks it from the output back, applying the
# chain rule one node at a time. This notebook builds a small graph, draws it, and watches
# the backward pass visit it.

# %%
import numpy as np

import minigan as mg
from minigan import functional as F
from minigan.core import trace_backward

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# A one-layer net on three points: `loss = sum(tanh(x @ W + b))`. Float64 throughout, so
# the checks below can be tight. Only the tensors made with `requires_grad=True` are leaves
# we want gradients for; `x` is data.

# %%
rng = np.random.default_rng(0)
x = mg.tensor(rng.standard_normal((3, 2)))
W = mg.tensor(rng.standard_normal((2, 4)), requires_grad=True)
b = mg.tensor(np.zeros(4), requires_grad=True)
x.name, W.name, b.name = "x", "W", "b"

h = x @ W
z = h + b
a = F.tanh(z)
loss = a.sum()
h.name, z.name, a.name, loss.name = "h", "z", "a", "loss"
print(f"loss = {loss.item():.6f}")
print("loss was made by", loss.creator.name, "from", [t.name for t in loss.creator.inputs])
print("generations:", {t.name: t.generation for t in (x, W, h, z, a, loss)})

# %% [markdown]
# The graph behind `loss`. `mg.viz.draw` shows itself in Jupyter: a picture where
# Graphviz's `dot` is installed, this indented text otherwise (each tensor, then `<-` the
# op that made it, its inputs indented below). Leaves have no `<-`.

# %%
mg.viz.draw(loss)

# %% [markdown]
# ## The backward pass, node by node
#
# `backward()` seeds d loss / d loss = 1 and visits the nodes newest generation first, so
# that a node's upstream gradient is complete (summed over every path) before it runs.
# `trace_backward` calls us after each node: we print the gradient that arrived from above
# and the gradients the node passed down to its inputs.

# %%
def values(g):          # a gradient is a Tensor, or a plain array when no graph is built
    return g.numpy() if isinstance(g, mg.Tensor) else g


def show(fn, gy, gxs):
    names = [t.name for t in fn.inputs]
    print(f"{fn.name:7s} (generation {fn.generation}): upstream shape {gy.shape}")
    for name, g in zip(names, gxs):
        if g is not None:
            print(f"    -> d loss / d {name}: shape {g.shape}, "
                  f"first entries {values(g).ravel()[:4]}")


with trace_backward(show):
    loss.backward()

# %% [markdown]
# Each step is one local rule times the upstream gradient:
#
# - `Sum`: d loss / d a = 1 for every element;
# - `Tanh`: d a / d z = 1 - tanh(z)^2, elementwise;
# - `Add`: passes its upstream to both inputs, but `b` (shape (4,)) was broadcast over the 3
#   rows, so its gradient is the upstream summed over the rows;
# - `MatMul`: d loss / d W = x^T @ upstream (x needs no gradient: it is data).
#
# The same, written by hand with NumPy:

# %%
dz = 1 - np.tanh(z.data) ** 2           # upstream of Tanh is all ones
print("dW by hand   :", (x.numpy().T @ dz)[0])
print("dW by minigan:", W.grad.numpy()[0])
print("db by hand   :", dz.sum(0))
print("db by minigan:", b.grad.numpy())

# %% [markdown]
# And checked the way every gradient in minigan is checked: against central finite
# differences of the loss, every element of every input, in float64.

# %%
def f(W, b):
    return F.tanh(x @ W + b).sum()


print("gradcheck:", mg.gradcheck(f, [W.data, b.data]))

# %% [markdown]
# A tensor used twice gets the sum of its two gradients: the pass waits until both paths
# have delivered before it goes below. Here `y = u * u + u`, so dy/du = 2u + 1:

# %%
u = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
u.name = "u"
y = (u * u + u).sum()
y.name = "y"
graph = mg.viz.draw(y)         # before backward, which frees the graph as it goes
y.backward()
print("du =", u.grad.numpy(), " 2u + 1 =", 2 * u.data + 1)
graph

# %% [markdown]
# Next: [2. write an op and gradcheck it](2_write_an_op.ipynb). The source behind this
# notebook: `minigan/core/tensor.py`, `function.py` and `autograd.py` (README's reading
# route); `python examples/backprop_walkthrough.py` prints the chain rule element by element.
