"""Golden tests: US tariff rates recomputed independently from the raw files in ../shared/data.

Nothing here uses tariffsim's datasets or lists: the raw Census, HTS, USMCA and legal-list
files are joined with pandas and compared with what ``tariffsim run`` reports.

* 2024 base rate: MFN ad valorem part (specific parts = 0, unparsable texts = 0); KORUS for
  Korea, US-Japan / Australia / Singapore / Chile program rates where printed; USMCA for
  Canada and Mexico in proportion to the 2024 USMCA share of the HTS10 line; column 2 for
  Cuba, North Korea, Russia and Belarus (first percentage of the column 2 text).
* Korea on 9 April 2025 (liberation_day.toml, the law as applied): KORUS base + 25% on every
  line, except Annex II (2 April) and April 11 electronics lines, which pay the base only; 232
  vehicles and the note 16/19 metal lists 25%; aluminium derivatives 25% on their aluminium
  content. (232 and reciprocal are mutually exclusive, both 25%.)
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
    """Korea on 9 April 2025 under the law as applied (scenarios/us_law via liberation_day.toml).

    232 autos (note 33(b)) and the note 16/19 steel and aluminium product lists pay 25%; aluminium
    derivatives outside chapter 76 pay 25% on their aluminium content (BEA share; lines without
    data all metal) and the reciprocal duty on the rest; every other line pays +25% unless it is on
    the 2 April Annex II list or among the April 11 electronics (exempt from 5 April, retroactively).
    """
    law = SHARED / "us_tariff_law_2025"
    tracker = SHARED / "us_tariff_law_2026" / "yale_tracker_73abc0a_2026-06-15" / "resources"
    annex = tuple(pd.read_csv(law / "annexII_exempt_eo14257_2025-04-02_hts8_ONEtranscription.csv", dtype=str)["hts8"])
    electronics = tuple(pd.read_csv(law / "annexII_additions_2025-04-11_electronics_ONEtranscription.csv",
                                    dtype=str)["hts_prefix"].str.replace(".", "", regex=False))
    note33 = pd.read_csv(law / "s232_autos_parts_hts_note33.csv", dtype=str)
    vehicles = tuple(note33.loc[note33["list"].str.startswith("note33(b)"), "hts_nodot"])
    assert len(vehicles) == 17
    metals = tuple(pd.read_csv(tracker / "s232_metal_chapter_products.csv", dtype=str)["hts_prefix"])
    der = pd.read_csv(tracker / "s232_derivative_products.csv", dtype=str).fillna("")
    alu_early = tuple(der.loc[(der.derivative_type == "aluminum") & (der.effective_date == ""), "hts_prefix"])
    extra = SHARED / "us_tariff_law_2026" / "yale_tracker_8315fffd_extra"
    bea = (pd.read_csv(extra / "metal_content_shares_bea_hs10.csv.gz", dtype={"hs10": str})
           .drop_duplicates("hs10").set_index("hs10"))
    k = raw[raw["cty"] == KOR].reset_index(drop=True)
    hs = k["hs10"]
    shares = bea.reindex(hs)
    total = shares[["steel_share", "aluminum_share", "copper_share"]].sum(axis=1).to_numpy()
    alu = np.where(shares["aluminum_share"].notna(), shares["aluminum_share"].fillna(0) / np.maximum(total, 1.0), 1.0)
    full = (hs.str.startswith(vehicles) | hs.str.startswith(metals)).to_numpy()
    c = np.where(hs.str.startswith(alu_early).to_numpy() & ~full, alu, 0.0)  # aluminium content under 232
    exempt = (hs.str.startswith(annex) | hs.str.startswith(electronics)).to_numpy()
    recip = np.where(exempt, 0.0, 0.25)
    additional = np.where(full, 0.25, c * 0.25 + (1 - c) * recip)
    expected = ((k["base"] + additional) * k["value"]).sum() / k["value"].sum()

    doc = run_json(capsys, KOREA / "liberation_day.toml")
    row = partner_row(doc, "KOR")
    assert row["etr"] == pytest.approx(expected, abs=1e-7)  # content shares are embedded to 6 decimals
    assert 0.19 < expected < 0.20  # 22.27% before the electronics exemption was applied from 5 April
    # exposure table: the reciprocal duty applies to what is neither exempt nor 232 (non-metal content included)
    exposure = {r["measure"]: r["covered_usd_bn"] for r in doc["exposure"] if r["partner"] == "KOR"}
    v = k["value"].to_numpy()
    assert exposure["recip_annex_i"] == pytest.approx(np.sum(v * np.where(full | exempt, 0.0, 1 - c)) / 1e9, rel=1e-6)
    s232 = exposure["s232_autos"] + exposure.get("s232_steel_25", 0.0) + exposure.get("s232_aluminum_25", 0.0)
    assert s232 == pytest.approx(v[full].sum() / 1e9, rel=1e-9)
    # the aluminium-derivative duty is levied on the aluminium content of its lines (also where a
    # metal-list duty of the same rate and precedence applies: both count as applied), not under autos
    deriv = hs.str.startswith(alu_early).to_numpy() & ~hs.str.startswith(vehicles).to_numpy()
    expected_deriv = np.sum(v * alu * deriv) / 1e9
    assert exposure.get("s232_aluminum_deriv_25", 0.0) == pytest.approx(expected_deriv, rel=1e-5)  # shares to 6 digits
