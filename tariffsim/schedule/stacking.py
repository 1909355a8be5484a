"""Named stacking rules: how the duties of several measures on one line combine.

Pure numpy on arrays of shape (B, C) (scenarios × coverage cells). The scenario-level rule
(``stacking = ...`` at the top of a file) says how item duties combine with reciprocal duties:

``mutual_exclusion`` (US law since April 2025: EO 14257 sec. 3(b), Proclamations 10908 and
  10947): a line subject to a Section 232 duty is not subject to the reciprocal duty.
  duty = item if any item applies else reciprocal.
``additive``: duty = item + reciprocal.
``max``: duty = max(item, reciprocal).

Per-measure rules, declared on the measure (never special cases in code):

* ``precedence`` — among item measures on one line only those of the highest precedence
  apply (232 autos, precedence 1, over 232 metals for an auto part in chapter 73);
  equal-precedence items combine like the rule (max for ``mutual_exclusion`` and ``max``,
  sum for ``additive``).
* ``stacking = "additive"`` on an item measure — its duty is added on top of whatever else
  applies and excludes nothing (IEEPA fentanyl on China stacks on 232 and 301; Section 301
  stacks on everything).
* ``exempt = ["measure:ID"]`` — the measure does not apply where measure ID is on and covers
  the line (the reciprocal duty's exclusion of 232 goods; Canada/Mexico fentanyl not on 232
  autos, EO 14289).
* floors (``kind = "floor"``) replace the reciprocal duty: ``max(floor - base, 0)`` (all-in,
  inclusive of the base rate); caps bound the all-in rate: ``total = min(total, max(cap, base))``.
* content, utilisation and end-use shares split a line into pieces, each stacked by these
  rules (:mod:`tariffsim.schedule.shares`): the non-metal part of a 232 derivative pays
  the reciprocal duty.

Truth table (one line, base 2%; reciprocal 25% with ``exempt = ["measure:s232"]``, 232 item
25%, fentanyl 10% additive, 301 7.5% additive, floor 15% all-in; tested in
tests/test_law_rules.py::test_stacking_truth_table):

=====================================  ===============================
measures on                            all-in rate
=====================================  ===============================
reciprocal                             2 + 25
reciprocal, 232                        2 + 25 (232 excludes reciprocal)
reciprocal, fentanyl                   2 + 25 + 10
reciprocal, 232, fentanyl              2 + 25 + 10
reciprocal, 232, fentanyl, 301         2 + 25 + 10 + 7.5
reciprocal, floor                      15 (the floor replaces it)
reciprocal, floor, fentanyl            15 + 10
reciprocal, floor, 232                 2 + 25
=====================================  ===============================

Attribution: each measure's part of ``total - base`` (duties by legal authority) follows
the same rules — the item that wins (first of equal duties), the reciprocal or floor where
it is levied, additive items in full, a binding cap levies the whole of ``total - base``.
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
