"""The law's named data: HTS product lists (Annex II, Section 232) and reciprocal rate tables."""

from __future__ import annotations

import datetime as dt
import functools

from .._lazy import pandas as pd
from ._files import _check_name, _columns, _copy, _csv, _text

__all__ = ["LAW_DATA_CHECKED", "list_names", "load_list",
           "load_list_entries", "list_info", "rate_table_names", "load_rate_table",
           "rate_table_dict"]


#: Last date the embedded law data (HTS 2026 revision 10 chapter 99, the product lists and the
#: measures of scenarios/us_law) were checked against primary sources. Rates on later dates rest
#: on secondary sources (measures whose ``source`` says "verify") or on no news at all.
LAW_DATA_CHECKED = dt.date(2026, 6, 8)


def _lists() -> pd.DataFrame:
    return _csv("lists.csv.gz", (("hts_prefix", str), ("effective_date", str)))


def list_names() -> tuple[str, ...]:
    """Names of the embedded HTS lists, usable as ``list:<name>`` in scenarios."""
    return _columns("lists_meta.csv")["list_name"]


@functools.cache
def _lists_text() -> str:
    return _text("lists.csv.gz")  # list_name,hts_prefix,effective_date; no quoted fields


@functools.cache
def _list_prefixes(name: str) -> tuple[str, ...]:
    """One list's HTS prefixes in source order, read from the file's text without parsing the other lists.

    The rows of a list are consecutive in the file (as ``tools/build_law_lists.py`` writes
    it): the block from the first to the last row starting ``name,`` is cut out at once;
    rows of other lists inside it (never in the shipped file) are skipped.
    """
    text, key = _lists_text(), "\n" + name + ","
    first, last = text.find(key), text.rfind(key)
    if first < 0:
        return ()
    end = text.find("\n", last + 1)
    rows = text[first + 1:end if end >= 0 else len(text)].split("\n")
    head = key[1:]
    return tuple(row.split(",", 2)[1] for row in rows if row.startswith(head))


def load_list(name: str) -> tuple[str, ...]:
    """HTS prefixes (digits only, 2-10 digits) of a named list, in source order.

    Raises
    ------
    DataError
        Unknown name, with the closest valid names.
    """
    _check_name(name, list_names(), "list", "tariffsim.datasets.list_names()")
    return _list_prefixes(name)


def load_list_entries(name: str) -> pd.DataFrame:
    """Entries of a named list with their per-entry ``effective_date`` (may be empty)."""
    _check_name(name, list_names(), "list", "tariffsim.datasets.list_names()")
    lists = _lists()
    return lists.loc[lists["list_name"] == name].reset_index(drop=True).copy()


def list_info() -> pd.DataFrame:
    """One row per list: ``list_name``, ``description``, ``legal_source``, ``effective``, ``n_entries``."""
    return _copy("lists_meta.csv")


# ------------------------------------------------------------------------ rate tables
def rate_table_names() -> tuple[str, ...]:
    """Names of the embedded country rate tables."""
    return tuple(dict.fromkeys(_columns("rate_tables.csv")["table"]))


def rate_table_rows(name: str) -> list[tuple[str, float, str]]:
    """``(iso3, rate, structure)`` of each row of a rate table, in file order (no pandas)."""
    _check_name(name, rate_table_names(), "rate table", "tariffsim.datasets.rate_table_names()")
    t = _columns("rate_tables.csv")
    return [(iso, float(rate), structure)
            for table, iso, rate, structure in zip(t["table"], t["iso3"], t["rate"], t["structure"]) if table == name]


def load_rate_table(name: str) -> pd.DataFrame:
    """A country rate table: ``country_name``, ``iso3``, ``rate`` (decimal), ``structure``
    (``"additive"`` on top of the base rate, or ``"floor"``: total duty = max(rate, base)),
    ``heading``, ``legal_source``, ``note``. One row per ISO3 code.
    """
    _check_name(name, rate_table_names(), "rate table", "tariffsim.datasets.rate_table_names()")
    t = _csv("rate_tables.csv")
    return t.loc[t["table"] == name].drop(columns="table").reset_index(drop=True).copy()


def rate_table_dict(name: str) -> dict[str, float]:
    """``{iso3: rate}`` of a rate table (floors and additive rates alike; check ``structure``)."""
    t = load_rate_table(name)
    return dict(zip(t["iso3"], t["rate"].astype(float)))
