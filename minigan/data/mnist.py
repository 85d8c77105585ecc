"""MNIST-format datasets from local IDX files: Fashion-MNIST (Debian's package) and MNIST.

Nothing is downloaded. Fashion-MNIST's content is verified by SHA-256 of the decompressed
bytes (Debian recompressed the .gz files, so the digests of the original archives would not
match: the content is what is checked, not the wrapping).
"""
import hashlib
import os
from dataclasses import dataclass

import numpy as np

from minigan.data.idx import IDXError, parse_idx, read_bytes

DEBIAN_ROOT = "/usr/share/datasets/fashion-mnist"
FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
FASHION_SHA256 = {
    "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
INSTALL_HINT = ("install it with `apt-get install -y dataset-fashion-mnist` (files in "
                f"{DEBIAN_ROOT}), or point MINIGAN_DATA (or root=) at a folder holding "
                + ", ".join(f"{n}.gz" for n in FILES.values()))


class ChecksumError(IDXError):
    """A file whose content is not the expected dataset."""


@dataclass
class Dataset:
    """Images (N, H, W) uint8 and labels (N,) int64 of both splits, and the class names."""
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple


def _find(root, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(root, name)
        if os.path.exists(path):
            return path
    return None


def load_idx_dataset(root, checksums=None, classes=None, name="dataset"):
    """The four MNIST-layout IDX files under ``root``, checked for consistency."""
    paths = {k: _find(root, stem) for k, stem in FILES.items()}
    missing = [FILES[k] for k, p in paths.items() if p is None]
    if missing:
        raise FileNotFoundError(f"{name} not found in {root!r} (missing {', '.join(missing)}): "
                                + INSTALL_HINT)
    arrays = {}
    for key, path in paths.items():
        raw = read_bytes(path)
        if checksums is not None:
            digest = hashlib.sha256(raw).hexdigest()
            if digest != checksums[key]:
                raise ChecksumError(f"{path}: content SHA-256 {digest[:16]}... does not match "
                                    f"{name}'s {checksums[key][:16]}...; the file is corrupt "
                                    "or another dataset")
        arrays[key] = parse_idx(raw, path)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise IDXError(f"{name} {split}: images {images.shape} and labels {labels.shape} "
                           "do not pair up as (N, H, W) and (N,)")
        if len(images) == 0:
            raise IDXError(f"{name} {split}: the {split} split has no images")
        arrays[f"{split}_labels"] = labels.astype(np.int64)
    n_classes = int(max(arrays["train_labels"].max(), arrays["test_labels"].max())) + 1
    classes = tuple(classes) if classes else tuple(str(i) for i in range(n_classes))
    return Dataset(**arrays, classes=classes)


def load_fashion_mnist(root=None, verify=True):
    """Fashion-MNIST: 60k training and 10k test 28x28 images of 10 clothing classes.

    root: default ``$MINIGAN_DATA`` or /usr/share/datasets/fashion-mnist.
    """
    root = root or os.environ.get("MINIGAN_DATA") or DEBIAN_ROOT
    return load_idx_dataset(root, FASHION_SHA256 if verify else None, FASHION_CLASSES,
                            "Fashion-MNIST")


def load_mnist(root):
    """MNIST digits from a folder you supply (same files and checks, no digests known here)."""
    return load_idx_dataset(root, None, tuple(str(i) for i in range(10)), "MNIST")
