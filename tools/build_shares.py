"""Build the embedded share tables of ``tariffsim`` (metal content, USMCA use, FTA use).

Usage (from the repository root)::

    /work/venv/bin/python tools/build_shares.py                 # reads ../shared/data
    /work/venv/bin/python tools/build_shares.py --shared PATH --out DIR

Writes three gzip CSV files into ``tariffsim/datasets/`` (deterministic: sorted rows, no
gzip timestamp, shares rounded to 6 decimals), from the Budget Lab at Yale's
tariff-rate-tracker (MIT License, Copyright (c) 2025-2026 The Budget Lab at Yale; the
notice is kept in tariffsim/datasets/PROVENANCE.md):

* ``metal_content_hs10.csv.gz`` — ``hs10, steel, aluminum, copper, metal``: BEA input-output
  metal content share of each HTS10 line's value (``metal`` = all metals incl. other metal),
  from ``yale_tracker_8315fffd_extra/metal_content_shares_bea_hs10.csv.gz``;
* ``usmca_shares_2025.csv.gz`` — ``hs10, iso3, share``: share of 2025 imports from Canada /
  Mexico entering under USMCA, from ``yale_tracker_8315fffd_extra/usmca_product_shares_2025.csv.gz``;
* ``fta_utilization_hs2.csv.gz`` — ``hs2, iso3, share``: share of imports entering under a
  preference programme (HS2 x country, from Census calculated duties), from
  ``yale_tracker_73abc0a_2026-06-15/resources/mfn_exemption_shares.csv``.
Census country codes → ISO3 by the embedded ``census_countries.csv``.
"""

from __future__ import annotations

import argparse
import gzip
import io
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO / ".." / "shared" / "data"
DEFAULT_OUT = REPO / "tariffsim" / "datasets"
LAW = "us_tariff_law_2026"


def _write(frame: pd.DataFrame, path: Path) -> None:
    text = frame.to_csv(index=False, float_format="%.6g", lineterminator="\n")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode())
    path.write_bytes(buf.getvalue())


def _iso(codes: pd.Series, out: Path) -> pd.Series:
    census = pd.read_csv(out / "census_countries.csv", dtype={"cty_code": int})
    return codes.astype(int).map(dict(zip(census["cty_code"], census["iso3"])))


def build(shared: Path, out: Path) -> dict[str, int]:
    extra = shared / LAW / "yale_tracker_8315fffd_extra"
    metal = pd.read_csv(extra / "metal_content_shares_bea_hs10.csv.gz", dtype={"hs10": str})
    metal = pd.DataFrame({"hs10": metal["hs10"], "steel": metal["steel_share"], "aluminum": metal["aluminum_share"],
                          "copper": metal["copper_share"], "metal": metal["metal_share"]})
    metal = metal.drop_duplicates("hs10").sort_values("hs10")
    _write(metal.round(6), out / "metal_content_hs10.csv.gz")

    usmca = pd.read_csv(extra / "usmca_product_shares_2025.csv.gz", dtype={"hts10": str})
    usmca = pd.DataFrame({"hs10": usmca["hts10"], "iso3": _iso(usmca["cty_code"], out), "share": usmca["usmca_share"]})
    usmca = usmca.dropna().sort_values(["iso3", "hs10"])
    _write(usmca.round(6), out / "usmca_shares_2025.csv.gz")

    fta = pd.read_csv(shared / LAW / "yale_tracker_73abc0a_2026-06-15" / "resources" / "mfn_exemption_shares.csv",
                      dtype={"hs2": str})
    fta = pd.DataFrame({"hs2": fta["hs2"], "iso3": _iso(fta["cty_code"], out),
                        "share": fta["exemption_share"].clip(0, 1)})
    fta = fta.dropna().groupby(["hs2", "iso3"], as_index=False)["share"].max().sort_values(["iso3", "hs2"])
    _write(fta.round(6), out / "fta_utilization_hs2.csv.gz")
    return {"metal_content_hs10": len(metal), "usmca_shares_2025": len(usmca), "fta_utilization_hs2": len(fta)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for name, rows in build(args.shared, args.out).items():
        print(f"{name}: {rows} rows")


if __name__ == "__main__":
    main()
