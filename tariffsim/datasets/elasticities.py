"""Published trade elasticities by ICIO sector."""

from __future__ import annotations

from .._lazy import pandas as pd
from ..errors import DataError, did_you_mean
from ._files import _copy, _csv

__all__ = ["elasticity_sources", "load_elasticity_table", "load_elasticities"]

_ELASTICITY_SOURCES = ("cp2015", "fgo2022", "shapiro2016", "ll2023", "gyy2021")


def elasticity_sources() -> tuple[str, ...]:
    """Valid ``source`` names for :func:`load_elasticities`."""
    return _ELASTICITY_SOURCES


def load_elasticity_table() -> pd.DataFrame:
    """All elasticity sources by ICIO sector: values, ``se_<source>``, the source sectors
    used for each mapping (``<source>_source_sector``) and ``serv_assumed``."""
    return _copy("elasticities_icio28.csv").set_index("sector")


def load_elasticities(source: str = "cp2015") -> pd.Series:
    """Trade elasticities (positive) for the 28 ICIO sectors from one published source.

    Parameters
    ----------
    source : {"cp2015", "fgo2022", "shapiro2016", "ll2023", "gyy2021"}
        Caliendo & Parro (2015) Table 1 99% sample; Fontagné, Guimbard & Orefice (2022)
        Table 8 (absolute value); Shapiro (2016) Table 2 col. 4 (absolute value);
        Lashkaripour & Lugovskyy (2023) Table 3 (σ−1); Giri, Yi & Yilmazkuday (2021) Table 2.

    Returns
    -------
    Series indexed by sector code (28), name = source. SERV is an assumed 5.0 for every
    source (Head & Mayer 2014); see ``load_elasticity_table()["serv_assumed"]``.
    """
    if source not in _ELASTICITY_SOURCES:
        raise DataError(
            f"unknown elasticity source {source!r}. "
            + (did_you_mean(source, _ELASTICITY_SOURCES) + " ").lstrip()
            + f"Valid sources: {list(_ELASTICITY_SOURCES)}."
        )
    return _csv("elasticities_icio28.csv").set_index("sector")[source].astype(float).rename(source).copy()
