"""``tariffsim timeline`` and ``tariffsim refunds``: the statutory law along dates, by legal authority.

Thin: parse arguments, call :mod:`tariffsim.analysis.timeline` (and :mod:`tariffsim.analysis.refunds`,
:mod:`tariffsim.plot.timeline`), print tables, JSON or CSV. Errors become exit codes in
:func:`tariffsim.cli.main`. Caveats (the date evaluated, the last date the law data were
checked, measures backed only by a secondary source) go to stderr, one line each.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

from ..errors import DataError
from .analysis import _records

__all__ = ["register", "law_notes"]


def register(sub, parents=()) -> None:
    """Add ``timeline`` and ``refunds`` to the ``tariffsim`` sub-command parser."""
    tl = sub.add_parser(
        "timeline", parents=parents,
        help="statutory ETR and duties on US imports, by legal authority, on dates or daily")
    tl.add_argument("file", metavar="FILE", help="scenario TOML file with dated measures")
    tl.add_argument(
        "--dates", metavar="D1,D2,...",
        help="dates YYYY-MM-DD (default: the day before the file's first date, every date on which a measure "
             "starts or stops, and today)")
    tl.add_argument("--partners", default="KOR", metavar="P1,P2",
                    help="US partners besides WORLD (default KOR; 'all' for every partner)")
    tl.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    tl.add_argument("--as-published", action="store_true",
                    help="apply retroactive measures only from their published date (what was known that day)")
    tl.add_argument("--from", dest="start", metavar="D", help="first day of a daily series (YYYY-MM-DD)")
    tl.add_argument("--to", dest="end", metavar="D", help="last day of a daily series (YYYY-MM-DD)")
    tl.add_argument("--daily", action="store_true",
                    help="daily series by authority from --from to --to (default: the file's first to last date)")
    tl.add_argument("--out", type=Path, metavar="FILE.csv", help="write the daily series as CSV")
    tl.add_argument("--figure", type=Path, metavar="PATH.png",
                    help="draw the daily ETR by authority (stacked) of --partner into PATH")
    tl.add_argument("--partner", default="WORLD", metavar="ISO3",
                    help="the partner the figure shows (default WORLD = all partners)")
    tl.set_defaults(handler=_cmd_timeline)

    rf = sub.add_parser(
        "refunds", parents=parents,
        help="IEEPA refund exposure: statutory IEEPA duties at 2024 flows to 2026-02-23, by partner (estimate)")
    rf.add_argument("file", metavar="FILE", help="dated US law file with authority labels")
    rf.add_argument("--partners", default=None, metavar="P1,P2",
                    help="partners to show (default: the --top largest; 'all' for every partner)")
    rf.add_argument("--top", type=int, default=15, metavar="N", help="largest N partners (default 15)")
    rf.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    rf.add_argument("--as-published", action="store_true", help="retroactive measures from their published date")
    rf.set_defaults(handler=_cmd_refunds)


def _partners(text: str | None):
    if text is None or text.strip().lower() == "all":
        return None
    return [p.strip().upper() for p in text.split(",") if p.strip()]


def _day(text: str | None, flag: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise DataError(f"{flag} {text!r} is not a date; write YYYY-MM-DD, e.g. 2025-04-09.") from None


def law_notes(dates, verify, *, default: str | None = None) -> list[str]:
    """stderr lines: the date(s) evaluated, the last date the law data were checked, verify flags."""
    from ..datasets import LAW_DATA_CHECKED
    from ..simulate import verify_note

    dates = sorted(dates)
    out = []
    span = dates[0].isoformat() if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
    late = dates[-1] > LAW_DATA_CHECKED
    out.append(f"date: law in force on {span}{f' ({default})' if default else ''}; law data last checked "
               f"{LAW_DATA_CHECKED}" + (f" — measures after {LAW_DATA_CHECKED} are from secondary sources; "
                                         "see `verify` flags" if late else ""))
    if verify:
        out.append("warning: " + verify_note(list(verify)))
    return out


def _note(lines) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _cmd_timeline(args) -> int:
    if args.daily or args.start or args.end or args.figure or args.out:
        if args.dates:
            raise DataError("--dates evaluates given days; --from/--to/--daily/--figure/--out give a daily series. "
                            "Use one or the other.")
        return _daily(args)
    from ..analysis.timeline import timeline_by_authority

    why = None
    if args.dates:
        dates = [d for d in args.dates.split(",") if d.strip()]
    else:
        dates, why = default_dates(args.file, as_published=args.as_published)
    split, frame = timeline_by_authority(args.file, dates, partners=_partners(args.partners),
                                         as_published=args.as_published, with_totals=True)
    _note(law_notes(set(frame["date"]), frame.attrs["verify"], default=why))
    if args.json:
        records = _records(frame)
        nonzero = split[(split["duties_usd_mn"] != 0) | (split["authority"] == "mfn")]
        groups = {k: g for k, g in nonzero.groupby(["date", "partner"], sort=False)}
        for rec, (d, p) in zip(records, zip(frame["date"], frame["partner"])):
            g = groups.get((d, p))
            rec["by_authority"] = {} if g is None else {
                a: {"duties_usd_bn": v / 1e3, "etr": e if math.isfinite(e) else None}
                for a, v, e in zip(g["authority"], g["duties_usd_mn"], g["etr"])
            }
        json.dump(records, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    print(_totals_table(frame))
    print()
    print(_authority_table(split))
    return 0


def default_dates(file, *, as_published: bool = False) -> tuple[list[dt.date], str]:
    """The dates ``timeline`` evaluates without ``--dates``, and why (for the date line).

    The day before the file's first date, every date on which a measure starts or stops
    (:func:`tariffsim.analysis.timeline.timeline_dates`; with ``as_published``, the published
    dates too) and today (``datetime.date.today()``), as ``run`` evaluates a dated file that
    sets no ``effective`` on today's law.
    """
    from ..analysis.timeline import change_dates, timeline_dates

    known = timeline_dates(file)
    if not known:
        raise DataError(f"{file}: no dated measures; pass --dates D1,D2 (YYYY-MM-DD).")
    if as_published:
        known = sorted(set(known) | set(change_dates(file, known[0], known[-1], as_published=True)))
    today = dt.date.today()
    dates = sorted(set(known) | {today})
    why = (f"the {len(known)} dates on which the file's law changes, counting the day before the first, and "
           f"today {today}; pass --dates to choose")
    return dates, why


def _totals_table(frame) -> str:
    show = frame.drop(columns=["measures"]).copy()
    show["etr"] = show["etr"].map(lambda v: f"{100 * v:6.2f}%")
    show["etr_base"] = show["etr_base"].map(lambda v: f"{100 * v:6.2f}%")
    show["imports_usd_bn"] = show["imports_usd_bn"].map(lambda v: f"{v:,.1f}")
    show["duties_usd_bn"] = show["duties_usd_bn"].map(lambda v: f"{v:,.2f}")
    head = (f"Statutory US tariff rates along {frame.attrs.get('file') or frame.attrs.get('scenario')}\n"
            "(2024 US imports for consumption, customs value, USD bn; rates in force on each date)\n")
    return head + show.to_string(index=False)


def _authority_table(split) -> str:
    """Pivot: (date, partner) x authority, ETR in percentage points; authorities with no duty left out."""
    from ..analysis.timeline import authority_label

    used = split.groupby("authority", sort=False)["duties_usd_mn"].apply(lambda s: (s != 0).any())
    keep = [a for a in used.index if used[a]]
    part = split[split["authority"].isin(keep)]
    table = part.pivot_table(index=["date", "partner"], columns="authority", values="etr", sort=False,
                             aggfunc="sum")[keep] * 100.0
    table.columns = [authority_label(a, short=True) for a in keep]
    table["total"] = table.sum(axis=1)
    text = table.to_string(float_format=lambda v: f"{v:.2f}")
    return ("Statutory ETR by legal authority, percentage points of 2024 customs value "
            "(the row sums to the ETR above; duties = pp x imports)\n" + text)


def _daily(args) -> int:
    from ..analysis.timeline import daily_timeline, timeline_dates, unverified

    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if start is None or end is None:
        known = timeline_dates(args.file)
        if not known:
            raise DataError(f"{args.file}: no dated measures; pass --from and --to (YYYY-MM-DD).")
        start, end = start or known[0], end or known[-1]
    partners = _partners(args.partners)
    if args.partner.upper() != "WORLD" and partners is not None and args.partner.upper() not in partners:
        partners = partners + [args.partner.upper()]
    series = daily_timeline(args.file, start, end, partners=partners, as_published=args.as_published)
    changes = series.attrs["changes"]
    _note(law_notes([start, end], unverified(args.file, changes, as_published=args.as_published),
                    default=f"daily, {len(changes)} change dates evaluated"))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        series.to_csv(args.out, index=False)
    if args.figure:
        from ..plot.timeline import plot_authority_timeline, save

        ax = plot_authority_timeline(series, partner=args.partner.upper())
        save(ax, args.figure)
    if args.json:
        json.dump(_records(series), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    n = series["date"].nunique()
    print(f"Daily statutory US tariff rates by legal authority, {start} to {end} ({n} days; the law changes on "
          f"{len(changes)} of them, shown below)")
    print(_authority_table(series[series["date"].isin(changes)]))
    for path, what in ((args.out, "CSV"), (args.figure, "figure")):
        if path:
            print(f"{what} written to {path}")
    return 0


def _cmd_refunds(args) -> int:
    from ..analysis.refunds import ieepa_refund_exposure
    from ..analysis.timeline import authority_label

    frame = ieepa_refund_exposure(args.file, as_published=args.as_published)
    start, end = frame.attrs["window"]
    _note(law_notes([start, end], frame.attrs["verify"],
                    default="the IEEPA window: first IEEPA duty in the file to the last day CBP collected"))
    partners = _partners(args.partners)
    order = list(dict.fromkeys(frame["partner"]))
    if partners is None and args.partners is None:
        owed = frame[frame["authority"] == "all_ieepa"].set_index("partner")["duties_usd_bn"]
        partners = [p for p in order if p != "WORLD" and owed.get(p, 0.0) > 0][: args.top]
    if partners is not None:
        missing = [p for p in partners if p not in order]
        if missing:
            raise DataError(f"no IEEPA duties for {missing} in {args.file}; partners are ISO3 codes such as KOR.")
        frame = frame[frame["partner"].isin(["WORLD"] + partners)]
    label = (f"IEEPA refund exposure, {start} to {end}: statutory IEEPA duties at 2024 import values (USD bn). "
             f"An estimate of liability under the law {'as published' if args.as_published else 'as applied'}, "
             "NOT collections (imports fell; no behaviour).")
    if args.json:
        doc = {"note": label, "start": start.isoformat(), "end": end.isoformat(), "rows": _records(frame)}
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    table = frame.pivot_table(index="partner", columns="authority", values="duties_usd_bn", sort=False,
                              aggfunc="sum")
    cols = [c for c in table.columns if c != "all_ieepa"] + ["all_ieepa"]
    table = table[cols]
    table.columns = [("all IEEPA" if c == "all_ieepa" else authority_label(c, short=True)) for c in cols]
    print(label)
    print(table.to_string(float_format=lambda v: f"{v:,.2f}"))
    return 0
