"""ProductLines: US import lines (HS10 × partner) with weights, sectors and base rates.

Belongs here: the container and HS-prefix matching on it (the product side of the law).
Loading is in :mod:`tariffsim.datasets` (``load_us_product_lines``); turning measures into rates is in
:mod:`tariffsim.schedule`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ._lazy import pandas as pd
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
            labels, codes = np.unique(np.asarray(self.sector, dtype=str), return_inverse=True)
            self._prefix_cache["sector"] = (labels, codes.astype(np.int64))
        return self._prefix_cache["sector"]

    def sector_mask(self, sectors: Iterable[str]) -> np.ndarray:
        """Boolean mask of lines whose sector is one of ``sectors``."""
        labels, codes = self.sector_codes()
        wanted = set(sectors)
        return np.array([s in wanted for s in labels.tolist()], dtype=bool)[codes]

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

    def hs_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(distinct HS10 codes, sorted, int64; index of each line into them), cached.

        :func:`~tariffsim.datasets.load_us_product_lines` fills this from the file's categories
        (about 19,000 codes for 335,000 lines), so no sort of the lines is needed.
        """
        if "hs" not in self._prefix_cache:
            labels, codes = np.unique(self.hs10, return_inverse=True)
            self._prefix_cache["hs"] = (labels, codes.astype(np.int64))
        return self._prefix_cache["hs"]

    def _set_hs_codes(self, labels: np.ndarray, codes: np.ndarray) -> None:
        """Fill :meth:`hs_codes` from known categories (int64 labels, each line's index into them);
        ignored unless the labels are strictly increasing."""
        labels = np.asarray(labels, dtype=np.int64)
        if len(labels) and np.all(labels[1:] > labels[:-1]):
            self._prefix_cache["hs"] = (labels, np.asarray(codes, dtype=np.int64))

    def _truncated_unique(self, digits: int) -> tuple[np.ndarray, np.ndarray]:
        """(distinct HS codes cut to ``digits`` digits, index of each line into them), cached."""
        key = ("unique lines", digits)
        if key not in self._prefix_cache:
            uniq, inv = self._truncated_codes(digits)
            self._prefix_cache[key] = (uniq, inv[self.hs_codes()[1]])
        return self._prefix_cache[key]

    def _truncated_codes(self, digits: int) -> tuple[np.ndarray, np.ndarray]:
        """(distinct HS codes cut to ``digits`` digits, index of each *distinct HS10 code* into them), cached.

        The distinct HS10 codes are sorted, so their truncations are too: the distinct values
        are where the truncation changes (no sort).
        """
        key = ("unique", digits)
        if key not in self._prefix_cache:
            labels, _ = self.hs_codes()
            cut = labels // 10 ** (10 - digits)
            start = np.ones(len(cut), dtype=bool)
            start[1:] = cut[1:] != cut[:-1]
            self._prefix_cache[key] = (cut[start], np.cumsum(start) - 1)
        return self._prefix_cache[key]

    def match(self, prefixes: Iterable[str]) -> np.ndarray:
        """Boolean mask of lines whose HS code starts with any of ``prefixes`` (digit strings).

        Matched on the distinct HS10 codes (a prefix of ``d`` digits against the codes cut to
        ``d`` digits), then spread to the lines: no pass over the 335,000 lines but the last.
        With ``later_codes``, a line also matches when at least half of its later codes start
        with a prefix (a line split into several codes is kept whole: its matched share rounded,
        where the tracker would split the value equally over the codes).
        """
        prefixes = list(prefixes)
        labels, codes = self.hs_codes()
        hit = np.zeros(len(labels), dtype=bool)
        if prefixes:
            length = np.fromiter(map(len, prefixes), dtype=np.int64, count=len(prefixes))
            value = np.asarray(prefixes, dtype=str).astype(np.int64)
            later = None if self.later_codes is None else np.zeros(len(self.later_codes[1]), dtype=bool)
            for digits in sorted(set(length.tolist())):  # (plain np.unique would import numpy.ma)
                uniq, inv = self._truncated_codes(digits)
                wanted = np.sort(value[length == digits])  # isin by binary search (np.isin would import numpy.ma)
                pos = np.minimum(np.searchsorted(wanted, uniq), len(wanted) - 1)
                hit |= (wanted[pos] == uniq)[inv]
                if later is not None:
                    cut = self.later_codes[1] // 10 ** (10 - digits)
                    pos = np.minimum(np.searchsorted(wanted, cut), len(wanted) - 1)
                    later |= wanted[pos] == cut
            if later is not None and later.any():
                owner, n_later = self._later_index()
                # a code matches when at least half of its later codes do: 2 * hits >= n
                n_hit = np.bincount(owner[later], minlength=len(labels) + 1)[:len(labels)]
                hit |= (n_hit > 0) & (2 * n_hit >= n_later)
        return hit[codes]

    def _later_index(self) -> tuple[np.ndarray, np.ndarray]:
        """(index into :meth:`hs_codes` labels of each ``later_codes`` pair's line code, number of later
        codes of each label), cached. Pairs whose code is not a line code count for nothing."""
        if "later" not in self._prefix_cache:
            labels, _ = self.hs_codes()
            old = np.asarray(self.later_codes[0], dtype=np.int64)
            pos = np.minimum(np.searchsorted(labels, old), len(labels) - 1)
            owner = np.where(labels[pos] == old, pos, len(labels))  # len(labels): no line
            n_later = np.bincount(owner, minlength=len(labels) + 1)[:len(labels)]
            self._prefix_cache["later"] = (owner, n_later)
        return self._prefix_cache["later"]

    def partner_mask(self, codes: Iterable[str]) -> np.ndarray:
        """Boolean mask of lines whose partner is one of ``codes`` (ISO3)."""
        wanted = set(codes)  # a set lookup per label (a few hundred): no np.isin, which imports numpy.ma
        table = np.array([p in wanted for p in self.partner_labels.tolist()], dtype=bool)
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
        out._set_hs_codes(hs_labels.astype(np.int64), hs_codes)
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
