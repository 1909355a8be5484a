"""Embedded share tables for the share rules of the schedule (tariffsim.schedule.shares).

Built by ``tools/build_shares.py`` from the Budget Lab at Yale's tariff-rate-tracker (MIT);
see PROVENANCE.md. Each loader returns plain numpy arrays, cached per process (read without
pandas: these are on the path of every compile with content or USMCA rules).
"""

from __future__ import annotations

import functools

import numpy as np

from ._files import _read_columns

__all__ = ["load_metal_content", "load_usmca_shares", "load_fta_utilization"]


def _floats(column) -> np.ndarray:
    return np.array(column, dtype=float)


@functools.lru_cache(maxsize=1)
def load_metal_content() -> dict[str, np.ndarray]:
    """BEA metal content shares by HTS10: ``hs10`` (sorted int64), ``steel``, ``aluminum``,
    ``copper``, ``metal`` (all metals), shares of the line's value."""
    t = _read_columns("metal_content_hs10.csv.gz")
    out = {"hs10": np.array(t["hs10"], dtype=np.int64)}
    for key in ("steel", "aluminum", "copper", "metal"):
        out[key] = _floats(t[key])
    order = np.argsort(out["hs10"], kind="stable")
    return {k: v[order] for k, v in out.items()}


@functools.lru_cache(maxsize=1)
def load_usmca_shares() -> dict[str, dict[str, np.ndarray]]:
    """Share of 2025 imports entering under USMCA: {'CAN'|'MEX': {'hs10', 'share'}} (hs10 sorted)."""
    t = _read_columns("usmca_shares_2025.csv.gz")
    iso3 = np.array(t["iso3"])
    hs_all, share_all = np.array(t["hs10"], dtype=np.int64), _floats(t["share"])
    out = {}
    for iso in ("CAN", "MEX"):
        rows = iso3 == iso
        hs = hs_all[rows]
        order = np.argsort(hs, kind="stable")
        out[iso] = {"hs10": hs[order], "share": share_all[rows][order]}
    return out


@functools.lru_cache(maxsize=1)
def load_fta_utilization() -> dict[str, np.ndarray]:
    """Share of imports entering under a preference programme by HS2 x partner:
    ``hs2`` (int), ``iso3``, ``share``."""
    t = _read_columns("fta_utilization_hs2.csv.gz")
    return {"hs2": np.array(t["hs2"], dtype=int), "iso3": np.array(t["iso3"], dtype=str),
            "share": _floats(t["share"])}
