"""Scores for generated images, by a judge classifier (thesis 4.2.2 and 5.1.2).

- FID_cnn: the Fréchet distance between Gaussians fitted to the judge's penultimate features
  (``ThesisCNN.features``) of generated and of real images (Heusel et al. 2017, with the
  thesis's CNN in place of Inception):
  ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2)``.
  Two samples of the same images never score 0 (the estimates differ), so report it beside its
  floor: the distance between two real samples of the same size.
- class proportions: the share of generated images the judge puts in each class (a generator
  that drops a garment type shows a 0 there).
- GAN-test accuracy: the judge's accuracy on conditional samples against the labels they were
  made for (Shmelkov et al. 2018).
"""
import numpy as np

import minigan as mg


def feature_stats(features):
    """(mean, covariance) of (n, d) features, in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must be (n >= 2, d), got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def _psd_sqrt(s):
    """The symmetric square root of a positive semi-definite matrix (negative round-off
    eigenvalues clipped to 0, so a singular covariance is fine)."""
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, cov1, mu2, cov2):
    """The Fréchet (2-Wasserstein) distance squared between N(mu1, cov1) and N(mu2, cov2).
    tr((S1 S2)^1/2) is computed as the trace of the root of the symmetric PSD matrix
    S1^1/2 S2 S1^1/2 (same eigenvalues), which stays real and stable when either covariance
    is singular (fewer samples than features, or one image repeated)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    value = float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * cross)
    return max(value, 0.0)


def judge_inputs(images, value_range=(-1.0, 1.0)):
    """Generated images (N, 1, 28, 28) in ``value_range`` -> the judge's [0, 1] inputs."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
        raise ValueError(f"images must be (N, 1, 28, 28), got {x.shape}")
    lo, hi = value_range
    return (x - lo) / (hi - lo)


def judge_outputs(judge, images, batch_size=500, value_range=(-1.0, 1.0)):
    """(features (N, hidden), predicted classes (N,)) of the judge on ``images``."""
    x = judge_inputs(images, value_range)
    feats, preds = [], []
    was_training = judge.training
    judge.eval()
    try:
        with mg.no_grad():
            for i in range(0, len(x), batch_size):
                f = judge.features(mg.tensor(x[i:i + batch_size]))
                feats.append(f.data.astype(np.float64))
                preds.append(judge.fc2(f).data.argmax(1))
    finally:
        judge.train(was_training)
    return np.concatenate(feats), np.concatenate(preds)


class ImageScorer:
    """Scores generated images against ``reference`` real images (N, 1, 28, 28) in
    ``value_range`` with the ``judge`` (a trained ThesisCNN); the reference's features are
    computed once."""

    def __init__(self, judge, reference, value_range=(-1.0, 1.0), batch_size=500):
        self.judge, self.value_range, self.batch_size = judge, value_range, batch_size
        self.n_classes = judge.fc2.weight.shape[0]
        feats, _ = judge_outputs(judge, reference, batch_size, value_range)
        self.reference = feature_stats(feats)

    def __call__(self, images, labels=None):
        """{fid, proportions (per class), and gan_test (if ``labels`` are given)}."""
        feats, preds = judge_outputs(self.judge, images, self.batch_size, self.value_range)
        out = {"fid": frechet_distance(*feature_stats(feats), *self.reference),
               "proportions": (np.bincount(preds, minlength=self.n_classes)
                               / len(preds)).tolist()}
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != preds.shape:
                raise ValueError(f"labels must be ({len(preds)},), got {labels.shape}")
            out["gan_test"] = float((preds == labels).mean())
        return out
