"""GSIM's levels model for one block of scenarios and sectors: batched Newton on log world prices.

Belongs here: :func:`solve_exact` and its residual / Jacobian (:class:`_State`) and line
search; the model is in :mod:`tariffsim.kernels.gsim`'s module docstring. Does not belong
here: choosing sectors and blocks, per-country totals (``kernels.gsim``).

Solver: Newton on y = ln p̂ for all scenarios, sectors and exporters at once. Residual
F_r = ln Σ_v φ_rv q̂_rv - ε y_r; Jacobian J_rs = (σ-η) Σ_v w_rv θ'_sv - (σ+ε) δ_rs with
w_rv = φ_rv q̂_rv / Σ_v φ_rv q̂_rv (r's new sales shares) and θ'_sv the new internal-price
shares in v. One batched ``np.linalg.solve`` on (B, S, N, N) per iteration; steps longer
than 1 in log price are scaled down, and a backtracking (Armijo) line search on ||F||² per
system keeps strongly nonlinear cases (σ much larger than ε) from oscillating. Exporters with no
exports in a sector and sectors with ε = inf have the trivial equation y_r = 0 (price unchanged), so no NaN appears.

Welfare (exact areas under the constant-elasticity curves; the docs/models.rst formulas are their
second-order expansions):
ΔCS_v = -E_v (P̂_v^(1-η) - 1)/(1-η), E_v = Σ_r T0 M_rv;  ΔPS_r = X_r (p̂_r^(1+ε) - 1)/(1+ε);
ΔTR_v = Σ_r t1 M'_rv - t0 M_rv with M'_rv = M_rv q̂_rv p̂_r (customs value).
"""

from __future__ import annotations

import numpy as np

from ._util import exact_div, exprel, log_ces_mean, safe_div

__all__ = ["solve_exact"]


def solve_exact(m_obs, m_eff, t0, ln_that, eta, sigma, eps_raw, tol, max_iter) -> dict:
    """Newton solution for one block of scenarios and sectors (see the module docstring)."""
    b, n, s_count = t0.shape[0], t0.shape[-2], t0.shape[-1]
    # Layout (B, r, v, S) throughout: sectors last keeps numpy's inner loops long. Only the
    # Jacobian solve uses (B, S, r, s): one N x N system per scenario and sector.
    shape = (n, n, s_count)
    inf = np.isinf(eps_raw)
    eps = np.where(inf, 0.0, eps_raw)  # finite stand-in; ε = inf rows are masked
    T0 = 1.0 + t0
    spend = T0 * m_eff  # T0 M_rv
    e_v = spend.sum(axis=-3, keepdims=True)  # E_v = Σ_r T0 M_rv, (B, 1, v, S)
    theta = safe_div(spend, e_v)  # θ_rv
    x_obs = np.broadcast_to(m_obs.sum(axis=-2), (b, n, s_count))  # X_r = Σ_v M_rv at p = 1, (B, r, S)
    phi = safe_div(np.broadcast_to(m_eff, t0.shape), x_obs[:, :, None, :])  # φ_rv = M_rv / X_r
    fixed = (x_obs <= 0) | inf  # trivial equation y_r = 0
    state = _State(theta, phi, ln_that, eta, sigma, eps, fixed, shape)
    y = np.zeros((b, n, s_count))  # ln p̂, (B, r, S)
    iterations = np.zeros(b, dtype=int)
    done = np.zeros(b, dtype=bool)
    message = "converged"
    F, cache = state.evaluate(y)
    it = 0
    for it in range(max_iter + 1):  # Newton iterations (not a loop over scenarios)
        res_b = np.max(np.abs(F), axis=(-2, -1)) if F.size else np.zeros(b)
        newly = ~done & (res_b < tol)
        iterations[newly] = it
        done |= newly
        if done.all() or it == max_iter:
            break
        try:  # J Δy = -F per (scenario, sector): (B, S, r, s) @ (B, S, s)
            step = -np.linalg.solve(state.jacobian(cache), np.swapaxes(F, -1, -2)[..., None])[..., 0]
        except np.linalg.LinAlgError:
            message = "singular Jacobian: check elasticities (η much larger than σ + ε)"
            break
        step = np.swapaxes(step, -1, -2)  # back to (B, r, S)
        longest = np.max(np.abs(step), axis=-2, keepdims=True)
        step = step / np.maximum(longest, 1.0)  # cap the longest step at 1 in log price
        step[done] = 0.0
        y, F, cache = _line_search(state, y, step, F, cache, tol)
    res_b = np.max(np.abs(F), axis=(-2, -1)) if F.size else np.zeros(b)
    success = done & np.all(np.isfinite(F), axis=(-2, -1))
    iterations[~done] = it
    if not success.all() and message == "converged":
        message = f"did not converge within {max_iter} Newton iterations (tol {tol:g})"
    out = _outputs(state, y, m_obs, m_eff, e_v, x_obs, fixed, eps, eta)
    return {**out, "success": success, "iterations": iterations, "max_residual": res_b, "message": message}


def _outputs(state, y, m_obs, m_eff, e_v, x_obs, fixed, eps, eta) -> dict:
    """Flows, their decomposition, market-clearing gaps and welfare at the solution y = ln p̂."""
    _, ln_P, ln_q = state.demand(y)
    q = m_eff * np.exp(ln_q)  # q'_rv = (M + D)_rv q̂_rv, quantities at baseline world prices
    p = np.exp(y)
    flow_new = q * p[:, :, None, :]  # customs value M'_rv = q' p̂_r
    # market-clearing gap in value: Σ_v M'_rv - X_r p̂^{1+ε}
    sales = flow_new.sum(axis=-2)
    excess = sales - np.where(fixed, sales, x_obs * p ** (1.0 + eps))
    # decomposition per market at baseline shares (see kernels.smart)
    ratio = exact_div(q.sum(axis=-3, keepdims=True), np.sum(m_eff, axis=-3, keepdims=True))  # Q'/Q
    creation = m_eff * ratio - m_eff  # TC = M (Q'/Q - 1); 0 where Q = 0 (then M = q' = 0)
    diversion = q - m_eff - creation  # TD = q' - M Q'/Q, Σ_r TD = 0
    if m_eff is not m_obs:
        creation = creation + (m_eff - m_obs)  # purchase commitments count as creation
    # ΔCS_v = -E_v (P̂^{1-η} - 1)/(1-η);  ΔPS_r = X_r (p̂^{1+ε} - 1)/(1+ε)
    cs = -np.sum(e_v * ln_P * exprel((1.0 - eta) * ln_P), axis=(-3, -1))
    ps = np.sum(np.where(fixed, 0.0, x_obs * y * exprel((1.0 + eps) * y)), axis=-1)
    return {"trade_creation": creation, "trade_diversion": diversion, "price_effect": flow_new - q,
            "flow_new": flow_new, "flow_value": flow_new, "world_price_pct": 100.0 * (p - 1.0),
            "excess_demand": excess, "cs": cs, "ps": ps}


class _State:
    """The GSIM system for fixed data: residual, Jacobian and demand at log prices y.

    Arrays (B, r, v, S); y (B, r, S); elasticities (S,), also as contiguous (n, n, S)
    copies so that products with (B, n, n, S) arrays run as one long inner loop.
    """

    def __init__(self, theta, phi, ln_that, eta, sigma, eps, fixed, shape):
        self.theta, self.phi, self.ln_that = theta, phi, ln_that
        self.eta, self.sigma, self.eps, self.fixed = eta, sigma, eps, fixed
        self.inv_that = np.exp(-ln_that)  # 1/T̂
        self.rho = 1.0 - sigma  # ρ = 1 - σ
        self.small = np.abs(self.rho) < 1e-12
        self.rho_safe = np.where(self.small, 1.0, self.rho)
        self.rho_full = np.ascontiguousarray(np.broadcast_to(self.rho, shape))
        self.sigma_minus_eta = np.broadcast_to(sigma - eta, shape[-2:])  # (v, S): σ - η_v

    def demand(self, y):
        """ln(T̂ p̂), ln P̂_v (B, 1, v, S) and ln q̂_rv (B, r, v, S) at log world prices y."""
        ln_price = self.ln_that + y[:, :, None, :]  # ln(T̂_rv p̂_r)
        ln_P = log_ces_mean(self.theta, ln_price, self.rho, axis=-3, normalized=True)
        ln_q = (self.sigma - self.eta) * ln_P - self.sigma * ln_price  # q̂ = P̂^{σ-η} (T̂p̂)^{-σ}
        return ln_price, ln_P, ln_q

    def evaluate(self, y):
        """Residual F (B, r, S) and what the Jacobian at y needs.

        F_r = ln Σ_v φ_rv q̂_rv - ε ln p̂_r; F_r = y_r where the equation is trivial.
        One transcendental pass over (B, r, v, S): with c_v = Σ_r θ_rv ln(T̂p̂)_rv and
        z = ρ (ln(T̂p̂) - c), e^z gives the price index (ln P̂ = c + log1p(Σ θ expm1 z)/ρ,
        accurate for σ near 1), the new shares θ' = θ e^z / Σ θ e^z and the demand
        q̂ = P̂^(σ-η) (T̂p̂)^(-σ) = P̂^(σ-η) e^(ρ c) e^z / (T̂ p̂).
        """
        ln_price = self.ln_that + y[:, :, None, :]  # ln(T̂_rv p̂_r)
        c = np.sum(self.theta * ln_price, axis=-3, keepdims=True)  # c_v = Σ_r θ ln(T̂p̂)
        z = self.rho_full * (ln_price - c)
        if np.max(z, initial=0.0) >= 700.0:  # e^z could overflow: the slower log-sum-exp path
            return self._evaluate_safe(y)
        ez_m1 = np.expm1(z)
        s = np.sum(self.theta * ez_m1, axis=-3, keepdims=True)  # Σ θ e^z - 1 >= 0
        ln_P = c + np.where(self.small, 0.0, np.log1p(s) / self.rho_safe)
        ez = ez_m1 + 1.0
        scale = np.exp((self.sigma - self.eta) * ln_P + self.rho * c)  # P̂^{σ-η} e^{ρc}, (B, 1, v, S)
        sales = self.phi * ez * self.inv_that * (np.exp(-y)[:, :, None, :] * scale)  # φ_rv q̂_rv
        return self._finish(y, sales, self.theta * ez / (1.0 + s))  # θ'_rv = θ e^z / Σ θ e^z

    def _evaluate_safe(self, y):
        ln_price, ln_P, ln_q = self.demand(y)
        sales = self.phi * np.exp(ln_q)  # φ_rv q̂_rv (φ = 0 off the market)
        # θ'_sv = θ_sv (T̂ p̂)_sv^{1-σ} / P̂_v^{1-σ}: new internal-price shares
        return self._finish(y, sales, self.theta * np.exp(self.rho * (ln_price - ln_P)))

    def _finish(self, y, sales, theta_new):
        demand = sales.sum(axis=-2)  # Σ_v φ_rv q̂_rv, (B, r, S)
        ok = ~self.fixed & (demand > 0)
        f = np.log(np.where(ok, demand, 1.0)) - self.eps * y
        return np.where(ok, f, y), (theta_new, sales, demand, ok)

    def jacobian(self, cache):
        """J_rs = Σ_v w_rv (σ-η_v) θ'_sv - (σ+ε) δ_rs, shape (B, S, r, s); identity rows where trivial."""
        theta_new, sales, demand, ok = cache
        w = safe_div(sales, demand[:, :, None, :])  # w_rv = φ q̂ / Σ_v φ q̂
        # Σ_v w_rv θ'_sv as a batched matmul over (B, S): (r, v) @ (v, s)
        # (σ - η_v) weights importer v (η may differ by importer): Σ_v w_rv (σ-η_v) θ'_sv
        weighted = theta_new * self.sigma_minus_eta  # (B, s, v, S)
        cross = np.matmul(np.transpose(w, (0, 3, 1, 2)), np.transpose(weighted, (0, 3, 2, 1)))
        eye = np.eye(w.shape[1])
        J = cross - (self.sigma + self.eps)[:, None, None] * eye
        return np.where(np.swapaxes(ok, -1, -2)[..., None], J, eye)


def _line_search(state, y, step, F, cache, tol, max_halvings: int = 30):
    """Backtracking (Armijo) on ||F||² per (scenario, sector) system, all systems at once.

    Accept y + α Δy when ||F(y + α Δy)||² <= (1 - 2e-4 α) ||F(y)||²; halve α otherwise. The
    loop runs over halvings only (rarely more than one pass). y, F, step: (B, r, S).
    """
    norm = np.sum(F * F, axis=-2, keepdims=True)
    # systems that are solved (no step, or residual already far below tol) need no search
    searching = np.any(step != 0, axis=-2, keepdims=True) & (norm > (1e-3 * tol) ** 2)
    alpha = np.ones(norm.shape)
    for _ in range(max_halvings):
        y_try = y + alpha * step
        F_try, cache_try = state.evaluate(y_try)
        norm_try = np.sum(F_try * F_try, axis=-2, keepdims=True)
        bad = ~(norm_try <= (1.0 - 2e-4 * alpha) * norm) & searching
        if not bad.any():
            break
        alpha = np.where(bad, 0.5 * alpha, alpha)
    return y_try, F_try, cache_try
