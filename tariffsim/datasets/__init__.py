"""Embedded datasets and their loaders.

Belongs here: reading the package-data files written by ``tools/build_datasets.py``
(through :mod:`importlib.resources`), caching them, and handing out copies or read-only
views so that no caller can corrupt the cache. Does not belong here: building the files
from raw sources (``tools/build_datasets.py``), tariff logic (``tariffsim.schedule``).
Provenance, licences and known gaps of every file: ``PROVENANCE.md`` next to this module.

Loaders
-------
load_world            OECD ICIO 2022 flows as a :class:`~tariffsim.world.TradeWorld`
goods_sectors         the 27 ICIO goods sector codes (SERV excluded)
load_sectors          sector table (code, description, is_goods)
load_census_countries Census partner code -> ISO3, ICIO economy, region
load_concordance      GTAP -> ICIO map and HS-prefix overrides
load_us_lines         2024 US imports by HS10 x partner with base tariff rates
list_names / load_list / list_info          named HTS lists (Annex II, Section 232)
rate_table_names / load_rate_table / rate_table_dict   2025 reciprocal rates
elasticity_sources / load_elasticities / load_elasticity_table
datasets_info         name, description, source, licence, year, size of each file
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from importlib import resources

import numpy as np
import pandas as pd

from ..errors import DataError, did_you_mean, shorten_list
from ..world import TradeWorld

__all__ = [
    "REGION10",
    "load_world",
    "goods_sectors",
    "load_sectors",
    "load_regions",
    "load_census_countries",
    "load_concordance",
    "load_us_lines",
    "list_names",
    "load_list",
    "load_list_entries",
    "list_info",
    "rate_table_names",
    "load_rate_table",
    "rate_table_dict",
    "elasticity_sources",
    "load_elasticities",
    "load_elasticity_table",
    "datasets_info",
]

REGION10 = ("USA", "KOR", "CHN", "JPN", "TWN", "VNM", "MEX", "CAN", "EU27", "ROW")
ICIO_SOURCE = (
    "OECD (2023), Inter-Country Input-Output Tables, 2023 edition, http://oe.cd/icio "
    "(bilateral sectoral flows incl. domestic, intermediate + final use, USD mn; "
    "services collapsed into SERV)"
)
_ELASTICITY_SOURCES = ("cp2015", "fgo2022", "shapiro2016", "ll2023", "gyy2021")


def _open(name: str, mode: str = "rb"):
    return resources.files(__package__).joinpath(name).open(mode)


def _read_csv(name: str, **kwargs) -> pd.DataFrame:
    with _open(name) as fh:
        data = fh.read()
    return pd.read_csv(io.BytesIO(data), compression="gzip" if name.endswith(".gz") else None,
                       keep_default_na=False, na_values=[""], **kwargs)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@functools.lru_cache(maxsize=None)
def _npz(name: str) -> dict[str, np.ndarray]:
    with _open(name) as fh:
        with np.load(io.BytesIO(fh.read()), allow_pickle=False) as z:
            return {k: _readonly(z[k]) for k in z.files}


@functools.lru_cache(maxsize=None)
def _csv(name: str, dtypes: tuple = ()) -> pd.DataFrame:
    return _read_csv(name, dtype=dict(dtypes) or None)


def _copy(name: str, dtypes: tuple = ()) -> pd.DataFrame:
    return _csv(name, dtypes).copy(deep=True)


# ----------------------------------------------------------------------------- world
def load_sectors() -> pd.DataFrame:
    """ICIO sector table: ``code``, ``icio_code``, ``description``, ``is_goods`` (28 rows).

    ``SERV`` collapses all ICIO service sectors D-T (incl. D35 electricity) and has
    ``is_goods == 0``.
    """
    return _copy("icio_sectors.csv")


def goods_sectors() -> tuple[str, ...]:
    """The 27 ICIO goods sector codes (every sector but ``SERV``), in dataset order."""
    s = _csv("icio_sectors.csv")
    return tuple(s.loc[s["is_goods"] == 1, "code"])


def load_regions() -> pd.DataFrame:
    """The 81 ICIO economies (``ROW`` last) and their ``region10`` code."""
    return _copy("icio_regions.csv")


def _region_groups(regions, keep: Sequence[str], countries: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Return (group label per ICIO economy, ordered group labels)."""
    if isinstance(regions, str):
        if regions == "icio81":
            labels = list(countries)
            order = list(countries)
        elif regions == "region10":
            reg = dict(_csv("icio_regions.csv")[["iso3", "region10"]].itertuples(index=False))
            labels = [reg[c] for c in countries]
            order = list(REGION10)
        else:
            raise DataError(
                f"unknown regions {regions!r}; use 'region10', 'icio81' or a dict iso3 -> region. "
                + did_you_mean(regions, ["region10", "icio81"])
            )
    elif isinstance(regions, Mapping):
        mapping = {str(k): str(v) for k, v in regions.items()}
        default = mapping.pop("default", None)
        unknown = [k for k in mapping if k not in countries]
        if unknown:
            raise DataError(
                f"regions names economies not in ICIO: {shorten_list(unknown)}. "
                + did_you_mean(unknown[0], countries)
                + " The 81 ICIO economies are listed by load_regions()."
            )
        missing = [c for c in countries if c not in mapping]
        if missing and default is None:
            raise DataError(
                f"regions leaves {len(missing)} ICIO economies unassigned {shorten_list(missing)}; "
                "map every economy or add a 'default' entry, e.g. {'KOR': 'KOR', 'default': 'ROW'}."
            )
        labels = [mapping.get(c, default) for c in countries]
        order = list(dict.fromkeys(list(mapping.values()) + ([default] if missing else [])))
    else:
        raise DataError(f"regions must be 'region10', 'icio81' or a dict iso3 -> region; got {type(regions).__name__}.")
    for k in keep:
        if k not in countries:
            raise DataError(f"keep names {k!r}, which is not an ICIO economy. " + did_you_mean(k, countries))
    keep = list(dict.fromkeys(keep))
    for k in keep:
        i = countries.index(k)
        left = labels[i]
        if left == k:
            continue
        if k in order:
            raise DataError(f"cannot keep {k!r} apart: a region is already called {k!r}.")
        labels[i] = k
        members_left = [c for c, g in zip(countries, labels) if g == left]
        pos = order.index(left) + 1
        # place right after the region it left (after earlier kept members of that region)
        while pos < len(order) and order[pos] in keep:
            pos += 1
        order.insert(pos, k)
        if not members_left:
            order.remove(left)
    return labels, order


def load_world(regions="region10", *, keep: Sequence[str] = (), year: int = 2022) -> TradeWorld:
    """OECD ICIO bilateral sectoral flows as a :class:`TradeWorld`.

    Parameters
    ----------
    regions : {"region10", "icio81"} or mapping of str to str, default "region10"
        ``"region10"``: USA, KOR, CHN, JPN, TWN, VNM, MEX, CAN, EU27, ROW in that order.
        ``"icio81"``: all 81 ICIO economies (alphabetical, ``ROW`` last). A mapping
        ISO3 -> region label must assign every ICIO economy, or contain the key
        ``"default"`` for the rest; regions are ordered by first appearance among the
        mapping's values, the default region last.
    keep : sequence of str, optional
        ICIO economies kept apart from their region (e.g. ``["DEU"]``). Each is placed
        right after the region it left (after earlier kept economies of that region);
        a region left empty disappears.
    year : int, default 2022
        2022 for every choice of ``regions``; 2019-2021 only with ``regions="region10"``
        and no ``keep`` (the shipped 10-region cube).

    Returns
    -------
    TradeWorld
        ``flows`` of shape (n, n, 28), USD millions at basic prices, intermediate and final
        use summed, domestic flows on the diagonal; every sector marked tradable (SERV
        included: services are traded). No IO coefficients (the source has none).

    Raises
    ------
    DataError
        Unknown region scheme, economy code or year.
    """
    keep = (keep,) if isinstance(keep, str) else tuple(keep)
    year = int(year)
    if year != 2022:
        r10 = _npz("icio_region10_2019_2022.npz")
        years = [int(y) for y in r10["years"]]
        if year not in years:
            raise DataError(f"no ICIO data for year {year}; available years: {years} (2022 at any "
                            "regional detail, earlier years only as regions='region10').")
        if regions != "region10" or keep:
            raise DataError(f"year {year} exists only as the 10-region aggregate; use "
                            "regions='region10' without keep=, or year=2022.")
        k = years.index(year)
        return TradeWorld(
            tuple(str(r) for r in r10["regions"]), tuple(str(s) for s in r10["sectors"]), r10["flows"][k],
            name=f"OECD ICIO {year}, 10 regions", source=ICIO_SOURCE, year=year,
            tradable=np.ones(len(r10["sectors"]), dtype=bool),
            goods=np.array([str(c) in goods_sectors() for c in r10["sectors"]]),
        )
    z = _npz("icio2022_flows.npz")
    countries = tuple(str(c) for c in z["countries"])
    sectors = tuple(str(s) for s in z["sectors"])
    labels, order = _region_groups(regions, keep, countries)
    tradable = np.ones(len(sectors), dtype=bool)
    if order == list(countries) and labels == list(countries):
        flows = z["flows"]
    else:
        gidx = {g: k for k, g in enumerate(order)}
        agg = np.zeros((len(order), len(countries)))
        agg[[gidx[g] for g in labels], np.arange(len(countries))] = 1.0
        # flows'[r, q, s] = sum_{i in r} sum_{j in q} flows[i, j, s]
        flows = np.einsum("ri,ijs,qj->rqs", agg, z["flows"], agg)
    if isinstance(regions, str):
        desc = {"region10": "10 regions", "icio81": "81 economies"}[regions]
    else:
        desc = f"{len(order)} custom regions"
    if keep:
        desc += " + " + ", ".join(keep) + " apart"
    return TradeWorld(tuple(order), sectors, flows, name=f"OECD ICIO 2022, {desc}",
                      source=ICIO_SOURCE, year=2022, tradable=tradable,
                      goods=np.array([s in goods_sectors() for s in sectors]))


# -------------------------------------------------------------- codes and concordance
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


# ------------------------------------------------------------------------------ lists
def _lists() -> pd.DataFrame:
    return _csv("lists.csv.gz", (("hts_prefix", str), ("effective_date", str)))


def list_names() -> tuple[str, ...]:
    """Names of the embedded HTS lists, usable as ``list:<name>`` in scenarios."""
    return tuple(_csv("lists_meta.csv")["list_name"])


def _check_name(name: str, options: Sequence[str], what: str, fix: str) -> None:
    if name not in options:
        raise DataError(f"unknown {what} {name!r}. " + (did_you_mean(name, options) + " ").lstrip()
                        + f"Valid names: {shorten_list(options, 12)}; see {fix}.")


def load_list(name: str) -> tuple[str, ...]:
    """HTS prefixes (digits only, 2-10 digits) of a named list, in source order.

    Raises
    ------
    DataError
        Unknown name, with the closest valid names.
    """
    _check_name(name, list_names(), "list", "tariffsim.datasets.list_names()")
    lists = _lists()
    return tuple(lists.loc[lists["list_name"] == name, "hts_prefix"])


def load_list_entries(name: str) -> pd.DataFrame:
    """Entries of a named list with their per-entry ``effective_date`` (may be empty)."""
    _check_name(name, list_names(), "list", "tariffsim.datasets.list_names()")
    lists = _lists()
    return lists.loc[lists["list_name"] == name].reset_index(drop=True).copy()


def list_info() -> pd.DataFrame:
    """One row per list: ``list_name``, ``description``, ``legal_source``, ``effective``, ``n_entries``."""
    return _copy("lists_meta.csv")


# ------------------------------------------------------------------------ rate tables
def rate_table_names() -> tuple[str, ...]:
    """Names of the embedded country rate tables."""
    return tuple(dict.fromkeys(_csv("rate_tables.csv")["table"]))


def load_rate_table(name: str) -> pd.DataFrame:
    """A country rate table: ``country_name``, ``iso3``, ``rate`` (decimal), ``structure``
    (``"additive"`` on top of the base rate, or ``"floor"``: total duty = max(rate, base)),
    ``heading``, ``legal_source``, ``note``. One row per ISO3 code.
    """
    _check_name(name, rate_table_names(), "rate table", "tariffsim.datasets.rate_table_names()")
    t = _csv("rate_tables.csv")
    return t.loc[t["table"] == name].drop(columns="table").reset_index(drop=True).copy()


def rate_table_dict(name: str) -> dict[str, float]:
    """``{iso3: rate}`` of a rate table (floors and additive rates alike; check ``structure``)."""
    t = load_rate_table(name)
    return dict(zip(t["iso3"], t["rate"].astype(float)))


# ---------------------------------------------------------------------- elasticities
def elasticity_sources() -> tuple[str, ...]:
    """Valid ``source`` names for :func:`load_elasticities`."""
    return _ELASTICITY_SOURCES


def load_elasticity_table() -> pd.DataFrame:
    """All elasticity sources by ICIO sector: values, ``se_<source>``, the source sectors
    used for each mapping (``<source>_source_sector``) and ``serv_assumed``."""
    return _copy("elasticities_icio28.csv").set_index("sector")


def load_elasticities(source: str = "cp2015") -> pd.Series:
    """Trade elasticities (positive) for the 28 ICIO sectors from one published source.

    Parameters
    ----------
    source : {"cp2015", "fgo2022", "shapiro2016", "ll2023", "gyy2021"}
        Caliendo & Parro (2015) Table 1 99% sample; Fontagné, Guimbard & Orefice (2022)
        Table 8 (absolute value); Shapiro (2016) Table 2 col. 4 (absolute value);
        Lashkaripour & Lugovskyy (2023) Table 3 (σ−1); Giri, Yi & Yilmazkuday (2021) Table 2.

    Returns
    -------
    Series indexed by sector code (28), name = source. SERV is an assumed 5.0 for every
    source (Head & Mayer 2014); see ``load_elasticity_table()["serv_assumed"]``.
    """
    if source not in _ELASTICITY_SOURCES:
        raise DataError(f"unknown elasticity source {source!r}. " + (did_you_mean(source, _ELASTICITY_SOURCES)
                        + " ").lstrip() + f"Valid sources: {list(_ELASTICITY_SOURCES)}.")
    return _csv("elasticities_icio28.csv").set_index("sector")[source].astype(float).rename(source).copy()


# ---------------------------------------------------------------------------- catalogue
_CATALOGUE = (
    ("icio2022_flows.npz", "OECD ICIO 2022 bilateral flows, 81 economies x 28 sectors incl. domestic (USD mn)",
     "OECD (2023), Inter-Country Input-Output Tables, 2023 edition", "OECD terms (CC BY 4.0-like); attribute OECD",
     "2022"),
    ("icio_region10_2019_2022.npz", "OECD ICIO 10-region aggregate, 28 sectors, 2019-2022 (USD mn)",
     "OECD (2023), Inter-Country Input-Output Tables, 2023 edition", "OECD terms (CC BY 4.0-like); attribute OECD",
     "2019-2022"),
    ("icio_regions.csv", "ICIO 81 economies -> 10 regions", "tariffsim", "MIT", ""),
    ("icio_sectors.csv", "ICIO 28 sectors (27 goods + SERV)", "OECD ICIO sector list", "OECD terms", ""),
    ("census_countries.csv", "Census partner code -> ISO3, ICIO economy, region", "US Census Bureau; tariffsim",
     "public domain / MIT", "2024"),
    ("gtap_to_icio.csv", "GTAP 10 sectors -> ICIO 28 sectors", "tariffsim", "MIT", ""),
    ("hs_to_icio_overrides.csv", "HS-prefix overrides of the GTAP -> ICIO map", "tariffsim", "MIT", ""),
    ("us_lines_2024.npz", "US imports for consumption 2024 by HS10 x partner with MFN/FTA/USMCA base rates",
     "US Census Bureau; USITC HTS 2024 Basic; Budget Lab at Yale (GTAP tags, USMCA shares)",
     "public domain; MIT (Yale)", "2024"),
    ("lists.csv.gz", "Named HTS lists: Annex II exemptions, Section 232 autos/parts/derivatives",
     "HTSUS (2026) Rev. 6 Ch. 99; EO 14257 Annex II (ONE Campaign transcription); Budget Lab at Yale",
     "public domain; MIT (Yale list)", "2025"),
    ("lists_meta.csv", "Description and legal source of each named list", "tariffsim", "MIT", "2025"),
    ("rate_tables.csv", "US reciprocal country rates, Apr 2025 (EO 14257) and Aug 2025 (EO 14326)",
     "HTSUS (2026) Rev. 6 Ch. 99", "public domain", "2025"),
    ("elasticities_icio28.csv", "Trade elasticities by ICIO sector from five published papers",
     "Caliendo-Parro 2015; Fontagne-Guimbard-Orefice 2022; Shapiro 2016; Lashkaripour-Lugovskyy 2023; "
     "Giri-Yi-Yilmazkuday 2021", "facts from published papers (cite them)", ""),
    ("prices_bea_2024.npz", "US input-output (summary), PCE bridge, PCE by income decile, household income, "
     "HS10 -> BEA commodity (prices model)",
     "BEA Input-Output Accounts 2024 and distribution of PCE; CBO household income 2021; Budget Lab at Yale "
     "HS10 concordance", "public domain; MIT (HS10 concordance)", "2024"),
    ("prices_names.csv", "Names of the prices model's commodities, industries, PCE lines and groups",
     "BEA Input-Output Accounts 2024", "public domain", "2024"),
)


def datasets_info() -> list[dict]:
    """One dict per embedded file: ``name``, ``description``, ``source``, ``licence``,
    ``year``, ``size`` (bytes)."""
    out = []
    root = resources.files(__package__)
    for name, desc, src, lic, year in _CATALOGUE:
        path = root.joinpath(name)
        with path.open("rb") as fh:
            size = len(fh.read())
        out.append({"name": name, "description": desc, "source": src, "licence": lic, "year": year,
                    "size": size})
    return out
