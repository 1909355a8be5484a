"""Checks of public-API arguments, with one message template.

Belongs here: turning what a user passes to :func:`tariffsim.simulate` and friends into the
types the library works with (an ISO date string into a date, say), or a
:class:`~tariffsim.errors.DataError` that names the argument, the value and a fix, in the
words of scikit-learn's parameter validation: "The 'date' argument of simulate must be a
date or an ISO string 'YYYY-MM-DD'; got 'April 9'." Not here: scenario-file validation
(:mod:`tariffsim.scenario`), model options (:mod:`tariffsim.models.registry`).
"""

from __future__ import annotations

import datetime as dt

from .errors import DataError

__all__ = ["as_date", "check_world", "bad_argument"]


def bad_argument(function: str, argument: str, expected: str, value) -> DataError:
    """The one message template for a bad argument."""
    return DataError(f"The {argument!r} argument of {function} must be {expected}; got {value!r}.")


def as_date(value, function: str, argument: str = "date") -> dt.date | None:
    """``None``, a ``date``, or an ISO ``'YYYY-MM-DD'`` string, as a date."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise bad_argument(function, argument, "a date or an ISO string 'YYYY-MM-DD' (e.g. '2025-04-09')", value)


def check_world(world, function: str) -> None:
    """``world`` must be a TradeWorld (or None where the function loads the default)."""
    from .world import TradeWorld

    if world is not None and not isinstance(world, TradeWorld):
        raise bad_argument(function, "world", "a TradeWorld (tariffsim.load_world()) or None", world)
