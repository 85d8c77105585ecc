# %% [markdown]
# # 2. Write an op, and prove its gradient
#
# Every op in minigan is a `Function` with two methods: `forward`, on plain arrays, and
# `backward`, which maps the gradient of the output (`gy`) to the gradients of the inputs.
# The backward is written with minigan ops, not NumPy, so it builds a graph of its own when
# asked to, and the op can be differentiated twice (notebook 3 needs that).
#
# The op here: `logcosh(x) = log(cosh(x))`, a smooth absolute value (quadratic near 0,
# |x| - log 2 far away), used as a robust loss. Its derivative is `tanh(x)`, its second
# derivative `1 - tanh(x)^2`.

# %%
import numpy as np
from hypothesis import settings

import minigan as mg
from minigan import functional as F
from minigan.testing import CheckFailed, arrays, check_op, shapes

np.set_printoptions(precision=4, suppress=True)


class LogCosh(mg.Function):
    def forward(self, x):
        ax = np.abs(x)                       # log cosh x = |x| + log(1 + e^-2|x|) - log 2,
        return ax + np.log1p(np.exp(-2 * ax)) - np.log(2.0)   # which never overflows

    def backward(self, gy):
        x, = self.inputs                     # the op keeps its inputs for its backward
        return gy * F.tanh(x)


def logcosh(x):
    return LogCosh()(x)


x = mg.tensor(np.array([-30.0, -1.0, 0.0, 0.5, 30.0]), requires_grad=True)
y = logcosh(x)
print("logcosh:", y.data)
print("numpy  :", np.log(np.cosh(x.data)))
y.sum().backward()
print("grad   :", x.grad.numpy(), "= tanh(x)")

# %% [markdown]
# ## gradcheck: the derivative against finite differences
#
# `mg.gradcheck(f, inputs)` perturbs every element of every input by ±eps, in float64, and
# compares (f(x + eps) - f(x - eps)) / 2 eps with what backward returns.
# `mg.gradgradcheck` does the same for the derivative of the backward: the second
# derivatives, through `create_graph=True`.

# %%
rng = np.random.default_rng(0)
inputs = [rng.standard_normal((3, 4))]
print("gradcheck    :", mg.gradcheck(logcosh, inputs))
print("gradgradcheck:", mg.gradgradcheck(logcosh, inputs))

# %% [markdown]
# A check that cannot fail proves nothing, so plant a bug: a derivative 0.1% too large.
# gradcheck names the input, the element, and both numbers.

# %%
class WrongLogCosh(LogCosh):
    def backward(self, gy):
        return super().backward(gy) * 1.001


try:
    mg.gradcheck(lambda x: WrongLogCosh()(x), inputs)
except mg.GradcheckError as exc:
    print(exc)

# %% [markdown]
# ## check_op: every property, on inputs hypothesis draws
#
# `minigan.testing.check_op` is how minigan tests its own ops. It draws inputs with
# hypothesis (shapes, then values on a grid of well-conditioned numbers) and checks, on each:
# gradcheck, gradgradcheck, the fast paths against the plain ones, and a reference
# implementation you give (here NumPy's). On a failure it shrinks the input to the smallest
# one that still fails. `derandomize` makes hypothesis draw the same inputs every run, so this
# notebook prints the same thing every time.

# %%
settings.register_profile("notebook", derandomize=True, max_examples=20)
settings.load_profile("notebook")

cases = arrays(shapes()).map(lambda a: [a])
check_op(logcosh, cases, reference=lambda a: np.log(np.cosh(a)))
print("LogCosh: every property holds on 20 drawn inputs")

try:
    check_op(lambda x: WrongLogCosh()(x), cases, reference=lambda a: np.log(np.cosh(a)))
except CheckFailed as exc:
    print(exc)

# %% [markdown]
# The second report's input is what hypothesis shrank the failure to: the smallest array on
# which the wrong derivative is still caught. `docs/testing.md` has the rest (other
# properties, PyTorch as a reference, devices, a pytest plugin);
# `python examples/custom_op.py` tests two more ops this way.
#
# Next: [3. double backprop](3_double_backprop.ipynb).
