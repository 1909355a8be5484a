"""Multi-sector Liberation Day kernel: reduction to one sector and an independent root finder."""

from __future__ import annotations

import numpy as np
from scipy.optimize import root

from tariffsim.kernels.ld_calibrate import calibrate, pass_through
from tariffsim.kernels.ld_multisector import calibrate_multisector, solve_multisector
from tariffsim.kernels.ld_onesector import LDParams, solve


def _flows(n=5, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 20, (n, n, K))
    X[np.arange(n), np.arange(n)] *= 15
    return X, rng.uniform(0.05, 0.3, n)


def test_proportional_sectors_reduce_to_one_sector():
    X, nu = _flows()
    one = X.sum(-1)
    Y = one.sum(1)
    b1 = calibrate(one * (1 - np.eye(5)), Y, nu)
    Xc = b1.lam * b1.E  # calibrated flows with domestic sales
    split = Xc[:, :, None] * np.array([0.2, 0.3, 0.5])
    prm = LDParams(phi=pass_through(nu, 4.0, 0.67 / 4))
    t = np.zeros((5, 5))
    t[:, 0] = 0.4
    t[0, 0] = 0
    s1 = solve(b1, t, prm)
    sm, _ = solve_multisector(calibrate_multisector(split, np.zeros((5, 5, 3)), nu), np.repeat(t[..., None], 3, -1),
                              prm, [4.0, 4.0, 4.0])
    np.testing.assert_allclose(sm.w_hat, s1.w_hat, rtol=1e-9)
    np.testing.assert_allclose(sm.P_hat, s1.P_hat, rtol=1e-9)
    np.testing.assert_allclose(sm.L_hat, s1.L_hat, rtol=1e-9)


def test_matches_independent_root_finder():
    """The authors' multi-sector system (ŵ, Ê, L̂, ℓ̂ unknown; one sector-labour equation replaced
    by the numeraire), solved by scipy's hybrid method."""
    n, K = 4, 2
    X, nu = _flows(n, K, seed=3)
    eps = np.array([3.0, 6.0])
    psi = 0.67 / eps
    t = np.zeros((n, n, K))
    t[:, 0, :] = [0.3, 0.1]
    t[0, 0] = 0
    base = calibrate_multisector(X, np.zeros((n, n, K)), nu)
    phi = pass_through(nu, 4.0, 0.67 / 4)
    prm = LDParams(kappa=0.5, phi=phi)
    sol, extra = solve_multisector(base, t, prm, eps, psi=psi, tol=1e-12)
    assert sol.success.all()

    def F(z):
        w, E, L = np.abs(z[:n]), np.abs(z[n:2 * n]), np.abs(z[2 * n:3 * n])
        ell = np.abs(z[3 * n:]).reshape(n, K)
        cost = (w[:, None] / (L[:, None] * ell) ** psi) ** -eps
        a = base.lam * cost[:, None, :] * (1 + t) ** (-eps * phi[None, :, None])
        lam1 = a / a.sum(0)
        P = (E / w) ** (1 - phi) * np.prod(a.sum(0) ** (-base.beta / eps), axis=1)
        X1 = lam1 * base.beta[None] * (E * base.E)[None, :, None] / (1 + t)
        R = (t * X1).sum((0, 2))
        Yn = w * L * base.Y
        sec = ((1 - nu)[None, :, None] * X1).sum(1) + nu[:, None] * X1.sum(0)
        e1 = (sec - base.Ysec * (w * L)[:, None] * ell).ravel() / base.Y.repeat(K)
        e1[-1] = ((P - 1) * base.E).sum() / base.E.sum()
        e2 = (R + Yn + base.T * Yn.sum() / base.Y.sum() - E * base.E) / base.E
        e3 = L - (w / P / (1 - R / Yn)) ** 0.5
        e4 = (base.ell * ell).sum(1) - 1
        return np.concatenate([e1, e2, e3, e4])

    z = root(F, np.ones(n * (3 + K)), method="hybr", tol=1e-13)
    assert np.abs(F(z.x)).max() < 1e-11
    np.testing.assert_allclose(sol.w_hat[0], np.abs(z.x[:n]), rtol=1e-8)
    np.testing.assert_allclose(sol.L_hat[0], np.abs(z.x[2 * n:3 * n]), rtol=1e-8)
    np.testing.assert_allclose(extra["ell_hat"][0], np.abs(z.x[3 * n:]).reshape(n, K), rtol=1e-7)
