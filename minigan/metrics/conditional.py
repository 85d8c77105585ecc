"""How close a conditional sampler is to a known mixture, class by class (thesis 5.1.1).

The class is the mixture component, so each class's samples can be scored against that
component's Gaussian exactly, beside the value a perfect conditional sampler gets:

- ``hist`` / ``thesis``: the thesis's histogram metric against the component alone (fig 5.2),
  divided by n or not; perfect: sum_b p_b (1 - p_b) per sample, as for the mixture.
- ``kl``: KL(N(mu_hat, Sigma_hat) || N(mu_c, Sigma_c)) from the samples' mean and covariance,
  in closed form. It compares the first two moments only, so it is exact for a Gaussian
  sampler and a lower bound of nothing in general; read it with ``hist``. Perfect: about
  (d + d(d + 1) / 2) / (2 n) = 2.5 / n in 2-D, the estimation noise of n samples.
- ``coverage``: fraction of the samples within Mahalanobis distance 2 of the component's
  mean; perfect 1 - exp(-2) = 0.8647 (chi-square with 2 degrees of freedom).

Jointly, ``bayes_accuracy``: the share of generated pairs (x, y) for which the true mixture's
Bayes classifier picks y. With y drawn by the class weights a perfect sampler scores the
mixture's Bayes rate (0.894 for the thesis's mixture, Monte Carlo); a sampler that mixes up
the classes scores less. The pooled samples also get the unconditional metrics.
"""
import math

import numpy as np

from minigan.metrics.density import COVERAGE_RADIUS, MixtureMetrics, as_samples


def gaussian_kl(mu0, cov0, mu1, cov1):
    """KL(N(mu0, cov0) || N(mu1, cov1)) for d-dimensional Gaussians, in nats."""
    mu0, mu1 = np.asarray(mu0, float), np.asarray(mu1, float)
    cov0, cov1 = np.asarray(cov0, float), np.asarray(cov1, float)
    d = mu0.shape[0]
    inv1 = np.linalg.inv(cov1)
    diff = mu1 - mu0
    _, logdet0 = np.linalg.slogdet(cov0)
    _, logdet1 = np.linalg.slogdet(cov1)
    return 0.5 * float(np.trace(inv1 @ cov0) + diff @ inv1 @ diff - d + logdet1 - logdet0)


class ConditionalMixtureMetrics:
    """Scores (samples, labels) of a conditional sampler of ``mixture`` (K components = K
    classes), on the same bins as MixtureMetrics."""

    def __init__(self, mixture, bins=40, box=(-10.0, 10.0), reference_samples=400_000,
                 seed=20170101):
        self.mixture = mixture
        self.pooled = MixtureMetrics(mixture, bins, box, reference_samples, seed)
        edges = self.pooled.edges
        self.masses = [mixture.component_bin_mass(k, edges, edges)
                       for k in range(mixture.n_components)]
        ref, labels = mixture.sample(reference_samples, np.random.default_rng(seed + 1))
        self.reference_bayes = float((mixture.posterior(ref).argmax(1) == labels).mean())

    @property
    def n_classes(self):
        return self.mixture.n_components

    def per_class(self, samples, k):
        """samples: (n, 2) generated for class k -> {thesis, hist, kl, coverage}. Non-finite
        samples count as misses (kl is then computed on the finite ones)."""
        x = as_samples(samples)
        if not 0 <= k < self.n_classes:
            raise ValueError(f"class {k} is outside [0, {self.n_classes})")
        n, xf = len(x), x[np.isfinite(x).all(1)]
        counts = self.pooled.histogram(xf)
        thesis = float(((counts - n * self.masses[k]) ** 2).sum())
        mu, cov = self.mixture.means[k], self.mixture.covariances[k]
        kl = gaussian_kl(xf.mean(0), np.cov(xf.T), mu, cov) if len(xf) > 2 else math.inf
        maha = self.mixture.mahalanobis(xf)[:, k]
        return {"thesis": thesis, "hist": thesis / n, "kl": kl,
                "coverage": float((maha <= COVERAGE_RADIUS).sum() / n)}

    def perfect_per_class(self, n, k):
        p = self.masses[k]
        spread = float((p * (1 - p)).sum())
        return {"thesis": n * spread, "hist": spread, "kl": 2.5 / n,
                "coverage": 1 - math.exp(-COVERAGE_RADIUS ** 2 / 2)}

    def joint(self, samples, labels):
        """samples (n, 2) and their labels (n,) (drawn by the class weights) -> the Bayes
        classifier's accuracy on the pairs and the unconditional metrics of the pooled x."""
        x = as_samples(samples)
        y = np.asarray(labels)
        if y.shape != (len(x),) or y.dtype.kind not in "iu":
            raise ValueError(f"labels must be {len(x)} integers, got shape {y.shape} of "
                             f"{y.dtype}")
        finite = np.isfinite(x).all(1)
        hits = self.mixture.posterior(x[finite]).argmax(1) == y[finite]
        return dict(self.pooled(x), bayes_accuracy=float(hits.sum() / len(x)))

    def perfect_joint(self, n):
        return dict(self.pooled.perfect(n), bayes_accuracy=self.reference_bayes)
