"""The linear expenditure system of Caliendo–Parro (2015) eq. 4, solved for X'.

    X'_n^j = Σ_k γ_n^{j,k} Σ_m S_nm^k X'_m^k + α_n^j I'_n,
    I'_n   = ŵ_n VA_n + D'_n + Σ_k (1 − F'_n^k) X'_n^k        (tariff revenue rebated)

with S_nm^k = π'_nm^k / (1 + τ'_nm^k) the customs share of m's spending bought from n and
F'_n^k = Σ_i S_in^k. Pure numpy, batch axis first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["final_absorption"]


def final_absorption(pb, xp: np.ndarray, Pt: np.ndarray, F: np.ndarray, income_fixed: np.ndarray,
                     X0: np.ndarray | None) -> np.ndarray:
    """New tariff-inclusive absorption X', shape (B, n, S).

    Parameters
    ----------
    pb : tariffsim.kernels.cp_problem.Problem
    xp, Pt : ndarray of shape (B, n, S)
        (ĉ/ẑ)^(−θ) and Σ_i W x (1 where zero): S_ni = W̃_ni x_i / Pt_n.
    F : ndarray of shape (B, n, S)
    income_fixed : ndarray of shape (B, n)
        ŵ_n VA_n + D'_n (USD mn).
    X0 : ndarray of shape (B, n, S) or None
        Warm start for the block-Jacobi iteration.
    """
    alpha = pb.alpha
    if pb.io is None:
        # X'_n^j = α_n^j I'_n,  I'_n = ŵVA + D' + Σ_k (1 − F'_n^k) X'_n^k
        #   => I'_n = (ŵVA + D') / (1 − Σ_k α_n^k (1 − F'_n^k))
        inc = income_fixed / (1.0 - np.einsum("bnk,bnk->bn", alpha, 1.0 - F))
        return alpha * inc[..., None]
    io = pb.io
    S_ = pb.pikt * (xp[:, :, None, :] / Pt[:, None, :, :])  # π'/(1 + τ'), [b, i, n, k]
    rhs = alpha * income_fixed[..., None]  # α_n^j (ŵ_n VA_n + D'_n)
    if pb.linear == "direct":
        return _direct(io, S_, alpha, F, rhs)
    return _block_jacobi(io, S_, alpha, F, rhs, X0, 1e-3 * pb.tol)


def _direct(io, S_, alpha, F, rhs):
    """One LU solve of the full nS x nS system (I − A) X' = rhs."""
    b, n, s = alpha.shape
    # A[(n,j),(m,k)] = γ_n^{j,k} S_nm^k  +  δ_nm α_n^j (1 − F'_n^k)
    A = np.einsum("njk,bnmk->bnjmk", io, S_)
    idx = np.arange(n)
    A[:, idx, :, idx, :] += np.einsum("bnj,bnk->nbjk", alpha, 1.0 - F)
    A = A.reshape(b, n * s, n * s)
    A *= -1.0
    A[:, np.arange(n * s), np.arange(n * s)] += 1.0  # (I − A)
    return np.linalg.solve(A, rhs.reshape(b, n * s, 1)).reshape(b, n, s)


def _block_jacobi(io, S_, alpha, F, rhs, X0, tol):
    """Country blocks solved exactly, trade links iterated from a warm start.

    (I − A_nn) X_n = rhs_n + Σ_k γ_n^{j,k} Σ_{m≠n} S_nm^k X_m^k, stopped per scenario when
    max |ΔX| ≤ tol · max |X| (so a scenario's answer does not depend on its batch).
    """
    b, n, s = alpha.shape
    idx = np.arange(n)
    dom = S_[:, idx, idx, :]  # S_nn^k, (B, n, S)
    A_nn = io[None] * dom[:, :, None, :] + alpha[..., None] * (1.0 - F)[:, :, None, :]
    inv = np.linalg.inv(np.eye(s) - A_nn)  # (B, n, S, S)
    X = rhs.copy() if X0 is None else X0.copy()
    S_T = np.ascontiguousarray(S_.transpose(0, 3, 1, 2))  # [b, k, n, m]: sums over m as matrix products
    active = np.ones(b, dtype=bool)
    for _ in range(10_000):
        # Σ_{m≠n} S_nm^k X_m^k
        Y_for = (S_T @ X.transpose(0, 2, 1)[..., None])[..., 0].transpose(0, 2, 1) - dom * X
        # X_n = (I − A_nn)⁻¹ (rhs_n + Σ_k γ_n^{j,k} Y_for_n^k)
        Xn = (inv @ (rhs + (io @ Y_for[..., None])[..., 0])[..., None])[..., 0]
        step = np.max(np.abs(Xn - X), axis=(1, 2))
        X = np.where(active[:, None, None], Xn, X)  # converged scenarios stay frozen
        active &= step > tol * np.maximum(np.max(np.abs(Xn), axis=(1, 2)), 1e-300)
        if not active.any():
            break
    return X
