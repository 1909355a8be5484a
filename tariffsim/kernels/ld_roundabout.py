"""Liberation Day model with roundabout production (IMLS appendix, the input–output variant of Table 4).

Pure numpy, batched like :mod:`tariffsim.kernels.ld_onesector`. Firms use labour (value-added
share β) and the domestic consumption bundle as inputs (share 1 − β):

- unit cost:            ĉ_i = ŵ_i^β P̂_i^(1−β);  entry scales with (ŵ_i/P̂_i)^(1−β) L̂_i
- trade shares:         λ'_ji ∝ λ_ji (ĉ_j / ((ŵ_j/P̂_j)^(1−β) L̂_j)^ψ)^(−ε) (1+t'_ji)^(−ε φ_i)
- price index:          P̂_i = (Ê_i/ŵ_i)^(1−φ_i) S_i^(−1/ε)
- wage income:          ŵ_j L̂_j Y_j = β Σ_i (1−ν_i) X'_ji + ν_j Σ_i X'_ij
- spending (incl. inputs): E'_i = R'_i + Y'_i + (1−β) Σ_j (1−ν_j) X'_ij + T_i ΣY'/ΣY
- labour supply:        L̂_i = (τ̂_i ŵ_i/P̂_i)^κ,  τ̂_i = 1/(1 − R'_i/Y'_i) (income-tax relief)
- numeraire:            Σ_i Y_i (ŵ_i − 1) = 0 (world GDP-weighted wage, as the authors' IO code)

Unknowns (ln ŵ, ln L̂, ln Ê, ln P̂), one damped fixed-point sweep per iteration, Anderson-accelerated.
Welfare uses consumer spending E^c = Y + T (not input purchases): Ê^c = (R' + Y' + T')/E^c.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .ld_fixedpoint import anderson
from .ld_onesector import LDBaseline, LDParams, LDSolution, _mv, _vm

__all__ = ["calibrate_roundabout", "solve_roundabout", "consumer_spending"]


def calibrate_roundabout(base: LDBaseline, beta: float) -> LDBaseline:
    """Baseline with intermediate inputs from a calibrated one-sector baseline (IMLS appendix):
    domestic sales X_ii/β, E_i = Σ_j X_ji, Y_j = β Σ_i (1−ν_i) X_ji + ν_j E_j,
    T_i = E_i − Y_i − (1−β) Σ_j (1−ν_j) X_ij."""
    X = base.lam * base.E[None, :]
    n = X.shape[0]
    X[np.arange(n), np.arange(n)] /= beta
    E = X.sum(0)
    variable = (X * (1.0 - base.nu)[None, :]).sum(1)
    Y = beta * variable + base.nu * E
    return replace(base, lam=X / E[None, :], E=E, Y=Y, T=E - (Y + (1.0 - beta) * variable))


def consumer_spending(base: LDBaseline, sol: LDSolution) -> tuple[np.ndarray, np.ndarray]:
    """E^c = Y + T and its change Ê^c = (R' + Y' + T ΣY'/ΣY)/E^c, shapes (n,), (B, n)."""
    Ec = base.Y + base.T
    Yn = sol.w_hat * sol.L_hat * base.Y
    Tn = base.T * (Yn.sum(-1, keepdims=True) / base.Y.sum())
    return Ec, (sol.revenue + Yn + Tn) / Ec


def _sweep(x, base, pre, prm, phi, beta, n, full=False):
    eps, psi = prm.eps, prm.psi
    b, b_all, b_inv = pre
    lnw, lnL, lnE, lnP = x[:, :n], x[:, n:2 * n], x[:, 2 * n:3 * n], x[:, 3 * n:]
    w, L, E_hat, P = np.exp(lnw), np.exp(lnL), np.exp(lnE), np.exp(lnP)
    # ln of ĉ / (entry L̂)^ψ with ĉ = ŵ^β P̂^(1−β), entry = (ŵ/P̂)^(1−β)
    ln_cost = beta * lnw + (1 - beta) * lnP - psi * ((1 - beta) * (lnw - lnP) + lnL)
    cost = np.exp(-eps * ln_cost)
    sums = _vm(cost, b_all)
    S, r = sums[:, :n], sums[:, n:2 * n] / sums[:, :n]
    En = E_hat * base.E
    variable = cost * _mv(b_inv, (1.0 - base.nu) * En / S)  # Σ_i (1−ν_i) X'_ji
    fixed = base.nu * En / S * sums[:, 2 * n:]  # ν_j Σ_i X'_ij
    Yn = w * L * base.Y
    Tn = base.T * (Yn.sum(-1, keepdims=True) / base.Y.sum())
    R = r * En
    E_new = R + Yn + (1.0 - beta) * variable + Tn
    P_new = (E_hat / w) ** (1.0 - phi) * S ** (-1.0 / eps)
    if prm.revenue == "income_tax":
        tau = R / Yn
        tau_hat = 1.0 / (1.0 - tau)
    else:
        tau, tau_hat = np.zeros_like(R), 1.0
    excess = np.log(beta * variable + fixed) - np.log(Yn)
    lnL_new = prm.kappa * (np.log(tau_hat * w) - np.log(P_new))
    lnE_new = np.log(E_new / base.E)
    lnP_new = np.log(P_new)
    lnw_new = lnw + excess / (1.0 + eps)
    shift = np.log((base.Y * np.exp(lnw_new)).sum(-1, keepdims=True) / base.Y.sum())  # numeraire
    g = np.concatenate([lnw_new - shift, lnL_new, lnE_new - shift, lnP_new - shift], axis=-1)
    resid = np.max(np.abs(np.concatenate([excess, lnL_new - lnL, lnE_new - lnE, lnP_new - lnP], -1)), -1)
    if not full:
        return g, resid
    X_new = b_inv * cost[:, :, None] * (En / S)[:, None, :]
    return dict(w=w, L=L, E_hat=E_hat, P_hat=P, lam_new=b * cost[:, :, None] / S[:, None, :], X_new=X_new,
                R=R, tau=tau, resid=resid)


def solve_roundabout(base: LDBaseline, tariff: np.ndarray, prm: LDParams, beta: float = 0.49, *,
                     tol: float = 1e-11, max_iter: int = 5000, memory: int = 8) -> LDSolution:
    """Solve the roundabout-production model for a batch of tariffs t'[B, j, i] (zero baseline tariffs).

    ``base`` must come from :func:`calibrate_roundabout` with the same β. Deficits: world-GDP share.
    """
    tariff = np.asarray(tariff, float)
    if tariff.ndim == 2:
        tariff = tariff[None]
    B, n = tariff.shape[0], tariff.shape[-1]
    phi = np.broadcast_to(np.asarray(prm.phi, float), (n,))
    b = base.lam * (1.0 + tariff) ** (-prm.eps * phi[None, :])
    b_inv = b / (1.0 + tariff)
    pre = (b, np.concatenate([b, b * tariff / (1.0 + tariff), b_inv], axis=-1), b_inv)
    x, iters, _ = anderson(lambda z: _sweep(z, base, pre, prm, phi, beta, n), np.zeros((B, 4 * n)),
                              tol=tol, max_iter=max_iter, memory=memory)
    s = _sweep(x, base, pre, prm, phi, beta, n, full=True)
    return LDSolution(w_hat=s["w"], L_hat=s["L"], E_hat=s["E_hat"], P_hat=s["P_hat"], lam_new=s["lam_new"],
                      X_new=s["X_new"], revenue=s["R"], tau=s["tau"], iterations=iters, residual=s["resid"],
                      success=s["resid"] < max(tol, 1e-10) * 10)
