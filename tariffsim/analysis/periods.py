"""Evaluating a scenario on many dates when its base schedule changes between them.

Belongs here: grouping dates by the base measures in force (e.g. ``hts_2024`` before 2026-01-01,
``hts_2026`` from then: a different line schedule, so a different compile), one compile per group
with every tariff measure switched by date (``all_dates=True``), and the line accounting of all
dates put back in date order. Used by :mod:`tariffsim.analysis.timeline` and
:mod:`tariffsim.analysis.refunds`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

__all__ = ["base_periods", "dated_accounting"]


def base_periods(scenario, dates, *, as_published: bool = False) -> list[tuple[object, list[int]]]:
    """Dates grouped by the base measures in force on them.

    Returns
    -------
    list of (Scenario, positions)
        Per group, in order of first date: the scenario with only that group's base measures, their
        ``effective`` / ``until`` removed (so one compile switches the other measures by date), and the
        positions in ``dates`` of the group's dates.
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    for k, d in enumerate(dates):
        key = tuple(m.id for m in scenario.in_force(d, as_published=as_published) if m.kind == "base")
        groups.setdefault(key, []).append(k)
    dated = any(m.kind == "base" and (m.effective or m.until) for m in scenario.measures)
    if not dated:
        return [(scenario, list(range(len(dates))))]
    out = []
    for ids, positions in groups.items():
        measures = tuple(
            m if m.kind != "base" else m.model_copy(update={"effective": None, "until": None})
            for m in scenario.measures if m.kind != "base" or m.id in ids
        )
        out.append((replace(scenario, measures=measures), positions))
    return out


def dated_accounting(scenario, dates, world, *, as_published: bool = False) -> dict:
    """:meth:`~tariffsim.schedule.compile.CompiledSchedule.line_accounting` of ``scenario`` on each date.

    One compile per base period (:func:`base_periods`); as ``line_accounting`` with a batch of one
    parameter vector per date, except that ``duty_base`` is per date too, shape (B, partners).
    """
    from ..schedule import prepare_schedule

    parts = []
    for sub, positions in base_periods(scenario, dates, as_published=as_published):
        sched = prepare_schedule(sub, world, all_dates=True, as_published=as_published)
        acc = sched.line_accounting(np.stack([sched.dated_vector(dates[k]) for k in positions]))
        parts.append((positions, acc))
    return _merge(parts, len(dates))


def _merge(parts: list, n: int) -> dict:
    """Line accountings of groups of dates as one, rows in date order (authorities aligned by name)."""
    first = parts[0][1]
    names = list(first["authorities"])
    for _, acc in parts[1:]:
        names += [a for a in acc["authorities"] if a not in names]
        if not np.array_equal(acc["partner"], first["partner"]):
            raise AssertionError("base periods compiled different partner sets")  # same lines in every period
    p = len(first["partner"])
    out = {"partner": first["partner"], "value": first["value"], "authorities": names,
           "duty_base": np.zeros((n, p)), "duty_new": np.zeros((n, p)), "by_authority": np.zeros((n, len(names), p)),
           "applied": {}}
    for positions, acc in parts:
        out["duty_base"][positions] = acc["duty_base"][None, :]
        out["duty_new"][positions] = acc["duty_new"]
        cols = [names.index(a) for a in acc["authorities"]]
        out["by_authority"][np.ix_(positions, cols)] = acc["by_authority"]
        for mid, applied in acc["applied"].items():
            out["applied"].setdefault(mid, np.zeros((n, p)))[positions] = applied
    return out
