"""The model registry: the one place where models are named.

Every model is one :class:`ModelEntry`: its name, the run function (imported on first use,
so ``import tariffsim`` stays light), a one-line description, its options with defaults and
validation, and how trade elasticities enter it. :func:`tariffsim.simulate`, the sweep
evaluator, the CLI (``--model`` choices) and the scenario schema (``models = [...]``) all
read this table; nothing else lists model names.

Elasticity defaults are resolved here, once (:func:`default_source`,
:func:`elasticity_options`): a model whose ``elasticities`` is ``"theta"`` takes the trade
elasticity θ_s directly (``trade_elasticity=``, shape (S,) or (B, S)); ``"pe"`` takes
:class:`~tariffsim.models.parameters.PEParameters` built from θ by the nested-CES rule
(``params=``); ``None`` takes none.

Adding a model
--------------
1. Write the kernel (pure numpy, ``tariffsim/kernels/``) and the adapter
   ``run_<name>(shocks, ..., **options) -> Result`` in ``tariffsim/models/<name>.py``.
2. Append one ``ModelEntry`` to ``_ENTRIES`` below, e.g.::

       ModelEntry(
           "prices", "tariffsim.models.prices:run_prices",
           "consumer prices: tariff pass-through to the CPI by sector",
           options=(Option("pass_through", 1.0, "share of the tariff passed to buyers",
                           check=lambda v: 0 <= v <= 1, expect="a number in [0, 1]"),),
       )

   Option defaults must equal the run function's keyword defaults (a test checks it).
   Set ``elasticities="theta"`` if the function takes ``trade_elasticity=`` (θ by sector,
   (S,) or (B, S)), ``"pe"`` if it takes ``params=`` (PEParameters); ``solver=True`` if it
   takes ``raise_on_failure=``; ``schedules=True`` if it takes ``schedules=``; ``welfare``
   names its welfare column. (Fields: :class:`~tariffsim.models.entry.ModelEntry`.)
   That is all: ``simulate(world, scenario, "prices")``, ``tariffsim run --model prices``,
   scenario files' ``models = ["prices"]``, sweeps' ``models`` and ``compare`` accept it.

Tests (or plugins) can add an entry at run time with :func:`register` and take it out with
:func:`unregister`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DataError, did_you_mean
from .entry import FLOWS, PARAMS, RAISE_ON_FAILURE, ModelEntry, Option, flag, max_iter_option, positive, tol_option
from .prices_entry import PRICES_ENTRY

__all__ = [
    "ModelEntry",
    "Option",
    "MODELS",
    "get_model",
    "model_names",
    "register",
    "unregister",
    "check_options",
    "sweep_options",
    "run_model",
    "default_source",
    "trade_elasticity_for",
    "elasticity_options",
    "PE_TRADE_ELASTICITY",
    "GE_TRADE_ELASTICITY",
]

#: Default trade-elasticity source of the partial-equilibrium models (Fontagné, Guimbard &
#: Orefice 2022: identified from tariff variation, no extreme sectors).
PE_TRADE_ELASTICITY = "fgo2022"
#: Default trade-elasticity source of the general-equilibrium model (Caliendo & Parro 2015).
GE_TRADE_ELASTICITY = "cp2015"


_ENTRIES: list[ModelEntry] = [
    ModelEntry(
        "accounting", "tariffsim.models.accounting:run_accounting",
        "statutory tariff rates and duties at baseline flows (no behaviour)",
        schedules=True,
    ),
    ModelEntry(
        "smart", "tariffsim.models.pe:run_smart",
        "SMART partial equilibrium: one importer's market at a time (WITS linear formulas or exact CES)",
        options=(PARAMS,
                 Option("method", "exact", "exact CES (default: large tariff changes) or the linear WITS formulas",
                        choices=("linear", "exact")),
                 FLOWS),
        elasticities="pe", welfare="welfare_change",
    ),
    ModelEntry(
        "gsim", "tariffsim.models.pe:run_gsim",
        "GSIM partial equilibrium: all markets at once, exporter supply prices clear (Francois & Hall)",
        options=(PARAMS,
                 Option("method", "exact", "nonlinear levels by Newton, or the linear proportional-change system",
                        choices=("exact", "linear")),
                 tol_option(1e-12), max_iter_option(50), FLOWS, RAISE_ON_FAILURE),
        elasticities="pe", solver=True, welfare="welfare_change",
    ),
    ModelEntry(
        "ge", "tariffsim.models.ge:run_ge",
        "Caliendo-Parro general equilibrium: wages, prices, input-output links, tariff revenue",
        options=(Option("trade_elasticity", None, "θ by sector: scalar, (S,), (B, S), Series or a source name",
                        sweep=False),
                 Option("deficits", "fixed", "deficits held fixed, or purged to a balanced baseline first",
                        choices=("fixed", "purge")),
                 Option("currency", "neutral", "what a currency shock does", choices=("neutral", "wedge")),
                 tol_option(1e-10), max_iter_option(500), RAISE_ON_FAILURE,
                 Option("accelerate", None, "compiled (numba, extra tariffsim[fast]) solver for worlds without IO "
                        "links: None = when installed and TARIFFSIM_NO_NUMBA is unset, True = require it, "
                        "False = pure numpy (same answers to solver precision)",
                        check=lambda v: v is None or isinstance(v, bool), expect="None, True or False")),
        elasticities="theta", solver=True, welfare="welfare_pct",
    ),
    ModelEntry(
        "ld", "tariffsim.models.ld:run_ld",
        "Liberation Day model (Ignatenko-Macedoni-Lashkaripour-Simonovska 2025): labour supply, fixed costs, "
        "tariff revenue cutting the income tax",
        options=(Option("trade_elasticity", 4.0, "epsilon: a number, a source name ('cp2015', 'uniform4', ...) or "
                        "sector values (import-weighted in one sector)", sweep=False),
                 Option("labour_elasticity", 0.5, "kappa, labour-supply elasticity",
                        check=lambda v: positive(v) or v == 0, expect="a number >= 0"),
                 Option("scale_elasticity", None, "psi, scale elasticity (default 0.67/epsilon)"),
                 Option("fixed_cost_share", "paper", "nu by country: 'paper' (US 0.2705, others 0.1143), a number or "
                        "a dict ISO3 -> share"),
                 Option("passthrough", 1.0, "pass-through of tariffs to firm-level prices (Table 9: 0.25)",
                        check=positive, expect="a number > 0"),
                 Option("variant", "ld", "the paper's model or Eaton-Kortum-Krugman (nu = 0)", choices=("ld", "ekk")),
                 Option("revenue", "income_tax", "tariff revenue cuts the income tax or is rebated lump sum",
                        choices=("income_tax", "lump_sum")),
                 Option("deficits", "world_gdp", "deficits a fixed share of world GDP, fixed in levels, zero in the "
                        "counterfactual (balanced), or purged from the baseline first",
                        choices=("world_gdp", "fixed", "balanced", "purge")),
                 Option("tariff_inclusive_flows", False, "the world's flows include baseline duties", check=flag,
                        expect="True or False"),
                 Option("sectors", "aggregate", "one sector (flows summed) or the multi-sector model",
                        choices=("aggregate", "multi")),
                 tol_option(1e-11), max_iter_option(5000), RAISE_ON_FAILURE),
        solver=True, welfare="welfare_pct",
    ),
    PRICES_ENTRY,  # its options are long: models/prices_entry.py
]

#: name -> entry (the registry)
_REGISTRY: dict[str, ModelEntry] = {e.name: e for e in _ENTRIES}


def model_names() -> tuple[str, ...]:
    """Names of the registered models, in registration order."""
    return tuple(_REGISTRY)


#: Names of the models registered at import (``tariffsim.MODELS``).
MODELS: tuple[str, ...] = model_names()


def get_model(name: str) -> ModelEntry:
    """The registry entry of model ``name``.

    Raises
    ------
    DataError
        Unknown name: the message lists the valid ones and a did-you-mean.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        names = model_names()
        hint = did_you_mean(str(name), names) if isinstance(name, str) else ""
        raise DataError(f"unknown model {name!r}; choose one of {', '.join(names)}. {hint}".rstrip()) from None


def register(entry: ModelEntry, *, replace: bool = False) -> None:
    """Add a model to the registry (at run time; the built-in ones are in ``_ENTRIES``)."""
    if entry.name in _REGISTRY and not replace:
        raise DataError(f"model {entry.name!r} is already registered; pass replace=True to replace it.")
    if entry.elasticities not in (None, "theta", "pe"):
        raise DataError(f"The 'elasticities' field of model {entry.name!r} must be one of "
                        f"{{None, 'theta', 'pe'}}; got {entry.elasticities!r}.")
    _REGISTRY[entry.name] = entry


def unregister(name: str) -> None:
    """Remove a model added with :func:`register`."""
    get_model(name)
    del _REGISTRY[name]


def _fmt_set(values: Sequence) -> str:
    return "{" + ",".join(repr(v) for v in values) + "}"


def check_options(name: str, options: Mapping[str, Any], *, allow: Sequence[str] = ()) -> dict[str, Any]:
    """Validate keyword options of model ``name``; returns them as a dict.

    Parameters
    ----------
    name : str
    options : mapping
    allow : sequence of str
        Extra names accepted without a check (e.g. ``trade_elasticity`` for any model
        with elasticities, which :func:`elasticity_options` turns into the model's form).

    Raises
    ------
    DataError
        Unknown option (valid ones listed, did-you-mean) or invalid value, e.g.
        ``The 'method' option of model 'smart' must be one of {'linear','exact'}; got 'foo'.``
    """
    entry = get_model(name)
    known = {o.name: o for o in entry.options}
    for key, value in options.items():
        if key in allow:
            continue
        opt = known.get(key)
        if opt is None:
            valid = ", ".join(list(known) + list(allow)) or "none"
            raise DataError(f"{key!r} is not an option of model {name!r}; its options are: {valid}. "
                            f"{did_you_mean(key, list(known) + list(allow))}".rstrip())
        if opt.choices is not None and value not in opt.choices:
            hint = did_you_mean(value, [str(c) for c in opt.choices]) if isinstance(value, str) else ""
            raise DataError(f"The {key!r} option of model {name!r} must be one of {_fmt_set(opt.choices)}; "
                            f"got {value!r}. {hint}".rstrip())
        if opt.check is not None and not opt.check(value):
            raise DataError(f"The {key!r} option of model {name!r} must be {opt.expect}; got {value!r}.")
    return dict(options)


def sweep_options(name: str) -> tuple[str, ...]:
    """Options of model ``name`` a sweep file may set under ``[options.<name>]``."""
    return tuple(o.name for o in get_model(name).options if o.sweep)


def run_model(name: str, shocks, schedules=None, **options):
    """Run model ``name`` on ``shocks`` (options already resolved; see :func:`tariffsim.simulate`)."""
    entry = get_model(name)
    if entry.schedules:
        options = {"schedules": schedules, **options}
    return entry.function()(shocks, **options)


# ------------------------------------------------------------------ elasticities (resolved here only)
def default_source(name: str) -> str | None:
    """The trade-elasticity source model ``name`` uses when none is given (None: no elasticities)."""
    kind = get_model(name).elasticities
    return None if kind is None else PE_TRADE_ELASTICITY if kind == "pe" else GE_TRADE_ELASTICITY


def trade_elasticity_for(name: str, sectors: Sequence[str], value=None):
    """θ by sector for model ``name``: the one resolution of a ``trade_elasticity`` setting.

    Parameters
    ----------
    name : str
        A model with elasticities.
    sectors : sequence of str, length S
        The world's sector codes.
    value : None, str, mapping, Series or array-like
        ``None``: the model's default source; a str: a source name
        (:func:`tariffsim.datasets.elasticity_sources`); a mapping ``{sector: θ}``:
        overrides on the model's default source; anything else (array, Series) is
        returned unchanged for the model to check.

    Returns
    -------
    ndarray of shape (S,), or ``value`` unchanged
    """
    if value is not None and not isinstance(value, (str, Mapping)):
        return value
    from ..datasets import elasticity_sources, load_elasticities
    from ..errors import shorten_list

    source = value if isinstance(value, str) else default_source(name)
    if source not in elasticity_sources():
        raise DataError(f"unknown trade elasticity source {source!r}; choose one of "
                        f"{', '.join(elasticity_sources())}. {did_you_mean(source, elasticity_sources())}".rstrip())
    series = load_elasticities(source).copy()
    for sector, theta in (value.items() if isinstance(value, Mapping) else ()):
        if sector not in series.index:
            raise DataError(f"trade_elasticity override for unknown sector {sector!r}; sectors are "
                            f"{shorten_list(list(series.index), 12)}. "
                            f"{did_you_mean(sector, list(series.index))}".rstrip())
        series[sector] = theta
    missing = [s for s in sectors if s not in series.index]
    if missing:
        raise DataError(
            f"elasticity source {source!r} has no value for sector(s) {shorten_list(missing)}; "
            "pass an array of shape (S,) instead."
        )
    return series.reindex(list(sectors)).to_numpy(dtype=float)


def elasticity_options(
    name: str,
    sectors: Sequence[str],
    trade_elasticity=None,
    pe_overrides: Mapping[str, Mapping[str, float]] | None = None,
    *,
    explicit: bool = False,
) -> dict[str, Any]:
    """Model options that carry the elasticities of model ``name``.

    Parameters
    ----------
    name : str
    sectors : sequence of str
    trade_elasticity : see :func:`trade_elasticity_for`
    pe_overrides : mapping sector -> {field: value}, optional
        Per-sector PE overrides (``import_demand``, ``substitution``, ``export_supply``).
    explicit : bool
        Return the defaults even when nothing is set (sweeps need the PE parameters);
        otherwise an empty dict means "the model's own default".

    Returns
    -------
    dict
        ``{}``, ``{"trade_elasticity": θ}`` (``"theta"`` models) or ``{"params":
        PEParameters}`` (``"pe"`` models).
    """
    kind = get_model(name).elasticities
    if kind is None or (trade_elasticity is None and not pe_overrides and not explicit):
        return {}
    if kind == "theta":
        return (
            {}
            if trade_elasticity is None
            else {"trade_elasticity": trade_elasticity_for(name, sectors, trade_elasticity)}
        )
    from .defaults import pe_defaults

    if trade_elasticity is None:
        params = pe_defaults(sectors, default_source(name))
    else:
        params = pe_defaults(sectors, trade_elasticity=trade_elasticity_for(name, sectors, trade_elasticity))
    return {"params": params.with_overrides(pe_overrides) if pe_overrides else params}
