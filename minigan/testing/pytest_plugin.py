"""An opt-in pytest plugin: the ``device`` fixture runs a test once on each device, skipping
(with the reason) those this machine lacks.

    # conftest.py
    pytest_plugins = ["minigan.testing.pytest_plugin"]

    def test_my_op(device):
        check_op(my_op, cases, devices=(device,))

The devices are "cpu" and "cuda", or the list in the environment variable MINIGAN_DEVICES
(comma-separated names of ``minigan.device``).
"""
import os

import pytest

import minigan as mg


def _devices():
    return [d.strip() for d in os.environ.get("MINIGAN_DEVICES", "cpu,cuda").split(",")
            if d.strip()]


def _missing(name):
    """Why ``name`` cannot run here, or None."""
    try:
        mg.device(name)
    except (ValueError, TypeError, RuntimeError, ImportError) as exc:
        return str(exc)
    return None


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", [
            pytest.param(d, marks=pytest.mark.skipif(_missing(d) is not None,
                                                     reason=f"no {d} here: {_missing(d)}"))
            for d in _devices()])
