"""Reading sweep files and dicts, and saying what is wrong with them the way scenario files do.

Belongs here: :func:`load_sweep` (TOML), :func:`sweep_from_dict`, :func:`as_spec`; turning
pydantic's validation errors of :mod:`tariffsim.sweep.spec` into
:class:`~tariffsim.errors.Problem` lines (file → key path → offending value → did-you-mean
→ fix), the checks that look at several keys at once (options of models not run, a
parameter both in ``[grid]`` and ``[sample]``), and :func:`check_parameters` (names against
the compiled schedule). Every problem of a file is reported at once, in one
:class:`~tariffsim.errors.ScenarioError`.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import DataError, Problem, ScenarioError, did_you_mean, shorten_list

__all__ = ["load_sweep", "sweep_from_dict", "as_spec", "check_parameters", "problems_from"]

_MISSING_HINTS = {
    "scenario": 'Name the base scenario file, e.g. scenario = "../korea_us_2025/deal_15pct.toml".',
    "sample.n": "Set the number of sample points, e.g. n = 1000.",
    "sample.parameters": 'Add e.g. [sample.parameters] "s232_autos.rate" = { low = 0.1, high = 0.25 }.',
    "name": 'Add e.g. name = "my_sweep".',
}
_SECTION_HINTS = {"sample": " Put distributions under [sample.parameters]."}


# ------------------------------------------------------------------ pydantic errors -> problems
def _fmt_loc(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            part = str(part) if str(part).isidentifier() else repr(str(part))
            path += ("." if path else "") + part
    return path or "(top level)"


def _plain(annotation):
    """The type inside Optional[...] / Annotated[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _field_at(loc: tuple):
    """(model class, field name, FieldInfo) of the deepest model field named in ``loc``."""
    from .spec import SweepSpec

    model, found = SweepSpec, (SweepSpec, None, None)
    for part in loc:
        if not isinstance(part, str) or model is None or part not in model.model_fields:
            break
        info = model.model_fields[part]
        found = (model, part, info)
        inner = _plain(info.annotation)
        model = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None
    return found


def _rule(loc: tuple) -> str | None:
    """'must be an integer >= 0' and the like, from the field's type and bounds."""
    _, name, info = _field_at(loc)
    if info is None:
        return None
    if loc and isinstance(loc[-1], int):  # an item of a list
        return "must be a string"
    kind = _plain(info.annotation)
    origin = typing.get_origin(kind) or kind
    words = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
             dt.date: "a TOML date (YYYY-MM-DD, unquoted)", dict: "a table", tuple: "a list"}
    if isinstance(origin, type) and issubclass(origin, BaseModel):
        what = "a table"
    else:
        what = words.get(origin)
    if what is None:
        return None
    bounds = [f">= {m.ge:g}" for m in info.metadata if getattr(m, "ge", None) is not None]
    return f"must be {what}" + (f" {bounds[0]}" if bounds else "")


def problems_from(err: ValidationError) -> list[Problem]:
    """One :class:`Problem` per pydantic error: key path, offending value, did-you-mean, fix."""
    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path, kind, value = _fmt_loc(loc), e["type"], e.get("input")
        if kind == "sweep":
            ctx = e.get("ctx") or {}
            problems.append(Problem(path, ctx.get("message", e["msg"]), ctx.get("hint", "")))
        elif kind == "extra_forbidden":
            owner, _, info = _field_at(loc[:-1])
            inner = _plain(info.annotation) if info is not None else owner
            model = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else owner
            keys = [k for k in model.model_fields if k != "file"]
            name, section = str(loc[-1]), _fmt_loc(loc[:-1])
            what = "is not a sweep key." if len(loc) == 1 else f"is not a key of [{section}]."
            hint = f"{did_you_mean(name, keys)} Keys: {keys}.{_SECTION_HINTS.get(section, '')}".lstrip()
            problems.append(Problem(path, what, hint))
        elif kind == "missing":
            problems.append(Problem(path, "is missing.", _MISSING_HINTS.get(path, "Add it.")))
        else:
            rule = _rule(loc)
            shown = value if not isinstance(value, Mapping) or len(repr(value)) < 120 else "{...}"
            if rule is None:
                problems.append(Problem(path, f"{e['msg']}; got {shown!r}."))
            else:
                problems.append(Problem(path, f"{rule}; got {shown!r}."))
    return problems


def _cross_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Checks over several keys, on the raw input (so they run even when a field is invalid)."""
    from ..models.registry import model_names, sweep_options

    p: list[Problem] = []
    names = model_names()
    models = data.get("models", ("accounting",))
    models = [models] if isinstance(models, str) else list(models) if isinstance(models, (list, tuple)) else []
    options = data.get("options") or {}
    if isinstance(options, Mapping):
        for model, opts in options.items():
            if model not in names:
                p.append(Problem(f"options.{model}", "is not a model.", did_you_mean(str(model), names)))
                continue
            if model not in models:
                p.append(Problem(f"options.{model}", f"sets options for {model!r}, which is not in models {models}."))
            if not isinstance(opts, Mapping):
                p.append(Problem(f"options.{model}", f"must be a table of options; got {opts!r}."))
                continue
            valid = sweep_options(model)
            for key in opts:
                if key not in valid:
                    hint = did_you_mean(str(key), valid) if valid else ""
                    extra = " Elasticities are set in [elasticities]." if "elastic" in str(key) else ""
                    p.append(Problem(f"options.{model}.{key}",
                                     f"is not an option of {model!r} (valid: {list(valid) or 'none'}).",
                                     (hint + extra).strip()))
    grid, sample = data.get("grid") or {}, data.get("sample")
    params = getattr(sample, "parameters", None) or (sample.get("parameters") if isinstance(sample, Mapping) else None)
    if isinstance(grid, Mapping) and isinstance(params, Mapping):
        both = sorted(set(grid) & set(params))
        if both:
            p.append(Problem("sample.parameters", f"{both} are also in [grid].", "Vary each parameter in one place."))
    return p


def raise_problems(data: Mapping[str, Any], err: ValidationError | None, spec=None) -> None:
    """Raise one ScenarioError with every problem of ``data`` (called by ``SweepSpec.__init__``)."""
    from .spec import MAX_SCENARIOS

    problems = (problems_from(err) if err is not None else []) + _cross_problems(data)
    if spec is not None and not problems and spec.n_scenarios > MAX_SCENARIOS:
        problems.append(Problem("(sweep)", f"describes {spec.n_scenarios:,} scenarios; the limit is "
                                           f"{MAX_SCENARIOS:,}."))
    if problems:
        raise ScenarioError(problems, file=data.get("file") or f"sweep {data.get('name', '?')!r}")


# ------------------------------------------------------------------ names against the schedule
def check_parameters(spec, names) -> None:
    """Raise a :class:`ScenarioError` listing every varied name not among ``names``.

    Parameters
    ----------
    spec : SweepSpec
    names : sequence of str
        :attr:`CompiledSchedule.parameter_names` of the base scenario.
    """
    from .spec import Uniform

    names = [n for n in names if not n.startswith("(")]
    known = set(names)
    problems = []
    tables = (("grid", spec.grid), ("sample.parameters", spec.sample.parameters if spec.sample else {}))
    for where, params in tables:
        for name in params:
            if name not in known:
                hint = did_you_mean(name, names)
                problems.append(Problem(
                    f"{where}.{name!r}", "is not a parameter of the base scenario.",
                    f"{hint} Parameters: {shorten_list(names, 10)} (see CompiledSchedule.parameter_names).".lstrip(),
                ))
    for where, params in tables:
        for name, values in params.items():
            if name.endswith(".enabled") and name in known:
                vals = (values.low, values.high) if isinstance(values, Uniform) else getattr(values, "values", values)
                if isinstance(values, Uniform) or any(v not in (0.0, 1.0) for v in vals):
                    problems.append(Problem(f"{where}.{name!r}", "is an on/off switch: use the values 0 and 1.",
                                            "In [sample.parameters] write { choices = [0, 1] }."))
    if problems:
        raise ScenarioError(problems, file=spec.file or f"sweep {spec.name!r}")


# ------------------------------------------------------------------ reading
def load_sweep(path: str | Path):
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
        Unreadable file or TOML, or any structural problem (all listed at once).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ScenarioError([Problem("(file)", f"file not found: {path}.", "Check the path.")],
                            file=str(path)) from None
    except (IsADirectoryError, PermissionError) as err:
        raise ScenarioError([Problem("(file)", f"cannot be read: {err.strerror}.", "Name a sweep .toml file.")],
                            file=str(path)) from None
    except UnicodeDecodeError as err:
        raise ScenarioError([Problem("(file)", f"is not UTF-8 text (byte {err.start}).", "Save the file as UTF-8.")],
                            file=str(path)) from None
    except (tomllib.TOMLDecodeError, RecursionError) as err:
        raise ScenarioError([Problem("(syntax)", f"not valid TOML: {err}.", "Fix the syntax at that line.")],
                            file=str(path)) from None
    return sweep_from_dict(data, base_dir=path.parent, file=str(path))


def sweep_from_dict(data: Mapping[str, Any], *, base_dir: str | Path = ".", file: str | None = None):
    """Build a :class:`SweepSpec` from a dict with the layout of a sweep file.

    ``scenario`` may be a path (relative to ``base_dir``) or a loaded Scenario.
    """
    from .spec import SweepSpec

    if not isinstance(data, Mapping):
        raise ScenarioError([Problem("(top level)", f"must be a table (dict); got {type(data).__name__}.")], file=file)
    problems: list[Problem] = []
    where = file or f"sweep {data.get('name', '?')!r}"
    fields = dict(data)
    scen = fields.get("scenario")
    if isinstance(scen, (str, Path)):
        scen = Path(base_dir) / scen
        if not str(fields["scenario"]).strip() or not scen.is_file():
            problems.append(Problem(f"scenario = {str(fields['scenario'])!r}", f"file {str(scen)!r} does not exist.",
                                    "The path is relative to the sweep file."))
        fields["scenario"] = scen
    fields.setdefault("name", Path(file).stem if file else "sweep")
    try:
        spec = SweepSpec(**{**fields, "file": file})
    except ScenarioError as err:  # report the file-level and the structural problems together
        raise ScenarioError(problems + err.problems, file=where) from None
    except TypeError as err:  # keys that are not identifiers
        raise ScenarioError(problems + [Problem("(top level)", f"{err}.")], file=where) from None
    if problems:
        raise ScenarioError(problems, file=where)
    return spec


def as_spec(spec):
    """A SweepSpec from a spec, a dict or a sweep file path."""
    from .spec import SweepSpec

    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, (str, Path)):
        return load_sweep(spec)
    if isinstance(spec, Mapping):
        return sweep_from_dict(spec)
    raise DataError(f"expected a SweepSpec, a dict or a sweep file path; got {type(spec).__name__}. "
                    "Pass the path of a sweep .toml file or a dict with its layout.")
