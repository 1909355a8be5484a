"""Sweep benchmarks: throughput per model, batched vs one-at-a-time, peak memory, Dask overhead.

Run from the repository root (results are printed as a Markdown table)::

    .venv/bin/python benchmarks/bench_sweep.py            # full: includes 1,000,000 SMART scenarios
    .venv/bin/python benchmarks/bench_sweep.py --quick    # minutes: smaller sweeps, no million

World: the default ``tariffsim.datasets.load_world()`` (10 regions x 28 sectors). Scenarios:
random samples over Korea's reciprocal, auto and metals rates on ``liberation_day.toml``
(accounting, SMART, GSIM) and Korea's all-in and auto rates on ``deal_15pct.toml`` (GE).
Throughput excludes the one-off compile of the base scenario (reported separately).
Peak memory is ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a child process running
``tariffsim sweep`` on the serial backend.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
KOREA = REPO / "scenarios" / "korea_us_2025"


def spec(model: str, n: int, chunk: int, **kw) -> dict:
    if model == "ge":
        scen, params = "deal_15pct.toml", {"kor_floor.rate": {"low": 0.0, "high": 0.3},
                                            "kor_autos_deal.rate": {"low": 0.0, "high": 0.3}}
    else:
        scen, params = "liberation_day.toml", {"us_reciprocal.rates.KOR": {"low": 0.0, "high": 0.5},
                                                "s232_autos.rate": {"low": 0.0, "high": 0.5},
                                                "s232_metals.rate": {"low": 0.0, "high": 0.5}}
    return {"name": f"bench_{model}", "scenario": str(KOREA / scen), "models": [model], "seed": 1,
            "chunk_size": chunk, "sample": {"method": "random", "n": n, "parameters": params}, **kw}


def throughput(model: str, n: int, chunk: int, backend: str = "serial", **kw) -> tuple[float, float]:
    """(scenarios per second excluding compile, compile seconds)."""
    from tariffsim.sweep import prepare_sweep, run_sweep

    s = spec(model, n, chunk)
    t = time.perf_counter()
    prepare_sweep(s)
    compile_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        run = run_sweep(s, Path(tmp) / "out", backend=backend, progress=False, **kw)
    return n / max(run.seconds - compile_s, 1e-9), compile_s


def batched_vs_loop(model: str, n: int) -> tuple[float, float]:
    """Seconds for n scenarios in one batched call vs n single-scenario calls."""
    from tariffsim.sweep import prepare_sweep
    from tariffsim.sweep.evaluate import _run_model

    job = prepare_sweep(spec(model, n, n))
    values, e = job.design.values(0, n)
    theta = np.tile(job.schedule.defaults, (n, 1))
    theta[:, job.columns] = values

    def run(th, ee):
        _run_model(job, model, job.schedule.shocks(th), ee, False)

    run(theta[:2], e[:2])  # warm-up
    t = time.perf_counter()
    run(theta, e)
    batched = time.perf_counter() - t
    t = time.perf_counter()
    for k in range(n):
        run(theta[k:k + 1], e[k:k + 1])
    return batched, time.perf_counter() - t


def peak_memory(sweep_file: Path, chunk: int | None = None) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of a child process running the sweep (serial backend)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "tariffsim", "sweep", str(sweep_file), "--out", str(Path(tmp) / "out"),
               "--no-progress"]
        if chunk:
            cmd += ["--chunk-size", str(chunk)]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, seconds


def profile_chunk(model: str, n: int) -> str:
    """Where one chunk's time goes: compile (shocks/evaluate) vs the model."""
    from tariffsim.sweep import prepare_sweep
    from tariffsim.sweep.evaluate import evaluate_chunk

    job = prepare_sweep(spec(model, n, n))
    prof = cProfile.Profile()
    prof.enable()
    evaluate_chunk(job, 0)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = stats.total_tt
    rows = []
    for func, (_, _, _, cum, _) in stats.stats.items():
        name = f"{Path(func[0]).name}:{func[2]}"
        if func[2] in ("shocks", "evaluate", "cell_rates", "_to_world", "run_smart", "run_gsim", "run_ge",
                       "run_accounting", "take_shocks", "unique"):
            rows.append((cum, name))
    return "; ".join(f"{name} {cum / total:.0%}" for cum, name in sorted(rows, reverse=True)[:6])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sweeps, no million-scenario run")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # SMART's linear clipping notes are expected at 50% rates
    q = args.quick
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {__import__('os').cpu_count()} cores\n")
    print("| sweep | scenarios | chunk | backend | scenarios/s | compile s |")
    print("|---|---:|---:|---|---:|---:|")
    for model, n, chunk in (("accounting", 20_000 if q else 100_000, 1000), ("smart", 10_000 if q else 50_000, 500),
                            ("gsim", 2_000 if q else 10_000, 250), ("ge", 2_000 if q else 10_000, 500)):
        rate, comp = throughput(model, n, chunk)
        print(f"| {model} | {n:,} | {chunk} | serial | {rate:,.0f} | {comp:.1f} |", flush=True)
    n = 10_000 if q else 50_000
    for backend, kw in (("processes", {"workers": 2}), ("dask", {"workers": 2})):
        rate, comp = throughput("smart", n, 500, backend, **kw)
        print(f"| smart | {n:,} | 500 | {backend} (2 workers) | {rate:,.0f} | {comp:.1f} |", flush=True)
    print("\n| model | scenarios | batched s | one at a time s | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for model, n in (("accounting", 500), ("smart", 500), ("gsim", 200), ("ge", 200)):
        b, loop = batched_vs_loop(model, n)
        print(f"| {model} | {n} | {b:.3f} | {loop:.2f} | {loop / b:.0f}x |", flush=True)
    print("\nprofile of one 500-scenario chunk:")
    for model in ("smart", "ge"):
        print(f"- {model}: {profile_chunk(model, 500)}", flush=True)
    if not q:
        mem, sec = peak_memory(REPO / "scenarios" / "sweeps" / "smart_million.toml")
        print(f"\n1,000,000 SMART scenarios (serial, chunk 500): peak RSS {mem:,.0f} MB, {sec / 60:.1f} min",
              flush=True)
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tariffsim",
                "sweep",
                str(REPO / "scenarios" / "sweeps" / "ge_10k.toml"),
                "--out",
                tempfile.mkdtemp(),
                "--no-progress",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"ge_10k.toml (10,240 GE scenarios, serial, end to end): {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
