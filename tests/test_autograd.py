"""The backward pass: its invariants, memory behaviour, and API."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigan as mg
from minigan import functional as F


def test_gradients_of_a_shared_input_accumulate():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x + x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 1)


def test_backward_never_mutates_inputs_or_the_upstream_gradient(rng):
    a = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = mg.tensor(rng.standard_normal((4,)), requires_grad=True)
    before = a.data.copy(), b.data.copy()
    g = rng.standard_normal((3, 4))
    g_before = g.copy()
    y = F.relu(a + b) * 2 + a
    y.backward(g)
    np.testing.assert_array_equal(a.data, before[0])
    np.testing.assert_array_equal(b.data, before[1])
    np.testing.assert_array_equal(g, g_before)
    y2 = (a + b).sum()          # a second backward accumulates: must not write into the first
    first = a.grad
    first_data = first.data.copy()
    y2.backward()
    np.testing.assert_array_equal(first.data, first_data)


def test_no_two_gradients_share_memory():
    a = mg.tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.tensor(np.ones((2, 3)), requires_grad=True)
    c = mg.tensor(np.ones((2, 3)), requires_grad=True)
    g = np.ones((2, 3))
    (a + b + c.reshape(2, 3)).backward(g)
    grads = [a.grad.data, b.grad.data, c.grad.data]
    for i in range(3):
        assert not np.shares_memory(grads[i], g)
        for j in range(i):
            assert not np.shares_memory(grads[i], grads[j])
    ga, gb = mg.grad((a + b).sum(), [a, b])
    assert not np.shares_memory(ga.data, gb.data)


def test_in_place_update_of_one_gradient_leaves_the_other_alone():
    # DeZero's bug: after a + b, a.grad is b.grad, so a.grad += 1 changed b.grad too
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data += 1
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_the_graph_is_freed_when_unreachable():
    x = mg.tensor(np.ones(4), requires_grad=True)
    y = F.sigmoid(x * 2)
    node = weakref.ref(y.creator)
    loss = y.sum()
    loss.backward()
    del y, loss
    gc.disable()
    try:
        assert node() is None          # freed by reference counting alone: no cycles
    finally:
        gc.enable()


def test_backward_twice_without_retain_graph_says_so():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.data, 2 * 2 * x.data + 2 * x.data)


def test_deep_graphs_need_no_recursion():
    x = mg.tensor(np.array([0.5]), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0001 ** 5000])


def test_training_loop_memory_stays_flat():
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    net = mg.nn.Sequential(mg.nn.Linear(4, 16), mg.nn.ReLU(), mg.nn.Linear(16, 1))
    opt = mg.optim.Adam(net.parameters(), lr=1e-3)
    x = mg.tensor(rng.standard_normal((32, 4)).astype(np.float32))

    def steps(n):
        for _ in range(n):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(net(x), np.ones((32, 1)))
            loss.backward()
            opt.step()

    steps(200)
    tracemalloc.start()
    steps(5000)
    mid = tracemalloc.get_traced_memory()[0]
    steps(5000)
    end = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert end - mid < 50_000, f"memory grew by {end - mid} bytes over 5000 steps"


def test_no_grad_records_nothing():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.creator is None
    assert mg.is_grad_enabled()


def test_grad_mode_switches_nest_restore_and_decorate():
    x = mg.tensor([1.0], requires_grad=True)
    off = mg.no_grad()

    @off
    def depth(n):           # one instance entered recursively
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            assert (x * 2).requires_grad
        assert not mg.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3 and mg.is_grad_enabled()
    try:
        with mg.set_grad_enabled(False):
            raise KeyError
    except KeyError:
        pass
    assert mg.is_grad_enabled()       # restored on an exception too


def test_grad_returns_gradients_without_touching_dot_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gx, gh = mg.grad(y, [x, h])
    np.testing.assert_allclose(gx.data, 18 * x.data)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    assert x.grad is None


def test_grad_with_create_graph_gives_second_derivatives():
    x = mg.tensor([0.3, -1.1], requires_grad=True)
    y = F.tanh(x).sum()
    g, = mg.grad(y, x, create_graph=True)
    h, = mg.grad(g.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(h.data, -2 * t * (1 - t * t))


def test_gradient_penalty_is_differentiable_with_respect_to_the_weights(rng):
    # WGAN-GP: (||d D(x)/dx|| - 1)^2 for a tanh MLP D, checked against finite differences
    x0 = rng.standard_normal((3, 2))
    weights = [rng.standard_normal((8, 2)), rng.standard_normal(8),
               rng.standard_normal((1, 8)), rng.standard_normal(1)]

    def penalty(w1, b1, w2, b2):
        x = mg.tensor(x0, requires_grad=True)
        out = F.linear(F.tanh(F.linear(x, w1, b1)), w2, b2)
        gx, = mg.grad(out.sum(), x, create_graph=True)
        return ((gx * gx).sum(1).sqrt() - 1.0) ** 2

    assert mg.gradcheck(penalty, weights)


def test_grad_errors_are_clear():
    x = mg.tensor([1.0], requires_grad=True)
    z = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        mg.grad((x * 2).sum(), [x, z])
    assert mg.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="one-element"):
        (x * np.ones(3)).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(3))


def test_mixed_dtypes_give_each_input_a_gradient_of_its_own_dtype():
    a = mg.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = mg.tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_python_numbers_keep_the_tensor_dtype():
    x = mg.tensor([1.0, 2.0])
    assert x.dtype == np.float32
    for y in (x * 2.5, 2.5 * x, x / 3, 1 - x, x ** 2, x + np.float32(1)):
        assert y.dtype == np.float32


def test_tensor_basics():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.shape == (2, 2) and x.ndim == 2 and x.dtype == np.float32 and len(x) == 2
    assert x.sum().item() == 10.0
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.data)
    assert mg.tensor([1, 2]).dtype.kind == "i"
    with pytest.raises(TypeError, match="floating"):
        mg.tensor([1, 2], requires_grad=True)
    assert "grad_fn=Mul" in repr(x * 2)
    assert (x > 2).data.tolist() == [[False, False], [True, True]]


def test_bad_shapes_raise_errors_that_name_them():
    a = mg.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        a @ mg.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        a.reshape(4, 2)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        F.linear(a, np.ones((2, 4)))
    with pytest.raises(IndexError, match="dim 2"):
        a.sum(2)
    with pytest.raises(ValueError, match="tensor 1 has shape"):
        mg.cat([a, mg.tensor(np.ones((3, 2)))], 0)


def test_fresh_leaf_gradients_are_adopted_without_a_copy(monkeypatch):
    """A leaf adopts a gradient array nobody else holds as it is. The backward used to track
    adopted arrays by id alone, so an array made after the root's gradient was freed could
    take its id and be copied for nothing (a mixture-GAN turn copied D's last bias gradient,
    shape (1,), on every D step)."""
    from minigan.core import autograd
    from minigan.gan import GANTrainer
    from minigan.models import mlp_discriminator, mlp_generator
    copies = []
    forward = autograd._Copy.forward
    monkeypatch.setattr(autograd._Copy, "forward",
                        lambda self, x: copies.append(x.shape) or forward(self, x))
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    G, D = mlp_generator(10, (64, 32)), mlp_discriminator(2, (64, 32))
    tr = GANTrainer(G, D, mg.optim.Adam(G.parameters()), mg.optim.Adam(D.parameters()),
                    lambda n, r: rng.random((n, 10), dtype=np.float32),
                    lambda n, r: rng.standard_normal((n, 2)).astype(np.float32), None)
    for _ in range(5):
        tr.turn()
    assert copies == []
    grads = [p.grad.data for p in D.parameters()] + [p.grad.data for p in G.parameters()]
    assert len({id(g) for g in grads}) == len(grads)
    assert not any(np.shares_memory(a, b) for i, a in enumerate(grads) for b in grads[:i])


# --- version counters: a value changed between forward and backward is an error ------------

def test_assigning_data_between_forward_and_backward_raises_naming_the_op():
    x = mg.tensor(np.arange(3.0), requires_grad=True)
    x.name = "x"
    y = (x * x).sum()
    x.data = x.data + 1
    with pytest.raises(RuntimeError, match=r"input 0 of Mul \(a tensor 'x'\) was changed"):
        y.backward()
    z = (x * x).sum()
    x.data += 1                                  # an augmented assignment is one too
    with pytest.raises(RuntimeError, match="was changed after the forward pass"):
        z.backward()
    w = (x * x).sum()                            # changes made before a forward are fine
    w.backward()


def test_an_index_write_through_data_after_the_forward_raises_naming_the_op_and_tensor(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    w = mg.tensor([3.0, 4.0], requires_grad=True, device=device)
    w.name = "w"
    y = (x * w).sum()
    w.data[...] = 100.0                          # would give x.grad = [100, 100] silently
    with pytest.raises(RuntimeError, match=r"input 1 of Mul \(a tensor 'w'\) was written "
                                           r"into through \.data after the forward pass"):
        y.backward()
    assert x.grad is None


@pytest.mark.parametrize("hand_out", [lambda t: t.data, lambda t: t.detach().data,
                                      lambda t: t.detach().numpy()])
def test_every_way_out_of_a_held_array_is_watched(hand_out):
    x = mg.tensor(np.arange(3.0), requires_grad=True)
    c = mg.tensor(np.ones(3))                    # a constant: held all the same
    y = (x * c).sum()
    hand_out(c)[1] = 5.0
    with pytest.raises(RuntimeError, match="input 1 of Mul .* written into"):
        y.backward()


def test_a_saved_output_written_into_raises():
    x = mg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    h = F.relu(x)                                # its backward reads its output
    y = (h * 2.0).sum()
    h.data[0] = -1.0
    with pytest.raises(RuntimeError, match="written into"):
        y.backward()


def test_reads_and_writes_outside_a_graphs_life_are_fine_and_leave_nothing_watched():
    from minigan.core.tensor import lending
    x = mg.tensor(np.arange(3.0), requires_grad=True)
    w = mg.tensor(np.ones(3), requires_grad=True)
    w.data[0] = 2.0                              # before any forward
    y = (x * w).sum()
    assert w.data.sum() == 4.0                   # a read while held
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 1.0, 1.0])
    w.data[...] = 0.0                            # after the backward: the graph is gone
    assert id(w) not in lending.watched


def test_a_graph_kept_alive_does_not_blame_a_newer_one_but_is_caught_itself():
    x = mg.tensor(np.arange(3.0), requires_grad=True)
    w = mg.tensor(np.ones(3), requires_grad=True)
    old = (x * w).sum()                          # kept, never differentiated yet
    w.data[...] = 7.0                            # a write between the two graphs
    (x * w).sum().backward()                     # the newer graph saw 7: right
    np.testing.assert_array_equal(x.grad.data, [7.0, 7.0, 7.0])
    with pytest.raises(RuntimeError, match="written into"):
        old.backward()                           # the old one saw 1: refused
    del old
    gc.collect()
    (x * 2.0).sum().backward()                   # a backward forgets the finished watches
    from minigan.core.tensor import lending
    assert id(w) not in lending.watched


def test_an_array_taken_before_the_forward_is_not_watched_unless_declared():
    x = mg.tensor(np.arange(3.0), requires_grad=True)
    a = x.data                                   # taken before any graph holds x
    y = (x * x).sum()
    a[0] = 5.0
    x.bump_version()                             # the declaration makes it an error
    with pytest.raises(RuntimeError, match="changed after the forward pass"):
        y.backward()


@pytest.mark.parametrize("make", [lambda ps: mg.optim.SGD(ps, lr=0.1),
                                  lambda ps: mg.optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: mg.optim.Adam(ps, lr=0.1),
                                  lambda ps: mg.optim.FlatAdam(ps, lr=0.1)])
def test_an_optimizer_step_between_forward_and_backward_raises(make):
    net = mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.ReLU(), mg.nn.Linear(3, 1))
    opt = make(net.parameters())
    x = mg.tensor(np.ones((4, 2), np.float32))
    net(x).sum().backward()
    opt.step()                                   # a first step (FlatAdam adopts its buffer)
    loss = net(x).sum()
    opt.step()                                   # with the first backward's gradients
    with pytest.raises(RuntimeError, match="changed after the forward pass"):
        loss.backward()
    opt.zero_grad()
    net(x).sum().backward()                      # the usual order is fine
    opt.step()


def test_loading_weights_between_forward_and_backward_raises():
    lin = mg.nn.Linear(2, 1)
    loss = lin(mg.tensor(np.ones((1, 2), np.float32))).sum()
    lin.load_state_dict({k: v * 0 for k, v in lin.state_dict().items()})
    with pytest.raises(RuntimeError, match="changed after the forward pass"):
        loss.backward()


def test_adams_per_parameter_path_counts_as_a_change_too():
    a = mg.nn.Parameter(np.ones(3, np.float32))
    unused = mg.nn.Parameter(np.ones(2, np.float32))     # no gradient: per-parameter updates
    opt = mg.optim.Adam([a, unused], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    loss = (a * a).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="changed after the forward pass"):
        loss.backward()


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((1,), (1,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                   ((5, 2, 3), (3,)), ((3,), (5, 3, 4))])
def test_matmul_with_1d_operands_drops_exactly_the_promoted_axes(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    y = ta @ tb                                    # (k,) @ (k,) is a scalar, as in NumPy
    assert y.shape == np.matmul(a, b).shape
    np.testing.assert_allclose(y.data, np.matmul(a, b), rtol=1e-12)
    y.sum().backward()
    assert ta.grad.shape == sa and tb.grad.shape == sb
