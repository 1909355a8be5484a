"""simulate(): scenario(s) → compiled shocks → one model → Result.

A thin façade (like ``scipy.optimize.root``'s ``method=``): it loads and compiles what it is
given, resolves the model's options through the registry
(:mod:`tariffsim.models.registry`: validation, elasticity defaults), runs the model adapter,
and records the scenario provenance (files, applied overrides) in the result.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .arguments import as_date, bad_argument, check_world
from .errors import DataError, UnverifiedLawWarning
from .models.registry import MODELS, check_options, elasticity_options, get_model, run_model

if TYPE_CHECKING:  # imported where used: tariffsim/__init__ imports this module eagerly (see there)
    from .results import Result
    from .world import TradeWorld

__all__ = ["simulate", "scenario_options", "unverified_ids", "MODELS"]

#: the word in a measure's ``source`` that marks it as backed only by a secondary source
_VERIFY = re.compile(r"\bverify\b", re.IGNORECASE)


def unverified_ids(measures) -> list[str]:
    """Ids of the measures whose ``source`` contains the word "verify" (secondary source only), in order."""
    return list(dict.fromkeys(m.id for m in measures if _VERIFY.search(getattr(m, "source", "") or "")))


def verify_note(ids, limit: int = 10) -> str:
    """One line naming measures backed only by a secondary source (at most ``limit`` ids, then "and N more")."""
    shown = ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
    return (f"{len(ids)} measure(s) in force are backed only by a secondary source (source says 'verify'): "
            f"{shown}; check the Federal Register / HTSUS text before presenting their rates as law.")


def _as_scenarios(scenario) -> list:
    from .scenario import Scenario, load_scenario

    items = scenario if isinstance(scenario, (list, tuple)) else [scenario]
    if not items:
        raise bad_argument("simulate", "scenario", "a scenario, a path, Shocks, or a non-empty list of them", scenario)
    out = []
    for item in items:
        if isinstance(item, (str, Path)):
            out.append(load_scenario(item))
        elif isinstance(item, Scenario):
            out.append(item)
        else:
            raise bad_argument("simulate", "scenario", "a scenario file path, a Scenario or Shocks "
                               f"(got a {type(item).__name__})", item)
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
    model : str
        A registered model (:data:`tariffsim.MODELS`: ``'accounting'``, ``'smart'``,
        ``'gsim'``, ``'ge'``, ...).
    date : date, optional
        Evaluate the measures in force on this date.
    as_published : bool
        Apply retroactive measures only from their ``published`` date (what was known on
        ``date``); default False: the law as applied.
    **options
        The model's options (:func:`tariffsim.models.registry.get_model` lists them), e.g.
        ``params`` / ``method`` (smart, gsim), ``deficits``, ``tol`` (ge). Every model with
        elasticities also takes ``trade_elasticity``: a source name (``"cp2015"``), a
        ``{sector: θ}`` mapping of overrides on the model's default source, or θ values.

    Returns
    -------
    Result
    """
    entry = get_model(model)
    date = as_date(date, "simulate")
    check_world(world, "simulate")
    allow = ("trade_elasticity",) if entry.elasticities else ()
    check_options(model, options, allow=allow)
    from .shocks import Shocks

    schedules = None
    scenarios = []
    if isinstance(scenario, Shocks):
        shocks = scenario
        world = shocks.world
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
    if "trade_elasticity" in options and entry.elasticities == "pe":
        if options.get("params") is not None:
            raise DataError(f"model {model!r}: pass either params or trade_elasticity, not both.")
        options = {k: v for k, v in options.items() if k not in ("trade_elasticity", "params")} | \
            elasticity_options(model, world.sectors, options["trade_elasticity"], explicit=True)
    elif isinstance(options.get("trade_elasticity"), (str, dict)):
        options = {**options, **elasticity_options(model, world.sectors, options["trade_elasticity"])}
    result = run_model(model, shocks, schedules, **options)
    if scenarios:
        result.provenance["scenario_files"] = [s.file for s in scenarios]
        result.provenance["applied_overrides"] = [list(s.applied_overrides) for s in scenarios]
        used = unverified_ids(m for s in schedules for m in s.base_measures + s.tariff_measures + s.other_measures)
        result.provenance["verify"] = used
        if used:
            warnings.warn(verify_note(used), UnverifiedLawWarning, stacklevel=2)
        result.provenance["dates"] = [
            None if (d := (date or s.effective)) is None else d.isoformat() for s in scenarios
        ]
    return result


def scenario_options(scenario, model: str, world: TradeWorld) -> dict:
    """Model options a scenario file's [parameters] table sets (empty: the model's defaults)."""
    spec = scenario.parameters
    entry = get_model(model)
    overrides: dict[str, dict[str, float]] = {}
    if entry.elasticities == "pe":
        for field in ("import_demand", "substitution", "export_supply"):
            for sector, value in getattr(spec, field).items():
                overrides.setdefault(sector, {})[field] = value
    out = elasticity_options(model, world.sectors, spec.trade_elasticity, overrides)
    if "deficits" in entry.option_names and spec.deficits is not None:
        out["deficits"] = spec.deficits
    return out
