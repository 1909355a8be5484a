"""The 2026 US tariff schedule (USITC HTS 2026, Revision 10) on the 2024 Census import lines.

Belongs here: reading ``hts2026_lines.csv.gz`` (built by ``tools/build_hts2026.py``) and turning it into
the compiler's :class:`~tariffsim.lines.ProductLines` for ``schedule = "hts_2026"``: the same 334,728
lines and 2024 Census weights as :func:`~tariffsim.datasets.load_us_product_lines`, with 2026 MFN and
preferential rates and the 2026 codes each 2024 line maps to (PROVENANCE.md §4b).
"""

from __future__ import annotations

import functools
import io

import numpy as np

from .._lazy import pandas as pd
from ._files import _csv, _open

__all__ = ["load_hts2026", "load_us_product_lines_2026"]

#: Rate column of the table for each preference programme of the 2024 line data.
_PROGRAM_COLUMN = {"KORUS": "kr", "USMCA": "usmca", "US-Japan": "jp", "Australia": "au", "Singapore": "sg",
                   "Chile": "cl", "column2": "col2"}


def load_hts2026() -> pd.DataFrame:
    """One row per 2024 Census HS10 code (18,626): its 2026 codes and 2026 rates.

    Returns
    -------
    DataFrame
        ``hs10`` (str, the 2024 code), ``how`` (``same``, ``concordance``, ``hts8`` or ``unmapped``: how
        the 2026 codes were found, see PROVENANCE.md §4b), ``n_2026`` (number of 2026 codes; > 1 = split
        line), ``hs10_2026`` (2026 codes other than the line's own, space-separated), ad valorem rates as
        decimals ``mfn`` (column 1 General), ``kr``, ``usmca``, ``jp``, ``au``, ``sg``, ``cl`` (column 1
        Special for KORUS, USMCA, US-Japan, Australia, Singapore, Chile; MFN where the programme does not
        cover the line), ``col2`` (column 2), equal-weight means over the 2026 codes of a split line
        (NaN where unmapped), ``specific`` (a specific or compound part, counted as zero) and
        ``missing`` (no parsable rate) as 0/1.
    """
    return _csv("hts2026_lines.csv.gz", (("hs10", str), ("hs10_2026", str))).copy(deep=True)


def _line_arrays() -> dict[str, np.ndarray]:
    names = ("hs10__cats", "hs10__codes", "pref_program__cats", "pref_program__codes", "usmca_share", "iso3__cats",
             "iso3__codes")
    with _open("us_lines_2024.npz") as fh, np.load(io.BytesIO(fh.read()), allow_pickle=False) as npz:
        return {k: npz[k] for k in names}


def rates_2026(lines) -> dict[str, np.ndarray]:
    """2026 rates of each line of ``lines`` (the embedded 2024 lines), shape (L,) each.

    base = preferential rate of the partner's programme (column 2 for CUB, PRK, RUS, BLR), and for
    Canada / Mexico ``s * USMCA + (1 - s) * MFN`` with the 2024 USMCA share ``s`` of the line; the
    same rules as the 2024 base (``tools/build_datasets.py``). Unmapped lines keep their 2024 rates.
    """
    table = _csv("hts2026_lines.csv.gz", (("hs10", str), ("hs10_2026", str)))
    z = _line_arrays()
    # the packed codes of the npz are in line order; ProductLines sorts its labels, the rows stay
    hs = z["hs10__cats"].astype(str)[z["hs10__codes"]]
    row = pd.Index(table["hs10"]).get_indexer(hs)
    program = z["pref_program__cats"].astype(str)[z["pref_program__codes"]]
    mfn26 = table["mfn"].to_numpy(dtype=float)[row]
    known = ~np.isnan(mfn26)
    mfn = np.where(known, mfn26, lines.mfn_rate)
    pref = mfn.copy()
    for name, col in _PROGRAM_COLUMN.items():
        sel = (program == name) & known
        pref[sel] = table[col].to_numpy(dtype=float)[row][sel]
    pref = np.where(known, pref, lines.pref_rate)
    share = z["usmca_share"].astype(float)
    iso = z["iso3__cats"].astype(str)[z["iso3__codes"]]
    nafta = np.isin(iso, ["CAN", "MEX"])
    base = np.where(program != "", pref, mfn)
    # base = s * usmca + (1 - s) * mfn on CAN/MEX lines
    base = np.where(nafta, share * pref + (1.0 - share) * mfn, base)
    base = np.where(known, base, lines.base_rate)
    specific = np.where(known, table["specific"].to_numpy(dtype=bool)[row], lines.has_specific)
    return {"mfn": mfn, "pref": pref, "base": base, "specific": specific}


def successors(lines) -> tuple[np.ndarray, np.ndarray]:
    """(2024 code, 2026 code) pairs as int64 arrays, for the lines whose 2026 codes differ from their own."""
    table = _csv("hts2026_lines.csv.gz", (("hs10", str), ("hs10_2026", str)))
    later = table["hs10_2026"].fillna("").str.split()
    pairs = [(int(c), int(s)) for c, ss in zip(table["hs10"], later) for s in ss]
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0].copy(), arr[:, 1].copy()


@functools.lru_cache(maxsize=1)
def load_us_product_lines_2026():
    """The 2024 US import lines with the 2026 schedule, as a :class:`~tariffsim.lines.ProductLines`.

    The compiler's lines for a base measure with ``schedule = "hts_2026"``: same rows, partners, sectors
    and 2024 Census values as :func:`~tariffsim.datasets.load_us_product_lines`; ``base_rate``,
    ``mfn_rate``, ``pref_rate`` and ``has_specific`` from the USITC HTS 2026 (Revision 10); HS-prefix
    matching also through each line's 2026 codes (``later_codes``), so list entries written in 2026
    codes find the 2024 lines that map to them.

    Returns
    -------
    ProductLines
        One shared, read-only object per process (``year=2024``: the weights' year).
    """
    from dataclasses import replace

    from .us import load_us_product_lines

    lines = load_us_product_lines()
    r = rates_2026(lines)
    out = replace(lines, base_rate=r["base"], mfn_rate=r["mfn"], pref_rate=r["pref"], has_specific=r["specific"],
                  later_codes=successors(lines), _prefix_cache={},
                  source="US Census Bureau, imports for consumption 2024; USITC HTS 2026 Revision 10")
    out._prefix_cache["sector"] = lines.sector_codes()
    out._set_hs_codes(*lines.hs_codes())  # the same distinct codes: HS-prefix matching as fast
    return out
