"""Input-output consumer-price kernels (Barbiero & Stein 2025 cost-push model), pure numpy.

Batch axes lead; the commodity axis (K) is last. Notation, for BEA commodity c:
``tau_c`` the change in the trade-weighted tariff, ``rho`` the pass-through of tariffs to import
prices, ``delta`` the domestic-pricing response (domestic producers of c raise their price by
``delta`` times the import price change of c, beyond their cost increase),
``A = I - TR^-1`` the direct requirements, ``A_M = S o A`` its imported part (S = import share of
each cell), ``A_D = A - A_M``, ``L_D = (I - A_D)^-1``.

    dp_M = rho tau                                   (import prices)
    dp_D = L_D' (A_M' dp_M + delta dp_M)             (domestic producer prices, cost push)
    P_c  = w_M,c dp_M,c + (1 - w_M,c) dp_D,c         (price of commodity c in consumption)

Purchasers' prices of PCE lines keep their margins unchanged:
``P_n = sum_{r in n} PV_r P_c(r) / sum_{r in n} PUR_r``; the PCE price level is the
purchasers'-value weighted mean of the ``P_n``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bridge_prices", "commodity_prices", "group_sum", "household_costs", "io_split"]


def io_split(tr: np.ndarray, import_share_cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Imported-input coefficients and the domestic Leontief inverse.

    Parameters
    ----------
    tr : ndarray (K, K)
        Total requirements ``(I - A)^-1`` (commodity by commodity).
    import_share_cell : ndarray (K, K) or (..., K, K)
        Imported share of each input cell, in [0, 1].

    Returns
    -------
    a_m : ndarray (K, K)
        Imported-input coefficients ``A_M = S o A`` (USD of imported i per USD of output j).
    l_d : ndarray (K, K)
        Domestic Leontief inverse ``L_D = (I - A_D)^-1`` with ``A_D = A - A_M``.
    """
    k = tr.shape[-1]
    eye = np.eye(k)
    a = eye - np.linalg.inv(tr)          # A = I - TR^-1
    a = np.where(np.abs(a) < 1e-12, 0.0, a)
    a_m = import_share_cell * a          # A_M[i,j] = s_ij A[i,j]
    l_d = np.linalg.inv(eye - (a - a_m))  # L_D = (I - A_D)^-1 (batched over leading axes)
    return a_m, l_d


def commodity_prices(tau: np.ndarray, a_m: np.ndarray, l_d: np.ndarray, import_share: np.ndarray, *,
                     pass_through: float | np.ndarray = 1.0, domestic_pricing: float | np.ndarray = 0.0):
    """Price changes by commodity for a batch of tariff changes.

    Parameters
    ----------
    tau : ndarray (..., K)
        Change in the trade-weighted tariff of each commodity (decimal, e.g. 0.10).
    a_m, l_d : ndarray (K, K) or (..., K, K)
        From :func:`io_split` (a batch of them for scenario-specific import shares).
    import_share : ndarray (..., K)
        Imported share ``w_M,c`` of each commodity in the use priced (e.g. PCE).
    pass_through : float or ndarray (..., 1)
        ``rho``: share of the tariff passed on to import prices (1 = full).
    domestic_pricing : float or ndarray (..., 1)
        ``delta``: domestic producers' own-price response to the import price change (0 = cost push only).

    Returns
    -------
    consumer, domestic, imported : ndarray (..., K)
        ``P_c``, ``dp_D,c`` and ``dp_M,c`` (decimal changes).
    """
    dp_m = pass_through * np.asarray(tau, dtype=float)   # dp_M = rho tau
    # (A_M' dp_M)_j = sum_i A_M[i,j] dp_M,i ; plus delta dp_M,j
    push = np.einsum("...i,...ij->...j", dp_m, a_m) + domestic_pricing * dp_m
    dp_d = np.einsum("...i,...ij->...j", push, l_d)      # dp_D = L_D' push  ->  (dp_D)_j = sum_i L_D[i,j] push_i
    consumer = import_share * dp_m + (1.0 - import_share) * dp_d  # P_c = w_M dp_M + w_D dp_D
    return consumer, dp_d, dp_m


def bridge_prices(p_commodity: np.ndarray, bridge_line: np.ndarray, bridge_commodity: np.ndarray,
                  producers: np.ndarray, purchasers: np.ndarray, n_lines: int, *,
                  margins: str = "constant_dollar") -> np.ndarray:
    """Purchasers' price change of each PCE line.

    ``margins="constant_dollar"`` (transport, wholesale and retail margins unchanged in USD):
    ``P_n = sum_{r in n} PV_r P_c(r) / sum_{r in n} PUR_r``;
    ``"constant_percentage"`` (margins a fixed share of the producer price):
    ``P_n = sum_{r in n} PUR_r P_c(r) / sum_{r in n} PUR_r``.

    Parameters
    ----------
    p_commodity : ndarray (..., K)
    bridge_line, bridge_commodity : ndarray of int (R,)
    producers, purchasers : ndarray (R,), USD
    n_lines : int
    margins : {"constant_dollar", "constant_percentage"}

    Returns
    -------
    ndarray (..., N)
    """
    agg = np.zeros((len(bridge_line), n_lines))
    agg[np.arange(len(bridge_line)), bridge_line] = 1.0
    value = producers if margins == "constant_dollar" else purchasers
    weight = value[:, None] * agg                         # PV_r (or PUR_r) on row r, column n(r)
    pur = purchasers @ agg                                # PUR_n = sum_r PUR_r
    cost = p_commodity[..., bridge_commodity] @ weight    # sum_r PV_r P_c(r)
    return cost / np.where(pur != 0, pur, 1.0)  # line 110 (nonresidents' spending) is negative


def group_sum(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the last axis by group: ``out[..., g] = sum_{n: group[n]=g} values[..., n]``."""
    onehot = np.zeros((len(group), n_groups))
    onehot[np.arange(len(group)), group] = 1.0
    return values @ onehot


def household_costs(p_group: np.ndarray, pce_group: np.ndarray, decile_share: np.ndarray,
                    households: float) -> np.ndarray:
    """Annual cost per household in each income decile, USD.

    ``cost_d = sum_g P_g PCE_g s_gd / (H / 10)`` with ``s_gd`` decile d's share of group g's spending.

    Parameters
    ----------
    p_group : ndarray (..., G)
        Price change of each spending group (decimal).
    pce_group : ndarray (G,)
        Spending by group, USD.
    decile_share : ndarray (G, 10)
        Rows sum to one.
    households : float
        Number of households.

    Returns
    -------
    ndarray (..., 10), USD per household per year.
    """
    return (p_group * pce_group) @ decile_share / (households / decile_share.shape[1])
