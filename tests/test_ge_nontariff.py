"""GE with the non-tariff measures of the Korea-US talks: purchase, currency, ntb, productivity, deficit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tariffsim import DataError, Shocks
from tariffsim.datasets import load_world
from tariffsim.kernels.cp import calibrate, solve_equilibrium, taste_shifter
from tariffsim.models.ge import run_ge
from test_ge_helpers import random_world


@pytest.fixture(scope="module")
def world():
    return load_world()


def _zero(world, b=1):
    return np.zeros((b, world.n_countries, world.n_countries, world.n_sectors))


def _energy_purchase(world, amount, b=1):
    """KOR buys `amount` USD mn more of US B06 + C19, spread by baseline flows (as the compiler does)."""
    u, k = world.country_index("USA"), world.country_index("KOR")
    secs = [world.sector_index("B06"), world.sector_index("C19")]
    A = _zero(world, b)
    flow = world.flows[u, k, secs]
    A[:, u, k, secs] = np.asarray(amount, float).reshape(-1, 1) * flow / flow.sum()
    return A, u, k, secs


def _world_identities(eq, base, io, tariff_new):
    """World income = world final expenditure; world deficits sum to zero."""
    tau = tariff_new.copy()
    n = tau.shape[1]
    tau[:, np.arange(n), np.arange(n), :] = 0.0
    revenue = (tau * eq.flows).sum(axis=(1, 2, 3))
    final = eq.expenditure if io is None else eq.expenditure - np.einsum("njk,bnk->bnj", io, eq.flows.sum(axis=2))
    np.testing.assert_allclose(eq.income.sum(axis=1), final.sum(axis=(1, 2)), rtol=1e-10)
    np.testing.assert_allclose(eq.income.sum(axis=1), (eq.w_hat * base.value_added).sum(axis=1) + revenue, rtol=1e-10)
    deficit = eq.flows.sum(axis=(1, 3)) - eq.flows.sum(axis=(2, 3))
    assert np.all(np.abs(deficit.sum(axis=1)) < 1e-9 * eq.flows.sum())


# ------------------------------------------------------------------------- purchase
def test_taste_shifter_moves_spending_by_the_amount_at_baseline_prices(world):
    A, u, k, secs = _energy_purchase(world, 20_000.0)
    tb = _zero(world)
    base = calibrate(world.flows, tb)
    delta, bad = taste_shifter(base, A)
    assert not bad.any()
    # Σ_i π δ̂ = 1: total sector spending unchanged; customs purchases from the US up by exactly A
    np.testing.assert_allclose(np.einsum("binj,binj->bnj", base.pi, delta), 1.0, rtol=0, atol=1e-12)
    M_shift = base.pi * delta * base.expenditure[:, None] / (1 + base.tariff)
    np.testing.assert_allclose(M_shift[0, u, k, secs] - world.flows[u, k, secs], A[0, u, k, secs], rtol=1e-12)
    others = [i for i in range(world.n_countries) if i != u]
    ratio = M_shift[0, others][:, k, secs] / world.flows[others][:, k, secs]
    np.testing.assert_allclose(
        ratio, np.broadcast_to(ratio[0:1], ratio.shape), rtol=1e-12
    )  # other origins scale down proportionally
    assert np.all(ratio < 1)


def test_purchase_commitment_in_ge(world):
    A, u, k, secs = _energy_purchase(world, 20_000.0)
    res = run_ge(Shocks.from_rates(world, _zero(world)[0], _zero(world)[0], demand_shift=A))
    f0, f1 = res.flow["flow_base"][0], res.flow["flow_new"][0]
    rise = (f1[u, k, secs] - f0[u, k, secs]).sum()
    # (a) about A at the new equilibrium (measured 19,399 of 20,000 on the default world: prices move)
    assert 0.9 * 20_000 < rise < 1.02 * 20_000
    # KOR's total energy spending barely moves (fixed at baseline prices by construction)
    assert abs((f1[:, k, secs] - f0[:, k, secs]).sum()) < 0.02 * 20_000
    col = res.country
    # not a gain by assumption: Korea pays (terms of trade, misallocation), the US gains
    assert col["welfare_pct"][0, k] < 0 < col["welfare_pct"][0, u]
    assert np.isnan(col["acr_real_wage_pct"][0]).all()
    assert "taste" in res.provenance["purchase_commitments"]
    assert not any("purchase" in w for w in res.provenance["warnings"])


@pytest.mark.parametrize("io", [True, False])
def test_purchase_zero_amount_is_no_change_and_world_identities(io):
    w = random_world(seed=21, io=io)
    n, s = w.n_countries, w.n_sectors
    A = np.zeros((3, n, n, s))
    A[1, 2, 0, 1] = 30.0  # C0 buys 30 more from C2 in S1
    A[2, 2, 0, 1], A[2, 3, 1, :] = 30.0, [5.0, -0.5, 8.0]  # several commitments, one cut
    tb = np.zeros((3, n, n, s))
    theta = np.array([4.0, 5.0, 6.0])
    base = calibrate(w.flows, tb, w.value_added_share, w.io_coefficients)
    delta, bad = taste_shifter(base, A)
    assert not bad.any()
    eq = solve_equilibrium(base, tb, theta, taste=delta)
    assert eq.success.all()
    # (b) zero amount (row 0 of a batch that has shifts elsewhere) == no change
    np.testing.assert_allclose(eq.flows[0], base.flows[0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(eq.P_hat[0], 1.0, rtol=0, atol=1e-12)
    res = run_ge(Shocks(w, ("zero", "one", "two"), tb, tb, demand_shift=A), theta)
    np.testing.assert_allclose(res.flow["flow_new"][0], res.flow["flow_base"][0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(res.country["welfare_pct"][0], 0.0, atol=1e-12)
    assert res.flow["flow_new"][1, 2, 0, 1] > res.flow["flow_base"][1, 2, 0, 1]
    # (c) world income = world expenditure, deficits sum to zero
    _world_identities(eq, base, w.io_coefficients, tb)


def test_purchase_welfare_is_at_baseline_tastes():
    """P_hat is X̂/Q̂ with Q the baseline-taste CES quantity (elasticity θ+1) of the bundle bought."""
    w = random_world(seed=22, io=True)
    n, s = w.n_countries, w.n_sectors
    rng = np.random.default_rng(3)
    tb = np.broadcast_to(rng.uniform(0, 0.1, (n, n, s)), (1, n, n, s))
    tn = tb + rng.uniform(0, 0.1, (1, n, n, s))
    A = np.zeros((1, n, n, s))
    A[0, 1, 0, :] = [20.0, 10.0, 5.0]
    theta = np.array([4.0, 5.0, 6.0])
    base = calibrate(w.flows, tb, w.value_added_share, w.io_coefficients)
    delta, _ = taste_shifter(base, A)
    eq = solve_equilibrium(base, tn, theta, taste=delta)
    tau0, tau1 = base.tariff, tn.copy()
    tau1[:, np.arange(n), np.arange(n), :] = 0
    p_hat = (1 + tau1) / (1 + tau0) * eq.c_hat[:, :, None, :]  # delivered price change κ̂ ĉ_i
    with np.errstate(divide="ignore", invalid="ignore"):
        q_hat = np.where(
            base.pi > 0, eq.pi * eq.expenditure[:, None] / (base.pi * base.expenditure[:, None]) / p_hat, 0
        )
    r = theta / (theta + 1)
    Q_hat = np.einsum("binj,binj->bnj", base.pi, q_hat**r) ** (1 / r)
    np.testing.assert_allclose(eq.P_hat, (eq.expenditure / base.expenditure) / Q_hat, rtol=1e-9)
    # the taste-blind CES index is a lower bound
    P_ces = np.einsum("binj,binj->bnj", base.pi, p_hat**-theta) ** (-1 / theta)
    assert np.all(eq.P_hat >= P_ces * (1 - 1e-12)) and np.any(eq.P_hat > P_ces * (1 + 1e-6))


def test_purchase_that_cannot_be_represented_raises(world):
    u, k = world.country_index("USA"), world.country_index("KOR")
    A = _zero(world)
    c19 = world.sector_index("C19")
    A[0, u, k, c19] = 2 * world.flows[:, k, c19].sum()  # more than Korea buys of C19 in all
    with pytest.raises(DataError, match="purchase commitment of KOR from USA in sector C19"):
        run_ge(Shocks.from_rates(world, _zero(world)[0], _zero(world)[0], demand_shift=A))
    w = random_world(seed=23, io=False)
    flows = w.flows.copy()
    flows[1, 0, 0] = 0.0
    w0 = type(w)(w.countries, w.sectors, flows)
    A = np.zeros((1, 5, 5, 3))
    A[0, 1, 0, 0] = 1.0
    with pytest.raises(DataError, match="positive baseline flow"):
        run_ge(Shocks.from_rates(w0, A[0] * 0, A[0] * 0, demand_shift=A), 5.0)


# ------------------------------------------------------------------------- currency
def test_currency_neutral_by_default_with_warning(world):
    cur = np.zeros((1, world.n_countries))
    cur[0, world.country_index("KOR")] = 0.05 * 0.5
    z = _zero(world)[0]
    with pytest.warns(UserWarning, match="nominal appreciation is neutral"):
        res = run_ge(Shocks.from_rates(world, z, z, currency=cur))
    plain = run_ge(Shocks.from_rates(world, z, z))
    np.testing.assert_array_equal(res.flow["flow_new"], plain.flow["flow_new"])
    assert res.provenance["currency"].startswith("ignored")
    assert any("currency" in w for w in res.provenance["warnings"])
    with pytest.raises(DataError, match="'currency' parameter of run_ge"):
        run_ge(Shocks.from_rates(world, z, z), currency="peg")


def test_currency_wedge(world):
    n = world.n_countries
    k = world.country_index("KOR")
    c = 0.05 * 0.5
    cur = np.zeros((3, n))
    cur[0, k] = c
    cur[1] = 0.04  # every currency appreciates alike: neutral
    z = _zero(world, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the wedge is a treatment, not an ignored shock
        res = run_ge(Shocks(world, ("kor", "all", "none"), z, z, currency=cur), currency="wedge")
    np.testing.assert_allclose(res.flow["flow_new"][1], res.flow["flow_base"][1], rtol=1e-12)
    np.testing.assert_allclose(res.country["welfare_pct"][1], 0.0, atol=1e-12)
    # the same as an iceberg shock (1 + c) on Korea's exports and 1/(1 + c) on its imports
    ntb = _zero(world)
    ntb[0, k, :, :] = c
    ntb[0, :, k, :] = 1 / (1 + c) - 1
    ntb[0, k, k, :] = 0
    same = run_ge(Shocks.from_rates(world, z[0], z[0], ntb=ntb))
    np.testing.assert_allclose(res.flow["flow_new"][0], same.flow["flow_new"][0], rtol=1e-9)
    col = res.country
    assert col["exports_pct"][0, k] < 0  # Korean goods dearer abroad
    # a trade cost: the ACR identity holds (no IO in the default world)
    np.testing.assert_allclose(1 + col["real_wage_pct"] / 100, 1 + col["acr_real_wage_pct"] / 100, rtol=0, atol=1e-10)
    assert "wedge" in res.provenance["currency"]


# ----------------------------------------------- ntb, productivity, deficit (Korea scenarios)
def test_ntb_removal_on_us_services_to_korea(world):
    k, u, serv = world.country_index("KOR"), world.country_index("USA"), world.sector_index("SERV")
    ntb = _zero(world)
    ntb[0, u, k, serv] = -0.05  # a 5% AVE barrier removed
    z = _zero(world)[0]
    res = run_ge(Shocks.from_rates(world, z, z, ntb=ntb))
    f0, f1 = res.flow["flow_base"][0], res.flow["flow_new"][0]
    assert f1[u, k, serv] > f0[u, k, serv]  # Korea imports more US services
    assert res.country["exports_pct"][0, u] > 0
    assert res.country["welfare_pct"][0, k] > 0
    np.testing.assert_allclose(res.country["tariff_revenue_change"][0], 0.0, atol=1e-9)  # iceberg: no revenue
    np.testing.assert_allclose(
        1 + res.country["real_wage_pct"] / 100, 1 + res.country["acr_real_wage_pct"] / 100, rtol=0, atol=1e-10
    )


def test_productivity_korean_shipbuilding(world):
    k, ship = world.country_index("KOR"), world.sector_index("C301")
    zhat = np.ones((1, world.n_countries, world.n_sectors))
    zhat[0, k, ship] = 1.05
    z = _zero(world)[0]
    res = run_ge(Shocks.from_rates(world, z, z, productivity=zhat))
    f0, f1 = res.flow["flow_base"][0], res.flow["flow_new"][0]
    others = [i for i in range(world.n_countries) if i != k]
    assert f1[k, others, ship].sum() > f0[k, others, ship].sum()  # Korean ship exports up
    assert res.country["real_wage_pct"][0, k] > 0
    np.testing.assert_allclose(
        1 + res.country["real_wage_pct"] / 100, 1 + res.country["acr_real_wage_pct"] / 100, rtol=0, atol=1e-10
    )


def test_deficit_transfer_korea_to_us(world):
    k, u = world.country_index("KOR"), world.country_index("USA")
    change = np.zeros((1, world.n_countries))
    change[0, u], change[0, k] = 35_000.0, -35_000.0  # KOR pays, USA receives
    z = _zero(world)[0]
    res = run_ge(Shocks.from_rates(world, z, z, deficit_change=change))
    f0, f1 = res.flow["flow_base"][0], res.flow["flow_new"][0]
    d0 = f0.sum(axis=(0, 2)) - f0.sum(axis=(1, 2))  # purchases − sales
    d1 = f1.sum(axis=(0, 2)) - f1.sum(axis=(1, 2))
    scale = f0.sum()
    np.testing.assert_allclose(d1 - d0, change[0], atol=1e-9 * scale)  # recipient's deficit up by the amount
    assert abs(d1.sum()) < 1e-9 * scale  # world deficits sum to zero
    np.testing.assert_allclose(res.country["trade_balance_change"][0], -change[0], atol=1e-9 * scale)
    assert res.country["welfare_pct"][0, u] > 0 > res.country["welfare_pct"][0, k]
