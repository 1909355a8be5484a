"""GE speed, side by side in one run: tariffsim (numba, numpy), one at a time, a plain reference.

Usage::

    python benchmarks/bench_ge.py [--workloads w10,icio81,cp2015,ld194] [--legacy FILE] [--data DIR]

Workloads (CP 2015 elasticities; random tariff increases of 0-30 points on every flow):

- ``w10``: ``load_world()`` (10 regions x 28 sectors, no IO links), batch of 1,000;
- ``icio81``: ``load_world("icio81")`` (81 x 28), batch of 16;
- ``cp2015``: Caliendo–Parro 31 x 40 with IO links, the NAFTA counterfactual with purged
  deficits (two equilibria: the purge and the counterfactual), from ``../shared/data``;
- ``ld194``: one sector, 194 countries, built here from the Liberation Day replication
  inputs in ``../shared/data/liberation_day_2025`` (benchmark only: unlicensed data), with
  the USTR "reciprocal" tariffs on US imports scaled by a random factor per scenario.

Times are CPU seconds of this process (``time.process_time``; BLAS is single-threaded
inside the solver), so ratios in one run are comparable on a shared machine. ``--legacy
FILE`` adds a row for another version of ``tariffsim/kernels/cp.py`` (e.g.
``git show main:tariffsim/kernels/cp.py > /tmp/cp_main.py``), timed at kernel level
(calibrate + solve, no Result) next to tariffsim's kernel on the same inputs. gegravity is not installed here; the
issue's numbers for it (200-1,600x slower than tariffsim's batched GE) are not re-measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import ge_reference

from tariffsim import Shocks, TradeWorld
from tariffsim.kernels import _accel
from tariffsim.models.ge import run_ge

DATA = Path(__file__).parents[1] / ".." / "shared" / "data"


def ld194_world() -> tuple[TradeWorld, np.ndarray]:
    """194-country one-sector world from the Liberation Day inputs; US reciprocal tariffs (decimal)."""
    d = DATA / "liberation_day_2025"
    # [exporter, importer], thousands of USD
    trade = np.nan_to_num(np.genfromtxt(d / "trade_cepii.csv", delimiter=",", skip_header=1))
    gdp = np.loadtxt(d / "gdp.csv", skiprows=1) / 1000.0  # kUSD
    n = gdp.size
    np.fill_diagonal(trade, 0.0)
    domestic = np.maximum(gdp - trade.sum(axis=1), 0.25 * gdp)  # gross output minus exports, floored
    flows = trade + np.diag(domestic)
    labels = [line.split(",")[0] for line in (d / "country_labels.csv").read_text().splitlines()[1:]]
    tariff = np.loadtxt(d / "tariffs.csv", skiprows=1)
    us = labels.index("USA")
    rates = np.zeros((n, n, 1))
    rates[:, us, 0] = tariff
    rates[us, us, 0] = 0.0
    world = TradeWorld(labels, ["ALL"], flows[:, :, None] / 1000.0, name="LD 194 (benchmark only)")
    return world, rates


def workload(name: str, batch: int | None):
    """(world, θ, tariff_base, tariff_new (B, n, n, S), run_ge options)."""
    from tariffsim.datasets import load_elasticities, load_world

    rng = np.random.default_rng(1)
    if name == "ld194":
        world, rates = ld194_world()
        b = batch or 64
        scale = rng.uniform(0.5, 1.5, (b, 1, 1, 1))
        return world, np.array([4.0]), np.zeros_like(rates), rates[None] * scale, {}
    if name == "cp2015":
        from tariffsim.datasets.readers import read_caliendo_parro

        data = read_caliendo_parro(DATA / "caliendo_parro_2015")
        w = data.world
        new = data.tariffs_1993.copy()
        idx = [w.country_index(c) for c in ("MEX", "CAN", "USA")]
        for i in idx:
            for k in idx:
                if i != k:
                    new[i, k] = data.tariffs_2005[i, k]
        return w, data.theta, data.tariffs_1993, new[None], {"deficits": "purge"}
    world = load_world() if name == "w10" else load_world(name)
    b = batch or (1000 if name == "w10" else 16)
    n, s = world.n_countries, world.n_sectors
    theta = load_elasticities("cp2015").reindex(list(world.sectors)).to_numpy()
    return world, theta, np.zeros((n, n, s)), rng.uniform(0.0, 0.3, (b, n, n, s)), {}


def timed(fn):
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def run_batch(world, theta, tb, tn, opts, accelerate):
    res = run_ge(Shocks.from_rates(world, tb, tn), theta, accelerate=accelerate, **opts)
    return res


def bench(name: str, args) -> list[dict]:
    world, theta, tb, tn, opts = workload(name, args.batch)
    b = tn.shape[0]
    rows = []
    equilibria = 2 if opts.get("deficits") == "purge" else 1
    modes = [("numba", True), ("numpy", False)] if _accel.numba_available() else [("numpy", False)]
    ref = None
    for label, acc in modes:
        run_batch(world, theta, tb, tn[:1], opts, acc)  # warm-up (compile or load the cache)
        dt, res = timed(lambda acc=acc: run_batch(world, theta, tb, tn, opts, acc))
        ref = res if ref is None else ref
        it = res.solver.iterations
        rows.append(dict(method=f"tariffsim {label}, batch of {b}", n=b, cpu=dt, eq=equilibria * b,
                         iters=f"{int(np.median(it))}/{int(it.max())}", ok=res.solver.all_converged,
                         diff=np.max(np.abs(res.country["welfare_pct"] - ref.country["welfare_pct"]))))
        loop = min(b, args.loop)
        dt, _ = timed(lambda acc=acc, loop=loop: [run_batch(world, theta, tb, tn[k], opts, acc) for k in range(loop)])
        rows.append(dict(method=f"tariffsim {label}, one at a time", n=loop, cpu=dt, eq=equilibria * loop))
    from tariffsim.kernels import cp

    for label, acc in modes:
        rows.append(kernel_row(cp, f"tariffsim {label}", world, theta, tb, tn, opts, accelerate=acc))
    if args.legacy:
        rows.append(kernel_row(legacy_module(args.legacy), Path(args.legacy).name, world, theta, tb, tn, opts))
    if args.reference:
        rows.append(reference_row(world, theta, tb, tn, ref, args.reference))
    return rows


def kernel_row(mod, label, world, theta, tb, tn, opts, **kw) -> dict:
    """calibrate + solve_equilibrium of a cp module (no Result); the shared baseline calibrated once, as run_ge does."""
    b = tn.shape[0]

    def go(tn):
        base = mod.calibrate(world.flows, np.asarray(tb, float)[None], world.value_added_share,
                             world.io_coefficients)
        if opts.get("deficits") == "purge":
            zero = mod.solve_equilibrium(base, base.tariff, theta, deficit_new=np.zeros_like(base.deficit), **kw)
            base = mod.calibrate(zero.flows, base.tariff, world.value_added_share, world.io_coefficients)
        return mod.solve_equilibrium(base, tn, theta, **kw)

    go(tn[:1])  # warm-up
    dt, eq = timed(lambda: go(tn))
    it = eq.iterations
    eqs = (2 if opts.get("deficits") == "purge" else 1) * b
    return dict(method=f"{label} (kernel only: calibrate + solve), batch of {b}", n=b, cpu=dt, eq=eqs,
                iters=f"{int(np.median(it))}/{int(it.max())}", ok=bool(eq.success.all()))


def legacy_module(path):
    spec = importlib.util.spec_from_file_location("cp_legacy", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def reference_row(world, theta, tb, tn, ref, count) -> dict:
    """Plain damped fixed point, one scenario at a time (no purge: fixed deficits)."""
    th = np.broadcast_to(np.asarray(theta, float), (world.n_sectors,))
    base = ge_reference.calibrate(world.flows, np.array(tb, float), world.value_added_share, world.io_coefficients)
    count = min(count, tn.shape[0])
    dt, outs = timed(lambda: [ge_reference.solve(base, tn[k], th) for k in range(count)])
    its = [o["iterations"] for o in outs]
    # independent check: same ŵ as tariffsim's numpy path (fixed deficits) to solver precision
    mine = run_ge(Shocks.from_rates(world, tb, tn[:count]), theta, accelerate=False)
    gap = max(np.max(np.abs(o["flows"] / mine.flow["flow_new"][k].clip(1e-300) - 1)[mine.flow["flow_new"][k] > 0])
              for k, o in enumerate(outs))
    return dict(method="plain reference (benchmarks/ge_reference.py), one at a time", n=count, cpu=dt, eq=count,
                iters=f"{int(np.median(its))}/{max(its)}", ok=all(o["converged"] for o in outs), diff=gap)


def main() -> None:
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="w10,icio81,cp2015,ld194")
    parser.add_argument("--batch", type=int, default=None, help="scenarios per batch (default per workload)")
    parser.add_argument("--loop", type=int, default=20, help="scenarios solved one at a time")
    parser.add_argument("--reference", type=int, default=2, help="scenarios for the plain reference (0 = skip)")
    parser.add_argument("--legacy", default=None, help="path to another cp.py to time side by side")
    parser.add_argument("--data", default=str(DATA), help="the shared data folder (CP 2015, Liberation Day inputs)")
    args = parser.parse_args()
    DATA = Path(args.data)
    print(f"numba available: {_accel.numba_available()}; gegravity installed: "
          f"{importlib.util.find_spec('gegravity') is not None}; load average at start "
          f"{os.getloadavg()[0]:.2f}")
    for name in args.workloads.split(","):
        print(f"\n## {name}\n")
        print("| method | scenarios | CPU s | ms per equilibrium | equilibria/s | iterations median/max | "
              "converged | max diff |")
        print("|---|---:|---:|---:|---:|---|---|---|")
        for r in bench(name, args):
            per = r["cpu"] / r["eq"]
            diff = f"{r['diff']:.1e}" if "diff" in r else ""
            print(f"| {r['method']} | {r['n']} | {r['cpu']:.3f} | {1e3 * per:.2f} | {1 / per:,.0f} | "
                  f"{r.get('iters', '')} | {r.get('ok', '')} | {diff} |", flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
