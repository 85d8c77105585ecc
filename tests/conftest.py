import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "ci", max_examples=20, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("MINIGAN_HYPOTHESIS",
                                     "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch (the test oracle) is not installed: "
                               "pip install 'minigan[test]'")


@pytest.fixture(scope="session")
def tiny_fashion(tmp_path_factory):
    """A tiny Fashion-MNIST-shaped IDX folder (256 training, 120 test images of 10 classes):
    noise, and a bright bar whose height is the class."""
    from minigan.data.idx import write_idx
    root = tmp_path_factory.mktemp("tiny-fashion")
    rng = np.random.default_rng(0)
    for split, n in (("train", 256), ("t10k", 120)):
        y = np.arange(n) % 10
        x = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for k in range(10):
            x[y == k, 2 * k:2 * k + 6, 4:24] = 250
        write_idx(x, root / f"{split}-images-idx3-ubyte.gz")
        write_idx(y.astype(np.uint8), root / f"{split}-labels-idx1-ubyte.gz")
    return str(root)


def _gpu_missing():
    """Why the GPU cases cannot run here (None when CuPy and a CUDA device are present); the
    strict stand-in for CuPy (tests/strict_xp.py) is registered as the device "strict"."""
    from minigan import backend
    from tests.strict_xp import StrictArray, strict
    if "strict" not in backend.registered_devices():
        backend.register_device("strict", strict, StrictArray, strict.asarray,
                                strict.asnumpy)
    try:
        backend.device("cuda")
    except RuntimeError as exc:
        return str(exc)
    return None


GPU_MISSING = _gpu_missing()
# the devices every device-parametrised test runs on: the CPU, the strict stand-in, and the
# GPU (skipped, with the reason, where there is none)
OTHER_DEVICES = ["strict", pytest.param("cuda", marks=pytest.mark.skipif(
    GPU_MISSING is not None, reason=f"no GPU here: {GPU_MISSING}"))]
DEVICES = ["cpu", *OTHER_DEVICES]


@pytest.fixture(params=DEVICES)
def device(request):
    """Each device; a test that takes it runs once on each (one source, every device)."""
    return request.param
