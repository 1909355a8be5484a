"""``pandas`` imported on first use: ``from ._lazy import pandas as pd`` in modules that need it
only in some functions.

``pd.DataFrame``, ``isinstance(x, pd.Series)``, ... work as with ``import pandas as pd``; the
import (~0.5 s, with pyarrow) happens at the first attribute access, so the paths that never
build a frame (``import tariffsim``, ``tariffsim run`` with text output) do not pay for it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["pandas"]


class _LazyModule:
    """A stand-in for a module that imports it on the first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r} ({'loaded' if self._module is not None else 'not loaded'})>"


pandas = _LazyModule("pandas")
