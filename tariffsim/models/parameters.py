"""Partial-equilibrium (SMART, GSIM) elasticities: the container, its validation, defaults.

Belongs here: :class:`PEParameters` (values per sector; import demand optionally per
importer x sector), its validation with messages that name the sector, the value and the
valid range, per-sector overrides, the nested-CES rule that derives import demand from a
world's import shares, and :func:`pe_defaults` (documented defaults from published
sources). Does not belong here: the published elasticity tables themselves
(``tariffsim.datasets``) and general-equilibrium parameters.

Conventions (MODELS.md §2-3): all elasticities are positive numbers.

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
from .registry import PE_TRADE_ELASTICITY

__all__ = [
    "PEParameters",
    "pe_defaults",
    "import_shares",
    "nested_ces_import_demand",
    "PE_CONVENTIONS",
    "WITS_SUBSTITUTION",
    "WITS_IMPORT_DEMAND",
    "WITS_EXPORT_SUPPLY",
    "FALLBACK_TRADE_ELASTICITY",
]

#: Conventions :func:`pe_defaults` knows.
PE_CONVENTIONS = ("nested_ces", "wits")
#: WITS SMART default elasticity of substitution between import sources (WITS online help,
#: "SMART Input Requirements and Output Results"; Jammes & Olarreaga 2005).
WITS_SUBSTITUTION = 1.5
#: Import-demand elasticity of ``convention="wits"`` when none is supplied. WITS itself uses
#: Kee, Nicita & Olarreaga (2008) HS6 estimates, which are not embedded here; 1.5 is a
#: placeholder of the same order as the WITS help's worked example (1.47 for HS 540110),
#: chosen equal to σ so the exact CES versions have no cross-price effect through the
#: composite. Pass ``import_demand=`` for real values.
WITS_IMPORT_DEMAND = 1.5
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
            f"got {float(arr[pos])!r}{more}. Elasticities are positive numbers (MODELS.md §2)."
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


def pe_defaults(
    sectors: Sequence[str],
    source: str | None = PE_TRADE_ELASTICITY,
    *,
    world=None,
    convention: str = "nested_ces",
    import_demand=None,
    trade_elasticity=None,
) -> PEParameters:
    """Default PE elasticities for these sectors.

    Parameters
    ----------
    sectors : sequence of str, length S
        Sector codes (ICIO codes when ``source`` is given).
    source : str or None
        Published trade elasticities θ_s by name as in
        :func:`tariffsim.datasets.load_elasticities` (``"fgo2022"``, ``"cp2015"``, ...).
        ``None``: θ = 4 for every sector (Simonovska & Waugh 2014).
    world : TradeWorld, optional
        Derive η from this world's import shares now (otherwise the model derives it from
        the world it runs on; the result is the same).
    convention : {"nested_ces", "wits"}
        See Notes.
    import_demand : float or ndarray of shape (S,) or (n_importer, S), optional
        η supplied by the user (replaces the derived value / the WITS placeholder).
    trade_elasticity : ndarray of shape (S,), optional
        θ_s given directly (e.g. a Monte Carlo draw); replaces ``source``.

    Returns
    -------
    PEParameters

    Notes
    -----
    ``convention="nested_ces"`` (default): the structure behind the GE model (Caliendo &
    Parro 2015; MODELS.md §5) read at the sector level, Cobb-Douglas across sectors and CES
    across origins within a sector:

    - substitution between import sources σ_s = 1 + θ_s. The published trade elasticity θ
      is the elasticity of bilateral trade *values* to trade costs, which under CES
      (Armington) demand is σ - 1: the elasticity of substitution across origins is 1 + θ.
    - import demand η_js = σ_s (1 - m_js) + m_js · 1, m_js the import share of importer j's
      absorption in sector s in the world the model runs on (diagonal = domestic sales;
      customs values, baseline tariffs not added). Derivation in
      :func:`nested_ces_import_demand`. η lies between 1 and σ, so η <= σ: import sources
      are substitutes and a tariff on others raises imports from an exempt partner, as GE
      says. Held constant along the demand curve in the exact CES versions (a local
      approximation to the full nest, exact at m = 0).
    - export supply ε_X = 99 (WITS' "infinite"); pass ``np.inf`` via overrides to fix world
      prices exactly.
    - θ_s from Fontagné, Guimbard & Orefice (2022, "Product-level trade elasticities",
      J. Int. Econ., Table 8, mapped to ICIO sectors) by default: identified from tariff
      variation (the shock simulated here) and without extreme sectors (2.9-10.6). The GE
      model defaults to Caliendo & Parro (2015) θ (0.39-64.85; 64.85 for petroleum, which
      would make σ = 66 here and move almost all of a taxed partner's petroleum to the
      others), so PE and GE answers also differ by elasticity source; pass
      ``source="cp2015"`` to compare like with like. SERV is an assumed 5.0 in every
      source (see ``tariffsim.datasets``).

    ``convention="wits"``: the WITS SMART defaults (WITS help, "SMART Input Requirements and
    Output Results"): σ = 1.5, ε_X = 99, η = ``import_demand`` or the placeholder
    :data:`WITS_IMPORT_DEMAND` (WITS uses Kee, Nicita & Olarreaga 2008 HS6 x country
    estimates, not embedded here). ``source`` is not used. If η > σ the exact CES
    versions (SMART ``method="exact"``, GSIM) make import sources gross complements.
    """
    sectors = tuple(str(s) for s in sectors)
    if convention not in PE_CONVENTIONS:
        raise DataError(
            f"The 'convention' parameter of pe_defaults must be a str among {set(PE_CONVENTIONS)}. "
            f"Got {convention!r} instead."
        )
    s = len(sectors)
    eta = None
    if import_demand is not None:  # a number, (S,) or (n_importer, S)
        eta = np.asarray(import_demand, dtype=float)
        eta = np.full(s, float(eta)) if eta.ndim == 0 else eta
    if convention == "wits":
        params = PEParameters(
            import_demand=np.full(s, WITS_IMPORT_DEMAND) if eta is None else eta,
            substitution=np.full(s, WITS_SUBSTITUTION),
            export_supply=np.full(s, WITS_EXPORT_SUPPLY),
            sectors=sectors,
            countries=None if world is None or eta is None or eta.ndim == 1 else world.countries,
            source=(
                f"WITS SMART convention: sigma = {WITS_SUBSTITUTION:g}, export supply = {WITS_EXPORT_SUPPLY:g}, "
                + ("eta given by the user" if eta is not None else f"eta = {WITS_IMPORT_DEMAND:g} (placeholder)")
            ),
        )
        return params if world is None else params.for_world(world)
    if trade_elasticity is not None:
        theta = np.broadcast_to(np.asarray(trade_elasticity, dtype=float), (s,)).copy()
        label = "theta given"
    elif source is None:
        theta = np.full(s, FALLBACK_TRADE_ELASTICITY)
        label = f"theta = {FALLBACK_TRADE_ELASTICITY:g} (Simonovska & Waugh 2014)"
    else:
        from ..datasets import load_elasticities  # lazy: datasets import pandas files

        series = load_elasticities(source)
        missing = [c for c in sectors if c not in series.index]
        if missing:
            raise DataError(
                f"elasticity source {source!r} has no value for sector(s) {shorten_list(missing)}; "
                f"it covers {shorten_list(list(map(str, series.index)), 12)}. "
                "Pass source=None for a constant trade elasticity or build PEParameters(...) yourself."
            )
        theta = np.array([float(series[c]) for c in sectors])
        label = f"theta from {source!r}"
    if not np.all(theta > 0):
        k = int(np.argmin(theta > 0))
        raise DataError(f"The trade elasticity of sector {_label(sectors, k)} must be > 0; got {float(theta[k])!r}.")
    params = PEParameters(
        import_demand=eta,
        substitution=1.0 + theta,
        export_supply=np.full(s, WITS_EXPORT_SUPPLY),
        sectors=sectors,
        countries=None if world is None or eta is None or eta.ndim == 1 else world.countries,
        source=(
            f"nested CES: sigma = 1 + theta, {label}; "
            + (
                "eta given by the user"
                if eta is not None
                else "eta = sigma (1 - m) + m, m = import share of absorption"
            )
            + f"; export supply = {WITS_EXPORT_SUPPLY:g} (WITS)"
        ),
    )
    return params if world is None else params.for_world(world)
