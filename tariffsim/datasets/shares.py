"""Embedded share tables for the share rules of the schedule (tariffsim.schedule.shares).

Built by ``tools/build_shares.py`` from the Budget Lab at Yale's tariff-rate-tracker (MIT);
see PROVENANCE.md. Each loader returns plain numpy arrays, cached per process (read without
pandas: these are on the path of every compile with content or USMCA rules).
"""

from __future__ import annotations

import functools
import io

import numpy as np

from ._files import _numbers, _text

__all__ = ["load_metal_content", "load_usmca_shares", "load_fta_utilization"]


@functools.lru_cache(maxsize=1)
def load_metal_content() -> dict[str, np.ndarray]:
    """BEA metal content shares by HTS10: ``hs10`` (sorted int64), ``steel``, ``aluminum``,
    ``copper``, ``metal`` (all metals), shares of the line's value."""
    name = "metal_content_hs10.csv.gz"  # hs10,steel,aluminum,copper,metal
    table = _numbers(name, (0, 1, 2, 3, 4))  # HS10 codes (< 2**53) are exact as floats
    out = {"hs10": table[:, 0].astype(np.int64)}
    for k, key in enumerate(("steel", "aluminum", "copper", "metal")):
        out[key] = table[:, k + 1].copy()
    order = np.argsort(out["hs10"], kind="stable")
    return {k: v[order] for k, v in out.items()}


@functools.lru_cache(maxsize=1)
def load_usmca_shares() -> dict[str, dict[str, np.ndarray]]:
    """Share of 2025 imports entering under USMCA: {'CAN'|'MEX': {'hs10', 'share'}} (hs10 sorted)."""
    name = "usmca_shares_2025.csv.gz"  # hs10,iso3,share
    table = _numbers(name, (0, 2))  # HS10 codes (< 2**53) are exact as floats
    hs_all, share_all = table[:, 0].astype(np.int64), table[:, 1].copy()
    iso3 = np.loadtxt(io.StringIO(_text(name)), delimiter=",", skiprows=1, usecols=(1,), dtype="U3", ndmin=1)
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
    name = "fta_utilization_hs2.csv.gz"  # hs2,iso3,share
    iso3 = np.loadtxt(io.StringIO(_text(name)), delimiter=",", skiprows=1, usecols=(1,), dtype="U3", ndmin=1)
    return {"hs2": _numbers(name, (0,), int)[:, 0], "iso3": iso3, "share": _numbers(name, (2,))[:, 0]}
