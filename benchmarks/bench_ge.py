"""GE counterfactuals per second: one batched call vs a loop of single-scenario calls.

Usage::

    python benchmarks/bench_ge.py [--batch 1000] [--loop 50]

World: ``tariffsim.datasets.load_world()`` (10 regions x 28 ICIO sectors) with CP 2015
elasticities, or a random world of that shape if the dataset loader is unavailable.
Scenarios: random tariff increases of 0-30 percentage points on every flow.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tariffsim import Shocks, TradeWorld
from tariffsim.models.ge import run_ge


def default_world() -> tuple[TradeWorld, object]:
    try:
        from tariffsim.datasets import load_elasticities, load_world
    except ImportError:
        rng = np.random.default_rng(0)
        flows = rng.uniform(1, 100, (10, 10, 28))
        flows[np.arange(10), np.arange(10)] *= 50
        world = TradeWorld([f"R{k}" for k in range(10)], [f"S{k}" for k in range(28)], flows, name="random")
        return world, np.full(28, 5.0)
    return load_world(), load_elasticities("cp2015")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--loop", type=int, default=50)
    args = parser.parse_args()
    world, theta = default_world()
    n, s = world.n_countries, world.n_sectors
    rng = np.random.default_rng(1)
    base = np.zeros((n, n, s))
    new = rng.uniform(0.0, 0.3, (args.batch, n, n, s))
    shocks = Shocks.from_rates(world, base, new)

    run_ge(Shocks.from_rates(world, base, new[:2]), theta)  # warm-up
    t0 = time.perf_counter()
    res = run_ge(shocks, theta)
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(args.loop):
        run_ge(Shocks.from_rates(world, base, new[k]), theta)
    looped = time.perf_counter() - t0
    it = res.solver.iterations
    print(f"world: {world!r}")
    print(f"batched: {args.batch} scenarios in {batched:.2f} s = {args.batch / batched:,.0f} counterfactuals/s "
          f"(iterations median {int(np.median(it))}, max {int(it.max())}, all converged: {res.solver.all_converged}, "
          f"max residual {res.solver.max_residual.max():.1e})")
    print(f"loop:    {args.loop} scenarios in {looped:.2f} s = {args.loop / looped:,.0f} counterfactuals/s")


if __name__ == "__main__":
    main()
