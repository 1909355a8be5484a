"""Compiled (numba) Caliendo–Parro wage solver: one scenario at a time, in cache.

Belongs here: the same algorithm as :func:`tariffsim.kernels.cp_solve.solve_wages` (Broyden
in ln ŵ with backtracking, inverse kept by Sherman–Morrison, diagonal restarts) for worlds
without input-output links and without taste shifters, written as loops so that a
scenario's arrays stay in cache and no temporaries are built. Importing this module
imports numba (the optional extra ``tariffsim[fast]``); compiled code is cached on disk.
Formulas as in :mod:`tariffsim.kernels.cp_problem` (CP 2015 eqs. 2–5 with γ = 1).

Layout inside a scenario: weights ``W[i, j, m]`` (exporter, sector, importer) and importer
aggregates ``[j, m]``, so the innermost loop runs over importers (contiguous, vectorisable
for any number of sectors, including one); outputs are written back as ``[i, m, j]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["solve"]


@njit(cache=True, error_model="numpy")
def _evaluate(pik, pikt, theta, lnz, va, d1, alpha, lnw, xp, Pt, F, X, v, excess):  # pragma: no cover
    """Excess demand at wages exp(lnw); fills xp[i, j], Pt, F, X, v = X/Pt [j, m], excess; returns max |excess|/VA."""
    n, s, _ = pik.shape
    for i in range(n):
        for j in range(s):
            xp[i, j] = np.exp(-theta[j] * (lnw[i] - lnz[i, j]))  # x_i^j = (ĉ_i^j/ẑ_i^j)^(−θ^j)
    Pt[:, :] = 0.0
    F[:, :] = 0.0
    for i in range(n):
        for j in range(s):
            x = xp[i, j]
            for m in range(n):
                Pt[j, m] += pik[i, j, m] * x  # P̂_m^(−θ) = Σ_i W_im x_i
                F[j, m] += pikt[i, j, m] * x  # Σ_i W̃_im x_i
    excess[:] = 0.0  # first Σ_j α (1 − F'), then purchases
    for j in range(s):
        for m in range(n):
            if not Pt[j, m] > 0.0:
                Pt[j, m] = 1.0
            F[j, m] /= Pt[j, m]  # F'_m = Σ_i π'_im / (1 + τ'_im)
            excess[m] += alpha[j, m] * (1.0 - F[j, m])
    for m in range(n):
        excess[m] = (np.exp(lnw[m]) * va[m] + d1[m]) / (1.0 - excess[m])  # I' = (ŵVA + D') / (1 − Σ α (1 − F'))
    for j in range(s):
        for m in range(n):
            X[j, m] = alpha[j, m] * excess[m]  # X' = α I'
            v[j, m] = X[j, m] / Pt[j, m]
    excess[:] = -d1  # purchases − D' − sales
    for j in range(s):
        for m in range(n):
            excess[m] += F[j, m] * X[j, m]
    for i in range(n):
        sale = 0.0
        for j in range(s):
            acc = 0.0
            for m in range(n):
                acc += pikt[i, j, m] * v[j, m]
            sale += xp[i, j] * acc  # sales_i = Σ_j x_i Σ_m W̃_im X'_m / P̂_m^(−θ)
        excess[i] -= sale
    res = 0.0
    for i in range(n):
        res = max(res, abs(excess[i]) / va[i])
    return res

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
def _matvec(A, x, out):  # pragma: no cover
    """out = A x (loops: numba's BLAS-backed @ costs seconds of compile time)."""
    n = x.size
    for i in range(n):
        acc = 0.0
        for k in range(n):
            acc += A[i, k] * x[k]
        out[i] = acc


@njit(cache=True, error_model="numpy")
def _broyden(J, H, dx, df, work):  # pragma: no cover
    """J += a Δxᵀ, a = (Δf − J Δx)/(Δxᵀ Δx); H = (J + u uᵀ)⁻¹ by Sherman–Morrison.

    Skipped when Δx = 0 or the update would make J + u uᵀ singular (|1 + Δxᵀ H a| ≤ 1e-12).
    """
    n = dx.size
    a, Ha, bH = work[0], work[1], work[2]
    denom = 0.0
    for i in range(n):
        denom += dx[i] * dx[i]
    if denom <= 0.0:
        return
    _matvec(J, dx, a)
    for i in range(n):
        a[i] = (df[i] - a[i]) / denom
    _matvec(H, a, Ha)
    den = 1.0
    bH[:] = 0.0
    for i in range(n):
        den += dx[i] * Ha[i]
        for k in range(n):
            bH[k] += dx[i] * H[i, k]  # Δxᵀ H, row by row (contiguous)
    if abs(den) <= 1e-12:
        return
    for i in range(n):
        for k in range(n):
            J[i, k] += a[i] * dx[k]
            H[i, k] -= Ha[i] * bH[k] / den


@njit(cache=True, error_model="numpy")
def _solve_one(pik, pikt, theta, lnz, va, d1, alpha, gamma, tol, max_iter, lnw):  # pragma: no cover
    """Broyden in ln ŵ for one scenario (see cp_solve.solve_wages); returns (iterations, converged).

    ``lnw`` (n,) is the output. Two slots of state arrays: ``c`` is the accepted point.
    """
    n, s, _ = pik.shape
    XP, PT, FF, XX, V = (np.empty((2, n, s)), np.empty((2, s, n)), np.empty((2, s, n)), np.empty((2, s, n)),
                         np.empty((2, s, n)))
    EX = np.empty((2, n))
    J, H, work = np.empty((n, n)), np.empty((n, n)), np.empty((3, n))
    f, fn, trial, dx, df, step = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    vsum = va.sum()
    u = va / vsum
    lnw[:] = 0.0
    c = 0
    res = _evaluate(pik, pikt, theta, lnz, va, d1, alpha, lnw, XP[c], PT[c], FF[c], XX[c], V[c], EX[c])
    if res <= tol:
        return 0, True
    _restart(pik, pikt, theta, gamma, va, lnw, XP[c], PT[c], V[c], u, J, H)
    lam = 1.0
    for it in range(1, max_iter + 1):
        for i in range(n):
            f[i] = EX[c, i] / va[i]
        _matvec(H, f, step)  # Δ = −(J + u uᵀ)⁻¹ f
        tot = 0.0
        for i in range(n):
            trial[i] = lnw[i] - lam * step[i]
            tot += np.exp(trial[i]) * va[i]
        shift = np.log(tot / vsum)  # numeraire Σ ŵ VA = Σ VA
        for i in range(n):
            trial[i] -= shift
        o = 1 - c
        res2 = _evaluate(pik, pikt, theta, lnz, va, d1, alpha, trial, XP[o], PT[o], FF[o], XX[o], V[o], EX[o])
        m_old, m_new = 0.0, 0.0
        for i in range(n):
            fn[i] = EX[o, i] / va[i]
            dx[i] = trial[i] - lnw[i]
            df[i] = fn[i] - f[i]
            m_old += f[i] * f[i]
            m_new += fn[i] * fn[i]
        _broyden(J, H, dx, df, work)
        if m_new < m_old:  # accept: ||excess/VA||² falls
            lam = min(1.0, 2.0 * lam)
            lnw[:] = trial
            c = o
            res = res2
        else:
            lam *= 0.5
        if lam < 1.0 / 64.0:  # restart from the diagonal Jacobian
            _restart(pik, pikt, theta, gamma, va, lnw, XP[c], PT[c], V[c], u, J, H)
            lam = 1.0
        if res <= tol:
            return it, True
    return max_iter, False


@njit(cache=True, error_model="numpy")
def _weights(pi0, tau0, tau1, ntb, has_ntb, theta, pik, pikt):  # pragma: no cover
    """W[i, j, m] = π κ̂^(−θ), W̃ = W/(1 + τ'), κ̂ = (1 + τ')/(1 + τ) · (1 + ntb); τ' = 0 on the diagonal.

    Inputs are [i, m, j]; W and W̃ are [i, j, m].
    """
    n, s, _ = pik.shape
    for i in range(n):
        for m in range(n):
            for j in range(s):
                t1 = 0.0 if i == m else tau1[i, m, j]
                kap = (1.0 + t1) / (1.0 + tau0[i, m, j])
                if has_ntb:
                    kap *= 1.0 + ntb[i, m, j]
                w = pi0[i, m, j] * np.exp(-theta[j] * np.log(kap)) if pi0[i, m, j] > 0.0 else 0.0
                pik[i, j, m] = w
                pikt[i, j, m] = w / (1.0 + t1)

@njit(cache=True, error_model="numpy")
def _outputs(pik, pikt, theta, lnz, va, d1, alpha, lnw, pi1, flows, X_out, P_hat, income):  # pragma: no cover
    """π', M' [i, m, j], X', P̂ [m, j], I' at the solved wages; returns the trade-balance and goods residuals."""
    n, s, _ = pik.shape
    xp = np.empty((n, s))
    Pt, F, X, v = np.empty((s, n)), np.empty((s, n)), np.empty((s, n)), np.empty((s, n))
    ex = np.empty(n)
    res = _evaluate(pik, pikt, theta, lnz, va, d1, alpha, lnw, xp, Pt, F, X, v, ex)
    for m in range(n):
        income[m] = np.exp(lnw[m]) * va[m] + d1[m]
    for j in range(s):
        for m in range(n):
            income[m] += (1.0 - F[j, m]) * X[j, m]  # I' = ŵVA + D' + R'
            X_out[m, j] = X[j, m]
            P_hat[m, j] = np.exp(-np.log(Pt[j, m]) / theta[j])  # P̂ = (Σ_i W x)^(−1/θ); 1 where nothing is bought
    xmax, gap = 0.0, 0.0
    for j in range(s):
        for m in range(n):
            xmax = max(xmax, abs(X[j, m]))
            gap = max(gap, abs(X[j, m] - alpha[j, m] * income[m]))  # goods market: X' = α I'
    for i in range(n):
        for m in range(n):
            for j in range(s):
                sh = xp[i, j] / Pt[j, m]
                pi1[i, m, j] = pik[i, j, m] * sh  # π' = W x / P̂^(−θ)
                flows[i, m, j] = pikt[i, j, m] * sh * X[j, m]  # M' = π' X' / (1 + τ')
    return res, gap / max(xmax, 1e-300)

@njit(cache=True, error_model="numpy")
def _solve_all(pi0, tau0, tau1, ntb, has_ntb, theta, lnz, va, d1, alpha, gamma, tol, max_iter,
               lnw, iters, done, res, res_goods, pi1, flows, X, P_hat, income):  # pragma: no cover
    """Every scenario in turn: weights, wage iteration, outputs; inputs with batch 1 are shared."""
    b, n, _, s = lnw.shape[0], tau1.shape[1], tau1.shape[2], tau1.shape[3]
    pik, pikt = np.empty((n, s, n)), np.empty((n, s, n))
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
    _solve_all(_shared(pi0), _shared(tau0), _shared(tau1), ntb_, ntb is not None, _shared(theta), _shared(lnz),
               _shared(va),
               _shared(d1), _shared(np.swapaxes(alpha, -1, -2)), _shared(gamma), float(tol), int(max_iter), **out)
    return out
