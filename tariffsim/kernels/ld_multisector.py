"""Multi-sector Liberation Day kernel (IMLS appendix: the multi-sector model of Table 9, Alternative 1).

Pure numpy, batched: flows and tariffs ``(..., exporter j, importer i, sector k)``. Labour is
mobile across sectors at one wage; sector employment shares ℓ_jk adjust. In changes:

- trade shares:   λ'_jik = λ_jik c_jk (1+t̂_jik)^(−ε_k φ_i) / S_ik,  c_jk = (ŵ_j/(L̂_j ℓ̂_jk)^ψ)^(−ε_k),
                  S_ik = Σ_j λ_jik c_jk (1+t̂_jik)^(−ε_k φ_i),  1+t̂ = (1+t')/(1+t)
- price index:    P̂_i = (Ê_i/ŵ_i)^(1−φ_i) Π_k S_ik^(−β_ik/ε_k)   (β_ik Cobb–Douglas spending shares)
- flows:          X'_jik = λ'_jik β_ik E'_i / (1+t'_jik)
- sector labour:  Y_jk ŵ_j L̂_j ℓ̂_jk = Σ_i (1−ν_i) X'_jik + ν_j Σ_i X'_ijk,   Σ_k ℓ_jk ℓ̂_jk = 1
- income:         E'_i = R'_i + Y'_i + T_i ΣY'/ΣY  ⇒  E'_i = (Y'_i + T'_i)/(1 − Σ_k β_ik r_ik)
- labour supply:  L̂_i = (τ̂_i ŵ_i/P̂_i)^κ, τ̂_i = (1 − R_i/Y_i)/(1 − R'_i/Y'_i) (income-tax relief) or 1
- numeraire:      Σ_i E_i (P̂_i − 1) = 0

Unknowns (ln ŵ, ln L̂, ln ℓ̂), damped fixed point with Anderson mixing. With K = 1 the model is
the one-sector model of :mod:`tariffsim.kernels.ld_onesector`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ld_fixedpoint import anderson
from .ld_onesector import LDBaseline, LDParams, LDSolution

__all__ = ["MSBaseline", "calibrate_multisector", "solve_multisector"]


@dataclass(frozen=True)
class MSBaseline:
    """Multi-sector baseline: λ (n, n, K), β (n, K), E, Y (n,), ℓ (n, K), Y_jk (n, K), T, ν (n,),
    tariff (n, n, K), and the one-sector aggregate ``agg`` (for the standard outputs)."""

    lam: np.ndarray
    beta: np.ndarray
    E: np.ndarray
    Y: np.ndarray
    ell: np.ndarray
    Ysec: np.ndarray
    T: np.ndarray
    nu: np.ndarray
    tariff: np.ndarray
    agg: LDBaseline


def calibrate_multisector(X: np.ndarray, tariff: np.ndarray, nu: np.ndarray) -> MSBaseline:
    """Baseline from customs-value flows X[j, i, k] (domestic on the diagonal) and baseline tariffs."""
    spend = X * (1.0 + tariff)
    Eik = spend.sum(0)  # (i, k)
    E = Eik.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(Eik[None] > 0, spend / Eik[None], 0.0)
    beta = Eik / E[:, None]
    Ysec = ((1.0 - nu)[None, :, None] * X).sum(1) + nu[:, None] * X.sum(0)  # Y_jk
    Y = Ysec.sum(1)
    R0 = (tariff * X).sum((0, 2))
    T = E - Y - R0
    Xa, Sa = X.sum(-1), spend.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ta = np.where(Xa > 0, Sa / Xa - 1.0, 0.0)
    agg = LDBaseline(lam=Sa / E[None, :], E=E, Y=Y, T=T, nu=nu, tariff=ta)
    return MSBaseline(lam, beta, E, Y, Ysec / Y[:, None], Ysec, T, nu, tariff, agg)


def _sweep(x, base: MSBaseline, pre, prm: LDParams, eps, phi, n, K, full=False):
    b, bs, bi, tau0, live, psi = pre
    lnw, lnL = x[:, :n], x[:, n:2 * n]
    lnl = x[:, 2 * n:].reshape(-1, n, K)
    w, L = np.exp(lnw), np.exp(lnL)
    cost = np.exp(-eps * (lnw[:, :, None] - psi * (lnL[:, :, None] + lnl)))  # c_jk (B, n, K)
    S = np.einsum("bjk,bjik->bik", cost, b)
    Ssafe = np.where(S > 0, S, 1.0)
    r = np.einsum("bjk,bjik->bik", cost, bs) / Ssafe  # r_ik
    Yn = w * L * base.Y
    Tn = {"world_gdp": base.T * (Yn.sum(-1, keepdims=True) / base.Y.sum()), "fixed": base.T + 0 * Yn,
          "balanced": 0 * Yn}[prm.deficits]
    En = (Yn + Tn) / (1.0 - (base.beta * r).sum(-1))
    E_hat = En / base.E
    P = (E_hat / w) ** (1.0 - phi) * np.exp((-(base.beta / eps) * np.log(Ssafe)).sum(-1))
    spend_ik = base.beta * En[:, :, None] / Ssafe  # β_ik E'_i / S_ik
    # Σ_i (1−ν_i) X'_jik and ν_j Σ_i X'_ijk, X'_jik = c_jk b_jik β_ik E'_i /((1+t') S_ik)
    variable = cost * np.einsum("bjik,bik->bjk", bi, (1.0 - base.nu)[None, :, None] * spend_ik)
    fixed = base.nu[None, :, None] * spend_ik * np.einsum("bjk,bjik->bik", cost, bi)
    demand = variable + fixed
    R = (r * base.beta).sum(-1) * En
    tau = R / Yn if prm.revenue == "income_tax" else np.zeros_like(R)
    tau_hat = (1.0 - tau0) / (1.0 - tau) if prm.revenue == "income_tax" else 1.0
    supply = base.Ysec * (w * L)[:, :, None] * np.exp(lnl)
    with np.errstate(divide="ignore", invalid="ignore"):
        ex = np.where(live, np.log(demand) - np.log(np.where(live, supply, 1.0)), 0.0)
    ex_w = np.log(demand.sum(-1)) - np.log(Yn)
    lnl_new = lnl + ex / (1.0 + eps)
    lnl_new -= np.log((base.ell * np.exp(lnl_new)).sum(-1, keepdims=True))  # Σ_k ℓ_jk ℓ̂_jk = 1
    lnw_new = lnw + ex_w / (1.0 + eps.mean()) - np.log((base.E * P).sum(-1, keepdims=True) / base.E.sum())
    lnL_new = prm.kappa * (np.log(tau_hat * w) - np.log(P))
    resid = np.maximum(np.abs(ex).max((-1, -2)), np.abs(lnL_new - lnL).max(-1))
    g = np.concatenate([lnw_new, lnL_new, lnl_new.reshape(-1, n * K)], -1)
    if not full:
        return g, resid
    X_new = bi * cost[:, :, None, :] * spend_ik[:, None, :, :]
    return dict(w=w, L=L, E_hat=E_hat, P=P, R=R, tau=tau, X_new=X_new, ell_hat=np.exp(lnl), resid=resid,
                spend=b * cost[:, :, None, :] * spend_ik[:, None, :, :])


def solve_multisector(base: MSBaseline, tariff: np.ndarray, prm: LDParams, eps, *, psi=None, tol: float = 1e-10,
                      max_iter: int = 5000, memory: int = 8, x0=None):
    """Solve for a batch of tariffs t'[B, j, i, k]; ``eps`` trade elasticities by sector (K,).

    ``psi``: scale elasticities by sector (K,), default ``prm.psi``. An interior equilibrium needs
    ψ_k ε_k < 1 (else scale economies make a sector's labour demand rise faster than its cost).

    Returns (LDSolution on the one-sector aggregate, dict with ``ell_hat`` (B, n, K) and
    ``X_new`` (B, n, n, K) customs-value flows by sector).
    """
    tariff = np.asarray(tariff, float)
    if tariff.ndim == 3:
        tariff = tariff[None]
    B, n, K = tariff.shape[0], tariff.shape[1], tariff.shape[-1]
    eps = np.broadcast_to(np.asarray(eps, float), (K,))
    phi = np.broadcast_to(np.asarray(prm.phi, float), (n,))
    b = base.lam * ((1.0 + tariff) / (1.0 + base.tariff)) ** (-eps[None, None, :] * phi[None, :, None])
    bi = b / (1.0 + tariff)
    tau0 = (base.tariff / (1.0 + base.tariff) * base.lam * base.beta[None] * base.E[None, :, None]).sum((0, 2)) / base.Y
    psi = np.broadcast_to(np.asarray(prm.psi if psi is None else psi, float), (K,))
    pre = (b, b * tariff / (1.0 + tariff), bi, tau0, base.Ysec > 0, psi)
    x = np.zeros((B, n * (2 + K))) if x0 is None else np.array(x0, float)
    x, iters, _ = anderson(lambda z: _sweep(z, base, pre, prm, eps, phi, n, K), x, tol=tol, max_iter=max_iter,
                           memory=memory)
    s = _sweep(x, base, pre, prm, eps, phi, n, K, full=True)
    spend = s["spend"].sum(-1)
    sol = LDSolution(w_hat=s["w"], L_hat=s["L"], E_hat=s["E_hat"], P_hat=s["P"],
                     lam_new=spend / spend.sum(-2, keepdims=True), X_new=s["X_new"].sum(-1), revenue=s["R"],
                     tau=s["tau"], iterations=iters, residual=s["resid"], success=s["resid"] < max(tol, 1e-10) * 10)
    return sol, {"ell_hat": s["ell_hat"], "X_new": s["X_new"], "x": x}
