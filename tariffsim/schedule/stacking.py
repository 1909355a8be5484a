"""Named stacking rules: how item-specific duties combine with reciprocal duties.

Pure numpy on arrays of shape (B, C) (scenarios × coverage cells). The rules, as in the law:

``mutual_exclusion`` (US law since April 2025: EO 14257 sec. 3(b), Proclamations 10908 and
  10947): a line subject to a Section 232 duty is not subject to the reciprocal duty.
  duty = item if any item applies else reciprocal.
``additive``: duty = item + reciprocal (e.g. IEEPA fentanyl + reciprocal on China).
``max``: duty = max(item, reciprocal).

Among several item measures on one line, only those of the highest ``precedence`` apply
(e.g. 232 autos over 232 steel for an auto part in chapter 73); equal-precedence items
combine like the rule (max for ``mutual_exclusion`` and ``max``, sum for ``additive``).
Floors replace the reciprocal duty: ``max(floor - base, 0)`` (an all-in floor, inclusive of
the base rate). Caps bound the all-in rate: ``total = min(total, max(cap, base))``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STACKING", "combine_items", "combine_with_reciprocal", "item_side"]

STACKING = ("mutual_exclusion", "additive", "max")


def combine_items(acc: np.ndarray, duty: np.ndarray, rule: str) -> np.ndarray:
    """Combine two equal-precedence item duties under ``rule``."""
    if rule == "additive":
        return acc + duty
    return np.maximum(acc, duty)


def combine_with_reciprocal(item: np.ndarray, item_on: np.ndarray, recip: np.ndarray, rule: str) -> np.ndarray:
    """Additional duty on each cell from the item and reciprocal parts.

    Parameters
    ----------
    item : ndarray (B, C)
        Combined item duty (0 where none applies).
    item_on : ndarray of bool (B, C)
        Whether any item measure applies.
    recip : ndarray (B, C)
        Reciprocal (or floor) duty (0 where none applies).
    rule : {'mutual_exclusion', 'additive', 'max'}
    """
    if rule == "mutual_exclusion":
        # duty = item if item applies else reciprocal
        return np.where(item_on, item, recip)
    if rule == "additive":
        return item + recip
    if rule == "max":
        return np.maximum(item, recip)
    raise ValueError(f"unknown stacking rule {rule!r}; choose one of {STACKING}")


def item_side(item: np.ndarray, item_on: np.ndarray, recip: np.ndarray, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Where the item duty and where the reciprocal (or floor) duty is levied under ``rule``.

    Returns two (B, C) bool arrays, used to attribute duties to measures:
    ``mutual_exclusion``: item where an item applies, reciprocal elsewhere; ``additive``: both
    everywhere; ``max``: the larger one (ties to the item).
    """
    if rule == "mutual_exclusion":
        return item_on, ~item_on
    if rule == "additive":
        everywhere = np.ones(item.shape, dtype=bool)
        return everywhere, everywhere
    if rule == "max":
        take = item_on & (item >= recip)
        return take, ~take
    raise ValueError(f"unknown stacking rule {rule!r}; choose one of {STACKING}")
