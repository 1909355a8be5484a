"""Statutory tariff rates and duties on US imports along a scenario's timeline.

Belongs here: evaluating one scenario file on a sequence of dates (each measure's
``effective`` / ``until`` dates turn a file into a timeline) and reporting, per date, the
statutory effective tariff rate (ETR) and the duties on US imports by partner, at 2024
customs values (Census lines, pre-substitution, no behaviour). Does not belong here:
behavioural models (:func:`tariffsim.simulate.simulate`), plotting (:mod:`tariffsim.plot`),
printing (:mod:`tariffsim.cli_timeline`).

Definitions, per date ``d`` and partner ``p`` (sums over the HS10 lines of ``p``):

    etr_p(d)    = sum_l t_l(d) M_l / sum_l M_l     (t: all-in rate in force on d)
    duties_p(d) = sum_l t_l(d) M_l

with ``M_l`` the 2024 customs value; the partner ``WORLD`` sums over all partners.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["timeline", "timeline_dates", "TIMELINE_COLUMNS"]

#: Columns of the frame :func:`timeline` returns.
TIMELINE_COLUMNS: dict[str, str] = {
    "date": "day the rates are evaluated on (datetime.date)",
    "partner": "US import partner (ISO3), or WORLD for all partners",
    "imports_usd_bn": "2024 US imports for consumption from the partner, customs value, USD bn",
    "etr": "statutory effective tariff rate in force on the date, sum t M / sum M at 2024 values (decimal)",
    "duties_usd_bn": "duties at 2024 import values, sum t M, USD bn",
    "etr_base": "the same at the baseline (2024 MFN/FTA) rates (decimal)",
    "measures": "ids of the tariff measures in force on the date (other than base)",
}


def _as_scenario(scenario):
    from ..scenario import Scenario, load_scenario

    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    if isinstance(scenario, Scenario):
        return scenario
    raise DataError(f"timeline expects a scenario file path or a Scenario; got {type(scenario).__name__}.")


def timeline_dates(scenario, *, baseline: bool = True) -> list[dt.date]:
    """Every date on which a measure of ``scenario`` starts or stops, in order.

    Parameters
    ----------
    scenario : Scenario or path
    baseline : bool
        Also include the day before the first date (the law before any dated measure).

    Returns
    -------
    list of datetime.date
    """
    scenario = _as_scenario(scenario)
    dates = sorted({d for m in scenario.measures for d in (m.effective, m.until) if d is not None})
    if baseline and dates:
        dates.insert(0, dates[0] - dt.timedelta(days=1))
    return dates


def _parse_dates(dates: Iterable) -> list[dt.date]:
    out = []
    for d in dates:
        if isinstance(d, dt.datetime):
            d = d.date()
        elif isinstance(d, str):
            try:
                d = dt.date.fromisoformat(d.strip())
            except ValueError:
                raise DataError(f"{d!r} is not a date; write YYYY-MM-DD, e.g. 2025-04-09.") from None
        elif not isinstance(d, dt.date):
            raise DataError(f"dates must be datetime.date or 'YYYY-MM-DD' strings; got {type(d).__name__}.")
        out.append(d)
    return sorted(set(out))


def timeline(scenario, dates: Sequence | None = None, *, world=None,
             partners: Sequence[str] | None = ("KOR",), as_published: bool = False) -> pd.DataFrame:
    """Statutory ETR and duties on US imports, by partner, on each date.

    The scenario is compiled once with every measure
    (:func:`tariffsim.schedule.prepare_schedule` with ``all_dates=True``); each date is one
    parameter vector that switches on the measures in force that day, and all dates are
    evaluated as one batch on the 2024 US import lines with
    :meth:`~tariffsim.schedule.compile.CompiledSchedule.line_accounting`.

    Parameters
    ----------
    scenario : Scenario or str or Path
        A scenario (file) whose measures carry ``effective`` / ``until`` dates.
    dates : sequence of date or 'YYYY-MM-DD', optional
        Default: :func:`timeline_dates` (each start/end date, plus the day before the first).
    world : TradeWorld, optional
        Default: the embedded world the scenario asks for.
    partners : sequence of str or None
        ISO3 partners to report besides ``WORLD`` (default Korea); None = every partner.
    as_published : bool
        Start retroactive measures on their ``published`` date (what was known each day);
        default False: the law as applied (from ``effective``).

    Returns
    -------
    pandas.DataFrame
        One row per (date, partner), columns as in :data:`TIMELINE_COLUMNS`, ``WORLD`` first
        within each date.

    Raises
    ------
    DataError
        Bad dates, or a partner with no US imports in the line data.
    """
    from ..schedule import prepare_schedule

    scenario = _as_scenario(scenario)
    dates = timeline_dates(scenario) if dates is None else _parse_dates(dates)
    if not dates:
        raise DataError(
            f"scenario {scenario.name!r} has no dated measures; pass dates=[...] (YYYY-MM-DD) to evaluate it on."
        )
    if world is None:
        from ..datasets import load_world

        world = load_world(scenario.world.regions, keep=scenario.world.keep)
    rows = []
    # one compile for every date: measures are switched on and off by their dates
    sched = prepare_schedule(scenario, world, all_dates=True, as_published=as_published)
    acc = sched.line_accounting(np.stack([sched.dated_vector(d) for d in dates]))
    codes = np.asarray(acc["partner"]).astype(str)
    value, base = acc["value"], acc["duty_base"]
    for k, d in enumerate(dates):
        new = acc["duty_new"][k]
        in_force = ",".join(m.id for m in scenario.in_force(d, as_published=as_published) if m.kind != "base")
        wanted = list(codes) if partners is None else list(partners)
        missing = [p for p in wanted if p not in codes]
        if missing:
            raise DataError(
                f"no US imports from {missing} in the 2024 line data; partners are ISO3 codes such as KOR, JPN, CHN."
            )
        picks = [("WORLD", slice(None))] + [(p, codes == p) for p in wanted]
        for name, sel in picks:
            v = float(np.sum(value[sel]))
            rows.append({
                "date": d, "partner": name, "imports_usd_bn": v / 1e9,
                # etr = sum t M / sum M
                "etr": float(np.sum(new[sel])) / v if v > 0 else np.nan,
                "duties_usd_bn": float(np.sum(new[sel])) / 1e9,
                "etr_base": float(np.sum(base[sel])) / v if v > 0 else np.nan,
                "measures": in_force,
            })
    frame = pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
    frame.attrs["scenario"] = scenario.name
    frame.attrs["file"] = scenario.file
    return frame
