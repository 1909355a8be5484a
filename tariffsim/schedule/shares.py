"""Shares of a line: content, utilisation and end-use rules, and the pieces they cut lines into.

Belongs here: the named rules by which a measure covers only part of a US import line's
value, and splitting lines into *pieces* that each measure either covers or not.

Rules (HTSUS chapter 99 notes as applied by CBP; each a field of an item measure):

``content`` — *content splits a line*. A Section 232 derivative duty is charged on the
  value of the metal content only (note 16; Procl. 10896, 10947, 10962): the measure covers
  the share ``c`` of the line (the embedded BEA input-output content share of the HS10 line,
  or a flat ``content_share``). The remaining ``1 - c`` is *not* covered by that measure and
  pays whatever else covers it — under current law the reciprocal duty on the non-metal
  content. Content kinds occupy disjoint parts of a line: steel ``[0, s)``, aluminium
  ``[s, s + a)``, copper ``[s + a, s + a + k)``; ``metal`` is ``[0, metal share)``.
``utilization`` — the measure does not apply to the share ``u`` of a line that enters under a
  preference programme (USMCA-qualifying goods are exempt from the IEEPA fentanyl duties on
  Canada and Mexico; 232 autos on the non-US content): covered share ``1 - u``.
``end_use`` — on general-purpose lines of a product list (note 33(g): 8471, 8507.60, 8537.10,
  8501, ...) only the share ``e`` with the covered end use is dutiable (note 33(h)(ii)).

One line can be cut by several measures. Data shares (content, USMCA) are intervals of the
line's value, ``[lo, lo + width)``, ``width = coverage * content * (1 - u)``: intervals of
different measures *nest* from 0 (the smaller share's trade is part of the larger's) unless
the content kind places them side by side. Shares that are sweepable parameters (flat
``content_share``, a flat ``utilization``, ``end_use.share``) cannot move interval bounds
without recompiling, so they cut the covered part of a piece in two at evaluation time: an
*in* piece with weight multiplier ``f(theta)`` and an *out* piece with ``1 - f(theta)``,
``f = content_share * (1 - utilization) * end_use_share``; the parameter shares of different
measures are independent (multipliers multiply).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..lines import ProductLines
from .context import Context
from .coverage import products_mask

__all__ = ["ShareRule", "cut_pieces", "fta_utilization", "multipliers", "share_rules", "split_by_parameters"]

_EPS = 1e-12


@dataclass
class ShareRule:
    """The share part of one measure on the lines.

    Attributes
    ----------
    lo, width : ndarray (L,) or None
        Data interval covered on each line (None: the whole line).
    factors : list of (int, bool)
        Parameter shares of the measure: (parameter index, complement); f *= theta or 1 - theta.
    end_use : int or None
        Parameter index of the end-use share (applies on ``end_use_lines`` only).
    end_use_lines : ndarray (L,) of bool or None
    """

    lo: np.ndarray | None = None
    width: np.ndarray | None = None
    factors: list = field(default_factory=list)
    end_use: int | None = None
    end_use_lines: np.ndarray | None = None

    @property
    def splits(self) -> bool:
        return bool(self.factors) or self.end_use is not None


def _content_bounds(kind: str, lines: ProductLines, table) -> tuple[np.ndarray, np.ndarray]:
    """(lo, width) of a content kind on each line from the BEA shares.

    Lines absent from the table count as all metal (lo 0, width 1). Where steel + aluminium +
    copper exceed the line's value (the BEA shares of some steel mill products do), the three
    are scaled down to sum to one; ``metal`` is capped at one.
    """
    codes, line_code = lines.hs_codes()  # computed on the distinct HS10 codes, spread to the lines at the end
    hs = table["hs10"]
    pos = np.clip(np.searchsorted(hs, codes), 0, len(hs) - 1)
    found = hs[pos] == codes
    steel, alu, copper = (np.where(found, table[k][pos], 0.0) for k in ("steel", "aluminum", "copper"))
    scale = 1.0 / np.maximum(steel + alu + copper, 1.0)
    steel, alu, copper = steel * scale, alu * scale, copper * scale
    metal = np.minimum(np.where(found, table["metal"][pos], 1.0), 1.0)
    lo = {"steel": 0.0, "aluminum": steel, "copper": steel + alu, "metal": 0.0}[kind]
    width = {"steel": steel, "aluminum": alu, "copper": copper, "metal": metal}[kind]
    lo = np.broadcast_to(lo, (len(codes),))
    width = np.clip(np.where(found, width, 1.0), 0.0, 1.0 - lo)
    return lo[line_code], width[line_code]


def _usmca(lines: ProductLines) -> np.ndarray:
    """Share of each line entering under USMCA (2025; Canada and Mexico lines, else 0)."""
    from ..datasets.shares import load_usmca_shares

    table = load_usmca_shares()
    out = np.zeros(len(lines))
    for iso in ("CAN", "MEX"):
        rows = np.flatnonzero(lines.partner_mask((iso,)))
        t = table[iso]
        pos = np.clip(np.searchsorted(t["hs10"], lines.hs10[rows]), 0, max(len(t["hs10"]) - 1, 0))
        found = t["hs10"][pos] == lines.hs10[rows] if len(t["hs10"]) else np.zeros(len(rows), bool)
        out[rows] = np.where(found, t["share"][pos], 0.0)
    return out


def share_rules(ctx: Context, m, lines: ProductLines, cache: dict) -> ShareRule:
    """The :class:`ShareRule` of measure ``m`` on the US lines; registers its share parameters."""
    rule = ShareRule()
    content = getattr(m, "content", None)
    flat = getattr(m, "content_share", None)
    if flat is not None:
        rule.factors.append((ctx.params.add(f"{m.id}.content_share", flat), False))
    elif content is not None:
        if "metal" not in cache:
            from ..datasets.shares import load_metal_content

            cache["metal"] = load_metal_content()
        rule.lo, rule.width = lines.memo(("content", content), lambda: _content_bounds(content, lines, cache["metal"]))
    util = getattr(m, "utilization", None)
    if isinstance(util, str):  # 'usmca'
        if "usmca" not in cache:  # share not entering under USMCA, 1 - u (one array for every measure)
            cache["usmca"] = 1.0 - lines.memo(("usmca",), lambda: _usmca(lines))
        keep = cache["usmca"]
        rule.width = keep if rule.width is None else rule.width * keep
    elif util is not None:
        rule.factors.append((ctx.params.add(f"{m.id}.utilization", util), True))
    end_use = getattr(m, "end_use", None)
    if end_use is not None:
        rule.end_use = ctx.params.add(f"{m.id}.end_use_share", end_use.share)
        rule.end_use_lines = products_mask(lines, end_use.products)
    return rule


def cut_pieces(raw: dict, partial: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict:
    """Cut rows whose measures cover only intervals of their value into pieces.

    Parameters
    ----------
    raw : dict of ndarray, rows (N,), with ``cover`` (N, M) bool
        Row fields; ``weight`` is split, the others are copied to every piece.
    partial : dict of measure position -> (lo, hi), each ndarray (N,)
        Interval ``[lo, hi)`` of each row's value the measure covers where ``cover`` says it
        covers the row (measures not listed cover rows whole).

    Returns
    -------
    dict of ndarray; rows covered whole or not at all are kept as one piece. Piece k of a
    row spans consecutive breakpoints ``[b_k, b_k+1)``, weight ``w (b_k+1 - b_k)``, covered
    by m where ``lo_m <= b_k`` and ``b_k+1 <= hi_m``; an optional field ``frac`` (share of the
    row's value) is scaled like ``weight``.
    """
    cover = raw["cover"]
    cut_any = np.zeros(len(cover), dtype=bool)
    cut_cols = []
    for k in sorted(partial):
        lo, hi = partial[k]
        on = cover[:, k] & (hi > lo + _EPS)
        cover[:, k] = on
        cut = on & ((lo > _EPS) | (hi < 1.0 - _EPS))
        if cut.any():
            cut_any |= cut
            cut_cols.append(k)
    rows = np.flatnonzero(cut_any)
    if rows.size == 0:
        return raw
    cols = np.array(cut_cols, dtype=np.int64)  # only measures cut somewhere make breakpoints
    sub_lo = np.column_stack([partial[k][0][rows] for k in cols])
    sub_hi = np.column_stack([partial[k][1][rows] for k in cols])
    sub_on = cover[np.ix_(rows, cols)]
    bps = np.concatenate([np.where(sub_on, sub_lo, 0.0), np.where(sub_on, sub_hi, 0.0),
                          np.zeros((len(rows), 1)), np.ones((len(rows), 1))], axis=1)
    bps = np.sort(np.clip(bps, 0.0, 1.0), axis=1)
    # every (row, k) with a non-empty span [b_k, b_k+1) is a piece: all pieces at once
    pr, pk = np.nonzero(bps[:, 1:] - bps[:, :-1] > _EPS)
    a, b = bps[pr, pk], bps[pr, pk + 1]
    r = rows[pr]
    rest = np.flatnonzero(~cut_any)
    # rows not cut first, then the pieces: one gather per field (cover row-major for it)
    src = np.concatenate([rest, r])
    out = {key: (np.ascontiguousarray(v) if key == "cover" else v)[src] for key, v in raw.items()}
    mid = ((a + b) / 2)[:, None]
    out["cover"][len(rest):, cols] = sub_on[pr] & (sub_lo[pr] <= mid) & (mid < sub_hi[pr])
    out["weight"][len(rest):] = raw["weight"][r] * (b - a)
    if "frac" in raw:  # share of the row's value, (b - a) of each piece
        out["frac"][len(rest):] = raw["frac"][r] * (b - a)
    return out


def split_by_parameters(raw: dict, splitters: list[tuple[int, np.ndarray, np.ndarray]]) -> dict:
    """Cut rows covered by a measure with parameter shares into *in* and *out* pieces.

    Parameters
    ----------
    raw : dict with ``cover`` (N, M) bool
    splitters : list of (measure position k, rows (N,) bool where k's shares apply,
        rows (N,) bool where its end-use share applies too)

    Returns
    -------
    dict with ``role`` (N', Q) int8 added: per splitting measure q, 0 = not split,
    1 = in (covered; weight multiplier f_q), 2 = out (not covered; multiplier 1 - f_q);
    3 and 4 the same where the end-use share is a factor of f_q. Both pieces keep the full
    weight: the multipliers share it at evaluation time (see :func:`multipliers`).
    """
    n = len(raw["weight"])
    first = dict(raw)
    first["role"] = np.zeros((n, len(splitters)), dtype=np.int8)
    parts = [first]
    for q, (k, applies, end_use) in enumerate(splitters):
        new = []
        for part in parts:  # split every piece so far: shares of different measures multiply
            rows = np.flatnonzero(part["cover"][:, k] & applies[part["_row"]])
            if rows.size == 0:
                continue
            eu = end_use[part["_row"][rows]].astype(np.int8) * 2
            out = {key: v[rows] for key, v in part.items()}
            out["cover"][:, k] = False
            out["role"][:, q] = 2 + eu
            part["role"][rows, q] = 1 + eu
            new.append(out)
        parts += new
    return parts[0] if len(parts) == 1 else {key: np.concatenate([p[key] for p in parts]) for key in first}


def multipliers(theta: np.ndarray, role: np.ndarray, rules: list[ShareRule]) -> np.ndarray | None:
    """Weight multiplier of every cell, shape (B, C), from the parameter shares (None: all 1).

    f_q = prod(theta or 1 - theta over the measure's factors) [* end-use share]; a cell with
    role in gets f_q, role out 1 - f_q; multipliers of different measures multiply.
    """
    if not rules:
        return None
    mult = np.ones((theta.shape[0], role.shape[0]))
    for q, rule in enumerate(rules):
        col = role[:, q]
        if not col.any():
            continue
        f = np.ones(theta.shape[0])
        for index, complement in rule.factors:
            f = f * (1.0 - theta[:, index] if complement else theta[:, index])
        f_eu = f * theta[:, rule.end_use] if rule.end_use is not None else f
        f, f_eu = np.clip(f, 0.0, 1.0)[:, None], np.clip(f_eu, 0.0, 1.0)[:, None]
        # in: f, out: 1 - f (with the end-use factor where the line is on the end-use list)
        factor = np.select([col == 1, col == 2, col == 3, col == 4], [f, 1.0 - f, f_eu, 1.0 - f_eu], 1.0)
        mult *= factor
    return mult


def fta_utilization(m, lines: ProductLines) -> np.ndarray | None:
    """FTA utilisation of each line for a base measure (None: 100%, the line data as built).

    A compile-time setting (the base rate of a cell is fixed once compiled): compare values
    with two compiles, not with a sweep parameter.
    """
    util = m.utilization
    if isinstance(util, str):  # 'mfn_exemption_shares': HS2 x partner shares, 0 where none
        from ..datasets.shares import load_fta_utilization

        table = load_fta_utilization()
        labels = list(lines.partner_labels)
        pos = {iso: k for k, iso in enumerate(labels)}
        grid = np.zeros((100, len(labels)))
        for hs2, iso, share in zip(table["hs2"], table["iso3"], table["share"]):
            if iso in pos:
                grid[int(hs2), pos[iso]] = share
        return grid[lines.truncated(2), lines.partner_code]
    if util == 1.0:
        return None
    return np.full(len(lines), float(util))
