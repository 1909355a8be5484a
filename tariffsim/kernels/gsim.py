"""GSIM (Francois & Hall 2003): global partial equilibrium per sector, all markets at once.

Belongs here: the pure numpy kernel :func:`gsim`, its outputs and the driver that picks the
sectors and blocks of scenarios to solve (the solvers: :mod:`~tariffsim.kernels.gsim_exact`,
:mod:`~tariffsim.kernels.gsim_linear`). Does not belong here: labels, parameter objects, Result, raising on failure (``tariffsim.models.pe``
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

Linearised, these are exactly F&H's equations (docs/models.rst, GSIM): the Allen elasticities of
the nested CES are N_rv,rv = θ_rv E_m - (1-θ_rv) E_s and N_rv,sv = θ_sv (E_m + E_s) with
E_m = -η, E_s = σ, and clearing Σ_v φ_rv M̂_rv = E_x P̂*_r. With ε = inf, p̂ = 1 and each
market is the SMART exact model (``tariffsim.kernels.smart``, ``method="exact"``) with the
same η and σ.

Solver: batched Newton on y = ln p̂ with a line search (:mod:`tariffsim.kernels.gsim_exact`).

Welfare (exact areas under the constant-elasticity curves; the docs/models.rst formulas are their
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

``method="linear"``: F&H's proportional-change system (docs/models.rst, GSIM), one batched linear
solve per scenario block, flows clipped at zero (:mod:`tariffsim.kernels.gsim_linear`;
per-country totals without per-flow arrays: :mod:`tariffsim.kernels.gsim_closed`).
"""

from __future__ import annotations

import numpy as np

from ._util import changed_cells, currency_wedge, offdiag_mask
from .gsim_closed import ClosedTotals
from .gsim_exact import solve_exact
from .gsim_linear import LINEAR_TOL, LinearSystem, solve_linear
from .gsim_outputs import GsimEffects, GsimMarkets
from .pe_goods import GoodsTotals
from .smart import CHUNK_CELLS, SMALL_CHUNK_CELLS
from .smart_formulas import revenue_by_importer

__all__ = ["gsim", "gsim_markets", "GsimEffects", "GsimMarkets", "GSIM_METHODS", "LINEAR_TOL"]

GSIM_METHODS = ("exact", "linear")


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
    goods=None,
) -> GsimMarkets:
    """:func:`gsim` on the sectors that change only, ``chunk`` scenarios at a time, with per-country totals.

    ``flows=False`` (``method="linear"`` only; the exact method ignores it): leave the per-flow
    arrays (TC, TD, price effect, new flows) and the (B, n, k) world prices and market-clearing
    gaps as None and compute the per-country totals only;
    they are the same either way (the linear method always takes its totals from market sums).
    ``goods`` (S,) bool marks the sectors whose duties and imports enter the ``goods_*`` totals
    (default: all sectors; :class:`~tariffsim.kernels.pe_goods.GoodsTotals`).

    World prices make every market of a sector interdependent, so (unlike SMART) all
    importers of a computed sector are solved; sectors with no change anywhere in the batch
    are skipped (their solution is y = 0 exactly). Results do not depend on ``chunk``.
    """
    if method not in GSIM_METHODS:
        raise ValueError(f"unknown GSIM method {method!r}; valid methods are {list(GSIM_METHODS)}.")
    args = (imports, tariff_base, tariff_new, import_demand, substitution, export_supply, method,
            demand_shift, currency)
    run = _Run(*args, changed, flows, goods)
    # more than one block of flows, and some importer columns unchanged (else no closed-form totals)
    closed = run.b * run.n * run.n * run.ks.size > SMALL_CHUNK_CELLS and not run.changed.any(axis=1).all()
    if run.goods.explicit and method == "linear" and not flows and run.shift is None and run.wedge is None and closed:
        # tariffs move services too: solve goods and services sectors apart (sectors are independent),
        # so that each part can take the closed-form totals and the goods part gives the goods totals
        # (a small batch takes the goods sums from its per-flow arrays: two runs would cost more)
        goods = np.asarray(goods, dtype=bool)
        parts = [_solve_run(_Run(*args, run.changed & keep, flows, mask), chunk, tol, max_iter)
                 for keep, mask in ((goods, goods), (~goods, None))]
        return _combine(*parts)
    return _solve_run(run, chunk, tol, max_iter)


def _solve_run(run, chunk, tol, max_iter) -> GsimMarkets:
    if run.ks.size:
        chunk = run.setup(chunk)
        for lo in range(0, run.b, chunk):
            run.block(slice(lo, min(lo + chunk, run.b)), tol, max_iter)
    return run.result()


def _combine(goods: GsimMarkets, services: GsimMarkets) -> GsimMarkets:
    """Per-country totals (``flows=False``) of runs on disjoint sector sets; goods totals from ``goods``.

    Each run counts the other's sectors at baseline: R1 = R1_goods + R1_services - R0.
    """
    add = {name: getattr(goods, name) + getattr(services, name)
           for name in ("consumer_surplus", "producer_surplus", "exports_change", "imports_change",
                        "creation_by_importer", "diversion_by_importer")}
    messages = [m.message for m in (goods, services) if m.message != "converged"]
    return GsimMarkets(
        sectors=np.union1d(goods.sectors, services.sectors), base=goods.base, trade_creation=None,
        trade_diversion=None, price_effect=None, flow_new=None, world_price_pct=None, excess_demand=None,
        revenue_base=goods.revenue_base, revenue_new=goods.revenue_new + services.revenue_new - goods.revenue_base,
        success=goods.success & services.success, iterations=np.maximum(goods.iterations, services.iterations),
        max_residual=np.maximum(goods.max_residual, services.max_residual),
        message=messages[0] if messages else "converged", goods_revenue_base=goods.goods_revenue_base,
        goods_revenue_new=goods.goods_revenue_new, goods_imports_change=goods.goods_imports_change, **add,
    )


class _Run:
    """State of one :func:`gsim_markets` call: inputs on the computed sectors, outputs, totals."""

    def __init__(self, imports, t0, t1, eta, sigma, eps, method, shift, currency, changed, flows, goods):
        self.t0, self.t1 = np.asarray(t0, dtype=float), np.asarray(t1, dtype=float)
        b, n, s_count = self.t0.shape[0], self.t0.shape[-2], self.t0.shape[-1]
        self.b, self.n, self.method, self.flows = b, n, method, flows
        self.mask = offdiag_mask(n)
        self.m_obs = np.asarray(imports, dtype=float) * self.mask  # (n, n, S) or (B, n, n, S)
        self.shift = None if shift is None else np.asarray(shift, dtype=float)
        self.wedge = currency_wedge(currency, n)
        self.changed = changed_cells(self.t0, self.t1) if changed is None else changed
        self.revenue_base = revenue_by_importer(self.t0, self.m_obs)  # R0_v = Σ t0 M
        active = self.changed.any(axis=0)
        if self.shift is not None:
            active |= changed_cells(np.zeros((1,) + self.shift.shape[1:]), self.shift).any(axis=0)
        if self.wedge is not None:  # the wedge touches every traded sector
            active |= np.any(self.m_obs != 0, axis=tuple(range(self.m_obs.ndim - 1)))
        self.active, self.ks = active, np.flatnonzero(active)
        self.everything = self.ks.size == s_count
        self.pick = slice(None) if self.everything else self.ks
        self.m_c = self.m_obs[..., self.pick]
        eta, sigma, eps = (np.asarray(x, dtype=float) for x in (eta, sigma, eps))
        self.eta_c = eta[..., self.pick] if eta.ndim else eta
        self.sig_c, self.eps_c = sigma[..., self.pick], eps[..., self.pick]
        keep = flows or method != "linear"
        k = self.ks.size
        self.out = {name: np.empty((b, n, n, k)) if keep else None
                    for name in ("trade_creation", "trade_diversion", "price_effect", "flow_new")}
        self.price = np.zeros((b, n, k)) if keep else None
        self.excess = np.zeros((b, n, k)) if keep else None
        self.cs, self.ps = np.zeros((b, n)), np.zeros((b, n))
        self.success, self.iterations, self.resid = np.ones(b, dtype=bool), np.zeros(b, dtype=int), np.zeros(b)
        self.revenue_new = self.revenue_base.copy()
        self.totals = {name: np.zeros((b, n)) for name in ("exports", "imports", "creation")}
        self.messages = []
        self.goods = GoodsTotals.start(goods, self.t0, self.m_obs, self.revenue_base, active)
        self.system, self.cols, self.closed = None, slice(None), None
        broadcast = b > 1 and self.t0.strides[0] == 0  # one baseline for the batch (as Shocks holds it)
        self.t0_pick = self.t0[:1][..., self.pick] if broadcast else None

    def _rest_revenue(self, weights) -> np.ndarray:
        """Σ_{r, s not computed} t0 M (x weights_s) by importer, (B, n); a broadcast baseline is summed once."""
        b, rest = self.b, ~self.active
        if self.everything:
            return np.zeros((b, self.n))
        t0 = self.t0[:1] if self.t0_pick is not None else self.t0
        t0r = t0[..., rest] if weights is None else t0[..., rest] * weights[rest]
        out = np.einsum("...ijs,...ijs->...j", t0r, np.broadcast_to(self.m_obs, t0.shape)[..., rest])
        return np.repeat(out, b, axis=0) if self.t0_pick is not None else out

    def setup(self, chunk):
        """Revenue of the sectors not computed; the linear system and closed totals; the block size."""
        b, n, k, t0, pick = self.b, self.n, self.ks.size, self.t0, self.pick
        size = chunk or max(1, CHUNK_CELLS // (n * n * k))
        # Σ_r t0 M over the sectors not computed (t1 = t0 there), then add the computed ones
        self.revenue_new = self._rest_revenue(None)
        if self.goods.explicit:
            self.goods_rest = self._rest_revenue(self.goods.weights)  # the same over goods sectors
            self.goods_c = self.goods.weights[self.ks]
        if self.method != "linear":
            return size
        if self.shift is None and self.wedge is None:  # T̂ = 0 outside the importer columns that change
            self.cols = np.flatnonzero(self.changed[:, pick].any(axis=1))
        if self.m_c.ndim == 3 and self.shift is None and (b == 1 or t0.strides[0] == 0):
            # θ, φ and A depend on t0 and M only: the same for every scenario, factorise once
            self.system = LinearSystem(self.m_c, self.m_c, t0[:1][..., pick], self.eta_c, self.sig_c, self.eps_c)
        cols = self.cols
        if (self.system is not None and not self.flows and not self.goods.explicit
                and isinstance(cols, np.ndarray) and cols.size < n):
            # per-country totals in closed form outside the importer columns that change
            self.closed = ClosedTotals(self.m_c, t0[0][..., pick], cols, self.sig_c)
            size = chunk or max(1, SMALL_CHUNK_CELLS // (n * max(cols.size, 1) * k))
        return size

    def _rates(self, sl, cols=slice(None)):
        """t0, t1 of scenarios ``sl`` on importer columns ``cols`` and the computed sectors (B, n, k_cols, k).

        A baseline broadcast over the batch stays a read-only view (no copy per block).
        """
        t1 = self.t1[sl][:, :, cols][..., self.pick]
        if self.t0_pick is not None:
            return np.broadcast_to(self.t0_pick[:, :, cols], t1.shape), t1
        return self.t0[sl][:, :, cols][..., self.pick], t1

    def block(self, sl, tol, max_iter) -> None:
        """Solve scenarios ``sl`` and store their outputs and totals."""
        mo = self.m_c[sl] if self.m_c.ndim == 4 else self.m_c
        me = mo if self.shift is None else mo + self.shift[sl][..., self.pick] * self.mask
        if self.method == "linear":
            cols = self.cols
            t0j, t1j = self._rates(sl, cols)  # only the columns that change (T̂ = 0 elsewhere)
            that = (1.0 + t1j) / (1.0 + t0j) - 1.0  # T̂ = T1/T0 - 1 on the columns that change
            if self.wedge is not None:  # T1 w / T0 - 1, exactly T̂ where w = 1
                that = that + (1.0 + that) * self.wedge[sl][..., None]
            system = self.system or LinearSystem(mo, me, self._rates(sl)[0], self.eta_c, self.sig_c, self.eps_c)
            part = solve_linear(mo, me, that, cols, self.eta_c, system, self.flows, self.closed, t0j, t1j)
            for name in self.totals:
                self.totals[name][sl] = part[name]
        else:
            t0c, t1c = self._rates(sl)
            ln_that = np.log((1.0 + t1c) / (1.0 + t0c))  # ln T̂ = ln[(1+t1)/(1+t0)]
            if self.wedge is not None:
                ln_that = ln_that + np.log1p(self.wedge[sl])[..., None]  # currency wedge, 0 where w = 1
            part = solve_exact(mo, me, t0c, ln_that, self.eta_c, self.sig_c, self.eps_c, tol, max_iter)
        self._store(sl, part, mo)

    def _store(self, sl, part, mo) -> None:
        t0c, t1c = self._rates(sl) if "revenue_change" not in part else (None, None)
        for name, array in self.out.items():
            if array is not None:
                array[sl] = part[name]
        if self.price is not None:
            self.price[sl], self.excess[sl] = part["world_price_pct"], part["excess_demand"]
        self.cs[sl], self.ps[sl] = part["cs"], part["ps"]
        self.success[sl], self.iterations[sl], self.resid[sl] = part["success"], part["iterations"], part["max_residual"]
        if "revenue_change" in part:  # closed-form totals (see ClosedTotals)
            self.revenue_new[sl] = self.revenue_base[sl] + part["revenue_change"]
        elif self.method == "linear":  # R0 + Σ t1 (M' - M) + Σ (t1 - t0) M: exactly R0 where nothing changes
            cols = self.cols
            m_b = np.broadcast_to(mo, t1c.shape)
            change = np.einsum("bijs,bijs->bj", t1c, part["flow_value"] - m_b)
            change[:, cols] += np.einsum("bijs,bijs->bj", t1c[:, :, cols] - t0c[:, :, cols], m_b[:, :, cols])
            self.revenue_new[sl] = self.revenue_base[sl] + change
        else:
            self.revenue_new[sl] = self.revenue_new[sl] + np.einsum("...ijs,...ijs->...j", t1c, part["flow_value"])
        if self.goods.explicit:  # Σ over goods sectors: t1 M' and M' - M
            value = part["flow_value"]
            self.goods.revenue_new[sl] = self.goods_rest[sl] + np.einsum("bijs,bijs->bj", t1c * self.goods_c, value)
            self.goods.imports_change[sl] = np.einsum("bijs,s->bj", value - mo, self.goods_c)
        if part["message"] != "converged":
            self.messages.append(part["message"])

    def result(self) -> GsimMarkets:
        out, b, n = self.out, self.b, self.n
        if self.method == "linear" or out["flow_new"] is None:
            # Σ_r TD_rv = 0 per market by construction (TD = q' - M Q'/Q)
            exports, imports = self.totals["exports"], self.totals["imports"]
            creation, diversion = self.totals["creation"], np.zeros((b, n))
        else:
            dflow = out["flow_new"] - self.m_c
            exports, imports = dflow.sum(axis=(-2, -1)), dflow.sum(axis=(-3, -1))
            creation = out["trade_creation"].sum(axis=(-3, -1))
            diversion = out["trade_diversion"].sum(axis=(-3, -1))
        goods = self.goods.finish(self.revenue_new, imports)
        return GsimMarkets(
            sectors=self.ks, base=self.m_obs, world_price_pct=self.price, excess_demand=self.excess,
            revenue_base=self.revenue_base, revenue_new=self.revenue_new, consumer_surplus=self.cs,
            producer_surplus=self.ps, exports_change=exports, imports_change=imports,
            creation_by_importer=creation, diversion_by_importer=diversion, success=self.success,
            iterations=self.iterations, max_residual=self.resid,
            message=self.messages[0] if self.messages else "converged",
            goods_revenue_base=goods.revenue_base, goods_revenue_new=goods.revenue_new,
            goods_imports_change=goods.imports_change, **out,
        )
