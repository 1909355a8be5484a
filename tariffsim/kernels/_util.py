"""Numerical helpers shared by the kernels: masked division, exprel, the domestic diagonal,
currency wedges, the CES log-price index and the change table.

Belongs here: small pure-numpy functions used by more than one kernel, each written once.
Arrays follow the kernels' layout ``(..., exporter, importer, sector)``, batch axes first.
Does not belong here: anything with labels, parameters or a model's equations.
"""

from __future__ import annotations

import numpy as np

__all__ = ["safe_div", "exact_div", "div_or_nan", "exprel", "offdiag_mask", "offdiagonal", "currency_wedge",
           "currency_factor", "log_ces_mean", "changed_cells"]


def safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den != 0, else 0 (num finite; explicit mask, no silenced warnings).

    Computed as ``num * (1/den)``: the mask works on ``den`` (usually a reduced market
    total, small), then one multiplication over the large ``num``. This can differ from
    ``num / den`` in the last bit; use :func:`exact_div` where correct rounding matters.
    """
    ok = den != 0
    return num * np.where(ok, 1.0 / np.where(ok, den, 1.0), 0.0)


def exact_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den (correctly rounded) where den != 0, else 0; for small reduced arrays."""
    ok = den != 0
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def div_or_nan(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den == 0 (a ratio that does not exist, e.g. a rate without trade)."""
    ok = den != 0
    return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


def exprel(z: np.ndarray) -> np.ndarray:
    """(e^z - 1)/z with the limit 1 at z = 0 (as ``scipy.special.exprel``)."""
    zero = z == 0
    return np.where(zero, 1.0, np.expm1(z) / np.where(zero, 1.0, z))


def offdiag_mask(n: int) -> np.ndarray:
    """1[i != j] as a float (n, n, 1) array: multiply a (..., n, n, S) array to drop the diagonal."""
    return (1.0 - np.eye(n))[:, :, None]


def offdiagonal(flows: np.ndarray) -> np.ndarray:
    """Copy of a (..., n, n, S) array with the domestic diagonal (exporter == importer) set to 0.

    M_ijs = X_ijs 1[i != j]. The diagonal is assigned, not multiplied, so a non-finite
    diagonal entry gives 0 too; off the diagonal the values are the input's exactly.
    """
    out = np.array(flows, dtype=float, copy=True)
    n = out.shape[-2]
    out[..., np.arange(n), np.arange(n), :] = 0.0
    return out


def currency_wedge(currency, n: int):
    """Currency wedge minus one, w_ij - 1 = (1 + c_i)/(1 + c_j) - 1 = (c_i - c_j)/(1 + c_j).

    Parameters
    ----------
    currency : ndarray of shape (B, n) or None
        Appreciation x pass-through c per country.
    n : int
        Number of countries.

    Returns
    -------
    ndarray of shape (B, n_exporter, n_importer), or None
        None if ``currency`` is None or zero everywhere (no wedge: PE kernels skip it).
        Exactly 0 on the diagonal and wherever c_i = c_j.
    """
    if currency is None:
        return None
    c = np.asarray(currency, dtype=float)
    if not np.any(c):
        return None
    return (c[:, :, None] - c[:, None, :]) / (1.0 + c[:, None, :])


def currency_factor(currency) -> np.ndarray:
    """Currency wedge as an iceberg factor d̂_in = (1 + c_i)/(1 + c_n), 1 on the diagonal.

    Shape (B, n, n, 1) from ``currency`` (B, n): the GE form of :func:`currency_wedge`
    (w instead of w - 1; the diagonal set to exactly 1).
    """
    c = 1.0 + np.asarray(currency, float)
    factor = c[:, :, None] / c[:, None, :]
    n = c.shape[1]
    factor[:, np.arange(n), np.arange(n)] = 1.0
    return factor[..., None]


def changed_cells(t0, t1) -> np.ndarray:
    """(n_importer, S) table: does t1 differ from t0 for any scenario and exporter? One pass.

    Mathematical form: np.any(t1 != t0, axis=(0, 1)). Reducing the (B n, n S) view along its
    first axis is a row-wise OR (about 3x faster than reducing axes (0, 1) of the 4-d array).
    """
    n_j, s = t1.shape[-2:]
    return (t1 != t0).reshape(-1, n_j * s).any(axis=0).reshape(n_j, s)


def log_ces_mean(weights, x, rho, axis: int = -3, normalized: bool = False) -> np.ndarray:
    """ln(Σ w e^(ρ x) / Σ w) / ρ along ``axis`` (keepdims), the ρ → 0 limit Σ w x / Σ w; 0 if Σ w = 0.

    This is ln of the CES price index: ln P̂ = 1/(1-σ) ln Σ θ P̂_k^(1-σ) with ρ = 1 - σ and
    x = ln P̂_k. Evaluated around the weighted mean c = Σ w x so that nothing cancels
    for σ near 1: ln P̂ = c + log1p(Σ w expm1(ρ (x - c))) / ρ (the log1p term is >= 0);
    a shifted log-sum-exp takes over only if an exponent could overflow.

    Parameters
    ----------
    weights : ndarray, >= 0
        Entries with weight 0 are ignored (x must be finite there).
    x : ndarray, finite, broadcastable with weights
    rho : ndarray broadcastable over the last axis (one value per sector)
    axis : int
        The partner axis (-3 in (B, exporter, importer, S), -2 in GSIM's (B, S, r, v)).
    normalized : bool
        The weights already sum to 1 (or 0 for an empty market): skip normalising.
    """
    w = weights if normalized else safe_div(weights, np.sum(weights, axis=axis, keepdims=True))
    c = np.sum(w * x, axis=axis, keepdims=True)  # Σ w x, also the ρ → 0 limit
    small = np.abs(rho) < 1e-12
    rho_safe = np.where(small, 1.0, rho)
    z = rho_safe * (x - c)
    zmax = np.max(z, axis=axis, keepdims=True)
    if np.all(zmax < 700.0):  # centred form: ln Σ w e^{z} = log1p(Σ w expm1(z))
        log_sum = np.log1p(np.sum(w * np.expm1(z), axis=axis, keepdims=True))
    else:  # shifted log-sum-exp over the live entries
        live = w > 0
        zmax = np.max(np.where(live, z, -np.inf), axis=axis, keepdims=True)
        zmax = np.where(np.isfinite(zmax), zmax, 0.0)
        shifted = np.sum(w * np.exp(np.where(live, z - zmax, 0.0)), axis=axis, keepdims=True)
        log_sum = zmax + np.log(np.where(shifted > 0, shifted, 1.0))
    return c + np.where(small, 0.0, log_sum / rho_safe)
