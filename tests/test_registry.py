"""The model registry: one table that simulate, sweeps, the CLI and the scenario schema read."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

from tariffsim import Shocks, TradeWorld
from tariffsim.errors import DataError
from tariffsim.models import registry
from tariffsim.models.registry import ModelEntry, Option, get_model
from tariffsim.results import Result
from tariffsim.simulate import simulate

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"


def _world() -> TradeWorld:
    flows = np.arange(1.0, 1.0 + 3 * 3 * 2).reshape(3, 3, 2)
    flows[np.arange(3), np.arange(3), :] *= 10.0
    return TradeWorld(["AAA", "BBB", "CCC"], ["S0", "S1"], flows, name="tiny")


def _shocks(rate: float = 0.1) -> Shocks:
    w = _world()
    t0 = np.zeros((3, 3, 2))
    t1 = np.full((3, 3, 2), rate) * (1.0 - np.eye(3))[:, :, None]
    return Shocks.from_rates(w, t0, t1)


def dummy_run(shocks, *, scale: float = 2.0) -> Result:
    """Duties at baseline flows times ``scale``: an independent little model for the test."""
    w = shocks.world
    m = w.flows * (1.0 - np.eye(w.n_countries))[:, :, None]
    duties = scale * np.einsum("bijs,ijs->bj", shocks.tariff_new, m)  # importer j collects Σ_i,s t M
    return Result("dummy", shocks.scenarios, w.countries, w.sectors, {"tariff_revenue": duties})


@pytest.fixture
def dummy():
    entry = ModelEntry("dummy", f"{__name__}:dummy_run", "test model",
                       options=(Option("scale", 2.0, "multiplier", check=lambda v: v > 0, expect="a number > 0"),))
    registry.register(entry)
    yield entry
    registry.unregister("dummy")


def test_models_are_the_registry():
    import tariffsim
    from tariffsim.scenario.schema import MODEL_NAMES

    assert tariffsim.MODELS == registry.MODELS == MODEL_NAMES == ("accounting", "smart", "gsim", "ge", "ld", "prices")


def test_option_defaults_equal_the_run_function_defaults():
    for name in registry.model_names():
        entry = get_model(name)
        params = inspect.signature(entry.function()).parameters
        for opt in entry.options:
            assert opt.name in params, (name, opt.name)
            assert params[opt.name].default == opt.default, (name, opt.name)
            if opt.choices is not None:
                assert opt.default in opt.choices


def test_unknown_model_lists_valid_ones_with_did_you_mean():
    with pytest.raises(
        DataError,
        match=r"unknown model 'gsm'; choose one of accounting, smart, gsim, ge, ld, prices\. Did you mean 'gsim'",
    ):
        simulate(None, _shocks(), "gsm")


def test_bad_option_value_message():
    with pytest.raises(DataError) as info:
        simulate(None, _shocks(), "smart", method="foo")
    assert str(info.value) == "The 'method' option of model 'smart' must be one of {'linear','exact'}; got 'foo'."
    with pytest.raises(DataError, match=r"The 'max_iter' option of model 'ge' must be an integer >= 1; got 0\."):
        simulate(None, _shocks(), "ge", max_iter=0)


def test_unknown_option_lists_the_options():
    with pytest.raises(
        DataError,
        match=r"'metod' is not an option of model 'gsim'; its options are: params, method.*"
        r"Did you mean 'method'",
    ):
        simulate(None, _shocks(), "gsim", metod="exact")
    with pytest.raises(DataError, match="'trade_elasticity' is not an option of model 'accounting'"):
        simulate(None, _shocks(), "accounting", trade_elasticity="cp2015")


def test_a_new_model_is_one_entry(dummy, tmp_path, capsys):
    shocks = _shocks(0.1)
    res = simulate(None, shocks, "dummy")
    m = shocks.world.flows * (1.0 - np.eye(3))[:, :, None]
    # importer CCC: 0.1 x (flows from AAA and BBB), times the default scale 2
    assert res.country["tariff_revenue"][0, 2] == pytest.approx(2 * 0.1 * m[:, 2, :].sum())
    res3 = simulate(None, shocks, "dummy", scale=3.0)
    np.testing.assert_allclose(res3.country["tariff_revenue"], 1.5 * res.country["tariff_revenue"])
    with pytest.raises(DataError, match=r"The 'scale' option of model 'dummy' must be a number > 0; got -1"):
        simulate(None, shocks, "dummy", scale=-1.0)
    # the CLI offers it too
    from tariffsim.cli.app import build_parser

    args = build_parser().parse_args(["run", "x.toml", "--model", "dummy"])
    assert args.model == "dummy"


def test_register_twice_is_an_error(dummy):
    with pytest.raises(DataError, match="already registered"):
        registry.register(dummy)


def test_elasticity_defaults_are_resolved_in_the_registry():
    from tariffsim.datasets import load_elasticities

    assert registry.default_source("smart") == registry.default_source("gsim") == "fgo2022"
    assert registry.default_source("ge") == "cp2015" and registry.default_source("accounting") is None
    sectors = ["C29", "C26", "SERV"]
    theta = registry.trade_elasticity_for("ge", sectors, {"C29": 4.0})
    raw = load_elasticities("cp2015")
    np.testing.assert_array_equal(theta, [4.0, raw["C26"], raw["SERV"]])
    with pytest.raises(DataError, match="unknown trade elasticity source 'cp2051'.*Did you mean 'cp2015'"):
        registry.trade_elasticity_for("ge", sectors, "cp2051")


@pytest.mark.slow
def test_trade_elasticity_name_through_simulate():
    """The README's ``trade_elasticity="cp2015"`` works for GE and PE and equals passing θ."""
    from tariffsim.datasets import load_elasticities, load_world
    from tariffsim.models.parameters import pe_defaults

    world = load_world()
    theta = load_elasticities("cp2015").reindex(list(world.sectors)).to_numpy()
    f = KOREA / "liberation_day.toml"
    by_name = simulate(world, f, "ge", trade_elasticity="cp2015")
    by_array = simulate(world, f, "ge", trade_elasticity=theta)
    np.testing.assert_array_equal(by_name.country["welfare_pct"], by_array.country["welfare_pct"])
    pe_name = simulate(world, f, "smart", trade_elasticity="cp2015", method="exact")
    pe_params = simulate(world, f, "smart", params=pe_defaults(world.sectors, trade_elasticity=theta), method="exact")
    np.testing.assert_array_equal(pe_name.country["welfare_change"], pe_params.country["welfare_change"])
    default = simulate(world, f, "smart", method="exact")
    assert not np.allclose(default.country["welfare_change"], pe_name.country["welfare_change"])
