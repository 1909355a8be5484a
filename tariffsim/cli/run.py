"""``tariffsim run``, ``tariffsim validate``, ``tariffsim datasets``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ..errors import DataError, ScenarioError
from ..models.registry import get_model, model_names

__all__ = ["register"]


#: --accelerate choices -> the models' ``accelerate`` option
_ACCELERATE = {"auto": None, "on": True, "off": False}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2025-04-09") from None


def register(sub, parents) -> None:
    """Add ``run``, ``validate`` and ``datasets``."""
    run = sub.add_parser("run", parents=parents, help="run scenario file(s) through a model and print the results")
    run.add_argument("files", nargs="+", metavar="FILE", help="scenario TOML file(s); several form a batch")
    run.add_argument("--model", default="accounting", choices=model_names(), help="model to run (default: accounting)")
    run.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    run.add_argument("--out", type=Path, metavar="DIR", help="also write CSV files into DIR")
    run.add_argument("--date", type=_date, help="evaluate the measures in force on this date (YYYY-MM-DD)")
    run.add_argument("--as-published", action="store_true",
                     help="apply retroactive measures only from their published date (what was known that day)")
    methods = {c: None for m in model_names() for o in get_model(m).options if o.name == "method" for c in o.choices}
    run.add_argument("--method", choices=tuple(methods), default=None,
                     help="SMART: linear (WITS) or exact CES; GSIM: linear (F&H) or exact (default)")
    run.add_argument("--tol", type=float, default=None, metavar="X",
                     help="solver tolerance (gsim, ge; default: the model's)")
    run.add_argument("--max-iter", type=int, default=None, metavar="N",
                     help="solver iteration limit (gsim, ge; default: the model's); exit code 1 if not converged")
    run.add_argument("--accelerate", choices=tuple(_ACCELERATE), default=None,
                     help="ge: the compiled (numba) solver when installed (auto, the default), required (on), "
                          "or pure numpy (off)")
    run.add_argument("--no-flows", action="store_true", help="leave per-flow rows out of the JSON")
    run.set_defaults(handler=_cmd_run)

    val = sub.add_parser("validate", parents=parents, help="check scenario files and list every problem")
    val.add_argument("files", nargs="+", metavar="FILE")
    val.set_defaults(handler=_cmd_validate)

    ds = sub.add_parser("datasets", parents=parents, help="list the embedded datasets and their sources")
    ds.set_defaults(handler=_cmd_datasets)


def _cmd_run(args) -> int:
    from ..analysis import report
    from ..simulate import simulate

    options = {}
    for flag, name in (("--method", "method"), ("--tol", "tol"), ("--max-iter", "max_iter"),
                       ("--accelerate", "accelerate")):
        value = getattr(args, name)
        if value is None:
            continue
        if name == "accelerate":
            value = _ACCELERATE[value]
        if name not in get_model(args.model).option_names:
            takes = [m for m in model_names() if name in get_model(m).option_names]
            raise DataError(f"{flag} applies to --model {' or '.join(takes)} only (got --model {args.model}).")
        options[name] = value
    from ..scenario import load_scenario

    scenarios = [load_scenario(f) for f in args.files]  # read once: for the date and for simulate
    date, dated, why = _run_date(scenarios, args.date)
    result = simulate(None, scenarios, args.model, date=date, as_published=args.as_published, **options)
    if dated:
        from .timeline import law_notes

        for line in law_notes([dated], result.provenance.get("verify", []), default=why):
            print(line, file=sys.stderr)
    if args.out:
        report.write_csv(result, args.out)
    if args.json:
        json.dump(result.to_dict(flows=not args.no_flows), sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report.text_report(result))
        if args.out:
            sys.stdout.write(f"\nCSV files written to {args.out}\n")
    return 0


def _run_date(scenarios, date: dt.date | None):
    """(date passed to simulate, date evaluated or None if undated, why) for ``run``.

    ``--date`` wins; else a file's own ``effective``; else, for a file whose measures carry
    ``effective`` / ``until`` dates, the law in force today (``datetime.date.today()``).
    Files without dated measures have no date (every measure applies). ``scenarios``: the
    loaded files.
    """
    if date is not None:
        return date, date, "--date"
    own = {s.effective for s in scenarios if s.effective is not None}
    dated = any(m.effective or m.until for s in scenarios for m in s.measures)
    if own:
        return None, max(own), "the file's `effective`"
    if dated:
        today = dt.date.today()
        return today, today, "today: the file sets no `effective`; pass --date to choose"
    return None, None, None


def _cmd_validate(args) -> int:
    from ..scenario import load_scenario

    failed = 0
    for f in args.files:
        try:
            s = load_scenario(f)
        except ScenarioError as err:
            failed += 1
            print(str(err), file=sys.stderr)
            continue
        kinds: dict[str, int] = {}
        for m in s.measures:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in kinds.items())
        print(f"ok: {f}: {s.name!r}, {len(s.measures)} measures ({summary})"
              + (f", extends {s.parents[0]}" if s.parents else ""))
    return 2 if failed else 0


def _cmd_datasets(args) -> int:
    from ..datasets import datasets_info

    for d in datasets_info():
        print(f"{d['name']}")
        for key in ("description", "year", "source", "licence", "size"):
            if d.get(key) not in (None, ""):
                print(f"    {key:<12}{d[key]}")
    return 0
