"""Input checks for the partial-equilibrium models (``run_smart``, ``run_gsim``).

Belongs here: turning bad numbers that reach the PE kernels (a world without imports,
non-finite or non-positive elasticities, tariff rates that are NaN or <= -1, non-finite
purchase commitments or currency shocks) into a :class:`~tariffsim.errors.DataError` that
names the argument, the offending entry with its labels, and a fix. Each check is cheap
first (a min / max / isfinite reduction over the array); the entry is located only when
the check fails (as scikit-learn's ``_assert_all_finite``), so valid input pays a few
passes at most.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..kernels._util import offdiagonal

__all__ = ["check_inputs"]


def check_inputs(shocks, params, model: str, changed: np.ndarray) -> None:
    """Raise DataError for input the PE kernels cannot compute (see the module docstring).

    Parameters
    ----------
    shocks : Shocks
    params : PEParameters
        Already resolved for ``shocks.world`` (η of shape (n, S) or (S,)).
    model : str
        The model name, for the messages (``run_<model>``).
    changed : ndarray of bool (n_importer, S)
        Cells where ``tariff_new`` differs from ``tariff_base`` somewhere (``tariff_new`` is
        checked on the changed importer columns only; elsewhere it equals ``tariff_base``).
    """
    world = shocks.world
    _check_flows(world, model)
    for name, values, allow_inf in (("import_demand", params.import_demand, False),
                                    ("substitution", params.substitution, False),
                                    ("export_supply", params.export_supply, True)):
        _check_elasticity(name, np.asarray(values, dtype=float), allow_inf, world, model)
    _check_rates(shocks, changed)
    if shocks.uses("demand_shift"):
        _check_finite(shocks, "demand_shift", shocks.demand_shift, "purchase commitments in USD mn")
    if shocks.uses("currency"):
        c = shocks.currency
        _check_finite(shocks, "currency", c, "appreciation x pass-through, decimal")
        if c.min() <= -1.0:
            b, i = np.argwhere(c <= -1.0)[0]
            raise DataError(
                f"currency of scenario {shocks.scenarios[b]!r} is {float(c[b, i])!r} for {world.countries[i]}; "
                "appreciation x pass-through must be > -1 (a currency cannot lose all its value): check the "
                "currency measure's appreciation and pass_through."
            )


def _check_flows(world, model: str) -> None:
    if offdiagonal(world.flows).max(initial=0.0) > 0:  # (n, n, S): one small pass
        return
    raise DataError(
        f"run_{model}: the world {world.name or '(unnamed)'!r} has no import flows (every exporter != importer "
        "entry of world.flows is 0), so the partial-equilibrium model has no market to simulate and every "
        "percent change would be NaN; use a world with trade, e.g. tariffsim.datasets.load_world()."
    )


def _check_elasticity(name: str, values: np.ndarray, allow_inf: bool, world, model: str) -> None:
    if values.size == 0:
        return
    top = values.max()
    if values.min() > 0 and (np.isfinite(top) or (allow_inf and top == np.inf)):  # NaN fails min() > 0
        return
    ok = (values > 0) & (np.isfinite(values) | (allow_inf & (values == np.inf)))
    where = np.argwhere(~ok)[0]
    sector = world.sectors[where[-1]] if values.shape[-1] == world.n_sectors else str(where[-1])
    label = f"sector={sector}" if values.ndim == 1 else f"importer={world.countries[where[0]]}, sector={sector}"
    bound = "> 0 (inf allowed)" if allow_inf else "finite and > 0"
    raise DataError(
        f"params.{name} of run_{model} is {float(values[tuple(where)])!r} for {label}; elasticities must be "
        f"{bound}. Fix the value in PEParameters (or the scenario's elasticity overrides), or use "
        "pe_defaults(world.sectors, world=world)."
    )


def _check_rates(shocks, changed: np.ndarray) -> None:
    world = shocks.world
    cols = np.flatnonzero(changed.any(axis=1))
    base = shocks.tariff_base
    if base.ndim and base.strides[0] == 0:  # one baseline broadcast over the batch: check it once
        base = base[:1]
    for name, rates in (("tariff_base", base), ("tariff_new", shocks.tariff_new[:, :, cols, :])):
        if rates.size == 0 or (rates.min() > -1.0 and np.isfinite(rates.max())):  # cheap check first
            continue
        bad = ~np.isfinite(rates) | (rates <= -1.0)
        if bad.any():
            b, i, jj, s = np.argwhere(bad)[0]
            j = jj if name == "tariff_base" else cols[jj]  # index into the world's countries
            raise DataError(
                f"{name} of scenario {shocks.scenarios[b]!r} is {float(rates[b, i, jj, s])!r} for exporter="
                f"{world.countries[i]}, importer={world.countries[j]}, sector={world.sectors[s]}; "
                "rates must be finite and > -1 (decimal fractions, 0.25 = 25%)."
            )


def _check_finite(shocks, name: str, values: np.ndarray, what: str) -> None:
    if np.isfinite(values.min()) and np.isfinite(values.max()):  # cheap: NaN propagates into min / max
        return
    where = tuple(np.argwhere(~np.isfinite(values))[0])
    world = shocks.world
    labels = [f"scenario {shocks.scenarios[where[0]]!r}"]
    if len(where) == 2:
        labels.append(world.countries[where[1]])
    else:
        labels.append(f"exporter={world.countries[where[1]]}, importer={world.countries[where[2]]}, "
                      f"sector={world.sectors[where[3]]}")
    raise DataError(
        f"shocks.{name} ({what}) is {float(values[where])!r} for {', '.join(labels)}; it must be finite. "
        "Check the measure's amount (inf and NaN are not amounts)."
    )
