"""The scenario file format: strict, frozen pydantic models. The only place it lives.

A scenario is a list of named measures plus settings. Each measure ``kind`` has its own
model below; every field is documented. Structural checks (types, unknown keys, ranges)
happen here; checks that need data (country codes, list names, measure references) happen
in :mod:`tariffsim.scenario.check`, and both report every problem at once.

Rates are decimal fractions (0.25 = 25%) in ``[0, 5]``; amounts are USD millions a year.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, StrictBool

from ..models.registry import MODELS
from .law import AUTHORITIES, CONTENT_KINDS, EndUse, _Shares, _Tariff, measure_authority

__all__ = [
    "AUTHORITIES",
    "CONTENT_KINDS",
    "MEASURE_KINDS",
    "MEASURE_MODELS",
    "MODEL_NAMES",
    "STACKING_RULES",
    "EndUse",
    "Measure",
    "ScenarioFile",
    "measure_authority",
]

Rate = Annotated[float, Field(ge=0.0, le=5.0)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]

STACKING_RULES = ("mutual_exclusion", "additive", "max")

#: The registered models (:mod:`tariffsim.models.registry`, cheap to import).
MODEL_NAMES = MODELS


#: effective dates outside this range are typos (year 1, 9999), not law
DATE_RANGE = (dt.date(1930, 1, 1), dt.date(2100, 12, 31))


def _plausible_date(value: dt.date | None) -> dt.date | None:
    if value is not None and not DATE_RANGE[0] <= value <= DATE_RANGE[1]:
        low, high = DATE_RANGE
        raise ValueError(f"date {value.isoformat()} is outside {low.year}-{high.year}; check the year")
    return value


Date = Annotated[dt.date, AfterValidator(_plausible_date)]


class _Strict(BaseModel):
    # NaN and inf are never valid in a scenario file (rates, amounts, elasticities).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False, defer_build=True)


class _MeasureBase(_Strict):
    id: str = Field(description="Unique name; other measures and files refer to it.")
    kind: str = Field(description="Measure kind; selects the model below.")
    description: str = Field("", description="What the measure is, in words.")
    source: str = Field("", description="Legal or published source (e.g. 'EO 14257 Annex I; 90 FR 15041').")
    effective: Date | None = Field(None, description="First day in force (inclusive); none = always.")
    until: Date | None = Field(None, description="First day no longer in force (exclusive); none = open-ended.")
    published: Date | None = Field(
        None,
        description="Date the measure was published (signed, or announced by CBP), where it applies retroactively "
        "from an earlier `effective` date. The default evaluation is the law as applied (from `effective`); "
        "`--as-published` / `as_published=True` applies it only from max(effective, published): what a trader "
        "knew on the day.",
    )
    replaces: tuple[str, ...] = Field(
        (),
        description="Ids of measures this one replaces from its `effective` date (e.g. a deal floor replacing a "
        "country's reciprocal rate). As applied, each replaced measure ends where this one's `effective` begins; "
        "with `--as-published` it runs until this one's `published` date (the old duty was collected until the "
        "retroactive replacement was published), so the two views leave no gap. The replaced measure's own "
        "`until`, if any, must not come before that date; this measure needs an `effective` date.",
    )
    # (effective, published) of the measures that replace this one; set when the scenario is built
    # (tariffsim.scenario.law.link_replacements), read by tariffsim.scenario.law.end_of.
    _replaced_by: tuple = PrivateAttr(())


class _Where(_Strict):
    """Which trade a measure covers: products, sectors and partners (empty = all)."""

    products: tuple[str, ...] = Field(
        (), description="HS prefixes (2-10 digits, dots allowed) or named lists 'list:NAME'. Empty = all products."
    )
    sectors: tuple[str, ...] = Field((), description="Sector codes (ICIO); with products, a line must match both.")
    partners: tuple[str, ...] = Field((), description="Exporters covered (ISO3 or region codes); empty = all.")


class _Coverage(_Where):
    """Coverage of tariff measures: `_Where` plus exclusions and a coverage share."""

    exclude_partners: tuple[str, ...] = Field((), description="Exporters not covered.")
    exempt: tuple[str, ...] = Field(
        (),
        description="Products taken out: HS prefixes, 'list:NAME', 'sector:CODE' or 'measure:ID' "
        "(lines another measure covers).",
    )
    coverage: Share = Field(
        1.0, description="Share of each covered sector's trade affected, for importers without product-level data."
    )


class BaseMeasure(_MeasureBase, _Tariff):
    """Baseline (MFN and preferential) rates."""

    kind: Literal["base"]
    importer: str = Field(description="Importing country (ISO3).")
    schedule: Literal["hts_2024", "hts_2026"] | None = Field(
        None,
        description="'hts_2024': the US 2024 MFN and FTA rates by HS line (KORUS, USMCA with utilisation, ...), "
        "HTS 2024 Basic Edition. 'hts_2026': the same 2024 Census lines and weights with the MFN and FTA rates of "
        "the HTS 2026 (Revision 10; column 1 rates are the same in every 2026 edition), each 2024 line mapped to "
        "its 2026 codes (Budget Lab concordance, split lines at the equal-weight mean rate), and HS prefixes "
        "also matching through those 2026 codes (tariffsim/datasets/PROVENANCE.md section 4b). One line "
        "schedule per compile: date the two with effective/until.",
    )
    rate: Rate | None = Field(None, description="A uniform base rate, for importers without a line schedule.")
    partners: tuple[str, ...] = Field((), description="Partners the base rate applies to; empty = all.")
    sectors: tuple[str, ...] = Field((), description="Sectors the base rate applies to; empty = all.")
    utilization: Literal["mfn_exemption_shares"] | Share = Field(
        1.0,
        description="With schedule 'hts_2024': share of trade with FTA / GSP partners other than Canada and Mexico "
        "that enters at the preferential rate (KORUS etc.); base = u * preferential + (1 - u) * MFN. 1.0 "
        "(default) = full use, the lower bound of the base rate; 'mfn_exemption_shares' = the Budget Lab "
        "tracker's HS2 x country shares of imports entering duty-free under a programme (from Census calculated "
        "duties). A flat value is sweepable as 'ID.utilization'. Canada / Mexico always use the 2024 USMCA "
        "shares of the line data.",
    )


class ReciprocalMeasure(_MeasureBase, _Tariff):
    """Country-level ('reciprocal') additional ad valorem duty on an importer's imports."""

    kind: Literal["reciprocal"]
    importer: str = Field(description="Importing country (ISO3).")
    rates: dict[str, Rate] = Field(
        default_factory=dict, description="Partner -> additional rate; key 'default' for partners not named."
    )
    table: str | None = Field(None, description="A named rate table (e.g. 'reciprocal_2025_04') under `rates`.")
    exempt: tuple[str, ...] = Field(
        (),
        description="Products taken out: HS prefixes, 'list:NAME', 'sector:CODE' or 'measure:ID' (lines another "
        "measure covers).",
    )
    exclude_partners: tuple[str, ...] = Field((), description="Exporters not covered.")


class ItemMeasure(_MeasureBase, _Coverage, _Tariff, _Shares):
    """Product- or sector-specific additional duty (e.g. Section 232); `retaliation` is the same by another importer."""

    kind: Literal["item", "retaliation"]
    importer: str = Field(description="Importing country (ISO3).")
    rate: Rate = Field(description="Additional ad valorem rate.")
    rates: dict[str, Rate] = Field(default_factory=dict, description="Partner-specific rates overriding `rate`.")
    all_in: StrictBool = Field(
        False, description="Rate is all-in, inclusive of the base rate: duty = max(rate - base, 0)."
    )
    precedence: int = Field(0, description="Among item measures on the same line, the highest precedence applies.")
    stacking: Literal["additive"] | None = Field(
        None,
        description="None (default): the measure is an item duty under the scenario's stacking rule (highest "
        "precedence wins; under 'mutual_exclusion' it excludes the reciprocal duty). 'additive': the duty is "
        "added on top of whatever else applies and excludes nothing (IEEPA fentanyl and Section 301 on China "
        "stack on 232 and on the reciprocal duty). See tariffsim.schedule.stacking.",
    )


class FloorMeasure(_MeasureBase, _Coverage, _Tariff):
    """All-in floor replacing the reciprocal duty: total = max(rate, base) on covered lines."""

    kind: Literal["floor"]
    importer: str = Field(description="Importing country (ISO3).")
    rate: Rate = Field(description="All-in floor rate, inclusive of the base rate.")


class CapMeasure(_MeasureBase, _Coverage, _Tariff):
    """All-in cap: total = min(total, max(rate, base)) on covered lines (a cap never cuts the base rate)."""

    kind: Literal["cap"]
    importer: str = Field(description="Importing country (ISO3).")
    rate: Rate = Field(description="All-in cap rate, inclusive of the base rate.")


class ExemptionMeasure(_MeasureBase, _Where):
    """Lifts other measures (default: all additional duties) on covered partners/products."""

    kind: Literal["exemption"]
    importer: str = Field(description="Importing country (ISO3).")
    measures: tuple[str, ...] = Field((), description="Measure ids lifted; empty = every additional duty.")


class QuotaMeasure(_MeasureBase, _Where, _Tariff):
    """Tariff-rate quota: in-quota rate up to `quota` USD mn of imports, over-quota rate beyond."""

    kind: Literal["quota"]
    importer: str = Field(description="Importing country (ISO3).")
    in_quota_rate: Rate = Field(description="Additional rate on imports within the quota.")
    over_quota_rate: Rate = Field(description="Additional rate on imports above the quota.")
    quota: float = Field(ge=0.0, description="Quota volume, USD mn a year of covered imports.")


class NTBMeasure(_MeasureBase):
    """Non-tariff barrier change as an ad valorem equivalent; an iceberg cost, no revenue."""

    kind: Literal["ntb"]
    importer: str = Field(description="Importing country (ISO3).")
    partners: tuple[str, ...] = Field((), description="Exporters affected; empty = all.")
    sectors: tuple[str, ...] = Field((), description="Sectors affected (e.g. ['SERV'] for digital-services rules).")
    rate: float = Field(ge=-0.9, le=5.0, description="Change of the AVE (decimal); negative removes a barrier.")


class ProductivityMeasure(_MeasureBase):
    """Productivity change in a country's sectors (e.g. shipbuilding cooperation)."""

    kind: Literal["productivity"]
    country: str = Field(description="Country (ISO3 or world label) whose productivity changes.")
    sectors: tuple[str, ...] = Field((), description="Sectors affected; empty = all.")
    change: float = Field(ge=-0.9, le=5.0, description="Proportional change, 0.02 = +2%.")


class DeficitMeasure(_MeasureBase):
    """A transfer that changes trade balances (investment pledges, imbalance targets)."""

    kind: Literal["deficit"]
    payer: str = Field(description="Country whose trade surplus must rise by `amount` (it transfers abroad).")
    recipient: str = Field(description="Country whose deficit may rise by `amount`.")
    amount: float = Field(ge=0.0, description="USD mn a year.")


class PurchaseMeasure(_MeasureBase):
    """A purchase commitment: `importer` buys `amount` more from `exporter` in `sectors`."""

    kind: Literal["purchase"]
    importer: str = Field(description="Buying country.")
    exporter: str = Field(description="Selling country.")
    sectors: tuple[str, ...] = Field(description="Sectors the purchases are spread over (by baseline flows).")
    amount: float = Field(ge=0.0, description="USD mn a year of additional purchases.")


class CurrencyMeasure(_MeasureBase):
    """Exchange-rate shock: appreciation of `country`'s currency, passed through in part."""

    kind: Literal["currency"]
    country: str = Field(description="Country whose currency appreciates.")
    appreciation: float = Field(ge=-0.5, le=1.0, description="0.05 = 5% stronger against all others.")
    pass_through: Share = Field(1.0, description="Share passed through to trade prices.")


MEASURE_MODELS: dict[str, type[_MeasureBase]] = {
    "base": BaseMeasure,
    "reciprocal": ReciprocalMeasure,
    "item": ItemMeasure,
    "retaliation": ItemMeasure,
    "floor": FloorMeasure,
    "cap": CapMeasure,
    "exemption": ExemptionMeasure,
    "quota": QuotaMeasure,
    "ntb": NTBMeasure,
    "productivity": ProductivityMeasure,
    "deficit": DeficitMeasure,
    "purchase": PurchaseMeasure,
    "currency": CurrencyMeasure,
}
MEASURE_KINDS = tuple(MEASURE_MODELS)

Measure = (
    BaseMeasure
    | ReciprocalMeasure
    | ItemMeasure
    | FloorMeasure
    | CapMeasure
    | ExemptionMeasure
    | QuotaMeasure
    | NTBMeasure
    | ProductivityMeasure
    | DeficitMeasure
    | PurchaseMeasure
    | CurrencyMeasure
)


class WorldSpec(_Strict):
    """Which embedded world to run on."""

    regions: str = Field("region10", description="'region10' (default) or 'icio81'.")
    keep: tuple[str, ...] = Field((), description="Economies kept apart from their region, e.g. ['DEU'].")


class ParameterSpec(_Strict):
    """Model parameters a scenario may set."""

    trade_elasticity: str | dict[str, Annotated[float, Field(gt=0)]] | None = Field(
        None,
        description="Trade elasticities θ for every model: a source name (e.g. 'cp2015', 'fgo2022'), or "
        "sector -> value overrides on each model's default source. None: each model's default "
        "(GE cp2015, PE fgo2022).",
    )
    import_demand: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="PE (smart, gsim): sector -> import-demand elasticity η > 0, overriding the default.",
    )
    substitution: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="PE: sector -> substitution elasticity σ > 0 between partners, overriding 1 + θ.",
    )
    export_supply: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="PE: sector -> export-supply elasticity ε_X > 0 (default infinite in SMART)."
    )
    deficits: Literal["fixed", "purge"] | None = Field(
        None,
        description="GE models: trade deficits held fixed in USD ('fixed'), or purged to a balanced baseline "
        "first ('purge'). None: each model's default (ge: fixed; ld: a fixed share of world GDP).",
    )


class ScenarioFile(_Strict):
    """Top level of a scenario file (after `extends` is resolved)."""

    name: str = Field(description="Short name, used in tables, figures and sweep outputs.")
    description: str = Field("", description="What the scenario represents, in words.")
    extends: str | None = Field(None, description="Path of a parent scenario, relative to this file.")
    effective: Date | None = Field(
        None, description="The date the scenario describes: measures in force then apply."
    )
    stacking: Literal["mutual_exclusion", "additive", "max"] = Field(
        "mutual_exclusion",
        description="How item duties combine with reciprocal duties (see tariffsim.schedule.stacking).",
    )
    models: tuple[Literal[MODEL_NAMES], ...] = Field(
        MODEL_NAMES, description="Models the scenario is meant for (compare runs each file under these)."
    )
    disable: tuple[str, ...] = Field((), description="Inherited measure ids switched off.")
    overrides: dict[str, dict] = Field(
        default_factory=dict, description="measure id -> fields replaced in the inherited measure."
    )
    world: WorldSpec = Field(WorldSpec(), description="The [world] table: which embedded world to run on.")
    parameters: ParameterSpec = Field(ParameterSpec(), description="The [parameters] table: model parameters.")
    measure: tuple[dict, ...] = Field((), description="The measures; each validated by its kind's model.")
