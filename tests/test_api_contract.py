"""The Python API's contract: bad input raises a TariffsimError naming the argument and a fix.

Every public function is given wrong types, unknown names, NaN/inf/negative numbers, empty
batches and degenerate worlds. Each call must raise a :class:`tariffsim.TariffsimError`
subclass (never a raw ``TypeError``/``KeyError``/``IndexError``) whose message names the
offending argument; legal but suspicious input warns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tariffsim as ts
from tariffsim.errors import TariffsimError

REPO = Path(__file__).resolve().parents[1]
LIB = REPO / "scenarios" / "korea_us_2025" / "liberation_day.toml"
DEAL = REPO / "scenarios" / "korea_us_2025" / "deal_15pct.toml"


@pytest.fixture(scope="module")
def world():
    return ts.load_world()


@pytest.fixture(scope="module")
def schedule(world):
    return ts.prepare_schedule(ts.load_scenario(DEAL), world)


def _raises(fn, *words):
    with pytest.raises(TariffsimError) as err:
        fn()
    text = str(err.value)
    for word in words:
        assert word in text, f"{word!r} not in: {text}"
    return text


# --------------------------------------------------------------------------- simulate
def test_unknown_model_lists_the_models(world):
    _raises(lambda: ts.simulate(world, LIB, model="gee"), "'gee'", "ge")


def test_empty_batch(world):
    _raises(lambda: ts.simulate(world, [], model="accounting"), "scenario", "empty")


def test_wrong_scenario_type(world):
    _raises(lambda: ts.simulate(world, 42, model="accounting"), "scenario", "int")


def test_date_as_iso_string_is_accepted(world):
    result = ts.simulate(world, LIB, model="accounting", date="2025-04-09")
    assert result.provenance["dates"] == ["2025-04-09"]


def test_date_not_a_date(world):
    _raises(lambda: ts.simulate(world, LIB, model="accounting", date="April 9"), "date", "2025-04-09")


def test_trade_elasticity_source_name(world):
    result = ts.simulate(world, LIB, model="ge", trade_elasticity="cp2015")
    assert np.isfinite(result.country_frame()["welfare_pct"]).all()


def test_trade_elasticity_unknown_source(world):
    _raises(lambda: ts.simulate(world, LIB, model="ge", trade_elasticity="cp2051"), "cp2051", "cp2015")


def test_unknown_option(world):
    _raises(lambda: ts.simulate(world, LIB, model="smart", methd="exact"), "methd")


def test_world_not_a_world():
    _raises(lambda: ts.simulate("region10", LIB, model="accounting"), "world")


# --------------------------------------------------------------------------- schedule
def test_prepare_schedule_given_a_path_says_how_to_load_it(world):
    _raises(lambda: ts.prepare_schedule(str(LIB), world), "scenario", "load_scenario(", "liberation_day.toml")


def test_prepare_schedule_wrong_type(world):
    _raises(lambda: ts.prepare_schedule(42, world), "scenario", "42")


@pytest.mark.parametrize("value", ["abc", float("nan"), float("inf"), -0.1, 25.0, None, [0.1]])
def test_vector_rejects_bad_rates(schedule, value):
    name = next(n for n in schedule.parameter_names if n.endswith(".rate"))
    _raises(lambda: schedule.vector({name: value}), name)


def test_vector_unknown_name_did_you_mean(schedule):
    name = next(n for n in schedule.parameter_names if n.endswith(".rate"))
    _raises(lambda: schedule.vector({name + "x": 0.1}), name + "x", "Did you mean")


def test_evaluate_wrong_shape(schedule):
    _raises(lambda: schedule.shocks(np.zeros((2, 3, 4))), "shape")


# --------------------------------------------------------------------------- worlds
def test_world_unknown_region_set():
    _raises(lambda: ts.load_world("region11"), "region11", "region10")


def test_world_keep_unknown_country():
    _raises(lambda: ts.load_world(keep=["XXX"]), "XXX")


def test_world_with_nan_flows(world):
    flows = world.flows.copy()
    flows[0, 1, 0] = np.nan
    _raises(lambda: ts.TradeWorld(world.countries, world.sectors, flows), "flows", "NaN")


def test_world_with_negative_flows(world):
    flows = world.flows.copy()
    flows[0, 1, 0] = -1.0
    _raises(lambda: ts.TradeWorld(world.countries, world.sectors, flows), "flows", "negative")


def test_measure_importer_outside_world():
    scenario = ts.scenario_from_dict(
        {"name": "bra", "measure": [{"id": "b", "kind": "item", "importer": "BRA", "sectors": ["C29"], "rate": 0.1}]}
    )
    _raises(lambda: ts.simulate(None, scenario, model="accounting"), "BRA", "keep")


# --------------------------------------------------------------------------- results
def test_result_select_unknown_scenario(world):
    result = ts.simulate(world, LIB, model="accounting")
    _raises(lambda: result.select("nope"), "nope")


def test_date_of_wrong_type(world):
    _raises(lambda: ts.simulate(world, LIB, model="accounting", date=20250409), "date")
