"""The literature's 2-D toys: mode metrics, the toy benchmarks, the CycleGAN toy."""
import numpy as np
import pytest

from minigan.data import grid_mixture, ring_mixture, thesis_mixture
from minigan.metrics import MixtureMetrics, mode_scores

THREE_SIGMA_MASS = 1 - np.exp(-4.5)          # of a 2-D Gaussian, within Mahalanobis 3


@pytest.mark.parametrize("make", [ring_mixture, grid_mixture])
def test_a_perfect_sampler_covers_every_mode_with_the_three_sigma_mass(make):
    m = make()
    x, _ = m.sample(20_000, np.random.default_rng(0))
    s = mode_scores(x, m)
    assert s["modes"] == m.n_components
    assert s["high_quality"] == pytest.approx(THREE_SIGMA_MASS, abs=0.003)
    perfect = MixtureMetrics(m, modes=True).perfect(20_000)
    assert perfect["modes"] == m.n_components
    assert perfect["high_quality"] == pytest.approx(THREE_SIGMA_MASS, abs=0.001)


@pytest.mark.parametrize("make", [ring_mixture, grid_mixture])
def test_a_collapsed_sampler_covers_one_mode(make):
    m = make()
    rng = np.random.default_rng(1)
    x = m.means[3] + 0.5 * np.sqrt(m.covariances[3, 0, 0]) * rng.standard_normal((5000, 2))
    assert mode_scores(x, m) == {"modes": 1, "high_quality": 1.0}
    far = x + 100.0                                         # near nothing at all
    assert mode_scores(far, m) == {"modes": 0, "high_quality": 0.0}


def test_a_mode_counts_from_one_percent_of_its_expected_share():
    m = ring_mixture()                                      # 8 modes, weight 1/8 each
    n = 8000                                                # 1,000 expected per mode
    rng = np.random.default_rng(2)
    x = np.repeat(m.means[:1], n, 0) + 0.001 * rng.standard_normal((n, 2))
    x[:10] = m.means[1]                                     # 10 = 1% of 1,000: covered
    x[10:19] = m.means[2]                                   # 9: not
    assert mode_scores(x, m)["modes"] == 2
    assert mode_scores(x, m, share=0.005)["modes"] == 3
    assert mode_scores(x, m, radius=1e-6)["modes"] == 1     # only the exact points of mode 1


def test_mixture_metrics_add_mode_scores_when_asked_and_count_non_finite_samples_as_misses():
    m = grid_mixture()
    x, _ = m.sample(1000, np.random.default_rng(3))
    plain, with_modes = MixtureMetrics(m), MixtureMetrics(m, modes=True)
    assert "modes" not in plain(x) and "modes" not in plain.perfect(1000)
    scores = with_modes(x)
    assert scores["modes"] == 25 and {k: scores[k] for k in plain(x)} == plain(x)
    x[:500] = np.nan
    assert with_modes(x)["high_quality"] <= 0.5


def test_the_thesis_mixtures_overlapping_modes_are_counted_by_their_own_distances():
    m = thesis_mixture()
    s = mode_scores(np.zeros((100, 2)), m)       # the heavy mode's centre is within 3 sigma
    assert s["high_quality"] == 1.0 and 1 <= s["modes"] <= 4   # of its broad neighbours
