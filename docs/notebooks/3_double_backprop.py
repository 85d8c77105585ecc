# %% [markdown]
# # 3. Double backprop: a gradient penalty by hand
#
# Some losses contain a gradient. WGAN-GP (Gulrajani et al. 2017) asks the critic D to have
# gradients of norm 1 with respect to its input; R1 (Mescheder et al. 2018) asks them to be
# small on real data. To train D on such a loss, we need the gradient of a gradient.
#
# In minigan, `mg.grad(out, inputs, create_graph=True)` returns gradients that are
# themselves tensors on a graph: each backward node is made of minigan ops, so the backward
# pass itself is recorded, and can be walked again.

# %%
import numpy as np

import minigan as mg

np.set_printoptions(precision=5, suppress=True)

# %% [markdown]
# ## A linear critic, where everything is known in closed form
#
# D(x) = x @ w + c. Its gradient with respect to each input point is w, whatever the point,
# so the R1 penalty, mean over points of |dD/dx|^2, is |w|^2, and its gradient with respect
# to w is 2w.

# %%
w = mg.tensor(np.array([[3.0], [-4.0]]), requires_grad=True)
c = mg.tensor(np.array([0.5]), requires_grad=True)
x = mg.tensor(np.random.default_rng(0).standard_normal((5, 2)), requires_grad=True)

out = (x @ w + c).sum()
gx, = mg.grad(out, x, create_graph=True)   # dD/dx for each of the 5 points: a tensor
print("dD/dx for each point:\n", gx.data)
r1 = (gx * gx).sum(1).mean()
r1.backward()                              # through the gradient, down to w
print("R1 =", r1.item(), " |w|^2 =", float((w.data ** 2).sum()))
print("dR1/dw =", w.grad.numpy().ravel(), " 2w =", 2 * w.data.ravel())
print("dR1/dc =", c.grad, "(c does not change a gradient with respect to x)")

# %% [markdown]
# ## WGAN-GP's penalty on a small MLP critic
#
# The penalty is taken at random points between real and generated samples:
# x̂ = ε x_real + (1 - ε) x_fake, penalty = λ mean((|∇D(x̂)| - 1)^2). Written out:

# %%
rng = np.random.default_rng(1)
layers = [rng.standard_normal((2, 16)) * 0.7, np.zeros(16), rng.standard_normal((16, 1)) * 0.7,
          np.zeros(1)]


def critic(x, W1, b1, W2, b2):
    return mg.functional.tanh(x @ W1 + b1) @ W2 + b2


def gradient_penalty(W1, b1, W2, b2, real, fake, eps, lam=10.0):
    x_hat = mg.tensor(eps * real + (1 - eps) * fake, requires_grad=True)
    g, = mg.grad(critic(x_hat, W1, b1, W2, b2).sum(), x_hat, create_graph=True)
    norm = ((g * g).sum(1) + 1e-12) ** 0.5
    return lam * ((norm - 1) ** 2).mean()


real = rng.standard_normal((8, 2)) + 2.0
fake = rng.standard_normal((8, 2))
eps = rng.uniform(size=(8, 1))
params = [mg.tensor(a, requires_grad=True) for a in layers]
gp = gradient_penalty(*params, real, fake, eps)
gp.backward()
print(f"penalty: {gp.item():.6f}")
print("its gradient for W2 (first 4):", params[2].grad.numpy().ravel()[:4])

# %% [markdown]
# That gradient went through the backward pass of the critic: tanh's derivative
# 1 - tanh^2 was differentiated again. Is it right? gradcheck perturbs each weight, recomputes
# the penalty (a first-order gradient inside) and compares. Then gradgradcheck goes one
# order further: third derivatives of the critic.

# %%
def penalty_of_weights(W1, b1, W2, b2):
    return gradient_penalty(W1, b1, W2, b2, real, fake, eps)


print("gradcheck of the penalty    :", mg.gradcheck(penalty_of_weights, layers))
print("gradgradcheck of the penalty:", mg.gradgradcheck(penalty_of_weights, layers))

# %% [markdown]
# ## What the graph of a gradient looks like
#
# The gradient `g` is a tensor made by the backward ops of the critic: its graph holds
# the forward's nodes (the penalty needs their values) and the backward's. Counting the
# nodes behind each:

# %%
def count_nodes(t):
    seen, stack = set(), [t]
    while stack:
        fn = stack.pop().creator
        if fn is not None and id(fn) not in seen and fn.inputs is not None:
            seen.add(id(fn))
            stack.extend(fn.inputs)
    return len(seen)


x_hat = mg.tensor(eps * real + (1 - eps) * fake, requires_grad=True)
params = [mg.tensor(a, requires_grad=True) for a in layers]
d_out = critic(x_hat, *params).sum()
g, = mg.grad(d_out, x_hat, create_graph=True)
print("nodes behind D(x̂).sum():", count_nodes(d_out))
print("nodes behind its gradient:", count_nodes(g))

# %% [markdown]
# The critic is written here as a function of its weights, so that gradcheck can perturb
# them; with an `nn` module the call is the same, `mg.grad(D(x_hat).sum(), x_hat,
# create_graph=True)`, and the penalty's backward fills the module's `.grad`s.
#
# Next: [4. a GAN in 50 lines](4_gan_in_50_lines.ipynb).
