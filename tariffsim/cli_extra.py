"""Further CLI commands (timeline, compare, sweep) register themselves here."""

from __future__ import annotations

__all__ = ["register"]


def register(sub) -> None:
    """Add optional sub-commands to the ``tariffsim`` parser."""
    return None
