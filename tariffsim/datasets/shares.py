"""Embedded share tables for the share rules of the schedule (tariffsim.schedule.shares).

Built by ``tools/build_shares.py`` from the Budget Lab at Yale's tariff-rate-tracker (MIT);
see PROVENANCE.md. Each loader returns plain numpy arrays, cached per process.
"""

from __future__ import annotations

import functools

import numpy as np

from ._files import _read_csv

__all__ = ["load_metal_content", "load_usmca_shares", "load_fta_utilization"]


@functools.lru_cache(maxsize=1)
def load_metal_content() -> dict[str, np.ndarray]:
    """BEA metal content shares by HTS10: ``hs10`` (sorted int64), ``steel``, ``aluminum``,
    ``copper``, ``metal`` (all metals), shares of the line's value."""
    frame = _read_csv("metal_content_hs10.csv.gz", dtype={"hs10": str})
    out = {"hs10": frame["hs10"].astype(np.int64).to_numpy()}
    for key in ("steel", "aluminum", "copper", "metal"):
        out[key] = frame[key].to_numpy(dtype=float)
    order = np.argsort(out["hs10"], kind="stable")
    return {k: v[order] for k, v in out.items()}


@functools.lru_cache(maxsize=1)
def load_usmca_shares() -> dict[str, dict[str, np.ndarray]]:
    """Share of 2025 imports entering under USMCA: {'CAN'|'MEX': {'hs10', 'share'}} (hs10 sorted)."""
    frame = _read_csv("usmca_shares_2025.csv.gz", dtype={"hs10": str, "iso3": str})
    out = {}
    for iso in ("CAN", "MEX"):
        part = frame[frame["iso3"] == iso]
        hs = part["hs10"].astype(np.int64).to_numpy()
        order = np.argsort(hs, kind="stable")
        out[iso] = {"hs10": hs[order], "share": part["share"].to_numpy(dtype=float)[order]}
    return out


@functools.lru_cache(maxsize=1)
def load_fta_utilization() -> dict[str, np.ndarray]:
    """Share of imports entering under a preference programme by HS2 x partner:
    ``hs2`` (int), ``iso3``, ``share``."""
    frame = _read_csv("fta_utilization_hs2.csv.gz", dtype={"hs2": str, "iso3": str})
    return {"hs2": frame["hs2"].astype(int).to_numpy(), "iso3": frame["iso3"].to_numpy(dtype=str),
            "share": frame["share"].to_numpy(dtype=float)}
