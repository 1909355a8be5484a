"""Sweep benchmarks: throughput per model, batched vs one-at-a-time, peak memory, Dask overhead.

Run from the repository root (results are printed as a Markdown table)::

    .venv/bin/python benchmarks/bench_sweep.py            # full: includes 1,000,000 SMART scenarios
    .venv/bin/python benchmarks/bench_sweep.py --quick    # minutes: smaller sweeps, no million
    .venv/bin/python benchmarks/bench_sweep.py --smart 100000   # the SMART sweep of smart_million.toml
                                                                # (first N scenarios): serial vs processes
                                                                # side by side, chunk time split, peak RSS

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


def _old_chunk_shocks(job, values, names):
    """The chunk compile as it was (np.unique over the full parameter vectors, then every
    Shocks field copied by fancy indexing, broadcast views included), for comparison."""
    from tariffsim.shocks import SHOCK_FIELDS, Shocks

    sched = job.schedule
    theta = np.tile(sched.defaults, (len(values), 1))
    theta[:, job.columns] = values
    uniq, inv = np.unique(theta, axis=0, return_inverse=True)
    sh = sched.shocks(uniq)
    return Shocks(sh.world, tuple(names), **{f: getattr(sh, f)[inv.reshape(-1)] for f in SHOCK_FIELDS},
                  warnings=sh.warnings)


def smart_split(n_chunks: int = 20, chunk: int = 500) -> str:
    """Where a SMART chunk of smart_million.toml spends its CPU time, old vs new chunk compile."""
    from tariffsim.sweep import load_sweep, prepare_sweep
    from tariffsim.sweep.evaluate import _chunk_shocks, _run_model, evaluate_chunk
    from tariffsim.sweep.runner import _write_parquet

    job = prepare_sweep(load_sweep(SMART_MILLION), chunk_size=chunk)
    evaluate_chunk(job, 0)
    t = dict.fromkeys(("old_shocks", "shocks", "evaluate", "smart", "chunk", "write"), 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for c in range(1, n_chunks + 1):
            start, stop = job.design.chunk_bounds(c, chunk)
            values, e_rows = job.design.values(start, stop)
            names = [str(k) for k in range(start, stop)]
            theta = np.tile(job.schedule.defaults, (stop - start, 1))
            theta[:, job.columns] = values
            t0 = time.process_time()
            shocks = _chunk_shocks(job, values, names)
            t["shocks"] += time.process_time() - t0
            t0 = time.process_time()
            job.schedule.evaluate(theta)
            t["evaluate"] += time.process_time() - t0
            t0 = time.process_time()
            _old_chunk_shocks(job, values, names)
            t["old_shocks"] += time.process_time() - t0
            t0 = time.process_time()
            _run_model(job, "smart", shocks, e_rows, False)
            t["smart"] += time.process_time() - t0
            t0 = time.process_time()
            res = evaluate_chunk(job, c)
            t["chunk"] += time.process_time() - t0
            t0 = time.process_time()
            _write_parquet(res.rows, Path(tmp) / f"c{c}.parquet")
            t["write"] += time.process_time() - t0
    whole = t["chunk"] + t["write"]
    copy = t["old_shocks"] - t["shocks"]
    return (f"per {chunk}-scenario chunk ({n_chunks} chunks): chunk + write {1e3 * whole / n_chunks:.0f} ms CPU; "
            f"compiler evaluate {t['evaluate'] / whole:.0%}, chunk compile incl. take/dedupe {t['shocks'] / whole:.0%} "
            f"(before: {t['old_shocks'] / (whole + copy):.0%}; the copies cost {1e3 * copy / n_chunks:.0f} ms "
            "a chunk), "
            f"SMART {t['smart'] / whole:.0%}, rows {(t['chunk'] - t['shocks'] - t['smart']) / whole:.0%}, "
            f"Parquet write + checksum {t['write'] / whole:.0%}")


def _children_cpu() -> float:
    """CPU seconds of finished child processes (the sweep's worker processes once they exit)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def smart_sweep(n: int) -> None:
    """SMART sweep of smart_million.toml cut to n scenarios: serial vs processes in one run, peak RSS."""
    from tariffsim.sweep import load_sweep, prepare_sweep, run_sweep

    spec = load_sweep(SMART_MILLION)
    spec = spec.model_copy(update={"sample": spec.sample.model_copy(update={"n": n})})
    prepare_sweep(spec)  # cold: imports, embedded data
    t = time.perf_counter()
    prepare_sweep(spec)
    compile_s = time.perf_counter() - t
    print(f"SMART sweep, smart_million.toml cut to {n:,} scenarios, chunk 500, Parquet out. Seconds are end to "
          f"end (compile {compile_s:.1f} s warm, worker start-up included); scenarios/s exclude the compile.\n")
    print("| backend | wall s | scenarios/s (wall) | ratio to first serial (wall) | CPU s: this process + workers "
          "| idle-machine estimate s | ratio (estimate) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rates, est = {}, {}
    for backend, kw in (("serial", {}), ("processes", {"workers": 2}), ("serial", {})):
        cpu0, kids0 = time.process_time(), _children_cpu()
        with tempfile.TemporaryDirectory() as tmp:
            run = run_sweep(spec, Path(tmp) / "out", backend=backend, progress=False, **kw)
        cpu, kids = time.process_time() - cpu0, _children_cpu() - kids0
        rate = n / (run.seconds - compile_s)
        rates.setdefault(backend, []).append(rate)
        # on an idle machine each process has a core: the wall time is the busiest process's CPU time
        idle = max(cpu, kids / kw["workers"]) if kw else cpu
        est.setdefault(backend, []).append(idle)
        label = backend + (" (2 workers)" if kw else "")
        print(f"| {label} | {run.seconds:.1f} | {rate:,.0f} | {rate / rates['serial'][0]:.2f} | {cpu:.1f} + {kids:.1f} "
              f"| {idle:.1f} | {est['serial'][0] / idle:.2f} |", flush=True)
    serial = float(np.mean(rates["serial"]))
    print(f"\nwall: processes / mean of the two serial runs {rates['processes'][0] / serial:.2f}x; idle-machine "
          f"estimate {np.mean(est['serial']) / est['processes'][0]:.2f}x. 1,000,000 extrapolated (x {1e6 / n:g}): "
          f"wall serial {1e6 / serial / 60:.1f} min, processes {1e6 / rates['processes'][0] / 60:.1f} min; "
          "idle-machine "
          f"estimate serial {np.mean(est['serial']) * 1e6 / n / 60:.1f} min, processes "
          f"{est['processes'][0] * 1e6 / n / 60:.1f} min")
    print("\n" + smart_split(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        sweep_file = Path(tmp) / "smart_n.toml"
        text = SMART_MILLION.read_text().replace("n = 1000000", f"n = {n}")
        sweep_file.write_text(text.replace('"../korea_us_2025/', f'"{KOREA}/'))
        mem, sec = peak_memory(sweep_file)
    print(f"\n`tariffsim sweep` of those {n:,} scenarios in a child process (serial, end to end): "
          f"{sec:.1f} s, peak RSS {mem:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sweeps, no million-scenario run")
    parser.add_argument("--smart", type=int, metavar="N", help="only the SMART sweep section, on N scenarios")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # SMART's linear clipping notes are expected at 50% rates
    __import__("logging").getLogger("tariffsim").setLevel("ERROR")
    if args.smart:
        print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {__import__('os').cpu_count()} cores, "
              f"load average {__import__('os').getloadavg()[0]:.1f}\n")
        smart_sweep(args.smart)
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
