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

The perfect values of tv's reference fractions, coverage and log_density are Monte Carlo
estimates from 400,000 exact samples (fixed seed; standard error below 8e-4 for the
fractions and coverage).
"""
import math

import numpy as np

COVERAGE_RADIUS = 2.0


def as_samples(samples):
    """samples as a float64 (n, 2) array with n > 0; ValueError naming the shape if not."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"metrics need samples of shape (n, 2) with n > 0, got {x.shape}")
    return x


class MixtureMetrics:
    """Scores samples against ``mixture`` on ``bins`` x ``bins`` bins over ``box``^2."""

    def __init__(self, mixture, bins=40, box=(-10.0, 10.0), reference_samples=400_000,
                 seed=20170101):
        self.mixture = mixture
        self.edges = np.linspace(box[0], box[1], bins + 1)
        self.mass = mixture.bin_mass(self.edges, self.edges)
        ref, _ = mixture.sample(reference_samples, np.random.default_rng(seed))
        self.reference_fractions = self._fractions(ref)
        self.reference_coverage = self._coverage(ref)
        self.reference_log_density = float(mixture.log_prob(ref).mean())

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
        d2 = self.mixture.mahalanobis_sq(xf)       # once, for the three metrics that use it
        return {
            "thesis": thesis,
            "hist": thesis / n,
            "tv": 0.5 * float(np.abs(self._fractions(xf, d2) * len(xf) / n
                                     - self.reference_fractions).sum()),
            "coverage": self._coverage(xf, d2) * len(xf) / n if len(xf) else 0.0,
            "log_density": float(self.mixture.log_prob(xf, d2).mean()) if len(xf)
            else -math.inf,
        }

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
        }
