"""Plots of sweep summaries (lazy matplotlib; each returns the Axes, never shows).

Belongs here: :func:`plot_bands` (uncertainty bands from
:func:`tariffsim.sweep.quantile_bands`) and :func:`plot_sensitivity` (a tornado chart from
:func:`tariffsim.sweep.sensitivity`).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .axes import new_axes

__all__ = ["plot_bands", "plot_sensitivity"]


def plot_bands(data, *, ax=None, label=None, title: str | None = None):
    """Median, interquartile and outer bands per group (one row per group).

    Parameters
    ----------
    data : DataFrame
        Output of :func:`~tariffsim.sweep.quantile_bands`: ``q50`` and symmetric pairs of
        quantile columns (``q25``/``q75``, ``q05``/``q95``, ...).
    ax : matplotlib Axes, optional
    label : str or list of str, optional
        Column(s) that name a row (default: the grouping columns before ``n``).
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, size=(6.0, 4.0))
    if "q50" not in data:
        raise DataError("plot_bands needs the median column 'q50' (quantile_bands(..., quantiles=[..., 0.5, ...])).")
    cols = list(data.columns)
    label = [label] if isinstance(label, str) else label or cols[: cols.index("n")]
    names = [" / ".join(str(v) for v in row) for row in data[label].itertuples(index=False)]
    y = np.arange(len(data))[::-1]
    qcols = sorted((c for c in cols if c.startswith("q") and c[1:].isdigit()), key=lambda c: int(c[1:]))
    pairs = [(lo, hi) for lo in qcols for hi in qcols if int(lo[1:]) + int(hi[1:]) == 100 and int(lo[1:]) < 50]
    pairs.sort(key=lambda p: int(p[0][1:]))
    for k, (lo, hi) in enumerate(pairs):  # widest band first, thinnest line
        width = 2 + 5 * k
        ax.hlines(y, data[lo], data[hi], lw=width, color="C0", alpha=0.35 + 0.3 * k / max(len(pairs), 1),
                  label=f"{lo[1:]}-{hi[1:]}%")
    ax.plot(data["q50"], y, "o", color="C3", ms=4, label="median")
    ax.axvline(0.0, color="0.6", lw=0.8)
    ax.set_yticks(y, names)
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_sensitivity(data, *, ax=None, top: int = 10, group: dict | None = None, title: str | None = None):
    """Tornado chart: the parameters that move an output most, signed coefficients.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`~tariffsim.sweep.sensitivity`.
    ax : matplotlib Axes, optional
    top : int
        Show the ``top`` parameters by rank.
    group : dict, optional
        Select one group, e.g. ``{"model": "ge", "country": "KOR"}`` (needed when the
        frame holds several groups).
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, size=(6.0, 4.0))
    frame = data
    for col, val in (group or {}).items():
        frame = frame[frame[col] == val]
    keys = [c for c in frame.columns if c not in ("parameter", "coefficient", "abs", "rank", "r2")]
    if keys and len(frame[keys].drop_duplicates()) > 1:
        raise DataError(f"the sensitivity table holds several groups; select one with group={{...}} over {keys}.")
    frame = frame.sort_values("rank").head(top)
    y = np.arange(len(frame))[::-1]
    colors = np.where(frame["coefficient"] >= 0, "C0", "C3")
    ax.barh(y, frame["coefficient"], color=colors)
    ax.set_yticks(y, frame["parameter"])
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("Standardized effect on the output (regression coefficient, unitless)")
    if title:
        ax.set_title(title)
    return ax
