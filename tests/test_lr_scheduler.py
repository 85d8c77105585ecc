"""Learning-rate schedules: PyTorch's rates on the same steps, state round trips, bad input."""
import numpy as np
import pytest

import minigan as mg
from minigan.optim.lr_scheduler import HoldThenLinearDecay, LambdaLR, LinearLR, StepLR


def _opt(lr=0.1):
    return mg.optim.SGD([mg.Parameter(np.zeros(2))], lr=lr)


def _rates(sched, steps):
    rates = []
    for _ in range(steps):
        rates.append(sched.get_last_lr()[0])
        sched.optimizer.step()
        sched.step()
    return rates


CASES = {
    "linear": (lambda o: LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=7),
               lambda t, o: t.optim.lr_scheduler.LinearLR(o, start_factor=0.25,
                                                          end_factor=0.9, total_iters=7)),
    "linear_to_zero": (lambda o: LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=9),
                       lambda t, o: t.optim.lr_scheduler.LinearLR(
                           o, start_factor=1.0, end_factor=0.0, total_iters=9)),
    "step": (lambda o: StepLR(o, step_size=3, gamma=0.5),
             lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    "lambda": (lambda o: LambdaLR(o, lambda e: 1 / (1 + e)),
               lambda t, o: t.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + e))),
    "hold_then_decay": (lambda o: HoldThenLinearDecay(o, total=12, hold=5),
                        lambda t, o: t.optim.lr_scheduler.LambdaLR(
                            o, lambda e: min(1.0, max(0.0, (12 - e) / 7)))),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(CASES))
def test_rates_match_pytorchs_schedulers(name, torch):
    ours, theirs = CASES[name]
    expected = []
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = theirs(torch, opt)
    for _ in range(15):
        expected.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    np.testing.assert_allclose(_rates(ours(_opt()), 15), expected, rtol=1e-12, atol=1e-15)


def test_the_optimizer_steps_with_the_scheduled_rate():
    p = mg.Parameter(np.ones(1))
    opt = mg.optim.SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = mg.tensor(np.ones(1))
        opt.step()
        sched.step()
    assert p.data[0] == 1 - (1 + 0.5 + 0.25)


def test_a_restored_schedule_continues_with_the_same_rates():
    a = HoldThenLinearDecay(_opt(), total=20, hold=4)
    whole = _rates(a, 20)
    b = HoldThenLinearDecay(_opt(), total=20, hold=4)
    first = _rates(b, 9)
    state = b.state_dict()
    c = HoldThenLinearDecay(_opt(), total=20, hold=4)
    c.load_state_dict(state)
    assert first + _rates(c, 11) == whole
    assert whole[-1] == pytest.approx(0.1 / 16) and c.optimizer.lr == 0.0


@pytest.mark.parametrize("make,message", [
    (lambda o: LinearLR(o, start_factor=0.0), "start_factor"),
    (lambda o: LinearLR(o, total_iters=0), "total_iters"),
    (lambda o: StepLR(o, step_size=0), "step_size"),
    (lambda o: StepLR(o, step_size=2, gamma=float("nan")), "gamma"),
    (lambda o: LambdaLR(o, 3), "callable"),
    (lambda o: HoldThenLinearDecay(o, total=5, hold=5), "hold < total"),
    (lambda o: StepLR(o, 2, last_epoch=-2), "last_epoch"),
])
def test_bad_settings_are_refused(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(_opt())


def test_a_scheduler_needs_an_optimizer_with_a_rate():
    with pytest.raises(TypeError, match="optimizer with an lr"):
        StepLR(object(), 2)
