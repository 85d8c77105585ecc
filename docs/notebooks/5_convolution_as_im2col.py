# %% [markdown]
# # 5. A convolution and its backward, as im2col
#
# A 2-D convolution slides a kh x kw filter over the image and, at each position, takes the
# dot product of the filter with the patch under it (strictly a cross-correlation, as in
# every deep-learning library). im2col turns that into one matrix product: copy every patch
# into a row of a matrix, and multiply by the filters laid out as columns. Its backward is two
# more products, and "col2im", which adds each row's gradient back onto the patch it came
# from. minigan's `conv2d` works this way (with Numba kernels for the copies); here it is in
# plain NumPy, checked against the engine.

# %%
import numpy as np

import minigan as mg
from minigan import functional as F

rng = np.random.default_rng(0)
n, c_in, h, w = 2, 3, 6, 5           # a batch of 2 images, 3 channels, 6 x 5 pixels
c_out, kh, kw, pad = 4, 3, 3, 1      # 4 filters of 3 x 3, one pixel of zero padding
x = rng.standard_normal((n, c_in, h, w))
weight = rng.standard_normal((c_out, c_in, kh, kw))
bias = rng.standard_normal(c_out)
oh, ow = h + 2 * pad - kh + 1, w + 2 * pad - kw + 1     # stride 1
print("output:", (n, c_out, oh, ow))

# %% [markdown]
# ## im2col: one row per output position
#
# Row (image b, position i, j) holds the c_in x kh x kw values under the filter there. The
# loop runs over the kh x kw filter taps, not the positions: each tap copies one shifted
# window of the padded image for every position at once.

# %%
def im2col(x):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c_in, kh, kw, oh, ow))
    for di in range(kh):
        for dj in range(kw):
            cols[:, :, di, dj] = xp[:, :, di:di + oh, dj:dj + ow]
    # (n, c_in, kh, kw, oh, ow) -> rows (n * oh * ow) x columns (c_in * kh * kw)
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c_in * kh * kw)


cols = im2col(x)
W = weight.reshape(c_out, -1).T                 # (c_in * kh * kw, c_out)
y = (cols @ W + bias).reshape(n, oh, ow, c_out).transpose(0, 3, 1, 2)
print("the matrix of patches:", cols.shape, " the filters:", W.shape)

y_engine = F.conv2d(mg.tensor(x), mg.tensor(weight), mg.tensor(bias), padding=pad)
print("im2col and minigan's conv2d agree to 1e-12:", np.abs(y - y_engine.numpy()).max() < 1e-12)

# %% [markdown]
# ## The backward
#
# With G = dL/dy laid out like the product's output, (n * oh * ow) x c_out:
#
# - dL/dW = cols^T @ G: each filter weight meets every patch value it multiplied;
# - dL/dbias = the column sums of G;
# - dL/dcols = G @ W^T, and col2im adds each row back where its patch came from. An input
#   pixel lies under up to kh x kw positions, so its gradient is a sum of that many terms.

# %%
def col2im(dcols):
    d = dcols.reshape(n, oh, ow, c_in, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    dxp = np.zeros((n, c_in, h + 2 * pad, w + 2 * pad))
    for di in range(kh):
        for dj in range(kw):
            dxp[:, :, di:di + oh, dj:dj + ow] += d[:, :, di, dj]
    return dxp[:, :, pad:pad + h, pad:pad + w]    # the padding's gradient is dropped


G = rng.standard_normal(y.shape)                 # an upstream gradient, as from a loss
G_rows = G.transpose(0, 2, 3, 1).reshape(-1, c_out)
dweight = (cols.T @ G_rows).T.reshape(weight.shape)
dbias = G_rows.sum(0)
dx = col2im(G_rows @ W.T)

xt, wt, bt = (mg.tensor(a, requires_grad=True) for a in (x, weight, bias))
F.conv2d(xt, wt, bt, padding=pad).backward(mg.tensor(G))
for name, mine, engine in (("dx", dx, xt.grad), ("dweight", dweight, wt.grad),
                           ("dbias", dbias, bt.grad)):
    print(f"{name:7s} by hand and by minigan agree to 1e-12:",
          np.abs(mine - engine.numpy()).max() < 1e-12)

# %% [markdown]
# And the engine's own gradients against finite differences, as every op here is checked:

# %%
def conv(x, weight, bias):
    return F.conv2d(x, weight, bias, padding=pad)


print("gradcheck:", mg.gradcheck(conv, [x, weight, bias]))

# %% [markdown]
# ## What it costs
#
# The product multiplies (n * oh * ow) x (c_in * kh * kw) by (c_in * kh * kw) x c_out: for
# each output value, c_in * kh * kw multiply-adds. The thesis's CNN has 16 filters of 5 x 5
# on 16 channels at 14 x 14: 400 multiply-adds for each of its outputs, and the patch matrix
# is 25 times the image. The copies, not the products, are what a faster method avoids
# (Winograd's transforms, or a direct kernel).

# %%
for name, (ci, k, positions) in {"this notebook": (c_in, kh, oh * ow),
                                 "thesis CNN, layer 2": (16, 5, 14 * 14)}.items():
    macs = ci * k * k
    print(f"{name:20s}: {macs:4d} multiply-adds per output; patch matrix {macs * positions:6d}"
          f" values for an image of {ci * positions} (stride 1, 'same' padding)")

# %% [markdown]
# Back to [README](../../README.md); the engine's convolution: `minigan/functional/conv.py`,
# and its Numba kernels in `minigan/backend/conv_kernels.py`.
