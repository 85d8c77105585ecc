"""minigan.metrics.images (from issue 16): the Fréchet distance, and the judge's scores of
generated images (FID_cnn, class proportions, GAN-test accuracy)."""
import numpy as np
import pytest

import minigan as mg
from minigan.metrics.images import (
    ImageScorer,
    feature_stats,
    frechet_distance,
    judge_inputs,
)
from minigan.models import ThesisCNN


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_the_distance_is_zero_for_identical_feature_sets():
    f = _rng().normal(size=(500, 12))
    assert frechet_distance(*feature_stats(f), *feature_stats(f)) == pytest.approx(0, abs=1e-9)


def test_it_matches_the_closed_form_for_two_gaussians():
    # commuting covariances: |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    want = 5.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(want, rel=1e-12)
    # and a rotated pair (non-diagonal, non-commuting): against the matrix root by
    # eigen-decomposition of S1 S2, whose eigenvalues are real and non-negative
    q, _ = np.linalg.qr(_rng(1).normal(size=(3, 3)))
    s1, s2 = q @ np.diag(a) @ q.T, np.diag(b)
    eig = np.linalg.eigvals(s1 @ s2)
    want = 5.0 + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(eig.real).sum()
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-9)


def test_it_rises_for_noise_and_for_one_repeated_sample():
    f = _rng().normal(size=(2000, 8))
    g = _rng(2).normal(size=(2000, 8))
    base = frechet_distance(*feature_stats(f), *feature_stats(g))
    noisy = frechet_distance(*feature_stats(f + _rng(3).normal(size=f.shape)), *feature_stats(g))
    repeated = frechet_distance(*feature_stats(np.repeat(f[:1], 2000, 0)), *feature_stats(g))
    assert base < 0.05 < noisy and repeated > 7          # a point mass: about tr(I) = 8


def test_the_square_root_is_stable_for_singular_covariances():
    f = _rng().normal(size=(5, 40))            # 5 samples of 40 features: rank 4
    g = _rng(1).normal(size=(5, 40))
    d = frechet_distance(*feature_stats(f), *feature_stats(g))
    assert np.isfinite(d) and d > 0
    assert frechet_distance(*feature_stats(f), *feature_stats(f)) == pytest.approx(0, abs=1e-8)


def test_bad_features_and_images_are_refused():
    with pytest.raises(ValueError, match="features must be"):
        feature_stats(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="images must be"):
        judge_inputs(np.zeros((2, 28, 28)))


@pytest.fixture(scope="module")
def judge():
    mg.manual_seed(0)
    return ThesisCNN(channels=4, hidden=16)


def test_the_scorer_uses_the_judges_features_classes_and_value_range(judge):
    rng = _rng()
    real = rng.uniform(-1, 1, size=(60, 1, 28, 28)).astype(np.float32)
    scorer = ImageScorer(judge, real, batch_size=25)
    same = scorer(real)
    assert same["fid"] == pytest.approx(0, abs=1e-6)
    assert sum(same["proportions"]) == pytest.approx(1) and len(same["proportions"]) == 10
    with mg.no_grad():
        predicted = judge(mg.tensor((real + 1) / 2)).data.argmax(1)
    assert same["proportions"] == (np.bincount(predicted, minlength=10) / 60).tolist()
    scored = scorer(real, labels=predicted)
    assert scored["gan_test"] == 1.0
    assert scorer(real, labels=(predicted + 1) % 10)["gan_test"] == 0.0
    dark = scorer(np.full_like(real, -1.0))
    assert dark["fid"] > 0.01
    # the value range is honoured: images in [0, 1] scored as such equal the [-1, 1] ones
    as01 = ImageScorer(judge, (real + 1) / 2, value_range=(0.0, 1.0))
    assert as01((real + 1) / 2)["fid"] == pytest.approx(0, abs=1e-6)
    assert as01.reference[0] == pytest.approx(scorer.reference[0], abs=1e-5)
    assert judge.training                       # left in the mode it was in
    with pytest.raises(ValueError, match="labels must be"):
        scorer(real, labels=predicted[:3])


def test_the_proportions_panel_marks_the_judges_shares_of_real_images():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from minigan import plot
    fig, ax = plt.subplots()
    curves = {f"prop_{k}": [0.1, 0.1] for k in range(10)}
    plot._proportions_panel(ax, [0, 1], curves, {"prop_0": 0.09, "prop_min": 0.085,
                                                  "prop_max": 0.124})
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines()
                    if line.get_linestyle() == "--")
    assert levels == [0.085, 0.124]
    assert "real images 0.085-0.124" in ax.get_legend_handles_labels()[1]
    plt.close(fig)
