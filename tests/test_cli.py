"""Command line: JSON document, exit codes, CSV output, no tracebacks for user errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tariffsim.cli import main
from tariffsim.errors import ScenarioError

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"
LIB = str(KOREA / "liberation_day.toml")
BASELINE = str(KOREA / "baseline_2024.toml")


@pytest.fixture
def broken(tmp_path) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(textwrap.dedent("""
        name = "broken"
        [[measure]]
        id = "r"
        kind = "reciprocal"
        importer = "USA"
        rates = { KOR = 25, JPM = 0.2 }
        [[measure]]
        id = "a"
        kind = "itme"
        importer = "USA"
    """), encoding="utf-8")
    return path


def test_run_json_document(capsys):
    assert main(["run", LIB, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for key in ("model", "scenarios", "country", "us_partners", "exposure", "flow", "provenance"):
        assert key in doc, key
    assert doc["model"] == "accounting" and doc["scenarios"] == ["liberation_day"]
    etr = {r["country"]: r["etr"] for r in doc["country"]}
    assert set(etr) == {"USA", "KOR", "CHN", "JPN", "TWN", "VNM", "MEX", "CAN", "EU27", "ROW"}
    assert etr["USA"] > 0.2 and etr["KOR"] == 0.0  # only the US raises tariffs in this file
    partners = {r["partner"]: r["etr"] for r in doc["us_partners"]}
    assert {"WORLD", "KOR", "JPN", "CHN"} <= set(partners)
    assert partners["CHN"] > partners["KOR"] > partners["CAN"]
    # the law in force on 9 April 2025 (scenarios/us_law via liberation_day.toml), every authority
    assert {"recip_annex_i", "s232_autos", "s232_steel_25", "s232_aluminum_25", "fentanyl_chn_20",
            "s301_cn_25"} <= {r["measure"] for r in doc["exposure"]}
    assert {"exporter", "importer", "sector", "tariff_new"} <= set(doc["flow"][0])
    assert doc["provenance"]["dates"] == ["2025-04-09"]
    assert doc["provenance"]["scenario_files"] == [LIB]


def test_run_batch_and_date(capsys):
    assert main(["run", BASELINE, LIB, "--json", "--no-flows", "--date", "2025-04-10"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scenarios"] == ["baseline_2024", "liberation_day"] and "flow" not in doc
    kor = [r for r in doc["us_partners"] if r["partner"] == "KOR"]
    # on 10 April the country rates are paused: Korea pays 232 duties and the 10% baseline, less than
    # the 19.5% of 9 April (tests/test_law_independent.py computes that day from the raw files)
    assert 0.05 < kor[1]["etr"] < 0.19
    assert doc["provenance"]["dates"] == ["2025-04-10", "2025-04-10"]


@pytest.mark.slow
def test_subprocess_python_m_tariffsim():
    proc = subprocess.run([sys.executable, "-m", "tariffsim", "run", LIB, "--json", "--no-flows"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"] == "accounting"
    proc = subprocess.run(
        [sys.executable, "-m", "tariffsim", "run", "nope.toml"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_text_report(capsys):
    assert main(["run", LIB]) == 0
    out = capsys.readouterr().out
    assert "== scenario liberation_day (in force on 2025-04-09)" in out
    # 19.51% = the law as applied on 9 April 2025 (electronics exempt from 5 April); computed from
    # the raw files in tests/test_golden_mfn.py and tests/test_law_independent.py (22.27% before)
    assert "KOR" in out and "19.51%" in out


def test_out_writes_csv(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", LIB, "--out", str(out)]) == 0
    assert f"CSV files written to {out}" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"country.csv", "flow.csv", "us_partners.csv", "exposure.csv",
                                               "us_by_authority.csv"}
    partners = pd.read_csv(out / "us_partners.csv", keep_default_na=False)
    assert float(partners.loc[partners.partner == "KOR", "etr"].item()) == pytest.approx(0.1951, abs=1e-4)
    by = pd.read_csv(out / "us_by_authority.csv", keep_default_na=False)
    kor = by[by.partner == "KOR"]
    assert kor["duties_usd_mn"].sum() / kor["imports_usd_mn"].iloc[0] == pytest.approx(0.1951, abs=1e-4)
    country = pd.read_csv(out / "country.csv")
    assert len(country) == 10 and "etr" in country


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "does_not_exist.toml"],
        ["run", LIB, "--date", "2025-13-01"],
        ["run", LIB, "--model", "cge"],
        ["run", LIB, "--method", "exact"],  # --method only with --model smart
        ["frobnicate"],
        [],
    ],
)
def test_user_errors_exit_2_without_traceback(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error:" in err


def test_bad_date_message(capsys):
    assert main(["run", LIB, "--date", "9 April"]) == 2
    assert "write YYYY-MM-DD" in capsys.readouterr().err


def test_broken_file_run_and_validate_exit_2_listing_every_problem(broken, capsys):
    assert main(["run", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {broken}: 3 problems found") and "Traceback" not in err
    assert main(["validate", str(broken), BASELINE]) == 2
    captured = capsys.readouterr()
    for where in ("measure[0].rates.KOR = 25", "measure[0].rates.JPM = 'JPM'", "measure[1].kind = 'itme'"):
        assert f"{broken} → {where}" in captured.err
    assert "ok: " in captured.out and "baseline_2024" in captured.out


def test_validate_ok(capsys):
    assert main(["validate", LIB]) == 0
    out = capsys.readouterr().out
    assert "ok:" in out
    # 111 = the law file's [[measure]] tables (110, with us_base_2026) + the baseline's base measure
    assert "'liberation_day', 111 measures (2 base, 87 item, 10 reciprocal, 8 floor, 4 exemption)" in out
    assert "extends" in out


def test_datasets_lists_the_datasets(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("icio2022_flows.npz", "us_lines_2024.npz", "lists.csv.gz", "rate_tables.csv"):
        assert name in out
    assert "source" in out and "licence" in out


def test_debug_reraises(broken):
    with pytest.raises(ScenarioError):
        main(["--debug", "run", str(broken)])


def test_import_tariffsim_is_light():
    """`import tariffsim` loads no heavy dependency; its names load on first use (the datasets
    module on ``tariffsim.load_world``, still without pandas: it loads when a frame is built)."""
    code = (
        "import sys, tariffsim; heavy = [m for m in ('pandas', 'pyarrow', 'matplotlib', 'dask', 'scipy') "
        "if m in sys.modules]; loaded = 'tariffsim.datasets' in sys.modules; tariffsim.load_world; "
        "now = ('tariffsim.datasets' in sys.modules, 'pandas' in sys.modules); "
        "tariffsim.datasets.load_sectors(); print(heavy, loaded, *now, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False True False True"


def test_public_names_resolve():
    import tariffsim

    for name in tariffsim.__all__:
        assert getattr(tariffsim, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = tariffsim.nope


def test_subpackages_are_attributes():
    code = "import tariffsim as ts; print(callable(ts.parameters.pe_defaults), callable(ts.sweep.run_sweep))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True True"
