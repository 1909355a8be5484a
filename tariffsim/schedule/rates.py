"""Evaluate rate programs: theta (B, P) → all-in rates on coverage cells (B, C).

Belongs here: the pure numpy evaluation of compiled :class:`~tariffsim.schedule.programs.Plan`
objects on a cell layout, with the named stacking rules (:mod:`tariffsim.schedule.stacking`),
and — on request — the attribution of each cell's duty to the measure that levies it, so
that duties by legal authority add up exactly to the total duty.
"""

from __future__ import annotations

import numpy as np

from .stacking import combine_items, combine_with_reciprocal, item_side

__all__ = ["evaluate_cells"]


def _lifted(on, cover, plans, bsz: int, c: int) -> dict[int, np.ndarray]:
    """Cells where each measure is lifted, (B, C) bool: by exemptions and by 'measure:ID' exempts."""
    lifted: dict[int, np.ndarray] = {}
    for k, plan in enumerate(plans):
        if plan.kind == "exemption":
            region = cover[None, :, k] & on[:, k, None]
            for target in plan.lifts:
                lifted[target] = lifted.get(target, np.zeros((bsz, c), dtype=bool)) | region
    for k, plan in enumerate(plans):
        for ref in plan.exempt_refs:  # exempt = ["measure:ID"]: out where ID is on and covers
            region = cover[None, :, ref] & on[:, ref, None]
            lifted[k] = lifted.get(k, np.zeros((bsz, c), dtype=bool)) | region
    return lifted


def _piece(layout, k: int, plan):
    """Plan ``k`` on ``layout``, cached on the layout: (covered cells, how many, where its rate
    is read in theta (a (B, 1) slice when all its cells read one parameter), base (1, n))."""
    memo = layout.__dict__.setdefault("_pieces", {})
    if k not in memo:
        cols = layout.cols[k]
        base = layout.base[cols]
        index = None
        if layout.params[k] is not None:
            index = layout.params[k][cols]
            if len(index) and bool(np.all(index == index[0])):
                index = slice(int(index[0]), int(index[0]) + 1)  # one parameter: a (B, 1) view
        memo[k] = (cols, len(base), index, base[None, :])
    return memo[k]


def _item_duty(plan, theta, layout, k, cols, r, b):
    if plan.kind == "quota":
        # in-quota rate on the first Q, over-quota beyond: t_in + (t_out - t_in) * excess share
        r = r + (theta[:, layout.seconds[k][cols]] - r) * plan.excess
    return np.maximum(r - b, 0.0) if plan.all_in else r  # all-in: max(rate - base, 0)


def _on(act, x):
    """``x`` where the measure acts, else 0 (``act`` None: it acts everywhere)."""
    return x if act is None else np.where(act, x, 0.0)


def evaluate_cells(theta: np.ndarray, layout, plans, rule: str, detail: bool = False):
    """All-in rates of every cell; with ``detail`` also duty by measure and applied masks.

    Parameters
    ----------
    theta : ndarray (B, P)
    layout : Layout
        ``base`` (C,), ``cover`` (C, M), ``params``/``seconds`` per plan, ``cols``.
    plans : list of Plan
    rule : str
        The scenario's stacking rule.
    detail : bool

    Returns
    -------
    total : ndarray (B, C)
        base + item/reciprocal duty (by ``rule``) + additive duties, then caps.
    duty : dict of measure position -> ndarray (B, C), only with ``detail``
        Each measure's part of ``total - base``; they add up to it.
    masks : dict of measure id -> ndarray of bool (B, C), only with ``detail``
        Where the measure's duty is what applies.

    Notes
    -----
    Arrays a schedule does not need (floors, additive duties) are not built; a measure
    switched on everywhere with nothing lifting it is applied without a mask; a measure
    whose cells all read one rate parameter reads it as a (B, 1) column. Each of these
    gives the same numbers as the general form (adding +0.0, ``where(True, x, 0)``).
    """
    bsz, c = theta.shape[0], len(layout.base)
    base = layout.base[None, :]
    on = theta[:, [p.enabled for p in plans]] > 0.5 if plans else np.zeros((bsz, 0), bool)
    lifted = _lifted(on, layout.cover, plans, bsz, c)
    kinds = {p.kind for p in plans}
    recip, item = np.zeros((bsz, c)), np.zeros((bsz, c))
    has_floor, has_extra = detail or "floor" in kinds, detail or any(p.additive for p in plans)
    floor = np.zeros((bsz, c)) if has_floor else None
    floor_on = np.zeros((bsz, c), dtype=bool)
    extra = np.zeros((bsz, c)) if has_extra else None
    level = np.full((bsz, c), -np.inf)
    winner = np.full((bsz, c), -1) if detail else None  # item measure holding the top duty
    floor_win = np.full((bsz, c), -1) if detail else None
    parts, caps = {}, []
    for k, plan in enumerate(plans):
        if plan.kind == "exemption":
            continue
        cols, n, index, b = _piece(layout, k, plan)  # work only on the cells the measure covers
        if n == 0 and not detail:
            continue
        if detail or k in lifted or not on[:, k].all():
            act = np.repeat(on[:, k, None], n, axis=1)
            if k in lifted:
                act &= ~lifted[k][:, cols]
        else:
            act = None  # on everywhere, nothing lifts it
        r = theta[:, index]
        if plan.kind == "reciprocal":
            duty = _on(act, r)
            recip[:, cols] += duty  # reciprocal duties add up
        elif plan.kind == "floor":
            duty = np.maximum(r - b, 0.0)  # all-in floor: max(floor, base) - base
            cur = floor[:, cols]
            if detail:
                take = act & (~floor_on[:, cols] | (duty > cur))
                floor_win[:, cols] = np.where(take, k, floor_win[:, cols])
            floor[:, cols] = np.maximum(cur, duty) if act is None else np.where(act, np.maximum(cur, duty), cur)
            if act is None:
                floor_on[:, cols] = True
            else:
                floor_on[:, cols] |= act
        elif plan.kind == "cap":
            caps.append((k, cols, act, r))
            continue
        elif plan.additive:
            duty = _on(act, _item_duty(plan, theta, layout, k, cols, r, b))
            extra[:, cols] += duty  # stacks on everything: duty = sum of additive duties
        else:  # item, retaliation, quota: highest precedence wins
            duty = _item_duty(plan, theta, layout, k, cols, r, b)
            lvl, cur = level[:, cols], item[:, cols]
            higher, same = plan.precedence > lvl, plan.precedence == lvl
            if act is not None:
                higher, same = act & higher, act & same
            if detail:
                beats = higher | (same & (duty > cur))
                winner[:, cols] = np.where(beats, k, winner[:, cols])
            item[:, cols] = np.where(higher, duty, np.where(same, combine_items(cur, duty, rule), cur))
            level[:, cols] = np.where(higher, plan.precedence, lvl)
        if detail:
            parts[k] = (cols, act, duty)
    recip_part = np.where(floor_on, floor, recip) if has_floor else recip  # floors replace the reciprocal duty
    item_on = level > -np.inf
    total = base + combine_with_reciprocal(item, item_on, recip_part, rule)
    if has_extra:
        total += extra
    capped = []
    for k, cols, act, r in caps:
        b = base[:, cols]
        bound = np.minimum(total[:, cols], np.maximum(r, b))
        new = bound if act is None else np.where(act, bound, total[:, cols])
        if detail:
            capped.append((k, cols, act, new < total[:, cols]))
        total[:, cols] = new
    if not detail:
        return total
    side = item_side(item, item_on, recip_part, rule)
    duty, masks = _attribute(plans, parts, capped, total, base, side, item_on, floor_on, level, winner, floor_win, rule)
    for k, plan in enumerate(plans):
        if plan.kind == "exemption":
            masks[plan.id] = layout.cover[None, :, k] & on[:, k, None]
    return total, duty, masks


def _attribute(plans, parts, capped, total, base, side, item_on, floor_on, level, winner, floor_win, rule):
    """Each measure's part of the duty, and where it applies (see :func:`evaluate_cells`)."""
    bsz, c = total.shape
    item_applies, recip_applies = side
    duty, masks = {}, {}
    for k, plan in enumerate(plans):
        if plan.kind == "exemption" or plan.kind == "cap":
            continue
        cols, act, d = parts[k]
        full_act = np.zeros((bsz, c), dtype=bool)
        full_act[:, cols] = act
        full = np.zeros((bsz, c))
        full[:, cols] = d
        if plan.kind == "reciprocal":
            where = full_act & recip_applies & ~floor_on
        elif plan.kind == "floor":
            where = (floor_win == k) & recip_applies
            masks[plan.id] = full_act & (~item_on if rule == "mutual_exclusion" else True)
            full = np.where(where, np.maximum(full, 0.0), 0.0)
        elif plan.additive:
            where = full_act
        else:
            where = full_act & item_applies & (level == plan.precedence)
            masks[plan.id] = full_act & (level == plan.precedence)
            if rule != "additive":
                where &= winner == k
        masks.setdefault(plan.id, where if plan.kind != "reciprocal" else
                         full_act & ~floor_on & (~item_on if rule == "mutual_exclusion" else True))
        duty[k] = np.where(where, full, 0.0)
    for k, cols, act, binds in capped:  # a binding cap levies all of total - base itself
        for part in duty.values():
            part[:, cols] = np.where(binds, 0.0, part[:, cols])
        duty[k] = np.zeros((bsz, c))
        duty[k][:, cols] = np.where(binds, total[:, cols] - base[:, cols], 0.0)
        hit = np.zeros((bsz, c), dtype=bool)
        hit[:, cols] = act
        masks[plans[k].id] = hit
    return duty, masks
