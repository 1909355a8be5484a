"""Sweeps under faults: killed writes, truncated and altered chunks, an edited base scenario,
concurrent runs, foreign files, missing pyarrow, an unreachable Dask scheduler, and the
README's Python example saved as a script. Every test counts rows: none lost, none repeated."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from tariffsim.errors import DataError
from tariffsim.sweep import quantile_bands, read_manifest, read_sweep, run_sweep
from test_sweep_support import toy_spec

REPO = Path(__file__).resolve().parents[1]
N_COUNTRIES = 10  # the default world
KEY = ["scenario", "model", "country"]


def _spec(tmp, **kw):
    return toy_spec(tmp, models=["accounting", "smart"], **kw)  # 96 scenarios in 10 chunks of 10


def _assert_exact(out, spec) -> pd.DataFrame:
    """Every (scenario, model, country) exactly once: rows lost 0, duplicates 0."""
    rows = read_sweep(out)
    n = 96 * len(spec["models"]) * N_COUNTRIES
    assert int(rows.duplicated(KEY).sum()) == 0
    assert len(rows) == n
    assert set(rows["scenario"]) == set(range(96))
    return rows


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    run = run_sweep(_spec(tmp), tmp / "out", progress=False)
    return tmp, run.out, _assert_exact(run.out, _spec(tmp))


def _partial(tmp, out, k=4):
    run_sweep(_spec(tmp), out, progress=False, max_chunks=k)
    return sorted((out / "chunks").glob("chunk-*.parquet"))


def test_truncated_chunk_is_left_out_then_recomputed(reference, tmp_path):
    tmp, _, expected = reference
    out = tmp_path / "out"
    files = _partial(tmp, out)
    data = files[2].read_bytes()
    files[2].write_bytes(data[: len(data) // 2])  # truncated (e.g. a disk filled up under another tool)
    with pytest.warns(UserWarning, match="7 of 10 chunks are not done"), \
            pytest.warns(UserWarning, match=r"left out 1 chunk file.*chunk-000002.parquet has .* bytes.*truncated"):
        rows = read_sweep(out)  # a clear warning, never a pyarrow traceback
    assert len(rows) == 3 * 10 * 2 * N_COUNTRIES
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bands = quantile_bands(out, "etr", models=["accounting"])  # the summary reads the good chunks
    said = " | ".join(str(w.message) for w in caught)
    assert "7 of 10 chunks are not done" in said and "truncated" in said, said
    assert set(bands["n"]) == {30}
    run = run_sweep(_spec(tmp), out, progress=False, resume=True)
    assert run.chunks_run == 7  # the 6 never run and the truncated one
    pd.testing.assert_frame_equal(_assert_exact(out, _spec(tmp)), expected)
    assert any("failed verification" in n for n in read_manifest(out)["notes"])


def test_altered_chunk_of_the_same_size_fails_its_checksum(reference, tmp_path):
    tmp, _, expected = reference
    out = tmp_path / "out"
    files = _partial(tmp, out)
    data = bytearray(files[1].read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    files[1].write_bytes(bytes(data))
    run = run_sweep(_spec(tmp), out, progress=False, resume=True)
    assert run.chunks_run == 7
    pd.testing.assert_frame_equal(_assert_exact(out, _spec(tmp)), expected)


def test_foreign_chunks_are_not_read_and_are_replaced(reference, tmp_path):
    tmp, ref_out, expected = reference
    out = tmp_path / "out"
    _partial(tmp, out)
    other = tmp_path / "other"
    run_sweep(_spec(tmp, seed=99), other, progress=False)
    for p in sorted((other / "chunks").glob("*.parquet"))[4:8]:  # another sweep's chunks 4-7 copied in
        (out / "chunks" / p.name).write_bytes(p.read_bytes())
    with pytest.warns(UserWarning, match="6 of 10 chunks are not done"), \
            pytest.warns(UserWarning, match="not in the journal"):
        rows = read_sweep(out)
    assert int(rows.duplicated(KEY).sum()) == 0 and len(rows) == 4 * 10 * 2 * N_COUNTRIES
    run_sweep(_spec(tmp), out, progress=False, resume=True)
    pd.testing.assert_frame_equal(_assert_exact(out, _spec(tmp)), expected)


def test_non_empty_folder_without_manifest_is_refused(reference, tmp_path):
    tmp, ref_out, _ = reference
    out = tmp_path / "out"
    (out / "chunks").mkdir(parents=True)
    for p in sorted((ref_out / "chunks").glob("*.parquet")):
        (out / "chunks" / p.name).write_bytes(p.read_bytes())
    for resume in (False, True):
        with pytest.raises(DataError, match="is not empty and holds no sweep"):
            run_sweep(_spec(tmp), out, progress=False, resume=resume)
    assert not (out / ".lock").exists() and not (out / "manifest.json").exists()
    (tmp_path / "empty").mkdir()
    run_sweep(_spec(tmp), tmp_path / "empty", progress=False, max_chunks=1)  # an empty folder is fine


def test_edited_base_scenario_is_refused_on_resume(tmp_path):
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    run_sweep(spec, out, progress=False, max_chunks=2)
    scen = Path(spec["scenario"])
    # not a varied parameter: the sectors Korea's retaliation covers
    scen.write_text(scen.read_text().replace('sectors = ["C29", "C24A", "C10T12"]', 'sectors = ["C29"]'))
    with pytest.raises(DataError, match=r"another version of the base scenario.*measures or settings changed"):
        run_sweep(spec, out, progress=False, resume=True)
    assert len(read_manifest(out)["chunks_done"]) == 2  # nothing was added
    # a new description only (no effect on any row) is not a change
    scen.write_text(scen.read_text().replace('sectors = ["C29"]', 'sectors = ["C29", "C24A", "C10T12"]')
                    .replace("compiles in milliseconds", "compiles fast"))
    assert run_sweep(spec, out, progress=False, resume=True).chunks_run == 8


def _sweep_script(spec: dict, out: Path, *, resume: bool, die_at: str | None = None) -> str:
    return textwrap.dedent(f"""
        import json, os, signal
        import tariffsim.sweep.runner as runner
        import tariffsim.sweep.store as store
        real = store.Journal.record
        def record(self, path, digest):
            if path.name == {die_at!r}:
                with open(self.path, "a") as f:
                    f.write('{{"file": "chunks/' + path.name + '", "sha')  # torn journal line
                os.kill(os.getpid(), signal.SIGKILL)
            real(self, path, digest)
        store.Journal.record = record
        spec = json.loads({json.dumps(json.dumps(spec))})
        runner.run_sweep(spec, {str(out)!r}, progress=False, resume={resume!r})
    """)


def test_sigkill_while_journalling_then_resume(reference, tmp_path):
    tmp, _, expected = reference
    out = tmp_path / "out"
    script = _sweep_script(_spec(tmp), out, resume=False, die_at="chunk-000006.parquet")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr
    assert (out / ".lock").exists()  # left behind by the killed process: stale
    assert read_manifest(out)["chunks_done"] == [0, 1, 2, 3, 4, 5]  # chunk 6's file exists, unjournalled
    run = run_sweep(_spec(tmp), out, progress=False, resume=True)  # takes the stale lock over
    assert run.chunks_run == 4
    pd.testing.assert_frame_equal(_assert_exact(out, _spec(tmp)), expected)
    assert not (out / ".lock").exists()


def test_second_concurrent_run_fails_fast(reference, tmp_path):
    tmp, _, expected = reference
    out = tmp_path / "out"
    spec = _spec(tmp)
    script = textwrap.dedent(f"""
        import json, time
        import tariffsim.sweep.backends as backends
        real = backends.evaluate_chunk
        def slow(job, chunk):
            time.sleep(2.0)
            return real(job, chunk)
        backends.evaluate_chunk = slow
        import tariffsim.sweep.runner as runner
        runner.run_sweep(json.loads({json.dumps(json.dumps(spec))}), {str(out)!r}, progress=False)
    """)
    first = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / ".lock").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (out / ".lock").exists(), first.stderr.read() if first.poll() is not None else "no lock"
        lock = json.loads((out / ".lock").read_text())
        assert lock["pid"] == first.pid
        t = time.perf_counter()
        for resume in (True, False):
            with pytest.raises(DataError, match=rf"being written by another sweep run \(pid {first.pid}"):
                run_sweep(spec, out, progress=False, resume=resume)
        assert time.perf_counter() - t < 60  # fails fast: only the compile, no waiting
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    pd.testing.assert_frame_equal(_assert_exact(out, spec), expected)


def test_cli_reports_a_locked_folder_without_traceback(reference, tmp_path):
    tmp, _, _ = reference
    out = tmp_path / "out"
    run_sweep(_spec(tmp), out, progress=False, max_chunks=1)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        import socket

        (out / ".lock").write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(), "started": "now"}))
        sweep_file = tmp_path / "toy_sweep.toml"
        sweep_file.write_text(_toml(_spec(tmp)), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "tariffsim", "sweep", str(sweep_file), "--out", str(out),
                               "--resume", "--no-progress"], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        sleeper.kill()
        sleeper.wait()
    assert proc.returncode == 2, proc.stderr
    assert "being written by another sweep run" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_pyarrow_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(DataError, match=re.escape('pip install "tariffsim[parquet]"')):
        run_sweep(_spec(tmp_path), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()  # stopped before anything was written


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::RuntimeWarning")
def test_unreachable_dask_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    import tariffsim.sweep.backends as backends

    monkeypatch.setattr(backends, "CONNECT_TIMEOUT", 2.0)
    t = time.perf_counter()
    with pytest.raises(DataError, match=r"could not reach the Dask scheduler at 'tcp://127.0.0.1:9' within 2 s"):
        run_sweep(_spec(tmp_path), tmp_path / "out", backend="dask", scheduler="tcp://127.0.0.1:9", progress=False)
    assert time.perf_counter() - t < 60
    assert not (tmp_path / "out" / ".lock").exists()


# ---------------------------------------------------------------- the README example, as a script
def _readme_snippet() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("<!-- sweeps:start -->"):text.index("<!-- sweeps:end -->")]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def _toml(spec: dict) -> str:
    lines = [f"name = {json.dumps(spec['name'])}", f"scenario = {json.dumps(spec['scenario'])}",
             f"models = {json.dumps(spec['models'])}", f"seed = {spec['seed']}", f"chunk_size = {spec['chunk_size']}",
             "[grid]"] + [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in spec["grid"].items()]
    lines += ["[sample]", f"method = {json.dumps(spec['sample']['method'])}", f"n = {spec['sample']['n']}",
              "[sample.parameters]"]
    params = spec["sample"]["parameters"].items()
    lines += [f"{json.dumps(k)} = {{ low = {v['low']}, high = {v['high']} }}" for k, v in params]
    e = spec["elasticities"]
    lines += ["[elasticities]", f"sources = {json.dumps(e['sources'])}", f"draws = {e['draws']}",
              f"lower = {e['lower']}"]
    for model, opts in spec["options"].items():
        lines += [f"[options.{model}]"] + [f"{k} = {json.dumps(v)}" for k, v in opts.items()]
    return "\n".join(lines) + "\n"


def _run_script(tmp_path, code: str, timeout: int) -> subprocess.CompletedProcess:
    script = tmp_path / "my_sweep.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_readme_sweep_example_runs_as_a_script(tmp_path):
    """The README's Python sweep example, saved as a script (on a small sweep file), finishes."""
    spec = toy_spec(tmp_path)  # accounting, smart, ge (the snippet reads the GE rows)
    (tmp_path / "small.toml").write_text(_toml(spec), encoding="utf-8")
    code = _readme_snippet().replace("scenarios/sweeps/july_package.toml", "small.toml")
    assert 'if __name__ == "__main__":' in code and 'backend="processes"' in code
    code += "    print('ROWS', len(rows), 'BANDS', len(bands), 'SENS', len(sens))\n"
    proc = _run_script(tmp_path, code, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"ROWS 192 BANDS 10 SENS \d+", proc.stdout), proc.stdout  # 96 scenarios x {KOR, USA}


def test_readme_sweep_example_without_main_guard_fails_clearly(tmp_path):
    """Without the guard the workers would re-run the script (it used to hang forever): refused
    at once, before anything is written, with the fix."""
    lines = _readme_snippet().splitlines()
    code = "\n".join(line for line in lines if "__main__" not in line)
    code = textwrap.dedent(code.split("\n", 2)[2])  # the body of the if, at top level
    code = "\n".join(lines[:2]) + "\n" + code
    proc = _run_script(tmp_path, code, timeout=300)
    assert proc.returncode == 1
    assert "DataError" in proc.stderr and 'Put the call under `if __name__ == "__main__":`' in proc.stderr
    assert "my_sweep.py' (line 4)" in proc.stderr
    assert not (tmp_path / "july_out").exists()
