"""Tariff changes by BEA commodity from a compiled schedule, through its public API only.

The compiled schedule merges US import lines into coverage cells; its
:meth:`~tariffsim.schedule.compile.CompiledSchedule.line_rates` gives back every line's rate
(the cells' duties spread over the lines' pieces), so one compile serves every commodity:

    value_g,p = sum_{l in g, p} v_l     duty_g,p = sum_{l in g, p} v_l r_l     (base: r_l -> b_l)

and the commodity tariff change ``tau_c = sum_{g in c, p} (duty_new - duty_base)_g,p / sum value_g,p``
is exactly the customs-value-weighted mean of its lines' changes. The tests check that the
groups add up to the schedule's accounts (:meth:`line_accounting`).
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
    # groups: the distinct (commodity, sector) pairs in sorted order, and each line's group
    coms, com_code = np.unique(keys, return_inverse=True)
    secs, sec_code = np.unique(sectors, return_inverse=True)
    pair_code, line_pair = np.unique(com_code * len(secs) + sec_code, return_inverse=True)
    pairs = [(int(coms[c // len(secs)]), str(secs[c % len(secs)])) for c in pair_code.tolist()]
    partner = np.array(sorted(set(lines.partner_labels[np.unique(lines.partner_code)])))
    g, p = len(pairs), len(partner)
    rates = schedule.line_rates()  # (B, L): one compile for every group
    if rates.shape[1] != len(lines):
        raise DataError(f"the schedule was compiled on {rates.shape[1]} lines, not these {len(lines)}; "
                        "pass the lines it was compiled on (lines=...).")
    on = np.isfinite(rates[0])  # lines of partners outside the world are in no cell (as line_accounting)
    line_group = line_pair[on]
    line_partner = np.searchsorted(partner, lines.partner_labels[lines.partner_code[on]])
    cell = line_group * p + line_partner  # (group, partner) of each line

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=weights, minlength=g * p).reshape(g, p)

    v = lines.value[on]
    new = np.stack([total(v * r[on]) for r in rates])
    return GroupDuties(np.array([c for c, _ in pairs], dtype=np.int64), np.array([s for _, s in pairs]),
                       partner, total(v), total(v * schedule.line_base_rates()[on]), new)
