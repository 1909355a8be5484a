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


def _item_duty(plan, theta, layout, k, cols, r, b):
    if plan.kind == "quota":
        # in-quota rate on the first Q, over-quota beyond: t_in + (t_out - t_in) * excess share
        r = r + (theta[:, layout.seconds[k][cols]] - r) * plan.excess
    return np.maximum(r - b, 0.0) if plan.all_in else r  # all-in: max(rate - base, 0)


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
    """
    bsz, c = theta.shape[0], len(layout.base)
    base = layout.base[None, :]
    on = theta[:, [p.enabled for p in plans]] > 0.5 if plans else np.zeros((bsz, 0), bool)
    lifted = _lifted(on, layout.cover, plans, bsz, c)
    recip, floor, item, extra = (np.zeros((bsz, c)) for _ in range(4))
    floor_on = np.zeros((bsz, c), dtype=bool)
    level = np.full((bsz, c), -np.inf)
    winner = np.full((bsz, c), -1) if detail else None  # item measure holding the top duty
    floor_win = np.full((bsz, c), -1) if detail else None
    parts, caps = {}, []
    for k, plan in enumerate(plans):
        if plan.kind == "exemption":
            continue
        cols = layout.cols[k]  # work only on the cells the measure covers
        act = np.repeat(on[:, k, None], len(layout.base[cols]), axis=1)
        if k in lifted:
            act &= ~lifted[k][:, cols]
        r = theta[:, layout.params[k][cols]]
        b = base[:, cols]
        if plan.kind == "reciprocal":
            duty = np.where(act, r, 0.0)
            recip[:, cols] += duty  # reciprocal duties add up
        elif plan.kind == "floor":
            duty = np.maximum(r - b, 0.0)  # all-in floor: max(floor, base) - base
            cur = floor[:, cols]
            if detail:
                take = act & (~floor_on[:, cols] | (duty > cur))
                floor_win[:, cols] = np.where(take, k, floor_win[:, cols])
            floor[:, cols] = np.where(act, np.maximum(cur, duty), cur)
            floor_on[:, cols] |= act
        elif plan.kind == "cap":
            caps.append((k, cols, act, r))
            continue
        elif plan.additive:
            duty = np.where(act, _item_duty(plan, theta, layout, k, cols, r, b), 0.0)
            extra[:, cols] += duty  # stacks on everything: duty = sum of additive duties
        else:  # item, retaliation, quota: highest precedence wins
            duty = _item_duty(plan, theta, layout, k, cols, r, b)
            lvl, cur = level[:, cols], item[:, cols]
            higher = act & (plan.precedence > lvl)
            same = act & (plan.precedence == lvl)
            if detail:
                beats = higher | (same & (duty > cur))
                winner[:, cols] = np.where(beats, k, winner[:, cols])
            item[:, cols] = np.where(higher, duty, np.where(same, combine_items(cur, duty, rule), cur))
            level[:, cols] = np.where(higher, plan.precedence, lvl)
        if detail:
            parts[k] = (cols, act, duty)
    recip_part = np.where(floor_on, floor, recip)  # floors replace the reciprocal duty
    item_on = level > -np.inf
    total = base + combine_with_reciprocal(item, item_on, recip_part, rule) + extra
    capped = []
    for k, cols, act, r in caps:
        b = base[:, cols]
        new = np.where(act, np.minimum(total[:, cols], np.maximum(r, b)), total[:, cols])
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
