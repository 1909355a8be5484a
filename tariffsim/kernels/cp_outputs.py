"""Outputs of the Caliendo–Parro hat-algebra solution: welfare, its decomposition, trade.

Belongs here: pure functions from a :class:`~tariffsim.kernels.cp.Baseline` and an
:class:`~tariffsim.kernels.cp.Equilibrium` to per-country and per-flow arrays with the
library's standard column names (defined in :mod:`tariffsim.results`). Pure numpy.
"""

from __future__ import annotations

import numpy as np

from .cp import Baseline, Equilibrium

__all__ = ["acr_real_wage_hat", "country_outputs", "flow_outputs", "price_index_hat"]


def _diag(a: np.ndarray) -> np.ndarray:
    """The i == n entries of a (..., n, n, S) array, shape (..., n, S) (a view)."""
    return np.diagonal(a, axis1=-3, axis2=-2).swapaxes(-1, -2)


def _compact(a: np.ndarray) -> np.ndarray:
    """A batch axis broadcast with stride 0 collapsed to length 1 (shared baseline)."""
    return a[:1] if a.ndim and a.shape[0] > 1 and a.strides[0] == 0 else a


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
    b, n, _, s = eq.pi.shape
    lam0 = _diag(_compact(base.pi))  # λ_nn^j = π_nn^j, (B or 1, n, S)
    lam1 = _diag(eq.pi)
    th = np.broadcast_to(np.asarray(theta, float), (b, s))[:, None, :]
    z = np.ones((b, n, s)) if productivity is None else productivity
    d = np.ones((b, n, s)) if ntb is None else 1.0 + _diag(ntb)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(lam0 > 0, np.log(z / d) - np.log(lam1 / np.where(lam0 > 0, lam0, 1.0)) / th, 0.0)
    return np.exp(np.einsum("bnj,bnj->bn", np.broadcast_to(base.alpha, term.shape), term))  # Π_j (ẑ/d̂ · λ̂^(−1/θ))^α


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
    M0, M1, tau0 = _compact(base.flows), eq.flows, _compact(base.tariff)  # baseline: batch 1 when shared
    b = M1.shape[0]
    P = price_index_hat(np.broadcast_to(base.alpha, eq.P_hat.shape), eq.P_hat)
    I0, I1 = base.income, eq.income
    out: dict[str, np.ndarray] = {}
    out["welfare_pct"] = 100.0 * (I1 / I0 / P - 1.0)  # Ŵ_n = (I'_n / I_n) / P̂_n
    dp = eq.p_hat - 1.0  # discrete d ln p
    # ToT: Σ_j Σ_i (E_ni dp_n − M_ni dp_i), E_ni = M0[n, i]: sales of n by sector times dp_n,
    # minus purchases valued at the sellers' price changes
    sales0 = M0.sum(axis=2)  # Σ_i E_ni^j, (1 or B, n, S)
    tot = np.einsum("bnj,bnj->bn", np.broadcast_to(sales0, dp.shape), dp) - _contract_exporters(M0, dp)
    # VoT: Σ_j Σ_i τ_ni M_ni [(M̂_ni − 1) − dp_i] = Σ τ M' − Σ τ M − Σ τ M dp_i  (M̂ = 1 where M = 0:
    # M' = 0 there too)
    tm0 = tau0 * M0
    rev0 = tm0.sum(axis=(1, 3))  # R_n = Σ_{i,j} τ_ni M_ni
    vot = _contract_flows(tau0, M1) - rev0 - _contract_exporters(tm0, dp)
    out["welfare_tot_pct"] = 100.0 * tot / I0
    out["welfare_vot_pct"] = 100.0 * vot / I0
    out["welfare_first_order_pct"] = out["welfare_tot_pct"] + out["welfare_vot_pct"]
    out["real_wage_pct"] = 100.0 * (eq.w_hat / P - 1.0)  # ŵ_n / P̂_n
    out["price_index_pct"] = 100.0 * (P - 1.0)
    dom0, dom1 = _diag(M0).sum(axis=-1), _diag(M1).sum(axis=-1)  # domestic sales, (., n)
    ex0, ex1 = M0.sum(axis=(2, 3)) - dom0, M1.sum(axis=(2, 3)) - dom1  # Σ_{n≠i, j} M_in^j
    im0, im1 = M0.sum(axis=(1, 3)) - dom0, M1.sum(axis=(1, 3)) - dom1  # Σ_{i≠n, j} M_in^j (customs value)
    ex0, im0, rev0 = (np.broadcast_to(x, (b,) + x.shape[1:]) for x in (ex0, im0, rev0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["exports_pct"] = np.where(ex0 > 0, 100.0 * (ex1 / np.where(ex0 > 0, ex0, 1.0) - 1.0), np.nan)
        out["imports_pct"] = np.where(im0 > 0, 100.0 * (im1 / np.where(im0 > 0, im0, 1.0) - 1.0), np.nan)
    out["exports"], out["imports"] = ex1, im1
    # Σ_{i,j} τ'_ni M'_ni, τ' = 0 on the diagonal
    rev1 = _contract_flows(tariff_new, M1) - np.einsum("bnj,bnj->bn", _diag_broadcast(tariff_new, M1), _diag(M1))
    out["tariff_revenue"] = rev1
    out["tariff_revenue_change"] = rev1 - rev0
    with np.errstate(divide="ignore", invalid="ignore"):
        out["etr"] = np.where(im1 > 0, rev1 / np.where(im1 > 0, im1, 1.0), np.nan)
        out["etr_base"] = np.where(im0 > 0, rev0 / np.where(im0 > 0, im0, 1.0), np.nan)
    out["trade_balance_change"] = (ex1 - im1) - (ex0 - im0)
    return out


def _diag_broadcast(rates: np.ndarray, flows: np.ndarray) -> np.ndarray:
    """The diagonal of ``rates`` broadcast to the batch of ``flows``, shape (B, n, S)."""
    d = _diag(np.asarray(rates, float))
    return np.broadcast_to(d, (flows.shape[0],) + d.shape[-2:])


def _contract_flows(a: np.ndarray, flows: np.ndarray) -> np.ndarray:
    """Σ_{i,j} a[b, i, n, j] flows[b, i, n, j] per importer, shape (B, n); ``a`` may have batch 1."""
    a = _compact(np.asarray(a, float))
    if a.ndim == 3 or a.shape[0] == 1:
        return np.einsum("inj,binj->bn", a.reshape(a.shape[-3:]), flows)
    return np.einsum("binj,binj->bn", a, flows)


def _contract_exporters(m: np.ndarray, dp: np.ndarray) -> np.ndarray:
    """Σ_{i,j} m[., i, n, j] dp[b, i, j] per importer n, shape (B, n); ``m`` may have batch 1."""
    if m.shape[0] == 1:
        return np.einsum("inj,bij->bn", m[0], dp)
    return np.einsum("binj,bij->bn", m, dp)


def flow_outputs(base: Baseline, eq: Equilibrium, tariff_new: np.ndarray) -> dict[str, np.ndarray]:
    """Per-flow columns ``flow_base, flow_new, flow_pct, tariff_base, tariff_new``, shape (B, n, n, S)."""
    M0, M1 = base.flows, eq.flows
    shape = M1.shape
    pct = np.full(shape, np.nan)
    pos = np.broadcast_to(M0 > 0, shape)
    np.divide(M1, np.broadcast_to(M0, shape), out=pct, where=pos)
    pct -= 1.0
    pct *= 100.0  # 100 (M'/M − 1), NaN where M = 0
    return {
        "flow_base": np.broadcast_to(M0, shape).copy(),
        "flow_new": M1,
        "flow_pct": pct,
        "tariff_base": np.broadcast_to(base.tariff, shape).copy(),
        "tariff_new": np.broadcast_to(np.asarray(tariff_new, float), shape).copy(),
    }
