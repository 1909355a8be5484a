"""Sweep specification: what to vary, how, and which models to run - strict, frozen pydantic models.

Belongs here: the models :class:`SweepSpec`, :class:`SampleSpec`, :class:`Uniform`,
:class:`Choice`, :class:`ElasticitySpec` (every field described; unknown keys refused) and
what derives from them (scenario counts, the spec hash that guards resumption). Reading
files and dicts, turning validation errors into file → key path → value → fix lines, and
checks against the compiled schedule live in :mod:`tariffsim.sweep.spec_check` (re-exported
here). Does not belong here: generating values (``design``), running models (``evaluate``),
files (``runner``).

A sweep file (paths are relative to the file)::

    name = "july_package"
    scenario = "../korea_us_2025/deal_15pct.toml"
    models = ["accounting", "ge"]
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
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..errors import did_you_mean
from ..models.registry import model_names, sweep_options

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

#: Models a sweep may run, and the options it may set for each (elasticities come from
#: ``[elasticities]``): read from the model registry (a snapshot; checks ask the registry).
MODELS = model_names()
MODEL_OPTIONS: dict[str, tuple[str, ...]] = {m: sweep_options(m) for m in MODELS}
SAMPLE_METHODS = ("random", "lhs", "sobol")
#: Largest number of scenarios one sweep may describe (indices are int64; files are per chunk).
MAX_SCENARIOS = 2**40


def fail(message: str, hint: str = "") -> PydanticCustomError:
    """A validation error whose message and fix are ours (see ``spec_check.problems_from``)."""
    return PydanticCustomError("sweep", "{message}", {"message": message, "hint": hint})


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


# ------------------------------------------------------------------ distributions
class Uniform(_Frozen):
    """Uniform distribution on ``[low, high]`` for a sampled parameter (``{ low = a, high = b }``)."""

    low: StrictFloat = Field(description="Lower end of the range, in the parameter's unit (rates: decimal, 0.1 = 10%).")
    high: StrictFloat = Field(description="Upper end of the range (>= low), same unit.")

    def __init__(self, low=None, high=None, /, **kw) -> None:
        super().__init__(**({"low": low, "high": high} if low is not None or high is not None else {}), **kw)

    @model_validator(mode="after")
    def _ordered(self):
        if not (_number(self.low) and _number(self.high) and self.low <= self.high):
            raise fail(f"needs finite numbers low <= high; got low={self.low!r}, high={self.high!r}.")
        return self

    def to_dict(self) -> dict[str, float]:
        return {"low": float(self.low), "high": float(self.high)}


class Choice(_Frozen):
    """Equally likely discrete values (``{ choices = [0, 1] }`` for an ``ID.enabled`` switch)."""

    values: tuple[float, ...] = Field(description="The values, each drawn with equal probability.")

    def __init__(self, values=None, /, **kw) -> None:
        super().__init__(**({"values": values} if values is not None else {}), **kw)

    @field_validator("values", mode="before")
    @classmethod
    def _numbers(cls, v):
        if not isinstance(v, (list, tuple)) or not v or not all(_number(x) for x in v):
            raise fail(f"choices must be a non-empty list of numbers; got {list(v) if isinstance(v, tuple) else v!r}.")
        return tuple(float(x) for x in v)

    def to_dict(self) -> dict[str, list[float]]:
        return {"choices": [float(v) for v in self.values]}


def _as_distribution(d):
    """``{low, high}`` -> Uniform, ``{choices}`` -> Choice (instances pass); anything else is an error."""
    if isinstance(d, (Uniform, Choice)):
        return d
    if isinstance(d, Mapping) and set(d) == {"low", "high"}:
        return Uniform(low=d["low"], high=d["high"])
    if isinstance(d, Mapping) and set(d) == {"choices"}:
        return Choice(values=d["choices"])
    raise fail(f"must be {{ low = a, high = b }} or {{ choices = [...] }}; got {d!r}.")


def _reraise_inner(fn):
    """Run a converter whose own models may fail; keep their message (pydantic nests it otherwise)."""
    def wrapped(v):
        try:
            return fn(v)
        except ValidationError as err:
            first = err.errors()[0]
            ctx = first.get("ctx") or {}
            raise fail(ctx.get("message", first["msg"]), ctx.get("hint", "")) from None
    return wrapped


Distribution = Annotated[Uniform | Choice, BeforeValidator(_reraise_inner(_as_distribution))]


# ------------------------------------------------------------------ sample and elasticities
def _sample_method(v):
    if v not in SAMPLE_METHODS:
        raise fail(f"unknown method {v!r}.", f"{did_you_mean(str(v), SAMPLE_METHODS)} Valid: {list(SAMPLE_METHODS)}.".lstrip())
    return v


class SampleSpec(_Frozen):
    """A sample of ``n`` points over some parameters (the ``[sample]`` table).

    ``"random"``: independent uniforms; ``"lhs"``: Latin hypercube over all ``n`` points (each
    of the ``n`` strata of every parameter is hit exactly once); ``"sobol"``: scrambled Sobol'
    sequence (``scipy.stats.qmc.Sobol``; balanced when ``n`` is a power of 2).
    """

    n: StrictInt = Field(ge=1, description="Number of sample points.")
    parameters: dict[str, Distribution] = Field(
        description="Compiled parameter name -> distribution: { low = a, high = b } or { choices = [...] }.")
    method: Annotated[str, AfterValidator(_sample_method)] = Field(
        "random", description="How points are drawn: 'random', 'lhs' (Latin hypercube) or 'sobol'.")

    @field_validator("parameters", mode="after")
    @classmethod
    def _not_empty(cls, v):
        if not v:
            raise fail("is empty.", 'Add e.g. "s232_autos.rate" = { low = 0.1, high = 0.25 }.')
        return v

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n": int(self.n),
                "parameters": {k: v.to_dict() for k, v in self.parameters.items()}}


def _source(v):
    from ..datasets import elasticity_sources

    valid = elasticity_sources()
    if v not in valid:
        raise fail(f"unknown source {v!r}.", f"{did_you_mean(str(v), valid)} Valid sources: {list(valid)}.".lstrip())
    return v


class ElasticitySpec(_Frozen):
    """Elasticity sources and Monte Carlo draws around the published estimates (``[elasticities]``).

    GE uses θ directly; SMART and GSIM use the nested-CES defaults of
    :func:`tariffsim.parameters.pe_defaults` on the same θ (substitution σ = 1 + θ, import
    demand η from σ and each importer's import share), ε_X at its default. The accounting
    model has no elasticities.
    """

    sources: tuple[Annotated[str, AfterValidator(_source)], ...] = Field(
        ("cp2015",), description="Elasticity sources (tariffsim.datasets.elasticity_sources()); each is a sweep factor.")
    draws: StrictInt = Field(0, ge=0, description=(
        "0: the point estimates. k > 0: k draws per source, each sector's trade elasticity "
        "θ_s ~ Normal(estimate, published se) truncated to [lower, inf)."))
    lower: StrictFloat = Field(0.0, ge=0.0, allow_inf_nan=False, description="Truncation point of the draws (>= 0).")
    missing_se: StrictFloat | None = Field(None, ge=0.0, allow_inf_nan=False, description=(
        "Relative se (share of the estimate) for sectors without a published se; default: hold them at the estimate."))

    @field_validator("sources", mode="before")
    @classmethod
    def _one_source(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("sources", mode="after")
    @classmethod
    def _distinct(cls, v):
        if not v:
            raise fail("is empty.", "Choose e.g. sources = ['cp2015'].")
        if len(set(v)) != len(v):
            raise fail(f"lists a source twice: {list(v)}.")
        return v

    @model_validator(mode="after")
    def _draws_need_se(self):
        if self.draws > 0 and self.missing_se is None:
            from ..datasets import load_elasticity_table

            table = load_elasticity_table()
            for s in self.sources:
                if table[f"se_{s}"].isna().all():
                    raise fail(f"{s!r} publishes no standard errors, so its draws would all equal the estimates.",
                               "Set missing_se (e.g. 0.25 = 25% of the estimate) or drop the source from the draws.")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "draws": int(self.draws), "lower": float(self.lower),
                "missing_se": self.missing_se}


# ------------------------------------------------------------------ the sweep
def _model(v):
    names = model_names()
    if v not in names:
        raise fail(f"unknown model {v!r}.", f"{did_you_mean(str(v), names)} Valid models: {list(names)}.".lstrip())
    return v


def _grid_values(v):
    if not isinstance(v, (list, tuple)) or not v:
        raise fail(f"must be a non-empty list of numbers; got {v!r}.")
    if not all(_number(x) for x in v):
        raise fail(f"must list finite numbers; got {list(v)!r}.")
    if len(set(v)) != len(v):
        raise fail(f"repeats a value: {list(v)}.")
    return tuple(float(x) for x in v)


GridValues = Annotated[tuple[float, ...], BeforeValidator(_grid_values)]


class SweepSpec(_Frozen):
    """A sweep: base scenario, what varies, the models to run. Validated on construction.

    Raises :class:`~tariffsim.errors.ScenarioError` listing every structural problem at once
    (parameter names are checked against the compiled schedule by :func:`check_parameters`).
    """

    name: str = Field(description="Name of the sweep (labels scenarios 'name#k' and the default output folder).")
    scenario: Any = Field(description="The base scenario: a file path (relative to the sweep file) or a loaded Scenario.")
    models: tuple[Annotated[str, AfterValidator(_model)], ...] = Field(
        ("accounting",), description="Models to run, by registry name (tariffsim.models.registry.model_names()).")
    grid: dict[str, GridValues] = Field(
        default_factory=dict, description="Full factorial: compiled parameter name -> list of values.")
    sample: SampleSpec | None = Field(None, description="A random, Latin hypercube or Sobol' sample ([sample]).")
    elasticities: ElasticitySpec | None = Field(
        None, description="Elasticity sources and draws; default: each model's defaults and the scenario's [parameters].")
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Model options per model, e.g. [options.ge] deficits = 'fixed' (see MODEL_OPTIONS).")
    seed: StrictInt = Field(0, ge=0, description="Seeds every random number of the sweep (sample and elasticity draws).")
    chunk_size: StrictInt = Field(500, ge=1, description="Scenarios per chunk: one batched model call, one Parquet file.")
    flows: StrictBool = Field(False, description="Also write per-flow rows (exporter x importer x sector; small sweeps).")
    date: dt.date | None = Field(None, description="Evaluate the measures in force on this date (default: the scenario's).")
    description: str = Field("", description="What the sweep explores, in words.")
    file: str | None = Field(None, description="The sweep file, if read from one (for messages).")

    def __init__(self, **data) -> None:
        from .spec_check import raise_problems

        try:
            super().__init__(**data)
        except ValidationError as err:
            raise_problems(data, err)
        raise_problems(data, None, self)

    @field_validator("name", mode="after")
    @classmethod
    def _named(cls, v):
        if not v.strip():
            raise fail(f"must be a non-empty string; got {v!r}.")
        return v

    @field_validator("models", mode="before")
    @classmethod
    def _one_model(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("models", mode="after")
    @classmethod
    def _models(cls, v):
        if not v:
            raise fail("lists no model.", f"Choose among {list(model_names())}.")
        if len(set(v)) != len(v):
            raise fail(f"lists a model twice: {list(v)}.")
        return v

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
        """A copy with another chunk size (validated)."""
        return SweepSpec(**{**dict(self), "chunk_size": chunk_size})


from .spec_check import as_spec, check_parameters, load_sweep, sweep_from_dict  # noqa: E402, F401  (re-exported)
