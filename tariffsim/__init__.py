"""tariffsim: what tariff schedules do to trade, prices, revenue and welfare."""

from .errors import ConvergenceError, DataError, ScenarioError, TariffsimError
from .results import Result, SolverInfo
from .shocks import Shocks
from .world import TradeWorld

__version__ = "0.1.0"

__all__ = [
    "TradeWorld",
    "Shocks",
    "Result",
    "SolverInfo",
    "TariffsimError",
    "ScenarioError",
    "DataError",
    "ConvergenceError",
]
