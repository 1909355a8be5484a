"""simulate(): scenario(s) → compiled shocks → one model → Result.

A thin façade (like ``scipy.optimize.root``'s ``method=``): it loads and compiles what it is
given, dispatches to the model adapter in :mod:`tariffsim.models`, and records the scenario
provenance (files, applied overrides) in the result.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .errors import DataError, did_you_mean
from .results import Result
from .shocks import Shocks
from .world import TradeWorld

__all__ = ["simulate", "scenario_options", "MODELS"]

MODELS = ("accounting", "smart", "gsim", "ge")


def _as_scenarios(scenario) -> list:
    from .scenario import Scenario, load_scenario

    items = scenario if isinstance(scenario, (list, tuple)) else [scenario]
    out = []
    for item in items:
        if isinstance(item, (str, Path)):
            out.append(load_scenario(item))
        elif isinstance(item, Scenario):
            out.append(item)
        else:
            raise DataError(f"expected a scenario file path or Scenario, got {type(item).__name__}.")
    return out


def simulate(world: TradeWorld | None, scenario, model: str = "accounting", *, date: dt.date | None = None,
             as_published: bool = False, **options: Any) -> Result:
    """Run one model on one scenario or a batch of scenarios.

    Parameters
    ----------
    world : TradeWorld or None
        The world to run on; ``None`` loads the embedded world the (first) scenario asks for.
    scenario : Scenario, path, list of them, or Shocks
        What to simulate. A list is a batch (leading axis of every output).
    model : {'accounting', 'smart', 'gsim', 'ge'}
    date : date, optional
        Evaluate the measures in force on this date.
    as_published : bool
        Apply retroactive measures only from their ``published`` date (what was known on
        ``date``); default False: the law as applied.
    **options
        Passed to the model: ``params`` / ``method`` (smart, gsim), ``trade_elasticity``,
        ``deficits``, ``tol`` (ge).

    Returns
    -------
    Result
    """
    if model not in MODELS:
        raise DataError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}. {did_you_mean(model, MODELS)}".rstrip())
    schedules = None
    scenarios = []
    if isinstance(scenario, Shocks):
        shocks = scenario
    else:
        from .datasets import load_world
        from .schedule import concat_shocks, prepare_schedule

        scenarios = _as_scenarios(scenario)
        if world is None:
            spec = scenarios[0].world
            world = load_world(spec.regions, keep=spec.keep)
        schedules = [prepare_schedule(s, world, date=date, as_published=as_published) for s in scenarios]
        shocks = concat_shocks([s.shocks() for s in schedules])
        options = {**scenario_options(scenarios[0], model, world), **options}
    result = _dispatch(model, shocks, schedules, options)
    if scenarios:
        result.provenance["scenario_files"] = [s.file for s in scenarios]
        result.provenance["applied_overrides"] = [list(s.applied_overrides) for s in scenarios]
        result.provenance["dates"] = [None if (d := (date or s.effective)) is None else d.isoformat() for s in scenarios]
    return result


def _dispatch(model: str, shocks: Shocks, schedules, options: dict) -> Result:
    if model == "accounting":
        from .models.accounting import run_accounting

        return run_accounting(shocks, schedules)
    if model == "smart":
        from .models.pe import run_smart

        return run_smart(shocks, **options)
    if model == "gsim":
        from .models.pe import run_gsim

        return run_gsim(shocks, **options)
    from .models.ge import run_ge

    return run_ge(shocks, **options)


def scenario_options(scenario, model: str, world: TradeWorld) -> dict:
    """Model options a scenario file's [parameters] table sets (empty: the model's defaults)."""
    from .datasets import load_elasticities

    spec = scenario.parameters
    te = spec.trade_elasticity

    def theta(default_source: str):
        """θ by world sector: the named source, or overrides on the model's default source."""
        series = load_elasticities(te if isinstance(te, str) else default_source).copy()
        for sector, value in (te or {}).items() if isinstance(te, dict) else ():
            series[sector] = value
        return series.reindex(list(world.sectors)).to_numpy(dtype=float)

    if model in ("smart", "gsim"):
        from .parameters import pe_defaults

        overrides: dict[str, dict[str, float]] = {}
        for field in ("import_demand", "substitution", "export_supply"):
            for sector, value in getattr(spec, field).items():
                overrides.setdefault(sector, {})[field] = value
        if te is None and not overrides:
            return {}
        params = pe_defaults(world.sectors) if te is None else pe_defaults(world.sectors, trade_elasticity=theta("fgo2022"))
        return {"params": params.with_overrides(overrides) if overrides else params}
    if model == "ge":
        out = {"deficits": spec.deficits}
        if te is not None:
            out["trade_elasticity"] = theta("cp2015")
        return out
    return {}
