"""compare() with focus countries as a parameter; a clear error for a world without them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tariffsim.analysis.compare import compare, compare_columns
from tariffsim.datasets import load_world
from tariffsim.errors import DataError

KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"
FILE = KOREA / "july_c_no_deal.toml"


def test_world_without_korea_names_the_missing_country():
    world = load_world()
    merged = world.aggregate(regions={c: ("ROW" if c == "KOR" else c) for c in world.countries})
    assert "KOR" not in merged.countries
    with pytest.raises(DataError) as info:
        compare([FILE], ["accounting"], world=merged)
    msg = str(info.value)
    assert "focus country 'KOR' is not in the world" in msg
    for code in merged.countries:
        assert code in msg  # lists the countries available
    assert "focus=(partner, home)" in msg


def test_bad_focus_shape():
    with pytest.raises(DataError, match="must be two country codes"):
        compare([FILE], ["accounting"], focus="KOR")


def test_other_focus_countries():
    from tariffsim.simulate import simulate

    table = compare([FILE], ["accounting", "smart"], focus=("JPN", "USA"), options={"smart": {"method": "exact"}})
    assert list(table.columns[4:]) == list(compare_columns(("JPN", "USA")))
    assert table.attrs["focus"] == ["JPN", "USA"]
    smart = table[table["model"] == "smart"].iloc[0]
    res = simulate(load_world(), FILE, "smart", method="exact")
    j, u = res.countries.index("JPN"), res.countries.index("USA")
    assert smart["jpn_exports_to_usa_usd_bn"] == pytest.approx(res.flow["flow_new"][0, j, u].sum() / 1e3)
    assert smart["jpn_welfare_usd_bn"] == pytest.approx(res.country["welfare_change"][0, j] / 1e3)
    acc = table[table["model"] == "accounting"].iloc[0]
    customs = simulate(load_world(), FILE, "accounting").tables["us_partners"]
    assert acc["usa_etr_on_jpn_customs"] == pytest.approx(
        float(customs.loc[customs["partner"] == "JPN", "etr"].iloc[0])
    )
    assert np.isnan(acc["jpn_welfare_usd_bn"])
    assert any(
        "jpn_welfare_pct [accounting]: empty, accounting has no welfare measure" in f for f in table.attrs["footnotes"]
    )


def test_home_other_than_us_has_no_customs_column():
    table = compare([FILE], ["accounting"], focus=("USA", "KOR"))
    assert table["kor_etr_on_usa_customs"].isna().all()
    assert any("customs lines are US imports only" in f for f in table.attrs["footnotes"])
    assert table["kor_etr"].notna().all()  # Korea's own tariffs (retaliation) are still there


def test_cli_focus(capsys):
    import json

    from tariffsim.cli import main

    assert main(["compare", str(FILE), "--models", "accounting", "--focus", "jpn,usa", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "usa_etr_on_jpn_customs" in doc["columns"] and doc["rows"][0]["usa_etr_on_jpn_customs"] > 0
