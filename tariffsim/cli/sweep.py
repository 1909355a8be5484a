"""``tariffsim sweep FILE``: run a sweep file chunk by chunk into Parquet files.

Thin: parses arguments, calls :func:`tariffsim.sweep.run_sweep`, prints where the results
are and (for sweeps up to 200,000 scenarios) median and 90% band of welfare by country.
Errors are turned into exit codes by :mod:`tariffsim.cli`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]

_TABLE_LIMIT = 200_000


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def register(sub, parents=()) -> None:
    """Add the ``sweep`` sub-command."""
    p = sub.add_parser(
        "sweep",
        parents=parents,
        help="run a sweep file (grids, samples, elasticity draws) into Parquet files",
        description="Run a sweep file chunk by chunk; each finished chunk is a Parquet file in --out.",
    )
    p.add_argument("file", metavar="FILE", help="sweep TOML file (e.g. scenarios/sweeps/july_package.toml)")
    p.add_argument(
        "--backend",
        choices=("serial", "processes", "dask"),
        default="serial",
        help="where chunks run: this process (default), local processes, or a Dask cluster",
    )
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address (default: a new LocalCluster)")
    p.add_argument("--workers", type=_positive, metavar="N", help="processes or LocalCluster workers")
    p.add_argument("--out", type=Path, metavar="DIR", help="output directory (default: ./<sweep name>_sweep)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted sweep in --out")
    p.add_argument("--chunk-size", type=_positive, metavar="N", help="scenarios per chunk (default: the file's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_sweep)


def _cmd_sweep(args) -> int:
    from ..errors import DataError
    from ..models.registry import get_model
    from ..sweep import load_sweep, quantile_bands, run_sweep

    if args.scheduler and args.backend != "dask":
        raise DataError(f"--scheduler applies to --backend dask only (got --backend {args.backend}).")
    spec = load_sweep(args.file)
    out = args.out or Path(f"{spec.name}_sweep")
    run = run_sweep(
        spec,
        out,
        backend=args.backend,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        chunk_size=args.chunk_size,
        progress=not args.no_progress,
    )
    failed = ", ".join(f"{m} {n}" for m, n in run.failed.items() if n) or "none"
    print(
        f"sweep {spec.name!r}: {run.n_scenarios:,} scenarios, {run.n_chunks} chunks "
        f"({run.chunks_run} computed now) in {run.seconds:.1f} s on backend {run.backend}"
    )
    print(f"failed scenarios: {failed}")
    print(f"results: {out}/chunks/*.parquet (read with tariffsim.sweep.read_sweep({str(out)!r}))")
    if run.n_scenarios <= _TABLE_LIMIT:
        welfare = {m: get_model(m).welfare for m in spec.models}
        models = [m for m in spec.models if welfare[m]]  # models with a welfare measure
        output = "welfare_pct" if "welfare_pct" in welfare.values() else "welfare_change" if models else "etr"
        bands = quantile_bands(out, output, quantiles=(0.05, 0.5, 0.95), models=models or list(spec.models))
        bands = bands[bands["n"] > 0]
        if len(bands):
            print(f"\n{output}: median and 90% band over the sweep")
            sys.stdout.write(bands.to_string(index=False, float_format=lambda x: f"{x:,.4g}") + "\n")
    return 0
