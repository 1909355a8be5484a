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

__all__ = ["timeline", "timeline_by_authority", "daily_timeline", "change_dates", "unverified", "timeline_dates",
           "authority_label", "AUTHORITY_NAMES",
           "TIMELINE_COLUMNS"]

#: Columns of the frame :func:`timeline` returns.
TIMELINE_COLUMNS: dict[str, str] = {
    "date": "day the rates are evaluated on (datetime.date)",
    "partner": "US import partner (ISO3), or WORLD for all partners",
    "imports_usd_bn": "2024 US imports for consumption from the partner, customs value, USD bn",
    "etr": "statutory effective tariff rate in force on the date, sum t M / sum M at 2024 values (decimal)",
    "duties_usd_bn": "duties at 2024 import values, sum t M, USD bn",
    "etr_base": "the same at the baseline (MFN/FTA) rates in force on the date (decimal)",
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
    from ..scenario.law import change_points

    scenario = _as_scenario(scenario)
    dates = sorted({d for m in scenario.measures for d in (m.effective, m.until, *change_points(m)) if d is not None})
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


def _check_partners(codes, partners) -> list[str]:
    wanted = list(codes) if partners is None else list(partners)
    missing = [p for p in wanted if p not in codes]
    if missing:
        raise DataError(
            f"no US imports from {missing} in the 2024 line data; partners are ISO3 codes such as KOR, JPN, CHN."
        )
    return wanted


def _evaluate(scenario, dates, world, as_published):
    """(scenario, dates, line accounting) evaluated on a batch of dates (``duty_base`` per date)."""
    from .periods import dated_accounting

    scenario = _as_scenario(scenario)
    dates = timeline_dates(scenario) if dates is None else _parse_dates(dates)
    if not dates:
        raise DataError(
            f"scenario {scenario.name!r} has no dated measures; pass dates=[...] (YYYY-MM-DD) to evaluate it on."
        )
    if world is None:
        from ..datasets import load_world

        world = load_world(scenario.world.regions, keep=scenario.world.keep)
    # one compile per base schedule (periods.py): measures are switched on and off by their dates
    return scenario, dates, dated_accounting(scenario, dates, world, as_published=as_published)


def _totals(scenario, dates, acc, partners, as_published) -> pd.DataFrame:
    codes = np.asarray(acc["partner"]).astype(str)
    value, base = acc["value"], acc["duty_base"]
    wanted = _check_partners(codes, partners)
    picks = [("WORLD", slice(None))] + [(p, codes == p) for p in wanted]
    rows = []
    for k, d in enumerate(dates):
        new = acc["duty_new"][k]
        in_force = ",".join(m.id for m in scenario.in_force(d, as_published=as_published) if m.kind != "base")
        for name, sel in picks:
            v = float(np.sum(value[sel]))
            rows.append({
                "date": d, "partner": name, "imports_usd_bn": v / 1e9,
                # etr = sum t M / sum M
                "etr": float(np.sum(new[sel])) / v if v > 0 else np.nan,
                "duties_usd_bn": float(np.sum(new[sel])) / 1e9,
                "etr_base": float(np.sum(base[k][sel])) / v if v > 0 else np.nan,
                "measures": in_force,
            })
    frame = pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
    frame.attrs["scenario"] = scenario.name
    frame.attrs["file"] = scenario.file
    frame.attrs["verify"] = unverified(scenario, dates, as_published=as_published)
    return frame


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
        within each date. ``attrs["verify"]``: ids of measures in force on some date whose
        source is secondary only (:func:`unverified`).

    Raises
    ------
    DataError
        Bad dates, or a partner with no US imports in the line data.
    """
    scenario, dates, acc = _evaluate(scenario, dates, world, as_published)
    return _totals(scenario, dates, acc, partners, as_published)


def timeline_by_authority(scenario, dates: Sequence | None = None, *, world=None,
                          partners: Sequence[str] | None = ("KOR",), as_published: bool = False,
                          with_totals: bool = False):
    """Duties and statutory ETR on US imports by legal authority, by partner, on each date.

    Same evaluation as :func:`timeline` (one compile, a batch of dates).

    Parameters
    ----------
    scenario, dates, world, partners, as_published
        As in :func:`timeline`.
    with_totals : bool
        Also return the :func:`timeline` frame of the same evaluation (no second compile).

    Returns
    -------
    pandas.DataFrame, or (it, timeline frame) with ``with_totals``
        Tidy: one row per (date, partner, authority) with columns ``date``, ``partner``
        (ISO3 or ``WORLD``), ``authority`` (:data:`tariffsim.scenario.law.AUTHORITIES`;
        ``mfn`` = the base rates), ``imports_usd_mn`` (2024 customs value), ``duties_usd_mn``
        (duty levied under that authority at 2024 values) and ``etr`` (duties / imports,
        decimal). Over the authorities of a (date, partner) the duties and ETRs add up to
        the :func:`timeline` totals.
    """
    from ..models.accounting import authority_frame

    scenario, dates, acc = _evaluate(scenario, dates, world, as_published)
    codes = np.asarray(acc["partner"]).astype(str)
    wanted = _check_partners(codes, partners)
    split = authority_frame(acc, dates, label="date", partners=wanted)
    order = {p: k for k, p in enumerate(["WORLD"] + wanted)}
    split = split.sort_values(["date", "partner"], key=lambda c: c.map(order) if c.name == "partner" else c,
                              kind="stable").reset_index(drop=True)
    split.attrs["scenario"] = scenario.name
    split.attrs["file"] = scenario.file
    if with_totals:
        return split, _totals(scenario, dates, acc, partners, as_published)
    return split


def change_dates(scenario, start: dt.date, end: dt.date, *, as_published: bool = False) -> list[dt.date]:
    """``start`` and every day in (start, end] on which a measure starts or stops applying.

    Between two consecutive change dates the law (and so every rate) is constant: a measure is
    in force on ``d`` iff start <= d < end, with start = ``effective`` (or, with
    ``as_published``, max(effective, published)) and end = ``until`` or the start of a
    measure that ``replaces`` it (:func:`tariffsim.scenario.law.end_of`).
    """
    from ..scenario.law import change_points

    scenario = _as_scenario(scenario)
    cuts = {start}
    for m in scenario.measures:
        for d in change_points(m, as_published):
            if start < d <= end:
                cuts.add(d)
    return sorted(cuts)


def daily_timeline(scenario, start, end, *, world=None, partners: Sequence[str] | None = (),
                   as_published: bool = False) -> pd.DataFrame:
    """Daily duties and statutory ETR by legal authority from ``start`` to ``end`` (inclusive).

    Computed efficiently: the schedule is compiled once and evaluated only on
    :func:`change_dates` (the days a measure starts or stops); every other day carries the
    rates of the last change date before it (forward fill). The result equals evaluating
    each day directly (tests/test_timeline_daily.py checks a sample).

    Parameters
    ----------
    scenario : Scenario or str or Path
    start, end : date or 'YYYY-MM-DD'
    world : TradeWorld, optional
    partners : sequence of str or None
        ISO3 partners besides ``WORLD`` (default: none, the all-partner series only); None = all.
    as_published : bool

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (date, partner, authority), columns ``date``, ``partner``,
        ``authority``, ``duties_usd_mn`` (USD mn a year at 2024 values) and ``etr`` (decimal);
        ``(end - start).days + 1`` dates. ``attrs["changes"]``: the change dates evaluated.
    """
    (start, end) = _parse_dates([start])[0], _parse_dates([end])[0]
    if end < start:
        raise DataError(f"the series ends ({end}) before it starts ({start}); pass --from <= --to.")
    scenario = _as_scenario(scenario)
    changes = change_dates(scenario, start, end, as_published=as_published)
    split = timeline_by_authority(scenario, changes, world=world, partners=partners, as_published=as_published)
    days = pd.date_range(start, end, freq="D").date
    # forward fill: day k takes the rates of the last change date <= day k
    pos = np.searchsorted(np.asarray(changes, dtype="datetime64[D]"), np.asarray(days, dtype="datetime64[D]"),
                          side="right") - 1
    block = len(split) // len(changes)  # rows per date (partners x authorities), same order for each date
    take = (pos[:, None] * block + np.arange(block)[None, :]).reshape(-1)
    out = split.iloc[take][["partner", "authority", "duties_usd_mn", "etr"]].reset_index(drop=True)
    out.insert(0, "date", np.repeat(days, block))
    out.attrs.update(split.attrs)
    out.attrs["changes"] = changes
    return out


def unverified(scenario, dates: Iterable, *, as_published: bool = False) -> list[str]:
    """Ids of measures in force on any of ``dates`` whose ``source`` contains the word "verify".

    Such measures are backed only by a secondary source (see the law file's header).
    """
    from ..simulate import unverified_ids

    scenario = _as_scenario(scenario)
    return unverified_ids(m for d in dates for m in scenario.in_force(d, as_published=as_published))


#: Names of the legal authorities for tables and figures: (long, short).
AUTHORITY_NAMES: dict[str, tuple[str, str]] = {
    "mfn": ("MFN and preferential rates", "MFN"),
    "ieepa_reciprocal": ("IEEPA reciprocal (incl. deal floors)", "IEEPA recip."),
    "ieepa_fentanyl": ("IEEPA fentanyl (CHN, CAN, MEX)", "IEEPA fentanyl"),
    "ieepa_brazil": ("IEEPA Brazil", "IEEPA BRA"),
    "ieepa_india": ("IEEPA India (Russian oil)", "IEEPA IND"),
    "s232_steel_aluminum": ("Section 232 steel and aluminium", "232 metals"),
    "s232_autos": ("Section 232 autos and parts", "232 autos"),
    "s232_copper": ("Section 232 copper", "232 copper"),
    "s232_lumber": ("Section 232 lumber and furniture", "232 lumber"),
    "s232_trucks": ("Section 232 trucks and buses", "232 trucks"),
    "s232_semiconductors": ("Section 232 semiconductors", "232 semis"),
    "s232_pharma": ("Section 232 pharmaceuticals", "232 pharma"),
    "s232_polysilicon": ("Section 232 polysilicon", "232 polysil."),
    "s301_china": ("Section 301 China", "301 China"),
    "s301_brazil": ("Section 301 Brazil", "301 Brazil"),
    "s301_forced_labor": ("Section 301 forced labor", "301 forced lab."),
    "s122": ("Section 122 surcharge", "Sec. 122"),
    "s338": ("Section 338 (Canada)", "Sec. 338"),
    "retaliation": ("Retaliation", "retaliation"),
    "other": ("Other measures", "other"),
}


def authority_label(authority: str, *, short: bool = False) -> str:
    """A policy reader's name for a legal-authority code (``s232_autos`` -> "Section 232 autos and parts")."""
    names = AUTHORITY_NAMES.get(authority)
    return authority if names is None else names[1 if short else 0]
