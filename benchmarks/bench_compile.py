"""Benchmark: the schedule compiler and `tariffsim run` on the Korea liberation-day file.

Usage (from the repository root)::

    PYTHONPATH=$PWD python benchmarks/bench_compile.py            # this checkout
    PYTHONPATH=/path/to/other/checkout python benchmarks/bench_compile.py   # compare

Measures, in one process: loading the embedded US lines, the first (cold: lists, tables,
lines) and warm compiles of ``scenarios/korea_us_2025/liberation_day.toml`` (median of
``--repeat``), one ``evaluate`` of the default vector and of a batch of 1,000 random vectors (every rate
parameter random; also as CPU time, and a sweep's batch in which only the four parameters of
``smart_million.toml`` vary),
and ``line_accounting``; then the wall time of ``python -m tariffsim run FILE`` in a fresh
process (median of ``--runs``) and its CPU time (user + system, from ``getrusage``; on a
machine shared with other jobs the CPU time is the steadier number). Times in seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "scenarios" / "korea_us_2025" / "liberation_day.toml"


def _time(fn, repeat: int, clock=time.perf_counter) -> float:
    out = []
    for _ in range(repeat):
        t = clock()
        fn()
        out.append(clock() - t)
    return statistics.median(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=str(FILE))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    import tariffsim  # noqa: F401
    from tariffsim.datasets import load_world
    from tariffsim.lines import load_us_lines
    from tariffsim.scenario import load_scenario
    from tariffsim.schedule import prepare_schedule
    t_import = time.perf_counter() - t0

    scen = load_scenario(args.file)
    world = load_world(scen.world.regions, keep=scen.world.keep)
    t = time.perf_counter()
    load_us_lines()
    t_lines = time.perf_counter() - t
    t = time.perf_counter()
    sched = prepare_schedule(scen, world)
    t_cold = time.perf_counter() - t
    t_warm = _time(lambda: prepare_schedule(scen, world), args.repeat)
    rng = np.random.default_rng(0)
    theta = np.tile(sched.defaults, (1000, 1))
    rates = [k for k, n in enumerate(sched.parameter_names) if ".rate" in n]
    theta[:, rates] = rng.uniform(0, 0.5, (1000, len(rates)))
    t_eval1 = _time(lambda: sched.evaluate(), args.repeat)
    t_eval = _time(lambda: sched.evaluate(theta), max(1, args.repeat // 2))
    t_eval_cpu = _time(lambda: sched.evaluate(theta), max(1, args.repeat // 2), clock=time.process_time)
    # a sweep's batch: four parameters vary (those of scenarios/sweeps/smart_million.toml), the rest at defaults
    sweep = [n for n in ("recip_annex_i.rates.KOR", "s232_autos.rate", "s232_steel_25.rate", "s232_aluminum_25.rate")
             if n in sched.parameter_names]
    theta4 = np.tile(sched.defaults, (1000, 1))
    theta4[:, [sched.parameter_index(n) for n in sweep]] = rng.uniform(0, 0.5, (1000, len(sweep)))
    t_eval4 = _time(lambda: sched.evaluate(theta4), args.repeat, clock=time.process_time)
    t_acc = _time(lambda: sched.line_accounting(), args.repeat)
    env = dict(os.environ)
    runs, cpu = [], []
    for _ in range(args.runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tariffsim", "run", args.file], check=True, capture_output=True, env=env)
        runs.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    c0 = time.process_time()
    prepare_schedule(scen, world)
    t_cpu = time.process_time() - c0
    cells = len(sched.cells["base"])
    print(f"cells {cells:,} (compact {len(sched._compact.base):,}), parameters {len(sched.parameter_names)}")
    for name, value in [("import tariffsim", t_import), ("load_us_lines", t_lines), ("compile cold", t_cold),
                        ("compile warm", t_warm), ("evaluate 1", t_eval1), ("evaluate 1,000", t_eval),
                        ("evaluate 1,000 (CPU)", t_eval_cpu),
                        (f"evaluate 1,000, {len(sweep)} vary (CPU)", t_eval4),
                        ("compile warm (CPU)", t_cpu), ("line_accounting", t_acc),
                        ("tariffsim run (process)", statistics.median(runs)),
                        ("tariffsim run (CPU)", statistics.median(cpu))]:
        print(f"{name:26s} {value:8.3f} s")


if __name__ == "__main__":
    main()
