"""Run a sweep chunk by chunk into a directory of Parquet files, and resume it.

Belongs here: :func:`prepare_sweep` (compile once, check names, hash what determines the
rows), :func:`run_sweep` (lock the folder, pick the pending chunks, hand them to a backend,
write and journal each finished chunk) and the manifest's content. The folder's rules
(journal, checksums, lock, reading back) are in ``store``; the chunk computation in
``evaluate``; scheduling in ``backends``; summaries in ``summary``.

Resuming recomputes exactly the chunks that are not verified done (missing, unfinished,
truncated or altered), each from its index alone, so the result is identical to an
uninterrupted run. A sweep whose spec, base scenario (its compiled measures), world or
chunk size changed is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
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
from .backends import BACKENDS
from .evaluate import ChunkOutput, SweepJob, prepare_job
from .manifest import FORMAT, check_same_sweep, new_manifest, scenario_hash
from .spec_check import as_spec, check_parameters
from .store import (
    JOURNAL,
    MANIFEST,
    Journal,
    SweepLock,
    atomic_bytes,
    check_new_folder,
    chunk_name,
    read_manifest,
    read_sweep,
    require_pyarrow,
    sha256_file,
)

__all__ = ["run_sweep", "read_sweep", "read_manifest", "SweepRun", "prepare_sweep", "BACKENDS"]

log = logging.getLogger(__name__)

_MAX_NOTES = 50
_FLUSH_SECONDS = 5.0


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
def _write_parquet(frame, path: Path) -> str:
    """Write ``frame`` (a pyarrow Table or a DataFrame) to ``path`` atomically (temporary name,
    then rename); returns its SHA-256.

    Dictionary-encoded label columns and min/max statistics for the columns ``read_sweep``
    filters on (scenario, model, country); snappy compression.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    names = table.schema.names
    strings = [f.name for f in table.schema if pa.types.is_large_string(f.type) or pa.types.is_string(f.type)]
    stats = [c for c in ("scenario", "model", "country", "importer") if c in names]
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, use_dictionary=strings or False, write_statistics=stats or False)
    data = buf.getvalue()
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def write_chunk(out: Path, res: ChunkOutput) -> ChunkOutput:
    """Write a chunk's files (flows first, rows last) into ``out``; the result without its frames,
    with ``files`` = {relative path: SHA-256} for the journal (cheap to send between processes)."""
    files = {}
    for folder, table in (("flows", res.flow_table), ("chunks", res.table)):
        if table is not None:
            path = Path(out) / folder / chunk_name(res.chunk)
            files[f"{folder}/{path.name}"] = _write_parquet(table, path) or sha256_file(path)
    return dataclasses.replace(res, table=None, flow_table=None, files=files, columns=list(res.table.schema.names))


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
    job.scenario_hash = scenario_hash(schedule)
    job.spec_hash = spec.content_hash(
        "\n".join(schedule.parameter_names).encode(), schedule.defaults.tobytes(), world.name.encode(),
        np.ascontiguousarray(world.flows).tobytes(), job.scenario_hash.encode(),
    )
    if spec.sample is not None and spec.sample.method == "sobol" and spec.sample.n & (spec.sample.n - 1):
        warnings.warn(f"sweep {spec.name!r}: a Sobol' sample is balanced only when n is a power of 2 (n = "
                      f"{spec.sample.n}; try {2 ** math.ceil(math.log2(spec.sample.n))}).", UserWarning, stacklevel=3)
    return job


def _verified_chunks(job: SweepJob, out: Path, manifest: dict[str, Any]) -> set[int]:
    """Chunks whose files match their checksums; the others are deleted (and recomputed)."""
    journal = Journal(out)
    if not journal.path.is_file():  # format 1 (no journal): its files were complete by construction
        for folder in ("chunks", "flows"):
            for p in sorted((out / folder).glob("chunk-*.parquet")):
                journal.record(p, sha256_file(p))
    done, bad = journal.verified("chunks", deep=True)
    if job.spec.flows:
        flows_done, flows_bad = journal.verified("flows", deep=True)
        bad += flows_bad
        done &= flows_done
    if bad:
        log.warning("sweep %s: %d chunk file(s) fail verification and are recomputed: %s", job.spec.name, len(bad),
                    "; ".join(bad[:5]))
        manifest["notes"].append(f"resume: recomputed {len(bad)} chunk file(s) that failed verification: "
                                 f"{'; '.join(bad[:3])}")
    for folder in ("chunks", "flows"):
        for p in (out / folder).glob("chunk-*.parquet"):
            idx = p.stem.split("-")[1]
            if not idx.isdigit() or int(idx) not in done:
                p.unlink()
    return done


def _open_output(job: SweepJob, out: Path, resume: bool) -> tuple[dict[str, Any], set[int]]:
    spec = job.spec
    if (out / MANIFEST).is_file():
        if not resume:
            raise DataError(f"{str(out)!r} already holds a sweep; pass resume=True (CLI --resume) to continue it, "
                            "or choose another output directory.")
        try:
            manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except ValueError as err:
            raise DataError(f"{str(out / MANIFEST)!r} is damaged ({err}); run the sweep into a new "
                            "directory.") from None
        check_same_sweep(job, out, manifest)
        for tmp in list(out.glob("**/*.tmp")):  # half-written files of the interrupted run
            tmp.unlink()
        manifest.setdefault("notes", [])
        done = _verified_chunks(job, out, manifest)
        manifest["format"] = FORMAT
        manifest["scenario_hash"] = job.scenario_hash
        manifest["chunks_done"] = sorted(done)
        manifest["failed_by_chunk"] = {k: v for k, v in manifest.get("failed_by_chunk", {}).items() if int(k) in done}
        return manifest, done
    check_new_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "chunks").mkdir(exist_ok=True)
    if spec.flows:
        (out / "flows").mkdir(exist_ok=True)
    (out / JOURNAL).touch()
    manifest = new_manifest(job)
    if job.theta is not None:
        frame = pd.DataFrame(job.theta, columns=list(job.schedule.world.sectors))
        frame.insert(0, "elasticity_draw", [d for _, d in job.labels])
        frame.insert(0, "elasticity_source", [s for s, _ in job.labels])
        _write_parquet(frame, out / "elasticities.parquet")
    return manifest, set()


class _Sink:
    """Writes finished chunks, journals them and keeps the manifest current (in the calling process)."""

    def __init__(self, job: SweepJob, out: Path, manifest: dict, done: set[int], progress: bool) -> None:
        from tqdm.auto import tqdm

        self.job, self.out, self.manifest, self.done = job, out, manifest, set(done)
        self.journal = Journal(out)
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
        self._flushed = time.monotonic()

    def write(self, res: ChunkOutput) -> None:
        dirty = False
        if res.files is None:  # computed here or on a cluster: write it here
            res = write_chunk(self.out, res)
        for rel, digest in res.files.items():  # rows last: the commit point
            self.journal.record(self.out / rel, digest)
        self.done.add(res.chunk)
        m = self.manifest
        if not m.get("columns"):
            m["columns"], dirty = list(res.columns or []), True
        if any(res.failed.values()):
            m["failed_by_chunk"][str(res.chunk)] = res.failed
            dirty = True
        for note in res.notes:
            key = re.sub(r"[0-9]+", "#", note)  # the same warning with other counts is the same note
            if key not in self._seen and len(m["notes"]) < _MAX_NOTES:
                self._seen.add(key)
                m["notes"].append(note)
                dirty = True
                log.warning("sweep %s: %s", self.job.spec.name, note)
        if dirty or time.monotonic() - self._flushed > _FLUSH_SECONDS:
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
        m["chunks_done"] = sorted(self.done)
        m["complete"] = len(self.done) == m["n_chunks"]
        atomic_bytes(self.out / MANIFEST, json.dumps(m, indent=1).encode())
        self._flushed = time.monotonic()

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
        ``resume=True`` and refused otherwise; a non-empty folder without a sweep is refused.
    backend : {"serial", "processes", "dask"}
        Where chunks are computed: this process; ``workers`` local processes (spawned; a
        script that calls this must do so under ``if __name__ == "__main__":``); a Dask
        cluster (``scheduler`` address, an existing ``client``, or a new ``LocalCluster`` of
        ``workers`` single-threaded processes). Each chunk is one task; results are written here.
    workers : int, optional
        Processes (default: CPU count) or LocalCluster workers (default: 2).
    scheduler : str, optional
        Dask scheduler address, e.g. ``"tcp://10.0.0.5:8786"``.
    client : dask.distributed.Client, optional
        Use this client (``backend="dask"``).
    resume : bool
        Continue an interrupted sweep in ``out``: chunks not verified done (missing,
        unfinished, truncated, altered) are computed.
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
        Output directory holding another sweep, or in use by another run; a changed base
        scenario on resume; bad backend options; pyarrow missing; a Dask scheduler that does
        not answer; worker processes that die.
    Exception
        Anything a model raises other than non-convergence (bugs are not hidden).
    """
    from .backends import check_backend, run_chunks

    check_backend(backend, workers, scheduler, client)
    require_pyarrow()
    t0 = time.perf_counter()
    out = Path(out)
    job = prepare_sweep(spec, world=world, chunk_size=chunk_size)
    if out.exists() and not out.is_dir():
        raise DataError(f"{str(out)!r} is a file; choose a folder for the sweep output.")
    out.mkdir(parents=True, exist_ok=True)
    with SweepLock(out):
        manifest, done = _open_output(job, out, resume)
        pending = [c for c in range(job.spec.n_chunks) if c not in done]
        if max_chunks is not None:
            pending = pending[: int(max_chunks)]
        sink = _Sink(job, out, manifest, done, progress)
        try:
            sink.flush()
            run_chunks(job, pending, sink.write, backend=backend, workers=workers, scheduler=scheduler, client=client,
                       out=out)
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
