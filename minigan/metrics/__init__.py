"""Metrics: distances of samples from known densities (more to come: FID, accuracy)."""
from minigan.metrics.density import COVERAGE_RADIUS, MixtureMetrics

__all__ = ["COVERAGE_RADIUS", "MixtureMetrics"]
