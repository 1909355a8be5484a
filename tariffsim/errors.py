"""Exception hierarchy and helpers that make error messages useful.

Every error a user can cause derives from :class:`TariffsimError`; the CLI turns
these into one ``error: ...`` line and exit code 2 (bad input) or 1 (solver failure).
Message helpers (:func:`did_you_mean`, :func:`shorten_list`) live here so that every
module phrases problems the same way: *where* → *what* → *did you mean* → *how to fix*.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "TariffsimError",
    "ScenarioError",
    "DataError",
    "ConvergenceError",
    "UnverifiedLawWarning",
    "Problem",
    "did_you_mean",
    "shorten_list",
]


class TariffsimError(Exception):
    """Base class of every error tariffsim raises on purpose."""


class DataError(TariffsimError, ValueError):
    """Input data (flows, labels, parameters) are malformed or inconsistent."""


class Problem:
    """One problem found in a scenario file: where, what, and how to fix it.

    Parameters
    ----------
    path : str
        Key path inside the file, e.g. ``measure[1].rates.KOR``.
    message : str
        What is wrong, naming the offending value.
    hint : str, optional
        Did-you-mean and/or how to fix it.
    """

    __slots__ = ("path", "message", "hint")

    def __init__(self, path: str, message: str, hint: str = "") -> None:
        self.path = path
        self.message = message
        self.hint = hint

    def format(self, file: str | None = None) -> str:
        where = f"{file} → {self.path}" if file else self.path
        text = f"{where}: {self.message}"
        return f"{text} {self.hint}".rstrip()

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Problem({self.path!r}, {self.message!r}, {self.hint!r})"


class ScenarioError(TariffsimError, ValueError):
    """A scenario file (or dict) is invalid. Carries every problem found at once.

    Parameters
    ----------
    problems : sequence of Problem
        All problems found; the message lists each on its own line.
    file : str, optional
        The file the problems were found in.
    """

    def __init__(self, problems: Sequence[Problem] | str, file: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem("(file)", problems)]
        self.problems = list(problems)
        self.file = file
        n = len(self.problems)
        head = f"{file or 'scenario'}: {n} problem{'s' if n != 1 else ''} found"
        lines = [p.format(file) for p in self.problems]
        super().__init__(head + "\n" + "\n".join("  - " + line for line in lines))


class ConvergenceError(TariffsimError, RuntimeError):
    """A solver did not reach its tolerance. ``info`` holds the diagnostics."""

    def __init__(self, message: str, info: object = None) -> None:
        super().__init__(message)
        self.info = info


class UnverifiedLawWarning(UserWarning):
    """A run used measures whose ``source`` says "verify": backed only by a secondary source.

    Emitted once per :func:`tariffsim.simulate` call; the ids are also in
    ``result.provenance["verify"]``. Silence it with
    ``warnings.filterwarnings("ignore", category=UnverifiedLawWarning)``.
    """


def shorten_list(items: Iterable[object], limit: int = 8) -> str:
    """Render at most ``limit`` items, then ``... (N more)``."""
    items = [str(x) for x in items]
    if len(items) <= limit:
        return "[" + ", ".join(items) + "]"
    return "[" + ", ".join(items[:limit]) + f", ... ({len(items) - limit} more)]"


def did_you_mean(value: str, options: Iterable[str], n: int = 3) -> str:
    """Return ``"Did you mean 'X'?"`` for the closest options, or ``""`` if none is close."""
    options = [str(o) for o in options]
    upper = {o.upper(): o for o in options}
    if str(value).upper() in upper and str(value) not in options:
        return f"Did you mean {upper[str(value).upper()]!r}?"
    close = _ranked(str(value), options, n)
    if not close:
        close = [upper[c] for c in _ranked(str(value).upper(), list(upper), n)]
    if not close:
        return ""
    if len(close) == 1:
        return f"Did you mean {close[0]!r}?"
    return "Did you mean one of " + ", ".join(repr(c) for c in close) + "?"


def _ranked(value: str, options: list[str], n: int) -> list[str]:
    """Close matches, best first: similarity, then the longest common prefix."""
    close = difflib.get_close_matches(value, options, n=max(n, 10), cutoff=0.6)

    def prefix(a: str) -> int:
        k = 0
        while k < min(len(a), len(value)) and a[k] == value[k]:
            k += 1
        return k

    close.sort(key=lambda c: (-round(difflib.SequenceMatcher(None, value, c).ratio(), 3), -prefix(c)))
    return close[:n]
