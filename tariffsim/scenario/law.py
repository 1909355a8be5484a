"""The law vocabulary of tariff measures: legal authorities and the shares of a line a measure covers.

Belongs here: the scenario-file fields that tie a measure to the law as written and applied
(``authority``, ``content``, ``content_share``, ``utilization``, ``end_use``), as mixins of the
measure models of :mod:`tariffsim.scenario.schema`, and the rule of when a measure is in force
(``effective`` / ``published`` / ``until`` / ``replaces``). The compiler's side of these rules is in
:mod:`tariffsim.schedule.shares` and :mod:`tariffsim.schedule.stacking`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AUTHORITIES", "CONTENT_KINDS", "EndUse", "change_points", "end_of", "in_force_on", "link_replacements",
           "measure_authority", "start_of"]

Share = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, defer_build=True)


#: Legal-authority labels a tariff measure may carry (``authority = "..."``); duties and ETRs
#: are reported by these (``result.tables["us_by_authority"]``). A closed set, so that reports
#: of different files line up; ``other`` for anything else.
AUTHORITIES = (
    "mfn",  # column 1 general / preferential rates (the base schedule)
    "ieepa_reciprocal",  # EO 14257 and amendments (incl. the deal floors of EO 14345 etc.)
    "ieepa_fentanyl",  # EO 14193/14194/14195 (Canada, Mexico, China)
    "ieepa_brazil",  # EO 14323
    "ieepa_india",  # EO 14329 (Russian oil)
    "s232_steel_aluminum",  # Procl. 9704/9705 as amended (10895, 10896, 10947), derivatives
    "s232_autos",  # Procl. 10908: vehicles and parts (note 33)
    "s232_copper",  # Procl. 10962
    "s232_lumber",  # Procl. 10976: timber, lumber, upholstered furniture, kitchen cabinets
    "s232_trucks",  # Procl. 10984: medium and heavy-duty vehicles, parts, buses
    "s232_semiconductors",
    "s232_pharma",
    "s232_polysilicon",
    "s301_china",  # Section 301 China lists 1-4A and later increases
    "s301_brazil",
    "s301_forced_labor",
    "s122",  # Trade Act 1974 sec. 122 balance-of-payments surcharge
    "s338",  # Tariff Act 1930 sec. 338
    "retaliation",  # duties of other importers on their partners
    "other",
)
Authority = Literal[AUTHORITIES]  # type: ignore[valid-type]

#: Metal content a Section 232 derivative duty is charged on (``content = "..."``): the
#: embedded BEA input-output shares of each HS10 line's value (tariffsim/datasets/PROVENANCE.md).
CONTENT_KINDS = ("steel", "aluminum", "copper", "metal")


class _Tariff(_Strict):
    """Fields every tariff measure has: its legal authority."""

    authority: Authority | None = Field(
        None,
        description="Legal authority the duty is collected under, one of "
        + ", ".join(AUTHORITIES)
        + ". Duties and ETRs are reported by authority. Default: 'mfn' for kind 'base', 'retaliation' for kind "
        "'retaliation', 'other' otherwise.",
    )


class EndUse(_Strict):
    """End-use share for general-purpose lines: only part of such a line is covered by the measure."""

    products: tuple[str, ...] = Field(
        description="HS prefixes or 'list:NAME' of the general-purpose lines (e.g. 8471, 8507.60, 8537.10, 8501 of "
        "HTSUS note 33(g)); covered lines outside this list are covered in full."
    )
    share: Share = Field(
        0.0,
        description="Share of these lines' value that has the covered end use (e.g. is a part of a passenger vehicle "
        "or light truck), sweepable as parameter 'ID.end_use_share'. Default 0: HTSUS note 33(h)(ii) makes such "
        "lines dutiable only when they are parts of passenger vehicles or light trucks (others enter under "
        "9903.94.06 at no extra duty) and the trade data cannot tell the two apart; 0 is the lower bound (the "
        "as-written treatment of heading 8471), 1 the trackers' upper bound (the whole line).",
    )


class _Shares(_Strict):
    """Which share of each covered line's value the measure applies to (rules in tariffsim.schedule.shares)."""

    content: Literal[CONTENT_KINDS] | None = Field(  # type: ignore[valid-type]
        None,
        description="Charge the duty on the metal content of each line only: 'steel', 'aluminum', 'copper' or "
        "'metal' (all metals), from the embedded BEA input-output content shares by HS10 (Budget Lab tariff-rate-"
        "tracker). The rest of the line's value is not covered by this measure and pays what else covers it "
        "(the 'content splits a line' rule: under current law the non-metal content of a 232 derivative pays "
        "the reciprocal duty). Lines without a share in the data count as all metal.",
    )
    content_share: Share | None = Field(
        None,
        description="A flat content share instead of the data (e.g. 0.4), sweepable as 'ID.content_share'.",
    )
    utilization: Literal["usmca"] | Share | None = Field(
        None,
        description="Share of each covered line that is exempt because it enters under a preference programme: "
        "'usmca' = the embedded share of 2025 imports from Canada / Mexico entering under USMCA by HTS10 "
        "(other partners 0), or a flat share (sweepable as 'ID.utilization'). E.g. the IEEPA fentanyl duties "
        "exempt USMCA-qualifying goods.",
    )
    end_use: EndUse | None = Field(
        None, description="Cover only a share of the general-purpose lines listed (see EndUse)."
    )


def measure_authority(measure) -> str:
    """The legal authority of a tariff measure: its ``authority`` or the kind's default.

    Defaults: ``base`` → ``mfn``, ``retaliation`` → ``retaliation``, anything else → ``other``.
    """
    label = getattr(measure, "authority", None)
    if label:
        return label
    return {"base": "mfn", "retaliation": "retaliation"}.get(measure.kind, "other")


def start_of(measure, as_published: bool = False) -> dt.date | None:
    """First day ``measure`` applies: ``effective`` (as applied) or, ``as_published``, max(effective, published)."""
    start = measure.effective
    published = getattr(measure, "published", None)
    if as_published and published is not None:
        start = published if start is None else max(start, published)
    return start


def end_of(measure, as_published: bool = False) -> dt.date | None:
    """First day ``measure`` no longer applies: ``until``, or earlier where a later measure replaces it.

    A measure named in another's ``replaces`` ends where each replacement starts: on its
    ``effective`` date as applied, on max(effective, published) as published (the replaced
    duty was collected until the retroactive replacement was published). The replacements'
    (effective, published) dates are attached by :func:`link_replacements`.
    """
    end = measure.until
    for effective, published in getattr(measure, "_replaced_by", ()) or ():
        cut = effective if not as_published or published is None else max(effective, published)
        end = cut if end is None else min(end, cut)
    return end


def in_force_on(measure, date: dt.date, as_published: bool = False) -> bool:
    """Whether ``measure`` applies on ``date``: start <= date < end.

    As applied (default) a measure starts on ``effective``; ``as_published=True`` starts it
    on max(effective, published). It ends on ``until`` or where a measure that ``replaces`` it
    starts (:func:`end_of`).
    """
    start, end = start_of(measure, as_published), end_of(measure, as_published)
    return (start is None or start <= date) and (end is None or date < end)


def change_points(measure, as_published: bool = False) -> tuple[dt.date, ...]:
    """The days on which ``measure`` starts or stops applying (in the view asked for)."""
    return tuple(d for d in (start_of(measure, as_published), end_of(measure, as_published)) if d is not None)


def link_replacements(measures) -> tuple:
    """``measures`` with each replaced measure told when its replacements start.

    For every measure R with ``replaces = [A, ...]`` and an ``effective`` date, A gets R's
    (effective, published) in its private ``_replaced_by`` (read by :func:`end_of`). Unknown
    ids are left to :func:`tariffsim.scenario.check.check_scenario` to report.
    """
    cuts: dict[str, list] = {}
    for m in measures:  # salvaged, unvalidated measures (error reports) may hold anything: skip those
        effective, published = getattr(m, "effective", None), getattr(m, "published", None)
        refs = getattr(m, "replaces", ()) or ()
        if not isinstance(effective, dt.date) or not isinstance(refs, (tuple, list)):
            continue
        published = published if isinstance(published, dt.date) else None
        for ref in refs:
            if isinstance(ref, str) and ref != getattr(m, "id", None):
                cuts.setdefault(ref, []).append((effective, published))
    out = []
    for m in measures:
        mid = getattr(m, "id", None)
        want = tuple(sorted(cuts.get(mid, ()) if isinstance(mid, str) else (), key=lambda c: (c[0], c[1] or c[0])))
        if tuple(getattr(m, "_replaced_by", ()) or ()) != want and hasattr(m, "model_copy"):
            m = m.model_copy()
            m._replaced_by = want
        out.append(m)
    return tuple(out)
