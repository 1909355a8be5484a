"""Run a sweep chunk by chunk into a directory of Parquet files; resume; read it back.

Belongs here: :func:`run_sweep` (prepare once, pick the pending chunks, hand them to a
backend, write each finished chunk), the output directory layout and its manifest,
:func:`read_sweep`. Does not belong here: the chunk computation (``evaluate``), how chunks
are scheduled (``backends``), summaries (``summary``).

Output directory::

    manifest.json            spec, spec hash, chunk size, parameter names, chunks done, notes
    elasticities.parquet     theta per elasticity setting (sweeps with [elasticities])
    chunks/chunk-000000.parquet   one file per finished chunk (rows: model x scenario x country)
    flows/chunk-000000.parquet    per-flow rows (``flows = true`` only)

Every file is written to a temporary name and renamed into place (atomic on POSIX and
Windows), so a file that exists is complete. A chunk is done when its ``chunks/`` file
exists: resuming recomputes exactly the missing chunks, each from its index alone, so the
result is identical to an uninterrupted run. The manifest is rewritten after every chunk.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, shorten_list
from .evaluate import ChunkOutput, SweepJob, prepare_job
from .spec import as_spec, check_parameters

__all__ = ["run_sweep", "read_sweep", "read_manifest", "SweepRun", "prepare_sweep", "BACKENDS"]

log = logging.getLogger(__name__)

BACKENDS = ("serial", "processes", "dask")
FORMAT = "tariffsim-sweep/1"
_MAX_NOTES = 50


@dataclass(frozen=True)
class SweepRun:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    out : Path
    n_scenarios, n_chunks : int
    chunks_run : int
        Chunks computed by this call (the rest were done before: ``resume``).
    failed : dict of model -> int
        Failed scenarios per model over the whole sweep.
    seconds : float
        Wall time of this call.
    backend : str
    """

    out: Path
    n_scenarios: int
    n_chunks: int
    chunks_run: int
    failed: dict[str, int]
    seconds: float
    backend: str

    def read(self, **kwargs) -> pd.DataFrame:
        """:func:`read_sweep` on this output."""
        return read_sweep(self.out, **kwargs)

    @property
    def manifest(self) -> dict[str, Any]:
        return read_manifest(self.out)


# ------------------------------------------------------------------ files
def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    os.replace(tmp, path)


def _chunk_name(chunk: int) -> str:
    return f"chunk-{chunk:06d}.parquet"


def read_manifest(out: str | Path) -> dict[str, Any]:
    """The manifest of a sweep output directory."""
    path = Path(out) / "manifest.json"
    if not path.is_file():
        raise DataError(f"{str(out)!r} is not a sweep output directory (no manifest.json).")
    return json.loads(path.read_text(encoding="utf-8"))


def _chunks_on_disk(out: Path) -> set[int]:
    done = set()
    for p in (out / "chunks").glob("chunk-*.parquet"):
        done.add(int(p.stem.split("-")[1]))
    return done


def read_sweep(out: str | Path, *, table: str = "rows", columns=None, models=None, countries=None,
               scenarios: tuple[int, int] | None = None) -> pd.DataFrame:
    """Read a sweep's rows (or per-flow rows) into one DataFrame, in scenario order.

    Parameters
    ----------
    out : str or Path
        The sweep output directory.
    table : {"rows", "flows", "elasticities"}
    columns : list of str, optional
        Read only these columns (Parquet column projection: what keeps large sweeps small).
    models, countries : list of str, optional
        Keep only these models / countries (``countries`` filters ``importer`` for flows).
    scenarios : (start, stop), optional
        Keep scenario indices in ``[start, stop)``.

    Returns
    -------
    DataFrame
    """
    import pyarrow.dataset as ds

    out = Path(out)
    manifest = read_manifest(out)
    if table == "elasticities":
        return pd.read_parquet(out / "elasticities.parquet")
    folders = {"rows": "chunks", "flows": "flows"}
    if table not in folders:
        raise DataError(f"unknown table {table!r}; choose one of ['rows', 'flows', 'elasticities'].")
    files = sorted((out / folders[table]).glob("chunk-*.parquet"))
    missing = manifest["n_chunks"] - len(files) if table == "rows" else 0
    if missing:
        warnings.warn(f"{out}: {missing} of {manifest['n_chunks']} chunks are not done; reading the others "
                      "(resume the sweep to finish it).", UserWarning, stacklevel=2)
    if not files:
        return pd.DataFrame(columns=list(columns) if columns else manifest.get("columns", []))
    data = ds.dataset([str(f) for f in files], format="parquet")
    expr = None
    for col, vals in (("model", models), ("country" if table == "rows" else "importer", countries)):
        if vals is not None:
            cond = ds.field(col).isin(list(vals))
            expr = cond if expr is None else expr & cond
    if scenarios is not None:
        cond = (ds.field("scenario") >= int(scenarios[0])) & (ds.field("scenario") < int(scenarios[1]))
        expr = cond if expr is None else expr & cond
    return data.to_table(columns=list(columns) if columns else None, filter=expr).to_pandas()


# ------------------------------------------------------------------ prepare
def prepare_sweep(spec, *, world=None, chunk_size: int | None = None) -> SweepJob:
    """Load the base scenario, compile it once and check the spec against it.

    Parameters
    ----------
    spec : SweepSpec, dict or path of a sweep file
    world : TradeWorld, optional
        Default: the embedded world the scenario asks for.
    chunk_size : int, optional
        Override the spec's chunk size.

    Returns
    -------
    SweepJob

    Raises
    ------
    ScenarioError
        Unknown parameter names (with did-you-mean) or misuse of switches.
    """
    from ..schedule.compile import prepare_schedule
    from ..simulate import _as_scenarios

    spec = as_spec(spec)
    if chunk_size is not None:
        spec = spec.with_chunk_size(chunk_size)
    scenario = _as_scenarios(spec.scenario)[0]
    schedule = prepare_schedule(scenario, world, date=spec.date)
    check_parameters(spec, schedule.parameter_names)
    job = prepare_job(spec, scenario, schedule)
    world = schedule.world
    job.spec_hash = spec.content_hash(
        "\n".join(schedule.parameter_names).encode(), schedule.defaults.tobytes(), world.name.encode(),
        np.ascontiguousarray(world.flows).tobytes(),
    )
    if spec.sample is not None and spec.sample.method == "sobol" and spec.sample.n & (spec.sample.n - 1):
        warnings.warn(f"sweep {spec.name!r}: a Sobol' sample is balanced only when n is a power of 2 (n = "
                      f"{spec.sample.n}; try {2 ** math.ceil(math.log2(spec.sample.n))}).", UserWarning, stacklevel=3)
    return job


def _new_manifest(job: SweepJob) -> dict[str, Any]:
    from .. import __version__

    spec, sched = job.spec, job.schedule
    return {
        "format": FORMAT,
        "tariffsim_version": __version__,
        "name": spec.name,
        "spec_hash": job.spec_hash,
        "spec": spec.to_dict(),
        "scenario": sched.scenario.name,
        "scenario_file": sched.scenario.file,
        "world": sched.world.name,
        "n_scenarios": spec.n_scenarios,
        "chunk_size": spec.chunk_size,
        "n_chunks": spec.n_chunks,
        "models": list(spec.models),
        "parameter_names": list(spec.varied),
        "parameter_defaults": {n: float(sched.defaults[sched.parameter_index(n)]) for n in spec.varied},
        "all_parameter_names": [n for n in sched.parameter_names if not n.startswith("(")],
        "elasticity_settings": [list(x) for x in job.labels],
        "chunks_done": [],
        "failed": {m: 0 for m in spec.models},
        "failed_by_chunk": {},
        "notes": [],
        "complete": False,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _open_output(job: SweepJob, out: Path, resume: bool) -> tuple[dict[str, Any], set[int]]:
    spec = job.spec
    if (out / "manifest.json").is_file():
        if not resume:
            raise DataError(f"{str(out)!r} already holds a sweep; pass resume=True (CLI --resume) to continue it, "
                            "or choose another output directory.")
        manifest = read_manifest(out)
        if manifest.get("spec_hash") != job.spec_hash:
            raise DataError(
                f"{str(out)!r} holds a different sweep (spec hash {manifest.get('spec_hash', '?')[:12]}, "
                f"this one {job.spec_hash[:12]}): the grid, sample, elasticities, models, seed, scenario or "
                "world changed. Resume only an unchanged sweep, or choose another output directory."
            )
        if manifest["chunk_size"] != spec.chunk_size:
            raise DataError(
                f"{str(out)!r} was written with chunk_size {manifest['chunk_size']}, not {spec.chunk_size}; "
                f"resume with chunk_size={manifest['chunk_size']} (CLI --chunk-size)."
            )
        for tmp in list(out.glob("**/*.tmp")):  # half-written files of the interrupted run
            tmp.unlink()
        done = _chunks_on_disk(out)
        manifest["chunks_done"] = sorted(done)
        manifest["failed_by_chunk"] = {k: v for k, v in manifest.get("failed_by_chunk", {}).items() if int(k) in done}
        return manifest, done
    out.mkdir(parents=True, exist_ok=True)
    (out / "chunks").mkdir(exist_ok=True)
    if spec.flows:
        (out / "flows").mkdir(exist_ok=True)
    manifest = _new_manifest(job)
    if job.theta is not None:
        frame = pd.DataFrame(job.theta, columns=list(job.schedule.world.sectors))
        frame.insert(0, "elasticity_draw", [d for _, d in job.labels])
        frame.insert(0, "elasticity_source", [s for s, _ in job.labels])
        _write_parquet(frame, out / "elasticities.parquet")
    return manifest, set()


class _Sink:
    """Writes finished chunks and keeps the manifest current (runs in the calling process)."""

    def __init__(self, job: SweepJob, out: Path, manifest: dict, done: set[int], progress: bool) -> None:
        from tqdm.auto import tqdm

        self.job, self.out, self.manifest, self.done = job, out, manifest, set(done)
        spec = job.spec
        already = sum(min(spec.chunk_size, spec.n_scenarios - c * spec.chunk_size) for c in self.done)
        self.bar = tqdm(
            total=spec.n_scenarios,
            initial=already,
            unit="scen",
            disable=not progress,
            desc=f"sweep {spec.name}",
            smoothing=0.1,
            dynamic_ncols=True,
        )
        self._seen = {re.sub(r"[0-9]+", "#", n) for n in manifest.get("notes", [])}

    def write(self, res: ChunkOutput) -> None:
        if res.flows is not None:
            _write_parquet(res.flows, self.out / "flows" / _chunk_name(res.chunk))
        _write_parquet(res.rows, self.out / "chunks" / _chunk_name(res.chunk))  # the commit point
        self.done.add(res.chunk)
        m = self.manifest
        m["chunks_done"] = sorted(self.done)
        if any(res.failed.values()):
            m["failed_by_chunk"][str(res.chunk)] = res.failed
        for note in res.notes:
            key = re.sub(r"[0-9]+", "#", note)  # the same warning with other counts is the same note
            if key not in self._seen and len(m["notes"]) < _MAX_NOTES:
                self._seen.add(key)
                m["notes"].append(note)
                log.warning("sweep %s: %s", self.job.spec.name, note)
        self.flush()
        spec = self.job.spec
        self.bar.update(min(spec.chunk_size, spec.n_scenarios - res.chunk * spec.chunk_size))

    def flush(self) -> None:
        m = self.manifest
        failed = {k: 0 for k in m["models"]}
        for per in m["failed_by_chunk"].values():
            for k, v in per.items():
                failed[k] = failed.get(k, 0) + int(v)
        m["failed"] = failed
        m["complete"] = len(self.done) == m["n_chunks"]
        _atomic_bytes(self.out / "manifest.json", json.dumps(m, indent=1).encode())

    def close(self) -> None:
        self.bar.close()


# ------------------------------------------------------------------ run
def run_sweep(
    spec,
    out: str | Path,
    *,
    backend: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    resume: bool = False,
    chunk_size: int | None = None,
    progress: bool = True,
    world=None,
    max_chunks: int | None = None,
) -> SweepRun:
    """Run a sweep chunk by chunk and write it to ``out`` (Parquet + manifest).

    Parameters
    ----------
    spec : SweepSpec, dict or path of a sweep file
    out : str or Path
        Output directory (created). Holding a sweep already, it is continued with
        ``resume=True`` and refused otherwise.
    backend : {"serial", "processes", "dask"}
        Where chunks are computed: this process; ``workers`` local processes
        (``concurrent.futures.ProcessPoolExecutor``); a Dask cluster (``scheduler``
        address, an existing ``client``, or a new ``LocalCluster`` of ``workers``
        single-threaded processes). Each chunk is one task; results are written here.
    workers : int, optional
        Processes (default: CPU count) or LocalCluster workers (default: 2).
    scheduler : str, optional
        Dask scheduler address, e.g. ``"tcp://10.0.0.5:8786"``.
    client : dask.distributed.Client, optional
        Use this client (``backend="dask"``).
    resume : bool
        Continue an interrupted sweep in ``out``: only missing chunks are computed.
    chunk_size : int, optional
        Override ``spec.chunk_size`` (must match the output when resuming).
    progress : bool
        Show a tqdm progress bar (scenarios).
    world : TradeWorld, optional
        Default: the embedded world the base scenario asks for.
    max_chunks : int, optional
        Compute at most this many pending chunks, then return (the sweep stays resumable).

    Returns
    -------
    SweepRun

    Raises
    ------
    ScenarioError
        Invalid spec (unknown parameter names with did-you-mean, ...).
    DataError
        Output directory holding another sweep, bad backend options.
    Exception
        Anything a model raises other than non-convergence (bugs are not hidden).
    """
    from .backends import run_chunks

    if backend not in BACKENDS:
        from ..errors import did_you_mean

        raise DataError(
            f"The 'backend' parameter of run_sweep must be a str among {list(BACKENDS)}. Got {backend!r} "
            f"instead. {did_you_mean(backend, BACKENDS)}".rstrip()
        )
    if (scheduler is not None or client is not None) and backend != "dask":
        raise DataError(f"scheduler/client apply to backend='dask' only (got backend={backend!r}).")
    if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
        raise DataError(
            f"The 'workers' parameter of run_sweep must be an int in the range [1, inf). Got {workers!r} instead."
        )
    t0 = time.perf_counter()
    out = Path(out)
    job = prepare_sweep(spec, world=world, chunk_size=chunk_size)
    manifest, done = _open_output(job, out, resume)
    pending = [c for c in range(job.spec.n_chunks) if c not in done]
    if max_chunks is not None:
        pending = pending[: int(max_chunks)]
    sink = _Sink(job, out, manifest, done, progress)
    try:
        sink.flush()
        run_chunks(job, pending, sink.write, backend=backend, workers=workers, scheduler=scheduler, client=client)
    finally:
        sink.close()
    if sink.manifest["complete"] and not sink.manifest.get("finished"):
        sink.manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        sink.flush()
    failed = dict(sink.manifest["failed"])
    if any(failed.values()):
        log.warning(
            "sweep %s: failed scenarios by model %s (see the 'status' and 'reason' columns)", job.spec.name, failed
        )
    return SweepRun(
        out, job.spec.n_scenarios, job.spec.n_chunks, len(pending), failed, time.perf_counter() - t0, backend
    )


def describe(job_or_manifest) -> str:
    """One line: scenarios, chunks, parameters."""
    m = job_or_manifest
    return (
        f"{m['n_scenarios']:,} scenarios in {m['n_chunks']} chunks of {m['chunk_size']}; models "
        f"{', '.join(m['models'])}; varied {shorten_list(m['parameter_names'], 6)}"
    )
