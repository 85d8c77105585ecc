"""Optimizers against PyTorch over 20 steps, and their argument checks."""
import numpy as np
import pytest

import minigan as mg
from minigan import functional as F

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.002, betas=(0.5, 0.999), weight_decay=0.1)),
]


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((16, 5)).astype(np.float32),
            rng.integers(0, 3, 16),
            rng.standard_normal((3, 5)).astype(np.float32) * 0.3,
            rng.standard_normal(3).astype(np.float32) * 0.1)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_linear_training_matches_pytorch_for_20_steps(name, kw, torch):
    x, y, w0, b0 = _data()
    layer = mg.nn.Linear(5, 3)
    layer.load_state_dict({"weight": w0, "bias": b0})
    opt = getattr(mg.optim, name)(layer.parameters(), **kw)
    tl = torch.nn.Linear(5, 3)
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(w0))
        tl.bias.copy_(torch.from_numpy(b0))
    topt = getattr(torch.optim, name)(tl.parameters(), **kw)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(layer(mg.tensor(x)), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tl(tx), ty).backward()
        topt.step()
    np.testing.assert_allclose(layer.weight.data, tl.weight.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(layer.bias.data, tl.bias.detach().numpy(), atol=1e-5)


def test_a_parameter_without_gradient_is_left_alone():
    a = mg.nn.Parameter(np.ones(3, dtype=np.float32))
    b = mg.nn.Parameter(np.ones(3, dtype=np.float32))
    opt = mg.optim.Adam([a, b], lr=0.1)
    (a * 2).sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.data, 1)
    assert (a.data < 1).all()


def test_optimizers_reject_bad_settings():
    p = [mg.nn.Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="learning rate"):
        mg.optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        mg.optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        mg.optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty"):
        mg.optim.Adam([])
    with pytest.raises(TypeError, match="parameter 0"):
        mg.optim.SGD([mg.tensor([1.0])], lr=0.1)
