"""Where chunks are computed: this process, local processes, or a Dask cluster.

Belongs here: :func:`run_chunks`, which evaluates a list of chunk indices with one backend
and hands each finished :class:`~.evaluate.ChunkOutput` to a callback in the calling
process (which writes it). Every backend evaluates a chunk with the same function from the
same :class:`~.evaluate.SweepJob`, so results are identical across backends. At most a few
chunks per worker are in flight, so memory stays flat however many chunks there are.
Exceptions raised in a worker (bugs) propagate to the caller.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..errors import DataError
from .evaluate import ChunkOutput, SweepJob, evaluate_chunk

__all__ = ["run_chunks"]

_IN_FLIGHT_PER_WORKER = 2
_WORKER_JOB: SweepJob | None = None


def run_chunks(job: SweepJob, chunks: Sequence[int], on_done: Callable[[ChunkOutput], None], *,
               backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
               client=None) -> None:
    """Evaluate ``chunks`` and call ``on_done`` with each result, as they finish."""
    chunks = list(chunks)
    if not chunks:
        return
    if backend == "serial":
        for c in chunks:
            on_done(evaluate_chunk(job, c))
    elif backend == "processes":
        _processes(job, chunks, on_done, workers or os.cpu_count() or 1)
    elif backend == "dask":
        _dask(job, chunks, on_done, workers, scheduler, client)
    else:  # pragma: no cover - validated by run_sweep
        raise DataError(f"unknown backend {backend!r}")


# ------------------------------------------------------------------ processes
def _init_worker(job: SweepJob) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job


def _worker_chunk(chunk: int) -> ChunkOutput:
    return evaluate_chunk(_WORKER_JOB, chunk)


def _processes(job: SweepJob, chunks: list[int], on_done, workers: int) -> None:
    import multiprocessing

    # spawn: no fork of a process that may run threads (progress bar, Dask); the job
    # (compiled schedule, a few MB) is sent once per worker by the initializer
    ctx = multiprocessing.get_context("spawn")
    todo = iter(chunks)
    limit = workers * _IN_FLIGHT_PER_WORKER
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(job,)) as pool:
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
            client = own_client = Client(scheduler)
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
