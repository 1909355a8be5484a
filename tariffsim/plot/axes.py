"""Shared axes helpers: new axes, short labels, sector names, units.

Every figure function takes ``ax=None`` and calls :func:`new_axes`; labels say what a
number is and in which unit; sectors are shown by name (``C29 Motor vehicles``), not as bare
OECD ICIO codes.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["new_axes", "short", "sector_labels", "unit_of"]


def new_axes(ax=None, size: tuple[float, float] = (8.0, 4.5)):
    """The given Axes, or one on a new figure (matplotlib imported here, on first use)."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("tariffsim.plot needs matplotlib (pip install matplotlib) to draw figures.") from err
    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def short(name: str, width: int = 22) -> str:
    """``name`` cut to ``width`` characters with an ellipsis."""
    return name if len(name) <= width else name[: width - 1] + "…"


def sector_labels(codes: Sequence[str], width: int = 34) -> list[str]:
    """``"C29 Motor vehicles, trailers…"`` for ICIO sector codes; other labels unchanged."""
    from ..datasets import load_sectors

    table = load_sectors()
    names = dict(zip(table["code"].astype(str), table["description"].astype(str)))
    return [short(f"{c} {names[c]}", width) if c in names else str(c) for c in codes]


def unit_of(column: str) -> str:
    """The unit a result/compare column is in, from its name (``%``, ``USD bn``, ``USD mn`` or ``""``)."""
    if column.endswith("_pct") or column.endswith("etr") or "etr_" in column:
        return "%"
    if column.endswith("usd_bn"):
        return "USD bn"
    if column.endswith("_usd") or column in ("welfare_change", "consumer_surplus", "producer_surplus",
                                             "tariff_revenue", "tariff_revenue_change", "imports"):
        return "USD mn"
    return ""
