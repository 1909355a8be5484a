"""Liberation Day model adapter: Shocks in, Result out (model ``"ld"``).

The one-sector model of Ignatenko, Macedoni, Lashkaripour & Simonovska (JIE 157 (2025)
104138): CES trade with a trade elasticity ε, labour supply L̂ = (τ̂ŵ/P̂)^κ, fixed costs ν_i
paid where goods are sold (pass-through φ_i = φ̃ + ν_i/(1−ν_i)(1+ψ)), tariff revenue that cuts
the income tax or is rebated lump sum, deficits fixed as a share of world GDP. The economics
lives in :mod:`tariffsim.kernels.ld_onesector`; this module validates options, turns a world
(any number of sectors) into the one-sector baseline and packs a :class:`~tariffsim.results.Result`.

Sectors are aggregated: flows summed over sectors, tariffs trade-weighted by sector flows
(baseline flows for both the baseline and the new rates), per scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import ConvergenceError, DataError, shorten_list
from ..kernels.ld_calibrate import pass_through
from ..kernels.ld_multisector import (
    MSBaseline,
    calibrate_multisector,
    solve_multisector,
)
from ..kernels.ld_onesector import (
    DEFICIT_OPTIONS,
    REVENUE_OPTIONS,
    LDBaseline,
    LDParams,
    solve,
)
from ..kernels.ld_outputs import outputs
from ..results import Result, SolverInfo

__all__ = ["run_ld", "LD_COLUMNS", "PAPER_FIXED_COST_SHARES", "VARIANTS", "setup"]

#: ν calibrated in the paper (12% and 26% fixed-cost targets, 2023 BACI data): US and everyone else.
PAPER_FIXED_COST_SHARES = {"USA": 0.2705, "other": 0.1143}
#: Model variants: the paper's baseline and Eaton–Kortum–Krugman (no fixed costs, φ = φ̃).
VARIANTS = ("ld", "ekk")
#: One sector (flows summed over sectors) or the multi-sector model.
SECTOR_OPTIONS = ("aggregate", "multi")

#: Columns beyond :data:`tariffsim.results.COUNTRY_COLUMNS` that this model adds.
LD_COLUMNS: dict[str, str] = {
    "employment_pct": "100*(L_hat - 1), change in hours worked (labour supply L_hat = (tau_hat w_hat / P_hat)^kappa)",
    "consumer_price_pct": "100*(P_hat - 1), consumer price index incl. tariffs and fixed-cost pass-through "
                          "(numeraire: world-expenditure-weighted consumer prices fixed); same as price_index_pct",
    "deficit_pct": "100*(D'/D - 1)*sign(D), change in the trade deficit D = purchases - sales (authors' definition)",
    "exports_gdp_pct": "100*((exports'/GDP')/(exports/GDP) - 1), exports at customs value",
    "imports_gdp_pct": "100*((imports'/GDP')/(imports/GDP) - 1), imports at customs value",
    "tariff_revenue_share": "tariff revenue after the shock / baseline expenditure (decimal)",
    "wage_pct": "100*(w_hat - 1), nominal wage (numeraire as consumer_price_pct)",
    "employment_reallocation_pct": "multi-sector: 50*sum_k ell_k |ell_hat_k - 1|, percent of workers who change sector",
}


@dataclass(frozen=True)
class Setup:
    """One-sector baseline and parameters built from a world (batch of B baselines)."""

    base: LDBaseline
    params: LDParams
    tariff_new: np.ndarray  # (B, n, n)
    provenance: dict
    multi: MSBaseline | None = None  # the multi-sector baseline with sectors="multi"
    eps_sector: np.ndarray | None = None  # ε by sector (K,)


def _positive(name: str, value: float, allow_zero: bool = True) -> float:
    v = float(value)
    ok = np.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        rng = "[0, inf)" if allow_zero else "(0, inf)"
        raise DataError(f"The {name!r} parameter of run_ld must be a float in the range {rng}. Got {value!r} instead.")
    return v


def _epsilon(shocks, trade_elasticity) -> tuple[float, str, np.ndarray]:
    """ε for the one-sector model: a number, a source name, or sector values averaged with world import weights.

    Sector values (array (S,) or Series by sector, or a ``tariffsim.datasets.load_elasticities``
    source name such as "cp2015") are averaged as ε = Σ_s M_s ε_s / Σ_s M_s, M_s = world imports
    of sector s at baseline (off-diagonal flows). "uniform4" is ε = 4 (Simonovska & Waugh 2014; the paper).
    """
    world = shocks.world
    if isinstance(trade_elasticity, str):
        if trade_elasticity == "uniform4":
            return 4.0, "uniform4 (Simonovska-Waugh 2014, the paper's value)", np.full(len(world.sectors), 4.0)
        from ..datasets import load_elasticities

        try:
            values = load_elasticities(trade_elasticity)
        except DataError as exc:
            raise DataError(f"{exc} Or 'uniform4', or a number.") from None
        source = f"{trade_elasticity} (tariffsim.datasets.load_elasticities), import-weighted mean over sectors"
    elif np.ndim(trade_elasticity) == 0:
        eps = _positive("trade_elasticity", trade_elasticity, allow_zero=False)
        return eps, "user", np.full(len(world.sectors), eps)
    else:
        values, source = trade_elasticity, "user sector values, import-weighted mean over sectors"
    if hasattr(values, "reindex"):
        missing = [x for x in world.sectors if x not in values.index]
        if missing:
            raise DataError(f"the trade_elasticity values lack sector(s) {shorten_list(missing)} of this world; "
                            f"give a value for each of {shorten_list(world.sectors)}.")
        values = values.reindex(list(world.sectors)).to_numpy(float)
    values = np.asarray(values, float)
    if values.shape != (len(world.sectors),) or not np.all(np.isfinite(values) & (values > 0)):
        raise DataError(f"trade_elasticity by sector must be {len(world.sectors)} positive numbers; got shape "
                        f"{values.shape}.")
    n = len(world.countries)
    imports = (world.flows * (1.0 - np.eye(n))[:, :, None]).sum((0, 1))
    return float((imports * values).sum() / imports.sum()), source, values


def _nu(countries: tuple[str, ...], fixed_cost_share) -> np.ndarray:
    n = len(countries)
    if fixed_cost_share is None or (isinstance(fixed_cost_share, str) and fixed_cost_share == "paper"):
        nu = np.full(n, PAPER_FIXED_COST_SHARES["other"])
        if "USA" in countries:
            nu[countries.index("USA")] = PAPER_FIXED_COST_SHARES["USA"]
        return nu
    if isinstance(fixed_cost_share, dict):
        unknown = [k for k in fixed_cost_share if k not in countries and k != "other"]
        if unknown:
            raise DataError(f"fixed_cost_share names {shorten_list(unknown)} that are not countries of this world "
                            f"({shorten_list(countries)}); use ISO3 codes or 'other'.")
        nu = np.full(n, float(fixed_cost_share.get("other", 0.0)))
        for k, v in fixed_cost_share.items():
            if k != "other":
                nu[countries.index(k)] = float(v)
    else:
        try:
            nu = np.broadcast_to(np.asarray(fixed_cost_share, float), (n,)).copy()
        except ValueError:
            raise DataError(f"fixed_cost_share must be 'paper', a scalar, a dict ISO3 -> share, or an array of "
                            f"shape ({n},); got shape {np.shape(fixed_cost_share)}.") from None
    if not np.all((nu >= 0) & (nu < 1)):
        raise DataError(f"fixed_cost_share must lie in [0, 1); got min {nu.min():g}, max {nu.max():g}.")
    return nu


def _aggregate(shocks, tariff_inclusive_flows: bool):
    """Sector-aggregated flows X0[j, i] at customs value and tariffs (B, n, n), trade-weighted."""
    F = np.asarray(shocks.world.flows, float)  # (n, n, S)
    t0, t1 = np.asarray(shocks.tariff_base, float), np.asarray(shocks.tariff_new, float)
    if tariff_inclusive_flows:  # flows include the baseline duty (ustariff's convention): customs = X/(1+t0)
        F = F[None] / (1.0 + t0)
    else:
        F = np.broadcast_to(F, t0.shape)
    X = F.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tb = np.where(X > 0, (F * t0).sum(-1) / X, t0.mean(-1))
        tn = np.where(X > 0, (F * t1).sum(-1) / X, t1.mean(-1))
    return X, tb, tn


def setup(shocks, *, trade_elasticity=4.0, labour_elasticity: float = 0.5, scale_elasticity=None,
          fixed_cost_share="paper", passthrough: float = 1.0, variant: str = "ld", revenue: str = "income_tax",
          deficits: str = "world_gdp", tariff_inclusive_flows: bool = False, sectors: str = "aggregate") -> Setup:
    """Validate options and build the one-sector baseline (see :func:`run_ld` for the parameters)."""
    if variant not in VARIANTS:
        raise DataError(f"The 'variant' parameter of run_ld must be a str among {set(VARIANTS)}. "
                        f"Got {variant!r} instead.")
    if revenue not in REVENUE_OPTIONS:
        raise DataError(f"The 'revenue' parameter of run_ld must be a str among {set(REVENUE_OPTIONS)}. "
                        f"Got {revenue!r} instead.")
    if deficits not in DEFICIT_OPTIONS + ("purge",):
        raise DataError(f"The 'deficits' parameter of run_ld must be a str among {set(DEFICIT_OPTIONS + ('purge',))}. "
                        f"Got {deficits!r} instead.")
    if deficits == "purge" and sectors == "multi":
        raise DataError("deficits='purge' is available in the one-sector model only; use sectors='aggregate' or "
                        "another deficits closure.")
    if sectors not in SECTOR_OPTIONS:
        raise DataError(f"The 'sectors' parameter of run_ld must be a str among {set(SECTOR_OPTIONS)}. "
                        f"Got {sectors!r} instead.")
    eps, eps_source, eps_sector = _epsilon(shocks, trade_elasticity)
    kappa = _positive("labour_elasticity", labour_elasticity)
    psi = 0.67 / eps if scale_elasticity is None else _positive("scale_elasticity", scale_elasticity)
    world = shocks.world
    if np.any(shocks.tariff_base <= -1) or np.any(shocks.tariff_new <= -1):
        raise DataError("tariffs must be > -1 (decimal rates, 0.25 = 25%).")
    if not np.all(shocks.tariff_base == shocks.tariff_base[:1]):
        raise DataError("run_ld needs one baseline tariff for the whole batch; split scenarios with different "
                        "baselines into separate runs.")
    nu = np.zeros(len(world.countries)) if variant == "ekk" else _nu(world.countries, fixed_cost_share)
    X, tb, tn = _aggregate(shocks, tariff_inclusive_flows)
    X, tb = X[0], tb[0]
    if np.any(np.diagonal(X) <= 0):
        bad = [world.countries[k] for k in np.flatnonzero(np.diagonal(X) <= 0)]
        raise DataError(f"the world has no domestic sales for {shorten_list(bad)}; the LD model needs them "
                        "(fill the diagonal, e.g. GDP minus exports).")
    spend = X * (1.0 + tb)  # tariff-inclusive spending X_ji (1 + t_ji)
    E = spend.sum(0)
    Y = (X * (1.0 - nu)[None, :]).sum(1) + nu * X.sum(0)  # IMLS 11 at the baseline (customs values)
    R0 = (X * tb).sum(0)
    base = LDBaseline(lam=spend / E[None, :], E=E, Y=Y, T=E - Y - R0, nu=nu, tariff=tb)
    phi = pass_through(nu, eps, psi, passthrough)
    params = LDParams(eps=eps, kappa=kappa, psi=psi, phi=phi, revenue=revenue, deficits=deficits)
    if deficits == "purge":  # re-solve the baseline with zero transfers and use it as the baseline (as GE's purge)
        params = replace(params, deficits="balanced")
        zero = solve(base, base.tariff, params)
        if not zero.success.all():
            raise ConvergenceError("the purged (balanced-trade) baseline did not converge "
                                   f"(residual {zero.residual.max():.3g})")
        E1 = zero.E_hat[0] * base.E
        base = LDBaseline(lam=zero.lam_new[0], E=E1, Y=zero.w_hat[0] * zero.L_hat[0] * base.Y,
                          T=np.zeros_like(E1), nu=nu, tariff=tb)
    prov = {
        "world": world.name, "source": world.source, "variant": variant, "trade_elasticity": eps,
        "trade_elasticity_source": eps_source,
        "labour_elasticity": kappa, "scale_elasticity": psi, "passthrough": passthrough,
        "fixed_cost_share": dict(zip(world.countries, nu.tolist())), "revenue": revenue, "deficits": deficits,
        "tariff_inclusive_flows": tariff_inclusive_flows,
        "sectors": ("aggregated to one sector (flows summed, tariffs weighted by baseline flows)"
                    if sectors == "aggregate" else "multi-sector (labour mobile across sectors)"),
        "numeraire": "world-expenditure-weighted consumer price index fixed",
        "reference": "Ignatenko, Macedoni, Lashkaripour & Simonovska (2025), J. Int. Econ. 157, 104138",
    }
    ms = None
    if sectors == "multi":
        F = np.asarray(world.flows, float)
        if tariff_inclusive_flows:
            F = F / (1.0 + shocks.tariff_base[0])
        ms = calibrate_multisector(F, np.asarray(shocks.tariff_base[0], float), nu)
        prov["trade_elasticity"] = dict(zip(world.sectors, eps_sector.tolist()))
    return Setup(base, params, tn, prov, ms, eps_sector)


def run_ld(shocks, *, trade_elasticity=4.0, labour_elasticity: float = 0.5, scale_elasticity=None,
           fixed_cost_share="paper", passthrough: float = 1.0, variant: str = "ld", revenue: str = "income_tax",
           deficits: str = "world_gdp", tariff_inclusive_flows: bool = False, sectors: str = "aggregate",
           tol: float = 1e-11, max_iter: int = 5000, raise_on_failure: bool = True) -> Result:
    """The Liberation Day model (one sector), batched over the scenarios of ``shocks``.

    Parameters
    ----------
    shocks : Shocks
        B scenarios on a world (any number of sectors: aggregated to one). Only tariffs are
        used; ``tariff_base`` is the baseline tariff array (same for the batch).
    trade_elasticity : float, str, array (S,) or Series
        ε (the paper: 4; Table 9: 8), a source name of ``tariffsim.datasets.load_elasticities``
        ("cp2015", "fgo2022", "shapiro2016", "ll2023", "gyy2021") or "uniform4", or sector values;
        sector values are averaged with world import weights (one-sector model).
    labour_elasticity : float
        κ, Frisch-type labour-supply elasticity (0.5; 0 = fixed employment).
    scale_elasticity : float, optional
        ψ, scale (entry) elasticity; default 0.67/ε as in the paper (multi-sector: 0.67/ε_k by sector;
        the pass-through φ uses 0.67/ε̄, ε̄ the import-weighted mean).
    fixed_cost_share : "paper", float, dict ISO3 -> share or array (n,)
        ν_i; "paper": 0.2705 for the US, 0.1143 elsewhere.
    passthrough : float
        φ̃, pass-through of tariffs to firm-level prices (1; Table 9: 0.25).
    variant : {"ld", "ekk"}
        "ekk": Eaton–Kortum–Krugman (ν = 0, φ = φ̃).
    revenue : {"income_tax", "lump_sum"}
        Tariff revenue cuts the income tax, τ̂ = 1/(1 − R'/Y') (raising labour supply), or is rebated lump sum.
    deficits : {"world_gdp", "fixed", "balanced", "purge"}
        Transfers fixed as a share of world GDP (the paper), fixed in levels, set to zero in the
        counterfactual (balanced trade, Ossa 2014; the change is measured from the factual
        baseline, as the paper's Table 10), or "purge": first solve the baseline with zero
        transfers and measure the scenario from that balanced baseline (one sector only).
    tariff_inclusive_flows : bool
        The world's flows include the baseline duties (ustariff's convention); otherwise customs values.
    sectors : {"aggregate", "multi"}
        "aggregate": one sector (flows summed, tariffs weighted by baseline flows; the paper's main
        model). "multi": the multi-sector model (IMLS appendix; labour mobile across sectors at one
        wage, Cobb–Douglas spending across sectors, ε by sector from ``trade_elasticity``).
    tol, max_iter : float, int
        Solver tolerance (max |log excess demand| of labour markets and |Δ ln L̂|) and iteration cap.
    raise_on_failure : bool
        Raise :class:`~tariffsim.errors.ConvergenceError` if a scenario fails (else flag it in ``solver``).

    Returns
    -------
    Result
        Model ``"ld"``, sectors ``("total",)`` (aggregate) or the world's sectors (multi).
        Country columns ``welfare_pct`` (IMLS 14),
        ``real_wage_pct``, ``price_index_pct`` (= ``consumer_price_pct``), ``employment_pct``,
        ``deficit_pct``, ``exports_gdp_pct``, ``imports_gdp_pct``, ``tariff_revenue_share``,
        ``exports``, ``imports``, ``exports_pct``, ``imports_pct``, ``tariff_revenue``,
        ``tariff_revenue_change``, ``trade_balance_change``, ``etr``, ``etr_base`` (money in the
        world's unit, USD mn for the embedded worlds); with ``sectors="multi"`` also
        ``employment_reallocation_pct`` (share of workers changing sector, percent). See :data:`LD_COLUMNS`.
    """
    st = setup(shocks, trade_elasticity=trade_elasticity, labour_elasticity=labour_elasticity,
               scale_elasticity=scale_elasticity, fixed_cost_share=fixed_cost_share, passthrough=passthrough,
               variant=variant, revenue=revenue, deficits=deficits, tariff_inclusive_flows=tariff_inclusive_flows,
               sectors=sectors)
    if st.multi is None:
        sol = solve(st.base, st.tariff_new, st.params, tol=tol, max_iter=max_iter)
        X_sec, t_sec, labels = sol.X_new[..., None], st.tariff_new[..., None], ("total",)
        X0_sec = np.broadcast_to(st.base.lam * st.base.E[None, :] / (1.0 + st.base.tariff), sol.X_new.shape)[..., None]
        t0_sec = np.broadcast_to(st.base.tariff, sol.X_new.shape)[..., None]
    else:
        t_sec = np.asarray(shocks.tariff_new, float)
        psi_k = 0.67 / st.eps_sector if scale_elasticity is None else st.params.psi  # ψ_k ε_k = 0.67 as in the paper
        sol, extra = solve_multisector(st.multi, t_sec, st.params, st.eps_sector, psi=psi_k, tol=tol, max_iter=max_iter)
        X_sec, labels = extra["X_new"], shocks.world.sectors
        t0_sec = np.broadcast_to(st.multi.tariff, X_sec.shape)
        m = st.multi
        X0_sec = np.broadcast_to(m.lam * m.beta[None] * m.E[None, :, None] / (1.0 + m.tariff), X_sec.shape)
    info = SolverInfo(
        success=sol.success, iterations=sol.iterations, max_residual=sol.residual,
        method="ld: damped fixed point on (ln w, ln L) with Anderson mixing; E and P in closed form",
        tolerance=tol,
        message=("converged" if sol.success.all()
                 else f"{int((~sol.success).sum())} of {sol.success.size} scenario(s) did not converge"),
        residual_units=("max over countries of |ln(labour demand / supply)| (IMLS 11) and "
                        "|ln L - kappa ln(tau w/P)| (IMLS 13)"),
    )
    if raise_on_failure and not sol.success.all():
        bad = [shocks.scenarios[k] for k in np.flatnonzero(~sol.success)]
        raise ConvergenceError(
            f"LD did not converge for {len(bad)} scenario(s) {shorten_list(bad)} within max_iter={max_iter} "
            f"(largest residual {sol.residual.max():.3g}, tol {tol:g}); raise max_iter, or pass "
            "raise_on_failure=False to keep the other scenarios.", info)
    base = st.base if st.multi is None else st.multi.agg
    country = _columns(base, sol, st.params.kappa, X0_sec, t0_sec, X_sec, t_sec)
    if st.multi is not None:
        country["employment_reallocation_pct"] = 50.0 * (st.multi.ell[None] * np.abs(extra["ell_hat"] - 1.0)).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(X0_sec > 0, 100.0 * (X_sec / X0_sec - 1.0), np.nan)
    flows = {"flow_base": np.array(X0_sec), "flow_new": X_sec, "flow_pct": pct, "tariff_base": np.array(t0_sec),
             "tariff_new": np.broadcast_to(t_sec, X_sec.shape).copy()}
    return Result(model="ld", scenarios=shocks.scenarios, countries=shocks.world.countries, sectors=tuple(labels),
                  country=country, flow=flows, solver=info, provenance=st.provenance)


def _columns(base: LDBaseline, sol, kappa, X0s, t0s, X1s, t1s) -> dict[str, Any]:
    """Standard country columns from aggregate outputs and sector flows (B, n, n, K) at customs value."""
    o = outputs(base, sol, kappa)
    n = base.E.shape[0]
    off = (1.0 - np.eye(n))[:, :, None]
    exp0, imp0 = (X0s * off).sum((-1, -2)), (X0s * off).sum((-1, -3))
    exp1, imp1 = (X1s * off).sum((-1, -2)), (X1s * off).sum((-1, -3))
    rev0 = (X0s * t0s * off).sum((-1, -3))
    rev1 = (X1s * t1s * off).sum((-1, -3))
    with np.errstate(invalid="ignore", divide="ignore"):
        country = {k: o[k] for k in ("welfare_pct", "real_wage_pct", "price_index_pct", "employment_pct", "deficit_pct",
                                     "exports_gdp_pct", "imports_gdp_pct", "tariff_revenue_share", "wage_pct")}
        country["consumer_price_pct"] = o["price_index_pct"].copy()
        country["exports"] = exp1
        country["imports"] = imp1
        country["exports_pct"] = 100.0 * (exp1 / exp0 - 1.0)
        country["imports_pct"] = 100.0 * (imp1 / imp0 - 1.0)
        country["tariff_revenue"] = rev1
        country["tariff_revenue_change"] = rev1 - rev0
        country["trade_balance_change"] = (exp1 - imp1) - (exp0 - imp0)
        country["etr"] = rev1 / imp1
        country["etr_base"] = np.broadcast_to(rev0 / imp0, rev1.shape).copy()
    return country
