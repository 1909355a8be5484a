"""The statutory US tariff rate by legal authority over time (lazy matplotlib; returns the Axes).

Belongs here: :func:`plot_authority_timeline`, a stacked step-area figure of the daily ETR by
authority (:func:`tariffsim.analysis.timeline.daily_timeline`) with the largest changes labelled
in words, and :func:`save`. The data are computed in :mod:`tariffsim.analysis.timeline`.
"""

from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np

from ..errors import DataError
from .axes import new_axes

__all__ = ["plot_authority_timeline", "save", "MARKED_EVENTS"]

#: Dates marked on every figure whose range contains them: (date, label).
MARKED_EVENTS = (
    (dt.date(2026, 2, 20), "Supreme Court voids IEEPA duties (20 Feb 2026)"),
    (dt.date(2026, 2, 24), "CBP stops collecting IEEPA duties (24 Feb 2026)"),
)


def _event_label(delta, names) -> str:
    """Words for one change date: the one or two authorities that moved most, in pp."""
    order = np.argsort(-np.abs(delta))
    parts = [f"{names[k]} {delta[k]:+.1f} pp" for n, k in enumerate(order[:2])
             if n == 0 or abs(delta[k]) >= abs(delta[order[0]]) / 3]
    return "; ".join(parts)


def plot_authority_timeline(series, *, partner: str = "WORLD", ax=None, events: int = 8, title: str | None = None):
    """Stacked daily statutory ETR by legal authority, with the biggest changes labelled.

    Parameters
    ----------
    series : pandas.DataFrame
        :func:`tariffsim.analysis.timeline.daily_timeline` output (``date``, ``partner``,
        ``authority``, ``etr``), one row per day, partner and authority.
    partner : str
        ``WORLD`` (all partners) or an ISO3 partner in the frame.
    ax : matplotlib Axes, optional
    events : int
        Label at most this many change dates, the largest (sum of |change| over authorities).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        y: statutory ETR in percent of 2024 customs value; one band per authority with a
        non-zero duty in the range (MFN at the bottom).
    """
    from ..analysis.timeline import authority_label

    missing = {"date", "partner", "authority", "etr"} - set(series.columns)
    if missing:
        raise DataError(f"plot_authority_timeline needs a daily_timeline frame; missing columns {sorted(missing)}.")
    part = series[series["partner"] == partner]
    if part.empty:
        raise DataError(f"partner {partner!r} is not in the series (it has {sorted(set(series['partner']))}); "
                        "pass partners=[...] to daily_timeline.")
    table = part.pivot_table(index="date", columns="authority", values="etr", aggfunc="sum", sort=False) * 100.0
    table = table.loc[:, (table != 0).any(axis=0)]
    rest = sorted((a for a in table.columns if a != "mfn"), key=lambda a: -table[a].mean())
    table = table[[a for a in ("mfn",) if a in table.columns] + rest]
    ax = new_axes(ax, size=(12.0, 7.0))
    x = np.asarray(table.index, dtype="datetime64[D]")
    y = table.to_numpy()
    names = [authority_label(a) for a in table.columns]
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    colors = ["0.78" if a == "mfn" else cmap(k % 20) for k, a in enumerate(table.columns)]
    low = np.zeros(len(x))
    for k, name in enumerate(names):
        high = low + y[:, k]
        ax.fill_between(x, low, high, step="post", color=colors[k], alpha=0.9, lw=0, label=name)
        low = high
    top = float(low.max()) if len(low) else 1.0
    ax.set_ylim(0, top * 1.12 + 0.5)
    # events: the largest change dates (sum of |change| over authorities), plus the marked dates in range
    first, last = table.index[0], table.index[-1]
    marked = {d: lab for d, lab in MARKED_EVENTS if first <= d <= last}
    delta = np.diff(y, axis=0)
    size = np.abs(delta).sum(axis=1)
    cand = [k for k in np.argsort(-size) if size[k] > 0.05 and table.index[k + 1] not in marked][:events]
    found = [(table.index[k + 1], _event_label(delta[k], names), "0.2") for k in cand]
    index = {d: k for k, d in enumerate(table.index)}
    for d, lab in marked.items():  # a marked date that is also a change date says what changed
        k = index.get(d, 0) - 1
        found.append((d, lab + (f" — {_event_label(delta[k], names)}" if k >= 0 and size[k] > 0.05 else ""), "C3"))
    notes = []
    for n, (d, text, color) in enumerate(sorted(found, key=lambda e: e[0]), 1):
        at = np.datetime64(d, "D")
        ax.axvline(at, color=color, lw=1.1 if color == "C3" else 0.6, ls="--" if color == "C3" else ":")
        ax.text(at, top * (1.02 + 0.03 * (n % 3)), str(n), ha="center", va="bottom", fontsize=7.5, color=color,
                fontweight="bold")
        notes.append(textwrap.fill(f"{n}  {d:%d %b %Y}: {text}", 64, subsequent_indent="      "))
    if notes:
        ax.text(1.01, 0.0, "Events (largest changes, pp of ETR)\n" + "\n".join(notes), transform=ax.transAxes,
                va="bottom", ha="left", fontsize=7.5, family="sans-serif")
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.set_xlim(x[0], x[-1])
    ax.set_ylabel("statutory ETR, % of 2024 customs value")
    ax.set_xlabel("date the rates are in force (law as applied)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False, title="legal authority")
    who = "all partners" if partner == "WORLD" else f"imports from {partner}"
    ax.set_title(title or f"US statutory tariff rate by legal authority, {who} ({first} to {last}; 2024 import "
                 "weights, no behaviour)", fontsize=10)
    return ax


def save(ax, path, dpi: int = 150) -> None:
    """Write the figure of ``ax`` to ``path`` (format from the suffix) and close it."""
    import matplotlib.pyplot as plt

    ax.figure.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(ax.figure)
