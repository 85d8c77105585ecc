"""Accuracy and the confusion matrix of a classifier."""
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
