"""Where chunks are computed: this process, local processes, or a Dask cluster.

Belongs here: :func:`run_chunks`, which evaluates a list of chunk indices with one backend
and hands each finished :class:`~.evaluate.ChunkOutput` to a callback in the calling
process (which writes it). Every backend evaluates a chunk with the same function from the
same :class:`~.evaluate.SweepJob`, so results are identical across backends. At most a few
chunks per worker are in flight, so memory stays flat however many chunks there are.
Exceptions raised in a worker (bugs) propagate to the caller.

Local processes are spawned (no fork of a process that may run threads). A spawned worker
imports the caller's main script again, so a script must call :func:`run_sweep` under
``if __name__ == "__main__":``. Without that guard the call is refused before any worker
starts (and a worker that re-runs it stops at once with the same message); a worker that
dies for any other reason ends the sweep with an error, never a hang: the job reaches the
workers as a file, so nothing large is ever written down a pipe to a process that is gone.
"""

from __future__ import annotations

import ast
import itertools
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..errors import DataError, did_you_mean
from .evaluate import ChunkOutput, SweepJob, evaluate_chunk

__all__ = ["run_chunks", "check_backend", "BACKENDS"]

BACKENDS = ("serial", "processes", "dask")
_IN_FLIGHT_PER_WORKER = 2
_WORKER_JOB: SweepJob | None = None
_WORKER_OUT: str | None = None
#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT = 10.0
_GUARD = ('run_sweep(..., backend="processes") was called from the top level of the script {file!r} (line {line}). '
          "Worker processes import that script again, which would start the sweep again in every worker. Put the "
          'call under `if __name__ == "__main__":` (see the multiprocessing docs, "Safe importing of main module"), '
          'or use backend="serial".')


def check_backend(backend: str, workers, scheduler, client) -> None:
    """Validate run_sweep's backend arguments (and refuse an unguarded script for processes)."""
    if backend not in BACKENDS:
        raise DataError(f"The 'backend' parameter of run_sweep must be a str among {list(BACKENDS)}. Got {backend!r} "
                        f"instead. {did_you_mean(str(backend), BACKENDS)}".rstrip())
    if (scheduler is not None or client is not None) and backend != "dask":
        raise DataError(f"scheduler/client apply to backend='dask' only (got backend={backend!r}).")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise DataError(f"The 'workers' parameter of run_sweep must be an int in the range [1, inf). Got {workers!r} "
                        "instead.")
    if backend == "processes":
        _check_main_guard()


def _check_main_guard() -> None:
    """Refuse a processes sweep started from a script's top level without the __main__ guard."""
    main = sys.modules.get("__main__")
    frame, top = sys._getframe(1), None
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") in ("__main__", "__mp_main__"):
            top = frame
        frame = frame.f_back
    if top is None:
        return  # no script's top level on the stack (interactive, a notebook, a thread)
    if top.f_globals["__name__"] == "__mp_main__":  # a worker importing an unguarded script: stop it here
        raise DataError(_GUARD.format(file=top.f_globals.get("__file__", "?"), line=top.f_lineno))
    path = getattr(main, "__file__", None)
    if path is None or getattr(getattr(main, "__spec__", None), "name", None) is not None:
        return  # interactive, a notebook, or python -m: workers do not re-run the caller
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, SyntaxError, ValueError):
        return
    line = top.f_lineno
    for node in tree.body:
        if isinstance(node, ast.If) and _is_main_test(node.test) and node.lineno <= line <= (node.end_lineno or line):
            return
    raise DataError(_GUARD.format(file=path, line=line))


def _is_main_test(test) -> bool:
    """``__name__ == "__main__"`` (either side)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    consts = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and consts == ["__main__"]


def run_chunks(job: SweepJob, chunks: Sequence[int], on_done: Callable[[ChunkOutput], None], *,
               backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
               client=None, out=None) -> None:
    """Evaluate ``chunks`` and call ``on_done`` with each result, as they finish.

    With ``out``, local worker processes write their chunk files there themselves (and send
    back checksums, not rows); Dask workers, which may not share a file system, send rows.
    """
    chunks = list(chunks)
    if not chunks:
        return
    if backend == "serial":
        for c in chunks:
            on_done(evaluate_chunk(job, c))
    elif backend == "processes":
        _processes(job, chunks, on_done, workers or os.cpu_count() or 1, out)
    elif backend == "dask":
        _dask(job, chunks, on_done, workers, scheduler, client)
    else:  # pragma: no cover - validated by run_sweep
        raise DataError(f"unknown backend {backend!r}")


# ------------------------------------------------------------------ processes
def _init_worker(job_file: str, out: str | None) -> None:
    global _WORKER_JOB, _WORKER_OUT
    with open(job_file, "rb") as f:
        _WORKER_JOB = pickle.load(f)
    _WORKER_OUT = out


def _worker_chunk(chunk: int) -> ChunkOutput:
    res = evaluate_chunk(_WORKER_JOB, chunk)
    if _WORKER_OUT is None:
        return res
    from .runner import write_chunk

    return write_chunk(Path(_WORKER_OUT), res)


def _processes(job: SweepJob, chunks: list[int], on_done, workers: int, out=None) -> None:
    import multiprocessing

    # spawn: no fork of a process that may run threads (progress bar, Dask). The job (compiled
    # schedule, a few MB) goes to the workers as a file: a pipe write of that size to a worker
    # that died while starting would block forever (CPython keeps the pipe's read end open).
    ctx = multiprocessing.get_context("spawn")
    todo = iter(chunks)
    limit = workers * _IN_FLIGHT_PER_WORKER
    with tempfile.TemporaryDirectory(prefix="tariffsim-sweep-") as tmp:
        job_file = str(Path(tmp) / "job.pickle")
        with open(job_file, "wb") as f:
            pickle.dump(job, f, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(job_file, None if out is None else str(out))) as pool:
                running = set()
                try:
                    for c in todo:
                        running.add(pool.submit(_worker_chunk, c))
                        if len(running) >= limit:
                            break
                    while running:
                        finished, running = wait(running, return_when=FIRST_COMPLETED)
                        for fut in sorted(finished, key=lambda f: f.result().chunk):
                            on_done(fut.result())
                            nxt = next(todo, None)
                            if nxt is not None:
                                running.add(pool.submit(_worker_chunk, nxt))
                except BaseException:
                    for fut in running:
                        fut.cancel()
                    raise
        except BrokenProcessPool as err:
            raise DataError(
                f"a sweep worker process died ({err}); the finished chunks are kept (resume to continue). Causes: "
                "a script that calls run_sweep without `if __name__ == \"__main__\":` (workers import it again), "
                "running out of memory (try fewer --workers or a smaller --chunk-size), or a crash in a compiled "
                "library.") from None


# ------------------------------------------------------------------ dask
def _dask_chunk(job: SweepJob, chunk: int) -> ChunkOutput:
    return evaluate_chunk(job, chunk)


def _dask(job: SweepJob, chunks: list[int], on_done, workers, scheduler, client) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise DataError("backend='dask' needs dask.distributed, for running sweeps on a cluster: "
                        "pip install 'tariffsim[dask]'.") from None
    own_cluster = own_client = None
    if client is None:
        if scheduler is not None:
            try:
                client = own_client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError, TypeError) as err:
                raise DataError(
                    f"could not reach the Dask scheduler at {scheduler!r} within {CONNECT_TIMEOUT:g} s ({err}). "
                    "Start one (`dask scheduler`, then `dask worker ADDR` on each machine), check the address "
                    "(tcp://HOST:8786) and the firewall, or omit --scheduler for a local cluster.") from None
        else:
            own_cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, dashboard_address=None)
            client = own_client = Client(own_cluster)
    try:
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        limit = n_workers * _IN_FLIGHT_PER_WORKER
        shared = client.scatter(job, broadcast=True)
        tag = job.spec_hash[:12]
        todo = iter(chunks)

        def submit(c):
            return client.submit(_dask_chunk, shared, c, key=f"tariffsim-sweep-{tag}-{c}", pure=False)

        first = [submit(c) for c in itertools.islice(todo, limit)]
        queue = as_completed(first)
        for fut in queue:
            res = fut.result()
            fut.release()
            on_done(res)
            nxt = next(todo, None)
            if nxt is not None:
                queue.add(submit(nxt))
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
