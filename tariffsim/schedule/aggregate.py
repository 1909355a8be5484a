"""Aggregation: cell rates → (exporter, importer, sector) trade-weighted arrays.

Belongs here (DESIGN §5, step 3): the cell layouts the rate programs run on and the
trade-weighted averages ``t_g = sum_c w_c t_c / sum_c w_c`` over the cells of each world
flow g = (exporter, importer, sector). Two layouts: *full* (every cell, for the customs
tables by partner) and *compact* (cells that differ only by partner, or by a base rate no
duty depends on, merged: what :meth:`CompiledSchedule.evaluate` runs on).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cells import _packed, group_ids

__all__ = ["GroupSum", "Layout", "build_layouts", "to_world"]


class GroupSum:
    """Weighted sums over groups of cells: ``y[..., g] = sum_{c in g} w_c x[..., c]``.

    Small batches use one ``np.bincount`` (no scipy import on the ``tariffsim run`` path);
    batches of more than :attr:`SPARSE_FROM` rows a (G, C) CSR matrix built on first use
    (about 2x faster than bincount for 1,000 rows). Both sum each group's cells in cell
    order, so the two give the same numbers.

    Parameters
    ----------
    group : ndarray of int (C,)
        Group of each cell, in ``0..n_groups-1``.
    weight : ndarray (C,)
    n_groups : int
    """

    SPARSE_FROM = 32

    def __init__(self, group: np.ndarray, weight: np.ndarray, n_groups: int) -> None:
        self.group = np.asarray(group, dtype=np.int64)
        self.weight = np.asarray(weight, dtype=float)
        self.n_groups = n_groups
        self._csr = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        lead = x.shape[:-1]
        flat = x.reshape(-1, x.shape[-1])
        rows, g = flat.shape[0], self.n_groups
        if rows > self.SPARSE_FROM:
            if self._csr is None:
                import scipy.sparse as sp

                c = len(self.group)
                self._csr = sp.csr_matrix((self.weight, (self.group, np.arange(c))), shape=(g, c))
            out = (self._csr @ flat.T).T
        else:
            idx = (np.arange(rows)[:, None] * g + self.group[None, :]).ravel()
            out = np.bincount(idx, weights=(flat * self.weight).ravel(), minlength=rows * g).reshape(rows, g)
        return out.reshape(lead + (g,))


@dataclass
class Layout:
    """Cells as the rate programs see them.

    Attributes
    ----------
    base : ndarray (C,)
    cover : ndarray of bool (C, M)
    params, seconds : list of (C,) int arrays or None, one per plan
    role : ndarray of int8 (C, Q)
        Parameter-share roles (see :func:`tariffsim.schedule.shares.split_by_parameters`).
    agg : GroupSum
        Trade-weighted sum over the cells of each world flow (weights: each cell's share of
        its flow's trade).
    cols : list
        Per plan, the covered cells (a slice when all).
    """

    base: np.ndarray
    cover: np.ndarray
    params: list
    seconds: list
    role: np.ndarray
    agg: GroupSum
    cols: list = field(default_factory=list)

    def __post_init__(self) -> None:
        c = self.cover.shape[0]
        self.cols = []
        for j in range(self.cover.shape[1]):
            idx = np.flatnonzero(self.cover[:, j])
            self.cols.append(slice(None) if len(idx) == c else idx)


def _weights(ginv: np.ndarray, w: np.ndarray, g: int, counted: np.ndarray) -> GroupSum:
    """Sums weighted by each cell's share of its world group's trade (equal shares where none).

    ``counted`` (C,) is the weight each cell adds to its group's total: ``w`` times its share
    multiplier (pieces cut by a parameter share both carry the line's weight; their
    multipliers add up to one).
    """
    total = np.bincount(ginv, weights=counted, minlength=g)
    count = np.bincount(ginv, minlength=g)
    share = np.where(total[ginv] > 0, w / np.where(total[ginv] > 0, total[ginv], 1.0), 1.0 / np.maximum(count[ginv], 1))
    return GroupSum(ginv, share, g)


def build_layouts(world, cells: dict, cover: np.ndarray, role: np.ndarray, plans, nonlinear: np.ndarray,
                  mult0: np.ndarray | None = None):
    """(groups, full layout, compact layout).

    ``mult0`` (C,): share multipliers at any one parameter vector (None: all one).

    ``groups`` (G,) are the flat indices ``(exporter * n + importer) * S + sector`` of the
    world flows that have cells.
    """
    n, s = world.n_countries, world.n_sectors
    group = (cells["exporter"] * n + cells["importer"]) * s + cells["sector"]
    groups, ginv = np.unique(group, return_inverse=True)
    params = [p.param for p in plans]
    seconds = [p.second for p in plans]
    counted = cells["weight"] if mult0 is None else cells["weight"] * mult0
    full = Layout(cells["base"], cover, params, seconds, role, _weights(ginv, cells["weight"], len(groups), counted))
    needs_base = cover[:, nonlinear].any(axis=1) if nonlinear.any() else np.zeros(len(ginv), dtype=bool)
    base_key = np.where(needs_base, np.round(cells["base"] * 1e9), -1).astype(np.int64)
    columns = [ginv, base_key] + [role[:, q].astype(np.int64) for q in range(role.shape[1])]
    columns += [a for a in params + seconds if a is not None]
    if len(ginv) == 0:
        return groups, full, full
    columns += _packed(cover)
    inv, first = group_ids(columns)
    c = len(first)
    w = cells["weight"]
    weight = np.bincount(inv, weights=w, minlength=c)
    counted = np.bincount(inv, weights=counted, minlength=c)
    count = np.bincount(inv, minlength=c)
    with np.errstate(invalid="ignore", divide="ignore"):
        # weighted mean base of merged cells: sum w b / sum w (equal weights if no trade)
        wb = np.bincount(inv, weights=w * cells["base"], minlength=c)
        base = np.where(weight > 0, wb / np.where(weight > 0, weight, 1.0),
                        np.bincount(inv, weights=cells["base"], minlength=c) / np.maximum(count, 1))
    compact = Layout(base, cover[first], [None if a is None else a[first] for a in params],
                     [None if a is None else a[first] for a in seconds], role[first],
                     _weights(ginv[first], weight, len(groups), counted))
    return groups, full, compact


def to_world(world, groups: np.ndarray, cell_rates: np.ndarray, layout: Layout) -> np.ndarray:
    """(B, C) cell rates (already times their share multipliers) → (B, n, n, S); 0 where no cell."""
    n, s = world.n_countries, world.n_sectors
    b = cell_rates.shape[0]
    out = np.zeros((b, n * n * s))
    if len(groups):
        # t[g] = sum_c w_cg t_c / sum_c w_cg  (weights normalised in _weights)
        out[:, groups] = layout.agg(cell_rates)
    return out.reshape(b, n, n, s)
