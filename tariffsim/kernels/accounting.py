"""Accounting kernel: duties and trade-weighted tariff rates at fixed flows (no behaviour).

Pure numpy. Arrays ``(..., exporter, importer, sector)``; batch axes lead.
"""

from __future__ import annotations

import numpy as np

from ._util import offdiagonal  # re-exported: models.accounting imports it from here

__all__ = ["duties", "trade_weighted_rate", "offdiagonal", "importer_etr", "value_added"]


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


def value_added(flows: np.ndarray, value_added_share: np.ndarray | None = None) -> np.ndarray:
    """Value added (GDP at basic prices) of each country at baseline, shape (n,), USD mn.

    ``VA_n = sum_s gamma_ns Y_ns`` with gross output ``Y_ns = sum_j flows[n, j, s]`` (sales
    to every destination, home included) and gamma the share of value added in gross
    output (Caliendo–Parro's γ_n^j, as ``kernels.cp.calibrate`` computes ``value_added``).
    Without ``value_added_share`` gamma = 1: value added equals gross output, the
    convention of a world without input-output links.

    Parameters
    ----------
    flows : ndarray of shape (n, n, S)
        Exporter x importer x sector, domestic sales on the diagonal, USD mn.
    value_added_share : ndarray of shape (n, S), optional
    """
    output = np.asarray(flows, dtype=float).sum(axis=1)  # Y_ns = Σ_j X_njs
    if value_added_share is None:
        return output.sum(axis=-1)
    return np.einsum("ns,ns->n", np.asarray(value_added_share, dtype=float), output)
