"""Old import paths that keep working with a DeprecationWarning (moved modules).

A shim module is two lines::

    from ._deprecate import moved_module
    __getattr__, __dir__ = moved_module(__name__, "tariffsim.analysis.timeline")

Importing the shim is silent; each attribute taken from it (``from tariffsim.timeline import
timeline``) warns once per call site and returns the object from its new home.
"""

from __future__ import annotations

import importlib
import warnings

__all__ = ["moved_module"]

#: version in which the old paths were deprecated
SINCE = "0.2.0"


def moved_module(old: str, new: str, renames: dict[str, str] | None = None):
    """``(__getattr__, __dir__)`` for a module ``old`` whose contents moved to ``new``.

    Parameters
    ----------
    old, new : str
        Dotted module names.
    renames : dict, optional
        Old attribute name -> new attribute name (for names that changed too).
    """
    renames = dict(renames or {})

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        module = importlib.import_module(new)
        target = renames.get(name, name)
        try:
            value = getattr(module, target)
        except AttributeError:
            raise AttributeError(f"module {old!r} has no attribute {name!r} (it moved to {new!r})") from None
        warnings.warn(f"{old}.{name} is deprecated since tariffsim {SINCE}: use {new}.{target} instead.",
                      DeprecationWarning, stacklevel=2)
        return value

    def __dir__():
        module = importlib.import_module(new)
        return sorted(set(getattr(module, "__all__", dir(module))) | set(renames))

    return __getattr__, __dir__
