"""CycleGAN's four-player toy: exact scores, which player each step moves, the example."""
import json
import os
import signal

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.data import thesis_mixture
from minigan.experiments.cyclegan import Scorer, mapped_mixture, spread, true_map
from minigan.gan.cycle import CycleGANTrainer
from tests.examples import load_example

ex = load_example("cyclegan_toy")
TINY = ["--hidden", "8", "--d-hidden", "8", "--no-progress"]


def _affine(A, b):
    layer = nn.Linear(2, 2)
    layer.weight.data = A.astype(np.float32)
    layer.bias.data = b.astype(np.float32)
    return layer


def test_the_true_maps_score_zero_mapping_and_cycle_error():
    A, b = true_map()
    scorer = Scorer(thesis_mixture(), A, b, seed=0)
    A_inv = np.linalg.inv(A)
    _, scores = scorer(_affine(A, b), _affine(A_inv, -A_inv @ b))
    for k in ("map_T", "map_R", "cycle_X", "cycle_Y"):
        assert scores[k] < 1e-6, (k, scores[k])             # float32 rounding only
    assert scores["hist"] < 2 * scorer.perfect()["hist"]     # T(X) is Y, exactly
    _, wrong = scorer(_affine(np.eye(2), np.zeros(2)), _affine(np.eye(2), np.zeros(2)))
    assert wrong["map_T"] > 0.1 and wrong["cycle_X"] < 1e-6   # the identity: a cycle, wrong map


def test_the_mapped_mixture_and_its_spread_are_exact():
    A, b = true_map()
    x = thesis_mixture()
    y = mapped_mixture(x, A, b)
    s = x.sample(400_000, np.random.default_rng(0))[0] @ A.T + b
    np.testing.assert_allclose(s.mean(0), y.weights @ y.means, atol=0.02)
    rms = np.sqrt(((s - s.mean(0)) ** 2).sum(1).mean())
    assert spread(y) == pytest.approx(rms, rel=0.01)


def _trainer(**kw):
    mg.manual_seed(0)
    nets = [nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, o)) for o in (2, 2, 1, 1)]
    opt_g = mg.optim.Adam(list(nets[0].parameters()) + list(nets[1].parameters()), lr=1e-2)
    opt_d = mg.optim.Adam(list(nets[2].parameters()) + list(nets[3].parameters()), lr=1e-2)
    draw = lambda shift: lambda n, r: (r.standard_normal((n, 2)) + shift).astype(  # noqa
        np.float32)
    kw.setdefault("batch_size", 16)
    return CycleGANTrainer(*nets, opt_g, opt_d, draw(0.0), draw(3.0),
                           np.random.default_rng(0), **kw)


def _snapshot(t):
    return {name: [p.data.copy() for p in getattr(t, name).parameters()]
            for name in ("T", "R", "D_X", "D_Y")}


def _moved(before, after):
    return {name for name in before
            if any(not np.array_equal(a, b) for a, b in zip(before[name], after[name]))}


@pytest.mark.parametrize("lam_adv", [1.0, 0.0])
def test_each_step_moves_only_its_players(lam_adv):
    t = _trainer(lam_adv=lam_adv)
    x, y = t.batches()
    before = _snapshot(t)
    t.d_step(x, y)
    assert _moved(before, _snapshot(t)) == {"D_X", "D_Y"}
    before = _snapshot(t)
    t.g_step(x, y)
    assert _moved(before, _snapshot(t)) == {"T", "R"}


def test_the_adversarial_weight_changes_what_T_and_R_learn():
    a, b = _trainer(lam_adv=1.0), _trainer(lam_adv=0.0)
    for t in (a, b):
        for _ in range(3):
            t.turn()
    assert not np.array_equal(a.T[0].weight.data, b.T[0].weight.data)
    assert np.isnan(b.last["adv"]) and np.isfinite(a.last["adv"])


def test_the_cycle_weight_counts():
    a, b = _trainer(lam_cyc=10.0), _trainer(lam_cyc=0.5)
    for t in (a, b):
        t.turn()
    assert a.last["cycle"] == b.last["cycle"]              # the same first batch...
    assert not np.array_equal(a.T[0].weight.data, b.T[0].weight.data)   # ...another step


@pytest.mark.parametrize("kw,message", [(dict(lam_cyc=-1.0), "lam_cyc"),
                                        (dict(lam_adv=float("inf")), "lam_adv"),
                                        (dict(batch_size=0), "batch_size")])
def test_bad_trainer_settings_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        _trainer(**kw)


def test_the_example_end_to_end_and_resume_after_ctrl_c_bit_for_bit(tmp_path, monkeypatch):
    out = tmp_path / "run"
    ex.main(["--steps", "40", "--eval-every", "20", "--out", str(out), *TINY])
    record = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "complete" and record["turns"] == [0, 20, 40]
    assert {"map_T", "map_R", "cycle_X", "cycle_Y", "hist"} <= set(record["curves"])
    for name in ("arrows.png", "metrics.png", "samples.npy", "checkpoint.npz"):
        assert (out / name).stat().st_size > 0
    real = CycleGANTrainer.turn

    def turn_then_interrupt(self):
        real(self)
        if self.turns == 25:
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(CycleGANTrainer, "turn", turn_then_interrupt)
    cut = tmp_path / "cut"
    with pytest.raises(SystemExit) as exc:
        ex.main(["--steps", "40", "--eval-every", "20", "--out", str(cut), *TINY])
    assert exc.value.code == 130
    monkeypatch.undo()
    ex.main(["--resume", str(cut), "--no-progress"])
    np.testing.assert_array_equal(np.load(cut / "samples.npy"), np.load(out / "samples.npy"))


def _built(*flags):
    args, config = ex.parse_args(list(flags))
    return ex.build(config, args.seed).trainer


FLAG_EFFECTS = {
    "--batch-size 7": lambda t: t.batch_size == 7,
    "--lr 0.003": lambda t: t.opt_g.lr == 0.003 and t.opt_d.lr == 2e-4,
    "--d-lr 0.004": lambda t: t.opt_d.lr == 0.004 and t.opt_g.lr == 5e-3,
    "--init identity": lambda t: all(
        np.array_equal(n[0].weight.data, np.eye(2)) and not n[0].bias.data.any()
        for n in (t.T, t.R)),
    "--init random": lambda t: not np.array_equal(t.T[0].weight.data, np.eye(2)),
    "--preset mlp": lambda t: (t.opt_g.lr, t.opt_d.lr, t.schedulers[0].total) ==
    (2e-4, 2e-4, 10000) and len(list(t.T.parameters())) == 6,
    "--maps mlp --init random": lambda t: len(list(t.T.parameters())) == 6,
    "--lr-decay-start 0.25": lambda t: t.schedulers[0].hold == 7500,
    "--lr-decay-start 1": lambda t: t.schedulers == [],
    "--beta1 0.9": lambda t: t.opt_g.betas[0] == t.opt_d.betas[0] == 0.9,
    "--lam-cyc 3": lambda t: t.lam_cyc == 3.0,
    "--lam-adv 0": lambda t: t.lam_adv == 0.0,
    "--preset mlp --hidden 5,4": lambda t: [p.shape for p in t.T.parameters()][::2] ==
    [(5, 2), (4, 5), (2, 4)],
    "--d-hidden 6": lambda t: [p.shape for p in t.D_Y.parameters()][::2] == [(6, 2), (1, 6)],
    "--steps 123": lambda t: t.schedulers[0].total == 123,
    "--preset mlp --maps affine": lambda t: [p.shape for p in t.T.parameters()] ==
    [(2, 2), (2,)] and [p.shape for p in t.R.parameters()] == [(2, 2), (2,)],
}


@pytest.mark.parametrize("flags", list(FLAG_EFFECTS))
def test_each_setting_flag_reaches_the_run(flags):
    assert FLAG_EFFECTS[flags](_built(*flags.split()))


@pytest.mark.parametrize("flags,message", [
    (["--lam-cyc", "-1"], "--lam-cyc must be finite and >= 0"),
    (["--lam-adv", "nan"], "--lam-adv must be finite and >= 0"),
    (["--lam-cyc", "0", "--lam-adv", "0"], "both 0"),
    (["--lr", "0"], "--lr must be finite and > 0"),
    (["--hidden", "a"], "hidden sizes"),
    (["--maps", "spline"], "invalid choice: 'spline'"),
    (["--maps", "mlp", "--init", "identity"], "--init identity needs --maps affine"),
    (["--d-lr", "-1"], "--d-lr must be finite and > 0"),
])
def test_bad_flags_get_a_clear_error(flags, message, capsys):
    with pytest.raises(SystemExit) as exc:
        ex.main(flags)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and "Traceback" not in err
