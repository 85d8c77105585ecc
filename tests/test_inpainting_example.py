"""examples/inpainting.py (issue 17) end to end: a tiny DCGAN trained by examples/dcgan.py
on a tiny IDX set, then inpainted; every output, the resumed search, the flags, bad input."""
import json

import numpy as np
import pytest

import minigan as mg
from minigan.experiments import dcgan as dc
from tests.examples import load_example

ex = load_example("inpainting")


@pytest.fixture(scope="module")
def gan(tiny_fashion, tmp_path_factory):
    """(checkpoint path, judge path) of a DCGAN trained for one epoch of 8 turns."""
    folder = tmp_path_factory.mktemp("gan")
    saved = dc.EVAL_SAMPLES
    dc.EVAL_SAMPLES = 100
    try:
        load_example("dcgan").main(["--data", tiny_fashion, "--judge", str(folder / "judge.npz"),
                                    "--batch-size", "32", "--epochs", "1", "--no-progress",
                                    "--out", str(folder / "dcgan")])
    finally:
        dc.EVAL_SAMPLES = saved
    return str(folder / "dcgan" / "checkpoint.npz"), str(folder / "judge.npz")


def _flags(tiny_fashion, gan, out, *more):
    return ["--checkpoint", gan[0], "--judge", gan[1], "--data", tiny_fashion, "--n-images",
            "12", "--steps", "3", "--candidates", "4", "--keep", "2", "--batch", "8",
            "--no-progress", "--out", str(out), *more]


def test_the_example_runs_end_to_end(tiny_fashion, gan, tmp_path):
    record = ex.main(_flags(tiny_fashion, gan, tmp_path))
    names = {"inpainting.png", "worst.png", "search.png", "results.md", "metrics.json",
             "search-mask.npz", "search-importance.npz"}
    assert names == {p.name for p in tmp_path.iterdir()}
    saved = json.loads((tmp_path / "metrics.json").read_text())
    gan_rows = [f"GAN, {w}, {b}" for w in ("mask", "importance") for b in ("paste", "poisson")]
    assert list(saved["rows"]) == ["original", "masked (hole grey)", "mean fill",
                                   "nearest neighbour", *gan_rows]
    for name in ["mean fill", "nearest neighbour", *gan_rows]:
        r = saved["rows"][name]
        assert 0 < r["psnr"] < 100 and -1 <= r["ssim"] <= 1 and 0 <= r["accuracy"] <= 1
    nn_ = saved["rows"]["nearest neighbour"]["accuracy"]
    for name in gan_rows:          # each variant against the neighbour, image by image
        c, r = saved["rows"][name]["vs_nearest_neighbour"], saved["rows"][name]
        assert c["accuracy_a"] == nn_ and c["accuracy_b"] == r["accuracy"]
        assert abs(c["difference"] - (c["only_b"] - c["only_a"]) / 12) < 1e-12
        assert 0 < c["p_value"] <= 1
    assert all("McNemar p = " in v for v in saved["verdicts"][:4])
    assert saved["best"] in gan_rows and len(saved["images"]) == 12
    assert len(saved["verdicts"]) == 4 + 2 + 2
    assert "| nearest neighbour |" in (tmp_path / "results.md").read_text()
    assert record["search_seconds"].keys() == {"mask", "importance"}


def test_a_rerun_resumes_the_stored_search(tiny_fashion, gan, tmp_path, capsys):
    flags = _flags(tiny_fashion, gan, tmp_path, "--weighting", "mask", "--blend", "poisson")
    first = ex.main(flags)
    stored = mg.load(tmp_path / "search-mask.npz")
    assert len(stored["chunks"]) == 3                         # 12 images, 4 a chunk
    del stored["chunks"]["2"]                                 # as if stopped in chunk 2
    mg.save(stored, tmp_path / "search-mask.npz")
    capsys.readouterr()
    again = ex.main(flags)
    assert "resuming, 2 of 3 chunks" in capsys.readouterr().out
    assert again["rows"] == first["rows"]
    kept = mg.load(tmp_path / "search-mask.npz")["chunks"]   # the search time of every chunk,
    assert again["search_seconds"]["mask"] == sum(float(c["seconds"]) for c in kept.values())
    assert float(kept["0"]["seconds"]) == float(stored["chunks"]["0"]["seconds"]) > 0
    again = ex.main(flags[:-2] + ["--seed", "1", "--out", str(tmp_path)])   # new settings
    assert again["rows"] != first["rows"]


@pytest.mark.parametrize("flag, value", [
    ("--mask", "left"), ("--steps", "6"), ("--candidates", "3"), ("--keep", "1"),
    ("--lr", "0.5"), ("--lam", "1"), ("--seed", "2"), ("--n-images", "7")])
def test_every_search_flag_changes_the_result(tiny_fashion, gan, tmp_path, flag, value):
    base = ex.main(_flags(tiny_fashion, gan, tmp_path / "a", "--weighting", "mask",
                          "--blend", "paste"))
    other = ex.main(_flags(tiny_fashion, gan, tmp_path / "b", "--weighting", "mask",
                           "--blend", "paste", flag, value))
    if flag == "--keep":
        # one or two refined candidates may well end at the same winner (they do with
        # OpenBLAS's SkylakeX kernels); the search's chunks, batch // keep images each, show
        # that the flag reached it
        def chunks(out):
            return len(mg.load(out / "search-mask.npz")["chunks"])
        assert chunks(tmp_path / "b") != chunks(tmp_path / "a")
        return
    assert other["rows"]["GAN, mask, paste"] != base["rows"]["GAN, mask, paste"]


def test_device_searches_there_with_the_cpus_numbers(tiny_fashion, gan, tmp_path):
    # --device: G and D on the strict stand-in for CuPy (tests/strict_xp.py)
    flags = ("--weighting", "mask", "--blend", "paste")
    cpu = ex.main(_flags(tiny_fashion, gan, tmp_path / "a", *flags))
    there = ex.main(_flags(tiny_fashion, gan, tmp_path / "b", *flags, "--device", "strict"))
    for metric, value in cpu["rows"]["GAN, mask, paste"].items():
        assert there["rows"]["GAN, mask, paste"][metric] == pytest.approx(value, rel=1e-3)


def test_weighting_and_blend_choose_the_variants(tiny_fashion, gan, tmp_path):
    record = ex.main(_flags(tiny_fashion, gan, tmp_path, "--weighting", "importance",
                            "--blend", "poisson"))
    assert [n for n in record["rows"] if n.startswith("GAN")] == ["GAN, importance, poisson"]
    batch = ex.main(_flags(tiny_fashion, gan, tmp_path / "b", "--weighting", "importance",
                           "--blend", "poisson", "--batch", "24"))
    np.testing.assert_allclose(batch["rows"]["GAN, importance, poisson"]["psnr"],
                               record["rows"]["GAN, importance, poisson"]["psnr"], rtol=1e-4)
    chunks = {p: len(mg.load(p / "search-importance.npz")["chunks"]) for p in
              (tmp_path, tmp_path / "b")}
    assert chunks == {tmp_path: 3, tmp_path / "b": 1}      # 12 images, 4 or 12 a batch


@pytest.mark.parametrize("flags, message", [
    (["--steps", "-1"], "--steps must be >= 0"),
    (["--keep", "5"], "--keep must be in"),
    (["--lr", "nan"], "--lr must be finite"),
    (["--weighting", "distance"], "choose from mask, importance"),
    (["--blend", ""], "choose from paste, poisson"),
    (["--mask", "ring"], "invalid choice"),
    (["--n-images", "0"], "--n-images must be >= 1"),
    (["--device", "tpu"], "--device: unknown device 'tpu'"),
])
def test_bad_flags_get_one_line(tiny_fashion, gan, tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exc:
        ex.main(_flags(tiny_fashion, gan, tmp_path) + flags)
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_bad_checkpoints_get_one_line(tiny_fashion, gan, tmp_path, capsys):
    conditional, other = tmp_path / "conditional.npz", tmp_path / "other.npz"
    folder = tmp_path / "folder.npz"
    mg.save({"config": json.dumps({"latent_dim": 100, "conditional": True})}, conditional)
    mg.save({"config": json.dumps({"latent_dim": 100, "data_folder": "faces"})}, folder)
    mg.save({"config": json.dumps({"latent_dim": 100}), "G": {"0.weight": np.zeros((2, 2))},
             "D": {}}, other)
    cases = [(str(tmp_path / "none.npz"), "no such file (train a DCGAN first"),
             (gan[1], "not a DCGAN run's checkpoint"),
             (str(conditional), "a conditional DCGAN; inpainting needs the unconditional"),
             (str(other), "not the DCGAN of examples/dcgan.py"),
             (str(folder), "a DCGAN of an image folder")]
    for path, message in cases:
        flags = _flags(tiny_fashion, gan, tmp_path / "out")
        flags[1] = path
        with pytest.raises(SystemExit) as exc:
            ex.main(flags)
        assert exc.value.code == 2 and message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ex.main(_flags(tiny_fashion, gan, tmp_path / "out", "--n-images", "500"))
    assert "more than the 120 test images" in capsys.readouterr().err
