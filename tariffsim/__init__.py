"""tariffsim: what tariff schedules do to trade, prices, revenue and welfare.

The data flow is one-directional::

    scenario file --load_scenario--> Scenario --prepare_schedule/compile_schedule--> Shocks
    --simulate(model=...)--> Result (labels + arrays + solver info + provenance)

``import tariffsim`` is light: the names below are imported on first use (PEP 562), so
pandas, pyarrow, matplotlib and dask load only when something needs them.
"""

from __future__ import annotations

import importlib

from .errors import ConvergenceError, DataError, ScenarioError, TariffsimError

__version__ = "0.1.0"

#: public name -> module that defines it
_LAZY = {
    "TradeWorld": "world",
    "ProductLines": "lines",
    "Scenario": "scenario",
    "Shocks": "shocks",
    "Result": "results",
    "SolverInfo": "results",
    "CompiledSchedule": "schedule",
    "COUNTRY_COLUMNS": "results",
    "FLOW_COLUMNS": "results",
    "MODELS": "models.registry",
    "load_world": "datasets",
    "load_us_lines": "datasets",
    "load_elasticities": "datasets",
    "load_scenario": "scenario",
    "scenario_from_dict": "scenario",
    "prepare_schedule": "schedule",
    "compile_schedule": "schedule",
}

# Imported eagerly (it is light: pandas loads on first call) because the function shares its name
# with its module: a lazy name would be replaced by the module object as soon as anything imported
# ``tariffsim.simulate`` (Python binds a submodule to its parent's attribute when first loaded).
from .simulate import simulate  # noqa: E402

__all__ = [*_LAZY, "simulate", "TariffsimError", "ScenarioError", "DataError", "ConvergenceError"]

#: subpackages reachable as attributes (``tariffsim.parameters.pe_defaults``) without an import
#: (``parameters``, ``sweep_plot``, ``timeline``, ``compare``, ``report``, ``readers`` are deprecated shims)
_SUBMODULES = ("datasets", "sweep", "plot", "analysis", "schedule", "scenario", "kernels", "models", "results",
               "shocks", "world", "lines", "parameters", "sweep_plot", "timeline", "compare", "report", "readers")


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tariffsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
