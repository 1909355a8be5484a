"""Build the embedded data of the consumer-price model (``tariffsim.models.prices``).

Reads (never at run time; only here):

* ``../shared/data/us_bea_io_pce/``: BEA 2024 summary Use table, Import matrix (before
  redefinitions), commodity-by-commodity Total Requirements (long CSV extracts of BEA's own
  workbooks) and the PCE bridge 2024 (and 2021 from ``raw_bea_xlsx/PCEBridge_Summary.xlsx``,
  for uprating CBO 2021 incomes; read with the standard library);
* ``bea_summary_to_detail.csv``: BEA's summary <- detail commodity hierarchy (BEA structure);
* ``../shared/data/us_tariff_law_2026/yale_tracker_8315fffd_extra/metal_content_shares_bea_hs10.csv.gz``:
  HS10 -> BEA detail commodity (Budget Lab at Yale tariff-rate-tracker, MIT licence);
* ``../shared/data/us_distribution/``: CBO household income 2021 (tables 1 and 3) and the BEA
  distribution of PCE by income decile for 16 NIPA Table 2.3.5 groups (2023).

Writes ``tariffsim/datasets/prices_bea_2024.npz`` and ``prices_names.csv``.
The NIPA-line -> group mapping is ours: the group of every Table 2.4.5 line is its parent
line in NIPA Table 2.3.5 (``_GROUP_OF_LINES`` below).

Usage: ``python tools/build_prices_data.py [--shared ../shared/data]``
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tariffsim" / "datasets"

#: NIPA Table 2.3.5 group line <- range of Table 2.4.5 lines under it (our own mapping from the
#: published table structure: each detailed line belongs to the group printed above it).
_GROUP_OF_LINES = {
    4: range(5, 8),     # Motor vehicles and parts
    5: range(9, 13),    # Furnishings and durable household equipment
    6: range(14, 19),   # Recreational goods and vehicles
    7: range(20, 25),   # Other durable goods
    9: range(27, 30),   # Food and beverages purchased for off-premises consumption
    10: range(32, 36),  # Clothing and footwear
    11: range(37, 39),  # Gasoline and other energy goods
    12: range(40, 47),  # Other nondurable goods
    15: range(51, 60),  # Housing and utilities
    16: range(62, 68),  # Health care
    17: range(70, 76),  # Transportation services
    18: range(77, 81),  # Recreation services
    19: range(83, 86),  # Food services and accommodations
    20: range(88, 95),  # Financial services and insurance
    21: range(97, 111),  # Other services (incl. travel abroad, less nonresidents' spending)
    22: range(111, 112),  # Final consumption expenditures of NPISH
}
_FINAL_DOMESTIC = ["F010", "F02S", "F02E", "F02N", "F02R", "F030", "F06C", "F06S", "F06E", "F06N",
                   "F07C", "F07S", "F07E", "F07N", "F10C", "F10S", "F10E", "F10N"]


def _matrix(frame: pd.DataFrame, rows, cols) -> np.ndarray:
    wide = frame.pivot_table(index="row_code", columns="col_code", values="value", aggfunc="sum")
    return wide.reindex(index=rows, columns=cols).fillna(0.0).to_numpy(dtype=float)


def _hs10_map(shared: Path, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """HS10 -> summary commodity index; gaps filled by the modal commodity of the HS8/6/4/2 prefix."""
    conc = pd.read_csv(shared / "us_tariff_law_2026/yale_tracker_8315fffd_extra/metal_content_shares_bea_hs10.csv.gz",
                       dtype=str)
    s2d = pd.read_csv(shared / "us_bea_io_pce/yale_extracted_bea_detail_2017/bea_summary_to_detail.csv", dtype=str)
    summary = dict(zip(s2d["detail_code"], s2d["summary_code"]))
    conc["summary"] = conc["bea_detail_code"].map(summary)
    # detail codes missing from the 2017 hierarchy: the summary commodity of the 3-digit NAICS prefix
    miss = conc["summary"].isna() & conc["bea_detail_code"].notna()
    conc.loc[miss, "summary"] = conc.loc[miss, "bea_detail_code"].str[:3].where(
        conc.loc[miss, "bea_detail_code"].str[:3].isin(codes))
    conc["hs10"] = conc["hs10"].astype(np.int64)
    known = conc.dropna(subset=["summary"])
    table = dict(zip(known["hs10"], known["summary"]))
    from tariffsim.datasets import (
        load_us_lines,  # the embedded lines: every HS10 the model meets
    )

    wanted = np.union1d(conc["hs10"].to_numpy(), load_us_lines()["hs10"].astype(str).astype(np.int64).unique())
    out = []
    for digits in (8, 6, 4, 2):
        key = known["hs10"] // 10 ** (10 - digits)
        modal = known.groupby(key)["summary"].agg(lambda s: s.value_counts().index[0])
        for h in wanted:
            if h not in table and (h // 10 ** (10 - digits)) in modal.index:
                table[h] = modal[h // 10 ** (10 - digits)]
    for h in wanted:
        out.append(codes.index(table[h]) if h in table else -1)
    return wanted.astype(np.int64), np.asarray(out, dtype=np.int16)


def build(shared: Path, out: Path = OUT) -> None:
    """Write ``prices_bea_2024.npz`` and ``prices_names.csv`` into ``out`` (default: the package data)."""
    shared, out = Path(shared), Path(out)
    io = shared / "us_bea_io_pce"
    use = pd.read_csv(io / "bea_use_summary_2024_long.csv")
    imp = pd.read_csv(io / "bea_import_matrix_before_redef_summary_2024_long.csv")
    tr = pd.read_csv(io / "bea_total_requirements_cxc_summary_2024_long.csv")
    codes = [c for c in tr["col_code"].unique()]  # 73 commodities, BEA order
    names = tr.drop_duplicates("col_code").set_index("col_code").loc[codes, "col_name"].tolist()
    industries = [c for c in use["col_code"].unique() if not c.startswith(("F", "T"))]
    arrays = {
        "tr": _matrix(tr, codes, codes),
        "use_int": _matrix(use, codes, industries),
        "imp_int": _matrix(imp, codes, industries),
        "use_final": _matrix(use, codes, _FINAL_DOMESTIC),
        "imp_final": _matrix(imp, codes, _FINAL_DOMESTIC),
        "imports_f050": -_matrix(imp, codes, ["F050"])[:, 0],
        "exports_f040": _matrix(use, codes, ["F040"])[:, 0],
    }
    bridge = pd.read_csv(io / "bea_pce_bridge_summary_2024.csv", dtype={"commodity_code": str})
    bridge = bridge[bridge["commodity_code"].isin(codes)]
    lines = sorted(bridge["nipa_line"].unique())
    line_names = bridge.drop_duplicates("nipa_line").set_index("nipa_line").loc[lines, "pce_category"]
    group_of = {ln: g for g, rng in _GROUP_OF_LINES.items() for ln in rng}
    missing = [ln for ln in lines if ln not in group_of]
    if missing:
        raise SystemExit(f"NIPA lines without a group: {missing}")
    arrays["bridge_line"] = np.searchsorted(lines, bridge["nipa_line"].to_numpy()).astype(np.int16)
    arrays["bridge_commodity"] = np.array([codes.index(c) for c in bridge["commodity_code"]], dtype=np.int16)
    arrays["bridge_producers"] = bridge["producers_value"].to_numpy(dtype=float)
    arrays["bridge_purchasers"] = bridge["purchasers_value"].to_numpy(dtype=float)
    dist = pd.read_csv(shared / "us_distribution/from_tariff_model/distributional_pce_2023.csv")
    groups = dist["pce_mp"].tolist()
    arrays["line_group"] = np.array([groups.index(group_of[ln]) for ln in lines], dtype=np.int16)
    arrays["group_decile_share"] = dist[[f"d{k}" for k in range(1, 11)]].to_numpy(dtype=float) / 100.0
    # CBO 2021 income after transfers and taxes: deciles 1-8 split from their quintile's mean; decile 9 =
    # percentiles 81-90; decile 10 = household-weighted mean of 91-95, 96-99 and the top 1 percent
    cbo = shared / "us_distribution/cbo_household_income_2021"
    t1 = pd.read_csv(next(cbo.glob("*table_01*")))
    t3 = pd.read_csv(next(cbo.glob("*table_03*")))
    def sel(t):
        return t[(t["household_type"] == "all_households") & (t["year"] == 2021)].set_index("income_group")

    inc, hh = sel(t3)["inc_after_transfers_taxes"], sel(t1)["num_households"]
    q = ["lowest_quintile", "second_quintile", "middle_quintile", "fourth_quintile"]
    top = ["percentiles_91_95", "percentiles_96_99", "top_1_percent"]
    d10 = float((inc[top] * hh[top]).sum() / hh[top].sum())
    arrays["decile_income_2021"] = _split_quintiles([float(inc[g]) for g in q], float(inc["percentiles_81_90"]), d10)
    arrays["households_2021_mn"] = np.array(float(hh["all_quintiles"]))
    arrays["pce_2021"] = np.array(_pce_total(io / "raw_bea_xlsx/PCEBridge_Summary.xlsx", "2021"))
    arrays["hs10"], arrays["hs10_commodity"] = _hs10_map(shared, codes)
    np.savez_compressed(out / "prices_bea_2024.npz", **arrays)
    rows = ([("commodity", c, n) for c, n in zip(codes, names)] + [("industry", c, "") for c in industries]
            + [("final_use", c, "") for c in _FINAL_DOMESTIC]
            + [("pce_line", str(ln), str(line_names[ln]).strip()) for ln in lines]
            + [("pce_group", str(g), t) for g, t in zip(groups, dist["pce_title"])])
    pd.DataFrame(rows, columns=["kind", "code", "name"]).to_csv(out / "prices_names.csv", index=False)


def _split_quintiles(quintiles: list[float], d9: float, d10: float) -> np.ndarray:
    """Decile means 1-8 from quintile means 1-4: the income-by-percentile line through the group
    midpoints (percentiles 10, 30, 50, 70 and 85 for deciles 81-90), read at the decile midpoints
    5, 15, ..., 75, each pair then scaled so that its mean is the quintile's mean (CBO's number)."""
    x = np.array([10.0, 30.0, 50.0, 70.0, 85.0])
    y = np.array(quintiles + [d9])
    mid = np.arange(5.0, 80.0, 10.0)
    slope = np.diff(y) / np.diff(x)
    seg = np.clip(np.searchsorted(x, mid) - 1, 0, len(slope) - 1)  # linear, extrapolated below 10
    line = y[seg] + slope[seg] * (mid - x[seg])
    pairs = line.reshape(4, 2)
    pairs = pairs * (np.array(quintiles) / pairs.mean(axis=1))[:, None]
    return np.concatenate([pairs.ravel(), [d9, d10]])


def _pce_total(path: Path, sheet: str) -> float:
    """Total purchasers' value (column I) of one year's sheet of BEA's PCE bridge workbook, USD mn.

    Reads the .xlsx with the standard library (zip + XML): rows whose column A is a NIPA line number.
    """
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    rel_ns = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    with zipfile.ZipFile(path) as zf:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rid = next(s.get(f"{{{ns['r']}}}id") for s in book.iter(f"{{{ns['m']}}}sheet") if s.get("name") == sheet)
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels.iter(f"{rel_ns}Relationship") if r.get("Id") == rid)
        xml = ET.fromstring(zf.read("xl/" + target.lstrip("/").removeprefix("xl/")))
    total = 0.0
    for row in xml.iter(f"{{{ns['m']}}}row"):
        cells = {re.sub(r"\d", "", c.get("r")): c for c in row.iter(f"{{{ns['m']}}}c")}
        a, i = cells.get("A"), cells.get("I")
        if a is None or i is None or a.get("t") or i.get("t"):  # t set: a string cell
            continue
        va, vi = a.find("m:v", ns), i.find("m:v", ns)
        if va is not None and vi is not None and float(va.text).is_integer():
            total += float(vi.text)
    return total


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve()
    default = next((p / "shared" / "data" for p in here.parents[1:4] if (p / "shared" / "data").is_dir()), None)
    ap.add_argument("--shared", default=str(default), help="the shared data folder (default: ../shared/data)")
    build(Path(ap.parse_args().shared))
