"""US customs data: Census partner codes, the GTAP/HS concordance, the 2024 US import lines."""

from __future__ import annotations

import functools
import io

import numpy as np

from .._lazy import pandas as pd
from ._files import _copy, _open

__all__ = ["load_census_countries", "load_concordance", "load_us_lines", "load_us_product_lines"]


def load_census_countries() -> pd.DataFrame:
    """Census partner codes: ``cty_code``, ``census_name``, ``iso3``, ``icio_economy``, ``region10``.

    One row per Census code of the 2024 import file (233). ``icio_economy`` is the ISO3
    code if it is one of the 81 ICIO economies, else ``"ROW"``. Exceptions to "one ISO3
    per code": 5082 Gaza Strip and 5083 West Bank both map to ``PSE``; Kosovo is ``XKX``.
    """
    return _copy("census_countries.csv")


def load_concordance() -> tuple[pd.DataFrame, pd.DataFrame]:
    """GTAP -> ICIO sector map and the HS-prefix overrides (longest prefix wins).

    Returns
    -------
    gtap_to_icio : DataFrame
        ``gtap_code``, ``gtap_description``, ``icio_sector`` (65 GTAP 10 sectors).
    overrides : DataFrame
        ``hs_prefix`` (str of digits), ``icio_sector``, ``reason``.
    """
    return _copy("gtap_to_icio.csv"), _copy("hs_to_icio_overrides.csv", (("hs_prefix", str),))


_LINE_COLUMNS = (
    "hs10", "hts8", "cty_code", "iso3", "sector", "gtap_code", "imports_usd", "mfn_type", "mfn_adval",
    "mfn_has_specific", "pref_program", "pref_adval", "pref_has_specific", "usmca_share",
    "base_rate_2024", "rate_missing",
)


@functools.lru_cache(maxsize=1)
def _us_lines() -> pd.DataFrame:
    with _open("us_lines_2024.npz") as fh:  # not through _npz: the frame is the only cached copy
        with np.load(io.BytesIO(fh.read()), allow_pickle=False) as npz:
            z = {k: npz[k] for k in npz.files}
    data = {}
    for col in _LINE_COLUMNS:
        if f"{col}__codes" in z:
            data[col] = pd.Categorical.from_codes(z[f"{col}__codes"], categories=z[f"{col}__cats"])
        else:
            data[col] = z[col]
    return pd.DataFrame(data, copy=True)


def load_us_lines() -> pd.DataFrame:
    """2024 US imports for consumption by HS10 x Census partner, with 2024 base tariffs.

    Returns
    -------
    DataFrame, 334,728 rows
        ``hs10``, ``hts8``, ``iso3``, ``sector`` (ICIO), ``gtap_code``, ``mfn_type``,
        ``pref_program`` are categoricals of strings; ``cty_code`` int16;
        ``imports_usd`` customs value in USD (not millions);
        rates are decimals: ``mfn_adval`` (ad valorem part of the MFN rate; specific parts
        count as zero, flagged by ``mfn_has_specific``), ``pref_adval`` (rate of
        ``pref_program`` for this partner, MFN where the program does not cover the line),
        ``usmca_share`` (CAN/MEX, else 0), ``base_rate_2024`` (applied 2024 rate, see
        PROVENANCE.md), ``rate_missing`` (no parsable HTS8 rate; MFN counted as 0).

    Notes
    -----
    A fresh copy on every call (the parsed frame is cached once per process).
    """
    return _us_lines().copy(deep=True)


@functools.lru_cache(maxsize=1)
def load_us_product_lines():
    """The same 2024 US import lines as a :class:`~tariffsim.lines.ProductLines` (the compiler's input).

    Read straight from the packed arrays of ``us_lines_2024.npz`` (categorical codes), without
    building a DataFrame.

    Returns
    -------
    ProductLines
        One shared, read-only object per process (``importer="USA"``, ``year=2024``);
        :func:`load_us_lines` is the same data as a DataFrame copy.
    """
    from ..lines import ProductLines

    names = ("hs10__cats", "hs10__codes", "iso3__cats", "iso3__codes", "sector__cats", "sector__codes",
             "imports_usd", "base_rate_2024", "mfn_has_specific", "mfn_adval", "pref_adval")
    with _open("us_lines_2024.npz") as fh, np.load(io.BytesIO(fh.read()), allow_pickle=False) as npz:
        z = {k: npz[k] for k in names}

    def cat(name):  # sorted labels and int64 codes
        labels = z[f"{name}__cats"].astype(str)
        order = np.argsort(labels, kind="stable")
        remap = np.empty(len(order), dtype=np.int64)
        remap[order] = np.arange(len(order))
        return labels[order], remap[z[f"{name}__codes"]]

    hs_labels, hs_codes = cat("hs10")
    partner_labels, partner_codes = cat("iso3")
    sector_labels, sector_codes = cat("sector")
    hs_numbers = hs_labels.astype(np.int64)
    arrays = {k: np.asarray(z[k], dtype=float) for k in ("imports_usd", "base_rate_2024", "mfn_adval", "pref_adval")}
    out = ProductLines(
        importer="USA", hs10=hs_numbers[hs_codes], partner_code=partner_codes,
        partner_labels=partner_labels.astype("U8"), sector=sector_labels[sector_codes],
        value=arrays["imports_usd"], base_rate=arrays["base_rate_2024"],
        has_specific=np.asarray(z["mfn_has_specific"], dtype=bool), mfn_rate=arrays["mfn_adval"],
        pref_rate=arrays["pref_adval"], year=2024,
        source="US Census Bureau, imports for consumption 2024; USITC HTS 2024 Basic Edition",
    )
    out._prefix_cache["sector"] = (sector_labels, sector_codes)
    out._set_hs_codes(hs_numbers, hs_codes)  # HS-prefix matching on the 18,626 distinct codes
    return out
