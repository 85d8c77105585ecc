"""The thesis's experiments as runnable, resumable, multi-seed command-line runs: the
generic runner (``runner``) and what each experiment trains and measures."""
from minigan.experiments.runner import Experiment, History, Run

__all__ = ["Experiment", "History", "Run"]
