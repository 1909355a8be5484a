"""WITS SMART: single-importer partial equilibrium, every importer x sector at once.

Belongs here: the pure numpy kernel :func:`smart` (arrays in, arrays out) and its two
methods. Does not belong here: labels, parameters objects, Result (``tariffsim.models.pe``).

Each (importer j, sector s) is one SMART market: the partners k != j sell varieties of
the sector's good (Armington), world prices are normalised to 1 so baseline import values
are quantities. The domestic diagonal ``M[j, j, s]`` is not an import and is ignored.

Methods
-------
``method="linear"``: the SMART formulas (Laird & Yeats 1986; Jammes & Olarreaga 2005;
docs/models.rst, WITS SMART), with t̂_k = (t1_k - t0_k)/(1 + t0_k):

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

The two methods compared, and the welfare areas: :mod:`tariffsim.kernels.smart_formulas`.

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

Purchase commitments (``demand_shift`` D, USD mn): the importer's demand for the flow
shifts out by D at baseline prices: the model runs on M + D and reports changes against
the observed M, so D is counted in trade creation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._util import changed_cells, currency_wedge, log_ces_mean, offdiag_mask
from .pe_goods import GoodsTotals
from .smart_formulas import by_importer, one_chunk, revenue_by_importer

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
    goods_revenue_base, goods_revenue_new, goods_imports_change : ndarray (B, n)
        Σ t0 M, Σ t1 M' and Σ (M' - M) by importer over the ``goods`` sectors only, USD mn
        (:class:`~tariffsim.kernels.pe_goods.GoodsTotals`; all sectors if ``goods`` is None).
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
    goods_revenue_base: np.ndarray
    goods_revenue_new: np.ndarray
    goods_imports_change: np.ndarray

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
    goods=None,
) -> SmartMarkets:
    """:func:`smart` on the importer columns that change only, with per-country totals.

    Same parameters as :func:`smart`; ``chunk`` scenarios are computed at a time (default:
    about :data:`SMALL_CHUNK_CELLS` flow cells per block, so temporaries stay in cache; results do
    not depend on it); ``changed`` is an optional
    precomputed :func:`changed_cells` table. For sweeps that keep per-country columns only,
    this never builds a (B, n, n, S) flow array; ``flows=False`` keeps no per-flow arrays at all
    (TC, TD, price effect, new flows and prices are None, :meth:`SmartMarkets.expand` is not
    available; ``clipped`` is still returned) and takes the per-country totals block by block
    (the same sums, per block). ``goods`` (S,) bool marks the sectors whose duties and imports
    enter the ``goods_*`` totals (default: all sectors; see :class:`GoodsTotals`).
    """
    if method not in SMART_METHODS:
        raise ValueError(f"unknown SMART method {method!r}; valid methods are {list(SMART_METHODS)}.")
    t0 = np.asarray(tariff_base, dtype=float)
    t1 = np.asarray(tariff_new, dtype=float)
    b, n, s_count = t0.shape[0], t0.shape[-2], t0.shape[-1]
    mask = offdiag_mask(n)  # imports only: M[j, j, s] is domestic
    m_obs = np.asarray(imports, dtype=float) * mask  # (n, n, S) or (B, n, n, S): broadcasts
    shift = None if demand_shift is None else np.asarray(demand_shift, dtype=float)
    wedge = currency_wedge(currency, n)
    eta = np.asarray(import_demand, dtype=float)
    sigma = np.asarray(substitution, dtype=float)
    eps = np.asarray(export_supply, dtype=float)
    changed = changed_cells(t0, t1) if changed is None else changed
    cols = active_importers(t0, t1, shift, wedge, changed)
    acc = _Totals(b, n, s_count, cols, flows, revenue_by_importer(t0, m_obs))  # R0_j = Σ_k,s t0 M
    touched = None if goods is None else _touched_sectors(changed, shift, wedge, cols)
    acc.goods = GoodsTotals.start(goods, t0, m_obs, acc.revenue_base, touched)
    if cols.size:
        pick = acc.pick
        m_c = m_obs[..., pick, :]
        eta_c = eta[pick] if eta.ndim == 2 else eta
        chunk = chunk or max(1, SMALL_CHUNK_CELLS // (n * cols.size * s_count))
        for lo in range(0, b, chunk):
            sl = slice(lo, min(lo + chunk, b))
            # a baseline broadcast over the batch stays one (1, n, k, S) block (it broadcasts)
            t0c = (t0[:1] if b > 1 and t0.strides[0] == 0 else t0[sl])[:, :, pick, :]
            t1c = t1[sl][:, :, pick, :]
            mo = m_c[sl] if m_c.ndim == 4 else m_c
            me = mo if shift is None else mo + shift[sl][:, :, pick, :] * mask[:, pick, :]
            wm1 = None if wedge is None else wedge[sl][:, :, pick, None]
            acc.add(sl, one_chunk(method, mo, me, t0c, t1c, wm1, eta_c, sigma, eps), mo, t0c, t1c)
    return acc.finish(m_obs)


def _touched_sectors(changed, shift, wedge, cols) -> np.ndarray:
    """(S,) bool: sectors in which some flow can move (tariff, commitment or currency change)."""
    if wedge is not None:  # the wedge moves every market of the computed columns
        out = np.zeros(changed.shape[-1], dtype=bool)
        out[:] = cols.size > 0
        return out
    out = changed.any(axis=0)
    if shift is not None:
        out = out | changed_cells(np.zeros((1,) + shift.shape[1:]), shift).any(axis=0)
    return out


class _Totals:
    """Accumulates one block's flows and per-country totals of :func:`smart_markets`."""

    def __init__(self, b, n, s_count, cols, flows, revenue_base):
        k = cols.size
        self.cols, self.everything, self.flows = cols, k == n, flows
        self.pick = slice(None) if self.everything else cols
        shape = (b, n, k, s_count)
        names = ("trade_creation", "trade_diversion", "price_effect", "flow_new", "price_pct")
        self.out = {name: np.empty(shape) if flows else None for name in names}
        self.exports_change, self.imports_change = np.zeros((b, n)), np.zeros((b, n))
        self.creation, self.diversion = np.zeros((b, n)), np.zeros((b, n))
        self.clipped = np.zeros(shape, dtype=bool)
        self.cs, self.ps, self.welfare_wits = np.zeros((b, n)), np.zeros((b, n)), np.zeros((b, n))
        self.revenue_base = revenue_base
        self.revenue_new = revenue_base.copy()  # unchanged markets: Σ t1 M = Σ t0 M exactly
        self.resid = np.zeros(b)
        self.goods = None

    def add(self, sl, part, mo, t0c, t1c) -> None:
        """Store one block ``sl`` of scenarios (``part`` from :func:`one_chunk`)."""
        pick = self.pick
        if self.flows:
            for name in self.out:
                self.out[name][sl] = part[name]
        else:  # per-country totals of this block (the same sums as in finish, per block)
            dflow = part["flow_new"] - mo
            self.exports_change[sl] = dflow.sum(axis=(-2, -1))
            self.imports_change[sl, pick] = dflow.sum(axis=(-3, -1))
            self.creation[sl, pick] = part["trade_creation"].sum(axis=(-3, -1))
            self.diversion[sl, pick] = part["trade_diversion"].sum(axis=(-3, -1))
        self.clipped[sl] = part["clipped"]
        self.cs[sl, pick] = part["cs"]
        self.ps[sl] += part["ps"]
        self.resid[sl] = part["resid"]
        self.revenue_new[sl, pick] = by_importer(t1c, part["flow_new"])  # R1_j = Σ_k,s t1 M'
        self.welfare_wits[sl, pick] = -0.5 * by_importer(t1c - t0c, part["flow_new"] - mo)  # ½ Σ (t - t')ΔM
        if self.goods.explicit:
            self.goods.add_columns(sl, pick, part["flow_new"] - mo, t1c, part["flow_new"])

    def finish(self, m_obs) -> SmartMarkets:
        pick, out = self.pick, self.out
        if self.flows and self.cols.size:
            dflow = out["flow_new"] - m_obs[..., pick, :]
            self.exports_change = dflow.sum(axis=(-2, -1))
            self.imports_change[:, pick] = dflow.sum(axis=(-3, -1))
            self.creation[:, pick] = out["trade_creation"].sum(axis=(-3, -1))
            self.diversion[:, pick] = out["trade_diversion"].sum(axis=(-3, -1))
        goods = self.goods.finish(self.revenue_new, self.imports_change)
        return SmartMarkets(
            importers=np.arange(m_obs.shape[-2]) if self.everything else self.cols, base=m_obs,
            clipped=self.clipped, revenue_base=self.revenue_base, revenue_new=self.revenue_new,
            welfare_wits=self.welfare_wits, consumer_surplus=self.cs, producer_surplus=self.ps,
            exports_change=self.exports_change, imports_change=self.imports_change,
            creation_by_importer=self.creation, diversion_by_importer=self.diversion, max_residual=self.resid,
            goods_revenue_base=goods.revenue_base, goods_revenue_new=goods.revenue_new,
            goods_imports_change=goods.imports_change, **out,
        )
