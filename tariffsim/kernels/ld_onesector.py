"""One-sector Liberation Day kernel (Ignatenko, Macedoni, Lashkaripour & Simonovska, JIE 157 (2025) 104138).

Pure numpy, batched: tariffs ``t[..., j, i]`` (exporter j, importer i), batch axes lead.
Equation numbers refer to the paper's Section 3 / Appendix (labels "IMLS (n)").

The model, in changes (x̂ = x'/x):

- trade shares (IMLS 9):   λ'_ji = λ_ji (ŵ_j L̂_j^(−ψ))^(−ε) (1+t'_ji)^(−ε φ_i) / S_i,
                           S_i = Σ_j λ_ji (ŵ_j L̂_j^(−ψ))^(−ε) (1+t'_ji)^(−ε φ_i)
- price index (IMLS 10):   P̂_i = (Ê_i/ŵ_i)^(1−φ_i) S_i^(−1/ε)
- flows at customs value:  X'_ji = λ'_ji E'_i / (1+t'_ji);   revenue R'_i = Σ_j t'_ji X'_ji
- wage income (IMLS 11):   ŵ_j L̂_j Y_j = Σ_i (1−ν_i) X'_ji + ν_j Σ_i X'_ij   (fixed costs paid where sold)
- income (IMLS 12):        E'_i = R'_i + ŵ_i L̂_i Y_i + T'_i,  T'_i = T_i ΣY'/ΣY ("world_gdp"), T_i ("fixed"),
                           0 ("balanced", Ossa 2014)
- labour supply (IMLS 13): L̂_i = (τ̂_i ŵ_i / P̂_i)^κ,  τ̂_i = 1/(1 − R'_i/Y'_i) ("income_tax"), 1 ("lump_sum");
                           with baseline tariffs τ̂_i = (1 − R_i/Y_i)/(1 − R'_i/Y'_i) (revenue replaces income tax)
- numeraire:               Σ_i E_i (P̂_i − 1) = 0 (world-expenditure-weighted price index fixed)

E' is eliminated in closed form: with r_i = Σ_j λ'_ji t'_ji/(1+t'_ji), R'_i = r_i E'_i, so
E'_i = (Y'_i + T'_i)/(1 − r_i). The remaining unknowns (ln ŵ, ln L̂) solve a damped fixed point
(wage step (ln demand − ln supply)/(1+ε), labour step from IMLS 13), accelerated by Anderson
mixing, batched over scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ld_fixedpoint import anderson

__all__ = ["LDBaseline", "LDParams", "LDSolution", "solve", "REVENUE_OPTIONS", "DEFICIT_OPTIONS"]

REVENUE_OPTIONS = ("income_tax", "lump_sum")
DEFICIT_OPTIONS = ("world_gdp", "fixed", "balanced")


@dataclass(frozen=True)
class LDBaseline:
    """Calibrated one-sector baseline.

    Attributes
    ----------
    lam : ndarray (n, n)
        λ_ji, share of importer i's spending (tariff-inclusive) on exporter j; columns sum to 1.
    E : ndarray (n,)
        Expenditure (any currency unit, e.g. USD thousand).
    Y : ndarray (n,)
        Wage income (GDP) in the same unit.
    T : ndarray (n,)
        Transfers E − Y (deficits incl. baseline tariff revenue); Σ T = 0 in a consistent baseline.
    nu : ndarray (n,)
        ν_i, share of sales in market i paid as fixed costs to i's labour (0 = Eaton–Kortum–Krugman).
    tariff : ndarray (n, n)
        Baseline tariffs t_ji (decimal); the flows X = λ E/(1+t) are at customs value.
    """

    lam: np.ndarray
    E: np.ndarray
    Y: np.ndarray
    T: np.ndarray
    nu: np.ndarray
    tariff: np.ndarray


@dataclass(frozen=True)
class LDParams:
    """Parameters: ε trade elasticity, κ labour-supply elasticity, ψ scale elasticity,
    φ_i pass-through of tariffs to consumer prices (shape (n,) or scalar)."""

    eps: float = 4.0
    kappa: float = 0.5
    psi: float = 0.67 / 4.0
    phi: np.ndarray | float = 1.0
    revenue: str = "income_tax"
    deficits: str = "world_gdp"


@dataclass(frozen=True)
class LDSolution:
    """Equilibrium in changes, batch shape (B,) leading. Arrays (B, n) unless stated."""

    w_hat: np.ndarray
    L_hat: np.ndarray
    E_hat: np.ndarray
    P_hat: np.ndarray
    lam_new: np.ndarray  # (B, n, n)
    X_new: np.ndarray  # (B, n, n) customs value
    revenue: np.ndarray  # R'_i
    tau: np.ndarray  # R'_i / Y'_i under income_tax, else 0
    iterations: np.ndarray  # (B,)
    residual: np.ndarray  # (B,) max relative excess of IMLS 11 and 13
    success: np.ndarray  # (B,)


def _prepare(base: LDBaseline, tariff, prm: LDParams, phi):
    """Scenario constants (B, n, n): b_ji = λ_ji ((1+t'_ji)/(1+t_ji))^(−ε φ_i), b·t'/(1+t'), b/(1+t')."""
    b = base.lam * ((1.0 + tariff) / (1.0 + base.tariff)) ** (-prm.eps * phi[None, :])
    b_inv = b / (1.0 + tariff)
    # baseline revenue share of income R_i/Y_i, R_i = Σ_j λ_ji t_ji/(1+t_ji) E_i (0 in the paper)
    tau0 = (base.lam * base.tariff / (1.0 + base.tariff)).sum(0) * base.E / base.Y
    # wage step 1/(1 + ε (1 − d_j)), d_j = domestic share of j's sales: the own-wage elasticity of
    # excess labour demand is about −(1 + ε(1 − d_j)) (price effect abroad, income effect at home)
    X0 = base.lam * base.E[None, :] / (1.0 + base.tariff)
    d = np.diagonal(X0) / X0.sum(1)
    step = 1.0 / (1.0 + prm.eps * np.clip(1.0 - d, 0.0, 1.0))
    # [b | b/(1+t')] side by side: one matrix product gives S_i and Σ_j c_j b_ji/(1+t'_ji) (= (1 − r_i) S_i)
    return b, np.concatenate([b, b_inv], axis=-1), b_inv, tau0, step


def _vm(v, M):
    """Σ_j v_j M_ji over the exporter axis: (B, n) × (B, n, m) -> (B, m).

    One BLAS matrix–vector product per scenario: numpy's stacked matmul of (B, 1, n) by (B, n, m)
    does not reach BLAS and is ~10x slower for B = 16.
    """
    if v.shape[0] == 1:
        return (v[0] @ M[0])[None]
    return np.stack([v[k] @ M[k] for k in range(v.shape[0])])


def _mv(M, v):
    """Σ_i M_ji v_i over the importer axis: (B, n, n) × (B, n) -> (B, n)."""
    if v.shape[0] == 1:
        return (M[0] @ v[0])[None]
    return np.stack([M[k] @ v[k] for k in range(v.shape[0])])


def _state(lnw, lnL, base: LDBaseline, pre, prm: LDParams, phi, full: bool = False):
    """Everything implied by (ln ŵ, ln L̂); shapes (B, n). Matrix–vector products only:
    a_ji = b_ji c_j with c_j = (ŵ_j L̂_j^−ψ)^−ε, so S_i = Σ_j c_j b_ji and λ'_ji = c_j b_ji / S_i."""
    eps, psi = prm.eps, prm.psi
    b, b_all, b_inv, tau0, _ = pre
    n = b.shape[-1]
    w, L = np.exp(lnw), np.exp(lnL)
    cost = np.exp(-eps * (lnw - psi * lnL))  # c_j
    sums = _vm(cost, b_all)
    S = sums[:, :n]  # S_i = Σ_j λ_ji c_j (1+t̂_ji)^(−εφ_i)
    r = 1.0 - sums[:, n:] / S  # r_i = Σ_j λ'_ji t'_ji/(1+t'_ji) = 1 − Σ_j λ'_ji/(1+t'_ji)
    Yn = w * L * base.Y  # Y'_i
    if prm.deficits == "world_gdp":
        Tn = base.T * (Yn.sum(-1, keepdims=True) / base.Y.sum())
    elif prm.deficits == "fixed":
        Tn = np.broadcast_to(base.T, Yn.shape)
    else:  # balanced
        Tn = np.zeros_like(Yn)
    En = (Yn + Tn) / (1.0 - r)  # IMLS 12 with R' = r E'
    E_hat = En / base.E
    P_hat = (E_hat / w) ** (1.0 - phi) * S ** (-1.0 / eps)  # IMLS 10
    R = r * En
    # IMLS 11: Σ_i (1−ν_i) X'_ji + ν_j Σ_i X'_ij with X'_ji = c_j b_ji E'_i / ((1+t'_ji) S_i)
    demand = cost * _mv(b_inv, (1.0 - base.nu) * En / S) + base.nu * En / S * sums[:, n:]
    if prm.revenue == "income_tax":
        tau = R / Yn
        tau_hat = (1.0 - tau0) / (1.0 - tau)  # IMLS: 1/(1 − R'/Y') from a zero-tariff baseline
    else:
        tau = np.zeros_like(R)
        tau_hat = 1.0
    out = dict(w=w, L=L, S=S, Yn=Yn, En=En, E_hat=E_hat, P_hat=P_hat, R=R, demand=demand, tau=tau,
               tau_hat=tau_hat)
    if full:
        lam_new = b * (cost / 1.0)[:, :, None] / S[:, None, :]
        out["lam_new"] = lam_new
        out["X_new"] = b_inv * cost[:, :, None] * (En / S)[:, None, :]
    return out


def _step(x, base, pre, prm, phi, n):
    """One damped fixed-point map G(x) on x = (ln ŵ, ln L̂), normalised to the numeraire."""
    lnw, lnL = x[..., :n], x[..., n:]
    s = _state(lnw, lnL, base, pre, prm, phi)
    excess = np.log(s["demand"]) - np.log(s["Yn"])
    lnw_new = lnw + excess * pre[-1]
    lnL_new = prm.kappa * (np.log(s["tau_hat"] * s["w"]) - np.log(s["P_hat"]))  # IMLS 13
    # numeraire: P̂ is homogeneous of degree 1 in (ŵ, Ê); scale so Σ E (P̂ − 1) = 0
    scale = (base.E * s["P_hat"]).sum(-1, keepdims=True) / base.E.sum()
    lnw_new = lnw_new - np.log(scale)
    resid = np.maximum(np.abs(excess).max(-1), np.abs(lnL_new - lnL).max(-1))
    return np.concatenate([lnw_new, lnL_new], axis=-1), resid


def solve(base: LDBaseline, tariff: np.ndarray, prm: LDParams, *, tol: float = 1e-12,
          max_iter: int = 2000, memory: int = 10, x0: np.ndarray | None = None) -> LDSolution:
    """Solve the one-sector model for a batch of tariff matrices.

    Parameters
    ----------
    base : LDBaseline
    tariff : ndarray (B, n, n) or (n, n)
        New tariffs t'_ji (decimal), exporter j, importer i.
    prm : LDParams
    tol : float
        Stop when max |ln(demand/supply)| of IMLS 11 and max |Δ ln L̂| are below tol.
    max_iter, memory : int
        Iteration cap and Anderson memory.
    x0 : ndarray (B, 2n), optional
        Warm start (ln ŵ, ln L̂).

    Returns
    -------
    LDSolution
        ``success`` is False for scenarios that did not reach ``tol``; the caller raises.
    """
    tariff = np.asarray(tariff, float)
    if tariff.ndim == 2:
        tariff = tariff[None]
    B, n = tariff.shape[0], tariff.shape[-1]
    phi = np.broadcast_to(np.asarray(prm.phi, float), (n,))
    pre = _prepare(base, tariff, prm, phi)
    x = np.zeros((B, 2 * n)) if x0 is None else np.array(x0, float)
    x, iters, _ = anderson(lambda z: _step(z, base, pre, prm, phi, n), x, tol=tol, max_iter=max_iter, memory=memory)
    s = _state(x[:, :n], x[:, n:], base, pre, prm, phi, full=True)
    # final residuals at the returned point (before the numeraire step)
    excess = np.abs(np.log(s["demand"]) - np.log(s["Yn"])).max(-1)
    lab = np.abs(x[:, n:] - prm.kappa * (np.log(s["tau_hat"] * s["w"]) - np.log(s["P_hat"]))).max(-1)
    resid = np.maximum(excess, lab)
    return LDSolution(
        w_hat=s["w"], L_hat=s["L"], E_hat=s["E_hat"], P_hat=s["P_hat"], lam_new=s["lam_new"],
        X_new=s["X_new"], revenue=s["R"], tau=s["tau"], iterations=iters, residual=resid,
        success=resid < max(tol, 1e-10) * 10,
    )
