"""Further CLI commands register here, each from its own module.

Each module listed in ``_MODULES`` defines ``register(subparsers)``, which adds its
sub-commands and sets ``handler`` (a function ``args -> exit code``) on each.
"""

from __future__ import annotations

import importlib

__all__ = ["register"]

_MODULES = ("tariffsim.cli_timeline", "tariffsim.cli_sweep")


def register(sub) -> None:
    """Add the optional sub-commands to the ``tariffsim`` parser."""
    for name in _MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue
        module.register(sub)
