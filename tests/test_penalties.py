"""WGAN, hinge, the WGAN-GP gradient penalty and R1: values and gradients against a PyTorch
twin, gradcheck and gradgradcheck in float64, and the trainer's options each changing what
they should."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import functional as F
from minigan import nn
from minigan.gan import (
    GANTrainer,
    critic_generator_loss,
    critic_losses,
    gradient_penalty,
    r1_penalty,
)


def _weights(rng, hidden=5):
    return [rng.standard_normal((2, hidden)) * 0.8, rng.standard_normal(hidden) * 0.3,
            rng.standard_normal((hidden, 1)) * 0.8, rng.standard_normal(1) * 0.3]


def _critic(W1, b1, W2, b2):
    return lambda x: F.tanh(x @ W1 + b1) @ W2 + b2


def _data(rng, n=6):
    return (rng.standard_normal((n, 2)) + 1.5, rng.standard_normal((n, 2)),
            rng.uniform(size=(n, 1)))


def _gp(real, fake, eps):
    return lambda *w: gradient_penalty(_critic(*w), real, fake, eps, weight=10.0)


def _r1(real):
    return lambda *w: r1_penalty(_critic(*w), real, gamma=3.0)


@pytest.mark.parametrize("which", ["gp", "r1"])
def test_penalties_pass_gradcheck_and_gradgradcheck_in_their_weights(which, rng):
    real, fake, eps = _data(rng)
    f = _gp(real, fake, eps) if which == "gp" else _r1(real)
    weights = _weights(rng)
    assert mg.gradcheck(f, weights)
    assert mg.gradgradcheck(f, weights)


@settings(deadline=None)
@given(n=st.integers(1, 5), dim=st.integers(1, 3), hidden=st.integers(1, 4),
       seed=st.integers(0, 2 ** 16), which=st.sampled_from(["gp", "r1"]))
def test_penalties_pass_gradcheck_on_drawn_shapes(n, dim, hidden, seed, which):
    """The same checks on shapes hypothesis draws: batch 1 included, any input width."""
    r = np.random.default_rng(seed)
    real, fake = r.standard_normal((n, dim)) + 1.0, r.standard_normal((n, dim))
    eps = r.uniform(0.1, 0.9, size=(n, 1))
    weights = [r.standard_normal((dim, hidden)) * 0.8, r.standard_normal(hidden) * 0.3,
               r.standard_normal((hidden, 1)) * 0.8, r.standard_normal(1) * 0.3]
    f = _gp(real, fake, eps) if which == "gp" else _r1(real)
    assert mg.gradcheck(f, weights)
    assert mg.gradgradcheck(f, weights)


def test_a_planted_error_in_the_penalty_fails_gradcheck(rng, monkeypatch):
    """The gradcheck above can fail: a penalty whose input gradient is detached (so the
    penalty's weight gradient misses the path through it) is caught."""
    from minigan.gan import losses

    def detached(D, x):
        g, = mg.grad(D(x).sum(), x, create_graph=False)
        return (g * g).reshape(g.shape[0], -1).sum(1) * 1.0

    real, fake, eps = _data(rng)
    weights = _weights(rng)
    value = _gp(real, fake, eps)(*[mg.tensor(w) for w in weights]).item()
    monkeypatch.setattr(losses, "_squared_input_gradients", detached)
    assert _gp(real, fake, eps)(*[mg.tensor(w) for w in weights]).item() == \
        pytest.approx(value)                  # the same value...
    with pytest.raises(mg.GradcheckError):    # ...and a wrong gradient
        mg.gradcheck(_gp(real, fake, eps), weights)


@pytest.mark.torch
@pytest.mark.parametrize("which", ["gp", "r1"])
def test_penalties_match_a_pytorch_twin(which, rng, torch):
    real, fake, eps = _data(rng)
    weights = _weights(rng)
    ours = [mg.tensor(w, requires_grad=True) for w in weights]
    f = _gp(real, fake, eps) if which == "gp" else _r1(real)
    value = f(*ours)
    value.backward()

    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    critic = lambda x: torch.tanh(x @ tw[0] + tw[1]) @ tw[2] + tw[3]   # noqa: E731
    if which == "gp":
        e = torch.tensor(eps)
        x = (e * torch.tensor(real) + (1 - e) * torch.tensor(fake)).requires_grad_()
        g, = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        twin = 10.0 * ((torch.sqrt((g * g).sum(1) + 1e-12) - 1) ** 2).mean()
    else:
        x = torch.tensor(real).requires_grad_()
        g, = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        twin = 1.5 * (g * g).sum(1).mean()
    twin.backward()
    assert value.item() == pytest.approx(twin.item(), rel=1e-12)
    for mine, theirs in zip(ours, tw):
        if theirs.grad is None:               # the last bias does not move an input gradient
            assert mine.grad is None
            continue
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_gradient_penalty_is_zero_for_a_unit_slope_critic_and_r1_its_closed_form():
    w = np.array([[0.6], [0.8]])                     # |w| = 1: D(x) = x @ w
    real, fake = np.ones((4, 2)), np.zeros((4, 2))
    eps = np.full((4, 1), 0.3)
    D = lambda x: x @ mg.tensor(w)                    # noqa: E731
    assert gradient_penalty(D, real, fake, eps).item() == pytest.approx(0.0, abs=1e-10)
    D2 = lambda x: x @ mg.tensor(2 * w)               # noqa: E731  |grad| = 2
    assert gradient_penalty(D2, real, fake, eps, weight=10).item() == pytest.approx(10.0)
    assert r1_penalty(D2, real, gamma=3.0).item() == pytest.approx(1.5 * 4.0)


def test_critic_losses():
    real, fake = mg.tensor(np.array([[2.0], [0.5]])), mg.tensor(np.array([[-3.0], [0.0]]))
    assert critic_losses(real, fake, "wgan").item() == pytest.approx(-1.5 - 1.25)
    # hinge: relu(1 - [2, .5]) = [0, .5] -> .25 ; relu(1 + [-3, 0]) = [0, 1] -> .5
    assert critic_losses(real, fake, "hinge").item() == pytest.approx(0.75)
    assert critic_generator_loss(fake).item() == pytest.approx(1.5)
    with pytest.raises(ValueError, match="'wgan' or 'hinge'"):
        critic_losses(real, fake, "standard")


# --- the trainer's options ---------------------------------------------------------------------

def _trainer(seed=0, **kw):
    mg.manual_seed(seed)
    G = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    opt_g = mg.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = mg.optim.Adam(D.parameters(), lr=1e-3)
    return GANTrainer(G, D, opt_g, opt_d,
                      lambda n, r: r.standard_normal((n, 3)).astype(np.float32),
                      lambda n, r: (r.standard_normal((n, 2)) + 2).astype(np.float32),
                      np.random.default_rng(seed), batch_size=16, **kw)


def _after(turns=3, **kw):
    t = _trainer(**kw)
    for _ in range(turns):
        t.turn()
    return t


def _params(t):
    return np.concatenate([p.data.ravel() for m in (t.G, t.D) for p in m.parameters()])


@pytest.mark.parametrize("options", [dict(objective="wgan"), dict(objective="hinge"),
                                     dict(gp=10.0), dict(r1=1.0),
                                     dict(objective="wgan", gp=10.0)])
def test_each_option_changes_the_game(options):
    assert not np.array_equal(_params(_after(**options)), _params(_after()))


@pytest.mark.parametrize("options", [dict(objective="wgan"), dict(objective="hinge"),
                                     dict(objective="wgan", gp=10.0, d_steps=5),
                                     dict(r1=1.0, joint_batch=False)])
def test_options_are_deterministic_and_their_losses_finite(options):
    a, b = _after(**options), _after(**options)
    np.testing.assert_array_equal(_params(a), _params(b))
    assert np.isfinite(a.last["d_loss"]) and np.isfinite(a.last["g_loss"])


def test_wgan_losses_are_the_critics_means():
    """With objective 'wgan' and no penalty, D's reported loss is E D(fake) - E D(real) on
    its batches, whether D sees them as one batch or two."""
    joint, split = _after(1, objective="wgan"), _after(1, objective="wgan", joint_batch=False)
    assert joint.last["d_loss"] == pytest.approx(split.last["d_loss"], rel=1e-5)
    t = _trainer(objective="wgan")
    rng = np.random.default_rng(0)          # the trainer's draws, in its order: fake, real
    z = rng.standard_normal((16, 3)).astype(np.float32)
    x = (rng.standard_normal((16, 2)) + 2).astype(np.float32)
    with mg.no_grad():
        expect = t.D(t.G(mg.tensor(z))).numpy().mean() - t.D(mg.tensor(x)).numpy().mean()
    t.d_step()
    assert t.last["d_loss"] == pytest.approx(float(expect), rel=1e-5)


def test_the_default_game_draws_the_same_numbers_as_before_the_options():
    """Penalties draw random numbers only when on: r1 draws none, so a run with r1 takes the
    same batches (its D differs, its rng state does not)."""
    a, b = _after(), _after(r1=1.0)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    c = _after(gp=1.0)
    assert c.rng.bit_generator.state != a.rng.bit_generator.state


@pytest.mark.parametrize("kw,message", [(dict(objective="wasserstein"), "objective must be"),
                                        (dict(objective="wgan", loss="minimax"), "minimax"),
                                        (dict(gp=-1.0), "gp must be"),
                                        (dict(r1=float("nan")), "r1 must be"),
                                        (dict(gp=float("inf")), "gp must be")])
def test_bad_options_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        _trainer(**kw)
