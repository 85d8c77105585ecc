"""Gaussian mixtures in 2-D with exact densities, exact bin masses, and the thesis's presets.

The probability mass of a rectangle under one bivariate normal is the integral over x of the
x-marginal density times the conditional probability of the y-interval, which is a difference
of normal CDFs (exact, via erf). The outer integral is Gauss-Legendre quadrature with
``nodes`` points per bin; the integrand is smooth, and with the default 12 nodes on bins of
width 0.5 and the thesis's covariances the masses agree with a 48-node evaluation to below
1e-13 (tests/test_mixture.py measures it).
"""
import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def normal_cdf(z):
    """Standard normal CDF, elementwise, exact to double precision (math.erf)."""
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * (1.0 + np.asarray(_erf(z / math.sqrt(2.0)), dtype=np.float64))


class GaussianMixture:
    """A mixture of K bivariate normals.

    weights: (K,) summing to 1; means: (K, 2); covariances: (K, 2, 2) symmetric positive
    definite. All arrays are float64.
    """

    def __init__(self, weights, means, covariances):
        w = np.asarray(weights, dtype=np.float64)
        mu = np.asarray(means, dtype=np.float64)
        cov = np.asarray(covariances, dtype=np.float64)
        k = w.shape[0] if w.ndim == 1 else -1
        if w.ndim != 1 or mu.shape != (k, 2) or cov.shape != (k, 2, 2):
            raise ValueError(f"GaussianMixture needs weights (K,), means (K, 2), covariances "
                             f"(K, 2, 2); got {w.shape}, {mu.shape}, {cov.shape}")
        if (w < 0).any() or abs(w.sum() - 1) > 1e-9:
            raise ValueError(f"mixture weights must be non-negative and sum to 1, got {w}")
        if not np.allclose(cov, cov.transpose(0, 2, 1)):
            raise ValueError("covariances must be symmetric")
        det = cov[:, 0, 0] * cov[:, 1, 1] - cov[:, 0, 1] ** 2
        if (cov[:, 0, 0] <= 0).any() or (det <= 0).any():
            bad = int(np.argmax((cov[:, 0, 0] <= 0) | (det <= 0)))
            raise ValueError(f"covariance {bad} is not positive definite: {cov[bad].tolist()}")
        self.weights, self.means, self.covariances = w, mu, cov
        self.precisions = np.linalg.inv(cov)
        self._log_norm = -np.log(2 * np.pi) - 0.5 * np.log(det)
        self._chol = np.linalg.cholesky(cov)
        self._chol_parts = self._chol[:, 0, 0], self._chol[:, 1, 0], self._chol[:, 1, 1]
        self._cdf = np.cumsum(w) / np.cumsum(w)[-1]

    @property
    def n_components(self):
        return len(self.weights)

    def sample(self, n, rng):
        """n points and their component labels: ((n, 2) float64, (n,) int64)."""
        if n < 0:
            raise ValueError(f"cannot draw {n} samples")
        # the draws of rng.choice(K, n, p=weights), without its per-call checks of p
        labels = self._cdf.searchsorted(rng.random(n), side="right")
        z = rng.standard_normal((n, 2))
        # x = mean + L z with L the lower Cholesky factor, written out per coordinate
        # (einsum over (n, 2, 2) factors cost twice as much; the same numbers)
        (l00, l10, l11), x = self._chol_parts, self.means[labels]
        x[:, 0] += l00[labels] * z[:, 0]
        x[:, 1] += l10[labels] * z[:, 0] + l11[labels] * z[:, 1]
        return x, labels

    def mahalanobis_sq(self, x):
        """Squared Mahalanobis distance of each point to each component: (n, 2) -> (n, K),
        d^T P d = P00 dx^2 + 2 P01 dx dy + P11 dy^2 written out (an einsum over (n, K, 2)
        took four times as long, and the metrics need it at every evaluation)."""
        x = np.asarray(x, dtype=np.float64)
        dx, dy = x[:, :1] - self.means[:, 0], x[:, 1:] - self.means[:, 1]
        p = self.precisions
        return p[:, 0, 0] * dx * dx + 2 * p[:, 0, 1] * dx * dy + p[:, 1, 1] * dy * dy

    def component_log_prob(self, x, maha_sq=None):
        """log N(x; mu_k, Sigma_k) for each component: (n, 2) -> (n, K) (``maha_sq``: the
        squared distances, if already computed)."""
        maha_sq = self.mahalanobis_sq(x) if maha_sq is None else maha_sq
        return self._log_norm[None] - 0.5 * maha_sq

    def mahalanobis(self, x):
        """Mahalanobis distance of each point to each component: (n, K)."""
        return np.sqrt(self.mahalanobis_sq(x))

    def joint_log_prob(self, x, maha_sq=None):
        """log(w_k N(x; mu_k, Sigma_k)): (n, 2) -> (n, K)."""
        return self.component_log_prob(x, maha_sq) + np.log(self.weights)[None]

    def log_prob(self, x, maha_sq=None):
        """log of the mixture density at each point: (n, 2) -> (n,)."""
        a = self.joint_log_prob(x, maha_sq)
        m = a.max(1, keepdims=True)
        return (m + np.log(np.exp(a - m).sum(1, keepdims=True)))[:, 0]

    def posterior(self, x):
        """P(component k | x): (n, K)."""
        a = self.joint_log_prob(x)
        a -= a.max(1, keepdims=True)
        p = np.exp(a)
        return p / p.sum(1, keepdims=True)

    def component_bin_mass(self, k, xedges, yedges, nodes=12):
        """Mass of component k in each rectangle [x_i, x_i+1) x [y_j, y_j+1): (nx, ny)."""
        xedges, yedges = np.asarray(xedges, float), np.asarray(yedges, float)
        t, w = np.polynomial.legendre.leggauss(nodes)
        lo, hi = xedges[:-1, None], xedges[1:, None]
        xs = 0.5 * (hi - lo) * t[None] + 0.5 * (hi + lo)            # (nx, nodes)
        ws = 0.5 * (hi - lo) * w[None]
        (sxx, sxy), (_, syy) = self.covariances[k]
        mx, my = self.means[k]
        marginal = np.exp(-0.5 * (xs - mx) ** 2 / sxx) / math.sqrt(2 * math.pi * sxx)
        cond_mean = my + sxy / sxx * (xs - mx)
        cond_std = math.sqrt(syy - sxy * sxy / sxx)
        cdf = normal_cdf((yedges[None, None, :] - cond_mean[..., None]) / cond_std)
        strip = np.diff(cdf, axis=-1)                                  # (nx, nodes, ny)
        return np.einsum("xq,xqy->xy", ws * marginal, strip)

    def bin_mass(self, xedges, yedges, nodes=12):
        """Mixture mass of each rectangle of the grid: (nx, ny)."""
        return sum(w * self.component_bin_mass(k, xedges, yedges, nodes)
                   for k, w in enumerate(self.weights))


def thesis_mixture():
    """The four-Gaussian mixture of the thesis's example 4.2.1."""
    return GaussianMixture(
        weights=[0.4, 0.2, 0.2, 0.2],
        means=[[0, 0], [0, 3], [-3, -3], [3, -3]],
        covariances=[[[3, 0], [0, 1]], [[2, -0.5], [-0.5, 1]], [[1.5, 1], [1, 2]],
                     [[2, -1], [-1, 1.5]]])


def ring_mixture(k=8, radius=2.0, std=0.02):
    """The literature's ring: k equal Gaussians on a circle (Metz et al. 2017 use 8, r=2)."""
    angles = 2 * np.pi * np.arange(k) / k
    means = radius * np.stack([np.cos(angles), np.sin(angles)], 1)
    return GaussianMixture(np.full(k, 1 / k), means, np.tile(np.eye(2) * std ** 2, (k, 1, 1)))


def grid_mixture(side=5, spacing=2.0, std=0.05):
    """The literature's grid: side x side equal Gaussians (25 with side 5), centred at 0."""
    c = (np.arange(side) - (side - 1) / 2) * spacing
    means = np.array([[x, y] for x in c for y in c])
    k = side * side
    return GaussianMixture(np.full(k, 1 / k), means, np.tile(np.eye(2) * std ** 2, (k, 1, 1)))


PRESETS = {"thesis": thesis_mixture, "ring": ring_mixture, "grid": grid_mixture}
