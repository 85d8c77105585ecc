"""The conditional game (thesis 5.1.1): one-hot labels, G(z, y) and D(x, y), the trainer's
conditional loop, and the per-class metrics against the mixture's components."""
import math

import numpy as np
import pytest

import minigan as mg
from minigan import functional as F
from minigan.data import thesis_mixture
from minigan.gan import GANTrainer, latent_sampler
from minigan.metrics import ConditionalMixtureMetrics, gaussian_kl
from minigan.models import conditional_mlp_discriminator, conditional_mlp_generator


@pytest.fixture(scope="module")
def mixture():
    return thesis_mixture()


@pytest.fixture(scope="module")
def scorer(mixture):
    return ConditionalMixtureMetrics(mixture, reference_samples=100_000)


def test_one_hot_codes_labels_and_refuses_bad_ones():
    np.testing.assert_array_equal(F.one_hot(np.array([2, 0]), 3).data, [[0, 0, 1], [1, 0, 0]])
    assert F.one_hot(np.array([1]), 2, dtype=np.float64).dtype == np.float64
    assert not F.one_hot(np.array([1]), 2).requires_grad
    for bad, message in ((np.array([3]), "label 3 is outside"), (np.array([-1]), "label -1"),
                         (np.array([[1]]), "1-D array of integers"),
                         (np.array([0.5]), "1-D array of integers")):
        with pytest.raises(ValueError, match=message):
            F.one_hot(bad, 3)
    with pytest.raises(ValueError, match="num_classes"):
        F.one_hot(np.array([0]), 0)


def test_cat_one_hot_is_cat_of_one_hot_and_refuses_bad_labels():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    labels = np.array([2, 0, 2])
    got = F.cat_one_hot(x, labels, 3)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.data, F.cat([x, F.one_hot(labels, 3)], 1).data)
    for bad, message in ((np.array([3, 0, 0]), "cat_one_hot: label 3 is outside"),
                         (np.array([0.5, 0, 0]), "1-D array of integers"),
                         (np.array([0, 1]), "with N labels")):
        with pytest.raises(ValueError, match=message):
            F.cat_one_hot(x, bad, 3)
    with pytest.raises(TypeError, match="cannot require grad"):
        F.cat_one_hot(x, mg.tensor(np.ones(3), requires_grad=True), 3)


def test_conditional_nets_see_the_label_and_never_differentiate_it():
    mg.manual_seed(0)
    G = conditional_mlp_generator(3, 4, (8,))
    z = np.ones((2, 3), np.float32)
    a, b = G(z, np.array([0, 1])).data, G(z, np.array([1, 1])).data
    assert not np.allclose(a[0], b[0]) and np.array_equal(a[1], b[1])
    D = conditional_mlp_discriminator(2, 4, (8,))
    x = mg.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    D(x, np.array([0, 3])).sum().backward()
    assert x.grad is not None                    # the gradient reaches x, and only x
    with pytest.raises(ValueError, match="label 4 is outside"):
        D(x, np.array([0, 4]))
    with pytest.raises(ValueError, match="N labels"):
        D(x, np.array([0]))


def _trainer(seed, mixture, **kw):
    mg.manual_seed(seed)
    G = conditional_mlp_generator(4, 4, (32,))
    D = conditional_mlp_discriminator(2, 4, (32,))
    og = mg.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    od = mg.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))

    def real(n, rng):
        x, y = mixture.sample(n, rng)
        return x.astype(np.float32), y
    return GANTrainer(G, D, og, od, latent_sampler("normal", 4), real,
                      np.random.default_rng(seed), batch_size=64, n_classes=4, **kw)


def test_a_short_conditional_run_lowers_every_class_metric_and_repeats(mixture, scorer):
    def run():
        tr = _trainer(1, mixture)
        before = [scorer.per_class(tr.sample(4000, np.random.default_rng(2), k), k)["hist"]
                  for k in range(4)]
        tr.train(1500)
        return before, [scorer.per_class(tr.sample(4000, np.random.default_rng(2), k), k)
                        ["hist"] for k in range(4)]
    before, after = run()
    assert all(a < 0.5 * b for a, b in zip(after, before)), (before, after)
    assert run()[1] == after


def test_fake_labels_come_from_sample_labels(mixture):
    seen = []

    def by_weight(n, rng):
        y = rng.choice(4, size=n, p=mixture.weights)
        seen.append(y)
        return y
    tr = _trainer(2, mixture, sample_labels=by_weight)
    tr.turn()
    assert len(seen) == 2 and all(len(y) == 64 for y in seen)    # one D and one G step
    tr.sample(5)
    assert len(seen) == 3
    with pytest.raises(ValueError, match="give n_classes"):
        GANTrainer(*[None] * 7, sample_labels=by_weight)


def test_sample_takes_labels_and_refuses_bad_ones(mixture):
    tr = _trainer(3, mixture)
    assert tr.sample(6, labels=2).shape == (6, 2)
    assert tr.sample(3, labels=np.array([0, 1, 3])).shape == (3, 2)
    for bad in (4, np.array([0, 1]), np.array([0.5, 1, 2])):
        with pytest.raises(ValueError, match="labels must be"):
            tr.sample(3, labels=bad)


def test_gaussian_kl_is_zero_for_equal_gaussians_and_matches_a_closed_form():
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert gaussian_kl([1, 2], cov, [1, 2], cov) == pytest.approx(0, abs=1e-12)
    # N(0, I) against N(mu, s^2 I): 0.5 (2 / s^2 + |mu|^2 / s^2 - 2 + 2 ln s^2)
    mu, s2 = np.array([1.0, -2.0]), 3.0
    expected = 0.5 * (2 / s2 + (mu @ mu) / s2 - 2 + 2 * math.log(s2))
    assert gaussian_kl([0, 0], np.eye(2), mu, s2 * np.eye(2)) == pytest.approx(expected)


def _exact(mixture, k, n, rng):
    return mixture.means[k] + rng.standard_normal((n, 2)) @ mixture._chol[k].T


def test_a_perfect_conditional_sampler_lands_on_every_floor(mixture, scorer):
    rng = np.random.default_rng(4)
    for k in range(4):
        m, p = scorer.per_class(_exact(mixture, k, 10_000, rng), k), \
            scorer.perfect_per_class(10_000, k)
        assert m["hist"] == pytest.approx(p["hist"], rel=0.3)
        assert m["kl"] < 4 * p["kl"]
        assert m["coverage"] == pytest.approx(p["coverage"], abs=0.01)
    x, y = mixture.sample(20_000, rng)
    joint = scorer.joint(x, y)
    assert joint["bayes_accuracy"] == pytest.approx(scorer.reference_bayes, abs=0.006)
    assert scorer.reference_bayes == pytest.approx(0.894, abs=0.003)


def test_a_sampler_that_swaps_two_classes_fails_kl_and_bayes_accuracy(mixture, scorer):
    rng = np.random.default_rng(5)
    swapped = {0: 0, 1: 2, 2: 1, 3: 3}
    for k in (1, 2):
        assert scorer.per_class(_exact(mixture, swapped[k], 5000, rng), k)["kl"] > 1
    x, y = mixture.sample(20_000, rng)
    y_swapped = np.where(y == 1, 2, np.where(y == 2, 1, y))
    assert scorer.joint(x, y_swapped)["bayes_accuracy"] < 0.6


def test_conditional_metrics_count_non_finite_samples_as_misses(mixture, scorer):
    x = _exact(mixture, 0, 1000, np.random.default_rng(6))
    x[:500] = np.nan
    m = scorer.per_class(x, 0)
    assert m["coverage"] == pytest.approx(0.5 * 0.865, abs=0.04)
    with pytest.raises(ValueError, match="class 4"):
        scorer.per_class(x, 4)
    with pytest.raises(ValueError, match="1000 integers"):
        scorer.joint(x, np.zeros(3, int))
