"""Summaries of a finished sweep: uncertainty bands and sensitivity rankings.

Belongs here: :func:`quantile_bands` (quantiles of an output by country, model, or by
importer and sector for per-flow rows) and :func:`sensitivity` (which parameter moves an
output most: standardized regression coefficients and Spearman rank correlations over the
sample). Both take a DataFrame or a sweep output directory (then only the needed columns
are read). Failed scenarios (``status != "ok"``) are left out and counted. Plots of both:
:mod:`tariffsim.plot.sweep`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, did_you_mean, shorten_list

__all__ = ["quantile_bands", "sensitivity", "SENSITIVITY_METHODS"]

SENSITIVITY_METHODS = ("src", "spearman")
_DEFAULT_Q = (0.05, 0.25, 0.5, 0.75, 0.95)


def _load(data, output: str, by: Sequence[str], extra: Sequence[str] = (), table: str = "rows",
          filters: dict | None = None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    from .runner import read_sweep

    cols = list(dict.fromkeys([*by, output, "status", "scenario", *extra]))
    if table == "flows":
        cols.remove("status")
    return read_sweep(Path(data), table=table, columns=cols, **(filters or {}))


def _check_columns(frame: pd.DataFrame, names: Sequence[str]) -> None:
    for name in names:
        if name not in frame.columns:
            raise DataError(f"the sweep rows have no column {name!r}. {did_you_mean(name, frame.columns)} "
                            f"Columns: {shorten_list(frame.columns, 12)}.")


def quantile_bands(data, output: str = "welfare_pct", *, by: Sequence[str] = ("model", "country"),
                   quantiles: Sequence[float] = _DEFAULT_Q, table: str = "rows", **filters) -> pd.DataFrame:
    """Quantiles of one output over the sweep's scenarios, by group.

    Parameters
    ----------
    data : DataFrame or path
        Sweep rows (:func:`~tariffsim.sweep.read_sweep`) or the output directory.
    output : str
        Column to summarise, e.g. ``welfare_pct``, ``exports_pct``, or ``flow_pct`` with
        ``table="flows"`` and ``by=("model", "importer", "sector")``.
    by : sequence of str
        Grouping columns.
    quantiles : sequence of float in [0, 1]
    table : {"rows", "flows"}
        Which table to read when ``data`` is a path.
    **filters
        ``models=``, ``countries=`` passed to :func:`~tariffsim.sweep.read_sweep`.

    Returns
    -------
    DataFrame
        One row per group: ``n`` (scenarios used), ``n_failed``, ``mean``, ``std`` and one
        column per quantile named ``q05``, ``q50``, ... .
    """
    by = list(by)
    frame = _load(data, output, by, table=table, filters=filters)
    _check_columns(frame, [*by, output])
    q = [float(x) for x in quantiles]
    if not all(0.0 <= x <= 1.0 for x in q):
        raise DataError(f"quantiles must lie in [0, 1]; got {q}.")
    ok = frame["status"].eq("ok") if "status" in frame else pd.Series(True, index=frame.index)
    values = frame[output].where(ok)
    groups = values.groupby([frame[c] for c in by], sort=False, observed=True)
    res = pd.DataFrame({"n": groups.count(), "n_failed": (~ok).groupby([frame[c] for c in by], sort=False).sum(),
                        "mean": groups.mean(), "std": groups.std()})
    qs = groups.quantile(q).unstack(-1)
    qs.columns = [f"q{round(100 * x):02d}" for x in q]
    return res.join(qs).reset_index()


def sensitivity(data, output: str = "welfare_pct", *, by: Sequence[str] = ("model", "country"),
                parameters: Sequence[str] | None = None, method: str = "src", elasticities: bool = True,
                **filters) -> pd.DataFrame:
    """Rank parameters by how much they move an output, within each group.

    Parameters
    ----------
    data : DataFrame or path
        Sweep rows or the output directory (then the elasticity draws are joined from
        ``elasticities.parquet`` as ``theta.<sector>`` columns when ``elasticities``).
    output : str
        e.g. ``welfare_pct`` or ``exports_pct`` (Korea's exports: ``countries=["KOR"]``).
    by : sequence of str
    parameters : sequence of str, optional
        Default: the varied parameters (columns whose name contains a dot), and the
        sectors' trade elasticities where they vary.
    method : {"src", "spearman"}
        ``"src"``: standardized regression coefficients, the OLS slopes of the
        standardized output on all standardized parameters together (Saltelli et al. 2008,
        *Global Sensitivity Analysis*, §1.2.5); ``r2`` says how much a linear model
        explains (SRCs rank well when it is high). ``"spearman"``: rank correlation of the
        output with each parameter separately (robust to monotone non-linearity).
    elasticities : bool
        Join the elasticity draws (path input only).
    **filters
        ``models=``, ``countries=`` passed to :func:`~tariffsim.sweep.read_sweep`.

    Returns
    -------
    DataFrame
        Columns ``by...``, ``parameter``, ``coefficient``, ``abs`` and ``rank`` (1 = moves
        the output most), and ``r2`` for ``"src"``; sorted by group and rank. Parameters
        that do not vary within a group are left out.
    """
    if method not in SENSITIVITY_METHODS:
        raise DataError(f"The 'method' parameter of sensitivity must be a str among {list(SENSITIVITY_METHODS)}. "
                        f"Got {method!r} instead.")
    by = list(by)
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        from .runner import read_manifest

        manifest = read_manifest(data)
        names = list(parameters) if parameters is not None else list(manifest["parameter_names"])
        drawn = manifest["elasticity_settings"][0][0] != "default"
        extra = names + (["elasticity_source", "elasticity_draw"] if drawn else [])
        frame = _load(data, output, by, extra=[n for n in extra if not n.startswith("theta.")], filters=filters)
        if elasticities and "elasticity_draw" in frame:
            theta = pd.read_parquet(Path(data) / "elasticities.parquet")
            sectors = [c for c in theta.columns if c not in ("elasticity_source", "elasticity_draw")]
            # sectors whose draws are identical (one published estimate) enter as one regressor
            groups: dict[tuple, list[str]] = {}
            for s in sectors:
                groups.setdefault(tuple(theta[s].round(12)), []).append(s)
            keep = {g[0]: "theta." + "+".join(g) for g in groups.values() if theta[g[0]].nunique() > 1}
            theta = theta[["elasticity_source", "elasticity_draw", *keep]].rename(columns=keep)
            frame = frame.merge(theta, on=["elasticity_source", "elasticity_draw"], how="left")
    _check_columns(frame, [*by, output])
    if parameters is None:
        parameters = [c for c in frame.columns if "." in c and pd.api.types.is_numeric_dtype(frame[c])]
    else:
        _check_columns(frame, parameters)
    ok = frame["status"].eq("ok") if "status" in frame else pd.Series(True, index=frame.index)
    frame = frame[ok & frame[output].notna()]
    out = []
    for key, grp in frame.groupby(by, sort=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        x = grp[list(parameters)].to_numpy(float)
        y = grp[output].to_numpy(float)
        live = np.nanstd(x, axis=0) > 0
        names = [p for p, v in zip(parameters, live) if v]
        if not names or np.std(y) == 0:
            continue
        x = x[:, live]
        if method == "src":
            coef, r2 = _src(x, y)
        else:
            coef, r2 = _spearman(x, y), np.nan
        part = pd.DataFrame(
            {**{col: [val] * len(names) for col, val in zip(by, key)}, "parameter": names, "coefficient": coef}
        )
        part["abs"] = part["coefficient"].abs()
        part["rank"] = part["abs"].rank(ascending=False, method="min").astype(int)
        if method == "src":
            part["r2"] = r2
        out.append(part.sort_values("rank", kind="stable"))
    if not out:
        cols = [*by, "parameter", "coefficient", "abs", "rank"] + (["r2"] if method == "src" else [])
        return pd.DataFrame(columns=cols)
    return pd.concat(out, ignore_index=True)


def _src(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Standardized regression coefficients: b_j = beta_j sd(x_j) / sd(y), and R^2."""
    xs = (x - x.mean(axis=0)) / x.std(axis=0)
    ys = (y - y.mean()) / y.std()
    beta, *_ = np.linalg.lstsq(xs, ys, rcond=None)
    resid = ys - xs @ beta
    return beta, float(1.0 - resid @ resid / (ys @ ys))


def _spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of y with each column of x (average ranks for ties)."""
    from scipy.stats import rankdata

    rx = rankdata(x, axis=0)
    ry = rankdata(y)
    rx = (rx - rx.mean(axis=0)) / rx.std(axis=0)
    ry = (ry - ry.mean()) / ry.std()
    return (rx * ry[:, None]).mean(axis=0)
