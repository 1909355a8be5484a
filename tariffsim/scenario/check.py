"""Checks of a resolved scenario that need the embedded data: codes, names, references.

Every problem is collected and raised at once as a :class:`~tariffsim.errors.ScenarioError`,
each naming the file and key path where the measure was written.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import Problem, ScenarioError, did_you_mean, shorten_list
from ..lines import normalise_hs

__all__ = ["check_scenario", "normalise_hs", "vocabulary"]

_HS = re.compile(r"^\d{2,10}$")
US = "USA"


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, frozenset[str]]:
    """Known codes: countries/regions, sectors, list names, rate tables."""
    from ..datasets.codes import census_icio, region10_of, sector_codes
    from ..datasets.law import list_names, rate_table_names

    regions = region10_of()
    countries = set(census_icio()) | set(regions) | set(regions.values()) | {"EU27", "ROW"}
    return {
        "countries": frozenset(countries),
        "sectors": frozenset(sector_codes()),
        "lists": frozenset(list_names()),
        "tables": frozenset(rate_table_names()),
    }


def check_scenario(scenario) -> None:
    """Raise ScenarioError listing every data-dependent problem of ``scenario``."""
    voc = vocabulary()
    ids = [m.id for m in scenario.measures]
    problems: list[Problem] = []
    files: set[str] = set()

    def add(mid: str, key: str, value, message: str, hint: str = "") -> None:
        file, path = scenario.origin(mid)
        files.add(file or "")
        shown = f"{path}.{key}" if key else path
        if value is not None:
            shown += f" = {value!r}"
        problems.append(Problem(f"{file} → {shown}" if file else shown, message, hint))

    def country(mid, key, code, allow_default=False):
        if allow_default and code == "default":
            return
        if code not in voc["countries"]:
            hint = did_you_mean(code, voc["countries"]) or "Use ISO3 codes (KOR, JPN, DEU) or EU27 / ROW."
            add(mid, key, code, "is not a known country or region code.", hint)

    by_id = {m.id: m for m in scenario.measures}
    for m in scenario.measures:
        _check_codes(add, country, m, voc, ids)
        _check_line_data(add, m)
        _check_kind_rules(add, m, voc, ids)
        _check_replaces(add, m, by_id)
    _check_parameters(scenario, voc, problems)
    if problems:
        only = next(iter(files)) if len(files) == 1 else None
        if only:
            for p in problems:
                p.path = p.path.removeprefix(f"{only} → ")
        raise ScenarioError(problems, file=only or scenario.file)


def _check_codes(add, country, m, voc, ids) -> None:
    """Country, sector and product codes of one measure."""
    mid = m.id
    for key in ("importer", "country", "payer", "recipient", "exporter"):
        if hasattr(m, key):
            country(mid, key, getattr(m, key))
    for key in ("partners", "exclude_partners"):
        for k, code in enumerate(getattr(m, key, ())):
            country(mid, f"{key}[{k}]", code)
    partners, excluded = set(getattr(m, "partners", ())), set(getattr(m, "exclude_partners", ()))
    if partners and partners <= excluded:
        add(mid, "exclude_partners", sorted(excluded), "excludes every partner in `partners`, so the measure covers "
            "nothing.", 'Remove the overlap, or disable the measure (disable = ["ID"]).')
    for code in getattr(m, "rates", {}) or {}:
        country(mid, f"rates.{code}", code, allow_default=True)
    for k, code in enumerate(getattr(m, "sectors", ())):
        if code not in voc["sectors"]:
            hint = did_you_mean(code, voc["sectors"]) or f"Sectors: {shorten_list(sorted(voc['sectors']), 30)}."
            add(mid, f"sectors[{k}]", code, "is not a sector code.", hint)
    for key in ("products", "exempt"):
        for k, item in enumerate(getattr(m, key, ())):
            _check_product(add, mid, f"{key}[{k}]", item, key == "exempt", voc, ids)
    end_use = getattr(m, "end_use", None)
    if end_use is not None:
        for k, item in enumerate(end_use.products):
            _check_product(add, mid, f"end_use.products[{k}]", item, False, voc, ids)


def _check_line_data(add, m) -> None:
    """Rules that need line-level import data, which exist only for importer USA."""
    mid, importer = m.id, getattr(m, "importer", None)
    line_rules = [key for key in ("content", "content_share", "utilization", "end_use")
                  if getattr(m, key, None) is not None and m.kind != "base"]
    if importer is not None and importer != US and line_rules:
        add(mid, line_rules[0], None, f"content, utilisation and end-use shares need line-level import data, which "
            f"tariffsim has only for importer USA (this measure's importer is {importer}).",
            "Use coverage = share of the sector's trade affected.")
    if m.kind == "base" and m.utilization != 1.0 and m.schedule is None:
        add(mid, "utilization", m.utilization, "applies only to the line schedule (schedule = \"hts_2024\").")
    if importer is not None and importer != US and getattr(m, "products", ()):
        add(mid, "products", None, "product lists need line-level import data, which tariffsim has only for importer "
            f"USA (this measure's importer is {importer}).",
            "Use sectors = [...] with coverage = share of the sector's trade affected.")


def _check_kind_rules(add, m, voc, ids) -> None:
    """What each measure kind needs (base, reciprocal, exemption, transfers) and dates in order."""
    mid, importer = m.id, getattr(m, "importer", None)
    if m.kind == "base":
        if (m.schedule is None) == (m.rate is None):
            add(mid, "", None, "a base measure needs exactly one of `schedule` or `rate`.",
                'US: schedule = "hts_2024"; others: rate = 0.05.')
        if m.schedule is not None and importer != US:
            add(mid, "schedule", m.schedule, f"is the US schedule; importer is {importer}.",
                "Use rate = ... for other importers.")
    if m.kind == "reciprocal":
        if not m.rates and m.table is None:
            add(mid, "rates", None, "a reciprocal measure needs `rates` or `table`.",
                "e.g. rates = { KOR = 0.25, default = 0.10 }.")
        if m.table is not None and m.table not in voc["tables"]:
            add(mid, "table", m.table, "is not a rate table.",
                did_you_mean(m.table, voc["tables"]) or f"Tables: {sorted(voc['tables'])}.")
    if m.kind == "exemption":
        for k, ref in enumerate(m.measures):
            if ref not in ids:
                add(mid, f"measures[{k}]", ref, "names no measure of this scenario.",
                    did_you_mean(ref, ids) or f"Measures: {ids}.")
    if m.kind == "deficit" and m.payer == m.recipient:
        add(mid, "recipient", m.recipient, "is the payer too.", "A transfer needs two different countries.")
    if m.kind == "purchase" and m.importer == m.exporter:
        add(mid, "exporter", m.exporter, "is the importer too.", "A purchase commitment is between two countries.")
    if m.effective and m.until and m.until <= m.effective:
        add(mid, "until", m.until.isoformat(), f"is not after effective = {m.effective.isoformat()}.",
            "`until` is the first day no longer in force.")


def _check_replaces(add, m, by_id: dict) -> None:
    """``replaces``: known ids, not itself, a dated replacement, and no gap before it is published."""
    refs = getattr(m, "replaces", ()) or ()
    if refs and m.effective is None:
        add(m.id, "replaces", list(refs), "needs an `effective` date: the replaced measures end where this one "
            "starts.", "Add effective = YYYY-MM-DD (and published = ... if it was retroactive).")
        return
    published = getattr(m, "published", None)
    start = m.effective if published is None or m.effective is None else max(m.effective, published)
    for k, ref in enumerate(refs):
        if ref == m.id:
            add(m.id, f"replaces[{k}]", ref, "is this measure itself.", "Name the measure it replaces.")
        elif ref not in by_id:
            add(m.id, f"replaces[{k}]", ref, "names no measure of this scenario.",
                did_you_mean(ref, list(by_id)) or f"Measures: {shorten_list(list(by_id), 12)}.")
        elif by_id[ref].until is not None and by_id[ref].until < start:
            old = by_id[ref]
            add(m.id, f"replaces[{k}]", ref, f"ends on its own (until = {old.until.isoformat()}) before this "
                f"measure is {'published' if published else 'effective'} ({start.isoformat()}), which would leave "
                "a gap as published.",
                f"Delete `until` of {ref!r} (this measure ends it), or set it to {start.isoformat()} or later.")


def _check_product(add, mid, key, item, is_exempt, voc, ids) -> None:
    item = str(item)
    if item.startswith("list:"):
        name = item[5:]
        if name not in voc["lists"]:
            names = sorted("list:" + n for n in voc["lists"])
            add(
                mid,
                key,
                item,
                "is not a known list.",
                did_you_mean(item, names) or f"Lists: {shorten_list(names, 12)}.",
            )
    elif item.startswith("measure:"):
        ref = item[8:]
        if not is_exempt:
            add(mid, key, item, "'measure:' references are allowed only in `exempt`.")
        elif ref not in ids:
            add(mid, key, item, "names no measure of this scenario.", did_you_mean(ref, ids) or f"Measures: {ids}.")
    elif item.startswith("sector:"):
        code = item[7:]
        if code not in voc["sectors"]:
            add(mid, key, item, "is not a sector code.", did_you_mean(code, voc["sectors"]))
    elif not _HS.match(normalise_hs(item)):
        add(
            mid,
            key,
            item,
            "is not an HS prefix (2-10 digits), 'list:NAME', 'sector:CODE' or 'measure:ID'.",
            'Write HS codes as strings, e.g. "8703" or "8703.22.01".',
        )


def _check_parameters(scenario, voc, problems: list[Problem]) -> None:
    """Sector keys of [parameters] tables must be sector codes (a typo would be ignored silently)."""
    spec = getattr(scenario, "parameters", None)
    if spec is None:
        return
    for name in ("trade_elasticity", "import_demand", "substitution", "export_supply"):
        table = getattr(spec, name, None)
        if not isinstance(table, dict):
            continue
        for sector in table:
            if sector not in voc["sectors"]:
                hint = did_you_mean(sector, voc["sectors"]) or f"Sectors: {shorten_list(sorted(voc['sectors']), 30)}."
                problems.append(Problem(f"parameters.{name}.{sector}", "is not a sector code.", hint))
