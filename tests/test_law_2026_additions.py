"""Measures added to the US law file in December 2026, against the raw files.

Russia's 200% aluminium duty under the 2026 annex regime (Proclamation 10522), note 33(r)
certified auto parts (15% all-in instead of annex I-B 25%) and the note 16(h)/(i) USMCA metals
carve-out (25% instead of annex I-A 50%). The last two have no observable share and are encoded
with coverage 0; here a child file sets the share to 1 and the effect is recomputed by hand from
the Census lines, the tracker's product files and the 2024 HTS.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from test_law_independent import LAW, SHARED, TRACK, _codes

pytestmark = [
    pytest.mark.skipif(not TRACK.is_dir() or not (SHARED / "us_imports_2024").is_dir(),
                       reason="raw data folder is absent (the Census and tracker files)"),
    pytest.mark.slow,
]

DAY = dt.date(2026, 6, 8)
CTY = {"RUS": 4621, "JPN": 5880, "CAN": 1220}
ALUMINIUM_C_I = ("7601", "7604", "7605", "7606", "7607", "7608", "7609", "76141010", "7616995160", "7616995170")


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    imp = pd.read_csv(SHARED / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz",
                      dtype={"hs10": str, "cty_code": int})
    imp = imp[imp["cty_code"].isin(CTY.values())].reset_index(drop=True)
    imp["iso"] = imp["cty_code"].map({v: k for k, v in CTY.items()})
    hts = pd.read_csv(SHARED / "us_tariff_schedule_2024" / "us_hts8_mfn_fta_2024basic.csv.gz", dtype=str)
    row = hts.set_index("hts8").reindex(imp["hs10"].str[:8])
    mfn = pd.to_numeric(row["mfn_adval"], errors="coerce").fillna(0).to_numpy()
    japan = pd.to_numeric(row["japan_adval"], errors="coerce").to_numpy()
    imp["base"] = np.where((imp["iso"] == "JPN") & ~np.isnan(japan), japan, mfn)
    return imp


def _on(frame, codes) -> np.ndarray:
    return frame["hs10"].str.startswith(tuple(codes)).to_numpy()


def _annex(frame, annex, metal=None) -> np.ndarray:
    ann = pd.read_csv(TRACK / "s232_annex_products.csv", dtype=str)
    ann = ann[(ann.annex == annex) & (ann.effective_date <= DAY.isoformat())]
    if metal:
        ann = ann[ann.metal_type == metal]
    return _on(frame, _codes(ann, "hts_prefix"))


def _accounts(overrides=None):
    from tariffsim.analysis.periods import dated_accounting
    from tariffsim.datasets import load_world
    from tariffsim.scenario import load_scenario, scenario_from_dict

    if overrides:
        scenario = scenario_from_dict({"name": "child", "extends": LAW.name, "overrides": overrides},
                                      base_dir=LAW.parent)
    else:
        scenario = load_scenario(LAW)
    # the law file's base is dated (hts_2024, then hts_2026): one compile per base schedule
    return dated_accounting(scenario, [DAY], load_world())


def _duty(acc, iso) -> float:
    return float(acc["duty_new"][0][list(acc["partner"]).index(iso)])


@pytest.fixture(scope="module")
def law():
    return _accounts()


@pytest.fixture(scope="module")
def child():
    return _accounts({"s232_subdivision_r": {"coverage": 1.0}, "s232_usmca_metals_carveout": {"coverage": 1.0}})


def test_russia_aluminium_pays_200_percent_under_the_annexes(lines, law):
    ru = lines[lines["iso"] == "RUS"]
    alu = (_on(ru, ALUMINIUM_C_I) | _annex(ru, "1a", "aluminum") | _annex(ru, "1b", "aluminum")
           | _annex(ru, "3", "aluminum"))
    note33 = pd.read_csv(SHARED / "us_tariff_law_2025" / "s232_autos_parts_hts_note33.csv", dtype=str)
    autos = _on(ru, tuple(c for c in note33["hts_nodot"] if c != "8471"))  # note 33 parts pay no metals duty
    covered = float(ru.loc[alu & ~autos, "imports_usd"].sum())
    got = float(law["applied"]["s232_annex_rus_aluminum"][0, list(law["partner"]).index("RUS")])
    assert got == pytest.approx(covered, rel=1e-9)
    assert covered > 1e6  # Russian aluminium on these lists in 2024: USD 4.4 mn


def test_subdivision_r_certified_parts_pay_the_15_percent_floor(lines, law, child):
    jp = lines[lines["iso"] == "JPN"]
    r = _on(jp, _codes(pd.read_csv(TRACK / "s232_subdivision_r_products.csv", dtype=str), "hts_prefix"))
    assert r.any() and np.all(_annex(jp, "1b")[r])  # the 8 lines are annex I-B (25%) articles
    v, b = jp["imports_usd"].to_numpy()[r], jp["base"].to_numpy()[r]
    # 25% annex I-B becomes 15% all-in: duty falls by sum v * (0.25 - max(0.15 - base, 0))
    expected = float(np.sum(v * (0.25 - np.maximum(0.15 - b, 0.0))))
    assert _duty(law, "JPN") - _duty(child, "JPN") == pytest.approx(expected, rel=1e-6)
    assert float(law["applied"]["s232_subdivision_r"][0].sum()) == 0.0  # coverage 0 by default


def test_usmca_metals_carveout_halves_the_annex_1a_rate(lines, law, child):
    ca = lines[lines["iso"] == "CAN"]
    import tomllib

    measures = tomllib.loads(LAW.read_text())["measure"]
    products = next(m for m in measures if m["id"] == "s232_usmca_metals_carveout")["products"]
    on = _on(ca, products)
    # every carve-out line is an annex I-A article (50%); authorised quantities pay 25%
    assert np.all(_annex(ca, "1a")[on])
    expected = 0.25 * float(ca.loc[on, "imports_usd"].sum())
    assert _duty(law, "CAN") - _duty(child, "CAN") == pytest.approx(expected, rel=1e-6)
    assert expected > 1e9
