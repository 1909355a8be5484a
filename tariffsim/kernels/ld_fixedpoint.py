"""Batched Anderson-accelerated fixed-point iteration (shared by the Liberation Day kernels).

Pure numpy. ``G(x) -> (g, residual)`` maps a (B, m) batch of points to (B, m) updates and a (B,)
residual; scenarios that reach ``tol`` are frozen while the others continue.
"""

from __future__ import annotations

import numpy as np

__all__ = ["anderson"]


def anderson(G, x0: np.ndarray, *, tol: float, max_iter: int, memory: int = 6):
    """Solve x = G(x) for a batch; returns (x, iterations (B,), converged (B,)).

    Anderson mixing (type II, Walker & Ni 2011): with f_k = G(x_k) − x_k and histories
    ΔX, ΔF of the last ``memory`` steps, γ = argmin ||f_k − ΔF γ||₂ (ridge-regularised normal
    equations) and x_{k+1} = x_k + f_k − (ΔX + ΔF) γ. A non-finite step restarts from G(x_k).
    """
    x = np.array(x0, float)
    B = x.shape[0]
    X_hist, F_hist = [], []
    iters = np.zeros(B, dtype=int)
    done = np.zeros(B, dtype=bool)
    for k in range(max_iter):
        g, resid_k = G(x)
        iters = np.where(done, iters, k)
        done = done | (resid_k < tol)
        if done.all():
            return x, iters, done
        f = g - x
        X_hist.append(x)
        F_hist.append(f)
        if len(X_hist) > memory + 1:
            X_hist.pop(0)
            F_hist.pop(0)
        if len(X_hist) > 1:
            dX = np.diff(np.stack(X_hist, axis=-1), axis=-1)
            dF = np.diff(np.stack(F_hist, axis=-1), axis=-1)
            A = np.einsum("bkm,bkl->bml", dF, dF)
            A += (1e-12 * np.trace(A, axis1=1, axis2=2) + 1e-300)[:, None, None] * np.eye(A.shape[-1])
            gam = np.linalg.solve(A, np.einsum("bkm,bk->bm", dF, f)[..., None])[..., 0]
            x_new = x + f - np.einsum("bkm,bm->bk", dX + dF, gam)
            if not np.all(np.isfinite(x_new)):
                x_new = g
                X_hist, F_hist = [], []
        else:
            x_new = g
        x = np.where(done[:, None], x, x_new)
    g, resid_k = G(x)
    done = done | (resid_k < tol)
    iters = np.where(done, iters, max_iter)
    return x, iters, done
