"""Loader of the consumer-price model's embedded data (BEA 2024 input-output and PCE bridge).

Built by ``tools/build_prices_data.py``; provenance in ``PROVENANCE.md`` (section
"Consumer prices"). Units: USD mn unless stated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._lazy import pandas as pd
from ._files import _open

__all__ = ["PricesData", "load_prices_data"]


@dataclass(frozen=True, eq=False)
class PricesData:
    """BEA 2024 summary input-output data for the price model (K = 73 commodities).

    Attributes
    ----------
    commodities, commodity_names : tuple of str, length K
    tr : ndarray (K, K)
        Commodity-by-commodity total requirements (BEA), ``(I - A)^-1``.
    import_share_cell : ndarray (K, K)
        Imported share of commodity i's use by the industry producing commodity j (Import
        matrix / Use table); the row share where no industry matches j or the cell is empty.
    import_share_pce : ndarray (K,)
        Imported share of commodity k in personal consumption (Import F010 / Use F010).
    import_share_use : ndarray (K,)
        Imported share of total domestic use (intermediate + final, exports excluded).
    imports : ndarray (K,)
        Imports by commodity (BEA import matrix -F050), USD mn.
    pce_commodity : ndarray (K,)
        PCE by commodity at purchasers' value (Use F010), USD mn.
    bridge_line, bridge_commodity : ndarray of int (R,)
        PCE bridge rows: NIPA line index, commodity index.
    bridge_producers, bridge_purchasers : ndarray (R,)
        Producers' and purchasers' value of each bridge row, USD mn (2024).
    pce_lines, pce_line_names : tuple, length N
        NIPA Table 2.4.5 lines in the bridge.
    line_group : ndarray of int (N,)
        Index of each line's NIPA Table 2.3.5 group (our mapping).
    groups, group_names : tuple, length G = 16
    group_decile_share : ndarray (G, 10)
        Share of each group's spending by income decile (each row sums to one).
    decile_income : ndarray (10,)
        Household income after transfers and federal taxes by decile (CBO 2021; deciles 1-8
        interpolated within quintiles; uprated to 2024 by nominal PCE growth 2021-2024), USD
        per household per year.
    households_mn : float
        Number of households, millions (CBO 2021).
    hs10, hs10_commodity : ndarray
        HS10 code -> commodity index (-1: unmapped).
    """

    commodities: tuple
    commodity_names: tuple
    tr: np.ndarray
    import_share_cell: np.ndarray
    import_share_pce: np.ndarray
    import_share_use: np.ndarray
    imports: np.ndarray
    pce_commodity: np.ndarray
    bridge_line: np.ndarray
    bridge_commodity: np.ndarray
    bridge_producers: np.ndarray
    bridge_purchasers: np.ndarray
    pce_lines: tuple
    pce_line_names: tuple
    line_group: np.ndarray
    groups: tuple
    group_names: tuple
    group_decile_share: np.ndarray
    decile_income: np.ndarray
    households_mn: float
    hs10: np.ndarray
    hs10_commodity: np.ndarray

    @property
    def pce_total(self) -> float:
        """PCE 2024 at purchasers' value, USD mn."""
        return float(self.bridge_purchasers.sum())

    def commodity_of(self, hs10: np.ndarray) -> np.ndarray:
        """Commodity index of each HS10 code (int array); -1 where the concordance has none."""
        hs10 = np.asarray(hs10, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.hs10, hs10), 0, len(self.hs10) - 1)
        return np.where(self.hs10[pos] == hs10, self.hs10_commodity[pos], -1).astype(np.int64)


def _share(num: np.ndarray, den: np.ndarray, fallback) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), fallback)
    return np.clip(out, 0.0, 1.0)


@functools.cache
def load_prices_data() -> PricesData:
    """The embedded BEA 2024 data of the price model (cached, arrays read-only)."""
    with _open("prices_bea_2024.npz") as fh:
        raw = dict(np.load(fh))
    with _open("prices_names.csv") as fh:
        names = pd.read_csv(fh, dtype=str, keep_default_na=False)
    def pick(kind):
        return names[names["kind"] == kind]

    codes = tuple(pick("commodity")["code"])
    industries = tuple(pick("industry")["code"])
    k = len(codes)
    # row share: imported use / total domestic use (intermediate + final, exports excluded)
    imp_total = raw["imp_int"].sum(1) + raw["imp_final"].sum(1)
    use_total = raw["use_int"].sum(1) + raw["use_final"].sum(1)
    row_share = _share(imp_total, use_total, 0.0)
    cell = np.repeat(row_share[:, None], k, axis=1)
    for j, code in enumerate(codes):
        if code in industries:
            col = industries.index(code)
            cell[:, j] = _share(raw["imp_int"][:, col], raw["use_int"][:, col], row_share)
    share = raw["group_decile_share"] / raw["group_decile_share"].sum(axis=1, keepdims=True)
    uprate = float(raw["bridge_purchasers"].sum() / raw["pce_2021"])
    lines = pick("pce_line")
    groups = pick("pce_group")
    data = PricesData(
        commodities=codes, commodity_names=tuple(pick("commodity")["name"]),
        tr=raw["tr"], import_share_cell=cell,
        import_share_pce=_share(raw["imp_final"][:, 0], raw["use_final"][:, 0], 0.0),
        import_share_use=row_share, imports=raw["imports_f050"], pce_commodity=raw["use_final"][:, 0],
        bridge_line=raw["bridge_line"].astype(np.int64), bridge_commodity=raw["bridge_commodity"].astype(np.int64),
        bridge_producers=raw["bridge_producers"], bridge_purchasers=raw["bridge_purchasers"],
        pce_lines=tuple(int(x) for x in lines["code"]), pce_line_names=tuple(lines["name"]),
        line_group=raw["line_group"].astype(np.int64),
        groups=tuple(int(x) for x in groups["code"]), group_names=tuple(groups["name"]),
        group_decile_share=share, decile_income=raw["decile_income_2021"] * uprate,
        households_mn=float(raw["households_2021_mn"]),
        hs10=raw["hs10"], hs10_commodity=raw["hs10_commodity"].astype(np.int64),
    )
    for value in vars(data).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return data
