"""One table of key outputs: scenarios × models, for two focus countries.

Belongs here: running several scenario files through several models (one batch per model)
and mapping each model's outputs onto a few common columns about a ``partner`` and a
``home`` country (default Korea and the US: ``focus=("KOR", "USA")``), with footnotes
saying where a model has no such output. Does not belong here: the models themselves
(:mod:`tariffsim.models`), printing (:mod:`tariffsim.cli`), plotting (:mod:`tariffsim.plot`).

Common columns (USD bn; rates decimal; percent where the name says so)
----------------------------------------------------------------------
See :func:`compare_columns` (:data:`COMPARE_COLUMNS` for the default focus). A column a
model does not produce is NaN, never zero, and ``frame.attrs["footnotes"]`` says why.
Warnings the models raise (e.g. a shock a model ignores) are collected, once each, in
``frame.attrs["notes"]`` instead of being re-emitted for every scenario batch; pass
``warn=True`` to re-emit them as well.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, did_you_mean, shorten_list
from ..models.registry import MODELS, get_model, model_names

__all__ = ["compare", "compare_columns", "COMPARE_COLUMNS", "compare_footnotes", "DEFAULT_FOCUS"]

#: (partner, home): the partner's exports to the home country face the home country's tariffs.
DEFAULT_FOCUS = ("KOR", "USA")
_NAMES = {"KOR": "Korea", "USA": "the US"}


def _name(code: str) -> str:
    return _NAMES.get(code, code)


def compare_columns(focus: Sequence[str] = DEFAULT_FOCUS) -> dict[str, str]:
    """Common output columns for ``focus = (partner, home)``: name -> definition.

    Names are the lower-case country codes followed by the measure, e.g.
    ``kor_welfare_pct`` and ``usa_etr_on_kor`` for the default ``("KOR", "USA")``.
    """
    p, h = (c.lower() for c in focus)
    pn, hn = (_name(c) for c in focus)
    return {
        f"{p}_welfare_pct": f"welfare change of {pn}, percent of real income (GE: welfare_pct)",
        f"{h}_welfare_pct": f"welfare change of {hn}, percent of real income (GE: welfare_pct)",
        f"{p}_welfare_usd_bn": f"welfare change of {pn}, USD bn (PE: welfare_change = CS + PS + revenue change)",
        f"{h}_welfare_usd_bn": f"welfare change of {hn}, USD bn (PE: welfare_change)",
        f"{p}_exports_to_{h}_usd_bn": f"exports of {pn} to {hn} after the shock, sum over sectors of flow_new, USD bn",
        f"{p}_exports_to_{h}_pct": f"change of the exports of {pn} to {hn}, percent",
        f"{h}_tariff_revenue_usd_bn": f"tariff revenue of {hn} after the shock (tariff_revenue), USD bn",
        f"{h}_tariff_revenue_change_usd_bn": f"change of the tariff revenue of {hn} (tariff_revenue_change), USD bn",
        f"{h}_etr": f"trade-weighted tariff of {hn} on its goods imports (etr) at the flows the model reports, decimal",
        f"{h}_etr_on_{p}": f"trade-weighted tariff of {hn} on goods from {pn} at the model's flows (world sectors), "
                           "decimal",
        f"{p}_etr": f"trade-weighted tariff of {pn} on its goods imports (etr) at the model's flows, decimal "
        "(shows retaliation)",
        f"{h}_etr_on_{p}_customs": f"statutory US ETR on imports from {pn} on the 2024 HS10 customs lines "
        "(accounting table us_partners), decimal",
    }


#: Common output columns for the default focus (Korea, US): name -> definition.
COMPARE_COLUMNS: dict[str, str] = compare_columns(DEFAULT_FOCUS)

#: the measure part of each column (the same order as :func:`compare_columns`)
_KINDS = (
    "partner_welfare_pct",
    "home_welfare_pct",
    "partner_welfare_usd",
    "home_welfare_usd",
    "exports_usd",
    "exports_pct",
    "revenue",
    "revenue_change",
    "home_etr",
    "etr_on_partner",
    "partner_etr",
    "customs",
)


def _why_missing(result, focus: Sequence[str]) -> dict[tuple[str, str], str]:
    """Why a column is empty for this model, read from what its Result holds."""
    model, welfare = result.model, get_model(result.model).welfare
    cols = dict(zip(_KINDS, compare_columns(focus)))
    out = {}
    for side in ("partner", "home"):
        if welfare is None:
            out[cols[f"{side}_welfare_pct"]] = out[cols[f"{side}_welfare_usd"]] = (
                f"{model} has no welfare measure (no behaviour)"
            )
        elif welfare != "welfare_pct":
            out[cols[f"{side}_welfare_pct"]] = (
                f"{model} reports welfare in USD ({cols[f'{side}_welfare_usd']}), not as a percent of income"
            )
        if welfare == "welfare_pct":
            out[cols[f"{side}_welfare_usd"]] = (
                f"{model} reports welfare as a percent of real income (welfare_pct), not in USD"
            )
    if "flow_new" not in result.flow:
        out[cols["exports_usd"]] = out[cols["exports_pct"]] = (
            f"{model} holds flows at their baseline (pre-substitution); no new flows"
        )
    if focus[1] != "USA":
        out[cols["customs"]] = "the embedded customs lines are US imports only"
    elif "us_partners" not in result.tables:
        rows = [m for m in model_names() if get_model(m).schedules]
        out[cols["customs"]] = f"customs-line ETR is statutory (2024 values): shown on the {'/'.join(rows)} row"
    return {(model, col): why for col, why in out.items()}


def _check_models(models) -> tuple[str, ...]:
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    models = tuple(models)
    names = model_names()
    bad = [m for m in models if m not in names]
    if bad or not models:
        hint = did_you_mean(bad[0], names) if bad else ""
        raise DataError(
            f"The 'models' parameter of compare must be a list among {names}. "
            f"Got {list(models)!r} instead. {hint}".rstrip()
        )
    return models


def _check_focus(focus: Sequence[str], countries: Sequence[str]) -> tuple[str, str]:
    if isinstance(focus, str) or len(focus) != 2:
        raise DataError(
            f"The 'focus' parameter of compare must be two country codes (partner, home), e.g. "
            f"('KOR', 'USA'); got {focus!r}."
        )
    for code in focus:
        if code not in countries:
            hint = did_you_mean(str(code), countries)
            raise DataError(
                f"compare: focus country {code!r} is not in the world; its countries are "
                f"{shorten_list(countries, 12)}. {hint + ' ' if hint else ''}Pass focus=(partner, home) with two of "
                f"them, or a world that keeps {code} apart (load_world(keep=[{code!r}]) or [world] keep = "
                f"[{code!r}] in the scenario)."
            )
    return tuple(focus)


def _goods_mask(sectors: Sequence[str]) -> np.ndarray:
    from ..datasets import goods_sectors

    goods = set(goods_sectors())
    return np.array([s in goods for s in sectors], dtype=float)


def _rows(result, files_for: list[str], focus: Sequence[str]) -> list[dict]:
    """Common columns of one model's Result, one dict per scenario."""
    countries = list(result.countries)
    k, u = countries.index(focus[0]), countries.index(focus[1])
    cols = dict(zip(_KINDS, compare_columns(focus)))
    goods = _goods_mask(result.sectors)
    c, f = result.country, result.flow

    def country(name, idx, scale=1.0):
        return c[name][:, idx] * scale if name in c else np.full(len(result.scenarios), np.nan)

    flow_base = f["flow_base"][:, k, u, :] if "flow_base" in f else None
    flow_new = f["flow_new"][:, k, u, :] if "flow_new" in f else None
    tariff = f["tariff_new"][:, k, u, :] if "tariff_new" in f else None
    out = []
    for b, name in enumerate(result.scenarios):
        row = {"scenario": name, "model": result.model, "file": files_for[b]}
        row[cols["partner_welfare_pct"]] = country("welfare_pct", k)[b]
        row[cols["home_welfare_pct"]] = country("welfare_pct", u)[b]
        row[cols["partner_welfare_usd"]] = country("welfare_change", k, 1e-3)[b]
        row[cols["home_welfare_usd"]] = country("welfare_change", u, 1e-3)[b]
        if flow_new is not None and flow_base is not None:
            new, base = flow_new[b].sum(), flow_base[b].sum()
            row[cols["exports_usd"]] = new / 1e3
            row[cols["exports_pct"]] = 100.0 * (new / base - 1.0) if base > 0 else np.nan
        else:
            row[cols["exports_usd"]] = row[cols["exports_pct"]] = np.nan
        row[cols["revenue"]] = country("tariff_revenue", u, 1e-3)[b]
        row[cols["revenue_change"]] = country("tariff_revenue_change", u, 1e-3)[b]
        row[cols["home_etr"]] = country("etr", u)[b]
        row[cols["partner_etr"]] = country("etr", k)[b]
        weights = flow_new if flow_new is not None else flow_base
        if weights is not None and tariff is not None:
            w = weights[b] * goods
            # etr = sum_s t_s M_s / sum_s M_s over goods sectors
            row[cols["etr_on_partner"]] = float((tariff[b] * w).sum() / w.sum()) if w.sum() > 0 else np.nan
        else:
            row[cols["etr_on_partner"]] = np.nan
        row[cols["customs"]] = np.nan
        table = result.tables.get("us_partners")
        if table is not None and focus[1] == "USA":
            hit = table[(table["scenario"] == name) & (table["partner"] == focus[0])]
            if len(hit):
                row[cols["customs"]] = float(hit["etr"].iloc[0])
        out.append(row)
    return out


def compare_footnotes(frame: pd.DataFrame, reasons: Mapping[tuple[str, str], str] | None = None) -> list[str]:
    """Why a column is empty for a model: one line per (model, column) that is all NaN.

    ``reasons`` maps (model, column) to an explanation; default ``frame.attrs["why_missing"]``
    (set by :func:`compare` from what each model's Result holds).
    """
    reasons = frame.attrs.get("why_missing", {}) if reasons is None else reasons
    columns = frame.attrs.get("columns") or COMPARE_COLUMNS
    notes = []
    for model, block in frame.groupby("model", sort=False):
        for col in columns:
            if col in block and block[col].isna().all():
                why = reasons.get((model, col), "not produced by this model for these scenarios")
                notes.append(f"{col} [{model}]: empty, {why}.")
    return notes


def compare(
    files: Sequence[str | Path],
    models: Sequence[str] | str = MODELS,
    *,
    world=None,
    options: Mapping[str, Mapping] | None = None,
    warn: bool = False,
    focus: Sequence[str] = DEFAULT_FOCUS,
) -> pd.DataFrame:
    """Run scenario files through models and tabulate key outputs side by side.

    Each model runs once, on the batch of the files that declare it in their ``models``
    key; a file that does not declare a model gets NaN in that model's row and a footnote.

    Parameters
    ----------
    files : sequence of str or Path
        Scenario files (each evaluated on its own ``effective`` date).
    models : sequence of str or comma-separated str
        Registered models (:data:`tariffsim.MODELS`); default all of them.
    world : TradeWorld, optional
        Default: the embedded world the first scenario asks for.
    options : dict, optional
        Per-model keyword options for :func:`tariffsim.simulate.simulate`, e.g.
        ``{"smart": {"method": "exact"}}``.
    warn : bool
        Re-emit the models' warnings (they are always collected in ``attrs["notes"]``).
    focus : (str, str)
        ``(partner, home)`` country codes of the world: the columns describe the partner's
        exports to the home country and the home country's tariffs (default Korea, US).

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, model): ``scenario``, ``model``, ``file``, ``date`` and the
        columns of :func:`compare_columns` for ``focus``. ``attrs``: ``footnotes`` (why
        cells are empty), ``notes`` (model warnings), ``columns`` (definitions),
        ``focus``, ``why_missing``.

    Raises
    ------
    DataError
        Unknown model, or a focus country that is not in the world (the message lists the
        world's countries).
    """
    from ..datasets import load_world
    from ..scenario import load_scenario
    from ..simulate import simulate

    models = _check_models(models)
    if not files:
        raise DataError("compare needs at least one scenario file.")
    scenarios = [load_scenario(f) for f in files]
    if world is None:
        spec = scenarios[0].world
        world = load_world(spec.regions, keep=spec.keep)
    focus = _check_focus(focus, world.countries)
    columns = compare_columns(focus)
    options = dict(options or {})
    rows, notes, footnotes, why = [], [], [], {}
    for model in models:
        chosen = [s for s in scenarios if model in s.models]
        skipped = [s for s in scenarios if model not in s.models]
        for s in skipped:
            rows.append({"scenario": s.name, "model": model, "file": s.file})
            footnotes.append(
                f"{s.name} [{model}]: empty, the file does not declare model {model!r} (models = {list(s.models)})."
            )
        if not chosen:
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = simulate(world, chosen, model, **dict(options.get(model, {})))
        for w in caught:
            text = f"{model}: {w.message}" if not str(w.message).startswith(model) else str(w.message)
            if text not in notes:
                notes.append(text)
            if warn:
                warnings.warn(str(w.message), w.category, stacklevel=2)
        rows.extend(_rows(result, [s.file for s in chosen], focus))
        why.update(_why_missing(result, focus))
    frame = pd.DataFrame(rows)
    for col in columns:
        if col not in frame:
            frame[col] = np.nan
    dates = {s.name: (s.effective.isoformat() if s.effective else "") for s in scenarios}
    frame.insert(2, "date", frame["scenario"].map(dates))
    order = {s.name: k for k, s in enumerate(scenarios)}
    frame["_o"] = frame["scenario"].map(order)
    frame["_m"] = frame["model"].map({m: k for k, m in enumerate(models)})
    frame = frame.sort_values(["_o", "_m"]).drop(columns=["_o", "_m"]).reset_index(drop=True)
    frame = frame[["scenario", "model", "date", "file", *columns]]
    frame.attrs["columns"] = dict(columns)
    frame.attrs["footnotes"] = compare_footnotes(frame[frame["model"].isin(models)], why) + footnotes
    frame.attrs["notes"] = notes
    frame.attrs["focus"] = list(focus)
    frame.attrs["why_missing"] = why
    return frame
