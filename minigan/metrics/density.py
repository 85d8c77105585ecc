"""How close a 2-D sampler is to a known mixture: the thesis's metric and four sharper ones.

Each metric comes with its value for a perfect sampler (``perfect``), since none of them is
zero for finitely many exact samples:

- ``thesis``: sum over bins of (observed count - expected count)^2, expected from the exact bin
  mass (thesis fig. 4.4). A perfect sampler scores n * sum_b p_b (1 - p_b) on average.
- ``hist``: the same divided by n, i.e. n * sum_b (q_b - p_b)^2 with q the sample fractions:
  about 1 for a perfect sampler at any n, about 50 at n = 10k when collapsed to one component.
- ``tv``: total variation between the fractions of samples assigned to each component (by
  maximum posterior) and the fractions a perfect sampler gets (not the raw weights: the
  components overlap). Perfect: the sampling noise, ~ 1/2 sum_k sqrt(2 r_k (1 - r_k) / (pi n)).
- ``coverage``: fraction of samples within Mahalanobis distance 2 of their nearest component.
- ``log_density``: mean log-density under the true mixture; a collapsed sampler scores above
  a perfect one on it, so read it together with coverage.

With ``modes=True``, also the literature's two scores for its toys (the 8-Gaussian ring and
the 25-Gaussian grid; VEEGAN, PacGAN), read off the same distances (``mode_scores``):

- ``modes``: how many components are covered; a component counts when at least
  ``MODE_SHARE`` (1%) of its expected number of samples, n w_k, lie within ``MODE_RADIUS``
  (3) standard deviations of its mean (Mahalanobis distance, so 3 sigma for a round one).
- ``high_quality``: the fraction of samples within 3 standard deviations of some component
  (a perfect sampler: 1 - exp(-9/2) = 0.9889 where the components do not overlap).

The perfect values of tv's reference fractions, coverage and log_density are Monte Carlo
estimates from 400,000 exact samples (fixed seed; standard error below 8e-4 for the
fractions and coverage).
"""
import math

import numpy as np

COVERAGE_RADIUS = 2.0
MODE_RADIUS = 3.0
MODE_SHARE = 0.01


def as_samples(samples):
    """samples as a float64 (n, 2) array with n > 0; ValueError naming the shape if not."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"metrics need samples of shape (n, 2) with n > 0, got {x.shape}")
    return x


class MixtureMetrics:
    """Scores samples against ``mixture`` on ``bins`` x ``bins`` bins over ``box``^2."""

    def __init__(self, mixture, bins=40, box=(-10.0, 10.0), reference_samples=400_000,
                 seed=20170101, modes=False):
        self.mixture, self.modes = mixture, bool(modes)
        self.edges = np.linspace(box[0], box[1], bins + 1)
        self.mass = mixture.bin_mass(self.edges, self.edges)
        ref, _ = mixture.sample(reference_samples, np.random.default_rng(seed))
        d2 = mixture.mahalanobis_sq(ref)            # once, for every reference value
        self.reference_fractions = self._fractions(ref, d2)
        self.reference_coverage = self._coverage(ref, d2)
        self.reference_log_density = float(mixture.log_prob(ref, d2).mean())
        if self.modes:
            self.reference_high_quality = mode_scores(ref, mixture, d2)["high_quality"]

    def histogram(self, samples):
        h, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=[self.edges, self.edges])
        return h

    def _fractions(self, x, maha_sq=None):
        """The fraction of points assigned to each component by maximum posterior."""
        k = self.mixture.n_components
        assigned = self.mixture.joint_log_prob(x, maha_sq).argmax(1)
        return np.bincount(assigned, minlength=k) / max(len(x), 1)

    def _coverage(self, x, maha_sq=None):
        maha_sq = self.mixture.mahalanobis_sq(x) if maha_sq is None else maha_sq
        return float((maha_sq.min(1) <= COVERAGE_RADIUS ** 2).mean())

    def __call__(self, samples):
        """samples: (n, 2). Returns a dict of the five metrics (floats)."""
        x = as_samples(samples)
        finite = np.isfinite(x).all(1)
        n = len(x)
        counts = self.histogram(x[finite])
        thesis = float(((counts - n * self.mass) ** 2).sum())
        xf = x[finite]
        d2 = self.mixture.mahalanobis_sq(xf)       # once, for the metrics that use it
        scores = {
            "thesis": thesis,
            "hist": thesis / n,
            "tv": 0.5 * float(np.abs(self._fractions(xf, d2) * len(xf) / n
                                     - self.reference_fractions).sum()),
            "coverage": self._coverage(xf, d2) * len(xf) / n if len(xf) else 0.0,
            "log_density": float(self.mixture.log_prob(xf, d2).mean()) if len(xf)
            else -math.inf,
        }
        if self.modes:
            scores.update(mode_scores(xf, self.mixture, d2, n=n))
        return scores

    def perfect(self, n):
        """What a sampler drawing exactly from the mixture scores on average with n samples."""
        p, r = self.mass, self.reference_fractions
        spread = float((p * (1 - p)).sum())
        return {
            "thesis": n * spread,
            "hist": spread,
            "tv": 0.5 * float(np.sqrt(2 * r * (1 - r) / (math.pi * n)).sum()),
            "coverage": self.reference_coverage,
            "log_density": self.reference_log_density,
            **({"modes": self.mixture.n_components, "high_quality": self.reference_high_quality}
               if self.modes else {}),
        }


def mode_scores(samples, mixture, maha_sq=None, n=None, radius=MODE_RADIUS, share=MODE_SHARE):
    """{"modes": components covered, "high_quality": fraction of samples near a component}
    (see the module's docstring). samples: (m, 2) finite points; maha_sq: their squared
    Mahalanobis distances to each component, if computed; n: the number of samples drawn, if
    more than m (non-finite ones count as neither near nor covering)."""
    x = as_samples(samples) if maha_sq is None else samples
    d2 = mixture.mahalanobis_sq(x) if maha_sq is None else maha_sq
    n = len(d2) if n is None else n
    near = d2 <= radius ** 2                       # (m, K): sample i within 3 sigma of k
    covered = near.sum(0) >= share * n * mixture.weights
    return {"modes": int(covered.sum()), "high_quality": float(near.any(1).sum() / max(n, 1))}
