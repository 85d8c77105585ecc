"""Modules, layers and initialisation."""
import numpy as np
import pytest

import minigan as mg
from minigan import functional as F
from minigan import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(5, 2)
        self.bn = nn.BatchNorm1d(2)

    def forward(self, x):
        return self.bn(self.fc2(self.act(self.fc1(x))))


def test_parameters_are_registered_in_order():
    m = TwoLayer()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "bn.weight", "bn.bias"]
    assert list(m.state_dict()) == names + ["bn.running_mean", "bn.running_var"]
    # the unnamed walks give the same order, and a shared parameter once
    assert [id(p) for p in m.parameters()] == [id(p) for _, p in m.named_parameters()]
    assert [id(x) for x in m.modules()] == [id(x) for _, x in m.named_modules()]
    shared = nn.Sequential(m.fc1, nn.ReLU(), m.fc1)
    assert len(list(shared.parameters())) == 2


def test_state_dict_round_trip_and_shape_checks():
    a, b = TwoLayer(), TwoLayer()
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    bad = a.state_dict()
    bad["fc1.weight"] = np.zeros((4, 3), dtype=np.float32)
    before = b.fc2.weight.data.copy()
    with pytest.raises(ValueError, match=r"fc1.weight.*\(4, 3\).*\(5, 3\)"):
        b.load_state_dict(bad)
    np.testing.assert_array_equal(b.fc2.weight.data, before)    # nothing half-loaded
    missing = a.state_dict()
    del missing["fc2.bias"]
    with pytest.raises(ValueError, match="missing key 'fc2.bias'"):
        b.load_state_dict(missing)


def test_linear_default_init_follows_pytorch():
    mg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w = layer.weight.data
    assert w.shape == (300, 400) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound


def test_same_seed_same_weights():
    mg.manual_seed(3)
    a = TwoLayer().state_dict()
    mg.manual_seed(3)
    b = TwoLayer().state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_init_functions_have_the_right_spread():
    g = np.random.default_rng(0)
    t = nn.Parameter(np.zeros((256, 512)))
    nn.init.xavier_uniform_(t, generator=g)
    assert abs(t.data.std() - np.sqrt(2 / (256 + 512))) < 0.02 * np.sqrt(2 / 768)
    nn.init.kaiming_normal_(t, nonlinearity="relu", generator=g)
    assert abs(t.data.std() - np.sqrt(2 / 512)) < 0.02 * np.sqrt(2 / 512)
    nn.init.normal_(t, 1.0, 0.5, generator=g)
    assert abs(t.data.mean() - 1.0) < 0.01
    with pytest.raises(ValueError, match="at least 2 dims"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3)))


def test_dropout_is_identity_in_eval_and_unbiased_in_training():
    d = nn.Dropout(0.25, generator=np.random.default_rng(0))
    x = mg.tensor(np.ones((200, 200)))
    y = d(x).data
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.02
    d.eval()
    assert d(x) is x
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


def test_batchnorm1d_uses_batch_statistics_in_training_and_running_ones_in_eval():
    bn = nn.BatchNorm1d(3)
    x = mg.tensor(np.random.default_rng(0).normal(5, 2, (64, 3)).astype(np.float32))
    y = bn(x).data
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-3)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.data.mean(0), rtol=1e-5)
    bn.eval()
    rm, rv = bn.running_mean.copy(), bn.running_var.copy()
    np.testing.assert_allclose(bn(x).data, (x.data - rm) / np.sqrt(rv + 1e-5), rtol=1e-5)
    with pytest.raises(ValueError, match=r"3 channels.*\(4, 2\)"):
        bn(mg.tensor(np.zeros((4, 2))))


def test_train_eval_propagates_and_zero_grad_clears():
    m = TwoLayer()
    m.eval()
    assert not any(mod.training for mod in m.modules())
    m.train()
    x = mg.tensor(np.ones((4, 3), dtype=np.float32))
    m(x).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_sequential_and_repr():
    s = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Flatten(), nn.Sigmoid())
    assert len(s) == 4 and isinstance(s[1], nn.LeakyReLU)
    assert "Linear(in_features=2, out_features=3, bias=True)" in repr(s)
    assert s(mg.tensor(np.ones((5, 2)))).shape == (5, 3)
    with pytest.raises(TypeError, match="item 0"):
        nn.Sequential(lambda x: x)


@pytest.mark.parametrize("act", [nn.ReLU, lambda: nn.LeakyReLU(0.2), lambda: nn.LeakyReLU(-0.5)])
@pytest.mark.parametrize("shape", [(6, 3), (2, 4, 3)])
def test_sequential_fuses_linear_and_activation_without_changing_the_numbers(act, shape):
    mg.manual_seed(0)
    net = nn.fuse(nn.Sequential(nn.Linear(3, 7, dtype=np.float64), act(),
                                nn.Linear(7, 2, dtype=np.float64), act()))
    x = mg.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    fused = net(x)
    fused.sum().backward()
    got = [x.grad.data] + [p.grad.data for p in net.parameters()]
    x.grad = None
    net.zero_grad()
    unfused = x
    for m in net:                       # the modules one by one: no fusion
        unfused = m(unfused)
    unfused.sum().backward()
    want = [x.grad.data] + [p.grad.data for p in net.parameters()]
    np.testing.assert_allclose(fused.data, unfused.data, rtol=1e-13, atol=1e-13)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("act", [nn.ReLU, lambda: nn.LeakyReLU(0.2), lambda: nn.LeakyReLU(-0.5)])
@pytest.mark.parametrize("bn,shape", [(nn.BatchNorm1d, (8, 3)), (nn.BatchNorm2d, (4, 3, 3, 3)),
                                      (nn.BatchNorm2d, (4, 3, 2, 2))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sequential_fuses_batch_norm_and_activation_without_changing_the_numbers(act, bn, shape,
                                                                                 dtype):
    """Batch norm then (Leaky)ReLU in a Sequential runs as one node: bit for bit the modules
    one by one (outputs, gradients, running statistics), in training and in eval."""
    def run(fuse, training):
        mg.manual_seed(0)
        net = nn.fuse(nn.Sequential(bn(3, dtype=dtype), act()))
        rng = np.random.default_rng(1)
        net[0].weight.data[:] = rng.standard_normal(3)
        net[0].bias.data[:] = rng.standard_normal(3)
        net.train(training)
        x = mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        y = net(x) if fuse else net[1](net[0](x))
        (y * mg.tensor(rng.standard_normal(shape).astype(dtype))).sum().backward()
        return [y.data, x.grad.data, net[0].weight.grad.data, net[0].bias.grad.data,
                net[0].running_mean, net[0].running_var]
    for training in (True, False):
        for a, b in zip(run(True, training), run(False, training)):
            assert a.tobytes() == b.tobytes()
    net = nn.fuse(nn.Sequential(bn(3, dtype=dtype), act()))
    fused = getattr(net[1], "negative_slope", 0) >= 0
    assert type(net(mg.tensor(np.ones(shape, dtype))).creator).__name__ == (
        "BatchNormTrain" if fused else "LeakyReLU")


@pytest.mark.parametrize("frozen", [(), (0,), (2,), (0, 1, 2)])
@pytest.mark.parametrize("x_grad", [True, False])
def test_dense_sequential_as_one_node_gives_every_needed_gradient_and_no_other(frozen, x_grad):
    """An all-dense Sequential runs as one LinearChain node; with some layers frozen (as D in
    G's step) or x a constant, exactly the wanted gradients come out, bit for bit those of
    the layers run one by one."""
    mg.manual_seed(1)
    net = nn.fuse(nn.Sequential(nn.Linear(3, 6, dtype=np.float64), nn.ReLU(),
                                nn.Linear(6, 5, dtype=np.float64), nn.LeakyReLU(0.2),
                                nn.Linear(5, 2, bias=False, dtype=np.float64)))
    layers = [m for m in net if isinstance(m, nn.Linear)]
    for k in frozen:
        layers[k].requires_grad_(False)
    results = []
    for fused in (True, False):
        x = mg.tensor(np.random.default_rng(0).standard_normal((7, 3)), requires_grad=x_grad)
        net.zero_grad()
        y = net(x) if fused else _one_by_one(net, x)
        if not y.requires_grad:
            assert not x_grad and len(frozen) == 3
            return
        assert (type(y.creator).__name__ == "LinearChain") == fused
        (y * y).sum().backward()
        results.append([y.data, x.grad] + [p.grad for p in net.parameters()])
    for a, b in zip(*results):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(getattr(a, "data", a), getattr(b, "data", b))
    for k, layer in enumerate(layers):
        assert (layer.weight.grad is None) == (k in frozen)


def _one_by_one(net, x):
    for m in net:
        x = m(x)
    return x


def test_dense_sequential_replans_when_a_layer_changes():
    mg.manual_seed(2)
    net = nn.fuse(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))
    x = mg.tensor(np.ones((2, 3), dtype=np.float32))
    assert type(net(x).creator).__name__ == "LinearChain"
    setattr(net, "1", nn.Tanh())                 # no longer a dense chain
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Linear"]   # kept its place
    y = net(x)
    assert type(y.creator).__name__ == "Linear"
    np.testing.assert_array_equal(y.data, _one_by_one(net, x).data)
    setattr(net, "1", nn.LeakyReLU(0.1))
    net[1].negative_slope = -0.1                 # a slope the fused node refuses
    np.testing.assert_array_equal(net(x).data, _one_by_one(net, x).data)


def test_linear_chain_names_the_layer_at_fault():
    x, w = np.ones((2, 3)), np.ones((4, 3))
    with pytest.raises(ValueError, match=r"layer 1 weight of shape \(2, 5\).*width 4"):
        mg.functional.linear_chain(x, [(w, None, 0.0), (np.ones((2, 5)), None, None)])
    with pytest.raises(ValueError, match=r"layer 0 bias of shape \(3,\), expected \(4,\)"):
        mg.functional.linear_chain(x, [(w, np.ones(3), None)])
    with pytest.raises(ValueError, match="layer 0 negative_slope must be >= 0"):
        mg.functional.linear_chain(x, [(w, None, -1.0)])
    with pytest.raises(ValueError, match=r"\(N, features\), got shape \(3,\)"):
        mg.functional.linear_chain(np.ones(3), [(w, None, None)])
    net = nn.fuse(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))
    net(np.ones((2, 3), np.float32))               # planned while the layers fit
    net[2].weight.data = np.ones((2, 5), np.float32)
    with pytest.raises(ValueError, match=r"layer 1 weight of shape \(2, 5\).*width 4"):
        net(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"layer 0 weight of shape \(4, 3\).*width 7"):
        net(np.ones((2, 7), np.float32))


@pytest.mark.parametrize("act", [dict(activation="relu"),
                                 dict(activation="leaky_relu", negative_slope=0.2)])
def test_fused_linear_activation_passes_first_and_second_order_gradcheck(act):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    b = rng.standard_normal(4)
    pre = x @ w.T + b
    b += np.where(np.abs(pre).min(0) < 0.05, 0.1, 0.0)    # keep away from the kink
    assert np.abs(x @ w.T + b).min() > 0.01 and (x @ w.T + b < 0).any()

    def f(x, w, b):
        return mg.functional.linear(x, w, b, **act)
    args = [mg.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert mg.gradcheck(f, args)
    assert mg.gradgradcheck(f, args)


def test_fused_linear_rejects_a_negative_slope_and_unknown_activations():
    with pytest.raises(ValueError, match="negative_slope >= 0, got -0.1"):
        mg.functional.linear(np.ones((2, 3)), np.ones((4, 3)), activation="leaky_relu",
                             negative_slope=-0.1)
    with pytest.raises(ValueError, match="activation must be one of"):
        mg.functional.linear(np.ones((2, 3)), np.ones((4, 3)), activation="tanh")
    plain = mg.functional.linear(mg.tensor(np.ones((2, 3)), requires_grad=True),
                                 np.ones((4, 3)), negative_slope=-5)
    assert type(plain.creator).__name__ == "Linear"        # no activation: the slope is unused


def test_batch_norm_activation_checks_its_slope_and_serves_a_weight_alone():
    x = np.random.default_rng(2).standard_normal((5, 3))
    with pytest.raises(ValueError, match="negative_slope >= 0, got -0.1"):
        F.batch_norm(x, None, None, training=True, activation="leaky_relu",
                     negative_slope=-0.1)
    w = np.array([1.0, -2.0, 0.5])
    for training in (True, False):
        stats = (np.zeros(3), np.ones(3))
        got = F.batch_norm(x, *stats, w, training=training, activation="relu")
        want = F.relu(F.batch_norm(x, np.zeros(3), np.ones(3), w, training=training))
        assert got.data.tobytes() == want.data.tobytes()


def test_a_plain_sequential_is_the_loop_and_fuse_is_explicit():
    mg.manual_seed(4)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = mg.tensor(np.ones((5, 3), np.float32))
    plain = net(x)
    assert type(plain.creator).__name__ == "Linear"          # one node per layer
    assert mg.viz.to_dot(plain.sum()).count("Linear") == 2 and "ReLU" in mg.viz.to_dot(plain)
    params = list(net.parameters())
    keys = list(net.state_dict())
    outer = nn.Sequential(net, nn.Tanh())
    assert nn.fuse(outer) is outer and type(outer) is nn.FusedSequential
    assert type(net) is nn.FusedSequential                   # nested Sequentials too
    fused = net(x)
    assert type(fused.creator).__name__ == "LinearChain"
    assert fused.data.tobytes() == plain.data.tobytes()
    assert list(net.parameters()) == params and list(net.state_dict()) == keys
    with pytest.raises(TypeError, match="expects a Module"):
        nn.fuse(lambda v: v)
