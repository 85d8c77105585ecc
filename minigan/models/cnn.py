"""The thesis's convolutional classifier (thesis 3.3.1), reusable as a judge of generated
images: ``features`` gives its penultimate (1024-d) representation."""
import numpy as np

from minigan import functional as F
from minigan import nn
from minigan.serialization import load, save


class ThesisCNN(nn.Module):
    """x: (N, 1, 28, 28) in [0, 1] -> logits (N, classes).

    conv 5x5 (16) -> ReLU -> max pool 2 -> conv 5x5 (16) -> ReLU -> max pool 2 ->
    linear 784 -> hidden (ReLU) -> linear -> classes ('same' padding as in the thesis).
    """

    def __init__(self, channels=16, hidden=1024, classes=10):
        super().__init__()
        self.config = dict(channels=channels, hidden=hidden, classes=classes)
        self.conv1 = nn.Conv2d(1, channels, 5, padding=2)
        self.conv2 = nn.Conv2d(channels, channels, 5, padding=2)
        self.fc1 = nn.Linear(channels * 7 * 7, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def features(self, x):
        """The penultimate activations: (N, hidden)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"ThesisCNN expects images (N, 1, 28, 28), got {tuple(x.shape)}")
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        # fc1 and its ReLU as one node (the numbers of relu(fc1(h)))
        return F.linear(F.flatten(h, 1), self.fc1.weight, self.fc1.bias, activation="relu")

    def forward(self, x):
        return self.fc2(self.features(x))

    def save(self, path):
        save({"config": self.config, "state": self.state_dict()}, path)

    @classmethod
    def load(cls, path):
        ck = load(path)
        model = cls(**{k: int(v) for k, v in ck["config"].items()})
        model.load_state_dict({k: np.asarray(v) for k, v in ck["state"].items()})
        return model
