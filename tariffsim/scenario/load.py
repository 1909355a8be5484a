"""Read scenario files: TOML → validated, inheritance-resolved :class:`Scenario`.

Belongs here: reading TOML, resolving ``extends`` / ``disable`` / ``overrides`` with a
documented precedence, and turning pydantic's errors into :class:`~tariffsim.errors.Problem`
lines (file → key path → offending value → hint). Checks that need the embedded data
(country codes, list names) are in :mod:`tariffsim.scenario.check`.

Precedence (later wins): the parent file's measures → the child's ``[[measure]]`` entries
(an entry with an inherited id replaces that measure whole) → the child's
``[overrides.ID]`` tables (replace single fields of a measure) → the child's ``disable``.
Every replacement is recorded in :attr:`Scenario.applied_overrides`.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, ScenarioError, did_you_mean
from .law import in_force_on, link_replacements
from .messages import problems_from_validation
from .schema import MEASURE_KINDS, MEASURE_MODELS, MODEL_NAMES, ParameterSpec, ScenarioFile, WorldSpec

__all__ = ["Scenario", "load_scenario", "scenario_from_dict"]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with inheritance resolved.

    Attributes
    ----------
    name, description : str
    measures : tuple of measure models (see :mod:`tariffsim.scenario.schema`)
    effective : date or None
        The date the scenario describes; only measures in force that day apply.
    stacking : str
        Named stacking rule (``mutual_exclusion``, ``additive``, ``max``).
    models : tuple of str
        Models the scenario declares it is meant for.
    world, parameters : WorldSpec, ParameterSpec
    file : str or None
        Path of the file it was read from.
    parents : tuple of str
        Files it extends, nearest first.
    applied_overrides : tuple of str
        Human-readable record of replaced and disabled measures.
    """

    name: str
    measures: tuple
    description: str = ""
    effective: dt.date | None = None
    stacking: str = "mutual_exclusion"
    models: tuple[str, ...] = MODEL_NAMES
    world: WorldSpec = field(default_factory=WorldSpec)
    parameters: ParameterSpec = field(default_factory=ParameterSpec)
    file: str | None = None
    parents: tuple[str, ...] = ()
    applied_overrides: tuple[str, ...] = ()
    origins: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        # measures named in another's `replaces` learn when it starts (scenario.law.end_of)
        object.__setattr__(self, "measures", link_replacements(self.measures))

    def origin(self, measure_id: str) -> tuple[str | None, str]:
        """(file, key path) where a measure was defined, for error messages."""
        for mid, file, path in self.origins:
            if mid == measure_id:
                return file, path
        return self.file, f"measure[id={measure_id}]"

    def measure(self, measure_id: str):
        """The measure with this id (KeyError with suggestions if absent)."""
        for m in self.measures:
            if m.id == measure_id:
                return m
        ids = [m.id for m in self.measures]
        raise KeyError(
            f"no measure {measure_id!r} in scenario {self.name!r}; it has {ids}. {did_you_mean(measure_id, ids)}"
        )

    def in_force(self, date: dt.date | None = None, *, as_published: bool = False) -> tuple:
        """Measures in force on ``date`` (default: the scenario's ``effective`` date; none = all).

        With ``as_published=True`` a measure with a ``published`` date applies only from
        max(effective, published): what was known on ``date`` (retroactive amendments are
        not yet in force before they are published), and a measure it ``replaces`` runs
        until then.
        """
        date = date or self.effective
        if date is None:
            return self.measures
        return tuple(m for m in self.measures if in_force_on(m, date, as_published))

    def with_date(self, date: dt.date) -> Scenario:
        """The same scenario evaluated on another date."""
        return _replace(self, effective=date, name=f"{self.name}@{date.isoformat()}")


def _replace(obj, **changes):
    from dataclasses import replace

    return replace(obj, **changes)


# --------------------------------------------------------------------------- parsing
def _validate_measure(
    raw: Any, index: int, problems: list[Problem], prefix: str = "measure", salvage: list | None = None
):
    path = f"{prefix}[{index}]"
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, f"must be a table, got {type(raw).__name__}."))
        return None
    kind = raw.get("kind")
    if kind is not None and not isinstance(kind, str):
        problems.append(Problem(f"{path}.kind = {kind!r}", f"must be a string, got {type(kind).__name__}.",
                                f"Choose one of {', '.join(MEASURE_KINDS)}, e.g. kind = \"item\"."))
        return None
    if kind is None:
        problems.append(Problem(f"{path}.kind", "is missing.", f"Choose one of {', '.join(MEASURE_KINDS)}."))
        return None
    if kind not in MEASURE_MODELS:
        hint = did_you_mean(str(kind), MEASURE_KINDS) or f"Valid kinds: {', '.join(MEASURE_KINDS)}."
        problems.append(Problem(f"{path}.kind = {kind!r}", "is not a measure kind.", hint))
        return None
    model = MEASURE_MODELS[kind]
    try:
        return model.model_validate(dict(raw))
    except ValidationError as err:
        problems.extend(problems_from_validation(err, path, model))
        if salvage is not None:  # unvalidated copy, so the data checks can still look at it
            fields = {k: v for k, v in raw.items() if k in model.model_fields}
            fields.setdefault("id", f"#{index}")
            salvage.append((index, model.model_construct(**fields)))
        return None


def _measure_order(path: str) -> tuple[int, str]:
    """Sort key: top-level keys first, then measures in file order."""
    import re

    hit = re.search(r"measure\[(\d+)\]", path)
    return (int(hit.group(1)) + 1 if hit else 0, "")


def _read_toml(path: Path) -> dict:
    """Parse a TOML file; every way it can fail becomes one ScenarioError naming the file."""

    def fail(message: str, hint: str) -> ScenarioError:
        return ScenarioError([Problem("(file)", message, hint)], file=str(path))

    if path.is_dir():
        raise fail(f"{path} is a folder, not a scenario file.", "Name a .toml file.")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        hint = "Check the path (relative paths are from the current directory)."
        raise fail(f"file not found: {path}.", hint) from None
    except OSError as err:
        raise fail(f"cannot be read: {err.strerror or err}.", "Check the path and its permissions.") from None
    try:
        text = raw.decode("utf-8-sig")  # a leading byte-order mark is harmless: drop it
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise fail(f"is not UTF-8 text: byte {raw[err.start]:#04x} at line {line}.",
                   "Save the file as UTF-8 (TOML files must be UTF-8).") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise fail(f"not valid TOML: {err}.", "Fix the syntax at that line.") from None
    except RecursionError:
        hint = "Scenario files need at most a few levels of nesting."
        raise fail("nests arrays or tables too deeply to read.", hint) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario file.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` scenario file. ``extends`` paths are relative to it.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Listing every problem found (file → key path → value → hint).
    """
    path = Path(path)
    return _load(path, chain=())


def scenario_from_dict(data: Mapping[str, Any], *, base_dir: str | Path = ".", file: str | None = None) -> Scenario:
    """Validate and resolve a scenario given as a dict (the TOML structure).

    ``extends`` is resolved relative to ``base_dir``.
    """
    return _resolve(dict(data), Path(base_dir), file, chain=())


def _load(path: Path, chain: tuple[Path, ...]) -> Scenario:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " → ".join(str(p) for p in (*chain, resolved))
        raise ScenarioError(
            [Problem("extends", f"inheritance cycle: {cycle}.", "Remove one of the `extends`.")], file=str(path)
        )
    data = _read_toml(path)
    return _resolve(data, path.parent, str(path), chain=(*chain, resolved))


def _resolve(data: dict, base_dir: Path, file: str | None, chain: tuple[Path, ...]) -> Scenario:
    """Validate one file's dict, load its parent, merge them (precedence in the module docstring)."""
    from .check import check_scenario

    top, own, salvaged, problems = _parse_own(data)
    parent = _load_parent(top, base_dir, chain, problems)
    if problems:
        _raise_all(problems, own, salvaged, data, file)
    label = file or top.name
    applied: list[str] = list(parent.applied_overrides) if parent else []
    measures: dict[str, Any] = {m.id: m for m in parent.measures} if parent else {}
    origins: dict[str, tuple[str, str, str]] = {o[0]: o for o in parent.origins} if parent else {}
    for k, m in enumerate(own):
        origins[m.id] = (m.id, file or "", f"measure[{k}]")
        if m.id in measures:
            applied.append(f"{label}: measure {m.id!r} replaces the inherited one")
        measures[m.id] = m
    _apply_overrides(top, measures, origins, applied, problems, file, label)
    _apply_disable(top, measures, applied, problems, label)
    if problems:
        raise ScenarioError(problems, file=file)

    def pick(key, default):  # settings: the child's explicit keys win over the parent's
        if key in data:
            return getattr(top, key)
        return getattr(parent, key) if parent else default

    scenario = Scenario(
        name=top.name, description=top.description, measures=tuple(measures.values()),
        effective=pick("effective", None), stacking=pick("stacking", "mutual_exclusion"),
        models=pick("models", top.models), world=pick("world", top.world),
        parameters=pick("parameters", top.parameters), file=file,
        parents=((parent.file,) + parent.parents) if parent and parent.file else (),
        applied_overrides=tuple(applied), origins=tuple(origins[m] for m in measures),
    )
    check_scenario(scenario)
    return scenario


def _parse_own(data: dict):
    """The file's top-level settings and its own measures, validated; problems collected, not raised."""
    problems: list[Problem] = []
    raw_measures = data.get("measure", [])
    if not isinstance(raw_measures, list):
        problems.append(Problem("measure", "must be an array of tables ([[measure]])."))
        raw_measures = []
    try:
        top = ScenarioFile.model_validate({**data, "measure": ()})
    except ValidationError as err:
        problems.extend(problems_from_validation(err, "", ScenarioFile))
        top = None
    salvaged: list = []
    own = [_validate_measure(m, k, problems, salvage=salvaged) for k, m in enumerate(raw_measures)]
    seen: dict[str, int] = {}
    for k, m in enumerate(own):
        if m is None:
            continue
        if m.id in seen:
            problems.append(Problem(f"measure[{k}].id = {m.id!r}", f"is already used by measure[{seen[m.id]}].",
                                    "Give each measure a unique id."))
        seen[m.id] = k
    return top, own, salvaged, problems


def _load_parent(top, base_dir: Path, chain: tuple[Path, ...], problems: list[Problem]) -> Scenario | None:
    """The scenario ``extends`` names (None if none or unusable; problems appended)."""
    if top is None or top.extends is None:
        return None
    if not top.extends.strip():
        hint = 'Name the parent file (e.g. extends = "baseline_2024.toml") or delete the key.'
        problems.append(Problem("extends = ''", "is empty.", hint))
        return None
    ppath = base_dir / top.extends
    if ppath.is_dir():
        problems.append(Problem(f"extends = {top.extends!r}", f"is a folder ({ppath}).", "Name a .toml file in it."))
        return None
    try:
        return _load(ppath, chain)
    except ScenarioError as err:
        if ppath.exists():
            raise ScenarioError(err.problems + problems, file=err.file) from None
        problems.append(Problem(f"extends = {top.extends!r}", f"no such file ({ppath}).",
                                "Paths are relative to this file."))
        return None


def _raise_all(problems: list[Problem], own: list, salvaged: list, data: dict, file: str | None) -> None:
    """Raise every problem of the file at once, the data checks of what did parse included."""
    from .check import check_scenario

    usable = [(k, m) for k, m in enumerate(own) if m is not None] + salvaged
    partial = Scenario(name=str(data.get("name", "?")), measures=tuple(m for _, m in usable), file=file,
                       origins=tuple((m.id, file or "", f"measure[{k}]") for k, m in usable))
    try:
        check_scenario(partial)
    except ScenarioError as err:
        problems.extend(err.problems)
    except (TypeError, AttributeError, ValueError):
        pass  # a salvaged measure too malformed to check further; its structural problems are listed
    problems.sort(key=lambda p: _measure_order(p.path))
    raise ScenarioError(problems, file=file)


def _apply_overrides(top, measures: dict, origins: dict, applied: list, problems: list, file, label: str) -> None:
    """``[overrides.ID]``: replace single fields of inherited measures (validated again)."""
    for mid, patch in top.overrides.items():
        if mid not in measures:
            problems.append(Problem(f"overrides.{mid}", f"no measure {mid!r} to override.",
                                    did_you_mean(mid, measures) or f"Known: {list(measures)}."))
            continue
        if not isinstance(patch, Mapping):
            problems.append(Problem(f"overrides.{mid}", "must be a table of fields."))
            continue
        merged = {**measures[mid].model_dump(), **patch}
        new = _validate_measure(merged, 0, sub := [], prefix=f"overrides.{mid}")
        for p in sub:
            p.path = p.path.replace(f"overrides.{mid}[0]", f"overrides.{mid}")
        problems.extend(sub)
        if new is not None:
            measures[mid] = new
            origins[mid] = (mid, file or "", f"overrides.{mid}")
            applied.append(f"{label}: overrides {mid}." + ", ".join(f"{k}={v!r}" for k, v in patch.items()))


def _apply_disable(top, measures: dict, applied: list, problems: list, label: str) -> None:
    """``disable``: drop inherited measures, and references to them (an exemption of nothing goes too)."""
    for mid in top.disable:
        if mid not in measures:
            problems.append(Problem(f"disable = {mid!r}", "names no inherited measure.",
                                    did_you_mean(mid, measures) or f"Known: {list(measures)}."))
            continue
        del measures[mid]
        applied.append(f"{label}: disables {mid}")
    gone = set(top.disable)
    for mid, m in list(measures.items()):
        refs = getattr(m, "measures", ())
        exempt = getattr(m, "exempt", ())
        kept_refs = tuple(r for r in refs if r not in gone)
        kept_exempt = tuple(e for e in exempt if not (e.startswith("measure:") and e[8:] in gone))
        kept_replaces = tuple(r for r in m.replaces if r not in gone)
        if kept_refs == tuple(refs) and kept_exempt == tuple(exempt) and kept_replaces == m.replaces:
            continue
        update = {"replaces": kept_replaces}
        if m.kind == "exemption":
            if not kept_refs and refs:
                del measures[mid]
                applied.append(f"{label}: disables {mid} (every measure it lifted is disabled)")
                continue
            update["measures"] = kept_refs
        if hasattr(m, "exempt"):
            update["exempt"] = kept_exempt
        measures[mid] = m.model_copy(update=update)
        applied.append(f"{label}: drops references of {mid} to disabled measures")
