"""Named parameters of a compiled schedule: every number a sweep may vary.

Belongs here: the registry that hands out parameter indices while a scenario is compiled
(``us_reciprocal.rates.KOR``, ``s232_autos.rate``, ``kor_exemption.enabled``, ...), and the
checks on a (B, P) parameter array. Two fixed entries close the list: ``(zero)`` and
``(one)``, the index of a cell's parameter where a measure does not apply.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from ..errors import DataError, did_you_mean, shorten_list

__all__ = ["Parameters", "bounds_for"]

#: valid range of a parameter by the last part of its name (rates as decimal fractions)
_RATE = (0.0, 5.0)
_SHARE = (0.0, 1.0)
_BOUNDS_BY_SUFFIX = {
    "rate": _RATE, "in_quota_rate": _RATE, "over_quota_rate": _RATE,
    "enabled": _SHARE, "content_share": _SHARE, "utilization": _SHARE, "end_use_share": _SHARE,
}


def bounds_for(name: str) -> tuple[float, float]:
    """Valid (low, high) of a parameter from its name: ``X.rate``, ``X.rates.KOR`` -> [0, 5]; shares [0, 1]."""
    parts = name.split(".")
    if len(parts) >= 3 and parts[-2] == "rates":
        return _RATE
    return _BOUNDS_BY_SUFFIX.get(parts[-1], (-np.inf, np.inf))


class Parameters:
    """An ordered list of named parameters with default values."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.names: list[str] = []
        self.values: list[float] = []
        self._index: dict[str, int] = {}
        self.bounds: list[tuple[float, float]] = []
        self.ZERO = self.ONE = -1

    def add(self, name: str, value: float, bounds: tuple[float, float] | None = None) -> int:
        """Register ``name`` with default ``value`` and valid range (default: :func:`bounds_for`)."""
        self._index.setdefault(name, len(self.names))
        self.names.append(name)
        self.values.append(float(value))
        self.bounds.append(bounds or bounds_for(name))
        return len(self.names) - 1

    def close(self) -> None:
        """Append the constant parameters ``(zero)`` and ``(one)`` (call once, last)."""
        self.ZERO = self.add("(zero)", 0.0)
        self.ONE = self.add("(one)", 1.0)

    @property
    def defaults(self) -> np.ndarray:
        return np.array(self.values)

    def index(self, name: str) -> int:
        """Index of ``name`` (DataError with suggestions if absent)."""
        try:
            return self._index[name]
        except KeyError:
            raise DataError(
                f"scenario {self.owner!r} has no parameter {name!r}. "
                f"{did_you_mean(name, self.names)} Parameters: {shorten_list(self.names, 12)}"
            ) from None

    def vector(self, updates: Mapping[str, float] | None = None) -> np.ndarray:
        """The default vector, shape (P,), with some entries replaced by name."""
        theta = self.defaults
        for name, value in (updates or {}).items():
            k = self.index(name)
            theta[k] = self._checked(name, value, self.bounds[k])
        return theta

    @staticmethod
    def _checked(name: str, value, bounds: tuple[float, float]) -> float:
        """``value`` as a float inside ``bounds``, or a DataError naming the parameter and a fix."""
        if not isinstance(value, numbers.Real):
            raise DataError(f"parameter {name!r} = {value!r} is not a number ({type(value).__name__}). "
                            "Give a float, e.g. 0.15 for 15%.")
        value = float(value)
        low, high = bounds
        if not np.isfinite(value):
            raise DataError(f"parameter {name!r} = {value!r} is not finite. Give a finite number.")
        if not low <= value <= high:
            hint = ""
            if value > 1 and high == 5:
                hint = f" Rates are decimal fractions (0.25 = 25%). Did you mean {value / 100:g}?"
            raise DataError(f"parameter {name!r} = {value:g} is outside [{low:g}, {high:g}].{hint}")
        return value

    def as_batch(self, theta) -> np.ndarray:
        """``theta`` as a fresh (B, P) float array with the constant entries restored."""
        if theta is None:
            theta = self.defaults
        try:
            theta = np.asarray(theta, dtype=float)
        except (TypeError, ValueError):
            raise DataError("parameter array must be numbers, shape (P,) or (B, P).") from None
        if theta.ndim not in (1, 2):
            raise DataError(f"parameter array must have shape (P,) or (B, P); got shape {theta.shape}.")
        if theta.ndim == 1:
            theta = theta[None]
        p = len(self.names)
        if theta.shape[-1] != p:
            raise DataError(f"parameter array has {theta.shape[-1]} columns; this schedule has {p} "
                            f"({shorten_list(self.names)}).")
        theta = theta.copy()
        theta[:, self.ZERO] = 0.0
        theta[:, self.ONE] = 1.0
        low, high = self._bound_arrays()
        if not (np.isfinite(theta).all() and (theta >= low).all() and (theta <= high).all()):
            self._diagnose(theta, low, high)  # cheap check first, the detailed message only on failure
        return theta

    def _bound_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if getattr(self, "_low", None) is None or len(self._low) != len(self.bounds):
            self._low = np.array([b[0] for b in self.bounds])
            self._high = np.array([b[1] for b in self.bounds])
        return self._low, self._high

    def _diagnose(self, theta: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
        bad = ~np.isfinite(theta) | (theta < low) | (theta > high)
        row, col = np.argwhere(bad)[0]
        try:
            self._checked(self.names[col], float(theta[row, col]), self.bounds[col])
        except DataError as err:
            raise DataError(f"parameter array row {row}: {err} ({int(bad.sum())} bad entries in all).") from None
