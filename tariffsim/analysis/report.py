"""Readable text tables and CSV files from a Result (used by the CLI and examples).

The text report reads the result's arrays (``result.country``, ``result.tables.columns``) and
imports no pandas: ``tariffsim run`` prints it without loading pandas (CSV files need it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..results import Result

__all__ = ["text_report", "write_csv", "FOCUS_PARTNERS"]

#: Partners shown first in the US customs table.
FOCUS_PARTNERS = ("KOR", "JPN", "CHN", "TWN", "VNM", "MEX", "CAN", "DEU")

_PCT = ("etr", "etr_base")
_ORDER = (
    "welfare_pct",
    "welfare_first_order_pct",
    "welfare_tot_pct",
    "welfare_vot_pct",
    "real_wage_pct",
    "price_index_pct",
    "exports_pct",
    "imports_pct",
    "imports",
    "etr_base",
    "etr",
    "tariff_revenue",
    "tariff_revenue_change",
    "trade_balance_change",
    "trade_creation",
    "trade_diversion",
    "consumer_surplus",
    "producer_surplus",
    "welfare_change",
)


def _cells(values, pct: bool = False, pp: bool = False) -> list[str]:
    """Numbers as report text: ``12.34%`` (pct), ``+12.34`` (pp, percentage points) or ``1,234.56``; NaN -> ""."""
    if pct:
        return ["" if v != v else f"{100 * v:.2f}%" for v in values]
    if pp:
        return ["" if v != v else f"{100 * v:+.2f}" for v in values]
    return ["" if v != v else f"{v:,.2f}" for v in values]


def _fmt_table(columns: dict[str, np.ndarray], pct_cols=(), pp_cols=()) -> str:
    """A plain-text table: float columns formatted (see :func:`_cells`), every column right-aligned
    to its widest cell or header, one space between columns (the layout of
    ``DataFrame.to_string(index=False)``)."""
    text = {}
    for name, col in columns.items():
        col = np.asarray(col)
        if name in pct_cols or name in pp_cols or col.dtype.kind == "f":
            text[name] = _cells(col.astype(float).tolist(), pct=name in pct_cols, pp=name in pp_cols)
        else:
            text[name] = [str(v) for v in col.tolist()]
    widths = {name: max([len(name)] + [len(v) for v in cells]) for name, cells in text.items()}
    rows = [" ".join(name.rjust(widths[name]) for name in text)]
    n = len(next(iter(text.values()))) if text else 0
    rows += [" ".join(text[name][i].rjust(widths[name]) for name in text) for i in range(n)]
    return "\n".join(rows)


def _partner_rows(t: dict[str, np.ndarray], name: str, partners: int) -> dict[str, np.ndarray]:
    """Rows of the US customs table shown for scenario ``name``: WORLD, the focus partners
    present, then the largest other partners by imports (ties in table order)."""
    rows = np.flatnonzero(t["scenario"] == name)
    partner = t["partner"][rows]
    where = {p: r for p, r in zip(partner.tolist(), rows.tolist())}
    focus = [p for p in FOCUS_PARTNERS if p in where]
    others = rows[~np.isin(partner, ["WORLD", *focus])]
    order = np.argsort(-t["imports_usd_bn"][others], kind="stable")[:max(partners - len(focus), 0)]
    pick = np.concatenate([rows[partner == "WORLD"], np.array([where[p] for p in focus], dtype=np.int64),
                           others[order]]).astype(np.int64)
    cols = ("partner", "imports_usd_bn", "etr_base", "etr", "etr_change", "duties_usd_bn")
    return {c: np.asarray(t[c])[pick] for c in cols}


def text_report(result: Result, *, partners: int = 10) -> str:
    """A plain-text report: US customs table (if any), per-country outputs, solver status.

    Built from the result's arrays (no pandas, except for the prices model's own report).
    """
    lines = [f"tariffsim · model {result.model} · {result.provenance.get('world', '')}".rstrip(" ·")]
    if "prices_summary" in result.tables:  # the prices model has its own report
        from ..models.prices import format_prices_report

        return "\n".join(lines) + "\n\n" + format_prices_report(result, top=result.provenance.get("top", 20)) + "\n"
    dates = result.provenance.get("dates") or [None] * len(result.scenarios)
    n = len(result.countries)
    for k, name in enumerate(result.scenarios):
        when = f" (in force on {dates[k]})" if k < len(dates) and dates[k] else ""
        lines.append("")
        lines.append(f"== scenario {name}{when}")
        if "us_partners" in result.tables:
            show = _partner_rows(result.tables.columns("us_partners"), name, partners)
            lines.append("US imports by partner: statutory rates at 2024 customs values (Census), USD bn")
            lines.append(_fmt_table(show, pct_cols=("etr_base", "etr"), pp_cols=("etr_change",)))
            lines.append("")
        frame = {"country": np.array(result.countries, dtype=object)}
        for col in _ORDER:
            if col in result.country:
                frame[col] = np.asarray(result.country[col], dtype=float).reshape(-1, n)[k]
        lines.append(f"By country ({result.provenance.get('flows', 'model flows')}; USD mn, percent):")
        lines.append(_fmt_table(frame, pct_cols=_PCT))
    if result.solver is not None:
        s = result.solver
        lines.append("")
        lines.append(
            f"solver {s.method}: converged {int(np.sum(s.success))}/{len(s.success)}, "
            f"max residual {float(np.max(s.max_residual)):.2e} {s.residual_units}, "
            f"iterations {int(np.max(s.iterations))}"
        )
    warns = result.provenance.get("warnings") or []
    if warns:
        lines.append("")
        lines.extend(f"note: {w}" for w in warns)
    return "\n".join(lines) + "\n"


def write_csv(result: Result, folder: str | Path) -> list[Path]:
    """Write ``country.csv``, ``flow.csv`` and one CSV per table into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    frames = {"country": result.country_frame()}
    if result.flow:
        frames["flow"] = result.flow_frame()
    frames.update(result.tables)
    for name, frame in frames.items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    return written
