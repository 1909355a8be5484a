"""Named parameters of a compiled schedule: every number a sweep may vary.

Belongs here: the registry that hands out parameter indices while a scenario is compiled
(``us_reciprocal.rates.KOR``, ``s232_autos.rate``, ``kor_exemption.enabled``, ...), and the
checks on a (B, P) parameter array. Two fixed entries close the list: ``(zero)`` and
``(one)``, the index of a cell's parameter where a measure does not apply.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import DataError, did_you_mean, shorten_list

__all__ = ["Parameters"]


class Parameters:
    """An ordered list of named parameters with default values."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.names: list[str] = []
        self.values: list[float] = []
        self._index: dict[str, int] = {}
        self.ZERO = self.ONE = -1

    def add(self, name: str, value: float) -> int:
        """Register ``name`` with default ``value``; return its index."""
        self._index.setdefault(name, len(self.names))
        self.names.append(name)
        self.values.append(float(value))
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
            theta[self.index(name)] = value
        return theta

    def as_batch(self, theta) -> np.ndarray:
        """``theta`` as a fresh (B, P) float array with the constant entries restored."""
        if theta is None:
            theta = self.defaults
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1:
            theta = theta[None]
        p = len(self.names)
        if theta.shape[-1] != p:
            raise DataError(f"parameter array has {theta.shape[-1]} columns; this schedule has {p} "
                            f"({shorten_list(self.names)}).")
        theta = theta.copy()
        theta[:, self.ZERO] = 0.0
        theta[:, self.ONE] = 1.0
        return theta
