"""Outputs of the Caliendo–Parro hat-algebra solution: welfare, its decomposition, trade.

Belongs here: pure functions from a :class:`~tariffsim.kernels.cp.Baseline` and an
:class:`~tariffsim.kernels.cp.Equilibrium` to per-country and per-flow arrays with the
library's standard column names (defined in :mod:`tariffsim.results`). Pure numpy.
"""

from __future__ import annotations

import numpy as np

from .cp import Baseline, Equilibrium

__all__ = ["acr_real_wage_hat", "baseline_summary", "country_outputs", "flow_outputs", "price_index_hat"]


def _diag(a: np.ndarray) -> np.ndarray:
    """The i == n entries of a (..., n, n, S) array, shape (..., n, S) (a view)."""
    return np.diagonal(a, axis1=-3, axis2=-2).swapaxes(-1, -2)


def _bcast(a: np.ndarray, shape: tuple) -> np.ndarray:
    """np.broadcast_to, skipped when ``a`` has the shape already (the single-scenario path)."""
    return a if a.shape == shape else np.broadcast_to(a, shape)


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
    th = _bcast(np.asarray(theta, float), (b, s))[:, None, :]
    z = 1.0 if productivity is None else productivity
    d = 1.0 if ntb is None else 1.0 + _diag(ntb)
    with np.errstate(divide="ignore", invalid="ignore"):
        lnzd = np.log(z / d) if productivity is not None or ntb is not None else 0.0  # ln(ẑ/d̂)
        term = np.where(lam0 > 0, lnzd - np.log(lam1 / np.where(lam0 > 0, lam0, 1.0)) / th, 0.0)
    return np.exp(np.einsum("bnj,bnj->bn", _bcast(base.alpha, term.shape), term))  # Π_j (ẑ/d̂ · λ̂^(−1/θ))^α


def baseline_summary(base: Baseline, goods: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Baseline aggregates the outputs need, computed once per baseline (batch 1 when shared).

    Returns ``M0, tau0, tm0`` (flows, tariffs, τM; (1 or B, n, n, S)), ``sales0`` Σ_n M0 by
    exporter-sector (1 or B, n, S), ``ex0, im0, rev0`` (exports, imports, duties, (1 or B, n)),
    ``etr0`` (duties over imports, over ``goods`` sectors when given), and for exports and
    imports ``*_pos`` (positive) and ``*_safe`` (1 where not positive: a safe denominator).
    """
    M0, tau0 = _compact(base.flows), _compact(base.tariff)
    dom0 = _diag(M0)  # (., n, S)
    tm0 = tau0 * M0
    imp0 = M0.sum(axis=1) - dom0  # imports by importer and sector, Σ_{i≠n} M_in^j
    rev0_s = tm0.sum(axis=1)  # τ = 0 on the diagonal
    out = dict(M0=M0, tau0=tau0, tm0=tm0, sales0=M0.sum(axis=2), ex0=M0.sum(axis=(2, 3)) - dom0.sum(axis=-1),
               im0=imp0.sum(axis=-1), rev0=rev0_s.sum(axis=-1))
    g = _goods(goods, imp0.shape[-1])
    out["etr0"] = _rate(rev0_s @ g, imp0 @ g)
    for key in ("ex0", "im0"):
        out[key + "_pos"] = out[key] > 0
        out[key + "_safe"] = np.where(out[key + "_pos"], out[key], 1.0)
    return out


def _goods(goods, s: int) -> np.ndarray:
    return np.ones(s) if goods is None else np.asarray(goods, dtype=float)


def _rate(paid: np.ndarray, total: np.ndarray) -> np.ndarray:
    """paid / total, NaN where total is not positive (no trade, no rate)."""
    pos = total > 0
    return np.where(pos, paid / np.where(pos, total, 1.0), np.nan)


def country_outputs(base: Baseline, eq: Equilibrium, tariff_new: np.ndarray, *, goods: np.ndarray | None = None,
                    summary: dict | None = None) -> dict[str, np.ndarray]:
    """Per-country standard columns, each of shape (B, n).

    Parameters
    ----------
    base, eq : Baseline, Equilibrium
    tariff_new : ndarray of shape (B, n, n, S)
        τ' (decimal).
    goods : ndarray of bool, shape (S,), optional
        Sectors whose imports pay duties: ``etr`` and ``etr_base`` are averaged over them
        (default every sector).
    summary : dict, optional
        :func:`baseline_summary` of ``base`` (and ``goods``), when already computed.

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
    sm = baseline_summary(base, goods) if summary is None else summary
    M0, M1, tau0 = sm["M0"], eq.flows, sm["tau0"]  # baseline: batch 1 when shared
    b = M1.shape[0]
    P = price_index_hat(_bcast(base.alpha, eq.P_hat.shape), eq.P_hat)
    I0, I1 = base.income, eq.income
    out: dict[str, np.ndarray] = {}
    out["welfare_pct"] = 100.0 * (I1 / I0 / P - 1.0)  # Ŵ_n = (I'_n / I_n) / P̂_n
    dp = eq.p_hat - 1.0  # discrete d ln p
    # ToT: Σ_j Σ_i (E_ni dp_n − M_ni dp_i), E_ni = M0[n, i]: sales of n by sector times dp_n,
    # minus purchases valued at the sellers' price changes
    tot = np.einsum("bnj,bnj->bn", _bcast(sm["sales0"], dp.shape), dp) - _contract_exporters(M0, dp)
    # VoT: Σ_j Σ_i τ_ni M_ni [(M̂_ni − 1) − dp_i] = Σ τ M' − Σ τ M − Σ τ M dp_i  (M̂ = 1 where M = 0:
    # M' = 0 there too)
    rev0 = sm["rev0"]
    vot = _contract_flows(tau0, M1) - rev0 - _contract_exporters(sm["tm0"], dp)
    out["welfare_tot_pct"] = 100.0 * tot / I0
    out["welfare_vot_pct"] = 100.0 * vot / I0
    out["welfare_first_order_pct"] = out["welfare_tot_pct"] + out["welfare_vot_pct"]
    out["real_wage_pct"] = 100.0 * (eq.w_hat / P - 1.0)  # ŵ_n / P̂_n
    out["price_index_pct"] = 100.0 * (P - 1.0)
    dom1 = _diag(M1)  # domestic sales by sector, (B, n, S)
    imp1 = M1.sum(axis=1) - dom1  # Σ_{i≠n} M'_in^j (customs value), (B, n, S)
    ex1 = M1.sum(axis=(2, 3)) - dom1.sum(axis=-1)  # Σ_{n≠i, j} M_in^j
    im1 = imp1.sum(axis=-1)
    ex0, im0, rev0 = (_bcast(x, (b,) + x.shape[1:]) for x in (sm["ex0"], sm["im0"], rev0))
    # 100 (X'/X − 1), NaN without baseline trade (safe denominators from the summary: no division by 0)
    out["exports_pct"] = np.where(sm["ex0_pos"], 100.0 * (ex1 / sm["ex0_safe"] - 1.0), np.nan)
    out["imports_pct"] = np.where(sm["im0_pos"], 100.0 * (im1 / sm["im0_safe"] - 1.0), np.nan)
    out["exports"], out["imports"] = ex1, im1
    # Σ_{i,j} τ'_ni M'_ni by sector, τ' = 0 on the diagonal
    rev1_s = _contract_flows(tariff_new, M1, keep_sectors=True) - _diag_broadcast(tariff_new, M1) * dom1
    rev1 = rev1_s.sum(axis=-1)
    out["tariff_revenue"] = rev1
    out["tariff_revenue_change"] = rev1 - rev0
    g = _goods(goods, M1.shape[-1])
    out["etr"] = _rate(rev1_s @ g, imp1 @ g)
    out["etr_base"] = np.array(_bcast(sm["etr0"], (b,) + sm["etr0"].shape[1:]))
    out["trade_balance_change"] = (ex1 - im1) - (ex0 - im0)
    return out


def _diag_broadcast(rates: np.ndarray, flows: np.ndarray) -> np.ndarray:
    """The diagonal of ``rates`` broadcast to the batch of ``flows``, shape (B, n, S)."""
    d = _diag(np.asarray(rates, float))
    return _bcast(d, (flows.shape[0],) + d.shape[-2:])


def _contract_flows(a: np.ndarray, flows: np.ndarray, keep_sectors: bool = False) -> np.ndarray:
    """Σ_{i,j} a[b, i, n, j] flows[b, i, n, j] per importer, shape (B, n) (or (B, n, S) summing i only).

    ``a`` may have batch 1.
    """
    a = _compact(np.asarray(a, float))
    out = "bnj" if keep_sectors else "bn"
    if a.ndim == 3 or a.shape[0] == 1:
        return np.einsum(f"inj,binj->{out}", a.reshape(a.shape[-3:]), flows)
    return np.einsum(f"binj,binj->{out}", a, flows)


def _contract_exporters(m: np.ndarray, dp: np.ndarray) -> np.ndarray:
    """Σ_{i,j} m[., i, n, j] dp[b, i, j] per importer n, shape (B, n); ``m`` may have batch 1."""
    if m.shape[0] == 1:
        return np.einsum("inj,bij->bn", m[0], dp)
    return np.einsum("binj,bij->bn", m, dp)


#: Bytes of a per-flow array the flow columns are computed over at a time (cache-sized chunks).
CHUNK_BYTES = 1 << 20


def flow_outputs(base: Baseline, eq: Equilibrium, tariff_new: np.ndarray) -> dict[str, np.ndarray]:
    """Per-flow columns ``flow_base, flow_new, flow_pct, tariff_base, tariff_new``, shape (B, n, n, S).

    ``flow_base``, ``tariff_base`` (and ``tariff_new`` when given as one) are read-only
    broadcast views of the shared baseline: no memory per scenario. ``flow_pct`` is
    computed in cache-sized chunks of scenarios (one pass over memory).
    """
    M0, M1 = base.flows, eq.flows
    shape = M1.shape
    M0b = _bcast(M0, shape)
    pct = np.empty(shape)
    size = max(1, CHUNK_BYTES // (8 * int(np.prod(shape[1:]))))
    zero = _compact(M0) <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(0, shape[0], size):
            sl = slice(k, k + size)
            p = pct[sl]
            np.divide(M1[sl], M0b[sl], out=p)
            p -= 1.0
            p *= 100.0  # 100 (M'/M − 1), NaN where M = 0
            np.copyto(p, np.nan, where=zero if zero.shape[0] == 1 else zero[sl])
    return {
        "flow_base": M0b,
        "flow_new": M1,
        "flow_pct": pct,
        "tariff_base": _bcast(base.tariff, shape),
        "tariff_new": _bcast(np.asarray(tariff_new, float), shape),
    }
