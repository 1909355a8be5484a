"""One-sector Liberation Day kernel: an independent root-finder, invariants, optimal-tariff conditions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import root

from tariffsim.errors import ConvergenceError
from tariffsim.kernels.ld_calibrate import calibrate, calibrate_ekk, pass_through
from tariffsim.kernels.ld_onesector import LDParams, solve
from tariffsim.kernels.ld_outputs import outputs
from tariffsim.optimal.ld_search import apply_uniform, nash, optimal_tariff_numerical


def _world(n=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1.0, 20.0, (n, n)) * (1 - np.eye(n))
    Y = X.sum(1) * rng.uniform(2.0, 6.0, n)
    nu = rng.uniform(0.05, 0.3, n)
    return calibrate(X, Y, nu)


def _reference(base, t, prm, phi):
    """The authors' 3N system (ŵ, Ê, L̂ unknown, E not eliminated), solved by scipy's hybrid method."""
    n = base.E.size
    eps, kappa, psi = prm.eps, prm.kappa, prm.psi

    def F(z):
        w, E, L = np.abs(z[:n]), np.abs(z[n:2 * n]), np.abs(z[2 * n:])
        a = base.lam * (w / L**psi)[:, None] ** (-eps) * (1 + t) ** (-eps * phi[None, :])
        lam1 = a / a.sum(0)
        P = (E / w) ** (1 - phi) * a.sum(0) ** (-1 / eps)
        X1 = lam1 * (E * base.E)[None, :] / (1 + t)
        R = (lam1 * t / (1 + t) * (E * base.E)[None, :]).sum(0)
        Yn = w * L * base.Y
        e1 = ((1 - base.nu)[None, :] * X1).sum(1) + base.nu * X1.sum(0) - Yn
        e1[-1] = ((P - 1) * base.E).sum()
        e2 = R + Yn + base.T * Yn.sum() / base.Y.sum() - E * base.E
        tau_hat = 1 / (1 - R / Yn) if prm.revenue == "income_tax" else 1.0
        e3 = L - (tau_hat * w / P) ** kappa
        return np.concatenate([e1 / base.E, e2 / base.E, e3])

    z = root(F, np.ones(3 * n), method="hybr", tol=1e-13)
    assert np.abs(F(z.x)).max() < 1e-12
    return np.abs(z.x[:n]), np.abs(z.x[n:2 * n]), np.abs(z.x[2 * n:])


@pytest.mark.parametrize("revenue", ["income_tax", "lump_sum"])
def test_matches_independent_root_finder(revenue):
    base = _world()
    n = base.E.size
    prm = LDParams(eps=4.0, kappa=0.5, psi=0.67 / 4, phi=pass_through(base.nu, 4.0, 0.67 / 4), revenue=revenue)
    t = np.zeros((n, n))
    t[:, 0] = np.linspace(0.1, 0.5, n)
    t[0, 0] = 0.0
    t[0, 1:] = 0.2
    sol = solve(base, t, prm)
    assert sol.success.all() and sol.residual.max() < 1e-10
    w, E, L = _reference(base, t, prm, np.asarray(prm.phi))
    np.testing.assert_allclose(sol.w_hat[0], w, rtol=1e-9)
    np.testing.assert_allclose(sol.E_hat[0], E, rtol=1e-9)
    np.testing.assert_allclose(sol.L_hat[0], L, rtol=1e-9)


def test_zero_tariffs_change_nothing_and_batch_is_consistent():
    base = _world(seed=1)
    n = base.E.size
    prm = LDParams(phi=pass_through(base.nu, 4.0, 0.67 / 4))
    t = np.zeros((3, n, n))
    t[1, :, 2] = 0.3
    t[2, 2, :] = 0.1
    t[1, 2, 2] = t[2, 2, 2] = 0.0
    sol = solve(base, t, prm)
    np.testing.assert_allclose(sol.w_hat[0], 1.0, atol=1e-12)
    np.testing.assert_allclose(sol.P_hat[0], 1.0, atol=1e-12)
    one = solve(base, t[2], prm)
    np.testing.assert_allclose(one.w_hat[0], sol.w_hat[2], rtol=1e-10)
    # numeraire: world-expenditure-weighted consumer prices unchanged
    np.testing.assert_allclose((base.E * sol.P_hat).sum(-1), base.E.sum(), rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(rate=st.floats(0.0, 1.0), seed=st.integers(0, 50))
def test_ekk_without_labour_or_scale_obeys_acr(rate, seed):
    """ν = 0, φ = 1, κ = ψ = 0, lump sum, balanced trade: real income Ê/P̂ equals
    λ̂_ii^(−1/ε) · Ê/ŵ (ACR with tariff revenue: income/wage = expenditure multiplier)."""
    base = calibrate_ekk(_world(seed=seed))
    n = base.E.size
    prm = LDParams(eps=5.0, kappa=0.0, psi=0.0, phi=1.0, revenue="lump_sum", deficits="balanced")
    t = apply_uniform(np.zeros((n, n)), 0, rate)
    sol = solve(base, t, prm)
    lam_hat = np.diagonal(sol.lam_new[0]) / np.diagonal(base.lam)
    acr = lam_hat ** (-1 / prm.eps) * sol.E_hat[0] / sol.w_hat[0]
    np.testing.assert_allclose(sol.E_hat[0] / sol.P_hat[0], acr, rtol=1e-9)


def test_welfare_is_zero_without_change_and_max_iter_raises_in_nash():
    base = _world(seed=2)
    n = base.E.size
    prm = LDParams(phi=pass_through(base.nu, 4.0, 0.67 / 4))
    sol = solve(base, np.zeros((n, n)), prm)
    np.testing.assert_allclose(outputs(base, sol, prm.kappa)["welfare_pct"], 0.0, atol=1e-9)
    with pytest.raises(ConvergenceError, match="first-order"):
        nash(base, prm, [0, 1], max_iter=1)


def test_unconverged_scenario_is_flagged():
    base = _world(seed=3)
    n = base.E.size
    t = apply_uniform(np.zeros((n, n)), 0, 0.5)
    sol = solve(base, t, LDParams(phi=pass_through(base.nu, 4.0, 0.67 / 4)), max_iter=2)
    assert not sol.success.any() and sol.residual.max() > 1e-6


def test_numerical_optimum_is_a_welfare_maximum():
    base = _world(seed=4)
    n = base.E.size
    prm = LDParams(phi=pass_through(base.nu, 4.0, 0.67 / 4))
    opt = optimal_tariff_numerical(base, prm, 0, tol=1e-9)
    t = opt.rates[0]
    W = [outputs(base, solve(base, apply_uniform(np.zeros((n, n)), 0, r), prm), prm.kappa)["welfare_pct"][0, 0]
         for r in (t - 0.02, t, t + 0.02)]
    assert W[1] > W[0] and W[1] > W[2]
    assert opt.residual[0] < 1e-9


def test_nash_formula_and_numerical_are_fixed_points():
    base = calibrate_ekk(_world(seed=5))
    n = base.E.size
    prm = LDParams(eps=4.0, kappa=0.0, psi=0.0, phi=1.0, revenue="lump_sum")
    war = nash(base, prm, list(range(n)), method="formula", denominator="gdp", tol=1e-10)
    assert war.residual.max() < 1e-10 and np.all(war.rates > 0)
    num = nash(base, prm, [0, 1], method="numerical", tol=1e-8)
    assert num.residual.max() < 1e-8
    # each player's rate is its best response to the other's
    for k, c in enumerate([0, 1]):
        other = apply_uniform(np.zeros((n, n)), [0, 1][1 - k], num.rates[1 - k])[0]
        best = optimal_tariff_numerical(base, prm, c, other, t0=0.1, tol=1e-9)
        assert abs(best.rates[0] - num.rates[k]) < 1e-5


def test_passthrough_formula():
    nu = np.array([0.0, 0.2])
    np.testing.assert_allclose(pass_through(nu, 4.0, 0.25), [1.0, 1 + 0.25 * 1.25])
    np.testing.assert_allclose(pass_through(nu, 4.0, 0.25, 0.25), [0.25, 0.25 + 0.25 * 1.25])


def test_partial_passthrough_lowers_price_response():
    base = _world(seed=6)
    n = base.E.size
    t = apply_uniform(np.zeros((n, n)), 0, 0.3)
    full = solve(base, t, LDParams(phi=pass_through(base.nu, 4.0, 0.67 / 4)))
    part = solve(base, t, LDParams(phi=pass_through(base.nu, 4.0, 0.67 / 4, 0.25)))
    assert part.P_hat[0, 0] < full.P_hat[0, 0]
    _ = replace
