"""run_ld and the optimal-policy API on the embedded worlds: Result shape, options, errors, invariants."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import tariffsim
from tariffsim.errors import ConvergenceError, DataError
from tariffsim.models.ld import run_ld
from tariffsim.optimal import (
    optimal_retaliation,
    optimal_tariff,
    reciprocal_retaliation,
    tariff_war,
)
from tariffsim.shocks import Shocks
from tariffsim.world import TradeWorld


@pytest.fixture(scope="module")
def world():
    return tariffsim.load_world("region10")


def _shocks(world, rates: dict, base=None, names=("s",)):
    n, s = len(world.countries), len(world.sectors)
    t0 = np.zeros((len(names), n, n, s)) if base is None else np.broadcast_to(base, (len(names), n, n, s)).copy()
    t1 = t0.copy()
    for (imp, exp), r in rates.items():
        i, j = world.countries.index(imp), world.countries.index(exp)
        t1[:, j, i, :] = r
    return Shocks(world, tuple(names), t0, t1)


def test_result_columns_and_zero_shock(world):
    res = run_ld(_shocks(world, {}))
    assert res.model == "ld" and res.sectors == ("total",)
    for col in ("welfare_pct", "real_wage_pct", "price_index_pct", "employment_pct", "consumer_price_pct",
                "deficit_pct", "exports", "imports", "tariff_revenue", "etr"):
        assert col in res.country
    np.testing.assert_allclose(res.country["welfare_pct"], 0.0, atol=1e-8)
    np.testing.assert_allclose(res.country["employment_pct"], 0.0, atol=1e-8)
    assert res.solver.all_converged and res.solver.max_residual.max() < 1e-10
    assert res.flow["flow_new"].shape == (1, 10, 10, 1)


def test_us_tariff_signs_and_revenue_accounting(world):
    res = run_ld(_shocks(world, {("USA", "CHN"): 0.5, ("USA", "KOR"): 0.25}))
    c = dict(zip(world.countries, range(10)))
    assert res.country["price_index_pct"][0, c["USA"]] > 0
    assert res.country["welfare_pct"][0, c["CHN"]] < 0
    assert res.country["imports_pct"][0, c["USA"]] < 0
    # revenue = Σ t' M' over the reported flows
    f = res.flow
    rev = (f["tariff_new"] * f["flow_new"])[0, :, c["USA"], 0].sum()
    assert res.country["tariff_revenue"][0, c["USA"]] == pytest.approx(rev, rel=1e-12)


def test_lump_sum_lowers_employment_relative_to_income_tax(world):
    sh = _shocks(world, {("USA", exp): 0.3 for exp in world.countries if exp != "USA"})
    us = world.countries.index("USA")
    tax = run_ld(sh, revenue="income_tax").country["employment_pct"][0, us]
    lump = run_ld(sh, revenue="lump_sum").country["employment_pct"][0, us]
    assert tax > lump  # the income-tax cut raises labour supply (Table 1: +0.32% vs -0.41%)


def test_baseline_tariffs_and_tariff_inclusive_flows(world):
    n, s = len(world.countries), len(world.sectors)
    base = np.full((n, n, s), 0.05)
    base[np.arange(n), np.arange(n)] = 0.0
    sh = _shocks(world, {("USA", "CHN"): 0.3}, base=base)
    a = run_ld(sh)
    # the same economy described with flows that include the baseline duty
    incl = dataclasses.replace(world, flows=world.flows * (1 + base))
    b = run_ld(dataclasses.replace(sh, world=incl), tariff_inclusive_flows=True)
    np.testing.assert_allclose(a.country["welfare_pct"], b.country["welfare_pct"], atol=1e-9)
    # raising a baseline rate to itself changes nothing
    same = run_ld(dataclasses.replace(sh, tariff_new=sh.tariff_base.copy()))
    np.testing.assert_allclose(same.country["welfare_pct"], 0.0, atol=1e-8)


@pytest.mark.parametrize("kw,match", [
    ({"revenue": "rebate"}, "revenue"), ({"deficits": "purged"}, "deficits"), ({"variant": "ek"}, "variant"),
    ({"trade_elasticity": -1}, "trade_elasticity"), ({"fixed_cost_share": {"XXX": 0.1}}, "XXX"),
    ({"fixed_cost_share": 1.5}, r"\[0, 1\)"),
])
def test_bad_options_name_the_parameter(world, kw, match):
    with pytest.raises(DataError, match=match):
        run_ld(_shocks(world, {}), **kw)


def test_convergence_failure_raises(world):
    with pytest.raises(ConvergenceError, match="max_iter=1"):
        run_ld(_shocks(world, {("USA", "CHN"): 0.5}), max_iter=1)
    res = run_ld(_shocks(world, {("USA", "CHN"): 0.5}), max_iter=1, raise_on_failure=False)
    assert not res.solver.success[0]


def test_missing_domestic_sales_is_a_data_error():
    flows = np.ones((2, 2, 1))
    flows[0, 0, 0] = 0.0
    w = TradeWorld(("AAA", "BBB"), ("S",), flows)
    with pytest.raises(DataError, match="AAA"):
        run_ld(Shocks(w, ("s",), np.zeros((1, 2, 2, 1)), np.zeros((1, 2, 2, 1))))


def test_ekk_variant_and_policy_api(world):
    sh = _shocks(world, {("USA", exp): 0.2 for exp in world.countries if exp != "USA"})
    ekk = run_ld(sh, variant="ekk")
    assert ekk.provenance["fixed_cost_share"]["USA"] == 0.0
    ret = optimal_retaliation(sh, "KOR", "USA")
    assert 0 < ret.rates["KOR<-USA"] < 1 and ret.residual["KOR<-USA"] < 1e-6
    kor = world.countries.index("KOR")
    assert ret.result.country["welfare_pct"][0, kor] > run_ld(sh).country["welfare_pct"][0, kor]
    grp = optimal_retaliation(sh, ["EU27", "CAN", "MEX"], "USA")
    assert len(grp.rates) == 3 and len(set(grp.rates.values())) == 1
    rec = reciprocal_retaliation(sh, "USA", by=["CHN"])
    assert rec.rates["CHN<-USA"] == pytest.approx(0.2)
    form = optimal_tariff(sh, "USA", method="formula")
    assert 0 < form.rates["USA<-all"] < 1
    with pytest.raises(DataError, match="formula"):
        optimal_tariff(sh, "USA", "KOR", method="formula")
    with pytest.raises(DataError, match="did you mean|not in world"):
        optimal_tariff(sh, "USAA")


def test_bilateral_war_is_mutual_best_response(world):
    sh = _shocks(world, {})
    war = tariff_war(sh, ["USA", "KOR"], bilateral=True)
    assert max(war.residual.values()) < 1e-6
    # given Korea's war rate, the US best response is the US war rate
    kor_rate = war.rates["KOR<-USA"]
    us_best = optimal_tariff(_shocks(world, {("KOR", "USA"): kor_rate}), "USA", "KOR")
    assert us_best.rates["USA<-KOR"] == pytest.approx(war.rates["USA<-KOR"], abs=1e-5)


def test_elasticity_by_source_name_and_sector_values(world):
    sh = _shocks(world, {("USA", "CHN"): 0.3})
    from tariffsim.datasets import load_elasticities

    by_name = run_ld(sh, trade_elasticity="cp2015")
    by_values = run_ld(sh, trade_elasticity=load_elasticities("cp2015"))
    np.testing.assert_allclose(by_name.country["welfare_pct"], by_values.country["welfare_pct"])
    # the import-weighted mean, computed here from the world's flows
    n = len(world.countries)
    m = (world.flows * (1 - np.eye(n))[:, :, None]).sum((0, 1))
    eps = float((m * load_elasticities("cp2015").to_numpy()).sum() / m.sum())
    assert by_name.provenance["trade_elasticity"] == pytest.approx(eps)
    assert run_ld(sh, trade_elasticity="uniform4").provenance["trade_elasticity"] == 4.0
    with pytest.raises(DataError, match="uniform4"):
        run_ld(sh, trade_elasticity="cp2051")


def test_tariffwar_elasticity_table_columns_by_name(world):
    """The 8 sources of tariffwar's ICIO mapping (tests only: the table has no licence) pass as sector values."""
    from pathlib import Path

    import pandas as pd

    repo = Path(__file__).resolve().parents[1]
    path = next((p / "shared/data/icio2022/elasticities_icio28_as_mapped_by_tariffwar.csv"
                 for p in (repo.parent, repo.parent.parent)
                 if (p / "shared/data/icio2022/elasticities_icio28_as_mapped_by_tariffwar.csv").is_file()), None)
    if path is None:
        pytest.skip("../shared/data/icio2022 not available")
    table = pd.read_csv(path).set_index("sector")
    assert len(table.columns) == 8
    sh = _shocks(world, {("USA", "CHN"): 0.3})
    out = {c: run_ld(sh, trade_elasticity=table[c]).provenance["trade_elasticity"] for c in table.columns}
    assert out["epsilon_U4"] == pytest.approx(4.0)
    # tariffwar's CP column carries Caliendo-Parro's values as our cp2015 source, except where its WIOD-16
    # bridge averages two CP sectors (wood/paper, plastic/minerals, transport equipment, other manufacturing)
    from tariffsim.datasets import load_elasticities

    averaged = {"C16", "C17_18", "C22", "C23", "C29", "C301", "C302T309", "C31T33", "SERV"}
    same = [s for s in table.index if s not in averaged]
    assert len(same) == 19
    np.testing.assert_allclose(table.loc[same, "epsilon_CP"], load_elasticities("cp2015")[same], rtol=1e-6)
    np.testing.assert_allclose(table.loc["C16", "epsilon_CP"], (11.50 + 16.52) / 2, rtol=1e-6)


def test_multi_sector_option(world):
    sh = _shocks(world, {("USA", "CHN"): 0.3})
    res = run_ld(sh, sectors="multi")
    assert res.sectors == world.sectors and res.flow["flow_new"].shape == (1, 10, 10, len(world.sectors))
    assert res.solver.all_converged
    c = world.countries.index("CHN")
    assert res.country["welfare_pct"][0, c] < 0 and res.country["employment_reallocation_pct"][0, c] > 0
    # only the taxed flows (CHN -> USA) carry the tariff: revenue = Σ_k t M'
    us = world.countries.index("USA")
    rev = 0.3 * res.flow["flow_new"][0, c, us].sum()
    assert res.country["tariff_revenue"][0, us] == pytest.approx(rev, rel=1e-10)
    with pytest.raises(DataError, match="sectors"):
        run_ld(sh, sectors="many")


def test_policy_in_the_multi_sector_model(world):
    sh = _shocks(world, {("USA", "KOR"): 0.25})
    ret = optimal_retaliation(sh, "KOR", "USA", sectors="multi")
    assert ret.residual["KOR<-USA"] < 1e-6 and ret.result.sectors == world.sectors
    kor = world.countries.index("KOR")
    assert ret.result.country["welfare_pct"][0, kor] > run_ld(sh, sectors="multi").country["welfare_pct"][0, kor]
    with pytest.raises(DataError, match="one-sector"):
        tariff_war(sh, ["USA", "KOR"], method="formula", sectors="multi")


def test_purge_baseline_has_balanced_trade_and_registry_runs_ld(world):
    sh = _shocks(world, {("USA", "CHN"): 0.3})
    res = run_ld(sh, deficits="purge", variant="ekk")
    assert res.solver.all_converged
    # without fixed costs, in the purged baseline every country's exports equal its imports (customs value)
    X0 = res.flow["flow_base"][0, :, :, 0] * (1 - np.eye(10))
    np.testing.assert_allclose(X0.sum(1), X0.sum(0), rtol=1e-8)
    assert not np.allclose(world.flows.sum(-1) * (1 - np.eye(10)), X0)
    # the registry entry runs the same model
    from tariffsim.simulate import simulate

    via = simulate(None, sh, "ld", revenue="lump_sum")
    np.testing.assert_allclose(via.country["welfare_pct"], run_ld(sh, revenue="lump_sum").country["welfare_pct"])
    with pytest.raises(DataError, match="purge"):
        run_ld(sh, deficits="purge", sectors="multi")
