"""tariffsim: what tariff schedules do to trade, prices, revenue and welfare.

The data flow is one-directional::

    scenario file --load_scenario--> Scenario --prepare_schedule/compile_schedule--> Shocks
    --simulate(model=...)--> Result (labels + arrays + solver info + provenance)

``import tariffsim`` is light: matplotlib, dask and pyarrow are imported only where used.
"""

from .datasets import load_elasticities, load_us_lines, load_world
from .errors import ConvergenceError, DataError, ScenarioError, TariffsimError
from .lines import ProductLines
from .results import COUNTRY_COLUMNS, FLOW_COLUMNS, Result, SolverInfo
from .scenario import Scenario, load_scenario, scenario_from_dict
from .schedule import CompiledSchedule, compile_schedule, prepare_schedule
from .shocks import Shocks
from .simulate import MODELS, simulate
from .world import TradeWorld

__version__ = "0.1.0"

__all__ = [
    "TradeWorld",
    "ProductLines",
    "Scenario",
    "Shocks",
    "Result",
    "SolverInfo",
    "CompiledSchedule",
    "COUNTRY_COLUMNS",
    "FLOW_COLUMNS",
    "MODELS",
    "load_world",
    "load_us_lines",
    "load_elasticities",
    "load_scenario",
    "scenario_from_dict",
    "prepare_schedule",
    "compile_schedule",
    "simulate",
    "TariffsimError",
    "ScenarioError",
    "DataError",
    "ConvergenceError",
]
