"""Coverage: which lines (US) or (partner, sector) cells each measure names, and base rates.

Belongs here: turning a measure's ``partners``, ``exclude_partners``, ``products``,
``sectors`` and ``exempt`` into boolean masks over the US import lines or over an
importer's (exporter, sector) cells, and the base rates of both. No rates are evaluated
here (see :mod:`tariffsim.schedule.programs`); shares of a line are in
:mod:`tariffsim.schedule.shares`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from ..errors import shorten_list
from ..lines import ProductLines, normalise_hs
from .context import LINE_SCHEDULES, US, Context

__all__ = [
    "expand_products",
    "line_base",
    "line_mask",
    "measure_exempts",
    "products_mask",
    "rate_key",
    "rated_partners",
    "reciprocal_rates",
    "sector_cell_mask",
]


def expand_products(items) -> tuple[list[str], list[str]]:
    """HS prefixes and sector codes named by product/exempt entries ('measure:' handled elsewhere)."""
    from .. import datasets

    prefixes, sectors = [], []
    for item in items:
        if item.startswith("list:"):
            prefixes.extend(datasets.load_list(item[5:]))
        elif item.startswith("sector:"):
            sectors.append(item[7:])
        elif not item.startswith("measure:"):
            prefixes.append(normalise_hs(item))
    return prefixes, sectors


def _sector_mask(lines: ProductLines, sectors) -> np.ndarray:
    if not sectors:
        return np.ones(len(lines), dtype=bool)
    return lines.sector_mask(sectors)


def _partner_mask(ctx: Context, lines: ProductLines, partners, exclude) -> np.ndarray:
    mask = np.ones(len(lines), dtype=bool) if not partners else lines.partner_mask(ctx.geo.iso_set(partners))
    if exclude:
        mask &= ~lines.partner_mask(ctx.geo.iso_set(exclude))
    return mask


def products_mask(lines: ProductLines, items) -> np.ndarray:
    """Lines named by HS prefixes, 'list:NAME' or 'sector:CODE' entries (cached on ``lines``; read only)."""
    return lines.memo(("products", tuple(items)), lambda: _products_mask(lines, items))


def _products_mask(lines: ProductLines, items) -> np.ndarray:
    prefixes, secs = expand_products(items)
    mask = lines.match(prefixes)
    if secs:
        mask |= lines.sector_mask(secs)
    return mask


def line_mask(ctx: Context, m, lines: ProductLines) -> np.ndarray:
    """Lines a tariff measure names, shape (L,) bool (before shares and 'measure:' exemptions).

    Cached on ``lines`` by the fields that decide it (read only).
    """
    rated = tuple(sorted(reciprocal_rates(ctx, m))) if m.kind == "reciprocal" else ()
    key = ("measure", m.kind == "reciprocal", rated) + tuple(
        tuple(getattr(m, f, ())) for f in ("partners", "exclude_partners", "products", "sectors", "exempt"))
    return lines.memo(key, lambda: _line_mask(ctx, m, lines))


def _line_mask(ctx: Context, m, lines: ProductLines) -> np.ndarray:
    mask = _partner_mask(ctx, lines, getattr(m, "partners", ()), getattr(m, "exclude_partners", ()))
    products = getattr(m, "products", ())
    if products:
        mask &= products_mask(lines, products)
    mask &= _sector_mask(lines, getattr(m, "sectors", ()))
    exempt = [x for x in getattr(m, "exempt", ()) if not x.startswith("measure:")]
    if exempt:
        mask &= ~products_mask(lines, exempt)
    if m.kind == "reciprocal":
        keys = reciprocal_rates(ctx, m)
        mask &= lines.partner_mask(rated_partners(ctx, keys, lines.partner_labels))
    return mask


def line_base(ctx: Context, lines: ProductLines, utilization=None) -> np.ndarray:
    """Base rate of every US line, shape (L,): the last base measure covering it wins.

    ``utilization`` (L,) optional: FTA utilisation of each line, base = u * pref + (1 - u) * MFN
    on lines of partners other than Canada and Mexico (see :func:`shares.fta_utilization`).
    """
    base = np.zeros(len(lines))
    for m in ctx.base_measures:
        if m.importer != US:
            continue
        everywhere = not m.partners and not m.sectors
        mask = True if everywhere else _partner_mask(ctx, lines, m.partners, ()) & _sector_mask(lines, m.sectors)
        if m.schedule in LINE_SCHEDULES:
            rate = lines.base_rate if utilization is None else lines.base_with_utilization(utilization)
            base = rate if everywhere else np.where(mask, rate, base)  # never written to in place
            share = lines.memo(("specific", m.partners, m.sectors),
                               lambda mask=mask: lines.value[mask & lines.has_specific].sum()
                               / max(lines.value.sum(), 1.0))
            ctx.warn(
                f"{share:.1%} of 2024 US import value is on lines whose MFN duty has a specific or compound part; "
                "that part counts as zero (no ad valorem equivalents in the data)."
            )
        else:
            base = np.where(mask, m.rate, base)
    return base


def _world_partner_mask(ctx: Context, exporter: np.ndarray, partners, exclude) -> np.ndarray:
    mask = np.ones(len(exporter), dtype=bool)
    if partners:
        mask &= np.isin(exporter, sorted(ctx.geo.world_indices(partners)))
    if exclude:
        mask &= ~np.isin(exporter, sorted(ctx.geo.world_indices(exclude)))
    return mask


def sector_cell_mask(ctx: Context, m, exporter: np.ndarray, sec_codes: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """(exporter, sector) cells of a non-US importer that a measure names, shape (C,) bool."""
    mask = _world_partner_mask(ctx, exporter, getattr(m, "partners", ()), getattr(m, "exclude_partners", ()))
    sectors = getattr(m, "sectors", ())
    if sectors:
        mask &= np.isin(sec_codes, list(sectors))
    if m.kind == "base":
        return mask
    _, secs = expand_products(getattr(m, "exempt", ()))
    if secs:
        mask &= ~np.isin(sec_codes, secs)
    if m.kind == "reciprocal":
        keys = reciprocal_rates(ctx, m)
        mask &= np.isin(partner, sorted(rated_partners(ctx, keys, set(partner.tolist()))))
    return mask


def measure_exempts(ctx: Context, m) -> tuple[int, ...]:
    """Positions of the measures named by 'measure:ID' in ``m.exempt``.

    Applied when rates are evaluated: a line is taken out of ``m`` only while the
    referenced measure is switched on and covers it.
    """
    ids = [x.id for x in ctx.tariff_measures]
    out = []
    for item in getattr(m, "exempt", ()):
        if item.startswith("measure:"):
            if item[8:] in ids:
                out.append(ids.index(item[8:]))
            else:
                ctx.warn(f"{m.id}: exempt {item!r} refers to a measure not in force; nothing taken out.")
    return tuple(out)


def reciprocal_rates(ctx: Context, m) -> dict[str, float]:
    """Partner key → rate of a reciprocal measure (its table, then its own ``rates``)."""
    rates: dict[str, float] = {}
    if m.table:
        additive, floors = _table_rates(m.table)
        rates.update(additive)
        # floor rows cannot be additive rates: say so unless the scenario handles those partners
        unhandled = sorted(floors - set(rates) - set(m.rates) - ctx.geo.iso_set(m.exclude_partners)
                           - (set(ctx.geo.members("EU27")) if "EU27" in m.rates else set()))
        if unhandled and "default" in m.rates:
            ctx.warn(
                f"{m.id}: table {m.table!r} gives {shorten_list(unhandled)} an all-in floor, not an additive "
                f"rate; this measure charges them its default rate {m.rates['default']:g}. Add a `floor` measure "
                "for them and list them in exclude_partners (as scenarios/korea_us_2025/deal_15pct.toml does)."
            )
    rates.update(m.rates)
    return rates


@lru_cache(maxsize=16)
def _table_rates(name: str) -> tuple[dict[str, float], frozenset[str]]:
    """(additive rates by ISO3, partners with a non-additive structure) of a rate table."""
    from ..datasets.law import rate_table_rows

    rows = rate_table_rows(name)
    floors = frozenset(iso for iso, _, structure in rows if structure != "additive")
    return {iso: rate for iso, rate, structure in rows if structure == "additive"}, floors


def rate_key(ctx: Context, partner: str, keys: Mapping[str, float]) -> str | None:
    """Which key of ``keys`` sets the rate for ``partner``: itself, EU27, 'default' or none."""
    if partner in keys:
        return partner
    region = ctx.geo.region_of(partner)
    if region in keys and region == "EU27":
        return region
    if "default" in keys:
        return "default"
    return None


def rated_partners(ctx: Context, keys, partners) -> set[str]:
    return {p for p in partners if rate_key(ctx, str(p), keys) is not None}
