"""The adversarial game: losses, the training loop, and the main job end to end."""
import numpy as np
import pytest

import minigan as mg
from minigan import functional as F
from minigan.data import thesis_mixture
from minigan.gan import GANTrainer, discriminator_loss, generator_loss, latent_sampler
from minigan.metrics import MixtureMetrics
from minigan.models import mlp, mlp_discriminator, mlp_generator


def test_losses_are_the_papers_formulas():
    r = mg.tensor(np.array([[0.3], [-1.2]]))
    f = mg.tensor(np.array([[2.0], [-0.5]]))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    d = -np.log(sig(r.data)).mean() - np.log(1 - sig(f.data)).mean()
    assert discriminator_loss(r, f).item() == pytest.approx(d, rel=1e-12)
    assert generator_loss(f).item() == pytest.approx(-np.log(sig(f.data)).mean(), rel=1e-12)
    assert generator_loss(f, "minimax").item() == pytest.approx(
        np.log(1 - sig(f.data)).mean(), rel=1e-12)
    with pytest.raises(ValueError, match="non_saturating"):
        generator_loss(f, "wasserstein")


@pytest.mark.parametrize("kind", ["non_saturating", "minimax"])
def test_gan_losses_pass_gradcheck_on_tiny_nets(kind, rng):
    z = rng.random((4, 3))
    x = rng.standard_normal((4, 2))
    shapes = [(5, 3), (5,), (2, 5), (2,), (4, 2), (4,), (1, 4), (1,)]
    params = [rng.standard_normal(s) * 0.5 for s in shapes]

    def losses(gw1, gb1, gw2, gb2, dw1, db1, dw2, db2):
        def D(v):
            return F.linear(F.relu(F.linear(v, dw1, db1)), dw2, db2)
        fake = F.linear(F.relu(F.linear(z, gw1, gb1)), gw2, gb2)
        return discriminator_loss(D(x), D(fake)), generator_loss(D(fake), kind)

    assert mg.gradcheck(losses, params)
    assert mg.gradgradcheck(losses, params, mode="directional")


def _trainer(seed, **kw):
    mg.manual_seed(seed)
    mix = thesis_mixture()
    G, D = mlp_generator(4, (16,)), mlp_discriminator(2, (16,))
    og = mg.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    od = mg.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real = lambda n, r: mix.sample(n, r)[0].astype(np.float32)  # noqa: E731
    kw.setdefault("batch_size", 32)
    return GANTrainer(G, D, og, od, latent_sampler("normal", 4), real,
                      np.random.default_rng(seed), **kw)


def test_a_d_step_leaves_g_untouched_and_a_g_step_leaves_d_untouched():
    tr = _trainer(0)
    g0 = [p.data.copy() for p in tr.G.parameters()]
    d0 = [p.data.copy() for p in tr.D.parameters()]
    tr.d_step()
    assert all(np.array_equal(a, p.data) for a, p in zip(g0, tr.G.parameters()))
    assert not all(np.array_equal(a, p.data) for a, p in zip(d0, tr.D.parameters()))
    d1 = [p.data.copy() for p in tr.D.parameters()]
    tr.g_step()
    assert all(np.array_equal(a, p.data) for a, p in zip(d1, tr.D.parameters()))
    assert not all(np.array_equal(a, p.data) for a, p in zip(g0, tr.G.parameters()))
    assert all(p.requires_grad for p in tr.D.parameters())


def test_joint_batch_gives_the_same_d_gradients_as_two_passes():
    grads = []
    for joint in (True, False):
        tr = _trainer(1, joint_batch=joint)
        tr.d_step()
        grads.append([p.data.copy() for p in tr.D.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("n_real", [1, 3, 5])
def test_joint_discriminator_loss_is_the_two_part_loss(n_real):
    from minigan.gan import discriminator_loss, joint_discriminator_loss
    x = np.random.default_rng(5).standard_normal((7, 1)) * 3
    a, b = mg.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    joint = joint_discriminator_loss(a, n_real)
    split = discriminator_loss(b[:n_real], b[n_real:])
    assert abs(joint.item() - split.item()) < 1e-12
    joint.backward()
    split.backward()
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match=r"n_real must be in \(0, 7\), got 7"):
        joint_discriminator_loss(a, 7)


def test_a_short_seeded_run_learns_and_repeats_exactly():
    scorer = MixtureMetrics(thesis_mixture(), reference_samples=20_000)
    z = np.random.default_rng(9).standard_normal((4000, 4)).astype(np.float32)

    def run(**kw):
        tr = _trainer(3, **kw)
        before = scorer(tr.G(mg.tensor(z)).data)
        tr.train(400)
        with mg.no_grad():
            return before, scorer(tr.G(mg.tensor(z)).data)

    before, after = run()
    assert after["hist"] < 0.5 * before["hist"]
    assert run()[1] == after                                   # same seed, same numbers
    _, simultaneous = run(simultaneous=True)
    assert simultaneous["hist"] < 0.5 * before["hist"]


def test_trainer_rejects_bad_settings():
    with pytest.raises(ValueError, match="batch_size"):
        GANTrainer(*[None] * 7, batch_size=0)
    with pytest.raises(ValueError, match="loss"):
        _trainer(0, loss="hinge")
    with pytest.raises(ValueError, match="latent"):
        latent_sampler("cauchy", 3)
    with pytest.raises(ValueError, match="positive integers"):
        mlp(2, (0,), 1)


# --- every option of the trainer changes what it does --------------------------------------

def _grads(module):
    return [None if p.grad is None else p.grad.data.copy() for p in module.parameters()]


def test_a_simultaneous_turn_leaves_d_only_that_turns_gradients():
    # two turns in a row against the same run with D's gradients cleared by hand in between:
    # if the trainer failed to clear them itself they would hold the sum of both turns
    a = _trainer(4, simultaneous=True)
    b = _trainer(4, simultaneous=True)
    a.turn()
    b.turn()
    b.opt_d.zero_grad()
    b.opt_g.zero_grad()
    a.turn()
    b.turn()
    for ga, gb in zip(_grads(a.D) + _grads(a.G), _grads(b.D) + _grads(b.G)):
        np.testing.assert_array_equal(ga, gb)


def test_g_ema_follows_the_moving_average_recurrence():
    beta = 0.7
    tr = _trainer(5, g_ema=beta)
    avg = [p.data.astype(np.float64) for p in tr.G.parameters()]
    for t in range(1, 41):
        tr.turn()
        b = min(beta, (1 + t) / (10 + t))     # the warm-up, then beta from t = 20 on
        avg = [b * a + (1 - b) * p.data for a, p in zip(avg, tr.G.parameters())]
    for a, p in zip(avg, tr.G_ema.parameters()):
        np.testing.assert_allclose(p.data, a, rtol=1e-5, atol=1e-7)
    assert tr.generator is tr.G_ema
    with mg.no_grad():
        np.testing.assert_array_equal(tr.sample(5, np.random.default_rng(1)),
                                      tr.G_ema(mg.tensor(tr.sample_latent(
                                          5, np.random.default_rng(1)))).data)


def _counting(tr):
    """Wrap the trainer's optimizers and samplers to count steps and draws."""
    counts = {"d": 0, "g": 0, "real": 0, "latent": 0}

    def wrap(obj, attr, key):
        f = getattr(obj, attr)

        def counted(*a, **k):
            counts[key] += 1
            return f(*a, **k)
        setattr(obj, attr, counted)
    wrap(tr.opt_d, "step", "d")
    wrap(tr.opt_g, "step", "g")
    wrap(tr, "sample_real", "real")
    wrap(tr, "sample_latent", "latent")
    return counts


@pytest.mark.parametrize("d_steps,g_steps", [(3, 2), (1, 4), (0, 1), (2, 0)])
def test_a_turn_makes_d_steps_then_g_steps_updates(d_steps, g_steps):
    tr = _trainer(6, d_steps=d_steps, g_steps=g_steps)
    counts = _counting(tr)
    tr.turn()
    # each D step draws one real and one latent batch, each G step one latent batch
    assert counts == {"d": d_steps, "g": g_steps, "real": d_steps,
                      "latent": d_steps + g_steps}
    assert tr.turns == 1


def test_a_simultaneous_turn_is_one_update_of_each_from_one_pair_of_batches():
    tr = _trainer(6, simultaneous=True, d_steps=3, g_steps=2)
    counts = _counting(tr)
    tr.turn()
    assert counts == {"d": 1, "g": 1, "real": 1, "latent": 1}


def test_train_calls_back_at_the_start_every_few_turns_and_at_the_end():
    tr = _trainer(7)
    seen = []
    tr.train(7, callback=lambda t: seen.append(t.turns), every=3)
    assert seen == [0, 3, 6, 7]


def test_the_minimax_and_non_saturating_losses_train_differently():
    a, b = _trainer(8), _trainer(8, loss="minimax")
    a.turn()
    b.turn()
    assert a.last["d_loss"] == b.last["d_loss"]     # D's step is the same game
    assert a.last["g_loss"] > 0 > b.last["g_loss"]  # -log D against log(1 - D)
    assert not all(np.array_equal(p.data, q.data)
                   for p, q in zip(a.G.parameters(), b.G.parameters()))


def test_batch_size_sets_every_batch():
    tr = _trainer(9, batch_size=5)
    sizes = []
    real, latent = tr.sample_real, tr.sample_latent
    tr.sample_real = lambda n, r: sizes.append(("real", n)) or real(n, r)
    tr.sample_latent = lambda n, r: sizes.append(("latent", n)) or latent(n, r)
    tr.turn()
    assert sizes == [("latent", 5), ("real", 5), ("latent", 5)]


def test_the_trainer_steps_each_scheduler_once_a_turn():
    from minigan.optim.lr_scheduler import StepLR
    tr = _trainer(10, d_steps=2)
    tr.schedulers = [StepLR(tr.opt_g, 2, 0.5), StepLR(tr.opt_d, 1, 0.1)]
    for _ in range(3):
        tr.turn()
    assert [s.last_epoch for s in tr.schedulers] == [3, 3]
    assert tr.opt_g.lr == pytest.approx(2e-3 * 0.5) and tr.opt_d.lr == pytest.approx(2e-6)


def test_a_trainer_restored_from_its_state_continues_bit_for_bit(tmp_path):
    from minigan.optim.lr_scheduler import LinearLR
    def make():
        tr = _trainer(11, g_ema=0.9)
        tr.schedulers = [LinearLR(tr.opt_g, 1.0, 0.1, 10), LinearLR(tr.opt_d, 1.0, 0.1, 10)]
        return tr
    a = make()
    a.train(8)
    b = make()
    b.train(3)
    mg.save(b.state_dict(), tmp_path / "s.npz")
    c = make()
    c.load_state_dict(mg.load(tmp_path / "s.npz"))
    c.train(5)
    assert c.turns == 8 and c.ema_updates == a.ema_updates == 8
    for m in ("G", "D", "G_ema"):
        for p, q in zip(getattr(a, m).parameters(), getattr(c, m).parameters()):
            np.testing.assert_array_equal(p.data, q.data)
    with pytest.raises(ValueError, match="saved with a G average"):
        _trainer(11).load_state_dict(b.state_dict())


def test_latent_samplers_take_their_dimension_and_dtype():
    from minigan.gan import normal_latent, uniform_latent
    rng = np.random.default_rng(0)
    u = uniform_latent(5, 3, rng, dtype=np.float64)
    assert u.shape == (5, 3) and u.dtype == np.float64 and 0 <= u.min() and u.max() < 1
    assert normal_latent(4, 2, rng).dtype == np.float32
    assert latent_sampler("normal", 6)(4, rng).shape == (4, 6)
    assert latent_sampler("uniform", 6)(4, rng).min() >= 0


def test_sample_draws_from_the_given_generator_without_touching_the_trainers():
    tr = _trainer(12)
    state = tr.rng.bit_generator.state
    a = tr.sample(5, np.random.default_rng(3))
    assert tr.rng.bit_generator.state == state
    np.testing.assert_array_equal(a, tr.sample(5, np.random.default_rng(3)))
    b = tr.sample(5)
    assert tr.rng.bit_generator.state != state and b.shape == (5, 2)


def test_joint_batch_is_taken_only_for_a_d_without_batch_norm():
    from minigan.models import dcgan_discriminator
    plain = _trainer(13)
    assert plain.joint_batch is True
    assert _trainer(13, joint_batch=False).joint_batch is False
    mg.manual_seed(0)
    D = dcgan_discriminator()
    assert any(isinstance(m, mg.nn.BatchNorm2d) for m in D.modules())
    G = mlp_generator(4, (8,))
    args = (G, D, mg.optim.Adam(G.parameters()), mg.optim.Adam(D.parameters()),
            latent_sampler("normal", 4), None, np.random.default_rng(0))
    assert GANTrainer(*args).joint_batch is False
    with pytest.raises(ValueError, match="normalise real and fake together"):
        GANTrainer(*args, joint_batch=True)


@pytest.mark.parametrize("joint", [True, False])
def test_track_outputs_keeps_d_of_the_real_and_the_fake_batch(joint):
    tr = _trainer(3, track_outputs=True, joint_batch=joint)
    snap = [p.data.copy() for p in tr.D.parameters()]
    rng_state = tr.rng.bit_generator.state
    tr.d_step()
    # replay the step's draws by hand on D as it was before the step
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state
    with mg.no_grad():
        fake = tr.G(tr.sample_latent(32, rng))
        real = tr.sample_real(32, rng)
        for p, s in zip(tr.D.parameters(), snap):
            p.data = s
        d_real = 1 / (1 + np.exp(-tr.D(mg.tensor(real)).data.astype(np.float64)))
        d_fake = 1 / (1 + np.exp(-tr.D(fake).data.astype(np.float64)))
    assert tr.last["d_real"] == pytest.approx(d_real.mean(), rel=1e-5)
    assert tr.last["d_fake"] == pytest.approx(d_fake.mean(), rel=1e-5)
    quiet = _trainer(3)
    quiet.d_step()
    assert set(quiet.last) == {"d_loss", "g_loss"}
