"""Tariff changes by BEA commodity from a compiled schedule, through its public API only.

The compiled schedule merges US import lines into coverage cells, so a line's HS10 code (and
its BEA commodity) is not kept. This module recompiles the same scenario, on the same world and
date, once per group of lines (one BEA commodity, or one commodity x ICIO sector when the
weights will move with a trade model's flows) with ``type(schedule)(..., lines=subset)``, and
reads each group's duties by partner from ``CompiledSchedule.line_accounting()``:

    change_g,p = duty_new_g,p - duty_base_g,p     value_g,p = customs value (USD)

so the commodity tariff change ``tau_c = sum_{g in c, p} change_g,p / sum value_g,p`` is exactly
the customs-value-weighted mean of its lines' changes. Measures are per line (HS prefixes,
partners, shares of a line), so a line's duty does not depend on which other lines are compiled
with it; the tests check that the groups add up to the full schedule's accounts.

A public ``CompiledSchedule.line_rates(theta) -> (B, L)`` would make this one compile.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..datasets import load_us_product_lines
from ..errors import DataError
from ..lines import ProductLines

__all__ = ["GroupDuties", "commodity_duties", "subset_lines"]


@dataclasses.dataclass(frozen=True)
class GroupDuties:
    """Duties of line groups by partner.

    Attributes
    ----------
    commodity : ndarray of int (G,)
        Commodity index of each group (-1: lines without a commodity).
    sector : ndarray of str (G,)
        ICIO sector of each group ("" when groups are whole commodities).
    partner : ndarray of str (P,)
    value : ndarray (G, P)
        Customs value, USD.
    duty_base, duty_new : ndarray (G, P) and (B, G, P)
        Duties at the base and the new rates, USD.
    """

    commodity: np.ndarray
    sector: np.ndarray
    partner: np.ndarray
    value: np.ndarray
    duty_base: np.ndarray
    duty_new: np.ndarray


def subset_lines(lines: ProductLines, mask: np.ndarray) -> ProductLines:
    """The lines where ``mask`` is True (same partner labels; a fresh HS-prefix cache)."""
    n = len(lines)
    kw = {}
    for f in dataclasses.fields(lines):
        value = getattr(lines, f.name)
        if f.name == "_prefix_cache":
            kw[f.name] = {}
        elif f.name != "partner_labels" and isinstance(value, np.ndarray) and value.shape[:1] == (n,):
            kw[f.name] = value[mask]
        else:
            kw[f.name] = value
    return ProductLines(**kw)


def commodity_duties(schedule, commodity_of_line: np.ndarray, *, by_sector: bool = False,
                     lines: ProductLines | None = None) -> GroupDuties:
    """Duties by (commodity[, sector]) group and partner, at the schedule's own parameter values.

    Parameters
    ----------
    schedule : CompiledSchedule
        Compiled on the embedded 2024 US lines (or on ``lines``).
    commodity_of_line : ndarray of int (L,)
        Commodity index of each line (-1: none).
    by_sector : bool
        Also split by ICIO sector (needed to move weights with a trade model's flows).
    lines : ProductLines, optional
        The lines the schedule was compiled on (default: the embedded ones).
    """
    lines = lines or load_us_product_lines()
    if len(commodity_of_line) != len(lines):
        raise DataError(f"{len(commodity_of_line)} commodity codes for {len(lines)} lines.")
    keys = np.asarray(commodity_of_line, dtype=np.int64)
    sectors = np.asarray(lines.sector, dtype=str) if by_sector else np.full(len(lines), "")
    pairs = sorted({(int(k), str(s)) for k, s in zip(keys, sectors)})
    partner = np.array(sorted(set(lines.partner_labels[np.unique(lines.partner_code)])))
    g, p = len(pairs), len(partner)
    value, base = np.zeros((g, p)), np.zeros((g, p))
    new = None
    scenario, world = schedule.scenario, schedule.world
    as_published = getattr(schedule, "as_published", False)
    for k, (com, sec) in enumerate(pairs):
        mask = (keys == com) & (sectors == sec)
        # the schedule's own class (models do not import tariffsim.schedule: the flow goes one way)
        sub = type(schedule)(scenario, world, date=schedule.date, lines=subset_lines(lines, mask),
                             as_published=as_published)
        acc = sub.line_accounting()
        if len(acc["partner"]) == 0:
            continue
        pos = np.searchsorted(partner, acc["partner"])
        duty_new = np.atleast_2d(acc["duty_new"])
        if new is None:
            new = np.zeros((duty_new.shape[0], g, p))
        value[k, pos] = acc["value"]
        base[k, pos] = acc["duty_base"]
        new[:, k, pos] = duty_new
    if new is None:
        new = np.zeros((1, g, p))
    return GroupDuties(np.array([c for c, _ in pairs], dtype=np.int64), np.array([s for _, s in pairs]),
                       partner, value, base, new)
