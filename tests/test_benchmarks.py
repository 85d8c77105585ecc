"""The benchmarks run (tiny sizes) and check their twins compute the same numbers; they
assert nothing about speed."""
from benchmarks import mixture_turn, op_overhead, spatial


def test_op_overhead_runs():
    assert set(op_overhead.measure(repeats=1, number=5)) >= {"numpy", "minigan"}


def test_mixture_turn_runs():
    assert "minigan" in mixture_turn.measure(turns=3, repeats=1)


def test_spatial_benchmark_checks_its_numbers_against_pytorch(torch, capsys):
    spatial.main(["--quick"])     # _check_same raises if minigan and PyTorch disagree
    assert "max_pool2d" in capsys.readouterr().out
