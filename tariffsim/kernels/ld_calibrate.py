"""Calibration of the Liberation Day one-sector baseline (IMLS = Ignatenko, Macedoni,
Lashkaripour & Simonovska, JIE 157 (2025) 104138, Section 4 and Appendix).

Pure numpy. Flows ``X[j, i]``: exporter j, importer i, domestic diagonal may be empty.
"""

from __future__ import annotations

import numpy as np

from .ld_onesector import LDBaseline

__all__ = ["two_region", "fixed_cost_shares", "calibrate", "calibrate_ekk", "pass_through"]


def two_region(X: np.ndarray, Y: np.ndarray, home: int) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate to (rest of world, home): a 2×2 flow matrix and 2 GDPs."""
    n = X.shape[0]
    agg = np.zeros((2, n))
    agg[0] = 1.0
    agg[0, home] = 0.0
    agg[1, home] = 1.0
    return agg @ X @ agg.T, agg @ Y


def fixed_cost_shares(X: np.ndarray, Y: np.ndarray, home: int, targets=(0.12, 0.26),
                      tol: float = 1e-14, max_iter: int = 100) -> np.ndarray:
    """ν for (rest of world, home) matching the sales-weighted fixed-cost targets.

    On the two-region aggregate, with E_i = Y_i + (1−ν_i)(Σ_j X_ji − Σ_j (1−ν_j) X_ij) and
    domestic sales shares r_11 = (E_1 − X_21)/(E_1 − X_21 + X_12), r_22 = (E_2 − X_12)/(E_2 − X_12 + X_21):
        r_11 ν_1 + (1 − r_11) ν_2 = target_1,   (1 − r_22) ν_1 + r_22 ν_2 = target_2
    (the authors' calibration to the 12% and 26% fixed-cost shares). Newton with a numerical
    Jacobian; negative values are set to 0. Returns [ν_row, ν_home].
    """
    Xa, Ya = two_region(X, Y, home)

    def F(nu):
        E = Ya + (1 - nu) * (Xa.sum(0) - ((1 - nu)[None, :] * Xa).sum(1))
        r11 = (E[0] - Xa[1, 0]) / (E[0] - Xa[1, 0] + Xa[0, 1])
        r22 = (E[1] - Xa[0, 1]) / (E[1] - Xa[0, 1] + Xa[1, 0])
        return np.array([(1 - r11) * nu[1] + r11 * nu[0] - targets[0],
                         r22 * nu[1] + (1 - r22) * nu[0] - targets[1]])

    nu = np.array([0.1, 0.24])
    for _ in range(max_iter):
        f = F(nu)
        if np.abs(f).max() < tol:
            break
        J = np.empty((2, 2))
        for k in range(2):
            h = np.zeros(2)
            h[k] = 1e-7
            J[:, k] = (F(nu + h) - F(nu - h)) / 2e-7
        nu = nu - np.linalg.solve(J, f)
    return np.maximum(nu, 0.0)


def pass_through(nu, eps: float, psi: float, passthrough: float = 1.0) -> np.ndarray:
    """φ_i = φ̃ + ν_i/(1−ν_i)·(1+ψ): tariff pass-through to consumer prices with fixed costs.

    φ̃ = 1 is complete pass-through to firm-level prices (the baseline); φ̃ = 0.25 is Table 9's
    incomplete pass-through. With ν = 0 (Eaton–Kortum–Krugman) φ = φ̃.
    """
    nu = np.asarray(nu, float)
    return passthrough + nu / (1.0 - nu) * (1.0 + psi)


def calibrate(X: np.ndarray, Y: np.ndarray, nu: np.ndarray) -> LDBaseline:
    """Baseline with fixed costs: domestic sales filled in from GDP, then E, Y, T recomputed.

    T_i = (1−ν_i)(Σ_j X_ji − Σ_j (1−ν_j) X_ij);  E_i = Y_i + T_i;  X_ii = max(E_i − Σ_{j≠i} X_ji, 0);
    then E_i = Σ_j X_ji, Y_i = Σ_j (1−ν_j) X_ij + ν_i E_i, T_i = E_i − Y_i, λ_ji = X_ji/E_i.
    """
    X = np.array(X, float)
    n = X.shape[0]
    X[np.arange(n), np.arange(n)] = 0.0
    imports = X.sum(0)
    T = (1 - nu) * (imports - (X * (1 - nu)[None, :]).sum(1))
    E = Y + T
    X[np.arange(n), np.arange(n)] = np.maximum(E - imports, 0.0)
    E = X.sum(0)
    Y = (X * (1 - nu)[None, :]).sum(1) + nu * E
    return LDBaseline(lam=X / E[None, :], E=E, Y=Y, T=E - Y, nu=np.asarray(nu, float),
                      tariff=np.zeros((n, n)))


def calibrate_ekk(base: LDBaseline) -> LDBaseline:
    """Eaton–Kortum–Krugman variant of a calibrated baseline: ν = 0, Y_i = Σ_j X_ij (sales), T = E − Y."""
    X = base.lam * base.E[None, :]
    Y = X.sum(1)
    return LDBaseline(lam=base.lam, E=base.E, Y=Y, T=base.E - Y, nu=np.zeros_like(base.nu),
                      tariff=base.tariff)
