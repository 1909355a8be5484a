"""A plain-numpy reference solver for the Caliendo–Parro (2015) model, for benchmarks only.

Written independently of ``tariffsim.kernels.cp``, as a textbook damped fixed point
(CP 2015 Appendix C, MODELS.md §5), one scenario at a time, no batching, no Jacobian:

1. given ŵ, iterate ĉ_n^j = ŵ_n^{γ_n^j} Π_k (P̂_n^k)^{γ_n^{k,j}} and
   P̂_n^j = [Σ_i π_ni^j (κ̂_ni^j ĉ_i^j)^{−θ^j}]^{−1/θ^j} to convergence;
2. π'_ni^j = π_ni^j (κ̂_ni^j ĉ_i^j / P̂_n^j)^{−θ^j};
3. X' from eq. 4 by fixed-point iteration, X' ← Σ_k γ^{j,k} Σ_m S_nm^k X'_m^k + α I'(X');
4. excess_n = Σ purchases − D_n − Σ sales, and a damped update
   ŵ_n ← ŵ_n exp(−ν_n excess_n / VA_n), renormalised so that Σ ŵ VA = Σ VA, with a step
   fixed once from baseline data, ν_n = ν / (1 + Σ_j θ^j Σ_m M_nm^j (1 − π_nm^j) / VA_n)
   (the inverse of the own-wage slope of the excess at the baseline).

Arrays are ``[i, n, j]`` = exporter, importer, sector, like the library's, flows at customs
value. Used by ``bench_ge.py`` for the "plain reference" column and as an independent
check of the answers.
"""

from __future__ import annotations

import numpy as np


def calibrate(M, tau0, gamma=None, io=None):
    """Baseline shares and incomes from flows at customs value M[i, n, j] and tariffs τ."""
    n, _, s = M.shape
    tau0 = tau0.copy()
    tau0[np.arange(n), np.arange(n)] = 0.0
    gamma = np.ones((n, s)) if gamma is None else gamma
    spend = (1 + tau0) * M
    X = spend.sum(axis=0)  # X_n^j
    pi = np.divide(spend, X[None], out=np.zeros_like(spend), where=X[None] > 0)
    Y = M.sum(axis=1)  # sales Y_i^j
    VA = (gamma * Y).sum(axis=1)
    D = M.sum(axis=(0, 2)) - M.sum(axis=(1, 2))
    final = X if io is None else X - np.einsum("nkj,nj->nk", io, Y)
    final = np.clip(final, 0, None)
    alpha = final / final.sum(axis=1, keepdims=True)
    return dict(M=M, tau0=tau0, pi=pi, X=X, VA=VA, D=D, alpha=alpha, gamma=gamma, io=io)


def solve(base, tau1, theta, *, nu=0.8, tol=1e-10, max_iter=5_000):
    """Counterfactual for one scenario; returns ŵ, P̂, new flows M', iterations."""
    pi, VA, D, alpha, gamma, io = (base[k] for k in ("pi", "VA", "D", "alpha", "gamma", "io"))
    n, _, s = pi.shape
    tau1 = tau1.copy()
    tau1[np.arange(n), np.arange(n)] = 0.0
    kappa = (1 + tau1) / (1 + base["tau0"])
    M0 = base["M"]
    step = nu / (1 + (theta * (M0 * (1 - pi)).sum(axis=1)).sum(axis=1) / VA)
    w = np.ones(n)
    P = np.ones((n, s))
    X = base["X"].copy()
    for it in range(1, max_iter + 1):
        for _ in range(10_000):  # step 1: (ĉ, P̂)
            c = w[:, None] ** gamma
            if io is not None:
                c = c * np.exp(np.einsum("nkj,nk->nj", io, np.log(P)))
            Pn = np.ones((n, s))
            for j in range(s):
                tot = (pi[:, :, j] * (kappa[:, :, j] * c[:, j, None]) ** -theta[j]).sum(axis=0)
                Pn[:, j] = np.where(tot > 0, tot, 1.0) ** (-1 / theta[j])
            done = np.max(np.abs(Pn - P)) < 1e-13
            P = Pn
            if io is None or done:
                break
        new_pi = pi * (kappa * c[:, None, :] / P[None]) ** -theta  # step 2
        S = new_pi / (1 + tau1)
        for _ in range(100_000):  # step 3: eq. 4
            income = w * VA + D + ((1 - S.sum(axis=0)) * X).sum(axis=1)
            Xn = alpha * income[:, None]
            if io is not None:
                Xn = Xn + np.einsum("njk,nk->nj", io, (S * X[None]).sum(axis=1))
            done = np.max(np.abs(Xn - X)) <= 1e-13 * np.max(np.abs(Xn))
            X = Xn
            if done:
                break
        M = S * X[None]
        excess = M.sum(axis=(0, 2)) - D - M.sum(axis=(1, 2))  # step 4
        if np.max(np.abs(excess) / VA) <= tol:
            return dict(w_hat=w, P_hat=P, flows=M, iterations=it, converged=True)
        w = w * np.exp(-step * excess / VA)
        w = w * VA.sum() / (w * VA).sum()
    return dict(w_hat=w, P_hat=P, flows=M, iterations=max_iter, converged=False)
