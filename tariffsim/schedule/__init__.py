"""Measures → arrays: coverage from HS prefixes and lists, named stacking rules, floors."""

from .compile import CompiledSchedule, compile_schedule, concat_shocks, prepare_schedule

__all__ = ["CompiledSchedule", "compile_schedule", "concat_shocks", "prepare_schedule"]
