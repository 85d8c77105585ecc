"""Minibatches: each example exactly once per epoch, in an order drawn from a Generator."""
import numpy as np

from minigan.backend import default_generator


def to_unit(images):
    """uint8 pixels -> float32 in [0, 1]."""
    return np.asarray(images, dtype=np.float32) / 255.0


def to_symmetric(images):
    """uint8 pixels -> float32 in [-1, 1] (the range of a tanh generator)."""
    return np.asarray(images, dtype=np.float32) / 127.5 - 1.0


class DataLoader:
    """Iterate over (inputs, labels) minibatches of ``arrays`` (same first dimension).

    shuffle: a fresh permutation each epoch from ``generator`` (default minigan's);
    drop_last: skip a final smaller batch; transform: applied to the first array's batch.
    """

    def __init__(self, *arrays, batch_size=64, shuffle=True, drop_last=False, generator=None,
                 transform=None):
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        n = len(arrays[0])
        for i, a in enumerate(arrays):
            if len(a) != n:
                raise ValueError(f"DataLoader: array {i} has {len(a)} examples, array 0 has {n}")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size}")
        if n == 0:
            raise ValueError("DataLoader: the dataset has no examples")
        if drop_last and n < batch_size:
            raise ValueError(f"DataLoader: {n} examples make no full batch of {batch_size} "
                             "(drop_last=True would yield nothing); use a batch size of at "
                             f"most {n}")
        self.arrays, self.batch_size, self.n = arrays, int(batch_size), n
        self.shuffle, self.drop_last, self.transform = shuffle, drop_last, transform
        self.generator = generator

    def __len__(self):
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        rng = self.generator if self.generator is not None else default_generator()
        order = rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            batch = [a[idx] for a in self.arrays]
            if self.transform is not None:
                batch[0] = self.transform(batch[0])
            yield tuple(batch) if len(batch) > 1 else batch[0]
