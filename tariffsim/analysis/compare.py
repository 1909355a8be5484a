"""One table of key outputs: scenarios × models.

Belongs here: running several scenario files through several models (one batch per model)
and mapping each model's outputs onto a few common columns, with footnotes saying where a
model has no such output. Does not belong here: the models themselves
(:mod:`tariffsim.models`), printing (:mod:`tariffsim.cli_timeline`), plotting
(:mod:`tariffsim.plot`).

Common columns (USD bn; rates decimal; percent where the name says so)
----------------------------------------------------------------------
See :data:`COMPARE_COLUMNS`. A column a model does not produce is NaN, never zero, and
``frame.attrs["footnotes"]`` says why. Warnings the models raise (e.g. a shock a model
ignores) are collected, once each, in ``frame.attrs["notes"]`` instead of being re-emitted
for every scenario batch; pass ``warn=True`` to re-emit them as well.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, did_you_mean

__all__ = ["compare", "COMPARE_COLUMNS", "compare_footnotes"]

MODELS = ("accounting", "smart", "gsim", "ge")

#: Common output columns: name -> definition.
COMPARE_COLUMNS: dict[str, str] = {
    "kor_welfare_pct": "Korea's welfare change, percent of real income (GE: welfare_pct)",
    "usa_welfare_pct": "US welfare change, percent of real income (GE: welfare_pct)",
    "kor_welfare_usd_bn": "Korea's welfare change, USD bn (PE: welfare_change = CS + PS + revenue change)",
    "usa_welfare_usd_bn": "US welfare change, USD bn (PE: welfare_change)",
    "kor_exports_to_usa_usd_bn": "Korea's exports to the US after the shock, sum over sectors of flow_new, USD bn",
    "kor_exports_to_usa_pct": "change of Korea's exports to the US, percent",
    "usa_tariff_revenue_usd_bn": "US tariff revenue after the shock (tariff_revenue), USD bn",
    "usa_tariff_revenue_change_usd_bn": "change of US tariff revenue (tariff_revenue_change), USD bn",
    "usa_etr": "US trade-weighted tariff on goods imports (etr) at the flows the model reports, decimal",
    "usa_etr_on_kor": "US trade-weighted tariff on goods from Korea at the model's flows (world sectors), decimal",
    "kor_etr": "Korea's trade-weighted tariff on its goods imports (etr) at the model's flows, decimal (shows retaliation)",
    "usa_etr_on_kor_customs": "statutory US ETR on imports from Korea on the 2024 HS10 customs lines (accounting table us_partners), decimal",
}

_WHY_MISSING: dict[tuple[str, str], str] = {
    ("accounting", "kor_welfare_pct"): "accounting has no welfare measure (no behaviour)",
    ("accounting", "kor_welfare_usd_bn"): "accounting has no welfare measure (no behaviour)",
    ("accounting", "kor_exports_to_usa_usd_bn"): "accounting holds flows at their baseline (pre-substitution); no new flows",
    ("smart", "kor_welfare_pct"): "PE models report welfare in USD (welfare_usd_bn), not as a percent of income",
    ("gsim", "kor_welfare_pct"): "PE models report welfare in USD (welfare_usd_bn), not as a percent of income",
    ("ge", "kor_welfare_usd_bn"): "GE reports welfare as a percent of real income (welfare_pct), not in USD",
    ("smart", "usa_etr_on_kor_customs"): "customs-line ETR is statutory (2024 values): shown on the accounting row",
    ("gsim", "usa_etr_on_kor_customs"): "customs-line ETR is statutory (2024 values): shown on the accounting row",
    ("ge", "usa_etr_on_kor_customs"): "customs-line ETR is statutory (2024 values): shown on the accounting row",
}
_SAME_REASON = {"usa_welfare_pct": "kor_welfare_pct", "usa_welfare_usd_bn": "kor_welfare_usd_bn",
                "kor_exports_to_usa_pct": "kor_exports_to_usa_usd_bn"}


def _check_models(models) -> tuple[str, ...]:
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    models = tuple(models)
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        hint = did_you_mean(bad[0], MODELS) if bad else ""
        raise DataError(
            f"The 'models' parameter of compare must be a list among {MODELS}. Got {list(models)!r} instead. {hint}".rstrip()
        )
    return models


def _goods_mask(sectors: Sequence[str]) -> np.ndarray:
    from ..datasets import goods_sectors

    goods = set(goods_sectors())
    return np.array([s in goods for s in sectors], dtype=float)


def _rows(result, files_for: list[str]) -> list[dict]:
    """Common columns of one model's Result, one dict per scenario."""
    countries = list(result.countries)
    k, u = countries.index("KOR"), countries.index("USA")
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
        row["kor_welfare_pct"] = country("welfare_pct", k)[b]
        row["usa_welfare_pct"] = country("welfare_pct", u)[b]
        row["kor_welfare_usd_bn"] = country("welfare_change", k, 1e-3)[b]
        row["usa_welfare_usd_bn"] = country("welfare_change", u, 1e-3)[b]
        if flow_new is not None and flow_base is not None:
            new, base = flow_new[b].sum(), flow_base[b].sum()
            row["kor_exports_to_usa_usd_bn"] = new / 1e3
            row["kor_exports_to_usa_pct"] = 100.0 * (new / base - 1.0) if base > 0 else np.nan
        else:
            row["kor_exports_to_usa_usd_bn"] = row["kor_exports_to_usa_pct"] = np.nan
        row["usa_tariff_revenue_usd_bn"] = country("tariff_revenue", u, 1e-3)[b]
        row["usa_tariff_revenue_change_usd_bn"] = country("tariff_revenue_change", u, 1e-3)[b]
        row["usa_etr"] = country("etr", u)[b]
        row["kor_etr"] = country("etr", k)[b]
        weights = flow_new if flow_new is not None else flow_base
        if weights is not None and tariff is not None:
            w = weights[b] * goods
            # etr = sum_s t_s M_s / sum_s M_s over goods sectors
            row["usa_etr_on_kor"] = float((tariff[b] * w).sum() / w.sum()) if w.sum() > 0 else np.nan
        else:
            row["usa_etr_on_kor"] = np.nan
        row["usa_etr_on_kor_customs"] = np.nan
        table = result.tables.get("us_partners")
        if table is not None:
            hit = table[(table["scenario"] == name) & (table["partner"] == "KOR")]
            if len(hit):
                row["usa_etr_on_kor_customs"] = float(hit["etr"].iloc[0])
        out.append(row)
    return out


def compare_footnotes(frame: pd.DataFrame) -> list[str]:
    """Why a column is empty for a model: one line per (model, column) that is all NaN."""
    notes = []
    for model, block in frame.groupby("model", sort=False):
        for col in COMPARE_COLUMNS:
            if col in block and block[col].isna().all():
                key = (model, _SAME_REASON.get(col, col))
                why = _WHY_MISSING.get(key, "not produced by this model for these scenarios")
                notes.append(f"{col} [{model}]: empty, {why}.")
    return notes


def compare(files: Sequence[str | Path], models: Sequence[str] | str = MODELS, *, world=None,
            options: Mapping[str, Mapping] | None = None, warn: bool = False) -> pd.DataFrame:
    """Run scenario files through models and tabulate key outputs side by side.

    Each model runs once, on the batch of the files that declare it in their ``models``
    key; a file that does not declare a model gets NaN in that model's row and a footnote.

    Parameters
    ----------
    files : sequence of str or Path
        Scenario files (each evaluated on its own ``effective`` date).
    models : sequence of str or comma-separated str
        Among ``accounting``, ``smart``, ``gsim``, ``ge``.
    world : TradeWorld, optional
        Default: the embedded world the first scenario asks for.
    options : dict, optional
        Per-model keyword options for :func:`tariffsim.simulate.simulate`, e.g.
        ``{"smart": {"method": "exact"}}``.
    warn : bool
        Re-emit the models' warnings (they are always collected in ``attrs["notes"]``).

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, model): ``scenario``, ``model``, ``file``, ``date`` and the
        columns of :data:`COMPARE_COLUMNS`. ``attrs``: ``footnotes`` (why cells are empty),
        ``notes`` (model warnings), ``columns`` (definitions).
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
    options = dict(options or {})
    rows, notes, footnotes = [], [], []
    for model in models:
        chosen = [s for s in scenarios if model in s.models]
        skipped = [s for s in scenarios if model not in s.models]
        for s in skipped:
            rows.append({"scenario": s.name, "model": model, "file": s.file})
            footnotes.append(f"{s.name} [{model}]: empty, the file does not declare model {model!r} (models = {list(s.models)}).")
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
        rows.extend(_rows(result, [s.file for s in chosen]))
    frame = pd.DataFrame(rows)
    for col in COMPARE_COLUMNS:
        if col not in frame:
            frame[col] = np.nan
    dates = {s.name: (s.effective.isoformat() if s.effective else "") for s in scenarios}
    frame.insert(2, "date", frame["scenario"].map(dates))
    order = {s.name: k for k, s in enumerate(scenarios)}
    frame["_o"] = frame["scenario"].map(order)
    frame["_m"] = frame["model"].map({m: k for k, m in enumerate(models)})
    frame = frame.sort_values(["_o", "_m"]).drop(columns=["_o", "_m"]).reset_index(drop=True)
    frame = frame[["scenario", "model", "date", "file", *COMPARE_COLUMNS]]
    frame.attrs["footnotes"] = compare_footnotes(frame[frame["model"].isin(models)]) + footnotes
    frame.attrs["notes"] = notes
    frame.attrs["columns"] = dict(COMPARE_COLUMNS)
    return frame
