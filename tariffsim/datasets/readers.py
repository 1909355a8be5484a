"""Readers for third-party research data files the user points to.

Belongs here: turning the Caliendo–Parro (2015) replication files and one-sector
structural-gravity long files (the layout of USITC gegravity's sample data) into a
:class:`~tariffsim.world.TradeWorld` plus the arrays that come with them. Does not belong
here: the package's embedded datasets (``tariffsim.datasets``); the package ships none of
these files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._lazy import pandas as pd
from ..errors import DataError, shorten_list
from ..world import TradeWorld

__all__ = ["CaliendoParroData", "read_caliendo_parro", "read_gravity_long", "CP_COUNTRIES", "CP_SECTORS"]

#: Country order of the CP replication files (31: 30 countries and the rest of the world).
CP_COUNTRIES: tuple[str, ...] = (
    "ARG", "AUS", "AUT", "BRA", "CAN", "CHL", "CHN", "DNK", "FIN", "FRA", "DEU", "GRC", "HUN",
    "IND", "IDN", "IRL", "ITA", "JPN", "KOR", "MEX", "NLD", "NZL", "NOR", "PRT", "ZAF", "ESP",
    "SWE", "TUR", "GBR", "USA", "ROW",
)

#: Sector order: 20 tradable (ISIC Rev.3, CP Table 1) then 20 non-tradable sectors.
CP_SECTORS: tuple[str, ...] = (
    "Agriculture", "Mining", "Food", "Textile", "Wood", "Paper", "Petroleum", "Chemicals",
    "Plastic", "Minerals", "Basic metals", "Metal products", "Machinery n.e.c.", "Office",
    "Electrical", "Communication", "Medical", "Auto", "Other Transport", "Other",
    "Electricity", "Construction", "Retail", "Hotels", "Land transport", "Water transport",
    "Air transport", "Auxiliary transport", "Post", "Finance", "Real estate", "Renting machinery",
    "Computer", "R&D", "Other business", "Public", "Education", "Health", "Other services",
    "Private households",
)

_N, _J, _JT = 31, 40, 20
#: θ CP's code uses for the 20 non-tradable sectors.
CP_THETA_NONTRADABLE = 8.22


@dataclass(frozen=True)
class CaliendoParroData:
    """The CP 2015 replication inputs in library conventions.

    Attributes
    ----------
    world : TradeWorld
        31 countries x 40 sectors, flows at customs value in USD mn for 1993 with domestic
        sales on the diagonal; ``value_added_share`` (n, S) and ``io_coefficients`` (n, S, S).
    tariffs_1993, tariffs_2005 : ndarray of shape (n, n, S)
        Applied tariffs (decimal), exporter x importer x sector; 0 for non-tradables.
    theta : ndarray of shape (S,)
        Dispersion of productivity θ^j: T.txt for tradables, 8.22 for non-tradables.
    """

    world: TradeWorld
    tariffs_1993: np.ndarray
    tariffs_2005: np.ndarray
    theta: np.ndarray


def _load_matrix(folder: Path, name: str, shape: tuple[int, int]) -> np.ndarray:
    path = folder / name
    if not path.is_file():
        raise DataError(
            f"{path} not found; read_caliendo_parro needs xbilat1993.txt, tariffs1993.txt, "
            "tariffs2005.txt, GO.txt, B.txt, IO.txt and T.txt from the CP replication package in one folder."
        )
    try:
        arr = np.loadtxt(path, ndmin=2)
    except ValueError as exc:
        raise DataError(f"{path}: not a whitespace-separated numeric matrix ({exc}).") from None
    if arr.shape != shape:
        raise DataError(f"{path} has shape {arr.shape}; the CP layout needs {shape}.")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{path} contains NaN or infinite values.")
    return arr


def _stacked_to_world(a: np.ndarray) -> np.ndarray:
    """CP (sector j, importer n) x exporter i stacking -> (exporter i, importer n, sector j), 20 sectors."""
    # rows = j * N + n, columns = i  ->  a3[j, n, i]  ->  out[i, n, j]
    return a.reshape(_JT, _N, _N).transpose(2, 1, 0)


def read_caliendo_parro(folder: str | Path) -> CaliendoParroData:
    """Read the Caliendo & Parro (2015) replication text files.

    Parameters
    ----------
    folder : str or Path
        Folder with the files of the authors' replication package.

    Returns
    -------
    CaliendoParroData

    Notes
    -----
    File layouts (31 countries in :data:`CP_COUNTRIES` order, 40 sectors in
    :data:`CP_SECTORS` order):

    - ``xbilat1993.txt`` 620 x 31: row ``j*31 + n`` = (tradable sector j, importer n), column
      = exporter i; thousands of USD at customs (pre-tariff) value; zero diagonal.
    - ``tariffs1993.txt``, ``tariffs2005.txt`` 620 x 31: applied tariffs in percent, same layout.
    - ``GO.txt`` 40 x 31: gross output in USD (sector x country).
    - ``B.txt`` 40 x 31: value-added share γ_n^j (sector x country).
    - ``IO.txt`` 1240 x 40: for country n, rows ``n*40 .. n*40+39`` form a 40 x 40 block G_n
      with row = input k, column = using sector j; G_n[k, j] is input k's share of sector
      j's intermediate bill (columns sum to 1, or 0 where γ = 1). The library's cost shares
      are ``io[n, k, j] = G_n[k, j] * (1 - γ_n^j)``.
    - ``T.txt`` 20 values θ^j for the tradable sectors; non-tradables get 8.22 as in CP's code.

    Domestic sales follow CP's code: gross output is raised to total exports where exports
    exceed it, ``GO = max(GO, exports)``, and domestic sales are ``GO - exports``.
    Non-tradable sectors have only domestic sales (= GO). The file's single negative IO
    share (-0.00085, Canada) is set to 0 and its column rescaled to the original sum.
    """
    folder = Path(folder)
    xb = _load_matrix(folder, "xbilat1993.txt", (_JT * _N, _N))
    t93 = _load_matrix(folder, "tariffs1993.txt", (_JT * _N, _N))
    t05 = _load_matrix(folder, "tariffs2005.txt", (_JT * _N, _N))
    go = _load_matrix(folder, "GO.txt", (_J, _N))
    va = _load_matrix(folder, "B.txt", (_J, _N))
    G = _load_matrix(folder, "IO.txt", (_J * _N, _J))
    T = _load_matrix(folder, "T.txt", (_JT, 1)).ravel()

    flows = np.zeros((_N, _N, _J))
    flows[:, :, :_JT] = _stacked_to_world(xb) * 1e-3  # thousands USD -> USD mn
    idx = np.arange(_N)
    flows[idx, idx, :] = 0.0
    exports = flows.sum(axis=1)  # (i, j): Σ_n M_in^j, foreign sales
    gross = np.maximum(go.T * 1e-6, exports)  # USD -> USD mn; CP: GO = max(GO, x)
    flows[idx, idx, :] = gross - exports  # domestic sales = GO − exports

    gamma = va.T.copy()  # (n, j)
    blocks = G.reshape(_N, _J, _J).copy()  # blocks[n, k, j] = G_n[k, j]
    # The published IO.txt has one negative share (CAN, input "Other" in "Basic metals",
    # -0.00085); TradeWorld requires io >= 0, so set it to 0 and rescale that column to its
    # original sum (a deviation of < 0.1% in one cost share).
    neg = blocks < 0
    if neg.any():
        before = blocks.sum(axis=1, keepdims=True)
        blocks = np.clip(blocks, 0.0, None)
        after = blocks.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            blocks = np.where(after > 0, blocks * before / np.where(after > 0, after, 1.0), blocks)
    io = blocks * (1.0 - gamma)[:, None, :]  # γ_n^{k,j} = G_n[k, j] (1 − γ_n^j)

    tariffs = []
    for t in (t93, t05):
        full = np.zeros((_N, _N, _J))
        full[:, :, :_JT] = _stacked_to_world(t) / 100.0  # percent -> decimal
        tariffs.append(full)
    theta = np.concatenate([T, np.full(_J - _JT, CP_THETA_NONTRADABLE)])
    tradable = np.arange(_J) < _JT
    world = TradeWorld(
        CP_COUNTRIES, CP_SECTORS, flows,
        name="Caliendo-Parro 1993", source=f"Caliendo & Parro (2015) replication files in {folder}",
        year=1993, value_added_share=gamma, io_coefficients=io, tradable=tradable,
    )
    return CaliendoParroData(world, tariffs[0], tariffs[1], theta)


_GRAVITY_COLUMNS = ("exporter", "importer", "trade", "Y", "E")


def read_gravity_long(path: str | Path, sep: str | None = None, *, sector: str = "all") -> TradeWorld:
    """Read one-sector structural-gravity data in long form into a TradeWorld.

    Parameters
    ----------
    path : str or Path
        Delimited text with one row per (exporter, importer), domestic flows included
        (exporter == importer), and columns ``exporter, importer, trade, Y, E`` (other
        columns, e.g. gravity covariates, are ignored) — the layout of USITC gegravity's
        ``sample_data_set.dlm``.
    sep : str, optional
        Delimiter; by default sniffed (comma, tab, ...).
    sector : str
        Label of the single sector.

    Returns
    -------
    TradeWorld
        n x n x 1 flows in the file's value units (gegravity's sample: USD mn).

    Raises
    ------
    DataError
        Missing columns, duplicated or missing (exporter, importer) pairs, negative or
        non-numeric trade, missing domestic flows, or ``Y``/``E`` not constant per country.

    Notes
    -----
    The flows (with domestic trade on the diagonal) define the world; ``Y`` and ``E``
    are validated (one positive value per exporter / importer) but not used, because the
    model's baseline must be consistent with the flows (in gegravity's sample the flow
    sums are 93–99% of ``Y`` and ``E``).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} not found.")
    try:
        frame = pd.read_csv(path, sep=sep, engine="python" if sep is None else "c")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: could not parse as delimited text ({exc}); pass sep=.") from None
    missing = [c for c in _GRAVITY_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; found {shorten_list(frame.columns, 12)}. "
            "Gravity long data need exporter, importer, trade, Y, E (pass sep= if the delimiter was misread)."
        )
    frame = frame.assign(exporter=frame["exporter"].astype(str), importer=frame["importer"].astype(str))
    trade = pd.to_numeric(frame["trade"], errors="coerce")
    bad = trade.isna() | (trade < 0)
    if bad.any():
        rows = frame.loc[bad, ["exporter", "importer"]].head(5).values.tolist()
        raise DataError(f"{path}: {int(bad.sum())} row(s) with missing, non-numeric or negative trade, e.g. {rows}.")
    dup = frame.duplicated(["exporter", "importer"])
    if dup.any():
        rows = frame.loc[dup, ["exporter", "importer"]].head(5).values.tolist()
        raise DataError(f"{path}: {int(dup.sum())} duplicated (exporter, importer) pair(s), e.g. {rows}; "
                        "one row per pair.")
    countries = sorted(set(frame["exporter"]) | set(frame["importer"]))
    n = len(countries)
    if len(frame) != n * n:
        have = set(zip(frame["exporter"], frame["importer"]))
        gaps = [(i, j) for i in countries for j in countries if (i, j) not in have]
        raise DataError(
            f"{path}: {len(gaps)} (exporter, importer) pair(s) missing, e.g. {gaps[:5]}; "
            f"{n} countries need {n * n} rows including domestic flows (write 0 for no trade)."
        )
    for col, key in (("Y", "exporter"), ("E", "importer")):
        vals = pd.to_numeric(frame[col], errors="coerce")
        if vals.isna().any() or (vals <= 0).any():
            raise DataError(f"{path}: column {col} must be positive numbers for every row.")
        varying = vals.groupby(frame[key]).nunique()
        varying = varying[varying > 1]
        if len(varying):
            raise DataError(f"{path}: {col} must be constant per {key}; it varies for {shorten_list(varying.index)}.")
    domestic = frame.loc[frame["exporter"] == frame["importer"]].set_index("exporter")["trade"]
    zero_dom = [c for c in countries if float(domestic.get(c, 0.0)) <= 0]
    if zero_dom:
        raise DataError(
            f"{path}: domestic flows (exporter == importer) are zero for {shorten_list(zero_dom)}; GE needs them."
        )
    long = pd.DataFrame(
        {"exporter": frame["exporter"], "importer": frame["importer"], "sector": sector, "value": trade}
    )
    return TradeWorld.from_frame(long, countries=countries, sectors=[sector], name=path.stem, source=str(path))
