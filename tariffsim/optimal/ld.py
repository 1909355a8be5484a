"""Optimal tariffs, retaliation and tariff wars on any world, in the Liberation Day model.

User-facing wrappers around :mod:`tariffsim.optimal.ld_search`: countries are ISO3 codes,
inputs are compiled :class:`~tariffsim.shocks.Shocks` (one scenario is the starting point: its
new tariffs are the policies the other countries keep), outputs carry the rates (decimal), the
first-order-condition residuals and the model :class:`~tariffsim.results.Result` at the
solution. Options of :func:`tariffsim.models.ld.run_ld` (ε, κ, ν, revenue use, deficits, ...)
pass through ``**ld_options``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, did_you_mean
from ..models.ld import run_ld, setup
from ..results import Result
from . import ld_search as K

__all__ = ["PolicyOutcome", "optimal_tariff", "optimal_retaliation", "reciprocal_retaliation", "tariff_war",
           "with_bilateral_rates"]


@dataclass(frozen=True)
class PolicyOutcome:
    """Rates chosen (decimal, by setter), FOC residuals (|dW/dt| in % per unit of tariff, or
    |t − formula|), iterations, and the equilibrium :class:`Result` at those rates."""

    rates: dict[str, float]
    residual: dict[str, float]
    iterations: int
    method: str
    result: Result


def _index(shocks, code: str) -> int:
    countries = shocks.world.countries
    if code not in countries:
        raise DataError(f"country {code!r} is not in world {shocks.world.name!r}{did_you_mean(code, countries)}")
    return countries.index(code)


def _one(shocks, scenario):
    k = shocks.scenarios.index(scenario) if isinstance(scenario, str) else int(scenario)

    def take(a):
        return None if a is None else a[k:k + 1]

    return dataclasses.replace(shocks, scenarios=shocks.scenarios[k:k + 1], tariff_base=take(shocks.tariff_base),
                               tariff_new=take(shocks.tariff_new), ntb=take(shocks.ntb),
                               productivity=take(shocks.productivity), deficit_change=take(shocks.deficit_change),
                               demand_shift=take(shocks.demand_shift), currency=take(shocks.currency))


def with_bilateral_rates(shocks, rates: dict[tuple[str, str | None], float], name: str | None = None):
    """Copy of a one-scenario ``shocks`` with importer → exporter rates replaced in every sector.

    ``rates[(importer, exporter)] = t``; exporter None means every other country.
    """
    t = np.array(shocks.tariff_new, float)
    for (imp, exp), rate in rates.items():
        i = _index(shocks, imp)
        js = [j for j in range(len(shocks.world.countries)) if j != i] if exp is None else [_index(shocks, exp)]
        t[:, js, i, :] = rate
    label = name or shocks.scenarios[0]
    return dataclasses.replace(shocks, scenarios=(label,), tariff_new=t)


def _engine(st, one, ld_options):
    """(welfare evaluator, starting tariffs without batch axis) for the one- or multi-sector model."""
    if st.multi is None:
        return None, st.tariff_new[0]
    psi = 0.67 / st.eps_sector if ld_options.get("scale_elasticity") is None else st.params.psi
    return K.MultiSectorWelfare(st.multi, st.params, st.eps_sector, psi), np.asarray(one.tariff_new[0], float)


def _finish(shocks, rates, residual, iters, method, ld_options, name) -> PolicyOutcome:
    res = run_ld(with_bilateral_rates(shocks, rates, name), **ld_options)
    return PolicyOutcome({f"{a}<-{b or 'all'}": float(v) for (a, b), v in rates.items()},
                         {f"{a}<-{b or 'all'}": float(r) for ((a, b), r) in zip(rates, residual)}, iters, method, res)


def optimal_tariff(shocks, country, against: str | None = None, *, scenario=0, method: str = "numerical",
                   t0: float = 0.2, tol: float = 1e-7, **ld_options) -> PolicyOutcome:
    """The uniform tariff that maximises ``country``'s welfare, others' tariffs as in the scenario.

    Parameters
    ----------
    shocks : Shocks
        The starting point (scenario ``scenario``): the new tariffs of everyone else.
    country : str or list of str
        ISO3 of the tariff setter, or a group setting one common rate to maximise its
        expenditure-weighted welfare.
    against : str, optional
        Tariff only on imports from this country (default: on all imports).
    method : {"numerical", "formula"}
        "numerical": maximise welfare (Newton on central differences). "formula": IMLS
        Proposition 2, t* = 1/((1+εδ)φ − 1), evaluated at the baseline (one setter, all imports).
    """
    one = _one(shocks, scenario)
    st = setup(one, **ld_options)
    setters = [country] if isinstance(country, str) else list(country)
    idx = [_index(one, c) for c in setters]
    partners = None if against is None else [_index(one, against)]
    evaluate, start = _engine(st, one, ld_options)
    if method == "formula":
        if len(idx) != 1 or against is not None or evaluate is not None:
            raise DataError("method='formula' is Proposition 2 for one country's tariff on all imports in the "
                            "one-sector model; use method='numerical' for a group, a bilateral tariff or "
                            "sectors='multi'.")
        rate = K.optimal_tariff_formula(st.base, st.params, idx[0], "gdp")
        return _finish(one, {(setters[0], None): rate}, [0.0], 0, "IMLS Proposition 2 (baseline, GDP)",
                       ld_options, f"optimal tariff of {setters[0]}")
    if method != "numerical":
        raise DataError(f"The 'method' parameter must be a str among {{'numerical', 'formula'}}. "
                        f"Got {method!r} instead.")
    opt = K.optimal_tariff_numerical(st.base, st.params, idx if len(idx) > 1 else idx[0], start,
                                     partners, t0=t0, tol=tol, evaluate=evaluate)
    rates = {(c, against): float(opt.rates[0]) for c in setters}
    return _finish(one, rates, list(opt.residual) * len(setters), opt.iterations, "numerical welfare maximum",
                   ld_options, f"optimal tariff of {'+'.join(setters)}" + (f" on {against}" if against else ""))


def optimal_retaliation(shocks, by, against: str, **kwargs) -> PolicyOutcome:
    """``by`` (a country or a group) sets the welfare-maximising tariff on imports from ``against``."""
    return optimal_tariff(shocks, by, against, **kwargs)


def reciprocal_retaliation(shocks, against: str, by=None, *, scenario=0, **ld_options) -> PolicyOutcome:
    """Each country in ``by`` (default: all) taxes imports from ``against`` at the rate ``against`` sets on it.

    Rates are the one-sector (trade-weighted) bilateral rates of the scenario.
    """
    one = _one(shocks, scenario)
    st = setup(one, **ld_options)
    a = _index(one, against)
    if by is None:
        codes = [c for c in one.world.countries if c != against]
    else:
        codes = [by] if isinstance(by, str) else list(by)
    rates = {(c, against): float(st.tariff_new[0, _index(one, c), a]) for c in codes}
    return _finish(one, rates, [0.0] * len(rates), 0, "reciprocal", ld_options,
                   f"reciprocal retaliation against {against}")


def tariff_war(shocks, players, *, bilateral: bool = False, scenario=0, method: str = "numerical",
               tol: float = 1e-7, max_iter: int = 100, **ld_options) -> PolicyOutcome:
    """Nash equilibrium of a tariff war among ``players`` (ISO3 codes).

    Each player sets one uniform tariff (on all imports, or with ``bilateral`` on imports from
    the other players only — for two players, a bilateral war) to maximise its own welfare given
    the others'; non-players keep the scenario's tariffs. One first-order condition per player:
    ``method="numerical"`` (dW_i/dt_i = 0) or ``"formula"`` (Proposition 2 at the war equilibrium,
    uniform tariffs only). Raises :class:`~tariffsim.errors.ConvergenceError` if the FOCs are not met.
    """
    one = _one(shocks, scenario)
    st = setup(one, **ld_options)
    idx = [_index(one, p) for p in players]
    partners = None
    if bilateral:
        partners = [[j for j in idx if j != i] for i in idx]
    evaluate, start = _engine(st, one, ld_options)
    if evaluate is not None and method == "formula":
        raise DataError("method='formula' is the one-sector first-order condition; use method='numerical' "
                        "with sectors='multi'.")
    out = K.nash(st.base, st.params, idx, start, method=method, tol=tol, max_iter=max_iter,
                 partners=partners, denominator="gdp", evaluate=evaluate)
    rates = {}
    for k, p in enumerate(players):
        if bilateral:
            for q in players:
                if q != p:
                    rates[(p, q)] = float(out.rates[k])
        else:
            rates[(p, None)] = float(out.rates[k])
    resid = [float(out.residual[k]) for k, p in enumerate(players) for _ in range(len(players) - 1 if bilateral else 1)]
    return _finish(one, rates, resid, out.iterations, f"Nash ({method})", ld_options,
                   f"tariff war {'-'.join(players)}")
