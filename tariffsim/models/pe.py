"""Partial-equilibrium models: WITS SMART and GSIM on a batch of Shocks.

Belongs here: the thin adapters :func:`run_smart` and :func:`run_gsim` (Shocks +
PEParameters in, :class:`~tariffsim.results.Result` out), the shared per-country columns,
warnings about shocks PE ignores, and turning solver diagnostics into ``SolverInfo`` /
``ConvergenceError``. The equations live in ``tariffsim.kernels.smart`` and
``tariffsim.kernels.gsim``.

Shocks in PE: tariffs are simulated; ``demand_shift`` (purchase commitments) shifts the
importer's demand for that exporter's sector outward by the committed amount at baseline
prices (see the kernels); ``currency`` (appreciation x pass-through c_i) is a price wedge
(1 + c_i)/(1 + c_j) on the importer's price of flow i -> j, like a tariff without revenue.
An appreciating country's goods cost more abroad and its imports cost less at home; in
GSIM its exports fall and its world price falls with them (finite ε_X).
``ntb``, ``productivity`` and ``deficit_change`` have no place in these single-sector PE
models: they are ignored with a ``UserWarning`` and a line in ``provenance["warnings"]``.

Columns shared with the other models: ``etr`` / ``etr_base`` over the world's goods sectors
(``world.goods``, as accounting and GE); ``welfare_pct`` = 100 ``welfare_change`` / GDP (baseline
value added, :func:`tariffsim.kernels.accounting.value_added`). Inputs the kernels cannot
compute raise :class:`~tariffsim.errors.DataError` first (:mod:`tariffsim.models.pe_checks`).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ConvergenceError, DataError
from ..kernels._util import div_or_nan, offdiagonal
from ..kernels.accounting import value_added
from ..kernels.gsim import GSIM_METHODS, LINEAR_TOL, gsim_markets
from ..kernels.smart import SMART_METHODS, changed_cells, smart_markets
from ..results import Result, SolverInfo
from ..shocks import Shocks
from .parameters import PEParameters, pe_defaults
from .pe_checks import check_inputs

__all__ = ["run_smart", "run_gsim"]

_IGNORED = {
    "ntb": "non-tariff barriers (ntb)",
    "productivity": "productivity",
    "deficit_change": "deficit_change (transfers)",
}


def run_smart(
    shocks: Shocks,
    params: PEParameters | None = None,
    *,
    method: str = "exact",
    flows: bool = True,
) -> Result:
    """WITS SMART single-market PE for every importer and sector of a batch of scenarios.

    Parameters
    ----------
    shocks : Shocks
        B compiled scenarios; baseline flows come from ``shocks.world``.
    params : PEParameters, optional
        Elasticities per sector; default :func:`tariffsim.models.parameters.pe_defaults`
        (σ = 1 + θ, η derived from the world's import shares).
    method : {"exact", "linear"}
        ``"exact"`` (default, as the model registry's option; also for ``run --model smart`` and
        ``compare``): nonlinear CES, closed form, flows bounded in (0, ∞) for any tariff change
        (the changes simulated here, 10-145%, are far outside the first-order range). ``"linear"``: the WITS SMART formulas
        (first order; flows clipped at zero, with a warning, where a large tariff change
        would make them negative). See :mod:`tariffsim.kernels.smart`. (0.1.0 defaulted to
        ``"linear"`` here while ``compare`` used ``"exact"``; now there is one default.)
    flows : bool
        Also return the per-flow columns (B x n x n x S arrays; turn off in large sweeps).

    Returns
    -------
    Result
        ``model="smart"``; per-country columns as in :data:`~tariffsim.results.COUNTRY_COLUMNS`
        plus ``welfare_wits``. Exporter columns (``exports``, ``producer_surplus``) add up
        the single-market results over all markets.

    Warns
    -----
    UserWarning
        Shocks PE ignores; linear flows clipped at zero.
    """
    if method not in SMART_METHODS:
        raise DataError(
            f"The 'method' parameter of run_smart must be a str among {set(SMART_METHODS)}. Got {method!r} instead."
        )
    world, params, notes, changed = _prepare(shocks, params, "smart")
    eff = smart_markets(
        world.flows, shocks.tariff_base, shocks.tariff_new,
        params.import_demand, params.substitution, params.export_supply,
        method=method, demand_shift=_used(shocks, "demand_shift"), currency=_used(shocks, "currency"),
        changed=changed, flows=flows, goods=world.goods,
    )
    solver = _smart_diagnostics(eff, method, notes, shocks.batch_size)
    country = _country_columns(shocks, eff, eff.consumer_surplus, eff.producer_surplus)
    country["welfare_wits"] = eff.welfare_wits
    full = eff.expand() if flows else None
    flow = _flow_columns(shocks, full, full.price_pct) if flows else {}
    provenance = _provenance(shocks, params, notes, method=method)
    return Result("smart", shocks.scenarios, world.countries, world.sectors, country, flow, solver, provenance)


def run_gsim(
    shocks: Shocks,
    params: PEParameters | None = None,
    *,
    method: str = "exact",
    tol: float = 1e-12,
    max_iter: int = 50,
    flows: bool = True,
    raise_on_failure: bool = True,
) -> Result:
    """GSIM global PE (Francois & Hall 2003) per sector, endogenous exporter prices.

    Parameters
    ----------
    shocks : Shocks
    params : PEParameters, optional
        Default :func:`tariffsim.models.parameters.pe_defaults`.
    method : {"exact", "linear"}
        ``"exact"``: the nonlinear levels model (constant-elasticity demand and supply),
        solved by Newton. ``"linear"``: F&H's proportional-change system (docs/models.rst, GSIM), one
        linear solve per scenario and sector, flows clipped at zero (first order: use it for
        small changes or speed). See :mod:`tariffsim.kernels.gsim`.
    tol : float
        Newton tolerance on the log market-clearing residuals (relative excess demand);
        ``method="linear"`` uses :data:`~tariffsim.kernels.gsim.LINEAR_TOL` on the residual of
        its linear system instead (``max_iter`` does not apply either).
    max_iter : int
    flows : bool
        Also return the per-flow columns.
    raise_on_failure : bool
        Raise :class:`~tariffsim.errors.ConvergenceError` (carrying the ``SolverInfo``) if
        any scenario fails; ``False`` returns the result with ``solver.success`` per scenario.

    Returns
    -------
    Result
        ``model="gsim"``; ``price_pct`` is the exporter's world-price change (the same on
        all its export flows).
    """
    if method not in GSIM_METHODS:
        raise DataError(
            f"The 'method' parameter of run_gsim must be a str among {set(GSIM_METHODS)}. Got {method!r} instead."
        )
    world, params, notes, changed = _prepare(shocks, params, "gsim")
    eff = gsim_markets(
        world.flows, shocks.tariff_base, shocks.tariff_new,
        params.import_demand, params.substitution, params.export_supply,
        method=method, demand_shift=_used(shocks, "demand_shift"), currency=_used(shocks, "currency"),
        tol=tol, max_iter=max_iter, changed=changed, flows=flows, goods=world.goods,
    )
    solver = _gsim_solver(eff, method, tol)
    if raise_on_failure and not solver.all_converged:
        _raise_not_converged(shocks, eff, solver)
    country = _country_columns(shocks, eff, eff.consumer_surplus, eff.producer_surplus)
    full = eff.expand() if flows else None
    # the exporter's world price applies to every export flow (not to the domestic diagonal)
    flow = _flow_columns(shocks, full, offdiagonal(np.broadcast_to(full.world_price_pct[:, :, None, :],
                                                                     full.flow_new.shape))) if flows else {}
    provenance = _provenance(shocks, params, notes, method=method)
    return Result("gsim", shocks.scenarios, world.countries, world.sectors, country, flow, solver, provenance)


def _smart_diagnostics(eff, method: str, notes: list[str], batch_size: int) -> SolverInfo | None:
    """Warn about clipped linear flows; SolverInfo of the exact method's closed form (None for linear)."""
    if eff.clipped.any():
        n_flows = int(eff.clipped.sum())
        n_scen = int(eff.clipped.any(axis=(1, 2, 3)).sum())
        _warn(notes, (
            f"smart (linear): {n_flows} flow(s) in {n_scen} scenario(s) would turn negative under the linear "
            "SMART formulas (tariff change too large for a first-order approximation); they were clipped at "
            "zero. Use method='exact' for large tariff changes."
        ), 4)
    solver = None
    if method == "exact":
        ok = eff.max_residual < 1e-9
        solver = SolverInfo(
            success=ok, iterations=np.zeros(batch_size, dtype=int), max_residual=eff.max_residual,
            method="closed form", tolerance=1e-9,
            message="closed-form equilibrium (no iteration); residuals evaluated",
            residual_units="log units (supply and price-index equations)",
        )
    return solver


def _raise_not_converged(shocks: Shocks, eff, solver: SolverInfo) -> None:
    """ConvergenceError naming the first scenario GSIM did not solve, carrying the SolverInfo."""
    bad = np.flatnonzero(~eff.success)
    first = int(bad[0])
    raise ConvergenceError(
        f"GSIM did not converge for {bad.size} of {shocks.batch_size} scenario(s), first "
        f"{shocks.scenarios[first]!r} (max residual {eff.max_residual[first]:.3g} after "
        f"{eff.iterations[first]} iterations; {eff.message}). Check the elasticities, raise max_iter, or "
        "pass raise_on_failure=False to keep the converged scenarios.",
        solver,
    )


def _gsim_solver(eff, method: str, tol: float) -> SolverInfo:
    """SolverInfo for GSIM's diagnostics: the linear system's residual or Newton's."""
    if method == "linear":
        return SolverInfo(
            success=eff.success, iterations=eff.iterations, max_residual=eff.max_residual,
            method="linear solve", tolerance=LINEAR_TOL, message=eff.message,
            residual_units="max |A P* - rhs| of the linear market-clearing system (first-order relative excess demand)",
        )
    return SolverInfo(
        success=eff.success, iterations=eff.iterations, max_residual=eff.max_residual,
        method="newton", tolerance=tol, message=eff.message,
        residual_units="log relative excess demand per exporter and sector",
    )


# ------------------------------------------------------------------ helpers
def _prepare(shocks: Shocks, params: PEParameters | None, model: str):
    """Parameters for the world, checked tariffs, warnings for ignored shocks, and the
    (importer, sector) table of cells whose tariff changes somewhere in the batch."""
    world = shocks.world
    if params is None:
        params = pe_defaults(world.sectors)
    elif not isinstance(params, PEParameters):
        raise DataError(
            f"The 'params' parameter of run_{model} must be a PEParameters or None. Got {type(params).__name__} "
            "instead; build one with PEParameters(...) or pe_defaults(world.sectors)."
        )
    params = params.for_world(world)  # checks labels; derives η from the world's import shares if unset
    # t0 in full; t1 only on importer columns where it differs from t0 (elsewhere t1 == t0)
    changed = changed_cells(shocks.tariff_base, shocks.tariff_new)  # (importer, sector), one pass
    check_inputs(shocks, params, model, changed)
    notes = list(shocks.warnings)
    for name, label in _IGNORED.items():
        if _used(shocks, name) is not None:
            _warn(notes, f"{model}: the {label} shock is ignored by the partial-equilibrium model; use model 'ge' for it.", 4)
    return world, params, notes, changed


def _used(shocks: Shocks, name: str):
    """The shock array if it is non-neutral anywhere in the batch, else None."""
    return getattr(shocks, name) if shocks.uses(name) else None


def _warn(notes: list[str], message: str, stacklevel: int = 3) -> None:
    """Record a warning in provenance and emit it at the user's call site."""
    notes.append(message)
    warnings.warn(message, UserWarning, stacklevel=stacklevel)


def _ratio_pct(new: np.ndarray, base: np.ndarray) -> np.ndarray:
    """100 (new/base - 1), NaN where base == 0."""
    return 100.0 * (div_or_nan(new, base) - 1.0)


def _country_columns(shocks: Shocks, eff, consumer_surplus, producer_surplus) -> dict[str, np.ndarray]:
    """Standard per-country columns from the kernels' per-country totals (baseline + changes)."""
    world = shocks.world
    m = offdiagonal(world.flows)  # imports only
    b, n = shocks.batch_size, world.n_countries
    imports_base = np.broadcast_to(m.sum(axis=(0, 2)), (b, n))  # Σ_i,s M_ij
    exports_base = np.broadcast_to(m.sum(axis=(1, 2)), (b, n))  # Σ_j,s M_ij
    goods_base = np.broadcast_to(np.einsum("ijs,s->j", m, world.goods.astype(float)), (b, n))  # Σ_i,s∈goods M_ij
    imports = imports_base + eff.imports_change
    exports = exports_base + eff.exports_change
    revenue_change = eff.revenue_new - eff.revenue_base
    welfare = consumer_surplus + producer_surplus + revenue_change  # ΔW = ΔCS + ΔPS + ΔTR
    gdp = value_added(world.flows, world.value_added_share)  # baseline value added, (n,)
    return {
        "exports_pct": _ratio_pct(exports, exports_base),
        "imports_pct": _ratio_pct(imports, imports_base),
        "exports": exports,
        "imports": imports,
        "tariff_revenue": eff.revenue_new,
        "tariff_revenue_change": revenue_change,
        # over goods sectors (world.goods), as accounting and GE: etr = Σ t'M' / Σ M' (post-substitution),
        # etr_base = Σ t M / Σ M
        "etr": div_or_nan(eff.goods_revenue_new, goods_base + eff.goods_imports_change),
        "etr_base": div_or_nan(eff.goods_revenue_base, goods_base),
        "trade_balance_change": eff.exports_change - eff.imports_change,
        "trade_creation": eff.creation_by_importer,
        "trade_diversion": eff.diversion_by_importer,
        "consumer_surplus": consumer_surplus,
        "producer_surplus": producer_surplus,
        "welfare_change": welfare,
        "welfare_pct": 100.0 * div_or_nan(welfare, np.broadcast_to(gdp, (b, n))),  # 100 ΔW / GDP
    }


def _flow_columns(shocks: Shocks, eff, price_pct: np.ndarray) -> dict[str, np.ndarray]:
    m = np.broadcast_to(offdiagonal(shocks.world.flows), shocks.tariff_new.shape)
    return {
        "flow_base": np.array(m),
        "flow_new": eff.flow_new,
        "flow_pct": _ratio_pct(eff.flow_new, m),
        "tariff_base": shocks.tariff_base,
        "tariff_new": shocks.tariff_new,
        "trade_creation": eff.trade_creation,
        "trade_diversion": eff.trade_diversion,
        "price_effect": eff.price_effect,
        "price_pct": np.broadcast_to(price_pct, shocks.tariff_new.shape).copy(),
    }


def _provenance(shocks: Shocks, params: PEParameters, notes: list[str], **extra) -> dict:
    world = shocks.world
    out = {
        "world": world.name,
        "source": world.source,
        "parameters": params.to_dict(),
        "domestic_flows": "excluded: the diagonal is not an import market",
        "warnings": notes,
    }
    out.update(extra)
    return out
