"""Compile a scenario on a world into tariff arrays, once, then evaluate any rate vector.

Belongs here: measures → coverage cells → batched rates → arrays (B, exporter, importer,
sector). Product-level law meets sector-level economics here (DESIGN §5):

1. For the US (the one importer with line data) every measure is evaluated on the 2024
   Census import lines (HS10 × partner); elsewhere on (partner, sector) cells, with the
   measure's ``coverage`` share.
2. Lines that no measure can tell apart (same importer, partner, sector, set of covering
   measures, and - where a floor, cap or all-in rate makes the duty depend on it - base
   rate) are merged into one *cell*. This is done once; a batch of rate vectors is then
   evaluated on a few thousand cells, never on 300,000 lines per scenario.
3. Cell rates are aggregated to (exporter, importer, sector) with the cells' import
   weights (trade-weighted averages).

Every number a sweep may vary is a named *parameter* (``us_reciprocal.rates.KOR``,
``s232_autos.rate``, ``kor_exemption.enabled``, ...); :meth:`CompiledSchedule.evaluate`
takes a (B, P) array of them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..datasets import load_us_product_lines
from ..errors import DataError, did_you_mean, shorten_list
from ..lines import ProductLines, normalise_hs
from ..shocks import Shocks
from ..world import TradeWorld
from .geography import Geography
from .stacking import combine_items, combine_with_reciprocal

__all__ = ["CompiledSchedule", "prepare_schedule", "compile_schedule"]

log = logging.getLogger(__name__)

TARIFF_KINDS = ("reciprocal", "item", "retaliation", "floor", "cap", "exemption", "quota")
OTHER_KINDS = ("ntb", "productivity", "deficit", "purchase", "currency")
US = "USA"


@dataclass
class _Plan:
    """One tariff measure after compilation."""

    id: str
    kind: str
    enabled: int  # parameter index of the on/off switch
    param: np.ndarray | None = None  # (C,) parameter index per cell (ZERO where not covered)
    second: np.ndarray | None = None  # quota: over-quota parameter index per cell
    excess: float = 0.0  # quota: share of covered imports above the quota
    all_in: bool = False
    precedence: int = 0
    lifts: tuple[int, ...] = ()  # exemption: positions of the measures it lifts
    exempt_refs: tuple[int, ...] = ()  # 'measure:ID' exempts: positions of those measures


@dataclass
class _Layout:
    """Cells as the rate kernel sees them: base rates, coverage, parameter indices, aggregation."""

    base: np.ndarray  # (C,)
    cover: np.ndarray  # (C, M) bool
    params: list  # per plan: (C,) parameter index or None
    seconds: list  # per plan: (C,) over-quota parameter index or None
    agg: sp.csr_matrix  # (G, C) trade weights within each world group
    cols: list | None = None  # per plan: covered cells (slice or index array)

    def __post_init__(self) -> None:
        c = self.cover.shape[0]
        self.cols = []
        for j in range(self.cover.shape[1]):
            idx = np.flatnonzero(self.cover[:, j])
            self.cols.append(slice(None) if len(idx) == c else idx)


class CompiledSchedule:
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
    warnings : tuple of str
    """

    def __init__(self, scenario, world: TradeWorld, *, date: dt.date | None = None,
                 lines: ProductLines | None = None, all_dates: bool = False) -> None:
        self.scenario = scenario
        self.world = world
        self.date = date or scenario.effective
        self.geo = Geography(world)
        self._warnings: list[str] = []
        self._names: list[str] = []
        self._values: list[float] = []
        # all_dates: compile every measure once; dated_vector(d) switches them by date
        measures = scenario.measures if all_dates else scenario.in_force(self.date)
        if all_dates and any(m.kind == "base" and (m.effective or m.until) for m in measures):
            raise DataError("base measures with effective/until dates cannot be switched by date; "
                            "compile once per date with prepare_schedule(..., date=d) instead.")
        if self.date is None and not all_dates and any(m.effective or m.until for m in measures):
            self._warn(
                f"scenario {scenario.name!r} has dated measures but no date: every measure is applied at once, "
                "whatever its effective/until dates. Set `effective = YYYY-MM-DD` in the file or pass a date "
                "(tariffsim run --date, simulate(..., date=...))."
            )
        self.base_measures = [m for m in measures if m.kind == "base"]
        self.tariff_measures = [m for m in measures if m.kind in TARIFF_KINDS]
        self.other_measures = [m for m in measures if m.kind in OTHER_KINDS]
        self.rule = scenario.stacking
        self._lines = lines
        self._build_cells()
        self._build_plans()
        self._build_aggregation()
        self._build_other_shocks()

    # ------------------------------------------------------------------ params
    def _param(self, name: str, value: float) -> int:
        self._names.append(name)
        self._values.append(float(value))
        return len(self._names) - 1

    def _warn(self, text: str) -> None:
        """Record a warning once (carried into Shocks and results)."""
        if text not in self._warnings:
            self._warnings.append(text)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(self._names)

    @property
    def defaults(self) -> np.ndarray:
        return np.array(self._values)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._warnings)

    def vector(self, updates: Mapping[str, float] | None = None) -> np.ndarray:
        """The default parameter vector with some entries replaced by name."""
        theta = self.defaults
        for name, value in (updates or {}).items():
            theta[self.parameter_index(name)] = value
        return theta

    def dated_vector(self, date: dt.date) -> np.ndarray:
        """Default parameters with each measure switched on only if in force on ``date``.

        Meant for schedules compiled with ``all_dates=True`` (one compile, a batch of dates).
        """
        theta = self.defaults
        for m in self.tariff_measures + self.other_measures:
            live = (m.effective is None or m.effective <= date) and (m.until is None or date < m.until)
            theta[self._names.index(f"{m.id}.enabled")] = float(live)
        return theta

    def parameter_index(self, name: str) -> int:
        try:
            return self._names.index(name)
        except ValueError:
            raise DataError(
                f"scenario {self.scenario.name!r} has no parameter {name!r}. "
                f"{did_you_mean(name, self._names)} Parameters: {shorten_list(self._names, 12)}"
            ) from None

    # ------------------------------------------------------------------- cells
    def _importers(self) -> set[str]:
        return {m.importer for m in self.tariff_measures + self.base_measures}

    def _build_cells(self) -> None:
        world = self.world
        parts = []
        importers = self._importers()
        unknown = sorted(i for i in importers if i not in world.countries)
        if unknown:
            self._warn(
                f"importer(s) {unknown} are not countries of this world ({shorten_list(world.countries)}); "
                "their measures are ignored. Keep them apart with load_world(keep=[...])."
            )
        if US in importers and US in world.countries:
            parts.append(self._line_cells())
        for imp in sorted(importers - {US}):
            if imp in world.countries:
                parts.append(self._sector_cells(imp))
        if not parts:
            self.cells = {k: np.zeros(0, dtype=t) for k, t in
                          (("importer", int), ("exporter", int), ("sector", int), ("partner", "U8"),
                           ("weight", float), ("base", float), ("line_data", bool))}
            self.cover = np.zeros((0, len(self.tariff_measures)), dtype=bool)
            return
        keys = parts[0].keys()
        raw = {k: np.concatenate([p[k] for p in parts]) for k in keys}
        raw = self._split_partial_coverage(raw)
        self.cells, self.cover = self._merge(raw)

    def _line_cells(self) -> dict[str, np.ndarray]:
        lines = self._lines or load_us_product_lines()
        geo, world = self.geo, self.world
        home = np.array([-1 if (k := geo.to_world(p)) is None else k for p in lines.partner_labels])
        exporter = home[lines.partner_code]
        sector_index = {s: k for k, s in enumerate(world.sectors)}
        sec_codes, sec_inv = np.unique(lines.sector, return_inverse=True)
        sec_map = np.array([sector_index.get(s, -1) for s in sec_codes])
        sector = sec_map[sec_inv]
        missing_sec = [s for s in sec_codes if s not in sector_index]
        if missing_sec:
            raise DataError(
                f"the world's sectors {shorten_list(world.sectors)} lack the line sectors {shorten_list(missing_sec)}; "
                "compile on a world with ICIO sectors (aggregate sectors after compiling)."
            )
        keep = exporter >= 0
        if not keep.all():
            lost = lines.value[~keep].sum() / 1e9
            self._warn(f"US import lines worth USD {lost:,.2f} bn have no country in this world and are left out.")
        us = world.country_index(US)
        n = int(keep.sum())
        base = self._line_base(lines)
        cover = np.zeros((len(lines), len(self.tariff_measures)))
        for k, m in enumerate(self.tariff_measures):
            if m.importer == US:
                cover[:, k] = self._line_coverage(m, lines) * getattr(m, "coverage", 1.0)
        return {
            "importer": np.full(n, us), "exporter": exporter[keep], "sector": sector[keep],
            "partner": lines.partner_labels[lines.partner_code[keep]], "weight": lines.value[keep],
            "base": base[keep], "line_data": np.ones(n, dtype=bool), "cover": cover[keep],
        }

    def _line_base(self, lines: ProductLines) -> np.ndarray:
        base = np.zeros(len(lines))
        for m in self.base_measures:
            if m.importer != US:
                continue
            mask = self._partner_mask(lines, m.partners, ()) & self._sector_mask(lines.sector, m.sectors)
            if m.schedule == "hts_2024":
                base = np.where(mask, lines.base_rate, base)
                share = lines.value[mask & lines.has_specific].sum() / max(lines.value.sum(), 1.0)
                self._warn(
                    f"{share:.1%} of 2024 US import value is on lines whose MFN duty has a specific or compound part; "
                    "that part counts as zero (no ad valorem equivalents in the data)."
                )
            else:
                base = np.where(mask, m.rate, base)
        return base

    def _partner_mask(self, lines: ProductLines, partners, exclude) -> np.ndarray:
        mask = np.ones(len(lines), dtype=bool) if not partners else lines.partner_mask(self.geo.iso_set(partners))
        if exclude:
            mask &= ~lines.partner_mask(self.geo.iso_set(exclude))
        return mask

    @staticmethod
    def _sector_mask(sector: np.ndarray, sectors) -> np.ndarray:
        return np.ones(len(sector), dtype=bool) if not sectors else np.isin(sector, list(sectors))

    def _expand_products(self, items) -> tuple[list[str], list[str]]:
        """HS prefixes and sector codes named by product/exempt entries ('measure:' handled elsewhere)."""
        from .. import datasets

        prefixes, sectors = [], []
        for item in items:
            if item.startswith("list:"):
                prefixes.extend(datasets.load_list(item[5:]))
            elif item.startswith("sector:"):
                sectors.append(item[7:])
            elif not item.startswith("measure:"):
                prefixes.append(normalise_hs(item))
        return prefixes, sectors

    def _line_coverage(self, m, lines: ProductLines) -> np.ndarray:
        mask = self._partner_mask(lines, getattr(m, "partners", ()), getattr(m, "exclude_partners", ()))
        products = getattr(m, "products", ())
        if products:
            prefixes, secs = self._expand_products(products)
            mask &= lines.match(prefixes) | np.isin(lines.sector, secs)
        mask &= self._sector_mask(lines.sector, getattr(m, "sectors", ()))
        prefixes, secs = self._expand_products(getattr(m, "exempt", ()))
        if prefixes:
            mask &= ~lines.match(prefixes)
        if secs:
            mask &= ~np.isin(lines.sector, secs)
        if m.kind == "reciprocal":
            keys = self._reciprocal_rates(m)
            mask &= lines.partner_mask(self._rated_partners(keys, lines.partner_labels))
        return mask.astype(float)

    def _measure_exempts(self, m) -> tuple[int, ...]:
        """Positions of the measures named by 'measure:ID' in ``m.exempt``.

        Applied when rates are evaluated (see ``_cell_rates``): a line is taken out of ``m``
        only while the referenced measure is switched on and covers it.
        """
        ids = [x.id for x in self.tariff_measures]
        out = []
        for item in getattr(m, "exempt", ()):
            if item.startswith("measure:"):
                if item[8:] in ids:
                    out.append(ids.index(item[8:]))
                else:
                    self._warn(f"{m.id}: exempt {item!r} refers to a measure not in force; nothing taken out.")
        return tuple(out)

    def _sector_cells(self, imp: str) -> dict[str, np.ndarray]:
        world = self.world
        j = world.country_index(imp)
        n, s = world.n_countries, world.n_sectors
        exporter = np.repeat(np.arange(n), s)
        sector = np.tile(np.arange(s), n)
        keep = exporter != j
        exporter, sector = exporter[keep], sector[keep]
        partner = np.array(world.countries, dtype="U8")[exporter]
        sec_codes = np.array(world.sectors)[sector]
        base = np.zeros(len(exporter))
        for m in self.base_measures:
            if m.importer == imp:
                mask = self._world_partner_mask(exporter, m.partners, ()) & self._sector_mask(sec_codes, m.sectors)
                base = np.where(mask, m.rate, base)
        cover = np.zeros((len(exporter), len(self.tariff_measures)))
        for k, m in enumerate(self.tariff_measures):
            if m.importer != imp:
                continue
            mask = self._world_partner_mask(exporter, getattr(m, "partners", ()), getattr(m, "exclude_partners", ()))
            mask &= self._sector_mask(sec_codes, getattr(m, "sectors", ()))
            _, secs = self._expand_products(getattr(m, "exempt", ()))
            if secs:
                mask &= ~np.isin(sec_codes, secs)
            if m.kind == "reciprocal":
                keys = self._reciprocal_rates(m)
                mask &= np.isin(partner, sorted(self._rated_partners(keys, np.unique(partner))))
            cover[:, k] = mask * getattr(m, "coverage", 1.0)
        return {
            "importer": np.full(len(exporter), j), "exporter": exporter, "sector": sector, "partner": partner,
            "weight": np.ones(len(exporter)), "base": base, "line_data": np.zeros(len(exporter), dtype=bool),
            "cover": cover,
        }

    def _world_partner_mask(self, exporter: np.ndarray, partners, exclude) -> np.ndarray:
        mask = np.ones(len(exporter), dtype=bool)
        if partners:
            mask &= np.isin(exporter, sorted(self.geo.world_indices(partners)))
        if exclude:
            mask &= ~np.isin(exporter, sorted(self.geo.world_indices(exclude)))
        return mask

    @staticmethod
    def _split_partial_coverage(raw: dict) -> dict:
        """Split cells whose coverage shares are fractional into nested pieces.

        Shares are taken as nested (the smaller share's trade is part of the larger's):
        with breakpoints 0 < b1 < ... < 1, piece k has weight (b_k - b_{k-1}) and is
        covered by every measure whose share is >= b_k.
        """
        cover = raw["cover"]
        levels = np.unique(cover[(cover > 0) & (cover < 1)])
        if levels.size == 0:
            raw["cover"] = cover > 0
            return raw
        bounds = np.concatenate([levels, [1.0]])
        lower = np.concatenate([[0.0], levels])
        pieces = []
        for lo, hi in zip(lower, bounds):
            piece = {k: v for k, v in raw.items() if k != "cover"}
            piece["weight"] = raw["weight"] * (hi - lo)
            piece["cover"] = cover >= hi - 1e-12
            pieces.append(piece)
        return {k: np.concatenate([p[k] for p in pieces]) for k in raw}

    def _merge(self, raw: dict) -> tuple[dict, np.ndarray]:
        """Merge cells no measure can tell apart; keep base rates apart where duties depend on them."""
        cover = raw["cover"]
        nonlinear = np.array([m.kind in ("floor", "cap") or getattr(m, "all_in", False) for m in self.tariff_measures], dtype=bool)
        needs_base = cover[:, nonlinear].any(axis=1) if nonlinear.any() else np.zeros(len(cover), dtype=bool)
        base_key = np.where(needs_base, np.round(raw["base"] * 1e9), -1).astype(np.int64)
        partner_code = pd.factorize(raw["partner"])[0]
        bits = np.packbits(cover, axis=1) if cover.shape[1] else np.zeros((len(cover), 0), dtype=np.uint8)
        key = pd.DataFrame(np.column_stack([raw["importer"], raw["exporter"], raw["sector"], partner_code, base_key,
                                            raw["line_data"].astype(np.int64), bits.astype(np.int64)]))
        inv = key.groupby(list(key.columns), sort=True).ngroup().to_numpy()  # hash grouping, sorted keys
        c = int(inv.max()) + 1 if len(inv) else 0
        _, first = np.unique(inv, return_index=True)
        weight = np.bincount(inv, weights=raw["weight"], minlength=c)
        # weighted mean base rate of the merged lines: sum w b / sum w
        wb = np.bincount(inv, weights=raw["weight"] * raw["base"], minlength=c)
        count = np.bincount(inv, minlength=c)
        plain = np.bincount(inv, weights=raw["base"], minlength=c) / count
        with np.errstate(invalid="ignore", divide="ignore"):
            base = np.where(weight > 0, wb / np.where(weight > 0, weight, 1.0), plain)
        cells = {k: raw[k][first] for k in ("importer", "exporter", "sector", "partner", "line_data")}
        cells["weight"] = weight
        cells["base"] = base
        return cells, cover[first]

    # ------------------------------------------------------------------- plans
    def _reciprocal_rates(self, m) -> dict[str, float]:
        rates: dict[str, float] = {}
        if m.table:
            from .. import datasets

            table = datasets.load_rate_table(m.table)
            floors = set(table.loc[table["structure"] != "additive", "iso3"])
            table = table[table["structure"] == "additive"]
            rates.update({iso: float(r) for iso, r in zip(table["iso3"], table["rate"])})
            # floor rows cannot be additive rates: say so unless the scenario handles those partners
            unhandled = sorted(floors - set(rates) - set(m.rates) - self.geo.iso_set(m.exclude_partners)
                               - (set(self.geo.members("EU27")) if "EU27" in m.rates else set()))
            if unhandled and "default" in m.rates:
                self._warn(
                    f"{m.id}: table {m.table!r} gives {shorten_list(unhandled)} an all-in floor, not an additive "
                    f"rate; this measure charges them its default rate {m.rates['default']:g}. Add a `floor` measure "
                    "for them and list them in exclude_partners (as scenarios/korea_us_2025/deal_15pct.toml does)."
                )
        rates.update(m.rates)
        return rates

    def _rate_key(self, partner: str, keys: Mapping[str, float]) -> str | None:
        if partner in keys:
            return partner
        region = self.geo.region_of(partner)
        if region in keys and region == "EU27":
            return region
        if "default" in keys:
            return "default"
        return None

    def _rated_partners(self, keys, partners) -> set[str]:
        return {p for p in partners if self._rate_key(str(p), keys) is not None}

    def _build_plans(self) -> None:
        self.ZERO = None  # set after all parameters exist
        plans = []
        partner = self.cells["partner"]
        ids = [m.id for m in self.tariff_measures]
        for k, m in enumerate(self.tariff_measures):
            plan = _Plan(m.id, m.kind, self._param(f"{m.id}.enabled", 1.0), exempt_refs=self._measure_exempts(m))
            covered = self.cover[:, k]
            if m.kind == "reciprocal":
                rates = self._reciprocal_rates(m)
                index = {key: self._param(f"{m.id}.rates.{key}", v) for key, v in rates.items()}
                plan.param = np.array([index.get(self._rate_key(p, rates), -1) if cov else -1
                                       for p, cov in zip(partner, covered)], dtype=np.int64)
            elif m.kind in ("item", "retaliation"):
                default = self._param(f"{m.id}.rate", m.rate)
                index = {key: self._param(f"{m.id}.rates.{key}", v) for key, v in m.rates.items()}
                plan.param = np.array([index.get(self._rate_key(p, m.rates) or "", default) if cov else -1
                                       for p, cov in zip(partner, covered)], dtype=np.int64)
                plan.all_in, plan.precedence = m.all_in, m.precedence
            elif m.kind in ("floor", "cap"):
                plan.param = np.where(covered, self._param(f"{m.id}.rate", m.rate), -1)
            elif m.kind == "quota":
                plan.param = np.where(covered, self._param(f"{m.id}.in_quota_rate", m.in_quota_rate), -1)
                plan.second = np.where(covered, self._param(f"{m.id}.over_quota_rate", m.over_quota_rate), -1)
                usd = np.where(self.cells["line_data"], self.cells["weight"] / 1e6, 0.0)
                sector_cells = ~self.cells["line_data"] & covered
                flows = self.world.flows[self.cells["exporter"], self.cells["importer"], self.cells["sector"]]
                volume = usd[covered].sum() + (flows * self.cells["weight"])[sector_cells].sum()
                plan.excess = max(1.0 - m.quota / volume, 0.0) if volume > 0 else 0.0
            elif m.kind == "exemption":
                lifted = m.measures or tuple(x for x in ids if self.tariff_measures[ids.index(x)].kind != "exemption")
                plan.lifts = tuple(ids.index(x) for x in lifted if x in ids)
            plans.append(plan)
        self.plans = plans
        self.ZERO = self._param("(zero)", 0.0)
        for plan in plans:
            for attr in ("param", "second"):
                arr = getattr(plan, attr)
                if arr is not None:
                    setattr(plan, attr, np.where(arr < 0, self.ZERO, arr))

    def _build_aggregation(self) -> None:
        n, s = self.world.n_countries, self.world.n_sectors
        cells = self.cells
        group = (cells["exporter"] * n + cells["importer"]) * s + cells["sector"]
        self.groups, ginv = np.unique(group, return_inverse=True)
        params = [p.param for p in self.plans]
        seconds = [p.second for p in self.plans]
        self._full = _Layout(cells["base"], self.cover, params, seconds, self._weights(ginv, cells["weight"]))
        # compact layout for evaluate(): cells that differ only by partner or by a base rate no
        # duty depends on are merged (the customs tables by partner keep the full layout)
        nonlinear = np.array([p.kind in ("floor", "cap") or p.all_in for p in self.plans], dtype=bool)
        needs_base = self.cover[:, nonlinear].any(axis=1) if nonlinear.any() else np.zeros(len(ginv), dtype=bool)
        base_key = np.where(needs_base, np.round(cells["base"] * 1e9), -1).astype(np.int64)
        columns = [ginv, base_key, *(np.packbits(self.cover, axis=1).astype(np.int64).T if self.cover.shape[1] else [])]
        columns += [a for a in params + seconds if a is not None]
        key = pd.DataFrame(np.column_stack(columns))
        inv = key.groupby(list(key.columns), sort=True).ngroup().to_numpy() if len(key) else np.zeros(0, int)
        c = int(inv.max()) + 1 if len(inv) else 0
        _, first = np.unique(inv, return_index=True)
        w = cells["weight"]
        weight = np.bincount(inv, weights=w, minlength=c)
        count = np.bincount(inv, minlength=c)
        with np.errstate(invalid="ignore", divide="ignore"):
            # weighted mean base of merged cells: sum w b / sum w (equal weights if no trade)
            base = np.where(weight > 0, np.bincount(inv, weights=w * cells["base"], minlength=c) / np.where(weight > 0, weight, 1.0),
                            np.bincount(inv, weights=cells["base"], minlength=c) / np.maximum(count, 1))
        self._compact = _Layout(base, self.cover[first], [None if a is None else a[first] for a in params],
                                [None if a is None else a[first] for a in seconds], self._weights(ginv[first], weight))
        # base rates through the same (compact) layout as evaluate(), so that a zero shock gives
        # tariff_new == tariff_base exactly, not up to the rounding of a different summation
        self.tariff_base = self._to_world(self._compact.base[None, :], self._compact)[0]

    def _weights(self, ginv: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
        """(G, C) matrix of each cell's share of its world group's trade (equal shares where none)."""
        g = len(self.groups)
        total = np.bincount(ginv, weights=w, minlength=g)
        count = np.bincount(ginv, minlength=g)
        share = np.where(total[ginv] > 0, w / np.where(total[ginv] > 0, total[ginv], 1.0), 1.0 / np.maximum(count[ginv], 1))
        return sp.csr_matrix((share, (ginv, np.arange(len(w)))), shape=(g, len(w)))

    def _to_world(self, cell_rates: np.ndarray, layout: _Layout) -> np.ndarray:
        """(B, C) cell rates → (B, n, n, S) trade-weighted rates; 0 where no cell."""
        n, s = self.world.n_countries, self.world.n_sectors
        b = cell_rates.shape[0]
        out = np.zeros((b, n * n * s))
        if len(self.groups):
            # t[g] = sum_c w_cg t_c / sum_c w_cg  (weights normalised in _agg)
            out[:, self.groups] = (layout.agg @ cell_rates.T).T
        return out.reshape(b, n, n, s)

    # --------------------------------------------------------------- evaluate
    def _as_batch(self, theta) -> np.ndarray:
        if theta is None:
            theta = self.defaults
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1:
            theta = theta[None]
        p = len(self._names)
        if theta.shape[-1] != p:
            raise DataError(f"parameter array has {theta.shape[-1]} columns; this schedule has {p} ({shorten_list(self._names)}).")
        theta = theta.copy()
        theta[:, self.ZERO] = 0.0
        return theta

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
        """
        return self._rates(self._as_batch(theta), self._full, applied)

    def _rates(self, theta: np.ndarray, layout: _Layout, applied: bool = False):
        if applied:
            return self._cell_rates(theta, layout, applied=True)
        # sub-batches small enough for the temporaries to stay in cache (~4 MB each)
        step = max(1, (1 << 19) // max(len(layout.base), 1))
        if theta.shape[0] <= step:
            return self._cell_rates(theta, layout)
        return np.concatenate([self._cell_rates(theta[k:k + step], layout) for k in range(0, theta.shape[0], step)])

    def _cell_rates(self, theta: np.ndarray, layout: _Layout, applied: bool = False):
        bsz, c = theta.shape[0], len(layout.base)
        base = layout.base[None, :]
        cover = layout.cover
        on = theta[:, [p.enabled for p in self.plans]] > 0.5 if self.plans else np.zeros((bsz, 0), bool)
        lifted: dict[int, np.ndarray] = {}
        for k, plan in enumerate(self.plans):
            if plan.kind == "exemption":
                region = cover[None, :, k] & on[:, k, None]
                for target in plan.lifts:
                    lifted[target] = lifted.get(target, np.zeros((bsz, c), dtype=bool)) | region
        for k, plan in enumerate(self.plans):
            for ref in plan.exempt_refs:  # exempt = ["measure:ID"]: out where ID is on and covers
                region = cover[None, :, ref] & on[:, ref, None]
                lifted[k] = lifted.get(k, np.zeros((bsz, c), dtype=bool)) | region
        recip = np.zeros((bsz, c))
        floor = np.zeros((bsz, c))
        floor_on = np.zeros((bsz, c), dtype=bool)
        item = np.zeros((bsz, c))
        level = np.full((bsz, c), -np.inf)
        active_by = {}
        caps = []
        for k, plan in enumerate(self.plans):
            if plan.kind == "exemption":
                continue
            cols = layout.cols[k]  # work only on the cells the measure covers
            act = np.repeat(on[:, k, None], base[:, cols].shape[1], axis=1)
            if k in lifted:
                act &= ~lifted[k][:, cols]
            active_by[k] = (cols, act)
            r = theta[:, layout.params[k][cols]]
            b = base[:, cols]
            if plan.kind == "reciprocal":
                recip[:, cols] += np.where(act, r, 0.0)  # reciprocal duties add up
            elif plan.kind == "floor":
                duty = np.maximum(r - b, 0.0)  # all-in floor: max(floor, base) - base
                floor[:, cols] = np.where(act, np.maximum(floor[:, cols], duty), floor[:, cols])
                floor_on[:, cols] |= act
            elif plan.kind == "cap":
                caps.append((cols, act, r))
            else:  # item, retaliation, quota
                if plan.kind == "quota":
                    # in-quota rate on the first Q, over-quota beyond: t_in + (t_out - t_in) * excess share
                    r = r + (theta[:, layout.seconds[k][cols]] - r) * plan.excess
                duty = np.maximum(r - b, 0.0) if plan.all_in else r
                lvl, cur = level[:, cols], item[:, cols]
                higher = act & (plan.precedence > lvl)
                same = act & (plan.precedence == lvl)
                item[:, cols] = np.where(higher, duty, np.where(same, combine_items(cur, duty, self.rule), cur))
                level[:, cols] = np.where(higher, plan.precedence, lvl)
        recip = np.where(floor_on, floor, recip)
        item_on = level > -np.inf
        total = base + combine_with_reciprocal(item, item_on, recip, self.rule)
        for cols, act, r in caps:
            b = base[:, cols]
            total[:, cols] = np.where(act, np.minimum(total[:, cols], np.maximum(r, b)), total[:, cols])
        if not applied:
            return total
        masks = {}
        for k, plan in enumerate(self.plans):
            if plan.kind == "exemption":
                masks[plan.id] = cover[None, :, k] & on[:, k, None]
                continue
            cols, act_cols = active_by[k]
            act = np.zeros((bsz, c), dtype=bool)
            act[:, cols] = act_cols
            if plan.kind == "reciprocal":
                masks[plan.id] = act & ~floor_on & (~item_on if self.rule == "mutual_exclusion" else True)
            elif plan.kind == "floor":
                masks[plan.id] = act & (~item_on if self.rule == "mutual_exclusion" else True)
            elif plan.kind == "cap":
                masks[plan.id] = act
            else:
                masks[plan.id] = act & (level == plan.precedence)
        return total, masks

    def evaluate(self, theta=None) -> np.ndarray:
        """New tariff rates, shape (B, n, n, S), for parameter vectors ``theta`` (B, P)."""
        return self._to_world(self._rates(self._as_batch(theta), self._compact), self._compact)

    # -------------------------------------------------------- non-tariff shocks
    def _build_other_shocks(self) -> None:
        world, geo = self.world, self.geo
        n, s = world.n_countries, world.n_sectors
        sec_idx = {c: k for k, c in enumerate(world.sectors)}
        self._other: list[tuple[str, int, int, np.ndarray]] = []  # (field, size parameter, switch, pattern)

        def sectors_mask(codes):
            mask = np.zeros(s)
            for code in codes or world.sectors:
                if code in sec_idx:
                    mask[sec_idx[code]] = 1.0
            return mask

        def switch(m):
            return self._param(f"{m.id}.enabled", 1.0)

        def one(code, what):
            k = geo.to_world(code)
            if k is None:
                raise DataError(f"{what} {code!r} has no country in this world {shorten_list(world.countries)}.")
            return k

        for m in self.other_measures:
            if m.kind == "ntb":
                pattern = np.zeros((n, n, s))
                j = one(m.importer, f"measure {m.id}: importer")
                ex = sorted(geo.world_indices(m.partners)) if m.partners else [i for i in range(n) if i != j]
                pattern[np.ix_(ex, [j], np.arange(s))] = sectors_mask(m.sectors)[None, None, :]
                self._other.append(("ntb", self._param(f"{m.id}.rate", m.rate), switch(m), pattern))
            elif m.kind == "productivity":
                pattern = np.zeros((n, s))
                pattern[one(m.country, f"measure {m.id}: country")] = sectors_mask(m.sectors)
                self._other.append(("productivity", self._param(f"{m.id}.change", m.change), switch(m), pattern))
            elif m.kind == "deficit":
                pattern = np.zeros(n)
                pattern[one(m.recipient, f"measure {m.id}: recipient")] += 1.0
                pattern[one(m.payer, f"measure {m.id}: payer")] -= 1.0
                self._other.append(("deficit_change", self._param(f"{m.id}.amount", m.amount), switch(m), pattern))
            elif m.kind == "purchase":
                i, j = one(m.exporter, f"measure {m.id}: exporter"), one(m.importer, f"measure {m.id}: importer")
                mask = sectors_mask(m.sectors)
                flow = world.flows[i, j] * mask
                shares = flow / flow.sum() if flow.sum() > 0 else mask / mask.sum()
                pattern = np.zeros((n, n, s))
                pattern[i, j] = shares  # the amount is spread over the sectors by baseline flows
                self._other.append(("demand_shift", self._param(f"{m.id}.amount", m.amount), switch(m), pattern))
            elif m.kind == "currency":
                pattern = np.zeros(n)
                pattern[one(m.country, f"measure {m.id}: country")] = m.pass_through
                self._other.append(("currency", self._param(f"{m.id}.appreciation", m.appreciation), switch(m), pattern))

    def shocks(self, theta=None, scenarios: Sequence[str] | None = None) -> Shocks:
        """Shocks for a batch of parameter vectors (default: the scenario as written)."""
        theta = self._as_batch(theta)
        bsz = theta.shape[0]
        fields: dict[str, np.ndarray] = {}
        for name, p, on, pattern in self._other:
            # shock = sum_m enabled_m * theta_m * pattern_m
            size = theta[:, p] * (theta[:, on] > 0.5)
            term = size.reshape((bsz,) + (1,) * pattern.ndim) * pattern[None]
            fields[name] = fields.get(name, 0.0) + term
        if "productivity" in fields:
            fields["productivity"] = 1.0 + fields["productivity"]
        if scenarios is None:
            scenarios = [self.scenario.name] if bsz == 1 else [f"{self.scenario.name}#{k}" for k in range(bsz)]
        return Shocks(
            self.world, tuple(scenarios),
            np.broadcast_to(self.tariff_base, (bsz,) + self.tariff_base.shape),  # read-only view, no copy
            self.evaluate(theta), warnings=self.warnings, **fields,
        )

    # ------------------------------------------------------------- accounting
    def line_accounting(self, theta=None):
        """Customs-weighted duties by US import partner (line data only).

        Returns
        -------
        dict with ``partner`` (codes), ``value`` (USD), ``duty_base`` and ``duty_new``
        (B, partners) in USD, and ``applied`` {measure id: (B, partners) USD covered}.
        """
        total, masks = self.cell_rates(theta, applied=True)
        line = self.cells["line_data"]
        partners, inv = np.unique(self.cells["partner"][line], return_inverse=True)
        w = self.cells["weight"][line]
        p = len(partners)
        # aggregation matrix partner x cell: duty_p = sum_c w_c t_c
        agg = sp.csr_matrix((w, (inv, np.arange(len(w)))), shape=(p, len(w)))
        value = np.bincount(inv, weights=w, minlength=p)
        duty_new = (agg @ total[:, line].T).T
        duty_base = agg @ self.cells["base"][line]
        applied = {mid: (agg @ mask[:, line].T.astype(float)).T for mid, mask in masks.items()}
        return {"partner": partners, "value": value, "duty_base": duty_base, "duty_new": duty_new, "applied": applied}


def prepare_schedule(scenario, world: TradeWorld | None = None, *, date: dt.date | None = None,
                     lines: ProductLines | None = None, all_dates: bool = False) -> CompiledSchedule:
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
    """
    if world is None:
        from ..datasets import load_world

        world = load_world(scenario.world.regions, keep=scenario.world.keep)
    return CompiledSchedule(scenario, world, date=date, lines=lines, all_dates=all_dates)


def compile_schedule(scenarios, world: TradeWorld | None = None, *, date: dt.date | None = None) -> Shocks:
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
    parts = [prepare_schedule(s, world, date=date).shocks() for s in scenarios]
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
