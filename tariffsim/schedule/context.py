"""What every compiler step reads: the scenario's measures, the world, codes, parameters, warnings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..errors import ScenarioError
from ..lines import ProductLines
from ..world import TradeWorld
from .geography import Geography
from .params import Parameters

__all__ = ["LINE_SCHEDULES", "OTHER_KINDS", "TARIFF_KINDS", "US", "Context", "authority_of", "in_force_on"]

TARIFF_KINDS = ("reciprocal", "item", "retaliation", "floor", "cap", "exemption", "quota")
OTHER_KINDS = ("ntb", "productivity", "deficit", "purchase", "currency")
US = "USA"
#: Line schedules of US base measures (``schedule = ...``): the rates they read from the lines.
LINE_SCHEDULES = ("hts_2024", "hts_2026")


@dataclass
class Context:
    """The inputs of one compilation.

    Attributes
    ----------
    scenario : Scenario
    world : TradeWorld
    date : date or None
    geo : Geography
    params : Parameters
    base_measures, tariff_measures, other_measures : list of measure models
    rule : str
        The scenario's stacking rule.
    lines : ProductLines or None
        US import lines (None: the embedded 2024 lines, loaded when needed; with a US base measure
        ``schedule = "hts_2026"``, the same lines with the 2026 schedule).
    warnings : list of str
    """

    scenario: object
    world: TradeWorld
    date: dt.date | None
    measures: tuple
    lines: ProductLines | None = None
    geo: Geography = field(init=False)
    params: Parameters = field(init=False)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.geo = Geography(self.world)
        self.params = Parameters(self.scenario.name)
        self.base_measures = [m for m in self.measures if m.kind == "base"]
        self.tariff_measures = [m for m in self.measures if m.kind in TARIFF_KINDS]
        self.other_measures = [m for m in self.measures if m.kind in OTHER_KINDS]
        self.rule = self.scenario.stacking

    def warn(self, text: str) -> None:
        """Record a warning once (carried into Shocks and results)."""
        if text not in self.warnings:
            self.warnings.append(text)

    def us_lines(self) -> ProductLines:
        if self.lines is None:
            from ..datasets import load_us_product_lines, load_us_product_lines_2026

            self.lines = load_us_product_lines_2026() if self.line_schedule() == "hts_2026" else load_us_product_lines()
        return self.lines

    def line_schedule(self) -> str | None:
        """The line schedule of the US base measures compiled together (at most one)."""
        used = sorted({m.schedule for m in self.base_measures if m.importer == US and m.schedule})
        if len(used) > 1:
            ids = [m.id for m in self.base_measures if m.schedule]
            raise ScenarioError(
                f"scenario {self.scenario.name!r}: base measures {ids} use the line schedules {used} at once; "
                "one compile reads one schedule. Date them apart (until = 2026-01-01 on the first, "
                "effective = 2026-01-01 on the second) and evaluate one date at a time."
            )
        return used[0] if used else None


def in_force_on(measure, date: dt.date, as_published: bool = False) -> bool:
    """Whether ``measure`` applies on ``date``: start <= date < end.

    The start is ``effective`` (the law as applied), or with ``as_published`` max(effective,
    published). The end is ``until``, or earlier where a measure that ``replaces`` this one
    starts (its effective date as applied, max(effective, published) as published; the
    scenario attaches them as ``_replaced_by``). The same rule as
    :meth:`tariffsim.scenario.Scenario.in_force` (the schedule room does not import the
    scenario room; tests/test_law_rules.py checks both paths).
    """
    start = measure.effective
    published = getattr(measure, "published", None)
    if as_published and published is not None:
        start = published if start is None else max(start, published)
    end = measure.until
    for effective, later in getattr(measure, "_replaced_by", ()) or ():
        cut = effective if not as_published or later is None else max(effective, later)
        end = cut if end is None else min(end, cut)
    return (start is None or start <= date) and (end is None or date < end)


def authority_of(measure) -> str:
    """A tariff measure's legal authority: its ``authority`` field, else the kind's default
    (``base`` → ``mfn``, ``retaliation`` → ``retaliation``, otherwise ``other``), as documented
    in the scenario schema (``tariffsim.scenario.schema.measure_authority``)."""
    label = getattr(measure, "authority", None)
    if label:
        return label
    return {"base": "mfn", "retaliation": "retaliation"}.get(measure.kind, "other")
