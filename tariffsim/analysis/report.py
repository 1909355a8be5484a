"""Readable text tables and CSV files from a Result (used by the CLI and examples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

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


def _fmt_table(frame: pd.DataFrame, pct_cols=(), pp_cols=()) -> str:
    out = frame.copy()
    for col in out.columns:
        if col in pct_cols:
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{100 * v:.2f}%")
        elif col in pp_cols:
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{100 * v:+.2f}")
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    return out.to_string(index=False)


def text_report(result: Result, *, partners: int = 10) -> str:
    """A plain-text report: US customs table (if any), per-country outputs, solver status."""
    lines = [f"tariffsim · model {result.model} · {result.provenance.get('world', '')}".rstrip(" ·")]
    if "prices_summary" in result.tables:  # the prices model has its own report
        from ..models.prices import format_prices_report

        return "\n".join(lines) + "\n\n" + format_prices_report(result, top=result.provenance.get("top", 20)) + "\n"
    dates = result.provenance.get("dates") or [None] * len(result.scenarios)
    for k, name in enumerate(result.scenarios):
        when = f" (in force on {dates[k]})" if k < len(dates) and dates[k] else ""
        lines.append("")
        lines.append(f"== scenario {name}{when}")
        if "us_partners" in result.tables:
            t = result.tables["us_partners"]
            t = t[t["scenario"] == name]
            focus = [p for p in FOCUS_PARTNERS if p in set(t["partner"])]
            rest = t[~t["partner"].isin(["WORLD", *focus])].nlargest(max(partners - len(focus), 0), "imports_usd_bn")
            show = pd.concat([t[t["partner"] == "WORLD"], t.set_index("partner").loc[focus].reset_index(), rest])
            show = show[["partner", "imports_usd_bn", "etr_base", "etr", "etr_change", "duties_usd_bn"]]
            lines.append("US imports by partner: statutory rates at 2024 customs values (Census), USD bn")
            lines.append(_fmt_table(show, pct_cols=("etr_base", "etr"), pp_cols=("etr_change",)))
            lines.append("")
        frame = result.country_frame()
        frame = frame[frame["scenario"] == name].drop(columns="scenario")
        cols = ["country"] + [c for c in _ORDER if c in frame.columns]
        lines.append(f"By country ({result.provenance.get('flows', 'model flows')}; USD mn, percent):")
        lines.append(_fmt_table(frame[cols], pct_cols=_PCT))
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
