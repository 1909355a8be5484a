"""The consumer-price model: what a tariff schedule costs American households.

Chain (after Barbiero & Stein 2025 and the Budget Lab at Yale's Tariff-Model; own code):

1. tariff change by US import line (HS10 x partner) from the compiled schedule;
2. trade-weighted change by BEA summary commodity, ``tau_c = sum_l w_l dt_l / sum_l w_l``
   (w = 2024 customs value; HS10 -> BEA detail -> summary);
3. import, domestic and consumption prices by commodity through the 2024 input-output table
   (:mod:`tariffsim.kernels.prices`: pass-through ``rho``, domestic pricing ``delta``);
4. purchasers' prices of the 76 PCE lines through the 2024 PCE bridge (margins unchanged);
   the PCE price level (purchasers'-value weights);
5. households: ``cost = dP x PCE / households`` and by income decile (BEA distribution of PCE
   by decile for 16 NIPA groups; CBO income after transfers and taxes).

Pre-substitution uses 2024 import weights and shares. Post-substitution (``substitution=``
``"smart"``, ``"gsim"`` or ``"ge"``) runs that trade model on the same shocks and re-weights every
line by its flow's change ``M'/M`` (exporter x ICIO sector into the US): the commodity tariffs
become post-substitution ETRs, and the imported shares ``s`` of consumption and of every input
cell become ``s g / (s g + 1 - s)`` with ``g_c`` the change of commodity c's imports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets import load_us_product_lines
from ..datasets.prices import PricesData, load_prices_data
from ..errors import DataError
from ..kernels.prices import (
    bridge_prices,
    commodity_prices,
    group_sum,
    household_costs,
    io_split,
)
from ..results import Result
from ..shocks import Shocks
from .prices_lines import GroupDuties, commodity_duties
from .prices_tables import build_result, format_prices_report

__all__ = ["format_prices_report", "price_chain", "run_prices", "substitution_model"]

US = "USA"


def substitution_model(name: str | None) -> str | None:
    """Check ``substitution=``: None or a registered trade model with elasticities (it reports new flows)."""
    if name is None:
        return None
    from .registry import get_model, model_names

    trade = [m for m in model_names() if get_model(m).elasticities is not None]
    if name not in trade:
        raise DataError(f"substitution={name!r}; choose None or one of {', '.join(map(repr, trade))} (a trade model "
                        "whose import changes move the weights).")
    return name


def _flow_ratio(shocks: Shocks, substitution: str, options: dict) -> np.ndarray:
    """(B, n, S) change M'/M of US imports by exporter and sector in the chosen trade model."""
    from .registry import get_model, run_model

    entry = get_model(substitution)
    method = next((o for o in entry.options if o.name == "method"), None)
    if method is not None and "exact" in (method.choices or ()):
        options = {"method": "exact", **options}  # tariff changes of 10-50 pp: not first-order
    res = run_model(substitution, shocks, **options)
    us = shocks.world.country_index(US)
    new, base = res.flow["flow_new"][:, :, us, :], res.flow["flow_base"][:, :, us, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(base > 0, new / np.where(base > 0, base, 1.0), 1.0)


def _adjust(share: np.ndarray, growth: np.ndarray) -> np.ndarray:
    """Imported share after imports change by ``growth``: s g / (s g + 1 - s)."""
    num = share * growth
    den = num + 1.0 - share
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def price_chain(tau: np.ndarray, data: PricesData, *, pass_through=1.0, domestic_pricing=0.0,
                growth: np.ndarray | None = None, households: float | None = None,
                margins: str = "constant_dollar") -> dict:
    """Commodity tariff changes (B, K) -> commodity, PCE line, group and decile price effects.

    ``growth`` (B, K): change of each commodity's imports (post-substitution); None = 2024 shares.
    Returns a dict of arrays (decimal price changes; costs in USD per household per year).
    """
    if growth is None:
        a_m, l_d = io_split(data.tr, data.import_share_cell)
        w_m = data.import_share_pce
    else:
        a_m, l_d = io_split(data.tr, _adjust(data.import_share_cell[None], growth[:, :, None]))
        w_m = _adjust(data.import_share_pce[None], growth)
    p_c, p_d, p_m = commodity_prices(tau, a_m, l_d, w_m, pass_through=pass_through, domestic_pricing=domestic_pricing)
    n_lines, n_groups = len(data.pce_lines), len(data.groups)
    p_line = bridge_prices(p_c, data.bridge_line, data.bridge_commodity, data.bridge_producers,
                           data.bridge_purchasers, n_lines, margins=margins)
    pce_line = np.bincount(data.bridge_line, weights=data.bridge_purchasers, minlength=n_lines)
    pce_group = group_sum(pce_line, data.line_group, n_groups)
    p_group = group_sum(p_line * pce_line, data.line_group, n_groups) / pce_group
    level = (p_line * pce_line).sum(axis=-1) / pce_line.sum()  # P = sum_n PUR_n P_n / sum_n PUR_n
    hh = (households or data.households_mn) * 1e6
    decile = household_costs(p_group, pce_group * 1e6, data.group_decile_share, hh)
    return {"commodity": p_c, "domestic": p_d, "imported": p_m, "line": p_line, "pce_line": pce_line,
            "group": p_group, "level": level, "cost": level * pce_line.sum() * 1e6 / hh, "decile": decile,
            "burden": decile / data.decile_income}


def run_prices(shocks: Shocks, schedules=None, *, pass_through: float = 1.0, domestic_pricing: float = 0.0,
               substitution: str | None = None, substitution_options: dict | None = None,
               substitution_shares: bool = True, households: float | None = None,
               margins: str = "constant_dollar", top: int = 20) -> Result:
    """Consumer prices and household costs of a batch of scenarios (US tariffs).

    Parameters
    ----------
    shocks : Shocks
        B compiled scenarios.
    schedules : sequence of CompiledSchedule
        One per scenario (or one for all): the US line-level rates come from them.
    pass_through : float
        Share of the tariff passed on to import prices, ``rho`` in [0, 1] (default 1).
    domestic_pricing : float
        ``delta``: domestic producers raise their prices by ``delta`` times the import price
        change of their commodity, beyond their cost increase (default 0: cost push only).
    substitution : str or None
        Also compute post-substitution effects with the import changes of this trade model of the
        registry (one with trade elasticities: the PE models or 'ge').
    substitution_options : dict, optional
        Passed to the trade model (e.g. ``params``, ``method``, ``trade_elasticity``); SMART runs
        with ``method="exact"`` unless told otherwise.
    substitution_shares : bool
        Post-substitution also moves the imported shares of PCE and of the input cells with
        the imports (default); ``False``: only the tariff weights move (post-substitution ETR).
    households : float, optional
        Number of US households, millions (default: CBO 2021, 131.3).
    margins : {"constant_dollar", "constant_percentage"}
        Distribution margins unchanged in USD (default) or proportional to producer prices.
    top : int
        Number of PCE lines in ``prices_by_category`` ranked by price change (all lines are kept;
        column ``rank``).

    Returns
    -------
    Result
        Country columns (USA only; NaN elsewhere): ``price_level_pct``, ``cost_per_household_usd``
        (and ``*_post_*`` with substitution), ``etr``, ``etr_base``. Tables ``prices_summary``,
        ``prices_by_category``, ``prices_by_commodity``, ``households_by_decile``.
    """
    if schedules is None:
        raise DataError("the prices model needs the compiled schedules (US import lines): run it with "
                        "simulate(world, scenario, 'prices') or pass schedules=[prepare_schedule(...)].")
    substitution_model(substitution)
    if margins not in ("constant_dollar", "constant_percentage"):
        raise DataError(f"margins={margins!r}; choose 'constant_dollar' or 'constant_percentage'.")
    for name, value in (("pass_through", pass_through), ("domestic_pricing", domestic_pricing)):
        if not 0.0 <= float(value) <= 1.0:
            raise DataError(f"{name}={value}: must be between 0 and 1.")
    schedules = list(schedules)
    if len(schedules) == 1 and shocks.batch_size > 1:
        schedules = schedules * shocks.batch_size
    if len(schedules) != shocks.batch_size:
        raise DataError(f"{len(schedules)} schedules for a batch of {shocks.batch_size} scenarios.")
    data = load_prices_data()
    k = len(data.commodities)
    ratio = _flow_ratio(shocks, substitution, substitution_options or {}) if substitution else None
    lines = load_us_product_lines()
    com_line = data.commodity_of(lines.hs10)
    pre_rows, post_rows = [], []
    for b, sched in enumerate(schedules):
        gd = commodity_duties(sched, com_line, by_sector=ratio is not None, lines=lines)
        pre_rows.append(_aggregate(gd, np.ones_like(gd.value), k))
        if ratio is not None:
            post_rows.append(_aggregate(gd, _group_ratio(sched, gd, ratio[b]), k))
    tau, den, etr_base, etr, unmapped = (np.array(x) for x in zip(*pre_rows))
    opts = {"pass_through": pass_through, "domestic_pricing": domestic_pricing, "households": households,
            "margins": margins}
    pre = price_chain(tau, data, **opts)
    post = None
    if ratio is not None:
        tau1, den1, _, etr1, _ = (np.array(x) for x in zip(*post_rows))
        growth = np.where(den > 0, den1 / np.where(den > 0, den, 1.0), 1.0)  # g_c = M'_c / M_c
        post = price_chain(tau1, data, growth=growth if substitution_shares else None, **opts)
        post["tau"], post["etr"] = tau1, etr1
    return build_result(shocks, data, tau, pre, post, etr_base, etr, {
        "pass_through": pass_through, "domestic_pricing": domestic_pricing, "substitution": substitution,
        "households_mn": households or data.households_mn, "margins": margins,
        "substitution_shares": substitution_shares if substitution else None,
        "unmapped_import_share": float(unmapped[0]), "top": top})


def _aggregate(gd: GroupDuties, r: np.ndarray, k: int):
    """Commodity tariff changes and ETRs with group x partner weights moved by ``r`` (1: 2024 weights).

    ``tau_c = sum_{g in c, p} r_gp (D'_gp - D_gp) / sum_{g in c, p} r_gp V_gp`` (D duties, V value).
    """
    change = gd.duty_new[0] - gd.duty_base
    ok = gd.commodity >= 0
    onehot = np.zeros((len(gd.commodity), k))
    onehot[np.flatnonzero(ok), gd.commodity[ok]] = 1.0
    num = (r * change).sum(1) @ onehot
    den = (r * gd.value).sum(1) @ onehot
    tau = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    total = max(float((r * gd.value).sum()), 1.0)
    etr_base = float((r * gd.duty_base).sum()) / total
    etr = float((r * gd.duty_new[0]).sum()) / total
    unmapped = float(gd.value[~ok].sum() / max(gd.value.sum(), 1.0))
    return tau, den, etr_base, etr, unmapped


def _group_ratio(schedule, gd: GroupDuties, ratio: np.ndarray) -> np.ndarray:
    """(G, P) flow change M'/M of each group's sector and partner (1 where the world has no match)."""
    world, geo = schedule.world, schedule.geo
    exp = np.array([-1 if (x := geo.to_world(p)) is None else x for p in gd.partner])
    index = {s: j for j, s in enumerate(world.sectors)}
    sec = np.array([index.get(s, -1) for s in gd.sector])
    out = ratio[np.clip(exp, 0, None)[None, :], np.clip(sec, 0, None)[:, None]]
    return np.where((exp[None, :] >= 0) & (sec[:, None] >= 0), out, 1.0)


def commodity_frame(data: PricesData) -> pd.DataFrame:
    """Commodities with their 2024 imports, PCE and imported share of PCE (for reports)."""
    return pd.DataFrame({"commodity": data.commodities, "name": data.commodity_names,
                         "imports_usd_bn": data.imports / 1e3, "pce_usd_bn": data.pce_commodity / 1e3,
                         "import_share_pce": data.import_share_pce})
