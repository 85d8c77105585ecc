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
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=0.05)),      # each option away from default
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


def _adam_run(steps, flat, dtype=np.float32, tamper=None, **kw):
    """Adam on a small net for ``steps`` steps, on the flat path or (flat=False) the
    per-parameter one; ``tamper(i, net, opt)`` runs before step i."""
    rng = np.random.default_rng(3)
    mg.manual_seed(3)
    net = mg.nn.Sequential(mg.nn.Linear(4, 8, dtype=dtype), mg.nn.Tanh(),
                           mg.nn.Linear(8, 2, dtype=dtype))
    opt = (mg.optim.FlatAdam if flat else mg.optim.Adam)(net.parameters(), lr=0.01, **kw)
    x = rng.standard_normal((16, 4)).astype(dtype)
    for i in range(steps):
        if tamper is not None:
            tamper(i, net, opt)
        opt.zero_grad()
        (net(mg.tensor(x)) ** 2).sum().backward()
        opt.step()
    return net, opt


def _same(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        assert p.data.tobytes() == q.data.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_over_one_flat_buffer_gives_the_per_parameter_numbers(dtype):
    net, opt = _adam_run(7, True, dtype, weight_decay=0.1, betas=(0.5, 0.9))
    ref, ropt = _adam_run(7, False, dtype, weight_decay=0.1, betas=(0.5, 0.9))
    assert opt._flat and not hasattr(ropt, "_flat")
    _same(net, ref)
    sd, rsd = opt.state_dict(), ropt.state_dict()
    for i in rsd["state"]:
        for k, v in rsd["state"][i].items():
            assert sd["state"][i][k].tobytes() == v.tobytes(), (i, k)


def test_flat_adam_follows_data_assigned_over_a_parameter():
    def swap(i, net, opt):
        if i == 3:
            net[0].weight.data = net[0].weight.data * 0.5
    net, opt = _adam_run(6, True, tamper=swap)
    ref, _ = _adam_run(6, False, tamper=swap)
    _same(net, ref)


def test_flat_adam_falls_back_when_a_parameter_has_no_gradient():
    """The frozen parameter keeps its own step count (as on the per-parameter path)."""
    def freeze(i, net, opt):
        net[2].bias.requires_grad = i < 2
    net, opt = _adam_run(5, True, tamper=freeze)
    ref, ropt = _adam_run(5, False, tamper=freeze)
    _same(net, ref)
    assert opt._flat is False
    assert int(opt.state[3]["step"]) == 2 and int(opt.state[0]["step"]) == 5


def test_flat_adam_resumes_from_a_state_dict():
    """States loaded into an optimizer already on the flat path (after 2 steps of its own)
    replace its buffers: 4 steps, saved, loaded, 3 more steps == 7 steps."""
    net, opt = _adam_run(4, True)
    sd = opt.state_dict()
    params = {k: np.array(v, copy=True) for k, v in net.state_dict().items()}

    def resume(i, net2, opt2):
        if i == 2:
            assert opt2._flat
            net2.load_state_dict(params)
            opt2.load_state_dict(sd)
    net2, opt2 = _adam_run(5, True, tamper=resume)
    ref, _ = _adam_run(7, False)
    _same(net2, ref)
    assert int(opt2.state[0]["step"]) == 7


def test_large_models_keep_the_per_parameter_path():
    from minigan.optim import flat as F
    big = mg.nn.Parameter(np.zeros(F.FLAT_MAX_SIZE + 1, dtype=np.float32))
    small = mg.nn.Parameter(np.zeros(F.FLAT_MAX_SIZE, dtype=np.float32))
    for p, flat in ((big, False), (small, True)):
        opt = mg.optim.FlatAdam([p], lr=0.1)
        p.grad = mg.tensor(np.ones_like(p.data))
        opt.step()
        assert bool(opt._flat) is flat and (p.data < 0).all()


def test_a_step_without_any_gradient_changes_nothing_and_keeps_the_flat_path():
    def early(i, net, opt):
        if i == 0:
            opt.step()                      # before any backward: no gradient at all
    net, opt = _adam_run(3, True, tamper=early)
    ref, _ = _adam_run(3, False, tamper=early)
    _same(net, ref)
    assert opt._flat and opt.steps == 4 and int(opt.state[0]["step"]) == 3


def test_loading_another_optimizers_state_changes_nothing_and_says_why():
    p = mg.nn.Parameter(np.ones(3, dtype=np.float32))
    adam = mg.optim.Adam([p], lr=0.01)
    p.grad = mg.tensor(np.ones(3, dtype=np.float32))
    adam.step()
    sgd = mg.optim.SGD([p], lr=0.5, momentum=0.9)
    before = (sgd.lr, sgd.momentum, sgd.steps, sgd.state)
    with pytest.raises(ValueError, match="state is of another optimizer"):
        sgd.load_state_dict(adam.state_dict())
    assert (sgd.lr, sgd.momentum, sgd.steps, sgd.state) == before
    bad = adam.state_dict()
    bad["state"]["0"]["exp_avg"] = np.zeros(5)
    other = mg.optim.Adam([p], lr=0.3)
    with pytest.raises(ValueError, match="does not fit"):
        other.load_state_dict(bad)
    assert other.lr == 0.3
    with pytest.raises(ValueError, match="not an optimizer state"):
        other.load_state_dict({"lr": 1})


def test_plain_adam_leaves_each_parameters_array_its_own():
    net, opt = _adam_run(3, False)
    arrays = [p.data for p in net.parameters()]
    assert all(a.base is None for a in arrays)          # no shared buffer behind them
    flat_net, _ = _adam_run(3, True)
    bases = [p.data.base for p in flat_net.parameters()]
    assert all(b is not None for b in bases) and len({id(b) for b in bases}) == 1


def test_flat_adam_that_gives_up_its_buffer_counts_steps_per_parameter():
    # once the parameters no longer fit one buffer (here: one becomes float64), each state
    # needs its own step counter again; a shared one counted every parameter's step
    def run(cls):
        mg.manual_seed(0)
        model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 1))
        opt = cls(model.parameters(), lr=0.01)
        x = mg.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
        for step in range(4):
            if step == 2:
                first = next(iter(model.parameters()))
                first.data = first.data.astype(np.float64)
            opt.zero_grad()
            inputs = x.to(str(first.dtype)) if step >= 2 else x.float()
            (model(inputs) ** 2).mean().backward()
            opt.step()
        return [p.data.copy() for p in model.parameters()], [int(s["step"]) for s in opt.state]
    (flat, flat_steps), (plain, plain_steps) = run(mg.optim.FlatAdam), run(mg.optim.Adam)
    assert flat_steps == plain_steps == [4] * 4
    for a, b in zip(flat, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
