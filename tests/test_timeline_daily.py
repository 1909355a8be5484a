"""Timeline by legal authority, the daily series, the today default, verify flags and the refunds command.

Numbers are checked against the line data directly (rate x 2024 value by hand), against direct
evaluation on single days, and against the accounting identity (authorities add up to the total).
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
LAW = REPO / "scenarios" / "us_law" / "us_tariffs_2025_2026.toml"
BASE = REPO / "scenarios" / "korea_us_2025" / "baseline_2024.toml"

TINY = """
name = "tiny_dated"
extends = "{base}"
{effective}

[[measure]]
id = "autos"
kind = "item"
importer = "USA"
authority = "s232_autos"
products = ["list:s232_autos_note33b"]
rate = 0.25
effective = 2025-04-03
source = "Proclamation 10908"

[[measure]]
id = "recip"
kind = "reciprocal"
importer = "USA"
authority = "ieepa_reciprocal"
rates = {{ KOR = 0.25 }}
effective = 2025-04-09
until = 2025-04-10
source = "EO 14257 (verify: secondary source)"
"""


def _tiny(folder: Path, effective: str = "") -> Path:
    path = folder / "tiny.toml"
    path.write_text(TINY.format(base=BASE.as_posix(), effective=effective), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return _tiny(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def korea_lines():
    """Korea's 2024 lines: value, base rate, and the autos list (note 33(b)), read directly."""
    from tariffsim import datasets

    lines = datasets.load_us_product_lines()
    kor = lines.partner_mask({"KOR"})
    autos = lines.match(list(datasets.load_list("s232_autos_note33b")))[kor]
    return lines.value[kor], lines.base_rate[kor], autos


def test_authority_split_by_hand(tiny, korea_lines):
    """Korea on 9 April: autos 25% under 232, everything else 25% reciprocal (232 excludes it)."""
    from tariffsim.analysis.timeline import timeline_by_authority

    value, base, autos = korea_lines
    split, total = timeline_by_authority(tiny, ["2025-04-08", "2025-04-09"], partners=["KOR"], with_totals=True)
    kor = split[split["partner"] == "KOR"].set_index(["date", "authority"])["etr"]
    d8, d9 = dt.date(2025, 4, 8), dt.date(2025, 4, 9)
    m = value.sum()
    assert kor[(d9, "s232_autos")] == pytest.approx(0.25 * value[autos].sum() / m, rel=1e-9)
    assert kor[(d9, "ieepa_reciprocal")] == pytest.approx(0.25 * value[~autos].sum() / m, rel=1e-9)
    assert kor[(d8, "ieepa_reciprocal")] == 0.0
    assert kor[(d9, "mfn")] == pytest.approx(float(np.sum(base * value)) / m, abs=1e-12)
    # authorities add up to the total, in duties and in ETR
    sums = split.groupby(["date", "partner"], sort=False)[["duties_usd_mn", "etr"]].sum()
    tot = total.set_index(["date", "partner"])
    assert np.allclose(sums["duties_usd_mn"], tot.loc[sums.index, "duties_usd_bn"] * 1e3, rtol=1e-9)
    assert np.allclose(sums["etr"], tot.loc[sums.index, "etr"], rtol=1e-9)
    assert list(split.columns) == ["date", "partner", "authority", "imports_usd_mn", "duties_usd_mn", "etr"]


def test_daily_length_and_forward_fill_small(tiny, korea_lines):
    from tariffsim.analysis.timeline import daily_timeline

    s = daily_timeline(tiny, "2025-03-30", "2025-04-30", partners=["KOR"])
    assert s["date"].nunique() == 32 and list(s.columns) == ["date", "partner", "authority", "duties_usd_mn", "etr"]
    assert s.attrs["changes"] == [dt.date(2025, 3, 30), dt.date(2025, 4, 3), dt.date(2025, 4, 9), dt.date(2025, 4, 10)]
    kor = s[(s["partner"] == "KOR")].groupby("date")["etr"].sum()
    value, base = korea_lines[0], korea_lines[1]
    assert kor[dt.date(2025, 4, 9)] == pytest.approx(np.sum(base * value) / value.sum() + 0.25, abs=1e-9)
    assert kor[dt.date(2025, 4, 10)] == kor[dt.date(2025, 4, 30)] < 0.25


@pytest.fixture(scope="module")
def law_daily():
    from tariffsim.analysis.timeline import daily_timeline

    return daily_timeline(LAW, "2025-01-01", "2026-12-31", partners=["KOR", "CHN"])


def test_daily_law_length_and_equals_direct_evaluation(law_daily):
    from tariffsim.analysis.timeline import timeline_by_authority

    days = pd.date_range("2025-01-01", "2026-12-31", freq="D").date
    assert law_daily["date"].nunique() == len(days) == 730
    assert len(law_daily) % 730 == 0
    rng = np.random.default_rng(7)
    sample = sorted(set(rng.choice(days, 6, replace=False)) | {dt.date(2025, 4, 9), dt.date(2026, 2, 24)})
    direct = timeline_by_authority(LAW, sample, partners=["KOR", "CHN"])
    filled = law_daily[law_daily["date"].isin(sample)].reset_index(drop=True)
    pd.testing.assert_frame_equal(filled[["date", "partner", "authority"]], direct[["date", "partner", "authority"]])
    assert np.allclose(filled["etr"], direct["etr"], rtol=1e-12, atol=1e-15)
    assert np.allclose(filled["duties_usd_mn"], direct["duties_usd_mn"], rtol=1e-12, atol=1e-9)


def test_no_ieepa_duty_from_2026_02_24(law_daily):
    late = law_daily[(law_daily["date"] >= dt.date(2026, 2, 24)) & law_daily["authority"].str.startswith("ieepa")]
    early = law_daily[(law_daily["date"] == dt.date(2026, 2, 23)) & (law_daily["authority"] == "ieepa_reciprocal")]
    assert (late["duties_usd_mn"] == 0).all() and (early["duties_usd_mn"] > 0).all()


def test_figure(law_daily, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from tariffsim.plot.timeline import plot_authority_timeline, save

    ax = plot_authority_timeline(law_daily, partner="KOR")
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "Supreme Court" in texts and "CBP stops collecting IEEPA" in texts
    assert "s232_" not in texts and "Section 232" in texts  # names, not codes
    assert "% of 2024 customs value" in ax.get_ylabel()
    assert len([t for t in ax.texts if t.get_text().isdigit()]) <= 8 + 2
    save(ax, tmp_path / "kor.png")
    assert (tmp_path / "kor.png").stat().st_size > 10_000


def _cli(args, capsys):
    from tariffsim.cli import main

    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_timeline_json_all_partners(capsys):
    code, out, err = _cli(["timeline", LAW, "--dates", "2025-11-14,2026-12-01", "--partners", "all", "--json"],
                          capsys)
    assert code == 0
    rows = json.loads(out)
    assert {"date", "partner", "etr", "duties_usd_bn", "imports_usd_bn", "by_authority"} <= set(rows[0])
    partners = {r["partner"] for r in rows}
    assert "WORLD" in partners and {"KOR", "CHN", "CAN", "MEX", "JPN"} <= partners and len(partners) > 150
    assert "NaN" not in out  # strict JSON: no imports -> etr null
    for r in rows:
        parts = r["by_authority"]
        if r["etr"] is None:
            assert r["imports_usd_bn"] == 0 and all(v["etr"] is None for v in parts.values())
            continue
        assert sum(v["etr"] for v in parts.values()) == pytest.approx(r["etr"], rel=1e-9, abs=1e-12)
        assert sum(v["duties_usd_bn"] for v in parts.values()) == pytest.approx(r["duties_usd_bn"], rel=1e-9,
                                                                               abs=1e-9)
    world = {r["date"]: r for r in rows if r["partner"] == "WORLD"}
    assert "ieepa_reciprocal" in world["2025-11-14"]["by_authority"]
    assert "ieepa_reciprocal" not in world["2026-12-01"]["by_authority"]  # void from 2026-02-24
    assert "law data last checked 2026-06-08" in err and "secondary sources" in err  # 2026-12-01 is after it
    assert "warning:" in err and "verify" in err


def test_cli_daily_csv_and_figure(tiny, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    csv, png = tmp_path / "d.csv", tmp_path / "d.png"
    code, out, err = _cli(["timeline", tiny, "--from", "2025-04-01", "--to", "2025-04-30", "--daily",
                           "--partners", "KOR", "--out", csv, "--figure", png, "--partner", "KOR"], capsys)
    assert code == 0 and png.stat().st_size > 10_000
    frame = pd.read_csv(csv)
    assert frame["date"].nunique() == 30 and set(frame["partner"]) == {"WORLD", "KOR"}
    assert "30 days" in out


@pytest.mark.parametrize("args", [
    ["--dates", "2025-04-09", "--daily"],           # both forms
    ["--from", "2025-05-01", "--to", "2025-04-01"],  # ends before it starts
    ["--from", "2025-13-01", "--to", "2025-12-01"],  # not a date
    ["--dates", "2025-04-09", "--partners", "XXX"],  # unknown partner
])
def test_cli_timeline_bad_input_exits_2(tiny, args, capsys):
    code, _, err = _cli(["timeline", tiny, *args], capsys)
    assert code == 2 and err.startswith("error:")


def test_run_defaults_to_today_without_effective(tiny, capsys):
    code, out, err = _cli(["run", tiny, "--json", "--no-flows"], capsys)
    assert code == 0
    today = dt.date.today()
    assert json.loads(out)["provenance"]["dates"] == [today.isoformat()]
    assert f"law in force on {today}" in err and "today" in err and "last checked 2026-06-08" in err


def test_run_keeps_the_files_effective(tmp_path, capsys):
    path = _tiny(tmp_path, "effective = 2025-04-09")
    code, out, err = _cli(["run", path, "--json", "--no-flows"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["provenance"]["dates"] == ["2025-04-09"] and doc["provenance"]["verify"] == ["recip"]
    assert "law in force on 2025-04-09 (the file's `effective`)" in err
    assert "warning: 1 measure(s)" in err and "recip" in err and "secondary sources" not in err


def test_simulate_warns_once_for_unverified(tiny):
    from tariffsim import simulate
    from tariffsim.errors import UnverifiedLawWarning

    with pytest.warns(UnverifiedLawWarning, match="recip") as record:
        res = simulate(None, tiny, "accounting", date=dt.date(2025, 4, 9))
    assert len([w for w in record if w.category is UnverifiedLawWarning]) == 1
    assert res.provenance["verify"] == ["recip"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        res = simulate(None, tiny, "accounting", date=dt.date(2025, 4, 20))  # recip no longer in force
    assert res.provenance["verify"] == []
    assert not [w for w in seen if issubclass(w.category, UnverifiedLawWarning)]


def test_cli_refunds_by_hand(tiny, korea_lines, capsys):
    """One day of 25% reciprocal duty on Korea's non-auto lines: 0.25 x value / 365, USD bn."""
    value, _, autos = korea_lines
    expected = 0.25 * value[~autos].sum() / 365 / 1e9
    code, out, _ = _cli(["refunds", tiny, "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert "NOT collections" in doc["note"] and doc["start"] == "2025-04-09" and doc["end"] == "2026-02-23"
    got = {(r["partner"], r["authority"]): r["duties_usd_bn"] for r in doc["rows"]}
    assert got[("KOR", "all_ieepa")] == pytest.approx(expected, rel=1e-9)
    assert got[("WORLD", "ieepa_reciprocal")] == pytest.approx(expected, rel=1e-9)
    code, out, _ = _cli(["refunds", tiny], capsys)
    assert code == 0 and "USD bn" in out and "NOT collections" in out and "KOR" in out and "AGO" not in out


def test_cli_timeline_without_dates_adds_today_and_says_so(tiny, capsys):
    """Without --dates: the day before the first date, each change date of the tiny file, and today."""
    code, out, err = _cli(["timeline", tiny, "--partners", "KOR", "--json"], capsys)
    assert code == 0
    today = dt.date.today()
    dates = sorted({r["date"] for r in json.loads(out)})
    # tiny.toml: autos from 2025-04-03, recip 2025-04-09 to 2025-04-10
    assert dates == ["2025-04-02", "2025-04-03", "2025-04-09", "2025-04-10", today.isoformat()]
    assert f"law in force on 2025-04-02 to {today}" in err
    assert f"the 4 dates on which the file's law changes, counting the day before the first, and today {today}" in err
    rows = {(r["date"], r["partner"]): r for r in json.loads(out)}
    assert rows[(today.isoformat(), "KOR")]["etr"] == pytest.approx(rows[("2025-04-10", "KOR")]["etr"])


def test_cli_timeline_with_dates_evaluates_only_those(tiny, capsys):
    code, out, err = _cli(["timeline", tiny, "--dates", "2025-04-09", "--partners", "KOR", "--json"], capsys)
    assert code == 0 and {r["date"] for r in json.loads(out)} == {"2025-04-09"}
    assert "today" not in err and "law in force on 2025-04-09;" in err


def test_cli_refunds_prints_the_date_line_and_verify_warning_like_run(tiny, capsys):
    """The tiny file's one IEEPA day (2025-04-09) is the window; its reciprocal measure says 'verify'."""
    code, out, err = _cli(["refunds", tiny, "--json"], capsys)
    assert code == 0
    lines = err.strip().splitlines()
    assert lines[0].startswith("date: law in force on 2025-04-09 to 2026-02-23 (the IEEPA window")
    assert "law data last checked 2026-06-08" in lines[0] and "secondary sources" not in lines[0]
    assert lines[1].startswith("warning: 1 measure(s)") and "recip" in lines[1]
    code, out, err = _cli(["refunds", tiny, "--as-published"], capsys)
    assert code == 0 and "law as published" in out and err.startswith("date: law in force on 2025-04-09")
