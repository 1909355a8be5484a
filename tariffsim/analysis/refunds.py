"""IEEPA refund exposure: statutory IEEPA duties owed on 2024 trade flows, day by day.

Belongs here: one estimate for the policy reader after *Learning Resources v. Trump*
(2026-02-20; CBP stopped collecting IEEPA duties on 2026-02-24): how much duty did the law
as applied charge under the IEEPA authorities (reciprocal, fentanyl, Brazil, India) from
their start to the last day of collection, by partner and authority?

It is an ESTIMATE OF STATUTORY LIABILITY, NOT OF COLLECTIONS: annual 2024 import values
(Census imports for consumption, customs value) are spread evenly over the year, every
line pays the statutory rate in force on each day, and nothing responds (no trade
diversion, no front-loading, no under-claiming of exemptions, no non-compliance, no
in-transit exceptions, no drawback). Actual collections were lower (imports fell) and
refunds depend on liquidation status and claims.

Formula, per partner p and authority a, over the days d of the window [start, end]::

    exposure[p, a] = sum_d duty[p, a](d) / 365   with duty[p, a](d) = sum_lines t_a(line, d) * M_line

where ``t_a`` is the additional rate attributed to authority ``a`` under the file's stacking
rules (:mod:`tariffsim.schedule.stacking`) and ``M`` the 2024 annual import value. The law
changes only on measure dates, so the sum runs over the constant pieces between them.

Usage::

    from tariffsim.analysis.refunds import ieepa_refund_exposure
    frame = ieepa_refund_exposure("scenarios/us_law/us_tariffs_2025_2026.toml")
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import pandas as pd

from ..errors import DataError

__all__ = ["IEEPA_AUTHORITIES", "duty_days", "ieepa_refund_exposure"]

#: Authorities voided by the Supreme Court ruling.
IEEPA_AUTHORITIES = ("ieepa_reciprocal", "ieepa_fentanyl", "ieepa_brazil", "ieepa_india")

#: Last day CBP collected IEEPA duties (entries from 2026-02-24 owe none).
LAST_DAY = dt.date(2026, 2, 23)


def _as_scenario(scenario):
    """A Scenario from a path or a Scenario."""
    from pathlib import Path

    from ..scenario import Scenario, load_scenario

    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    if isinstance(scenario, Scenario):
        return scenario
    raise DataError(f"refund exposure expects a scenario file path or a Scenario; got {type(scenario).__name__}.")


def _pieces(scenario, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """Constant pieces of the law in [start, end]: (first day, number of days)."""
    from ..scenario.law import change_points

    cuts = {start, end + dt.timedelta(days=1)}
    for m in scenario.measures:
        for d in (m.effective, m.until, getattr(m, "published", None), *change_points(m), *change_points(m, True)):
            if d is not None and start < d <= end:
                cuts.add(d)
    cuts = sorted(cuts)
    return [(a, (b - a).days) for a, b in itertools.pairwise(cuts)]


def _unverified_in(scenario, start: dt.date, end: dt.date, as_published: bool) -> list[str]:
    """Ids of "verify" measures in force on some day of [start, end] (the law changes only on change dates)."""
    from .timeline import change_dates, unverified

    return unverified(scenario, change_dates(scenario, start, end, as_published=as_published),
                      as_published=as_published)


def duty_days(
    scenario,
    start: dt.date,
    end: dt.date,
    *,
    authorities: Sequence[str] | None = None,
    as_published: bool = False,
    world=None,
) -> pd.DataFrame:
    """Statutory duties by partner and authority summed over the days of [start, end].

    Parameters
    ----------
    scenario : Scenario or str or Path
        A dated scenario file (e.g. ``scenarios/us_law/us_tariffs_2025_2026.toml``).
    start, end : datetime.date
        First and last day (inclusive).
    authorities : sequence of str, optional
        Keep only these authorities (default: all, including ``mfn``).
    as_published : bool
        Retroactive measures from their published date (default: as applied).
    world : TradeWorld, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``partner`` (ISO3, plus ``WORLD``), ``authority``, ``duties_usd_bn`` (USD bn
        over the window: annual 2024-flow duties times days / 365), ``days``.
    """
    from ..models.accounting import authority_frame
    from .periods import dated_accounting

    if end < start:
        raise DataError(f"refund window ends ({end}) before it starts ({start}); pass start <= end.")
    scenario = _as_scenario(scenario)
    if world is None:
        from ..datasets import load_world

        world = load_world(scenario.world.regions, keep=scenario.world.keep)
    pieces = _pieces(scenario, start, end)
    acc = dated_accounting(scenario, [d for d, _ in pieces], world, as_published=as_published)
    frame = authority_frame(acc, [d for d, _ in pieces], label="date")
    days = dict(pieces)
    frame["days"] = frame["date"].map(days)
    # duties over the window: annual duty (USD mn) * days / 365
    frame["duties_usd_bn"] = frame["duties_usd_mn"] * frame["days"] / 365.0 / 1e3
    if authorities is not None:
        frame = frame[frame["authority"].isin(list(authorities))]
    out = frame.groupby(["partner", "authority"], sort=False, as_index=False)["duties_usd_bn"].sum()
    out["days"] = (end - start).days + 1
    return out


def ieepa_refund_exposure(
    scenario, *, end: dt.date = LAST_DAY, start: dt.date | None = None, as_published: bool = False, world=None
) -> pd.DataFrame:
    """IEEPA duties owed under the law as applied from the first IEEPA measure to ``end``.

    Parameters
    ----------
    scenario : Scenario or str or Path
        Dated US law file with ``authority`` labels.
    end : datetime.date
        Last day of collection (default 2026-02-23).
    start : datetime.date, optional
        Default: the earliest ``effective`` date of an IEEPA measure in the file.
    as_published, world
        As in :func:`duty_days`.

    Returns
    -------
    pandas.DataFrame
        ``partner``, ``authority`` (one of :data:`IEEPA_AUTHORITIES` or ``all_ieepa``),
        ``duties_usd_bn``, sorted by partner total (``WORLD`` first). A statutory estimate at
        2024 flows, not collections (see the module docstring). ``attrs``: ``window`` (start,
        end), ``note``, ``verify`` (ids of measures in force in the window whose source says
        "verify", as ``run`` reports them).
    """
    from ..scenario.law import measure_authority

    scenario = _as_scenario(scenario)
    starts = [
        m.effective for m in scenario.measures if measure_authority(m) in IEEPA_AUTHORITIES and m.effective is not None
    ]
    if start is None:
        if not starts:
            raise DataError(
                f"scenario {scenario.name!r} has no dated measure with an IEEPA authority "
                f"({', '.join(IEEPA_AUTHORITIES)}); label measures with `authority = ...`."
            )
        start = min(starts)
    out = duty_days(scenario, start, end, authorities=IEEPA_AUTHORITIES, as_published=as_published, world=world)
    total = (
        out.groupby("partner", as_index=False)["duties_usd_bn"]
        .sum()
        .assign(authority="all_ieepa", days=(end - start).days + 1)
    )
    out = pd.concat([out, total], ignore_index=True)
    order = total.set_index("partner")["duties_usd_bn"].sort_values(ascending=False)
    order = ["WORLD"] + [p for p in order.index if p != "WORLD"]
    out["partner"] = pd.Categorical(out["partner"], categories=order, ordered=True)
    out = out.sort_values(["partner", "authority"]).reset_index(drop=True)
    out["partner"] = out["partner"].astype(str)
    out.attrs["window"] = (start, end)
    out.attrs["note"] = "statutory duties at 2024 import values, not collections"
    out.attrs["verify"] = _unverified_in(scenario, start, end, as_published)
    return out[["partner", "authority", "duties_usd_bn", "days"]]
