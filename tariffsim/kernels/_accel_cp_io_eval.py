"""One evaluation of the Caliendo–Parro model with input–output links, compiled (numba).

Belongs here: the model at given wages for one scenario, as loops over arrays that stay in
cache: the price system (CP 2015 eqs. 1–2), the linear expenditure system (eq. 4) and the
trade-balance excess (eq. 5), as in :func:`tariffsim.kernels.cp_problem.evaluate` and
:mod:`tariffsim.kernels.cp_linear`. The wage iteration is in :mod:`._accel_cp_io`.

Both inner systems are solved to the tolerance they are given (steps ≤ 10⁻³ tol, as the
numpy path) but preconditioned by each country's own block, inverted once per scenario at
the first evaluation (:func:`preconditioners`) and then kept, and Anderson-accelerated
(memory :data:`MEMORY`): the price fixed point

    ln P̂ = g(ln P̂),  g_m^j = −(1/θ^j) ln Σ_i W_im^j x_i^j,  ln ĉ_i^j = γ_i^j ln ŵ_i + Σ_k γ_i^{k,j} ln P̂_i^k

steps ln P̂_m += (I − B_m)⁻¹ (g_m − ln P̂_m) with B_m^{jk} = π'_mm^j γ_m^{k,j} (∂g_m/∂ ln P̂_m, the
domestic part of the Jacobian); the expenditure system X = A X + α (ŵVA + D') steps
X_n += (I − A_nn)⁻¹ r_n with r the residual and A_nn^{jk} = γ_n^{j,k} S_nn^k + α_n^j (1 − F'_n^k)
(block Jacobi of cp_linear with the diagonal blocks of the first evaluation). The fixed
points are the numpy path's; only the number of inner steps differs. exp and log run as
vector loops (:mod:`._accel_math`).

Layout: weights ``W[i, j, m]`` (exporter, sector, importer); importer aggregates ``Pt, F, v``
as ``[j, m]``; country-by-sector vectors (``lnP, lnc, xp, X, Y``) as ``[n, j]``; ``io[n, k, j]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._accel_math import vexp, vlog

__all__ = ["MEMORY", "WORK_ROWS", "apply_t", "evaluate", "inverse_t", "preconditioners"]

#: LLVM fast-math flags of the loops with sums: reassociation lets reductions vectorise
#: (results change in the last bits only; no assumptions about NaN or infinities).
FAST = {"reassoc", "contract"}

#: Anderson memory (differences kept) of both inner iterations.
MEMORY = 5
#: Rows of the inner-iteration workspace ``aw`` (each n · S long).
WORK_ROWS = 5 + 2 * MEMORY


@njit(cache=True, error_model="numpy")
def _inverse_t_lu(A, out, piv, LT):  # pragma: no cover
    """out = (A⁻¹)ᵀ by LU with partial pivoting (A overwritten; ``piv``, ``LT`` scratch); zero pivots → 1e-300."""
    s = A.shape[0]
    for col in range(s):  # A = P L U in place (Doolittle)
        p, big = col, abs(A[col, col])
        for r in range(col + 1, s):
            if abs(A[r, col]) > big:
                p, big = r, abs(A[r, col])
        piv[col] = p
        if p != col:
            for c in range(s):
                A[col, c], A[p, c] = A[p, c], A[col, c]
        if A[col, col] == 0.0:
            A[col, col] = 1e-300
        inv = 1.0 / A[col, col]
        for r in range(col + 1, s):
            A[r, col] *= inv
            f = A[r, col]
            for c in range(col + 1, s):
                A[r, c] -= f * A[col, c]
    for r in range(s):
        for c in range(s):
            LT[c, r] = A[r, c]
    for k in range(s):  # column k of A⁻¹: solve L U x = P e_k, column-oriented (contiguous rows of LT)
        b = out[k]
        b[:] = 0.0
        b[k] = 1.0
        for c in range(s):
            p = piv[c]
            if p != c:
                b[c], b[p] = b[p], b[c]
        for c in range(s):
            bc = b[c]
            for r in range(c + 1, s):
                b[r] -= LT[c, r] * bc
        for c in range(s - 1, -1, -1):
            b[c] /= LT[c, c]
            bc = b[c]
            for r in range(c):
                b[r] -= LT[c, r] * bc


@njit(cache=True, error_model="numpy")
def inverse_t(A, out, piv, LT):  # pragma: no cover
    """out = (A⁻¹)ᵀ for a small square A; A is overwritten, ``piv`` (s,) int and ``LT`` (s, s) scratch.

    Stored transposed so that A⁻¹ r is applied as a sum of contiguous rows (:func:`apply_t`).
    Gauss–Jordan without pivoting (the preconditioners' matrices I − B are diagonally
    dominant, where it is stable), falling back to LU with partial pivoting when a pivot is
    below 1e-8 in absolute value.
    """
    s = A.shape[0]
    LT[:, :] = A
    ok = True
    for k in range(s):
        p = A[k, k]
        if not abs(p) > 1e-8:
            ok = False
            break
        p = 1.0 / p
        A[k, k] = 1.0
        for c in range(s):
            A[k, c] *= p
        for r in range(s):
            if r != k:
                f = A[r, k]
                A[r, k] = 0.0
                for c in range(s):
                    A[r, c] -= f * A[k, c]
    if ok:
        for r in range(s):
            for c in range(s):
                out[c, r] = A[r, c]
    else:
        A[:, :] = LT
        _inverse_t_lu(A, out, piv, LT)


@njit(cache=True, error_model="numpy")
def apply_t(MT, r, out):  # pragma: no cover
    """out = M r given MT = Mᵀ (s, s): Σ_k MT[k, :] r_k."""
    s = r.size
    out[:] = 0.0
    for k in range(s):
        a = r[k]
        for j in range(s):
            out[j] += MT[k, j] * a


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _anderson(x, gx, k, Fp, Gp, DF, DG, gram):  # pragma: no cover
    """Anderson mixing, in place of ``x``: x ← G(x) − Σ_a γ_a ΔG_a, γ = argmin ||f − Σ_a γ_a ΔF_a||.

    f = G(x) − x; ``k`` counts the calls since the start (0: plain step, no history); the
    last ``DF.shape[0]`` differences of f (ΔF) and of G (ΔG) are kept in circular buffers,
    ``Fp, Gp`` hold the previous f and G, ``gram`` the Gram matrix ΔFᵀΔF (only the new
    column's products are computed). A singular least-squares system takes the plain step.
    """
    nv, mem = x.size, DF.shape[0]
    mk = min(k, mem)
    if k > 0:
        col = (k - 1) % mem
        for a in range(nv):
            f = gx[a] - x[a]
            DF[col, a] = f - Fp[a]
            DG[col, a] = gx[a] - Gp[a]
        for a in range(mk):
            acc = 0.0
            for t in range(nv):
                acc += DF[a, t] * DF[col, t]
            gram[a, col] = acc
            gram[col, a] = acc
    for a in range(nv):
        Fp[a] = gx[a] - x[a]
        Gp[a] = gx[a]
    if mk == 0:
        x[:] = gx
        return
    A, rhs = np.empty((mk, mk + 1)), np.empty(mk)
    for a in range(mk):
        acc = 0.0
        for t in range(nv):
            acc += DF[a, t] * Fp[t]
        rhs[a] = acc
        for b in range(mk):
            A[a, b] = gram[a, b]
    for a in range(mk):
        A[a, mk] = rhs[a]
        A[a, a] *= 1.0 + 1e-10  # Tikhonov: keeps a near-singular history usable
    for col in range(mk):  # Gaussian elimination with partial pivoting on [A | rhs]
        p = col
        for r in range(col + 1, mk):
            if abs(A[r, col]) > abs(A[p, col]):
                p = r
        if not abs(A[p, col]) > 0.0:
            x[:] = gx
            return
        for c in range(mk + 1):
            A[col, c], A[p, c] = A[p, c], A[col, c]
        for r in range(col + 1, mk):
            f = A[r, col] / A[col, col]
            for c in range(col, mk + 1):
                A[r, c] -= f * A[col, c]
    for col in range(mk - 1, -1, -1):
        acc = A[col, mk]
        for c in range(col + 1, mk):
            acc -= A[col, c] * rhs[c]
        rhs[col] = acc / A[col, col]
    x[:] = gx
    for a in range(mk):
        ga = rhs[a]
        for t in range(nv):
            x[t] -= ga * DG[a, t]


@njit(cache=True, error_model="numpy")
def _mixer(x, gx, k, aw, gram):  # pragma: no cover
    """:func:`_anderson` with the workspace ``aw`` (WORK_ROWS, N): rows G(x), Fp, Gp, ΔF…, ΔG…, two scratch."""
    return _anderson(x, gx, k, aw[1], aw[2], aw[3:3 + MEMORY], aw[3 + MEMORY:3 + 2 * MEMORY], gram)


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _price_pass(pik, theta, lnz, gamma, io, lnw, lnP, lnc, xp, Pt, g, t1):  # pragma: no cover
    """lnc, xp = (ĉ/ẑ)^(−θ), Pt = Σ_i W x [j, m] (1 where 0) and g = −(1/θ) ln Pt [m, j] (0 where Pt = 0).

    ``t1`` is a scratch vector of n · S (exp and log run as vector loops, :mod:`._accel_math`).
    """
    n, s, _ = pik.shape
    for i in range(n):
        for j in range(s):
            lnc[i, j] = gamma[i, j] * lnw[i]
        for k in range(s):
            a = lnP[i, k]
            for j in range(s):
                lnc[i, j] += io[i, k, j] * a  # ln ĉ_i^j = γ_i^j ln ŵ_i + Σ_k γ_i^{k,j} ln P̂_i^k  (eq. 1)
        for j in range(s):
            t1[i * s + j] = -theta[j] * (lnc[i, j] - lnz[i, j])
    vexp(t1, xp.reshape(n * s))  # x_i^j = (ĉ_i^j / ẑ_i^j)^(−θ^j)
    Pt[:, :] = 0.0
    for i in range(n):
        for j in range(s):
            x = xp[i, j]
            for m in range(n):
                Pt[j, m] += pik[i, j, m] * x  # P̂_m^(−θ) = Σ_i W_im x_i  (eq. 2)
    for j in range(s):
        for m in range(n):
            if not Pt[j, m] > 0.0:
                Pt[j, m] = 1.0  # nothing bought: ln P̂ = 0
    vlog(Pt.reshape(n * s), t1)
    for j in range(s):
        for m in range(n):
            g[m, j] = -t1[j * n + m] / theta[j]


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _prices(pik, theta, lnz, gamma, io, Q, lnw, lnP, lnc, xp, Pt, g, r, aw, tol):  # pragma: no cover
    """Solve the price system in place of ``lnP`` (warm start); returns the inner steps taken.

    G(ln P̂) = ln P̂ + Q (g − ln P̂), Anderson-accelerated (workspace ``aw``, see :func:`_mixer`).
    Stops when max |Q (g − ln P̂)| ≤ 10⁻³ tol; xp, Pt are those of the returned ln P̂.
    """
    n, s, _ = pik.shape
    x = lnP.reshape(n * s)
    gx = aw[0]
    dr, gram = np.empty(s), np.empty((MEMORY, MEMORY))
    for it in range(100_000):
        _price_pass(pik, theta, lnz, gamma, io, lnw, lnP, lnc, xp, Pt, g, aw[-2])
        step = 0.0
        for m in range(n):
            for j in range(s):
                r[j] = g[m, j] - lnP[m, j]
            apply_t(Q[m], r, dr)  # (I − B_m)⁻¹ (g_m − ln P̂_m)
            for j in range(s):
                gx[m * s + j] = lnP[m, j] + dr[j]
                step = max(step, abs(dr[j]))
        if step <= 1e-3 * tol:
            return it + 1
        _mixer(x, gx, it, aw, gram)
    return 100_000


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _sales(pikt, xp, Pt, X, v, Y):  # pragma: no cover
    """v = X'/Pt [j, m] and sales Y_i^j = x_i^j Σ_m W̃_im^j v_m^j [i, j] (eq. 5, by sector)."""
    n, s, _ = pikt.shape
    for j in range(s):
        for m in range(n):
            v[j, m] = X[m, j] / Pt[j, m]
    for i in range(n):
        for j in range(s):
            acc = 0.0
            for m in range(n):
                acc += pikt[i, j, m] * v[j, m]
            Y[i, j] = xp[i, j] * acc


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _expenditure(pikt, ioT, alpha, R, fixed, xp, Pt, F, X, v, Y, r, aw, tol):  # pragma: no cover
    """Solve X = Σ_k γ^{j,k} Y^k + α (fixed + Σ_k (1 − F'^k) X^k) in place of ``X`` (warm start).

    G(X) = X + R r(X), Anderson-accelerated; stops when max |R r| ≤ 10⁻³ tol · max |X|.
    """
    n, s, _ = pikt.shape
    x = X.reshape(n * s)
    gx = aw[0]
    dr, gram = np.empty(s), np.empty((MEMORY, MEMORY))
    for it in range(10_000):
        _sales(pikt, xp, Pt, X, v, Y)
        step, xmax = 0.0, 0.0
        for nn in range(n):
            inc = fixed[nn]
            for k in range(s):
                inc += (1.0 - F[k, nn]) * X[nn, k]  # I' = ŵVA + D' + R'
            for j in range(s):
                r[j] = alpha[nn, j] * inc - X[nn, j]
            for k in range(s):
                a = Y[nn, k]
                for j in range(s):
                    r[j] += ioT[nn, k, j] * a  # intermediate demand for j: Σ_k γ^{j,k} Y^k
            apply_t(R[nn], r, dr)  # (I − A_nn)⁻¹ r_n
            for j in range(s):
                gx[nn * s + j] = X[nn, j] + dr[j]
                step = max(step, abs(dr[j]))
                xmax = max(xmax, abs(gx[nn * s + j]))
        if step <= 1e-3 * tol * max(xmax, 1e-300):
            x[:] = gx
            return it + 1
        _mixer(x, gx, it, aw, gram)
    return 10_000


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _customs_share(pik, pikt, xp, Pt, F):  # pragma: no cover
    """F'_m^j = Σ_i W̃_im x_i / Pt_m, [j, m]."""
    n, s, _ = pik.shape
    F[:, :] = 0.0
    for i in range(n):
        for j in range(s):
            x = xp[i, j]
            for m in range(n):
                F[j, m] += pikt[i, j, m] * x
    for j in range(s):
        for m in range(n):
            F[j, m] /= Pt[j, m]


@njit(cache=True, error_model="numpy")
def preconditioners(pik, pikt, theta, lnz, gamma, io, alpha, lnw, lnP, Q, R, lnc, xp, Pt, g, F, aw):  # pragma: no cover
    """Q_m = ((I − B_m)⁻¹)ᵀ and R_n = ((I − A_nn)⁻¹)ᵀ (module notes) at wages exp(lnw), prices exp(lnP)."""
    n, s, _ = pik.shape
    _price_pass(pik, theta, lnz, gamma, io, lnw, lnP, lnc, xp, Pt, g, aw[-2])
    _customs_share(pik, pikt, xp, Pt, F)
    A, LT, piv = np.empty((s, s)), np.empty((s, s)), np.empty(s, dtype=np.int64)
    for m in range(n):
        for j in range(s):
            own = pik[m, j, m] * xp[m, j] / Pt[j, m]  # π'_mm^j
            for k in range(s):
                A[j, k] = (1.0 if j == k else 0.0) - own * io[m, k, j]
        inverse_t(A, Q[m], piv, LT)
    dom, free = np.empty(s), np.empty(s)
    for nn in range(n):
        for k in range(s):
            dom[k] = pikt[nn, k, nn] * xp[nn, k] / Pt[k, nn]  # S_nn^k = π'_nn^k / (1 + τ'_nn^k)
            free[k] = 1.0 - F[k, nn]
        for j in range(s):
            for k in range(s):
                A[j, k] = (1.0 if j == k else 0.0) - io[nn, j, k] * dom[k] - alpha[nn, j] * free[k]
        inverse_t(A, R[nn], piv, LT)


@njit(cache=True, error_model="numpy")
def evaluate(pik, pikt, theta, lnz, gamma, io, ioT, alpha, va, d1, Q, R, lnw, lnP, X, lnc, xp, Pt, g, F, v, Y,
             excess, r, aw, steps, tol):  # pragma: no cover
    """The model at wages exp(lnw); ``lnP`` and ``X`` hold warm starts and receive the solution.

    ``aw`` is scratch of shape (WORK_ROWS, n · S); ``steps`` (2,) int counts the inner price
    and expenditure steps taken (added to). Fills lnc, xp, Pt, F, v, Y and excess (purchases − D'
    − sales); returns max_n |excess_n| / VA_n. Inner systems are solved to steps ≤ 10⁻³ tol.
    """
    n, s, _ = pik.shape
    steps[0] += _prices(pik, theta, lnz, gamma, io, Q, lnw, lnP, lnc, xp, Pt, g, r, aw, tol)
    _customs_share(pik, pikt, xp, Pt, F)
    for m in range(n):
        excess[m] = np.exp(lnw[m]) * va[m] + d1[m]  # ŵVA + D', the fixed part of income
    steps[1] += _expenditure(pikt, ioT, alpha, R, excess, xp, Pt, F, X, v, Y, r, aw, tol)
    _sales(pikt, xp, Pt, X, v, Y)
    res = 0.0
    for m in range(n):
        acc = -d1[m]
        for j in range(s):
            acc += F[j, m] * X[m, j] - Y[m, j]  # eq. 5: purchases − D' − sales
        excess[m] = acc
        res = max(res, abs(acc) / va[m])
    return res
