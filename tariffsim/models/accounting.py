"""The accounting model: statutory tariff rates and duties at baseline flows.

Two views, both at fixed (pre-substitution) flows:

* world view, on the model world's flows (ICIO, basic prices): per importer
  ``etr = sum_i,s t'_ijs M_ijs / sum_i,s M_ijs`` and duties ``sum t' M``;
* customs view, on the 2024 US import lines (Census customs value): per partner duties,
  statutory ETR, and an exposure table (how much of each partner's exports to the US each
  measure's duty applies to, in USD and percent).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._lazy import pandas as pd
from ..kernels.accounting import importer_etr, offdiagonal
from ..results import ColumnTable, Result
from ..shocks import Shocks

__all__ = ["authority_columns", "authority_frame", "customs_tables", "run_accounting"]

#: Columns of ``result.tables["us_by_authority"]`` (after the label column, ``scenario`` or ``date``).
AUTHORITY_COLUMNS = ("partner", "authority", "imports_usd_mn", "duties_usd_mn", "etr")

_NON_TARIFF = {"ntb": "non-tariff barrier (ntb)", "productivity": "productivity", "deficit_change": "deficit transfer",
               "demand_shift": "purchase commitment", "currency": "currency"}


def _behavioural() -> str:
    """The registered models with behaviour (elasticities), quoted, for messages."""
    from .registry import get_model, model_names

    names = [repr(m) for m in model_names() if get_model(m).elasticities]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def run_accounting(shocks: Shocks, schedules=None) -> Result:
    """Duties and trade-weighted rates at baseline flows.

    Parameters
    ----------
    shocks : Shocks
        A batch of B compiled scenarios.
    schedules : sequence of CompiledSchedule, optional
        One per scenario (in batch order, or one for all); adds the customs tables
        ``us_partners`` and ``exposure`` built on the US import lines.
    """
    world = shocks.world
    notes = list(shocks.warnings)
    for name, label in _NON_TARIFF.items():
        if shocks.uses(name):
            msg = (f"accounting: the {label} shock is ignored (the accounting model holds flows fixed and counts "
                   f"duties only); use model {_behavioural()} for it.")
            notes.append(msg)
            warnings.warn(msg, UserWarning, stacklevel=2)
    m = offdiagonal(world.flows)[None]  # (1, n, n, S) imports at customs value
    etr_new = importer_etr(shocks.tariff_new, m, world.goods)
    etr_base = importer_etr(shocks.tariff_base, m, world.goods)
    imports = m.sum(axis=(-3, -1))
    revenue_new = (shocks.tariff_new * m).sum(axis=(-3, -1))
    revenue_base = (shocks.tariff_base * m).sum(axis=(-3, -1))
    b = shocks.batch_size
    exports = np.broadcast_to(m.sum(axis=(-2, -1)), (b, world.n_countries))
    country = {
        "imports": np.broadcast_to(imports, (b, world.n_countries)).copy(),
        "exports": exports.copy(),
        "etr_base": etr_base,
        "etr": etr_new,
        "tariff_revenue": revenue_new,
        "tariff_revenue_change": revenue_new - revenue_base,
    }
    flow_base = np.broadcast_to(m, shocks.tariff_new.shape)
    flow = {
        "flow_base": flow_base.copy(),
        "tariff_base": shocks.tariff_base,
        "tariff_new": shocks.tariff_new,
    }
    tables = {}
    if schedules is not None:
        tables = customs_tables(shocks, schedules)
    return Result(
        "accounting", shocks.scenarios, world.countries, world.sectors, country, flow,
        provenance={"world": world.name, "source": world.source, "flows": "baseline (pre-substitution)",
                    "warnings": notes},
        tables=tables,
    )


def _stack(blocks: list[dict]) -> dict[str, np.ndarray]:
    """Concatenate blocks of equal columns (the numpy counterpart of ``pd.concat(ignore_index=True)``)."""
    return {c: np.concatenate([np.asarray(b[c]) for b in blocks]) for c in blocks[0]}


def _partner_block(name: str, acc: dict) -> dict[str, np.ndarray]:
    """Rows ``WORLD`` then each partner of one scenario's customs table."""
    value, base, new = acc["value"], acc["duty_base"], acc["duty_new"][0]
    p = len(value)
    imports = np.concatenate([[value.sum() / 1e9], value / 1e9])
    duties_base = np.concatenate([[base.sum() / 1e9], base / 1e9])
    duties = np.concatenate([[new.sum() / 1e9], new / 1e9])
    with np.errstate(invalid="ignore", divide="ignore"):
        # WORLD: ratio of the USD bn totals; partners: ratio of the USD values
        etr_base = np.concatenate([duties_base[:1] / imports[:1], base / value])
        etr = np.concatenate([duties[:1] / imports[:1], new / value])
    return {
        "scenario": np.full(p + 1, name, dtype=object), "importer": np.full(p + 1, "USA", dtype=object),
        "partner": np.concatenate([["WORLD"], np.asarray(acc["partner"], dtype=object)]),
        "imports_usd_bn": imports, "duties_base_usd_bn": duties_base, "duties_usd_bn": duties,
        "etr_base": etr_base, "etr": etr, "etr_change": etr - etr_base,
    }


def customs_tables(shocks: Shocks, schedules) -> dict[str, ColumnTable]:
    """Customs-value tables on the US import lines, one block per scenario.

    Returned as :class:`~tariffsim.results.ColumnTable` (DataFrames once read from
    ``result.tables``): ``us_partners``, ``us_by_authority``, ``exposure``.
    """
    schedules = list(schedules)
    if len(schedules) == 1 and shocks.batch_size > 1:
        schedules = schedules * shocks.batch_size
    partners, exposure, authority = [], [], []
    k = 0
    for sched in schedules:
        acc = sched.line_accounting()
        name = shocks.scenarios[k]
        k += 1
        if len(acc["partner"]) == 0:
            continue
        value = acc["value"]
        partners.append(_partner_block(name, acc))
        authority.append(authority_columns(acc, [name]))
        codes = np.asarray(acc["partner"], dtype=object)
        for mid, covered in acc["applied"].items():
            with np.errstate(invalid="ignore", divide="ignore"):
                exposure.append({
                    "scenario": np.full(len(codes), name, dtype=object),
                    "measure": np.full(len(codes), mid, dtype=object), "partner": codes,
                    "covered_usd_bn": covered[0] / 1e9,
                    "covered_share": covered[0] / value,
                })
    out = {}
    if partners:
        out["us_partners"] = ColumnTable(_stack(partners))
    if authority:
        out["us_by_authority"] = ColumnTable(_stack(authority))
    if exposure:
        exp = _stack(exposure)
        keep = exp["covered_usd_bn"] > 0
        out["exposure"] = ColumnTable({c: v[keep] for c, v in exp.items()})
    return out


def authority_frame(acc: dict, labels, *, label: str = "scenario", partners=None) -> pd.DataFrame:
    """Duties and ETR by legal authority, per partner and for all partners (``WORLD``), tidy.

    Parameters
    ----------
    acc : dict
        :meth:`CompiledSchedule.line_accounting` output for a batch of B parameter vectors.
    labels : sequence of length B
        Scenario names or dates, one per batch entry (column ``label``).
    partners : sequence of str, optional
        ISO3 partners to keep besides ``WORLD`` (default: all).

    Returns
    -------
    DataFrame with columns ``label``, partner, authority, imports_usd_mn, duties_usd_mn, etr
        ``etr = duties / imports`` of that authority alone (customs value, 2024 weights);
        over the authorities of one partner the duties add up to its total duty. The base
        (MFN and preferential rates) is authority ``mfn``.
    """
    return pd.DataFrame(authority_columns(acc, labels, label=label, partners=partners))


def authority_columns(acc: dict, labels, *, label: str = "scenario", partners=None) -> dict[str, np.ndarray]:
    """The columns of :func:`authority_frame` as numpy arrays (no pandas)."""
    codes = np.asarray(acc["partner"]).astype(str)
    value = np.asarray(acc["value"], dtype=float)
    split = acc["by_authority"]  # (B, A, partners) USD
    keep = np.ones(len(codes), dtype=bool) if partners is None else np.isin(codes, list(partners))
    names = np.array(["WORLD"] + list(codes[keep]), dtype=object)
    blocks = []
    for k, lab in enumerate(labels):
        duty = np.concatenate([split[k].sum(axis=1, keepdims=True), split[k][:, keep]], axis=1)  # (A, 1 + P)
        imports = np.concatenate([[value.sum()], value[keep]])
        with np.errstate(invalid="ignore", divide="ignore"):
            etr = duty / imports[None, :]
        a, p = duty.shape
        column = np.empty(a * p, dtype=object)
        column[:] = [lab] * (a * p)
        blocks.append({
            label: column,
            "partner": np.tile(names, a),
            "authority": np.repeat(np.array(list(acc["authorities"]), dtype=object), p),
            "imports_usd_mn": np.tile(imports / 1e6, a),
            "duties_usd_mn": duty.reshape(-1) / 1e6,
            "etr": etr.reshape(-1),
        })
    return _stack(blocks)
