"""What a model registry entry is: :class:`ModelEntry` and its :class:`Option` (with checks).

The table of models itself is :mod:`tariffsim.models.registry`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ModelEntry", "Option", "positive", "count", "flag", "FLOWS", "RAISE_ON_FAILURE", "PARAMS",
           "max_iter_option", "tol_option"]


def positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def flag(value) -> bool:
    return isinstance(value, bool)


@dataclass(frozen=True)
class Option:
    """One keyword option of a model.

    Parameters
    ----------
    name : str
    default : object
        The run function's default (a test keeps them equal).
    doc : str
        One line: what it does, with units.
    choices : tuple, optional
        The valid values (checked with a did-you-mean message).
    check : callable, optional
        ``value -> bool`` for options without ``choices``; ``None``: anything goes.
    expect : str
        How a valid value looks (used in the message when ``check`` fails).
    sweep : bool
        Whether a sweep file may set it under ``[options.<model>]``.
    """

    name: str
    default: Any
    doc: str
    choices: tuple | None = None
    check: Callable[[Any], bool] | None = None
    expect: str = ""
    sweep: bool = True


@dataclass(frozen=True)
class ModelEntry:
    """A model: name, run function, options, elasticities.

    Parameters
    ----------
    name : str
    run : str
        ``"module:function"``; the function is ``f(shocks, **options) -> Result``.
    description : str
    options : tuple of Option
    elasticities : {None, "theta", "pe"}
        How trade elasticities enter (see the module docstring).
    schedules : bool
        The run function takes ``schedules=`` (compiled schedules, for customs tables).
    solver : bool
        The run function takes ``raise_on_failure=`` and reports a SolverInfo.
    welfare : str or None
        The per-country column that measures welfare (``"welfare_pct"``: percent of real
        income; ``"welfare_change"``: USD mn), ``None`` if the model has none. Summaries
        (``tariffsim sweep``, compare footnotes) read it.
    """

    name: str
    run: str
    description: str
    options: tuple[Option, ...] = ()
    elasticities: str | None = None
    schedules: bool = False
    solver: bool = False
    welfare: str | None = None

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options)

    @property
    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def function(self) -> Callable:
        """The run function (imported now)."""
        module, _, name = self.run.partition(":")
        return getattr(importlib.import_module(module), name)


#: options several models share
FLOWS = Option("flows", True, "also return per-flow arrays (exporter x importer x sector)", check=flag,
               expect="True or False", sweep=False)
RAISE_ON_FAILURE = Option("raise_on_failure", True, "raise ConvergenceError if a scenario does not converge",
                          check=flag, expect="True or False", sweep=False)
PARAMS = Option("params", None, "PEParameters (default: pe_defaults on the default elasticity source)", sweep=False)


def max_iter_option(default: int) -> Option:
    return Option("max_iter", default, "iteration limit of the solver", check=count, expect="an integer >= 1")


def tol_option(default: float) -> Option:
    return Option("tol", default, "convergence tolerance", check=positive, expect="a number > 0")
