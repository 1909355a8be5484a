"""Per-scenario inputs of the Caliendo–Parro solver, precomputed once, and one evaluation.

Belongs here: everything the wage iteration reads, built once per batch (:func:`prepare`),
and the model evaluated at given wages (:func:`evaluate`, CP 2015 eqs. 1–5, docs/models.rst, general equilibrium).
An evaluation reads two precomputed arrays over all flows,

    W_ni^j  = π_ni^j δ̂_ni^j (κ̂_ni^j)^(−θ^j)             (share weights, ``pik``)
    W̃_ni^j = W_ni^j / (1 + τ'_ni^j)                     (customs-value weights, ``pikt``)

and never builds a scenario-by-flow temporary: with x_i^j = (ĉ_i^j / ẑ_i^j)^(−θ^j),

    P̂_n^(−θ) = Σ_i W_ni x_i            (eq. 2)
    F'_n     = Σ_i W̃_ni x_i / P̂^(−θ)   (customs share of spending, Σ_i π'/(1 + τ'))
    sales_i  = x_i Σ_n W̃_ni X'_n / P̂_n^(−θ)   (eq. 5, right-hand side, by sector)

Per-flow arrays (π', M') are formed only for outputs and for the Jacobian scale, which is
needed at the start and at restarts only (:func:`own_wage_jacobian`).
Pure numpy; arrays ``[b, i, n, j]`` = scenario, exporter, importer, sector.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .cp_linear import final_absorption

__all__ = ["Problem", "evaluate", "flow_state", "own_wage_jacobian", "prepare"]


@dataclass(frozen=True)
class Problem:
    """What the wage iteration reads, for a block of B scenarios.

    Attributes
    ----------
    pik, pikt : ndarray of shape (B, n, n, S)
        W and W̃ of the module notes (dimensionless).
    pig : ndarray of shape (B, n, n, S) or None
        π δ̂^(θ/(θ+1)) κ̂^(−θ), for the baseline-taste price index (taste shifters only).
    pikT : ndarray of shape (B, S, n, n) or None
        W as [b, j, importer, exporter] (IO worlds only: the inner price loop runs as
        batched matrix-vector products).
    theta : ndarray of shape (B, S)
    lnz : ndarray of shape (B, n, S)
        ln ẑ (productivity change).
    va, d1 : ndarray of shape (B, n)
        Baseline value added w_n L_n and new deficits D'_n (USD mn).
    alpha : ndarray of shape (B, n, S)
    gamma : ndarray of shape (n, S)
    io : ndarray of shape (n, S, S) or None
    linear : str
        ``"block"`` or ``"direct"`` (see :func:`tariffsim.kernels.cp.solve_equilibrium`).
    tol : float
    """

    pik: np.ndarray
    pikt: np.ndarray
    pig: np.ndarray | None
    pikT: np.ndarray | None
    theta: np.ndarray
    lnz: np.ndarray
    va: np.ndarray
    d1: np.ndarray
    alpha: np.ndarray
    gamma: np.ndarray
    io: np.ndarray | None
    linear: str
    tol: float

    @property
    def size(self) -> int:
        return self.pik.shape[0]

    def take(self, idx) -> Problem:
        """The scenarios ``idx`` (an index array or slice) of this block."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            batched = isinstance(v, np.ndarray) and f.name not in ("gamma", "io")
            out[f.name] = np.ascontiguousarray(v[idx]) if batched else v
        return Problem(**out)


def prepare(pi0, tau0, tau1, theta, *, ntb, productivity, taste, value_added, deficit_new,
            alpha, gamma, io, linear, tol) -> Problem:
    """Precompute W, W̃ (and the taste weights) for B scenarios; inputs broadcast to B.

    ``pi0, tau0`` may have a batch axis of 1 (a shared baseline); ``tau1`` has the diagonal
    already zeroed. Shapes as in :class:`Problem`.
    """
    b, n, s = tau1.shape[0], tau1.shape[1], tau1.shape[-1]
    th = theta[:, None, None, :]
    kappa = (1.0 + tau1) / (1.0 + tau0)  # κ̂_ni^j = (1 + τ'_ni^j)/(1 + τ_ni^j) · d̂_ni^j
    if ntb is not None:
        kappa *= 1.0 + np.asarray(ntb, float)
    pik = np.log(kappa)
    pik *= -th
    np.exp(pik, out=pik)
    pik *= pi0  # π_ni^j (κ̂_ni^j)^(−θ^j)
    pig = None
    if taste is not None:
        delta = np.broadcast_to(np.asarray(taste, float), pik.shape)
        pig = pik * delta ** (th / (th + 1.0))  # π δ̂^(θ/(θ+1)) κ̂^(−θ)
        pik *= delta  # δ̂ π κ̂^(−θ): the share equation's weights
    pikt = pik / (1.0 + tau1)  # W̃ = W / (1 + τ')
    lnz = np.zeros((b, n, s)) if productivity is None else np.log(np.broadcast_to(productivity, (b, n, s)))

    def bb(a, shape):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(a, float), shape))

    pikT = None if io is None else np.ascontiguousarray(pik.transpose(0, 3, 2, 1))
    return Problem(pik=pik, pikt=pikt, pig=pig, pikT=pikT, theta=bb(theta, (b, s)), lnz=bb(lnz, (b, n, s)),
                   va=bb(value_added, (b, n)), d1=bb(deficit_new, (b, n)), alpha=bb(alpha, (b, n, s)),
                   gamma=np.asarray(gamma, float), io=io, linear=linear, tol=float(tol))


def _price_index(pb: Problem, lnc: np.ndarray):
    """x = (ĉ/ẑ)^(−θ), Σ_i W x (eq. 2's sum) and ln P̂, each (B, n, S)."""
    theta = pb.theta[:, None, :]
    xp = np.exp(-theta * (lnc - pb.lnz))  # (ĉ_i^j / ẑ_i^j)^(−θ^j)
    if pb.pikT is None:
        Pt = np.einsum("binj,bij->bnj", pb.pik, xp)  # P̂_n^(−θ) = Σ_i π κ̂^(−θ) (ĉ/ẑ)^(−θ)
    else:  # the same sum as matrix-vector products per sector
        Pt = (pb.pikT @ xp.transpose(0, 2, 1)[..., None])[..., 0].transpose(0, 2, 1)
    pos = Pt > 0
    safe = np.where(pos, Pt, 1.0)
    if pb.pig is None:
        lnP = np.where(pos, -np.log(safe) / theta, 0.0)  # ln P̂ = −(1/θ) ln Σ_i W x
    else:
        # baseline-taste index: ln P̂ = ln Σ δ̂ π p̂^(−θ) − (θ+1)/θ ln Σ δ̂^(θ/(θ+1)) π p̂^(−θ)
        G = np.einsum("binj,bij->bnj", pb.pig, xp)
        lnP = np.where(pos & (G > 0), np.log(safe) - (1.0 + 1.0 / theta) * np.log(np.where(G > 0, G, 1.0)), 0.0)
    return xp, safe, lnP


def evaluate(pb: Problem, lnw: np.ndarray, lnP: np.ndarray, X0: np.ndarray | None) -> dict:
    """All endogenous aggregates at wages exp(lnw), shape (B, n); warm starts lnP, X0.

    Returns a dict with ``w, lnc, lnP, xp, Pt`` (Σ_i W x, 1 where 0), ``F, X, Y`` (sales
    by sector), ``excess`` (purchases − D' − sales) and ``res`` = max_n |excess_n| / VA_n.
    """
    lnw_ = lnw[..., None]
    for _ in range(100_000):
        if pb.io is None:
            lnc = np.broadcast_to(lnw_, pb.lnz.shape)  # ĉ = ŵ when γ = 1
        else:
            # ln ĉ_n^j = γ_n^j ln ŵ_n + Σ_k γ_n^{k,j} ln P̂_n^k   (eq. 1)
            lnc = pb.gamma * lnw_ + (lnP[:, :, None, :] @ pb.io)[:, :, 0, :]
        xp, Pt, lnP_new = _price_index(pb, lnc)
        step = np.max(np.abs(lnP_new - lnP)) if lnP.size else 0.0
        lnP = lnP_new
        if pb.io is None or step <= 1e-3 * pb.tol:
            break
    F = np.einsum("binj,bij->bnj", pb.pikt, xp) / Pt  # F'_n^j = Σ_i π'_ni^j / (1 + τ'_ni^j)
    w = np.exp(lnw)
    X = final_absorption(pb, xp, Pt, F, w * pb.va + pb.d1, X0)  # eq. 4
    # sales Y'_i^j = Σ_n M'_in^j = x_i^j Σ_n W̃_in^j X'_n^j / P̂_n^(−θ)
    Y = xp * np.einsum("binj,bnj->bij", pb.pikt, X / Pt)
    # eq. 5: purchases Σ_j F' X' − D' − sales
    excess = np.einsum("bnj,bnj->bn", F, X) - pb.d1 - Y.sum(axis=2)
    res = np.max(np.abs(excess) / pb.va, axis=1)
    return dict(w=w, lnc=lnc, lnP=lnP, xp=xp, Pt=Pt, F=F, X=X, Y=Y, excess=excess, res=res)


def flow_state(pb: Problem, st: dict, out: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """π' and M' at an evaluated state, each (B, n, n, S) (written into ``out`` when given).

    π'_ni^j = W_ni^j x_i^j / P̂_n^(−θ) (eq. 3) and M'_ni^j = π'_ni^j X'_n^j / (1 + τ'_ni^j).
    """
    scale = st["xp"][:, :, None, :] / st["Pt"][:, None, :, :]
    pi1 = np.multiply(pb.pik, scale, out=None if out is None else out[0])
    flows = np.multiply(pb.pikt, scale, out=None if out is None else out[1])
    flows *= st["X"][:, None, :, :]
    return pi1, flows


def own_wage_jacobian(pb: Problem, st: dict) -> np.ndarray:
    """Diagonal Jacobian scale d excess_n / d ln ŵ_n ≈ ŵVA + Σ γ² θ (1 − π') M', shape (B, n)."""
    pi1, flows = flow_state(pb, st)
    flows *= 1.0 - pi1
    return st["w"] * pb.va + np.einsum("ij,bj,bij->bi", pb.gamma ** 2, pb.theta, flows.sum(axis=2))
