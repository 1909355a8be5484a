"""Command line: thin wrappers over the library. Only this module touches argv and exit codes.

Exit codes: 0 ok, 2 bad input (scenario or data errors, bad arguments), 1 failure (solver
did not converge, unexpected error). User errors print one ``error: ...`` block without a
traceback; ``--debug`` shows it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import warnings
from pathlib import Path

from .errors import ConvergenceError, DataError, ScenarioError, TariffsimError

__all__ = ["main"]

MODELS = ("accounting", "smart", "gsim", "ge")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2025-04-09") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tariffsim", description="Simulate what tariff schedules do to trade, prices, revenue and welfare.")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run scenario file(s) through a model and print the results")
    run.add_argument("files", nargs="+", metavar="FILE", help="scenario TOML file(s); several form a batch")
    run.add_argument("--model", default="accounting", choices=MODELS, help="model to run (default: accounting)")
    run.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    run.add_argument("--out", type=Path, metavar="DIR", help="also write CSV files into DIR")
    run.add_argument("--date", type=_date, help="evaluate the measures in force on this date (YYYY-MM-DD)")
    run.add_argument("--as-published", action="store_true",
                     help="apply retroactive measures only from their published date (what was known that day)")
    run.add_argument("--method", choices=("linear", "exact"), default=None, help="SMART: linear (WITS) or exact CES; GSIM: linear (F&H) or exact (default)")
    run.add_argument("--no-flows", action="store_true", help="leave per-flow rows out of the JSON")

    val = sub.add_parser("validate", help="check scenario files and list every problem")
    val.add_argument("files", nargs="+", metavar="FILE")

    sub.add_parser("datasets", help="list the embedded datasets and their sources")
    _add_optional_commands(sub)
    return p


def _add_optional_commands(sub) -> None:
    """Commands defined in other modules (timeline, compare, sweep) register here."""
    from . import cli_extra

    cli_extra.register(sub)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tariffsim`` command. Returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for bad usage, 0 for --help
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.debug:
        # model warnings are printed as "note:" lines (text) or kept in provenance (JSON)
        warnings.simplefilter("ignore", UserWarning)
    try:
        return int(args.handler(args) if hasattr(args, "handler") else _COMMANDS[args.command](args))
    except (ScenarioError, DataError) as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ConvergenceError as err:
        if args.debug:
            raise
        print(f"error: the solver did not converge: {err}", file=sys.stderr)
        return 1
    except TariffsimError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# ---------------------------------------------------------------------- commands
def _cmd_run(args) -> int:
    from . import report
    from .simulate import simulate

    options = {}
    if args.method is not None:
        if args.model not in ("smart", "gsim"):
            raise DataError(f"--method applies to --model smart or gsim only (got --model {args.model}).")
        options["method"] = args.method
    result = simulate(None, [str(f) for f in args.files], args.model, date=args.date, as_published=args.as_published, **options)
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


def _cmd_validate(args) -> int:
    from .scenario import load_scenario

    failed = 0
    for f in args.files:
        try:
            s = load_scenario(f)
        except ScenarioError as err:
            failed += 1
            print(str(err), file=sys.stderr)
            continue
        kinds = {}
        for m in s.measures:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in kinds.items())
        print(f"ok: {f}: {s.name!r}, {len(s.measures)} measures ({summary})"
              + (f", extends {s.parents[0]}" if s.parents else ""))
    return 2 if failed else 0


def _cmd_datasets(args) -> int:
    from .datasets import datasets_info

    for d in datasets_info():
        print(f"{d['name']}")
        for key in ("description", "year", "source", "licence", "size"):
            if d.get(key) not in (None, ""):
                print(f"    {key:<12}{d[key]}")
    return 0


_COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "datasets": _cmd_datasets}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
