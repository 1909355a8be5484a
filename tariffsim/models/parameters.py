"""Partial-equilibrium (SMART, GSIM) elasticities: the container, its validation, defaults.

Belongs here: :class:`PEParameters` (values per sector; import demand optionally per
importer x sector), its validation with messages that name the sector, the value and the
valid range, per-sector overrides, the nested-CES rule that derives import demand from a
world's import shares. :func:`pe_defaults` (documented defaults from published sources) is
in :mod:`tariffsim.models.defaults` and importable from here. Does not belong here: the
published elasticity tables themselves (``tariffsim.datasets``) and general-equilibrium
parameters.

Conventions (docs/models.rst, WITS SMART-3): all elasticities are positive numbers.

- ``import_demand`` η: elasticity of the importer's demand for the import composite of a
  sector with respect to its (tariff-inclusive) price. GSIM's ``E_m = -η``. Shape (S,)
  (the same for every importer) or (n_importer, S).
- ``substitution`` σ: elasticity of substitution between import sources (Armington),
  the same for all partners. GSIM's ``E_s = σ``.
- ``export_supply`` ε_X: elasticity of each exporter's supply to export markets with respect
  to its world price. ``inf`` (or WITS' 99) means world prices are given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError, did_you_mean, shorten_list

#: names that live in :mod:`tariffsim.models.defaults`, importable from here too (lazily: it imports this module)
_FROM_DEFAULTS = ("pe_defaults", "PE_CONVENTIONS", "WITS_SUBSTITUTION", "WITS_IMPORT_DEMAND", "WITS_EXPORT_SUPPLY",
                  "FALLBACK_TRADE_ELASTICITY")

__all__ = ["PEParameters", "import_shares", "nested_ces_import_demand", *_FROM_DEFAULTS]


_FIELDS = ("import_demand", "substitution", "export_supply")
_RANGES = {
    "import_demand": "a finite number > 0",
    "substitution": "a finite number > 0",
    "export_supply": "a number > 0 (inf allowed: given world prices)",
}
_DERIVED = "derived from the world: eta_js = sigma_s (1 - m_js) + m_js"


def _label(sectors: tuple[str, ...] | None, k: int) -> str:
    return repr(sectors[k]) if sectors is not None and k < len(sectors) else f"#{k}"


def _validate(name: str, values: Any, n: int | None, sectors: tuple[str, ...] | None,
              countries: tuple[str, ...] | None = None) -> np.ndarray:
    """Check one elasticity array; cheap check first, detailed diagnosis only on failure.

    ``import_demand`` may be (S,) or (n_importer, S); the others are (S,).
    """
    arr = np.array(values, dtype=float, copy=True)
    two_d = name == "import_demand" and arr.ndim == 2
    if not (arr.ndim == 1 or two_d) or (n is not None and arr.shape[-1] != n):
        expected = f"({n},)" if n is not None else "(S,)"
        also = f" or (n_importer, {n if n is not None else 'S'})" if name == "import_demand" else ""
        raise DataError(
            f"The {name!r} elasticity must have shape {expected}{also}, one value per sector; got shape {arr.shape}."
        )
    if two_d and countries is not None and arr.shape[0] != len(countries):
        raise DataError(
            f"The 'import_demand' elasticity has {arr.shape[0]} importer row(s) but {len(countries)} countries "
            f"{shorten_list(countries)} were given."
        )
    allow_inf = name == "export_supply"
    ok = (arr > 0) & (np.isfinite(arr) | (allow_inf & (arr == np.inf)))
    if not ok.all():
        pos = np.unravel_index(int(np.argmin(ok)), arr.shape)
        bad = int((~ok).sum())
        more = f" ({bad - 1} more {'value' if two_d else 'sector'}(s) also invalid)" if bad > 1 else ""
        where = f"sector {_label(sectors, int(pos[-1]))}"
        if two_d:
            who = countries[pos[0]] if countries is not None else f"#{pos[0]}"
            where += f", importer {who}"
        raise DataError(
            f"The {name!r} elasticity of {where} must be {_RANGES[name]}; "
            f"got {float(arr[pos])!r}{more}. Elasticities are positive numbers (docs/models.rst, WITS SMART)."
        )
    arr.setflags(write=False)
    return arr


def import_shares(flows: np.ndarray) -> np.ndarray:
    """Import share of absorption m_js = Σ_{i≠j} M_ijs / Σ_i M_ijs, shape (n_importer, S).

    Parameters
    ----------
    flows : ndarray of shape (n, n, S)
        Exporter x importer x sector, domestic sales on the diagonal (a ``TradeWorld``).
        Values at world (customs) prices; 0 where a market has no absorption.
    """
    flows = np.asarray(flows, dtype=float)
    n = flows.shape[0]
    total = flows.sum(axis=0)  # absorption Σ_i M_ij (n, S)
    imports = total - np.einsum("jjs->js", flows)  # Σ_{i≠j} M_ij
    ok = total > 0
    return np.where(ok, np.clip(imports, 0.0, None) / np.where(ok, total, 1.0), 0.0) if n else total


def nested_ces_import_demand(substitution, import_share) -> np.ndarray:
    """η_js = σ_s (1 - m_js) + m_js: import-composite demand elasticity of the nested CES.

    Derivation: Cobb-Douglas across sectors fixes the spending E_js on sector s; within it,
    CES with elasticity σ_s across all origins (home included). The import composite (a CES
    of the import varieties with the same σ) has price P_M and demand
    Q_M = E P^(σ-1) P_M^(-σ), where the sector price index P moves with the import price
    by d ln P / d ln P_M = m (the import share of absorption). Hence
    -d ln Q_M / d ln P_M = σ - (σ - 1) m = σ (1 - m) + m · 1,
    between 1 (imports are the whole market) and σ (imports are negligible); η <= σ for
    σ >= 1, so import sources are substitutes.

    Parameters
    ----------
    substitution : ndarray of shape (S,)
    import_share : ndarray of shape (n_importer, S), in [0, 1]

    Returns
    -------
    ndarray of shape (n_importer, S)
    """
    sigma = np.asarray(substitution, dtype=float)
    m = np.asarray(import_share, dtype=float)
    return sigma * (1.0 - m) + m


@dataclass(frozen=True, eq=False)
class PEParameters:
    """Elasticities of the partial-equilibrium models.

    Parameters
    ----------
    import_demand : ndarray of shape (S,) or (n_importer, S), or None
        η > 0, elasticity of demand for the import composite (finite). ``None``: derived
        at run time from the import shares of the world the model runs on,
        η_js = σ_s (1 - m_js) + m_js (:func:`nested_ces_import_demand`).
    substitution : ndarray of shape (S,)
        σ > 0, elasticity of substitution between import sources (finite).
    export_supply : ndarray of shape (S,)
        ε_X > 0, export-supply elasticity; ``np.inf`` means given world prices.
    sectors : tuple of str, optional
        Sector codes, used in error messages and by :meth:`with_overrides`.
    source : str
        Where the values come from (carried into result provenance).
    overrides : tuple of (sector, field, value)
        Overrides applied by :meth:`with_overrides`, in order (recorded in provenance).
    import_share : ndarray of shape (n_importer, S), optional
        The m_js that ``import_demand`` was derived from (set by :meth:`for_world`). While it
        is set, η follows σ: overriding a sector's σ re-derives its η (unless η itself was
        overridden for that sector).
    countries : tuple of str, optional
        Importer labels of a (n_importer, S) ``import_demand``.

    Raises
    ------
    DataError
        A value is not positive, not finite (η, σ), or an array has the wrong shape. The
        message names the sector (and importer), the value and the valid range.
    """

    import_demand: np.ndarray | None
    substitution: np.ndarray
    export_supply: np.ndarray
    sectors: tuple[str, ...] | None = None
    source: str = "user"
    overrides: tuple[tuple[str, str, float], ...] = field(default=())
    import_share: np.ndarray | None = None
    countries: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        sectors = None if self.sectors is None else tuple(str(s) for s in self.sectors)
        countries = None if self.countries is None else tuple(str(c) for c in self.countries)
        n = None if sectors is None else len(sectors)
        if n is None:
            first = np.asarray(self.substitution)
            n = first.shape[0] if first.ndim == 1 else None
        for name in _FIELDS:
            value = getattr(self, name)
            if name == "import_demand" and value is None:
                continue
            object.__setattr__(self, name, _validate(name, value, n, sectors, countries))
        if self.import_share is not None:
            share = np.array(self.import_share, dtype=float)
            if share.ndim != 2 or (n is not None and share.shape[1] != n) or not np.all((share >= 0) & (share <= 1)):
                raise DataError("import_share must be an (n_importer, S) array of shares in [0, 1]; "
                                f"got shape {share.shape}.")
            share.setflags(write=False)
            object.__setattr__(self, "import_share", share)
        object.__setattr__(self, "sectors", sectors)
        object.__setattr__(self, "countries", countries)

    @property
    def n_sectors(self) -> int:
        return int(self.substitution.shape[0])

    @property
    def derived(self) -> bool:
        """Whether η is (or will be) derived from import shares by the nested-CES rule."""
        return self.import_demand is None or self.import_share is not None

    def check_sectors(self, sectors: Sequence[str]) -> None:
        """Raise :class:`DataError` unless these parameters fit a world with ``sectors``."""
        sectors = tuple(sectors)
        if self.n_sectors != len(sectors):
            raise DataError(
                f"PE parameters have {self.n_sectors} sector value(s) but the world has {len(sectors)} "
                f"sectors {shorten_list(sectors)}; build them with pe_defaults(world.sectors)."
            )
        if self.sectors is not None and self.sectors != sectors:
            diff = [a for a, b in zip(self.sectors, sectors) if a != b]
            raise DataError(
                f"PE parameters are for sectors {shorten_list(self.sectors)} but the world has "
                f"{shorten_list(sectors)} (first mismatch {diff[0]!r}); build them for the world's sectors."
            )

    def for_world(self, world) -> PEParameters:
        """These parameters checked against ``world``, with η derived from its import shares if unset.

        Parameters
        ----------
        world : TradeWorld
            The world the model runs on (labels and flows with the domestic diagonal).

        Returns
        -------
        PEParameters
            ``self`` if nothing needs deriving; otherwise a copy with ``import_demand`` of
            shape (n_importer, S), ``import_share`` and ``countries`` set, and any recorded
            ``import_demand`` overrides applied on top of the derived values.

        Raises
        ------
        DataError
            Sectors or importers do not match the world.
        """
        cached = self.__dict__.get("_for_world")
        if cached is not None and cached[0] is world:  # the same world object: derived already
            return cached[1]
        self.check_sectors(world.sectors)
        countries = tuple(world.countries)
        if self.import_demand is not None:
            eta = self.import_demand
            if eta.ndim == 2 and eta.shape[0] != len(countries):
                raise DataError(
                    f"PE parameters have import_demand for {eta.shape[0]} importer(s) but the world has "
                    f"{len(countries)} countries {shorten_list(countries)}; "
                    "build them with pe_defaults(..., world=world)."
                )
            if eta.ndim == 2 and self.countries is not None and self.countries != countries:
                raise DataError(
                    f"PE parameters are for importers {shorten_list(self.countries)} but the world has "
                    f"{shorten_list(countries)}; build them for the world's countries."
                )
            return self
        share = import_shares(world.flows)
        out = PEParameters(
            self._derive(share),
            self.substitution,
            self.export_supply,
            sectors=self.sectors,
            source=self.source,
            overrides=self.overrides,
            import_share=share,
            countries=countries,
        )
        object.__setattr__(self, "_for_world", (world, out))  # memo (not a field): worlds are immutable
        return out

    def _derive(self, share: np.ndarray) -> np.ndarray:
        """Nested-CES η from σ and m, then the recorded import_demand overrides (whole sector columns)."""
        eta = nested_ces_import_demand(self.substitution, share)
        for sector, name, value in self.overrides:
            if name == "import_demand":
                eta[:, self.sectors.index(sector)] = value
        return eta

    def with_overrides(self, overrides: Mapping[str, Mapping[str, float]]) -> PEParameters:
        """A copy with some sectors' values replaced.

        Parameters
        ----------
        overrides : mapping sector -> {field: value}
            e.g. ``{"C29": {"substitution": 3.0}}``. Fields: ``import_demand``,
            ``substitution``, ``export_supply``. An ``import_demand`` override sets the
            sector for every importer. Later overrides win; all applied overrides are
            recorded in :attr:`overrides`. Where η is derived from import shares
            (:attr:`derived`), a σ override re-derives that sector's η unless η is
            overridden too.

        Raises
        ------
        DataError
            Unknown sector or field (with did-you-mean), or an invalid value.
        """
        if self.sectors is None:
            raise DataError("with_overrides needs sector codes; build the parameters with sectors=... .")
        arrays = {name: (None if getattr(self, name) is None else np.array(getattr(self, name))) for name in _FIELDS}
        applied = list(self.overrides)
        for sector, values in overrides.items():
            if sector not in self.sectors:
                raise DataError(
                    f"override for unknown sector {sector!r}; sectors are {shorten_list(self.sectors, 12)}. "
                    + did_you_mean(sector, self.sectors)
                )
            k = self.sectors.index(sector)
            for name, value in values.items():
                if name not in _FIELDS:
                    raise DataError(
                        f"override {sector}.{name}: unknown elasticity {name!r}; valid are {list(_FIELDS)}. "
                        + did_you_mean(name, _FIELDS)
                    )
                if arrays[name] is None:  # derived η: check the value now, apply when derived
                    _validate(name, [float(value)], 1, (sector,))
                else:
                    arrays[name][..., k] = float(value)
                applied.append((sector, name, float(value)))
        out = PEParameters(
            **arrays,
            sectors=self.sectors,
            source=self.source,
            overrides=tuple(applied),
            import_share=self.import_share,
            countries=self.countries,
        )
        if self.import_share is not None:  # keep η consistent with the new σ
            object.__setattr__(
                out,
                "import_demand",
                _validate(
                    "import_demand", out._derive(self.import_share), self.n_sectors, self.sectors, self.countries
                ),
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (for result provenance); ``inf`` becomes the string ``"inf"``."""

        def vec(a: np.ndarray | None):
            if a is None:
                return None
            if np.isfinite(a).all():
                return a.tolist()  # fast path (this runs on every model call, for provenance)
            return [vec(row) for row in a] if a.ndim > 1 else [float(x) if np.isfinite(x) else "inf" for x in a]

        return {
            "sectors": None if self.sectors is None else list(self.sectors),
            "countries": None if self.countries is None else list(self.countries),
            "import_demand": _DERIVED + " at run time" if self.import_demand is None else vec(self.import_demand),
            "import_demand_rule": _DERIVED if self.derived else "given",
            "import_share": vec(self.import_share),
            "substitution": vec(self.substitution),
            "export_supply": vec(self.export_supply),
            "source": self.source,
            "overrides": [list(o) for o in self.overrides],
        }



def __getattr__(name: str):
    if name in _FROM_DEFAULTS:
        from . import defaults

        return getattr(defaults, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
