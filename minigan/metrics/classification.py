"""Accuracy and the confusion matrix of a classifier, and two accuracies compared pairwise."""
import math

import numpy as np

from minigan.backend import to_host
from minigan.core import no_grad, tensor


def confusion_matrix(labels, predictions, n_classes):
    """counts[i, j] = how many examples of true class i were predicted as j."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} differ")
    return np.bincount(labels * n_classes + predictions,
                       minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def accuracy(labels, predictions):
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.size == 0:
        raise ValueError(f"accuracy needs equal non-empty shapes, got {labels.shape} and "
                         f"{predictions.shape}")
    return float((labels == predictions).mean())


def predict(model, images, batch_size=1000):
    """argmax of ``model`` over batches of ``images`` (evaluation mode, no graph)."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    out, dev = [], getattr(model, "device", "cpu")
    with no_grad():
        for i in range(0, len(images), batch_size):
            logits = model(tensor(images[i:i + batch_size], device=dev)).data
            out.append(to_host(logits.argmax(1)))
    if was_training:
        model.train()
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def paired_accuracy(labels, predictions_a, predictions_b):
    """Two classifiers (or one judge on two versions of the same images) compared example by
    example: their accuracies, the difference b - a with its standard error over the examples,
    how many examples only a / only b gets right, and McNemar's exact two-sided p-value (the
    chance of a split at least this uneven among those examples if a and b were equally good).
    A difference in accuracy counts only with a small p."""
    labels = np.asarray(labels)
    for p in (predictions_a, predictions_b):
        if np.shape(p) != labels.shape or labels.size == 0:
            raise ValueError(f"paired_accuracy needs equal non-empty shapes, got labels "
                             f"{labels.shape} and predictions {np.shape(p)}")
    a, b = np.asarray(predictions_a) == labels, np.asarray(predictions_b) == labels
    diff = b.astype(np.float64) - a
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    n, k = only_a + only_b, min(only_a, only_b)
    tail, term = 0, 1                  # sum of C(n, i) for i <= k, exact in integers
    for i in range(k + 1):
        tail, term = tail + term, term * (n - i) // (i + 1)
    return {"accuracy_a": float(a.mean()), "accuracy_b": float(b.mean()),
            "difference": float(diff.mean()),
            "standard_error": float(diff.std(ddof=1) / math.sqrt(diff.size)) if diff.size > 1
            else math.nan,
            "only_a": only_a, "only_b": only_b,
            "p_value": min(1.0, 2 * tail / 2 ** n) if n else 1.0}
