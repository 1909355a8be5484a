"""Tariff changes by US import line (HS10 x partner) from a compiled schedule.

The compiled schedule keeps coverage *cells* (lines that no measure tells apart, merged); the
price model needs each line's change in tariff to weight it into a BEA commodity. This module
maps every US line back to its cell(s):

* a line's cell key is (exporter, sector, partner, the measures covering it, and, for lines
  under a floor/cap/all-in measure, its base rate), as in ``CompiledSchedule._merge``;
* a line with fractional coverage (e.g. metal-content shares) is split into nested pieces as in
  ``CompiledSchedule._split_partial_coverage``; its change is the piece-weighted mean.

The change of a line, ``t_cell(new) - base_cell``, is exact: duties of linear measures add to
the base, and cells under non-linear measures hold lines of one base rate only.

Narrow dependency (documented for the schedule's owner): besides the public ``cells``,
``cover``, ``tariff_measures``, ``cell_rates`` and ``line_accounting``, it calls
``CompiledSchedule._line_coverage(measure, lines)`` and reads ``_lines``. A public
``CompiledSchedule.line_rates(theta) -> (B, L)`` would replace this module. Every call is
checked against ``line_accounting`` (duties by partner); a mismatch raises DataError.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets import load_us_product_lines
from ..errors import DataError
from ..lines import ProductLines

__all__ = ["line_tariff_changes"]

US = "USA"


def _cover(schedule, lines: ProductLines) -> np.ndarray:
    cov = np.zeros((len(lines), len(schedule.tariff_measures)))
    for k, m in enumerate(schedule.tariff_measures):
        if m.importer == US:
            cov[:, k] = schedule._line_coverage(m, lines) * getattr(m, "coverage", 1.0)
    return cov


def _keys(exporter, sector, partner, bits: np.ndarray, base_key) -> pd.DataFrame:
    packed = np.packbits(bits, axis=1).astype(np.int64) if bits.shape[1] else np.zeros((len(bits), 0), np.int64)
    frame = pd.DataFrame({"exporter": exporter, "sector": sector, "partner": partner, "base_key": base_key})
    for j in range(packed.shape[1]):
        frame[f"b{j}"] = packed[:, j]
    return frame


def _nonlinear(schedule) -> np.ndarray:
    return np.array([m.kind in ("floor", "cap") or getattr(m, "all_in", False) for m in schedule.tariff_measures],
                    dtype=bool)


def line_tariff_changes(schedule, theta=None):
    """Each US import line's tariff before and after the scenario.

    Parameters
    ----------
    schedule : CompiledSchedule
    theta : ndarray (B, P) or (P,), optional
        Parameter vectors (default: the scenario's own values).

    Returns
    -------
    lines : ProductLines
        The lines (only those with a partner in the schedule's world).
    keep : ndarray of bool (L_all,)
        Which of the schedule's lines are returned.
    base : ndarray (L,)
        Base rate of each line (the cell's mean base rate), decimal.
    change : ndarray (B, L)
        New rate minus base rate, decimal.
    """
    lines = schedule._lines or load_us_product_lines()
    world = schedule.world
    geo = schedule.geo
    home = np.array([-1 if (k := geo.to_world(p)) is None else k for p in lines.partner_labels])
    exporter = home[lines.partner_code]
    keep = exporter >= 0
    if US not in world.countries or not keep.any():
        raise DataError("the price model needs US import lines in the schedule's world (importer USA).")
    sector_index = {s: k for k, s in enumerate(world.sectors)}
    sector = np.array([sector_index.get(s, -1) for s in lines.sector])
    cov = _cover(schedule, lines)[keep]
    cells, cell_cover = schedule.cells, schedule.cover
    us = world.country_index(US)
    on_lines = cells["line_data"] & (cells["importer"] == us)
    total = np.atleast_2d(schedule.cell_rates(theta))  # (B, C)
    delta = total - cells["base"][None, :]
    nonlinear = _nonlinear(schedule)
    cidx = np.flatnonzero(on_lines)
    c_bits = cell_cover[cidx]
    c_needs = c_bits[:, nonlinear].any(axis=1) if nonlinear.any() else np.zeros(len(cidx), bool)
    c_frame = _keys(cells["exporter"][cidx], cells["sector"][cidx], cells["partner"][cidx], c_bits,
                    np.where(c_needs, np.round(cells["base"][cidx] * 1e9), -1).astype(np.int64))
    c_frame["cell"] = cidx
    loose = c_frame.drop(columns="base_key").drop_duplicates([c for c in c_frame if c not in ("base_key", "cell")])
    levels = np.unique(cov[(cov > 0) & (cov < 1)])
    bounds = np.concatenate([levels, [1.0]])
    lower = np.concatenate([[0.0], levels])
    n = int(keep.sum())
    change = np.zeros((total.shape[0], n))
    base = np.zeros(n)
    partner = lines.partner_labels[lines.partner_code[keep]]
    line_base = np.round(lines.base_rate[keep] * 1e9).astype(np.int64)
    for lo, hi in zip(lower, bounds):
        bits = cov >= hi - 1e-12
        needs = bits[:, nonlinear].any(axis=1) if nonlinear.any() else np.zeros(n, bool)
        frame = _keys(exporter[keep], sector[keep], partner, bits, np.where(needs, line_base, -1))
        hit = frame.merge(c_frame, how="left", on=list(frame.columns))["cell"].to_numpy()
        miss = np.isnan(hit)
        if miss.any():  # base measure other than the HTS rates: match without the base rate
            on = [c for c in frame if c != "base_key"]
            alt = frame[miss].drop(columns="base_key").merge(loose, how="left", on=on)
            hit[miss] = alt["cell"].to_numpy()
        if np.isnan(hit).any():
            raise DataError(f"{int(np.isnan(hit).sum())} US lines have no cell in the compiled schedule; "
                            "the schedule's layout changed — update tariffsim/models/prices_lines.py.")
        hit = hit.astype(np.int64)
        change += (hi - lo) * delta[:, hit]  # piece-weighted mean of the pieces' changes
        base += (hi - lo) * cells["base"][hit]
    _check(schedule, theta, lines, keep, change)
    return lines, keep, base, change


def _check(schedule, theta, lines: ProductLines, keep: np.ndarray, change: np.ndarray) -> None:
    """Duty change by partner from the lines must equal the schedule's own customs accounting."""
    acc = schedule.line_accounting(theta)
    if len(acc["partner"]) == 0:
        return
    want = np.atleast_2d(acc["duty_new"]) - acc["duty_base"][None, :]
    partner = lines.partner_labels[lines.partner_code[keep]]
    pos = np.searchsorted(acc["partner"], partner)
    got = np.stack([np.bincount(pos, weights=lines.value[keep] * row, minlength=len(acc["partner"])) for row in change])
    scale = max(float(acc["value"].sum()), 1.0)
    if np.max(np.abs(got - want)) > 1e-9 * scale:
        raise DataError("line tariffs do not add up to the schedule's duties by partner "
                        f"(max difference USD {np.max(np.abs(got - want)):,.0f}); report this as a bug.")
