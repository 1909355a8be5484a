"""Rate programs: each tariff measure as parameter indices per cell, and their evaluation.

Belongs here: turning measures into *plans* (which parameter sets the rate of each cell) and
the pure evaluation ``theta (B, P) → all-in rates (B, C)`` on coverage cells, with the
stacking rules of :mod:`tariffsim.schedule.stacking`, and the attribution of each cell's
duty to the measures (hence legal authorities) that levy it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .context import Context, authority_of
from .coverage import measure_exempts, rate_key, reciprocal_rates

__all__ = ["Plan", "build_plans", "nonlinear_mask"]


@dataclass
class Plan:
    """One tariff measure after compilation."""

    id: str
    kind: str
    authority: str
    enabled: int  # parameter index of the on/off switch
    param: np.ndarray | None = None  # (C,) parameter index per cell (ZERO where not covered)
    second: np.ndarray | None = None  # quota: over-quota parameter index per cell
    excess: float = 0.0  # quota: share of covered imports above the quota
    all_in: bool = False
    precedence: int = 0
    additive: bool = False  # stacking = "additive": added on top, excludes nothing
    lifts: tuple[int, ...] = ()  # exemption: positions of the measures it lifts
    exempt_refs: tuple[int, ...] = ()  # 'measure:ID' exempts: positions of those measures


def nonlinear_mask(measures) -> np.ndarray:
    """Measures whose duty depends on the base rate: floors, caps, all-in rates, shape (M,)."""
    return np.array([m.kind in ("floor", "cap") or getattr(m, "all_in", False) for m in measures], dtype=bool)


def _partner_params(ctx: Context, m, rates: dict, default: int | None, partner, covered) -> np.ndarray:
    """Parameter index per cell from a partner-keyed rate dict (-1 where not covered).

    ``partner`` is (labels, inverse): the cells' partner codes factorised once.
    """
    index = {key: ctx.params.add(f"{m.id}.rates.{key}", v) for key, v in rates.items()}
    labels, inv = partner
    out = np.full(len(inv), -1, dtype=np.int64)
    fallback = -1 if default is None else default
    per_label = np.array([index.get(rate_key(ctx, str(p), rates) or "", fallback) for p in labels], dtype=np.int64)
    out[covered] = per_label[inv[covered]] if len(labels) else -1
    return out


def _quota_excess(ctx: Context, m, cells: dict, covered: np.ndarray) -> float:
    """Share of covered imports above the quota: max(1 - Q / V, 0)."""
    usd = np.where(cells["line_data"], cells["weight"] / 1e6, 0.0)
    sector_cells = ~cells["line_data"] & covered
    flows = ctx.world.flows[cells["exporter"], cells["importer"], cells["sector"]]
    volume = usd[covered].sum() + (flows * cells["weight"])[sector_cells].sum()
    return max(1.0 - m.quota / volume, 0.0) if volume > 0 else 0.0


def build_plans(ctx: Context, cells: dict, cover: np.ndarray) -> list[Plan]:
    """One :class:`Plan` per tariff measure; registers rate and switch parameters."""
    plans = []
    partner = np.unique(cells["partner"], return_inverse=True)
    ids = [m.id for m in ctx.tariff_measures]
    add = ctx.params.add
    for k, m in enumerate(ctx.tariff_measures):
        plan = Plan(m.id, m.kind, authority_of(m), add(f"{m.id}.enabled", 1.0),
                    exempt_refs=measure_exempts(ctx, m))
        covered = cover[:, k]
        if m.kind == "reciprocal":
            plan.param = _partner_params(ctx, m, reciprocal_rates(ctx, m), None, partner, covered)
        elif m.kind in ("item", "retaliation"):
            default = add(f"{m.id}.rate", m.rate)
            plan.param = _partner_params(ctx, m, m.rates, default, partner, covered)
            plan.all_in, plan.precedence = m.all_in, m.precedence
            plan.additive = getattr(m, "stacking", None) == "additive"
        elif m.kind in ("floor", "cap"):
            plan.param = np.where(covered, add(f"{m.id}.rate", m.rate), -1)
        elif m.kind == "quota":
            plan.param = np.where(covered, add(f"{m.id}.in_quota_rate", m.in_quota_rate), -1)
            plan.second = np.where(covered, add(f"{m.id}.over_quota_rate", m.over_quota_rate), -1)
            plan.excess = _quota_excess(ctx, m, cells, covered)
        elif m.kind == "exemption":
            lifted = m.measures or tuple(x for x in ids if ctx.tariff_measures[ids.index(x)].kind != "exemption")
            plan.lifts = tuple(ids.index(x) for x in lifted if x in ids)
        plans.append(plan)
    return plans


def finish_plans(plans: list[Plan], zero: int) -> None:
    """Point the uncovered cells (-1) of every plan at the constant zero parameter."""
    for plan in plans:
        for attr in ("param", "second"):
            arr = getattr(plan, attr)
            if arr is not None:
                setattr(plan, attr, np.where(arr < 0, zero, arr))
