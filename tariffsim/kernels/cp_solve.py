"""The Caliendo–Parro wage iteration in pure numpy, for a block of scenarios.

Belongs here: the quasi-Newton (Broyden) iteration on ln ŵ with per-scenario backtracking,
and the active set: a scenario leaves the arrays as soon as it converges, so no scenario
waits for the slowest. Each scenario's path depends on its own data only (batch == loop).
The model itself is evaluated by :func:`tariffsim.kernels.cp_problem.evaluate`.
"""

from __future__ import annotations

import numpy as np

from .cp_problem import Problem, evaluate, own_wage_jacobian

__all__ = ["WageSolution", "solve_wages"]

# state arrays carried per scenario between iterations (subset when the active set shrinks)
_KEEP = ("w", "lnP", "xp", "Pt", "X", "excess", "res")


class WageSolution:
    """ln ŵ, warm starts and convergence flags for B scenarios (arrays with a leading B)."""

    def __init__(self, b: int, n: int, s: int):
        self.lnw = np.zeros((b, n))
        self.lnP = np.zeros((b, n, s))
        self.X = np.zeros((b, n, s))
        self.iterations = np.zeros(b, dtype=int)
        self.done = np.zeros(b, dtype=bool)

    def store(self, rows: np.ndarray, lnw, cur: dict, iterations, done) -> None:
        """Record the accepted state of the scenarios ``rows`` (global indices)."""
        self.lnw[rows], self.lnP[rows], self.X[rows] = lnw, cur["lnP"], cur["X"]
        self.iterations[rows], self.done[rows] = iterations, done


def _restart(pb: Problem, cur: dict, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal J = diag(d), d_n = d(excess_n/VA_n)/d ln ŵ_n (own effect only), and H = (J + u uᵀ)⁻¹.

    Sherman–Morrison: H = D⁻¹ − (D⁻¹u)(uᵀD⁻¹) / (1 + uᵀD⁻¹u); shapes (B, n, n).
    """
    d = own_wage_jacobian(pb, cur) / pb.va
    n = d.shape[1]
    J = np.zeros(d.shape + (n,))
    J[:, np.arange(n), np.arange(n)] = d
    v = u / d
    H = -v[:, :, None] * v[:, None, :] / (1.0 + np.einsum("bn,bn->b", u, v))[:, None, None]
    H[:, np.arange(n), np.arange(n)] += 1.0 / d
    return J, H


def _broyden_update(J, H, dx, df):
    """J += a Δxᵀ with a = (Δf − J Δx)/(Δxᵀ Δx); H = (J + u uᵀ)⁻¹ kept by Sherman–Morrison.

    H' = H − (H a)(Δxᵀ H) / (1 + Δxᵀ H a); a scenario is left as it is when Δx = 0 or
    |1 + Δxᵀ H a| ≤ 1e-12 (the update would make J + u uᵀ singular).
    """
    denom = np.einsum("bn,bn->b", dx, dx)
    a = (df - np.einsum("bmn,bn->bm", J, dx)) / np.where(denom > 0, denom, np.inf)[:, None]
    Ha = np.einsum("bmn,bn->bm", H, a)
    bH = np.einsum("bn,bnm->bm", dx, H)
    den = 1.0 + np.einsum("bn,bn->b", dx, Ha)
    ok = (np.abs(den) > 1e-12) & (denom > 0)
    a *= ok[:, None]
    J += a[:, :, None] * dx[:, None, :]
    H -= Ha[:, :, None] * bH[:, None, :] / np.where(ok, den, np.inf)[:, None, None]


def _take(d: dict, idx) -> dict:
    return {k: d[k][idx] for k in _KEEP}


def solve_wages(pb: Problem, max_iter: int) -> WageSolution:
    """Solve for ŵ by Broyden's method in ln ŵ, each scenario until its own convergence.

    Parameters
    ----------
    pb : Problem
        B scenarios.
    max_iter : int
        Maximum wage iterations per scenario.

    Returns
    -------
    WageSolution

    Notes
    -----
    Step: Δ = −(J + u uᵀ)⁻¹ f with f = excess/VA, J a Broyden estimate of ∂f/∂ ln ŵ started
    from the own-wage diagonal, u = VA/ΣVA (Walras' law makes J singular, VAᵀJ = 0; the
    rank-one term pins the level the numeraire fixes anyway). The trial ln ŵ + λΔ is
    renormalised so that Σ_n ŵ_n VA_n = Σ_n VA_n. J is updated from every evaluated point,
    J += (Δf − J Δx) Δxᵀ / (Δxᵀ Δx), and the inverse with it (Sherman–Morrison, O(n²)
    instead of an O(n³) solve per step); a step is accepted if it lowers ||f||², and λ doubles
    (to 1); otherwise λ halves, and below 1/64 J restarts from the diagonal.
    """
    b, n, s = pb.lnz.shape
    out = WageSolution(b, n, s)
    rows = np.arange(b)  # global index of each active scenario
    lnw = np.zeros((b, n))
    cur = evaluate(pb, lnw, np.zeros((b, n, s)), None)
    done = cur["res"] <= pb.tol
    u = pb.va / pb.va.sum(axis=1, keepdims=True)
    J, H = _restart(pb, cur, u)
    lam = np.ones(b)
    for it in range(1, max_iter + 1):
        if done.any():  # drop converged scenarios from the active set
            out.store(rows[done], lnw[done], _take(cur, done), it - 1, True)
            keep = ~done
            if not keep.any():
                return out
            rows, lnw, lam, J, H, u = rows[keep], lnw[keep], lam[keep], J[keep], H[keep], u[keep]
            cur, pb = _take(cur, keep), pb.take(keep)
        va = pb.va
        f = cur["excess"] / va
        trial = lnw - lam[:, None] * np.einsum("bmn,bn->bm", H, f)  # Δ = −(J + u uᵀ)⁻¹ f
        # numeraire: Σ_n ŵ_n VA_n = Σ_n VA_n
        trial -= np.log((np.exp(trial) * va).sum(axis=1, keepdims=True) / va.sum(axis=1, keepdims=True))
        new = evaluate(pb, trial, cur["lnP"], cur["X"])
        fn = new["excess"] / va
        _broyden_update(J, H, trial - lnw, fn - f)
        better = np.sum(fn * fn, axis=1) < np.sum(f * f, axis=1)  # ||excess/VA||² falls
        lam = np.where(better, np.minimum(1.0, lam * 2.0), lam * 0.5)
        lnw = np.where(better[:, None], trial, lnw)
        if better.all():
            cur = new
        elif better.any():
            cur = {k: np.where(better.reshape((-1,) + (1,) * (new[k].ndim - 1)), new[k], cur[k]) for k in _KEEP}
        stuck = lam < 1.0 / 64.0  # restart from the diagonal Jacobian
        if stuck.any():
            sub = np.flatnonzero(stuck)
            J[sub], H[sub] = _restart(pb.take(sub), _take(cur, sub), u[sub])
            lam[sub] = 1.0
        done = cur["res"] <= pb.tol
    out.store(rows, lnw, cur, max_iter, done)
    return out
