"""Deprecated since 0.2.0: moved to :mod:`tariffsim.models.parameters`.

This path keeps working with a DeprecationWarning.
"""

from ._deprecate import moved_module

__getattr__, __dir__ = moved_module(__name__, "tariffsim.models.parameters")
