"""Accounting kernel: duties and trade-weighted tariff rates at fixed flows (no behaviour).

Pure numpy. Arrays ``(..., exporter, importer, sector)``; batch axes lead.
"""

from __future__ import annotations

import numpy as np

__all__ = ["duties", "trade_weighted_rate", "offdiagonal"]


def offdiagonal(flows: np.ndarray) -> np.ndarray:
    """Flows with the domestic diagonal (exporter == importer) set to zero."""
    n = flows.shape[-2]
    mask = 1.0 - np.eye(n)[:, :, None]
    # M_ijs = X_ijs * 1[i != j]
    return flows * mask


def duties(rates: np.ndarray, imports: np.ndarray) -> np.ndarray:
    """Duties by flow: ``t_ijs * M_ijs`` (USD mn), shape of the broadcast inputs."""
    return rates * imports


def trade_weighted_rate(rates: np.ndarray, imports: np.ndarray, axis) -> tuple[np.ndarray, np.ndarray]:
    """Trade-weighted rate ``sum t M / sum M`` over ``axis``, and ``sum M``.

    Where ``sum M == 0`` the rate is NaN (no trade, no rate).
    """
    total = imports.sum(axis=axis)
    paid = (rates * imports).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(total > 0, paid / np.where(total > 0, total, 1.0), np.nan)
    return rate, total


def importer_etr(rates: np.ndarray, flows: np.ndarray, goods: np.ndarray) -> np.ndarray:
    """Trade-weighted tariff on each importer's goods imports, shape (..., n).

    ``etr_j = sum_{i != j, s in goods} t_ijs M_ijs / sum_{i != j, s in goods} M_ijs``.

    Parameters
    ----------
    rates, flows : ndarray of shape (..., n, n, S)
        Rates (decimal) and flows (exporter, importer, sector), customs value.
    goods : ndarray of bool, shape (S,)
        Sectors whose imports pay duties (services do not).
    """
    m = offdiagonal(flows) * np.asarray(goods, dtype=float)
    rate, _ = trade_weighted_rate(rates, m, axis=(-3, -1))
    return rate
