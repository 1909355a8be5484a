"""Outputs of the Caliendo–Parro hat-algebra solution: welfare, its decomposition, trade.

Belongs here: pure functions from a :class:`~tariffsim.kernels.cp.Baseline` and an
:class:`~tariffsim.kernels.cp.Equilibrium` to per-country and per-flow arrays with the
library's standard column names (defined in :mod:`tariffsim.results`). Pure numpy.
"""

from __future__ import annotations

import numpy as np

from .cp import Baseline, Equilibrium

__all__ = ["country_outputs", "flow_outputs", "acr_real_wage_hat", "price_index_hat"]


def _off_diagonal(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    n = out.shape[-2]
    out[..., np.arange(n), np.arange(n), :] = 0.0
    return out


def price_index_hat(alpha: np.ndarray, P_hat: np.ndarray) -> np.ndarray:
    """Consumer price index change P̂_n = Π_j (P̂_n^j)^{α_n^j}, shape (B, n)."""
    return np.exp(np.einsum("bnj,bnj->bn", alpha, np.log(P_hat)))  # Π_j P̂^α


def acr_real_wage_hat(base: Baseline, eq: Equilibrium, theta: np.ndarray,
                      productivity: np.ndarray | None = None, ntb: np.ndarray | None = None) -> np.ndarray:
    """Real-wage change implied by domestic shares (Arkolakis–Costinot–Rodríguez-Clare).

    Without input-output links (γ = 1), ŵ_n / P̂_n = Π_j (ẑ_n^j / d̂_nn^j · (λ̂_nn^j)^{−1/θ^j})^{α_n^j},
    λ_nn^j = π_nn^j the domestic share (ACR 2012; ARkolakis et al. multi-sector form in
    Costinot & Rodríguez-Clare 2014). One sector, no productivity: ŵ/P̂ = λ̂_nn^{−1/ε}.

    Parameters
    ----------
    base, eq : Baseline, Equilibrium
    theta : ndarray of shape (S,) or (B, S)
    productivity : ndarray of shape (B, n, S), optional
    ntb : ndarray of shape (B, n, n, S), optional

    Returns
    -------
    ndarray of shape (B, n)
        The identity holds exactly (to solver precision) whenever γ = 1; with IO links it
        is not the model's real wage (use it only as a diagnostic). With demand (taste)
        shifters the identity fails (domestic shares move for taste reasons); callers
        should not report it for those scenarios.
    """
    b, n, _, s = base.pi.shape
    idx = np.arange(n)
    lam0 = base.pi[:, idx, idx, :]  # λ_nn^j = π_nn^j, (B, n, S)
    lam1 = eq.pi[:, idx, idx, :]
    th = np.broadcast_to(np.asarray(theta, float), (b, s))[:, None, :]
    z = np.ones((b, n, s)) if productivity is None else productivity
    d = np.ones((b, n, s)) if ntb is None else 1.0 + ntb[:, idx, idx, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(lam0 > 0, np.log(z / d) - np.log(lam1 / np.where(lam0 > 0, lam0, 1.0)) / th, 0.0)
    return np.exp(np.einsum("bnj,bnj->bn", base.alpha, term))  # Π_j (ẑ/d̂ · λ̂^(−1/θ))^α


def country_outputs(base: Baseline, eq: Equilibrium, tariff_new: np.ndarray) -> dict[str, np.ndarray]:
    """Per-country standard columns, each of shape (B, n).

    Parameters
    ----------
    base, eq : Baseline, Equilibrium
    tariff_new : ndarray of shape (B, n, n, S)
        τ' (decimal).

    Returns
    -------
    dict of str -> ndarray of shape (B, n)
        ``welfare_pct`` (exact), ``welfare_tot_pct``, ``welfare_vot_pct``,
        ``welfare_first_order_pct``, ``real_wage_pct``, ``price_index_pct``,
        ``exports``, ``exports_pct``, ``imports``, ``imports_pct``, ``tariff_revenue``,
        ``tariff_revenue_change``, ``etr``, ``etr_base``, ``trade_balance_change``.

    Notes
    -----
    The first-order decomposition is CP (2015) eq. 16 evaluated as in their code
    (``Welfarelineal.m``): discrete changes stand in for d ln,
    ToT_n = (1/I_n) Σ_j Σ_i [E_ni^j (p̂_n^j − 1) − M_ni^j (p̂_i^j − 1)],
    VoT_n = (1/I_n) Σ_j Σ_i τ_ni^j M_ni^j [(M̂_ni^j − 1) − (p̂_i^j − 1)],
    with E_ni = M_in the baseline sales of n to i, M at customs value, p̂ = ĉ/ẑ the
    producer-price change (= ĉ without productivity shocks) and I_n baseline income.

    ``welfare_pct`` deflates by ``eq.P_hat``, which with purchase commitments (taste
    shifters) is the price index at *baseline* tastes of the bundle bought (see
    :mod:`tariffsim.kernels.cp`), so a commitment is not a welfare gain by assumption. The
    first-order decomposition has no taste term: the misallocation cost is second order.
    """
    M0, M1 = base.flows, eq.flows
    tau0 = base.tariff
    tau1 = np.array(tariff_new, dtype=float, copy=True)
    n = M0.shape[-2]
    tau1[..., np.arange(n), np.arange(n), :] = 0.0
    P = price_index_hat(base.alpha, eq.P_hat)
    I0, I1 = base.income, eq.income
    out: dict[str, np.ndarray] = {}
    out["welfare_pct"] = 100.0 * (I1 / I0 / P - 1.0)  # Ŵ_n = (I'_n / I_n) / P̂_n
    dp = eq.p_hat - 1.0  # discrete d ln p
    # ToT: Σ_j Σ_i (E_ni dp_n − M_ni dp_i), E_ni = M0[n, i]
    tot = np.einsum("bnij,bnj->bn", M0, dp) - np.einsum("binj,bij->bn", M0, dp)
    with np.errstate(divide="ignore", invalid="ignore"):
        mhat = np.where(M0 > 0, M1 / np.where(M0 > 0, M0, 1.0), 1.0)
    # VoT: Σ_j Σ_i τ_ni M_ni [(M̂_ni − 1) − dp_i]
    vot = np.einsum("binj,binj->bn", tau0 * M0, (mhat - 1.0) - dp[:, :, None, :])
    out["welfare_tot_pct"] = 100.0 * tot / I0
    out["welfare_vot_pct"] = 100.0 * vot / I0
    out["welfare_first_order_pct"] = out["welfare_tot_pct"] + out["welfare_vot_pct"]
    out["real_wage_pct"] = 100.0 * (eq.w_hat / P - 1.0)  # ŵ_n / P̂_n
    out["price_index_pct"] = 100.0 * (P - 1.0)
    F0, F1 = _off_diagonal(M0), _off_diagonal(M1)
    ex0, ex1 = F0.sum(axis=(2, 3)), F1.sum(axis=(2, 3))  # Σ_{n≠i, j} M_in^j
    im0, im1 = F0.sum(axis=(1, 3)), F1.sum(axis=(1, 3))  # Σ_{i≠n, j} M_in^j (customs value)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["exports_pct"] = np.where(ex0 > 0, 100.0 * (ex1 / np.where(ex0 > 0, ex0, 1.0) - 1.0), np.nan)
        out["imports_pct"] = np.where(im0 > 0, 100.0 * (im1 / np.where(im0 > 0, im0, 1.0) - 1.0), np.nan)
    out["exports"], out["imports"] = ex1, im1
    rev0 = (tau0 * M0).sum(axis=(1, 3))  # Σ_{i,j} τ_ni M_ni
    rev1 = (tau1 * M1).sum(axis=(1, 3))  # Σ_{i,j} τ'_ni M'_ni
    out["tariff_revenue"] = rev1
    out["tariff_revenue_change"] = rev1 - rev0
    with np.errstate(divide="ignore", invalid="ignore"):
        out["etr"] = np.where(im1 > 0, rev1 / np.where(im1 > 0, im1, 1.0), np.nan)
        out["etr_base"] = np.where(im0 > 0, rev0 / np.where(im0 > 0, im0, 1.0), np.nan)
    out["trade_balance_change"] = (ex1 - im1) - (ex0 - im0)
    return out


def flow_outputs(base: Baseline, eq: Equilibrium, tariff_new: np.ndarray) -> dict[str, np.ndarray]:
    """Per-flow columns ``flow_base, flow_new, flow_pct, tariff_base, tariff_new``, shape (B, n, n, S)."""
    M0, M1 = base.flows, eq.flows
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(M0 > 0, 100.0 * (M1 / np.where(M0 > 0, M0, 1.0) - 1.0), np.nan)
    return {
        "flow_base": np.array(M0),
        "flow_new": np.array(M1),
        "flow_pct": pct,
        "tariff_base": np.array(base.tariff),
        "tariff_new": np.broadcast_to(np.asarray(tariff_new, float), M0.shape).copy(),
    }
