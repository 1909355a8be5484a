"""SMART's two methods for one block of scenarios: the linear WITS formulas and the exact CES model.

Belongs here: the equations of :mod:`tariffsim.kernels.smart` (see its module docstring for
the model, the formulas and the welfare areas), evaluated on one block of scenarios and the
importer columns that change, and the per-importer / per-exporter sums the driver needs.
Does not belong here: choosing columns and blocks, accumulating totals (``kernels.smart``).

When they differ
----------------
- Per flow even for small changes: WITS attributes creation to a partner's *own* tariff
  change (-η t̂_k); the CES demand system attributes it to the composite price
  (-η Σ θ t̂). Market totals agree to first order; flows differ by η M_k (t̄ - t̂_k).
- Large changes: the linear formulas are first-order; they overstate creation for large
  increases (and need clipping), the exact version bounds flows in (0, ∞).
- With η > σ the exact version makes sources gross complements (cross-price elasticity
  θ_l (σ - η) < 0); linear diversion is always substitution. The defaults
  (``tariffsim.models.parameters.pe_defaults``: σ = 1 + θ, η = σ(1 - m) + m) have η <= σ.

Welfare
-------
``welfare_wits`` = ½ Σ_k (t0_k - t1_k)(M'_k - M_k): the WITS "welfare" (its triangle), as
WITS reports it. Note it is >= 0 whenever imports move against the tariff change, also for
tariff *increases*: it is not a net welfare measure. The model's net welfare is
consumer surplus + producer surplus + revenue change:

- linear: trapezoid per flow, ΔCS = -Σ_k [T1_k (1 + p̂_k) - T0_k] (q_k + q'_k)/2,
  ΔPS_k = p̂_k (q_k + q'_k)/2.
- exact: ΔCS = -E0 (P̂^(1-η) - 1)/(1-η) (E0 = Σ T0 M), ΔPS_k = M_k (p̂^(1+ε) - 1)/(1+ε).
"""

from __future__ import annotations

import numpy as np

from ._util import exact_div, exprel, log_ces_mean, safe_div

__all__ = ["one_chunk", "revenue_by_importer", "by_importer", "by_exporter"]


def one_chunk(method, m_obs, m_eff, t0, t1, wm1, eta, sigma, eps) -> dict:
    """One block of scenarios on the computed columns: flows (B, n, k, S), CS (B, k), PS (B, n)."""
    d = t1 - t0  # Δt
    if wm1 is None:
        dp, T1w = d, None  # change of the internal price before supply responds: Δt
    else:  # (1+t1) w - (1+t0) = Δt + (1+t1)(w - 1)
        dp = d + (1.0 + t1) * wm1
        T1w = (1.0 + t1) * (1.0 + wm1)
    if method == "linear":
        q_new, tc, td, p_hat, clipped, resid = _linear(m_obs, m_eff, t0, dp, eta, sigma, eps)
        # trapezoid areas: ΔCS = -Σ Δ(domestic price) (q + q')/2 ; ΔPS = Σ Δp (q + q')/2
        # Δ(domestic price) = (1+t1) w (1+p̂) - (1+t0) = dp + p̂ (1+t1) w
        dprice = dp if p_hat is None else dp + p_hat * (1.0 + t1 if T1w is None else T1w)
        mid = m_eff + q_new  # q + q'
        cs = -0.5 * by_importer(dprice, mid)
        if p_hat is None:
            ps = np.zeros(cs.shape[:1] + m_obs.shape[-3:-2])
            flow_new, price_effect, price_pct = q_new, np.zeros(q_new.shape), np.zeros(q_new.shape)
        else:
            ps = 0.5 * by_exporter(p_hat, mid)
            price_effect = q_new * p_hat  # q' Δp
            flow_new = q_new + price_effect  # customs value = quantity x world price
            price_pct = 100.0 * p_hat
    else:
        ln_that = np.log((1.0 + t1) / (1.0 + t0))  # ln T̂ = ln[(1+t1)/(1+t0)]
        if wm1 is not None:
            ln_that = ln_that + np.log1p(wm1)  # the currency wedge, exactly 0 where w = 1
        q_new, tc, td, ln_p, cs, ps, resid = _exact(m_obs, m_eff, t0, ln_that, eta, sigma, eps)
        price_factor = np.exp(ln_p)
        flow_new = q_new * price_factor  # customs value = quantity x world price
        price_effect = flow_new - q_new
        price_pct = 100.0 * (price_factor - 1.0)
        clipped = False
    return {"trade_creation": tc, "trade_diversion": td, "price_effect": price_effect, "flow_new": flow_new,
            "price_pct": price_pct, "clipped": clipped, "cs": cs, "ps": ps, "resid": resid}


def revenue_by_importer(t: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Σ_i,s t M per importer, (B, n); M (n, n, S) is not broadcast to the batch (faster einsum).

    A baseline broadcast over the batch (stride 0, as ``Shocks`` holds it) is summed once.
    """
    if m.ndim == 3 and t.ndim == 4 and t.shape[0] > 1 and t.strides[0] == 0:
        return np.repeat(np.einsum("bijs,ijs->bj", t[:1], m), t.shape[0], axis=0)
    if m.ndim == 3:
        return np.einsum("bijs,ijs->bj", t, m)
    return np.einsum("...ijs,...ijs->...j", t, m)


def by_importer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_i,s a b per importer j: (B, n) from (B, n, n, S) (one pass, no temporary)."""
    return np.einsum("...ijs,...ijs->...j", a, b)


def by_exporter(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_j,s a b per exporter i: (B, n) from (B, n, n, S)."""
    return np.einsum("...ijs,...ijs->...i", a, b)


def _market_sum(x: np.ndarray) -> np.ndarray:
    """Σ over partners (exporter axis) keeping dims: shape (B, 1, n, S)."""
    return np.sum(x, axis=-3, keepdims=True)


def _linear(m_obs, m_eff, t0, d, eta, sigma, eps):
    """Linear SMART formulas.

    Returns new quantities, TC, TD, p̂ (None if every ε is infinite), the clipped mask and
    a zero residual. Branches that cannot bind (ceiling, clipping) are skipped after a
    cheap check, so the common case makes few passes over the (B, n, n, S) arrays.
    """
    inf = np.isinf(eps)
    e = np.where(inf, 0.0, eta / np.where(inf, 1.0, eps))  # η/ε
    # per-sector coefficients as (n, n, S) arrays (with M folded in where it is not batched)
    # so that products with (B, n, n, S) arrays run as one long inner loop
    cells = m_eff.shape[-3:]
    sigma_m = sigma * m_eff  # σ M_k
    sigma_full = np.ascontiguousarray(np.broadcast_to(sigma, cells))
    tc_coef = np.ascontiguousarray(np.broadcast_to(-eta / (1.0 + e), cells))  # -η/(1 + η/ε)
    t_hat = d / (1.0 + t0)  # t̂_k = Δt_k / (1 + t_k)
    m_t = m_eff * t_hat  # M_k t̂_k
    t_bar = safe_div(_market_sum(m_t), _market_sum(m_eff))  # t̄ = Σ M t̂ / Σ M
    raw = sigma_m * t_bar - sigma_full * m_t  # TD_k = σ M_k (t̄ - t̂_k)
    if np.any(raw < -m_eff):  # WITS ceiling: a partner loses at most its imports
        loss = np.maximum(-raw, 0.0)
        capped = np.minimum(loss, m_eff)
        scale = np.where(_market_sum(loss) > 0, safe_div(_market_sum(capped), _market_sum(loss)), 1.0)
        diversion = np.where(raw > 0, raw * scale, -capped)  # gains scaled so Σ TD = 0
    else:
        diversion = raw
    creation = tc_coef * m_t  # TC_k = -η M_k t̂_k / (1 + η/ε)
    q_new = m_eff + creation + diversion
    p_hat = None
    if not inf.all():
        # p̂_k = -η/(η+ε) t̂_k, only where there is a flow (no flow, no price in this market)
        p_coef = -(e / (1.0 + e)) * (m_eff > 0)  # -η/(η+ε), 0 where there is no flow
        p_hat = p_coef * t_hat
    clipped = np.broadcast_to(False, q_new.shape)
    if np.any(q_new < 0) or (p_hat is not None and np.any(p_hat < -1.0)):
        clipped = (q_new < 0) | (False if p_hat is None else p_hat < -1.0)
        q_new = np.maximum(q_new, 0.0)
        if p_hat is not None:
            p_hat = np.maximum(p_hat, -1.0)
        creation = q_new - m_obs - diversion  # creation implied by the clipped flow
    elif m_eff is not m_obs:
        creation = creation + (m_eff - m_obs)  # purchase commitments count as creation
    resid = np.zeros(d.shape[:-3])
    return q_new, creation, diversion, p_hat, clipped, resid


def _exact(m_obs, m_eff, t0, ln_that, eta, sigma, eps):
    """Exact nested CES with constant-elasticity supply (closed form, see module doc).

    ``ln_that`` is ln of the internal-price ratio before the supply response (tariff and
    currency wedge).
    """
    inf = np.isinf(eps)
    eps_f = np.where(inf, 0.0, eps)  # finite stand-in, only used where ε < inf
    w = np.where(inf, 1.0, eps_f / (eps_f + sigma))  # ε/(ε+σ)
    r = np.where(inf, 1.0, (eps_f + sigma) / (eps_f + eta))  # (ε+σ)/(ε+η)
    spend = (1.0 + t0) * m_eff  # T0 M: spending at internal prices
    e0 = _market_sum(spend)  # E0 = Σ T0 M
    theta = safe_div(spend, e0)  # θ_k = T0 M_k / Σ T0 M
    ln_P = r * log_ces_mean(theta, w * ln_that, 1.0 - sigma, normalized=True)  # ln P̂ = r/(1-σ) ln Σ θ T̂^{(1-σ)w}
    finite_supply = not inf.all()
    live = m_eff > 0
    if finite_supply:
        # ln p̂_k = [(σ-η) ln P̂ - σ ln T̂_k]/(ε+σ), only where there is a flow
        a = np.where(inf, 0.0, (sigma - eta) / (eps_f + sigma))
        c = np.where(inf, 0.0, sigma / (eps_f + sigma))
        ln_p = (a * ln_P - c * ln_that) * live
        ln_price = ln_that + ln_p  # ln(T̂ p̂)
    else:
        ln_p = np.zeros(ln_that.shape)
        ln_price = ln_that
    ln_q = (sigma - eta) * ln_P - sigma * ln_price  # q̂ = P̂^{σ-η} (T̂ p̂)^{-σ}
    q_new = m_eff * np.exp(ln_q)
    # residuals: supply q̂ = p̂^ε and the price index P̂ = CES(T̂ p̂) (identical when ε = inf)
    resid = np.zeros(t0.shape[:-3])
    if finite_supply:
        supply_gap = (ln_q - eps_f * ln_p) * (live & ~inf)
        index_gap = ln_P - log_ces_mean(theta, ln_price, 1.0 - sigma, normalized=True)
        resid = np.maximum(
            np.max(np.abs(supply_gap), axis=(-3, -2, -1)), np.max(np.abs(index_gap), axis=(-3, -2, -1))
        )
    # decomposition at baseline shares: TC_k = M_k (Q'/Q - 1) + D_k, TD_k = q'_k - M_k Q'/Q
    # (a market with Q = 0 has M = q' = 0 everywhere, so both are 0 there)
    ratio = exact_div(_market_sum(q_new), _market_sum(m_eff))  # Q'/Q (exactly 1 if nothing changed)
    creation = m_eff * ratio - m_eff
    diversion = q_new - m_eff - creation  # Σ_k TD_k = 0
    if m_eff is not m_obs:
        creation = creation + (m_eff - m_obs)  # the purchase commitment counts as creation
    # ΔCS = -E0 ∫_1^P̂ x^{-η} dx = -E0 (P̂^{1-η} - 1)/(1-η)
    cs = -np.sum(e0 * ln_P * exprel((1.0 - eta) * ln_P), axis=(-3, -1))
    # ΔPS_k = M_k ∫_1^p̂ x^ε dx = M_k (p̂^{1+ε} - 1)/(1+ε)
    if finite_supply:
        ps = np.sum((m_eff * ~inf) * ln_p * exprel((1.0 + eps_f) * ln_p), axis=(-2, -1))
    else:
        ps = np.zeros(cs.shape[:1] + m_eff.shape[-3:-2])  # (B, n_exporter)
    return q_new, creation, diversion, ln_p, cs, ps, resid
