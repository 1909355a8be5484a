"""Compiled (numba) Caliendo–Parro wage solver: one scenario at a time, in cache.

Belongs here: the same algorithm as :func:`tariffsim.kernels.cp_solve.solve_wages` (Broyden
in ln ŵ with backtracking, inverse kept by Sherman–Morrison, diagonal restarts) for worlds
without input-output links and without taste shifters, written as loops so that a
scenario's arrays stay in cache and no temporaries are built. Importing this module
imports numba (the optional extra ``tariffsim[fast]``); compiled code is cached on disk.
Formulas as in :mod:`tariffsim.kernels.cp_problem` (CP 2015 eqs. 2–5 with γ = 1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["solve"]


@njit(cache=True, error_model="numpy")
def _evaluate(pik, pikt, theta, lnz, va, d1, alpha, lnw, xp, Pt, F, X, v, excess):  # pragma: no cover
    """Excess demand at wages exp(lnw); fills xp, Pt, F, X, v = X/Pt, excess; returns max |excess|/VA."""
    n, _, s = pik.shape
    for i in range(n):
        for j in range(s):
            xp[i, j] = np.exp(-theta[j] * (lnw[i] - lnz[i, j]))  # x_i^j = (ĉ_i^j/ẑ_i^j)^(−θ^j)
    Pt[:, :] = 0.0
    F[:, :] = 0.0
    for i in range(n):
        for m in range(n):
            for j in range(s):
                Pt[m, j] += pik[i, m, j] * xp[i, j]  # P̂_m^(−θ) = Σ_i W_im x_i
                F[m, j] += pikt[i, m, j] * xp[i, j]  # Σ_i W̃_im x_i
    for m in range(n):
        acc = 0.0
        for j in range(s):
            if not Pt[m, j] > 0.0:
                Pt[m, j] = 1.0
            F[m, j] /= Pt[m, j]  # F'_m = Σ_i π'_im / (1 + τ'_im)
            acc += alpha[m, j] * (1.0 - F[m, j])
        inc = (np.exp(lnw[m]) * va[m] + d1[m]) / (1.0 - acc)  # I' = (ŵVA + D') / (1 − Σ α (1 − F'))
        buy = 0.0
        for j in range(s):
            X[m, j] = alpha[m, j] * inc  # X' = α I'
            v[m, j] = X[m, j] / Pt[m, j]
            buy += F[m, j] * X[m, j]
        excess[m] = buy - d1[m]  # purchases − D'
    res = 0.0
    row = np.empty(s)
    for i in range(n):
        row[:] = 0.0
        for m in range(n):
            for j in range(s):
                row[j] += pikt[i, m, j] * v[m, j]
        sale = 0.0
        for j in range(s):
            sale += xp[i, j] * row[j]  # sales_i = Σ_j x_i Σ_m W̃_im X'_m / P̂_m^(−θ)
        excess[i] -= sale
    for i in range(n):
        res = max(res, abs(excess[i]) / va[i])
    return res


@njit(cache=True, error_model="numpy")
def _restart(pik, pikt, theta, gamma, va, lnw, xp, Pt, v, u, J, H):  # pragma: no cover
    """J = diag(d), d_i = (ŵVA + Σ_j γ² θ Σ_m M'_im (1 − π'_im)) / VA_i, and H = (J + u uᵀ)⁻¹."""
    n, _, s = pik.shape
    J[:, :] = 0.0
    H[:, :] = 0.0
    den = 1.0
    for i in range(n):
        acc = 0.0
        for j in range(s):
            part = 0.0
            for m in range(n):
                part += pikt[i, m, j] * v[m, j] * (1.0 - pik[i, m, j] * xp[i, j] / Pt[m, j])
            acc += gamma[i, j] * gamma[i, j] * theta[j] * xp[i, j] * part
        d = (np.exp(lnw[i]) * va[i] + acc) / va[i]
        J[i, i] = d
        H[i, i] = 1.0 / d
        den += u[i] * u[i] / d
    for i in range(n):  # Sherman–Morrison: H = D⁻¹ − (D⁻¹u)(uᵀD⁻¹)/(1 + uᵀD⁻¹u)
        for k in range(n):
            H[i, k] -= (u[i] / J[i, i]) * (u[k] / J[k, k]) / den


@njit(cache=True, error_model="numpy")
def _broyden(J, H, dx, df, u):  # pragma: no cover
    """J += a Δxᵀ, a = (Δf − J Δx)/(Δxᵀ Δx); H = (J + u uᵀ)⁻¹ by Sherman–Morrison."""
    n = dx.size
    denom = 0.0
    for i in range(n):
        denom += dx[i] * dx[i]
    if denom <= 0.0:
        return
    a = df - J @ dx
    a /= denom
    for i in range(n):
        for k in range(n):
            J[i, k] += a[i] * dx[k]
    Ha = H @ a
    bH = dx @ H
    den = 1.0 + dx @ Ha
    if abs(den) > 1e-12:
        for i in range(n):
            for k in range(n):
                H[i, k] -= Ha[i] * bH[k] / den
    else:
        H[:, :] = np.linalg.inv(J + np.outer(u, u))


@njit(cache=True, error_model="numpy")
def _solve_one(pik, pikt, theta, lnz, va, d1, alpha, gamma, tol, max_iter, lnw_out):  # pragma: no cover
    """Broyden in ln ŵ for one scenario (see cp_solve.solve_wages); returns (iterations, converged)."""
    n, _, s = pik.shape
    xp, Pt, F, X, v = np.empty((n, s)), np.empty((n, s)), np.empty((n, s)), np.empty((n, s)), np.empty((n, s))
    xp2, Pt2, F2, X2, v2 = np.empty((n, s)), np.empty((n, s)), np.empty((n, s)), np.empty((n, s)), np.empty((n, s))
    ex, ex2 = np.empty(n), np.empty(n)
    J, H = np.empty((n, n)), np.empty((n, n))
    u = va / va.sum()
    lnw = np.zeros(n)
    res = _evaluate(pik, pikt, theta, lnz, va, d1, alpha, lnw, xp, Pt, F, X, v, ex)
    if res <= tol:
        lnw_out[:] = lnw
        return 0, True
    _restart(pik, pikt, theta, gamma, va, lnw, xp, Pt, v, u, J, H)
    lam = 1.0
    for it in range(1, max_iter + 1):
        f = ex / va
        trial = lnw - lam * (H @ f)  # Δ = −(J + u uᵀ)⁻¹ f
        trial -= np.log((np.exp(trial) * va).sum() / va.sum())  # numeraire Σ ŵ VA = Σ VA
        res2 = _evaluate(pik, pikt, theta, lnz, va, d1, alpha, trial, xp2, Pt2, F2, X2, v2, ex2)
        fn = ex2 / va
        _broyden(J, H, trial - lnw, fn - f, u)
        if (fn * fn).sum() < (f * f).sum():  # accept: ||excess/VA||² falls
            lam = min(1.0, 2.0 * lam)
            lnw[:] = trial
            xp, xp2, Pt, Pt2, F, F2, X, X2, v, v2, ex, ex2 = xp2, xp, Pt2, Pt, F2, F, X2, X, v2, v, ex2, ex
            res = res2
        else:
            lam *= 0.5
        if lam < 1.0 / 64.0:  # restart from the diagonal Jacobian
            _restart(pik, pikt, theta, gamma, va, lnw, xp, Pt, v, u, J, H)
            lam = 1.0
        if res <= tol:
            lnw_out[:] = lnw
            return it, True
    lnw_out[:] = lnw
    return max_iter, False


@njit(cache=True, error_model="numpy")
def _weights(pi0, tau0, tau1, ntb, has_ntb, theta, pik, pikt):  # pragma: no cover
    """W = π κ̂^(−θ), W̃ = W/(1 + τ'), κ̂ = (1 + τ')/(1 + τ) · (1 + ntb); τ' = 0 on the diagonal."""
    n, _, s = pik.shape
    for i in range(n):
        for m in range(n):
            for j in range(s):
                t1 = 0.0 if i == m else tau1[i, m, j]
                kap = (1.0 + t1) / (1.0 + tau0[i, m, j])
                if has_ntb:
                    kap *= 1.0 + ntb[i, m, j]
                pik[i, m, j] = pi0[i, m, j] * np.exp(-theta[j] * np.log(kap))
                pikt[i, m, j] = pik[i, m, j] / (1.0 + t1)


@njit(cache=True, error_model="numpy")
def _outputs(pik, pikt, theta, lnz, va, d1, alpha, lnw, pi1, flows, X, P_hat, income):  # pragma: no cover
    """π', M', X', P̂, I' at the solved wages; returns the trade-balance and goods-market residuals."""
    n, _, s = pik.shape
    xp, Pt, F, v = np.empty((n, s)), np.empty((n, s)), np.empty((n, s)), np.empty((n, s))
    ex = np.empty(n)
    res = _evaluate(pik, pikt, theta, lnz, va, d1, alpha, lnw, xp, Pt, F, X, v, ex)
    xmax, gap = 0.0, 0.0
    for m in range(n):
        rev = 0.0
        for j in range(s):
            rev += (1.0 - F[m, j]) * X[m, j]
            # ln P̂ = −(1/θ) ln Σ_i W x (Pt was set to 1 where nothing is bought)
            P_hat[m, j] = np.exp(-np.log(Pt[m, j]) / theta[j])
        income[m] = np.exp(lnw[m]) * va[m] + d1[m] + rev  # I' = ŵVA + D' + R'
        for j in range(s):
            xmax = max(xmax, abs(X[m, j]))
            gap = max(gap, abs(X[m, j] - alpha[m, j] * income[m]))  # X' = α I'
    for i in range(n):
        for m in range(n):
            for j in range(s):
                sh = xp[i, j] / Pt[m, j]
                pi1[i, m, j] = pik[i, m, j] * sh  # π' = W x / P̂^(−θ)
                flows[i, m, j] = pikt[i, m, j] * sh * X[m, j]  # M' = π' X' / (1 + τ')
    return res, gap / max(xmax, 1e-300)


@njit(cache=True, error_model="numpy")
def _solve_all(pi0, tau0, tau1, ntb, has_ntb, theta, lnz, va, d1, alpha, gamma, tol, max_iter,
               lnw, iters, done, res, res_goods, pi1, flows, X, P_hat, income):  # pragma: no cover
    """Every scenario in turn: weights, wage iteration, outputs; inputs with batch 1 are shared."""
    b, n, _, s = tau1.shape
    pik, pikt = np.empty((n, n, s)), np.empty((n, n, s))
    for k in range(b):
        # a batch axis of length 1 is shared by every scenario
        _weights(pi0[min(k, pi0.shape[0] - 1)], tau0[min(k, tau0.shape[0] - 1)], tau1[min(k, tau1.shape[0] - 1)],
                 ntb[min(k, ntb.shape[0] - 1)], has_ntb, theta[min(k, theta.shape[0] - 1)], pik, pikt)
        th, z = theta[min(k, theta.shape[0] - 1)], lnz[min(k, lnz.shape[0] - 1)]
        v, d, a = va[min(k, va.shape[0] - 1)], d1[min(k, d1.shape[0] - 1)], alpha[min(k, alpha.shape[0] - 1)]
        iters[k], done[k] = _solve_one(pik, pikt, th, z, v, d, a, gamma, tol, max_iter, lnw[k])
        res[k], res_goods[k] = _outputs(pik, pikt, th, z, v, d, a, lnw[k], pi1[k], flows[k], X[k], P_hat[k], income[k])


def _shared(a: np.ndarray) -> np.ndarray:
    """A C-contiguous, writable float array; a batch axis broadcast with stride 0 collapses to 1."""
    a = np.asarray(a, dtype=float)
    if a.ndim and a.shape[0] > 1 and a.strides[0] == 0:
        a = a[:1]
    return np.array(a, dtype=float, order="C", copy=True) if not (a.flags.c_contiguous and a.flags.writeable) else a


def solve(pi0, tau0, tau1, theta, *, ntb, lnz, va, d1, alpha, gamma, tol, max_iter) -> dict:
    """All Equilibrium arrays for B scenarios (γ = 1 worlds without taste shifters).

    ``pi0, tau0, va, alpha`` may have batch 1 (a shared baseline); ``tau1, ntb`` batch 1 or B;
    ``theta (B, S)``, ``lnz (B, n, S)``, ``d1 (B, n)``. Returns the fields of
    :class:`tariffsim.kernels.cp.Equilibrium` except ``c_hat, p_hat, deficit, success``,
    plus ``done``, ``res`` and ``res_goods``.
    """
    b, n, s = lnz.shape
    f4 = np.empty((b, n, n, s))
    out = dict(lnw=np.zeros((b, n)), iters=np.zeros(b, dtype=np.int64), done=np.zeros(b, dtype=np.bool_),
               res=np.zeros(b), res_goods=np.zeros(b), pi1=f4, flows=np.empty_like(f4), X=np.empty((b, n, s)),
               P_hat=np.empty((b, n, s)), income=np.empty((b, n)))
    ntb_ = np.zeros((1, 1, 1, 1)) if ntb is None else _shared(ntb)
    _solve_all(_shared(pi0), _shared(tau0), _shared(tau1), ntb_, ntb is not None, _shared(theta), _shared(lnz), _shared(va),
               _shared(d1), _shared(alpha), _shared(gamma), float(tol), int(max_iter), **out)
    return out
