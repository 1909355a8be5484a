"""The US law file (scenarios/us_law/us_tariffs_2025_2026.toml) against computations from the RAW files.

Nothing on the expected side uses tariffsim's lists, lines or share tables: the 2024 Census
HS10 x country file, the Budget Lab tracker's product lists (``resources/*.csv``), its BEA
metal-content and 2025 USMCA share files and the 2024 HTS schedule are read with pandas and
the law is applied by hand, rule by rule, as the law file documents it:

* 232 excludes the reciprocal duty / Section 122 / forced labor; among 232 items the highest
  precedence wins (deals 2 > autos, trucks, semis, pharma 1 > metals, lumber 0), max at equal
  precedence; fentanyl on China and Section 301 China add on top;
* derivative duties are charged on the metal content (BEA share of the HS10 line; missing
  lines count as all metal; kinds side by side, scaled to at most 1);
* all-in rates: duty = max(rate - base, 0) with base = KORUS / MFN ad valorem (2024 HTS).

The package side is the compiler's statutory accounting (``tariffsim.analysis.timeline`` and
``CompiledSchedule.line_accounting``), compiled once for all dates.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
# ../shared/data beside the repository; TARIFFSIM_SHARED_DATA points elsewhere (e.g. from a git worktree)
SHARED = Path(os.environ.get("TARIFFSIM_SHARED_DATA", REPO.parent / "shared" / "data"))
LAW = REPO / "scenarios" / "us_law" / "us_tariffs_2025_2026.toml"
TRACK = SHARED / "us_tariff_law_2026" / "yale_tracker_73abc0a_2026-06-15" / "resources"
EXTRA = SHARED / "us_tariff_law_2026" / "yale_tracker_8315fffd_extra"

pytestmark = [
    pytest.mark.skipif(
        not TRACK.is_dir() or not (SHARED / "us_imports_2024").is_dir(),
        reason=f"raw data folder {SHARED} is absent (the law tests need the Census and tracker files)",
    ),
    pytest.mark.slow,
]

CTY = {"KOR": 5800, "CHN": 5700, "CAN": 1220, "MEX": 2010, "JPN": 5880}
PARTNERS = list(CTY)
DATES = [
    "2025-03-05",
    "2025-03-11",
    "2025-04-09",
    "2025-05-03",
    "2025-11-14",
    "2026-02-24",
    "2026-03-01",
    "2026-06-08",
    "2026-12-01",
]


# ------------------------------------------------------------------------------ raw side
def _codes(frame: pd.DataFrame, col: str) -> tuple[str, ...]:
    return tuple(frame[col].astype(str).str.replace(".", "", regex=False).str.strip())


def tracker(name: str, col: str, **where) -> tuple[str, ...]:
    text = "".join(
        x for x in (TRACK / name).read_text(encoding="utf-8").splitlines(keepends=True) if not x.startswith("#")
    )
    from io import StringIO

    frame = pd.read_csv(StringIO(text), dtype=str, usecols=lambda c: True, on_bad_lines="skip").fillna("")
    for k, v in where.items():
        frame = frame[frame[k].isin(v if isinstance(v, (list, tuple)) else [v])]
    return _codes(frame, col)


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """Census 2024 lines of the five partners with BEA metal content, USMCA 2025 share and base rate."""
    imp = pd.read_csv(
        SHARED / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz", dtype={"hs10": str, "cty_code": int}
    )
    imp = imp[imp["cty_code"].isin(CTY.values())].reset_index(drop=True)
    inv = {v: k for k, v in CTY.items()}
    imp["iso"] = imp["cty_code"].map(inv)
    metal = pd.read_csv(EXTRA / "metal_content_shares_bea_hs10.csv.gz", dtype={"hs10": str}).drop_duplicates("hs10")
    metal = metal.set_index("hs10").reindex(imp["hs10"])
    has = metal["steel_share"].notna().to_numpy()
    # BEA content shares; where steel + aluminium + copper exceed the value they are scaled to sum
    # to one; lines without data count as all metal (each kind the whole line)
    kinds = {k: metal[f"{k}_share"].fillna(0).to_numpy() for k in ("steel", "aluminum", "copper")}
    scale = 1.0 / np.maximum(sum(kinds.values()), 1.0)
    for kind, share in kinds.items():
        imp[kind] = np.where(has, share * scale, 1.0)
    imp["found"] = has
    usm = pd.read_csv(EXTRA / "usmca_product_shares_2025.csv.gz", dtype={"hts10": str, "cty_code": int})
    imp["usmca"] = (
        usm.set_index(["hts10", "cty_code"])["usmca_share"]
        .reindex(pd.MultiIndex.from_arrays([imp["hs10"], imp["cty_code"]]))
        .fillna(0)
        .to_numpy()
    )
    hts = pd.read_csv(SHARED / "us_tariff_schedule_2024" / "us_hts8_mfn_fta_2024basic.csv.gz", dtype=str)
    row = hts.set_index("hts8").reindex(imp["hs10"].str[:8])
    mfn = pd.to_numeric(row["mfn_adval"], errors="coerce").fillna(0).to_numpy()
    korus = pd.to_numeric(row["korus_adval"], errors="coerce").to_numpy()
    base = np.where((imp["iso"] == "KOR") & ~np.isnan(korus), korus, mfn)
    imp["base"] = base
    return imp


def on(raw: pd.DataFrame, codes) -> np.ndarray:
    """Lines whose code starts with one of ``codes``; on :func:`raw26` also lines at least half of whose
    2026 codes do (2026 dates: the law file's base is the 2026 schedule, lists match through 2026 codes)."""
    codes = tuple(codes)
    hit = raw["hs10"].str.startswith(codes).to_numpy().copy()
    later = raw.attrs.get("later")
    if later:
        whole = {c for c, succ in later.items() if 2 * sum(s.startswith(codes) for s in succ) >= len(succ)}
        hit |= raw["hs10"].isin(whole).to_numpy()
    return hit


def _pct(text: str) -> float:
    """Ad valorem part of an HTS rate text: Free -> 0, the first 'x%', else 0 (specific only)."""
    t = text.strip()
    m = re.search(r"(\d+(?:\.\d+)?)\s*%", t)
    return 0.0 if t.lower().startswith("free") or not m else float(m.group(1)) / 100


@pytest.fixture(scope="module")
def raw26(raw) -> pd.DataFrame:
    """``raw`` read in the 2026 schedule: each 2024 code's 2026 codes (USITC HTS 2026 Rev. 10 JSON: the
    code itself, else its successors by the tracker concordance chained, those in its HTS8 if any, else
    the codes of its HTS8) in ``attrs["later"]``, and ``base`` = the mean KORUS (Korea) or MFN rate of them."""
    with gzip.open(TRACK.parent / "data" / "hts_archives" / "hts_2026_rev_10.json.gz", "rt") as fh:
        rows = [r for r in json.load(fh) if r["htsno"] and r["htsno"][:2] not in ("98", "99")]
    text = {}
    for r in rows:
        if (r.get("general") or "").strip():
            text.setdefault(r["htsno"].replace(".", ""), (r["general"], r.get("special") or ""))
    ref = {r["htsno"].replace(".", "") for r in rows if len(r["htsno"].replace(".", "")) == 10}
    conc = pd.read_csv(TRACK / "hts_concordance.csv", dtype=str).dropna(subset=["old_hts10", "new_hts10"])
    nxt = conc.groupby("old_hts10")["new_hts10"].apply(set).to_dict()

    def succ(code):
        if code in ref:
            return [code]
        seen, todo = set(), [code]
        while todo:
            for new in nxt.get(todo.pop(), ()):
                if new not in seen and new != code:
                    seen.add(new)
                    todo.append(new)
        found = sorted(seen & ref)
        found = [c for c in found if c[:8] == code[:8]] or found  # pairs across HTS8 only if none stays
        return found or sorted(c for c in ref if c[:8] == code[:8]) or [code[:8]]

    def rate(code, korea):
        general, special = text.get(code) or text.get(code[:8]) or ("", "")
        if korea and not general.lower().startswith("free"):
            for r, codes in re.findall(r"([^()]*?)\s*\(([^()]*)\)", special):
                if "KR" in [c.strip().rstrip("*") for c in codes.split(",")]:
                    t = r.strip()
                    if t.lower().startswith("free") or "%" in t or re.search("[¢$]", t):
                        return _pct(t)  # Free, ad valorem, or specific only (counted as zero)
                    return _pct(general)  # "See 9822.xx": a chapter 98/99 provision, MFN counted
        return _pct(general)

    out = raw.copy()
    later = {c: succ(c) for c in out["hs10"].unique()}
    out.attrs["later"] = {c: ten for c, s in later.items() if s != [c] and (ten := [x for x in s if len(x) == 10])}
    base = {c: (np.mean([rate(x, False) for x in s]), np.mean([rate(x, True) for x in s])) for c, s in later.items()}
    korea = (out["iso"] == "KOR").to_numpy()
    out["base"] = np.where(korea, out["hs10"].map(lambda c: base[c][1]), out["hs10"].map(lambda c: base[c][0]))
    return out


def additional_share(raw: pd.DataFrame, iso: str, duty: np.ndarray) -> float:
    sel = (raw["iso"] == iso).to_numpy()
    v = raw["imports_usd"].to_numpy()
    return float(np.sum(duty[sel] * v[sel]) / np.sum(v[sel]))


def s122_note_codes(first: str, stop: str) -> tuple[str, ...]:
    """Codes printed in US note 2(aa) from heading 9903.<first> up to 9903.<stop>, read with a regex."""
    import gzip
    import re

    path = SHARED / "us_tariff_law_2026" / "htsus_text" / "htsus_2026rev6_chapter99.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    block = text.split(f"As provided in heading 9903.{first}", 1)[1].split(f"As provided in heading 9903.{stop}", 1)[0]
    codes = {c.replace(".", "") for c in re.findall(r"\d{4}\.\d{2}(?:\.\d{2,4})?", block)}
    return tuple(sorted(c for c in codes if not c.startswith("9903")))


def _params() -> dict:
    import yaml

    return yaml.safe_load((TRACK.parent / "config" / "policy_params.yaml").read_text())["section_232_headings"]


# ------------------------------------------------------------------------------ package side
@pytest.fixture(scope="module")
def frame():
    from tariffsim.analysis.timeline import timeline

    return timeline(LAW, DATES, partners=PARTNERS)


@pytest.fixture(scope="module")
def accounts():
    from tariffsim.analysis.periods import dated_accounting
    from tariffsim.datasets import load_world
    from tariffsim.scenario import load_scenario

    scenario = load_scenario(LAW)
    dates = [dt.date.fromisoformat(d) for d in DATES]
    # one compile per base schedule (hts_2024 to 2025-12-31, hts_2026 from 2026-01-01), dates switched within
    acc = dated_accounting(scenario, dates, load_world())
    acc["dates"] = DATES
    acc["scenario"] = scenario
    return acc


def added(frame, date: str, iso: str) -> float:
    row = frame[(frame["date"] == dt.date.fromisoformat(date)) & (frame["partner"] == iso)].iloc[0]
    return float(row["etr"] - row["etr_base"])


def applied(acc, date: str, measure: str, iso: str) -> float:
    k, p = DATES.index(date), list(acc["partner"]).index(iso)
    return float(acc["applied"][measure][k, p]) / 1e9 if measure in acc["applied"] else 0.0


# ------------------------------------------------------------------------------ tests
def test_no_ieepa_duty_from_2026_02_24(accounts):
    from tariffsim.scenario.law import measure_authority

    ieepa = [m for m in accounts["scenario"].measures if measure_authority(m).startswith("ieepa")]
    assert len(ieepa) >= 20
    late = [m.id for m in ieepa if m.until is None or m.until > dt.date(2026, 2, 24)]
    assert not late, f"IEEPA measures in force after the ruling: {late}"
    names = list(accounts["authorities"])
    cols = [names.index(a) for a in names if a.startswith("ieepa")]
    for date in ("2026-02-24", "2026-03-01", "2026-06-08", "2026-12-01"):
        k = DATES.index(date)
        assert np.all(accounts["by_authority"][k][cols] == 0.0), date
    # and before the ruling they were collected
    assert accounts["by_authority"][DATES.index("2025-11-14")][cols].sum() > 1e11


def test_canada_mexico_fentanyl_before_usmca_exemption(raw, frame):
    """2025-03-05: +25% on every Canadian/Mexican line, +10% on Canadian energy/potash and Mexican potash."""
    energy = on(raw, tracker("fentanyl_carveout_products.csv", "hts8", category=["energy_ca", "potash_ca"]))
    potash_mx = on(raw, tracker("fentanyl_carveout_products.csv", "hts8", category="potash_mx"))
    can = np.where(energy, 0.10, 0.25)
    mex = np.where(potash_mx, 0.10, 0.25)
    assert added(frame, "2025-03-05", "CAN") == pytest.approx(additional_share(raw, "CAN", can), abs=1e-9)
    assert added(frame, "2025-03-05", "MEX") == pytest.approx(additional_share(raw, "MEX", mex), abs=1e-9)


def _s301_china(raw: pd.DataFrame, year: int) -> np.ndarray:
    """Section 301 China rate per line: the highest list rate; lines with exclusions at 25% on 65% / 80%."""
    lists = {  # heading -> rate, in force from
        "9903.91.03": (1.00, 2024),
        "9903.91.08": (1.00, 2026),
        "9903.91.02": (0.50, 2024),
        "9903.91.05": (0.50, 2025),
        "9903.91.07": (0.50, 2026),
        "9903.88.01": (0.25, 2018),
        "9903.88.02": (0.25, 2018),
        "9903.88.03": (0.25, 2019),
        "9903.88.04": (0.25, 2019),
        "9903.91.01": (0.25, 2024),
        "9903.92.10": (0.25, 2024),
        "9903.91.11": (0.25, 2025),
        "9903.91.06": (0.25, 2026),
        "9903.88.15": (0.075, 2020),
    }
    rate = np.zeros(len(raw))
    for head, (r, since) in lists.items():
        if since <= year:
            rate = np.maximum(
                rate, np.where(on(raw, tracker("s301_product_lists.csv", "hts8", ch99_code=head)), r, 0.0)
            )
    x69 = on(raw, tracker("s301_exclusion_lines.csv", "hts10", ch99_code="9903.88.69"))
    x70 = on(raw, tracker("s301_exclusion_lines.csv", "hts10", ch99_code="9903.88.70"))
    high = rate >= 0.5
    rate = np.where(x69 & ~high, 0.25 * 0.65, np.where(x70 & ~high, 0.25 * 0.8, rate))
    return rate


def test_china_before_the_reciprocal_duties(raw, frame):
    """2025-03-11: Section 301 + fentanyl 20% + the 2018 Section 232 (steel 25%, aluminium 10%)."""
    metal = pd.read_csv(TRACK / "s232_metal_chapter_products.csv", dtype=str)
    steel = on(raw, _codes(metal[metal.metal_type == "steel"], "hts_prefix"))
    alu = on(raw, _codes(metal[metal.metal_type == "aluminum"], "hts_prefix"))
    duty = _s301_china(raw, 2025) + 0.20 + np.maximum(np.where(steel, 0.25, 0.0), np.where(alu, 0.10, 0.0))
    got = added(frame, "2025-03-11", "CHN")
    assert got == pytest.approx(additional_share(raw, "CHN", duty), abs=1e-9)
    assert 0.28 < got < 0.36  # 301 (about 11% on 2024 trade) + 20% fentanyl



def _annex_ii(raw):
    """Lines on Annex II as of 2025-04-02 and on the 2025-04-11 electronics additions (raw transcriptions)."""
    folder = SHARED / "us_tariff_law_2025"
    annex = pd.read_csv(folder / "annexII_exempt_eo14257_2025-04-02_hts8_ONEtranscription.csv", dtype=str)
    elec = pd.read_csv(folder / "annexII_additions_2025-04-11_electronics_ONEtranscription.csv", dtype=str)
    return on(raw, _codes(annex, "hts8")), on(raw, _codes(elec, "hts_prefix"))

def _metals_2025(raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(full-value metals flag, aluminium-derivative content share) in force from 2025-03-12."""
    metal = pd.read_csv(TRACK / "s232_metal_chapter_products.csv", dtype=str)
    full = on(raw, _codes(metal, "hts_prefix"))
    der = pd.read_csv(TRACK / "s232_derivative_products.csv", dtype=str).fillna("")
    early = on(raw, _codes(der[(der.derivative_type == "aluminum") & (der.effective_date == "")], "hts_prefix"))
    c = np.where(early & ~full, raw["aluminum"].to_numpy(), 0.0)
    return full, c


def test_korea_on_liberation_day_as_applied_and_as_published(raw, frame):
    """2025-04-09: autos 25%, metals 25% (aluminium derivatives on their content), else +25% unless exempt."""
    from tariffsim.analysis.timeline import timeline

    note33 = pd.read_csv(SHARED / "us_tariff_law_2025" / "s232_autos_parts_hts_note33.csv", dtype=str)
    autos = on(raw, tuple(note33.loc[note33["list"].str.startswith("note33(b)"), "hts_nodot"]))
    full, c = _metals_2025(raw)
    annex, elec = _annex_ii(raw)

    def law(exempt):
        recip = np.where(exempt, 0.0, 0.25)
        # content split: the aluminium share pays 232, the rest the reciprocal duty
        return np.where(autos | full, 0.25, c * 0.25 + (1 - c) * recip)

    applied_ = additional_share(raw, "KOR", law(annex | elec))
    published = additional_share(raw, "KOR", law(annex))
    assert added(frame, "2025-04-09", "KOR") == pytest.approx(applied_, abs=1e-7)  # shares embedded to 6 decimals
    pub = timeline(LAW, ["2025-04-09"], partners=["KOR"], as_published=True)
    assert added(pub, "2025-04-09", "KOR") == pytest.approx(published, abs=1e-7)
    assert published - applied_ > 0.02  # the retroactive electronics exemption is worth > 2 pp for Korea


def test_japan_during_the_pause(raw, frame):
    """2025-05-03: autos and parts 25% (8471 only as vehicle parts: share 0), metals 25%, else +10% unless exempt."""
    note33 = pd.read_csv(SHARED / "us_tariff_law_2025" / "s232_autos_parts_hts_note33.csv", dtype=str)
    autos = on(raw, tuple(note33.loc[note33["list"].str.startswith("note33(b)"), "hts_nodot"]))
    parts = on(
        raw, tuple(c for c in note33.loc[note33["list"].str.startswith("note33(g)"), "hts_nodot"] if c != "8471")
    )
    full, c = _metals_2025(raw)
    annex, elec = _annex_ii(raw)
    recip = np.where(annex | elec, 0.0, 0.10)
    duty = np.where(autos | parts | full, 0.25, c * 0.25 + (1 - c) * recip)
    assert added(frame, "2025-05-03", "JPN") == pytest.approx(additional_share(raw, "JPN", duty), abs=1e-7)


def test_korea_today(raw26, frame):
    """2026-12-01: no IEEPA, no Section 122; Section 232 by precedence; forced labor 12.5% all-in elsewhere."""
    raw = raw26  # 2026-dated: lists through the 2026 codes, the 2026 base
    b = raw["base"].to_numpy()

    def allin(r):
        return np.maximum(r - b, 0.0)

    note33 = pd.read_csv(SHARED / "us_tariff_law_2025" / "s232_autos_parts_hts_note33.csv", dtype=str)
    autos = on(raw, tuple(note33.loc[note33["list"].str.startswith("note33(b)"), "hts_nodot"]))
    parts = on(
        raw, tuple(c for c in note33.loc[note33["list"].str.startswith("note33(g)"), "hts_nodot"] if c != "8471")
    )
    mhd = on(raw, (TRACK / "s232_mhd_parts.txt").read_text().split())
    params = _params()
    trucks = on(raw, tuple(params["mhd_vehicles"]["prefixes"]))
    buses = on(raw, tuple(params["buses"]["prefixes"]))
    lumber = on(raw, tuple(params["softwood"]["prefixes"]))
    furniture = on(raw, tuple(params["wood_furniture"]["prefixes"] + params["kitchen_cabinets"]["prefixes"]))
    semis = on(raw, ("8471804000",))
    pharma = on(raw, tracker("s232_pharma_products.csv", "hts10"))
    ann = pd.read_csv(TRACK / "s232_annex_products.csv", dtype=str)

    def annex(a):
        return on(raw, _codes(ann[ann.annex == a], "hts_prefix"))

    # precedence 2: the Korea auto deal (15% all-in); 1: trucks, buses, MHD parts, semis; 0: metals annexes, wood
    p0 = np.maximum.reduce(
        [
            np.where(annex("1a"), 0.50, 0.0),
            np.where(annex("1b"), 0.25, 0.0),
            np.where(annex("1c") | annex("3"), allin(0.15), 0.0),
            np.where(lumber, 0.10, 0.0),
            np.where(furniture, 0.25, 0.0),
        ]
    )
    on0 = annex("1a") | annex("1b") | annex("1c") | annex("3") | lumber | furniture
    p1 = np.maximum.reduce([np.where(trucks | mhd, 0.25, 0.0), np.where(buses, 0.10, 0.0), np.where(semis, 0.25, 0.0)])
    on1 = trucks | mhd | buses | semis
    item = np.where(autos | parts, allin(0.15), np.where(on1, p1, p0))
    # pharmaceuticals (precedence 1): 15% all-in on 60% of the line, the rest pays nothing more
    item = np.where(pharma & ~(autos | parts), 0.6 * allin(0.15), item)
    fl_exempt = on(raw, tracker("s301fl_exempt_products.csv", "hts8")) | on0 | autos | parts | on1 | pharma
    fl = np.where(fl_exempt, 0.0, allin(0.125))
    duty = item + fl
    got = added(frame, "2026-12-01", "KOR")
    assert got == pytest.approx(additional_share(raw, "KOR", duty), abs=1e-9)
    assert 0.08 < got < 0.16


# ----------------------------------------------------------------- coverage of single measures
def _value(raw, iso, mask, weight=None) -> float:
    sel = (raw["iso"] == iso).to_numpy() & mask
    w = raw["imports_usd"].to_numpy() * (1.0 if weight is None else weight)
    return float(np.sum(w[sel])) / 1e9


@pytest.mark.parametrize("iso", PARTNERS)
def test_coverage_of_single_measures_2025_11_14(raw, accounts, iso):
    note33 = pd.read_csv(SHARED / "us_tariff_law_2025" / "s232_autos_parts_hts_note33.csv", dtype=str)
    autos = on(raw, tuple(note33.loc[note33["list"].str.startswith("note33(b)"), "hts_nodot"]))
    parts = on(
        raw, tuple(c for c in note33.loc[note33["list"].str.startswith("note33(g)"), "hts_nodot"] if c != "8471")
    )
    everything = np.ones(len(raw), dtype=bool)
    expect = {
        "fentanyl_chn_10": _value(raw, iso, everything) if iso == "CHN" else 0.0,
        "kor_autos_deal": _value(raw, iso, autos | parts) if iso == "KOR" else 0.0,
        "jpn_autos_deal": _value(raw, iso, autos | parts) if iso == "JPN" else 0.0,
        "s232_autos_usmca": (_value(raw, iso, autos, 1 - raw["usmca"].to_numpy()) if iso in ("CAN", "MEX") else 0.0),
        "s232_lumber": _value(raw, iso, on(raw, tuple(_params()["softwood"]["prefixes"]))),
    }
    for measure, value in expect.items():
        # USMCA shares are embedded to 6 significant digits: at most USD 0.1 mn off
        assert applied(accounts, "2025-11-14", measure, iso) == pytest.approx(value, rel=1e-9, abs=1e-4), measure


@pytest.mark.parametrize("iso", ["KOR", "JPN", "CHN"])
def test_semiconductor_and_pharma_coverage_today(raw26, accounts, iso):
    raw = raw26  # 2026-dated: lists through the 2026 codes, the 2026 base
    semis = on(raw, ("8471804000",))
    listed = on(raw, tracker("s232_semi_products.csv", "hts10"))
    pharma = on(raw, tracker("s232_pharma_products.csv", "hts10"))
    assert applied(accounts, "2026-12-01", "s232_semiconductors", iso) == pytest.approx(
        _value(raw, iso, semis), rel=1e-9, abs=1e-12
    )
    assert _value(raw, iso, semis) <= _value(raw, iso, listed)
    measure = {"KOR": "s232_pharma_floor_kor_lie", "JPN": "s232_pharma_floor_jpn_eu", "CHN": "s232_pharma"}[iso]
    assert applied(accounts, "2026-12-01", measure, iso) == pytest.approx(
        0.6 * _value(raw, iso, pharma) if iso != "JPN" else 0.25 * _value(raw, iso, pharma), rel=1e-6
    )


def test_korea_semiconductor_and_pharma_lists_2024_values(raw):
    """Magnitudes for the closing note: Korea's 2024 imports on the note 39 and PP 11020 lists (USD bn)."""
    listed = _value(raw, "KOR", on(raw, tracker("s232_semi_products.csv", "hts10")))
    pharma = _value(raw, "KOR", on(raw, tracker("s232_pharma_products.csv", "hts10")))
    assert 0.0 < listed < 10.0 and 0.5 < pharma < 10.0


@pytest.mark.parametrize("iso", ["KOR", "JPN", "CHN"])
def test_section_122_exemptions(raw26, accounts, iso):
    """2026-03-01: Section 122 covers what is neither on its exempt list nor a 232 article (content split)."""
    raw = raw26  # 2026-dated: lists through the 2026 codes, the 2026 base
    exempt = on(raw, tracker("s122_exempt_products.csv", "hts8"))
    note33 = pd.read_csv(SHARED / "us_tariff_law_2025" / "s232_autos_parts_hts_note33.csv", dtype=str)
    autos = on(raw, tuple(note33.loc[note33["list"].str.startswith("note33(b)"), "hts_nodot"]))
    parts = on(
        raw, tuple(c for c in note33.loc[note33["list"].str.startswith("note33(g)"), "hts_nodot"] if c != "8471")
    )
    params = _params()
    wood = on(
        raw,
        tuple(
            params["softwood"]["prefixes"]
            + params["wood_furniture"]["prefixes"]
            + params["kitchen_cabinets"]["prefixes"]
        ),
    )
    trucks = on(raw, tuple(params["mhd_vehicles"]["prefixes"] + params["buses"]["prefixes"])) | on(
        raw, (TRACK / "s232_mhd_parts.txt").read_text().split()
    )
    metal = on(raw, _codes(pd.read_csv(TRACK / "s232_metal_chapter_products.csv", dtype=str), "hts_prefix"))
    full = autos | parts | wood | trucks | metal | on(raw, ("8471804000",))
    der = pd.read_csv(TRACK / "s232_derivative_products.csv", dtype=str).fillna("")
    alu = on(raw, _codes(der[der.derivative_type == "aluminum"], "hts_prefix"))
    steel = on(raw, _codes(der[der.derivative_type == "steel"], "hts_prefix"))
    copper = on(raw, tracker("s232_copper_products.csv", "hts10"))
    s, a, k = (raw[x].to_numpy() for x in ("steel", "aluminum", "copper"))
    # kinds side by side (disjoint parts of the line); a line without data is all metal
    content = np.where(raw["found"].to_numpy(), s * steel + a * alu + k * copper, (steel | alu | copper).astype(float))
    outside = np.where(full, 0.0, 1.0 - content)
    share = np.where(exempt, 0.0, outside)
    expected = _value(raw, iso, np.ones(len(raw), dtype=bool), share)
    got = applied(accounts, "2026-03-01", "s122", iso)
    assert got == pytest.approx(expected, rel=1e-5)
    # civil aircraft (note 2(aa)(iv), on the exempt list): outside chapter 88 / 8411 / 8412 only 10% of a
    # line is civil aircraft, so 90% pays the surcharge unless the line is exempt under notes (ii)/(iii)
    generic = on(raw, s122_note_codes("03.05", "03.06")) & ~on(raw, ("88", "8411", "8412"))
    other = on(raw, s122_note_codes("03.03", "03.05"))
    # shares are intervals of the line nesting from 0 (tariffsim.schedule.shares): the generic rule covers
    # [0, 0.9) less the 232 content intervals steel [0, s), aluminium [s, s + a), copper [s + a, s + a + k)
    found = raw["found"].to_numpy()

    def cut(lo, hi, listed):  # length of [lo, hi) n [0, 0.9) on listed lines
        return np.where(listed, np.clip(np.minimum(hi, 0.9) - np.minimum(lo, 0.9), 0.0, None), 0.0)

    taken = np.where(found, cut(0, s, steel) + cut(s, s + a, alu) + cut(s + a, s + a + k, copper),
                     np.where(steel | alu | copper, 0.9, 0.0))
    nested = np.where(full, 0.0, 0.9 - taken)
    got_generic = applied(accounts, "2026-03-01", "s122_aircraft_generic", iso)
    assert got_generic == pytest.approx(_value(raw, iso, generic & ~other, nested), rel=1e-5)
    assert got_generic > 0.0
    # the exemptions matter: Section 122 reaches well under all of the partner's trade
    assert got < 0.8 * _value(raw, iso, np.ones(len(raw), dtype=bool))
