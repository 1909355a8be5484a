"""The GE ``accelerate`` option: registered, validated, and usable from simulate, the CLI and sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tariffsim as ts
from tariffsim.cli import main
from tariffsim.errors import DataError
from tariffsim.models.ge import run_ge
from tariffsim.models.registry import check_options, get_model, sweep_options
from test_ge_helpers import has_numba

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"


def test_registered_with_the_run_function_default():
    entry = get_model("ge")
    assert entry.defaults["accelerate"] is None
    assert "accelerate" in sweep_options("ge")  # a sweep file may set [options.ge] accelerate = false


@pytest.mark.parametrize("value", [None, True, False])
def test_valid_values_pass(value):
    assert check_options("ge", {"accelerate": value}) == {"accelerate": value}


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_invalid_values_name_the_option(value):
    with pytest.raises(DataError, match=r"The 'accelerate' option of model 'ge' must be None, True or False; got"):
        check_options("ge", {"accelerate": value})


def test_run_ge_checks_it_too():
    world = ts.datasets.load_world()
    shocks = ts.Shocks.from_rates(world, np.zeros((10, 10, 28)), np.full((10, 10, 28), 0.05))
    with pytest.raises(DataError, match="'accelerate' parameter of run_ge must be None, True or False"):
        run_ge(shocks, accelerate="on")


def test_not_an_option_of_other_models():
    with pytest.raises(DataError, match="'accelerate' is not an option of model 'smart'"):
        check_options("smart", {"accelerate": False})


@has_numba
def test_simulate_numpy_and_compiled_agree():
    world = ts.datasets.load_world()
    scenario = str(KOREA / "liberation_day.toml")
    fast = ts.simulate(world, scenario, model="ge", accelerate=True)
    slow = ts.simulate(world, scenario, model="ge", accelerate=False)
    np.testing.assert_array_equal(fast.solver.iterations, slow.solver.iterations)
    for col in ("welfare_pct", "real_wage_pct", "exports", "tariff_revenue", "etr"):
        np.testing.assert_allclose(fast.country[col], slow.country[col], rtol=1e-9, atol=1e-9, err_msg=col)


def test_cli_flag(capsys):
    scenario = str(KOREA / "liberation_day.toml")
    assert main(["run", scenario, "--model", "ge", "--accelerate", "off", "--json", "--no-flows"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == "ge" and doc["solver"]["success"] == [True]
    assert main(["run", scenario, "--model", "smart", "--accelerate", "off"]) == 2
    assert "--accelerate applies to --model ge only" in capsys.readouterr().err
