"""Coverage cells: lines (US) and (partner, sector) cells (others) → merged cells.

Belongs here (DESIGN §5, steps 1–2):

1. For the US (the one importer with line data) every measure is evaluated on the 2024
   Census import lines (HS10 × partner); elsewhere on (partner, sector) cells, with the
   measure's ``coverage`` share.
2. Lines are cut into pieces where a measure covers only part of their value
   (:mod:`tariffsim.schedule.shares`), then lines and pieces that no measure can tell apart
   (same importer, partner, sector, set of covering measures, parameter-share roles, and —
   where a floor, cap or all-in rate makes the duty depend on it — base rate) are merged into
   one *cell*, with the import-weighted mean base rate. This is done once per compile.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..errors import DataError, shorten_list
from .context import LINE_SCHEDULES, US, Context
from .coverage import line_base, line_mask, sector_cell_mask
from .shares import (
    ShareRule,
    cut_pieces,
    fta_utilization,
    share_rules,
    split_by_parameters,
)

__all__ = ["build_cells", "group_ids", "line_pieces"]

_FIELDS = (("importer", np.int64), ("exporter", np.int64), ("sector", np.int64), ("partner", np.int64),
           ("weight", float), ("base", float), ("line_data", bool))


def group_ids(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by equal values in all ``columns`` (integer arrays of length N).

    Returns ``(inv, first)``: group of each row (groups numbered in order of first
    appearance) and the first row of each group. Non-negative columns with a small range are
    combined arithmetically into one int64 key; other columns are first replaced by their
    rank among their distinct values (``np.unique``), one sort of the key at the end.
    """
    n = len(columns[0]) if columns else 0
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for col in columns:
        top = int(col.max()) + 1 if n and col.min() >= 0 else None
        if top is not None and size * top < 2**62:
            codes, count = col, top
        else:
            uniq, codes = np.unique(col, return_inverse=True)
            count = max(len(uniq), 1)
        if size * count >= 2**62:  # compress before int64 could overflow
            uniq, key = np.unique(key, return_inverse=True)
            size = max(len(uniq), 1)
        key = key * count + codes
        size *= count
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # groups in order of first appearance
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[inv].astype(np.int64, copy=False), first[order].astype(np.int64, copy=False)


#: id(Context) -> (line, cell, share, line base) of a compile's US line pieces, or None without
#: US lines; dropped with the Context. Kept off the Context so that a pickled schedule stays small
#: (:func:`line_pieces` rebuilds them for one that was pickled).
_PIECES: dict[int, tuple | None] = {}


def _remember(ctx: Context, pieces: tuple | None) -> None:
    key = id(ctx)
    if key not in _PIECES:
        weakref.finalize(ctx, _PIECES.pop, key, None)
    _PIECES[key] = pieces


def line_pieces(ctx: Context) -> tuple | None:
    """The US line pieces of the compile made with ``ctx``: ``(line, cell, share, base)``.

    ``line``, ``cell`` (K,) int: each piece's line (index into ``ctx.us_lines()``) and merged cell;
    ``share`` (K,): its share of the line's value; ``base`` (L,): every line's base rate. None
    when the scenario has no US measures. For a schedule that was pickled (sweep workers) the
    cells are built again from the same inputs (the same cells, in the same order).
    """
    if id(ctx) not in _PIECES:
        from .programs import nonlinear_mask

        fresh = Context(ctx.scenario, ctx.world, ctx.date, ctx.measures, ctx.lines)
        build_cells(fresh, nonlinear_mask(fresh.tariff_measures))
        _remember(ctx, _PIECES[id(fresh)])
    return _PIECES[id(ctx)]


def _static(ctx: Context):
    """Per line, for this world: exporter, sector (world indices), kept lines, and a key of
    (importer, exporter, sector, partner) as one integer. Cached on the lines per world."""
    lines, world = ctx.us_lines(), ctx.world

    def compute():
        geo = ctx.geo
        home = np.array([-1 if (k := geo.to_world(p)) is None else k for p in lines.partner_labels], dtype=np.int64)
        labels, codes = lines.sector_codes()
        index = {s: k for k, s in enumerate(world.sectors)}
        missing = [s for s in labels if s not in index]
        if missing:
            raise DataError(
                f"the world's sectors {shorten_list(world.sectors)} lack the line sectors {shorten_list(missing)}; "
                "compile on a world with ICIO sectors (aggregate sectors after compiling)."
            )
        exporter = home[lines.partner_code]
        sector = np.array([index[s] for s in labels], dtype=np.int64)[codes]
        keep = np.flatnonzero(exporter >= 0)
        lost = lines.value[exporter < 0].sum() / 1e9
        us = world.country_index(US)
        key0 = _where_key(us, exporter[keep], sector[keep], True, lines.partner_code[keep].astype(np.int64))
        return exporter[keep], sector[keep], keep, lost, key0

    key = ("static", world.name, tuple(world.countries), tuple(world.sectors))
    return lines.memo(key, compute)


def _where_key(importer, exporter, sector, line_data: bool, partner) -> np.ndarray:
    """(importer, exporter, sector, line data, partner) as one integer (each field is small)."""
    return (((importer * 256 + exporter) * 256 + sector) * 2 + int(line_data)) * 4096 + partner


def _line_rows(ctx: Context, rules: dict, out: dict) -> tuple[dict, dict]:
    """US import lines as rows, and the measures covering only intervals [lo, hi) of them
    (``out["base"]``: the base rate of every line, kept for :func:`line_pieces`)."""
    lines, world = ctx.us_lines(), ctx.world
    exporter, sector, keep, lost, key0 = _static(ctx)
    if lost > 0:
        ctx.warn(f"US import lines worth USD {lost:,.2f} bn have no country in this world and are left out.")
    utilization = None
    for m in ctx.base_measures:
        if m.importer == US and m.schedule in LINE_SCHEDULES:
            utilization = fta_utilization(m, lines)
    base = out["base"] = line_base(ctx, lines, utilization)
    whole = len(keep) == len(lines)

    def kept(a):
        return a if whole else a[keep]

    cover = np.zeros((len(keep), len(ctx.tariff_measures)), dtype=bool, order="F")  # written column by column
    partial, cache = {}, {}
    for k, m in enumerate(ctx.tariff_measures):
        if m.importer != US:
            continue
        rule = rules[k] = share_rules(ctx, m, lines, cache)
        cover[:, k] = kept(line_mask(ctx, m, lines))
        coverage = getattr(m, "coverage", 1.0)
        if rule.width is not None or coverage < 1.0:
            # read-only views where the bound is one number for every line (no array of 335,000 zeros)
            width = coverage * (1.0 if rule.width is None else rule.width) if coverage < 1.0 else rule.width
            if rule.lo is None:  # [0, width): a read-only view of zeros, the width itself as upper bound
                hi = kept(width) if np.ndim(width) else np.broadcast_to(float(width), (len(keep),))
                partial[k] = (np.broadcast_to(0.0, (len(keep),)), hi)
                continue
            lo = kept(rule.lo)
            partial[k] = (lo, lo + (kept(width) if np.ndim(width) else width))
    n = len(keep)

    rows = {
        "importer": np.full(n, world.country_index(US), dtype=np.int64), "exporter": exporter,
        "sector": sector, "partner": kept(lines.partner_code), "weight": kept(lines.value),
        "base": kept(base), "line_data": np.ones(n, dtype=bool), "cover": cover, "hs_row": keep, "key0": key0,
    }
    return rows, partial


def _sector_rows(ctx: Context, imp: str, partner_offset: int) -> dict:
    """(exporter, sector) cells of a non-US importer, and the measures covering [0, coverage) of them."""
    world = ctx.world
    j = world.country_index(imp)
    n, s = world.n_countries, world.n_sectors
    exporter = np.repeat(np.arange(n), s)
    sector = np.tile(np.arange(s), n)
    keep = exporter != j
    exporter, sector = exporter[keep], sector[keep]
    partner = np.array(world.countries, dtype="U8")[exporter]
    sec_codes = np.array(world.sectors)[sector]
    base = np.zeros(len(exporter))
    for m in ctx.base_measures:
        if m.importer == imp:
            base = np.where(sector_cell_mask(ctx, m, exporter, sec_codes, partner), m.rate, base)
    cover = np.zeros((len(exporter), len(ctx.tariff_measures)), dtype=bool)
    partial = {}
    for k, m in enumerate(ctx.tariff_measures):
        if m.importer == imp:
            cover[:, k] = sector_cell_mask(ctx, m, exporter, sec_codes, partner)
            if getattr(m, "coverage", 1.0) < 1.0:
                partial[k] = (np.zeros(len(exporter)), np.full(len(exporter), m.coverage))
    rows = len(exporter)
    return {
        "importer": np.full(rows, j, dtype=np.int64), "exporter": exporter, "sector": sector,
        "partner": exporter + partner_offset, "weight": np.ones(rows), "base": base,
        "line_data": np.zeros(rows, dtype=bool), "cover": cover, "hs_row": np.full(rows, -1),
        "key0": _where_key(j, exporter, sector, False, exporter + partner_offset),
    }, partial


def _empty(ctx: Context) -> tuple[dict, np.ndarray, np.ndarray]:
    cells = {k: np.zeros(0, dtype=t) for k, t in _FIELDS}
    cells["partner"] = np.zeros(0, dtype="U8")
    return cells, np.zeros((0, len(ctx.tariff_measures)), dtype=bool), np.zeros((0, 0), dtype=np.int8)


def build_cells(ctx: Context, nonlinear: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray, list]:
    """Coverage cells of the scenario.

    Parameters
    ----------
    ctx : Context
    nonlinear : ndarray of bool (M,)
        Measures whose duty depends on the base rate (floors, caps, all-in rates).

    Returns
    -------
    cells : dict of ndarray (C,)
        ``importer``, ``exporter``, ``sector`` (world indices), ``partner`` (code), ``weight``
        (USD for US lines, share of the flow elsewhere), ``base``, ``line_data``.
    cover : ndarray of bool (C, M)
    role : ndarray of int8 (C, Q)
        Parameter-share role per splitting measure (see :func:`shares.split_by_parameters`).
    splitters : list of (measure position, ShareRule)
    """
    importers = {m.importer for m in ctx.tariff_measures + ctx.base_measures}
    unknown = sorted(i for i in importers if i not in ctx.world.countries)
    if unknown:  # their measures would vanish and the results read as "no effect": refuse
        ids = [m.id for m in ctx.tariff_measures + ctx.base_measures if m.importer in unknown]
        raise DataError(
            f"scenario {ctx.scenario.name!r}: importer(s) {unknown} of measure(s) {shorten_list(ids)} are not "
            f"countries of this world ({shorten_list(ctx.world.countries)}). Keep them apart with "
            f"load_world(keep={unknown}) or [world] keep = {unknown} in the scenario file."
        )
    parts, rules, line_base_of = [], {}, {}
    labels = np.zeros(0, dtype="U8")
    if US in importers and US in ctx.world.countries:
        parts.append(_line_rows(ctx, rules, line_base_of))
        labels = ctx.us_lines().partner_labels.astype("U8")
    offset = len(labels)
    labels = np.concatenate([labels, np.array(ctx.world.countries, dtype="U8")])
    for imp in sorted(importers - {US}):
        if imp in ctx.world.countries:
            parts.append(_sector_rows(ctx, imp, offset))
    if not parts:
        _remember(ctx, None)
        return (*_empty(ctx), [])
    rows = parts[0][0] if len(parts) == 1 else {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    partial = _stack_partial([p[1] for p in parts], [len(p[0]["weight"]) for p in parts])
    # pieces carry their weight, cover and source row; the other fields are read at the source row
    n = len(rows["key0"])
    raw = {"weight": rows.pop("weight"), "cover": rows.pop("cover"), "_src": np.arange(n), "frac": np.ones(n)}
    raw = cut_pieces(raw, partial)
    splitters = [(k, r) for k, r in rules.items() if r.splits]
    raw["_row"] = rows["hs_row"][raw["_src"]] + 1  # 0 = a sector cell; line rows shifted by one
    raw = split_by_parameters(raw, [(k, *_split_rows(r, len(ctx.us_lines()))) for k, r in splitters])
    cells, cover, role, inv = _merge(raw, rows, nonlinear)
    on_line = raw["_row"] > 0  # pieces of US lines: (line, cell, share of the line's value)
    _remember(ctx, (raw["_row"][on_line] - 1, inv[on_line], raw["frac"][on_line], line_base_of.get("base")))
    cells["partner"] = labels[cells["partner"]]
    return cells, cover, role, splitters


def _stack_partial(parts: list[dict], sizes: list[int]) -> dict:
    """Concatenate the per-part interval dicts; rows of a part without the measure: [0, 1)."""
    if len(parts) == 1:
        return parts[0]
    out = {}
    for k in sorted({k for p in parts for k in p}):
        lo = [p[k][0] if k in p else np.zeros(n) for p, n in zip(parts, sizes)]
        hi = [p[k][1] if k in p else np.ones(n) for p, n in zip(parts, sizes)]
        out[k] = (np.concatenate(lo), np.concatenate(hi))
    return out


def _split_rows(rule: ShareRule, n_lines: int) -> tuple[np.ndarray, np.ndarray]:
    """Per line (index 0 = sector cells, then the US lines): where a measure's parameter shares
    apply (every line if it has flat shares, else its end-use lines) and where the end-use share does."""
    end_use = np.zeros(n_lines + 1, dtype=bool)
    if rule.end_use_lines is not None:
        end_use[1:] = rule.end_use_lines
    applies = np.ones(n_lines + 1, dtype=bool) if rule.factors else end_use
    return applies, end_use


def _merge(raw: dict, rows: dict, nonlinear: np.ndarray) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """Merge pieces no measure can tell apart; keep base rates apart where duties depend on them.

    ``raw``: the pieces (``weight``, ``cover``, ``role``, ``_src``: their row in ``rows``);
    ``rows``: the fields of the rows before cutting (``key0``, ``base``, ``importer``, ...).
    Returns the cells, their cover and roles, and the cell of each piece.
    """
    cover, role, src = raw["cover"], raw["role"], raw["_src"]
    key0, base_rows = rows["key0"][src], rows["base"][src]
    needs_base = cover[:, nonlinear].any(axis=1) if nonlinear.any() else np.zeros(len(cover), dtype=bool)
    columns = [key0]  # (importer, exporter, sector, line data, partner), see _where_key
    if needs_base.any():
        columns.append(np.where(needs_base, np.round(base_rows * 1e9), -1).astype(np.int64))
    columns += _packed(cover) + [role[:, q].astype(np.int64) for q in range(role.shape[1])]
    inv, first = group_ids(columns)
    c = len(first)
    weight = np.bincount(inv, weights=raw["weight"], minlength=c)
    # weighted mean base rate of the merged rows: sum w b / sum w (plain mean where no trade)
    wb = np.bincount(inv, weights=raw["weight"] * base_rows, minlength=c)
    plain = np.bincount(inv, weights=base_rows, minlength=c) / np.maximum(np.bincount(inv, minlength=c), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(weight > 0, wb / np.where(weight > 0, weight, 1.0), plain)
    cells = {k: rows[k][src[first]] for k in ("importer", "exporter", "sector", "partner", "line_data")}
    cells["weight"] = weight
    cells["base"] = base
    return cells, cover[first], role[first], inv


def _packed(cover: np.ndarray) -> list[np.ndarray]:
    """Boolean columns (N, M) packed into int64 words of 64 bits (``np.packbits``, then viewed)."""
    if cover.shape[1] == 0:
        return []
    bits = np.packbits(cover, axis=1)  # (N, ceil(M / 8)) uint8
    words = np.zeros((len(bits), -(-bits.shape[1] // 8) * 8), dtype=np.uint8)
    words[:, :bits.shape[1]] = bits
    words = words.view(np.int64)
    return [words[:, k] for k in range(words.shape[1])]
