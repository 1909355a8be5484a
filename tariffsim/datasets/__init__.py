"""Embedded datasets and their loaders.

Belongs here: reading the package-data files written by ``tools/build_datasets.py``
(through :mod:`importlib.resources`), caching them, and handing out copies or read-only
views so that no caller can corrupt the cache. Does not belong here: building the files
from raw sources (``tools/build_datasets.py``), tariff logic (``tariffsim.schedule``).
Provenance, licences and known gaps of every file: ``PROVENANCE.md`` next to this module.

Loaders
-------
load_world            OECD ICIO 2022 flows as a :class:`~tariffsim.world.TradeWorld`
goods_sectors         the 27 ICIO goods sector codes (SERV excluded)
load_sectors          sector table (code, description, is_goods)
load_census_countries Census partner code -> ISO3, ICIO economy, region
load_concordance      GTAP -> ICIO map and HS-prefix overrides
load_us_lines         2024 US imports by HS10 x partner with base tariff rates (DataFrame)
load_us_product_lines the same lines as a ProductLines (the schedule compiler's input)
load_us_product_lines_2026 / load_hts2026   the same lines with the HTS 2026 rates and codes
read_caliendo_parro / read_gravity_long   third-party research files (``datasets.readers``)
list_names / load_list / list_info          named HTS lists (Annex II, Section 232)
LAW_DATA_CHECKED      last date the embedded law data were checked (date)
rate_table_names / load_rate_table / rate_table_dict   2025 reciprocal rates
elasticity_sources / load_elasticities / load_elasticity_table
datasets_info         name, description, source, licence, year, size of each file
"""

from __future__ import annotations

from ._files import _npz  # noqa: F401  (tests check the cache is read-only)
from .catalogue import datasets_info
from .elasticities import elasticity_sources, load_elasticities, load_elasticity_table
from .hts2026 import load_hts2026, load_us_product_lines_2026
from .icio import ICIO_SOURCE, REGION10, goods_sectors, load_regions, load_sectors, load_world
from .law import (
    LAW_DATA_CHECKED,
    list_info,
    list_names,
    load_list,
    load_list_entries,
    load_rate_table,
    rate_table_dict,
    rate_table_names,
)
from .readers import read_caliendo_parro, read_gravity_long
from .us import load_census_countries, load_concordance, load_us_lines, load_us_product_lines

__all__ = [
    "REGION10",
    "LAW_DATA_CHECKED",
    "load_world",
    "goods_sectors",
    "load_sectors",
    "load_regions",
    "load_census_countries",
    "load_concordance",
    "load_us_lines",
    "load_us_product_lines",
    "load_us_product_lines_2026",
    "load_hts2026",
    "list_names",
    "load_list",
    "load_list_entries",
    "list_info",
    "rate_table_names",
    "load_rate_table",
    "rate_table_dict",
    "elasticity_sources",
    "load_elasticities",
    "load_elasticity_table",
    "datasets_info",
    "ICIO_SOURCE",
    "read_caliendo_parro",
    "read_gravity_long",
]
