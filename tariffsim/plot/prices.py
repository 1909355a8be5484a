"""Figures of the prices model: price change by PCE category, burden by income decile.

Same contract as :mod:`tariffsim.plot` (``f(result, ..., ax=None) -> Axes``, matplotlib imported
lazily, never ``show``). Temporary home: to move into the ``tariffsim.plot`` package.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError

__all__ = ["plot_burden_by_decile", "plot_price_by_category"]


def _axes(ax, size=(8.0, 4.5)):
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("tariffsim figures need matplotlib (pip install matplotlib).") from err
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _table(result, name: str, scenario):
    if name not in getattr(result, "tables", {}):
        raise DataError(f"the result has no table {name!r}: run the 'prices' model "
                        "(tariffsim.models.prices.run_prices).")
    table = result.tables[name]
    names = list(dict.fromkeys(table["scenario"]))
    pick = names[0] if scenario is None else (names[scenario] if isinstance(scenario, int) else scenario)
    if pick not in names:
        raise DataError(f"scenario {pick!r} is not in the result (it has {names}).")
    return table[table["scenario"] == pick], pick


def plot_price_by_category(result, ax=None, *, scenario=None, top: int = 20, title: str | None = None):
    """Horizontal bars: the ``top`` PCE categories with the largest price increase, percent.

    Parameters
    ----------
    result : Result
        Of the prices model (table ``prices_by_category``).
    ax : matplotlib Axes, optional
    scenario : str or int, optional
        Which scenario of the batch (default: the first).
    top : int
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    cats, name = _table(result, "prices_by_category", scenario)
    cats = cats.nsmallest(top, "rank").iloc[::-1]
    ax = _axes(ax, (8.0, 0.28 * len(cats) + 1.2))
    y = np.arange(len(cats))
    ax.barh(y, cats["price_change_pct"], color="#b2182b", label="Before substitution")
    if "price_change_post_pct" in cats:
        ax.scatter(cats["price_change_post_pct"], y, color="black", zorder=3, s=12, label="After substitution")
        ax.legend(loc="lower right", frameon=False)
    ax.set_yticks(y, [c if len(c) <= 45 else c[:44] + "…" for c in cats["category"]], fontsize=8)
    ax.set_xlabel("Consumer price change, percent")
    ax.set_title(title or f"Price change by consumption category — {name}")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_burden_by_decile(result, ax=None, *, scenario=None, title: str | None = None):
    """Bars: cost per household as a share of after-tax income by income decile, with USD labels.

    Parameters
    ----------
    result : Result
        Of the prices model (table ``households_by_decile``).
    ax : matplotlib Axes, optional
    scenario : str or int, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    dec, name = _table(result, "households_by_decile", scenario)
    ax = _axes(ax)
    x = dec["decile"].to_numpy()
    bars = ax.bar(x, dec["cost_share_of_income_pct"], color="#2166ac")
    for bar, usd in zip(bars, dec["cost_usd"]):
        ax.annotate(f"${usd:,.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                    va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, [f"{d}" for d in x])
    ax.set_xlabel("Income decile (1 = lowest; after transfers and federal taxes)")
    ax.set_ylabel("Cost, percent of after-tax income")
    ax.set_title(title or f"Cost per household by income decile — {name}")
    ax.grid(axis="y", alpha=0.3)
    return ax
