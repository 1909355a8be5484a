"""pydantic validation errors → :class:`~tariffsim.errors.Problem` lines a person can act on.

Belongs here: the wording of structural problems in scenario files (unknown key with a
did-you-mean, missing key, number out of range with the "rates are decimal fractions" hint,
NaN/inf, booleans, literals). Not here: reading files and inheritance (:mod:`.load`), checks
that need the embedded data (:mod:`.check`).
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from ..errors import Problem, did_you_mean

__all__ = ["problems_from_validation"]


def _fmt_loc(prefix: str, loc: tuple) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(top level)"


def problems_from_validation(err: ValidationError, prefix: str, model) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        # drop pydantic's internal union/literal tags
        loc = tuple(x for x in loc if x not in ("literal['mutual_exclusion','additive','max']",))
        path = _fmt_loc(prefix, loc)
        kind = e["type"]
        value = e.get("input")
        if kind == "extra_forbidden":
            name = str(loc[-1]) if loc else "?"
            fields = list(getattr(model, "model_fields", {}))
            hint = did_you_mean(name, fields) or f"Allowed keys: {', '.join(fields)}."
            problems.append(Problem(path, f"unknown key {name!r}.", hint))
        elif kind == "missing":
            problems.append(Problem(path, "required key is missing.", "Add it."))
        elif kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
            ctx = e.get("ctx", {})
            lo, hi = _range_of(model, loc)
            rng = f"[{lo:g}, {hi:g}]" if lo is not None and hi is not None else str(ctx)
            hint = ""
            if isinstance(value, (int, float)) and value > 1 and hi is not None and hi <= 5:
                hint = f"Rates are decimal fractions (0.25 = 25%). Did you mean {value / 100:g}?"
            problems.append(Problem(f"{path} = {value!r}", f"is outside {rng}.", hint))
        elif kind == "finite_number":
            hint = "NaN and inf are not allowed; write a number."
            problems.append(Problem(f"{path} = {value!r}", "is not a finite number.", hint))
        elif kind in ("bool_type", "bool_parsing"):
            problems.append(Problem(f"{path} = {value!r}", "is not a boolean.", "Write true or false, without quotes."))
        elif kind == "value_error":
            shown = value.isoformat() if isinstance(value, dt.date) else value
            msg = str(e.get("ctx", {}).get("error", e["msg"]))
            problems.append(Problem(f"{path} = {shown!r}", msg + "."))
        elif kind == "literal_error":
            expected = e.get("ctx", {}).get("expected", "")
            opts = [o.strip().strip("'") for o in str(expected).replace(" or ", ",").split(",") if o.strip()]
            hint = did_you_mean(str(value), opts) or f"Valid values: {expected}."
            problems.append(Problem(f"{path} = {value!r}", "is not a valid value.", hint))
        else:
            problems.append(
                Problem(
                    f"{path} = {value!r}" if value is not None and not isinstance(value, dict) else path, e["msg"] + "."
                )
            )
    return problems


def _range_of(model, loc):
    """Bounds of the numeric field at ``loc`` (for messages)."""
    name = next((x for x in loc if isinstance(x, str) and x in getattr(model, "model_fields", {})), None)
    if name is None:
        return None, None
    lo = hi = None
    for meta in model.model_fields[name].metadata:
        lo = getattr(meta, "ge", lo) if getattr(meta, "ge", None) is not None else lo
        hi = getattr(meta, "le", hi) if getattr(meta, "le", None) is not None else hi
    if lo is None and hi is None:  # dict[str, Rate] and similar: look inside the annotation
        from .schema import Rate  # noqa: F401  (documented bounds of Rate)

        return 0.0, 5.0
    return lo, hi
