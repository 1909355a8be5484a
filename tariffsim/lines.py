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
    mfn_rate, pref_rate : ndarray of float, shape (L,), optional
        MFN rate and the rate of the partner's preference programme (MFN where none), decimal;
        needed only for an FTA utilisation other than 100%.
    has_specific : ndarray of bool, shape (L,)
        The base rate has a specific or compound part counted as zero.
    year : int
    source : str
    later_codes : (ndarray of int64, ndarray of int64), optional
        Pairs (line's HS10 code, a later code of it), e.g. the 2026 codes of 2024 lines whose code changed
        (:func:`tariffsim.datasets.load_us_product_lines_2026`): :meth:`match` also matches a line through
        them. None: codes match only as they are.
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
    mfn_rate: np.ndarray | None = None
    pref_rate: np.ndarray | None = None
    later_codes: tuple[np.ndarray, np.ndarray] | None = None
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

    def memo(self, key, compute):
        """``compute()`` cached on these lines under ``key`` (what the compiler reuses; at most 1,024
        entries, oldest dropped). Boolean masks of the lines are stored as packed bits (L / 8 bytes)."""
        store = self._prefix_cache.setdefault("memo", {})
        if key not in store:
            if len(store) >= 1024:
                store.pop(next(iter(store)))
            value = compute()
            packed = isinstance(value, np.ndarray) and value.dtype == bool and value.shape == (len(self),)
            store[key] = (True, np.packbits(value)) if packed else (False, value)
        packed, value = store[key]
        return np.unpackbits(value, count=len(self)).view(bool) if packed else value

    def sector_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(labels, codes): sector labels and each line's index into them (cached; integer work only)."""
        if "sector" not in self._prefix_cache:
            codes, labels = pd.factorize(self.sector, sort=True)
            self._prefix_cache["sector"] = (np.asarray(labels, dtype=str), codes.astype(np.int64))
        return self._prefix_cache["sector"]

    def sector_mask(self, sectors: Iterable[str]) -> np.ndarray:
        """Boolean mask of lines whose sector is one of ``sectors``."""
        labels, codes = self.sector_codes()
        return np.isin(labels, list(sectors))[codes]

    def base_with_utilization(self, utilization: np.ndarray) -> np.ndarray:
        """Base rates with FTA utilisation ``u`` (L,) on partners other than Canada and Mexico.

        base = u * preferential + (1 - u) * MFN where the programme lowers the rate (column 2
        rates and Canada / Mexico, whose USMCA shares are in ``base_rate``, are kept).
        """
        if self.mfn_rate is None or self.pref_rate is None:
            raise DataError("these ProductLines have no MFN / preferential rates; FTA utilisation needs them.")
        nafta = self.partner_mask(("CAN", "MEX"))
        use = ~nafta & (self.pref_rate < self.mfn_rate)
        mixed = utilization * self.pref_rate + (1.0 - utilization) * self.mfn_rate
        return np.where(use, mixed, self.base_rate)

    def truncated(self, digits: int) -> np.ndarray:
        """HS codes cut to ``digits`` digits, as integers (cached)."""
        if digits not in self._prefix_cache:
            self._prefix_cache[digits] = self.hs10 // 10 ** (10 - digits)
        return self._prefix_cache[digits]

    def _truncated_unique(self, digits: int) -> tuple[np.ndarray, np.ndarray]:
        """(distinct HS codes cut to ``digits`` digits, index of each line into them), cached."""
        key = ("unique", digits)
        if key not in self._prefix_cache:
            self._prefix_cache[key] = np.unique(self.truncated(digits), return_inverse=True)
        return self._prefix_cache[key]

    def match(self, prefixes: Iterable[str]) -> np.ndarray:
        """Boolean mask of lines whose HS code starts with any of ``prefixes`` (digit strings).

        Matched on the distinct codes of each prefix length (a few thousand), then spread to
        the lines: no sort of the 300,000 lines per call. With ``later_codes``, a line also
        matches when at least half of its later codes start with a prefix (a line split into
        several codes is kept whole: its matched share rounded, where the tracker would split
        the value equally over the codes).
        """
        mask = np.zeros(len(self), dtype=bool)
        by_len: dict[int, list[int]] = {}
        for p in prefixes:
            by_len.setdefault(len(p), []).append(int(p))
        later = None if self.later_codes is None else np.zeros(len(self.later_codes[0]), dtype=bool)
        for digits, group in by_len.items():
            uniq, inv = self._truncated_unique(digits)
            wanted = np.asarray(group, dtype=np.int64)
            mask |= np.isin(uniq, wanted)[inv]
            if later is not None:
                later |= np.isin(self.later_codes[1] // 10 ** (10 - digits), wanted)
        if later is not None and later.any():
            codes, n_later = self._later_counts()
            hit, n_hit = np.unique(self.later_codes[0][later], return_counts=True)
            whole = hit[2 * n_hit >= n_later[np.searchsorted(codes, hit)]]
            uniq, inv = self._truncated_unique(10)
            mask |= np.isin(uniq, whole)[inv]
        return mask

    def _later_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(line codes with later codes, sorted; number of later codes of each), cached."""
        if "later" not in self._prefix_cache:
            self._prefix_cache["later"] = np.unique(self.later_codes[0], return_counts=True)
        return self._prefix_cache["later"]

    def partner_mask(self, codes: Iterable[str]) -> np.ndarray:
        """Boolean mask of lines whose partner is one of ``codes`` (ISO3)."""
        table = np.isin(self.partner_labels, sorted(set(codes)))
        return table[self.partner_code]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, importer: str = "USA", **kw) -> ProductLines:
        """From a frame with columns hs10, iso3, sector, imports_usd, base_rate_2024, mfn_has_specific.

        Categorical columns (as :func:`tariffsim.datasets.load_us_lines` gives) are read by
        their codes, without building 300,000 strings.
        """
        hs_labels, hs_codes = _categories(frame["hs10"])
        partner_labels, partner_codes = _categories(frame["iso3"])
        sector_labels, sector_codes = _categories(frame["sector"])
        optional = {k: frame[c].to_numpy(dtype=float)
                    for k, c in (("mfn_rate", "mfn_adval"), ("pref_rate", "pref_adval")) if c in frame}
        out = cls(
            importer=importer,
            hs10=hs_labels.astype(np.int64)[hs_codes],
            partner_code=partner_codes,
            partner_labels=partner_labels.astype("U8"),
            sector=sector_labels[sector_codes],
            value=frame["imports_usd"].to_numpy(dtype=float),
            base_rate=frame["base_rate_2024"].to_numpy(dtype=float),
            has_specific=frame["mfn_has_specific"].to_numpy(dtype=bool),
            **optional,
            **kw,
        )
        out._prefix_cache["sector"] = (sector_labels, sector_codes)
        return out


def _categories(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique labels as str, int64 code of each row) of a column, categorical or not."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        labels = np.asarray(column.cat.categories.astype(str), dtype=str)
        codes = column.cat.codes.to_numpy().astype(np.int64)
    else:
        codes, labels = pd.factorize(column.astype(str))
        labels = np.asarray(labels, dtype=str)
    order = np.argsort(labels, kind="stable")
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    return labels[order], remap[codes]


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
