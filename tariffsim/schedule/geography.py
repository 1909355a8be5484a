"""Country codes → a world's labels: ISO3 economies, ICIO economies, regions.

Belongs here: resolving the codes a scenario or a data line uses (ISO3, ``EU27``, ``ROW``,
region codes) to the countries of a given :class:`~tariffsim.world.TradeWorld`.
"""

from __future__ import annotations

from functools import lru_cache

from ..world import TradeWorld

__all__ = ["Geography"]


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """iso3 -> ICIO economy (or ROW), iso3 -> region10, from the embedded tables."""
    from ..datasets.codes import census_icio, region10_of

    icio = dict(census_icio())
    region = dict(region10_of())
    for iso, econ in icio.items():
        region.setdefault(iso, region.get(econ, "ROW"))
    for iso in region10_of():
        icio.setdefault(iso, iso)
    return icio, region


class Geography:
    """Resolve codes to the countries of ``world``.

    A code names itself if the world has it; otherwise its ICIO economy, then its
    10-region group, then ``ROW`` if the world has one.
    """

    def __init__(self, world: TradeWorld) -> None:
        self.world = world
        self.icio, self.region = _tables()
        self._index = {c: k for k, c in enumerate(world.countries)}

    def region_of(self, iso3: str) -> str:
        return self.region.get(iso3, iso3 if iso3 in ("EU27", "ROW") else "ROW")

    def to_world(self, code: str) -> int | None:
        """World index a single economy belongs to, or None if the world has no home for it."""
        for cand in (code, self.icio.get(code), self.region.get(code), "ROW"):
            if cand is not None and cand in self._index:
                return self._index[cand]
        return None

    def members(self, code: str) -> set[str]:
        """ISO3 economies a code stands for (a region expands to its members)."""
        groups = {r for r in self.region.values()}
        if code in groups and code not in self.icio:
            return {iso for iso, r in self.region.items() if r == code}
        return {code}

    def world_indices(self, codes) -> set[int]:
        """World indices covered by a list of codes (regions expand, economies map up)."""
        out: set[int] = set()
        for code in codes:
            if code in self._index:
                out.add(self._index[code])
                continue
            for iso in self.members(code):
                k = self.to_world(iso)
                if k is not None:
                    out.add(k)
        return out

    def iso_set(self, codes) -> set[str]:
        """ISO3 economies (and world labels) covered by a list of codes."""
        out: set[str] = set()
        for code in codes:
            out |= self.members(code)
            out.add(code)
        return out
