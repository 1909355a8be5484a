"""simulate(): dispatch, batches, and the scenario file's [parameters] table."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from tariffsim.datasets import load_elasticities, load_world
from tariffsim.errors import DataError
from tariffsim.scenario import load_scenario
from tariffsim.simulate import scenario_options, simulate

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"


@pytest.fixture(scope="module")
def world():
    return load_world()


def _write(tmp_path, parameters: str) -> Path:
    path = tmp_path / "params.toml"
    path.write_text(textwrap.dedent(f"""
        name = "params"
        extends = "{(KOREA / 'liberation_day.toml').as_posix()}"
        [parameters]
        {parameters}
    """), encoding="utf-8")
    return path


def test_parameters_table_reaches_ge_and_pe(tmp_path, world):
    path = _write(tmp_path, 'trade_elasticity = { C29 = 4.0 }\nsubstitution = { C28 = 3.0 }\ndeficits = "purge"')
    scenario = load_scenario(path)
    ge = scenario_options(scenario, "ge", world)
    k = world.sector_index("C29")
    cp = load_elasticities("cp2015").reindex(list(world.sectors)).to_numpy()
    assert ge["deficits"] == "purge" and ge["trade_elasticity"][k] == 4.0
    others = np.arange(world.n_sectors) != k
    np.testing.assert_array_equal(ge["trade_elasticity"][others], cp[others])  # only C29 overridden
    pe = scenario_options(scenario, "smart", world)["params"]
    assert pe.substitution[world.sector_index("C28")] == 3.0  # the override
    assert pe.substitution[k] == 5.0  # σ = 1 + θ with the scenario's θ(C29) = 4


def test_no_parameters_means_model_defaults(world):
    scenario = load_scenario(KOREA / "liberation_day.toml")
    assert scenario_options(scenario, "smart", world) == {}
    # deficits unset in the file: each model's own default (ge: fixed; ld: share of world GDP)
    assert scenario_options(scenario, "ge", world) == {}
    assert scenario_options(scenario, "ld", world) == {}


def test_impossible_parameter_is_a_scenario_error(tmp_path):
    from tariffsim.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"parameters\.substitution\.C29"):
        load_scenario(_write(tmp_path, "substitution = { C29 = -2.0 }"))


def test_unknown_model_lists_the_valid_ones(world):
    with pytest.raises(DataError, match="choose one of accounting, smart, gsim, ge, ld, prices. Did you mean 'smart'"):
        simulate(world, KOREA / "liberation_day.toml", "smrt")


def test_batch_of_files_equals_one_at_a_time(world):
    files = [KOREA / "pause_10pct.toml", KOREA / "deal_15pct.toml"]
    batch = simulate(world, files, "accounting")
    for k, f in enumerate(files):
        one = simulate(world, f, "accounting")
        np.testing.assert_array_equal(batch.country["etr"][k], one.country["etr"][0])
        assert batch.scenarios[k] == one.scenarios[0]


def test_dated_measures_without_a_date_are_flagged(world):
    from tariffsim.scenario import scenario_from_dict
    from tariffsim.schedule import prepare_schedule

    data = {"name": "nodate", "measure": [{"id": "a", "kind": "item", "importer": "USA", "products": ["72"],
                                           "rate": 0.25, "effective": "2025-03-12"}]}
    sched = prepare_schedule(scenario_from_dict(data), world)
    assert any("dated measures but no date" in w for w in sched.warnings)
    dated = prepare_schedule(scenario_from_dict({**data, "effective": "2025-04-01"}), world)
    assert not any("no date" in w for w in dated.warnings)
