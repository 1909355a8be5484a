"""GSIM linear method: per-country totals in closed form, without (B, n, n, S) arrays.

Belongs here: :class:`ClosedTotals` and :func:`finish_closed`, used by
:func:`tariffsim.kernels.gsim_linear.solve_linear` with ``flows=False`` when the baseline is
broadcast over the batch and there is no purchase commitment or currency wedge.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ClosedTotals", "finish_closed"]


class ClosedTotals:
    """Per-country totals of the linear method without (B, n, n, S) arrays (``flows=False``).

    For a baseline broadcast over the batch, no purchase commitment or currency wedge: T̂ = 0
    outside the importer columns ``cols``, so there 1 + M̂_rv = 1 + d_v - σ P̂*_r with
    d_v = a_v (c_v + g_v), and (where that is >= 0, no clipping) every market sum is a
    per-sector product of the baseline (n, n) matrices with (B, n) vectors. The columns
    ``cols`` are computed flow by flow (clipping there as usual). Sums are taken of the
    changes, so a scenario without change gives exactly 0.
    """

    def __init__(self, m, t0, cols, sigma):
        n = m.shape[-2]
        self.cols = cols
        self.rest = np.ones(n, dtype=bool)
        self.rest[cols] = False
        self.m_cols = np.ascontiguousarray(m[:, cols])  # M on the changing columns, (r, k, S)
        m_rest = m * self.rest[:, None]  # M with the changing columns zeroed, (r, v, S)
        self.m_rest_t = np.ascontiguousarray(np.moveaxis(m_rest, -1, 0))  # (S, r, v)
        self.m_flat, self.sm_flat = _flat(m_rest), _flat(sigma * m_rest)  # (r S, v)
        self.x_rest = m_rest.sum(axis=-2)  # Σ_{v outside cols} M_rv, (r, S)
        self.q_rest = m_rest.sum(axis=-3)  # Σ_r M_rv, (v, S); 0 on cols
        w_rest = t0 * m_rest  # t0 M outside cols (the tariff there is t0 in every scenario)
        self.w_rest_t = np.ascontiguousarray(np.moveaxis(w_rest, -1, 0)) if np.any(w_rest) else None
        self.w_flat, self.sw_flat = _flat(w_rest), _flat(sigma * w_rest)
        self.wq_rest = w_rest.sum(axis=-3)

    def unclipped(self, d, p, sigma) -> bool:
        """No flow outside ``cols`` is clipped: 1 + d_v - σ max_r P̂*_r >= 0 there.

        Sufficient, and exact in floating point: fl(σ P̂*_r) <= fl(σ max P̂*) for σ > 0.
        """
        low = (1.0 + d) - (sigma * p.max(axis=1))[:, None, :]  # (B, v, S)
        return bool(np.all(low[:, self.rest] >= 0.0))


def _flat(m):
    """(r, v, S) -> contiguous (r S, v): Σ_r,S m_rv x_rS for x (B, r, S) is x.reshape(B, -1) @ _flat(m)."""
    return np.ascontiguousarray(m.transpose(0, 2, 1)).reshape(-1, m.shape[1])


def _by_sector(mat_t, x, contract: str):
    """Σ over one country axis of a baseline (S, r, v) matrix with x (B, n, S), as (B, n, S).

    contract="v": Σ_v mat_rv x_v (result by r); contract="r": Σ_r mat_rv x_r (result by v).
    One batched matmul per sector over (S, n, B).
    """
    xt = np.moveaxis(x, 0, -1).transpose(1, 0, 2)  # (S, n, B)
    mat = mat_t if contract == "v" else np.swapaxes(mat_t, -1, -2)
    return np.matmul(mat, xt).transpose(2, 1, 0)  # (B, n, S)


def finish_closed(closed, system, resid, welfare, that, cols, d, p, t0j, t1j) -> dict:
    """Totals of :func:`~tariffsim.kernels.gsim_linear.solve_linear` by :class:`ClosedTotals` (no clipping outside
    ``cols``).

    ``welfare`` is :func:`~tariffsim.kernels.gsim_linear.linear_welfare`'s (cs, ps, iterations,
    success, message) for the block.

    Outside ``cols``: M'_rv - M_rv = M_rv [(1 + P̂*_r)(d_v - σ P̂*_r) + P̂*_r], so by exporter
    Σ_v = (1 + P̂*_r)(Σ_v M_rv d_v - σ P̂*_r X_r) + P̂*_r X_r (X_r over those columns), and by
    importer Σ_r = d_v Σ_r M_rv (1 + P̂*_r) - σ Σ_r M_rv (1 + P̂*_r) P̂*_r + Σ_r M_rv P̂*_r; the sums
    over r and sectors of a product with M are one (B, r S) @ (r S, v) product.
    """
    sigma = system.sigma
    # flows on the changing columns, exactly as in _solve_linear
    q = (1.0 + d[:, cols])[:, None] - (sigma * p)[:, :, None, :]
    q -= sigma * that
    np.maximum(q, 0.0, out=q)
    q *= closed.m_cols
    dflow_c = q * (1.0 + p)[:, :, None, :]
    dflow_c -= closed.m_cols  # M' - M on cols, (B, r, k, S)
    b = p.shape[0]
    onep = 1.0 + p
    pp = onep * p  # (1 + P̂*) P̂*
    p_flat, pp_flat = p.reshape(b, -1), pp.reshape(b, -1)  # (B, r S)
    md = _by_sector(closed.m_rest_t, d, "v")  # Σ_v M_rv d_v, (B, r, S)
    mp = _by_sector(closed.m_rest_t, p, "r")  # Σ_r M_rv P̂*_r, (B, v, S)
    exports = (np.einsum("brS,brS->br", onep, md) - np.einsum("brS,rS->br", sigma * pp, closed.x_rest)
               + np.einsum("brS,rS->br", p, closed.x_rest) + dflow_c.sum(axis=(2, 3)))
    dq = np.einsum("bvS,vS->bv", d, closed.q_rest)  # Σ_S d_v Q_v
    sm_p = p_flat @ closed.sm_flat  # Σ_r,S σ M_rv P̂*_r
    imports = dq + np.einsum("bvS,bvS->bv", d, mp) - pp_flat @ closed.sm_flat + p_flat @ closed.m_flat
    creation = dq - sm_p  # Q'_v - Q_v outside cols (0 on cols: M zeroed there)
    imports[:, cols] += dflow_c.sum(axis=(1, 3))
    creation[:, cols] += (q - closed.m_cols).sum(axis=(1, 3))
    # R1 - R0 = Σ t1 (M' - M) + Σ (t1 - t0) M (t1 = t0 outside cols)
    revenue = np.zeros(imports.shape)
    if closed.w_rest_t is not None:
        wp = _by_sector(closed.w_rest_t, p, "r")
        revenue += (np.einsum("bvS,vS->bv", d, closed.wq_rest) + np.einsum("bvS,bvS->bv", d, wp)
                    - pp_flat @ closed.sw_flat + p_flat @ closed.w_flat)
    revenue[:, cols] += (np.einsum("brks,brks->bk", t1j, dflow_c)
                         + np.einsum("brks,rks->bk", t1j - t0j, closed.m_cols))
    cs, ps, iterations, success, message = welfare
    return {"trade_creation": None, "trade_diversion": None, "price_effect": None, "flow_new": None,
            "world_price_pct": None, "excess_demand": None, "cs": cs, "ps": ps, "success": success,
            "iterations": iterations, "max_residual": resid, "message": message,
            "exports": exports, "imports": imports, "creation": creation, "revenue_change": revenue}
