"""Result and SolverInfo: what every model returns, and the standard column names.

Belongs here: the shared Result type, the one definition of each standard column (with
its formula), and conversion to tidy pandas frames and JSON. Models fill the columns they
compute; a column a model does not compute is absent, never silently zero.
"""

from __future__ import annotations

from collections.abc import ItemsView, ValuesView
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._lazy import pandas as pd

__all__ = ["Result", "SolverInfo", "Tables", "ColumnTable", "COUNTRY_COLUMNS", "FLOW_COLUMNS", "PRICES_TABLE_COLUMNS"]

#: Per-country columns: name -> definition (units). One place, used by every model.
COUNTRY_COLUMNS: dict[str, str] = {
    "welfare_pct": "welfare change, percent; > 0 is a gain. GE: exact change in real income, 100*(W'/W - 1). "
                   "PE (smart, gsim): 100*welfare_change / GDP, GDP = the country's baseline value added "
                   "sum_s gamma_s Y_s (world.value_added_share; gross output Y where the world has none, "
                   "as in GE's income)",
    "welfare_tot_pct": "terms-of-trade part of the first-order welfare change (Caliendo-Parro 2015 eq. 16), percent",
    "welfare_vot_pct": "volume-of-trade part of the first-order welfare change (Caliendo-Parro 2015 eq. 16), percent",
    "welfare_first_order_pct": "welfare_tot_pct + welfare_vot_pct (what CP 2015 Table 2 reports), percent",
    "real_wage_pct": "100*(w_hat/P_hat - 1)",
    "price_index_pct": "100*(P_hat - 1), consumer price index of the country",
    "exports_pct": "100*(X'/X - 1), exports to other countries at producer prices",
    "imports_pct": "100*(M'/M - 1), imports from other countries at customs (pre-tariff) value",
    "exports": "exports to other countries after the shock, USD mn",
    "imports": "imports from other countries after the shock, USD mn (customs value)",
    "tariff_revenue": "sum_i t'_ij M'_ij: duties collected by the importer after the shock, USD mn",
    "tariff_revenue_change": "tariff_revenue - sum_i t_ij M_ij (baseline duties at baseline flows), USD mn",
    "etr": "trade-weighted applied tariff on the country's goods imports (world.goods sectors), "
           "sum t'M / sum M at the flows the model reports (decimal)",
    "etr_base": "the same at baseline rates and flows (decimal)",
    "trade_balance_change": "change in exports minus imports, USD mn",
    "acr_real_wage_pct": "real wage change implied by domestic shares, "
                         "100*(prod_s (z_hat/d_hat_nn * lambda_hat_nn^(-1/theta_s))^alpha_s - 1) "
                         "(Arkolakis-Costinot-Rodriguez-Clare 2012); equals real_wage_pct in GE without "
                         "input-output links (GE diagnostic); NaN in scenarios with purchase commitments "
                         "(taste shifts break the identity)",
    "trade_creation": "sum over partners and sectors of trade creation, USD mn (PE)",
    "trade_diversion": "sum over partners and sectors of trade diversion into the country's imports, USD mn "
                       "(PE; sums to ~0 per market)",
    "consumer_surplus": "change in consumer surplus, USD mn (PE)",
    "producer_surplus": "change in producer surplus, USD mn (PE)",
    "welfare_change": "net welfare change in USD mn (PE: CS + PS + revenue change)",
    "price_level_pct": "change of the US PCE price level, percent (prices model: input-output cost push, "
                       "2024 import weights; USA only)",
    "price_level_post_pct": "price_level_pct after substitution: line weights and import shares moved by the "
                            "chosen trade model's import changes, percent (USA only)",
    "cost_per_household_usd": "price_level_pct/100 x 2024 PCE / number of households: cost per US household "
                              "per year, USD (USA only)",
    "cost_per_household_post_usd": "cost_per_household_usd after substitution, USD per household per year (USA only)",
    "welfare_wits": "WITS SMART welfare 0.5*sum_k (t_k - t'_k)(M'_k - M_k) by importer, USD mn, as WITS reports it "
                    "(>= 0 whenever imports move against the tariff change; not a net welfare measure)",
}

#: Per-flow columns (exporter, importer, sector).
FLOW_COLUMNS: dict[str, str] = {
    "flow_base": "baseline flow, USD mn",
    "flow_new": "flow after the shock, USD mn (customs value)",
    "flow_pct": "100*(flow_new/flow_base - 1); NaN where flow_base == 0",
    "tariff_base": "baseline ad valorem tariff (decimal)",
    "tariff_new": "new ad valorem tariff (decimal)",
    "trade_creation": "trade creation on the flow, USD mn (PE)",
    "trade_diversion": "trade diversion onto the flow, USD mn (PE)",
    "price_pct": "change of the exporter's price for this flow, percent (PE with finite supply)",
    "price_effect": "change in the flow's customs value due to the exporter's price change, USD mn "
                    "(PE: flow_new = flow_base + trade_creation + trade_diversion + price_effect)",
}


#: Columns of the prices model's tables (``prices_summary``, ``prices_by_category``,
#: ``prices_by_commodity``, ``households_by_decile``); ``*_post_*`` = after substitution.
PRICES_TABLE_COLUMNS: dict[str, str] = {
    "etr_change_pp": "change of the trade-weighted tariff on 2024 US goods imports, percentage points",
    "pce_usd_bn": "personal consumption expenditures 2024 at purchasers' value, USD bn",
    "price_change_pct": "purchasers' price change of a PCE category (NIPA Table 2.4.5 line), percent",
    "burden_lowest_pct": "cost of the lowest income decile as a share of its after-tax income, percent",
    "burden_top_pct": "cost of the top income decile as a share of its after-tax income, percent",
    "burden_ratio_lowest_top": "burden_lowest_pct / burden_top_pct",
    "tariff_change_pp": "trade-weighted tariff change of a BEA commodity over its HS10 lines, percentage points",
    "import_price_pct": "import price change of a BEA commodity (pass-through x tariff change), percent",
    "domestic_price_pct": "domestic producer price change of a BEA commodity (imported-input cost push), percent",
    "consumer_price_pct": "price change of a BEA commodity in consumption (import and domestic shares of PCE), percent",
    "import_share_pce": "imported share of the commodity's PCE, BEA 2024 import matrix / use table (decimal)",
    "imports_usd_bn": "imports 2024 (BEA), USD bn",
    "income_usd": "household income after transfers and federal taxes (CBO), USD per household per year",
    "cost_usd": "cost of the price increase per household of the decile, USD per year",
    "cost_share_of_income_pct": "cost_usd / income_usd, percent",
}


class ColumnTable:
    """A table kept as columns until someone asks for a DataFrame.

    Parameters
    ----------
    columns : dict of str -> ndarray (N,)
        Equal-length columns in table order (strings as ``str`` arrays, numbers as floats).
    """

    __slots__ = ("columns",)

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self.columns = columns

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns)


class Tables(dict):
    """``Result.tables``: a dict of DataFrames, some of them built on first access.

    A model may store a table as a :class:`ColumnTable`; reading it (``tables[name]``,
    ``get``, ``items``, ``values``, ``dict(tables)``) returns a DataFrame, built once. Code that
    needs only the numbers reads :meth:`columns` and never imports pandas (the text report of
    ``tariffsim run``).
    """

    def __getitem__(self, name: str) -> pd.DataFrame:
        value = dict.__getitem__(self, name)
        if isinstance(value, ColumnTable):
            value = value.frame()
            dict.__setitem__(self, name, value)
        return value

    def __iter__(self):  # defined so that dict(tables), {**tables}, d.update(tables) go through __getitem__
        return dict.__iter__(self)

    def get(self, name: str, default=None):
        return self[name] if name in self else default

    def items(self):
        return ItemsView(self)

    def values(self):
        return ValuesView(self)

    def pop(self, name: str, *default):
        if name not in self:
            return dict.pop(self, name, *default)
        value = self[name]
        dict.pop(self, name)
        return value

    def copy(self) -> Tables:
        return Tables(dict.items(self))

    def __reduce__(self):
        return (Tables, (dict(dict.items(self)),))

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def columns(self, name: str) -> dict[str, np.ndarray]:
        """The columns of table ``name`` as numpy arrays (no DataFrame is built for a ColumnTable)."""
        value = dict.__getitem__(self, name)
        if isinstance(value, ColumnTable):
            return value.columns
        return {c: value[c].to_numpy() for c in value.columns}


@dataclass(frozen=True)
class SolverInfo:
    """Convergence diagnostics of an iterative solver, one entry per scenario.

    Attributes
    ----------
    success : ndarray of bool, shape (B,)
    iterations : ndarray of int, shape (B,)
    max_residual : ndarray of float, shape (B,)
        Largest absolute residual of the equilibrium conditions (units in ``residual_units``).
    method : str
    tolerance : float
    message : str
    residual_units : str
    """

    success: np.ndarray
    iterations: np.ndarray
    max_residual: np.ndarray
    method: str
    tolerance: float
    message: str = ""
    residual_units: str = ""

    @property
    def all_converged(self) -> bool:
        return bool(np.all(self.success))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "tolerance": self.tolerance,
            "success": np.asarray(self.success).tolist(),
            "iterations": np.asarray(self.iterations).tolist(),
            "max_residual": np.asarray(self.max_residual).tolist(),
            "message": self.message,
            "residual_units": self.residual_units,
        }


@dataclass(frozen=True)
class Result:
    """Outputs of one model on a batch of B scenarios.

    Attributes
    ----------
    model : str
    scenarios : tuple of str, length B
    countries : tuple of str, length n
    sectors : tuple of str, length S
    country : dict of str -> ndarray of shape (B, n)
        Standard per-country columns (see :data:`COUNTRY_COLUMNS`).
    flow : dict of str -> ndarray of shape (B, n, n, S)
        Per-flow columns (exporter, importer, sector); see :data:`FLOW_COLUMNS`.
    solver : SolverInfo or None
    provenance : dict
        Data source, parameters, applied overrides, warnings.
    tables : Tables (a dict of str -> pandas.DataFrame)
        Model-specific tables (e.g. the accounting model's customs table by US partner);
        a model may give some as :class:`ColumnTable`, turned into a DataFrame when read.
    """

    model: str
    scenarios: tuple[str, ...]
    countries: tuple[str, ...]
    sectors: tuple[str, ...]
    country: dict[str, np.ndarray]
    flow: dict[str, np.ndarray] = field(default_factory=dict)
    solver: SolverInfo | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.tables, Tables):
            object.__setattr__(self, "tables", Tables(self.tables))
        b, n, s = len(self.scenarios), len(self.countries), len(self.sectors)
        for name, arr in self.country.items():
            if np.shape(arr) != (b, n):
                raise ValueError(f"country column {name!r} has shape {np.shape(arr)}, expected {(b, n)}")
        for name, arr in self.flow.items():
            if np.shape(arr) != (b, n, n, s):
                raise ValueError(f"flow column {name!r} has shape {np.shape(arr)}, expected {(b, n, n, s)}")

    # ----------------------------------------------------------------- frames
    def country_frame(self) -> pd.DataFrame:
        """Tidy frame: one row per (scenario, country), one column per output."""
        b, n = len(self.scenarios), len(self.countries)
        out = pd.DataFrame(
            {
                "scenario": np.repeat(self.scenarios, n),
                "country": np.tile(self.countries, b),
            }
        )
        for name, arr in self.country.items():
            out[name] = np.asarray(arr, dtype=float).reshape(b * n)
        return out

    def flow_frame(self, *, nonzero: bool = True) -> pd.DataFrame:
        """Tidy frame: one row per (scenario, exporter, importer, sector).

        With ``nonzero`` (default), rows whose baseline and new flow are both zero and
        domestic flows are left out.
        """
        b, n, s = len(self.scenarios), len(self.countries), len(self.sectors)
        idx = pd.MultiIndex.from_product(
            [self.scenarios, self.countries, self.countries, self.sectors],
            names=["scenario", "exporter", "importer", "sector"],
        )
        out = pd.DataFrame(
            {k: np.asarray(v, dtype=float).reshape(b * n * n * s) for k, v in self.flow.items()}, index=idx
        )
        out = out.reset_index()
        if nonzero and len(out):
            keep = out["exporter"] != out["importer"]
            live = [c for c in ("flow_base", "flow_new") if c in out]
            if live:
                keep &= out[live].abs().sum(axis=1) > 0
            out = out[keep].reset_index(drop=True)
        return out

    def select(self, scenario: int | str) -> Result:
        """The result of one scenario of the batch (keeps a batch axis of 1)."""
        if isinstance(scenario, str):
            if scenario not in self.scenarios:
                from .errors import DataError, did_you_mean, shorten_list

                raise DataError(
                    f"no scenario {scenario!r} in this result; its scenarios are "
                    f"{shorten_list(self.scenarios)}. {did_you_mean(scenario, self.scenarios)}".rstrip()
                )
            k = self.scenarios.index(scenario)
        else:
            k = int(scenario)
            if not -len(self.scenarios) <= k < len(self.scenarios):
                from .errors import DataError

                raise DataError(
                    f"scenario index {k} is out of range: this result has {len(self.scenarios)} scenario(s)."
                )
            k %= len(self.scenarios)
        sl = slice(k, k + 1)
        solver = None
        if self.solver is not None:
            s = self.solver
            solver = SolverInfo(
                np.asarray(s.success)[sl],
                np.asarray(s.iterations)[sl],
                np.asarray(s.max_residual)[sl],
                s.method,
                s.tolerance,
                s.message,
                s.residual_units,
            )
        return Result(
            self.model,
            self.scenarios[sl],
            self.countries,
            self.sectors,
            {k2: v[sl] for k2, v in self.country.items()},
            {k2: v[sl] for k2, v in self.flow.items()},
            solver,
            dict(self.provenance),
            {k2: (t[t["scenario"] == self.scenarios[k]] if "scenario" in t else t) for k2, t in self.tables.items()},
        )

    def to_dict(self, *, flows: bool = True) -> dict[str, Any]:
        """JSON-ready dict with the standard column names."""

        def clean(x):
            x = float(x)
            return None if not np.isfinite(x) else x

        doc: dict[str, Any] = {
            "model": self.model,
            "scenarios": list(self.scenarios),
            "countries": list(self.countries),
            "sectors": list(self.sectors),
            "columns": {k: COUNTRY_COLUMNS.get(k, "") for k in self.country},
            "country": [
                {k: (clean(v) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()}
                for row in self.country_frame().to_dict(orient="records")
            ],
            "solver": None if self.solver is None else self.solver.to_dict(),
            "provenance": self.provenance,
        }
        for name, table in self.tables.items():
            doc[name] = [
                {k: (clean(v) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()}
                for row in table.to_dict(orient="records")
            ]
        if flows and self.flow:
            frame = self.flow_frame()
            doc["flow"] = [
                {k: (clean(v) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]
        return doc

    def __repr__(self) -> str:
        return (
            f"Result(model={self.model!r}, scenarios={len(self.scenarios)}, countries={len(self.countries)}, "
            f"sectors={len(self.sectors)}, columns={list(self.country)})"
        )
