"""General equilibrium adapter: Shocks in, Result out (model ``"ge"``).

Belongs here: parameter validation, elasticity defaults, the deficit and currency options,
turning non-tariff shocks into kernel inputs (taste shifters, currency wedges), warnings
about shocks GE does not represent, and packing kernel arrays into a
:class:`~tariffsim.results.Result`. The economics lives in :mod:`tariffsim.kernels.cp`
and :mod:`tariffsim.kernels.cp_outputs`.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from ..errors import ConvergenceError, DataError, shorten_list
from ..kernels._util import currency_factor
from ..kernels.cp import Baseline, calibrate, solve_equilibrium, taste_shifter
from ..kernels.cp_outputs import baseline_summary
from ..results import Result, SolverInfo
from ..shocks import Shocks
from .ge_result import calibrated as _calibrated
from .ge_result import expand as _expand
from .ge_result import outputs as _outputs

__all__ = ["CURRENCY_OPTIONS", "DEFICIT_OPTIONS", "run_ge"]

#: Valid values of ``deficits``.
DEFICIT_OPTIONS = ("fixed", "purge")
#: Valid values of ``currency``.
CURRENCY_OPTIONS = ("neutral", "wedge")

_CURRENCY_TREATMENT = {
    "neutral": "ignored: a nominal appreciation is neutral with flexible wages and a world numeraire "
               "(model real-exchange-rate effects through their cause, e.g. a 'deficit' transfer)",
    "wedge": "price wedge on trade: iceberg cost of flow i->n times (1 + c_i)/(1 + c_n), "
             "c = appreciation x pass-through; collected by no one",
}

_METHOD = ("cp-hat: Broyden step in log wages from the diagonal Jacobian, backtracking; inner (c, P) fixed point; "
           "scenarios in cache-sized blocks, each leaving when converged")


def _trade_elasticity(shocks: Shocks, trade_elasticity: Any) -> tuple[np.ndarray, str]:
    """θ as an array of shape (B, S) and a description for provenance."""
    world = shocks.world
    b, s = shocks.batch_size, world.n_sectors
    source = "user"
    if trade_elasticity is None:  # the default source is set in the model registry
        from ..datasets import load_elasticities
        from .registry import default_source

        trade_elasticity = load_elasticities(default_source("ge"))
        source = f"{default_source('ge')} (tariffsim.datasets.load_elasticities)"
    if hasattr(trade_elasticity, "reindex"):  # pandas Series indexed by sector code
        missing = [x for x in world.sectors if x not in trade_elasticity.index]
        if missing:
            raise DataError(
                f"the trade_elasticity series has no value for sector(s) {shorten_list(missing)} of this world "
                f"(it covers {shorten_list(trade_elasticity.index)}); pass a series indexed by "
                f"{shorten_list(world.sectors)} or an array of shape ({s},)."
            )
        theta = trade_elasticity.reindex(list(world.sectors)).to_numpy(dtype=float)
    else:
        theta = np.asarray(trade_elasticity, dtype=float)
    try:
        theta = np.broadcast_to(theta, (b, s)).copy()
    except ValueError:
        raise DataError(
            f"The 'trade_elasticity' parameter of run_ge must be a scalar, an array of shape ({s},) or "
            f"({b}, {s}), or a Series indexed by sector. Got shape {np.shape(theta)} instead."
        ) from None
    if not np.all(np.isfinite(theta) & (theta > 0)):
        raise DataError(f"trade elasticities must be positive and finite; got min {np.nanmin(theta):g}.")
    return theta, source


def _check_shocks(shocks: Shocks) -> None:
    """Domain checks, one pass per array that is not a broadcast neutral value (min, not a mask)."""
    if min(_compact(shocks.tariff_base).min(), _compact(shocks.tariff_new).min()) <= -1:
        raise DataError("tariffs must be > -1 (decimal rates, 0.25 = 25%).")
    if shocks.uses("ntb") and _compact(shocks.ntb).min() <= -1:
        raise DataError("ntb must be > -1: it multiplies the iceberg cost by (1 + ntb).")
    if shocks.uses("currency") and _compact(shocks.currency).min() <= -1:
        raise DataError("currency (appreciation x pass-through) must be > -1 (decimal, 0.05 = 5% stronger).")
    if shocks.uses("productivity") and _compact(shocks.productivity).min() <= 0:
        raise DataError("productivity changes are ratios new/old and must be > 0 (1 = none).")
    if not shocks.uses("deficit_change"):
        return
    world_va = shocks.world.flows.sum()
    gap = np.abs(shocks.deficit_change.sum(axis=1))
    if np.any(gap > 1e-9 * world_va):
        k = int(np.argmax(gap))
        raise DataError(
            f"deficit_change must sum to zero over countries in each scenario (one country's transfer is "
            f"another's); scenario {shocks.scenarios[k]!r} sums to {shocks.deficit_change[k].sum():g}."
        )


def _compact(a: np.ndarray) -> np.ndarray:
    """A broadcast array without its repeated axes (stride 0 collapsed to length 1): a view."""
    a = np.asarray(a)
    return a[tuple(slice(0, 1) if st == 0 and k > 1 else slice(None) for k, st in zip(a.shape, a.strides))]


def _taste(shocks: Shocks, base) -> np.ndarray:
    """δ̂ for the purchase commitments, with a DataError naming cells that cannot be represented."""
    delta, bad = taste_shifter(base, shocks.demand_shift)
    if np.any(bad):
        w = shocks.world
        b, i, n, j = (int(x[0]) for x in np.nonzero(bad))
        buys = base.flows[b, :, n, j].sum()
        raise DataError(
            f"GE cannot represent the purchase commitment of {w.countries[n]} from {w.countries[i]} in sector "
            f"{w.sectors[j]} (USD {shocks.demand_shift[b, i, n, j]:,.6g} mn, scenario {shocks.scenarios[b]!r}): "
            f"the baseline flow is {base.flows[b, i, n, j]:,.6g} and {w.countries[n]} buys {buys:,.6g} of "
            f"{w.sectors[j]} in all. A taste shift needs a positive baseline flow and an amount smaller than "
            "what the importer buys from other origins; spread the amount over more sectors or lower it."
        )
    return delta


def run_ge(
    shocks: Shocks,
    trade_elasticity=None,
    *,
    deficits: str = "fixed",
    currency: str = "neutral",
    tol: float = 1e-10,
    max_iter: int = 500,
    raise_on_failure: bool = True,
    accelerate: bool | None = None,
) -> Result:
    """General equilibrium effects by exact hat algebra (Caliendo & Parro 2015), batched.

    Parameters
    ----------
    shocks : Shocks
        B scenarios on a world. Tariffs are ad valorem with revenue rebated to the importer
        (not iceberg costs); ``ntb`` changes iceberg costs, d̂ = 1 + ntb (no revenue);
        ``productivity`` scales producer prices by 1/ẑ; ``deficit_change`` (USD mn, summing
        to zero) is added to the new deficits (a transfer); ``demand_shift`` (purchase
        commitments) is a CES taste shift (see Notes); ``currency`` follows the
        ``currency`` option. Worlds with ``value_added_share`` and ``io_coefficients`` get
        input-output links; otherwise γ = 1 (no intermediates).
    trade_elasticity : scalar, array of shape (S,) or (B, S), or Series, optional
        θ^j > 0 by sector (a Series is reindexed to the world's sectors). Default:
        ``tariffsim.datasets.load_elasticities("cp2015")``.
    deficits : {"fixed", "purge"}
        ``"fixed"``: each country's deficit stays at its baseline level in USD (CP's
        benchmark with deficits). ``"purge"``: first solve a counterfactual with all
        deficits set to zero at baseline tariffs and use it as the baseline (CP's
        NAFTA exercise); reported baseline flows are then the purged ones.
    currency : {"neutral", "wedge"}
        What a ``currency`` shock (c_n = appreciation x pass-through) does; see Notes.
        ``"neutral"`` (default): nothing, with a warning. ``"wedge"``: a trade-cost wedge.
    tol : float
        Relative tolerance on each country's trade-balance excess (share of its value added).
    max_iter : int
        Maximum wage iterations per solve.
    raise_on_failure : bool
        If True, raise :class:`~tariffsim.errors.ConvergenceError` (carrying the
        :class:`SolverInfo`) when any scenario fails; if False, return the Result with
        ``solver.success`` False for those scenarios (for sweeps).
    accelerate : bool or None
        Compiled (numba, extra ``tariffsim[fast]``) solver for worlds without IO links and
        without purchase commitments: ``None`` (default) uses it when numba is importable
        and ``TARIFFSIM_NO_NUMBA`` is unset; ``False`` forces pure numpy; ``True`` requires
        numba. Same answers to solver precision.

    Returns
    -------
    Result
        Model ``"ge"``. Country columns: ``welfare_pct`` (exact real income), CP eq. 16
        ``welfare_tot_pct``, ``welfare_vot_pct``, ``welfare_first_order_pct``,
        ``real_wage_pct``, ``price_index_pct``, trade, revenue and ETR columns, and, without
        IO links, ``acr_real_wage_pct``. Flow columns ``flow_base, flow_new, flow_pct,
        tariff_base, tariff_new``. Values are in the world's currency unit with world value
        added as numeraire (Σ_n ŵ_n w_n L_n = Σ_n w_n L_n).

    Notes
    -----
    Purchase commitments (``demand_shift``, A_ni^j USD mn at customs value): a CES demand
    (taste) shifter, π'_ni^j ∝ δ̂_ni^j π_ni^j (κ̂_ni^j ĉ_i^j / ẑ_i^j)^(−θ^j), with δ̂ set so that
    at *baseline* prices importer n's customs purchases from i in sector j rise by exactly
    A while n's total spending on j is unchanged (other origins, domestic included, lose
    share in proportion): δ̂_ni = 1 + a/π_ni, δ̂_nm = 1 − a/(1 − π_ni), a = (1+τ_ni) A / X_n^j
    (:func:`tariffsim.kernels.cp.taste_shifter`). At the new equilibrium the increase is
    not exactly A: prices, incomes and sector spending move. The amount must be positive
    on a positive baseline flow and smaller than what n buys elsewhere (DataError if not).

    Welfare with taste shifters is measured at *baseline* tastes: ``welfare_pct`` deflates
    income by the cost, at new prices, of one unit of the baseline-taste CES composite in
    the bundle actually bought (module notes of :mod:`tariffsim.kernels.cp`). Measuring
    with the shifted tastes would make the commitment a preference change and its welfare
    effect an assumption; at baseline tastes a commitment affects welfare only through
    prices (terms of trade, trade volumes) and a second-order misallocation cost of
    buying a bundle the baseline tastes would not choose. ``acr_real_wage_pct`` is NaN in
    scenarios with a purchase commitment (the ACR identity does not hold with taste
    shifts); the CP eq. 16 decomposition omits the misallocation term (second order).

    Currency (``currency``, c_n = appreciation x pass-through). The model has no money:
    wages are flexible and world value added is the numeraire, so a *nominal* appreciation
    of one currency changes nothing real. ``currency="neutral"`` (default) therefore
    ignores the shock, with a UserWarning and a line in ``provenance["warnings"]``; a real
    appreciation is an equilibrium outcome here, and its causes (a smaller trade surplus:
    a ``deficit`` transfer; productivity) are the shocks to simulate. ``currency="wedge"``
    is a sensitivity for sticky, partly passed-through prices: the iceberg cost of flow
    i -> n is multiplied by (1 + c_i)/(1 + c_n) (exports of an appreciating country dearer
    abroad, its imports cheaper at home), collected by no one. This is a real trade cost,
    not neutral (and the import side a free cost cut); a uniform appreciation of all
    currencies is neutral. ``provenance["currency"]`` records the treatment.
    """
    _check_options(deficits, currency, tol, max_iter, accelerate)
    _check_shocks(shocks)
    theta, theta_source = _trade_elasticity(shocks, trade_elasticity)
    world = shocks.world
    notes = list(shocks.warnings)
    if shocks.uses("currency") and currency == "neutral":
        msg = (
            "GE ignores the currency shock (currency): with flexible wages and a world numeraire a nominal "
            "appreciation is neutral in real terms. Simulate its real counterpart (e.g. a 'deficit' transfer), or "
            "pass currency='wedge' to run_ge to treat it as a trade-cost wedge (1 + c_exporter)/(1 + c_importer)."
        )
        warnings.warn(msg, UserWarning, stacklevel=2)
        notes.append(msg)
    solve = dict(tol=tol, max_iter=max_iter, accelerate=accelerate)
    base, summary, iterations, purge_ok = _baseline(shocks, theta, deficits, notes, solve)
    full = _expand(base, shocks.batch_size)  # per-scenario views of a shared baseline (no copies)
    ntb, prod, taste = _kernel_shocks(shocks, full, currency)
    eq = solve_equilibrium(base, shocks.tariff_new, theta, ntb=ntb, productivity=prod,
                           deficit_new=base.deficit + shocks.deficit_change, taste=taste, **solve)
    info = _solver_info(shocks, eq, iterations + eq.iterations, eq.success & purge_ok, tol, max_iter,
                        raise_on_failure)
    country, flows = _outputs(shocks, full, eq, theta, prod, ntb, taste, summary)
    provenance = {
        "world": world.name,
        "source": world.source,
        "trade_elasticity": dict(zip(world.sectors, theta[0].tolist())) if np.all(theta == theta[0]) else "per scenario",
        "trade_elasticity_source": theta_source,
        "deficits": deficits,
        "currency": _CURRENCY_TREATMENT[currency],
        "purchase_commitments": "CES taste shift at fixed sector spending; welfare at baseline tastes",
        "input_output": world.io_coefficients is not None,
        "numeraire": "world value added fixed",
        "alpha_clipped": full.alpha_clipped.tolist(),
        "residual_trade_balance": eq.residual_trade_balance.tolist(),
        "residual_goods": eq.residual_goods.tolist(),
        "warnings": notes,
    }
    return Result(
        model="ge", scenarios=shocks.scenarios, countries=world.countries, sectors=world.sectors,
        country=country, flow=flows, solver=info, provenance=provenance,
    )


def _check_options(deficits: str, currency: str, tol: float, max_iter: int, accelerate) -> None:
    if deficits not in DEFICIT_OPTIONS:
        raise DataError(
            f"The 'deficits' parameter of run_ge must be a str among {set(DEFICIT_OPTIONS)}. Got {deficits!r} instead."
        )
    if currency not in CURRENCY_OPTIONS:
        raise DataError(
            f"The 'currency' parameter of run_ge must be a str among {set(CURRENCY_OPTIONS)}. Got {currency!r} instead."
        )
    if not (np.isfinite(tol) and tol > 0):
        raise DataError(f"The 'tol' parameter of run_ge must be a float in the range (0, inf). Got {tol!r} instead.")
    if int(max_iter) < 1:
        raise DataError(f"The 'max_iter' parameter of run_ge must be an int in the range [1, inf). Got {max_iter!r} instead.")
    if accelerate is not None and not isinstance(accelerate, bool):
        raise DataError(f"The 'accelerate' parameter of run_ge must be None, True or False. Got {accelerate!r} instead.")


def _baseline(shocks: Shocks, theta: np.ndarray, deficits: str, notes: list, solve: dict):
    """Calibrated baseline (batch 1 when every scenario shares it), its summary, purge iterations and success.

    With ``deficits="purge"`` the baseline is first re-solved with all deficits at zero at
    baseline tariffs (CP's NAFTA exercise); α keeps the data's calibration.
    """
    world = shocks.world
    if (world.value_added_share is None) != (world.io_coefficients is None):
        raise DataError(
            "the world has only one of value_added_share and io_coefficients; GE needs both for "
            "input-output links (or neither, for gamma = 1)."
        )
    tb = shocks.tariff_base
    # one baseline shared by all scenarios: calibrate once (and purge once, unless θ differs by scenario)
    if tb.shape[0] > 1 and tb.strides[0] == 0 and (deficits != "purge" or np.all(theta == theta[0])):
        tb = tb[:1]
    base, summary = _calibrated(world, tb)
    b = shocks.batch_size
    if deficits == "purge":
        zero = solve_equilibrium(base, base.tariff, theta[: base.pi.shape[0]], deficit_new=np.zeros_like(base.deficit),
                                 **solve)
        purged = calibrate(zero.flows, base.tariff, world.value_added_share, world.io_coefficients)
        base = dataclasses.replace(purged, alpha=base.alpha, alpha_clipped=base.alpha_clipped)
        return (base, baseline_summary(base, world.goods), np.broadcast_to(zero.iterations, (b,)).copy(),
                np.broadcast_to(zero.success, (b,)))
    clipped = base.alpha_clipped > 1e-9 * base.value_added.sum(axis=1)
    if np.any(clipped):
        msg = (
            "final demand computed from the data is negative in some (country, sector) cells and was set to "
            f"zero (up to {base.alpha_clipped.max():.4g} in total), so the baseline is not an exact equilibrium "
            "of the model; deficits='purge' re-solves the baseline first."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
        notes.append(msg)
    return base, summary, np.zeros(b, dtype=int), np.ones(b, dtype=bool)


def _kernel_shocks(shocks: Shocks, base: Baseline, currency: str):
    """Iceberg changes (with the currency wedge), productivity and taste shifters, or None each."""
    ntb = shocks.ntb if shocks.uses("ntb") else None
    if currency == "wedge" and shocks.uses("currency"):
        # iceberg d̂_in = (1 + ntb_in)(1 + c_i)/(1 + c_n)
        ntb = (1.0 + shocks.ntb) * currency_factor(shocks.currency) - 1.0
    prod = shocks.productivity if shocks.uses("productivity") else None
    taste = _taste(shocks, base) if shocks.uses("demand_shift") else None
    return ntb, prod, taste


def _solver_info(shocks: Shocks, eq, iterations, success, tol, max_iter, raise_on_failure) -> SolverInfo:
    """SolverInfo, raising ConvergenceError when asked and any scenario failed."""
    residual = np.maximum(eq.residual_trade_balance, eq.residual_goods)
    info = SolverInfo(
        success=success, iterations=iterations, max_residual=residual, method=_METHOD, tolerance=tol,
        message="converged" if success.all() else f"{int((~success).sum())} of {success.size} scenario(s) did not converge",
        residual_units="max over countries of |trade-balance excess| / value added, and max |goods-market excess| / max X'",
    )
    if raise_on_failure and not success.all():
        bad = [shocks.scenarios[k] for k in np.flatnonzero(~success)]
        raise ConvergenceError(
            f"GE did not converge for {len(bad)} scenario(s) {shorten_list(bad)} within max_iter={max_iter} "
            f"(largest residual {residual.max():.3g}, tol {tol:g}); raise max_iter, or pass "
            "raise_on_failure=False to keep the other scenarios.",
            info,
        )
    return info
