"""GSIM's linear method for one block of scenarios and sectors: Francois & Hall's proportional-change system.

Belongs here: :class:`LinearSystem` (A P̂* = rhs per scenario and sector), :func:`solve_linear`
and the welfare of the linear method. The per-country totals without per-flow arrays
(``flows=False``) are in :mod:`tariffsim.kernels.gsim_closed`. Does not belong here:
choosing sectors and blocks (``kernels.gsim``).

``method="linear"``: F&H's proportional-change system (docs/models.rst, GSIM)
---------------------------------------------------------------------
With T̂_rv = T1_rv w_rv / T0_rv - 1 (w the currency wedge), a_v = E_m,v + E_s = σ - η_v:

- M̂_rv = N_rv,rv (T̂_rv + P̂*_r) + Σ_{s≠r} N_rv,sv (T̂_sv + P̂*_s)
  = a_v Σ_s θ_sv (T̂_sv + P̂*_s) - σ (T̂_rv + P̂*_r)
  (N_rv,rv = θ_rv E_m,v - (1 - θ_rv) E_s, N_rv,sv = θ_sv (E_m,v + E_s));
- market clearing Σ_v φ_rv (1 + M̂_rv) = 1 + E_x P̂*_r, i.e. Σ_v φ_rv M̂_rv = E_x P̂*_r when
  Σ_v φ_rv = 1 (no purchase commitment). Linear in P̂*: per scenario and sector
  A P̂* = rhs with A_rs = Σ_v φ_rv a_v θ_sv - (σ Σ_v φ_rv + ε) δ_rs,
  rhs_r = 1 - Σ_v φ_rv - Σ_v φ_rv (a_v c_v - σ T̂_rv), c_v = Σ_u θ_uv T̂_uv.
  One batched ``np.linalg.solve``, no iteration (trivial rows P̂*_r = 0 as above). When θ and
  φ are the same for every scenario (one baseline tariff broadcast over the batch, no
  purchase commitment) A is factorised once per sector and solved for all scenarios.
- quantities q'_rv = (M + D)_rv (1 + M̂_rv), customs value q'_rv (1 + P̂*_r). **Clipping**
  (our decision, as in linear SMART): a large change can make 1 + M̂ or 1 + P̂* negative;
  both factors are clipped at 0, so flows are never negative (the market-clearing gap,
  ``excess_demand``, is then no longer 0 for that exporter).
- ΔPS_r = X_r P̂*_r (1 + ½ E_x P̂*_r) (docs/models.rst, GSIM); ΔCS_v = -E_v P̂_v (1 + ½ E_m,v P̂_v) with
  P̂_v = Σ_r θ_rv [(1 + P̂*_r)(1 + T̂_rv) - 1], the second-order expansion of the exact area
  (the ``+ ½ E_m E P̂² sign(P̂)`` of docs/models.rst has the triangle's sign reversed for a price
  rise); for P̂_v above the choke price 1/η_v of the linear demand the area stops growing
  (P̂_v is capped there). ΔTR_v = Σ_r t1 M'_rv - t0 M_rv as in the exact model.
- ``max_residual``: max |A P̂* - rhs| (first-order relative excess demand), ``iterations``
  1 where any world price was solved for, else 0.
- ``flows=False`` with a broadcast baseline (no commitment or currency): the per-country totals
  outside the importer columns that change are per-sector products of the baseline matrices
  with (B, n) vectors (:class:`~tariffsim.kernels.gsim_closed.ClosedTotals`, no (B, n, n, S) array; the same sums up to
  rounding), unless clipping could bind there (then the per-flow path).
"""

from __future__ import annotations

import numpy as np

from ._util import exact_div, safe_div
from .gsim_closed import finish_closed

__all__ = ["LinearSystem", "solve_linear", "linear_welfare", "LINEAR_TOL"]

#: ``method="linear"``: a scenario succeeds when max |A P̂* - rhs| of its linear systems is below this.
LINEAR_TOL = 1e-10


class LinearSystem:
    """F&H's linear GSIM for fixed θ, φ (module docstring): A P̂* = rhs per scenario and sector.

    θ, φ are (B', r, v, S) and A is (B', S, r, s), with B' = 1 when they hold for every
    scenario (then A is factorised once per sector and all scenarios are right-hand sides).
    """

    def __init__(self, m_obs, m_eff, t0, eta, sigma, eps_raw):
        n, s_count = t0.shape[-2], t0.shape[-1]
        lead = t0.shape[:1]
        inf = np.isinf(eps_raw)
        self.eps = np.where(inf, 0.0, eps_raw)  # finite stand-in; ε = inf rows are trivial
        self.sigma = sigma
        self.a = np.broadcast_to(sigma - eta, (n, s_count))  # a_v = E_m,v + E_s = σ - η_v, (v, S)
        spend = (1.0 + t0) * m_eff  # T0 M_rv, (B', r, v, S)
        self.e_v = spend.sum(axis=-3)  # E_v = Σ_r T0 M_rv, (B', v, S)
        self.theta = safe_div(spend, self.e_v[:, None])  # θ_rv
        self.x_obs = np.broadcast_to(m_obs.sum(axis=-2), lead + (n, s_count))  # X_r = Σ_v M_rv, (B', r, S)
        self.fixed = (self.x_obs <= 0) | inf  # trivial rows: P̂*_r = 0
        self.phi = safe_div(np.broadcast_to(m_eff, t0.shape), self.x_obs[:, :, None, :])  # φ_rv = (M + D)_rv / X_r
        if m_eff is m_obs:  # Σ_v φ_rv = 1 exactly (not its rounded sum): no change gives P̂* = 0 exactly
            self.phi_sum = (self.x_obs > 0).astype(float)
            self.base_gap = np.zeros(self.x_obs.shape)
        else:
            self.phi_sum = self.phi.sum(axis=-2)  # Σ_v φ_rv = (X + Σ_v D) / X
            self.base_gap = np.where(self.fixed, 0.0, 1.0 - self.phi_sum)  # clearing gap at P̂* = 0, T̂ = 0
        # A_rs = Σ_v φ_rv a_v θ_sv - (σ Σ_v φ_rv + ε) δ_rs, as (B', S, r, s); identity rows where trivial
        cross = np.einsum("brvS,vS,bsvS->bSrs", self.phi, self.a, self.theta)
        eye = np.eye(n)
        diag = np.swapaxes(self.sigma * self.phi_sum + self.eps, -1, -2)[..., None]  # (B', S, r, 1)
        fixed_rows = np.swapaxes(self.fixed, -1, -2)[..., None]
        self.matrix = np.where(fixed_rows, eye, cross - diag * eye)
        self.live = np.swapaxes(~self.fixed, -1, -2)  # (B', S, r)

    def rhs(self, that, cols):
        """rhs_r = 1 - Σ_v φ_rv - Σ_v φ_rv (a_v c_v - σ T̂_rv), c_v = Σ_u θ_uv T̂_uv.

        ``that`` (B, r, k, S) holds T̂ on the importer columns ``cols`` (0 elsewhere). Returns
        rhs (B, S, r) and c (B, v, S).
        """
        theta = np.broadcast_to(self.theta[:, :, cols], that.shape)
        phi = np.broadcast_to(self.phi[:, :, cols], that.shape)
        c = np.zeros((that.shape[0],) + self.a.shape)
        c[:, cols] = np.einsum("buvS,buvS->bvS", theta, that)
        own = self.sigma * np.einsum("brvS,brvS->brS", phi, that)  # σ Σ_v φ_rv T̂_rv
        composite = np.einsum("brvS,bvS->brS", phi, self.a[cols] * c[:, cols])  # Σ_v φ_rv a_v c_v
        rhs = np.where(self.fixed, 0.0, self.base_gap + own - composite)
        return np.swapaxes(rhs, -1, -2), c

    def composite_price(self, p):
        """g_v = Σ_s θ_sv P̂*_s for P̂* (B, r, S): (B, v, S), one batched matmul per sector."""
        if self.theta.shape[0] == 1:  # one θ for the batch: (S, v, s) @ (S, s, B), one matmul per sector
            if not hasattr(self, "_theta_vs"):
                self._theta_vs = np.ascontiguousarray(self.theta[0].transpose(2, 1, 0))  # (S, v, s)
            return np.ascontiguousarray(np.matmul(self._theta_vs, p.transpose(2, 1, 0)).transpose(2, 1, 0))
        theta_t = np.moveaxis(self.theta, -1, 1)  # (B', S, s, v)
        return np.moveaxis(np.matmul(np.moveaxis(p, -1, 1)[:, :, None, :], theta_t)[:, :, 0, :], 1, -1)

    def solve(self, rhs):
        """P̂* (B, S, r) and the residual max |A P̂* - rhs| per scenario; raises LinAlgError if singular."""
        if self.matrix.shape[0] == 1 and rhs.shape[0] > 1:  # one matrix per sector, B right-hand sides
            r = np.ascontiguousarray(rhs.transpose(1, 2, 0))  # (S, r, B)
            pt = np.linalg.solve(self.matrix[0], r)
            pt = np.where(self.live[0][..., None], pt, 0.0)
            gap = np.matmul(self.matrix[0], pt)  # A P̂* - rhs, (S, r, B)
            gap -= r
            return pt.transpose(2, 0, 1), np.max(np.abs(gap), axis=(0, 1), initial=0.0)
        else:
            p = np.linalg.solve(self.matrix, rhs[..., None])[..., 0]
        p = np.where(self.live, p, 0.0)
        gap = np.einsum("bSrs,bSs->bSr", np.broadcast_to(self.matrix, p.shape + p.shape[-1:]), p) - rhs
        return p, np.max(np.abs(gap), axis=(-2, -1), initial=0.0)


def solve_linear(m_obs, m_eff, that, cols, eta, system, flows, closed=None, t0j=None, t1j=None) -> dict:
    """F&H's linear GSIM for one block of scenarios and sectors (see the module docstring).

    ``that`` is T̂ on the importer columns ``cols`` only (T̂ = 0 elsewhere, exactly). Per-country
    totals come from market sums; the per-flow TC / TD / price-effect arrays only if ``flows``.
    """
    b = that.shape[0]
    rhs, c = system.rhs(that, cols)  # (B, S, r); c_v = Σ_u θ_uv T̂_uv (B, v, S)
    message = "converged"
    try:
        p, resid = system.solve(rhs)
    except np.linalg.LinAlgError:
        message = "singular linear system: check elasticities (η much larger than σ + ε)"
        p, resid = np.zeros(rhs.shape), np.full(b, np.inf)
    p = np.maximum(np.swapaxes(p, -1, -2), -1.0, order="C")  # P̂*_r (B, r, S), world price clipped at 0
    g = system.composite_price(p)  # g_v = Σ_s θ_sv P̂*_s (B, v, S)
    welfare = linear_welfare(system, rhs, resid, message, that, cols, eta, c, g, p)
    if closed is not None:
        d = system.a * (c + g)  # a_v (c_v + g_v), (B, v, S)
        if closed.unclipped(d, p, system.sigma):
            return finish_closed(closed, system, resid, welfare, that, cols, d, p, t0j, t1j)
    # 1 + M̂_rv = 1 + a_v (c_v + g_v) - σ (T̂_rv + P̂*_r), one pass; q' = (M + D)(1 + M̂) clipped at 0
    q = (1.0 + system.a * (c + g))[:, None] - (system.sigma * p)[:, :, None, :]
    q[:, :, cols] -= system.sigma * that
    np.maximum(q, 0.0, out=q)
    q *= m_eff
    flow_new = q * (1.0 + p)[:, :, None, :]  # customs value q' (1 + P̂*)
    sales = flow_new.sum(axis=-2)  # (B, r, S)
    excess = np.where(system.fixed, 0.0, sales - system.x_obs * (1.0 + p) * (1.0 + system.eps * p))
    q_new = q.sum(axis=-3)  # Q'_v (B, v, S)
    base_v = np.sum(m_obs, axis=-3)  # Σ_r M_rv observed
    # Σ_r TC_rv = Q' - Q (+ Σ_r D_rv) = Q' - Σ_r M_rv: the change in the market's quantity
    totals = {"exports": np.sum(sales - np.sum(m_obs, axis=-2), axis=-1),
              "imports": np.sum(flow_new.sum(axis=-3) - base_v, axis=-1),
              "creation": np.sum(q_new - base_v, axis=-1)}
    cs, ps, iterations, success, message = welfare
    arrays = {"trade_creation": None, "trade_diversion": None, "price_effect": None, "flow_new": None}
    if flows:  # decomposition per market at baseline shares, as in the exact method
        ratio = exact_div(q_new, np.sum(m_eff, axis=-3))[:, None]  # Q'/Q
        creation = m_eff * ratio - m_eff  # TC = M (Q'/Q - 1)
        diversion = q - m_eff - creation  # TD = q' - M Q'/Q
        if m_eff is not m_obs:
            creation = creation + (m_eff - m_obs)  # purchase commitments count as creation
        arrays = {"trade_creation": creation, "trade_diversion": diversion, "price_effect": flow_new - q,
                  "flow_new": flow_new}
    return {**arrays, "flow_value": flow_new, "world_price_pct": 100.0 * p, "excess_demand": excess, "cs": cs,
            "ps": ps, "success": success, "iterations": iterations, "max_residual": resid, "message": message,
            **totals}


def linear_welfare(system, rhs, resid, message, that, cols, eta, c, g, p):
    """ΔCS (B, v), ΔPS (B, r) and the diagnostics of the linear method (module docstring)."""
    # P̂_v = Σ_r θ_rv [(1 + P̂*_r)(1 + T̂_rv) - 1] = c_v + g_v + Σ_r θ_rv T̂_rv P̂*_r
    p_v = c + g
    p_v[:, cols] += np.einsum("brvS,brvS,brS->bvS", np.broadcast_to(system.theta[:, :, cols], that.shape), that, p)
    # ΔCS_v = -E_v P̂_v (1 - ½ η_v P̂_v), P̂_v capped at the choke price 1/η_v of the linear demand
    eta_v = np.broadcast_to(eta, p_v.shape[-2:])
    p_v = np.minimum(p_v, 1.0 / eta_v)
    cs = -np.sum(system.e_v * p_v * (1.0 - 0.5 * eta_v * p_v), axis=-1)
    # ΔPS_r = X_r P̂*_r (1 + ½ E_x P̂*_r); 0 on trivial rows (P̂* = 0 there)
    ps = np.sum(np.where(system.fixed, 0.0, system.x_obs * p * (1.0 + 0.5 * system.eps * p)), axis=-1)
    iterations = np.any(rhs != 0, axis=(-2, -1)).astype(int)
    success = np.isfinite(resid) & (resid <= LINEAR_TOL)
    if message == "converged" and not success.all():
        message = f"linear system residual above {LINEAR_TOL:g}"
    return cs, ps, iterations, success, message
