"""Evaluate one chunk of a sweep: parameters -> batched shocks -> models -> tidy rows.

Belongs here: :class:`SweepJob` (everything a worker needs, built once and shipped to
workers: spec, compiled schedule, design, elasticity draws, model options) and
:func:`evaluate_chunk` (one array program per chunk and model; never a loop over
scenarios). Does not belong here: files, manifests, backends (``runner``, ``backends``).

Rows: one per (model, scenario, country), columns ``scenario`` (index in the sweep),
``model``, ``country``, the varied parameters (by compiled name), ``elasticity_source``
and ``elasticity_draw`` (if the sweep has ``[elasticities]``), the model's per-country
outputs (:data:`tariffsim.results.COUNTRY_COLUMNS`; NaN where a model does not compute a
column), ``status`` (``"ok"`` or ``"failed"``) and ``reason`` (why, for failed scenarios,
whose outputs are NaN), and ``iterations``/``max_residual`` for solver models.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..shocks import Shocks, take_shocks
from . import rows as tidy
from .design import Design, elasticity_draws
from .spec import SweepSpec

__all__ = ["SweepJob", "ChunkOutput", "evaluate_chunk", "prepare_job", "take_shocks"]


@dataclass
class SweepJob:
    """What any worker needs to evaluate any chunk (picklable; built once per sweep).

    Attributes
    ----------
    spec : SweepSpec
    schedule : CompiledSchedule
    design : Design
    columns : list of int
        Compiled parameter index of each varied parameter (order of ``spec.varied``).
    theta : ndarray of shape (n_elasticity, S) or None
        Trade elasticities per elasticity setting.
    labels : list of (source, draw)
    options : dict of model -> dict
        Keyword arguments for each model adapter (without elasticities).
    pe_base : dict of model -> PEParameters
        σ and ε_X (and the scenario's overrides) for SMART/GSIM.
    spec_hash, scenario_hash : str
        What determines the rows, and the compiled base scenario (see ``manifest``).
    """

    spec: SweepSpec
    schedule: Any
    design: Design
    columns: list[int]
    theta: np.ndarray | None
    labels: list[tuple[str, int]]
    options: dict[str, dict[str, Any]]
    pe_base: dict[str, Any] = field(default_factory=dict)
    spec_hash: str = ""
    scenario_hash: str = ""


@dataclass
class ChunkOutput:
    """Rows of one chunk (Arrow tables) and what the models warned about.

    Once written (see ``runner.write_chunk``), the tables are dropped and ``files`` maps each
    file written (relative path) to its SHA-256. ``rows`` and ``flows`` give the tables as
    DataFrames (what :func:`~tariffsim.sweep.read_sweep` returns for them).
    """

    chunk: int
    table: Any  # pyarrow.Table of the rows, or None once written
    flow_table: Any  # pyarrow.Table of the per-flow rows (flows = true), or None
    notes: list[str]
    failed: dict[str, int]
    files: dict[str, str] | None = None
    columns: list[str] | None = None

    @property
    def rows(self) -> pd.DataFrame | None:
        return None if self.table is None else self.table.to_pandas()

    @property
    def flows(self) -> pd.DataFrame | None:
        return None if self.flow_table is None else self.flow_table.to_pandas()


def prepare_job(spec: SweepSpec, scenario, schedule) -> SweepJob:
    """Compile-side preparation: parameter columns, elasticity draws, model options."""
    from ..models.registry import elasticity_options, get_model
    from ..simulate import scenario_options  # the scenario's [parameters] table -> model options

    world = schedule.world
    columns = [schedule.parameter_index(name) for name in spec.varied]
    theta, labels = (None, [("default", -1)])
    if spec.elasticities is not None:
        theta, labels = elasticity_draws(spec, world.sectors)
    options, pe_base = {}, {}
    for model in spec.models:
        entry = get_model(model)
        opts = dict(spec.options.get(model, {}))
        defaults = scenario_options(scenario, model, world)
        if entry.elasticities == "pe":
            pe_base[model] = defaults.get("params") or elasticity_options(model, world.sectors, explicit=True)["params"]
        elif entry.elasticities == "theta" and spec.elasticities is None and "trade_elasticity" in defaults:
            opts["trade_elasticity"] = defaults["trade_elasticity"]
        for name, value in defaults.items():  # other scenario-level options (e.g. GE deficits)
            if name not in ("params", "trade_elasticity"):
                opts.setdefault(name, value)
        options[model] = opts
    return SweepJob(spec, schedule, Design(spec), columns, theta, labels, options, pe_base)


def _pe_params(job: SweepJob, model: str, e: int):
    """PE parameters for elasticity setting ``e``: the nested-CES defaults on that θ draw,
    with the scenario's own per-sector overrides applied on top."""
    from ..models.defaults import pe_defaults

    base = job.pe_base[model]
    if job.theta is None:
        return base
    params = pe_defaults(job.schedule.world.sectors, trade_elasticity=job.theta[e])
    if base.overrides:
        patch: dict[str, dict[str, float]] = {}
        for sector, name, value in base.overrides:
            patch.setdefault(sector, {})[name] = value
        params = params.with_overrides(patch)
    return params


def _run_model(job: SweepJob, model: str, shocks: Shocks, e_rows: np.ndarray, flows: bool):
    """Run one model on the whole chunk; returns country arrays, flow arrays, success, reasons."""
    from ..models.registry import get_model

    entry = get_model(model)
    run = entry.function()
    opts = dict(job.options[model])
    if entry.schedules:
        opts.setdefault("schedules", None)
    if entry.solver:
        opts["raise_on_failure"] = False
    if "flows" in entry.option_names:
        opts["flows"] = flows
    b = shocks.batch_size
    if entry.elasticities == "pe":
        results = []
        # PE parameters are one vector per call: one batched call per elasticity setting
        for e in np.unique(e_rows):
            sel = np.flatnonzero(e_rows == e)
            part = take_shocks(shocks, sel, [shocks.scenarios[k] for k in sel])
            results.append((sel, run(part, _pe_params(job, model, int(e)), **opts)))
    else:
        if entry.elasticities == "theta" and job.theta is not None:
            opts["trade_elasticity"] = job.theta[e_rows]  # (B, S): one batched solve
        results = [(np.arange(b), run(shocks, **opts))]
    country: dict[str, np.ndarray] = {}
    flow: dict[str, np.ndarray] = {}
    success = np.ones(b, dtype=bool)
    iterations = np.full(b, -1, dtype=np.int64)
    residual = np.full(b, np.nan)
    solver = False
    for sel, res in results:
        for name, arr in res.country.items():
            country.setdefault(name, np.full((b,) + arr.shape[1:], np.nan))[sel] = arr
        if flows:
            for name, arr in res.flow.items():
                flow.setdefault(name, np.full((b,) + arr.shape[1:], np.nan))[sel] = arr
        if res.solver is not None:
            solver = True
            success[sel] = np.asarray(res.solver.success, dtype=bool)
            iterations[sel] = np.asarray(res.solver.iterations)
            residual[sel] = np.asarray(res.solver.max_residual, dtype=float)
    reasons = np.full(b, None, dtype=object)
    for k in np.flatnonzero(~success):
        reasons[k] = (f"{model}: did not converge (max residual {residual[k]:.3g} after {iterations[k]} "
                      f"iterations)")
    extra = {"iterations": iterations, "max_residual": residual} if solver else {}
    return country, flow, success, reasons, extra


class _Quiet:
    """Model warnings are silenced while chunks run, and recorded.

    ``warnings.catch_warnings`` swaps process-wide state, so chunks evaluated at the same
    time by threads of one process (threaded Dask workers) share one capture: the first to
    enter starts it, the last to leave ends it; nobody waits for another chunk to finish.
    What the models warn about also reaches the rows through their results
    (``provenance["warnings"]``), so a note is never lost to the sharing.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()  # held only to count entries, never while a chunk runs
        self._depth = 0
        self._cm: warnings.catch_warnings | None = None
        self._log: list = []

    @contextlib.contextmanager
    def __call__(self):
        with self._guard:
            if self._depth == 0:
                self._cm = warnings.catch_warnings(record=True)
                self._log = self._cm.__enter__()
                warnings.simplefilter("always")
            self._depth += 1
            start, log = len(self._log), self._log
        try:
            yield log, start
        finally:
            with self._guard:
                self._depth -= 1
                if self._depth == 0:
                    self._cm.__exit__(None, None, None)
                    self._cm = None


_quiet = _Quiet()


def evaluate_chunk(job: SweepJob, chunk: int) -> ChunkOutput:
    """Evaluate chunk ``chunk`` of the sweep: one batched call per model.

    Parameters
    ----------
    job : SweepJob
    chunk : int

    Returns
    -------
    ChunkOutput
        Rows sorted by model (in ``spec.models`` order), scenario, country.
    """
    with _quiet() as (log, start):
        out = _evaluate(job, chunk)
        caught = list(log[start:])
    notes = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    out.notes = list(dict.fromkeys(out.notes + notes))
    return out


def _evaluate(job: SweepJob, chunk: int) -> ChunkOutput:
    spec, sched = job.spec, job.schedule
    start, stop = job.design.chunk_bounds(chunk, spec.chunk_size)
    values, e_rows = job.design.values(start, stop)
    b = stop - start
    names = [f"{spec.name}#{k}" for k in range(start, stop)]
    shocks = _chunk_shocks(job, values, names)
    world = sched.world
    n = world.n_countries
    scenario = np.repeat(np.arange(start, stop, dtype=np.int64), n)
    country = tidy.labels(world.countries, np.tile(np.arange(n), b))
    params = {name: np.repeat(values[:, j], n) for j, name in enumerate(spec.varied)}
    if job.theta is not None:
        sources = sorted({s for s, _ in job.labels})
        params["elasticity_source"] = tidy.labels(sources, np.repeat([sources.index(job.labels[e][0]) for e in e_rows],
                                                                     n))
        params["elasticity_draw"] = np.repeat(np.array([job.labels[e][1] for e in e_rows], dtype=np.int64), n)
    tables, flow_tables, failed = [], [], {}
    for model in spec.models:
        out, flow, success, reasons, extra = _run_model(job, model, shocks, e_rows, spec.flows)
        ok = np.repeat(success, n)
        cols = {"scenario": scenario, "model": tidy.labels([model], np.zeros(b * n)), "country": country, **params}
        for name, arr in out.items():
            cols[name] = arr.reshape(b * n) if ok.all() else np.where(ok, arr.reshape(b * n), np.nan)
        for name, arr in extra.items():
            cols[name] = np.repeat(arr, n)
        cols["status"] = tidy.labels(["ok", "failed"], ~ok)
        cols["reason"] = np.repeat(reasons, n)
        tables.append(tidy.table(cols))
        failed[model] = int((~success).sum())
        if spec.flows and flow:
            flow_tables.append(_flow_rows(world, model, start, stop, flow, success))
    flows = tidy.stack(flow_tables) if flow_tables else None
    return ChunkOutput(chunk, tidy.stack(tables), flows, list(shocks.warnings), failed)


def _chunk_shocks(job: SweepJob, values: np.ndarray, names: list[str]) -> Shocks:
    """Compiled shocks of a chunk's parameter rows ``values`` (B, k).

    Distinct rows are compiled once (grids crossed with elasticity draws or discrete
    choices repeat them; de-duplicated on the k varied columns, not the full vector), and
    repeated rows are taken from them; a chunk without repeats is compiled as is, in order.
    """
    sched = job.schedule
    b = len(values)
    spec = job.spec
    can_repeat = bool(spec.grid) or spec.n_elasticity > 1 or (
        spec.sample is not None and any(not hasattr(d, "low") for d in spec.sample.parameters.values()))
    if job.columns and can_repeat:
        uniq, inv = np.unique(values, axis=0, return_inverse=True)
        if len(uniq) < b:
            theta = np.tile(sched.defaults, (len(uniq), 1))
            theta[:, job.columns] = uniq
            return take_shocks(sched.shocks(theta), inv.reshape(-1), names)
    elif not job.columns:  # nothing varies: one compile, broadcast
        return take_shocks(sched.shocks(sched.defaults[None]), np.zeros(b, dtype=np.intp), names)
    theta = np.tile(sched.defaults, (b, 1))
    theta[:, job.columns] = values
    return sched.shocks(theta, scenarios=names)


def _flow_rows(world, model: str, start: int, stop: int, flow: dict, success: np.ndarray):
    """One row per (scenario, exporter, importer, sector) with a non-zero baseline import flow."""
    n = world.n_countries
    live = (world.flows * (1.0 - np.eye(n))[:, :, None]) > 0
    i, j, s = np.nonzero(live)
    b, m = stop - start, len(i)
    cols = {
        "scenario": np.repeat(np.arange(start, stop, dtype=np.int64), m),
        "model": tidy.labels([model], np.zeros(b * m)),
        "exporter": tidy.labels(world.countries, np.tile(i, b)),
        "importer": tidy.labels(world.countries, np.tile(j, b)),
        "sector": tidy.labels(world.sectors, np.tile(s, b)),
    }
    ok = np.repeat(success, m)
    for name, arr in flow.items():
        cols[name] = np.where(ok, arr[:, i, j, s].reshape(b * m), np.nan)
    return tidy.table(cols)
