"""The ``tariffsim`` command: argv in, exit code out.

Thin wrappers over the library; nothing in the library imports this package. Layout:
``app`` (the parser, ``--debug``, errors to exit codes), one module per group of
sub-commands (``run``: run/validate/datasets; ``analysis``: timeline/compare; ``sweep``).

Exit codes: 0 ok, 2 bad input (scenario or data errors, bad arguments), 1 failure (solver
did not converge, unexpected library error). User errors print one ``error: ...`` block
without a traceback; ``--debug`` (before or after the sub-command) shows it.
"""

from .app import main

__all__ = ["main"]
