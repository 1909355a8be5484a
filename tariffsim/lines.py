"""ProductLines: US import lines (HS10 × partner) with weights, sectors and base rates.

Belongs here: the container and HS-prefix matching on it (the product side of the law).
Loading is in :mod:`tariffsim.datasets` (``load_us_product_lines``); turning measures into rates is in
:mod:`tariffsim.schedule`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["ProductLines", "normalise_hs"]


@dataclass(frozen=True, eq=False)
class ProductLines:
    """Import lines of one importer with their weights.

    Attributes
    ----------
    importer : str
    hs10 : ndarray of int64, shape (L,)
        10-digit HTS codes as integers (leading zeros implied: 101210010 is 0101.21.0010).
    partner_code : ndarray of int, shape (L,)
        Index into ``partner_labels`` of each line's exporting country.
    partner_labels : ndarray of str
        ISO3 codes of the partners.
    sector : ndarray of str, shape (L,)
        Sector code (ICIO) of each line.
    value : ndarray of float, shape (L,)
        Import value, USD (customs value).
    base_rate : ndarray of float, shape (L,)
        Applied base (MFN/preferential) ad valorem rate, decimal.
    has_specific : ndarray of bool, shape (L,)
        The base rate has a specific or compound part counted as zero.
    year : int
    source : str
    """

    importer: str
    hs10: np.ndarray
    partner_code: np.ndarray
    partner_labels: np.ndarray
    sector: np.ndarray
    value: np.ndarray
    base_rate: np.ndarray
    has_specific: np.ndarray
    year: int = 2024
    source: str = ""
    _prefix_cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.hs10)
        for name in ("partner_code", "sector", "value", "base_rate", "has_specific"):
            if len(getattr(self, name)) != n:
                raise DataError(f"ProductLines.{name} has {len(getattr(self, name))} entries, hs10 has {n}.")
        if np.any(~np.isfinite(self.value)) or np.any(self.value < 0):
            raise DataError("ProductLines.value must be finite and >= 0.")

    def __len__(self) -> int:
        return len(self.hs10)

    @property
    def partner(self) -> np.ndarray:
        """ISO3 code of each line's partner, shape (L,)."""
        return self.partner_labels[self.partner_code]

    def truncated(self, digits: int) -> np.ndarray:
        """HS codes cut to ``digits`` digits, as integers (cached)."""
        if digits not in self._prefix_cache:
            self._prefix_cache[digits] = self.hs10 // 10 ** (10 - digits)
        return self._prefix_cache[digits]

    def match(self, prefixes: Iterable[str]) -> np.ndarray:
        """Boolean mask of lines whose HS code starts with any of ``prefixes`` (digit strings)."""
        mask = np.zeros(len(self), dtype=bool)
        by_len: dict[int, list[int]] = {}
        for p in prefixes:
            by_len.setdefault(len(p), []).append(int(p))
        for digits, group in by_len.items():
            mask |= np.isin(self.truncated(digits), np.asarray(group, dtype=np.int64))
        return mask

    def partner_mask(self, codes: Iterable[str]) -> np.ndarray:
        """Boolean mask of lines whose partner is one of ``codes`` (ISO3)."""
        wanted = np.flatnonzero(np.isin(self.partner_labels, sorted(set(codes))))
        return np.isin(self.partner_code, wanted)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, importer: str = "USA", **kw) -> ProductLines:
        """From a frame with columns hs10, iso3, sector, imports_usd, base_rate_2024, mfn_has_specific."""
        partner = pd.Categorical(frame["iso3"].astype(str))
        return cls(
            importer=importer,
            hs10=frame["hs10"].astype(str).astype(np.int64).to_numpy(),
            partner_code=partner.codes.astype(np.int64),
            partner_labels=np.asarray(partner.categories, dtype="U8"),
            sector=frame["sector"].astype(str).to_numpy(),
            value=frame["imports_usd"].to_numpy(dtype=float),
            base_rate=frame["base_rate_2024"].to_numpy(dtype=float),
            has_specific=frame["mfn_has_specific"].to_numpy(dtype=bool),
            **kw,
        )


def normalise_hs(code: str) -> str:
    """An HS code as digits only: ``'8703.22.01'`` -> ``'87032201'``."""
    return str(code).replace(".", "").replace(" ", "")


def __getattr__(name: str):
    if name == "load_us_lines":  # deprecated alias (0.2.0): the loader lives in tariffsim.datasets
        import warnings

        warnings.warn("tariffsim.lines.load_us_lines is deprecated since tariffsim 0.2.0: use "
                      "tariffsim.datasets.load_us_product_lines (ProductLines) or tariffsim.datasets.load_us_lines "
                      "(DataFrame).", DeprecationWarning, stacklevel=2)
        from .datasets import load_us_product_lines

        return load_us_product_lines
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
