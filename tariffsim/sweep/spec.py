"""Sweep specification: what to vary, how, and which models to run - as structured data.

Belongs here: the frozen dataclasses :class:`SweepSpec`, :class:`SampleSpec`,
:class:`Uniform`, :class:`Choice`, :class:`ElasticitySpec`; reading a TOML sweep file
(:func:`load_sweep`) or a dict (:func:`sweep_from_dict`); structural validation (every
problem at once, as a :class:`~tariffsim.errors.ScenarioError`); the check of parameter
names against a compiled schedule (:func:`check_parameters`, with did-you-mean); the spec
hash that guards resumption. Does not belong here: generating values (``design``), running
models (``evaluate``), files (``runner``).

A sweep file (paths are relative to the file)::

    name = "july_package"
    scenario = "../korea_us_2025/deal_15pct.toml"
    models = ["accounting", "smart", "ge"]
    seed = 20250730
    chunk_size = 500

    [grid]                                  # full factorial
    "kor_floor.rate" = [0.10, 0.15, 0.25]
    "kor_autos_deal.enabled" = [0, 1]

    [sample]                                # random, Latin hypercube or Sobol' sample
    method = "lhs"
    n = 64
    [sample.parameters]
    "s232_metals.rate" = { low = 0.25, high = 0.50 }
    "kor_floor.enabled" = { choices = [0, 1] }

    [elasticities]                          # sources x Monte Carlo draws
    sources = ["cp2015", "ll2023"]
    draws = 20
    lower = 0.5

    [options.ge]
    deficits = "fixed"

The scenarios are the product grid x sample x elasticity draws (in that nesting: the
elasticity draw varies slowest, the grid fastest).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, Problem, ScenarioError, did_you_mean, shorten_list

__all__ = [
    "SweepSpec",
    "SampleSpec",
    "ElasticitySpec",
    "Uniform",
    "Choice",
    "load_sweep",
    "sweep_from_dict",
    "check_parameters",
    "MODELS",
    "SAMPLE_METHODS",
    "MODEL_OPTIONS",
]

MODELS = ("accounting", "smart", "gsim", "ge")
SAMPLE_METHODS = ("random", "lhs", "sobol")
#: Model options a sweep may set (elasticities come from ``[elasticities]``).
MODEL_OPTIONS: dict[str, tuple[str, ...]] = {
    "accounting": (),
    "smart": ("method",),
    "gsim": ("tol", "max_iter"),
    "ge": ("deficits", "tol", "max_iter"),
}
_TOP_KEYS = ("name", "description", "scenario", "models", "seed", "chunk_size", "flows", "date",
             "grid", "sample", "elasticities", "options")
#: Largest number of scenarios one sweep may describe (indices are int64; files are per chunk).
MAX_SCENARIOS = 2**40


@dataclass(frozen=True)
class Uniform:
    """Uniform distribution on ``[low, high]`` for a sampled parameter."""

    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"low": float(self.low), "high": float(self.high)}


@dataclass(frozen=True)
class Choice:
    """Equally likely discrete values (e.g. ``(0, 1)`` for an ``ID.enabled`` switch)."""

    values: tuple[float, ...]

    def to_dict(self) -> dict[str, list[float]]:
        return {"choices": [float(v) for v in self.values]}


@dataclass(frozen=True)
class SampleSpec:
    """A sample of ``n`` points over some parameters.

    Attributes
    ----------
    n : int
        Number of sample points.
    parameters : mapping of str -> Uniform or Choice
        Compiled parameter name -> distribution.
    method : {"random", "lhs", "sobol"}
        ``"random"``: independent uniforms; ``"lhs"``: Latin hypercube over all ``n``
        points (each of the ``n`` strata of every parameter is hit exactly once);
        ``"sobol"``: scrambled Sobol' sequence (``scipy.stats.qmc.Sobol``; balanced when
        ``n`` is a power of 2).
    """

    n: int
    parameters: Mapping[str, Uniform | Choice]
    method: str = "random"

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n": int(self.n),
                "parameters": {k: v.to_dict() for k, v in self.parameters.items()}}


@dataclass(frozen=True)
class ElasticitySpec:
    """Elasticity sources and Monte Carlo draws around the published estimates.

    Attributes
    ----------
    sources : tuple of str
        Names as in :func:`tariffsim.datasets.elasticity_sources`; each is a sweep factor.
    draws : int
        0: the point estimates. ``k > 0``: ``k`` draws per source, each sector's trade
        elasticity θ_s ~ Normal(estimate, published se) truncated to ``[lower, inf)``.
        Sectors without a published se keep the estimate (or use ``missing_se``).
    lower : float
        Truncation point (>= 0): draws are at least this large.
    missing_se : float, optional
        Relative se (share of the estimate) for sectors without a published se; default:
        hold them at the estimate.

    Notes
    -----
    GE uses θ directly; SMART and GSIM use the nested-CES defaults of
    :func:`tariffsim.parameters.pe_defaults` on the same θ (substitution σ = 1 + θ, import
    demand η from σ and each importer's import share), ε_X at its default. The accounting
    model has no elasticities.
    """

    sources: tuple[str, ...] = ("cp2015",)
    draws: int = 0
    lower: float = 0.0
    missing_se: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "draws": int(self.draws), "lower": float(self.lower),
                "missing_se": self.missing_se}


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: base scenario, what varies, the models to run. Validated on construction.

    Attributes
    ----------
    name : str
    scenario : str, Path or Scenario
        The base scenario (a file path, or a loaded :class:`~tariffsim.scenario.Scenario`).
    models : tuple of str
        Among ``accounting``, ``smart``, ``gsim``, ``ge``.
    grid : mapping of str -> tuple of float
        Full-factorial values per compiled parameter name.
    sample : SampleSpec, optional
    elasticities : ElasticitySpec, optional
        Default: each model's defaults (and the scenario's ``[parameters]`` table).
    options : mapping of model -> mapping
        Model options (see :data:`MODEL_OPTIONS`).
    seed : int
        Seeds every random number of the sweep (sample and elasticity draws).
    chunk_size : int
        Scenarios per chunk: one batched model call, one Parquet file.
    flows : bool
        Also write per-flow rows (exporter x importer x sector; for small sweeps).
    date : date, optional
        Evaluate the measures in force on this date (default: the scenario's).
    description : str
    file : str, optional
        The sweep file, if read from one (for messages).

    Raises
    ------
    ScenarioError
        Every structural problem at once (parameter names are checked against the compiled
        schedule by :func:`check_parameters`).
    """

    name: str
    scenario: Any
    models: tuple[str, ...] = ("accounting",)
    grid: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    sample: SampleSpec | None = None
    elasticities: ElasticitySpec | None = None
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seed: int = 0
    chunk_size: int = 500
    flows: bool = False
    date: dt.date | None = None
    description: str = ""
    file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "grid", {str(k): tuple(float(x) if _number(x) else x for x in v) if _is_seq(v) else v
                                          for k, v in dict(self.grid).items()})
        object.__setattr__(self, "options", {k: dict(v) for k, v in dict(self.options).items()})
        problems = _check(self)
        if problems:
            raise ScenarioError(problems, file=self.file or f"sweep {self.name!r}")

    # ------------------------------------------------------------ derived
    @property
    def varied(self) -> tuple[str, ...]:
        """Names of the compiled parameters the sweep varies (grid, then sample)."""
        sample = tuple(self.sample.parameters) if self.sample else ()
        return tuple(self.grid) + sample

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.grid.values())

    @property
    def n_grid(self) -> int:
        return math.prod(self.grid_shape)

    @property
    def n_sample(self) -> int:
        return self.sample.n if self.sample else 1

    @property
    def n_elasticity(self) -> int:
        """Number of elasticity settings: sources x max(draws, 1), or 1 (model defaults)."""
        e = self.elasticities
        return 1 if e is None else len(e.sources) * max(e.draws, 1)

    @property
    def n_scenarios(self) -> int:
        return self.n_elasticity * self.n_sample * self.n_grid

    @property
    def n_chunks(self) -> int:
        return -(-self.n_scenarios // self.chunk_size)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the scenario as its file path, or its name if built in memory)."""
        scen = self.scenario
        scen = str(scen) if isinstance(scen, (str, Path)) else (getattr(scen, "file", None) or getattr(scen, "name", "?"))
        return {
            "name": self.name, "description": self.description, "scenario": scen, "models": list(self.models),
            "grid": {k: list(v) for k, v in self.grid.items()},
            "sample": None if self.sample is None else self.sample.to_dict(),
            "elasticities": None if self.elasticities is None else self.elasticities.to_dict(),
            "options": {k: dict(v) for k, v in self.options.items()},
            "seed": int(self.seed), "chunk_size": int(self.chunk_size), "flows": bool(self.flows),
            "date": None if self.date is None else self.date.isoformat(),
        }

    def content_hash(self, *extra: bytes) -> str:
        """SHA-256 of what determines the rows (not ``chunk_size``, ``description``, ``file``)."""
        doc = self.to_dict()
        for key in ("chunk_size", "description", "scenario"):
            doc.pop(key)
        h = hashlib.sha256(json.dumps(doc, sort_keys=True).encode())
        for chunk in extra:
            h.update(chunk)
        return h.hexdigest()

    def with_chunk_size(self, chunk_size: int) -> SweepSpec:
        """A copy with another chunk size."""
        from dataclasses import replace

        return replace(self, chunk_size=int(chunk_size))


# -------------------------------------------------------------------- checks
def _is_seq(v) -> bool:
    return isinstance(v, (list, tuple))


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check(spec: SweepSpec) -> list[Problem]:
    p: list[Problem] = []
    if not isinstance(spec.name, str) or not spec.name.strip():
        p.append(Problem("name", f"must be a non-empty string; got {spec.name!r}."))
    if not spec.models:
        p.append(Problem("models", "lists no model.", f"Choose among {list(MODELS)}."))
    for k, m in enumerate(spec.models):
        if m not in MODELS:
            p.append(Problem(f"models[{k}]", f"unknown model {m!r}.",
                             f"{did_you_mean(m, MODELS)} Valid models: {list(MODELS)}.".lstrip()))
    if len(set(spec.models)) != len(spec.models):
        p.append(Problem("models", f"lists a model twice: {list(spec.models)}."))
    for name, values in spec.grid.items():
        if not _is_seq(values) or not values:
            p.append(Problem(f"grid.{name!r}", f"must be a non-empty list of numbers; got {values!r}."))
        elif not all(_number(x) for x in values):
            p.append(Problem(f"grid.{name!r}", f"must list finite numbers; got {list(values)!r}."))
        elif len(set(values)) != len(values):
            p.append(Problem(f"grid.{name!r}", f"repeats a value: {list(values)}."))
    if spec.sample is not None:
        p.extend(_check_sample(spec.sample))
        both = sorted(set(spec.grid) & set(spec.sample.parameters))
        if both:
            p.append(Problem("sample.parameters", f"{both} are also in [grid].", "Vary each parameter in one place."))
    if spec.elasticities is not None:
        p.extend(_check_elasticities(spec.elasticities, spec.models))
    for model, opts in spec.options.items():
        if model not in MODELS:
            p.append(Problem(f"options.{model}", "is not a model.", did_you_mean(model, MODELS)))
            continue
        if model not in spec.models:
            p.append(Problem(f"options.{model}", f"sets options for {model!r}, which is not in models {list(spec.models)}."))
        for key in opts:
            if key not in MODEL_OPTIONS[model]:
                valid = list(MODEL_OPTIONS[model]) or "none"
                hint = did_you_mean(key, MODEL_OPTIONS[model]) if MODEL_OPTIONS[model] else ""
                extra = " Elasticities are set in [elasticities]." if "elastic" in key else ""
                p.append(Problem(f"options.{model}.{key}", f"is not an option of {model!r} (valid: {valid}).",
                                 (hint + extra).strip()))
    if isinstance(spec.seed, bool) or not isinstance(spec.seed, int) or spec.seed < 0:
        p.append(Problem("seed", f"must be an integer >= 0; got {spec.seed!r}."))
    if isinstance(spec.chunk_size, bool) or not isinstance(spec.chunk_size, int) or spec.chunk_size < 1:
        p.append(Problem("chunk_size", f"must be an integer >= 1; got {spec.chunk_size!r}."))
    if not p and spec.n_scenarios > MAX_SCENARIOS:
        p.append(Problem("(sweep)", f"describes {spec.n_scenarios:,} scenarios; the limit is {MAX_SCENARIOS:,}."))
    return p


def _check_sample(s: SampleSpec) -> list[Problem]:
    p = []
    if s.method not in SAMPLE_METHODS:
        p.append(Problem("sample.method", f"unknown method {s.method!r}.",
                         f"{did_you_mean(s.method, SAMPLE_METHODS)} Valid: {list(SAMPLE_METHODS)}.".lstrip()))
    if isinstance(s.n, bool) or not isinstance(s.n, int) or s.n < 1:
        p.append(Problem("sample.n", f"must be an integer >= 1; got {s.n!r}."))
    if not s.parameters:
        p.append(Problem("sample.parameters", "is empty.", 'Add e.g. "s232_autos.rate" = { low = 0.1, high = 0.25 }.'))
    for name, dist in s.parameters.items():
        where = f"sample.parameters.{name!r}"
        if isinstance(dist, Uniform):
            if not (_number(dist.low) and _number(dist.high) and dist.low <= dist.high):
                p.append(Problem(where, f"needs finite numbers low <= high; got low={dist.low!r}, high={dist.high!r}."))
        elif isinstance(dist, Choice):
            if not dist.values or not all(_number(v) for v in dist.values):
                p.append(Problem(where, f"choices must be a non-empty list of numbers; got {list(dist.values)!r}."))
        else:
            p.append(Problem(where, f"must be {{low, high}} or {{choices = [...]}}; got {dist!r}."))
    return p


def _check_elasticities(e: ElasticitySpec, models) -> list[Problem]:
    from ..datasets import elasticity_sources, load_elasticity_table

    p = []
    valid = elasticity_sources()
    if not e.sources:
        p.append(Problem("elasticities.sources", "is empty.", f"Choose among {list(valid)}."))
    if len(set(e.sources)) != len(e.sources):
        p.append(Problem("elasticities.sources", f"lists a source twice: {list(e.sources)}."))
    bad = [s for s in e.sources if s not in valid]
    for s in bad:
        p.append(Problem("elasticities.sources", f"unknown source {s!r}.",
                         f"{did_you_mean(s, valid)} Valid sources: {list(valid)}.".lstrip()))
    if isinstance(e.draws, bool) or not isinstance(e.draws, int) or e.draws < 0:
        p.append(Problem("elasticities.draws", f"must be an integer >= 0; got {e.draws!r}."))
    if not _number(e.lower) or e.lower < 0:
        p.append(Problem("elasticities.lower", f"must be a number >= 0; got {e.lower!r}."))
    if e.missing_se is not None and (not _number(e.missing_se) or e.missing_se < 0):
        p.append(Problem("elasticities.missing_se", f"must be a number >= 0 (relative se); got {e.missing_se!r}."))
    if not bad and isinstance(e.draws, int) and e.draws > 0 and e.missing_se is None:
        table = load_elasticity_table()
        for s in e.sources:
            if table[f"se_{s}"].isna().all():
                p.append(Problem("elasticities.sources", f"{s!r} publishes no standard errors, so its draws would all "
                                 "equal the estimates.", "Set missing_se (e.g. 0.25 = 25% of the estimate) or drop "
                                 "the source from the draws."))
    return p


def check_parameters(spec: SweepSpec, names) -> None:
    """Raise a :class:`ScenarioError` listing every varied name not among ``names``.

    Parameters
    ----------
    spec : SweepSpec
    names : sequence of str
        :attr:`CompiledSchedule.parameter_names` of the base scenario.
    """
    names = [n for n in names if not n.startswith("(")]
    known = set(names)
    problems = []
    for where, params in (("grid", spec.grid), ("sample.parameters", spec.sample.parameters if spec.sample else {})):
        for name in params:
            if name not in known:
                hint = did_you_mean(name, names)
                problems.append(Problem(
                    f"{where}.{name!r}", "is not a parameter of the base scenario.",
                    f"{hint} Parameters: {shorten_list(names, 10)} (see CompiledSchedule.parameter_names).".lstrip(),
                ))
    for where, params in (("grid", spec.grid), ("sample.parameters", spec.sample.parameters if spec.sample else {})):
        for name, values in params.items():
            if name.endswith(".enabled") and name in known:
                vals = values.values if isinstance(values, Choice) else values if _is_seq(values) else (values.low, values.high)
                if isinstance(values, Uniform) or any(v not in (0.0, 1.0) for v in vals):
                    problems.append(Problem(f"{where}.{name!r}", "is an on/off switch: use the values 0 and 1.",
                                            "In [sample.parameters] write { choices = [0, 1] }."))
    if problems:
        raise ScenarioError(problems, file=spec.file or f"sweep {spec.name!r}")


# -------------------------------------------------------------------- reading
def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a TOML sweep file.

    Parameters
    ----------
    path : str or Path
        The sweep file; its ``scenario`` path is relative to the file.

    Returns
    -------
    SweepSpec

    Raises
    ------
    ScenarioError
        Unreadable TOML or any structural problem (all listed at once).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("sweep file not found.", file=str(path)) from None
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"is not valid TOML: {err}", file=str(path)) from None
    return sweep_from_dict(data, base_dir=path.parent, file=str(path))


def sweep_from_dict(data: Mapping[str, Any], *, base_dir: str | Path = ".", file: str | None = None) -> SweepSpec:
    """Build a :class:`SweepSpec` from a dict with the layout of a sweep file.

    ``scenario`` may be a path (relative to ``base_dir``) or a loaded Scenario.
    """
    problems: list[Problem] = []
    where = file or f"sweep {data.get('name', '?')!r}"
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(Problem(key, "is not a sweep key.", f"{did_you_mean(key, _TOP_KEYS)} Keys: {list(_TOP_KEYS)}.".lstrip()))
    scen = data.get("scenario")
    if scen is None:
        problems.append(Problem("scenario", "is missing.", 'Name the base scenario file, e.g. scenario = "../korea_us_2025/deal_15pct.toml".'))
    elif isinstance(scen, (str, Path)):
        scen = Path(base_dir) / scen
        if not scen.is_file():
            problems.append(Problem("scenario", f"file {str(scen)!r} does not exist.", "The path is relative to the sweep file."))
    for key in ("sample", "elasticities", "options"):
        if data.get(key) is not None and not isinstance(data[key], Mapping):
            problems.append(Problem(key, f"must be a table; got {data[key]!r}."))
            raise ScenarioError(problems, file=where)
    sample = None
    if data.get("sample") is not None:
        sample = _sample_from_dict(data["sample"], problems)
    elast = None
    if data.get("elasticities") is not None:
        raw = dict(data["elasticities"])
        unknown = [k for k in raw if k not in ("sources", "draws", "lower", "missing_se")]
        for k in unknown:
            problems.append(Problem(f"elasticities.{k}", "is not a key.", did_you_mean(k, ("sources", "draws", "lower", "missing_se"))))
            raw.pop(k)
        if isinstance(raw.get("sources"), str):
            raw["sources"] = [raw["sources"]]
        raw["sources"] = tuple(raw.get("sources", ("cp2015",)))
        elast = ElasticitySpec(**raw)
    grid = data.get("grid", {})
    if not isinstance(grid, Mapping):
        problems.append(Problem("grid", f"must be a table of parameter = [values]; got {grid!r}."))
        grid = {}
    date = data.get("date")
    if date is not None and not isinstance(date, dt.date):
        problems.append(Problem("date", f"must be a TOML date (YYYY-MM-DD, unquoted); got {date!r}."))
        date = None
    models = data.get("models", ("accounting",))
    if isinstance(models, str):
        models = (models,)
    try:
        spec = SweepSpec(
            name=data.get("name", Path(file).stem if file else "sweep"), scenario=scen, models=tuple(models),
            grid=grid, sample=sample, elasticities=elast, options=data.get("options") or {},
            seed=data.get("seed", 0), chunk_size=data.get("chunk_size", 500), flows=bool(data.get("flows", False)),
            date=date, description=data.get("description", ""), file=file,
        )
    except ScenarioError as err:  # report the file-level and the structural problems together
        raise ScenarioError(problems + err.problems, file=where) from None
    if problems:
        raise ScenarioError(problems, file=where)
    return spec


def _sample_from_dict(raw: Mapping[str, Any], problems: list[Problem]) -> SampleSpec | None:
    raw = dict(raw)
    params = raw.pop("parameters", {})
    method = raw.pop("method", "random")
    n = raw.pop("n", None)
    for k in raw:
        problems.append(Problem(f"sample.{k}", "is not a key of [sample].",
                                f"{did_you_mean(k, ('method', 'n', 'parameters'))} Put distributions under [sample.parameters].".lstrip()))
    if n is None:
        problems.append(Problem("sample.n", "is missing.", "Set the number of sample points, e.g. n = 1000."))
        return None
    dists: dict[str, Uniform | Choice] = {}
    for name, d in dict(params).items():
        if isinstance(d, Mapping) and set(d) == {"low", "high"}:
            dists[name] = Uniform(d["low"], d["high"])
        elif isinstance(d, Mapping) and set(d) == {"choices"} and _is_seq(d["choices"]):
            dists[name] = Choice(tuple(d["choices"]))
        else:
            problems.append(Problem(f"sample.parameters.{name!r}", f"must be {{ low = a, high = b }} or {{ choices = [...] }}; got {d!r}."))
    return SampleSpec(n=n, parameters=dists, method=method)


def as_spec(spec: SweepSpec | Mapping[str, Any] | str | Path) -> SweepSpec:
    """A SweepSpec from a spec, a dict or a sweep file path."""
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, (str, Path)):
        return load_sweep(spec)
    if isinstance(spec, Mapping):
        return sweep_from_dict(spec)
    raise DataError(f"expected a SweepSpec, a dict or a sweep file path; got {type(spec).__name__}.")
