"""Result tables and the text report of the consumer-price model (:mod:`tariffsim.models.prices`).

Column names and units are defined once in :data:`tariffsim.results.PRICES_TABLE_COLUMNS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets.prices import PricesData
from ..results import Result
from ..shocks import Shocks

__all__ = ["build_result", "format_prices_report"]

US = "USA"


def _us_column(shocks: Shocks, values: np.ndarray) -> np.ndarray:
    out = np.full((shocks.batch_size, shocks.world.n_countries), np.nan)
    out[:, shocks.world.country_index(US)] = values
    return out


def _summary(name, k, data, pre, post, etr_base, etr) -> dict:
    burden = pre["burden"][k]
    row = {"scenario": name, "etr_base": etr_base[k], "etr": etr[k], "etr_change_pp": 100 * (etr[k] - etr_base[k]),
           "price_level_pct": 100 * pre["level"][k], "cost_per_household_usd": pre["cost"][k],
           "pce_usd_bn": data.pce_total / 1e3,
           "burden_lowest_pct": 100 * burden[0], "burden_top_pct": 100 * burden[-1],
           "burden_ratio_lowest_top": burden[0] / burden[-1] if burden[-1] else np.nan}
    if post is not None:
        row.update({"etr_post": post["etr"][k], "price_level_post_pct": 100 * post["level"][k],
                    "cost_per_household_post_usd": post["cost"][k],
                    "burden_ratio_lowest_top_post": post["burden"][k][0] / post["burden"][k][-1]
                    if post["burden"][k][-1] else np.nan})
    return row


def build_result(shocks: Shocks, data: PricesData, tau, pre, post, etr_base, etr, options: dict) -> Result:
    """Assemble the standard Result of the price model (country columns for the USA only)."""
    country = {"etr_base": _us_column(shocks, etr_base), "etr": _us_column(shocks, etr),
               "price_level_pct": _us_column(shocks, 100 * pre["level"]),
               "cost_per_household_usd": _us_column(shocks, pre["cost"])}
    if post is not None:
        country["price_level_post_pct"] = _us_column(shocks, 100 * post["level"])
        country["cost_per_household_post_usd"] = _us_column(shocks, post["cost"])
    names = {g: t for g, t in zip(range(len(data.groups)), data.group_names)}
    hh = options["households_mn"] * 1e6
    summary, cats, comms, dec = [], [], [], []
    for k, name in enumerate(shocks.scenarios):
        summary.append(_summary(name, k, data, pre, post, etr_base, etr))
        cat = pd.DataFrame({"scenario": name, "nipa_line": data.pce_lines, "category": data.pce_line_names,
                            "group": [names[g] for g in data.line_group], "pce_usd_bn": pre["pce_line"] / 1e3,
                            "price_change_pct": 100 * pre["line"][k],
                            "cost_per_household_usd": pre["line"][k] * pre["pce_line"] * 1e6 / hh})
        if post is not None:
            cat["price_change_post_pct"] = 100 * post["line"][k]
        # rank by the change to 10 decimals (of a percent): categories with the same commodity mix
        # tie, and keep their NIPA order, whatever the rounding of the sums that gave them
        order = np.argsort(-np.round(cat["price_change_pct"].to_numpy(), 10), kind="stable")
        cat = cat.iloc[order]
        cat["rank"] = np.arange(1, len(cat) + 1)
        cats.append(cat)
        com = pd.DataFrame({"scenario": name, "commodity": data.commodities, "name": data.commodity_names,
                            "imports_usd_bn": data.imports / 1e3, "import_share_pce": data.import_share_pce,
                            "tariff_change_pp": 100 * tau[k], "import_price_pct": 100 * pre["imported"][k],
                            "domestic_price_pct": 100 * pre["domestic"][k],
                            "consumer_price_pct": 100 * pre["commodity"][k]})
        if post is not None:
            com["tariff_change_post_pp"] = 100 * post["tau"][k]
            com["consumer_price_post_pct"] = 100 * post["commodity"][k]
        comms.append(com)
        d = pd.DataFrame({"scenario": name, "decile": np.arange(1, 11), "income_usd": data.decile_income,
                          "cost_usd": pre["decile"][k], "cost_share_of_income_pct": 100 * pre["burden"][k]})
        if post is not None:
            d["cost_post_usd"] = post["decile"][k]
            d["cost_share_of_income_post_pct"] = 100 * post["burden"][k]
        dec.append(d)
    tables = {"prices_summary": pd.DataFrame(summary), "prices_by_category": pd.concat(cats, ignore_index=True),
              "prices_by_commodity": pd.concat(comms, ignore_index=True),
              "households_by_decile": pd.concat(dec, ignore_index=True)}
    world = shocks.world
    provenance = {"world": world.name, "source": "BEA 2024 input-output (summary) and PCE bridge; CBO household "
                  "income 2021; BEA distribution of PCE by decile 2023; US Census 2024 import lines",
                  "weights": "post-substitution: " + options["substitution"] if options["substitution"]
                  else "2024 import weights and shares (pre-substitution)",
                  "warnings": list(shocks.warnings), **options}
    return Result("prices", shocks.scenarios, world.countries, world.sectors, country, {},
                  provenance=provenance, tables=tables)


def _money(x: float) -> str:
    return f"USD {x:,.0f}"


def format_prices_report(result: Result, top: int = 20) -> str:
    """A readable text report of a price-model Result (one block per scenario)."""
    out = []
    summary = result.tables["prices_summary"]
    cats, dec = result.tables["prices_by_category"], result.tables["households_by_decile"]
    post = "price_level_post_pct" in summary
    for _, row in summary.iterrows():
        name = row["scenario"]
        out.append(f"Consumer prices and households — {name}")
        out.append(f"  US tariff ETR on 2024 imports: {100 * row['etr_base']:.2f}% -> {100 * row['etr']:.2f}% "
                   f"(+{row['etr_change_pp']:.2f} pp)"
                   + (f"; post-substitution {100 * row['etr_post']:.2f}%" if post else ""))
        out.append(f"  PCE price level: +{row['price_level_pct']:.2f}%"
                   + (f" (post-substitution +{row['price_level_post_pct']:.2f}%)" if post else ""))
        out.append(f"  Cost per household per year: {_money(row['cost_per_household_usd'])}"
                   + (f" (post-substitution {_money(row['cost_per_household_post_usd'])})" if post else ""))
        out.append(f"  Burden, lowest vs top income decile: {row['burden_lowest_pct']:.2f}% vs "
                   f"{row['burden_top_pct']:.2f}% of after-tax income (ratio {row['burden_ratio_lowest_top']:.2f})")
        d = dec[dec["scenario"] == name]
        out.append("")
        out.append("  Decile  Income (USD)  Cost (USD/yr)  Share of income")
        for _, r in d.iterrows():
            out.append(f"  {int(r['decile']):>6}  {r['income_usd']:>12,.0f}  {r['cost_usd']:>13,.0f}  "
                       f"{r['cost_share_of_income_pct']:>14.2f}%")
        c = cats[cats["scenario"] == name].nsmallest(top, "rank")
        out.append("")
        out.append(f"  {min(top, len(c))} PCE categories with the largest price increase")
        out.append(f"  {'Category':<58} {'PCE USD bn':>10} {'Price':>8} {'USD/household':>13}")
        for _, r in c.iterrows():
            out.append(f"  {str(r['category'])[:58]:<58} {r['pce_usd_bn']:>10,.1f} {r['price_change_pct']:>7.2f}% "
                       f"{r['cost_per_household_usd']:>13,.0f}")
        out.append("")
    p = result.provenance
    out.append(f"Pass-through {p.get('pass_through')}, domestic pricing {p.get('domestic_pricing')}, "
               f"households {p.get('households_mn')} mn; {p.get('weights')}.")
    return "\n".join(out)
