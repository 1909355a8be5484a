"""WITS SMART: single-importer partial equilibrium, every importer x sector at once.

Belongs here: the pure numpy kernel :func:`smart` (arrays in, arrays out) and its two
methods. Does not belong here: labels, parameters objects, Result (``tariffsim.models.pe``).

Each (importer j, sector s) is one SMART market: the partners k != j sell varieties of
the sector's good (Armington), world prices are normalised to 1 so baseline import values
are quantities. The domestic diagonal ``M[j, j, s]`` is not an import and is ignored.

Methods
-------
``method="linear"``: the SMART formulas (Laird & Yeats 1986; Jammes & Olarreaga 2005;
MODELS.md §2), with t̂_k = (t1_k - t0_k)/(1 + t0_k):

- trade creation  TC_k = -η M_k t̂_k / (1 + η/ε_X)
- trade diversion TD_k = σ M_k (t̄ - t̂_k),  t̄ = Σ_l M_l t̂_l / Σ_l M_l.
  This equals the two-group form σ M_k M_R/(M_k + M_R)(t̂_R - t̂_k) with t̂_R the
  import-weighted change of the rest R, and sums to exactly 0 per market.
- ceiling: no partner can lose more than its imports to diversion (WITS' ceiling,
  "diversion reaches its ceiling with existing trade"). Losses are capped at M_l and the
  gains are scaled down by the same total, so Σ TD = 0 still holds and no partner gains
  more than the rest's imports.
- price effect p̂_k = -η/(η + ε_X) t̂_k on the exporter's world price (0 if ε_X = inf);
  the customs value is the new quantity times (1 + p̂_k).
- **clipping** (our decision): a large tariff increase can make the linear creation
  exceed the flow (η t̂ > 1, e.g. η = 3 and t 0 → 0.5). The new quantity is clipped at 0
  and the creation reported is what the clipped flow implies (so
  ``flow_new = M + TC + TD + price_effect`` still holds); likewise the price factor
  1 + p̂ is clipped at 0. ``clipped`` flags the flows; the model layer warns. The exact
  method never needs clipping.

``method="exact"``: constant-elasticity demand for the import composite (elasticity η)
and CES allocation across partners (σ), constant-elasticity export supply ε_X per
partner. With θ_k = T0_k M_k / Σ T0 M (internal-price shares), T̂ = (1+t1)/(1+t0):

- P̂^(1-σ) = Σ_k θ_k (T̂_k p̂_k)^(1-σ);  q̂_k = P̂^(σ-η) (T̂_k p̂_k)^(-σ);  q̂_k = p̂_k^ε_X
- because ε_X is common to all partners, the fixed point has a closed form:
  ln P̂ = (ε+σ)/(ε+η) · 1/(1-σ) · ln Σ θ_k T̂_k^((1-σ) ε/(ε+σ)),
  ln p̂_k = [(σ-η) ln P̂ - σ ln T̂_k]/(ε + σ).
  No Newton iteration is needed (ε = inf gives p̂ = 1); the equilibrium residuals are
  still evaluated and returned (``max_residual``).
- decomposition: creation is the change of the market's total import quantity spread at
  baseline shares, TC_k = M_k (Q'/Q - 1); diversion is the rest, TD_k = q'_k - M_k Q'/Q,
  so Σ TD = 0 exactly and a uniform tariff change gives TD = 0 (with a purchase
  commitment D, M is M + D here and D is added to TC).

When they differ
----------------
- Per flow even for small changes: WITS attributes creation to a partner's *own* tariff
  change (-η t̂_k); the CES demand system attributes it to the composite price
  (-η Σ θ t̂). Market totals agree to first order; flows differ by η M_k (t̄ - t̂_k).
- Large changes: the linear formulas are first-order; they overstate creation for large
  increases (and need clipping), the exact version bounds flows in (0, ∞).
- With η > σ the exact version makes sources gross complements (cross-price elasticity
  θ_l (σ - η) < 0); linear diversion is always substitution. The defaults
  (``tariffsim.parameters.pe_defaults``: σ = 1 + θ, η = σ(1 - m) + m) have η <= σ.

Elasticities: η may be (S,) or (n_importer, S) (it broadcasts over the importer axis of the
(B, exporter, importer, S) arrays); σ and ε_X are (S,).

Currency (``currency`` c, appreciation x pass-through per country): the importer's price of
flow i -> j is multiplied by w_ij = (1 + c_i)/(1 + c_j). It enters exactly where a tariff
change does, t̂_k = [(1+t1) w - (1+t0)]/(1+t0) in the linear formulas and T̂ w in the exact
ones, but raises no revenue (revenue is t1 x customs value) and leaves customs values at
world prices; CS uses the full domestic price. w = 1 (no appreciation, or equal ones)
changes nothing, exactly.

Work: each (importer, sector) market is independent, so only importer columns whose
tariffs, purchase commitments or currency wedges change somewhere in the batch are
computed (others are unchanged exactly), in blocks of scenarios that fit in cache
(:func:`smart_markets`; :func:`smart` expands to full arrays).

Welfare
-------
``welfare_wits`` = ½ Σ_k (t0_k - t1_k)(M'_k - M_k): the WITS "welfare" (its triangle), as
WITS reports it. Note it is >= 0 whenever imports move against the tariff change, also for
tariff *increases*: it is not a net welfare measure. The model's net welfare is
consumer surplus + producer surplus + revenue change:

- linear: trapezoid per flow, ΔCS = -Σ_k [T1_k (1 + p̂_k) - T0_k] (q_k + q'_k)/2,
  ΔPS_k = p̂_k (q_k + q'_k)/2.
- exact: ΔCS = -E0 (P̂^(1-η) - 1)/(1-η) (E0 = Σ T0 M), ΔPS_k = M_k (p̂^(1+ε) - 1)/(1+ε).

Purchase commitments (``demand_shift`` D, USD mn): the importer's demand for the flow
shifts out by D at baseline prices: the model runs on M + D and reports changes against
the observed M, so D is counted in trade creation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["smart", "smart_markets", "SmartEffects", "SmartMarkets", "SMART_METHODS", "log_ces_mean",
           "active_importers", "changed_cells", "currency_wedge"]

SMART_METHODS = ("linear", "exact")
#: Flow cells (scenario x exporter x importer x sector) per block of work in GSIM's exact
#: Newton solver and its per-flow linear path: ~2 MB per float array.
CHUNK_CELLS = 2**18
#: Flow cells per block in :func:`smart_markets` and GSIM's closed-form linear totals: ~256 kB
#: per float array. Temporaries this small are reused from the heap; 2 MB ones are returned to
#: the system and page-faulted back in on every allocation (≈ 6,400 faults per 1,000-scenario
#: SMART chunk, half its time).
SMALL_CHUNK_CELLS = 2**15


@dataclass(frozen=True)
class SmartEffects:
    """Outputs of :func:`smart`. Flows are (B, n_exporter, n_importer, S), USD mn.

    Attributes
    ----------
    trade_creation, trade_diversion, price_effect : ndarray (B, n, n, S)
        Components of the change in customs value: ``flow_new = M + TC + TD + price_effect``.
    flow_new : ndarray (B, n, n, S)
        Imports after the shock, customs (world-price) value, >= 0; 0 on the diagonal.
    price_pct : ndarray (B, n, n, S)
        Change of the exporter's world price for the flow, percent.
    clipped : ndarray of bool (B, n, n, S)
        Linear method: flows (or prices) that the formulas would have made negative.
    revenue_base, revenue_new : ndarray (B, n)
        Σ t0 M and Σ t1 M' by importer, USD mn.
    welfare_wits : ndarray (B, n)
        ½ Σ (t0 - t1)(M' - M) by importer, USD mn (WITS definition).
    consumer_surplus : ndarray (B, n)
        Change in the importer's consumer surplus, USD mn.
    producer_surplus : ndarray (B, n)
        Change in producer surplus of each country as an exporter, summed over markets.
    max_residual : ndarray (B,)
        Exact method: largest equilibrium residual (log units); 0 for linear.
    """

    trade_creation: np.ndarray
    trade_diversion: np.ndarray
    price_effect: np.ndarray
    flow_new: np.ndarray
    price_pct: np.ndarray
    clipped: np.ndarray
    revenue_base: np.ndarray
    revenue_new: np.ndarray
    welfare_wits: np.ndarray
    consumer_surplus: np.ndarray
    producer_surplus: np.ndarray
    max_residual: np.ndarray


def smart(
    imports,
    tariff_base,
    tariff_new,
    import_demand,
    substitution,
    export_supply,
    *,
    method: str = "linear",
    demand_shift=None,
    currency=None,
) -> SmartEffects:
    """WITS SMART for every importer and sector of a batch of scenarios.

    Parameters
    ----------
    imports : ndarray of shape (n, n, S) or (B, n, n, S)
        Baseline flows M[i, j, s] exporter -> importer, USD mn; the diagonal is ignored.
    tariff_base, tariff_new : ndarray of shape (B, n, n, S)
        Ad valorem rates t0, t1 (decimal, > -1).
    import_demand : ndarray of shape (S,) or (n_importer, S)
        η > 0.
    substitution : ndarray of shape (S,)
        σ > 0.
    export_supply : ndarray of shape (S,)
        ε_X > 0, may be ``inf``.
    method : {"linear", "exact"}
        See the module docstring.
    demand_shift : ndarray of shape (B, n, n, S), optional
        Purchase commitments D (USD mn), added to the demand for the flow.
    currency : ndarray of shape (B, n), optional
        Appreciation x pass-through c_i per country: a price wedge (1 + c_i)/(1 + c_j) on
        the importer's price of flow i -> j, like a tariff without revenue (module docstring).

    Returns
    -------
    SmartEffects
        Full (B, n, n, S) arrays. Markets whose importer sees no change anywhere in the
        batch are not computed: their flows are the baseline exactly.
    """
    return smart_markets(imports, tariff_base, tariff_new, import_demand, substitution, export_supply,
                         method=method, demand_shift=demand_shift, currency=currency).expand()


@dataclass(frozen=True)
class SmartMarkets:
    """:func:`smart_markets` output: flow arrays on the computed importer columns only.

    Attributes
    ----------
    importers : ndarray of int (k,)
        The importer columns computed (those whose tariffs, purchase commitments or currency
        wedges change somewhere in the batch); every other market is unchanged exactly.
    base : ndarray (n, n, S) or (B, n, n, S)
        Observed baseline imports (diagonal zeroed), for :meth:`expand`.
    trade_creation, trade_diversion, price_effect, flow_new, price_pct, clipped : ndarray (B, n, k, S)
    revenue_base, revenue_new, welfare_wits, consumer_surplus, producer_surplus : ndarray (B, n)
        As in :class:`SmartEffects` (all importers).
    exports_change, imports_change, creation_by_importer, diversion_by_importer : ndarray (B, n)
        Σ of the flow changes by exporter / importer, USD mn (0 exactly where nothing moved).
    max_residual : ndarray (B,)
    """

    importers: np.ndarray
    base: np.ndarray
    trade_creation: np.ndarray
    trade_diversion: np.ndarray
    price_effect: np.ndarray
    flow_new: np.ndarray
    price_pct: np.ndarray
    clipped: np.ndarray
    revenue_base: np.ndarray
    revenue_new: np.ndarray
    welfare_wits: np.ndarray
    consumer_surplus: np.ndarray
    producer_surplus: np.ndarray
    exports_change: np.ndarray
    imports_change: np.ndarray
    creation_by_importer: np.ndarray
    diversion_by_importer: np.ndarray
    max_residual: np.ndarray

    def expand(self) -> SmartEffects:
        """Full (B, n, n, S) arrays (baseline / zero outside the computed columns)."""
        shape = self.revenue_base.shape[:1] + tuple(self.base.shape[-3:])
        cols = self.importers

        def full(part, fill, dtype=float):
            if part.shape == shape:
                return part
            out = np.empty(shape, dtype=dtype)
            out[...] = fill
            out[:, :, cols, :] = part
            return out

        return SmartEffects(
            trade_creation=full(self.trade_creation, 0.0),
            trade_diversion=full(self.trade_diversion, 0.0),
            price_effect=full(self.price_effect, 0.0),
            flow_new=full(self.flow_new, self.base),
            price_pct=full(self.price_pct, 0.0),
            clipped=full(np.asarray(self.clipped), False, bool),
            revenue_base=self.revenue_base,
            revenue_new=self.revenue_new,
            welfare_wits=self.welfare_wits,
            consumer_surplus=self.consumer_surplus,
            producer_surplus=self.producer_surplus,
            max_residual=self.max_residual,
        )


def changed_cells(t0, t1) -> np.ndarray:
    """(n_importer, S) table: does t1 differ from t0 for any scenario and exporter? One pass.

    Mathematical form: np.any(t1 != t0, axis=(0, 1)). Reducing the (B n, n S) view along its
    first axis is a row-wise OR (about 3x faster than reducing axes (0, 1) of the 4-d array).
    """
    n_j, s = t1.shape[-2:]
    return (t1 != t0).reshape(-1, n_j * s).any(axis=0).reshape(n_j, s)


def active_importers(t0, t1, demand_shift=None, wedge=None, changed=None) -> np.ndarray:
    """Importer columns j where anything changes for any scenario, exporter or sector.

    ``wedge`` is the (B, n, n) currency wedge minus one; t0, t1, demand_shift (B, n, n, S);
    ``changed`` a precomputed :func:`changed_cells` table.
    """
    active = (changed_cells(t0, t1) if changed is None else changed).any(axis=1)
    if demand_shift is not None:
        active |= changed_cells(np.zeros((1,) + demand_shift.shape[1:]), demand_shift).any(axis=1)
    if wedge is not None:
        active |= np.any(wedge != 0, axis=(0, 1))
    return np.flatnonzero(active)


def currency_wedge(currency, n: int):
    """(1 + c_i)/(1 + c_j) - 1 = (c_i - c_j)/(1 + c_j), shape (B, n_exporter, n_importer); None if no currency."""
    if currency is None:
        return None
    c = np.asarray(currency, dtype=float)
    if not np.any(c):
        return None
    return (c[:, :, None] - c[:, None, :]) / (1.0 + c[:, None, :])


def smart_markets(
    imports,
    tariff_base,
    tariff_new,
    import_demand,
    substitution,
    export_supply,
    *,
    method: str = "linear",
    demand_shift=None,
    currency=None,
    chunk: int | None = None,
    changed=None,
    flows: bool = True,
) -> SmartMarkets:
    """:func:`smart` on the importer columns that change only, with per-country totals.

    Same parameters as :func:`smart`; ``chunk`` scenarios are computed at a time (default:
    about :data:`SMALL_CHUNK_CELLS` flow cells per block, so temporaries stay in cache; results do
    not depend on it); ``changed`` is an optional
    precomputed :func:`changed_cells` table. For sweeps that keep per-country columns only,
    this never builds a (B, n, n, S) flow array; ``flows=False`` keeps no per-flow arrays at all
    (TC, TD, price effect, new flows and prices are None, :meth:`SmartMarkets.expand` is not
    available; ``clipped`` is still returned) and takes the per-country totals block by block
    (the same sums, per block).
    """
    if method not in SMART_METHODS:
        raise ValueError(f"unknown SMART method {method!r}; valid methods are {list(SMART_METHODS)}.")
    t0 = np.asarray(tariff_base, dtype=float)
    t1 = np.asarray(tariff_new, dtype=float)
    b, n = t0.shape[0], t0.shape[-2]
    offdiag = (1.0 - np.eye(n))[:, :, None]  # imports only: M[j, j, s] is domestic
    m_obs = np.asarray(imports, dtype=float) * offdiag  # (n, n, S) or (B, n, n, S): broadcasts
    shift = None if demand_shift is None else np.asarray(demand_shift, dtype=float)
    wedge = currency_wedge(currency, n)
    eta = np.asarray(import_demand, dtype=float)
    sigma = np.asarray(substitution, dtype=float)
    eps = np.asarray(export_supply, dtype=float)
    revenue_base = _revenue(t0, m_obs)  # R0_j = Σ_k,s t0 M
    cols = active_importers(t0, t1, shift, wedge, changed)
    k = cols.size
    everything = k == n
    pick = slice(None) if everything else cols
    m_c = m_obs[..., pick, :]
    eta_c = eta[pick] if eta.ndim == 2 else eta
    batched_m = m_c.ndim == 4
    names = ("trade_creation", "trade_diversion", "price_effect", "flow_new", "price_pct")
    out = {name: np.empty((b, n, k) + t0.shape[-1:]) if flows else None for name in names}
    exports_change, imports_change = np.zeros((b, n)), np.zeros((b, n))
    creation, diversion = np.zeros((b, n)), np.zeros((b, n))
    clipped = np.zeros((b, n, k) + t0.shape[-1:], dtype=bool)
    cs = np.zeros((b, n))
    ps = np.zeros((b, n))
    welfare_wits = np.zeros((b, n))
    revenue_new = revenue_base.copy()  # unchanged markets: Σ t1 M = Σ t0 M exactly
    resid = np.zeros(b)
    if k:
        chunk = chunk or max(1, SMALL_CHUNK_CELLS // (n * k * t0.shape[-1]))
        for lo in range(0, b, chunk):
            sl = slice(lo, min(lo + chunk, b))
            # a baseline broadcast over the batch stays one (1, n, k, S) block (it broadcasts)
            t0c = (t0[:1] if b > 1 and t0.strides[0] == 0 else t0[sl])[:, :, pick, :]
            t1c = t1[sl][:, :, pick, :]
            mo = m_c[sl] if batched_m else m_c
            me = mo if shift is None else mo + shift[sl][:, :, pick, :] * offdiag[:, pick, :]
            wm1 = None if wedge is None else wedge[sl][:, :, pick, None]
            part = _one_chunk(method, mo, me, t0c, t1c, wm1, eta_c, sigma, eps)
            if flows:
                for name in out:
                    out[name][sl] = part[name]
            else:  # per-country totals of this block (the same sums as below, per block)
                dflow = part["flow_new"] - mo
                exports_change[sl] = dflow.sum(axis=(-2, -1))
                imports_change[sl, pick] = dflow.sum(axis=(-3, -1))
                creation[sl, pick] = part["trade_creation"].sum(axis=(-3, -1))
                diversion[sl, pick] = part["trade_diversion"].sum(axis=(-3, -1))
            clipped[sl] = part["clipped"]
            cs[sl, pick] = part["cs"]
            ps[sl] += part["ps"]
            resid[sl] = part["resid"]
            revenue_new[sl, pick] = _by_importer(t1c, part["flow_new"])  # R1_j = Σ_k,s t1 M'
            welfare_wits[sl, pick] = -0.5 * _by_importer(t1c - t0c, part["flow_new"] - mo)  # ½ Σ (t - t')ΔM
    if flows:
        dflow = out["flow_new"] - m_c
        exports_change = dflow.sum(axis=(-2, -1))
        imports_change[:, pick] = dflow.sum(axis=(-3, -1))
        creation[:, pick] = out["trade_creation"].sum(axis=(-3, -1))
        diversion[:, pick] = out["trade_diversion"].sum(axis=(-3, -1))
    return SmartMarkets(
        importers=np.arange(n) if everything else cols, base=m_obs, clipped=clipped,
        revenue_base=revenue_base, revenue_new=revenue_new, welfare_wits=welfare_wits,
        consumer_surplus=cs, producer_surplus=ps, exports_change=exports_change,
        imports_change=imports_change, creation_by_importer=creation, diversion_by_importer=diversion,
        max_residual=resid, **out,
    )


def _one_chunk(method, m_obs, m_eff, t0, t1, wm1, eta, sigma, eps) -> dict:
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
        cs = -0.5 * _by_importer(dprice, mid)
        if p_hat is None:
            ps = np.zeros(cs.shape[:1] + m_obs.shape[-3:-2])
            flow_new, price_effect, price_pct = q_new, np.zeros(q_new.shape), np.zeros(q_new.shape)
        else:
            ps = 0.5 * _by_exporter(p_hat, mid)
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


def _revenue(t: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Σ_i,s t M per importer, (B, n); M (n, n, S) is not broadcast to the batch (faster einsum).

    A baseline broadcast over the batch (stride 0, as ``Shocks`` holds it) is summed once.
    """
    if m.ndim == 3 and t.ndim == 4 and t.shape[0] > 1 and t.strides[0] == 0:
        return np.repeat(np.einsum("bijs,ijs->bj", t[:1], m), t.shape[0], axis=0)
    if m.ndim == 3:
        return np.einsum("bijs,ijs->bj", t, m)
    return np.einsum("...ijs,...ijs->...j", t, m)


def _by_importer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_i,s a b per importer j: (B, n) from (B, n, n, S) (one pass, no temporary)."""
    return np.einsum("...ijs,...ijs->...j", a, b)


def _by_exporter(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_j,s a b per exporter i: (B, n) from (B, n, n, S)."""
    return np.einsum("...ijs,...ijs->...i", a, b)


def _market_sum(x: np.ndarray) -> np.ndarray:
    """Σ over partners (exporter axis) keeping dims: shape (B, 1, n, S)."""
    return np.sum(x, axis=-3, keepdims=True)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den != 0, else 0 (num finite; explicit mask, no silenced warnings).

    The mask works on ``den`` (usually a reduced market total), then one multiplication.
    """
    ok = den != 0
    return num * np.where(ok, 1.0 / np.where(ok, den, 1.0), 0.0)


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
    t_bar = _safe_div(_market_sum(m_t), _market_sum(m_eff))  # t̄ = Σ M t̂ / Σ M
    raw = sigma_m * t_bar - sigma_full * m_t  # TD_k = σ M_k (t̄ - t̂_k)
    if np.any(raw < -m_eff):  # WITS ceiling: a partner loses at most its imports
        loss = np.maximum(-raw, 0.0)
        capped = np.minimum(loss, m_eff)
        scale = np.where(_market_sum(loss) > 0, _safe_div(_market_sum(capped), _market_sum(loss)), 1.0)
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


def log_ces_mean(weights, x, rho, axis: int = -3, normalized: bool = False) -> np.ndarray:
    """ln(Σ w e^(ρ x) / Σ w) / ρ along ``axis`` (keepdims), the ρ → 0 limit Σ w x / Σ w; 0 if Σ w = 0.

    This is ln of the CES price index: ln P̂ = 1/(1-σ) ln Σ θ P̂_k^(1-σ) with ρ = 1 - σ and
    x = ln P̂_k. Evaluated around the weighted mean c = Σ w x so that nothing cancels
    for σ near 1: ln P̂ = c + log1p(Σ w expm1(ρ (x - c))) / ρ (the log1p term is >= 0);
    a shifted log-sum-exp takes over only if an exponent could overflow.

    Parameters
    ----------
    weights : ndarray, >= 0
        Entries with weight 0 are ignored (x must be finite there).
    x : ndarray, finite, broadcastable with weights
    rho : ndarray broadcastable over the last axis (one value per sector)
    axis : int
        The partner axis (-3 in (B, exporter, importer, S), -2 in GSIM's (B, S, r, v)).
    normalized : bool
        The weights already sum to 1 (or 0 for an empty market): skip normalising.
    """
    w = weights if normalized else _safe_div(weights, np.sum(weights, axis=axis, keepdims=True))
    c = np.sum(w * x, axis=axis, keepdims=True)  # Σ w x, also the ρ → 0 limit
    small = np.abs(rho) < 1e-12
    rho_safe = np.where(small, 1.0, rho)
    z = rho_safe * (x - c)
    zmax = np.max(z, axis=axis, keepdims=True)
    if np.all(zmax < 700.0):  # centred form: ln Σ w e^{z} = log1p(Σ w expm1(z))
        log_sum = np.log1p(np.sum(w * np.expm1(z), axis=axis, keepdims=True))
    else:  # shifted log-sum-exp over the live entries
        live = w > 0
        zmax = np.max(np.where(live, z, -np.inf), axis=axis, keepdims=True)
        zmax = np.where(np.isfinite(zmax), zmax, 0.0)
        shifted = np.sum(w * np.exp(np.where(live, z - zmax, 0.0)), axis=axis, keepdims=True)
        log_sum = zmax + np.log(np.where(shifted > 0, shifted, 1.0))
    return c + np.where(small, 0.0, log_sum / rho_safe)


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
    theta = _safe_div(spend, e0)  # θ_k = T0 M_k / Σ T0 M
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
    ratio = _exact_div(_market_sum(q_new), _market_sum(m_eff))  # Q'/Q (exactly 1 if nothing changed)
    creation = m_eff * ratio - m_eff
    diversion = q_new - m_eff - creation  # Σ_k TD_k = 0
    if m_eff is not m_obs:
        creation = creation + (m_eff - m_obs)  # the purchase commitment counts as creation
    # ΔCS = -E0 ∫_1^P̂ x^{-η} dx = -E0 (P̂^{1-η} - 1)/(1-η)
    cs = -np.sum(e0 * ln_P * _exprel((1.0 - eta) * ln_P), axis=(-3, -1))
    # ΔPS_k = M_k ∫_1^p̂ x^ε dx = M_k (p̂^{1+ε} - 1)/(1+ε)
    if finite_supply:
        ps = np.sum((m_eff * ~inf) * ln_p * _exprel((1.0 + eps_f) * ln_p), axis=(-2, -1))
    else:
        ps = np.zeros(cs.shape[:1] + m_eff.shape[-3:-2])  # (B, n_exporter)
    return q_new, creation, diversion, ln_p, cs, ps, resid


def _exact_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den (correctly rounded) where den != 0, else 0; for small reduced arrays."""
    ok = den != 0
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def _exprel(z: np.ndarray) -> np.ndarray:
    """(e^z - 1)/z with the limit 1 at z = 0."""
    zero = z == 0
    return np.where(zero, 1.0, np.expm1(z) / np.where(zero, 1.0, z))
