"""CLI: exit code 1 on a solver failure, --debug anywhere, the warnings filter left alone."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tariffsim.cli import main
from tariffsim.errors import ConvergenceError

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"


def test_solver_failure_exits_1(capsys):
    code = main(["run", str(KOREA / "liberation_day.toml"), "--model", "ge", "--max-iter", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: the solver did not converge:") and "max_iter=1" in err
    assert "Traceback" not in err


def test_solver_failure_with_debug_after_the_command_raises():
    with pytest.raises(ConvergenceError, match="max_iter=1"):
        main(["run", str(KOREA / "liberation_day.toml"), "--model", "ge", "--max-iter", "1", "--debug"])


def test_solver_options_are_checked(capsys):
    assert main(["run", str(KOREA / "liberation_day.toml"), "--max-iter", "3"]) == 2
    assert "--max-iter applies to --model gsim or ge only" in capsys.readouterr().err
    assert main(["run", str(KOREA / "liberation_day.toml"), "--model", "ge", "--max-iter", "0"]) == 2
    assert "The 'max_iter' option of model 'ge' must be an integer >= 1; got 0." in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--debug", "validate", "X"], ["validate", "X", "--debug"]])
def test_debug_before_or_after_the_command(argv, tmp_path, monkeypatch):
    from tariffsim.cli.app import build_parser

    args = build_parser().parse_args(argv)
    assert args.debug is True
    assert build_parser().parse_args(["validate", "X"]).debug is False


def test_main_leaves_the_warnings_filter_alone(capsys):
    before = list(warnings.filters)
    assert main(["validate", str(KOREA / "deal_15pct.toml")]) == 0
    assert list(warnings.filters) == before
    assert "ok:" in capsys.readouterr().out
