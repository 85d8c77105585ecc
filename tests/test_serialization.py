"""Checkpoints: round trip, bit-exact resume, atomic writes, clear errors."""
import os

import numpy as np
import pytest

import minigan as mg
from minigan import functional as F


def _setup(seed=0):
    mg.manual_seed(seed)
    net = mg.nn.Sequential(mg.nn.Linear(3, 8), mg.nn.ReLU(), mg.nn.BatchNorm1d(8),
                           mg.nn.Linear(8, 1))
    opt = mg.optim.Adam(net.parameters(), lr=0.01, betas=(0.5, 0.999))
    return net, opt


def _train(net, opt, steps, rng):
    for _ in range(steps):
        x = mg.tensor(rng.standard_normal((16, 3)).astype(np.float32))
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(net(x), np.ones((16, 1))).backward()
        opt.step()


def test_training_resumes_bit_exactly(tmp_path):
    net, opt = _setup()
    rng = np.random.default_rng(5)
    _train(net, opt, 5, rng)
    mg.save({"net": net.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.npz")
    state_after_5 = rng.bit_generator.state
    _train(net, opt, 5, rng)
    straight = net.state_dict()

    net2, opt2 = _setup(seed=99)                    # different weights before loading
    ck = mg.load(tmp_path / "ck.npz")
    net2.load_state_dict(ck["net"])
    opt2.load_state_dict(ck["opt"])
    rng2 = np.random.default_rng()
    rng2.bit_generator.state = state_after_5
    _train(net2, opt2, 5, rng2)
    for k, v in straight.items():
        np.testing.assert_array_equal(net2.state_dict()[k], v)


def test_round_trip_keeps_nesting_numbers_and_strings(tmp_path):
    state = {"a": {"b": np.arange(3), "c": {}}, "lr": 0.5, "name": "G", "n": 7}
    mg.save(state, tmp_path / "s.npz")
    back = mg.load(tmp_path / "s.npz")
    np.testing.assert_array_equal(back["a"]["b"], np.arange(3))
    assert back["a"]["c"] == {} and float(back["lr"]) == 0.5 and back["name"] == "G"
    assert int(back["n"]) == 7


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "ck.npz"
    mg.save({"x": np.ones(2)}, path)
    with pytest.raises(TypeError, match="not an array"):
        mg.save({"x": object()}, path)
    np.testing.assert_array_equal(mg.load(path)["x"], np.ones(2))
    assert os.listdir(tmp_path) == ["ck.npz"]


def test_loading_wrong_shapes_or_missing_files_is_a_clear_error(tmp_path):
    net, _ = _setup()
    mg.save({"net": {"0.weight": np.zeros((2, 2))}}, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match=r"0.weight.*\(2, 2\).*\(8, 3\)"):
        net.load_state_dict(mg.load(tmp_path / "bad.npz")["net"])
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        mg.load(tmp_path / "nothing.npz")
    with pytest.raises(TypeError, match="not a string"):
        mg.save({3: 1}, tmp_path / "x.npz")


def test_files_are_read_without_pickle(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        mg.load(path)


def test_any_string_is_a_key(tmp_path):
    keys = ["allow_pickle", "file", "__empty__", "a/b", "", "%empty", "=x", "ü ñ", "%format"]
    state = {k: {k: np.array([i])} for i, k in enumerate(keys)}
    state["nested"] = {"file": {}, "allow_pickle": "yes"}
    mg.save(state, tmp_path / "k.npz")
    back = mg.load(tmp_path / "k.npz")
    assert set(back) == set(keys) | {"nested"}
    for i, k in enumerate(keys):
        assert back[k][k].tolist() == [i]
    assert back["nested"] == {"file": {}, "allow_pickle": "yes"}


def test_checkpoints_of_the_first_format_still_load(tmp_path):
    np.savez(tmp_path / "old.npz", **{"G/0.weight": np.ones(2), "opt/state/__empty__": np.zeros(0),
                                      "lr": np.array(0.5)})
    back = mg.load(tmp_path / "old.npz")
    assert back["G"]["0.weight"].tolist() == [1, 1] and back["opt"]["state"] == {}
    assert float(back["lr"]) == 0.5


def test_anything_but_a_checkpoint_is_refused_with_one_message_naming_it(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    (tmp_path / "t.txt").write_text("hello")
    mg.save({"x": np.arange(1000)}, tmp_path / "ok.npz")
    raw = bytearray((tmp_path / "ok.npz").read_bytes())
    raw[60:90] = b"\xff" * 30                               # inside the first entry
    (tmp_path / "bad.npz").write_bytes(bytes(raw))
    (tmp_path / "cut.npz").write_bytes(bytes(raw[:100]))
    (tmp_path / "dir").mkdir()
    for name, message in (("a.npy", "single .npy array"), ("t.txt", "not an .npz"),
                          ("dir", "a folder"),
                          ("bad.npz", "damaged checkpoint"), ("cut.npz", "damaged checkpoint")):
        with pytest.raises(ValueError, match=message) as exc:
            mg.load(tmp_path / name)
        assert name in str(exc.value) and "pickle" not in str(exc.value)


def test_checkpoints_get_the_usual_file_mode(tmp_path):
    mask = os.umask(0o022)
    try:
        mg.save({"x": 1}, tmp_path / "m.npz")
    finally:
        os.umask(mask)
    assert (os.stat(tmp_path / "m.npz").st_mode & 0o777) == 0o644
