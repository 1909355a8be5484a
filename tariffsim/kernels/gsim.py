"""GSIM (Francois & Hall 2003): global partial equilibrium per sector, all markets at once.

Belongs here: the pure numpy kernel :func:`gsim` and its batched Newton solver. Does not
belong here: labels, parameter objects, Result, raising on failure (``tariffsim.models.pe``
turns the diagnostics into ``SolverInfo`` / ``ConvergenceError``).

Model (per sector s; importer v, exporter r, r != v; world prices normalised to 1)
------------------------------------------------------------------------------------
The domestic diagonal ``M[v, v, s]`` is not part of the import market: each importer's
demand system covers its imports only (as in GSIM, whose trade matrix holds bilateral
imports), and each exporter's supply is its supply to export markets, X_r = Σ_v M_rv.

We solve the nonlinear (levels) form of GSIM, as the GSIMv2 spreadsheet does ("a
multi-region non-linear model of Armington-based international trade"):

- internal price of r's variety in v: T1_rv p_r, relative to baseline T̂_rv p̂_r
  (T̂ = (1+t1)/(1+t0), p̂_r the exporter's world-price ratio P̂*)
- import price index: P̂_v^(1-σ) = Σ_r θ_rv (T̂_rv p̂_r)^(1-σ),  θ_rv = T0 M_rv / Σ_r T0 M_rv
- constant-elasticity composite demand and CES allocation:
  q̂_rv = P̂_v^(σ-η) (T̂_rv p̂_r)^(-σ)
- constant-elasticity export supply and market clearing per exporter (N equations):
  Σ_v φ_rv q̂_rv = p̂_r^ε,   φ_rv = M_rv / X_r

Linearised, these are exactly F&H's equations (MODELS.md §3): the Allen elasticities of
the nested CES are N_rv,rv = θ_rv E_m - (1-θ_rv) E_s and N_rv,sv = θ_sv (E_m + E_s) with
E_m = -η, E_s = σ, and clearing Σ_v φ_rv M̂_rv = E_x P̂*_r. With ε = inf, p̂ = 1 and each
market is the SMART exact model (``tariffsim.kernels.smart``, ``method="exact"``) with the
same η and σ.

Solver: Newton on y = ln p̂ for all scenarios, sectors and exporters at once. Residual
F_r = ln Σ_v φ_rv q̂_rv - ε y_r; Jacobian J_rs = (σ-η) Σ_v w_rv θ'_sv - (σ+ε) δ_rs with
w_rv = φ_rv q̂_rv / Σ_v φ_rv q̂_rv (r's new sales shares) and θ'_sv the new internal-price
shares in v. One batched ``np.linalg.solve`` on (B, S, N, N) per iteration; steps longer
than 1 in log price are scaled down, and a backtracking (Armijo) line search on ||F||² per
system keeps strongly nonlinear cases (σ much larger than ε) from oscillating. Exporters with no exports in a sector and sectors with
ε = inf have the trivial equation y_r = 0 (price unchanged), so no NaN appears.

Welfare (exact areas under the constant-elasticity curves; the MODELS.md formulas are their
second-order expansions):
ΔCS_v = -E_v (P̂_v^(1-η) - 1)/(1-η), E_v = Σ_r T0 M_rv;  ΔPS_r = X_r (p̂_r^(1+ε) - 1)/(1+ε);
ΔTR_v = Σ_r t1 M'_rv - t0 M_rv with M'_rv = M_rv q̂_rv p̂_r (customs value).

Elasticities: η may be (S,) or (n_importer, S) (E_m,v = -η_v); the Jacobian then weights
importer v by σ - η_v. Currency (``currency`` c): the internal price of r's variety in v
becomes T1_rv p_r (1 + c_r)/(1 + c_v), a wedge without revenue (as in ``kernels.smart``).

Work: sectors in which nothing changes anywhere in the batch are skipped (y = 0 solves
them exactly); world prices link all markets of a sector, so every importer of a computed
sector is solved. Scenarios are solved in blocks that fit in cache (:func:`gsim_markets`).

Purchase commitments (``demand_shift`` D): demand for flow rv shifts out by D at baseline
prices (the demand system runs on M + D, supply stays calibrated to the observed X), so
world prices rise; changes are reported against the observed M.

``method="linear"``: F&H's proportional-change system (MODELS.md §3)
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
- ΔPS_r = X_r P̂*_r (1 + ½ E_x P̂*_r) (MODELS.md §3); ΔCS_v = -E_v P̂_v (1 + ½ E_m,v P̂_v) with
  P̂_v = Σ_r θ_rv [(1 + P̂*_r)(1 + T̂_rv) - 1], the second-order expansion of the exact area
  (the ``+ ½ E_m E P̂² sign(P̂)`` of MODELS.md has the triangle's sign reversed for a price
  rise); for P̂_v above the choke price 1/η_v of the linear demand the area stops growing
  (P̂_v is capped there). ΔTR_v = Σ_r t1 M'_rv - t0 M_rv as in the exact model.
- ``max_residual``: max |A P̂* - rhs| (first-order relative excess demand), ``iterations``
  1 where any world price was solved for, else 0.
- ``flows=False`` with a broadcast baseline (no commitment or currency): the per-country totals
  outside the importer columns that change are per-sector products of the baseline matrices
  with (B, n) vectors (:class:`_ClosedTotals`, no (B, n, n, S) array; the same sums up to
  rounding), unless clipping could bind there (then the per-flow path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .smart import CHUNK_CELLS, SMALL_CHUNK_CELLS, _exact_div, _revenue, changed_cells, currency_wedge, log_ces_mean

__all__ = ["gsim", "gsim_markets", "GsimEffects", "GsimMarkets", "GSIM_METHODS", "LINEAR_TOL"]

GSIM_METHODS = ("exact", "linear")
#: ``method="linear"``: a scenario succeeds when max |A P̂* - rhs| of its linear systems is below this.
LINEAR_TOL = 1e-10


@dataclass(frozen=True)
class GsimEffects:
    """Outputs of :func:`gsim`. Flows are (B, n_exporter, n_importer, S), USD mn.

    Attributes
    ----------
    trade_creation, trade_diversion, price_effect, flow_new : ndarray (B, n, n, S)
        ``flow_new = M + TC + TD + price_effect`` (customs value, >= 0). TC and TD split the
        quantity change per market as SMART exact does (TC at baseline shares, Σ TD = 0).
    world_price_pct : ndarray (B, n, S)
        Change of each exporter's world price P̂*, percent.
    revenue_base, revenue_new, consumer_surplus : ndarray (B, n)
        By importer, USD mn.
    producer_surplus : ndarray (B, n)
        By exporter, USD mn.
    excess_demand : ndarray (B, n, S)
        Σ_v M'_rv - X_r p̂_r^(1+ε): market-clearing gap in value, USD mn (0 at a solution).
    success : ndarray of bool (B,)
    iterations : ndarray of int (B,)
    max_residual : ndarray (B,)
        max |F| (log units) at the returned prices.
    message : str
    """

    trade_creation: np.ndarray
    trade_diversion: np.ndarray
    price_effect: np.ndarray
    flow_new: np.ndarray
    world_price_pct: np.ndarray
    revenue_base: np.ndarray
    revenue_new: np.ndarray
    consumer_surplus: np.ndarray
    producer_surplus: np.ndarray
    excess_demand: np.ndarray
    success: np.ndarray
    iterations: np.ndarray
    max_residual: np.ndarray
    message: str


def gsim(
    imports,
    tariff_base,
    tariff_new,
    import_demand,
    substitution,
    export_supply,
    *,
    method: str = "exact",
    demand_shift=None,
    currency=None,
    tol: float = 1e-12,
    max_iter: int = 50,
) -> GsimEffects:
    """Solve GSIM for a batch of scenarios, all sectors and exporters at once.

    Parameters
    ----------
    imports : ndarray of shape (n, n, S) or (B, n, n, S)
        Baseline flows M[r, v, s] exporter -> importer, USD mn; the diagonal is ignored.
    tariff_base, tariff_new : ndarray of shape (B, n, n, S)
        Ad valorem rates t0, t1 (decimal, > -1).
    import_demand : ndarray of shape (S,) or (n_importer, S)
        η > 0 (E_m = -η), per importer v if 2-D.
    substitution : ndarray of shape (S,)
        σ > 0 (E_s = σ).
    export_supply : ndarray of shape (S,)
        ε > 0 (E_x), ``inf`` allowed (given world prices).
    demand_shift : ndarray of shape (B, n, n, S), optional
        Purchase commitments, USD mn.
    currency : ndarray of shape (B, n), optional
        Appreciation x pass-through c per country: price wedge (1 + c_r)/(1 + c_v) on the
        importer's price of flow r -> v (no revenue; see the module docstring).
    method : {"exact", "linear"}
        ``"exact"``: the nonlinear levels model, Newton. ``"linear"``: F&H's proportional-change
        system, one linear solve (module docstring); ``tol`` and ``max_iter`` do not apply.
    tol : float
        Convergence when max |F| < tol (log units: relative excess demand).
    max_iter : int

    Returns
    -------
    GsimEffects
        With ``success`` False where the solver did not converge (no exception here).
    """
    return gsim_markets(imports, tariff_base, tariff_new, import_demand, substitution, export_supply,
                        method=method, demand_shift=demand_shift, currency=currency, tol=tol,
                        max_iter=max_iter).expand()


@dataclass(frozen=True)
class GsimMarkets:
    """:func:`gsim_markets` output: flow arrays on the computed sectors only.

    Attributes
    ----------
    sectors : ndarray of int (k,)
        Sectors computed (something changes in them somewhere in the batch); all other
        sectors are unchanged exactly (y = 0 solves their equations).
    base : ndarray (n, n, S) or (B, n, n, S)
        Observed baseline imports (diagonal zeroed).
    trade_creation, trade_diversion, price_effect, flow_new : ndarray (B, n, n, k) or None
        None with ``method="linear", flows=False`` (then :meth:`expand` is not available).
    world_price_pct, excess_demand : ndarray (B, n, k) or None
        None with ``method="linear", flows=False`` (per exporter and sector; not needed for totals).
    revenue_base, revenue_new, consumer_surplus, producer_surplus : ndarray (B, n)
    exports_change, imports_change, creation_by_importer, diversion_by_importer : ndarray (B, n)
    success, iterations, max_residual, message : as in :class:`GsimEffects`
    """

    sectors: np.ndarray
    base: np.ndarray
    trade_creation: np.ndarray
    trade_diversion: np.ndarray
    price_effect: np.ndarray
    flow_new: np.ndarray
    world_price_pct: np.ndarray
    excess_demand: np.ndarray
    revenue_base: np.ndarray
    revenue_new: np.ndarray
    consumer_surplus: np.ndarray
    producer_surplus: np.ndarray
    exports_change: np.ndarray
    imports_change: np.ndarray
    creation_by_importer: np.ndarray
    diversion_by_importer: np.ndarray
    success: np.ndarray
    iterations: np.ndarray
    max_residual: np.ndarray
    message: str

    def expand(self) -> GsimEffects:
        """Full arrays: (B, n, n, S) flows, (B, n, S) prices (baseline / zero outside the computed sectors)."""
        b = self.revenue_base.shape[0]
        n, s_count = self.base.shape[-2], self.base.shape[-1]
        k = self.sectors

        def full(part, fill, shape):
            if part.shape == shape:
                return part
            out = np.empty(shape)
            out[...] = fill
            out[..., k] = part
            return out

        flows = (b, n, n, s_count)
        return GsimEffects(
            trade_creation=full(self.trade_creation, 0.0, flows),
            trade_diversion=full(self.trade_diversion, 0.0, flows),
            price_effect=full(self.price_effect, 0.0, flows),
            flow_new=full(self.flow_new, self.base, flows),
            world_price_pct=full(self.world_price_pct, 0.0, (b, n, s_count)),
            revenue_base=self.revenue_base,
            revenue_new=self.revenue_new,
            consumer_surplus=self.consumer_surplus,
            producer_surplus=self.producer_surplus,
            excess_demand=full(self.excess_demand, 0.0, (b, n, s_count)),
            success=self.success,
            iterations=self.iterations,
            max_residual=self.max_residual,
            message=self.message,
        )


def gsim_markets(
    imports,
    tariff_base,
    tariff_new,
    import_demand,
    substitution,
    export_supply,
    *,
    method: str = "exact",
    demand_shift=None,
    currency=None,
    tol: float = 1e-12,
    max_iter: int = 50,
    chunk: int | None = None,
    changed=None,
    flows: bool = True,
) -> GsimMarkets:
    """:func:`gsim` on the sectors that change only, ``chunk`` scenarios at a time, with per-country totals.

    ``flows=False`` (``method="linear"`` only; the exact method ignores it): leave the per-flow
    arrays (TC, TD, price effect, new flows) and the (B, n, k) world prices and market-clearing
    gaps as None and compute the per-country totals only;
    they are the same either way (the linear method always takes its totals from market sums).

    World prices make every market of a sector interdependent, so (unlike SMART) all
    importers of a computed sector are solved; sectors with no change anywhere in the batch
    are skipped (their solution is y = 0 exactly). Results do not depend on ``chunk``.
    """
    if method not in GSIM_METHODS:
        raise ValueError(f"unknown GSIM method {method!r}; valid methods are {list(GSIM_METHODS)}.")
    t0 = np.asarray(tariff_base, dtype=float)
    t1 = np.asarray(tariff_new, dtype=float)
    b, n, s_count = t0.shape[0], t0.shape[-2], t0.shape[-1]
    offdiag = (1.0 - np.eye(n))[:, :, None]
    m_obs = np.asarray(imports, dtype=float) * offdiag  # (n, n, S) or (B, n, n, S)
    shift = None if demand_shift is None else np.asarray(demand_shift, dtype=float)
    wedge = currency_wedge(currency, n)
    eta = np.asarray(import_demand, dtype=float)
    sigma = np.asarray(substitution, dtype=float)
    eps_raw = np.asarray(export_supply, dtype=float)
    m_full = np.broadcast_to(m_obs, t0.shape)
    revenue_base = _revenue(t0, m_obs)  # R0_v = Σ t0 M
    active = (changed_cells(t0, t1) if changed is None else changed).any(axis=0)
    if shift is not None:
        active |= changed_cells(np.zeros((1,) + shift.shape[1:]), shift).any(axis=0)
    if wedge is not None:
        active |= np.any(m_obs != 0, axis=tuple(range(m_obs.ndim - 1)))  # the wedge touches every traded sector
    ks = np.flatnonzero(active)
    everything = ks.size == s_count
    pick = slice(None) if everything else ks
    m_c = m_obs[..., pick]
    batched_m = m_c.ndim == 4
    eta_c = eta[..., pick] if eta.ndim else eta
    sig_c, eps_c = sigma[..., pick], eps_raw[..., pick]
    shape4 = (b, n, n, ks.size)
    out = {name: np.empty(shape4) if flows or method != "linear" else None
           for name in ("trade_creation", "trade_diversion", "price_effect", "flow_new")}
    price = np.zeros((b, n, ks.size))
    excess = np.zeros((b, n, ks.size))
    cs, ps = np.zeros((b, n)), np.zeros((b, n))
    success = np.ones(b, dtype=bool)
    iterations = np.zeros(b, dtype=int)
    resid = np.zeros(b)
    revenue_new = revenue_base.copy()
    messages = []
    if ks.size:
        chunk_arg = chunk
        chunk = chunk or max(1, CHUNK_CELLS // (n * n * ks.size))
        closed = None
        # Σ_r t0 M over the sectors not computed (t1 = t0 there), then add the computed ones
        revenue_new = (np.zeros((b, n)) if everything
                       else np.einsum("...ijs,...ijs->...j", t0[..., ~active], m_full[..., ~active]))
        system, cols = None, slice(None)
        if method == "linear":
            if not flows:
                out, price, excess = {name: None for name in out}, None, None
            totals = {name: np.zeros((b, n)) for name in ("exports", "imports", "creation")}
            if shift is None and wedge is None:  # T̂ = 0 outside the importer columns that change
                cols = np.flatnonzero((changed_cells(t0, t1) if changed is None else changed)[:, pick].any(axis=1))
            if not batched_m and shift is None and (b == 1 or t0.strides[0] == 0):
                # θ, φ and A depend on t0 and M only: the same for every scenario, factorise once
                system = _LinearSystem(m_c, m_c, t0[:1][..., pick], eta_c, sig_c, eps_c)
            if system is not None and not flows and isinstance(cols, np.ndarray) and cols.size < n:
                # per-country totals in closed form outside the importer columns that change
                closed = _ClosedTotals(m_c, t0[0][..., pick], cols, sig_c)
                chunk = chunk_arg or max(1, SMALL_CHUNK_CELLS // (n * max(cols.size, 1) * ks.size))
        for lo in range(0, b, chunk):
            sl = slice(lo, min(lo + chunk, b))
            t0c, t1c = t0[sl][..., pick], t1[sl][..., pick]
            mo = m_c[sl] if batched_m else m_c
            me = mo if shift is None else mo + shift[sl][..., pick] * offdiag
            if method == "linear":
                t0j, t1j = t0c[:, :, cols], t1c[:, :, cols]
                that = (1.0 + t1j) / (1.0 + t0j) - 1.0  # T̂ = T1/T0 - 1 on the columns that change
                if wedge is not None:  # T1 w / T0 - 1, exactly T̂ where w = 1
                    that = that + (1.0 + that) * wedge[sl][..., None]
                sys_c = system if system is not None else _LinearSystem(mo, me, t0c, eta_c, sig_c, eps_c)
                part = _solve_linear(mo, me, that, cols, eta_c, sys_c, flows, closed, t0j, t1j)
                for name in totals:
                    totals[name][sl] = part[name]
            else:
                ln_that = np.log((1.0 + t1c) / (1.0 + t0c))  # ln T̂ = ln[(1+t1)/(1+t0)]
                if wedge is not None:
                    ln_that = ln_that + np.log1p(wedge[sl])[..., None]  # currency wedge, 0 where w = 1
                part = _solve(mo, me, t0c, ln_that, eta_c, sig_c, eps_c, tol, max_iter)
            for name in out:
                if out[name] is not None:
                    out[name][sl] = part[name]
            if price is not None:
                price[sl], excess[sl] = part["world_price_pct"], part["excess_demand"]
            cs[sl], ps[sl] = part["cs"], part["ps"]
            success[sl], iterations[sl], resid[sl] = part["success"], part["iterations"], part["max_residual"]
            if "revenue_change" in part:  # closed-form totals (see _ClosedTotals)
                revenue_new[sl] = revenue_base[sl] + part["revenue_change"]
            elif method == "linear":  # R0 + Σ t1 (M' - M) + Σ (t1 - t0) M: exactly R0 where nothing changes
                m_b = np.broadcast_to(mo, t1c.shape)
                change = np.einsum("bijs,bijs->bj", t1c, part["flow_value"] - m_b)
                change[:, cols] += np.einsum("bijs,bijs->bj", t1j - t0j, m_b[:, :, cols])
                revenue_new[sl] = revenue_base[sl] + change
            else:
                revenue_new[sl] = revenue_new[sl] + np.einsum("...ijs,...ijs->...j", t1c, part["flow_value"])
            if part["message"] != "converged":
                messages.append(part["message"])
        if method == "linear":
            # Σ_r TD_rv = 0 per market by construction (TD = q' - M Q'/Q)
            return GsimMarkets(
                sectors=ks, base=m_obs, world_price_pct=price, excess_demand=excess, revenue_base=revenue_base,
                revenue_new=revenue_new, consumer_surplus=cs, producer_surplus=ps,
                exports_change=totals["exports"], imports_change=totals["imports"],
                creation_by_importer=totals["creation"], diversion_by_importer=np.zeros((b, n)),
                success=success, iterations=iterations, max_residual=resid,
                message=messages[0] if messages else "converged", **out,
            )
    dflow = out["flow_new"] - m_c
    return GsimMarkets(
        sectors=ks, base=m_obs, world_price_pct=price, excess_demand=excess, revenue_base=revenue_base,
        revenue_new=revenue_new, consumer_surplus=cs, producer_surplus=ps,
        exports_change=dflow.sum(axis=(-2, -1)), imports_change=dflow.sum(axis=(-3, -1)),
        creation_by_importer=out["trade_creation"].sum(axis=(-3, -1)),
        diversion_by_importer=out["trade_diversion"].sum(axis=(-3, -1)),
        success=success, iterations=iterations, max_residual=resid,
        message=messages[0] if messages else "converged", **out,
    )


def _solve(m_obs, m_eff, t0, ln_that, eta, sigma, eps_raw, tol, max_iter) -> dict:
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
    theta = _safe_div(spend, e_v)  # θ_rv
    x_obs = np.broadcast_to(m_obs.sum(axis=-2), (b, n, s_count))  # X_r = Σ_v M_rv at p = 1, (B, r, S)
    phi = _safe_div(np.broadcast_to(m_eff, t0.shape), x_obs[:, :, None, :])  # φ_rv = M_rv / X_r
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

    _, ln_P, ln_q = state.demand(y)
    q = m_eff * np.exp(ln_q)  # q'_rv = (M + D)_rv q̂_rv, quantities at baseline world prices
    p = np.exp(y)
    flow_new = q * p[:, :, None, :]  # customs value M'_rv = q' p̂_r
    # market-clearing gap in value: Σ_v M'_rv - X_r p̂^{1+ε}
    sales = flow_new.sum(axis=-2)
    excess = sales - np.where(fixed, sales, x_obs * p ** (1.0 + eps))
    # decomposition per market at baseline shares (see kernels.smart)
    ratio = _exact_div(q.sum(axis=-3, keepdims=True), np.sum(m_eff, axis=-3, keepdims=True))  # Q'/Q
    creation = m_eff * ratio - m_eff  # TC = M (Q'/Q - 1); 0 where Q = 0 (then M = q' = 0)
    diversion = q - m_eff - creation  # TD = q' - M Q'/Q, Σ_r TD = 0
    if m_eff is not m_obs:
        creation = creation + (m_eff - m_obs)  # purchase commitments count as creation
    # ΔCS_v = -E_v (P̂^{1-η} - 1)/(1-η);  ΔPS_r = X_r (p̂^{1+ε} - 1)/(1+ε)
    cs = -np.sum(e_v * ln_P * _exprel((1.0 - eta) * ln_P), axis=(-3, -1))
    ps = np.sum(np.where(fixed, 0.0, x_obs * y * _exprel((1.0 + eps) * y)), axis=-1)
    return {"trade_creation": creation, "trade_diversion": diversion, "price_effect": flow_new - q,
            "flow_new": flow_new, "flow_value": flow_new, "world_price_pct": 100.0 * (p - 1.0),
            "excess_demand": excess, "cs": cs, "ps": ps,
            "success": success, "iterations": iterations, "max_residual": res_b, "message": message}


def _solve_linear(m_obs, m_eff, that, cols, eta, system, flows, closed=None, t0j=None, t1j=None) -> dict:
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
    if closed is not None:
        d = system.a * (c + g)  # a_v (c_v + g_v), (B, v, S)
        if closed.unclipped(d, p, system.sigma):
            return _finish_closed(closed, system, rhs, resid, message, that, cols, eta, c, g, d, p, t0j, t1j)
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
    cs, ps, iterations, success, message = _linear_welfare(system, rhs, resid, message, that, cols, eta, c, g, p)
    arrays = {"trade_creation": None, "trade_diversion": None, "price_effect": None, "flow_new": None}
    if flows:  # decomposition per market at baseline shares, as in the exact method
        ratio = _exact_div(q_new, np.sum(m_eff, axis=-3))[:, None]  # Q'/Q
        creation = m_eff * ratio - m_eff  # TC = M (Q'/Q - 1)
        diversion = q - m_eff - creation  # TD = q' - M Q'/Q
        if m_eff is not m_obs:
            creation = creation + (m_eff - m_obs)  # purchase commitments count as creation
        arrays = {"trade_creation": creation, "trade_diversion": diversion, "price_effect": flow_new - q,
                  "flow_new": flow_new}
    return {**arrays, "flow_value": flow_new, "world_price_pct": 100.0 * p, "excess_demand": excess, "cs": cs,
            "ps": ps, "success": success, "iterations": iterations, "max_residual": resid, "message": message,
            **totals}


def _linear_welfare(system, rhs, resid, message, that, cols, eta, c, g, p):
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


class _ClosedTotals:
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


def _finish_closed(closed, system, rhs, resid, message, that, cols, eta, c, g, d, p, t0j, t1j) -> dict:
    """:func:`_solve_linear` totals by :class:`_ClosedTotals` (no clipping outside ``cols``).

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
    cs, ps, iterations, success, message = _linear_welfare(system, rhs, resid, message, that, cols, eta, c, g, p)
    return {"trade_creation": None, "trade_diversion": None, "price_effect": None, "flow_new": None,
            "world_price_pct": None, "excess_demand": None, "cs": cs, "ps": ps, "success": success,
            "iterations": iterations, "max_residual": resid, "message": message,
            "exports": exports, "imports": imports, "creation": creation, "revenue_change": revenue}


class _LinearSystem:
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
        self.theta = _safe_div(spend, self.e_v[:, None])  # θ_rv
        self.x_obs = np.broadcast_to(m_obs.sum(axis=-2), lead + (n, s_count))  # X_r = Σ_v M_rv, (B', r, S)
        self.fixed = (self.x_obs <= 0) | inf  # trivial rows: P̂*_r = 0
        self.phi = _safe_div(np.broadcast_to(m_eff, t0.shape), self.x_obs[:, :, None, :])  # φ_rv = (M + D)_rv / X_r
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
        w = _safe_div(sales, demand[:, :, None, :])  # w_rv = φ q̂ / Σ_v φ q̂
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


def _safe_div(num, den):
    """num / den where den != 0, else 0 (num finite; explicit mask on den, then one product)."""
    ok = den != 0
    return num * np.where(ok, 1.0 / np.where(ok, den, 1.0), 0.0)


def _exprel(z):
    """(e^z - 1)/z with the limit 1 at z = 0."""
    zero = z == 0
    return np.where(zero, 1.0, np.expm1(z) / np.where(zero, 1.0, z))
