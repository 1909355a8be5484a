"""Korea and the 2025 US tariffs in the Liberation Day model: best responses and a tariff war.

Run from the repository root:

    python examples/korea_tariff_war.py [--world icio81|region10]

On the embedded OECD ICIO 2022 world (81 economies, sectors aggregated to one: flows summed,
tariffs weighted by 2022 flows) and the model of Ignatenko, Macedoni, Lashkaripour &
Simonovska (JIE 2025; ε = 4, κ = 0.5, income-tax relief, deficits a fixed share of world GDP),
for the US schedules of scenarios/korea_us_2025 (Liberation Day, the 15% deal), one sector:

1. the schedule as is (no retaliation);
2. Korea's optimal retaliation: the uniform tariff on imports from the US that maximises
   Korea's welfare, the US schedule given;
3. the US optimal tariff on Korea: the uniform US tariff on Korean goods that maximises US
   welfare, everything else as in the schedule, no retaliation;
4. the Nash equilibrium of a US–Korea tariff war: each sets its bilateral tariff optimally
   given the other's (one first-order condition each, residuals printed);
5. for reference, the schedule in the 28-sector version of the model (labour mobile across
   sectors, ε = 4 in every sector; rates shown are the one-sector trade-weighted ones).

Prints the table (units in the header) and writes docs/figures/korea_tariff_war.png.
In the one-sector aggregate a "tariff on imports from the US" applies to all of them,
services included (ICIO flows), so rates are averages over goods and services trade.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import tariffsim  # noqa: E402
from tariffsim.models.ld import run_ld, setup  # noqa: E402
from tariffsim.optimal import optimal_retaliation, optimal_tariff, tariff_war  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KOREA = ROOT / "scenarios" / "korea_us_2025"
FIGURES = ROOT / "docs" / "figures"
SCHEDULES = {"liberation_day": "Liberation Day (Apr 2025)", "deal_15pct": "15% deal (Jul 2025)"}
OUTCOMES = ["schedule, no retaliation", "+ Korea's optimal retaliation", "US optimal tariff on Korea",
            "Nash US-Korea tariff war", "schedule, 28-sector model (reference)"]


def _row(schedule, outcome, result, us_rate, kor_rate, residual):
    f = result.country_frame().set_index("country")
    return {
        "US schedule": schedule, "outcome": outcome,
        "US tariff on KOR (%)": 100 * us_rate, "KOR tariff on US (%)": 100 * kor_rate,
        "welfare USA (%)": f.loc["USA", "welfare_pct"], "welfare KOR (%)": f.loc["KOR", "welfare_pct"],
        "employment USA (%)": f.loc["USA", "employment_pct"], "employment KOR (%)": f.loc["KOR", "employment_pct"],
        "consumer prices USA (%)": f.loc["USA", "consumer_price_pct"],
        "consumer prices KOR (%)": f.loc["KOR", "consumer_price_pct"],
        "FOC residual (% welfare per unit tariff)": residual,
    }


def korea_table(world_name: str = "icio81", sectors: str = "aggregate") -> pd.DataFrame:
    """The outcomes for each schedule, one row each (``sectors``: model of rows 1-4)."""
    world = tariffsim.load_world(world_name)
    rows = []
    for key, label in SCHEDULES.items():
        shocks = tariffsim.prepare_schedule(tariffsim.load_scenario(KOREA / f"{key}.toml"), world).shocks()
        st = setup(shocks)
        us, kor = world.countries.index("USA"), world.countries.index("KOR")
        us_on_kor, kor_on_us = float(st.tariff_new[0, kor, us]), float(st.tariff_new[0, us, kor])
        rows.append(_row(label, OUTCOMES[0], run_ld(shocks, sectors=sectors), us_on_kor, kor_on_us, float("nan")))
        r = optimal_retaliation(shocks, "KOR", "USA", sectors=sectors)
        rows.append(_row(label, OUTCOMES[1], r.result, us_on_kor, r.rates["KOR<-USA"], r.residual["KOR<-USA"]))
        r = optimal_tariff(shocks, "USA", "KOR", sectors=sectors)
        rows.append(_row(label, OUTCOMES[2], r.result, r.rates["USA<-KOR"], kor_on_us, r.residual["USA<-KOR"]))
        r = tariff_war(shocks, ["USA", "KOR"], bilateral=True, sectors=sectors)
        rows.append(_row(label, OUTCOMES[3], r.result, r.rates["USA<-KOR"], r.rates["KOR<-USA"],
                         max(r.residual.values())))
        if sectors == "aggregate":
            multi = run_ld(shocks, sectors="multi")
            rows.append(_row(label, OUTCOMES[4], multi, us_on_kor, kor_on_us, float("nan")))
    return pd.DataFrame(rows)


def plot(table: pd.DataFrame, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    table = table[table["outcome"] != OUTCOMES[4]]
    for ax, (schedule, part) in zip(axes, table.groupby("US schedule", sort=False)):
        x = range(len(part))
        ax.bar([k - 0.2 for k in x], part["welfare USA (%)"], width=0.4, label="United States")
        ax.bar([k + 0.2 for k in x], part["welfare KOR (%)"], width=0.4, label="Korea")
        ax.set_xticks(list(x), [o.replace(", ", ",\n").replace(" tariff", "\ntariff").replace("optimal retaliation",
                                                                                       "optimal\nretaliation")
                                for o in part["outcome"]],
                      fontsize=8)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(f"US schedule: {schedule}", fontsize=10)
    axes[0].set_ylabel("welfare change (% of real income)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Korea and the 2025 US tariffs: best responses and a bilateral tariff war "
                 "(Liberation Day model, ICIO 2022, one sector)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="icio81", help="embedded world: icio81 (default) or region10")
    ap.add_argument("--sectors", default="aggregate", choices=("aggregate", "multi"),
                    help="model of the policy rows: one sector (default) or 28 sectors (slower, no figure)")
    args = ap.parse_args(argv)
    table = korea_table(args.world, args.sectors)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    resid = "FOC residual (% welfare per unit tariff)"
    shown = table.copy()
    numeric = [c for c in shown.columns if c not in ("US schedule", "outcome", resid)]
    shown[numeric] = shown[numeric].round(2)
    print(shown.to_string(index=False, formatters={resid: lambda v: "" if pd.isna(v) else f"{v:.1e}"}))
    if args.sectors == "aggregate":
        FIGURES.mkdir(parents=True, exist_ok=True)
        plot(table, FIGURES / "korea_tariff_war.png")
        print(f"wrote {FIGURES / 'korea_tariff_war.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
