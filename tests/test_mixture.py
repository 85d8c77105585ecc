"""The Gaussian mixture: sampling, exact densities, exact bin masses, and the metrics."""
import math

import numpy as np
import pytest

from minigan.data import GaussianMixture, grid_mixture, normal_cdf, ring_mixture, thesis_mixture
from minigan.metrics import MixtureMetrics


@pytest.fixture(scope="module")
def mixture():
    return thesis_mixture()


@pytest.fixture(scope="module")
def scorer(mixture):
    return MixtureMetrics(mixture)


def test_bin_masses_sum_to_one_over_a_wide_box(mixture):
    edges = np.linspace(-30, 30, 61)
    assert mixture.bin_mass(edges, edges).sum() == pytest.approx(1.0, abs=1e-12)


def test_bin_mass_quadrature_error_is_negligible(mixture):
    edges = np.linspace(-10, 10, 41)
    diff = np.abs(mixture.bin_mass(edges, edges) - mixture.bin_mass(edges, edges, nodes=48))
    assert diff.max() < 1e-13


def test_bin_mass_of_a_rectangle_matches_inclusion_exclusion_of_the_cdf():
    # for a diagonal covariance the rectangle mass factorises into 1-D normal CDFs
    g = GaussianMixture([1.0], [[0.5, -1.0]], [[[2.0, 0.0], [0.0, 0.5]]])
    px = normal_cdf((1.0 - 0.5) / math.sqrt(2)) - normal_cdf((-2.0 - 0.5) / math.sqrt(2))
    py = normal_cdf((0.0 + 1.0) / math.sqrt(0.5)) - normal_cdf((-1.5 + 1.0) / math.sqrt(0.5))
    assert g.bin_mass([-2.0, 1.0], [-1.5, 0.0])[0, 0] == pytest.approx(px * py, rel=1e-12)


def test_bin_masses_match_sample_frequencies(mixture):
    x, _ = mixture.sample(400_000, np.random.default_rng(0))
    edges = np.linspace(-6, 6, 7)
    counts, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=[edges, edges])
    p = mixture.bin_mass(edges, edges)
    z = (counts / len(x) - p) / np.sqrt(p * (1 - p) / len(x) + 1e-300)
    assert np.abs(z).max() < 5


def test_log_prob_integrates_to_one_and_matches_components(mixture):
    g = np.linspace(-15, 15, 601)
    xx, yy = np.meshgrid(g, g)
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    dens = np.exp(mixture.log_prob(pts))
    assert dens.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=1e-6)
    comp = np.exp(mixture.component_log_prob(pts[:5])) @ mixture.weights
    np.testing.assert_allclose(comp, dens[:5], rtol=1e-12)


def test_samples_have_the_right_moments_and_labels(mixture):
    x, labels = mixture.sample(200_000, np.random.default_rng(1))
    assert x.shape == (200_000, 2) and labels.shape == (200_000,)
    np.testing.assert_allclose(np.bincount(labels) / len(x), mixture.weights, atol=0.005)
    for k in range(4):
        xk = x[labels == k]
        np.testing.assert_allclose(xk.mean(0), mixture.means[k], atol=0.03)
        np.testing.assert_allclose(np.cov(xk.T), mixture.covariances[k], atol=0.05)


def test_same_seed_same_samples(mixture):
    a = mixture.sample(10, np.random.default_rng(3))[0]
    b = mixture.sample(10, np.random.default_rng(3))[0]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [thesis_mixture, ring_mixture, grid_mixture])
def test_sampling_draws_what_rng_choice_and_the_cholesky_product_draw(make):
    # the sampler writes out rng.choice and mean + L z for speed: the same numbers, bit for bit
    m = make()
    for n, seed in ((0, 0), (1, 1), (257, 2), (5000, 3)):
        x, labels = m.sample(n, np.random.default_rng(seed))
        rng = np.random.default_rng(seed)
        want_labels = rng.choice(m.n_components, size=n, p=m.weights)
        z = rng.standard_normal((n, 2))
        want = m.means[want_labels] + np.einsum("nij,nj->ni",
                                                np.linalg.cholesky(m.covariances)[want_labels], z)
        np.testing.assert_array_equal(labels, want_labels)
        np.testing.assert_array_equal(x, want)


def test_presets_and_bad_parameters():
    assert ring_mixture().n_components == 8 and grid_mixture().n_components == 25
    with pytest.raises(ValueError, match="sum to 1"):
        GaussianMixture([0.5, 0.6], [[0, 0], [1, 1]], [np.eye(2)] * 2)
    with pytest.raises(ValueError, match="covariance 1 is not positive definite"):
        GaussianMixture([0.5, 0.5], [[0, 0], [1, 1]], [np.eye(2), [[1, 2], [2, 1]]])
    with pytest.raises(ValueError, match=r"\(K, 2\)"):
        GaussianMixture([1.0], [[0, 0, 0]], [np.eye(2)])


def test_a_perfect_sampler_lands_on_every_floor(mixture, scorer):
    rng = np.random.default_rng(7)
    runs = [scorer(mixture.sample(10_000, rng)[0]) for _ in range(5)]
    perfect = scorer.perfect(10_000)
    assert np.median([r["hist"] for r in runs]) == pytest.approx(perfect["hist"], rel=0.15)
    assert np.median([r["thesis"] for r in runs]) == pytest.approx(perfect["thesis"], rel=0.15)
    assert np.median([r["tv"] for r in runs]) < 3 * perfect["tv"]
    for r in runs:
        assert r["coverage"] == pytest.approx(perfect["coverage"], abs=0.01)
        assert r["log_density"] == pytest.approx(perfect["log_density"], abs=0.03)
    np.testing.assert_allclose(scorer.reference_fractions, [0.422, 0.198, 0.189, 0.191],
                               atol=0.003)
    assert perfect["coverage"] == pytest.approx(0.914, abs=0.003)


def test_collapsed_and_single_gaussian_samplers_score_far_above(mixture, scorer):
    rng = np.random.default_rng(8)
    x = mixture.sample(10_000, rng)[0]
    collapsed = scorer(rng.multivariate_normal([0, 0], [[3, 0], [0, 1]], 10_000))
    single = scorer(rng.multivariate_normal(x.mean(0), np.cov(x.T), 10_000))
    perfect = scorer.perfect(10_000)
    assert collapsed["hist"] > 30 * perfect["hist"] and collapsed["tv"] > 0.4
    assert collapsed["log_density"] > perfect["log_density"]     # why coverage sits beside it
    assert single["hist"] > 8 * perfect["hist"] and single["coverage"] < 0.8
    assert scorer(np.zeros((100, 2)))["hist"] > 10


def test_metrics_reject_bad_samples_and_count_non_finite_as_misses(scorer):
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        scorer(np.zeros((10, 3)))
    x = np.zeros((10, 2))
    x[:5] = np.nan
    assert scorer(x)["coverage"] == pytest.approx(0.5)


def test_the_histogram_is_40_by_40_bins_half_a_unit_wide_over_the_box(mixture, scorer):
    assert scorer.histogram(np.zeros((1, 2))).shape == (40, 40) == scorer.mass.shape
    np.testing.assert_allclose(scorer.edges, np.arange(-10, 10.25, 0.5))
    # a fixed sample against counts made by hand on the same 0.5-wide cells
    x = np.array([[0.1, 0.2], [0.3, 0.4], [-3.2, -2.9], [9.9, -9.9], [12.0, 0.0]])
    cells = np.floor((x + 10) / 0.5).astype(int)
    counts = np.zeros((40, 40))
    for i, j in cells:
        if 0 <= i < 40 and 0 <= j < 40:
            counts[i, j] += 1
    np.testing.assert_array_equal(scorer.histogram(x), counts)
    edges = np.linspace(-10, 10, 41)
    thesis = ((counts - 5 * mixture.bin_mass(edges, edges)) ** 2).sum()
    assert scorer(x)["thesis"] == pytest.approx(thesis, rel=1e-12)
    assert scorer(x)["hist"] == pytest.approx(thesis / 5, rel=1e-12)


def test_bins_and_box_options_set_the_grid(mixture):
    s = MixtureMetrics(mixture, bins=8, box=(-4.0, 4.0), reference_samples=1000)
    np.testing.assert_allclose(s.edges, np.arange(-4, 4.5, 1.0))
    assert s.histogram(np.zeros((3, 2))).shape == (8, 8)
    assert s.mass.sum() == pytest.approx(mixture.bin_mass([-4, 4], [-4, 4])[0, 0], rel=1e-7)


def test_reference_options_set_the_monte_carlo_floors(mixture):
    a = MixtureMetrics(mixture, reference_samples=2000, seed=1)
    b = MixtureMetrics(mixture, reference_samples=2000, seed=2)
    c = MixtureMetrics(mixture, reference_samples=2000, seed=1)
    assert a.perfect(100)["coverage"] == c.perfect(100)["coverage"]
    assert a.perfect(100)["log_density"] != b.perfect(100)["log_density"]
    # the reference fractions are counts out of reference_samples
    assert np.allclose(a.reference_fractions * 2000, np.round(a.reference_fractions * 2000))


def test_non_finite_samples_are_misses_for_tv_and_coverage(mixture, scorer):
    # half the samples at the heaviest component's mean, half NaN or inf: the finite half is
    # assigned to component 0, the other half to none
    x = np.zeros((1000, 2))
    x[500:700] = np.nan
    x[700:] = np.inf
    r = scorer.reference_fractions
    assert mixture.posterior(np.zeros((1, 2))).argmax() == 0
    m = scorer(x)
    assert m["tv"] == pytest.approx(0.5 * (abs(0.5 - r[0]) + r[1:].sum()), rel=1e-12)
    assert m["coverage"] == pytest.approx(0.5)
    # log-density is the mean over the finite samples (never -inf or NaN)
    assert m["log_density"] == pytest.approx(float(mixture.log_prob(np.zeros((1, 2)))[0]))
    # hist counts the missing half as missing mass: n stays 1000
    counts = scorer.histogram(np.zeros((500, 2)))
    assert m["hist"] == pytest.approx(((counts - 1000 * scorer.mass) ** 2).sum() / 1000,
                                      rel=1e-12)


def test_quadrature_nodes_set_the_rule():
    # one node per bin is the midpoint rule in x: width * marginal(mid) * P(y-interval | mid)
    g = GaussianMixture([1.0], [[0.0, 0.0]], [[[1.0, 0.5], [0.5, 2.0]]])
    mid, width = 0.75, 1.5
    marginal = math.exp(-0.5 * mid ** 2) / math.sqrt(2 * math.pi)
    cond_mean, cond_std = 0.5 * mid, math.sqrt(2.0 - 0.25)
    strip = normal_cdf((1.0 - cond_mean) / cond_std) - normal_cdf((-1.0 - cond_mean) / cond_std)
    one = g.bin_mass([0.0, 1.5], [-1.0, 1.0], nodes=1)[0, 0]
    assert one == pytest.approx(width * marginal * strip, rel=1e-12)
    assert abs(g.bin_mass([0.0, 1.5], [-1.0, 1.0])[0, 0] - one) > 1e-3


def test_ring_and_grid_options_place_and_shape_the_components():
    r = ring_mixture(k=6, radius=3.0, std=0.1)
    assert r.n_components == 6
    np.testing.assert_allclose(np.hypot(*r.means.T), 3.0)
    np.testing.assert_allclose(r.means[1], [3 * math.cos(math.pi / 3), 3 * math.sin(math.pi / 3)])
    np.testing.assert_allclose(r.covariances, np.tile(np.eye(2) * 0.01, (6, 1, 1)))
    g = grid_mixture(side=3, spacing=1.5, std=0.2)
    assert g.n_components == 9
    assert sorted(set(g.means[:, 0].tolist())) == [-1.5, 0.0, 1.5]
    np.testing.assert_allclose(g.covariances[0], np.eye(2) * 0.04)
    np.testing.assert_allclose(g.weights, np.full(9, 1 / 9))
