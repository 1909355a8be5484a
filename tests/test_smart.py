"""WITS SMART (kernels.smart, models.pe.run_smart): hand-worked cases and invariants.

The hand-worked world: one importer IMP buying one sector S from partners A (100) and
B (50), plus 1000 of domestic sales on the diagonal (which SMART must ignore).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tariffsim import Shocks, TradeWorld
from tariffsim.errors import DataError
from tariffsim.kernels.smart import smart
from tariffsim.models.parameters import PEParameters, pe_defaults
from tariffsim.models.pe import run_smart

IMP, A, B = 0, 1, 2


def small_world() -> TradeWorld:
    flows = np.zeros((3, 3, 1))
    flows[A, IMP, 0] = 100.0
    flows[B, IMP, 0] = 50.0
    flows[IMP, IMP, 0] = 1000.0  # domestic: not an import
    return TradeWorld(("IMP", "A", "B"), ("S",), flows)


def params(eta=2.0, sigma=1.5, eps=np.inf) -> PEParameters:
    return PEParameters([eta], [sigma], [eps], sectors=("S",))


def shocks(t0_a=0.0, t0_b=0.0, t1_a=0.0, t1_b=0.0, **kw) -> Shocks:
    w = small_world()
    t0 = np.zeros((3, 3, 1))
    t1 = np.zeros((3, 3, 1))
    t0[A, IMP, 0], t0[B, IMP, 0] = t0_a, t0_b
    t1[A, IMP, 0], t1[B, IMP, 0] = t1_a, t1_b
    return Shocks.from_rates(w, t0, t1, **kw)


def flow(result, name, exporter):
    return result.flow[name][0, exporter, IMP, 0]


def col(result, name, country=IMP):
    return result.country[name][0, country]


# ----------------------------------------------------------------- hand-worked cases
def test_linear_creation_diversion_revenue_welfare_infinite_supply():
    """A's tariff 0 -> 10%, η = 2, σ = 1.5, ε = inf.

    t̂_A = 0.1/1 = 0.1, t̂_B = 0.
    TC_A = -η M_A t̂_A = -2 * 100 * 0.1 = -20; TC_B = 0.
    t̄ = (100 * 0.1 + 50 * 0)/150 = 1/15.
    TD_A = σ M_A (t̄ - t̂_A) = 1.5 * 100 * (1/15 - 1/10) = -5; TD_B = 1.5 * 50 * (1/15) = +5.
    M'_A = 100 - 20 - 5 = 75; M'_B = 50 + 5 = 55.
    Revenue: 0.1 * 75 = 7.5 (baseline 0).
    WITS welfare ½ Σ (t - t')ΔM = ½ (-0.1)(-25) = 1.25.
    CS (trapezoid) = -0.1 (100 + 75)/2 = -8.75; net welfare = -8.75 + 7.5 = -1.25.
    """
    r = run_smart(shocks(t1_a=0.10), params(), method="linear")
    assert flow(r, "trade_creation", A) == pytest.approx(-20.0)
    assert flow(r, "trade_creation", B) == pytest.approx(0.0)
    assert flow(r, "trade_diversion", A) == pytest.approx(-5.0)
    assert flow(r, "trade_diversion", B) == pytest.approx(5.0)
    assert flow(r, "flow_new", A) == pytest.approx(75.0)
    assert flow(r, "flow_new", B) == pytest.approx(55.0)
    assert col(r, "tariff_revenue") == pytest.approx(7.5)
    assert col(r, "tariff_revenue_change") == pytest.approx(7.5)
    assert col(r, "welfare_wits") == pytest.approx(1.25)
    assert col(r, "consumer_surplus") == pytest.approx(-8.75)
    assert col(r, "welfare_change") == pytest.approx(-1.25)
    assert col(r, "imports") == pytest.approx(130.0)
    assert col(r, "imports_pct") == pytest.approx(100 * (130 / 150 - 1))
    assert col(r, "etr") == pytest.approx(7.5 / 130)
    assert col(r, "exports", A) == pytest.approx(75.0)
    assert r.flow["flow_new"][0, IMP, IMP, 0] == 0.0  # the diagonal is not an import


def test_linear_finite_supply_price_effect():
    """Same shock, ε = 2 (η/ε = 1).

    TC_A = -η M t̂ /(1 + η/ε) = -20/2 = -10; p̂_A = -η/(η+ε) t̂ = -0.5 * 0.1 = -0.05.
    Quantity 100 - 10 - 5 = 85, customs value 85 * 0.95 = 80.75, price effect -4.25.
    Revenue 0.1 * 80.75 = 8.075.
    PS_A = p̂ (q + q')/2 = -0.05 * 92.5 = -4.625.
    CS = -[1.1 * 0.95 - 1] * 92.5 = -0.045 * 92.5 = -4.1625.
    """
    r = run_smart(shocks(t1_a=0.10), params(eps=2.0), method="linear")
    assert flow(r, "trade_creation", A) == pytest.approx(-10.0)
    assert flow(r, "price_pct", A) == pytest.approx(-5.0)
    assert flow(r, "price_effect", A) == pytest.approx(-4.25)
    assert flow(r, "flow_new", A) == pytest.approx(80.75)
    assert flow(r, "price_pct", B) == 0.0
    assert col(r, "tariff_revenue") == pytest.approx(8.075)
    assert col(r, "producer_surplus", A) == pytest.approx(-4.625)
    assert col(r, "consumer_surplus") == pytest.approx(-4.1625)


def test_linear_diversion_ceiling():
    """Both at 25%, A's preference 25% -> 0, σ = 20 (very substitutable), η = 2.

    t̂_A = -0.25/1.25 = -0.2, t̂_B = 0; t̄ = 100 * (-0.2)/150 = -2/15.
    Raw TD_B = 20 * 50 * (-2/15) = -133.3 > M_B = 50: capped at -50 (WITS ceiling);
    raw TD_A = 20 * 100 * (-2/15 + 0.2) = +133.3, scaled to +50 so Σ TD = 0.
    TC_A = -2 * 100 * (-0.2) = +40. M'_A = 100 + 40 + 50 = 190, M'_B = 0.
    Revenue: baseline 0.25 * 150 = 37.5, new 0 * 190 + 0.25 * 0 = 0, change -37.5.
    """
    r = run_smart(shocks(0.25, 0.25, 0.0, 0.25), params(sigma=20.0), method="linear")
    assert flow(r, "trade_diversion", B) == pytest.approx(-50.0)
    assert flow(r, "trade_diversion", A) == pytest.approx(50.0)
    assert flow(r, "trade_creation", A) == pytest.approx(40.0)
    assert flow(r, "flow_new", A) == pytest.approx(190.0)
    assert flow(r, "flow_new", B) == pytest.approx(0.0)
    assert col(r, "tariff_revenue_change") == pytest.approx(-37.5)
    assert col(r, "trade_diversion") == pytest.approx(0.0, abs=1e-12)


def test_linear_clips_negative_flows_and_warns():
    """A: 0 -> 50% with η = 5: linear TC_A = -5 * 100 * 0.5 = -250 exceeds the flow.

    t̄ = 50/150 = 1/3; TD_A = 1.5 * 100 * (1/3 - 1/2) = -25; TD_B = +25.
    Raw M'_A = 100 - 250 - 25 = -175 -> clipped to 0; reported TC_A = 0 - 100 + 25 = -75.
    """
    with pytest.warns(UserWarning, match="clipped at zero"):
        r = run_smart(shocks(t1_a=0.5), params(eta=5.0), method="linear")
    assert flow(r, "flow_new", A) == 0.0
    assert flow(r, "trade_creation", A) == pytest.approx(-75.0)
    assert flow(r, "trade_diversion", A) == pytest.approx(-25.0)
    assert flow(r, "flow_new", B) == pytest.approx(75.0)
    assert any("clipped" in w for w in r.provenance["warnings"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = run_smart(shocks(t1_a=0.5), params(eta=5.0), method="exact")  # never clips
    assert flow(exact, "flow_new", A) > 0


def test_exact_hand_worked_sigma_equals_eta():
    """η = σ = 2, ε = inf: demand for each variety is independent, q̂_k = T̂_k^(-2).

    M'_A = 100/1.1² = 82.6446..., M'_B = 50. Q' = 132.6446, Q = 150.
    TC_k = M_k (Q'/Q - 1): TC_A = -11.570, TC_B = -5.785; TD_A = 82.6446 - 100 Q'/Q = -5.785 = -TD_B.
    CS = ∫_1^1.1 100 p^-2 dp = 100 (1 - 1/1.1) = 9.0909 lost; revenue 0.1 * 82.6446.
    """
    r = run_smart(shocks(t1_a=0.10), params(eta=2.0, sigma=2.0), method="exact")
    ma = 100 / 1.1**2
    ratio = (ma + 50) / 150
    assert flow(r, "flow_new", A) == pytest.approx(ma, rel=1e-12)
    assert flow(r, "flow_new", B) == pytest.approx(50.0, rel=1e-12)
    assert flow(r, "trade_creation", A) == pytest.approx(100 * (ratio - 1), rel=1e-12)
    assert flow(r, "trade_creation", B) == pytest.approx(50 * (ratio - 1), rel=1e-12)
    assert flow(r, "trade_diversion", A) == pytest.approx(ma - 100 * ratio, rel=1e-12)
    assert flow(r, "trade_diversion", B) == pytest.approx(-(ma - 100 * ratio), rel=1e-12)
    assert col(r, "consumer_surplus") == pytest.approx(-100 * (1 - 1 / 1.1), rel=1e-12)
    assert col(r, "tariff_revenue") == pytest.approx(0.1 * ma, rel=1e-12)
    assert r.solver.all_converged and r.solver.max_residual[0] < 1e-12


def test_exact_and_linear_agree_on_market_totals_for_small_changes():
    """To first order both give ΔQ = -η Σ M t̂ (t0 = 0 so internal and world shares agree)."""
    dt = 1e-4
    lin = run_smart(shocks(t1_a=dt, t1_b=dt / 3), params(eta=3.0, sigma=2.0), method="linear")
    ex = run_smart(shocks(t1_a=dt, t1_b=dt / 3), params(eta=3.0, sigma=2.0), method="exact")
    d_lin = col(lin, "imports") - 150.0
    d_ex = col(ex, "imports") - 150.0
    assert d_ex == pytest.approx(d_lin, rel=1e-3)


# ----------------------------------------------------------------- invariants
@pytest.mark.parametrize("method", ["linear", "exact"])
@pytest.mark.parametrize("eps", [np.inf, 1.5])
def test_zero_tariff_change_gives_exactly_zero(method, eps):
    r = run_smart(shocks(0.1, 0.3, 0.1, 0.3), params(eps=eps), method=method)
    for name in ("trade_creation", "trade_diversion", "price_effect", "price_pct"):
        assert np.all(r.flow[name] == 0.0), name
    np.testing.assert_array_equal(r.flow["flow_new"], r.flow["flow_base"])
    for name in ("tariff_revenue_change", "consumer_surplus", "producer_surplus", "welfare_change",
                 "trade_balance_change"):
        assert np.all(r.country[name] == 0.0), name
    assert col(r, "imports_pct") == 0.0
    assert np.isnan(col(r, "imports_pct", A))  # A imports nothing: percent change undefined


def random_world(rng, n=5, s=3) -> TradeWorld:
    flows = rng.lognormal(3.0, 1.5, (n, n, s))
    flows[rng.random((n, n, s)) < 0.15] = 0.0
    return TradeWorld(tuple(f"C{i}" for i in range(n)), tuple(f"S{k}" for k in range(s)), flows)


@pytest.mark.parametrize("method", ["linear", "exact"])
def test_batch_equals_one_at_a_time(method):
    rng = np.random.default_rng(1)
    w = random_world(rng)
    b, n, s = 6, w.n_countries, w.n_sectors
    t0 = rng.uniform(0, 0.2, (b, n, n, s))
    t1 = t0 + rng.uniform(-0.05, 0.1, (b, n, n, s)).clip(-t0)
    p = PEParameters(rng.uniform(0.5, 1.0, s), rng.uniform(1, 4, s), [np.inf, 2.0, 50.0], sectors=w.sectors)
    batch = run_smart(Shocks.from_rates(w, t0, t1), p, method=method)
    for k in range(b):
        one = run_smart(Shocks.from_rates(w, t0[k], t1[k]), p, method=method)
        for name, arr in one.country.items():
            np.testing.assert_allclose(batch.country[name][k], arr[0], rtol=1e-12, atol=1e-9, err_msg=name)
        for name, arr in one.flow.items():
            np.testing.assert_allclose(batch.flow[name][k], arr[0], rtol=1e-12, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("method", ["linear", "exact"])
@pytest.mark.parametrize("eps", [np.inf, 3.0])
def test_uniform_increase_on_all_partners_gives_no_diversion(method, eps):
    rng = np.random.default_rng(2)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    t0 = np.full((n, n, s), 0.05)
    t1 = np.full((n, n, s), 0.20)
    r = run_smart(Shocks.from_rates(w, t0, t1), PEParameters([0.8] * s, [2.0] * s, [eps] * s), method=method)
    np.testing.assert_allclose(r.flow["trade_diversion"], 0.0, atol=1e-9)
    assert np.all(r.flow["trade_creation"] <= 1e-12)


@pytest.mark.parametrize("method", ["linear", "exact"])
def test_diversion_sums_to_zero_per_market(method):
    rng = np.random.default_rng(3)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    t1 = rng.uniform(0, 0.2, (4, n, n, s))
    r = run_smart(Shocks.from_rates(w, np.zeros_like(t1), t1), PEParameters([1.0] * s, [3.0] * s, [np.inf] * s),
                  method=method)
    np.testing.assert_allclose(r.flow["trade_diversion"].sum(axis=1), 0.0, atol=1e-9)
    flows = r.flow
    np.testing.assert_allclose(
        flows["flow_new"],
        flows["flow_base"] + flows["trade_creation"] + flows["trade_diversion"] + flows["price_effect"],
        atol=1e-9,
    )


def test_demand_shift_counts_as_creation():
    """A purchase commitment of 30 from A with no tariff change: M'_A = 130, TC_A = 30, TD = 0."""
    w = small_world()
    d = np.zeros((1, 3, 3, 1))
    d[0, A, IMP, 0] = 30.0
    sh = Shocks.from_rates(w, np.zeros((3, 3, 1)), np.zeros((3, 3, 1)), demand_shift=d)
    for method in ("linear", "exact"):
        r = run_smart(sh, params(), method=method)
        assert flow(r, "flow_new", A) == pytest.approx(130.0)
        assert flow(r, "trade_creation", A) == pytest.approx(30.0)
        assert flow(r, "trade_diversion", A) == pytest.approx(0.0, abs=1e-12)
        assert flow(r, "flow_new", B) == pytest.approx(50.0)


def test_ignored_shock_warns_and_is_recorded():
    w = small_world()
    ntb = np.full((1, 3, 3, 1), 0.05)
    sh = Shocks.from_rates(w, np.zeros((3, 3, 1)), np.zeros((3, 3, 1)), ntb=ntb)
    with pytest.warns(UserWarning, match=r"non-tariff barriers \(ntb\) shock is ignored"):
        r = run_smart(sh, params(), method="linear")
    assert any("ntb" in msg for msg in r.provenance["warnings"])
    assert r.provenance["method"] == "linear"
    assert r.provenance["parameters"]["substitution"] == [1.5]


def test_kernel_accepts_batch_of_baselines():
    """imports of shape (B, n, n, S) broadcast like (n, n, S)."""
    w = small_world()
    t1 = np.zeros((2, 3, 3, 1))
    t1[:, A, IMP, 0] = 0.1
    one = smart(w.flows, np.zeros_like(t1), t1, [2.0], [1.5], [np.inf])
    two = smart(np.broadcast_to(w.flows, t1.shape), np.zeros_like(t1), t1, [2.0], [1.5], [np.inf])
    np.testing.assert_array_equal(one.flow_new, two.flow_new)


# ----------------------------------------------------------------- errors
def test_unknown_method_lists_valid_ones():
    with pytest.raises(
        DataError, match=r"The 'method' parameter of run_smart must be a str among .*'exact'.* Got 'lin' instead"
    ):
        run_smart(shocks(t1_a=0.1), params(), method="lin")


def test_parameters_for_other_sectors():
    with pytest.raises(DataError, match=r"PE parameters have 2 sector value\(s\) but the world has 1 sectors"):
        run_smart(shocks(t1_a=0.1), PEParameters([1, 1], [1, 1], [1, 1]))


def test_rates_below_minus_one_are_rejected():
    with pytest.raises(
        DataError, match=r"tariff_new of scenario 'scenario_0' is -1.5 for exporter=A, importer=IMP, sector=S"
    ):
        run_smart(shocks(t1_a=-1.5), params())


def test_flows_false_keeps_country_columns():
    full = run_smart(shocks(t1_a=0.1), params())
    lean = run_smart(shocks(t1_a=0.1), params(), flows=False)
    assert lean.flow == {}
    for name, arr in full.country.items():
        np.testing.assert_array_equal(lean.country[name], arr)


def test_nan_rates_are_rejected():
    with pytest.raises(
        DataError, match=r"tariff_base of scenario 'scenario_0' is nan .* rates must be finite and > -1"
    ):
        run_smart(shocks(t0_a=np.nan), params())


# ----------------------------------------------------------------- defaults, currency, active columns
def world_with_home(rng, n=5, s=3) -> TradeWorld:
    """Random flows with large domestic sales on the diagonal (import shares well inside (0, 1))."""
    flows = rng.lognormal(3.0, 1.0, (n, n, s))
    flows[np.arange(n), np.arange(n)] *= 20.0
    return TradeWorld(tuple(f"C{i}" for i in range(n)), tuple(f"S{k}" for k in range(s)), flows)


@pytest.mark.parametrize("method", ["linear", "exact"])
def test_exempt_partner_gains_when_all_others_are_taxed(method):
    """Default-style parameters (σ = 1 + θ, η = σ(1 - m) + m <= σ): sources are substitutes, so
    a tariff on everyone but C1 raises imports from C1 in every sector (what GE says too).
    5%: small enough for the linear formulas not to clip with σ up to 11.6."""
    rng = np.random.default_rng(5)
    w = world_with_home(rng)
    n = w.n_countries
    t1 = np.zeros((n, n, w.n_sectors))
    t1[:, 0, :] = 0.05
    t1[1, 0, :] = 0.0  # C1 exempt in importer C0's market
    p = pe_defaults(w.sectors, trade_elasticity=[2.9, 5.0, 10.6], world=w)
    r = run_smart(Shocks.from_rates(w, np.zeros_like(t1), t1), p, method=method)
    assert np.all(r.flow["flow_new"][0, 1, 0] > w.flows[1, 0])
    assert np.all(r.flow["flow_new"][0, 2:, 0] < w.flows[2:, 0])  # the taxed partners lose
    assert np.all(r.flow["trade_diversion"][0, 1, 0] > 0)


@pytest.mark.parametrize("method", ["linear", "exact"])
def test_currency_appreciation_moves_trade_and_zero_is_exactly_nothing(method):
    """C2 appreciates 10% (x pass-through): wedge (1 + 0.1)/(1 + 0) on its exports, 1/1.1 on its imports."""
    rng = np.random.default_rng(6)
    w = world_with_home(rng)
    n, s = w.n_countries, w.n_sectors
    t0 = np.full((2, n, n, s), 0.05)
    p = pe_defaults(w.sectors, source=None, world=w)
    c = np.zeros((2, n))
    c[1, 2] = 0.10
    r = run_smart(Shocks.from_rates(w, t0, t0, currency=c), p, method=method)
    plain = run_smart(Shocks.from_rates(w, t0, t0), p, method=method)
    for name, arr in plain.flow.items():  # zero appreciation: exactly no change
        np.testing.assert_array_equal(r.flow[name][0], arr[0], err_msg=name)
    for name, arr in plain.country.items():
        np.testing.assert_array_equal(r.country[name][0], arr[0], err_msg=name)
    np.testing.assert_array_equal(r.flow["flow_new"][0], r.flow["flow_base"][0])
    new, base = r.flow["flow_new"][1], r.flow["flow_base"][1]
    others = [j for j in range(n) if j != 2]
    assert np.all(new[2, others].sum(axis=-1) < base[2, others].sum(axis=-1))  # exports fall in every market
    assert new[:, 2].sum() > base[:, 2].sum()  # imports into C2 rise
    assert r.country["tariff_revenue"][1, 2] > r.country["tariff_revenue"][0, 2]  # on more imports, same rates
    assert r.country["consumer_surplus"][1, 2] > 0  # cheaper imports


def test_importer_specific_import_demand_broadcasts():
    """η of shape (n, S) with equal rows gives exactly the (S,) answer; rows act per importer."""
    rng = np.random.default_rng(7)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    t1 = rng.uniform(0, 0.3, (2, n, n, s))
    sh = Shocks.from_rates(w, np.zeros_like(t1), t1)
    eta = np.array([1.5, 2.0, 3.0])
    for method in ("linear", "exact"):
        one = run_smart(sh, PEParameters(eta, [2.5] * s, [4.0] * s), method=method)
        two = run_smart(sh, PEParameters(np.tile(eta, (n, 1)), [2.5] * s, [4.0] * s), method=method)
        np.testing.assert_array_equal(one.flow["flow_new"], two.flow["flow_new"])
        rows = np.tile(eta, (n, 1))
        rows[3] = 0.7  # only importer C3's markets change
        three = run_smart(sh, PEParameters(rows, [2.5] * s, [4.0] * s), method=method)
        moved = ~np.isclose(three.flow["flow_new"], one.flow["flow_new"], rtol=1e-13, atol=0)
        assert moved[:, :, 3].any() and not moved[:, :, [0, 1, 2, 4]].any()


@pytest.mark.parametrize("method", ["linear", "exact"])
def test_batch_with_different_importers_equals_one_at_a_time(method):
    """Scenario k changes importer k's tariffs only: the batch computes the union of columns."""
    rng = np.random.default_rng(8)
    w = world_with_home(rng)
    n, s = w.n_countries, w.n_sectors
    t0 = np.full((3, n, n, s), 0.02)
    t1 = t0.copy()
    for k in range(3):
        t1[k, :, k, :] = rng.uniform(0, 0.08, (n, s))  # small: linear SMART must not clip (η, σ <= 5)
    p = pe_defaults(w.sectors, source=None)
    batch = run_smart(Shocks.from_rates(w, t0, t1), p, method=method)
    lean = run_smart(Shocks.from_rates(w, t0, t1), p, method=method, flows=False)
    for k in range(3):
        one = run_smart(Shocks.from_rates(w, t0[k], t1[k]), p, method=method)
        for name, arr in one.country.items():
            np.testing.assert_allclose(batch.country[name][k], arr[0], rtol=1e-12, atol=1e-9, err_msg=name)
            np.testing.assert_array_equal(lean.country[name][k], batch.country[name][k], err_msg=name)
        for name, arr in one.flow.items():
            np.testing.assert_allclose(batch.flow[name][k], arr[0], rtol=1e-12, atol=1e-9, err_msg=name)
    untouched = [j for j in range(n) if j >= 3]
    np.testing.assert_array_equal(batch.flow["flow_new"][:, :, untouched], batch.flow["flow_base"][:, :, untouched])
