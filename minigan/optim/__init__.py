"""minigan.optim: SGD and Adam, updating parameters in place (FlatAdam: Adam over one buffer,
for small models), and learning-rate schedules."""
from minigan.optim import lr_scheduler
from minigan.optim.adam import Adam
from minigan.optim.flat import FlatAdam
from minigan.optim.optimizer import Optimizer
from minigan.optim.sgd import SGD

__all__ = ["SGD", "Adam", "FlatAdam", "Optimizer", "lr_scheduler"]
