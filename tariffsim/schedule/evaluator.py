"""What :meth:`CompiledSchedule.evaluate` runs: duties per rate program, only where θ moves.

Belongs here: :class:`Evaluator`, the fast path from a (B, P) parameter array to the (B, n, n, S)
trade-weighted rates. Three things are done once per compiled schedule:

1. *Programs.* Compact cells that run the same rate program (the same covering measures,
   parameter indices and share roles, and - where a floor, cap or all-in rate makes the duty
   depend on it - the same base rate, bit for bit) levy the same duty, so the program is
   evaluated once (U programs for C cells; 608 for 3,081 on ``liberation_day.toml``). A
   *linear* program is evaluated at base 0 and its cells add their own base:
   ``t_c = b_c + d_u(θ)``; a base-dependent one carries its base: ``t_c = d_u(θ; b_u)``.
2. *Dependencies.* The parameters each program reads (switches, rates and shares of the
   measures covering it). A program none of whose parameters differ from the scenario's
   defaults anywhere in the batch keeps its default duty, and a world flow all of whose
   cells run such programs keeps its default rate: a sweep that varies four parameters
   computes only the programs and flows those four touch (the plan for a set of moving
   parameters is built once and cached).
3. *Aggregation.* Cells sorted by world flow, so that ``t_g = sum_c s_c m_c t_c`` (trade
   shares s, share multipliers m) is one ``np.add.reduceat`` over contiguous runs.

Exactness: duties are elementwise in θ and each flow's sum runs over the same cells in the
same order whatever the batch and whichever parameters move, so a batch equals a loop of
single rows bit for bit, and a zero shock gives ``tariff_base`` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .aggregate import Layout
from .cells import _packed, group_ids
from .rates import evaluate_cells
from .shares import multipliers

__all__ = ["Evaluator"]

#: cells (B x computed cells) per sub-batch: keeps the temporaries in cache
_BLOCK = 1 << 20
_MAX_PLANS = 16


@dataclass
class _Plan:
    """What to compute when a given set of parameters moves (see :meth:`Evaluator._plan`)."""

    sub: Layout | None  # the programs that move (None: none)
    need: np.ndarray  # programs read by the flows computed, sorted
    at: np.ndarray  # position in ``need`` of each moving program
    loc: np.ndarray  # per computed cell (sorted by flow): position of its program in ``need``
    base: np.ndarray  # per computed cell: its own base rate (0 for base-dependent programs)
    share: np.ndarray  # per computed cell: its share of its flow's trade
    starts: np.ndarray  # first computed cell of each computed flow
    flat: np.ndarray  # flat world index (exporter, importer, sector) of each computed flow


class Evaluator:
    """Trade-weighted rates (B, n, n, S) of a compiled schedule for parameter arrays θ (B, P).

    Parameters
    ----------
    world : TradeWorld
    groups : ndarray of int (G,)
        Flat world index ``(exporter * n + importer) * S + sector`` of each flow with cells.
    compact : Layout
        The compact cells (``agg.group`` and ``agg.weight``: flow and trade share of each).
    plans : list of Plan
    rule : str
        Stacking rule.
    shares : list of ShareRule
        Parameter-share rules (multipliers).
    nonlinear : ndarray of bool (M,)
        Measures whose duty depends on the base rate.
    defaults : ndarray (P,)
        The scenario's own parameter values.
    """

    def __init__(self, world, groups, compact: Layout, plans, rule: str, shares, nonlinear, defaults) -> None:
        self.shape = (world.n_countries, world.n_countries, world.n_sectors)
        self.plans, self.rule, self.shares = plans, rule, shares
        self.defaults = np.asarray(defaults, dtype=float).copy()
        cover, c = compact.cover, len(compact.base)
        needs_base = cover[:, nonlinear].any(axis=1) if nonlinear.any() else np.zeros(c, dtype=bool)
        bits = np.ascontiguousarray(compact.base).view(np.int64)
        columns = [np.where(needs_base, bits, -1)] + [compact.role[:, q].astype(np.int64)
                                                      for q in range(compact.role.shape[1])]
        columns += [a for a in compact.params + compact.seconds if a is not None] + _packed(cover)
        self.prog, first = group_ids(columns) if c else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        self.layout = _sub_layout(compact, first, np.where(needs_base[first], compact.base[first], 0.0))
        self.cell_base = np.where(needs_base, 0.0, compact.base)  # b_c of linear programs, added after
        group = compact.agg.group
        self.order = np.argsort(group, kind="stable")  # cells by flow, cell order kept within a flow
        self.group, self.share, self.groups = group, compact.agg.weight, np.asarray(groups, dtype=np.int64)
        self.reads = _reads(self.layout, plans, shares, len(self.defaults))
        self._plans: dict[bytes, _Plan] = {}
        self._t0 = self._world0 = None

    # ------------------------------------------------------------------ plans
    def _plan(self, moved: np.ndarray | None) -> _Plan:
        """The programs and flows to compute when the parameters ``moved`` (P,) bool move
        (None: every program and every flow)."""
        key = b"all" if moved is None else np.packbits(moved).tobytes()
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        indptr, progs = self.reads
        u = len(self.layout.base)
        hot = np.full(u, moved is None)
        for p in np.flatnonzero(moved) if moved is not None else ():
            hot[progs[indptr[p]:indptr[p + 1]]] = True
        flows = np.full(len(self.groups), moved is None)
        flows[self.group[hot[self.prog]]] = True
        cells = self.order[flows[self.group[self.order]]]
        need, loc = np.unique(self.prog[cells], return_inverse=True)
        moving = np.flatnonzero(hot)
        computed, counts = np.unique(self.group[cells], return_counts=True)
        plan = _Plan(
            sub=_sub_layout(self.layout, moving, self.layout.base[moving]) if len(moving) else None,
            need=need, at=np.searchsorted(need, moving), loc=loc.reshape(-1).astype(np.intp),
            base=self.cell_base[cells], share=self.share[cells],
            starts=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp),
            flat=self.groups[computed],
        )
        if len(self._plans) >= _MAX_PLANS:
            self._plans.pop(next(iter(self._plans)))
        self._plans[key] = plan
        return plan

    # ------------------------------------------------------------------ evaluate
    def _defaults(self) -> tuple[np.ndarray, np.ndarray]:
        """Duty of every program (U,) and the world rates (n n S,) at the default parameters."""
        if self._t0 is None:
            theta = self.defaults[None]
            self._t0 = evaluate_cells(theta, self.layout, self.plans, self.rule)[0]
            world = np.zeros((1, int(np.prod(self.shape))))
            self._fill(world, theta, self._plan(None))
            self._world0 = world[0]
        return self._t0, self._world0

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        """Rates (B, n, n, S) for a validated (B, P) parameter array."""
        t0, world0 = self._defaults()
        moved = np.any(theta.view(np.int64) != self.defaults.view(np.int64), axis=0)
        out = np.empty((theta.shape[0], world0.shape[0]))
        out[:] = world0
        if moved.any():
            self._fill(out, theta, self._plan(moved))
        return out.reshape((theta.shape[0],) + self.shape)

    def _fill(self, out: np.ndarray, theta: np.ndarray, plan: _Plan) -> None:
        """Write the computed flows of ``plan`` into ``out`` (B, n n S), in cache-sized sub-batches."""
        if not len(plan.flat):
            return
        step = max(1, _BLOCK // max(len(plan.loc), 1))
        fixed = self._t0[plan.need]
        for k in range(0, theta.shape[0], step):
            part = theta[k:k + step]
            duty = np.empty((part.shape[0], len(plan.need)))
            duty[:] = fixed
            if plan.sub is not None:
                duty[:, plan.at] = evaluate_cells(part, plan.sub, self.plans, self.rule)
            out[k:k + step, plan.flat] = self._sum(duty, part, plan)

    def _sum(self, duty: np.ndarray, theta: np.ndarray, plan: _Plan) -> np.ndarray:
        """t_g = sum_c s_c m_c (b_c + d_c) over the computed cells of each flow, (B, computed flows)."""
        v = duty[:, plan.loc]  # d_c: each cell's program duty
        v += plan.base  # t_c = b_c + d_u (linear programs; 0 + d_u(b_u) otherwise)
        mult = multipliers(theta, self.layout.role[plan.need], self.shares)
        if mult is not None:
            v *= mult[:, plan.loc]
        v *= plan.share
        return np.add.reduceat(v, plan.starts, axis=1)

    def base_rates(self) -> np.ndarray:
        """Base rates (n, n, S) through the same sums as :meth:`__call__` (zero duty everywhere)."""
        theta = self.defaults[None]
        plan = self._plan(None)
        out = np.zeros((1, int(np.prod(self.shape))))
        if len(plan.flat):
            out[:, plan.flat] = self._sum(self.layout.base[plan.need][None, :], theta, plan)
        return out.reshape(self.shape)


def _sub_layout(layout: Layout, rows: np.ndarray, base: np.ndarray) -> Layout:
    """``layout`` restricted to ``rows`` with base rates ``base`` (no aggregation)."""
    return Layout(base, layout.cover[rows], [None if a is None else a[rows] for a in layout.params],
                  [None if a is None else a[rows] for a in layout.seconds], layout.role[rows], None)


def _reads(layout: Layout, plans, shares, n_params: int) -> tuple[np.ndarray, np.ndarray]:
    """Which programs read each parameter, as CSR (indptr (P + 1,), programs).

    A program reads, for every measure covering it, the measure's switch, its rate parameter
    (and over-quota rate), and the factors of every parameter share splitting it.
    """
    pairs_p, pairs_u = [], []
    for k, plan in enumerate(plans):
        rows = np.flatnonzero(layout.cover[:, k])
        if not len(rows):
            continue
        pairs_u.append(rows)
        pairs_p.append(np.full(len(rows), plan.enabled))
        for arr in (layout.params[k], layout.seconds[k]):
            if arr is not None:
                pairs_u.append(rows)
                pairs_p.append(arr[rows])
    for q, rule in enumerate(shares):
        rows = np.flatnonzero(layout.role[:, q] != 0)
        for index in [i for i, _ in rule.factors] + ([] if rule.end_use is None else [rule.end_use]):
            pairs_u.append(rows)
            pairs_p.append(np.full(len(rows), index))
    if not pairs_p:
        return np.zeros(n_params + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    p, u = np.concatenate(pairs_p).astype(np.int64), np.concatenate(pairs_u).astype(np.int64)
    order = np.argsort(p, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(p, minlength=n_params))])
    return indptr, u[order]
