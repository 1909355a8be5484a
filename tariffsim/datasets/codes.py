"""Country, region and sector codes of the embedded tables as plain dicts and sets (no pandas).

What the scenario checks and the schedule's geography need on every run: read once per
process from ``census_countries.csv``, ``icio_regions.csv`` and ``icio_sectors.csv`` (the
DataFrame views of the same files: :func:`~tariffsim.datasets.load_census_countries`,
:func:`~tariffsim.datasets.load_regions`, :func:`~tariffsim.datasets.load_sectors`).
"""

from __future__ import annotations

import functools

from ._files import _columns

__all__ = ["census_icio", "region10_of", "sector_codes"]


@functools.cache
def census_icio() -> dict[str, str]:
    """ISO3 code of each Census partner -> its ICIO economy (``ROW`` outside the 81), 233 codes."""
    t = _columns("census_countries.csv")
    return dict(zip(t["iso3"], t["icio_economy"]))


@functools.cache
def region10_of() -> dict[str, str]:
    """ISO3 code of each of the 81 ICIO economies -> its ``region10`` code."""
    t = _columns("icio_regions.csv")
    return dict(zip(t["iso3"], t["region10"]))


@functools.cache
def sector_codes() -> tuple[str, ...]:
    """The 28 ICIO sector codes in dataset order."""
    return _columns("icio_sectors.csv")["code"]
