"""The benchmarks run (tiny sizes) and check their twins compute the same numbers; they
assert nothing about speed."""
import json

from benchmarks import __main__ as runner
from benchmarks import mixture_turn, op_overhead, spatial


def test_op_overhead_runs():
    assert set(op_overhead.measure(repeats=1, number=5)) >= {"numpy", "minigan"}


def test_mixture_turn_runs():
    assert "minigan" in mixture_turn.measure(turns=3, repeats=1)


def test_spatial_benchmark_checks_its_numbers_against_pytorch(torch, capsys):
    spatial.main(["--quick"])     # _check_same raises if minigan and PyTorch disagree
    assert "max_pool2d" in capsys.readouterr().out


def test_the_whole_suite_runs_quick_and_writes_json(torch, tmp_path, capsys):
    # each model workload first checks minigan against its PyTorch twin (models._compare)
    runner.main(["--quick", "--json", str(tmp_path / "bench.json")])
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert len(saved["rows"]) == 10 and saved["quick"]
    assert {"cold_cache_s", "warm_cache_s"} <= set(saved["cold_start"])
    assert "DCGAN turn" in capsys.readouterr().out
