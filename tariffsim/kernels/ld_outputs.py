"""Outputs of the Liberation Day kernel: welfare, deficits, trade-to-GDP, employment, prices.

Pure numpy; arrays (B, n) from a :class:`~tariffsim.kernels.ld_onesector.LDSolution`.
"""

from __future__ import annotations

import numpy as np

from .ld_onesector import LDBaseline, LDSolution

__all__ = ["outputs", "OUTPUT_MAP_COLUMNS"]

#: The seven per-country columns of the authors' output_map.csv, in order.
OUTPUT_MAP_COLUMNS = ("welfare_pct", "deficit_pct", "exports_gdp_pct", "imports_gdp_pct",
                      "employment_pct", "price_index_pct", "tariff_revenue_share")


def outputs(base: LDBaseline, sol: LDSolution, kappa: float, consumer=None) -> dict[str, np.ndarray]:
    """Per-country outputs, each of shape (B, n).

    - welfare (IMLS 14): Ŵ_i = δ_i Ê_i/P̂_i + (1−δ_i) ŵ_i L̂_i/P̂_i,
      δ_i = E_i / (E_i − κ (1−τ_i) Y_i/(1+κ)), τ_i = R'_i/Y'_i with income-tax relief (0 lump sum)
    - deficit D_i = Σ_j X_ji − Σ_j X_ij (incl. domestic sales); change 100 (D'−D)/|D|
    - exports/GDP and imports/GDP: off-diagonal flows at customs value over Y' (over Y at baseline)
    - employment 100(L̂ − 1); consumer prices 100(P̂ − 1); revenue R'_i/E_i (share of baseline spending)

    ``consumer = (E^c, Ê^c)`` replaces (E, Ê) in the welfare formula when spending includes
    input purchases (roundabout production, :func:`~tariffsim.kernels.ld_roundabout.consumer_spending`).
    """
    n = base.E.shape[0]
    off = 1.0 - np.eye(n)
    X0 = base.lam * base.E[None, :] / (1.0 + base.tariff)
    X1 = sol.X_new
    Yn = sol.w_hat * sol.L_hat * base.Y
    Ec, Ec_hat = (base.E, sol.E_hat) if consumer is None else consumer
    delta = Ec / (Ec - kappa * (1.0 - sol.tau) * base.Y / (1.0 + kappa))
    W = delta * Ec_hat / sol.P_hat + (1.0 - delta) * sol.w_hat * sol.L_hat / sol.P_hat
    D0 = X0.sum(0) - X0.sum(1)
    D1 = X1.sum(-2) - X1.sum(-1)
    exp0 = (X0 * off).sum(1) / base.Y
    imp0 = (X0 * off).sum(0) / base.Y
    exp1 = (X1 * off).sum(-1) / Yn
    imp1 = (X1 * off).sum(-2) / Yn
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "welfare_pct": 100.0 * (W - 1.0),
            "deficit_pct": 100.0 * (D1 - D0) / np.abs(D0),
            "exports_gdp_pct": 100.0 * (exp1 / exp0 - 1.0),
            "imports_gdp_pct": 100.0 * (imp1 / imp0 - 1.0),
            "employment_pct": 100.0 * (sol.L_hat - 1.0),
            "price_index_pct": 100.0 * (sol.P_hat - 1.0),
            "tariff_revenue_share": sol.revenue / base.E,
            "real_wage_pct": 100.0 * (sol.w_hat / sol.P_hat - 1.0),
            "wage_pct": 100.0 * (sol.w_hat - 1.0),
            "expenditure_pct": 100.0 * (sol.E_hat - 1.0),
        }
    return out
