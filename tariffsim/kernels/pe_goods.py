"""Per-importer totals over goods sectors for the PE kernels (the ``etr`` columns).

Belongs here: :class:`GoodsTotals`, the duties and imports of each importer restricted to
the world's goods sectors (``TradeWorld.goods``, the one definition every model uses for
the trade-weighted tariff ``etr``; services pay no duty), accumulated alongside the
all-sector totals of :func:`~tariffsim.kernels.smart.smart_markets` and
:func:`~tariffsim.kernels.gsim.gsim_markets`.

If no services flow can move (no tariff change, purchase commitment or currency wedge
touches a services sector) the services part of every total is its baseline exactly, so
the goods totals are the all-sector ones minus that constant: no extra pass over the
flows. Otherwise the goods sums are taken explicitly, block by block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .smart_formulas import by_importer, revenue_by_importer

__all__ = ["GoodsTotals"]


@dataclass
class GoodsTotals:
    """Goods-sector duties and imports by importer, (B, n) arrays, USD mn.

    Attributes
    ----------
    weights : ndarray (S,) of float or None
        1 for goods sectors, 0 for services; None when every sector is a goods sector
        (then the goods totals are the all-sector totals, the same arrays).
    revenue_base : ndarray (B, n)
        Σ_{i, s in goods} t0 M.
    explicit : bool
        Some services flow can move: goods sums are accumulated with :meth:`add_columns`
        (SMART) or by the caller (GSIM) into ``revenue_new`` and ``imports_change``.
    services_revenue : ndarray (B, n) or None
        Σ_{i, s not in goods} t0 M: constant when services do not move.
    revenue_new, imports_change : ndarray (B, n) or None
        Explicit accumulators (``explicit`` only).
    """

    weights: np.ndarray | None
    revenue_base: np.ndarray
    explicit: bool = False
    services_revenue: np.ndarray | None = None
    revenue_new: np.ndarray | None = None
    imports_change: np.ndarray | None = None

    @classmethod
    def start(cls, goods, t0, m_obs, revenue_base, touched) -> GoodsTotals:
        """Set up for baseline rates ``t0`` (B, n, n, S), imports ``m_obs`` and ``touched`` (S,) sectors.

        ``goods`` (S,) bool or None (every sector is a goods sector); ``revenue_base`` (B, n) is
        the all-sector Σ t0 M.
        """
        if goods is None:
            return cls(None, revenue_base)
        goods = np.asarray(goods, dtype=bool)
        if goods.all():
            return cls(None, revenue_base)
        g = goods.astype(float)
        base = revenue_by_importer(t0, m_obs * g)  # Σ_{i, s in goods} t0 M
        if np.any(np.asarray(touched) & ~goods):  # a services flow can move: sum goods explicitly
            b, n = revenue_base.shape
            return cls(g, base, True, revenue_new=base.copy(), imports_change=np.zeros((b, n)))
        return cls(g, base, services_revenue=revenue_by_importer(t0, m_obs * (1.0 - g)))

    def add_columns(self, sl, pick, dflow, t1c, flow_new) -> None:
        """SMART block ``sl`` on importer columns ``pick``: flows (B, n, k, S)."""
        self.revenue_new[sl, pick] = by_importer(t1c * self.weights, flow_new)  # Σ_{goods} t1 M'
        self.imports_change[sl, pick] = np.einsum("bijs,s->bj", dflow, self.weights)  # Σ_{goods} ΔM

    def finish(self, revenue_new, imports_change) -> GoodsTotals:
        """Final goods totals from the all-sector ones (B, n); returns self."""
        if self.weights is None:
            self.revenue_new, self.imports_change = revenue_new, imports_change
        elif not self.explicit:  # services did not move: their duties are the baseline's
            self.revenue_new, self.imports_change = revenue_new - self.services_revenue, imports_change
        return self
