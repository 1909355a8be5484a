"""Figures from results, timeline frames and comparison tables (matplotlib, imported lazily).

Belongs here: functions ``f(obj, ..., ax=None) -> Axes`` that draw on a given Axes (or a new
figure) and never call ``show``. ``import tariffsim`` does not import matplotlib; each
function imports it when called. Does not belong here: computing the numbers (timeline,
compare, models) or saving files (the caller's ``ax.figure.savefig``).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .axes import new_axes, sector_labels, short, unit_of

__all__ = ["plot_etr_timeline", "plot_exports_by_sector", "plot_welfare", "plot_model_comparison"]


def plot_etr_timeline(frame, ax=None, *, partners=None, title: str | None = None):
    """Statutory ETR on US imports over time, one step line per partner.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`tariffsim.analysis.timeline.timeline` (columns ``date``, ``partner``, ``etr``).
    ax : matplotlib Axes, optional
    partners : sequence of str, optional
        Partners to draw (default: all in the frame; ``WORLD`` is "all partners").
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.dates as mdates

    missing = {"date", "partner", "etr"} - set(frame.columns)
    if missing:
        raise DataError(
            f"plot_etr_timeline needs a timeline frame with columns date, partner, etr; missing {sorted(missing)}."
        )
    ax = new_axes(ax)
    partners = list(dict.fromkeys(frame["partner"])) if partners is None else list(partners)
    labels = {"WORLD": "All partners", "KOR": "Korea"}
    for p in partners:
        part = frame[frame["partner"] == p].sort_values("date")
        if part.empty:
            raise DataError(f"partner {p!r} is not in the timeline frame (it has {sorted(set(frame['partner']))}).")
        x = list(part["date"])
        y = 100.0 * part["etr"].to_numpy()
        ax.step(
            x,
            y,
            where="post",
            lw=2.2 if p == "KOR" else 1.6,
            label=labels.get(p, p),
            color="C3" if p == "KOR" else None,
        )
        ax.plot(x, y, "o", ms=3.5, color=ax.lines[-1].get_color())
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    for lab in ax.get_xticklabels():
        lab.set_rotation(30)
        lab.set_horizontalalignment("right")
    ax.set_ylabel("Statutory effective tariff rate (%)")
    ax.set_xlabel("Date (rates in force from that day)")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(frameon=False)
    ax.set_title(title or "US statutory tariff rate on imports, 2025 (at 2024 import values)")
    return ax


def _flows(result, exporter: str, importer: str):
    countries = list(result.countries)
    for code in (exporter, importer):
        if code not in countries:
            raise DataError(f"{code!r} is not a country of the result ({countries}).")
    i, j = countries.index(exporter), countries.index(importer)
    base = result.flow.get("flow_base")
    if base is None:
        raise DataError("the result has no flow columns (run the model with flows=True).")
    new = result.flow.get("flow_new", base)
    return base[:, i, j, :], new[:, i, j, :]


def plot_exports_by_sector(
    result, exporter: str = "KOR", importer: str = "USA", ax=None, *, top: int = 10, title: str | None = None
):
    """Exports of one country to another by sector: baseline and each scenario of a Result.

    Parameters
    ----------
    result : Result
        A model result with flow columns (``flow_base``, ``flow_new``; accounting has only
        ``flow_base``, so only the baseline is drawn).
    exporter, importer : str
        Country codes of the result.
    ax : matplotlib Axes, optional
    top : int
        Number of sectors shown (largest baseline flows); the rest are summed as "Other".
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    base, new = _flows(result, exporter, importer)
    ax = new_axes(ax, size=(9.0, 5.0))
    order = np.argsort(-base[0])
    keep, rest = order[:top], order[top:]
    names = sector_labels([result.sectors[k] for k in keep]) + (["Other sectors"] if len(rest) else [])

    def pick(arr):
        out = arr[:, keep]
        if len(rest):
            out = np.concatenate([out, arr[:, rest].sum(axis=1, keepdims=True)], axis=1)
        return out / 1e3  # USD mn -> USD bn

    series = [("Baseline (2022 flows)", pick(base[:1])[0])]
    if "flow_new" in result.flow:
        series += [(short(s, 28), row) for s, row in zip(result.scenarios, pick(new))]
    y = np.arange(len(names))
    h = 0.8 / len(series)
    for k, (label, vals) in enumerate(series):
        ax.barh(
            y + (k - (len(series) - 1) / 2) * h, vals, height=h, label=label, color="0.6" if k == 0 else f"C{k - 1}"
        )
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(f"Exports {exporter} → {importer} (USD bn a year)")
    ax.set_ylabel("Sector (OECD ICIO)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False, fontsize="small", loc="lower right")
    ax.set_title(title or f"{exporter} exports to {importer} by sector, model {result.model}")
    return ax


def plot_welfare(result, ax=None, *, countries=None, title: str | None = None):
    """Welfare change by country for each scenario of a Result (grouped bars).

    GE results draw ``welfare_pct`` (percent of real income); PE results draw
    ``welfare_change`` (USD bn). Accounting results have no welfare and raise.

    Parameters
    ----------
    result : Result
    ax : matplotlib Axes, optional
    countries : sequence of str, optional
        Countries drawn (default: all of the result).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if "welfare_pct" in result.country:
        values, unit = result.country["welfare_pct"], "Welfare change (% of real income)"
    elif "welfare_change" in result.country:
        values, unit = result.country["welfare_change"] / 1e3, "Welfare change (USD bn)"
    else:
        raise DataError(
            f"model {result.model!r} reports no welfare (columns {sorted(result.country)}); use smart, gsim or ge."
        )
    names = list(result.countries) if countries is None else list(countries)
    idx = [result.countries.index(c) for c in names]
    ax = new_axes(ax, size=(9.0, 4.5))
    x = np.arange(len(names))
    w = 0.8 / len(result.scenarios)
    for k, scen in enumerate(result.scenarios):
        ax.bar(x + (k - (len(result.scenarios) - 1) / 2) * w, values[k, idx], width=w, label=short(scen, 28))
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xticks(x, names)
    ax.set_xlabel("Country or region")
    ax.set_ylabel(unit)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(frameon=False, fontsize="small")
    ax.set_title(title or f"Welfare by country, model {result.model}")
    return ax


def plot_model_comparison(frame, ax=None, *, column: str = "kor_exports_to_usa_pct", title: str | None = None):
    """One output of a comparison table, scenarios × models, as grouped bars.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`tariffsim.analysis.compare.compare`.
    ax : matplotlib Axes, optional
    column : str
        A column of :data:`tariffsim.analysis.compare.COMPARE_COLUMNS`. Models with no value (NaN)
        are left out of the legend.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    from ..analysis.compare import COMPARE_COLUMNS

    described = frame.attrs.get("columns") or COMPARE_COLUMNS
    if column not in frame.columns:
        raise DataError(f"column {column!r} is not in the comparison table; columns: {list(described)}.")
    table = frame.pivot_table(index="scenario", columns="model", values=column, sort=False, dropna=False)
    table = table.reindex(list(dict.fromkeys(frame["scenario"])))
    table = table.loc[:, table.notna().any(axis=0)]
    if table.empty:
        raise DataError(f"no model produced {column!r} for these scenarios.")
    pct = column.endswith("etr") or "etr_" in column
    scale = 100.0 if pct else 1.0
    ax = new_axes(ax, size=(9.0, 4.5))
    x = np.arange(len(table.index))
    w = 0.8 / len(table.columns)
    for k, model in enumerate(table.columns):
        ax.bar(x + (k - (len(table.columns) - 1) / 2) * w, scale * table[model].to_numpy(), width=w, label=model)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xticks(x, [short(s, 24) for s in table.index], rotation=15, ha="right")
    unit = unit_of(column)
    ax.set_ylabel(f"{column} ({unit})" if unit else column)
    ax.set_xlabel("Scenario")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(title="model", frameon=False, fontsize="small")
    ax.set_title(title or described.get(column, column).split(",")[0])
    return ax
