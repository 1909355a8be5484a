"""Demand (taste) shifters for purchase commitments in the Caliendo–Parro model.

Belongs here: turning purchase amounts at baseline prices into CES taste shifters δ̂
(module notes of :mod:`tariffsim.kernels.cp`). Pure numpy; re-exported by
:mod:`tariffsim.kernels.cp`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .cp import Baseline

__all__ = ["taste_shifter"]


def taste_shifter(base: Baseline, demand_shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand shifters δ̂ that move spending by given amounts at baseline prices.

    Parameters
    ----------
    base : Baseline
    demand_shift : ndarray of shape (B, n, n, S)
        A[b, i, n, j]: extra purchases by importer n from exporter i in sector j, USD mn at
        customs (pre-tariff) value, at baseline prices. Negative amounts are cuts.

    Returns
    -------
    delta : ndarray of shape (B, n, n, S)
        δ̂[b, i, n, j]. With a_ni^j = (1 + τ_ni^j) A_ni^j / X_n^j (the share of n's sector-j
        spending moved) and R the set of shifted origins (A ≠ 0):
        δ̂_ni = 1 + a_ni / π_ni for i in R; for the other origins
        δ̂_nm = 1 − Σ_{i∈R} a_ni / (1 − Σ_{i∈R} π_ni), so they lose share in proportion.
        Σ_i π_ni δ̂_ni = 1: n's total sector-j spending is unchanged at baseline prices, and
        its customs purchases from i rise by exactly A_ni there.
    bad : ndarray of bool, shape (B, n, n, S)
        Cells whose amount cannot be represented: a shift on a zero baseline flow or on a
        sector the importer does not buy, a new share ≤ 0, or other origins pushed to a
        share ≤ 0 (the amount exceeds what the importer buys elsewhere). δ̂ is 1 there.
    """
    A = np.broadcast_to(np.asarray(demand_shift, dtype=float), base.pi.shape)
    pi, X = base.pi, base.expenditure[:, None, :, :]
    shifted = A != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(shifted & (X > 0), (1.0 + base.tariff) * A / np.where(X > 0, X, 1.0), 0.0)
        rest = 1.0 - np.where(shifted, pi, 0.0).sum(axis=1, keepdims=True)  # unshifted origins' share
        scale = np.where(rest > 0, 1.0 - a.sum(axis=1, keepdims=True) / np.where(rest > 0, rest, 1.0), 1.0)
        own = np.where(pi > 0, 1.0 + a / np.where(pi > 0, pi, 1.0), 1.0)
    moved = a.sum(axis=1, keepdims=True) != 0
    bad = shifted & ((pi <= 0) | (X <= 0) | (own <= 0)
                     | (moved & ((scale <= 0) | (rest <= 0))))
    bad = bad | (shifted & np.any(bad, axis=1, keepdims=True))
    delta = np.where(shifted, own, np.broadcast_to(scale, A.shape))
    delta = np.where(np.any(bad, axis=1, keepdims=True), 1.0, delta)
    return delta, bad
