"""Scenario files: schema (the format), loading (extends/overrides), data checks."""

from .load import Scenario, load_scenario, scenario_from_dict

__all__ = ["Scenario", "load_scenario", "scenario_from_dict"]
