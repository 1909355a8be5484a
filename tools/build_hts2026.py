"""The 2026 US tariff schedule on the 2024 Census import lines: ``tariffsim/datasets/hts2026_lines.csv.gz``.

Called by ``tools/build_datasets.py`` (``build``), so the rebuild test in ``tests/test_datasets.py``
covers it; ``python tools/build_hts2026.py --report`` prints the counts quoted in PROVENANCE.md §4b.

Sources (in ``../shared/data/us_tariff_law_2026/yale_tracker_73abc0a_2026-06-15``):

* USITC, HTS 2026 Basic Edition and Revisions 1-10, JSON exports (public domain),
  ``data/hts_archives/hts_2026_{basic,rev_1..rev_10}.json.gz``. Column 1 General and Special are
  the same in every edition (checked here: the texts differ only by HTML residue such as
  ``m<sup>2</sup>`` and by rates moved between an 8- and a 10-digit row), so one edition gives the
  rates: Revision 10 (policy date 2026-06-08), whose 10-digit codes are also the 2026 codes lines
  are mapped to.
* The Budget Lab at Yale, tariff-rate-tracker, ``resources/hts_concordance.csv`` (MIT): old -> new
  HTS10 pairs between consecutive revisions (2025 rev 15 -> 16, 2026 basic -> rev 1 -> rev 2 -> rev 3),
  found by word overlap of the descriptions within a heading.

Mapping of a 2024 Census HS10 code to 2026 codes (the tracker's ``remap_imports_via_concordance``
rule for steps 1-2, our own for 3-4):

1. ``same``: the code is a 10-digit code of Revision 10.
2. ``concordance``: else its successors in Revision 10 through the concordance chained over all
   steps (old -> intermediate -> new); only those in the line's own HTS8 if there are any. The
   word-overlap concordance also pairs codes across HTS8 (in-quota beef 0202.30.5085, 4.4 cents/kg, with
   over-quota 0202.30.8025, 26.4%; every 3004 "other" medicament code with all 13 codes of Revision 2),
   while a tariff line (HTS8) rarely moves: a pair across HTS8 is used only when no successor stays.
3. ``hts8``: else every 10-digit code of Revision 10 under the same HTS8 (the statistical suffix
   changed in a revision the concordance does not cover, e.g. 2025 basic or 2026 basic).
4. ``unmapped``: else (the HTS8 is gone too): no 2026 code; the line keeps its 2024 rates.

Split lines (several 2026 codes): rates are the equal-weight mean over the 2026 codes (the tracker
splits import value equally among successors); the line's 2024 Census value is kept whole as its
weight. A specific or compound part on any of its 2026 codes flags the line. List matching
(``ProductLines.match``) takes a line when at least half of its 2026 codes match.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

TRACKER = Path("us_tariff_law_2026") / "yale_tracker_73abc0a_2026-06-15"
EDITIONS = ["2026_basic"] + [f"2026_rev_{k}" for k in range(1, 11)]
REFERENCE = "2026_rev_10"
# (output column, HTS special-programme codes tried in order); "S+" is USMCA's fallback code
PROGRAMS = (("kr", ("KR",)), ("usmca", ("S", "S+")), ("jp", ("JP",)), ("au", ("AU",)),
            ("sg", ("SG",)), ("cl", ("CL",)))
SPECIFIC_TYPES = ("specific", "compound", "compound_multi_base")
_TAG = re.compile(r"<[^>]*>")
_PCT = re.compile(r"(\d+(?:\.\d+)?)(?:\s+(\d+)/(\d+))?\s*%")
_GROUP = re.compile(r"([^()]*?)\s*\(([^()]*)\)")


# ------------------------------------------------------------------------------ parsing
def clean(text) -> str:
    """Rate text without HTML residue and with single spaces."""
    return " ".join(_TAG.sub("", text or "").split())


def rate_type(text: str) -> str:
    """free, ad_valorem, ad_valorem_qualified, specific, compound, compound_multi_base, other_text, or ''."""
    t = clean(text)
    if not t:
        return ""
    if t.lower().startswith("free"):
        return "free"
    n_pct = len(_PCT.findall(t))
    specific = bool(re.search(r"[¢$]", t))
    if specific:
        return "specific" if n_pct == 0 else ("compound" if n_pct == 1 else "compound_multi_base")
    if n_pct == 0:
        return "other_text"
    return "ad_valorem" if _PCT.fullmatch(t) else "ad_valorem_qualified"


def adval(text: str) -> float:
    """Ad valorem part as a decimal: the first percentage; 0 for Free and specific-only; NaN for other text."""
    kind = rate_type(text)
    if kind in ("", "other_text"):
        return float("nan")
    if kind in ("free", "specific"):
        return 0.0
    m = _PCT.search(clean(text))
    value = float(m.group(1)) + (float(m.group(2)) / float(m.group(3)) if m.group(2) else 0.0)
    return round(value / 100.0, 10)


def special_rates(text: str) -> dict[str, str]:
    """Programme code -> rate text of a column 1 Special cell: ``'Free (A+,KR,S) 3.5% (JP)'``."""
    out: dict[str, str] = {}
    for rate, codes in _GROUP.findall(clean(text)):
        for code in codes.split(","):
            code = code.strip().rstrip("*")
            if code and code not in out:
                out[code] = rate.strip()
    return out


def programme_rate(general: str, special: str, codes: tuple[str, ...]) -> float:
    """Ad valorem rate of a programme: its Special rate, else MFN (MFN Free, or the code not listed)."""
    mfn = adval(general)
    if rate_type(general) == "free":
        return 0.0
    table = special_rates(special)
    for code in codes:
        if code in table:
            value = adval(table[code])
            return mfn if np.isnan(value) else value  # "See 9822.xx" (a chapter 98/99 provision): MFN
    return mfn


def column2_rate(text: str, mfn: float) -> float:
    """Column 2 ad valorem part; "No change" or blank: MFN."""
    t = clean(text)
    if not t or t.lower().startswith("no change"):
        return mfn
    value = adval(t)
    return 0.0 if np.isnan(value) else value


# ------------------------------------------------------------------------------ reading
def read_edition(shared: Path, name: str) -> pd.DataFrame:
    """Rows of an HTS JSON export with a code: ``code`` (digits), general, special, other."""
    path = Path(shared) / TRACKER / "data" / "hts_archives" / f"hts_{name}.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        records = json.load(fh)
    rows = [(r["htsno"].replace(".", ""), r.get("general") or "", r.get("special") or "", r.get("other") or "")
            for r in records if r.get("htsno")]
    return pd.DataFrame(rows, columns=["code", "general", "special", "other"])


def rate_rows(edition: pd.DataFrame) -> pd.DataFrame:
    """Rows that print a column 1 rate, indexed by code (8 or 10 digits), chapters 01-97."""
    r = edition[(edition["general"].map(clean) != "") & ~edition["code"].str[:2].isin(["98", "99"])]
    return r.drop_duplicates("code").set_index("code")[["general", "special", "other"]]


def rates_of(codes: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    """General/special/other text for 10-digit codes: their own row, else their HTS8 row."""
    own = table.reindex(codes.to_numpy())
    h8 = table.reindex(codes.str[:8].to_numpy())
    has = own["general"].notna().to_numpy()[:, None]
    return pd.DataFrame(np.where(has, own.to_numpy(), h8.to_numpy()), index=codes.index, columns=table.columns)


def chain(concordance: pd.DataFrame) -> dict[str, set[str]]:
    """old HTS10 -> every later HTS10 it leads to through the concordance (transitive)."""
    pairs = concordance.dropna(subset=["old_hts10", "new_hts10"])
    nxt: dict[str, set[str]] = {}
    for old, new in zip(pairs["old_hts10"], pairs["new_hts10"]):
        if old != new:
            nxt.setdefault(old, set()).add(new)
    out: dict[str, set[str]] = {}
    for start in nxt:
        seen, todo = set(), [start]
        while todo:
            for new in nxt.get(todo.pop(), ()):
                if new not in seen and new != start:
                    seen.add(new)
                    todo.append(new)
        out[start] = seen
    return out


def map_codes(codes: list[str], reference: set[str], later: dict[str, set[str]],
              hts8: set[str]) -> dict[str, tuple[str, list[str]]]:
    """2024 HS10 -> (how, 2026 codes), rules 1-4 of the module docstring.

    ``reference``: the 10-digit codes of the reference edition; ``hts8``: its 8-digit codes. A line
    whose HTS8 has no 10-digit code in the export (chapter 91 in Revision 10) maps to the HTS8 row.
    """
    by8: dict[str, list[str]] = {}
    for c in sorted(reference):
        by8.setdefault(c[:8], []).append(c)
    out = {}
    for c in codes:
        if c in reference:
            out[c] = ("same", [c])
        elif succ := sorted(s for s in later.get(c, ()) if s in reference):
            out[c] = ("concordance", [s for s in succ if s[:8] == c[:8]] or succ)
        elif c[:8] in by8:
            out[c] = ("hts8", by8[c[:8]])
        elif c[:8] in hts8:
            out[c] = ("hts8", [c[:8]])
        else:
            out[c] = ("unmapped", [])
    return out


def mfn_unchanged_across_editions(shared: Path) -> int:
    """Number of HTS8 rate texts (chapters 01-97, HTML stripped) that differ between 2026 editions."""
    ref = None
    changed = 0
    for name in EDITIONS:
        t = rate_rows(read_edition(shared, name))
        t = t.assign(h8=t.index.str[:8]).groupby("h8").first()
        key = t["general"].map(clean) + "|" + t["special"].map(clean)
        if ref is not None:
            both = ref.index.intersection(key.index)
            changed += int((ref[both] != key[both]).sum())
        ref = key
    return changed


# ------------------------------------------------------------------------------- build
def build_table(shared: Path) -> pd.DataFrame:
    """One row per 2024 Census HS10 code: its 2026 codes and 2026 rates (decimals)."""
    shared = Path(shared)
    imports = pd.read_csv(shared / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz",
                          dtype={"hs10": str}, usecols=["hs10"])
    codes = sorted(imports["hs10"].unique())
    edition = read_edition(shared, REFERENCE)
    reference = {c for c in edition["code"] if len(c) == 10 and c[:2] not in ("98", "99")}
    concordance = pd.read_csv(shared / TRACKER / "resources" / "hts_concordance.csv", dtype=str)
    hts8 = {c for c in edition["code"] if len(c) == 8}
    mapping = map_codes(codes, reference, chain(concordance), hts8)
    pairs = pd.DataFrame([(c, s) for c in codes for s in mapping[c][1]], columns=["hs10", "hs10_2026"])
    text = rates_of(pairs["hs10_2026"], rate_rows(edition))
    pairs["mfn_type"] = text["general"].fillna("").map(rate_type).replace("", "other_text")
    pairs["mfn_adval"] = text["general"].fillna("").map(adval)
    for col, prog in PROGRAMS:
        pairs[col] = [programme_rate(g, s, prog) for g, s in zip(text["general"].fillna(""),
                                                                 text["special"].fillna(""))]
    pairs["col2"] = [column2_rate(o, m) for o, m in zip(text["other"].fillna(""), pairs["mfn_adval"])]
    pairs["specific"] = pairs["mfn_type"].isin(SPECIFIC_TYPES)
    pairs["missing"] = pairs["mfn_adval"].isna()
    # rates: equal-weight mean over the 2026 codes (a missing MFN rate counts as 0)
    rates = pairs[["mfn_adval"] + [c for c, _ in PROGRAMS] + ["col2"]].fillna(0.0)
    grouped = rates.groupby(pairs["hs10"]).mean()
    flags = pairs.groupby("hs10")[["specific", "missing"]].any()
    out = pd.DataFrame({"hs10": codes})
    out["how"] = [mapping[c][0] for c in codes]
    out["n_2026"] = [len(mapping[c][1]) for c in codes]
    # later codes other than the line's own (10 digits: what a list entry in 2026 codes can name)
    out["hs10_2026"] = [" ".join(s for s in mapping[c][1] if s != c and len(s) == 10) for c in codes]
    out = out.join(grouped.round(10), on="hs10").join(flags, on="hs10")
    out["specific"] = out["specific"].fillna(False).astype(int)
    out["missing"] = out["missing"].fillna(True).astype(int)
    return out.rename(columns={"mfn_adval": "mfn"})


def build(shared: Path, out: Path) -> pd.DataFrame:
    """Write ``hts2026_lines.csv.gz`` into ``out``; return the table."""
    table = build_table(shared)
    text = table.to_csv(index=False, lineterminator="\n", float_format="%.10g")
    with open(Path(out) / "hts2026_lines.csv.gz", "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode("utf-8"))
    return table


def report(shared: Path, table: pd.DataFrame) -> str:
    """Counts for PROVENANCE.md: mapping rules, split lines, rate changes (codes and 2024 USD bn)."""
    imp = pd.read_csv(Path(shared) / "us_imports_2024" / "us_imports_cons_2024_hs10_by_country.csv.gz",
                      dtype={"hs10": str})
    value = imp.groupby("hs10")["imports_usd"].sum()
    t = table.set_index("hs10").join(value)
    lines = [f"2026 rate texts differing between editions (HTS8, ch. 01-97): {mfn_unchanged_across_editions(shared)}"]
    for how, g in t.groupby("how"):
        lines.append(f"{how}: {len(g)} codes, USD {g['imports_usd'].sum() / 1e9:.1f} bn")
    split = t[t["n_2026"] > 1]
    lines.append(f"split (several 2026 codes): {len(split)} codes, USD {split['imports_usd'].sum() / 1e9:.1f} bn")
    return "\n".join(lines)


def list_report(shared: Path) -> str:
    """PROVENANCE.md §5b: list entries matching no 2024 line, and what the 2026 codes change (markdown)."""
    from tariffsim.datasets import list_names, load_list, load_us_product_lines, load_us_product_lines_2026

    old, new = load_us_product_lines(), load_us_product_lines_2026()
    later = np.char.zfill(new.later_codes[1].astype(str), 10)
    known: set[str] = set()
    for name in ("2025_basic", "2025_rev_32", "2026_basic", "2026_rev_10"):
        codes = read_edition(shared, name)["code"]
        known |= {c[:k] for c in codes for k in (2, 4, 6, 8, 10) if len(c) >= k}
    traded8 = {str(c).zfill(10)[:8] for c in np.unique(old.hs10)}
    out = ["| list | entries | no 2024 line | 2026 code of a 2024 line | in neither schedule | carved from a kept "
           "2024 code | HTS8 not traded in 2024 | USD bn, 2024 codes | USD bn, with 2026 codes |", "|---" * 9 + "|"]
    total = np.zeros(5, dtype=int)
    for name in list_names():
        entries = load_list(name)
        dead = [e for e in entries if not old.match([e]).any()]
        if not dead:
            continue
        reach = [e for e in dead if np.char.startswith(later, e).any()]
        rest = [e for e in dead if e not in reach]
        older = [e for e in rest if e not in known]
        carved = [e for e in rest if e in known and any(h.startswith(e[:8]) for h in traded8)]
        counts = np.array([len(dead), len(reach), len(older), len(carved), len(rest) - len(older) - len(carved)])
        total += counts
        usd = [lines.value[lines.match(entries)].sum() / 1e9 for lines in (old, new)]
        out.append(f"| `{name}` | {len(entries):,} | " + " | ".join(str(c) for c in counts)
                   + f" | {usd[0]:,.1f} | {usd[1]:,.1f} |")
    out.append("| all lists | | " + " | ".join(f"{c:,}" for c in total) + " | | |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--shared", type=Path, default=here / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=here / "tariffsim" / "datasets")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args(argv)
    table = build(args.shared, args.out)
    if args.report:
        sys.stdout.write(report(args.shared, table) + "\n\n" + list_report(args.shared) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
