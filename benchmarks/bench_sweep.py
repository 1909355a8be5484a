"""Sweep benchmarks: throughput per model, batched vs one-at-a-time, peak memory, Dask overhead.

Run from the repository root (results are printed as a Markdown table)::

    .venv/bin/python benchmarks/bench_sweep.py            # full: includes 1,000,000 SMART scenarios
    .venv/bin/python benchmarks/bench_sweep.py --quick    # minutes: smaller sweeps, no million
    .venv/bin/python benchmarks/bench_sweep.py --scenarios 1000000 --backend serial,processes
        # the SMART sweep of smart_million.toml (first N scenarios), each backend in a fresh process:
        # wall, CPU of the main process and the workers, peak RSS; then the per-chunk CPU split
        # (add --before PATH, a checkout of main, for before/after side by side in one run)

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
import os
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
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


SMART_MILLION = REPO / "scenarios" / "sweeps" / "smart_million.toml"

# Run in a fresh interpreter per backend (PYTHONPATH decides which checkout): wall, CPU of the
# process and of its worker processes, peak RSS of each. Prints one JSON line.
_RUN = """
import json, os, resource, sys, tempfile, time, warnings, logging


def main():
    warnings.simplefilter("ignore")
    logging.getLogger("tariffsim").setLevel("ERROR")
    t0 = time.perf_counter()
    from tariffsim.sweep import load_sweep, run_sweep

    n, backend, workers = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    spec = load_sweep(sys.argv[4])
    spec = spec.model_copy(update={"sample": spec.sample.model_copy(update={"n": n})})
    kw = {"workers": workers} if backend == "processes" else {}
    with tempfile.TemporaryDirectory() as tmp:
        run = run_sweep(spec, os.path.join(tmp, "out"), backend=backend, progress=False, **kw)
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": me.ru_utime + me.ru_stime,
                      "workers_cpu": kids.ru_utime + kids.ru_stime, "rss": me.ru_maxrss / 1024,
                      "workers_rss": kids.ru_maxrss / 1024, "sweep_s": run.seconds}))


if __name__ == "__main__":
    main()
"""

# Per-chunk CPU split, the same calls on any checkout since main fa7b975. Prints one JSON line.
_SPLIT = """
import json, sys, tempfile, time, warnings, logging
from pathlib import Path
import numpy as np
warnings.simplefilter("ignore"); logging.getLogger("tariffsim").setLevel("ERROR")
from tariffsim.sweep import load_sweep, prepare_sweep
from tariffsim.sweep.evaluate import _chunk_shocks, _run_model, evaluate_chunk
from tariffsim.sweep.runner import write_chunk
chunks, size = int(sys.argv[1]), int(sys.argv[2])
job = prepare_sweep(load_sweep(sys.argv[3]), chunk_size=size)
evaluate_chunk(job, 0)
t = dict.fromkeys(("evaluate", "shocks", "smart", "chunk", "write"), 0.0)
with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / "chunks").mkdir()
    for c in range(1, chunks + 1):
        start, stop = job.design.chunk_bounds(c, size)
        values, e_rows = job.design.values(start, stop)
        theta = np.tile(job.schedule.defaults, (stop - start, 1))
        theta[:, job.columns] = values
        t0 = time.process_time(); job.schedule.evaluate(theta); t["evaluate"] += time.process_time() - t0
        t0 = time.process_time(); sh = _chunk_shocks(job, values, [str(k) for k in range(start, stop)])
        t["shocks"] += time.process_time() - t0
        t0 = time.process_time(); _run_model(job, "smart", sh, e_rows, False); t["smart"] += time.process_time() - t0
        t0 = time.process_time(); res = evaluate_chunk(job, c); t["chunk"] += time.process_time() - t0
        t0 = time.process_time(); write_chunk(Path(tmp), res); t["write"] += time.process_time() - t0
print(json.dumps({k: 1e3 * v / chunks for k, v in t.items()}))
"""


def _child(code: str, args: list, pythonpath: str) -> dict:
    import json
    import os

    env = dict(os.environ, PYTHONPATH=pythonpath)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"
        script.write_text(code)
        out = subprocess.run([sys.executable, str(script), *map(str, args)], check=True, capture_output=True,
                             text=True, env=env, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def chunk_split(chunks: int, size: int, before: str | None, rounds: int = 2) -> None:
    """Per-chunk CPU time (ms) of each part, this checkout against ``before``, alternating runs."""
    sides = [("after", str(REPO))] + ([("before", before)] if before else [])
    got: dict[str, list[dict]] = {name: [] for name, _ in sides}
    for _ in range(rounds):
        for name, path in sides:
            got[name].append(_child(_SPLIT, [chunks, size, SMART_MILLION], path))
    best = {name: {k: min(r[k] for r in runs) for k in runs[0]} for name, runs in got.items()}
    print(f"\nPer {size}-scenario chunk, CPU ms (min of {rounds} runs of {chunks} chunks each, alternating; "
          f"load average {os.getloadavg()[0]:.1f}):\n")
    print("| part | " + " | ".join(name for name, _ in sides) + (" | before / after |" if before else " |"))
    print("|---|" + "---:|" * (len(sides) + (1 if before else 0)))
    parts = {"compiler `evaluate`": "evaluate", "chunk shocks (evaluate + non-tariff + take)": "shocks",
             "SMART (`_run_model`)": "smart", "whole chunk (shocks + SMART + rows)": "chunk",
             "Parquet write + SHA-256": "write"}
    for label, key in parts.items():
        vals = [best[name][key] for name, _ in sides]
        ratio = f" | {vals[1] / vals[0]:.1f}x" if before else ""
        print(f"| {label} | " + " | ".join(f"{v:.1f}" for v in vals) + ratio + " |")
    total = {name: best[name]["chunk"] + best[name]["write"] for name, _ in sides}
    print("| **chunk + write** | " + " | ".join(f"**{total[name]:.1f}**" for name, _ in sides)
          + (f" | **{total['before'] / total['after']:.1f}x** |" if before else " |"))
    print("\nCPU for 1,000,000 scenarios at this rate: " + ", ".join(
        f"{name} {total[name] * 1e6 / size / 1e3:.0f} s" for name, _ in sides))


def smart_sweep(n: int, backends: list[str], workers: int, rounds: int) -> None:
    """SMART sweep of smart_million.toml cut to n scenarios, each backend in a fresh process."""
    print(f"SMART sweep, smart_million.toml cut to {n:,} scenarios, chunk 500, Parquet out; each run a fresh "
          "`python` process (imports, compile and worker start-up included).\n")
    print("| backend | wall s | scenarios/s (wall) | CPU s: main + workers | peak RSS MB: main / worker "
          "| idle-machine estimate s | load average (1 min) before |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    est: dict[str, list[float]] = {}
    for _ in range(rounds):
        for backend in backends:
            load = os.getloadavg()[0]
            r = _child(_RUN, [n, backend, workers, SMART_MILLION], str(REPO))
            # with a core per process, the wall time is the busiest process's CPU time
            idle = max(r["cpu"], r["workers_cpu"] / workers) if backend == "processes" else r["cpu"]
            est.setdefault(backend, []).append(idle)
            label = backend + (f" ({workers} workers)" if backend == "processes" else "")
            print(f"| {label} | {r['wall']:.1f} | {n / r['wall']:,.0f} | {r['cpu']:.1f} + {r['workers_cpu']:.1f} | "
                  f"{r['rss']:,.0f} / {r['workers_rss']:,.0f} | {idle:.1f} | {load:.1f} |", flush=True)
    if "serial" in est and "processes" in est:
        print(f"\nprocesses vs serial, idle-machine estimate (CPU of the busiest process): "
              f"{min(est['serial']) / min(est['processes']):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sweeps, no million-scenario run")
    parser.add_argument("--scenarios", "--smart", type=int, metavar="N", dest="scenarios",
                        help="only the SMART sweep of smart_million.toml, cut to N scenarios (1000000: all)")
    parser.add_argument("--backend", default="serial,processes",
                        help="comma-separated backends for --scenarios (serial, processes)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="repeat each backend run (alternating)")
    parser.add_argument("--split", type=int, default=20, metavar="CHUNKS",
                        help="chunks of 500 for the per-chunk CPU split (0: skip)")
    parser.add_argument("--before", metavar="PATH", help="another checkout (e.g. git archive of main) for the "
                        "per-chunk split side by side")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # SMART's linear clipping notes are expected at 50% rates
    __import__("logging").getLogger("tariffsim").setLevel("ERROR")
    if args.scenarios:
        print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}\n")
        smart_sweep(args.scenarios, args.backend.split(","), args.workers, args.rounds)
        if args.split:
            chunk_split(args.split, 500, args.before)
        print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return
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
