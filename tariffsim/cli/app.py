"""The parser and the one place where errors become exit codes.

Exit codes: 0 ok, 2 bad input (scenario or data errors, bad arguments), 1 failure (solver
did not converge, unexpected library error). ``--debug`` is accepted before or after the
sub-command; it shows tracebacks and debug logging. Model warnings (``UserWarning``) are
silenced for the duration of the command only (``warnings.catch_warnings``): the text
report prints them as ``note:`` lines and JSON keeps them in provenance.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from ..errors import ConvergenceError, DataError, ScenarioError, TariffsimError
from . import analysis, run, sweep, timeline

__all__ = ["main", "build_parser"]

#: modules that add sub-commands: each has ``register(subparsers, parents)``
_COMMAND_MODULES = (run, timeline, analysis, sweep)


def build_parser() -> argparse.ArgumentParser:
    """The ``tariffsim`` argument parser (every sub-command sets ``handler``)."""
    p = argparse.ArgumentParser(prog="tariffsim",
                                description="Simulate what tariff schedules do to trade, prices, revenue and welfare.")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    # the same flag after the sub-command; SUPPRESS keeps a flag given before it
    debug_after = argparse.ArgumentParser(add_help=False)
    debug_after.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show tracebacks and debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMAND_MODULES:
        module.register(sub, [debug_after])
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tariffsim`` command. Returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for bad usage, 0 for --help
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.simplefilter("ignore", UserWarning)
            return int(args.handler(args))
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
