"""Partial-equilibrium (SMART, GSIM) elasticities: the container, its validation, defaults.

Belongs here: :class:`PEParameters` (one value per sector), its validation with messages
that name the sector, the value and the valid range, per-sector overrides, and
:func:`pe_defaults` (documented defaults from published sources). Does not belong here:
the published elasticity tables themselves (``tariffsim.datasets``) and general-equilibrium
parameters.

Conventions (MODELS.md §2-3): all elasticities are positive numbers.

- ``import_demand`` η: elasticity of the importer's demand for the import composite of a
  sector with respect to its (tariff-inclusive) price. GSIM's ``E_m = -η``.
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

from .errors import DataError, did_you_mean, shorten_list

__all__ = [
    "PEParameters",
    "pe_defaults",
    "WITS_SUBSTITUTION",
    "WITS_EXPORT_SUPPLY",
    "FALLBACK_TRADE_ELASTICITY",
]

#: WITS SMART default elasticity of substitution between import sources (WITS online help,
#: "SMART Input Requirements and Output Results"; Jammes & Olarreaga 2005).
WITS_SUBSTITUTION = 1.5
#: WITS SMART default export-supply elasticity: 99 stands for "infinite" (given world prices).
WITS_EXPORT_SUPPLY = 99.0
#: Trade elasticity used when no sector-level source is requested: "roughly four",
#: Simonovska & Waugh (2014, Journal of International Economics 92, 34-50).
FALLBACK_TRADE_ELASTICITY = 4.0

_FIELDS = ("import_demand", "substitution", "export_supply")
_RANGES = {
    "import_demand": "a finite number > 0",
    "substitution": "a finite number > 0",
    "export_supply": "a number > 0 (inf allowed: given world prices)",
}


def _label(sectors: tuple[str, ...] | None, k: int) -> str:
    return repr(sectors[k]) if sectors is not None and k < len(sectors) else f"#{k}"


def _validate(name: str, values: Any, n: int | None, sectors: tuple[str, ...] | None) -> np.ndarray:
    """Check one elasticity vector; cheap check first, detailed diagnosis only on failure."""
    arr = np.array(values, dtype=float, copy=True)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        expected = f"({n},)" if n is not None else "(S,)"
        raise DataError(
            f"The {name!r} elasticity must have shape {expected}, one value per sector; got shape {arr.shape}."
        )
    allow_inf = name == "export_supply"
    ok = (arr > 0) & (np.isfinite(arr) | (allow_inf & (arr == np.inf)))
    if not ok.all():
        k = int(np.argmin(ok))
        bad = int((~ok).sum())
        more = f" ({bad - 1} more sector(s) also invalid)" if bad > 1 else ""
        raise DataError(
            f"The {name!r} elasticity of sector {_label(sectors, k)} must be {_RANGES[name]}; "
            f"got {float(arr[k])!r}{more}. Elasticities are positive numbers (MODELS.md §2)."
        )
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class PEParameters:
    """Elasticities of the partial-equilibrium models, one value per sector.

    Parameters
    ----------
    import_demand : ndarray of shape (S,)
        η > 0, elasticity of demand for the import composite (finite).
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

    Raises
    ------
    DataError
        A value is not positive, not finite (η, σ), or a vector has the wrong shape. The
        message names the sector, the value and the valid range.
    """

    import_demand: np.ndarray
    substitution: np.ndarray
    export_supply: np.ndarray
    sectors: tuple[str, ...] | None = None
    source: str = "user"
    overrides: tuple[tuple[str, str, float], ...] = field(default=())

    def __post_init__(self) -> None:
        sectors = None if self.sectors is None else tuple(str(s) for s in self.sectors)
        n = None if sectors is None else len(sectors)
        first = np.asarray(self.import_demand)
        if n is None and first.ndim == 1:
            n = first.shape[0]
        for name in _FIELDS:
            object.__setattr__(self, name, _validate(name, getattr(self, name), n, sectors))
        object.__setattr__(self, "sectors", sectors)

    @property
    def n_sectors(self) -> int:
        return int(self.import_demand.shape[0])

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

    def with_overrides(self, overrides: Mapping[str, Mapping[str, float]]) -> "PEParameters":
        """A copy with some sectors' values replaced.

        Parameters
        ----------
        overrides : mapping sector -> {field: value}
            e.g. ``{"C29": {"substitution": 3.0}}``. Fields: ``import_demand``,
            ``substitution``, ``export_supply``. Later overrides win; all applied overrides
            are recorded in :attr:`overrides`.

        Raises
        ------
        DataError
            Unknown sector or field (with did-you-mean), or an invalid value.
        """
        if self.sectors is None:
            raise DataError("with_overrides needs sector codes; build the parameters with sectors=... .")
        arrays = {name: np.array(getattr(self, name)) for name in _FIELDS}
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
                arrays[name][k] = float(value)
                applied.append((sector, name, float(value)))
        return PEParameters(**arrays, sectors=self.sectors, source=self.source, overrides=tuple(applied))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (for result provenance); ``inf`` becomes the string ``"inf"``."""

        def vec(a: np.ndarray) -> list:
            return [float(x) if np.isfinite(x) else "inf" for x in a]

        return {
            "sectors": None if self.sectors is None else list(self.sectors),
            "import_demand": vec(self.import_demand),
            "substitution": vec(self.substitution),
            "export_supply": vec(self.export_supply),
            "source": self.source,
            "overrides": [list(o) for o in self.overrides],
        }


def pe_defaults(sectors: Sequence[str], source: str | None = "fgo2022") -> PEParameters:
    """Default PE elasticities for these sectors.

    Parameters
    ----------
    sectors : sequence of str, length S
        Sector codes (ICIO codes when ``source`` is given).
    source : str or None
        Published trade elasticities θ_s to derive the import-demand elasticity from,
        by name as in :func:`tariffsim.datasets.load_elasticities` (``"cp2015"``,
        ``"fgo2022"``, ...). ``None``: the same θ = 4 for every sector.

    Returns
    -------
    PEParameters

    Notes
    -----
    - substitution σ = 1.5 and export supply ε_X = 99: the WITS SMART defaults (WITS help,
      "SMART Input Requirements and Output Results"); 99 is WITS' stand-in for infinite,
      kept so that numbers compare with WITS. Pass ``np.inf`` to fix world prices exactly.
    - import demand η_s = 1 + θ_s. Reason: with Armington substitution 1 + θ between home
      and imported goods and a fixed budget for the sector (the Caliendo-Parro 2015 GE
      model, Cobb-Douglas across sectors), the elasticity of import quantity to the import
      price is 1 + θ(1 - m), m the import share; 1 + θ is its small-import-share limit.
      This keeps PE and GE answers comparable for the same elasticity source. The
      sector-level import-demand elasticities WITS uses (Kee, Nicita & Olarreaga 2008) are
      HS6 x country estimates that are not embedded here. θ_s comes from Fontagné, Guimbard
      & Orefice (2022, "Product-level trade elasticities", J. Int. Econ., Table 8,
      mapped to ICIO sectors) by default: they are identified from tariff variation (the
      shock simulated here) and have no extreme sectors (2.9-10.6), whereas Caliendo &
      Parro (2015) give θ = 64.85 for petroleum (η ≈ 66, which wipes out those imports at
      any tariff). SERV is an assumed 5.0 in every source (see ``tariffsim.datasets``).
      ``source="cp2015"`` matches the CP GE model; ``source=None`` uses θ = 4
      for every sector (Simonovska & Waugh 2014).
    - With η > σ (the default for most sectors) the exact CES versions (SMART
      ``method="exact"``, GSIM) make import sources gross complements: a tariff on one
      partner lowers the composite demand more than it shifts demand to the others.
      WITS' linear formulas never do this. Override σ to study substitution-led diversion.
    """
    sectors = tuple(str(s) for s in sectors)
    if source is None:
        theta = np.full(len(sectors), FALLBACK_TRADE_ELASTICITY)
        label = f"eta = 1 + theta, theta = {FALLBACK_TRADE_ELASTICITY:g} (Simonovska & Waugh 2014)"
    else:
        from .datasets import load_elasticities  # lazy: datasets import pandas files

        series = load_elasticities(source)
        missing = [s for s in sectors if s not in series.index]
        if missing:
            raise DataError(
                f"elasticity source {source!r} has no value for sector(s) {shorten_list(missing)}; "
                f"it covers {shorten_list(list(map(str, series.index)), 12)}. "
                "Pass source=None for a constant trade elasticity or build PEParameters(...) yourself."
            )
        theta = np.array([float(series[s]) for s in sectors])
        label = f"eta = 1 + theta, theta from {source!r}"
    s = len(sectors)
    return PEParameters(
        import_demand=1.0 + theta,
        substitution=np.full(s, WITS_SUBSTITUTION),
        export_supply=np.full(s, WITS_EXPORT_SUPPLY),
        sectors=sectors,
        source=f"{label}; sigma = {WITS_SUBSTITUTION:g}, export supply = {WITS_EXPORT_SUPPLY:g} (WITS SMART defaults)",
    )
