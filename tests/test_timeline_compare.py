"""tariffsim.analysis.timeline and tariffsim.analysis.compare, and their CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TIMELINE = REPO / "scenarios" / "korea_us_2025" / "timeline_2025.toml"


def _expected_korea_etr(date: str) -> float:
    """Korea's statutory ETR computed directly from the line data and the law (independent of the compiler).

    The law as applied (scenarios/us_law/us_tariffs_2025_2026.toml): Section 232 autos (and parts
    from 3 May, general-purpose 8471 excluded: note 33(h)(ii)) and the note 16/19 metal lists at
    25%; aluminium derivatives 25% on their aluminium content (BEA share; no data = all metal),
    the rest of such a line pays the reciprocal duty; Annex II and the April 11 electronics exempt
    from the reciprocal duty from 5 April.
    """
    from tariffsim import datasets
    from tariffsim.datasets import load_us_product_lines as load_us_lines
    from tariffsim.datasets.shares import load_metal_content

    lines = load_us_lines()
    kor = lines.partner_mask({"KOR"})
    value, base = lines.value[kor], lines.base_rate[kor]

    def on(prefixes):
        return lines.match(list(prefixes))[kor]

    autos = on(datasets.load_list("s232_autos_note33b"))
    parts = on(datasets.load_list("s232_parts_note33g_no8471"))
    metals = on(datasets.load_list("s232_steel_products")) | on(datasets.load_list("s232_aluminum_products"))
    table = load_metal_content()
    hs = np.asarray(table["hs10"])
    pos = np.clip(np.searchsorted(hs, lines.hs10[kor]), 0, len(hs) - 1)
    found = hs[pos] == lines.hs10[kor]
    total = sum(np.asarray(table[k])[pos] for k in ("steel", "aluminum", "copper"))
    alu = np.where(found, np.asarray(table["aluminum"])[pos] / np.maximum(total, 1.0), 1.0)
    exempt = on(datasets.load_list("annex_ii_2025_04_02")) | on(datasets.load_list("annex_ii_2025_04_11_electronics"))
    if date == "2025-04-09":  # autos 25%, metals 25%, reciprocal 25%, mutual exclusion
        full, recip = autos | metals, 0.25
    elif date == "2025-05-03":  # + parts 25%; pause: 10%
        full, recip = autos | parts | metals, 0.10
    else:
        raise ValueError(date)
    c = np.where(on(datasets.load_list("s232_aluminum_deriv_early")) & ~full, alu, 0.0)
    add = np.where(full, 0.25, c * 0.25 + (1 - c) * np.where(exempt, 0.0, recip))
    return float(np.sum((base + add) * value) / np.sum(value))


@pytest.fixture(scope="module")
def frame():
    from tariffsim.analysis.timeline import timeline

    return timeline(TIMELINE, ["2025-04-09", "2025-05-03", "2025-03-11"])  # sorted: 03-11 first


@pytest.mark.parametrize("date", ["2025-04-09", "2025-05-03"])
def test_korea_etr_matches_line_data(frame, date):
    import datetime as dt

    got = frame[(frame["date"] == dt.date.fromisoformat(date)) & (frame["partner"] == "KOR")]["etr"].iloc[0]
    assert got == pytest.approx(_expected_korea_etr(date), abs=1e-9)
    assert 0.12 < got < 0.22  # 19.5% on 9 April, 14.4% on 3 May (pause)


def test_timeline_frame_shape_and_baseline(frame):
    from tariffsim.analysis.timeline import TIMELINE_COLUMNS

    assert list(frame.columns) == list(TIMELINE_COLUMNS)
    assert len(frame) == 6 and list(frame["partner"][:2]) == ["WORLD", "KOR"]
    assert frame["date"].is_monotonic_increasing
    first = frame.iloc[:2]  # 2025-03-11: nothing in force for Korea yet; China's 301 and fentanyl duties are
    assert first["etr"].iloc[1] == pytest.approx(first["etr_base"].iloc[1], abs=1e-12)
    assert first["etr"].iloc[0] > first["etr_base"].iloc[0] + 0.01
    np.testing.assert_allclose(frame["duties_usd_bn"], frame["etr"] * frame["imports_usd_bn"], rtol=1e-12)


def test_default_dates_are_the_measure_dates():
    import datetime as dt

    from tariffsim.analysis.timeline import timeline_dates

    dates = timeline_dates(TIMELINE)
    assert dates[0] == dt.date(2024, 12, 31)  # the day before the first measure (Section 301 increases of 2025-01-01)
    for d in ("2025-03-12", "2025-04-03", "2025-04-05", "2025-04-09", "2025-04-10", "2025-05-03",
              "2025-06-04", "2025-08-07", "2025-11-01", "2025-11-14"):
        assert dt.date.fromisoformat(d) in dates


def test_timeline_bad_input():
    from tariffsim.analysis.timeline import timeline
    from tariffsim.errors import DataError

    with pytest.raises(DataError, match="YYYY-MM-DD"):
        timeline(TIMELINE, ["9 April"])
    with pytest.raises(DataError, match="XXX"):
        timeline(TIMELINE, ["2025-04-09"], partners=["XXX"])


@pytest.fixture(scope="module")
def table():
    from tariffsim.analysis.compare import compare

    files = [REPO / "scenarios" / "korea_us_2025" / f for f in ("july_b_partial.toml", "july_c_no_deal.toml")]
    return compare(files, ["accounting", "smart"], options={"smart": {"method": "exact"}})


def test_compare_shape_and_columns(table):
    from tariffsim.analysis.compare import COMPARE_COLUMNS

    assert table.shape == (4, 4 + len(COMPARE_COLUMNS))
    assert list(table.columns[:4]) == ["scenario", "model", "date", "file"]
    assert list(table["model"]) == ["accounting", "smart", "accounting", "smart"]
    acc = table[table["model"] == "accounting"]
    assert acc["kor_welfare_pct"].isna().all() and acc["kor_exports_to_usa_pct"].isna().all()
    assert acc["usa_etr_on_kor_customs"].notna().all()
    assert any("accounting" in f and "welfare" in f for f in table.attrs["footnotes"])
    smart = table[table["model"] == "smart"]
    # PE reports welfare_pct too (100 welfare_change / GDP, issue 12): one column across models
    assert smart["kor_welfare_usd_bn"].notna().all() and smart["kor_welfare_pct"].notna().all()
    # no deal (25%) taxes Korea more than the partial deal (10%)
    assert acc["usa_etr_on_kor_customs"].iloc[1] > acc["usa_etr_on_kor_customs"].iloc[0]


def test_compare_leaves_undeclared_models_empty(tmp_path):
    from tariffsim.analysis.compare import compare

    f = tmp_path / "acc_only.toml"
    f.write_text(f'name = "acc_only"\nextends = "{(REPO / "scenarios/korea_us_2025/liberation_day.toml").as_posix()}"\n'
                 'models = ["accounting"]\n')
    out = compare([f], ["accounting", "gsim"])
    row = out[out["model"] == "gsim"].iloc[0]
    assert np.isnan(row["usa_etr"]) and any("does not declare" in x for x in out.attrs["footnotes"])


def test_compare_bad_model():
    from tariffsim.analysis.compare import compare
    from tariffsim.errors import DataError

    with pytest.raises(DataError, match="Did you mean 'smart'"):
        compare([TIMELINE], "smrt")


def test_cli_timeline_json(capsys):
    from tariffsim.cli import main

    assert main(["timeline", str(TIMELINE), "--dates", "2025-04-09", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["partner"] for r in rows] == ["WORLD", "KOR"]
    assert rows[1]["etr"] == pytest.approx(_expected_korea_etr("2025-04-09"), abs=1e-9)


def test_cli_timeline_table_and_bad_date(capsys):
    from tariffsim.cli import main

    assert main(["timeline", str(TIMELINE), "--dates", "2025-05-03"]) == 0
    out = capsys.readouterr().out
    assert "KOR" in out and "%" in out
    assert main(["timeline", str(TIMELINE), "--dates", "May 3"]) == 2
    assert "error:" in capsys.readouterr().err


def test_cli_compare(capsys):
    from tariffsim.cli import main

    f = REPO / "scenarios" / "korea_us_2025" / "july_b_partial.toml"
    assert main(["compare", str(f), "--models", "accounting", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"][0]["model"] == "accounting" and doc["footnotes"]
    assert main(["compare", str(f), "--models", "accounting"]) == 0
    assert "[1]" in capsys.readouterr().out
    assert main(["compare", str(f), "--models", "nope"]) == 2
