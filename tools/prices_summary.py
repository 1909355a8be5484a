"""Measure the prices model: one row per (scenario file, date, configuration).

Usage::

    PYTHONPATH=$PWD python tools/prices_summary.py FILE[,FILE...] DATE[,DATE...] [pre,pct,smart,ge,dp0.5]

An empty DATE uses the scenario's own ``effective`` date. Configurations: ``pre`` (defaults),
``pct`` (constant-percentage margins), ``smart``/``ge`` (post-substitution with that model),
``dp0.5`` (domestic pricing 0.5), ``ge_etr`` (GE substitution of the tariff weights only).
"""
import datetime as dt
import sys
import warnings

from tariffsim.models.prices import run_prices
from tariffsim.scenario import load_scenario
from tariffsim.schedule import prepare_schedule

warnings.simplefilter("ignore")
files, dates = sys.argv[1].split(","), [d or None for d in sys.argv[2].split(",")]
configs = {"pre": {}, "smart": {"substitution": "smart"}, "ge": {"substitution": "ge"},
           "ge_etr": {"substitution": "ge", "substitution_shares": False},
           "pct": {"margins": "constant_percentage"}, "dp0.5": {"domestic_pricing": 0.5}}
pick = sys.argv[3].split(",") if len(sys.argv) > 3 else list(configs)
print("scenario | date | config | ETR % | dETR pp | ETR post % | price level % | post % | USD/household | post USD"
      " | d1 burden % | d10 burden % | ratio")
for f in files:
    s = load_scenario(f)
    for d in dates:
        sc = prepare_schedule(s, date=dt.date.fromisoformat(d) if d else None)
        for name in pick:
            r = run_prices(sc.shocks(), [sc], **configs[name]).tables["prices_summary"].iloc[0]
            post = "etr_post" in r
            print(f"{s.name} | {d or s.effective} | {name} | {100*r.etr:.2f} | {r.etr_change_pp:.2f} | "
                  f"{100*r.etr_post if post else float('nan'):.2f} | {r.price_level_pct:.3f} | "
                  f"{r.price_level_post_pct if post else float('nan'):.3f} | {r.cost_per_household_usd:,.0f} | "
                  f"{r.cost_per_household_post_usd if post else float('nan'):,.0f} | {r.burden_lowest_pct:.2f} | "
                  f"{r.burden_top_pct:.2f} | {r.burden_ratio_lowest_top:.2f}", flush=True)
