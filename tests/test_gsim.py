"""GSIM (kernels.gsim, models.pe.run_gsim): market clearing, links to SMART and to F&H."""

from __future__ import annotations

import numpy as np
import pytest

from tariffsim import Shocks, TradeWorld
from tariffsim.errors import ConvergenceError, DataError
from tariffsim.models.parameters import PEParameters, pe_defaults
from tariffsim.models.pe import run_gsim, run_smart
from tariffsim.results import SolverInfo


def random_world(rng, n=6, s=4, zeros=0.15) -> TradeWorld:
    flows = rng.lognormal(3.0, 1.5, (n, n, s))
    flows[rng.random((n, n, s)) < zeros] = 0.0
    return TradeWorld(tuple(f"C{i}" for i in range(n)), tuple(f"S{k}" for k in range(s)), flows)


def random_shocks(rng, w, b=3, top=0.4) -> Shocks:
    n, s = w.n_countries, w.n_sectors
    t0 = rng.uniform(0, 0.15, (b, n, n, s))
    t1 = rng.uniform(0, top, (b, n, n, s))
    return Shocks.from_rates(w, t0, t1)



def fh_linear_reference(flows, t0, t1, eta, sigma, eps):
    """Francois & Hall's linear GSIM for one sector, built by hand (MODELS.md §3).

    Returns the off-diagonal mask, baseline imports M, world prices P̂* and import changes M̂.
    Linear system in P̂*: Σ_v φ_rv [(E_m+E_s) Σ_s θ_sv (T̂_sv + P̂*_s) - E_s (T̂_rv + P̂*_r)] = E_x P̂*_r.
    """
    n = flows.shape[0]
    off = 1 - np.eye(n)
    m = flows[:, :, 0] * off
    T0, T_hat = 1 + t0[:, :, 0], (1 + t1[:, :, 0]) / (1 + t0[:, :, 0]) - 1
    theta = m * T0 / (m * T0).sum(axis=0, keepdims=True)
    phi = m / m.sum(axis=1, keepdims=True)
    e_m, e_s, e_x = -eta, sigma, eps
    a = (e_m + e_s) * phi @ theta.T - np.diag(e_s * phi.sum(axis=1) + e_x)
    rhs = -(phi * ((e_m + e_s) * (theta * T_hat).sum(axis=0)[None, :] - e_s * T_hat)).sum(axis=1)
    p_star = np.linalg.solve(a, rhs)
    m_hat = (e_m + e_s) * (theta * (T_hat + p_star[:, None])).sum(axis=0)[None, :] - e_s * (T_hat + p_star[:, None])
    return off, m, p_star, m_hat

def test_hand_worked_one_importer_one_exporter():
    """C0 imports 100 from C1 only; η = 2, ε = 2, tariff 0 -> 21% (T̂ = 1.21).

    One variety: P̂ = T̂ p, q̂ = P̂^-η; clearing q̂ = p^ε gives p^(ε+η) = T̂^-η,
    p = 1.21^(-1/2) = 1/1.1. q̂ = p² = 1/1.21; customs value 100 q̂ p = 100/1.1³ = 75.13.
    Revenue 0.21 * 75.13 = 15.78. PS = 100 (p³ - 1)/3 = -8.29.
    CS = -100 (P̂^(1-η) - 1)/(1-η) with P̂ = 1.1: -100 (1 - 1/1.1) = -9.09.
    """
    flows = np.zeros((2, 2, 1))
    flows[1, 0, 0] = 100.0
    flows[0, 0, 0] = flows[1, 1, 0] = 500.0  # domestic: ignored
    w = TradeWorld(("C0", "C1"), ("S",), flows)
    t1 = np.zeros((2, 2, 1))
    t1[1, 0, 0] = 0.21
    r = run_gsim(Shocks.from_rates(w, np.zeros_like(t1), t1), PEParameters([2.0], [1.5], [2.0]))
    value = 100 / 1.1**3
    assert r.flow["flow_new"][0, 1, 0, 0] == pytest.approx(value, rel=1e-12)
    assert r.flow["price_pct"][0, 1, 0, 0] == pytest.approx(100 * (1 / 1.1 - 1), rel=1e-12)
    assert r.country["tariff_revenue"][0, 0] == pytest.approx(0.21 * value, rel=1e-12)
    assert r.country["producer_surplus"][0, 1] == pytest.approx(100 * (1.1**-3 - 1) / 3, rel=1e-12)
    assert r.country["consumer_surplus"][0, 0] == pytest.approx(-100 * (1 - 1 / 1.1), rel=1e-12)
    assert r.country["welfare_change"][0].sum() == pytest.approx(
        0.21 * value + 100 * (1.1**-3 - 1) / 3 - 100 * (1 - 1 / 1.1), rel=1e-12
    )


@pytest.mark.parametrize("eps", [0.5, 2.0, 20.0])
def test_markets_clear(eps):
    rng = np.random.default_rng(10)
    w = random_world(rng)
    sh = random_shocks(rng, w)
    p = PEParameters(rng.uniform(0.5, 4, w.n_sectors), rng.uniform(0.5, 6, w.n_sectors), [eps] * w.n_sectors)
    r = run_gsim(sh, p)
    assert r.solver.all_converged
    assert np.all(r.solver.max_residual < 1e-12)
    # supply X_r p^(1+ε) (value) must equal the customs value of r's sales over all markets
    off = w.flows * (1 - np.eye(w.n_countries))[:, :, None]
    x = off.sum(axis=1)  # (n, S)
    price = 1 + r.flow["price_pct"][:, :, :, :] / 100  # same for all of r's export flows
    p_r = price.max(axis=2)  # (B, n, S): the diagonal carries 0 %, exports carry the price
    p_r = np.where(x > 0, np.take_along_axis(price, np.argmax(off > 0, axis=1)[None, :, None, :], axis=2)[:, :, 0], 1)
    supply = x * p_r ** (1 + eps)
    demand = r.flow["flow_new"].sum(axis=2)
    np.testing.assert_allclose(demand, supply, rtol=1e-10, atol=1e-10 * x.max())


def test_infinite_supply_matches_smart_exact():
    """Correspondence: GSIM's E_m = -η, E_s = σ, E_x = ∞ is SMART exact with η, σ, ε_X = ∞.

    With E_x = ∞ world prices stay at 1 and GSIM splits into independent markets, each a
    SMART market with constant-elasticity composite demand η and CES substitution σ.
    """
    rng = np.random.default_rng(11)
    w = random_world(rng)
    sh = random_shocks(rng, w, top=1.5)
    s = w.n_sectors
    p = PEParameters(rng.uniform(0.5, 4, s), rng.uniform(0.5, 6, s), [np.inf] * s)
    g = run_gsim(sh, p)
    m = run_smart(sh, p, method="exact")
    for name in ("flow_new", "trade_creation", "trade_diversion"):
        np.testing.assert_allclose(g.flow[name], m.flow[name], rtol=1e-10, atol=1e-9, err_msg=name)
    for name in ("imports", "exports", "tariff_revenue", "consumer_surplus", "welfare_change"):
        np.testing.assert_allclose(g.country[name], m.country[name], rtol=1e-10, atol=1e-9, err_msg=name)
    assert np.all(g.solver.iterations == 0)


def test_first_order_matches_francois_hall_equations():
    """For a small shock the solution solves MODELS.md §3 (F&H 2003) to first order.

    M̂_rv = N_rv,rv (T̂_rv + P̂*_r) + Σ_s≠r N_rv,sv (T̂_sv + P̂*_s), with
    N_rv,rv = θ_rv E_m - (1-θ_rv) E_s, N_rv,sv = θ_sv (E_m + E_s), and Σ_v φ_rv M̂_rv = E_x P̂*_r.
    """
    rng = np.random.default_rng(12)
    n = 5
    flows = rng.lognormal(3, 1, (n, n, 1))  # every exporter sells everywhere
    w = TradeWorld(tuple(f"C{i}" for i in range(n)), ("S",), flows)
    t0 = rng.uniform(0, 0.2, (n, n, 1))
    t1 = t0 + 1e-5 * rng.uniform(-1, 1, (n, n, 1))
    eta, sigma, eps = 1.7, 3.2, 2.5
    r = run_gsim(Shocks.from_rates(w, t0, t1), PEParameters([eta], [sigma], [eps]))

    off, m, p_star, m_hat = fh_linear_reference(flows, t0, t1, eta, sigma, eps)

    price = r.flow["price_pct"][0, :, :, 0] / 100
    p_model = price[np.arange(n), (np.arange(n) + 1) % n]
    np.testing.assert_allclose(p_model, p_star, rtol=1e-3, atol=1e-9)
    q_hat = r.flow["flow_new"][0, :, :, 0] / (1 + p_model[:, None]) / np.where(off > 0, m, 1) - 1
    np.testing.assert_allclose(q_hat * off, m_hat * off, rtol=1e-3, atol=1e-9)


def test_zero_change_is_exactly_zero_and_needs_no_iteration():
    rng = np.random.default_rng(13)
    w = random_world(rng)
    t = rng.uniform(0, 0.3, (2, w.n_countries, w.n_countries, w.n_sectors))
    r = run_gsim(Shocks.from_rates(w, t, t), PEParameters([2.0] * 4, [3.0] * 4, [1.0] * 4))
    assert np.all(r.solver.iterations == 0)
    np.testing.assert_array_equal(r.flow["flow_new"], r.flow["flow_base"])
    for name in ("price_pct", "trade_creation", "trade_diversion", "price_effect"):
        assert np.all(r.flow[name] == 0.0), name
    for name in ("tariff_revenue_change", "consumer_surplus", "producer_surplus", "welfare_change"):
        assert np.all(r.country[name] == 0.0), name


def test_batch_equals_one_at_a_time():
    rng = np.random.default_rng(14)
    w = random_world(rng)
    sh = random_shocks(rng, w, b=5)
    p = PEParameters(rng.uniform(0.5, 4, 4), rng.uniform(0.5, 6, 4), [0.7, 3.0, np.inf, 99.0])
    batch = run_gsim(sh, p)
    for k in range(sh.batch_size):
        one = run_gsim(Shocks.from_rates(w, sh.tariff_base[k], sh.tariff_new[k]), p)
        for name, arr in one.country.items():
            np.testing.assert_allclose(batch.country[name][k], arr[0], rtol=1e-10, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(batch.flow["flow_new"][k], one.flow["flow_new"][0], rtol=1e-10, atol=1e-8)


def test_exporters_without_exports_give_no_nan():
    rng = np.random.default_rng(15)
    w0 = random_world(rng, zeros=0.0)
    flows = np.array(w0.flows)
    flows[0, 1:, 0] = 0.0  # C0 exports nothing in S0
    flows[:, :, 1] = 0.0  # nobody trades S1
    flows[2, 2, 1] = 10.0  # ... except at home
    w = TradeWorld(w0.countries, w0.sectors, flows)
    r = run_gsim(random_shocks(rng, w), PEParameters([2.0] * 4, [3.0] * 4, [1.0] * 4))
    assert r.solver.all_converged
    for name, arr in r.flow.items():
        if name != "flow_pct":
            assert np.all(np.isfinite(arr)), name
    for name, arr in r.country.items():
        if not name.endswith("_pct") and not name.startswith("etr"):
            assert np.all(np.isfinite(arr)), name
    assert np.all(r.flow["price_pct"][:, 0, :, 0] == 0.0)


def test_uniform_increase_with_infinite_supply_gives_no_diversion():
    rng = np.random.default_rng(16)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    r = run_gsim(Shocks.from_rates(w, np.zeros((n, n, s)), np.full((n, n, s), 0.25)),
                 PEParameters([1.0] * s, [4.0] * s, [np.inf] * s))
    np.testing.assert_allclose(r.flow["trade_diversion"], 0.0, atol=1e-9)


def test_purchase_commitment_raises_the_exporters_price():
    rng = np.random.default_rng(17)
    w = random_world(rng, zeros=0.0)
    n, s = w.n_countries, w.n_sectors
    d = np.zeros((1, n, n, s))
    d[0, 1, 0, 2] = 50.0  # C0 commits to buy 50 more of S2 from C1
    sh = Shocks.from_rates(w, np.zeros((n, n, s)), np.zeros((n, n, s)), demand_shift=d)
    r = run_gsim(sh, PEParameters([2.0] * s, [3.0] * s, [1.0] * s))
    assert r.flow["price_pct"][0, 1, 0, 2] > 0
    assert r.flow["flow_new"][0, 1, 0, 2] > w.flows[1, 0, 2]
    assert r.flow["trade_diversion"][0, :, 0, 2].sum() == pytest.approx(0.0, abs=1e-9)


def test_failure_raises_convergence_error_with_solver_info():
    rng = np.random.default_rng(18)
    w = random_world(rng)
    sh = random_shocks(rng, w, b=2)
    p = PEParameters([2.0] * 4, [3.0] * 4, [0.5] * 4)
    first = r"GSIM did not converge for 2 of 2 scenario\(s\), first 'scenario_0'"
    with pytest.raises(ConvergenceError, match=first) as err:
        run_gsim(sh, p, max_iter=1)
    assert isinstance(err.value.info, SolverInfo)
    assert not err.value.info.success.any()
    r = run_gsim(sh, p, max_iter=1, raise_on_failure=False)
    assert not r.solver.all_converged and r.solver.iterations.tolist() == [1, 1]


# ----------------------------------------------------------------- defaults, currency, η per importer
def world_with_home(rng, n=5, s=3) -> TradeWorld:
    flows = rng.lognormal(3.0, 1.0, (n, n, s))
    flows[np.arange(n), np.arange(n)] *= 20.0
    return TradeWorld(tuple(f"C{i}" for i in range(n)), tuple(f"S{k}" for k in range(s)), flows)


def test_exempt_partner_gains_when_all_others_are_taxed():
    """Default-style parameters (σ = 1 + θ, η = σ(1 - m) + m, ε_X = 99): 25% on everyone but C1
    in C0's market raises C1's sales to C0 in every sector."""
    rng = np.random.default_rng(20)
    w = world_with_home(rng)
    n = w.n_countries
    t1 = np.zeros((n, n, w.n_sectors))
    t1[:, 0, :] = 0.25
    t1[1, 0, :] = 0.0
    r = run_gsim(Shocks.from_rates(w, np.zeros_like(t1), t1), pe_defaults(w.sectors, trade_elasticity=[2.9, 5.0, 10.6]))
    assert r.solver.all_converged
    assert np.all(r.flow["flow_new"][0, 1, 0] > w.flows[1, 0])
    assert np.all(r.flow["flow_new"][0, 2:, 0] < w.flows[2:, 0])


def test_currency_appreciation_moves_trade_and_zero_is_exactly_nothing():
    rng = np.random.default_rng(21)
    w = world_with_home(rng)
    n, s = w.n_countries, w.n_sectors
    t0 = np.full((2, n, n, s), 0.05)
    p = pe_defaults(w.sectors, source=None)
    c = np.zeros((2, n))
    c[1, 2] = 0.10
    r = run_gsim(Shocks.from_rates(w, t0, t0, currency=c), p)
    plain = run_gsim(Shocks.from_rates(w, t0, t0), p)
    for name, arr in plain.flow.items():
        np.testing.assert_array_equal(r.flow[name][0], arr[0], err_msg=name)
    for name, arr in plain.country.items():
        np.testing.assert_array_equal(r.country[name][0], arr[0], err_msg=name)
    assert r.solver.iterations[0] == 0
    new, base = r.flow["flow_new"][1], r.flow["flow_base"][1]
    others = [j for j in range(n) if j != 2]
    assert np.all(new[2, others].sum(axis=-1) < base[2, others].sum(axis=-1))  # C2's exports fall everywhere
    assert new[:, 2].sum() > base[:, 2].sum()  # its imports rise
    assert np.all(r.flow["price_pct"][1, 2, others] < 0)  # and its world price falls (ε_X finite)


def test_importer_specific_import_demand_markets_clear_and_match_smart():
    """η (n, S): the Jacobian weights importer v by σ - η_v; Newton still converges quadratically,
    markets clear, and with ε = inf GSIM is SMART exact market by market."""
    rng = np.random.default_rng(22)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    sh = random_shocks(rng, w)
    eta = rng.uniform(0.5, 4, (n, s))
    r = run_gsim(sh, PEParameters(eta, rng.uniform(0.5, 6, s), [0.8, 2.0, 20.0, 99.0]))
    assert r.solver.all_converged and np.all(r.solver.iterations <= 8)
    g = run_gsim(sh, PEParameters(eta, [2.0] * s, [np.inf] * s))
    m = run_smart(sh, PEParameters(eta, [2.0] * s, [np.inf] * s), method="exact")
    np.testing.assert_allclose(g.flow["flow_new"], m.flow["flow_new"], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(g.country["consumer_surplus"], m.country["consumer_surplus"], rtol=1e-10, atol=1e-9)


def test_sectors_without_change_are_skipped_exactly():
    rng = np.random.default_rng(23)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    t0 = rng.uniform(0, 0.1, (2, n, n, s))
    t1 = t0.copy()
    t1[:, :, 0, 1] += 0.2  # sector S1 into C0 only
    p = PEParameters([2.0] * s, [3.0] * s, [1.0] * s)
    r = run_gsim(Shocks.from_rates(w, t0, t1), p)
    lean = run_gsim(Shocks.from_rates(w, t0, t1), p, flows=False)
    keep = [0, 2, 3]
    np.testing.assert_array_equal(r.flow["flow_new"][..., keep], r.flow["flow_base"][..., keep])
    assert np.all(r.flow["price_pct"][..., keep] == 0)
    for k in range(2):  # same as one at a time with every sector computed
        one = run_gsim(Shocks.from_rates(w, t0[k], t1[k]), p)
        for name, arr in one.country.items():
            np.testing.assert_allclose(r.country[name][k], arr[0], rtol=1e-10, atol=1e-9, err_msg=name)
            np.testing.assert_array_equal(lean.country[name][k], r.country[name][k], err_msg=name)


# ----------------------------------------------------------------- method="linear" (F&H's proportional-change system)
def test_linear_hand_worked_one_importer_one_exporter():
    """C0 imports 100 from C1 only; η = 2, ε = 2, tariff 0 -> 10% (T̂ = 0.1).

    One variety (θ = φ = 1): M̂ = (σ-η)(T̂ + P̂*) - σ(T̂ + P̂*) = -η (T̂ + P̂*); clearing
    -η (T̂ + P̂*) = ε P̂* gives P̂* = -η T̂/(η + ε) = -0.05, M̂ = -0.1: quantity 90, customs
    value 90 * 0.95 = 85.5, revenue 8.55. PS = 100 (-0.05)(1 + ½ 2 (-0.05)) = -4.75.
    P̂_v = 0.95 * 1.1 - 1 = 0.045; CS = -100 * 0.045 (1 - ½ 2 * 0.045) = -4.2975.
    """
    flows = np.zeros((2, 2, 1))
    flows[1, 0, 0] = 100.0
    flows[0, 0, 0] = flows[1, 1, 0] = 500.0  # domestic: ignored
    w = TradeWorld(("C0", "C1"), ("S",), flows)
    t1 = np.zeros((2, 2, 1))
    t1[1, 0, 0] = 0.1
    r = run_gsim(Shocks.from_rates(w, np.zeros_like(t1), t1), PEParameters([2.0], [1.5], [2.0]), method="linear")
    assert r.flow["flow_new"][0, 1, 0, 0] == pytest.approx(85.5, rel=1e-12)
    assert r.flow["price_pct"][0, 1, 0, 0] == pytest.approx(-5.0, rel=1e-12)
    assert r.country["tariff_revenue"][0, 0] == pytest.approx(8.55, rel=1e-12)
    assert r.country["producer_surplus"][0, 1] == pytest.approx(-4.75, rel=1e-12)
    assert r.country["consumer_surplus"][0, 0] == pytest.approx(-4.2975, rel=1e-12)
    assert r.solver.method == "linear solve" and r.solver.iterations.tolist() == [1]
    assert r.provenance["method"] == "linear"


def test_linear_solves_francois_hall_system_exactly():
    """The linear method's P̂* and M̂ are the solution of MODELS.md §3, built here by hand (as in
    test_first_order_matches_francois_hall_equations), for a shock that is not small; the
    reported residual of the linear system is <= 1e-10."""
    rng = np.random.default_rng(30)
    n = 5
    flows = rng.lognormal(3, 1, (n, n, 1))
    w = TradeWorld(tuple(f"C{i}" for i in range(n)), ("S",), flows)
    t0 = rng.uniform(0, 0.2, (n, n, 1))
    t1 = t0 + 0.05 * rng.uniform(-1, 1, (n, n, 1))
    eta, sigma, eps = 1.7, 3.2, 2.5
    r = run_gsim(Shocks.from_rates(w, t0, t1), PEParameters([eta], [sigma], [eps]), method="linear")
    assert r.solver.all_converged and np.all(r.solver.max_residual <= 1e-10)

    off, m, p_star, m_hat = fh_linear_reference(flows, t0, t1, eta, sigma, eps)

    price = r.flow["price_pct"][0, :, :, 0] / 100
    p_model = price[np.arange(n), (np.arange(n) + 1) % n]
    np.testing.assert_allclose(p_model, p_star, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.flow["flow_new"][0, :, :, 0], m * (1 + m_hat) * (1 + p_star[:, None]), rtol=1e-12)
    # markets clear in the linearised model: Σ_v φ_rv M̂_rv = E_x P̂*_r
    phi = m / m.sum(axis=1, keepdims=True)  # φ_rv = M_rv / X_r
    np.testing.assert_allclose((phi * m_hat).sum(axis=1), eps * p_star, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("eps", [0.7, 3.0, np.inf])
def test_linear_matches_exact_to_first_order(eps):
    """Shock ~1e-5: the two methods differ at second order, so changes agree to a relative
    1e-3 (≈ 1e-5 measured, i.e. of the order of the shock; 1e-3 leaves room for rounding
    in changes of size 1e-5 of the flows)."""
    rng = np.random.default_rng(31)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    t0 = rng.uniform(0, 0.15, (2, n, n, s))
    t1 = t0 + 1e-5 * rng.uniform(-1, 1, (2, n, n, s))
    p = PEParameters(rng.uniform(0.5, 4, s), rng.uniform(0.5, 6, s), [eps] * s)
    sh = Shocks.from_rates(w, t0, t1)
    ex, lin = run_gsim(sh, p), run_gsim(sh, p, method="linear")
    base = ex.flow["flow_base"]
    d_ex, d_lin = ex.flow["flow_new"] - base, lin.flow["flow_new"] - base
    np.testing.assert_allclose(d_lin, d_ex, rtol=0, atol=1e-3 * np.abs(d_ex).max())
    np.testing.assert_allclose(
        lin.flow["price_pct"], ex.flow["price_pct"], rtol=0, atol=1e-3 * max(np.abs(ex.flow["price_pct"]).max(), 1e-300)
    )
    for name in ("consumer_surplus", "producer_surplus", "tariff_revenue_change", "welfare_change", "imports"):
        change = ex.country[name] - (base.sum(axis=(1, 3)) if name == "imports" else 0)
        np.testing.assert_allclose(
            lin.country[name], ex.country[name], rtol=0, atol=1e-3 * max(np.abs(change).max(), 1e-12), err_msg=name
        )


def test_linear_zero_change_is_exactly_zero():
    """A scenario without change inside a batch that computes every sector: exactly the baseline."""
    rng = np.random.default_rng(32)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    t0 = np.broadcast_to(rng.uniform(0, 0.3, (n, n, s)), (2, n, n, s))
    t1 = np.array(t0)
    t1[1] += 0.1
    r = run_gsim(Shocks.from_rates(w, t0, t1), PEParameters([2.0] * s, [3.0] * s, [1.0] * s), method="linear")
    assert r.solver.iterations.tolist() == [0, 1]
    np.testing.assert_array_equal(r.flow["flow_new"][0], r.flow["flow_base"][0])
    for name in ("price_pct", "trade_creation", "trade_diversion", "price_effect"):
        assert np.all(r.flow[name][0] == 0.0), name
    for name in ("tariff_revenue_change", "consumer_surplus", "producer_surplus", "welfare_change"):
        assert np.all(r.country[name][0] == 0.0), name


@pytest.mark.parametrize("broadcast", [True, False])
def test_linear_batch_equals_one_at_a_time(broadcast):
    """Both paths: one baseline for the batch (A factorised once) and a baseline per scenario."""
    rng = np.random.default_rng(33)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    t0 = rng.uniform(0, 0.15, (n, n, s)) if broadcast else rng.uniform(0, 0.15, (5, n, n, s))
    t1 = rng.uniform(0, 0.4, (5, n, n, s))
    sh = Shocks.from_rates(w, t0, t1)
    p = PEParameters(rng.uniform(0.5, 4, s), rng.uniform(0.5, 6, s), [0.7, 3.0, np.inf, 99.0])
    batch = run_gsim(sh, p, method="linear")
    assert batch.solver.all_converged and np.all(batch.solver.max_residual <= 1e-10)
    for k in range(sh.batch_size):
        one = run_gsim(Shocks.from_rates(w, sh.tariff_base[k], sh.tariff_new[k]), p, method="linear")
        for name, arr in one.country.items():
            np.testing.assert_allclose(batch.country[name][k], arr[0], rtol=1e-10, atol=1e-8, err_msg=name)
        for name, arr in one.flow.items():
            np.testing.assert_allclose(batch.flow[name][k], arr[0], rtol=1e-10, atol=1e-8, err_msg=name)


def test_linear_clips_large_changes_and_commitments_raise_prices():
    rng = np.random.default_rng(34)
    w = random_world(rng, zeros=0.0)
    n, s = w.n_countries, w.n_sectors
    t1 = np.zeros((1, n, n, s))
    t1[0, :, 0, :] = 3.0  # 300%: the linear demand would turn negative
    p = PEParameters([2.0] * s, [5.0] * s, [1.0] * s)
    r = run_gsim(Shocks.from_rates(w, np.zeros((n, n, s)), t1), p, method="linear")
    assert np.all(r.flow["flow_new"] >= 0) and np.any(r.flow["flow_new"][0, 1:, 0] == 0)
    for arr in r.country.values():
        assert not np.any(np.isinf(arr))
    d = np.zeros((1, n, n, s))
    d[0, 1, 0, 2] = 50.0
    sh = Shocks.from_rates(w, np.zeros((n, n, s)), np.zeros((n, n, s)), demand_shift=d)
    r = run_gsim(sh, p, method="linear")
    assert r.flow["price_pct"][0, 1, 0, 2] > 0 and r.flow["flow_new"][0, 1, 0, 2] > w.flows[1, 0, 2]
    assert r.flow["trade_diversion"][0, :, 0, 2].sum() == pytest.approx(0.0, abs=1e-9)


def test_unknown_gsim_method_lists_valid_ones():
    rng = np.random.default_rng(35)
    w = random_world(rng)
    with pytest.raises(DataError, match=r"'method' parameter of run_gsim must be a str among .*'linear'.*Got 'lin'"):
        run_gsim(random_shocks(rng, w), method="lin")


def test_simulate_and_cli_pass_the_gsim_method(capsys):
    from pathlib import Path

    from tariffsim.cli import main
    from tariffsim.simulate import simulate

    lib = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025" / "liberation_day.toml"
    lin = simulate(None, str(lib), "gsim", method="linear")
    ex = simulate(None, str(lib), "gsim")
    assert lin.solver.method == "linear solve" and ex.solver.method == "newton"
    assert lin.provenance["method"] == "linear" and lin.solver.all_converged
    assert main(["run", str(lib), "--model", "gsim", "--method", "linear", "--json", "--no-flows"]) == 0
    assert '"linear solve"' in capsys.readouterr().out


# ------------------------------------------------- linear fast path (flows=False, closed-form totals)
def _one_importer_batch(rng, w, b=6, top=0.6, importer=2):
    """One baseline broadcast over the batch, tariffs change on one importer's column only:
    the shape that takes the closed-form totals (kernels.gsim_closed) with flows=False."""
    n, s = w.n_countries, w.n_sectors
    t0 = np.broadcast_to(rng.uniform(0, 0.1, (n, n, s)), (b, n, n, s))
    t1 = np.array(t0)
    t1[:, :, importer, :] = rng.uniform(0, top, (b, n, s))
    t1[0] = t0[0]  # one scenario without change
    return Shocks.from_rates(w, t0, t1)


@pytest.mark.parametrize("top", [0.05, 0.6, 3.0])  # 300%: flows into the changing column clip at 0
def test_linear_fast_path_equals_per_flow_path(top, monkeypatch):
    """flows=False (closed-form totals, no (B, n, n, S) array) gives the per-country columns of
    flows=True (totals from the per-flow arrays), also where flows clip at zero on the changing column."""
    from tariffsim.kernels import gsim_linear
    from tariffsim.kernels.gsim import gsim_markets

    calls = []
    real = gsim_linear.finish_closed
    monkeypatch.setattr(gsim_linear, "finish_closed", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(40)
    w = random_world(rng, n=6, s=4)
    sh = _one_importer_batch(rng, w, top=top)
    p = PEParameters(rng.uniform(0.5, 4, 4), rng.uniform(1.5, 6, 4), [0.7, 3.0, np.inf, 99.0])
    full = run_gsim(sh, p, method="linear")
    assert not calls  # flows=True never takes the closed form
    lean = run_gsim(sh, p, method="linear", flows=False)
    assert lean.flow == {} and full.flow
    assert calls  # ... and flows=False did
    into = full.flow["flow_new"][:, :, 2][full.flow["flow_base"][:, :, 2] > 0]
    assert np.all(into > 0) if top == 0.05 else np.any(into == 0)  # clipped at zero for large changes
    for name, arr in full.country.items():
        np.testing.assert_allclose(lean.country[name], arr, rtol=1e-12, atol=1e-9, err_msg=name)
    for name in ("tariff_revenue_change", "welfare_change", "imports_pct", "exports_pct"):
        assert np.all(lean.country[name][0] == 0.0), name  # the unchanged scenario is exactly the baseline
    # the fast path really was taken where nothing clips: no per-flow arrays were built
    pf = p.for_world(w)
    eff = gsim_markets(w.flows, sh.tariff_base, sh.tariff_new, pf.import_demand, pf.substitution,
                       pf.export_supply, method="linear", flows=False)
    assert eff.flow_new is None and eff.world_price_pct is None


def test_linear_fast_path_matches_hand_built_francois_hall():
    """One sector, tariffs change on one importer: the per-country totals of the flows=False path are
    the sums of Francois & Hall's M'_rv = M_rv (1 + M̂_rv)(1 + P̂*_r) built by hand (fh_linear_reference)."""
    rng = np.random.default_rng(41)
    n = 5
    flows = rng.lognormal(3, 1, (n, n, 1))
    w = TradeWorld(tuple(f"C{i}" for i in range(n)), ("S",), flows)
    t0 = rng.uniform(0, 0.2, (n, n, 1))
    t1 = np.array(t0)
    t1[:, 3, 0] += 0.04 * rng.uniform(0, 1, n)  # importer C3 only: small, nothing clips
    eta, sigma, eps = 1.7, 3.2, 2.5
    r = run_gsim(Shocks.from_rates(w, t0, t1), PEParameters([eta], [sigma], [eps]), method="linear", flows=False)
    off, m, p_star, m_hat = fh_linear_reference(flows, t0, t1, eta, sigma, eps)
    new = m * (1 + m_hat) * (1 + p_star[:, None])  # customs value of every flow
    np.testing.assert_allclose(r.country["imports"][0], new.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(r.country["exports"][0], new.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(r.country["tariff_revenue"][0], (t1[:, :, 0] * new).sum(axis=0), rtol=1e-12)
    # ΔPS_r = X_r P̂*_r (1 + ½ E_x P̂*_r)
    np.testing.assert_allclose(r.country["producer_surplus"][0], m.sum(axis=1) * p_star * (1 + 0.5 * eps * p_star),
                               rtol=1e-12, atol=1e-12)
    assert r.solver.all_converged


def test_linear_fast_path_without_any_change_gives_the_baseline():
    """flows=False with no tariff change at all (no sector computed) used to fail (None.sum()); now
    every change is exactly 0."""
    rng = np.random.default_rng(42)
    w = random_world(rng)
    n, s = w.n_countries, w.n_sectors
    t = rng.uniform(0, 0.2, (n, n, s))
    r = run_gsim(Shocks.from_rates(w, t, t), PEParameters([2.0] * s, [3.0] * s, [1.0] * s), method="linear",
                 flows=False)
    for name in ("tariff_revenue_change", "welfare_change", "trade_creation", "imports_pct", "welfare_pct"):
        assert np.all(r.country[name] == 0.0), name
