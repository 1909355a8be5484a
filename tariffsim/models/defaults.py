"""Default partial-equilibrium elasticities: :func:`pe_defaults` and the WITS conventions.

Belongs here: the documented defaults from published sources (nested CES from the trade
elasticity θ; the WITS SMART convention). The container and its validation are in
:mod:`tariffsim.models.parameters`; the default θ source is set in the model registry
(:data:`~tariffsim.models.registry.PE_TRADE_ELASTICITY`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DataError, shorten_list
from .parameters import PEParameters, _label
from .registry import PE_TRADE_ELASTICITY

__all__ = ["pe_defaults", "PE_CONVENTIONS", "WITS_SUBSTITUTION", "WITS_IMPORT_DEMAND", "WITS_EXPORT_SUPPLY",
           "FALLBACK_TRADE_ELASTICITY"]

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
    Parro 2015; docs/models.rst, general equilibrium) read at the sector level, Cobb-Douglas across sectors and CES
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
