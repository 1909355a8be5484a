"""Result.select: one scenario of a batch, by name or index, every array and table sliced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tariffsim.datasets import load_world
from tariffsim.errors import DataError
from tariffsim.simulate import simulate

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"
FILES = [KOREA / "pause_10pct.toml", KOREA / "deal_15pct.toml"]


@pytest.fixture(scope="module")
def batch():
    return simulate(load_world(), FILES, "accounting")


def test_select_by_name_and_index_are_the_same_row(batch):
    name = batch.scenarios[1]
    by_name, by_index, by_negative = batch.select(name), batch.select(1), batch.select(-1)
    for one in (by_name, by_index, by_negative):
        assert one.scenarios == (name,)
        for key, arr in batch.country.items():
            assert one.country[key].shape == (1,) + arr.shape[1:]
            np.testing.assert_array_equal(one.country[key][0], arr[1])
        for key, arr in batch.flow.items():
            np.testing.assert_array_equal(one.flow[key][0], arr[1])
    table = by_name.tables["us_partners"]
    assert set(table["scenario"]) == {name}
    full = batch.tables["us_partners"]
    assert len(table) == (full["scenario"] == name).sum() > 0


def test_select_one_equals_running_one(batch):
    alone = simulate(load_world(), FILES[0], "accounting")
    np.testing.assert_array_equal(batch.select(0).country["etr"], alone.country["etr"])


def test_select_unknown_scenario(batch):
    with pytest.raises(DataError, match=r"no scenario 'deal_15' in this result.*Did you mean 'deal_15pct'"):
        batch.select("deal_15")
    with pytest.raises(DataError, match="scenario index 5 is out of range: this result has 2 scenario"):
        batch.select(5)


def test_select_slices_solver_info():
    from tariffsim import Shocks, TradeWorld
    from tariffsim.models.parameters import pe_defaults

    flows = np.arange(1.0, 19.0).reshape(3, 3, 2)
    flows[np.arange(3), np.arange(3), :] *= 10.0
    world = TradeWorld(["AAA", "BBB", "CCC"], ["S0", "S1"], flows, name="tiny")
    t1 = np.stack([np.full((3, 3, 2), r) * (1.0 - np.eye(3))[:, :, None] for r in (0.05, 0.2)])
    res = simulate(
        None, Shocks.from_rates(world, np.zeros_like(t1), t1), "gsim", params=pe_defaults(world.sectors, None)
    )
    one = res.select(1)
    assert one.solver.success.shape == (1,) and one.solver.iterations[0] == res.solver.iterations[1]
