"""Outputs of the GSIM kernel: :class:`GsimEffects` (full arrays) and :class:`GsimMarkets` (computed sectors).

Belongs here: the two result dataclasses of :mod:`tariffsim.kernels.gsim` and the expansion
from the computed sectors to full arrays. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GsimEffects", "GsimMarkets"]


@dataclass(frozen=True)
class GsimEffects:
    """Outputs of :func:`gsim`. Flows are (B, n_exporter, n_importer, S), USD mn.

    Attributes
    ----------
    trade_creation, trade_diversion, price_effect, flow_new : ndarray (B, n, n, S)
        ``flow_new = M + TC + TD + price_effect`` (customs value, >= 0). TC and TD split the
        quantity change per market as SMART exact does (TC at baseline shares, Σ TD = 0).
    world_price_pct : ndarray (B, n, S)
        Change of each exporter's world price P̂*, percent.
    revenue_base, revenue_new, consumer_surplus : ndarray (B, n)
        By importer, USD mn.
    producer_surplus : ndarray (B, n)
        By exporter, USD mn.
    excess_demand : ndarray (B, n, S)
        Σ_v M'_rv - X_r p̂_r^(1+ε): market-clearing gap in value, USD mn (0 at a solution).
    success : ndarray of bool (B,)
    iterations : ndarray of int (B,)
    max_residual : ndarray (B,)
        max |F| (log units) at the returned prices.
    message : str
    """

    trade_creation: np.ndarray
    trade_diversion: np.ndarray
    price_effect: np.ndarray
    flow_new: np.ndarray
    world_price_pct: np.ndarray
    revenue_base: np.ndarray
    revenue_new: np.ndarray
    consumer_surplus: np.ndarray
    producer_surplus: np.ndarray
    excess_demand: np.ndarray
    success: np.ndarray
    iterations: np.ndarray
    max_residual: np.ndarray
    message: str


@dataclass(frozen=True)
class GsimMarkets:
    """:func:`gsim_markets` output: flow arrays on the computed sectors only.

    Attributes
    ----------
    sectors : ndarray of int (k,)
        Sectors computed (something changes in them somewhere in the batch); all other
        sectors are unchanged exactly (y = 0 solves their equations).
    base : ndarray (n, n, S) or (B, n, n, S)
        Observed baseline imports (diagonal zeroed).
    trade_creation, trade_diversion, price_effect, flow_new : ndarray (B, n, n, k) or None
        None with ``method="linear", flows=False`` (then :meth:`expand` is not available).
    world_price_pct, excess_demand : ndarray (B, n, k) or None
        None with ``method="linear", flows=False`` (per exporter and sector; not needed for totals).
    revenue_base, revenue_new, consumer_surplus, producer_surplus : ndarray (B, n)
    exports_change, imports_change, creation_by_importer, diversion_by_importer : ndarray (B, n)
    success, iterations, max_residual, message : as in :class:`GsimEffects`
    goods_revenue_base, goods_revenue_new, goods_imports_change : ndarray (B, n)
        Σ t0 M, Σ t1 M' and Σ (M' - M) by importer over the ``goods`` sectors only, USD mn
        (:class:`~tariffsim.kernels.pe_goods.GoodsTotals`; all sectors if ``goods`` is None).
    """

    sectors: np.ndarray
    base: np.ndarray
    trade_creation: np.ndarray
    trade_diversion: np.ndarray
    price_effect: np.ndarray
    flow_new: np.ndarray
    world_price_pct: np.ndarray
    excess_demand: np.ndarray
    revenue_base: np.ndarray
    revenue_new: np.ndarray
    consumer_surplus: np.ndarray
    producer_surplus: np.ndarray
    exports_change: np.ndarray
    imports_change: np.ndarray
    creation_by_importer: np.ndarray
    diversion_by_importer: np.ndarray
    success: np.ndarray
    iterations: np.ndarray
    max_residual: np.ndarray
    message: str
    goods_revenue_base: np.ndarray
    goods_revenue_new: np.ndarray
    goods_imports_change: np.ndarray

    def expand(self) -> GsimEffects:
        """Full arrays: (B, n, n, S) flows, (B, n, S) prices (baseline / zero outside the computed sectors)."""
        b = self.revenue_base.shape[0]
        n, s_count = self.base.shape[-2], self.base.shape[-1]
        k = self.sectors

        def full(part, fill, shape):
            if part.shape == shape:
                return part
            out = np.empty(shape)
            out[...] = fill
            out[..., k] = part
            return out

        flows = (b, n, n, s_count)
        return GsimEffects(
            trade_creation=full(self.trade_creation, 0.0, flows),
            trade_diversion=full(self.trade_diversion, 0.0, flows),
            price_effect=full(self.price_effect, 0.0, flows),
            flow_new=full(self.flow_new, self.base, flows),
            world_price_pct=full(self.world_price_pct, 0.0, (b, n, s_count)),
            revenue_base=self.revenue_base,
            revenue_new=self.revenue_new,
            consumer_surplus=self.consumer_surplus,
            producer_surplus=self.producer_surplus,
            excess_demand=full(self.excess_demand, 0.0, (b, n, s_count)),
            success=self.success,
            iterations=self.iterations,
            max_residual=self.max_residual,
            message=self.message,
        )
