"""The OECD ICIO world: sectors, regions, and :func:`load_world`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._lazy import pandas as pd
from ..errors import DataError, did_you_mean, shorten_list
from ..world import TradeWorld
from ._files import _columns, _copy, _npz

__all__ = ["REGION10", "ICIO_SOURCE", "load_sectors", "goods_sectors", "load_regions", "load_world"]

REGION10 = ("USA", "KOR", "CHN", "JPN", "TWN", "VNM", "MEX", "CAN", "EU27", "ROW")
ICIO_SOURCE = (
    "OECD (2023), Inter-Country Input-Output Tables, 2023 edition, http://oe.cd/icio "
    "(bilateral sectoral flows incl. domestic, intermediate + final use, USD mn; "
    "services collapsed into SERV)"
)


def load_sectors() -> pd.DataFrame:
    """ICIO sector table: ``code``, ``icio_code``, ``description``, ``is_goods`` (28 rows).

    ``SERV`` collapses all ICIO service sectors D-T (incl. D35 electricity) and has
    ``is_goods == 0``.
    """
    return _copy("icio_sectors.csv")


def goods_sectors() -> tuple[str, ...]:
    """The 27 ICIO goods sector codes (every sector but ``SERV``), in dataset order."""
    s = _columns("icio_sectors.csv")
    return tuple(code for code, goods in zip(s["code"], s["is_goods"]) if int(goods) == 1)


def load_regions() -> pd.DataFrame:
    """The 81 ICIO economies (``ROW`` last) and their ``region10`` code."""
    return _copy("icio_regions.csv")


def _region_groups(regions, keep: Sequence[str], countries: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Return (group label per ICIO economy, ordered group labels)."""
    if isinstance(regions, str):
        if regions == "icio81":
            labels = list(countries)
            order = list(countries)
        elif regions == "region10":
            t = _columns("icio_regions.csv")
            reg = dict(zip(t["iso3"], t["region10"]))
            labels = [reg[c] for c in countries]
            order = list(REGION10)
        else:
            raise DataError(
                f"unknown regions {regions!r}; use 'region10', 'icio81' or a dict iso3 -> region. "
                + did_you_mean(regions, ["region10", "icio81"])
            )
    elif isinstance(regions, Mapping):
        mapping = {str(k): str(v) for k, v in regions.items()}
        default = mapping.pop("default", None)
        unknown = [k for k in mapping if k not in countries]
        if unknown:
            raise DataError(
                f"regions names economies not in ICIO: {shorten_list(unknown)}. "
                + did_you_mean(unknown[0], countries)
                + " The 81 ICIO economies are listed by load_regions()."
            )
        missing = [c for c in countries if c not in mapping]
        if missing and default is None:
            raise DataError(
                f"regions leaves {len(missing)} ICIO economies unassigned {shorten_list(missing)}; "
                "map every economy or add a 'default' entry, e.g. {'KOR': 'KOR', 'default': 'ROW'}."
            )
        labels = [mapping.get(c, default) for c in countries]
        order = list(dict.fromkeys(list(mapping.values()) + ([default] if missing else [])))
    else:
        raise DataError(f"regions must be 'region10', 'icio81' or a dict iso3 -> region; got {type(regions).__name__}.")
    for k in keep:
        if k not in countries:
            raise DataError(f"keep names {k!r}, which is not an ICIO economy. " + did_you_mean(k, countries))
    keep = list(dict.fromkeys(keep))
    for k in keep:
        i = countries.index(k)
        left = labels[i]
        if left == k:
            continue
        if k in order:
            raise DataError(f"cannot keep {k!r} apart: a region is already called {k!r}.")
        labels[i] = k
        members_left = [c for c, g in zip(countries, labels) if g == left]
        pos = order.index(left) + 1
        # place right after the region it left (after earlier kept members of that region)
        while pos < len(order) and order[pos] in keep:
            pos += 1
        order.insert(pos, k)
        if not members_left:
            order.remove(left)
    return labels, order


def load_world(regions="region10", *, keep: Sequence[str] = (), year: int = 2022) -> TradeWorld:
    """OECD ICIO bilateral sectoral flows as a :class:`TradeWorld`.

    Parameters
    ----------
    regions : {"region10", "icio81"} or mapping of str to str, default "region10"
        ``"region10"``: USA, KOR, CHN, JPN, TWN, VNM, MEX, CAN, EU27, ROW in that order.
        ``"icio81"``: all 81 ICIO economies (alphabetical, ``ROW`` last). A mapping
        ISO3 -> region label must assign every ICIO economy, or contain the key
        ``"default"`` for the rest; regions are ordered by first appearance among the
        mapping's values, the default region last.
    keep : sequence of str, optional
        ICIO economies kept apart from their region (e.g. ``["DEU"]``). Each is placed
        right after the region it left (after earlier kept economies of that region);
        a region left empty disappears.
    year : int, default 2022
        2022 for every choice of ``regions``; 2019-2021 only with ``regions="region10"``
        and no ``keep`` (the shipped 10-region cube).

    Returns
    -------
    TradeWorld
        ``flows`` of shape (n, n, 28), USD millions at basic prices, intermediate and final
        use summed, domestic flows on the diagonal; every sector marked tradable (SERV
        included: services are traded). No IO coefficients (the source has none).

    Raises
    ------
    DataError
        Unknown region scheme, economy code or year.
    """
    keep = (keep,) if isinstance(keep, str) else tuple(keep)
    year = int(year)
    if year != 2022:
        r10 = _npz("icio_region10_2019_2022.npz")
        years = [int(y) for y in r10["years"]]
        if year not in years:
            raise DataError(f"no ICIO data for year {year}; available years: {years} (2022 at any "
                            "regional detail, earlier years only as regions='region10').")
        if regions != "region10" or keep:
            raise DataError(f"year {year} exists only as the 10-region aggregate; use "
                            "regions='region10' without keep=, or year=2022.")
        k = years.index(year)
        return TradeWorld(
            tuple(str(r) for r in r10["regions"]), tuple(str(s) for s in r10["sectors"]), r10["flows"][k],
            name=f"OECD ICIO {year}, 10 regions", source=ICIO_SOURCE, year=year,
            tradable=np.ones(len(r10["sectors"]), dtype=bool),
            goods=np.array([str(c) in goods_sectors() for c in r10["sectors"]]),
        )
    z = _npz("icio2022_flows.npz")
    countries = tuple(str(c) for c in z["countries"])
    sectors = tuple(str(s) for s in z["sectors"])
    labels, order = _region_groups(regions, keep, countries)
    tradable = np.ones(len(sectors), dtype=bool)
    if order == list(countries) and labels == list(countries):
        flows = z["flows"]
    else:
        gidx = {g: k for k, g in enumerate(order)}
        agg = np.zeros((len(order), len(countries)))
        agg[[gidx[g] for g in labels], np.arange(len(countries))] = 1.0
        # flows'[r, q, s] = sum_{i in r} sum_{j in q} flows[i, j, s]
        flows = np.einsum("ri,ijs,qj->rqs", agg, z["flows"], agg, optimize=True)  # two matrix products
    if isinstance(regions, str):
        desc = {"region10": "10 regions", "icio81": "81 economies"}[regions]
    else:
        desc = f"{len(order)} custom regions"
    if keep:
        desc += " + " + ", ".join(keep) + " apart"
    return TradeWorld(tuple(order), sectors, flows, name=f"OECD ICIO 2022, {desc}",
                      source=ICIO_SOURCE, year=2022, tradable=tradable,
                      goods=np.array([s in goods_sectors() for s in sectors]))
