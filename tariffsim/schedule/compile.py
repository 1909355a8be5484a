"""Compile a scenario on a world into tariff arrays, once, then evaluate any rate vector.

Belongs here: the orchestration of the compiler's jobs (DESIGN §5), each in its own module:

1. :mod:`~tariffsim.schedule.cells` — coverage cells: US lines (cut into pieces by the share
   rules of :mod:`~tariffsim.schedule.shares`) and (partner, sector) cells → merged cells;
2. :mod:`~tariffsim.schedule.programs` / :mod:`~tariffsim.schedule.rates` — rate programs:
   parameter indices per cell and the pure evaluation ``theta (B, P) → rates (B, C)``;
3. :mod:`~tariffsim.schedule.aggregate` — cells → (exporter, importer, sector) trade-weighted
   arrays;
4. :mod:`~tariffsim.schedule.nontariff` — non-tariff shocks.

Every number a sweep may vary is a named *parameter* (``us_reciprocal.rates.KOR``,
``s232_autos.rate``, ``kor_exemption.enabled``, ``s232_deriv.content_share``, ...);
:meth:`CompiledSchedule.evaluate` takes a (B, P) array of them.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..arguments import as_date, bad_argument, check_world
from ..errors import DataError
from ..lines import ProductLines
from ..shocks import Shocks
from ..world import TradeWorld
from .accounts import AccountsMixin
from .aggregate import build_layouts
from .cells import build_cells
from .context import Context, in_force_on
from .evaluator import Evaluator
from .nontariff import build_nontariff, nontariff_fields
from .programs import build_plans, finish_plans, nonlinear_mask
from .rates import evaluate_cells
from .shares import multipliers

__all__ = ["CompiledSchedule", "compile_schedule", "concat_shocks", "prepare_schedule"]


class CompiledSchedule(AccountsMixin):
    """A scenario compiled on a world: coverage cells plus named parameters.

    Attributes
    ----------
    world : TradeWorld
    scenario : Scenario
    parameter_names : tuple of str, length P
    defaults : ndarray of shape (P,)
        The scenario's own values of the parameters.
    cells : dict of ndarray, each of shape (C,)
        ``importer``, ``exporter``, ``sector`` (world indices), ``partner`` (code),
        ``weight`` (import value: USD for US lines, share of the flow elsewhere),
        ``base`` (base rate), ``line_data`` (True where built from US lines).
    cover : ndarray of bool, shape (C, M)
        Which tariff measure covers which cell (before switches and exemptions).
    tariff_base : ndarray (n, n, S)
        Base rates through the same layout as :meth:`evaluate`.
    warnings : tuple of str
    """

    def __init__(self, scenario, world: TradeWorld, *, date: dt.date | None = None,
                 lines: ProductLines | None = None, all_dates: bool = False, as_published: bool = False) -> None:
        self.scenario = scenario
        self.world = world
        self.date = date or scenario.effective
        self.as_published = as_published
        # all_dates: compile every measure once; dated_vector(d) switches them by date
        measures = scenario.measures if all_dates else scenario.in_force(self.date, as_published=as_published)
        if all_dates and any(m.kind == "base" and (m.effective or m.until) for m in measures):
            raise DataError("base measures with effective/until dates cannot be switched by date; "
                            "compile once per date with prepare_schedule(..., date=d) instead.")
        ctx = self._ctx = Context(scenario, world, self.date, measures, lines)
        if self.date is None and not all_dates and any(m.effective or m.until for m in measures):
            ctx.warn(
                f"scenario {scenario.name!r} has dated measures but no date: every measure is applied at once, "
                "whatever its effective/until dates. Set `effective = YYYY-MM-DD` in the file or pass a date "
                "(tariffsim run --date, simulate(..., date=...))."
            )
        self.geo = ctx.geo
        self.base_measures, self.tariff_measures, self.other_measures = (
            ctx.base_measures, ctx.tariff_measures, ctx.other_measures)
        self.rule = ctx.rule
        nonlinear = nonlinear_mask(self.tariff_measures)
        self.cells, self.cover, role, splitters = build_cells(ctx, nonlinear)
        self._shares = [rule for _, rule in splitters]
        self.plans = build_plans(ctx, self.cells, self.cover)
        self._other = build_nontariff(ctx)
        ctx.params.close()
        self.ZERO = ctx.params.ZERO
        finish_plans(self.plans, self.ZERO)
        mult0 = multipliers(ctx.params.defaults[None], role, self._shares)
        self.groups, self._full, self._compact = build_layouts(world, self.cells, self.cover, role, self.plans, nonlinear,
                                                               None if mult0 is None else mult0[0])
        self._evaluator = Evaluator(world, self.groups, self._compact, self.plans, self.rule, self._shares,
                                    nonlinear, ctx.params.defaults)
        # base rates through the same sums as evaluate(), so that a zero shock gives
        # tariff_new == tariff_base exactly, not up to the rounding of a different summation
        self.tariff_base = self._evaluator.base_rates()

    def __getstate__(self) -> dict:
        """Pickled without the embedded US lines (70 MB with their caches; reloaded if needed):
        what sweep workers receive is the compiled cells, plans and evaluator (a few MB)."""
        from .. import datasets

        state = dict(self.__dict__)
        ctx = state["_ctx"]
        for name in ("load_us_product_lines", "load_us_product_lines_2026"):  # the lazily loaded lines
            load = getattr(datasets, name, None)
            if ctx.lines is not None and getattr(load, "cache_info", None) and load.cache_info().currsize \
                    and ctx.lines is load():
                state["_ctx"] = ctx = copy.copy(ctx)
                ctx.lines = None  # Context.us_lines() loads the same lines again if asked
        return state

    # ------------------------------------------------------------------ params
    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(self._ctx.params.names)

    @property
    def defaults(self) -> np.ndarray:
        return self._ctx.params.defaults

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._ctx.warnings)

    def vector(self, updates: Mapping[str, float] | None = None) -> np.ndarray:
        """The default parameter vector with some entries replaced by name."""
        return self._ctx.params.vector(updates)

    def parameter_index(self, name: str) -> int:
        return self._ctx.params.index(name)

    def dated_vector(self, date: dt.date, *, as_published: bool | None = None) -> np.ndarray:
        """Default parameters with each measure switched on only if in force on ``date``.

        Meant for schedules compiled with ``all_dates=True`` (one compile, a batch of dates).
        ``as_published`` (default: as compiled) starts retroactive measures on their
        ``published`` date.
        """
        published = self.as_published if as_published is None else as_published
        theta = self.defaults
        for m in self.tariff_measures + self.other_measures:
            theta[self.parameter_index(f"{m.id}.enabled")] = float(in_force_on(m, date, published))
        return theta

    # --------------------------------------------------------------- evaluate
    def _as_batch(self, theta) -> np.ndarray:
        return self._ctx.params.as_batch(theta)

    def cell_rates(self, theta=None, *, applied: bool = False):
        """All-in rates of every cell for a batch of parameter vectors.

        Parameters
        ----------
        theta : ndarray of shape (B, P) or (P,), optional
            Parameter vectors (default: the scenario's own values).
        applied : bool
            Also return, per measure id, a (B, C) mask of where its duty is what applies.

        Returns
        -------
        ndarray of shape (B, C)  [, dict of str -> ndarray of bool (B, C)]
            Rates of the cells as if whole; a cell cut by a parameter share carries the
            weight :meth:`cell_weights` gives.
        """
        theta = self._as_batch(theta)
        if applied:
            total, _, masks = evaluate_cells(theta, self._full, self.plans, self.rule, detail=True)
            return total, masks
        return evaluate_cells(theta, self._full, self.plans, self.rule)

    def cell_weights(self, theta=None) -> np.ndarray:
        """Import weight of every cell (B, C): ``weight`` times its parameter-share multiplier."""
        theta = self._as_batch(theta)
        mult = multipliers(theta, self._full.role, self._shares)
        w = self.cells["weight"][None, :]
        return np.broadcast_to(w, (theta.shape[0], w.shape[1])) if mult is None else w * mult

    def evaluate(self, theta=None) -> np.ndarray:
        """New tariff rates, shape (B, n, n, S), for parameter vectors ``theta`` (B, P).

        Only the rate programs and world flows that parameters differing from the defaults
        touch are computed (:class:`~tariffsim.schedule.evaluator.Evaluator`).
        """
        return self._evaluator(self._as_batch(theta))

    def shocks(self, theta=None, scenarios: Sequence[str] | None = None) -> Shocks:
        """Shocks for a batch of parameter vectors (default: the scenario as written)."""
        theta = self._as_batch(theta)
        bsz = theta.shape[0]
        fields = nontariff_fields(theta, self._other)
        if scenarios is None:
            scenarios = [self.scenario.name] if bsz == 1 else [f"{self.scenario.name}#{k}" for k in range(bsz)]
        return Shocks(
            self.world, tuple(scenarios),
            np.broadcast_to(self.tariff_base, (bsz,) + self.tariff_base.shape),  # read-only view, no copy
            self.evaluate(theta), warnings=self.warnings, **fields,
        )

    # ------------------------------------------------------------- line level
    def line_rates(self, theta=None) -> np.ndarray:
        """All-in ad valorem rate of every US import line for a batch of parameter vectors.

        Parameters
        ----------
        theta : ndarray of shape (B, P) or (P,), optional
            Parameter vectors (default: the scenario's own values).

        Returns
        -------
        ndarray of shape (B, L), decimal (0.25 = 25%)
            One column per line of the :class:`~tariffsim.lines.ProductLines` the schedule was
            compiled on (the embedded 2024 lines unless ``lines=`` was given), in their order:
            the line's base rate plus every duty on it, where a measure covering only a share
            of the line (metal content, USMCA, end use, ``coverage``) counts for that share,

                r_l = b_l + sum_{k in pieces of l} f_k m_k (t_c(k) - b_c(k))

            (``f_k`` the piece's share of the line's value, ``m_k`` its parameter-share
            multiplier, ``t_c - b_c`` the duty of its cell on top of the cell's base rate).
            Weighted by the lines' customs values, the rates give the duties of
            :meth:`line_accounting`: ``sum_l v_l r_l`` over a partner's lines. NaN for lines
            whose partner has no country in the world (left out of every cell); the base rate
            where the scenario has no US measures.
        """
        from .cells import line_pieces

        theta = self._as_batch(theta)
        n_lines = len(self._ctx.us_lines())
        base = self.line_base_rates()
        pieces = line_pieces(self._ctx)
        if pieces is None:
            return np.broadcast_to(base, (theta.shape[0], n_lines)).copy()
        line, cell, share, _ = pieces
        extra = self.cell_rates(theta) - self._full.base[None, :]  # (B, C) duty above the cell's base
        mult = multipliers(theta, self._full.role, self._shares)
        if mult is not None:
            extra = extra * mult
        out = np.empty((theta.shape[0], n_lines))
        for b in range(theta.shape[0]):
            out[b] = base + np.bincount(line, weights=share * extra[b, cell], minlength=n_lines)
        out[:, np.bincount(line, minlength=n_lines) == 0] = np.nan
        return out

    def line_base_rates(self) -> np.ndarray:
        """Base (MFN / preferential) rate of every US import line, shape (L,), decimal: the rate
        :meth:`line_rates` adds the duties to (zeros where the scenario has no US base measure)."""
        from .cells import line_pieces

        pieces = line_pieces(self._ctx)
        if pieces is None or pieces[3] is None:
            return np.zeros(len(self._ctx.us_lines()))
        return np.array(pieces[3], dtype=float)


def _as_scenario(scenario):
    """``scenario`` if it is a Scenario; a DataError with the fix otherwise (schedule never reads files)."""
    if isinstance(scenario, (str, Path)):
        raise bad_argument("prepare_schedule", "scenario", "a Scenario: load the file first with "
                           f"tariffsim.load_scenario({str(scenario)!r})", scenario)
    if not hasattr(scenario, "measures") or not hasattr(scenario, "in_force"):
        raise bad_argument("prepare_schedule", "scenario", "a Scenario or a scenario file path", scenario)
    return scenario


def prepare_schedule(scenario, world: TradeWorld | None = None, *, date: dt.date | None = None,
                     lines: ProductLines | None = None, all_dates: bool = False,
                     as_published: bool = False) -> CompiledSchedule:
    """Compile ``scenario`` on ``world`` once (coverage cells and parameters).

    Parameters
    ----------
    scenario : Scenario
    world : TradeWorld, optional
        Default: the embedded world the scenario asks for (``[world]`` table).
    date : date, optional
        Evaluate the measures in force on this date (default: the scenario's ``effective``).
    lines : ProductLines, optional
        US import lines (default: the embedded 2024 lines).
    all_dates : bool
        Compile every measure whatever its dates; evaluate a date with
        ``schedule.dated_vector(date)`` (one compile for a whole timeline).
    as_published : bool
        False (default): the law as applied — a retroactive measure applies from its
        ``effective`` date. True: from max(effective, published), what was known that day.
    """
    scenario = _as_scenario(scenario)
    date = as_date(date, "prepare_schedule")
    check_world(world, "prepare_schedule")
    if world is None:
        from ..datasets import load_world

        world = load_world(scenario.world.regions, keep=scenario.world.keep)
    return CompiledSchedule(scenario, world, date=date, lines=lines, all_dates=all_dates, as_published=as_published)


def compile_schedule(scenarios, world: TradeWorld | None = None, *, date: dt.date | None = None,
                     as_published: bool = False) -> Shocks:
    """Compile one or several scenarios into a batch of :class:`~tariffsim.shocks.Shocks`.

    Each scenario is compiled once and evaluated at its own parameter values; the
    results are stacked along the leading batch axis in the order given.
    """
    if not isinstance(scenarios, (list, tuple)):
        scenarios = [scenarios]
    if not scenarios:
        raise DataError("compile_schedule needs at least one scenario.")
    if world is None:
        from ..datasets import load_world

        spec = scenarios[0].world
        world = load_world(spec.regions, keep=spec.keep)
    parts = [prepare_schedule(s, world, date=date, as_published=as_published).shocks() for s in scenarios]
    return concat_shocks(parts)


def concat_shocks(parts: Sequence[Shocks]) -> Shocks:
    """Stack Shocks on the same world along the batch axis."""
    if len(parts) == 1:
        return parts[0]
    world = parts[0].world
    fields = ("tariff_base", "tariff_new", "ntb", "productivity", "deficit_change", "demand_shift", "currency")
    warnings = tuple(dict.fromkeys(w for p in parts for w in p.warnings))
    names = [n for p in parts for n in p.scenarios]
    return Shocks(world, tuple(names), **{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}, warnings=warnings)
