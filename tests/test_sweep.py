"""Sweeps: design, batch == loop, resume after interruption, failures, summaries, plots, CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffsim.sweep import (
    Design,
    load_sweep,
    prepare_sweep,
    quantile_bands,
    read_manifest,
    read_sweep,
    run_sweep,
    sensitivity,
    sweep_from_dict,
)
from tariffsim.sweep.design import elasticity_draws, feistel_permutation
from test_sweep_support import toy_spec, write_toy

REPO = Path(__file__).resolve().parents[1]
SWEEPS = REPO / "scenarios" / "sweeps"


def _files(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "chunks").glob("*.parquet"))}


# ---------------------------------------------------------------- design
def test_design_counts_and_order(tmp_path):
    spec = sweep_from_dict(toy_spec(tmp_path))
    assert spec.n_scenarios == (2 * 2) * 4 * (3 * 2)
    values, e = Design(spec).values(0, spec.n_scenarios)
    assert values.shape == (96, 3)
    # grid fastest: the first 6 rows walk the grid, sample and elasticity fixed
    assert values[:6, 0].tolist() == [0.0, 0.0, 0.1, 0.1, 0.3, 0.3]
    assert values[:6, 1].tolist() == [0.0, 1.0] * 3
    assert len(set(values[:6, 2])) == 1 and (e[:24] == 0).all() and (e[24:48] == 1).all()


def test_design_chunks_match_whole(tmp_path):
    spec = sweep_from_dict(toy_spec(tmp_path))
    design = Design(spec)
    whole, e_whole = design.values(0, spec.n_scenarios)
    parts = [design.values(a, min(a + 7, spec.n_scenarios)) for a in range(0, spec.n_scenarios, 7)]
    np.testing.assert_array_equal(np.vstack([p[0] for p in parts]), whole)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), e_whole)


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=0, max_value=2**32))
@settings(max_examples=40, deadline=None)
def test_feistel_is_a_permutation(n, seed):
    keys = np.random.SeedSequence(seed).generate_state(4, dtype=np.uint64)
    perm = feistel_permutation(np.arange(n), n, keys)
    assert sorted(perm.tolist()) == list(range(n))


@pytest.mark.parametrize("method", ["lhs", "random", "sobol"])
def test_samples_are_reproducible_and_in_bounds(tmp_path, method):
    n = 2048
    d = {"name": "s", "scenario": str(write_toy(tmp_path)), "seed": 11,
         "sample": {"method": method, "n": n, "parameters": {"kor_ret.rate": {"low": 0.1, "high": 0.3},
                                                             "eu_recip.rates.USA": {"low": 0.0, "high": 1.0},
                                                             "eu_recip.enabled": {"choices": [0, 1]}}}}
    a, _ = Design(sweep_from_dict(d)).values(0, n)
    b, _ = Design(sweep_from_dict(d)).values(0, n)
    np.testing.assert_array_equal(a, b)
    assert (a[:, 0] >= 0.1).all() and (a[:, 0] <= 0.3).all()
    assert set(np.unique(a[:, 2])) == {0.0, 1.0}
    c, _ = Design(sweep_from_dict({**d, "seed": 12})).values(0, n)
    assert not np.array_equal(a, c)
    if method == "lhs":  # one point in each of the n strata of every dimension
        strata = np.floor(a[:, 1] * n).astype(int)
        assert sorted(strata.tolist()) == list(range(n))
    if method == "sobol":
        from scipy.stats import qmc

        assert qmc.discrepancy(a[:, :2].copy() * [5, 1] - [0.5, 0]) >= 0  # sanity: valid unit-cube points
        assert abs(a[:, 1].mean() - 0.5) < 0.01


def test_elasticity_draws(tmp_path):
    from tariffsim.datasets import load_elasticity_table, load_world

    world = load_world()
    spec = sweep_from_dict(toy_spec(tmp_path, elasticities={"sources": ["cp2015"], "draws": 50, "lower": 0.5}))
    theta, labels = elasticity_draws(spec, world.sectors)
    table = load_elasticity_table()
    assert theta.shape == (50, 28) and labels[0] == ("cp2015", 0)
    assert (theta >= 0.5).all()
    k = list(world.sectors).index
    np.testing.assert_array_equal(theta[:, k("A01")], theta[:, k("A02")])  # one published estimate, one draw
    assert (theta[:, k("SERV")] == 5.0).all()  # no se: held at the estimate
    assert abs(np.median(theta[:, k("C10T12")]) - table.loc["C10T12", "cp2015"]) < 0.3
    point = sweep_from_dict(toy_spec(tmp_path, elasticities={"sources": ["cp2015", "ll2023"]}))
    theta0, labels0 = elasticity_draws(point, world.sectors)
    assert labels0 == [("cp2015", -1), ("ll2023", -1)]
    np.testing.assert_array_equal(theta0[1], table.loc[list(world.sectors), "ll2023"].to_numpy())


# ---------------------------------------------------------------- run
@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("toy")
    out = tmp / "out"
    run = run_sweep(toy_spec(tmp), out, progress=False)
    return tmp, out, run


def test_rows_layout(toy_run):
    _, out, run = toy_run
    rows = read_sweep(out)
    assert run.n_scenarios == 96 and run.n_chunks == 10
    assert len(rows) == 96 * 10 * 3
    assert list(rows.columns[:3]) == ["scenario", "model", "country"]
    for col in ("kor_ret.rate", "eu_recip.enabled", "can_recip.rates.USA", "elasticity_source", "elasticity_draw",
                "welfare_pct", "etr", "trade_creation", "status", "reason"):
        assert col in rows
    assert rows.groupby(["model", "scenario"]).size().eq(10).all()
    assert (rows["status"] == "ok").all()
    manifest = read_manifest(out)
    assert manifest["complete"] and manifest["chunks_done"] == list(range(10))
    assert manifest["parameter_names"] == ["kor_ret.rate", "eu_recip.enabled", "can_recip.rates.USA"]
    assert len(manifest["spec_hash"]) == 64
    assert read_sweep(out, table="elasticities").shape == (4, 30)


def test_batch_equals_one_at_a_time(toy_run):
    """Rows of the chunked sweep equal each scenario run on its own through the model adapters."""
    from tariffsim.models.accounting import run_accounting
    from tariffsim.models.ge import run_ge
    from tariffsim.models.parameters import pe_defaults
    from tariffsim.models.pe import run_smart

    tmp, out, _ = toy_run
    job = prepare_sweep(toy_spec(tmp))
    rows = read_sweep(out)
    sched = job.schedule
    values, e = job.design.values(0, 96)
    for k in (0, 7, 50, 95):
        theta = sched.vector(dict(zip(job.spec.varied, values[k])))
        shocks = sched.shocks(theta)
        params = pe_defaults(sched.world.sectors, trade_elasticity=job.theta[e[k]])
        expected = {
            "accounting": run_accounting(shocks).country["etr"][0],
            "smart": run_smart(shocks, params, method="exact", flows=False).country["welfare_change"][0],
            "ge": run_ge(shocks, trade_elasticity=job.theta[e[k]]).country["welfare_pct"][0],
        }
        for model, col in (("accounting", "etr"), ("smart", "welfare_change"), ("ge", "welfare_pct")):
            got = rows[(rows.scenario == k) & (rows.model == model)][col].to_numpy()
            np.testing.assert_allclose(got, expected[model], rtol=1e-9, atol=1e-12)


def test_resume_after_injected_exception_is_identical(toy_run, tmp_path, monkeypatch):
    import tariffsim.sweep.backends as backends

    tmp, full_out, _ = toy_run
    real = backends.evaluate_chunk

    def flaky(job, chunk):
        if chunk == 4:
            raise RuntimeError("injected failure")
        return real(job, chunk)

    out = tmp_path / "out"
    monkeypatch.setattr(backends, "evaluate_chunk", flaky)
    with pytest.raises(RuntimeError, match="injected"):
        run_sweep(toy_spec(tmp), out, progress=False)
    assert read_manifest(out)["chunks_done"] == [0, 1, 2, 3]
    monkeypatch.setattr(backends, "evaluate_chunk", real)
    run = run_sweep(toy_spec(tmp), out, resume=True, progress=False)
    assert run.chunks_run == 6 and read_manifest(out)["complete"]
    assert _files(out) == _files(full_out)  # byte for byte
    pd.testing.assert_frame_equal(read_sweep(out), read_sweep(full_out))


def _sweep_in_subprocess(spec: dict, out, *, die_at: str | None = None, resume: bool = False):
    """Run a sweep in a fresh Python process; with ``die_at``, SIGKILL it half-way through writing that chunk."""
    script = textwrap.dedent(f"""
        import os, signal, json
        import tariffsim.sweep.runner as runner
        real = runner._write_parquet
        def dying(frame, path):
            if path.name == {die_at!r}:
                import pyarrow as pa, pyarrow.parquet as pq
                table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame)
                pq.write_table(table, path.with_name(path.name + ".tmp"))  # half-way
                os.kill(os.getpid(), signal.SIGKILL)
            real(frame, path)
        runner._write_parquet = dying
        spec = json.loads({json.dumps(json.dumps(spec))})
        runner.run_sweep(spec, {str(out)!r}, progress=False, resume={resume!r})
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)


def test_resume_after_kill_is_byte_identical(toy_run, tmp_path):
    """A sweep killed (SIGKILL) half-way through writing chunk 5, then resumed, gives the same
    Parquet bytes as an uninterrupted run. All three runs are fresh processes, as a user's are."""
    tmp, _, _ = toy_run
    spec = toy_spec(tmp)
    ref_out, out = tmp_path / "reference", tmp_path / "out"
    assert _sweep_in_subprocess(spec, ref_out).returncode == 0
    proc = _sweep_in_subprocess(spec, out, die_at="chunk-000005.parquet")
    assert proc.returncode == -9, proc.stderr
    assert (out / "chunks" / "chunk-000005.parquet.tmp").exists()
    assert read_manifest(out)["chunks_done"] == [0, 1, 2, 3, 4]
    with pytest.warns(UserWarning, match="5 of 10 chunks are not done"):
        assert len(read_sweep(out)) == 5 * 10 * 3 * 10
    resumed = _sweep_in_subprocess(spec, out, resume=True)
    assert resumed.returncode == 0, resumed.stderr
    assert read_manifest(out)["complete"]
    assert not list(out.glob("**/*.tmp"))
    assert _files(out) == _files(ref_out)  # byte for byte: no lost, no duplicated, no changed row
    pd.testing.assert_frame_equal(read_sweep(out), read_sweep(ref_out))


def test_max_chunks_then_resume(toy_run, tmp_path):
    tmp, full_out, _ = toy_run
    out = tmp_path / "out"
    first = run_sweep(toy_spec(tmp), out, progress=False, max_chunks=3)
    assert first.chunks_run == 3 and not read_manifest(out)["complete"]
    second = run_sweep(toy_spec(tmp), out, progress=False, resume=True)
    assert second.chunks_run == 7
    assert _files(out) == _files(full_out)


def test_resume_guards(toy_run):
    from tariffsim.errors import DataError

    tmp, out, _ = toy_run
    with pytest.raises(DataError, match="already holds a sweep; pass resume=True"):
        run_sweep(toy_spec(tmp), out, progress=False)
    with pytest.raises(DataError, match="holds a different sweep"):
        run_sweep(toy_spec(tmp, seed=4), out, progress=False, resume=True)
    with pytest.raises(DataError, match="resume with chunk_size=10"):
        run_sweep(toy_spec(tmp), out, progress=False, resume=True, chunk_size=7)
    again = run_sweep(toy_spec(tmp), out, progress=False, resume=True)  # nothing left to do
    assert again.chunks_run == 0


def test_failed_scenarios_are_recorded(tmp_path):
    spec = toy_spec(tmp_path, models=["ge"], options={"ge": {"max_iter": 1}}, sample=None, elasticities=None)
    run = run_sweep(spec, tmp_path / "out", progress=False)
    rows = run.read()
    assert run.failed == {"ge": 6}
    assert (rows["status"] == "failed").all()
    assert rows["reason"].str.contains("ge: did not converge").all()
    assert rows["welfare_pct"].isna().all() and (rows["iterations"] == 1).all()
    assert read_manifest(run.out)["failed"] == {"ge": 6}
    bands = quantile_bands(rows)
    assert (bands["n"] == 0).all() and (bands["n_failed"] == 6).all()


def test_bugs_still_raise(tmp_path, monkeypatch):
    import tariffsim.models.accounting as acc

    def broken(shocks, schedules=None):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(acc, "run_accounting", broken)
    with pytest.raises(ZeroDivisionError):
        run_sweep(toy_spec(tmp_path, models=["accounting"]), tmp_path / "out", progress=False)


def test_flow_rows(tmp_path):
    from tariffsim.datasets import load_world

    spec = toy_spec(tmp_path, models=["accounting", "smart"], flows=True, sample=None, elasticities=None)
    run = run_sweep(spec, tmp_path / "out", progress=False)
    flows = read_sweep(run.out, table="flows")
    world = load_world()
    live = int(((world.flows * (1 - np.eye(10))[:, :, None]) > 0).sum())
    assert len(flows) == 6 * live * 2
    kor = flows[(flows.model == "accounting") & (flows.importer == "KOR") & (flows.exporter == "USA")
                & (flows.sector == "C29")]
    rates = dict(zip(kor.scenario, kor.tariff_new - kor.tariff_base))
    assert rates[0] == pytest.approx(0.0) and rates[5] == pytest.approx(0.3)  # grid: kor_ret.rate fastest-but-one
    bands = quantile_bands(run.out, "flow_pct", by=("model", "importer", "sector"), table="flows", models=["smart"])
    assert {"importer", "sector", "q50"} <= set(bands.columns)


# ---------------------------------------------------------------- summaries
def test_quantile_bands_match_pandas(toy_run):
    _, out, _ = toy_run
    rows = read_sweep(out)
    bands = quantile_bands(out, "welfare_pct", models=["ge"])
    kor = bands[bands.country == "KOR"].iloc[0]
    ref = rows[(rows.model == "ge") & (rows.country == "KOR")]["welfare_pct"]
    assert kor["n"] == 96 and kor["q50"] == pytest.approx(ref.median())
    assert kor["q05"] == pytest.approx(ref.quantile(0.05))


def test_sensitivity_ranks_the_driver_first(tmp_path):
    """Korea's tariff revenue depends on its retaliation rate, not on Canada's rate."""
    spec = toy_spec(
        tmp_path,
        models=["accounting"],
        elasticities=None,
        grid={},
        sample={
            "method": "random",
            "n": 200,
            "parameters": {"kor_ret.rate": {"low": 0.0, "high": 0.5}, "can_recip.rates.USA": {"low": 0.0, "high": 0.5}},
        },
    )
    run = run_sweep(spec, tmp_path / "out", progress=False)
    for method in ("src", "spearman"):
        sens = sensitivity(run.out, "tariff_revenue", method=method, countries=["KOR", "CAN"])
        kor = sens[sens.country == "KOR"].set_index("parameter")
        assert kor.loc["kor_ret.rate", "rank"] == 1 and kor.loc["kor_ret.rate", "coefficient"] > 0.99
        assert abs(kor.loc["can_recip.rates.USA", "coefficient"]) < 0.2
        can = sens[sens.country == "CAN"].set_index("parameter")
        assert can.loc["can_recip.rates.USA", "rank"] == 1


def test_sensitivity_joins_elasticities(toy_run):
    _, out, _ = toy_run
    sens = sensitivity(out, "welfare_pct", models=["ge"], countries=["KOR"])
    params = set(sens["parameter"])
    assert {"kor_ret.rate", "can_recip.rates.USA"} <= params
    assert any(p.startswith("theta.") for p in params)
    assert "theta.A01+A02+A03" in params  # one published estimate, one regressor


def test_plots(toy_run):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tariffsim.plot.sweep import plot_bands, plot_sensitivity

    _, out, _ = toy_run
    ax = plot_bands(quantile_bands(out, models=["ge"]), title="welfare")
    assert len(ax.get_yticklabels()) == 10
    sens = sensitivity(out, models=["ge"], countries=["KOR"])
    ax2 = plot_sensitivity(sens, top=3)
    assert len(ax2.patches) == 3
    plt.close("all")


# ---------------------------------------------------------------- files and CLI
def test_toml_and_dict_give_the_same_spec(tmp_path):
    write_toy(tmp_path)
    (tmp_path / "s.toml").write_text(
        textwrap.dedent("""
        name = "toy_sweep"
        scenario = "toy.toml"
        models = ["accounting", "smart", "ge"]
        seed = 3
        chunk_size = 10
        [grid]
        "kor_ret.rate" = [0.0, 0.1, 0.3]
        "eu_recip.enabled" = [0, 1]
        [sample]
        method = "lhs"
        n = 4
        [sample.parameters]
        "can_recip.rates.USA" = { low = 0.0, high = 0.5 }
        [elasticities]
        sources = ["cp2015", "ll2023"]
        draws = 2
        lower = 0.5
        [options.smart]
        method = "exact"
    """)
    )
    a = load_sweep(tmp_path / "s.toml")
    b = sweep_from_dict(toy_spec(tmp_path))
    assert a.content_hash() == b.content_hash() and a.n_scenarios == b.n_scenarios


@pytest.mark.parametrize("name", ["july_package", "liberation_day_lhs", "smart_million", "ge_10k"])
def test_shipped_sweep_files_validate(name):
    spec = load_sweep(SWEEPS / f"{name}.toml")
    job = prepare_sweep(spec)  # compiles the base scenario and checks every parameter name
    assert job.columns and spec.n_scenarios >= 1000
    if name == "smart_million":
        assert spec.n_scenarios == 1_000_000
    if name == "july_package":
        assert {"kor_floor.rate", "kor_autos_deal.rate", "kor_aircraft_mfn.enabled"} <= set(spec.varied)


def test_cli_sweep(tmp_path, capsys):
    from tariffsim.cli import main

    write_toy(tmp_path)
    (tmp_path / "s.toml").write_text(
        'name = "cli"\nscenario = "toy.toml"\nmodels = ["ge"]\nchunk_size = 2\n'
        '[grid]\n"kor_ret.rate" = [0.0, 0.2, 0.4]\n'
    )
    code = main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0 and "3 scenarios, 2 chunks" in text and "welfare_pct" in text and "KOR" in text
    code = main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "--no-progress", "--resume"])
    assert code == 0 and "(0 computed now)" in capsys.readouterr().out
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["complete"]


def test_cli_sweep_errors(tmp_path, capsys):
    from tariffsim.cli import main

    write_toy(tmp_path)
    (tmp_path / "s.toml").write_text('name = "cli"\nscenario = "toy.toml"\n[grid]\n"kor_ret.rat" = [0.0, 0.2]\n')
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Did you mean one of 'kor_ret.rate'" in err
    assert main(["sweep", str(tmp_path / "s.toml"), "--scheduler", "tcp://x:1"]) == 2
    assert "--backend dask only" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "s.toml"), "--chunk-size", "0"]) == 2
