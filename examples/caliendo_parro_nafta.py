"""Caliendo & Parro (2015): the welfare effects of NAFTA's tariff reductions.

Reproduces the "NAFTA tariff reductions only" exercise of CP (2015, Section 5 and
Table 2): tariffs stay at their 1993 levels everywhere except the six intra-NAFTA pairs,
which move to their 2005 levels; θ from the replication file T.txt (8.22 for the 20
non-tradable sectors); deficits purged to zero in the baseline and the counterfactual.

Usage::

    python examples/caliendo_parro_nafta.py [FOLDER]

FOLDER holds the authors' replication text files (xbilat1993.txt, tariffs1993.txt,
tariffs2005.txt, GO.txt, B.txt, IO.txt, T.txt); default ../shared/data/caliendo_parro_2015
next to this repository.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tariffsim import Shocks
from tariffsim.datasets.readers import read_caliendo_parro
from tariffsim.models.ge import run_ge

NAFTA = ("MEX", "CAN", "USA")
#: CP (2015) published numbers: welfare (= ToT + VoT), ToT, VoT, real wage, % change;
#: growth of imports from NAFTA partners, %.
PUBLISHED = {
    "MEX": (1.31, -0.41, 1.72, 1.72, 118.0),
    "CAN": (-0.06, -0.11, 0.04, 0.32, 11.0),
    "USA": (0.08, 0.04, 0.04, 0.11, 41.0),
}


def nafta_tariffs(world, tariffs_1993, tariffs_2005):
    """1993 tariffs with the six intra-NAFTA (exporter, importer) pairs at 2005 levels."""
    new = tariffs_1993.copy()
    idx = [world.country_index(c) for c in NAFTA]
    for i in idx:
        for n in idx:
            if i != n:
                new[i, n, :] = tariffs_2005[i, n, :]
    return new


def main(folder: Path) -> None:
    data = read_caliendo_parro(folder)
    world = data.world
    shocks = Shocks.from_rates(world, data.tariffs_1993, nafta_tariffs(world, data.tariffs_1993, data.tariffs_2005),
                               scenarios=("nafta_tariffs",))
    start = time.perf_counter()
    result = run_ge(shocks, data.theta, deficits="purge")
    seconds = time.perf_counter() - start
    country = result.country_frame().set_index("country")
    flows_base, flows_new = result.flow["flow_base"][0], result.flow["flow_new"][0]
    idx = {c: world.country_index(c) for c in NAFTA}
    print(f"Caliendo-Parro (2015) NAFTA tariff reductions, solved in {seconds:.1f} s "
          f"({int(result.solver.iterations[0])} wage iterations incl. purging deficits)\n")
    head = f"{'':5}{'welfare':>17}{'terms of trade':>17}{'volume of trade':>17}{'real wage':>17}{'imports NAFTA':>17}"
    print(head)
    print(f"{'':5}" + "".join(f"{'ours':>9}{'CP':>8}" for _ in range(5)))
    for c in NAFTA:
        n = idx[c]
        partners = [idx[p] for p in NAFTA if p != c]
        growth = 100.0 * (flows_new[partners, n, :].sum() / flows_base[partners, n, :].sum() - 1.0)
        ours = (country.loc[c, "welfare_first_order_pct"], country.loc[c, "welfare_tot_pct"],
                country.loc[c, "welfare_vot_pct"], country.loc[c, "real_wage_pct"], growth)
        line = "".join(f"{o:9.2f}{p:8.2f}" if k < 4 else f"{o:9.0f}{p:8.0f}"
                       for k, (o, p) in enumerate(zip(ours, PUBLISHED[c])))
        print(f"{c:5}{line}")
    print("\nWelfare here is CP's first-order ToT + VoT (their Table 2). The exact real-income change "
          "(I'/I)/P - 1, in %:")
    print("  " + ", ".join(f"{c} {country.loc[c, 'welfare_pct']:.2f}" for c in NAFTA))


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "caliendo_parro_2015"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
