"""Golden tests: US tariff rates recomputed independently from the raw files in ../shared/data.

Nothing here uses tariffsim's datasets or lists: the raw Census, HTS, USMCA and legal-list
files are joined with pandas and compared with what ``tariffsim run`` reports.

* 2024 base rate: MFN ad valorem part (specific parts = 0, unparsable texts = 0); KORUS for
  Korea, US-Japan / Australia / Singapore / Chile program rates where printed; USMCA for
  Canada and Mexico in proportion to the 2024 USMCA share of the HTS10 line; column 2 for
  Cuba, North Korea, Russia and Belarus (first percentage of the column 2 text).
* Korea on 9 April 2025 (liberation_day.toml): KORUS base + 25% on every line, except lines
  on the 2 April Annex II list that are neither 232 vehicles (note 33(b)) nor in chapters
  72/73/76, which pay the base only. (232 and reciprocal are mutually exclusive, both 25%.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tariffsim.cli import main

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
KOREA = Path(__file__).resolve().parents[1] / "scenarios" / "korea_us_2025"

pytestmark = [
    pytest.mark.skipif(not (SHARED / "us_imports_2024").is_dir(),
                       reason=f"raw data folder {SHARED} is absent (golden tests need the shared Census/HTS files)"),
    pytest.mark.slow,
]

# Census country codes (the raw file's `cty_code`)
KOR, CAN, MEX = 5800, 1220, 2010
PROGRAMS = {KOR: "korus", 5880: "japan", 6021: "australia", 5590: "singapore", 3370: "chile"}
COLUMN2 = (2390, 5790, 4621, 4622)  # Cuba, North Korea, Russia, Belarus


def _col2(text, mfn: float) -> float:
    if not isinstance(text, str) or not text.strip():
        return mfn
    t = text.strip().lower()
    if t.startswith("free"):
        return 0.0
    m = re.search(r"(\d+(?:\.\d+)?)(?:\s+(\d+)/(\d+))?\s*%", t)
    if not m:
        return 0.0
    return (float(m.group(1)) + (float(m.group(2)) / float(m.group(3)) if m.group(2) else 0.0)) / 100.0


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """Census lines with an independently computed 2024 base rate."""
    imp = pd.read_csv(SHARED / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz", dtype={"hs10": str})
    hts = pd.read_csv(SHARED / "us_tariff_schedule_2024" / "us_hts8_mfn_fta_2024basic.csv.gz", dtype=str)
    usmca = pd.read_csv(SHARED / "us_usmca_shares_2024" / "usmca_product_shares_2024.csv.gz", dtype={"hts10": str})
    row = hts.set_index("hts8").reindex(imp["hs10"].str[:8])

    def num(col: str) -> np.ndarray:
        return pd.to_numeric(row[col], errors="coerce").to_numpy(dtype=float)

    mfn = np.nan_to_num(num("mfn_adval"), nan=0.0)
    cty = imp["cty_code"].to_numpy()
    base = mfn.copy()
    for code, program in PROGRAMS.items():
        pref = num(f"{program}_adval")
        use = (cty == code) & ~np.isnan(pref)
        base[use] = pref[use]
    col2 = row["col2_text"].to_numpy(dtype=object)
    for k in np.flatnonzero(np.isin(cty, COLUMN2)):
        base[k] = _col2(col2[k], mfn[k])
    share = (usmca.set_index(["hts10", "cty_code"])["usmca_share"]
             .reindex(pd.MultiIndex.from_arrays([imp["hs10"], imp["cty_code"]])).to_numpy(dtype=float))
    s_rate = num("usmca_adval")
    s_rate = np.where(np.isnan(s_rate), mfn, s_rate)
    nafta = np.isin(cty, [CAN, MEX])
    assert not np.isnan(share[nafta]).any()  # every CAN/MEX line has a USMCA share
    base[nafta] = share[nafta] * s_rate[nafta] + (1.0 - share[nafta]) * mfn[nafta]
    return pd.DataFrame({"hs10": imp["hs10"], "cty": cty, "value": imp["imports_usd"].astype(float), "base": base})


def run_json(capsys, path: Path) -> dict:
    assert main(["run", str(path), "--json", "--no-flows"]) == 0
    return json.loads(capsys.readouterr().out)


def partner_row(doc: dict, partner: str) -> dict:
    (row,) = [r for r in doc["us_partners"] if r["partner"] == partner]
    return row


def test_baseline_2024_base_rate_world_and_korea(raw, capsys):
    doc = run_json(capsys, KOREA / "baseline_2024.toml")
    v, b = raw["value"].to_numpy(), raw["base"].to_numpy()
    world = (v * b).sum() / v.sum()
    kor = raw["cty"].to_numpy() == KOR
    korea = (v[kor] * b[kor]).sum() / v[kor].sum()
    w, k = partner_row(doc, "WORLD"), partner_row(doc, "KOR")
    assert w["imports_usd_bn"] == pytest.approx(v.sum() / 1e9, rel=1e-12)
    assert w["etr_base"] == pytest.approx(world, abs=1e-9)
    assert w["etr"] == pytest.approx(world, abs=1e-9)  # baseline: nothing on top
    assert k["etr_base"] == pytest.approx(korea, abs=1e-9)
    assert k["etr"] == pytest.approx(korea, abs=1e-9)
    # published orders of magnitude: ~1.4% all partners, KORUS ~0 for Korea
    assert 0.013 < world < 0.015 and korea < 1e-4


def test_korea_liberation_day_statutory_rate(raw, capsys):
    law = SHARED / "us_tariff_law_2025"
    annex = set(pd.read_csv(law / "annexII_exempt_eo14257_2025-04-02_hts8_ONEtranscription.csv", dtype=str)["hts8"])
    note33 = pd.read_csv(law / "s232_autos_parts_hts_note33.csv", dtype=str)
    vehicles = tuple(note33.loc[note33["list"].str.startswith("note33(b)"), "hts_nodot"])
    assert len(vehicles) == 17
    k = raw[raw["cty"] == KOR]
    hs = k["hs10"]
    s232 = hs.str.startswith(vehicles) | hs.str[:2].isin(["72", "73", "76"])
    exempt = hs.str[:8].isin(annex) & ~s232
    additional = np.where(exempt, 0.0, 0.25)
    expected = ((k["base"] + additional) * k["value"]).sum() / k["value"].sum()

    doc = run_json(capsys, KOREA / "liberation_day.toml")
    row = partner_row(doc, "KOR")
    assert row["etr"] == pytest.approx(expected, abs=1e-9)
    assert 0.22 < expected < 0.23
    # exposure table: the reciprocal duty applies to what is neither exempt nor 232
    exposure = {r["measure"]: r["covered_usd_bn"] for r in doc["exposure"] if r["partner"] == "KOR"}
    assert exposure["us_reciprocal"] == pytest.approx(k["value"][~exempt & ~s232].sum() / 1e9, rel=1e-12)
    assert exposure["s232_autos"] + exposure["s232_metals"] == pytest.approx(k["value"][s232].sum() / 1e9, rel=1e-12)
