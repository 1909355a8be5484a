"""Time ``tariffsim run <scenario>`` as a user runs it: a fresh Python process each time.

Usage (from the repository root)::

    python benchmarks/bench_run.py                       # 5 runs of the Liberation Day scenario
    python benchmarks/bench_run.py --runs 9 --model accounting scenarios/korea_us_2025/deal_15pct.toml
    python benchmarks/bench_run.py --no-compile          # without .pyc files for tariffsim

Each run is ``python -m tariffsim run FILE --model MODEL`` in a subprocess (stdout discarded),
with this repository first on ``PYTHONPATH``. Reported: wall time (``time.perf_counter`` around
the subprocess) and CPU time (user + sys of the child, ``resource.getrusage(RUSAGE_CHILDREN)``),
min and median over the runs; the load average before the runs (``os.getloadavg``); and the
import share: one more run with ``-X importtime``, summing the cumulative times of the
top-level imports (everything ``python -m tariffsim`` imports, the lazy imports made while
running included), as seconds and as a share of that run's wall time.

By default the package's bytecode is compiled first (``compileall``), as an installed wheel
has it: with ``PYTHONDONTWRITEBYTECODE`` set (or a read-only checkout) Python would otherwise
compile every tariffsim module from source on each run (about 0.1-0.2 s here). ``--no-compile``
measures that case.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "scenarios/korea_us_2025/liberation_day.toml"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def _command(scenario: str, model: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, *extra, "-m", "tariffsim", "run", scenario, "--model", model]


def time_run(scenario: str, model: str) -> tuple[float, float]:
    """(wall s, CPU s = user + sys) of one ``tariffsim run`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(_command(scenario, model), cwd=ROOT, env=_env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_share(scenario: str, model: str) -> tuple[float, float]:
    """(seconds spent importing, wall s of that run) from one run with ``-X importtime``."""
    t0 = time.perf_counter()
    out = subprocess.run(_command(scenario, model, ("-X", "importtime")), cwd=ROOT, env=_env(), check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    total_us = 0
    for line in out.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"; top level = no indentation
        if not line.startswith("import time:") or line.endswith("imported package"):
            continue
        _, cumulative, name = line.split("|", 2)
        if not name.startswith("  "):
            total_us += int(cumulative)
    return total_us / 1e6, wall


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", nargs="?", default=DEFAULT, help=f"scenario file (default: {DEFAULT})")
    p.add_argument("--model", default="accounting")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--no-compile", action="store_true", help="do not write .pyc files for tariffsim first")
    args = p.parse_args(argv)
    if not args.no_compile:
        compileall.compile_dir(ROOT / "tariffsim", quiet=1)
    load = os.getloadavg()
    time_run(args.scenario, args.model)  # warm the file cache; not counted
    walls, cpus = zip(*(time_run(args.scenario, args.model) for _ in range(args.runs)))
    imports, wall = import_share(args.scenario, args.model)
    print(f"tariffsim run {args.scenario} --model {args.model}: {args.runs} runs, "
          f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"bytecode {'not compiled' if args.no_compile else 'compiled'}")
    print(f"  wall s      min {min(walls):.3f}  median {statistics.median(walls):.3f}  "
          f"all {' '.join(f'{w:.2f}' for w in walls)}")
    print(f"  CPU s       min {min(cpus):.3f}  median {statistics.median(cpus):.3f}  (user + sys)")
    print(f"  imports s   {imports:.3f} of a {wall:.3f} s run with -X importtime ({imports / wall:.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
