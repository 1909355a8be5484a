"""Compiled (numba) Caliendo–Parro wage solver with input–output links, one scenario at a time.

Belongs here: the wage iteration of :func:`tariffsim.kernels.cp_solve.solve_wages` (Broyden
in ln ŵ with backtracking, inverse kept by Sherman–Morrison, diagonal restarts; the same
steps and acceptance rules) for worlds with IO links and without taste shifters, and the
Equilibrium arrays at the solution. Unlike the numpy path, the inner systems are solved only
to :data:`INEXACT` times the wage residual until the wage iteration converges (inexact
Newton), and the converged point is evaluated again at the full tolerance. The model
evaluation (price system, expenditure system, trade-balance excess) is
:func:`._accel_cp_io_eval.evaluate`. Importing this module imports numba (the optional
extra ``tariffsim[fast]``); compiled code is cached on disk.

Layout as in :mod:`._accel_cp`: weights ``W[i, j, m]``, importer aggregates ``[j, m]``;
country-by-sector arrays ``[n, j]``; outputs are written back as ``[i, m, j]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._accel_cp import _broyden, _secant, _shared, _trial  # the Broyden steps of the solver without IO links
from ._accel_cp_io_eval import WORK_ROWS, evaluate, preconditioners

__all__ = ["INEXACT", "solve"]

#: Inner tolerance relative to the wage residual (inexact Newton): inner systems are solved
#: to max(tol, INEXACT · residual) until the wage iteration converges.
INEXACT = 0.1


@njit(cache=True, error_model="numpy")
def _restart(pik, pikt, theta, gamma, va, lnw, xp, Pt, v, u, J, H):  # pragma: no cover
    """J = diag(d), d_i = (ŵVA + Σ_j γ² θ Σ_m M'_im (1 − π'_im)) / VA_i, and H = (J + u uᵀ)⁻¹."""
    n, s, _ = pik.shape
    J[:, :] = 0.0
    H[:, :] = 0.0
    den = 1.0
    for i in range(n):
        acc = 0.0
        for j in range(s):
            x = xp[i, j]
            part = 0.0
            for m in range(n):
                part += pikt[i, j, m] * v[j, m] * (1.0 - pik[i, j, m] * x / Pt[j, m])
            acc += gamma[i, j] * gamma[i, j] * theta[j] * x * part
        d = (np.exp(lnw[i]) * va[i] + acc) / va[i]
        J[i, i] = d
        H[i, i] = 1.0 / d
        den += u[i] * u[i] / d
    for i in range(n):  # Sherman–Morrison: H = D⁻¹ − (D⁻¹u)(uᵀD⁻¹)/(1 + uᵀD⁻¹u)
        for k in range(n):
            H[i, k] -= (u[i] / J[i, i]) * (u[k] / J[k, k]) / den


@njit(cache=True, error_model="numpy")
def _solve_one(pik, pikt, theta, lnz, va, d1, alpha, gamma, io, tol, eta, max_iter,
               lnw, LNP, XX, LNC, XP, PT, FF, V, YY, EX, steps):  # pragma: no cover
    """Broyden in ln ŵ for one scenario (see cp_solve.solve_wages); returns (iterations, converged, slot).

    ``lnw`` (n,) is the output; the state at the solution is in slot ``slot`` of the
    two-slot arrays LNP, XX, LNC, XP, YY [2, n, s], PT, FF, V [2, s, n] and EX [2, n];
    ``steps`` (2,) receives the inner price and expenditure steps taken. Inner systems are
    solved to max(tol, eta · res) (res: the accepted point's residual; eta = 0 is the numpy
    path's fixed 10⁻³ tol), and a point that converges on loose inner solves is evaluated
    again at the full tolerance before it counts as converged.
    """
    n, s, _ = pik.shape
    Q, R = np.empty((n, s, s)), np.empty((n, s, s))  # inner preconditioners (inverses, transposed)
    ioT = np.empty((n, s, s))
    for m in range(n):
        for j in range(s):
            for k in range(s):
                ioT[m, k, j] = io[m, j, k]
    g, r, aw = np.empty((n, s)), np.empty(s), np.empty((WORK_ROWS, n * s))
    J, H, work = np.empty((n, n)), np.empty((n, n)), np.empty((3, n))
    f, fn, trial, dx, df, step = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    vsum = va.sum()
    u = va / vsum
    lnw[:] = 0.0
    c = 0
    LNP[c] = 0.0
    for m in range(n):
        for j in range(s):
            XX[c, m, j] = alpha[m, j] * (va[m] + d1[m])  # first guess X' = α (ŵVA + D'), as in cp_linear
    preconditioners(pik, pikt, theta, lnz, gamma, io, alpha, lnw, LNP[c], Q, R, LNC[c], XP[c], PT[c], g, FF[c], aw)
    res = evaluate(pik, pikt, theta, lnz, gamma, io, ioT, alpha, va, d1, Q, R, lnw, LNP[c], XX[c], LNC[c], XP[c],
                   PT[c], g, FF[c], V[c], YY[c], EX[c], r, aw, steps, tol)
    if res <= tol:
        return 0, True, c
    _restart(pik, pikt, theta, gamma, va, lnw, XP[c], PT[c], V[c], u, J, H)
    lam = 1.0
    for it in range(1, max_iter + 1):
        for i in range(n):
            f[i] = EX[c, i] / va[i]
        _trial(H, f, lnw, lam, va, vsum, step, trial)
        o = 1 - c
        LNP[o] = LNP[c]  # warm starts: the accepted point's prices and absorption
        XX[o] = XX[c]
        tin = max(tol, eta * res)  # inexact inner solves far from the solution
        res2 = evaluate(pik, pikt, theta, lnz, gamma, io, ioT, alpha, va, d1, Q, R, trial, LNP[o], XX[o], LNC[o],
                        XP[o], PT[o], g, FF[o], V[o], YY[o], EX[o], r, aw, steps, tin)
        m_old, m_new = _secant(EX[o], va, f, trial, lnw, fn, dx, df)
        _broyden(J, H, dx, df, work)
        if m_new < m_old:  # accept: ||excess/VA||² falls
            lam = min(1.0, 2.0 * lam)
            lnw[:] = trial
            c = o
            res = res2
        else:
            lam *= 0.5
        if res <= tol and tin > tol:  # converged on loose inner solves: polish at the full tolerance
            res = evaluate(pik, pikt, theta, lnz, gamma, io, ioT, alpha, va, d1, Q, R, lnw, LNP[c], XX[c], LNC[c],
                           XP[c], PT[c], g, FF[c], V[c], YY[c], EX[c], r, aw, steps, tol)
        if lam < 1.0 / 64.0:  # restart from the diagonal Jacobian
            _restart(pik, pikt, theta, gamma, va, lnw, XP[c], PT[c], V[c], u, J, H)
            lam = 1.0
        if res <= tol:
            return it, True, c
    return max_iter, False, c


@njit(cache=True, error_model="numpy")
def _weights(pi0, tau0, tau1, ntb, has_ntb, theta, pik, pikt):  # pragma: no cover
    """W[i, j, m] = π κ̂^(−θ), W̃ = W/(1 + τ'), κ̂ = (1 + τ')/(1 + τ) · (1 + ntb); τ' = 0 on the diagonal."""
    n, s, _ = pik.shape
    for i in range(n):
        for m in range(n):
            for j in range(s):
                t1 = 0.0 if i == m else tau1[i, m, j]
                kap = (1.0 + t1) / (1.0 + tau0[i, m, j])
                if has_ntb:
                    kap *= 1.0 + ntb[i, m, j]
                if kap == 1.0 or not pi0[i, m, j] > 0.0:  # unchanged trade costs: no log/exp
                    w = pi0[i, m, j] if pi0[i, m, j] > 0.0 else 0.0
                else:
                    w = pi0[i, m, j] * np.exp(-theta[j] * np.log(kap))
                pik[i, j, m] = w
                pikt[i, j, m] = w / (1.0 + t1)


@njit(cache=True, error_model="numpy")
def _outputs(pik, pikt, alpha, io, va, d1, lnw, lnP, X, lnc, xp, Pt, F, Y,
             pi1, flows, X_out, P_hat, c_hat, income):  # pragma: no cover
    """π', M' [i, m, j], X', P̂, ĉ [m, j], I' from an evaluated state; returns the goods-market residual."""
    n, s, _ = pik.shape
    for m in range(n):
        income[m] = np.exp(lnw[m]) * va[m] + d1[m]
        for j in range(s):
            income[m] += (1.0 - F[j, m]) * X[m, j]  # I' = ŵVA + D' + R'
    xmax, gap = 0.0, 0.0
    for m in range(n):
        for j in range(s):
            X_out[m, j] = X[m, j]
            P_hat[m, j] = np.exp(lnP[m, j])
            c_hat[m, j] = np.exp(lnc[m, j])
            demand = alpha[m, j] * income[m]  # goods market: X' = Σ_k γ^{j,k} Y'^k + α I'
            for k in range(s):
                demand += io[m, j, k] * Y[m, k]
            xmax = max(xmax, abs(X[m, j]))
            gap = max(gap, abs(X[m, j] - demand))
    for i in range(n):
        for m in range(n):
            for j in range(s):
                sh = xp[i, j] / Pt[j, m]
                pi1[i, m, j] = pik[i, j, m] * sh  # π' = W x / P̂^(−θ)
                flows[i, m, j] = pikt[i, j, m] * sh * X[m, j]  # M' = π' X' / (1 + τ')
    return gap / max(xmax, 1e-300)


@njit(cache=True, error_model="numpy")
def _solve_all(pi0, tau0, tau1, ntb, has_ntb, theta, lnz, va, d1, alpha, gamma, io, tol, eta, max_iter,
               lnw, iters, inner, done, res, res_goods, pi1, flows, X, P_hat, c_hat, income):  # pragma: no cover
    """Every scenario in turn: weights, wage iteration, outputs; inputs with batch 1 are shared."""
    b, n, s = lnw.shape[0], tau1.shape[1], tau1.shape[3]
    pik, pikt = np.empty((n, s, n)), np.empty((n, s, n))
    LNP, XX, LNC, XP, YY = (np.empty((2, n, s)), np.empty((2, n, s)), np.empty((2, n, s)), np.empty((2, n, s)),
                            np.empty((2, n, s)))
    PT, FF, V = np.empty((2, s, n)), np.empty((2, s, n)), np.empty((2, s, n))
    EX = np.empty((2, n))
    for k in range(b):
        # a batch axis of length 1 is shared by every scenario
        th, z = theta[min(k, theta.shape[0] - 1)], lnz[min(k, lnz.shape[0] - 1)]
        _weights(pi0[min(k, pi0.shape[0] - 1)], tau0[min(k, tau0.shape[0] - 1)], tau1[min(k, tau1.shape[0] - 1)],
                 ntb[min(k, ntb.shape[0] - 1)], has_ntb, th, pik, pikt)
        v, d, a = va[min(k, va.shape[0] - 1)], d1[min(k, d1.shape[0] - 1)], alpha[min(k, alpha.shape[0] - 1)]
        iters[k], done[k], c = _solve_one(pik, pikt, th, z, v, d, a, gamma, io, tol, eta, max_iter,
                                          lnw[k], LNP, XX, LNC, XP, PT, FF, V, YY, EX, inner[k])
        res[k] = np.max(np.abs(EX[c]) / v)
        res_goods[k] = _outputs(pik, pikt, a, io, v, d, lnw[k], LNP[c], XX[c], LNC[c], XP[c], PT[c], FF[c], YY[c],
                                pi1[k], flows[k], X[k], P_hat[k], c_hat[k], income[k])


def solve(pi0, tau0, tau1, theta, *, ntb, lnz, va, d1, alpha, gamma, io, tol, max_iter, eta=INEXACT) -> dict:
    """All Equilibrium arrays for B scenarios with IO links (no taste shifters).

    ``pi0, tau0, va, alpha`` may have batch 1 (a shared baseline); ``tau1, ntb`` batch 1 or B;
    ``theta (B, S)``, ``lnz (B, n, S)``, ``d1 (B, n)``, ``alpha (B, n, S)``, ``gamma (n, S)``,
    ``io (n, S, S)``; ``eta`` the inexact-inner-solve factor (0: exact, as the numpy path).
    Returns ``lnw, iters, inner`` ((B, 2): inner price and expenditure steps taken), ``done,
    res, res_goods, pi1, flows, X, P_hat, c_hat, income`` (the fields of
    :class:`tariffsim.kernels.cp.Equilibrium` in the names of :func:`._accel_cp.solve`, plus ĉ).
    """
    b, n, s = lnz.shape
    f4 = np.empty((b, n, n, s))
    out = dict(lnw=np.zeros((b, n)), iters=np.zeros(b, dtype=np.int64), inner=np.zeros((b, 2), dtype=np.int64),
               done=np.zeros(b, dtype=np.bool_),
               res=np.zeros(b), res_goods=np.zeros(b), pi1=f4, flows=np.empty_like(f4), X=np.empty((b, n, s)),
               P_hat=np.empty((b, n, s)), c_hat=np.empty((b, n, s)), income=np.empty((b, n)))
    ntb_ = np.zeros((1, 1, 1, 1)) if ntb is None else _shared(ntb)
    _solve_all(_shared(pi0), _shared(tau0), _shared(tau1), ntb_, ntb is not None, _shared(theta), _shared(lnz),
               _shared(va), _shared(d1), _shared(alpha), _shared(gamma), _shared(io), float(tol), float(eta),
               int(max_iter), **out)
    return out
