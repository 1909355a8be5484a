"""The 2026 schedule (``schedule = "hts_2026"``) against the raw USITC HTS 2026 JSON and the tracker's concordance.

The expected side reads the raw files with its own few lines of code: the HTS 2026 Revision 10 JSON
export (rates printed on a 10-digit row or its HTS8 row), the Budget Lab concordance chained by hand, the
Census 2024 file and the 2024 USMCA shares. It never reads ``hts2026_lines.csv.gz`` or the package's lines.
"""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.util
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TARIFFSIM_SHARED_DATA", REPO.parent / "shared" / "data"))
TRACKER = SHARED / "us_tariff_law_2026" / "yale_tracker_73abc0a_2026-06-15"
LAW = REPO / "scenarios" / "us_law" / "us_tariffs_2025_2026.toml"

pytestmark = pytest.mark.skipif(
    not (TRACKER / "data" / "hts_archives").is_dir() or not (SHARED / "us_imports_2024").is_dir(),
    reason=f"raw data folder {SHARED} is absent (needs the HTS 2026 JSON, the tracker concordance, Census 2024)",
)

# Census partner codes of the preference programmes (USITC special codes) and the column 2 countries
PROGRAM = {5800: "KR", 1220: "S", 2010: "S", 5880: "JP", 6021: "AU", 5590: "SG", 3370: "CL"}
COLUMN2 = (2390, 5790, 4621, 4622)  # Cuba, North Korea, Russia, Belarus


# ------------------------------------------------------------------------------ raw side
def _pct(text: str) -> float:
    """Ad valorem part of a rate text: Free -> 0, the first 'x%' (or 'x y/z%'), else 0 (specific only)."""
    t = re.sub(r"<[^>]+>", "", text or "").strip()
    if t.lower().startswith("free"):
        return 0.0
    m = re.search(r"(\d+(?:\.\d+)?)(?:\s+(\d+)/(\d+))?\s*%", t)
    if not m:
        return float("nan")
    return (float(m.group(1)) + (float(m.group(2)) / float(m.group(3)) if m.group(2) else 0.0)) / 100


@pytest.fixture(scope="module")
def hts() -> dict:
    """Revision 10: code (digits) -> (general, special, other), ch. 01-97, rows that print a rate."""
    with gzip.open(TRACKER / "data" / "hts_archives" / "hts_2026_rev_10.json.gz", "rt") as fh:
        rows = json.load(fh)
    out = {"rates": {}, "codes10": set()}
    for r in rows:
        code = r["htsno"].replace(".", "")
        if not code or code[:2] in ("98", "99"):
            continue
        if len(code) == 10:
            out["codes10"].add(code)
        if (r.get("general") or "").strip() and code not in out["rates"]:
            out["rates"][code] = (r["general"], r.get("special") or "", r.get("other") or "")
    return out


def text_of(hts: dict, code: str) -> tuple[str, str, str] | None:
    return hts["rates"].get(code) or hts["rates"].get(code[:8])


def successors(hts: dict, code: str) -> list[str]:
    """2026 codes of a 2024 code: itself, else concordance successors (chained), else its HTS8's codes."""
    if code in hts["codes10"]:
        return [code]
    conc = pd.read_csv(TRACKER / "resources" / "hts_concordance.csv", dtype=str)
    conc = conc.dropna(subset=["old_hts10", "new_hts10"])
    seen, todo = set(), [code]
    while todo:
        for new in conc.loc[conc["old_hts10"] == todo.pop(), "new_hts10"]:
            if new not in seen and new != code:
                seen.add(new)
                todo.append(new)
    found = sorted(c for c in seen if c in hts["codes10"])
    found = [c for c in found if c[:8] == code[:8]] or found  # pairs across HTS8 only if none stays
    return found or sorted(c for c in hts["codes10"] if c[:8] == code[:8]) or [code[:8]]


def programme(general: str, special: str, code: str) -> float:
    mfn = _pct(general)
    for rate, codes in re.findall(r"([^()]*?)\s*\(([^()]*)\)", re.sub(r"<[^>]+>", "", special)):
        if code in [c.strip().rstrip("*") for c in codes.split(",")]:
            value = _pct(rate.strip())
            return mfn if np.isnan(value) else value
    return mfn


# ------------------------------------------------------------------------------ package side
@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    from tariffsim.datasets import load_hts2026

    return load_hts2026().set_index("hs10")


def test_the_2026_lines_keep_the_2024_rows_and_weights():
    from tariffsim.datasets import load_us_product_lines, load_us_product_lines_2026

    old, new = load_us_product_lines(), load_us_product_lines_2026()
    assert len(new) == len(old) == 334_728
    np.testing.assert_array_equal(new.hs10, old.hs10)
    np.testing.assert_array_equal(new.partner, old.partner)
    np.testing.assert_array_equal(new.value, old.value)
    assert new.year == 2024


@pytest.mark.parametrize("code", ["6505000100", "8708220000", "0901110045", "0202305085", "8507600020",
                                  "8542310001", "3004909291"])
def test_mfn_rate_of_a_line_is_the_2026_schedule(hts, table, code):
    """Lines picked for a rate change 2024 -> 2026 (hats), an HTS8 with a 10-digit rate row, and renamed /
    split codes: the 2026 rate is the mean over the line's 2026 codes of the rate printed in Revision 10."""
    succ = successors(hts, code)
    expected = np.mean([np.nan_to_num(_pct(text_of(hts, s)[0])) for s in succ])
    assert table.loc[code, "n_2026"] == len(succ)
    assert table.loc[code, "mfn"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("column, program, old_column, expected", [
    ("mfn", None, "mfn_adval", 1),  # 6505.00.01 hats 6.4% -> 9.4% (PROVENANCE.md section 4b)
    ("kr", "KR", "korus_adval", 8),  # KORUS staging: beef 3.5% -> Free, rice 1.4% -> Free
    ("jp", "JP", "japan_adval", 2),  # US-Japan staging: chewing gum 2.0% -> 1.2%, ...
])
def test_rates_that_changed_2024_to_2026(hts, table, column, program, old_column, expected):
    """Unchanged codes whose pure ad valorem / Free rate differs from the 2024 Basic Edition carry the 2026 one."""
    old = pd.read_csv(SHARED / "us_tariff_schedule_2024" / "us_hts8_mfn_fta_2024basic.csv.gz", dtype=str)
    old = pd.to_numeric(old.set_index("hts8")[old_column], errors="coerce").dropna()
    same = table[table["how"] == "same"]
    changed = []
    for code in same.index:
        text = text_of(hts, code)
        if code[:8] not in old.index or not text or not re.fullmatch(r"Free|\d+(\.\d+)?%", text[0].strip()):
            continue
        new = _pct(text[0]) if program is None else programme(text[0], text[1], program)
        if abs(new - old[code[:8]]) > 1e-9:
            changed.append(code)
            assert same.loc[code, column] == pytest.approx(new, abs=1e-12), code
    assert len(changed) >= expected, changed


def test_a_split_line(hts, table):
    """0202.30.5085 (in-quota beef, 4.4 cents/kg) is paired by the concordance with a code of its own HTS8 and
    with over-quota beef 0202.30.8025 (26.4%, another HTS8): only the first is its 2026 code, so it keeps a
    specific duty (0 ad valorem, flagged), not the 13.2% mean. 3004.90.9291 (medicaments) is paired with 13
    Revision 2 codes, 9 of them in its HTS8: a split line of 9 codes."""
    assert successors(hts, "0202305085") == ["0202305097"]
    row = table.loc["0202305085"]
    assert (row["how"], row["n_2026"], row["hs10_2026"], row["mfn"], row["specific"]) == (
        "concordance", 1, "0202305097", 0.0, 1)
    assert _pct(text_of(hts, "0202308025")[0]) == pytest.approx(0.264)
    succ = successors(hts, "3004909291")
    assert len(succ) == 9 and all(s.startswith("30049092") for s in succ)
    row = table.loc["3004909291"]
    assert row["how"] == "concordance" and row["n_2026"] == 9 and sorted(row["hs10_2026"].split()) == succ


def test_a_2026_code_matches_the_2024_lines_that_map_to_it():
    """The lithium-ion battery line 8507.60.0020 is 8507.60.0090 from 2026 Rev. 2 (a list in 2026 codes)."""
    from tariffsim.datasets import load_us_product_lines, load_us_product_lines_2026

    old, new = load_us_product_lines(), load_us_product_lines_2026()
    battery = old.hs10 == 8507600020
    assert battery.sum() > 10
    assert not old.match(["8507600090"])[battery].any()  # 2024 lines: the 2026 code is unknown
    assert new.match(["8507600090"])[battery].all()
    assert new.match(["8507600020"])[battery].all()  # the 2024 code still matches its own line
    # an entry naming an unchanged 2024 code matches exactly the same lines on both
    np.testing.assert_array_equal(new.match(["87032201", "7208"]), old.match(["87032201", "7208"]))


def test_parser_reproduces_the_2024_derived_table():
    """tools/build_hts2026.py's rate parser on the raw 2024 HTS CSV gives the 2024 table built earlier
    (us_hts8_mfn_fta_2024basic, derived separately): MFN and the six programmes, ad valorem parts."""
    spec = importlib.util.spec_from_file_location("build_hts2026", REPO / "tools" / "build_hts2026.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    raw = pd.read_csv(SHARED / "us_tariff_schedule_2024" / "hts_2024_basic_edition.csv.gz", dtype=str).fillna("")
    raw["code"] = raw["HTS Number"].str.replace(".", "", regex=False)
    raw = raw[raw["code"].str.len().isin([8, 10]) & (raw["General Rate of Duty"] != "")]
    raw = raw.assign(h8=raw["code"].str[:8]).drop_duplicates("h8")
    ref = pd.read_csv(SHARED / "us_tariff_schedule_2024" / "us_hts8_mfn_fta_2024basic.csv.gz", dtype=str)
    ref = ref.set_index("hts8").reindex(raw["h8"])
    gen, spe = raw["General Rate of Duty"].to_list(), raw["Special Rate of Duty"].to_list()
    mfn = np.array([tool.adval(g) for g in gen])
    want = pd.to_numeric(ref["mfn_adval"], errors="coerce").to_numpy()
    ok = ~np.isnan(want)
    assert ok.sum() > 10_000
    np.testing.assert_allclose(mfn[ok], want[ok], atol=1e-12)
    for col, codes in tool.PROGRAMS:
        name = {"kr": "korus", "usmca": "usmca", "jp": "japan", "au": "australia", "sg": "singapore",
                "cl": "chile"}[col]
        got = np.array([tool.programme_rate(g, s, codes) for g, s in zip(gen, spe)])
        want = pd.to_numeric(ref[f"{name}_adval"], errors="coerce").to_numpy()
        ok = ~np.isnan(want)
        assert ok.sum() > 13_000
        np.testing.assert_allclose(got[ok], want[ok], atol=1e-12, err_msg=name)


def test_base_etr_2026_against_an_independent_join(hts):
    """All-partner and Korea base ETR on 2026-12-01, every other measure switched off: a pandas join of
    Census 2024 lines with Revision 10 rates (programme rate for the seven FTA partners, USMCA at the
    2024 USMCA share, column 2 for Cuba, North Korea, Russia, Belarus; specific parts as zero)."""
    from tariffsim.analysis.timeline import timeline
    from tariffsim.scenario import load_scenario

    imp = pd.read_csv(SHARED / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz",
                      dtype={"hs10": str, "cty_code": int})
    usm = pd.read_csv(SHARED / "us_usmca_shares_2024" / "usmca_product_shares_2024.csv.gz",
                      dtype={"hts10": str, "cty_code": int})
    share = usm.set_index(["hts10", "cty_code"])["usmca_share"].reindex(
        pd.MultiIndex.from_arrays([imp["hs10"], imp["cty_code"]])).fillna(0.0).to_numpy()
    codes = imp["hs10"].unique()
    succ = {c: successors(hts, c) if c not in hts["codes10"] else [c] for c in codes}

    def mean_rate(code: str, which) -> float:
        vals = [which(t) for s in succ[code] if (t := text_of(hts, s))]
        return float(np.mean(np.nan_to_num(vals))) if vals else np.nan

    rates = {p: {c: mean_rate(c, lambda t, p=p: programme(t[0], t[1], p)) for c in codes}
             for p in ("KR", "S", "JP", "AU", "SG", "CL")}
    mfn = imp["hs10"].map({c: mean_rate(c, lambda t: _pct(t[0])) for c in codes}).to_numpy()
    col2 = imp["hs10"].map({c: mean_rate(c, lambda t: 0.0 if t[2].lower().startswith("free") else _pct(t[2]))
                            for c in codes}).to_numpy()
    rate = mfn.copy()
    for cty, p in PROGRAM.items():
        sel = (imp["cty_code"] == cty).to_numpy()
        pref = imp["hs10"].map(rates[p]).to_numpy()
        rate[sel] = (share * pref + (1 - share) * mfn)[sel] if p == "S" else pref[sel]
    sel = imp["cty_code"].isin(COLUMN2).to_numpy()
    rate[sel] = np.where(np.isnan(col2), mfn, col2)[sel]
    rate = np.nan_to_num(rate)  # the one code not in the 2026 schedule (2918.00.0000, 0.1 bn): see below
    v = imp["imports_usd"].to_numpy(dtype=float)
    kor = (imp["cty_code"] == 5800).to_numpy()
    want_all, want_kor = (rate * v).sum() / v.sum(), (rate * v)[kor].sum() / v[kor].sum()

    law = load_scenario(LAW)
    base_only = replace(law, measures=tuple(m for m in law.measures if m.kind == "base"))
    got = timeline(base_only, [dt.date(2026, 12, 1)], partners=["KOR"]).set_index("partner")["etr"]
    # 2918.00.0000 keeps its 2024 rate (none parsed, 0) in both; NaN-free rates, so the match is exact
    assert got["WORLD"] == pytest.approx(want_all, abs=1e-9)
    assert got["KOR"] == pytest.approx(want_kor, abs=1e-9)


def test_2025_dates_keep_the_2024_schedule():
    """The base switches on 2026-01-01: 2025-12-31 reads the 2024 lines, 2026-01-01 the 2026 ones."""
    from tariffsim.analysis.timeline import timeline
    from tariffsim.scenario import load_scenario

    law = load_scenario(LAW)
    base_only = replace(law, measures=tuple(m for m in law.measures if m.kind == "base"))
    frame = timeline(base_only, [dt.date(2025, 12, 31), dt.date(2026, 1, 1)], partners=["KOR"])
    world = frame[frame["partner"] == "WORLD"].set_index("date")["etr"]
    from tariffsim.datasets import load_us_product_lines

    lines = load_us_product_lines()
    assert world[dt.date(2025, 12, 31)] == pytest.approx((lines.base_rate * lines.value).sum() / lines.value.sum(),
                                                          abs=1e-12)
    assert world[dt.date(2026, 1, 1)] != pytest.approx(world[dt.date(2025, 12, 31)], abs=1e-7)


def test_two_line_schedules_at_once_are_refused():
    from tariffsim.errors import ScenarioError
    from tariffsim.scenario import scenario_from_dict
    from tariffsim.schedule import prepare_schedule

    data = {"name": "two", "measure": [
        {"id": "a", "kind": "base", "importer": "USA", "schedule": "hts_2024"},
        {"id": "b", "kind": "base", "importer": "USA", "schedule": "hts_2026"},
    ]}
    with pytest.raises(ScenarioError, match="one compile reads one schedule"):
        prepare_schedule(scenario_from_dict(data))
