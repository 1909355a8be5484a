"""Every backend gives the same rows: serial, local processes, Dask (a real LocalCluster)."""

from __future__ import annotations

import pandas as pd
import pytest

from tariffsim.sweep import read_sweep, run_sweep
from test_sweep_support import toy_spec


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serial")
    run = run_sweep(toy_spec(tmp), tmp / "out", progress=False)
    return tmp, read_sweep(run.out)


def test_processes_backend_matches_serial(serial, tmp_path):
    tmp, expected = serial
    run = run_sweep(toy_spec(tmp), tmp_path / "out", backend="processes", workers=2, progress=False)
    assert run.chunks_run == 10
    # bit-identical with numpy 2; with numpy 1.26 (the minimum versions) the workers round differently
    # (measured: accounting identical, SMART within 2e-14, GE welfare within 7e-14 pp), and the GE
    # solve carries that to 5e-8 USD mn in `trade_balance_change`, a difference of flows ~1e5: the
    # default relative tolerance rejects it on rows whose change is near zero
    pd.testing.assert_frame_equal(read_sweep(run.out), expected, rtol=1e-9, atol=1e-6)


@pytest.mark.filterwarnings(
    # distributed may close its comms while the event loop shuts down (teardown noise, not our code)
    "ignore:.*(unclosed|Event loop|coroutine).*:ResourceWarning",
    "ignore:.*(unclosed|Event loop|coroutine).*:RuntimeWarning",
)
def test_dask_backend_matches_serial(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    tmp, expected = serial
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        run = run_sweep(
            toy_spec(tmp), tmp_path / "out", backend="dask", scheduler=cluster.scheduler_address, progress=False
        )
        assert run.chunks_run == 10
        pd.testing.assert_frame_equal(read_sweep(run.out), expected)
        with distributed.Client(cluster) as client:  # an existing client, resuming a partial sweep
            out = tmp_path / "out2"
            run_sweep(toy_spec(tmp), out, progress=False, max_chunks=4)
            again = run_sweep(toy_spec(tmp), out, backend="dask", client=client, resume=True, progress=False)
            assert again.chunks_run == 6
            pd.testing.assert_frame_equal(read_sweep(out), expected)


def test_threads_evaluate_chunks_at_the_same_time(serial):
    """Threaded Dask workers: two chunks are inside evaluate_chunk at once (no process-wide lock),
    and each still gives the serial rows and records the warnings raised while it ran."""
    import threading
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    import tariffsim.sweep.evaluate as evaluate
    from tariffsim.sweep import prepare_sweep

    tmp, expected = serial
    job = prepare_sweep(toy_spec(tmp))
    both_inside = threading.Barrier(2, timeout=60)  # with a lock around chunks this times out
    real = evaluate._evaluate

    def meeting(job, chunk):
        both_inside.wait()
        warnings.warn(f"note from chunk {chunk}", UserWarning, stacklevel=1)
        return real(job, chunk)

    evaluate._evaluate = meeting
    try:
        with ThreadPoolExecutor(2) as pool:
            outs = list(pool.map(lambda c: evaluate.evaluate_chunk(job, c), [3, 7]))
    finally:
        evaluate._evaluate = real
    for out in outs:
        assert f"UserWarning: note from chunk {out.chunk}" in out.notes
        want = expected[expected.scenario.between(out.chunk * 10, out.chunk * 10 + 9)].reset_index(drop=True)
        pd.testing.assert_frame_equal(out.rows, want)
