"""GE time and memory against batch size (1..4,096) and world size (10, 30, 81 regions).

Usage::

    python benchmarks/bench_ge_scaling.py [--out benchmarks/figures/ge_scaling.png]

Worlds: ``load_world()`` (10 regions), the 29 largest ICIO economies by absorption plus
the rest of the world (30), and ``load_world("icio81")``; 28 sectors each, CP 2015
elasticities, random tariff increases of 0-30 points. Each point is one ``run_ge`` call
(the whole Result, per-flow columns included): CPU time (``time.process_time``) and peak
traced memory (``tracemalloc``, a second call). Batches whose per-flow results would
exceed ``--max-gb`` are skipped (the Result holds about ten arrays of B x n x n x 28).
Prints the fitted exponents: time ∝ B^a (batch, B ≥ 16) and time per scenario ∝ F^b with
F = n² S flows (at B = 16).
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np

from tariffsim import Shocks
from tariffsim.datasets import load_elasticities, load_world
from tariffsim.kernels import _accel
from tariffsim.models.ge import run_ge

BATCHES = (1, 4, 16, 64, 256, 1024, 4096)


def worlds():
    big = load_world("icio81")
    absorption = big.flows.sum(axis=(0, 2))
    order = [big.countries[k] for k in np.argsort(-absorption) if big.countries[k] != "ROW"]
    mapping = {c: c for c in order[:29]} | {"default": "REST"}
    return {10: load_world(), 30: load_world(mapping), 81: big}


def measure(world, theta, b, accelerate, rng):
    n, s = world.n_countries, world.n_sectors
    shocks = Shocks.from_rates(world, np.zeros((n, n, s)), rng.uniform(0, 0.3, (b, n, n, s)))
    t0 = time.process_time()
    run_ge(shocks, theta, accelerate=accelerate)
    cpu = time.process_time() - t0
    tracemalloc.start()
    run_ge(shocks, theta, accelerate=accelerate)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return cpu, peak


def slope(x, y):
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "figures" / "ge_scaling.png"))
    parser.add_argument("--max-gb", type=float, default=1.0, help="skip batches whose results exceed this")
    args = parser.parse_args()
    theta_all = load_elasticities("cp2015")
    modes = [("numba", True), ("numpy", False)] if _accel.numba_available() else [("numpy", False)]
    rows = []
    for n, world in worlds().items():
        theta = theta_all.reindex(list(world.sectors)).to_numpy()
        flows = world.n_countries ** 2 * world.n_sectors
        for label, acc in modes:
            run_ge(Shocks.from_rates(world, np.zeros(world.flows.shape), np.full(world.flows.shape, 0.1)), theta,
                   accelerate=acc)  # warm-up
            rng = np.random.default_rng(1)
            for b in BATCHES:
                if 10 * b * flows * 8 > args.max_gb * 1e9:
                    continue
                cpu, peak = measure(world, theta, b, acc, rng)
                rows.append(dict(regions=n, flows=flows, mode=label, batch=b, cpu=cpu, peak_mb=peak / 1e6))
                print(f"{n:3d} regions {label:5s} B={b:5d}: {cpu:8.3f} s CPU, {1e3 * cpu / b:8.3f} ms/scenario, "
                      f"peak {peak / 1e6:9.1f} MB", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    report(rows)
    plot(rows, out)


def report(rows) -> None:
    print("\nscaling exponents (log-log least squares)")
    for label in sorted({r["mode"] for r in rows}):
        for n in sorted({r["regions"] for r in rows}):
            pts = [(r["batch"], r["cpu"], r["peak_mb"]) for r in rows
                   if r["mode"] == label and r["regions"] == n and r["batch"] >= 16]
            if len(pts) >= 2:
                b, t, m = map(np.array, zip(*pts))
                print(f"  {label}, {n} regions: time ~ B^{slope(b, t):.2f}, memory ~ B^{slope(b, m):.2f}")
        pts = [(r["flows"], r["cpu"] / r["batch"]) for r in rows if r["mode"] == label and r["batch"] == 16]
        if len(pts) >= 2:
            f, t = map(np.array, zip(*pts))
            print(f"  {label}: time per scenario ~ (n² S)^{slope(f, t):.2f} at B = 16")


def plot(rows, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = {10: "tab:blue", 30: "tab:orange", 81: "tab:red"}
    for label, style in (("numba", "-o"), ("numpy", "--s")):
        for n, c in colors.items():
            pts = sorted((r["batch"], r["cpu"] / r["batch"], r["peak_mb"]) for r in rows
                         if r["mode"] == label and r["regions"] == n)
            if not pts:
                continue
            b, t, m = map(np.array, zip(*pts))
            ax1.plot(b, 1e3 * t, style, color=c, label=f"{n} regions x 28 sectors, {label}")
            ax2.plot(b, m, style, color=c, label=f"{n} regions, {label}")
    ax1.set(xscale="log", yscale="log", xlabel="scenarios in one run_ge call (batch size)",
            ylabel="CPU time per counterfactual (ms)", title="GE (Caliendo–Parro, no IO): time per scenario")
    ax2.set(xscale="log", yscale="log", xlabel="scenarios in one run_ge call (batch size)",
            ylabel="peak traced memory (MB)", title="GE: peak memory of one call (Result included)")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
