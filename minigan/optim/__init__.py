"""minigan.optim: SGD and Adam, updating parameters in place."""
from minigan.optim import lr_scheduler
from minigan.optim.adam import Adam
from minigan.optim.optimizer import Optimizer
from minigan.optim.sgd import SGD

__all__ = ["SGD", "Adam", "Optimizer", "lr_scheduler"]
