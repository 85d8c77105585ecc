"""Metrics: distances of samples from known densities; accuracy, confusion matrices and two
accuracies compared example by example."""
from minigan.metrics.classification import accuracy, confusion_matrix, paired_accuracy, predict
from minigan.metrics.conditional import ConditionalMixtureMetrics, gaussian_kl
from minigan.metrics.density import (
    COVERAGE_RADIUS,
    MODE_RADIUS,
    MODE_SHARE,
    MixtureMetrics,
    mode_scores,
)

__all__ = ["COVERAGE_RADIUS", "ConditionalMixtureMetrics", "MODE_RADIUS", "MODE_SHARE",
           "MixtureMetrics", "accuracy", "confusion_matrix", "gaussian_kl", "mode_scores",
           "paired_accuracy", "predict"]
