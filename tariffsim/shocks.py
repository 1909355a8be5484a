"""Shocks: a compiled scenario batch as plain arrays, the only thing models see.

Belongs here: the container and its neutral defaults. The compiler
(``tariffsim.schedule``) produces it; model adapters (``tariffsim.models``) consume it.
Axes: leading batch axis B, then ``(exporter, importer, sector)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .world import TradeWorld

__all__ = ["Shocks", "SHOCK_FIELDS", "take_shocks"]

#: The array fields of :class:`Shocks`, in order.
SHOCK_FIELDS = ("tariff_base", "tariff_new", "ntb", "productivity", "deficit_change", "demand_shift", "currency")


@dataclass(frozen=True, eq=False)
class Shocks:
    """A batch of B compiled scenarios on a world's labels.

    Attributes
    ----------
    world : TradeWorld
        The world whose labels and baseline flows the arrays refer to.
    scenarios : tuple of str, length B
    tariff_base : ndarray of shape (B, n, n, S)
        Baseline ad valorem tariff rates (decimal), exporter x importer x sector.
    tariff_new : ndarray of shape (B, n, n, S)
        Counterfactual ad valorem rates (decimal).
    ntb : ndarray of shape (B, n, n, S)
        Change in non-tariff barriers as an ad valorem equivalent (decimal): the iceberg
        cost becomes ``(1 + ntb)`` times the baseline one. No revenue. 0 = none.
    productivity : ndarray of shape (B, n, S)
        Productivity hats (new/old), 1 = none.
    deficit_change : ndarray of shape (B, n)
        Change of each country's trade deficit (transfer received), USD mn; sums to 0.
    demand_shift : ndarray of shape (B, n, n, S)
        Purchase commitments: extra spending by importer on exporter's sector, USD mn.
    currency : ndarray of shape (B, n)
        Appreciation of each country's currency (decimal, 0.05 = 5% stronger) times
        its pass-through share: raises its export prices and lowers its import costs.
    warnings : tuple of str
        Things the compiler could not represent exactly (said once, carried to results).
    """

    world: TradeWorld
    scenarios: tuple[str, ...]
    tariff_base: np.ndarray
    tariff_new: np.ndarray
    ntb: np.ndarray | None = None
    productivity: np.ndarray | None = None
    deficit_change: np.ndarray | None = None
    demand_shift: np.ndarray | None = None
    currency: np.ndarray | None = None
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        b = len(self.scenarios)
        n, s = self.world.n_countries, self.world.n_sectors
        full = (b, n, n, s)
        for name in ("tariff_base", "tariff_new"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != full:
                raise ValueError(f"{name} has shape {arr.shape}, expected {full}")
            object.__setattr__(self, name, arr)
        defaults = {
            "ntb": (full, 0.0),
            "productivity": ((b, n, s), 1.0),
            "deficit_change": ((b, n), 0.0),
            "demand_shift": (full, 0.0),
            "currency": ((b, n), 0.0),
        }
        for name, (shape, neutral) in defaults.items():
            arr = getattr(self, name)
            if arr is None:
                # a read-only broadcast view: no memory, and uses() can tell it is neutral at once
                arr = np.broadcast_to(np.float64(neutral), shape)
            else:
                arr = np.asarray(arr, dtype=float)
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
            object.__setattr__(self, name, arr)

    @property
    def batch_size(self) -> int:
        return len(self.scenarios)

    def uses(self, name: str) -> bool:
        """Whether a non-tariff shock is non-neutral anywhere in the batch."""
        neutral = {"ntb": 0.0, "productivity": 1.0, "deficit_change": 0.0, "demand_shift": 0.0, "currency": 0.0}
        arr = getattr(self, name)
        if arr.size and not any(arr.strides):  # a broadcast scalar
            return bool(arr.flat[0] != neutral[name])
        if arr.size and arr.strides[0] == 0:  # the same for every scenario: look at one
            arr = arr[0]
        return bool(np.any(arr != neutral[name]))

    @classmethod
    def from_rates(cls, world: TradeWorld, tariff_base, tariff_new, scenarios=None, **kw) -> Shocks:
        """Shocks from rate arrays of shape (n, n, S) or (B, n, n, S) (broadcast to a batch).

        Broadcast inputs stay read-only views (a baseline of shape (n, n, S) costs nothing per
        scenario); the arrays are not copied.
        """
        tb, tn = np.asarray(tariff_base, float), np.asarray(tariff_new, float)
        shape = np.broadcast_shapes(tb.shape, tn.shape)  # broadcast_to: read-only views on every numpy
        tb = tb if tb.shape == shape else np.broadcast_to(tb, shape)
        tn = tn if tn.shape == shape else np.broadcast_to(tn, shape)
        if tb.ndim == 3:
            tb, tn = tb[None], tn[None]
        if scenarios is None:
            scenarios = tuple(f"scenario_{k}" for k in range(tb.shape[0]))
        return cls(world, tuple(scenarios), tb, tn, **kw)  # broadcast views where broadcast: no copies


def _take(arr: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Rows ``index`` of a batch array: a view when the rows are shared or contiguous."""
    k = len(index)
    if arr.shape[0] and arr.strides[0] == 0:  # broadcast over the batch (baselines, neutral shocks)
        return np.broadcast_to(arr[0], (k,) + arr.shape[1:])
    if k and index[-1] - index[0] == k - 1 and (k == 1 or bool(np.all(np.diff(index) == 1))):
        return arr[index[0]:index[0] + k]  # contiguous rows: a view
    return arr[index]


def take_shocks(shocks: Shocks, index, names=None) -> Shocks:
    """Rows ``index`` of a batch of shocks (renamed ``names``), without copying what can be viewed.

    Fields broadcast over the batch (the baseline tariffs, neutral non-tariff shocks) stay
    broadcast views, and a contiguous run of rows is a slice view; only a scattered
    selection of per-scenario arrays is copied.

    Parameters
    ----------
    shocks : Shocks
    index : array of int, shape (k,)
        Batch rows to take (repeats allowed).
    names : sequence of str, optional
        Scenario names of the result; default: the taken rows' names.

    Returns
    -------
    Shocks
        Batch of k scenarios.
    """
    index = np.asarray(index, dtype=np.intp).reshape(-1)
    if names is None:
        names = [shocks.scenarios[k] for k in index]
    return Shocks(shocks.world, tuple(names), **{f: _take(getattr(shocks, f), index) for f in SHOCK_FIELDS},
                  warnings=shocks.warnings)
