"""``tariffsim compare`` (``timeline`` and ``refunds`` are in :mod:`tariffsim.cli.timeline`).

Thin: parse arguments, call
:func:`tariffsim.analysis.compare.compare`, print a table or JSON records. Errors are turned into
exit codes by :func:`tariffsim.cli.main`.
"""

from __future__ import annotations

import json
import math
import sys

from ..models.registry import model_names

__all__ = ["register"]


def register(sub, parents=()) -> None:
    """Add ``compare`` to the ``tariffsim`` sub-command parser."""
    cp = sub.add_parser(
        "compare", parents=parents, help="key outputs of scenario files under several models, in one table"
    )
    cp.add_argument("files", nargs="+", metavar="FILE", help="scenario TOML files")
    every = ",".join(model_names())
    cp.add_argument("--models", default=every, metavar="M1,M2", help=f"comma-separated models (default: {every})")
    cp.add_argument(
        "--smart-method",
        choices=("linear", "exact"),
        default=None,
        help="SMART formulas: exact CES (the model's default; tariff changes in these comparisons are large, "
        "where the linear WITS formulas overshoot) or linear (WITS)",
    )
    cp.add_argument(
        "--focus",
        default="KOR,USA",
        metavar="PARTNER,HOME",
        help="the two countries the columns describe: the partner's exports to the home country and "
        "the home country's tariffs (default: KOR,USA)",
    )
    cp.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    cp.set_defaults(handler=_cmd_compare)


def _records(frame) -> list[dict]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            clean[k] = v
        out.append(clean)
    return out


def _cmd_compare(args) -> int:
    from ..analysis.compare import compare

    focus = tuple(c.strip().upper() for c in args.focus.split(",") if c.strip())
    options = {"smart": {"method": args.smart_method}} if args.smart_method else {}  # else the model's default
    frame = compare(args.files, args.models, options=options, focus=focus)
    columns = list(frame.attrs["columns"])
    if args.json:
        doc = {
            "rows": _records(frame),
            "columns": frame.attrs["columns"],
            "footnotes": frame.attrs["footnotes"],
            "notes": frame.attrs["notes"],
        }
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    show = frame.drop(columns=["file"]).copy()
    for col in columns:
        if "etr" in col:
            show[col] = show[col].map(lambda v: "" if v != v else f"{100 * v:.2f}%")
        else:
            show[col] = show[col].map(lambda v: "" if v != v else f"{v:,.3f}")
    print(
        "Scenarios x models (USD bn; percent; ETR = trade-weighted tariff on goods). Empty = not produced, see notes."
    )
    print(show.to_string(index=False))
    print()
    for k, note in enumerate(frame.attrs["footnotes"], 1):
        print(f"[{k}] {note}")
    for note in frame.attrs["notes"]:
        print(f"note: {note}")
    return 0
