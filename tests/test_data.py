"""IDX files, the Fashion-MNIST / MNIST loaders, image folders and the minibatch loader."""
import gzip
import os

import numpy as np
import pytest

from minigan.data import (
    ChecksumError,
    DataLoader,
    IDXError,
    load_fashion_mnist,
    load_image_folder,
    load_mnist,
    read_idx,
    to_symmetric,
    to_unit,
    write_idx,
)
from minigan.data.mnist import DEBIAN_ROOT, FILES


def write_tiny_mnist(folder, n_train=300, n_test=100, seed=0, compress=True):
    """A tiny MNIST-layout dataset whose class is readable from the image (a bright band)."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k:2 * k + 3] = 250
        prefix = "train" if split == "train" else "t10k"
        ext = ".gz" if compress else ""
        write_idx(images, os.path.join(folder, f"{prefix}-images-idx3-ubyte{ext}"))
        write_idx(labels, os.path.join(folder, f"{prefix}-labels-idx1-ubyte{ext}"))
    return folder


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    a = (np.random.default_rng(0).standard_normal((4, 3, 2)) * 40).astype(dtype)
    write_idx(a, tmp_path / name)
    b = read_idx(tmp_path / name)
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_truncated_wrong_magic_and_corrupt_files_each_have_their_own_error(tmp_path):
    write_idx(np.zeros((10, 28, 28), np.uint8), tmp_path / "ok")
    raw = (tmp_path / "ok").read_bytes()
    (tmp_path / "short").write_bytes(raw[:-5])
    with pytest.raises(IDXError, match=r"shape \(10, 28, 28\).*truncated or padded"):
        read_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(IDXError, match="not an IDX file"):
        read_idx(tmp_path / "magic")
    (tmp_path / "type").write_bytes(raw[:2] + b"\x42" + raw[3:])
    with pytest.raises(IDXError, match="type code 0x42"):
        read_idx(tmp_path / "type")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(IDXError, match="corrupt gzip"):
        read_idx(tmp_path / "bad.gz")
    damaged = bytearray(gzip.compress(raw))         # the deflate stream overwritten inside
    damaged[12:20] = b"\xff" * 8
    (tmp_path / "damaged.gz").write_bytes(bytes(damaged))
    with pytest.raises(IDXError, match=r"damaged\.gz: corrupt gzip data, the file is damaged"):
        read_idx(tmp_path / "damaged.gz")
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent")


def test_a_damaged_gzip_label_file_is_named_in_one_line_by_the_dataset_loader(tmp_path):
    write_tiny_mnist(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    damaged = bytearray(path.read_bytes())
    damaged[12:20] = b"\x00" * 8
    path.write_bytes(bytes(damaged))
    with pytest.raises(IDXError, match=r"t10k-labels-idx1-ubyte\.gz: corrupt gzip data"):
        load_fashion_mnist(str(tmp_path), verify=False)


def test_fashion_mnist_checksums_catch_other_content(tmp_path):
    write_tiny_mnist(tmp_path)
    with pytest.raises(ChecksumError, match="SHA-256"):
        load_fashion_mnist(str(tmp_path))
    d = load_fashion_mnist(str(tmp_path), verify=False)
    assert d.train_images.shape == (300, 28, 28) and d.train_labels.dtype == np.int64


def test_missing_files_say_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install -y dataset-fashion-mnist"):
        load_fashion_mnist(str(tmp_path))


def test_mnist_loader_reads_raw_and_gz_and_checks_pairs(tmp_path):
    write_tiny_mnist(tmp_path / "raw", compress=False)
    d = load_mnist(str(tmp_path / "raw"))
    assert d.test_images.shape == (100, 28, 28) and len(d.classes) == 10
    write_tiny_mnist(tmp_path / "bad")
    write_idx(np.zeros(7, np.uint8), tmp_path / "bad" / (FILES["test_labels"] + ".gz"))
    with pytest.raises(IDXError, match="do not pair up"):
        load_mnist(str(tmp_path / "bad"))


@pytest.mark.skipif(not os.path.exists(DEBIAN_ROOT),
                    reason="Fashion-MNIST is not installed: apt-get install -y "
                           "dataset-fashion-mnist")
def test_the_real_fashion_mnist_loads_and_verifies():
    d = load_fashion_mnist(DEBIAN_ROOT)
    assert d.train_images.shape == (60000, 28, 28) and d.test_images.shape == (10000, 28, 28)
    assert np.bincount(d.train_labels).tolist() == [6000] * 10
    assert d.classes[0] == "T-shirt/top"


def test_loader_covers_every_example_once_per_epoch_in_a_seeded_order():
    x = np.arange(103)
    y = -np.arange(103)
    loader = DataLoader(x, y, batch_size=10, generator=np.random.default_rng(4))
    seen = []
    for bx, by in loader:
        np.testing.assert_array_equal(by, -bx)
        seen.append(bx)
    assert len(loader) == 11 and sorted(np.concatenate(seen).tolist()) == list(range(103))
    again = [b for b, _ in DataLoader(x, y, batch_size=10, generator=np.random.default_rng(4))]
    assert all(np.array_equal(a, b) for a, b in zip(seen, again))
    second_epoch = [b for b, _ in loader]
    assert not all(np.array_equal(a, b) for a, b in zip(seen, second_epoch))
    dropped = DataLoader(x, batch_size=10, drop_last=True, shuffle=False)
    assert len(dropped) == 10 and all(len(b) == 10 for b in dropped)
    with pytest.raises(ValueError, match="array 1 has 3"):
        DataLoader(x, np.arange(3))


def test_transforms():
    px = np.array([0, 255], dtype=np.uint8)
    np.testing.assert_allclose(to_unit(px), [0.0, 1.0])
    np.testing.assert_allclose(to_symmetric(px), [-1.0, 1.0])
    assert to_unit(px).dtype == np.float32


def test_image_folder_is_centre_cropped_resized_and_scaled(tmp_path):
    from PIL import Image
    wide = np.zeros((40, 80, 3), np.uint8)
    wide[:, 20:60] = 255                      # the centre square is white, the sides black
    Image.fromarray(wide).save(tmp_path / "a.png")
    Image.fromarray(np.full((30, 30, 3), 0, np.uint8)).save(tmp_path / "b.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    x = load_image_folder(str(tmp_path), size=16)
    assert x.shape == (2, 3, 16, 16) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], 1.0, atol=1e-6)        # only the white centre survives
    assert x[1].max() <= -0.95
    os.makedirs(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no .jpg"):
        load_image_folder(str(tmp_path / "empty"))


# --- every option of the data functions changes what they do ---------------------------------

def test_write_idx_compress_overrides_the_file_name(tmp_path):
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    write_idx(a, tmp_path / "plain.gz", compress=False)
    write_idx(a, tmp_path / "packed", compress=True)
    assert (tmp_path / "plain.gz").read_bytes()[:3] == b"\x00\x00\x08"
    assert (tmp_path / "packed").read_bytes()[:2] == b"\x1f\x8b"        # gzip's magic
    np.testing.assert_array_equal(read_idx(tmp_path / "packed"), a)


def test_idx_dataset_takes_class_names_and_names_itself_in_errors(tmp_path):
    from minigan.data.mnist import load_idx_dataset
    write_tiny_mnist(tmp_path)
    d = load_idx_dataset(str(tmp_path), classes="abcdefghij")
    assert d.classes == tuple("abcdefghij")
    with pytest.raises(FileNotFoundError, match="my letters not found"):
        load_idx_dataset(str(tmp_path / "absent"), name="my letters")


def test_fashion_mnist_root_comes_from_the_argument_or_the_environment(tmp_path, monkeypatch):
    write_tiny_mnist(tmp_path)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path))
    assert load_fashion_mnist(verify=False).test_images.shape == (100, 28, 28)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError):
        load_fashion_mnist(verify=False)
    assert load_fashion_mnist(str(tmp_path), verify=False).train_images.shape[0] == 300


def test_loader_without_shuffle_keeps_order_and_applies_the_transform():
    x = np.arange(7)
    batches = list(DataLoader(x, batch_size=3, shuffle=False, transform=lambda b: b * 10))
    assert [b.tolist() for b in batches] == [[0, 10, 20], [30, 40, 50], [60]]
    shuffled = np.concatenate(list(DataLoader(x, batch_size=3,
                                              generator=np.random.default_rng(0))))
    assert shuffled.tolist() != list(range(7)) and sorted(shuffled.tolist()) == list(range(7))


def test_image_folder_limit_takes_the_first_files_by_name(tmp_path):
    from PIL import Image
    for i, v in enumerate((0, 128, 255)):
        Image.fromarray(np.full((8, 8, 3), v, np.uint8)).save(tmp_path / f"{i}.png")
    x = load_image_folder(str(tmp_path), size=4, limit=2)
    assert x.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(x[:, 0, 0, 0], [-1.0, 128 / 127.5 - 1], atol=1e-6)
