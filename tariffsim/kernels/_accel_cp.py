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

import threading

import numpy as np
from numba import njit

from ._accel_math import exp, log

__all__ = ["solve"]


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _evaluate(pik, pikt, si, theta, lnz, va, d1, alpha, lnw, xp, Pt, F, X, v, excess):  # pragma: no cover
    """Excess demand at wages exp(lnw); fills xp[i, j], Pt, F, X, v = X/Pt [a, b], excess; returns max |excess|/VA.

    Layout (module notes): W[i, a, b] and aggregates [a, b] are (importer, sector) when ``si``
    (sector innermost), else (sector, importer).
    """
    n, na, nb = pik.shape
    s = xp.shape[1]
    for i in range(n):
        for j in range(s):
            xp[i, j] = exp(-theta[j] * (lnw[i] - lnz[i, j]))  # x_i^j = (ĉ_i^j/ẑ_i^j)^(−θ^j)
    Pt[:, :] = 0.0
    F[:, :] = 0.0
    for i in range(n):
        for a in range(na):
            for b in range(nb):
                x = xp[i, b] if si else xp[i, a]
                Pt[a, b] += pik[i, a, b] * x  # P̂_m^(−θ) = Σ_i W_im x_i
                F[a, b] += pikt[i, a, b] * x  # Σ_i W̃_im x_i
    excess[:] = 0.0  # first Σ_j α (1 − F'), then purchases
    for a in range(na):
        for b in range(nb):
            if not Pt[a, b] > 0.0:
                Pt[a, b] = 1.0
            v[a, b] = 1.0 / Pt[a, b]
            F[a, b] *= v[a, b]  # F'_m = Σ_i π'_im / (1 + τ'_im)
            excess[a if si else b] += alpha[a, b] * (1.0 - F[a, b])
    for m in range(n):
        excess[m] = (exp(lnw[m]) * va[m] + d1[m]) / (1.0 - excess[m])  # I' = (ŵVA + D') / (1 − Σ α (1 − F'))
    for a in range(na):
        for b in range(nb):
            X[a, b] = alpha[a, b] * excess[a if si else b]  # X' = α I'
            v[a, b] *= X[a, b]  # X' / P̂^(−θ)
    excess[:] = -d1  # purchases − D' − sales
    for a in range(na):
        for b in range(nb):
            excess[a if si else b] += F[a, b] * X[a, b]
    tmp = np.empty(nb)
    for i in range(n):  # sales_i = Σ_j x_i^j Σ_m W̃_im X'_m / P̂_m^(−θ), summed elementwise over b
        tmp[:] = 0.0
        for a in range(na):
            xa = 1.0 if si else xp[i, a]
            for b in range(nb):
                tmp[b] += pikt[i, a, b] * v[a, b] * xa
        sale = 0.0
        for b in range(nb):
            sale += tmp[b] * xp[i, b] if si else tmp[b]
        excess[i] -= sale
    res = 0.0
    for i in range(n):
        res = max(res, abs(excess[i]) / va[i])
    return res


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _restart(pik, pikt, si, theta, gamma, va, lnw, xp, Pt, v, u, J, H):  # pragma: no cover
    """J = diag(d), d_i = (ŵVA + Σ_j γ² θ Σ_m M'_im (1 − π'_im)) / VA_i, and H = (J + u uᵀ)⁻¹."""
    n, na, nb = pik.shape
    J[:, :] = 0.0
    H[:, :] = 0.0
    den = 1.0
    tmp = np.empty(nb)
    for i in range(n):
        tmp[:] = 0.0
        for a in range(na):
            for b in range(nb):
                j = b if si else a
                x = xp[i, j]
                g = gamma[i, j] * gamma[i, j] * theta[j] * x
                tmp[b] += g * pikt[i, a, b] * v[a, b] * (1.0 - pik[i, a, b] * x / Pt[a, b])
        acc = 0.0
        for b in range(nb):
            acc += tmp[b]
        d = (np.exp(lnw[i]) * va[i] + acc) / va[i]
        J[i, i] = d
        H[i, i] = 1.0 / d
        den += u[i] * u[i] / d
    for i in range(n):  # Sherman–Morrison: H = D⁻¹ − (D⁻¹u)(uᵀD⁻¹)/(1 + uᵀD⁻¹u)
        for k in range(n):
            H[i, k] -= (u[i] / J[i, i]) * (u[k] / J[k, k]) / den


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _matvec(A, x, out):  # pragma: no cover
    """out = A x (loops: numba's BLAS-backed @ costs seconds of compile time)."""
    n = x.size
    for i in range(n):
        acc = 0.0
        for k in range(n):
            acc += A[i, k] * x[k]
        out[i] = acc


@njit(cache=True, error_model="numpy", fastmath={"contract"})
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


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _trial(H, f, lnw, lam, va, vsum, step, trial):  # pragma: no cover
    """trial = ln ŵ − λ (J + u uᵀ)⁻¹ f, shifted so that Σ ŵ VA = Σ VA (the numeraire); ``step`` is scratch."""
    n = lnw.size
    _matvec(H, f, step)  # Δ = −(J + u uᵀ)⁻¹ f
    tot = 0.0
    for i in range(n):
        trial[i] = lnw[i] - lam * step[i]
        tot += np.exp(trial[i]) * va[i]
    shift = np.log(tot / vsum)
    for i in range(n):
        trial[i] -= shift


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _secant(ex, va, f, trial, lnw, fn, dx, df):  # pragma: no cover
    """fn = excess/VA at the trial point, Δx, Δf for Broyden; returns (||f||², ||fn||²)."""
    m_old, m_new = 0.0, 0.0
    for i in range(lnw.size):
        fn[i] = ex[i] / va[i]
        dx[i] = trial[i] - lnw[i]
        df[i] = fn[i] - f[i]
        m_old += f[i] * f[i]
        m_new += fn[i] * fn[i]
    return m_old, m_new


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _solve_one(pik, pikt, si, theta, lnz, va, d1, alpha, gamma, tol, max_iter, lnw):  # pragma: no cover
    """Broyden in ln ŵ for one scenario (see cp_solve.solve_wages); returns (iterations, converged).

    ``lnw`` (n,) is the output. Two slots of state arrays: ``c`` is the accepted point.
    """
    n, na, nb = pik.shape
    s = lnz.shape[1]
    XP, PT, FF, XX, V = (np.empty((2, n, s)), np.empty((2, na, nb)), np.empty((2, na, nb)), np.empty((2, na, nb)),
                         np.empty((2, na, nb)))
    EX = np.empty((2, n))
    J, H, work = np.empty((n, n)), np.empty((n, n)), np.empty((3, n))
    f, fn, trial, dx, df, step = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    vsum = va.sum()
    u = va / vsum
    lnw[:] = 0.0
    c = 0
    res = _evaluate(pik, pikt, si, theta, lnz, va, d1, alpha, lnw, XP[c], PT[c], FF[c], XX[c], V[c], EX[c])
    if res <= tol:
        return 0, True
    _restart(pik, pikt, si, theta, gamma, va, lnw, XP[c], PT[c], V[c], u, J, H)
    lam = 1.0
    for it in range(1, max_iter + 1):
        for i in range(n):
            f[i] = EX[c, i] / va[i]
        _trial(H, f, lnw, lam, va, vsum, step, trial)
        o = 1 - c
        res2 = _evaluate(pik, pikt, si, theta, lnz, va, d1, alpha, trial, XP[o], PT[o], FF[o], XX[o], V[o], EX[o])
        m_old, m_new = _secant(EX[o], va, f, trial, lnw, fn, dx, df)
        _broyden(J, H, dx, df, work)
        if m_new < m_old:  # accept: ||excess/VA||² falls
            lam = min(1.0, 2.0 * lam)
            lnw[:] = trial
            c = o
            res = res2
        else:
            lam *= 0.5
        if lam < 1.0 / 64.0:  # restart from the diagonal Jacobian
            _restart(pik, pikt, si, theta, gamma, va, lnw, XP[c], PT[c], V[c], u, J, H)
            lam = 1.0
        if res <= tol:
            return it, True
    return max_iter, False


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _baseline_logs(pi0, tau0, lnpi, ln_tau0):  # pragma: no cover
    """ln π (0 where π = 0) and ln(1 + τ), [i, m, j]: what the weights need from the baseline."""
    n, _, s = pi0.shape
    for i in range(n):
        for m in range(n):
            for j in range(s):
                p = pi0[i, m, j]
                lnpi[i, m, j] = log(p) if p > 0.0 else 0.0
                ln_tau0[i, m, j] = log(1.0 + tau0[i, m, j])


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _weights(pi0, lnpi, ln_tau0, tau1, ntb, has_ntb, si, theta, row, rowt, pik, pikt):  # pragma: no cover
    """W[i, a, b] = π κ̂^(−θ), W̃ = W/(1 + τ'), κ̂ = (1 + τ')/(1 + τ) · (1 + ntb); τ' = 0 on the diagonal.

    Inputs are [i, m, j] (``lnpi``, ``ln_tau0`` from :func:`_baseline_logs`). One log and one
    exp per flow, W = exp(ln π − θ (ln(1 + τ') + ln(1 + ntb) − ln(1 + τ))), computed one
    contiguous exporter row ``row[m, j]`` at a time (vectorised), then stored in the layout.
    """
    n, _, s = tau1.shape
    for i in range(n):
        for m in range(n):
            diag = i == m
            for j in range(s):
                t1 = 0.0 if diag else tau1[i, m, j]
                lk = log(1.0 + t1) - ln_tau0[i, m, j]  # ln κ̂
                if has_ntb:
                    lk += log(1.0 + ntb[i, m, j])
                w = exp(lnpi[i, m, j] - theta[j] * lk)
                w = w if pi0[i, m, j] > 0.0 else 0.0
                row[m, j] = w
                rowt[m, j] = w / (1.0 + t1)
        if si:
            pik[i] = row
            pikt[i] = rowt
        else:
            for j in range(s):
                for m in range(n):
                    pik[i, j, m] = row[m, j]
                    pikt[i, j, m] = rowt[m, j]


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _outputs(pik, pikt, si, theta, lnz, va, d1, alpha, lnw, pi1, flows, X_out, P_hat, income):  # pragma: no cover
    """π', M' [i, m, j], X', P̂ [m, j], I' at the solved wages; returns the trade-balance and goods residuals."""
    n, na, nb = pik.shape
    s = lnz.shape[1]
    xp = np.empty((n, s))
    Pt, F, X, v = np.empty((na, nb)), np.empty((na, nb)), np.empty((na, nb)), np.empty((na, nb))
    ex = np.empty(n)
    res = _evaluate(pik, pikt, si, theta, lnz, va, d1, alpha, lnw, xp, Pt, F, X, v, ex)
    for m in range(n):
        income[m] = np.exp(lnw[m]) * va[m] + d1[m]
    for a in range(na):
        for b in range(nb):
            m, j = (a, b) if si else (b, a)
            income[m] += (1.0 - F[a, b]) * X[a, b]  # I' = ŵVA + D' + R'
            X_out[m, j] = X[a, b]
            P_hat[m, j] = exp(-log(Pt[a, b]) / theta[j])  # P̂ = (Σ_i W x)^(−1/θ); 1 where nothing is bought
    xmax, gap = 0.0, 0.0
    for a in range(na):
        for b in range(nb):
            xmax = max(xmax, abs(X[a, b]))
            gap = max(gap, abs(X[a, b] - alpha[a, b] * income[a if si else b]))  # goods market: X' = α I'
    for a in range(na):
        for b in range(nb):
            F[a, b] = 1.0 / Pt[a, b]  # F is free now: 1 / P̂^(−θ)
    for i in range(n):
        for a in range(na):
            for b in range(nb):
                m, j = (a, b) if si else (b, a)
                sh = xp[i, j] * F[a, b]
                pi1[i, m, j] = pik[i, a, b] * sh  # π' = W x / P̂^(−θ)
                flows[i, m, j] = pikt[i, a, b] * sh * X[a, b]  # M' = π' X' / (1 + τ')
    return res, gap / max(xmax, 1e-300)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _all_baseline_logs(pi0, tau0, lnpi, ln_tau0):  # pragma: no cover
    """:func:`_baseline_logs` of every baseline of a batch (one when shared)."""
    for k in range(lnpi.shape[0]):
        _baseline_logs(pi0[min(k, pi0.shape[0] - 1)], tau0[min(k, tau0.shape[0] - 1)], lnpi[k], ln_tau0[k])


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _solve_all(pi0, lnpi, ln_tau0, tau1, ntb, has_ntb, si, theta, lnz, va, d1, alpha, gamma, tol, max_iter,
               lnw, iters, done, res, res_goods, pi1, flows, X, P_hat, income):  # pragma: no cover
    """Every scenario in turn: weights, wage iteration, outputs; inputs with batch 1 are shared.

    ``alpha`` is in the aggregate layout [a, b]; ``lnpi, ln_tau0`` from :func:`_all_baseline_logs`.
    """
    b, n, _, s = lnw.shape[0], tau1.shape[1], tau1.shape[2], tau1.shape[3]
    na, nb = (n, s) if si else (s, n)
    pik, pikt = np.empty((n, na, nb)), np.empty((n, na, nb))
    row, rowt = np.empty((n, s)), np.empty((n, s))
    n0 = lnpi.shape[0]
    for k in range(b):
        # a batch axis of length 1 is shared by every scenario
        k0 = min(k, n0 - 1)
        th, z = theta[min(k, theta.shape[0] - 1)], lnz[min(k, lnz.shape[0] - 1)]
        _weights(pi0[min(k, pi0.shape[0] - 1)], lnpi[k0], ln_tau0[k0], tau1[min(k, tau1.shape[0] - 1)],
                 ntb[min(k, ntb.shape[0] - 1)], has_ntb, si, th, row, rowt, pik, pikt)
        v, d, a = va[min(k, va.shape[0] - 1)], d1[min(k, d1.shape[0] - 1)], alpha[min(k, alpha.shape[0] - 1)]
        iters[k], done[k] = _solve_one(pik, pikt, si, th, z, v, d, a, gamma, tol, max_iter, lnw[k])
        res[k], res_goods[k] = _outputs(pik, pikt, si, th, z, v, d, a, lnw[k], pi1[k], flows[k], X[k], P_hat[k],
                                        income[k])


#: ln π and ln(1 + τ) of the last few shared baselines: (copy of π, copy of τ, ln π, ln(1 + τ)), newest first
_LOGS: list = []
_LOGS_LOCK = threading.Lock()


def _logs(pi0: np.ndarray, tau0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_all_baseline_logs` of (π, τ), remembered for a shared baseline (batch 1).

    A baseline solved one scenario at a time takes its logs once; a hit is checked by
    comparing the arrays' values (cheaper than the logs).
    """
    shared = pi0.shape[0] == 1 and tau0.shape[0] == 1
    if shared:
        with _LOGS_LOCK:
            for p, t, lnpi, lnt in _LOGS:
                if p.shape == pi0.shape and np.array_equal(p, pi0) and np.array_equal(t, tau0):
                    return lnpi, lnt
    n0 = max(pi0.shape[0], tau0.shape[0])
    lnpi, lnt = np.empty((n0,) + pi0.shape[1:]), np.empty((n0,) + pi0.shape[1:])
    _all_baseline_logs(pi0, tau0, lnpi, lnt)
    if shared:
        with _LOGS_LOCK:
            _LOGS.insert(0, (pi0.copy(), tau0.copy(), lnpi, lnt))
            del _LOGS[4:]
    return lnpi, lnt


def sector_inner(n: int, s: int) -> bool:
    """Whether sectors are the innermost axis of the weights (else importers): the longer run, up to 16."""
    return s >= min(n, 16)


def _shared(a: np.ndarray) -> np.ndarray:
    """A C-contiguous, writable float array; a batch axis broadcast with stride 0 collapses to 1."""
    a = np.asarray(a, dtype=float)
    if a.ndim and a.shape[0] > 1 and a.strides[0] == 0:
        a = a[:1]
    return np.array(a, dtype=float, order="C", copy=True) if not (a.flags.c_contiguous and a.flags.writeable) else a


def solve(pi0, tau0, tau1, theta, *, ntb, lnz, va, d1, alpha, gamma, tol, max_iter) -> dict:
    """All Equilibrium arrays for B scenarios (γ = 1 worlds without taste shifters).

    ``pi0, tau0, va, alpha`` may have batch 1 (a shared baseline); ``tau1, ntb`` batch 1 or B;
    ``theta (B, S)``, ``lnz (B or 1, n, S)``, ``d1 (B, n)``. Returns the fields of
    :class:`tariffsim.kernels.cp.Equilibrium` except ``c_hat, p_hat, deficit, success``,
    plus ``done``, ``res`` and ``res_goods``.
    """
    b, (n, s) = np.shape(theta)[0], np.shape(lnz)[1:]
    f4 = np.empty((b, n, n, s))
    out = dict(lnw=np.zeros((b, n)), iters=np.zeros(b, dtype=np.int64), done=np.zeros(b, dtype=np.bool_),
               res=np.zeros(b), res_goods=np.zeros(b), pi1=f4, flows=np.empty_like(f4), X=np.empty((b, n, s)),
               P_hat=np.empty((b, n, s)), income=np.empty((b, n)))
    ntb_ = np.zeros((1, 1, 1, 1)) if ntb is None else _shared(ntb)
    si = sector_inner(n, s)
    alpha_ = _shared(alpha if si else np.swapaxes(alpha, -1, -2))
    pi0 = _shared(pi0)
    lnpi, ln_tau0 = _logs(pi0, _shared(tau0))
    _solve_all(pi0, lnpi, ln_tau0, _shared(tau1), ntb_, ntb is not None, si, _shared(theta), _shared(lnz),
               _shared(va), _shared(d1), alpha_, _shared(gamma), float(tol), int(max_iter), **out)
    return out
