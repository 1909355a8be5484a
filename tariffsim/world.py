"""TradeWorld: country and sector labels plus bilateral sectoral flows.

Belongs here: the immutable container, its validation, conversion to and from tidy
pandas frames, and aggregation of countries and sectors. Does not belong here: file
loading (``tariffsim.datasets``), tariffs (``tariffsim.schedule``), models (``kernels``).

Convention: ``flows[i, j, s]`` is the value shipped from exporter ``i`` to importer ``j``
in sector ``s`` in USD millions, domestic flows on the diagonal ``i == j``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._lazy import pandas as pd
from .errors import DataError, did_you_mean, shorten_list

__all__ = ["TradeWorld"]


def _check_labels(labels: Sequence[str], what: str) -> tuple[str, ...]:
    labels = tuple(str(x) for x in labels)
    seen, dup = set(), []
    for x in labels:
        if x in seen:
            dup.append(x)
        seen.add(x)
    if dup:
        raise DataError(f"duplicate {what} labels {shorten_list(sorted(set(dup)))}; each {what} must appear once.")
    if not labels:
        raise DataError(f"no {what} labels given; a world needs at least one {what}.")
    return labels


@dataclass(frozen=True, eq=False)
class TradeWorld:
    """Bilateral sectoral trade flows with labels.

    Parameters
    ----------
    countries : sequence of str, length n
        ISO3 codes (or region codes such as ``EU27``, ``ROW``).
    sectors : sequence of str, length S
        Sector codes (ICIO codes in the embedded data).
    flows : ndarray of shape (n, n, S)
        ``flows[i, j, s]``: value shipped from ``i`` to ``j`` in sector ``s``, USD millions,
        domestic flows on the diagonal. Must be finite and non-negative.
    name, source : str
        Description and provenance carried into results.
    year : int, optional
        Data year.
    value_added_share : ndarray of shape (n, S), optional
        Caliendo–Parro γ_n^j (share of value added in gross output). ``None`` means 1.
    io_coefficients : ndarray of shape (n, S, S), optional
        Caliendo–Parro γ_n^{k,j}: ``io_coefficients[n, k, j]`` is the cost share of input
        sector ``k`` in sector ``j`` of country ``n``; ``sum_k + value_added_share == 1``.
    tradable : ndarray of bool, shape (S,), optional
        Which sectors can be traded; default: sectors with any off-diagonal flow.
    goods : ndarray of bool, shape (S,), optional
        Which sectors are goods (customs duties apply; tariff rates are averaged over
        these). Default: all sectors.
    """

    countries: tuple[str, ...]
    sectors: tuple[str, ...]
    flows: np.ndarray
    name: str = ""
    source: str = ""
    year: int | None = None
    value_added_share: np.ndarray | None = None
    io_coefficients: np.ndarray | None = None
    tradable: np.ndarray | None = field(default=None)
    goods: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        countries = _check_labels(self.countries, "country")
        sectors = _check_labels(self.sectors, "sector")
        flows = np.array(self.flows, dtype=float, copy=True)
        n, s = len(countries), len(sectors)
        if flows.shape != (n, n, s):
            raise DataError(
                f"flows have shape {flows.shape} but {n} countries and {s} sectors need "
                f"(exporter, importer, sector) = {(n, n, s)}."
            )
        bad = ~np.isfinite(flows)
        if bad.any():
            i, j, k = np.argwhere(bad)[0]
            raise DataError(
                f"flows contain {int(bad.sum())} NaN or infinite value(s), first at "
                f"exporter={countries[i]}, importer={countries[j]}, sector={sectors[k]}; "
                "fill missing flows with 0."
            )
        neg = flows < 0
        if neg.any():
            i, j, k = np.argwhere(neg)[0]
            raise DataError(
                f"flows contain {int(neg.sum())} negative value(s), first {flows[i, j, k]:g} at "
                f"exporter={countries[i]}, importer={countries[j]}, sector={sectors[k]}; "
                "trade flows must be >= 0 (set negative statistical residuals to 0)."
            )
        flows.setflags(write=False)
        object.__setattr__(self, "countries", countries)
        object.__setattr__(self, "sectors", sectors)
        object.__setattr__(self, "flows", flows)
        if self.value_added_share is not None:
            va = np.array(self.value_added_share, dtype=float)
            if va.shape != (n, s) or np.any((va <= 0) | (va > 1)):
                raise DataError(f"value_added_share must have shape {(n, s)} with values in (0, 1].")
            va.setflags(write=False)
            object.__setattr__(self, "value_added_share", va)
        if self.io_coefficients is not None:
            io = np.array(self.io_coefficients, dtype=float)
            if io.shape != (n, s, s) or np.any(io < 0):
                raise DataError(f"io_coefficients must have shape {(n, s, s)} with values >= 0.")
            io.setflags(write=False)
            object.__setattr__(self, "io_coefficients", io)
        if self.tradable is None:
            off = flows.copy()
            off[np.arange(n), np.arange(n), :] = 0.0
            tradable = off.sum(axis=(0, 1)) > 0
        else:
            tradable = np.asarray(self.tradable, dtype=bool)
            if tradable.shape != (s,):
                raise DataError(f"tradable must have shape {(s,)}.")
        tradable = tradable.copy()
        tradable.setflags(write=False)
        object.__setattr__(self, "tradable", tradable)
        goods = np.ones(s, dtype=bool) if self.goods is None else np.array(self.goods, dtype=bool)
        if goods.shape != (s,):
            raise DataError(f"goods must have shape {(s,)}.")
        goods.setflags(write=False)
        object.__setattr__(self, "goods", goods)

    # ----------------------------------------------------------------- lookups
    @property
    def n_countries(self) -> int:
        return len(self.countries)

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)

    def country_index(self, code: str) -> int:
        """Position of a country code; a clear error with suggestions if unknown."""
        try:
            return self.countries.index(code)
        except ValueError:
            raise DataError(
                f"unknown country {code!r}; this world has {shorten_list(self.countries, 12)}. "
                + did_you_mean(code, self.countries)
            ) from None

    def sector_index(self, code: str) -> int:
        """Position of a sector code; a clear error with suggestions if unknown."""
        try:
            return self.sectors.index(code)
        except ValueError:
            raise DataError(
                f"unknown sector {code!r}; this world has {shorten_list(self.sectors, 12)}. "
                + did_you_mean(code, self.sectors)
            ) from None

    # ------------------------------------------------------------- aggregates
    def exports(self) -> np.ndarray:
        """Exports to other countries by exporter and sector, shape (n, S)."""
        return self.flows.sum(axis=1) - np.einsum("iis->is", self.flows)

    def imports(self) -> np.ndarray:
        """Imports from other countries by importer and sector, shape (n, S)."""
        return self.flows.sum(axis=0) - np.einsum("iis->is", self.flows)

    def output(self) -> np.ndarray:
        """Gross output (sales to all destinations incl. home), shape (n, S)."""
        return self.flows.sum(axis=1)

    def absorption(self) -> np.ndarray:
        """Spending on all origins incl. home, shape (n, S)."""
        return self.flows.sum(axis=0)

    # ------------------------------------------------------------------ frames
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        exporter: str = "exporter",
        importer: str = "importer",
        sector: str = "sector",
        value: str = "value",
        countries: Sequence[str] | None = None,
        sectors: Sequence[str] | None = None,
        **kwargs,
    ) -> TradeWorld:
        """Build a world from a tidy frame with one row per (exporter, importer, sector).

        Missing combinations are zero; duplicated rows are an error (aggregate first).
        ``countries`` / ``sectors`` fix the label order (default: sorted union / order of
        appearance).
        """
        missing = [c for c in (exporter, importer, sector, value) if c not in frame.columns]
        if missing:
            raise DataError(
                f"frame lacks column(s) {missing}; it has {list(frame.columns)}. "
                "Name them with exporter=, importer=, sector=, value=."
            )
        dup = frame.duplicated([exporter, importer, sector])
        if dup.any():
            first = frame.loc[dup, [exporter, importer, sector]].iloc[0].tolist()
            raise DataError(
                f"{int(dup.sum())} duplicated (exporter, importer, sector) row(s), first {first}; "
                "sum them first, e.g. frame.groupby([...]).sum()."
            )
        if countries is None:
            countries = sorted(set(frame[exporter]).union(frame[importer]))
        if sectors is None:
            sectors = list(dict.fromkeys(frame[sector]))
        cidx = {c: k for k, c in enumerate(countries)}
        sidx = {c: k for k, c in enumerate(sectors)}
        unknown = sorted((set(frame[exporter]) | set(frame[importer])) - set(cidx))
        if unknown:
            raise DataError(f"countries {shorten_list(unknown)} in the frame are not in `countries`.")
        unknown = sorted(set(frame[sector]) - set(sidx))
        if unknown:
            raise DataError(f"sectors {shorten_list(unknown)} in the frame are not in `sectors`.")
        flows = np.zeros((len(countries), len(countries), len(sectors)))
        i = frame[exporter].map(cidx).to_numpy()
        j = frame[importer].map(cidx).to_numpy()
        s = frame[sector].map(sidx).to_numpy()
        flows[i, j, s] = frame[value].to_numpy(dtype=float)
        return cls(tuple(countries), tuple(sectors), flows, **kwargs)

    def to_frame(self, *, include_zeros: bool = False) -> pd.DataFrame:
        """Tidy frame with columns exporter, importer, sector, value (USD mn)."""
        n, s = self.n_countries, self.n_sectors
        idx = pd.MultiIndex.from_product(
            [self.countries, self.countries, self.sectors], names=["exporter", "importer", "sector"]
        )
        out = pd.DataFrame({"value": self.flows.reshape(n * n * s)}, index=idx).reset_index()
        if not include_zeros:
            out = out[out["value"] != 0].reset_index(drop=True)
        return out

    # ------------------------------------------------------------- aggregation
    def aggregate(
        self,
        regions: Mapping[str, str] | None = None,
        sectors: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
    ) -> TradeWorld:
        """Sum countries into regions and/or sectors into groups.

        Parameters
        ----------
        regions : mapping country -> region, optional
            Must cover every country of this world (map a country to itself to keep it).
            Region order follows first appearance in the mapping's values.
        sectors : mapping sector -> group, optional
            Same rules for sectors.

        Notes
        -----
        Input-output coefficients are not aggregated (the result has none); aggregate the
        underlying IO table instead.
        """
        flows = self.flows
        countries, sector_labels = self.countries, self.sectors
        if regions is not None:
            agg, countries = self._aggregation_matrix(regions, self.countries, "country")
            # flows'[r, q, s] = sum_{i in r} sum_{j in q} flows[i, j, s]
            flows = np.einsum("ri,ijs,qj->rqs", agg, flows, agg, optimize=True)  # two matrix products
        tradable, goods = self.tradable, self.goods
        if sectors is not None:
            agg, sector_labels = self._aggregation_matrix(sectors, self.sectors, "sector")
            flows = np.einsum("ijs,gs->ijg", flows, agg)
            tradable = (agg @ self.tradable.astype(float)) > 0
            goods = (agg @ self.goods.astype(float)) > 0
        has_io = self.value_added_share is not None and regions is None and sectors is None
        return TradeWorld(
            countries,
            sector_labels,
            flows,
            name=name or self.name,
            source=self.source,
            year=self.year,
            value_added_share=self.value_added_share if has_io else None,
            io_coefficients=self.io_coefficients if has_io else None,
            tradable=tradable,
            goods=goods,
        )

    @staticmethod
    def _aggregation_matrix(mapping: Mapping[str, str], labels: tuple[str, ...], what: str):
        missing = [x for x in labels if x not in mapping]
        if missing:
            raise DataError(
                f"the {what} mapping leaves {shorten_list(missing)} unassigned; map every {what} "
                f"(map a {what} to itself to keep it apart)."
            )
        extra = [x for x in mapping if x not in labels]
        if extra:
            hint = did_you_mean(extra[0], labels)
            raise DataError(f"the {what} mapping names unknown {what}(s) {shorten_list(extra)}. {hint}".rstrip())
        groups = list(dict.fromkeys(mapping[x] for x in labels))
        gidx = {g: k for k, g in enumerate(groups)}
        agg = np.zeros((len(groups), len(labels)))
        for k, x in enumerate(labels):
            agg[gidx[mapping[x]], k] = 1.0
        return agg, tuple(groups)

    def __repr__(self) -> str:
        total = self.flows.sum() / 1e6
        return (
            f"TradeWorld({self.name or 'unnamed'}: {self.n_countries} countries x {self.n_sectors} sectors, "
            f"USD {total:,.1f} tn incl. domestic)"
        )
