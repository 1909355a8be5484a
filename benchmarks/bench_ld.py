"""Liberation Day model speed: one 194-country equilibrium, an optimal-tariff search, an 81-country Nash war.

Usage::

    python benchmarks/bench_ld.py [--data DIR] [--repeat 5]

1. One-sector equilibrium on the authors' 194-country world (USTR tariffs, Table 1 case 1);
   a random 194-country world of the same shape when ``--data`` is absent. Target ≤ 10 ms.
2. Numerical optimal US tariff on the same world (Newton on central differences). Target ≤ 2 s.
3. Nash equilibrium of a tariff war among all 81 economies of the embedded ICIO 2022 world
   (28 sectors aggregated to one), every country's Proposition-2 first-order condition at once
   (81 FOCs, formula method), and a numerical two-player (USA, CHN) war. Target ≤ 60 s.

Times are the minimum over ``--repeat`` runs (wall clock); the machine may be shared.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tariffsim.kernels.ld_calibrate import calibrate, fixed_cost_shares, pass_through  # noqa: E402
from tariffsim.kernels.ld_onesector import LDParams, solve  # noqa: E402
from tariffsim.optimal.ld_search import nash, optimal_tariff_numerical  # noqa: E402

DATA = next((p for p in [ROOT.parent / "shared" / "data" / "liberation_day_2025",
                         ROOT.parent.parent / "shared" / "data" / "liberation_day_2025"] if p.is_dir()), None)


def world194(data):
    if data is not None and (Path(data) / "trade_cepii.csv").is_file():
        import pandas as pd

        X = np.nan_to_num(pd.read_csv(Path(data) / "trade_cepii.csv").to_numpy(float))
        Y = pd.read_csv(Path(data) / "gdp.csv").to_numpy(float)[:, 0] / 1000.0
        ustr = pd.read_csv(Path(data) / "tariffs.csv").to_numpy(float)[:, 0]
        src = "authors' BACI 2023 world"
    else:
        rng = np.random.default_rng(0)
        X = rng.lognormal(3, 2, (194, 194)) * (1 - np.eye(194))
        Y = X.sum(1) * rng.uniform(2, 8, 194)
        ustr = rng.uniform(0.1, 0.5, 194)
        src = "random 194-country world"
    us = 184
    nu2 = fixed_cost_shares(X, Y, us)
    nu = np.full(194, nu2[0])
    nu[us] = nu2[1]
    base = calibrate(X, Y, nu)
    prm = LDParams(phi=pass_through(nu, 4.0, 0.67 / 4))
    t = np.zeros((194, 194))
    t[:, us] = np.maximum(0.1, ustr)
    t[us, us] = 0
    return base, prm, t, us, src


CPU = {}


def best(fn, repeat):
    """Minimum wall time over ``repeat`` runs; the matching CPU time of this process goes to CPU[fn]."""
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU["last"] = min(cpu)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    base, prm, t, us, src = world194(args.data)
    solve(base, t, prm)  # warm-up
    sec, sol = best(lambda: solve(base, t, prm, tol=1e-11), args.repeat)
    print(f"1. one equilibrium, {src}: {1000 * sec:.1f} ms ({int(sol.iterations[0])} iterations, "
          f"residual {sol.residual[0]:.1e}; CPU {1000 * CPU['last']:.1f} ms; target 10 ms)")
    batch = np.repeat(t[None], 16, 0) * np.linspace(0.5, 1.5, 16)[:, None, None]
    sec_b, _ = best(lambda: solve(base, batch, prm, tol=1e-11), max(1, args.repeat // 2))
    print(f"   batch of 16 scenarios: {1000 * sec_b:.0f} ms ({1000 * sec_b / 16:.1f} ms per scenario)")
    sec, opt = best(lambda: optimal_tariff_numerical(base, prm, us), max(1, args.repeat // 2))
    print(f"2. optimal US tariff search: {sec:.2f} s -> {100 * opt.rates[0]:.2f}% "
          f"({opt.iterations} Newton steps, |dW/dt| {opt.residual[0]:.1e}; target 2 s)")
    from tariffsim import load_world
    from tariffsim.models.ld import setup
    from tariffsim.shocks import Shocks

    world = load_world("icio81")
    zero = np.zeros((1,) + world.flows.shape)
    st = setup(Shocks(world, ("base",), zero, zero))
    sec, war = best(lambda: nash(st.base, st.params, list(range(len(world.countries))), method="formula",
                                 denominator="gdp", tol=1e-8), 1)
    print(f"3. Nash war among all 81 ICIO economies (formula FOCs): {sec:.2f} s, {war.iterations} rounds, "
          f"max FOC residual {war.residual.max():.1e}, median rate {100 * np.median(war.rates):.1f}% (target 60 s)")
    pl = [world.countries.index("USA"), world.countries.index("CHN")]
    sec, war2 = best(lambda: nash(st.base, st.params, pl, method="numerical", tol=1e-7), 1)
    print(f"   numerical USA-CHN war on the same world: {sec:.2f} s, rates {np.round(100 * war2.rates, 2)}%, "
          f"max |dW/dt| {war2.residual.max():.1e}")
    from tariffsim.optimal import tariff_war

    sec, war3 = best(lambda: tariff_war(Shocks(world, ("base",), zero, zero), ["USA", "KOR"], bilateral=True,
                                        sectors="multi"), 1)
    print(f"4. bilateral USA-KOR war in the 81 x 28 multi-sector model: {sec:.1f} s, rates "
          f"{ {k: round(100 * v, 2) for k, v in war3.rates.items()} }%, {war3.iterations} rounds, "
          f"max |dW/dt| {max(war3.residual.values()):.1e}")


if __name__ == "__main__":
    main()
