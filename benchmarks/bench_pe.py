"""Benchmark: batched PE models (SMART linear/exact, GSIM exact/linear) against a loop of single scenarios.

Usage (from the repository root)::

    python benchmarks/bench_pe.py --batch 10000 --loop 200 --chunk 1000 --scenarios all
    python benchmarks/bench_pe.py --batch 10000 --loop 200 --chunk 1000 --scenarios us

Times ``run_smart`` / ``run_gsim`` on ``--batch`` random tariff scenarios (baseline 0; new
rate 0-30% on every flow with ``--scenarios all``, on every flow *into the USA* with
``--scenarios us``, the shape of most tariff sweeps) in chunks of ``--chunk`` scenarios (as a
sweep runs them; ``--chunk`` equal to ``--batch`` is one call), and the same functions called
one scenario at a time on the first ``--loop`` scenarios. Per-country columns only
(``flows=False``), as a sweep would keep. Parameters are built once for the world
(``pe_defaults(world.sectors, world=world)``). Peak memory is measured with tracemalloc in a
separate run (one chunk / one scenario).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np

from tariffsim import Shocks, TradeWorld
from tariffsim.models.parameters import pe_defaults
from tariffsim.models.pe import run_gsim, run_smart


def default_world() -> tuple[TradeWorld, str]:
    try:
        from tariffsim.datasets import load_world
    except ImportError:
        load_world = None
    if load_world is not None:
        return load_world(), "tariffsim.datasets.load_world() (OECD ICIO, 10 regions x 28 sectors)"
    rng = np.random.default_rng(0)
    flows = rng.lognormal(8, 2, (10, 10, 28))
    return TradeWorld(tuple(f"C{i}" for i in range(10)), tuple(f"S{k}" for k in range(28)), flows), "random 10 x 28"


def run(model: str, shocks: Shocks, params):
    if model.startswith("gsim"):  # "gsim" (exact, Newton) or "gsim-linear" (F&H's linear system)
        return run_gsim(shocks, params, method="linear" if model == "gsim-linear" else "exact", flows=False)
    return run_smart(shocks, params, method=model.split("-")[1], flows=False)


def chunks(world, t1, size):
    for start in range(0, t1.shape[0], size):
        part = t1[start:start + size]
        yield Shocks.from_rates(world, np.zeros(part.shape[1:]), part)  # baseline 0, broadcast


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--loop", type=int, default=200)
    ap.add_argument("--chunk", type=int, default=1_000)
    ap.add_argument("--models", default="smart-linear,smart-exact,gsim,gsim-linear")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scenarios", choices=("all", "us"), default="all",
                    help="which importers' tariffs change: every importer, or the USA only")
    args = ap.parse_args()

    world, label = default_world()
    source = "fgo2022" if label.startswith("tariffsim") else None
    try:
        params = pe_defaults(world.sectors, source, world=world)
    except TypeError:  # versions before importer-specific η
        params = pe_defaults(world.sectors, source)
    n, s = world.n_countries, world.n_sectors
    rng = np.random.default_rng(args.seed)
    t1 = rng.uniform(0.0, 0.3, (args.batch, n, n, s))
    if args.scenarios == "us":
        us = world.countries.index("USA") if "USA" in world.countries else 0
        mask = np.zeros((n, n, s))
        mask[:, us, :] = 1.0
        t1 *= mask
    print(f"world: {label}; {args.batch} scenarios ({args.scenarios}) in chunks of {args.chunk}; loop over {args.loop}")
    print(f"{'model':<13} {'batched s':>10} {'scen/s':>10} {'loop s/scen':>12} {'scen/s':>8} {'speed-up':>9} "
          f"{'w/o Shocks':>11} {'peak MB chunk':>14} {'peak MB one':>12} {'max iter':>9}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # linear SMART clips large changes (expected here)
        for model in args.models.split(","):
            run(model, Shocks.from_rates(world, np.zeros((n, n, s)), t1[0]), params)  # warm-up
            tic = time.perf_counter()
            max_iter = 0
            building = 0.0  # time spent building Shocks (tariffsim.shocks), included in `batched`
            for start in range(0, args.batch, args.chunk):
                tb = time.perf_counter()
                sh = next(chunks(world, t1[start:start + args.chunk], args.chunk))
                building += time.perf_counter() - tb
                res = run(model, sh, params)
                if res.solver is not None:
                    max_iter = max(max_iter, int(np.max(res.solver.iterations)))
            batched = time.perf_counter() - tic
            tic = time.perf_counter()
            for k in range(args.loop):
                run(model, Shocks.from_rates(world, np.zeros((n, n, s)), t1[k]), params)
            loop = (time.perf_counter() - tic) / args.loop
            tracemalloc.start()
            run(model, next(chunks(world, t1, args.chunk)), params)
            peak_chunk = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            tracemalloc.start()
            run(model, Shocks.from_rates(world, np.zeros((n, n, s)), t1[0]), params)
            peak_one = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            per = batched / args.batch
            model_only = (batched - building) / args.batch  # per scenario, Shocks building excluded
            print(f"{model:<13} {batched:>10.2f} {1 / per:>10.0f} {loop:>12.5f} {1 / loop:>8.0f} {loop / per:>8.1f}x "
                  f"{loop / model_only:>10.1f}x {peak_chunk:>14.0f} {peak_one:>12.1f} {max_iter:>9d}")


if __name__ == "__main__":
    main()
