"""GE Result assembly: chunks of scenarios and the remembered baseline do not change answers."""

from __future__ import annotations

import numpy as np
import pytest

from tariffsim import Shocks
from tariffsim.kernels import cp_outputs
from tariffsim.models import ge_result
from tariffsim.models.ge import run_ge
from test_ge_helpers import random_shocks, random_world

THETA = np.array([3.0, 5.0, 8.0])


@pytest.mark.parametrize("accelerate", [False, None])
def test_chunked_columns_equal_one_chunk(monkeypatch, accelerate):
    world = random_world(n=5, s=3, io=False, seed=41)
    shocks = random_shocks(world, 7, seed=42, scale=0.4)
    whole = run_ge(shocks, THETA, accelerate=accelerate)
    monkeypatch.setattr(ge_result, "CHUNK_BYTES", 1)  # one scenario per chunk
    monkeypatch.setattr(cp_outputs, "CHUNK_BYTES", 1)
    chunked = run_ge(shocks, THETA, accelerate=accelerate)
    assert set(whole.country) == set(chunked.country) and set(whole.flow) == set(chunked.flow)
    for col in whole.country:
        np.testing.assert_array_equal(whole.country[col], chunked.country[col], err_msg=col)
    for col in whole.flow:
        np.testing.assert_array_equal(whole.flow[col], chunked.flow[col], err_msg=col)


def test_each_scenario_alone_equals_the_batch():
    world = random_world(n=5, s=3, io=False, seed=43)
    shocks = random_shocks(world, 4, seed=44, scale=0.4)
    batch = run_ge(shocks, THETA)
    for k in range(4):
        one = run_ge(Shocks.from_rates(world, shocks.tariff_base[k], shocks.tariff_new[k]), THETA)
        for col in ("welfare_pct", "welfare_tot_pct", "etr", "etr_base", "imports_pct", "acr_real_wage_pct"):
            np.testing.assert_allclose(one.country[col][0], batch.country[col][k], rtol=1e-12, atol=1e-13,
                                       err_msg=col)


def test_remembered_baseline_follows_the_baseline_tariffs():
    """Two baselines on one world, alternately: each run equals a run with the cache emptied."""
    world = random_world(n=4, s=3, io=False, seed=45)
    rng = np.random.default_rng(46)
    n, s = world.n_countries, world.n_sectors
    bases = [np.zeros((n, n, s)), rng.uniform(0, 0.2, (n, n, s))]
    new = rng.uniform(0, 0.3, (n, n, s))
    runs = [run_ge(Shocks.from_rates(world, tb, new), THETA) for tb in bases + bases]
    for k, tb in enumerate(bases):
        ge_result._CALIBRATED.clear()
        fresh = run_ge(Shocks.from_rates(world, tb, new), THETA)
        for r in (runs[k], runs[k + 2]):
            np.testing.assert_array_equal(r.country["welfare_pct"], fresh.country["welfare_pct"])
            np.testing.assert_array_equal(r.country["etr_base"], fresh.country["etr_base"])
    assert not np.allclose(runs[0].country["etr_base"], runs[1].country["etr_base"], equal_nan=True)
